"""analysis.widgets.predictor driven headlessly: widget values in, predictions out.

The champions are the committed tiny ones (``tests/fixtures/tiny/``, written by
``tests/fixtures/make_fixtures.py``), copied so that "nothing written" is checked on a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from analysis.models import load  # noqa: E402
from analysis.widgets import predictor, row_from_values  # noqa: E402

TINY_CHAMPIONS = Path(__file__).parent / "fixtures" / "tiny" / "models" / "champions"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    shutil.copytree(TINY_CHAMPIONS, folder / "champions")
    return folder


def test_prediction_matches_the_champion(models_dir):
    ui = predictor(models_dir=models_dir)
    assert ui.error is None and ui.result["model"] == "cold_start"
    values = {k: w.value for k, w in ui.controls.items() if k != "model"}
    expected = load("cold_start", models_dir=models_dir).predict(row_from_values(values))[0]
    assert ui.result["prediction"] == pytest.approx(expected, abs=1e-9)
    assert ui.result["lower"] <= ui.result["prediction"] <= ui.result["upper"]
    assert 0 < ui.result["hit_probability"] < 1
    assert "predicted popularity" in ui.output.value


def test_changing_an_input_changes_the_prediction(models_dir):
    ui = predictor(models_dir=models_dir)
    ui.controls["energy"].value = 0.05
    low = ui.result["prediction"]
    ui.controls["energy"].value = 0.95
    assert ui.result["prediction"] != low


def test_model_selector_switches_the_champion(models_dir):
    ui = predictor(models_dir=models_dir)
    ui.controls["artists"].value = "Artist 7"
    cold = ui.result
    ui.controls["model"].value = "known_artist"
    known = ui.result
    assert known["model"] == "known_artist" and cold["model"] == "cold_start"
    assert known["prediction"] != cold["prediction"]
    values = {k: w.value for k, w in ui.controls.items() if k != "model"}
    expected = load("known_artist", models_dir=models_dir).predict(row_from_values(values))[0]
    assert known["prediction"] == pytest.approx(expected, abs=1e-9)
    assert "Known artist" in ui.output.value


def test_invalid_input_shows_the_schema_error_and_writes_nothing(models_dir):
    before = sorted(p.relative_to(models_dir) for p in models_dir.rglob("*"))
    ui = predictor(models_dir=models_dir)
    ui.controls["danceability"].value = 1.5
    assert ui.result is None
    assert "danceability" in ui.error and "predictor input" in ui.error
    assert "Input refused" in ui.output.value
    ui.controls["danceability"].value = 0.5
    assert ui.error is None and ui.result is not None
    assert sorted(p.relative_to(models_dir) for p in models_dir.rglob("*")) == before


def test_error_text_is_escaped(models_dir):
    ui = predictor(models_dir=models_dir)
    ui.controls["genre"].value = ui.controls["genre"].options[0]
    ui.controls["tempo"].value = -5
    assert ui.result is None and "<pre>" in ui.output.value
    assert "<script" not in ui.output.value
