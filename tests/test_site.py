"""The Quarto site: its configuration checked here, its render checked where Quarto exists."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from analysis.paths import PROJECT_ROOT

CONFIG = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text())
RENDER = CONFIG["project"]["render"]
CHAPTERS = sorted(p.relative_to(PROJECT_ROOT).as_posix()
                  for p in (PROJECT_ROOT / "chapters").glob("[0-9][0-9]-*.*")
                  if p.suffix in {".ipynb", ".qmd"})


def _sidebar_entries(items) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif "href" in item:
            out.append(item["href"])
        elif "contents" in item:
            out.extend(_sidebar_entries(item["contents"]))
    return out


def test_every_chapter_is_rendered_and_in_the_sidebar():
    sidebar = _sidebar_entries(CONFIG["website"]["sidebar"]["contents"])
    assert CHAPTERS, "no chapters found"
    assert sorted(set(RENDER) - {"index.qmd"}) == CHAPTERS
    assert sorted(set(sidebar) - {"index.qmd"}) == CHAPTERS
    assert all((PROJECT_ROOT / page).is_file() for page in RENDER)


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c.endswith(".ipynb")])
def test_notebook_chapters_open_with_yaml_front_matter(chapter):
    notebook = nbformat.read(PROJECT_ROOT / chapter, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "raw"
    front = yaml.safe_load(first.source.strip().strip("-"))
    assert front.get("title")


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c.endswith(".ipynb")])
def test_notebook_chapters_are_executed_and_light(chapter):
    """Quarto renders stored outputs: a chapter committed unexecuted would render empty."""
    path = PROJECT_ROOT / chapter
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "run `make chapters`"
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
    assert path.stat().st_size < 2_000_000, "aggregate before plotting: notebook over 2 MB"


def test_resources_are_the_shared_offline_assets():
    from analysis.plots import PLOTLY_JS_SRC
    from analysis.tables import TABLES_JS_URL

    resources = set(CONFIG["project"]["resources"])
    for url in (PLOTLY_JS_SRC, TABLES_JS_URL):
        assert url.removeprefix("../") in resources


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("quarto") is None,
                    reason="quarto is not on PATH (it cannot be installed on this machine); "
                           "the site is rendered and checked where Quarto exists")
def test_quarto_render_produces_every_page(tmp_path):
    subprocess.run([shutil.which("python3") or "python3", "-m", "analysis.cli", "site-assets"],
                   cwd=PROJECT_ROOT, check=True)
    out = tmp_path / "site"
    subprocess.run(["quarto", "render", "--output-dir", str(out)], cwd=PROJECT_ROOT, check=True)
    for page in RENDER:
        html = out / Path(page).with_suffix(".html")
        assert html.is_file(), f"{page} did not render"
        assert html.stat().st_size > 1000
    assert (out / "assets" / "plotly.min.js").is_file()
