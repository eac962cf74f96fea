"""Browser tests: the chapters' HTML in headless Chromium with the network closed.

Quarto cannot be installed on the developers' machines, so the chapter notebooks are converted
with nbconvert into a throw-away folder laid out like the site (pages in ``chapters/``, the
shared ``assets/plotly.min.js`` and DataTables bundle beside), served from 127.0.0.1 and opened
in Debian's Chromium through Playwright. Every request that does not go to 127.0.0.1 is
aborted and recorded, so a chart that silently needs a CDN fails here.

The helpers are fixtures so that other pages (drivers, predictor) can add tests to this file:

* ``serve(folder)`` serves a folder and returns its base URL;
* ``open_page(url)`` loads a page and returns a :class:`PageVisit` (the Playwright page plus its
  console errors, page errors, blocked off-site requests and dialogs);
* ``site_dir`` is the site-shaped folder with the assets in place, and
  :func:`notebook_to_html` converts a notebook into it.

nbconvert's own page templates ("lab", "classic") load require.js and MathJax from a CDN. We
use the ``basic`` template (the cells only) inside a minimal local page instead, so the test can
demand zero off-site requests from the chapters' content.
"""

from __future__ import annotations

import copy
import functools
import http.server
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pandas as pd
import pytest

from analysis.paths import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHAPTERS = sorted((PROJECT_ROOT / "chapters").glob("*.ipynb"))

#: A name that would run script if a table treated data as markup.
XSS_NAME = "<img src=x onerror=alert(1)>"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<link rel="stylesheet" href="../assets/dt_bundle.css">
</head><body style="max-width: 1280px; margin: 0 auto;">
{body}
</body></html>
"""

#: Every Plotly div holds a drawn SVG (or a WebGL canvas).
_ALL_PLOTS_DRAWN = """() => {
  const divs = Array.from(document.querySelectorAll('.plotly-graph-div'));
  return divs.length > 0 && divs.every(d => d.querySelector('svg.main-svg, canvas'));
}"""

#: Every itables table (``show_table`` ids start with ``tbl-``) is an initialised DataTable.
_ALL_TABLES_READY = """() => Array.from(document.querySelectorAll('table[id^="tbl-"]'))
  .every(t => t.classList.contains('dataTable') && t.closest('.dt-container'))"""

#: Ids of paged tables without a search box (itables drops the controls of one-page tables).
_PAGED_WITHOUT_SEARCH = """() => Array.from(document.querySelectorAll('table[id^="tbl-"]'))
  .map(t => t.closest('.dt-container'))
  .filter(w => w && w.querySelector('.dt-paging') && !w.querySelector('input[type="search"]'))
  .map(w => w.querySelector('table').id)"""


_RAW_HTML_BLOCK = re.compile(r"^(`{3,})\{=html\}\n(.*)\n\1$", re.S)


def _raw_html_blocks_as_html(node: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Pass Markdown raw HTML blocks through as HTML, as Quarto (Pandoc) does.

    nbconvert's Markdown renderer would show a ``{=html}`` fence as a code block.
    """
    node = copy.deepcopy(node)
    for cell in node.cells:
        for output in cell.get("outputs", []):
            match = _RAW_HTML_BLOCK.match(output.get("data", {}).get("text/markdown", ""))
            if match:
                output["data"] = {"text/html": match.group(2)}
    return node


def notebook_to_html(notebook: Path | nbformat.NotebookNode, dest: Path) -> Path:
    """Convert a notebook's stored outputs to a standalone page at ``dest`` (no CDN scripts)."""
    from nbconvert import HTMLExporter

    node = nbformat.read(notebook, as_version=4) if isinstance(notebook, Path) else notebook
    node = _raw_html_blocks_as_html(node)
    exporter = HTMLExporter(template_name="basic", exclude_raw=True)
    body, _ = exporter.from_notebook_node(node)
    dest.parent.mkdir(parents=True, exist_ok=True)
    title = dest.stem if isinstance(notebook, nbformat.NotebookNode) else notebook.stem
    dest.write_text(_PAGE.format(title=title, body=body), encoding="utf-8")
    return dest


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory) -> Path:
    """An empty site-shaped folder with plotly.js and the DataTables bundle in ``assets/``."""
    from analysis.plots import ensure_plotly_js
    from analysis.tables import ensure_table_assets

    root = tmp_path_factory.mktemp("site")
    ensure_plotly_js(root / "assets")
    ensure_table_assets(root / "assets")
    (root / "chapters").mkdir()
    return root


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[Path], str]]:
    """``serve(folder)`` starts a throw-away HTTP server on 127.0.0.1 and returns its URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class PageVisit:
    """A loaded page and everything that went wrong while it loaded."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    offsite_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        """No console error, no uncaught exception, no off-site request, no dialog."""
        assert self.offsite_requests == [], f"off-site requests: {self.offsite_requests}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.page_errors == [], f"page errors: {self.page_errors}"
        assert self.dialogs == [], f"dialogs: {self.dialogs}"


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., PageVisit]]:
    """``open_page(url)`` loads ``url`` at 1280 px with only 127.0.0.1 reachable."""
    contexts = []

    def visit(url: str, *, width: int = 1280, height: int = 900) -> PageVisit:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        result = PageVisit(page=page)

        def route(r):
            if urlparse(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                result.offsite_requests.append(r.request.url)
                r.abort()

        def on_dialog(dialog):
            result.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.route("**/*", route)
        page.on("request", lambda request: result.requests.append(request.url))
        page.on("console", lambda m: result.console_errors.append(m.text)
                if m.type == "error" else None)
        page.on("pageerror", lambda error: result.page_errors.append(str(error)))
        page.on("dialog", on_dialog)
        page.goto(url, wait_until="load")
        return result

    yield visit
    for context in contexts:
        context.close()


# --- the chapters -------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_renders_offline(notebook, site_dir, serve, open_page):
    from analysis.plots import figure_weights

    page_path = notebook_to_html(notebook, site_dir / "chapters" / f"{notebook.stem}.html")
    visit = open_page(f"{serve(site_dir)}/chapters/{page_path.name}")
    page = visit.page

    figures = len(figure_weights(notebook))
    if figures:
        page.wait_for_function(_ALL_PLOTS_DRAWN, timeout=30_000)
    assert page.locator(".plotly-graph-div").count() == figures
    if page.locator('table[id^="tbl-"]').count():
        page.wait_for_function(_ALL_TABLES_READY, timeout=30_000)
        assert page.evaluate(_PAGED_WITHOUT_SEARCH) == []
    page.wait_for_timeout(300)  # let late errors (resize handlers, hover setup) surface
    visit.assert_clean()


def test_chapters_exist():
    names = {p.name for p in CHAPTERS}
    assert {"02-eda.ipynb", "03-genre-moods.ipynb"} <= names


# --- names are data, not markup -----------------------------------------------------------------


def _xss_notebook() -> nbformat.NotebookNode:
    """A notebook whose table holds hostile track, artist and genre names, executed for real."""
    from nbclient import NotebookClient

    # Twelve rows: itables drops the search box and pager of tables that fit on one page.
    rows = {
        "Track": [XSS_NAME, "Fine", *[f"Song {i}" for i in range(10)]],
        "Artist": ["<script>alert(2)</script>", "A & B", *["X"] * 10],
        "Genre": ["<b onmouseover=alert(3)>pop</b>", *["rock"] * 11],
        "track_id": ['abc"onclick="alert(4)', *[f"t{i}" for i in range(11)]],
    }
    source = (
        "import pandas as pd\n"
        "from analysis.tables import show_table\n"
        f"frame = pd.DataFrame({rows!r})\n"
        "show_table(frame, name='xss', links={'Track': 'track_id'})"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(PROJECT_ROOT)}}).execute()
    return notebook


def test_table_names_render_as_text(site_dir, serve, open_page):
    page_path = notebook_to_html(_xss_notebook(), site_dir / "chapters" / "xss.html")
    visit = open_page(f"{serve(site_dir)}/chapters/{page_path.name}")
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
    assert not [u for u in visit.requests if urlparse(u).path.endswith("/x")]
    visit.assert_clean()


def test_xss_frame_is_escaped_before_itables(tmp_path):
    """The same guarantee without a browser: the stored output holds no live markup."""
    from analysis.tables import show_table

    html = show_table(pd.DataFrame({"Track": [XSS_NAME], "track_id": ["t"]}), name="x",
                      links={"Track": "track_id"}).data
    assert XSS_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
