"""The triage page in headless Chromium, offline, through ``js/harness/triage.html``.

Quarto cannot run here, so the harness page imports exactly what ``chapters/08-triage.qmd``
imports (``js/triage-page.js``, which starts ``js/triage.worker.js``), mounts the same parts
under the same sections (``js/test/triage_layout.test.js``) and loads the same files. The
project root is served on 127.0.0.1; any other request fails the test, as does a console
error. What is checked is behaviour, never timing (``js/bench/triage_browser_bench.py``
measures that): the example catalogue is scored, ranked, explained and its rejects listed;
the filters and "sounds like" narrow the list; the downloads hold the output contract; a
broken file is an error; names are text; a phone does not scroll sideways; the page weighs
at most 1 MB; and a 100,000-row catalogue is ranked while the page keeps answering input.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from analysis.paths import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HARNESS = "js/harness/triage.html"
SPEC = json.loads((PROJECT_ROOT / "models" / "triage" / "triage_spec.json").read_text("utf-8"))
XSS_NAME = "<img src=x onerror=alert(1)>"
#: The example catalogue's planted defects, by line (analysis/export/triage_spec.py).
EXAMPLE_REJECTED_LINES = [9, 43, 90, 152, 235, 303]
PAGE_BUDGET = 1_000_000


@pytest.fixture(scope="module")
def root_url(serve) -> str:
    return serve(PROJECT_ROOT)


def open_triage(open_page, root_url: str, width: int = 1280, height: int = 900):
    """The harness, ready, with the bytes of every response (the worker's too) counted."""
    visit = open_page(f"{root_url}/{HARNESS}", width=width, height=height)
    visit.page.wait_for_function("window.triageHarness && window.triageHarness.ready",
                                 timeout=60_000)
    return visit


def wait_scored(page, before: int, timeout: int = 120_000) -> dict:
    page.wait_for_function(
        "(before) => { const s = window.triageHarness.app.state; return s.result !== null && "
        "s.updates > before && !s.busy && (s.result.status !== 'ok' || "
        "document.querySelectorAll('[data-role=ranked] tbody tr.triage-row').length > 0); }",
        arg=before, timeout=timeout)
    return page.evaluate("(() => { const r = window.triageHarness.app.state.result; return {"
                         "status: r.status, read: r.read, accepted: r.accepted, "
                         "rejected: r.rejectedLines, problems: r.problems}; })()")


def score_example(page) -> dict:
    before = page.evaluate("window.triageHarness.app.state.updates")
    page.click("[data-role=example]")
    return wait_scored(page, before)


def score_file(page, path: Path) -> dict:
    before = page.evaluate("window.triageHarness.app.state.updates")
    page.set_input_files("[data-role=file-input]", str(path))
    return wait_scored(page, before)


def shown_rows(page) -> list[dict]:
    return page.eval_on_selector_all(
        "[data-role=ranked] tbody tr.triage-row",
        "trs => trs.map(tr => ({row: +tr.dataset.row, rank: +tr.dataset.rank, "
        "line: +tr.dataset.line, p: +tr.querySelector('[data-role=p-hit]').dataset.value}))")


def wait_table(page, before: int) -> None:
    page.wait_for_function("(b) => window.triageHarness.app.state.updates > b", arg=before,
                           timeout=10_000)


def test_example_is_ranked_explained_and_its_rejects_listed(open_page, root_url):
    v = open_triage(open_page, root_url)
    page = v.page
    assert "New artist" in page.inner_text("[data-role=model-name]")
    note = page.locator("[data-role=model-unavailable][data-model=known_artist]")
    assert note.is_visible() and "history" in note.inner_text()
    result = score_example(page)
    assert result["status"] == "ok"
    assert result["read"] == result["accepted"] + result["rejected"]
    rejected = page.eval_on_selector_all("[data-role=rejects-table] tbody tr",
                                         "trs => trs.map(tr => +tr.dataset.line)")
    assert sorted(set(rejected)) == EXAMPLE_REJECTED_LINES
    # every reject named: line, column ("–" for a problem of the whole row), reason
    cells = page.eval_on_selector_all(
        "[data-role=rejects-table] tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(td => td.textContent))")
    assert all(line and column and reason for line, column, _value, reason in cells)
    assert [c[1] for c in cells if c[0] == "303"] == ["–"]  # the row with a field too many
    rows = shown_rows(page)
    assert [r["rank"] for r in rows] == list(range(1, 26))
    assert all(a["p"] >= b["p"] for a, b in zip(rows, rows[1:], strict=False))
    # open the top row: its reasons, in popularity points, as the Python triage words them
    page.click("[data-role=ranked] tbody tr.triage-row >> nth=0")
    page.wait_for_function("document.querySelector('[data-role=detail]:not([hidden]) "
                           "[data-role=reasons]')?.dataset.text !== undefined", timeout=10_000)
    reasons = page.get_attribute("[data-role=detail]:not([hidden]) [data-role=reasons]",
                                 "data-text")
    assert re.fullmatch(r"[a-z -]+ [+\u2212]\d+\.\d(, [a-z -]+ [+\u2212]\d+\.\d){2}", reasons)
    # the next page
    before = page.evaluate("window.triageHarness.app.state.updates")
    page.click("[data-role=next]")
    wait_table(page, before)
    assert shown_rows(page)[0]["rank"] == 26
    trust = page.inner_text("[data-role=trust]")
    assert "ROC-AUC" in trust and "R²" in trust
    # the external check: the export's scores on other crawls (models/external.json)
    external = page.inner_text("[data-role=external-validation]")
    export = PROJECT_ROOT / "models" / "export" / "cold_start.json"
    ext = json.loads(export.read_text())["metadata"]["external_validation"]
    for entry in ext["sets"]:
        assert f"ROC-AUC {entry['hit_auc']:.2f}" in external and entry["label"] in external
    assert "not for ranking tracks within one genre" in external
    v.assert_clean()


def test_filters_and_sounds_like_narrow_the_list(open_page, root_url):
    v = open_triage(open_page, root_url)
    page = v.page
    score_example(page)
    total = page.evaluate("window.triageHarness.app.state.result.accepted")

    def view() -> dict:
        return page.evaluate("""(() => {
          const s = window.triageHarness.app.state, c = s.result.columns;
          const rows = Array.from(s.view.rows);
          return {n: rows.length, macro: rows.map(r => c.macro[r]),
                  explicit: rows.map(r => c.explicit[r]),
                  tempo: rows.map(r => c.tempo[r]), rank: rows.map(r => c.rank[r]),
                  distance: s.view.distance ? Array.from(s.view.distance.values()) : null,
                  macros: window.triageHarness.app.state.info.macroGenres};
        })()""")

    page.select_option("[data-role=filter-macro]", "Rock")
    rock = view()
    assert 0 < rock["n"] < total
    assert set(rock["macro"]) == {rock["macros"].index("Rock")}
    page.select_option("[data-role=filter-explicit]", "no")
    page.fill("[data-role=filter-tempo-min]", "100")
    page.fill("[data-role=filter-tempo-max]", "140")
    narrowed = view()
    assert narrowed["n"] <= rock["n"]
    assert set(narrowed["explicit"]) <= {0} and all(100 <= t <= 140 for t in narrowed["tempo"])
    assert narrowed["rank"] == sorted(narrowed["rank"])
    assert f"{narrowed['n']} of {total}" in page.inner_text("[data-role=count]")
    page.click("[data-role=filters-reset]")
    assert view()["n"] == total
    # sounds like a track of the catalogue: its 20 nearest, shown by rank, with distances
    title = page.inner_text("[data-role=ranked] tbody tr.triage-row >> nth=3 >> .triage-title")
    page.fill("[data-role=sounds-like-search]", title)
    page.wait_for_selector("[data-role=sounds-like-option]", timeout=10_000)
    seed = int(page.get_attribute("[data-role=sounds-like-option] >> nth=0", "data-row"))
    page.click("[data-role=sounds-like-option] >> nth=0")
    like = view()
    assert like["n"] == 20 and like["rank"] == sorted(like["rank"])
    assert len(like["distance"]) == 20
    assert seed not in page.evaluate("Array.from(window.triageHarness.app.state.view.rows)")
    # the table redraws on the next frame: wait for it rather than read it mid-draw
    page.wait_for_function("document.querySelectorAll('[data-role=distance]').length === 20")
    page.select_option("[data-role=sounds-like-k]", "10")
    assert view()["n"] == 10
    page.click("[data-role=sounds-like-clear]")
    assert view()["n"] == total
    v.assert_clean()


def test_downloads_hold_the_output_contract(open_page, root_url):
    v = open_triage(open_page, root_url)
    page = v.page
    result = score_example(page)
    with page.expect_download() as download:
        page.click("[data-role=download-ranked]")
    ranked = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert list(ranked[0]) == SPEC["output"]["ranked"]
    assert len(ranked) == result["accepted"]
    assert [int(r["rank"]) for r in ranked] == list(range(1, len(ranked) + 1))
    assert [int(r["line"]) for r in ranked[:25]] == [r["line"] for r in shown_rows(page)]
    assert {r["out_of_distribution"] for r in ranked} <= {"True", "False"}
    with page.expect_download() as download:
        page.click("[data-role=download-rejects]")
    rejects = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert list(rejects[0]) == SPEC["output"]["rejects"]
    assert sorted({int(r["line"]) for r in rejects}) == EXAMPLE_REJECTED_LINES
    # filtered: only the rows shown
    page.select_option("[data-role=filter-macro]", "Pop")
    n = page.evaluate("window.triageHarness.app.state.view.rows.length")
    with page.expect_download() as download:
        page.click("[data-role=download-ranked]")
    pop = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert len(pop) == n and {r["macro_genre"] for r in pop} == {"Pop"}
    # numbered within the file, as the Python triage numbers the rows passing its filters
    assert [int(r["rank"]) for r in pop] == list(range(1, n + 1))
    overall = [int(r["line"]) for r in ranked if r["macro_genre"] == "Pop"]
    assert [int(r["line"]) for r in pop] == overall
    v.assert_clean()


@pytest.mark.parametrize("name,words", [("semicolon.csv", "semicolon-delimited"),
                                        ("corrupt.csv.gz", "gzip stream is corrupt"),
                                        ("missing_column.csv", "required column is missing"),
                                        ("out_of_range.csv", "no valid row")])
def test_a_file_that_cannot_be_scored_says_why(open_page, root_url, name, words):
    v = open_triage(open_page, root_url)
    page = v.page
    result = score_file(page, PROJECT_ROOT / "tests" / "malformed" / name)
    assert result["status"] == "error"
    assert words in page.inner_text("[data-role=file-error]")
    assert page.locator("[data-role=results]").is_hidden()
    v.assert_clean()


def test_the_browser_reads_the_corpus_as_node_does(open_page, root_url):
    """Chromium's own gzip and UTF-8 decoders (DecompressionStream, TextDecoder) give every
    corpus file the outcome Node gives (checked against Python by tests/test_triage_web.py)."""
    import subprocess

    corpus = sorted(p for p in (PROJECT_ROOT / "tests" / "malformed").iterdir()
                    if p.name.endswith((".csv", ".csv.gz")))
    run = subprocess.run(["node", "js/tools/triage_node.mjs", "validate", *map(str, corpus)],
                         cwd=PROJECT_ROOT, check=True, capture_output=True, text=True)
    expected = {d["file"]: d for d in map(json.loads, run.stdout.splitlines())}
    v = open_triage(open_page, root_url)
    page = v.page
    for path in corpus:
        result = score_file(page, path)
        shown = page.evaluate("window.triageHarness.app.state.result.rejectsShown")
        node = expected[path.name]
        assert result["status"] == node["status"], path.name
        assert result["problems"] == node["problems"], path.name
        assert shown == node["rejects"], path.name
        assert (result["read"], result["accepted"]) == (node["read"], node["accepted"]), path.name
    v.assert_clean()


def test_a_gzip_catalogue_is_read_like_the_plain_one(open_page, root_url, tmp_path):
    import gzip

    example = PROJECT_ROOT / "models" / "triage" / "example_catalogue.csv"
    path = tmp_path / "example.csv.gz"
    path.write_bytes(gzip.compress(example.read_bytes(), mtime=0))
    v = open_triage(open_page, root_url)
    plain = score_example(v.page)
    packed = score_file(v.page, path)
    assert packed == plain
    v.assert_clean()


def test_names_are_text_not_markup(open_page, root_url, tmp_path):
    text = (PROJECT_ROOT / "tests" / "malformed" / "valid.csv").read_text("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for row in rows[1:]:
        for column in ("artists", "album_name", "track_name"):
            row[header.index(column)] = XSS_NAME
    rows[2][header.index("tempo")] = XSS_NAME  # a reject shows its value too
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    v = open_triage(open_page, root_url)
    page = v.page
    score_file(page, path)
    page.click("[data-role=ranked] tbody tr.triage-row >> nth=0")
    page.wait_for_timeout(300)
    assert page.locator("main img").count() == 0
    assert XSS_NAME in page.inner_text("[data-role=ranked]")
    assert XSS_NAME in page.inner_text("[data-role=rejects-table]")
    v.assert_clean()


def test_fits_a_phone_and_the_budget(open_page, root_url):
    from site_harness import sideways_overflow

    sizes: dict[str, int] = {}
    v = open_triage(open_page, root_url, width=390, height=844)
    page = v.page
    page.context.on("requestfinished", lambda r: sizes.__setitem__(
        r.url, r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))
    page.reload()
    page.wait_for_function("window.triageHarness && window.triageHarness.ready", timeout=60_000)
    page.wait_for_timeout(300)
    weight = sum(sizes.values())
    score_example(page)
    page.click("[data-role=ranked] tbody tr.triage-row >> nth=0")
    page.wait_for_timeout(300)
    overflow = sideways_overflow(page)
    print(f"triage page at 390 px: scrollWidth {overflow['scrollWidth']}; {weight:,} bytes "
          f"transferred before scoring (worker's files included)")
    assert overflow["scrollWidth"] <= overflow["clientWidth"], overflow["culprits"]
    assert any("cold_start.json" in url for url in sizes), "the worker's requests were counted"
    assert weight <= PAGE_BUDGET
    v.assert_clean()


def test_a_large_catalogue_is_ranked_while_the_page_answers(open_page, root_url, raw_path):
    """100,000 rows: ranked, every row read; pointer events are handled while the worker
    scores (behaviour: the page is not blocked; the benchmark measures how fast)."""
    from analysis.export.triage_data import write_benchmark_catalogue

    catalogue = write_benchmark_catalogue(raw=raw_path)
    v = open_triage(open_page, root_url)
    page = v.page
    page.route("**/__test__/catalogue.csv", lambda route: route.fulfill(path=str(catalogue)))
    page.evaluate("async () => { const r = await fetch('/__test__/catalogue.csv'); "
                  "window.testFile = new File([await r.blob()], 'catalogue.csv'); "
                  "window.seen = []; document.addEventListener('pointermove', () => "
                  "window.seen.push(window.triageHarness.app.state.busy)); }")
    page.evaluate("() => { window.triageHarness.app.scoreFile(window.testFile); }")
    phases = set()
    for i in range(6000):
        page.mouse.move(20 + i % 2 * 10, 20)
        phases.add(page.inner_text("[data-role=status-line]").split(":")[0])
        if page.evaluate("window.triageHarness.app.state.result !== null"):
            break
        page.wait_for_timeout(50)
    result = wait_scored(page, 0, timeout=300_000)
    assert result["status"] == "ok" and result["read"] == 100_000
    assert result["accepted"] + result["rejected"] == result["read"]
    handled_while_busy = page.evaluate("window.seen.filter(Boolean).length")
    assert handled_while_busy > 0, "no input event was handled while the worker scored"
    assert "Scoring" in phases, phases
    assert len(shown_rows(page)) == 25
    v.assert_clean()


def test_quarto_renders_the_triage_page(tmp_path, browser):
    """Render the real page with Quarto and use it offline (only where Quarto exists)."""
    import shutil
    import subprocess

    quarto = shutil.which("quarto")
    if quarto is None:
        pytest.skip("quarto is not on PATH: the harness tests above stand in for the page")
    subprocess.run([quarto, "render", "chapters/08-triage.qmd"], cwd=PROJECT_ROOT, check=True,
                   timeout=600)
    site = PROJECT_ROOT / "_site"
    for copied in ("js/triage.worker.js", "js/papaparse.bundle.js",
                   "models/triage/triage_spec.json", "models/triage/example_catalogue.csv",
                   "models/export/cold_start.json"):
        assert (site / copied).is_file(), f"Quarto did not copy {copied} (resources)"
    from site_harness import Server, visit

    server = Server(site)
    try:
        loaded = visit(browser, f"{server.url}/chapters/08-triage.html")
        page, offsite = loaded.page, loaded.offsite_requests
        page.wait_for_selector("[data-role=model-name]", timeout=60_000)
        page.click("[data-role=example]")
        page.wait_for_selector("[data-role=ranked] tbody tr.triage-row", timeout=120_000)
        assert page.locator(".observablehq--error").count() == 0
        errors = loaded.console_errors + loaded.page_errors
        assert offsite == [], offsite
        assert errors == [], errors
        page.close()
    finally:
        server.close()
