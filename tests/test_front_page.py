"""The front page (index.qmd) executed and opened in headless Chromium, without Quarto.

Quarto cannot be installed on the developers' machines. Here index.qmd is turned into a
notebook the way Quarto's jupyter engine reads it (front matter, markdown, Python chunks with
their ``#|`` options), executed with nbclient from the project root, its ``#| output: asis``
text passed through as Markdown, as Quarto does, and built into a Quarto-like page by
``tests/site_harness.py`` (which applies ``include: false`` and ``echo: false``). The page then
goes through the same offline browser checks as the chapters (fixtures from conftest.py): no
off-site request, no console error, no code, no sideways scrolling on a phone, no chart text cut
off, the headline chart drawn, the findings listed with their links. The first screen holds
the numbers at a glance: a row of tiles (two to a row on a phone), each a number, where a
skill number holds (out of fold here, then the same skill on other crawls), and one link to the
section that proves it, followed here to that section of the chapter as the harness built it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from analysis.paths import PROJECT_ROOT

if TYPE_CHECKING:  # imported where used: nbformat costs seconds at import
    import nbformat

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PAGE = PROJECT_ROOT / "index.qmd"
_CHUNK = re.compile(r"^```\{python[^}]*\}\s*\n(.*?)^```\s*$", re.S | re.M)
_FRONT = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.S)


def qmd_to_notebook(path: Path) -> nbformat.NotebookNode:
    """Markdown between chunks becomes markdown cells, each Python chunk a code cell."""
    import nbformat

    text = path.read_text(encoding="utf-8")
    front = _FRONT.match(text)
    cells = [nbformat.v4.new_raw_cell(front.group(0).strip())] if front else []
    text = text[front.end():] if front else text
    position = 0
    for match in _CHUNK.finditer(text):
        markdown = text[position:match.start()].strip()
        if markdown:
            cells.append(nbformat.v4.new_markdown_cell(markdown))
        cells.append(nbformat.v4.new_code_cell(match.group(1).rstrip("\n")))
        position = match.end()
    if text[position:].strip():
        cells.append(nbformat.v4.new_markdown_cell(text[position:].strip()))
    return nbformat.v4.new_notebook(cells=cells)


def _options(source: str) -> dict[str, str]:
    return dict(re.findall(r"^#\|\s*([\w-]+):\s*(.*)$", source, flags=re.M))


def execute_like_quarto(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run the chunks from the project root; ``output: asis`` text becomes Markdown.

    The chunks keep their ``#|`` options: the page harness applies them as Quarto would.
    """
    import nbformat
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(PROJECT_ROOT)}}).execute()
    for cell in notebook.cells:
        if cell.cell_type == "code" and _options(cell.source).get("output") == "asis":
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"text/markdown": text, "text/plain": text})]
    return notebook


@pytest.fixture(scope="module")
def front_page(raw_path):
    import os

    from analysis import paths

    old = os.environ.get(paths.DATA_ENV_VAR)
    os.environ[paths.DATA_ENV_VAR] = str(raw_path)  # the kernel inherits it
    try:
        return execute_like_quarto(qmd_to_notebook(PAGE))
    finally:
        if old is None:
            os.environ.pop(paths.DATA_ENV_VAR, None)
        else:
            os.environ[paths.DATA_ENV_VAR] = old


def test_front_page_source_splits_like_quarto():
    notebook = qmd_to_notebook(PAGE)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert notebook.cells[0].cell_type == "raw" and "title:" in notebook.cells[0].source
    assert [_options(c.source).get("output") for c in code].count("asis") == 1
    assert any("show_root_page(" in c.source for c in code)
    tiles = [i for i, c in enumerate(notebook.cells) if "front.at_a_glance(" in c.source]
    findings = [i for i, c in enumerate(notebook.cells) if "## Findings" in c.source]
    assert len(tiles) == 1 and tiles[0] < findings[0], "the tiles come first, then the findings"


def _front_page_url(front_page, site_model, harness_site, serve) -> str:
    from quarto_rules import page_from_notebook
    from site_harness import render_page

    root, _ = harness_site
    page = page_from_notebook(front_page, "index.qmd")
    render_page(site_model, page, front_page, root)
    return f"{serve(root)}/index.html"


#: Each tile: its box, its number, where the number holds, its link, and what a click on the
#: middle of the tile would open.
_TILES = """() => Array.from(document.querySelectorAll('main ul.kpi-row > li.kpi')).map(t => {
  const r = t.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const link = t.querySelector('a.kpi-link');
  return {id: t.id, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          value: t.querySelector('.kpi-value').textContent,
          scope: Array.from(t.querySelectorAll('.kpi-scope')).map(s => s.textContent),
          skill: t.classList.contains('kpi-skill'),
          href: link && link.getAttribute('href'),
          click: hit && hit.closest('a') ? hit.closest('a').getAttribute('href') : null};
})"""


def _as_quarto_links(href: str) -> str:
    """A source link as Quarto writes it into the page (``.ipynb``/``.qmd`` → ``.html``)."""
    target, _, anchor = href.partition("#")
    return re.sub(r"\.(ipynb|qmd)$", ".html", target) + (f"#{anchor}" if anchor else "")


def test_front_page_first_screen_is_the_numbers(front_page, site_model, harness_site, serve,
                                                 open_page):
    """1280 × 900: five tiles in one row above the findings, all on the first screen, each a
    number linking to the section of the chapter that proves it."""
    from analysis.prose.front import WITHIN_CRAWL

    url = _front_page_url(front_page, site_model, harness_site, serve)
    visit = open_page(url, width=1280, height=900)
    page = visit.page
    tiles = page.evaluate(_TILES)
    assert 4 <= len(tiles) <= 6, tiles
    assert len({round(t["top"]) for t in tiles}) == 1, "the tiles sit in one row"
    assert max(t["bottom"] for t in tiles) <= 900, "the tiles are on the first screen"
    findings = page.locator("main ol").first.bounding_box()
    assert findings["y"] > max(t["bottom"] for t in tiles), "the numbers come before the findings"
    for tile in tiles:
        assert re.fullmatch(r"[\d.,]+%?", tile["value"]), tile
        # a skill says where it holds: out of fold here first, then on each other crawl
        assert tile["skill"] == (tile["scope"][:1] == [WITHIN_CRAWL]), tile
        assert all(s.startswith("on another crawl (") for s in tile["scope"][1:]), tile
        assert tile["skill"] or not tile["scope"], tile
        assert tile["href"].startswith("chapters/") and "#" in tile["href"], tile
        assert tile["click"] == tile["href"], f"{tile['id']}: a click on the tile opens its link"
        target = _as_quarto_links(tile["href"])
        proof = open_page(url.rsplit("/", 1)[0] + "/" + target)
        anchor = target.split("#", 1)[1]
        assert proof.page.locator(f"[id='{anchor}']").count() == 1, f"{target}: no section"
    skills = [t for t in tiles if t["skill"]]
    assert len(skills) >= 2 and {t["id"] for t in skills} >= {"kpi-r2", "kpi-auc"}
    assert all(len(t["scope"]) >= 2 for t in skills), "each skill has its figure elsewhere"
    visit.assert_clean()


def test_front_page_renders_offline(front_page, site_model, harness_site, serve, open_page):
    from site_harness import clipped_text, page_weight

    visit = open_page(_front_page_url(front_page, site_model, harness_site, serve))
    page = visit.page
    page.wait_for_function("() => document.querySelector('#plotly-headline-r2 svg.main-svg')",
                           timeout=30_000)
    findings = page.locator("main ol > li")
    assert 5 <= findings.count() <= 7
    for i in range(findings.count()):
        item = findings.nth(i)
        assert re.search(r"\d", item.inner_text())
        assert item.locator('a[href^="chapters/"]').count() >= 1
    assert page.locator(".plotly-graph-div").count() == 1
    assert page.locator("h1").count() == 1
    assert page.locator("details.code-fold, div.input").count() == 0, "code on the page"
    assert page.locator("#quarto-code-tools-source").count() == 1, "no way to the source"
    assert clipped_text(page) == []
    weight = page_weight(page)
    print(f"index.qmd: {weight['transfer']:,} bytes transferred ({weight['decoded']:,} decoded)")
    assert weight["transfer"] <= 1_000_000
    page.wait_for_timeout(300)
    visit.assert_clean()


def test_front_page_fits_a_phone(front_page, site_model, harness_site, serve, open_page):
    """390 px: the tiles stack two to a row inside the screen; nothing scrolls sideways and
    no chart text is cut off."""
    from site_harness import clipped_text, sideways_overflow

    visit = open_page(_front_page_url(front_page, site_model, harness_site, serve), width=390)
    visit.page.wait_for_function(
        "() => document.querySelector('#plotly-headline-r2 svg.main-svg')", timeout=30_000)
    overflow = sideways_overflow(visit.page)
    print(f"index.qmd at 390 px: scrollWidth {overflow['scrollWidth']}")
    assert overflow["scrollWidth"] <= overflow["clientWidth"], overflow["culprits"]
    tiles = visit.page.evaluate(_TILES)
    rows = sorted({round(t["top"]) for t in tiles})
    assert len(rows) >= 2, "the tiles stack on a phone"
    assert all(0 <= t["left"] and t["right"] <= overflow["clientWidth"] for t in tiles), tiles
    assert all(t["click"] == t["href"] for t in tiles)
    assert clipped_text(visit.page) == []
    visit.assert_clean()
