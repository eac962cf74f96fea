"""analysis.bench: the modeling benchmark counts only what a build computed.

Reads a copy of the committed tiny build (``tests/fixtures/tiny_models``); nothing is timed.
"""

from __future__ import annotations

import json
import shutil

import pytest
from _tiny_models import TINY_MODELS_DIR

from analysis.bench import benchmark_models
from analysis.models import build_timings, load_metrics, model_timings


def test_benchmark_counts_only_what_the_run_computed(tmp_path, capsys):
    copy = tmp_path / "models"
    shutil.copytree(TINY_MODELS_DIR, copy)
    metrics = load_metrics(copy)
    timings = build_timings(metrics)

    def seconds(protocol, name):  # a model's wall time, whether or not its folds overlapped
        return model_timings(metrics, protocol, name)["wall_seconds"]["total"]

    rf = sum(seconds(p, "random_forest") for p in ("seed_replica", "known_artist", "cold_start"))
    fresh = benchmark_models(copy, retrain=False)
    assert fresh["build_minutes_excluding_rf"] * 60 == pytest.approx(
        timings["build_seconds"] - rf)
    out = capsys.readouterr().out
    assert "random forest, cold_start" in out and "champion known_artist: training" in out
    # a run that resumed a model and carried one forest over counts neither as its own work
    metrics["protocols"]["known_artist"]["models"]["random_forest"][
        "reused_from_previous_build"] = True
    timings["resumed_from_checkpoint"] = ["cold_start/xgboost", "cold_start/random_forest"]
    (copy / "metrics.json").write_text(json.dumps(metrics))
    partial = benchmark_models(copy, retrain=False)
    assert partial["build_minutes_excluding_rf"] * 60 == pytest.approx(
        timings["build_seconds"] - seconds("seed_replica", "random_forest")
        + seconds("cold_start", "xgboost"))
    assert "estimate: 2 models resumed" in capsys.readouterr().out
