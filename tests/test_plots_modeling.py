"""Modeling charts: built from a tiny build's metrics, deterministic, labelled, honest colours."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest
from _tiny_models import TINY_MODELS_DIR

from analysis import plots
from analysis.models import load_metrics

CHARTS = (
    ("plot_leak_comparison", {}),
    ("plot_leak_mechanism", {}),
    ("plot_error_by_macro_genre", {}),
    ("plot_error_by_popularity_band", {}),
    ("plot_zero_mass", {}),
    ("plot_interval_coverage", {}),
    ("plot_sampling_artefacts", {}),
)


@pytest.fixture(scope="module")
def metrics():
    """The committed tiny build's metrics (tests/fixtures/tiny_models, see _tiny_models.py)."""
    return load_metrics(TINY_MODELS_DIR)


@pytest.mark.parametrize("name, kwargs", CHARTS)
def test_chart_is_a_deterministic_figure_with_axis_titles(metrics, name, kwargs):
    fig = getattr(plots, name)(metrics, **kwargs)
    assert isinstance(fig, go.Figure) and len(fig.data) >= 1
    again = getattr(plots, name)(metrics, **kwargs)
    assert json.dumps(fig.to_plotly_json(), sort_keys=True, default=str) == json.dumps(
        again.to_plotly_json(), sort_keys=True, default=str)
    layout = fig.layout
    titled = [axis.title.text for axis in (layout.xaxis, layout.yaxis) if axis.title.text]
    assert titled, f"{name}: no axis title"
    html = plots.show(fig, name=name.replace("_", "-")).data
    assert len(html) < 200_000


def test_leaky_protocol_always_wears_the_leaky_colour(metrics):
    fig = plots.plot_leak_comparison(metrics)
    leaky = [t for t in fig.data if t.name == plots.PROTOCOL_LABELS["seed_replica"]]
    assert leaky and leaky[0].marker.color == plots.ACCENT_COLORS["leaky"]
    honest = [t for t in fig.data if t.name == plots.PROTOCOL_LABELS["known_artist"]]
    assert honest[0].marker.color == plots.ACCENT_COLORS["honest"]


def test_coverage_chart_has_every_macro_genre_twice_per_protocol(metrics):
    fig = plots.plot_interval_coverage(metrics)
    assert len(fig.data) == 4  # (global, Mondrian) x (cold_start, known_artist)
    expected = set(metrics["protocols"]["cold_start"]["models"]["xgboost_tuned"]["intervals"][
        "mondrian"]["0.9"]["by_macro_genre"])
    for trace in fig.data:
        assert set(trace.y) == expected
        assert all(0 <= x <= 100 for x in trace.x)


def test_error_by_macro_genre_orders_bars_by_error(metrics):
    fig = plots.plot_error_by_macro_genre(metrics)
    first = fig.data[0]
    assert list(first.x) == sorted(first.x)
