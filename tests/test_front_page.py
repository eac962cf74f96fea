"""The front page (index.qmd) executed and opened in headless Chromium, without Quarto.

Quarto cannot be installed on the developers' machines. Here index.qmd is turned into a
notebook the way Quarto's jupyter engine reads it (front matter, markdown, Python chunks with
their ``#|`` options), executed with nbclient from the project root, its ``#| output: asis``
text passed through as Markdown, as Quarto does, and built into a Quarto-like page by
``tests/site_harness.py`` (which applies ``include: false`` and ``echo: false``). The page then
goes through the same offline browser checks as the chapters (fixtures from conftest.py): no
off-site request, no console error, no code, no sideways scrolling on a phone, the headline
chart drawn, the findings listed with their links.
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


def _front_page_url(front_page, site_model, harness_site, serve) -> str:
    from quarto_rules import page_from_notebook
    from site_harness import render_page

    root, _ = harness_site
    page = page_from_notebook(front_page, "index.qmd")
    render_page(site_model, page, front_page, root)
    return f"{serve(root)}/index.html"


def test_front_page_renders_offline(front_page, site_model, harness_site, serve, open_page):
    from site_harness import page_weight

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
    weight = page_weight(page)
    print(f"index.qmd: {weight['transfer']:,} bytes transferred ({weight['decoded']:,} decoded)")
    assert weight["transfer"] <= 1_000_000
    page.wait_for_timeout(300)
    visit.assert_clean()


def test_front_page_fits_a_phone(front_page, site_model, harness_site, serve, open_page):
    from site_harness import sideways_overflow

    visit = open_page(_front_page_url(front_page, site_model, harness_site, serve), width=390)
    visit.page.wait_for_function(
        "() => document.querySelector('#plotly-headline-r2 svg.main-svg')", timeout=30_000)
    overflow = sideways_overflow(visit.page)
    print(f"index.qmd at 390 px: scrollWidth {overflow['scrollWidth']}")
    assert overflow["scrollWidth"] <= overflow["clientWidth"], overflow["culprits"]
    visit.assert_clean()
