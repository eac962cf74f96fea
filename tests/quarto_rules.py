"""Quarto's rules, checked without Quarto.

Quarto cannot be installed on this project's machines (``../shared/QUARTO-FACTS.md``), so
what would stop ``quarto render`` or spoil a page is checked here, on the sources, the way
Quarto reads them. This module is a helper, not a test module: ``tests/test_quarto_rules.py``
runs every rule on the real site and on the fixtures under ``tests/fixtures/quarto/`` (each
of which breaks exactly one rule), and the browser harness (``tests/site_harness.py``) uses
the same page model to emulate a rendered page.

How Quarto reads a page (quarto-cli ``src/core/yaml.ts``, ``partition-cell-options.ts``,
``src/core/jupyter/tags.ts``; quarto-web ``docs/computations/execution-options.qmd``):

* Front matter, and every other ``---`` YAML block in a notebook's markdown and raw cells,
  is parsed with js-yaml (JSON schema); any error stops the render. PyYAML's ``safe_load``
  rejects the same malformed text (``a: b: c``), so it stands in for js-yaml here.
* Cell options are the lines at the very top of a cell that match ``^#\\s*\\| ?`` (``//``
  instead of ``#`` for OJS), joined and parsed as one YAML mapping. A ``#|`` line after the
  first non-option line is ordinary code: the option is silently lost.
* ``echo`` resolves cell option > page front matter ``execute`` > ``_metadata.yml`` >
  ``_quarto.yml`` ``execute`` > true, whether or not the notebook is executed (the jupyter
  engine converts stored outputs with the same execute options).

Each ``rule_*`` function takes a :class:`Site` and returns a list of problems (strings naming
page and place); an empty list means the rule holds.
"""

from __future__ import annotations

import html.parser
import json
import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

import yaml

#: Where the site's notebooks are published for analysts (``tools/publish_notebooks.py``,
#: Quarto's post-render step): ``_site/notebooks/<slug>.ipynb``, the chapter number dropped.
NOTEBOOKS_DIR = "notebooks"

#: Mime types Quarto turns into CDN scripts or does not draw (QUARTO-FACTS: any text/html
#: output makes Quarto add require.js and jQuery from cdnjs to the page head).
FORBIDDEN_MIME = {
    "text/html": "Quarto adds require.js and jQuery from a CDN for it",
    "application/javascript": "Quarto adds require.js and jQuery from a CDN for it",
    "application/vnd.jupyter.widget-view+json": "a Jupyter widget: Quarto loads its "
                                                "runtime from a CDN",
    "application/vnd.plotly.v1+json": "Quarto does not draw Plotly's mime type",
}

#: Cross-reference kinds Quarto knows, by label prefix.
XREF_PREFIXES = ("fig-", "tbl-", "sec-", "eq-", "lst-")

#: Cell options whose presence makes a cell a captioned cross-reference of that kind.
CAPTION_PREFIX = {"fig-cap": "fig-", "tbl-cap": "tbl-"}

#: Cell tags Quarto maps to options (quarto-cli ``jupyter.ts`` tagMapping).
TAG_OPTIONS = {
    "hide-cell": {"include": False}, "remove-cell": {"include": False},
    "hide-code": {"echo": False}, "show-code": {"echo": True},
    "hide-output": {"output": False}, "show-output": {"output": True},
}

_OPTION_LINE = {"python": re.compile(r"^#\s*\| ?"), "ojs": re.compile(r"^//\s*\| ?")}
_YAML_BLOCK = re.compile(
    r"(^)(---[ \t]*[\r\n]+(?![ \t]*[\r\n]+)[\W\w]*?[\r\n]+(?:---|\.\.\.))([ \t]*)$", re.M)
_HTML_COMMENT = re.compile(r"<!--[\W\w]*?-->")
_FENCED_CODE_YAML = re.compile(r"^([\t >]*`{3,})[^`\n]*\n[\W\w]*?\n\1\s*$", re.M)
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
_RAW_HTML_BLOCK = re.compile(r"^(`{3,})\{=html\}\n(.*)\n\1\s*$", re.S)
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_ATTRS = re.compile(r"\s*\{([^{}]*)\}\s*$")
_ID_ATTR = re.compile(r"(?:^|\s)#([\w:.-]+)")
_DIV_OPEN = re.compile(r"^ {0,3}:{3,}\s*\{([^}]*)\}\s*$|^ {0,3}:{3,}\s*([\w-]+)\s*$")
_REF = re.compile(r"(?<![\w@.\\])@((?:fig|tbl|sec|eq|lst)-[\w-]*\w)")
_MD_LINK = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)[^$\n]+?(?<=\S)\$(?![\d$])|\$\$")
_QMD_CHUNK = re.compile(r"^```+\s*\{(\w+)([^}]*)\}\s*$")


# --- reading pages the way Quarto does ----------------------------------------------------------


def load_yaml(text: str, where: str) -> tuple[object, str | None]:
    """Parse ``text`` as YAML; return ``(value, None)`` or ``(None, error message)``."""
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return None, f"{where}: invalid YAML (Quarto stops the render): {detail}"


def yaml_blocks_in_markdown(markdown: str) -> Iterator[str]:
    """Every YAML block Quarto reads from a page's markdown (quarto-cli readYamlFromMarkdown)."""
    markdown = _HTML_COMMENT.sub("", markdown)
    markdown = _FENCED_CODE_YAML.sub("", markdown)
    for match in _YAML_BLOCK.finditer(markdown):
        block = re.sub(r"^---", "", match.group(2))
        block = re.sub(r"---\s*$", "", block)
        if re.match(r"^(?:\r?\n|\r)(?:\r?\n|\r)", block) or re.match(r"^(?:\r?\n|\r)---", block):
            continue
        if block.strip():
            yield block


def partition_options(source: str, language: str) -> tuple[list[str], list[str]]:
    """Split a cell into its option lines (prefix removed) and the rest, as Quarto does."""
    pattern = _OPTION_LINE.get(language, _OPTION_LINE["python"])
    lines = source.splitlines()
    options = []
    for line in lines:
        match = pattern.match(line)
        if not match:
            break
        options.append(line[match.end():])
    return options, lines[len(options):]


@dataclass
class Cell:
    """One cell of a page: markdown, raw or code (``language`` python or ojs)."""

    kind: str
    source: str
    index: int
    language: str | None = None
    options: dict = field(default_factory=dict)
    option_error: str | None = None
    stray_options: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"cell {self.index}"

    def merged_options(self) -> dict:
        """Options from tags, overridden by the ``#|`` options (Quarto's precedence)."""
        merged: dict = {}
        for tag in self.tags:
            merged.update(TAG_OPTIONS.get(tag, {}))
        merged.update(self.options)
        return merged


def _code_cell(source: str, index: int, language: str, **extra) -> Cell:
    option_lines, rest = partition_options(source, language)
    cell = Cell("code", source, index, language=language, **extra)
    if option_lines:
        value, error = load_yaml("\n".join(option_lines), f"cell {index} options")
        if error:
            cell.option_error = error
        elif value is not None and not isinstance(value, dict):
            cell.option_error = f"cell {index} options: not a YAML mapping ({value!r})"
        else:
            cell.options = value or {}
    pattern = _OPTION_LINE.get(language, _OPTION_LINE["python"])
    cell.stray_options = [line for line in rest if pattern.match(line.strip())]
    return cell


@dataclass
class Page:
    """A page of the site as Quarto reads it."""

    path: str
    front: dict
    cells: list[Cell]
    yaml_errors: list[str] = field(default_factory=list)

    @property
    def is_notebook(self) -> bool:
        return self.path.endswith(".ipynb")

    @property
    def output(self) -> str:
        """The rendered page's path in the site (``chapters/01-data.html``)."""
        return str(Path(self.path).with_suffix(".html").as_posix())

    def markdown_texts(self) -> Iterator[tuple[str, str]]:
        """``(where, markdown)`` for every markdown cell and every markdown output."""
        for cell in self.cells:
            if cell.kind == "markdown":
                yield cell.where, cell.source
            for output in cell.outputs if include_output(cell) else []:
                text = output.get("data", {}).get("text/markdown")
                if text is not None and not _RAW_HTML_BLOCK.match(text):
                    yield f"{cell.where} output", text

    def raw_html(self) -> Iterator[tuple[str, str]]:
        """``(where, html)`` for every raw HTML block an output passes into the page."""
        for cell in self.cells:
            for output in cell.outputs if include_output(cell) else []:
                text = output.get("data", {}).get("text/markdown") or ""
                match = _RAW_HTML_BLOCK.match(text)
                if match:
                    yield f"{cell.where} output", match.group(2)

    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "code"]


def load_page(root: Path, path: str) -> Page:
    """Read ``root/path`` (``.ipynb`` or ``.qmd``) into a :class:`Page`."""
    file = root / path
    if path.endswith(".ipynb"):
        return _load_notebook(file, path)
    return _load_qmd(file, path)


def _load_notebook(file: Path, path: str) -> Page:
    return page_from_notebook(json.loads(file.read_text(encoding="utf-8")), path)


def page_from_notebook(doc: dict, path: str) -> Page:
    """A :class:`Page` from a notebook's JSON (or an ``nbformat`` node) found at ``path``."""
    cells = []
    for i, raw in enumerate(doc.get("cells", [])):
        source = raw.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        tags = list(raw.get("metadata", {}).get("tags", []))
        if raw.get("cell_type") == "code":
            outputs = []
            for output in raw.get("outputs", []):
                output = dict(output)
                output["data"] = {k: "".join(v) if isinstance(v, list) else v
                                  for k, v in output.get("data", {}).items()}
                outputs.append(output)
            cells.append(_code_cell(source, i, "python", outputs=outputs, tags=tags))
        else:
            cells.append(Cell(raw.get("cell_type", "markdown"), source, i, tags=tags))
    # Quarto's jupyter engine reads YAML from every markdown and raw cell, joined.
    text = "".join("\n" + c.source for c in cells if c.kind in ("markdown", "raw"))
    front, errors = _front_matter(text, path)
    return Page(path, front, cells, errors)


def _front_matter(markdown: str, path: str) -> tuple[dict, list[str]]:
    front: dict = {}
    errors = []
    for block in yaml_blocks_in_markdown(markdown):
        value, error = load_yaml(block, f"{path}: front matter")
        if error:
            errors.append(error)
        elif isinstance(value, dict):
            front.update(value)
        elif value is not None:
            errors.append(f"{path}: front matter is not a YAML mapping")
    return front, errors


def _load_qmd(file: Path, path: str) -> Page:
    text = file.read_text(encoding="utf-8")
    front, errors = _front_matter(text, path)
    body = text
    head = re.match(r"\A\s*---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*\n", text, re.S)
    if head:
        body = text[head.end():]
    cells: list[Cell] = []
    lines = body.splitlines()
    markdown: list[str] = []
    i = 0
    while i < len(lines):
        chunk = _QMD_CHUNK.match(lines[i])
        if chunk:
            if markdown:
                cells.append(Cell("markdown", "\n".join(markdown), len(cells)))
                markdown = []
            ticks = re.match(r"^`+", lines[i]).group(0)
            end = i + 1
            while end < len(lines) and lines[end].strip() != ticks:
                end += 1
            language = chunk.group(1).lower()
            cells.append(_code_cell("\n".join(lines[i + 1:end]), len(cells), language))
            i = end + 1
            continue
        markdown.append(lines[i])
        i += 1
    if markdown:
        cells.append(Cell("markdown", "\n".join(markdown), len(cells)))
    return Page(path, front, cells, errors)


# --- the site -----------------------------------------------------------------------------------


@dataclass
class Site:
    """A Quarto website project: its configuration and the pages it renders."""

    root: Path
    config: dict
    pages: dict[str, Page]
    config_error: str | None = None

    @classmethod
    def load(cls, root: Path) -> Site:
        config, error = load_yaml((root / "_quarto.yml").read_text(encoding="utf-8"),
                                  "_quarto.yml")
        config = config if isinstance(config, dict) else {}
        pages = {}
        for path in config.get("project", {}).get("render", []):
            if (root / path).is_file():
                pages[path] = load_page(root, path)
        return cls(root, config, pages, error)

    @property
    def render(self) -> list[str]:
        return list(self.config.get("project", {}).get("render", []))

    @property
    def resources(self) -> list[str]:
        return list(self.config.get("project", {}).get("resources", []))

    def execute_default(self, page: Page, key: str, default: object) -> object:
        """A page-level ``execute`` option: page front matter > ``_metadata.yml`` > project."""
        for source in (page.front, self._directory_metadata(page), self.config):
            execute = source.get("execute")
            if isinstance(execute, dict) and key in execute:
                return execute[key]
        return default

    def format_option(self, page: Page, key: str, default: object = None) -> object:
        """An HTML format option (``toc``, ``code-fold``…) as the page resolves it."""
        for source in (page.front, self._directory_metadata(page), self.config):
            html = (source.get("format") or {}).get("html") if isinstance(
                source.get("format"), dict) else None
            if isinstance(html, dict) and key in html:
                return html[key]
            if key in source:
                return source[key]
        return default

    def _directory_metadata(self, page: Page) -> dict:
        meta = self.root / Path(page.path).parent / "_metadata.yml"
        if meta.is_file():
            value, _ = load_yaml(meta.read_text(encoding="utf-8"), str(meta))
            return value if isinstance(value, dict) else {}
        return {}

    def chapters_on_disk(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix()
                      for p in (self.root / "chapters").glob("[0-9][0-9]-*.*")
                      if p.suffix in {".ipynb", ".qmd"})

    def published_notebooks(self) -> dict[str, str]:
        """Site path of each notebook's published copy (``notebooks/data.ipynb``)."""
        return {path: f"{NOTEBOOKS_DIR}/{re.sub(r'^[0-9]+-', '', Path(path).name)}"
                for path in self.pages if path.endswith(".ipynb")}


# --- what a cell shows ---------------------------------------------------------------------------


def include_output(cell: Cell) -> bool:
    options = cell.merged_options()
    return options.get("include", True) is not False and options.get("output", True) is not False


def shows_code(site: Site, page: Page, cell: Cell) -> bool:
    """Whether Quarto puts this code cell's source on the page (quarto-cli ``tags.ts``)."""
    options = cell.merged_options()
    if options.get("include", True) is False:
        return False
    if "echo" in options:
        return options["echo"] is not False
    return site.execute_default(page, "echo", True) is not False


# --- markdown helpers ----------------------------------------------------------------------------


def prose_lines(markdown: str) -> Iterator[str]:
    """Lines of markdown outside fenced code, with inline code removed."""
    fence = None
    for line in markdown.splitlines():
        match = _FENCE.match(line)
        if fence:
            if match and match.group(2)[0] == fence[0] and len(match.group(2)) >= len(fence) \
                    and not match.group(3).strip():
                fence = None
            continue
        if match:
            fence = match.group(2)
            continue
        yield _INLINE_CODE.sub("", line)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    id: str | None


def headings(markdown: str) -> list[Heading]:
    """ATX and setext headings of a markdown text (outside code)."""
    found = []
    previous = ""
    for line in prose_lines(markdown):
        atx = _ATX.match(line)
        if atx:
            text = atx.group(2) or ""
            attrs = _ATTRS.search(text)
            ident = None
            if attrs:
                text = text[:attrs.start()]
                id_match = _ID_ATTR.search(attrs.group(1))
                ident = id_match.group(1) if id_match else None
            found.append(Heading(len(atx.group(1)), text.strip(), ident))
        elif previous.strip() and re.fullmatch(r" {0,3}=+\s*", line):
            found.append(Heading(1, previous.strip(), None))
        elif previous.strip() and re.fullmatch(r" {0,3}-{2,}\s*", line) \
                and not previous.lstrip().startswith(("-", "*", "|")):
            found.append(Heading(2, previous.strip(), None))
        previous = line
    return found


def auto_identifier(text: str) -> str:
    """Pandoc's ``auto_identifiers`` for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`]", "", text)
    text = "".join(ch for ch in text.lower()
                   if ch.isalnum() or ch in "_-. " or unicodedata.category(ch) == "Zs")
    text = re.sub(r"\s+", "-", text.strip())
    text = re.sub(r"^[^a-z]+", "", text)
    return text or "section"


def div_ids(markdown: str) -> list[str]:
    """Ids given to fenced divs (``::: {#fig-x}``)."""
    ids = []
    for line in prose_lines(markdown):
        match = _DIV_OPEN.match(line)
        if match and match.group(1):
            id_match = _ID_ATTR.search(match.group(1))
            if id_match:
                ids.append(id_match.group(1))
    return ids


class _HtmlScan(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.links: list[str] = []
        self.h1 = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])
        if tag == "h1":
            self.h1 += 1


def scan_html(markup: str) -> _HtmlScan:
    scan = _HtmlScan()
    # Script bodies may hold markup-like strings (JSON data); the parser leaves them alone.
    scan.feed(markup)
    scan.close()
    return scan


def page_anchors(page: Page) -> dict[str, str]:
    """Every id a rendered page will have, mapped to where it comes from."""
    anchors: dict[str, str] = {}
    for where, text in page.markdown_texts():
        for heading in headings(text):
            anchors.setdefault(heading.id or auto_identifier(heading.text), where)
        for ident in div_ids(text):
            anchors.setdefault(ident, where)
    for cell in page.code_cells():
        label = cell.options.get("label")
        if isinstance(label, str):
            anchors.setdefault(label, cell.where)
    for where, markup in page.raw_html():
        for ident in scan_html(markup).ids:
            anchors.setdefault(ident, where)
    return anchors


def links(page: Page) -> Iterator[tuple[str, str]]:
    """``(where, target)`` of every markdown link, image and raw-HTML href/src on a page."""
    for where, text in page.markdown_texts():
        for line in prose_lines(text):
            for match in _MD_LINK.finditer(line):
                yield where, match.group(3)
    for where, markup in page.raw_html():
        for target in scan_html(markup).links:
            yield where, target
    for item in code_links(page):
        if isinstance(item, dict) and item.get("href"):
            yield "front matter code-links", str(item["href"])


def code_links(page: Page) -> list:
    """The page's ``code-links`` (top level or under ``format: html:``)."""
    fmt = page.front.get("format")
    html_fmt = fmt.get("html") if isinstance(fmt, dict) else None
    value = (html_fmt or {}).get("code-links") if isinstance(html_fmt, dict) else None
    value = value if value is not None else page.front.get("code-links")
    return value if isinstance(value, list) else []


# --- the rules -----------------------------------------------------------------------------------


def rule_yaml_parses(site: Site) -> list[str]:
    """_quarto.yml, every front matter and every cell-option block parse as YAML mappings."""
    problems = [site.config_error] if site.config_error else []
    for page in site.pages.values():
        problems += page.yaml_errors
        for cell in page.code_cells():
            if cell.option_error:
                problems.append(f"{page.path}: {cell.option_error}")
    return problems


def rule_cell_options_on_top(site: Site) -> list[str]:
    """``#|`` lines below the first line of code are not options: Quarto ignores them."""
    return [f"{page.path}: {cell.where}: option line after code is ignored by Quarto: "
            f"{cell.stray_options[0].strip()!r}"
            for page in site.pages.values() for cell in page.code_cells() if cell.stray_options]


def rule_front_matter_title(site: Site) -> list[str]:
    """Every page has a ``title`` in its front matter (a notebook: in its first, raw cell)."""
    problems = []
    for page in site.pages.values():
        title = page.front.get("title")
        if not isinstance(title, str) or not title.strip():
            problems.append(f"{page.path}: no title in the front matter (the page's only H1)")
        if page.is_notebook and (not page.cells or page.cells[0].kind != "raw"
                                 or not page.cells[0].source.lstrip().startswith("---")):
            problems.append(f"{page.path}: the first cell is not a raw YAML front-matter cell")
    return problems


def rule_one_h1(site: Site) -> list[str]:
    """The title is the page's only H1: no level-1 heading in markdown or outputs."""
    problems = []
    for page in site.pages.values():
        for where, text in page.markdown_texts():
            for heading in headings(text):
                if heading.level == 1:
                    problems.append(f"{page.path}: {where}: a second H1 '{heading.text}' "
                                    "(the title is the H1; use ##)")
        for where, markup in page.raw_html():
            if scan_html(markup).h1:
                problems.append(f"{page.path}: {where}: an <h1> in an output")
    return problems


def rule_label_prefixes(site: Site) -> list[str]:
    """Captioned cells and section ids carry Quarto's cross-reference prefixes."""
    problems = []
    for page in site.pages.values():
        for cell in page.code_cells():
            label = cell.options.get("label")
            for option, prefix in CAPTION_PREFIX.items():
                if option in cell.options and not (isinstance(label, str)
                                                   and label.startswith(prefix)):
                    problems.append(f"{page.path}: {cell.where}: has {option} but its label "
                                    f"{label!r} does not start with {prefix!r} (no number, no "
                                    "cross-reference)")
            if isinstance(label, str) and not re.fullmatch(r"[A-Za-z][\w-]*", label):
                problems.append(f"{page.path}: {cell.where}: label {label!r} is not a valid id")
        for where, text in page.markdown_texts():
            for heading in headings(text):
                if heading.id and not heading.id.startswith("sec-"):
                    problems.append(f"{page.path}: {where}: heading id '#{heading.id}' lacks "
                                    "the 'sec-' prefix")
            for ident in div_ids(text):
                if not ident.startswith(XREF_PREFIXES):
                    problems.append(f"{page.path}: {where}: div id '#{ident}' lacks a "
                                    "cross-reference prefix")
    return problems


def rule_unique_ids(site: Site) -> list[str]:
    """Labels, explicit section ids and output element ids are unique on each page."""
    problems = []
    for page in site.pages.values():
        seen: dict[str, str] = {}

        def add(ident: str, where: str, page=page, seen=seen) -> None:
            if ident in seen:
                problems.append(f"{page.path}: id '{ident}' at {where} duplicates {seen[ident]}")
            else:
                seen[ident] = where

        for where, text in page.markdown_texts():
            for heading in headings(text):
                if heading.id:
                    add(heading.id, where)
            for ident in div_ids(text):
                add(ident, where)
        for cell in page.code_cells():
            if isinstance(cell.options.get("label"), str):
                add(cell.options["label"], cell.where)
        for where, markup in page.raw_html():
            for ident in scan_html(markup).ids:
                add(ident, where)
    return problems


def rule_refs_resolve(site: Site) -> list[str]:
    """Every ``@fig-``/``@tbl-``/``@sec-`` reference names a label on the same page."""
    problems = []
    for page in site.pages.values():
        targets = set()
        for cell in page.code_cells():
            if isinstance(cell.options.get("label"), str):
                targets.add(cell.options["label"])
        for _, text in page.markdown_texts():
            targets.update(h.id for h in headings(text) if h.id)
            targets.update(div_ids(text))
        texts = list(page.markdown_texts())
        for cell in page.code_cells():
            for option in ("fig-cap", "tbl-cap"):
                if isinstance(cell.options.get(option), str):
                    texts.append((f"{cell.where} {option}", cell.options[option]))
        for where, text in texts:
            for line in prose_lines(text):
                for ref in _REF.findall(line):
                    if ref not in targets:
                        problems.append(f"{page.path}: {where}: @{ref} does not resolve on this "
                                        "page (cross-page @refs are a book feature)")
    return problems


def _is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)) or target.startswith("//")


def rule_links_resolve(site: Site) -> list[str]:
    """Every relative link, image or script path resolves in the rendered site."""
    problems = []
    outputs = {page.output: page for page in site.pages.values()}
    published = set(site.published_notebooks().values())
    anchors = {path: page_anchors(page) for path, page in site.pages.items()}
    for page in site.pages.values():
        base = posixpath.dirname(page.path)
        for where, target in links(page):
            if _is_external(target):
                continue
            path, _, anchor = target.partition("#")
            path = path.split("?", 1)[0]
            resolved = posixpath.normpath(posixpath.join(base, path)) if path else page.path
            if resolved.startswith("../"):
                problems.append(f"{page.path}: {where}: '{target}' leaves the site")
                continue
            if resolved in site.pages or resolved in outputs:
                target_page = site.pages.get(resolved) or outputs[resolved]
                if anchor and anchor not in anchors[target_page.path]:
                    problems.append(f"{page.path}: {where}: '{target}': no section or element "
                                    f"with id '{anchor}' on {target_page.path}")
                continue
            if resolved.endswith((".ipynb", ".qmd")) and resolved not in published:
                problems.append(f"{page.path}: {where}: '{target}' is not a page of the site "
                                "(not in _quarto.yml's render list)")
                continue
            if resolved in published or any(fnmatch(resolved, glob) for glob in site.resources):
                continue
            if not (site.root / resolved).exists():
                problems.append(f"{page.path}: {where}: '{target}' does not exist")
    return problems


def _sidebar_entries(items: Iterable) -> list[str]:
    out = []
    for item in items or []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            if "href" in item:
                out.append(item["href"])
            if "contents" in item:
                out.extend(_sidebar_entries(item["contents"]))
    return out


def rule_project_lists_chapters(site: Site) -> list[str]:
    """``_quarto.yml``'s render list and sidebar are exactly index.qmd plus the chapters."""
    problems = []
    expected = ["index.qmd", *site.chapters_on_disk()]
    if sorted(site.render) != sorted(expected):
        problems.append(f"_quarto.yml render list {sorted(site.render)} != pages on disk "
                        f"{sorted(expected)}")
    sidebar = _sidebar_entries(site.config.get("website", {}).get("sidebar", {}).get("contents"))
    if sorted(sidebar) != sorted(expected):
        problems.append(f"_quarto.yml sidebar {sorted(sidebar)} != pages on disk "
                        f"{sorted(expected)}")
    for path in site.render:
        if not (site.root / path).is_file():
            problems.append(f"_quarto.yml renders {path}, which does not exist")
    return problems


def rule_no_cdn_outputs(site: Site) -> list[str]:
    """No output that makes Quarto fetch from a CDN (text/html, widgets, Plotly's mime)."""
    problems = []
    for page in site.pages.values():
        for cell in page.code_cells():
            for output in cell.outputs:
                for mime in output.get("data", {}):
                    if mime in FORBIDDEN_MIME:
                        problems.append(f"{page.path}: {cell.where}: a {mime} output "
                                        f"({FORBIDDEN_MIME[mime]}); emit a raw HTML block "
                                        "through analysis.embed instead")
                if output.get("output_type") == "error":
                    problems.append(f"{page.path}: {cell.where}: an error output")
    return problems


def rule_no_math_cdn(site: Site) -> list[str]:
    """No TeX math in prose: Quarto would load MathJax from a CDN for it."""
    if site.config.get("format", {}).get("html", {}).get("html-math-method") == "plain":
        return []
    problems = []
    for page in site.pages.values():
        for where, text in page.markdown_texts():
            for line in prose_lines(text):
                if _MATH.search(line.replace("\\$", "")):
                    problems.append(f"{page.path}: {where}: TeX math ({line.strip()[:60]!r}): "
                                    "MathJax would load from a CDN; write it as text or "
                                    "escape the dollar signs")
    return problems


def rule_no_code_in_prose(site: Site) -> list[str]:
    """No code cell shows its source on a page: no code toggles between paragraphs."""
    problems = []
    for page in site.pages.values():
        for cell in page.code_cells():
            if shows_code(site, page, cell):
                problems.append(f"{page.path}: {cell.where}: the page shows this cell's code "
                                "(set echo: false: analysts read the code in one place)")
    return problems


def rule_code_in_one_place(site: Site) -> list[str]:
    """Each page with code names one place where analysts read all of it.

    A notebook page lists its published notebook (``../notebooks/<slug>.ipynb``, copied by the
    post-render step) under ``code-links``; Quarto cannot embed an ``.ipynb`` as source, so
    ``code-tools`` would offer nothing there. A ``.qmd`` page uses ``code-tools`` (one "Code"
    button showing the page's source).
    """
    problems = []
    published = site.published_notebooks()
    post_render = site.config.get("project", {}).get("post-render") or []
    post_render = [post_render] if isinstance(post_render, str) else list(post_render)
    for page in site.pages.values():
        if not page.code_cells():
            continue
        if page.is_notebook:
            want = posixpath.relpath(published[page.path], posixpath.dirname(page.path) or ".")
            hrefs = [str(i.get("href")) for i in code_links(page) if isinstance(i, dict)]
            if want not in hrefs:
                problems.append(f"{page.path}: code-links does not list {want} (the notebook "
                                "with every cell's code)")
            if not any("publish_notebooks" in str(step) for step in post_render):
                problems.append(f"{page.path}: no post-render step publishes the notebooks")
        else:
            tools = site.format_option(page, "code-tools", False)
            source = tools if isinstance(tools, bool) else (tools or {}).get("source", False)
            if not source:
                problems.append(f"{page.path}: code-tools with source is not enabled")
    return problems


#: Every rule, by name (the fixtures' folder names).
RULES: dict[str, Callable[[Site], list[str]]] = {
    "yaml-parses": rule_yaml_parses,
    "cell-options-on-top": rule_cell_options_on_top,
    "front-matter-title": rule_front_matter_title,
    "one-h1": rule_one_h1,
    "label-prefixes": rule_label_prefixes,
    "unique-ids": rule_unique_ids,
    "refs-resolve": rule_refs_resolve,
    "links-resolve": rule_links_resolve,
    "project-lists-chapters": rule_project_lists_chapters,
    "no-cdn-outputs": rule_no_cdn_outputs,
    "no-math-cdn": rule_no_math_cdn,
    "no-code-in-prose": rule_no_code_in_prose,
    "code-in-one-place": rule_code_in_one_place,
}


def check(site: Site) -> dict[str, list[str]]:
    """Run every rule; ``{rule: problems}`` for the rules that do not hold."""
    return {name: problems for name, rule in RULES.items() if (problems := rule(site))}
