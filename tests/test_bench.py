"""analysis.bench: chapter and figure weights, and a modeling benchmark that counts only what
a build computed (on a copy of the committed tiny build, ``tests/fixtures/tiny_models``).
Nothing is timed.
"""

from __future__ import annotations

import json
import shutil

import pytest
from _mood_tracks import make_tracks
from _notebooks import code_cell, markdown_cell, write_notebook
from _tiny_models import TINY_MODELS_DIR

from analysis import bench, moods, plots
from analysis.models import build_timings, load_metrics, model_timings


def _chapter(path, fig, name):
    """A notebook whose one cell shows ``fig`` the way chapters do (a Markdown output)."""
    return write_notebook(path, [
        code_cell("show(...)", outputs=[{"data": {
            "text/markdown": plots.show(fig, name=name).data,
            "text/plain": "<IPython.core.display.Markdown object>"}}]),
        markdown_cell("text"),
    ])


def test_figure_weights_reads_show_outputs(tmp_path):
    fig = plots.plot_effect_sizes(moods.kruskal_by_feature(make_tracks(), ["energy"]))
    path = _chapter(tmp_path / "x.ipynb", fig, "eps-test")
    weights = bench.figure_weights(path)
    assert weights["name"].tolist() == ["eps-test"]
    payload = fig.to_plotly_json()
    expected = len(json.dumps(payload["data"])) + len(json.dumps(payload["layout"]))
    assert weights.loc[0, "json_bytes"] == pytest.approx(expected, rel=0.5)
    assert weights.loc[0, "html_bytes"] >= weights.loc[0, "json_bytes"]
    chapters, figures = bench.chapter_weights([path], execute=False)
    assert chapters.loc[0, "figures"] == 1 and figures.loc[0, "name"] == "eps-test"


def test_print_chapter_weights(tmp_path, capsys):
    fig = plots.plot_effect_sizes(moods.kruskal_by_feature(make_tracks(), ["energy"]))
    path = _chapter(tmp_path / "c.ipynb", fig, "one")
    bench.print_chapter_weights([path], execute=False)
    out = capsys.readouterr().out
    assert "c.ipynb: executed in nan s" in out and "1 figures" in out and "  one: " in out


def test_benchmark_counts_only_what_the_run_computed(tmp_path, capsys):
    copy = tmp_path / "models"
    shutil.copytree(TINY_MODELS_DIR, copy)
    metrics = load_metrics(copy)
    timings = build_timings(metrics)

    def seconds(protocol, name):  # a model's wall time, whether or not its folds overlapped
        return model_timings(metrics, protocol, name)["wall_seconds"]["total"]

    rf = sum(seconds(p, "random_forest") for p in ("seed_replica", "known_artist", "cold_start"))
    fresh = bench.benchmark_models(copy, retrain=False)
    assert fresh["build_minutes_excluding_rf"] * 60 == pytest.approx(
        timings["build_seconds"] - rf)
    out = capsys.readouterr().out
    assert "random forest, cold_start" in out and "champion known_artist: training" in out
    # a run that resumed a model and carried one forest over counts neither as its own work
    metrics["protocols"]["known_artist"]["models"]["random_forest"][
        "reused_from_previous_build"] = True
    timings["resumed_from_checkpoint"] = ["cold_start/xgboost", "cold_start/random_forest"]
    (copy / "metrics.json").write_text(json.dumps(metrics))
    partial = bench.benchmark_models(copy, retrain=False)
    assert partial["build_minutes_excluding_rf"] * 60 == pytest.approx(
        timings["build_seconds"] - seconds("seed_replica", "random_forest")
        + seconds("cold_start", "xgboost"))
    assert "estimate: 2 models resumed" in capsys.readouterr().out
