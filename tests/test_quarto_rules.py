"""Quarto's rules, enforced without Quarto (the checks are in ``tests/quarto_rules.py``).

Each rule runs on the real site and on fixtures under ``tests/fixtures/quarto/``:
``good/`` is a small website project (a notebook chapter, an OJS page, a front page) that
passes every rule, and each ``bad/<rule>--<case>/`` overlays it with the file(s) that break
exactly that rule. A fixture must fail its rule and pass every other one, so removing or
weakening a rule makes its fixture test fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import quarto_rules as rules
import yaml

from analysis.paths import PROJECT_ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "quarto"
BAD = sorted(p.name for p in (FIXTURES / "bad").iterdir() if p.is_dir())

#: What each fixture's problem must mention (a fragment of the rule's message).
EXPECTED = {
    "yaml-parses--cell-option-colon": "invalid YAML",
    "yaml-parses--front-matter": "invalid YAML",
    "yaml-parses--ojs-option": "invalid YAML",
    "cell-options-on-top": "#| output: false",
    "front-matter-title": "no title",
    "one-h1--markdown-cell": "a second H1 'First chapter'",
    "one-h1--markdown-output": "a second H1 'Findings'",
    "one-h1--qmd": "a second H1 'Try it: the second chapter'",
    "label-prefixes--caption-without-fig": "has fig-cap but its label 'first-chart'",
    "label-prefixes--heading-id": "'#try-it' lacks the 'sec-' prefix",
    "unique-ids--label-and-output": "id 'fig-first-chart'",
    "unique-ids--headings": "id 'sec-second-try'",
    "refs-resolve": "@fig-missing-chart does not resolve",
    "refs-resolve--cross-page": "@sec-first-results does not resolve",
    "links-resolve--page": "'03-third.ipynb' is not a page of the site",
    "links-resolve--anchor": "no section or element with id 'sec-nowhere'",
    "links-resolve--asset": "'../vendor/plotly.min.js' does not exist",
    "project-lists-chapters": "chapters/03-third.qmd",
    "no-cdn-outputs": "a text/html output",
    "no-math-cdn": "TeX math",
    "no-code-in-prose": "the page shows this cell's code",
    "code-in-one-place": "code-links does not list ../notebooks/first.ipynb",
    "code-in-one-place--qmd": "code-tools with source is not enabled",
}


def _project(tmp_path: Path, overlay: str | None = None) -> rules.Site:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "good", root)
    if overlay:
        shutil.copytree(FIXTURES / "bad" / overlay, root, dirs_exist_ok=True)
    return rules.Site.load(root)


def test_every_fixture_has_an_expected_problem():
    assert sorted(EXPECTED) == BAD
    assert {name.split("--")[0] for name in BAD} == set(rules.RULES), "a rule has no fixture"


def test_good_fixture_passes_every_rule(tmp_path):
    assert rules.check(_project(tmp_path)) == {}


@pytest.mark.parametrize("fixture", BAD)
def test_fixture_fails_its_rule_and_only_it(fixture, tmp_path):
    site = _project(tmp_path, fixture)
    rule = fixture.split("--")[0]
    failing = rules.check(site)
    assert rule in failing, failing
    if rule != "yaml-parses":  # front matter that does not parse loses every key in it
        assert set(failing) == {rule}, failing
    assert any(EXPECTED[fixture] in problem for problem in failing[rule]), failing[rule]


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_the_site_keeps_the_rule(rule, site_model):
    assert rules.RULES[rule](site_model) == []


def test_pyyaml_rejects_what_quarto_rejects():
    """The caption that stopped ``quarto render`` (js-yaml: bad indentation of a mapping
    entry) is an error for PyYAML too; quoted or folded, it parses."""
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load("tbl-cap: Ranking hits out of fold: the champion against the classifier.")
    quoted = yaml.safe_load('tbl-cap: "Ranking hits: quoted."')
    assert quoted == {"tbl-cap": "Ranking hits: quoted."}
    assert yaml.safe_load("fig-cap: >-\n  Folded: fine.") == {"fig-cap": "Folded: fine."}


def test_cell_options_are_read_like_quarto():
    options, rest = rules.partition_options("#| label: fig-x\n#|   continued\n#|echo: false\n"
                                            "x = 1\n#| late: ignored", "python")
    assert options == ["label: fig-x", "  continued", "echo: false"]
    assert rest == ["x = 1", "#| late: ignored"]
    options, _ = rules.partition_options("//| echo: false\nviewof x = 1", "ojs")
    assert options == ["echo: false"]


def test_yaml_blocks_are_found_like_quarto():
    markdown = ("---\ntitle: A\n---\n\nText\n\n---\n\nA rule, not YAML.\n\n"
                "```yaml\n---\nnot: read\n---\n```\n<!--\n---\nhidden: yes\n---\n-->\n")
    assert list(rules.yaml_blocks_in_markdown(markdown)) == ["\ntitle: A\n"]


def test_auto_identifiers_follow_pandoc():
    assert rules.auto_identifier("Sampling artefacts are findings, not inputs") == \
        "sampling-artefacts-are-findings-not-inputs"
    assert rules.auto_identifier("How large are the differences?") == \
        "how-large-are-the-differences"
    assert rules.auto_identifier("1. Numbers *first*") == "numbers-first"


def test_echo_resolves_cell_then_page_then_project(tmp_path):
    site = _project(tmp_path)
    page = site.pages["chapters/01-first.ipynb"]
    cell = page.code_cells()[0]
    assert not rules.shows_code(site, page, cell)          # project: echo false
    page.front["execute"] = {"echo": True}
    assert rules.shows_code(site, page, cell)              # the page overrides the project
    cell.options["echo"] = False
    assert not rules.shows_code(site, page, cell)          # the cell overrides the page
    cell.options.pop("echo")
    cell.tags.append("remove-cell")
    assert not rules.shows_code(site, page, cell)          # a tag Quarto maps to include


def test_quarto_project_echo_hides_every_cell():
    """The site hides code project-wide, which Quarto applies to stored notebooks too."""
    config = yaml.safe_load((PROJECT_ROOT / "_quarto.yml").read_text())
    assert config["execute"]["echo"] is False
    assert config["project"]["post-render"] == "tools/publish_notebooks.py"


def test_publish_notebooks_copies_every_chapter(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "publish_notebooks", PROJECT_ROOT / "tools" / "publish_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.NOTEBOOKS_DIR == rules.NOTEBOOKS_DIR
    copies = module.publish_notebooks(PROJECT_ROOT, tmp_path)
    site = rules.Site.load(PROJECT_ROOT)
    assert sorted(c.relative_to(tmp_path).as_posix() for c in copies) == \
        sorted(site.published_notebooks().values())


@pytest.mark.slow  # the tool reads and writes through nbformat, seconds to import
def test_per_cell_echo_fallback_is_idempotent_and_keeps_outputs(tmp_path):
    """tools/hide_code_cells.py (the per-cell fallback QUARTO-FACTS verified) only adds
    ``#| echo: false`` lines: outputs stay byte-identical and a second run changes nothing."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location(
        "hide_code_cells", PROJECT_ROOT / "tools" / "hide_code_cells.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for chapter in sorted((PROJECT_ROOT / "chapters").glob("[0-9][0-9]-*.ipynb")):
        copy = tmp_path / chapter.name
        shutil.copyfile(chapter, copy)
        module.hide_code_in(copy)
        assert module.hide_code_in(copy) == 0
        before, after = (json.loads(p.read_text()) for p in (chapter, copy))
        assert [c.get("outputs") for c in before["cells"]] == \
            [c.get("outputs") for c in after["cells"]]
        page = rules.load_page(tmp_path, chapter.name)
        assert all(c.options.get("echo") is False and not c.option_error
                   for c in page.code_cells())
