"""The Quarto site: its configuration, build commands, CI and publishing checked here; the
rendered site checked in the browser where Quarto exists.

Quarto's own rules (YAML, labels, references, links, H1s, outputs, code on the pages) are in
``tests/test_quarto_rules.py``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from _notebooks import read_cells

from analysis.paths import PROJECT_ROOT

CONFIG = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text())
RENDER = CONFIG["project"]["render"]
CHAPTERS = sorted(p.relative_to(PROJECT_ROOT).as_posix()
                  for p in (PROJECT_ROOT / "chapters").glob("[0-9][0-9]-*.*")
                  if p.suffix in {".ipynb", ".qmd"})
README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "publish.yml"


def make_rules() -> dict[str, list[str]]:
    """``{target: prerequisites}`` of the Makefile's rules."""
    rules = {}
    for match in re.finditer(r"^([\w-]+):(?!=)([^\n]*)$", MAKEFILE, re.M):
        rules[match.group(1)] = match.group(2).split()
    return rules


def expand(target: str, rules: dict[str, list[str]]) -> list[str]:
    """Every target ``target`` runs, depth first, prerequisites before the target."""
    out: list[str] = []
    for prerequisite in rules.get(target, []):
        for name in expand(prerequisite, rules):
            if name not in out:
                out.append(name)
    return [*out, target] if target not in out else out


def readme_commands() -> list[str]:
    """The commands in README's "Two commands" block, comments stripped."""
    block = re.search(r"## Two commands\s+```bash\n(.*?)```", README, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c.endswith(".ipynb")])
def test_notebook_chapters_are_executed_and_light(chapter):
    """Quarto renders stored outputs: a chapter committed unexecuted would render empty."""
    path = PROJECT_ROOT / chapter
    code = [c for c in read_cells(path) if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code), "run `make chapters`"
    assert not any(o.get("output_type") == "error" for c in code for o in c["outputs"])
    assert path.stat().st_size < 2_000_000, "aggregate before plotting: notebook over 2 MB"


def test_resources_are_the_shared_offline_assets():
    from analysis.plots import PLOTLY_JS_SRC
    from analysis.tables import TABLES_JS_URL

    resources = set(CONFIG["project"]["resources"])
    for url in (PLOTLY_JS_SRC, TABLES_JS_URL):
        assert url.removeprefix("../") in resources
    for module in ("js/page.js", "js/predictor.js", "js/inputs.bundle.js", "js/predictor.css"):
        assert module in resources


def test_no_web_fonts_and_a_site_stylesheet():
    html = CONFIG["format"]["html"]
    assert html["theme"] == "default", "Bootswatch themes such as cosmo load Google Fonts"
    assert (PROJECT_ROOT / html["css"]).is_file()


# --- the two README commands --------------------------------------------------------------------


def test_readme_gives_two_commands_build_then_test():
    assert readme_commands() == ["make all", "make test"]


def test_first_command_builds_the_report_without_training():
    rules = make_rules()
    assert rules["all"] == ["install", "data", "chapters", "site"]
    steps = expand("all", rules)
    assert not {"models", "explain", "export", "rebuild"} & set(steps), steps
    assert steps.index("data") < steps.index("chapters") < steps.index("site")


def test_retraining_is_its_own_target_and_says_how_long():
    rules = make_rules()
    assert {"models", "explain", "export", "chapters"} <= set(expand("rebuild", rules))
    help_lines = dict(re.findall(r"^## ([\w-]+): (.*)$", MAKEFILE, re.M))
    assert re.search(r"12 minutes.*75 minutes.*2 cores", help_lines["rebuild"])
    assert "SKIP_RANDOM_FOREST=1" in help_lines["rebuild"]
    assert "no retraining" in help_lines["all"]
    for target in ("all", "test", "test-fast", "chapters", "bench", "rebuild", "publish"):
        assert target in help_lines, f"`make help` does not list {target}"


def test_python_is_a_virtual_environment_never_the_system():
    assert re.search(r"^PYTHON \?= \$\(VENV\)/bin/python$", MAKEFILE, re.M)
    assert "python3 -m venv" in MAKEFILE


def test_ci_builds_a_fresh_environment_then_runs_the_readme_test_command():
    script = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert "rm -rf .venv" in lines and "python3 -m venv .venv" in lines
    assert lines.index("rm -rf .venv") < lines.index("python3 -m venv .venv") \
        < lines.index("source .venv/bin/activate") < lines.index("make install")
    makes = [line for line in lines if line.startswith("make ")]
    assert makes == ["make install", readme_commands()[1]]
    assert not [line for line in lines if "pip install" in line], "install through the Makefile"


# --- publishing ---------------------------------------------------------------------------------


def test_publish_workflow_runs_the_readme_build_and_quartos_actions():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    job = workflow["jobs"]["publish"]
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("quarto-dev/quarto-actions/setup@") for u in uses)
    performed = []
    for step in steps:
        if "run" in step:
            for line in step["run"].splitlines():
                match = re.fullmatch(r"make ([\w-]+)", line.strip())
                assert match, f"workflow step runs something other than make: {line!r}"
                performed.append(match.group(1))
        elif step.get("uses", "").startswith("quarto-dev/quarto-actions/render@"):
            performed.append("site")
    assert performed == make_rules()["all"], "the workflow must build as README's `make all`"
    publish = [s for s in steps
               if s.get("uses", "").startswith("quarto-dev/quarto-actions/publish@")]
    assert len(publish) == 1 and steps[-1] is publish[0]
    assert publish[0]["with"] == {"target": "gh-pages", "render": False}
    assert workflow["permissions"]["contents"] == "write"
    assert job["env"]["QUARTO_PYTHON"].endswith("/.venv/bin/python")
    assert "make publish" in README and "quarto publish gh-pages" in MAKEFILE


# --- the real site, where Quarto exists ---------------------------------------------------------


needs_quarto = pytest.mark.skipif(
    shutil.which("quarto") is None,
    reason="quarto is not on PATH (it cannot be installed on this machine); the site is "
           "rendered and checked where Quarto exists, the harness stands in here")


@pytest.fixture(scope="module")
def rendered_site(tmp_path_factory) -> Path:
    python = shutil.which("python3") or "python3"
    subprocess.run([python, "-m", "analysis.cli", "site-assets"], cwd=PROJECT_ROOT, check=True)
    out = tmp_path_factory.mktemp("quarto") / "site"
    subprocess.run(["quarto", "render", "--output-dir", str(out)], cwd=PROJECT_ROOT,
                   check=True, timeout=1800)
    return out


@pytest.mark.slow
@needs_quarto
def test_quarto_render_produces_every_page(rendered_site):
    for page in RENDER:
        html = rendered_site / Path(page).with_suffix(".html")
        assert html.is_file(), f"{page} did not render"
        assert html.stat().st_size > 1000
    assert (rendered_site / "assets" / "plotly.min.js").is_file()
    for chapter in (c for c in CHAPTERS if c.endswith(".ipynb")):
        assert (rendered_site / "notebooks" / Path(chapter).name).is_file()


@pytest.mark.slow
@pytest.mark.browser
@needs_quarto
@pytest.mark.parametrize("page", RENDER)
@pytest.mark.parametrize("width", [1280, 390])
def test_rendered_page_offline(page, width, rendered_site, serve, open_page):
    """The real page: clean offline, no code toggles, one H1, fits a phone, within budget."""
    from site_harness import page_weight, sideways_overflow

    visit = open_page(f"{serve(rendered_site)}/{Path(page).with_suffix('.html').as_posix()}",
                      width=width)
    visit.page.wait_for_load_state("networkidle")
    visit.page.wait_for_timeout(1000)
    assert visit.page.locator("details.code-fold").count() == 0
    assert visit.page.locator("h1").count() == 1
    assert visit.page.locator(".observablehq--error").count() == 0
    overflow = sideways_overflow(visit.page)
    weight = page_weight(visit.page)
    print(f"{page} at {width} px: scrollWidth {overflow['scrollWidth']}, "
          f"{weight['transfer']:,} bytes transferred ({weight['decoded']:,} decoded)")
    assert overflow["scrollWidth"] <= overflow["clientWidth"], overflow["culprits"]
    assert weight["transfer"] <= 1_000_000
    visit.assert_clean()
