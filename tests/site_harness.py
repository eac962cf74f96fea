"""Pages built as close to Quarto as this machine allows, and the offline browser around them.

Quarto cannot be installed here (``../shared/QUARTO-FACTS.md``), so the browser tests open
pages made by this harness: nbconvert's ``basic`` template renders the cells, and
:func:`render_page` wraps them the way Quarto would, with Quarto's rules applied
(``tests/quarto_rules.py`` resolves them):

* cell options and execute defaults: ``include``/``output`` drop what Quarto drops, a cell
  whose ``echo`` resolves true shows its code, folded in a ``<details class="code-fold">``
  toggle when ``code-fold`` is on (what an executive would see between paragraphs);
* Markdown raw HTML blocks pass through unchanged (Pandoc does so), ``{#id}`` heading
  attributes become ids, other headings get Pandoc's automatic ids, fenced divs become divs,
  captioned cells become numbered figures and tables, and ``@fig-``/``@tbl-`` references
  become links;
* the title (front matter) is the page's only H1, with a table of contents of its
  sections and the page's "Code links" (or code-tools button) in the margin;
* what Quarto itself would fetch from a CDN is put in the page head, so the offline test
  fails as the real site would: require.js and jQuery for any ``text/html`` or widget
  output (QUARTO-FACTS), MathJax for TeX math, Google Fonts for Bootswatch themes;
* the project stylesheet(s) from ``_quarto.yml`` and the page's front matter are linked,
  inside a page grid approximating Quarto's (docked sidebar, body, margin; one column below
  992 px).

Where ``quarto`` is on PATH, the tests also check the real ``_site``.

The server gzips text files as static hosts do (GitHub Pages), so page weights are what a
reader downloads; :func:`page_weight` reports both the transferred and the decoded bytes.
:func:`sideways_overflow` finds what widens a page; :func:`clipped_text` finds chart text
(titles, tick labels, legends, menus, annotations) that is cut off or runs into other text.
"""

from __future__ import annotations

import copy
import functools
import gzip
import html
import http.server
import mimetypes
import posixpath
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import quarto_rules as rules

if TYPE_CHECKING:  # imported where used: the fast tests' doctest collection imports this file
    import nbformat

#: What Quarto adds to a page head from a CDN, and when (QUARTO-FACTS.md).
CDN_REQUIRE_JS = "https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js"
CDN_JQUERY = "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/jquery.min.js"
CDN_MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml-full.js"
CDN_FONTS = "https://fonts.googleapis.com/css2?family=Source+Sans+Pro:wght@300;400;700"
#: Bootswatch themes that load web fonts (QUARTO-FACTS verified cosmo; the others import
#: Google Fonts in their Bootswatch sources too).
FONT_THEMES = {"cosmo", "flatly", "litera", "lumen", "lux", "minty", "sandstone", "simplex",
               "spacelab", "united", "yeti", "zephyr"}

#: Bootstrap reboot and Quarto's page grid, approximated: docked sidebar, body column about
#: 850 px, margin column with the table of contents; one column and no sidebars below 992 px.
EMULATION_CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       font-size: 1rem; line-height: 1.5; color: #212529; }
.page-columns { display: grid; justify-content: center; column-gap: 1.5rem;
                grid-template-columns: 250px minmax(0, 850px) 250px; }
#quarto-sidebar { padding: 1rem; position: sticky; top: 0; align-self: start; }
#quarto-margin-sidebar { padding: 1rem 0; position: sticky; top: 0; align-self: start; }
main.content { min-width: 0; padding: 0 1rem 4rem; }
main.content > .column-page-right { margin-right: -275px; }
@media (max-width: 991.98px) {
  .page-columns { grid-template-columns: minmax(0, 1fr); }
  #quarto-sidebar, #quarto-margin-sidebar { display: none; }
  main.content > .column-page-right { margin-right: 0; }
}
.table { width: 100%; margin-bottom: 1rem; border-collapse: collapse; }
.table td, .table th { padding: .25rem .5rem; border-bottom: 1px solid #dee2e6; }
pre { overflow: auto; }
figure { margin: 0 0 1rem; }
.callout { border-left: .25rem solid #adb5bd; padding: .5rem 1rem; margin: 1rem 0; }
.prompt, .anchor-link { display: none; }
"""

_RAW_HTML_BLOCK = re.compile(r"^(`{3,})\{=html\}\n(.*)\n\1\s*$", re.S)
_DIV_OPEN = re.compile(r"^ {0,3}(:{3,})\s*(?:\{([^}]*)\}|([\w-]+))\s*$")
_DIV_CLOSE = re.compile(r"^ {0,3}:{3,}\s*$")
_HEADING_ATTRS = re.compile(r"\s*\{([^{}]*)\}\s*$")


# --- Quarto's view of a page -------------------------------------------------------------------


def _classes_and_id(attrs: str) -> tuple[list[str], str | None]:
    classes = re.findall(r"(?:^|\s)\.([\w-]+)", attrs)
    ident = re.search(r"(?:^|\s)#([\w:.-]+)", attrs)
    return classes, ident.group(1) if ident else None


def _divs_to_html(markdown: str) -> str:
    """Pandoc fenced divs as HTML blocks (blank lines around, so Markdown inside renders)."""
    out = []
    for line in markdown.splitlines():
        opened = _DIV_OPEN.match(line)
        if opened:
            classes, ident = _classes_and_id(opened.group(2) or "")
            if opened.group(3):
                classes = [opened.group(3)]
            if any(c.startswith("callout") for c in classes):
                classes = ["callout", *classes]
            attrs = f' class="{" ".join(classes)}"' if classes else ""
            attrs += f' id="{ident}"' if ident else ""
            out += ["", f"<div{attrs}>", ""]
        elif _DIV_CLOSE.match(line):
            out += ["", "</div>", ""]
        else:
            out.append(line)
    return "\n".join(out)


@dataclass
class Float:
    """A captioned, labelled cell: Quarto numbers it and makes it the target of its @refs."""

    label: str
    kind: str
    number: int
    caption: str


def _floats(page: rules.Page) -> dict[int, Float]:
    counters = {"fig": 0, "tbl": 0}
    floats = {}
    for cell in page.code_cells():
        label = cell.options.get("label")
        if not isinstance(label, str):
            continue
        for kind in counters:
            if label.startswith(f"{kind}-"):
                counters[kind] += 1
                caption = cell.options.get(f"{kind}-cap") or ""
                floats[cell.index] = Float(label, kind, counters[kind], str(caption))
    return floats


def _link_refs(markdown: str, floats: dict[int, Float]) -> str:
    names = {f.label: f"{'Figure' if f.kind == 'fig' else 'Table'}&nbsp;{f.number}"
             for f in floats.values()}
    return re.sub(r"(?<![\w@.])@((?:fig|tbl)-[\w-]*\w)",
                  lambda m: f"[{names[m.group(1)]}](#{m.group(1)})" if m.group(1) in names
                  else m.group(0), markdown)


@dataclass
class QuartoView:
    """The notebook Quarto would render, and what Quarto would add to the page for it."""

    notebook: nbformat.NotebookNode
    floats: dict[int, Float]
    shown_code: set[int]
    cdn_scripts: list[str] = field(default_factory=list)


def quarto_view(site: rules.Site, page: rules.Page,
                notebook: nbformat.NotebookNode) -> QuartoView:
    """Apply Quarto's cell rules to ``notebook`` (cells matching ``page.cells`` one to one)."""
    node = copy.deepcopy(notebook)
    floats = _floats(page)
    shown: set[int] = set()
    cdn: list[str] = []
    cells = []
    for raw, cell in zip(node.cells, page.cells, strict=True):
        raw["id"] = f"c{cell.index}"
        if cell.kind == "raw":
            continue
        if cell.kind == "markdown":
            raw.source = _link_refs(_divs_to_html(raw.source), floats)
            cells.append(raw)
            continue
        options = cell.merged_options()
        if options.get("include", True) is False:
            continue
        _, code = rules.partition_options(cell.source, cell.language or "python")
        raw.source = "\n".join(code)
        if rules.shows_code(site, page, cell):
            shown.add(cell.index)
        else:
            raw.metadata.setdefault("tags", []).append("quarto-echo-false")
        if options.get("output", True) is False:
            raw.outputs = []
        for output in raw.get("outputs", []):
            data = output.get("data", {})
            if any(mime in rules.FORBIDDEN_MIME for mime in data):
                cdn += [CDN_REQUIRE_JS, CDN_JQUERY]
            text = data.get("text/markdown")
            if text is not None:
                match = _RAW_HTML_BLOCK.match(text)
                if match:
                    output["data"] = {"text/html": match.group(2)}
                else:
                    output["data"] = {"text/markdown": _link_refs(_divs_to_html(text), floats)}
        cells.append(raw)
    node.cells = cells
    for _, text in page.markdown_texts():
        if any(rules._MATH.search(line.replace("\\$", "")) for line in rules.prose_lines(text)):
            cdn.append(CDN_MATHJAX)
            break
    theme = site.format_option(page, "theme", "default")
    if isinstance(theme, str) and theme in FONT_THEMES:
        cdn.append(CDN_FONTS)
    return QuartoView(node, floats, shown, list(dict.fromkeys(cdn)))


# --- the page ------------------------------------------------------------------------------------


def _cell_html(view: QuartoView) -> str:
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {"quarto-echo-false"}
    exporter = HTMLExporter(template_name="basic", exclude_raw=True, config=config)
    body, _ = exporter.from_notebook_node(view.notebook)
    return body


def _post_process(body: str, view: QuartoView, code_fold: bool) -> tuple[str, list]:
    """Quarto's ids, floats, tables and code folds on nbconvert's cells; the TOC entries."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    for anchor in soup.select("a.anchor-link"):
        anchor.decompose()
    for prompt in soup.select(".prompt"):
        prompt.decompose()
    toc = []
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        text = heading.get_text()
        attrs = _HEADING_ATTRS.search(text)
        ident = None
        if attrs:
            _, ident = _classes_and_id(attrs.group(1))
            for node in heading.find_all(string=True):
                node.replace_with(_HEADING_ATTRS.sub("", str(node)))
        heading["id"] = ident or rules.auto_identifier(heading.get_text())
        if heading.name in ("h2", "h3") and not heading.find_parent(class_="callout"):
            toc.append((heading.name, heading["id"], heading.get_text().strip()))
    for table in soup.select(".text_cell_render table, .output_markdown table"):
        table["class"] = [*table.get("class", []), "table"]
    for cell in soup.select("div.cell.code_cell"):
        index = int(cell["id"].removeprefix("cell-id=c"))
        source = cell.select_one("div.input")
        if source is not None and index in view.shown_code and code_fold:
            details = soup.new_tag("details", attrs={"class": "code-fold"})
            summary = soup.new_tag("summary")
            summary.string = "Code"
            details.append(summary)
            source.wrap(details)
        float_ = view.floats.get(index)
        outputs = cell.select_one("div.output_wrapper")
        if float_ and outputs is not None:
            name = "Figure" if float_.kind == "fig" else "Table"
            wrapper = soup.new_tag("div", attrs={"id": float_.label,
                                                 "class": f"quarto-float quarto-{float_.kind}"})
            figure = soup.new_tag("figure")
            caption = soup.new_tag("figcaption")
            caption.string = f"{name}\u00a0{float_.number}: {float_.caption}"
            outputs.wrap(figure)
            figure.wrap(wrapper)
            figure.insert(0 if float_.kind == "tbl" else len(figure.contents), caption)
    return str(soup), toc


def _relative(from_page: str, target: str) -> str:
    depth = from_page.count("/")
    return "../" * depth + target


def _code_tools(site: rules.Site, page: rules.Page) -> str:
    links = []
    for item in rules.code_links(page):
        if isinstance(item, dict):
            links.append(f'<li><a href="{html.escape(str(item.get("href", "")))}">'
                         f'{html.escape(str(item.get("text", "")))}</a></li>')
    out = ""
    if links:
        out += f'<div class="quarto-code-links"><h2>Code Links</h2><ul>{"".join(links)}</ul></div>'
    tools = site.format_option(page, "code-tools", False)
    if tools is True or (isinstance(tools, dict) and tools.get("source")):
        out += ('<button type="button" id="quarto-code-tools-source" class="code-tools-button">'
                "Code</button>")
    return out


def _stylesheets(site: rules.Site, page: rules.Page) -> list[str]:
    """The page's ``css`` files (project-relative), project first, then the page's own."""
    sheets = []
    project_css = (site.config.get("format", {}).get("html", {}) or {}).get("css")
    for css in [project_css] if isinstance(project_css, str) else project_css or []:
        sheets.append(css)
    fmt = page.front.get("format")
    page_css = fmt.get("html", {}).get("css") if isinstance(fmt, dict) and isinstance(
        fmt.get("html"), dict) else page.front.get("css")
    base = posixpath.dirname(page.path)
    for css in [page_css] if isinstance(page_css, str) else page_css or []:
        sheets.append(posixpath.normpath(posixpath.join(base, css)))
    return sheets


def render_page(site: rules.Site, page: rules.Page, notebook: nbformat.NotebookNode,
                out_root: Path) -> Path:
    """Write ``page`` (its cells from ``notebook``) to ``out_root / page.output``, Quarto-like."""
    view = quarto_view(site, page, notebook)
    code_fold = site.format_option(page, "code-fold", False) not in (False, "false", None)
    body, toc = _post_process(_cell_html(view), view, code_fold)
    title = html.escape(str(page.front.get("title", "")))
    subtitle = page.front.get("subtitle")
    head = [f'<script src="{url}"></script>' for url in view.cdn_scripts if url.endswith(".js")]
    head += [f'<link rel="stylesheet" href="{url}">' for url in view.cdn_scripts
             if not url.endswith(".js")]
    for css in _stylesheets(site, page):
        source = site.root / css
        if source.is_file():
            (out_root / css).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out_root / css)
        head.append(f'<link rel="stylesheet" href="{_relative(page.output, css)}">')
    sidebar = "".join(f'<li><a href="{_relative(page.output, p.output)}">'
                      f'{html.escape(str(p.front.get("title", p.path)))}</a></li>'
                      for p in site.pages.values())
    toc_html = "".join(f'<li class="toc-{level}"><a href="#{ident}">{html.escape(text)}</a></li>'
                       for level, ident, text in toc)
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
{chr(10).join(head)}
<style>{EMULATION_CSS}</style>
</head><body>
<div id="quarto-content" class="page-columns">
<nav id="quarto-sidebar" class="sidebar"><ul>{sidebar}</ul></nav>
<main class="content" id="quarto-document-content">
<header id="title-block-header"><h1 class="title">{title}</h1>
{f'<p class="subtitle lead">{html.escape(str(subtitle))}</p>' if subtitle else ''}
</header>
{body}
</main>
<div id="quarto-margin-sidebar"><nav id="TOC"><h2 id="toc-title">On this page</h2>
<ul>{toc_html}</ul></nav>{_code_tools(site, page)}</div>
</div>
</body></html>
"""
    dest = out_root / page.output
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(document, encoding="utf-8")
    return dest


def build_site(site: rules.Site, out_root: Path,
               notebooks: dict[str, nbformat.NotebookNode] | None = None) -> dict[str, Path]:
    """Every notebook page of ``site`` (plus ``notebooks``: path → executed node) as pages,
    with the shared assets and the published notebooks in place; returns path → HTML file."""
    import nbformat

    from analysis.plots import ensure_plotly_js
    from analysis.tables import ensure_table_assets

    ensure_plotly_js(out_root / "assets")
    ensure_table_assets(out_root / "assets")
    built = {}
    nodes = dict(notebooks or {})
    for path in site.pages:
        if path.endswith(".ipynb") and path not in nodes:
            nodes[path] = nbformat.read(site.root / path, as_version=4)
    for path, node in nodes.items():
        built[path] = render_page(site, site.pages[path], node, out_root)
    notebooks_dir = out_root / rules.NOTEBOOKS_DIR
    notebooks_dir.mkdir(exist_ok=True)
    for source, published in site.published_notebooks().items():
        shutil.copyfile(site.root / source, out_root / published)
    for resource in ("js", "models/export"):
        if (site.root / resource).is_dir() and not (out_root / resource).exists():
            shutil.copytree(site.root / resource, out_root / resource,
                            ignore=shutil.ignore_patterns("node_modules", "test", "bench"))
    return built


# --- serving and visiting ------------------------------------------------------------------------


class _GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files from a folder, text gzipped when the browser accepts it (like GitHub Pages)."""

    _TEXT = {".html", ".js", ".mjs", ".css", ".json", ".svg", ".ipynb", ".txt"}

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def do_GET(self):  # noqa: N802 - the base class's name
        path = Path(self.translate_path(unquote(urlparse(self.path).path)))
        if path.is_dir():
            path = path / "index.html"
        if (path.is_file() and path.suffix in self._TEXT
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
            self.send_response(200)
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith(
                ("text/", "application/javascript", "application/json")) else ""))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


class Server:
    """A throw-away HTTP server on 127.0.0.1 for one folder."""

    def __init__(self, folder: Path):
        handler = functools.partial(_GzipHandler, directory=str(folder))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


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


def visit(context, url: str, **page_options) -> PageVisit:
    """Open ``url`` in a new page of ``context`` (a browser or a browser context; options such
    as ``viewport`` go to its ``new_page``) with only 127.0.0.1 reachable."""
    page = context.new_page(**page_options)
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


#: Bytes of every resource the page loaded, from the Resource Timing API.
_WEIGHT_JS = """(skip) => {
  const entries = [performance.getEntriesByType('navigation')[0],
                   ...performance.getEntriesByType('resource')];
  const out = {transfer: 0, decoded: 0, files: 0, skipped: []};
  for (const e of entries) {
    if (!e) continue;
    if (skip.some((s) => e.name.endsWith(s))) { out.skipped.push(e.name); continue; }
    out.transfer += e.encodedBodySize; out.decoded += e.decodedBodySize; out.files += 1;
  }
  return out;
}"""


def page_weight(page, skip: tuple[str, ...] = ("plotly.min.js",)) -> dict:
    """``{transfer, decoded, files}``: bytes the page loaded, without the files in ``skip``."""
    return page.evaluate(_WEIGHT_JS, list(skip))


#: How far the page scrolls sideways, and the elements that stick out.
OVERFLOW_JS = """() => {
  const root = document.scrollingElement;
  const width = root.clientWidth;
  const culprits = [];
  for (const el of document.querySelectorAll('main *')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0) {
      let inside = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) { inside = true; break; }
      }
      const cls = typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      if (!inside) culprits.push(
        `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${cls} (${Math.round(r.right)} px)`);
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: width, culprits: culprits.slice(0, 8)};
}"""


def sideways_overflow(page) -> dict:
    """``{scrollWidth, clientWidth, culprits}`` of the loaded page."""
    return page.evaluate(OVERFLOW_JS)


OpenPage = Callable[..., PageVisit]


#: Every piece of text a Plotly figure draws that does not fit: outside the figure (an axis
#: title longer than the plot is tall, a subplot title wider than the page), outside the clip
#: rectangle that applies to it (a bar label pushed past the plot area, a heatmap number wider
#: than its cell), or over another title, tick label, legend or menu entry (two panels' axis
#: titles run into each other on a phone). Hover labels are left out (drawn on demand).
CLIPPED_TEXT_JS = """() => {
  const clipRect = (el) => {  // the screen rectangle of the nearest clip-path, or null
    for (let a = el; a && a.tagName && a.tagName.toLowerCase() !== 'svg'; a = a.parentElement) {
      const ref = a.getAttribute('clip-path');
      if (!ref) continue;
      const id = (ref.match(/#([^"')\\s]+)/) || [])[1];
      const clip = id && document.getElementById(id);
      const rect = clip && clip.querySelector('rect');
      if (!rect) return null;
      const m = a.getScreenCTM();
      const x = +rect.getAttribute('x') || 0, y = +rect.getAttribute('y') || 0;
      const w = +rect.getAttribute('width') || 0, h = +rect.getAttribute('height') || 0;
      const p1 = new DOMPoint(x, y).matrixTransform(m);
      const p2 = new DOMPoint(x + w, y + h).matrixTransform(m);
      return {left: Math.min(p1.x, p2.x), right: Math.max(p1.x, p2.x),
              top: Math.min(p1.y, p2.y), bottom: Math.max(p1.y, p2.y), name: 'its clip area'};
    }
    return null;
  };
  const kindOf = (t) => {
    if (t.closest('.g-gtitle')) return 'chart title';
    const title = t.closest('g[class]');
    if (title && /^g-[xy]\\d*title$/.test(title.getAttribute('class'))) return 'axis title';
    if (t.closest('.annotation')) return 'annotation (or subplot title)';
    if (t.closest('.legend')) return 'legend';
    if (t.closest('.updatemenu-container')) return 'menu';
    if (t.closest('.colorbar')) return 'colour bar';
    if (t.closest('[class*="tick"]')) return 'tick label';
    return 'data label';
  };
  // A text's outline on screen: its box's four corners, turned as the text is (rotated tick
  // labels' upright bounding boxes overlap where the glyphs do not).
  const outline = (t) => {
    const b = t.getBBox(), m = t.getScreenCTM();
    return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height],
            [b.x, b.y + b.height]].map(([x, y]) => new DOMPoint(x, y).matrixTransform(m));
  };
  // Whether two convex outlines overlap by more than 2 px (separating axis test).
  const overlap = (p, q) => {
    for (const poly of [p, q]) {
      for (let i = 0; i < poly.length; i++) {
        const a = poly[i], b = poly[(i + 1) % poly.length];
        const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
        const nx = (a.y - b.y) / len, ny = (b.x - a.x) / len;
        const proj = (pts) => pts.map((pt) => pt.x * nx + pt.y * ny);
        const pp = proj(p), qq = proj(q);
        if (Math.min(Math.max(...pp), Math.max(...qq))
            - Math.max(Math.min(...pp), Math.min(...qq)) <= 2) return false;
      }
    }
    return true;
  };
  const out = [];
  for (const div of document.querySelectorAll('.plotly-graph-div')) {
    const container = div.querySelector('.svg-container');
    if (!container) continue;
    const figure = container.getBoundingClientRect();
    const labels = [];  // titles, ticks, legend and menu entries: none may cover another
    for (const t of div.querySelectorAll('svg text')) {
      if (t.closest('.hoverlayer') || !t.textContent.trim()) continue;
      const r = t.getBoundingClientRect();
      const style = getComputedStyle(t);
      if (!r.width || !r.height || style.visibility === 'hidden' || +style.opacity === 0) continue;
      const kind = kindOf(t);
      if (kind !== 'data label') {
        const shape = outline(t);
        for (const [other, otherKind, otherShape] of labels) {
          if (overlap(shape, otherShape)) {
            out.push(`${div.id}: ${kind} "${t.textContent.slice(0, 70)}" overlaps ${otherKind} ` +
                     `"${other.textContent.slice(0, 70)}"`);
          }
        }
        labels.push([t, kind, shape]);
      }
      for (const bound of [{left: figure.left, right: figure.right, top: figure.top,
                            bottom: figure.bottom, name: 'the figure'}, clipRect(t)]) {
        if (!bound) continue;
        const sides = {left: bound.left - r.left, right: r.right - bound.right,
                       top: bound.top - r.top, bottom: r.bottom - bound.bottom};
        const [side, by] = Object.entries(sides).sort((a, b) => b[1] - a[1])[0];
        if (by > 1) {
          out.push(`${div.id}: ${kind} "${t.textContent.slice(0, 70)}" sticks out of ` +
                   `${bound.name} by ${Math.round(by)} px (${side})`);
          break;
        }
      }
    }
  }
  return out;
}"""


def clipped_text(page) -> list[str]:
    """Titles, labels and annotations of the page's Plotly figures that are cut off or run
    into one another."""
    return page.evaluate(CLIPPED_TEXT_JS)
