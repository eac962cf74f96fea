"""No number in the site's prose is typed by hand (issue 5), in the pages or in the templates.

Every figure a reader sees in a sentence must come from an artifact through code: a chapter
cell calls an ``analysis.prose`` function and displays the Markdown it returns, and the front
page prints ``analysis.prose.front.findings``. This test reads the *sources* of the pages (the
markdown and raw cells of the chapter notebooks, the text of ``.qmd`` pages outside code
chunks, the ``fig-cap`` / ``fig-alt`` options of code cells, and of a page's front matter,
notebook or ``.qmd``, only the fields a reader sees: title, subtitle, description, abstract)
and fails on any digit left after removing:

* code: fenced blocks, inline code, and the Python chunks of ``.qmd`` pages (their output is
  computed);
* link targets and bare URLs (file names such as ``04-modeling.ipynb``), Quarto attributes
  (``{#sec-...}``, ``{.callout-...}``), HTML comments;
* the phrases of :data:`ALLOWED`, each with the reason it may be typed. They are definitions
  and design constants (the 0–100 popularity scale, the 114 genre lists, the hit threshold, the
  top-1% shortlist, the seed), not results; those that a module defines are checked against that
  module by :func:`test_allowed_constants_match_the_code`, and the 114 lists against the
  cleaned data by :func:`test_allowed_constants_match_the_data` (slow).

Every page of the site (:data:`PAGES`) fails on any other number, and a page that is not
listed fails too, so a new chapter cannot slip past the rule.

The same rule holds inside ``analysis/prose/`` (issue 12), where the pages' words now live:
every string literal of every module there (templates, table headers, words; not docstrings,
format specifications or literals that are Python identifiers, i.e. dictionary keys such as
``"r2"``) fails on a digit outside its ``{...}`` fields, so a number in a template comes from a
fact or a named constant. Only :data:`TEMPLATE_ALLOWED` may be typed there: definitions and
names, never a threshold or a level.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from _notebooks import markdown_cell, raw_cell, read_cells, write_notebook

from analysis.paths import PROJECT_ROOT

#: Every page of the site, all held to the rule.
PAGES: tuple[str, ...] = (
    "index.qmd", "chapters/01-data.ipynb", "chapters/02-eda.ipynb",
    "chapters/03-genre-moods.ipynb", "chapters/04-modeling.ipynb", "chapters/05-drivers.ipynb",
    "chapters/06-predictor.qmd", "chapters/07-conclusions.ipynb", "chapters/08-triage.qmd",
)

#: Phrases that may contain hand-typed digits, each with its reason.
ALLOWED: tuple[tuple[str, str], ...] = (
    (r"\b0\s*(?:–|-|to)\s*100\b", "the popularity scale, a definition"),
    (r"\b0\s*(?:–|-|to)\s*1\b(?![.,]?\d)", "the 0–1 scale of Spotify's audio features"),
    (r"\b0 \(none\) to 1\b", "the range of epsilon², a definition"),
    (r"\b114\b", "the published dataset's number of genre lists (checked against the data)"),
    (r"\btop[- ]1\s?%", "the triage shortlist, analysis.models.TOP_SHARE (checked)"),
    (r"(?:≥|>=|reaches\s+popularity|popularity\s+of)\s*60\b",
     "the hit threshold, analysis.models.HIT_THRESHOLD (checked)"),
    (r"\b(?:80|90)\s?%(?= (?:conformal |prediction )?intervals?\b)",
     "nominal interval levels, analysis.models.CONFIDENCE_LEVELS (checked)"),
    (r"\bseed 42\b", "analysis.protocols.RANDOM_STATE (checked)"),
    (r"\b80/20\b", "the original's split, analysis.protocols.REPLICA_TEST_SIZE (checked)"),
    (r"\b5-fold\b", "analysis.protocols.N_SPLITS (checked)"),
    (r"\bODbL 1\.0\b", "a licence's name"),
    (r"\b10\.\d{4,9}/[^\s)\]]+", "a DOI"),
    (r"\b95\s?% confidence", "the conventional confidence level of a band"),
    (r"\b1\.5 box-lengths\b", "Tukey's whisker rule"),
    (r"\b0\.5th to 99\.5th percentile\b", "an axis-range rule"),
)

_STRIP = (
    re.compile(r"```.*?```", re.S),                 # fenced code
    re.compile(r"`[^`\n]*`"),                        # inline code (and inline {python})
    re.compile(r"<!--.*?-->", re.S),                 # HTML comments
    re.compile(r"\]\([^)\s]*\)"),                    # link targets
    re.compile(r"https?://\S+"),                     # bare URLs
    re.compile(r"\{[#.][^}]*\}"),                    # Quarto ids, classes, attributes
)
_NUMBER = re.compile(r"\d")
_CAPTION = re.compile(r"^#\|\s*(fig-cap|fig-alt|tbl-cap)\s*:\s*(.*)$")


@dataclass(frozen=True)
class Prose:
    """One piece of prose: where it is and its text."""

    page: str
    where: str
    text: str


def _folded_option(lines: list[str], start: int) -> str:
    """The value of a ``#| key: >-`` option folded over the following ``#|   `` lines."""
    parts = []
    for line in lines[start + 1:]:
        if not line.startswith("#|   "):
            break
        parts.append(line[5:].strip())
    return " ".join(parts)


def _captions(source: str) -> list[tuple[str, str]]:
    lines = source.splitlines()
    out = []
    for i, line in enumerate(lines):
        match = _CAPTION.match(line)
        if match:
            value = match.group(2).strip()
            if value in (">-", ">", "|", "|-"):
                value = _folded_option(lines, i)
            out.append((match.group(1), value.strip("\"'")))
    return out


#: The front-matter fields a reader sees (the page's title block); the others (``code-links``
#: paths, ``jupyter``, ``format``) configure the page and are not prose.
FRONT_MATTER_PROSE = ("title", "subtitle", "description", "abstract")

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


def front_matter_prose(page: str, front_matter: str) -> list[Prose]:
    """The reader-facing fields (:data:`FRONT_MATTER_PROSE`) of a page's YAML front matter.

    Front matter that does not parse as a mapping is all read as prose (Quarto would refuse
    it anyway; ``tests/test_quarto_rules.py`` says why), so nothing slips through unchecked.

    Examples
    --------
    >>> [p.text for p in front_matter_prose("x.qmd", "{title: Top 3, code-links: [a/4.ipynb]}")]
    ['Top 3']
    """
    try:
        fields = yaml.safe_load(front_matter)
    except yaml.YAMLError:
        fields = None
    if not isinstance(fields, dict):
        return [Prose(page, "front matter", front_matter)]
    return [Prose(page, f"front matter ({key})", str(fields[key]))
            for key in FRONT_MATTER_PROSE if fields.get(key) is not None]


def prose_of_notebook(path: Path) -> list[Prose]:
    """Markdown and raw cells (of the front-matter cell, the reader-facing fields only), and
    the caption options of code cells."""
    page = str(path.relative_to(PROJECT_ROOT))
    out = []
    for i, cell in enumerate(read_cells(path)):
        first_raw = cell["cell_type"] == "raw" and i == 0
        front = _FRONT_MATTER.match(cell["source"]) if first_raw else None
        if front:
            out += front_matter_prose(page, front.group(1))
        elif cell["cell_type"] in ("markdown", "raw"):
            out.append(Prose(page, f"cell {i} ({cell['cell_type']})", cell["source"]))
        else:
            for key, value in _captions(cell["source"]):
                out.append(Prose(page, f"cell {i} ({key})", value))
    return out


_CHUNK = re.compile(r"^```\{[a-z]+[^}]*\}\s*\n(.*?)^```\s*$", re.S | re.M)


def prose_of_qmd(path: Path) -> list[Prose]:
    """Text outside executable chunks, plus the chunks' caption options."""
    page = str(path.relative_to(PROJECT_ROOT))
    text = path.read_text(encoding="utf-8")
    out = []
    front = _FRONT_MATTER.match(text)
    if front:  # only the front matter's reader-facing fields are prose (not `jupyter: python3`)
        out += front_matter_prose(page, front.group(1))
        text = text[front.end():]
    for match in _CHUNK.finditer(text):
        for key, value in _captions(match.group(1)):
            out.append(Prose(page, f"chunk at offset {match.start()} ({key})", value))
    out.append(Prose(page, "text", _CHUNK.sub("", text)))
    return out


def prose_of(path: Path) -> list[Prose]:
    return prose_of_notebook(path) if path.suffix == ".ipynb" else prose_of_qmd(path)


def typed_numbers(text: str) -> list[str]:
    """Excerpts around every digit left after removing code, links and allowed phrases.

    Examples
    --------
    >>> typed_numbers("Popularity runs from 0 to 100 over 114 genres; see [x](04-a.ipynb).")
    []
    >>> typed_numbers("R² is 0.80 on `x = 1`.")
    ['R² is 0.80 on .']
    """
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    for pattern, _reason in ALLOWED:
        text = re.sub(pattern, " ", text, flags=re.I)
    hits = []
    for match in _NUMBER.finditer(text):
        if hits and match.start() <= hits[-1][1]:
            continue
        start, end = max(0, match.start() - 20), min(len(text), match.end() + 20)
        hits.append((start, end))
    return [" ".join(text[s:e].split()) for s, e in hits]


def _pages() -> list[Path]:
    pages = sorted((PROJECT_ROOT / "chapters").glob("*.ipynb"))
    pages += sorted((PROJECT_ROOT / "chapters").glob("*.qmd"))
    pages += sorted(PROJECT_ROOT.glob("*.qmd"))
    return pages


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_no_hand_typed_numbers(page):
    path = PROJECT_ROOT / page
    assert path.is_file(), f"{page}: page missing"
    found = [f"{p.where}: …{hit}…" for p in prose_of(path) for hit in typed_numbers(p.text)]
    assert not found, (
        f"{page}: numbers typed by hand in the prose; emit them from an analysis function "
        f"(display(Markdown(...)) / #| output: asis) or, if they are a definition, add the "
        f"phrase to ALLOWED with a reason:\n  " + "\n  ".join(found))


def test_every_page_is_checked():
    pages = {str(p.relative_to(PROJECT_ROOT)) for p in _pages()}
    assert pages == set(PAGES), f"pages not in PAGES: {sorted(pages - set(PAGES))}"


# --- the checker itself -----------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "R² falls from 0.80 to 0.35.",
    "It holds 89,740 tracks.",
    "About 14% of tracks are at zero.",
    "Top 3 drivers",
])
def test_typed_results_are_caught(text):
    assert typed_numbers(text)


@pytest.mark.parametrize("text", [
    "Popularity runs from 0 to 100; audio features from 0–1.",
    "The file is 114 genre lists.",
    "Precision of the top-1% shortlist, hits have popularity ≥ 60.",
    "See [modeling](04-modeling.ipynb#sec-modeling-leak) and `n = 5`.",
    "```python\nx = 3\n```",
    "## Summary {#sec-data-summary}",
    "The 90% interval and the 80% prediction interval.",
])
def test_definitions_code_and_links_pass(text):
    assert typed_numbers(text) == []


def test_captions_are_read_from_cell_options():
    source = ('#| label: fig-x\n#| fig-cap: >-\n#|   R² falls to 0.35 here.\n'
              '#| fig-alt: "Bars of 3 sizes."\nshow(fig, name="x")')
    assert _captions(source) == [("fig-cap", "R² falls to 0.35 here."),
                                 ("fig-alt", "Bars of 3 sizes.")]


def test_qmd_chunks_are_code_but_their_captions_are_prose(tmp_path, monkeypatch):
    page = tmp_path / "page.qmd"
    page.write_text('---\ntitle: "Top 3"\njupyter: python3\n---\n\nText.\n\n```{python}\n'
                    '#| fig-cap: "0.42 of it"\nx = 12345\n```\n\nMore text.\n')
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    prose = prose_of_qmd(page)
    assert [typed_numbers(p.text) for p in prose] == [["Top 3"], ["0.42 of it"], []]


def test_notebook_front_matter_is_prose_only_in_its_title_block(tmp_path, monkeypatch):
    """A ``code-links`` path with a digit is configuration; a digit in the subtitle is prose."""
    path = write_notebook(tmp_path / "page.ipynb", [
        raw_cell('---\ntitle: "Data"\nsubtitle: "Top 3 tracks"\ncode-links:\n'
                 '  - href: ../notebooks/01-data.ipynb\n'
                 '    text: "Notebook 1"\n---'),
        markdown_cell("Body with 42."),
        raw_cell("---\ntitle: later raw cells stay prose, 7\n---"),
    ])
    monkeypatch.setattr(f"{__name__}.PROJECT_ROOT", tmp_path)
    found = {p.where: typed_numbers(p.text) for p in prose_of_notebook(path)}
    assert found == {"front matter (title)": [], "front matter (subtitle)": ["Top 3 tracks"],
                     "cell 1 (markdown)": ["Body with 42."],
                     "cell 2 (raw)": ["w cells stay prose, 7 ---"]}


def test_front_matter_that_does_not_parse_is_all_prose():
    assert [p.where for p in front_matter_prose("x.qmd", "title: [unclosed, 4")] == [
        "front matter"]


# --- allowed constants are what the code and the data say -------------------------------------


def test_allowed_constants_match_the_code():
    from analysis import protocols

    assert protocols.RANDOM_STATE == 42
    assert protocols.N_SPLITS == 5
    assert protocols.REPLICA_TEST_SIZE == 0.2
    models = pytest.importorskip("analysis.models")
    assert models.HIT_THRESHOLD == 60
    assert models.TOP_SHARE == 0.01
    assert tuple(models.CONFIDENCE_LEVELS) == (0.8, 0.9)


@pytest.mark.slow
def test_allowed_constants_match_the_data(track_data):
    assert track_data.summary["genres"] == 114
    assert track_data.tracks["popularity"].between(0, 100).all()


# --- the front page ---------------------------------------------------------------------------


def qmd_chunks(path: Path) -> list[str]:
    """The Python chunks of a .qmd page, in order."""
    text = path.read_text(encoding="utf-8")
    return [m.group(1) for m in _CHUNK.finditer(text)
            if text[m.start():m.start() + 10].startswith("```{python")]


@pytest.mark.slow
def test_front_page_executes_and_states_linked_numbered_findings(track_data, raw_path,
                                                                  monkeypatch):
    """Run index.qmd's chunks as Quarto's jupyter engine would, without Quarto."""
    import contextlib
    import io
    import os

    from analysis import paths

    monkeypatch.setenv(paths.DATA_ENV_VAR, str(raw_path))
    page = PROJECT_ROOT / "index.qmd"
    namespace: dict = {}
    printed = []
    cwd = os.getcwd()
    os.chdir(PROJECT_ROOT)
    try:
        for chunk in qmd_chunks(page):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(chunk, str(page), "exec"), namespace)  # noqa: S102
            printed.append(buffer.getvalue())
    finally:
        os.chdir(cwd)
    findings = [line for text in printed for line in text.splitlines()
                if re.match(r"^\d+\. ", line)]
    assert 5 <= len(findings) <= 7, printed
    for line in findings:
        body = re.sub(r"\]\([^)]*\)", "]", line[3:])
        assert re.search(r"\d", body), f"finding without a number: {line}"
        links = re.findall(r"\]\(([^)]+)\)", line)
        assert links, f"finding without a link: {line}"
        for link in links:
            target, _, anchor = link.partition("#")
            path = PROJECT_ROOT / target
            assert path.is_file(), f"{line}: {target} does not exist"
            if anchor:
                assert "{#" + anchor + "}" in path.read_text(encoding="utf-8"), (
                    f"{target} has no section {anchor}")
    assert any("show_root_page(" in chunk for chunk in qmd_chunks(page)), (
        "the headline chart must be embedded with show_root_page (plotly.js from assets/)")


@pytest.mark.slow
def test_caption_leak_holds_on_the_committed_metrics():
    """Front page and Conclusions: both leaky bars are high, well above both honest protocols,
    and the new-artist bar is the lowest."""
    from analysis.models import load_metrics
    from analysis.prose.front import headline_r2

    rows = headline_r2(load_metrics()).set_index("label")["r2"]
    published, replica, known, cold = rows.to_numpy()
    assert min(published, replica) - max(known, cold) >= 0.05
    assert cold < known


# --- the rule applied to the templates in analysis/prose/ --------------------------------------

PROSE_DIR = PROJECT_ROOT / "analysis" / "prose"

#: What a template may type, each with its reason. Narrower than :data:`ALLOWED`: the hit
#: threshold, the shortlist share, interval levels, bands, bounds and counts all come from a
#: fact or a named constant inside ``analysis/prose/``.
TEMPLATE_ALLOWED: tuple[tuple[str, str], ...] = (
    (r"\b0\s*(?:–|-|to)\s*100\b", "the popularity scale, a definition"),
    (r"\b(?:popularity(?: of)?|at|to) (?:exactly )?0\b(?![.,]?\d)",
     "zero popularity, the floor of the scale (and a p-value's underflow to zero)"),
    (r"\(−1 to \+1\)", "the range of Cliff's δ, a definition"),
    (r"\bfloat(?:32|64)\b", "names of number formats"),
    (r"\bSHA-256\b", "a hash function's name"),
    (r"\b\d{2}-[a-z-]+\.ipynb\b", "a page's file name (a link target)"),
    (r"\bet al\., \d{4}\b", "a citation's year"),
)

_FIELD = re.compile(r"\{[^{}]*\}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def template_literals(source: str) -> list[tuple[int, str]]:
    """Every string literal of a module that reads as text: (line, literal).

    Left out: docstrings, the format specifications of f-strings (``.2f``) and literals that
    are Python identifiers (keys such as ``"r2"`` or ``"top1_precision"``).

    Examples
    --------
    >>> template_literals("'Doc 1.'\\nX = {'r2': f'{v:.2f} of 3'}")
    [(2, ' of 3')]
    """
    tree = ast.parse(source)
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            skip |= {id(sub) for sub in ast.walk(node.format_spec)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip and not _IDENTIFIER.fullmatch(node.value)]


def typed_template_numbers(literal: str) -> list[str]:
    """Digits left in a template literal once its fields and allowed phrases are removed.

    Examples
    --------
    >>> typed_template_numbers("Hits (80–100) score {r2:.2f} on the 0–100 scale")
    ['Hits (80–100) score on th']
    >>> typed_template_numbers("the {level:.0%} interval at popularity 0")
    []
    """
    text = _FIELD.sub(" ", literal)
    for pattern, _reason in TEMPLATE_ALLOWED:
        text = re.sub(pattern, " ", text)
    hits = []
    for match in _NUMBER.finditer(text):
        if hits and match.start() <= hits[-1][1]:
            continue
        hits.append((max(0, match.start() - 20), min(len(text), match.end() + 20)))
    return [" ".join(text[s:e].split()) for s, e in hits]


@pytest.mark.parametrize("module", sorted(p.name for p in PROSE_DIR.glob("*.py")))
def test_no_hand_typed_numbers_in_prose_templates(module):
    source = (PROSE_DIR / module).read_text(encoding="utf-8")
    found = [f"line {line}: …{hit}…" for line, literal in template_literals(source)
             for hit in typed_template_numbers(literal)]
    assert not found, (
        f"analysis/prose/{module}: numbers typed in templates; take them from a fact or a named "
        f"constant (or, for a definition, add the phrase to TEMPLATE_ALLOWED with a reason):\n  "
        + "\n  ".join(found))


@pytest.mark.parametrize("literal", [
    "Hits (80–100) are under-predicted",
    "a classifier trained on popularity ≥ 60",
    "the 90% interval covers",
    "among the top 1% it shortlists",
    "within 0.03 of",
    "1. **The published",
])
def test_typed_thresholds_in_templates_are_caught(literal):
    assert typed_template_numbers(literal)


def test_the_template_scan_reads_every_prose_module():
    scanned = {p.name for p in PROSE_DIR.glob("*.py")}
    assert {"data.py", "eda.py", "moods.py", "modeling.py", "drivers.py", "conclusions.py",
            "front.py"} <= scanned
