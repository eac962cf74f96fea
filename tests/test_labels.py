"""analysis.labels: the names readers see, each written once and consistent with the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from analysis import labels
from analysis.models import HIT_CLASSIFIER, HIT_THRESHOLD, MODEL_NAMES
from analysis.paths import PROJECT_ROOT


def test_every_model_has_a_label_and_the_hit_label_quotes_the_threshold():
    assert set(labels.MODEL_LABELS) == {*MODEL_NAMES, HIT_CLASSIFIER}
    assert labels.MODEL_LABELS[HIT_CLASSIFIER].endswith(f"(popularity >= {HIT_THRESHOLD})")


def _label_values() -> dict[str, str]:
    """Every name analysis.labels defines (text -> where), from its dictionaries."""
    out = {}
    for name in dir(labels):
        table = getattr(labels, name)
        if name.isupper() and isinstance(table, dict):
            out.update({text: f"labels.{name}[{key!r}]" for key, text in table.items()
                        if isinstance(text, str)})
    return out


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """String constants of a module, docstrings left out (they may name things freely)."""
    docstrings, strings = set(), []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node)
        elif (isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body
              and isinstance(node.body[0], ast.Expr)):
            docstrings.add(id(node.body[0].value))
    return [(node.lineno, node.value) for node in strings if id(node) not in docstrings]


def test_no_name_is_typed_outside_the_labels_module():
    """A protocol, model, feature or driver name written as a literal elsewhere in the library
    would drift from the one here: a literal may not equal a name of several words, nor
    contain a name with its unit or kind in parentheses, nor a protocol's "(short name)"."""
    values = _label_values()
    whole = {text for text in values if " " in text}
    whole |= {labels.ladder_step(group) for group in labels.DRIVER_LABELS}
    inside = {text for text in values if "(" in text}
    inside |= {labels.protocol_column(protocol) for protocol in labels.PROTOCOL_KINDS}
    inside |= {f"({name})" for name in labels.PROTOCOL_SHORT_NAMES.values()}
    typed = re.compile("|".join(map(re.escape, sorted(inside, key=len, reverse=True))))
    found = []
    for path in sorted((PROJECT_ROOT / "analysis").rglob("*.py")):
        if path.name == "labels.py":
            continue
        for line, text in _string_literals(path):
            if text in whole or typed.search(text):
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{line}: {text[:60]!r}")
    assert found == []


def test_external_set_names_say_what_the_artifact_records():
    """The year in a set's name is the artifact's: music_genre's crawl, Billboard's charts."""
    from analysis.external import load_external, set_names, source_entry

    external = load_external()
    assert set(labels.EXTERNAL_SET_LABELS) == set(set_names(external))
    assert labels.EXTERNAL_SET_PERIODS["music_genre"] == source_entry(
        external, "music_genre")["crawled"].split()[-1]
    first, last = labels.EXTERNAL_SET_PERIODS["billboard"].split("–")
    assert f"({first}-{last})" in source_entry(external, "billboard")["title"]
    assert labels.EXTERNAL_SET_LABELS == {"music_genre": "music_genre, 2021",
                                          "billboard": "Billboard hits, 1960–2019"}
    assert all(labels.external_scope(name).startswith("on another crawl (")
               for name in labels.EXTERNAL_SET_LABELS)
