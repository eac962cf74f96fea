"""The chapters as readers get them, in headless Chromium with the network closed.

Quarto cannot be installed here, so every notebook chapter is built the way Quarto would
build it by ``tests/site_harness.py`` (nbconvert's cells wrapped in a Quarto-like page, with
Quarto's cell rules and CDN additions emulated) into a folder laid out like ``_site``, served
from 127.0.0.1 and opened in Debian's Chromium. Every request that does not go to 127.0.0.1 is
aborted and recorded, so a chart that silently needs a CDN fails here. Where ``quarto`` is on
PATH, ``tests/test_site.py`` checks the real ``_site`` the same way.

Per page, at 1280 px and at 390 px (a phone): no console error, no off-site request, no code
toggle in the prose, one H1, the table of contents lists the sections, nothing scrolls the
page sideways, no chart text (axis or subplot title, label, legend, menu) is cut off, and the
page weighs at most 1 MB without the shared plotly.min.js.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pytest

from analysis.paths import PROJECT_ROOT

if TYPE_CHECKING:  # imported where used: nbformat costs seconds at import
    import nbformat

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHAPTERS = sorted(p.relative_to(PROJECT_ROOT).as_posix()
                  for p in (PROJECT_ROOT / "chapters").glob("[0-9][0-9]-*.ipynb"))

#: Page weight budget, bytes transferred without the shared plotly.min.js.
PAGE_BUDGET = 1_000_000

#: A name that would run script if a table treated data as markup.
XSS_NAME = "<img src=x onerror=alert(1)>"

#: Every Plotly div holds a drawn SVG (or a WebGL canvas).
_ALL_PLOTS_DRAWN = """() => {
  const divs = Array.from(document.querySelectorAll('.plotly-graph-div'));
  return divs.length > 0 && divs.every(d => d.querySelector('svg.main-svg, canvas'));
}"""

#: Every itables table (``show_table`` ids start with ``tbl-``) is an initialised DataTable.
_ALL_TABLES_READY = """() => Array.from(document.querySelectorAll('table[id^="tbl-"]'))
  .every(t => t.classList.contains('dataTable') && t.closest('.dt-container'))"""

#: Ids of paged tables without a search box (itables drops the controls of one-page tables).
_PAGED_WITHOUT_SEARCH = """() => Array.from(document.querySelectorAll('.dt-container'))
  .filter(w => w.querySelector('.dt-paging') && !w.querySelector('input[type="search"]'))
  .map(w => w.querySelector('table').id)"""

#: H2 ids in the page body, and the ids the table of contents links to.
_TOC = """() => ({
  sections: Array.from(document.querySelectorAll('main h2[id]'))
    .filter(h => !h.closest('.callout')).map(h => h.id),
  toc: Array.from(document.querySelectorAll('#TOC a')).map(a => a.getAttribute('href').slice(1)),
})"""


def _open_chapter(harness_site, serve, open_page, chapter, width):
    root, built = harness_site
    url = f"{serve(root)}/{built[chapter].relative_to(root).as_posix()}"
    return open_page(url, width=width, height=900)


def _figures(site_model, chapter: str) -> int:
    """Plotly figures the chapter's stored outputs embed (raw HTML blocks)."""
    from analysis.plots import DIV_ID_PREFIX

    return sum(markup.count(f'id="{DIV_ID_PREFIX}')
               for _, markup in site_model.pages[chapter].raw_html())


def _wait_for_content(visit, chapter: str, figures: int) -> None:
    page = visit.page
    if figures:
        page.wait_for_function(_ALL_PLOTS_DRAWN, timeout=30_000)
    assert page.locator(".plotly-graph-div").count() == figures
    if page.locator('table[id^="tbl-"]').count():
        page.wait_for_function(_ALL_TABLES_READY, timeout=30_000)
        assert page.evaluate(_PAGED_WITHOUT_SEARCH) == []
    page.wait_for_timeout(300)  # let late errors (resize handlers, hover setup) surface


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_offline_for_executives(chapter, harness_site, site_model, serve, open_page):
    """1280 px: clean offline, no code in the prose, one H1, a full table of contents,
    the notebook one click away, and within the weight budget."""
    import nbformat
    from site_harness import page_weight

    visit = _open_chapter(harness_site, serve, open_page, chapter, 1280)
    _wait_for_content(visit, chapter, _figures(site_model, chapter))
    page = visit.page
    assert page.locator("details.code-fold, div.input").count() == 0, "code on the page"
    assert page.locator("h1").count() == 1
    toc = page.evaluate(_TOC)
    assert toc["sections"] and toc["sections"] == [t for t in toc["toc"] if t in toc["sections"]]
    assert set(toc["sections"]) <= set(toc["toc"])
    notebook = page.locator(".quarto-code-links a")
    assert notebook.count() == 1
    response = page.request.get(notebook.first.evaluate("a => a.href"))
    assert response.ok and nbformat.reads(response.text(), as_version=4).cells
    weight = page_weight(page)
    print(f"{chapter}: {weight['transfer']:,} bytes transferred "
          f"({weight['decoded']:,} decoded) in {weight['files']} files, plotly.min.js apart")
    assert weight["transfer"] <= PAGE_BUDGET
    visit.assert_clean()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_fits_a_phone(chapter, harness_site, site_model, serve, open_page):
    """390 px: nothing scrolls the page sideways (wide tables and plots scroll in place)."""
    from site_harness import sideways_overflow

    visit = _open_chapter(harness_site, serve, open_page, chapter, 390)
    _wait_for_content(visit, chapter, _figures(site_model, chapter))
    overflow = sideways_overflow(visit.page)
    print(f"{chapter} at 390 px: scrollWidth {overflow['scrollWidth']}")
    assert overflow["scrollWidth"] <= overflow["clientWidth"], overflow["culprits"]
    visit.assert_clean()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_text_is_not_clipped(chapter, width, harness_site, site_model, serve, open_page):
    """No title, label or annotation of any chart is cut off, on a laptop or on a phone (the
    front page's headline chart once lost the end of its axis title)."""
    from site_harness import clipped_text

    visit = _open_chapter(harness_site, serve, open_page, chapter, width)
    _wait_for_content(visit, chapter, _figures(site_model, chapter))
    assert clipped_text(visit.page) == []


def test_chapters_exist():
    names = {p.rsplit("/", 1)[-1] for p in CHAPTERS}
    assert {"02-eda.ipynb", "03-genre-moods.ipynb"} <= names


# --- the harness fails where Quarto's page would ------------------------------------------------


def _one_page_site(tmp_path, notebook: nbformat.NotebookNode, config_extra: str = ""):
    """A one-chapter project around ``notebook`` (under ``tmp_path/project``), loaded."""
    import nbformat
    from quarto_rules import Site

    project = tmp_path / "project"
    (project / "chapters").mkdir(parents=True)
    (project / "_quarto.yml").write_text(
        "project:\n  type: website\n  render:\n    - chapters/01-x.ipynb\n"
        "format:\n  html:\n    code-fold: true\n" + config_extra, encoding="utf-8")
    nbformat.write(notebook, project / "chapters" / "01-x.ipynb")
    return Site.load(project)


def _notebook(*cells) -> nbformat.NotebookNode:
    import nbformat

    front = nbformat.v4.new_raw_cell('---\ntitle: "X"\n---')
    return nbformat.v4.new_notebook(cells=[front, *cells])


def test_harness_adds_quarto_cdn_scripts_for_html_outputs(tmp_path, serve, open_page):
    """A text/html output makes the emulated page fetch require.js/jQuery, as Quarto's does."""
    import nbformat
    from site_harness import CDN_JQUERY, CDN_REQUIRE_JS, build_site

    cell = nbformat.v4.new_code_cell("#| echo: false\nHTML('<b>x</b>')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "<b>x</b>"})]
    site = _one_page_site(tmp_path, _notebook(cell))
    out = tmp_path / "site"
    build_site(site, out)
    visit = open_page(f"{serve(out)}/chapters/01-x.html")
    visit.page.wait_for_timeout(200)
    assert set(visit.offsite_requests) == {CDN_REQUIRE_JS, CDN_JQUERY}


def test_harness_shows_code_toggles_where_quarto_would(tmp_path, serve, open_page):
    """A cell whose echo resolves true gets a code toggle between the paragraphs."""
    import nbformat
    from site_harness import build_site

    shown = nbformat.v4.new_code_cell("x = 1", execution_count=1)
    hidden = nbformat.v4.new_code_cell("#| echo: false\ny = 2", execution_count=2)
    site = _one_page_site(tmp_path, _notebook(shown, hidden))
    out = tmp_path / "site"
    build_site(site, out)
    visit = open_page(f"{serve(out)}/chapters/01-x.html")
    assert visit.page.locator("details.code-fold").count() == 1
    assert "x = 1" in visit.page.locator("details.code-fold").text_content()


def _figure_notebook(fig) -> nbformat.NotebookNode:
    import nbformat

    from analysis.plots import show

    cell = nbformat.v4.new_code_cell("#| echo: false\nshow(fig, name='x')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": show(fig, name="x").data, "text/plain": "<Markdown>"})]
    return _notebook(cell)


@pytest.mark.parametrize("title, clipped", [
    ("R² (share of popularity variance explained)", True),
    ("R² (variance explained)", False),
])
def test_clipped_text_check_catches_a_cut_axis_title(tmp_path, serve, open_page, title, clipped):
    """The check fails on the front page's old headline axis title, drawn where it does not
    fit (a short chart), and passes once the title fits."""
    import plotly.graph_objects as go
    from site_harness import build_site, clipped_text

    from analysis.plots import set_style

    set_style()
    fig = go.Figure(go.Bar(x=["a", "b"], y=[0.8, 0.4]))
    fig.update_layout(height=260, yaxis_title=title)
    site = _one_page_site(tmp_path, _figure_notebook(fig))
    out = tmp_path / "site"
    build_site(site, out)
    visit = open_page(f"{serve(out)}/chapters/01-x.html")
    visit.page.wait_for_function(_ALL_PLOTS_DRAWN, timeout=30_000)
    found = clipped_text(visit.page)
    assert bool(found) is clipped, found
    if clipped:
        assert "axis title" in found[0] and "plotly-x" in found[0]
    visit.assert_clean()


# --- names are data, not markup -----------------------------------------------------------------


def _xss_notebook() -> nbformat.NotebookNode:
    """A notebook whose table holds hostile track, artist and genre names, executed for real."""
    import nbformat
    from nbclient import NotebookClient

    # Twelve rows: itables drops the search box and pager of tables that fit on one page.
    rows = {
        "Track": [XSS_NAME, "Fine", *[f"Song {i}" for i in range(10)]],
        "Artist": ["<script>alert(2)</script>", "A & B", *["X"] * 10],
        "Genre": ["<b onmouseover=alert(3)>pop</b>", *["rock"] * 11],
        "track_id": ['abc"onclick="alert(4)', *[f"t{i}" for i in range(11)]],
    }
    source = (
        "#| echo: false\n"
        "import pandas as pd\n"
        "from analysis.tables import show_table\n"
        f"frame = pd.DataFrame({rows!r})\n"
        "show_table(frame, name='xss', links={'Track': 'track_id'})"
    )
    notebook = _notebook(nbformat.v4.new_code_cell(source))
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(PROJECT_ROOT)}}).execute()
    return notebook


def test_table_names_render_as_text(tmp_path, serve, open_page):
    from site_harness import build_site

    site = _one_page_site(tmp_path, _xss_notebook())
    out = tmp_path / "site"
    build_site(site, out)
    visit = open_page(f"{serve(out)}/chapters/01-x.html")
    page = visit.page
    page.wait_for_function(_ALL_TABLES_READY, timeout=30_000)

    table = page.locator("#tbl-xss")
    search = page.locator('.dt-container:has(#tbl-xss) input[type="search"]')
    assert search.count() == 1  # more rows than one page, so DataTables shows its search box
    assert table.get_by_text(XSS_NAME, exact=True).is_visible()
    assert table.get_by_text("<script>alert(2)</script>", exact=True).is_visible()
    assert table.get_by_text("<b onmouseover=alert(3)>pop</b>", exact=True).is_visible()
    assert table.locator("img, script, b").count() == 0
    link = table.locator("a", has_text=XSS_NAME)
    assert link.get_attribute("href").startswith("https://open.spotify.com/track/abc")
    assert link.get_attribute("onclick") is None
    link.hover()
    table.get_by_text("<b onmouseover=alert(3)>pop</b>", exact=True).hover()
    search.fill("A & B")  # searching re-draws rows from the data: still text, still no markup
    table.get_by_text("A & B", exact=True).wait_for()
    assert table.locator("tbody tr").count() == 1
    search.fill("onerror")
    table.get_by_text(XSS_NAME, exact=True).wait_for()
    assert table.locator("img, script, b").count() == 0
    assert page.locator("#tbl-xss_fallback").is_hidden()
    page.wait_for_timeout(300)
    assert not [u for u in visit.requests if u.endswith("/x")]
    visit.assert_clean()


def test_xss_frame_is_escaped_before_itables(tmp_path):
    """The same guarantee without a browser: the stored output holds no live markup."""
    from analysis.tables import show_table

    html = show_table(pd.DataFrame({"Track": [XSS_NAME], "track_id": ["t"]}), name="x",
                      links={"Track": "track_id"}).data
    assert XSS_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
