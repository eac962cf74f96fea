"""The front page (index.qmd) executed and opened in headless Chromium, without Quarto.

Quarto cannot be installed on the developers' machines, and tests/test_browser.py covers the
notebook chapters only. Here index.qmd is turned into a notebook the way Quarto's jupyter
engine reads it (front matter, markdown, Python chunks with their ``#|`` options), executed
with nbclient from the project root, and its ``#| output: asis`` text is passed through as
Markdown, as Quarto does. The page then goes through the same offline browser check as the
chapters (fixtures imported from tests/test_browser.py): no off-site request, no console
error, the headline chart drawn, the findings listed with their links.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from analysis.paths import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.browser]

import test_browser as _chapters_browser  # noqa: E402  (tests/ is on sys.path under pytest)

# The chapters' browser fixtures, shared rather than copied (pytest finds fixtures by name).
open_page = _chapters_browser.open_page
serve = _chapters_browser.serve
site_dir = _chapters_browser.site_dir
notebook_to_html = _chapters_browser.notebook_to_html

PAGE = PROJECT_ROOT / "index.qmd"
_CHUNK = re.compile(r"^```\{python[^}]*\}\s*\n(.*?)^```\s*$", re.S | re.M)
_FRONT = re.compile(r"\A---\s*\n.*?\n---\s*\n", re.S)


def qmd_to_notebook(path: Path) -> nbformat.NotebookNode:
    """Markdown between chunks becomes markdown cells, each Python chunk a code cell."""
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
    """Run the chunks from the project root; apply ``include: false`` and ``output: asis``."""
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(PROJECT_ROOT)}}).execute()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        options = _options(cell.source)
        if options.get("include") == "false":
            cell.outputs = []
        elif options.get("output") == "asis":
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"text/markdown": text, "text/plain": text})]
        cell.source = ""  # echo: false on the front page
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


def test_front_page_renders_offline(front_page, site_dir, serve, open_page):
    page_path = notebook_to_html(front_page, site_dir / "index.html")
    visit = open_page(f"{serve(site_dir)}/{page_path.name}")
    page = visit.page
    page.wait_for_function("() => document.querySelector('#plotly-headline-r2 svg.main-svg')",
                           timeout=30_000)
    findings = page.locator("ol > li")
    assert 5 <= findings.count() <= 7
    for i in range(findings.count()):
        item = findings.nth(i)
        assert re.search(r"\d", item.inner_text())
        assert item.locator('a[href^="chapters/"]').count() >= 1
    assert page.locator(".plotly-graph-div").count() == 1
    page.wait_for_timeout(300)
    visit.assert_clean()
