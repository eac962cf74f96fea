"""Modeling charts (analysis.plots.modeling): built from the committed metrics.json,
deterministic, labelled, honest colours. Reading the committed artifact costs milliseconds; no
model is trained here.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import plots
from analysis.labels import PROTOCOL_LABELS

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
    from analysis.models import load_metrics

    return load_metrics()


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
    leaky = [t for t in fig.data if t.name == PROTOCOL_LABELS["seed_replica"]]
    assert leaky and leaky[0].marker.color == plots.ACCENT_COLORS["leaky"]
    honest = [t for t in fig.data if t.name == PROTOCOL_LABELS["known_artist"]]
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


def test_feature_ladder_has_one_bar_group_per_honest_protocol():
    first = {"cold_start": "original columns", "known_artist": "original columns + genre"}
    summary = {"protocols": {p: {"feature_ladder": {"steps": [
        {"step": first[p], "part": "original", "r2": -0.03, "n_columns": 140},
        {"step": "+ title markers", "part": "title text", "r2": 0.35, "n_columns": 150}]}}
        for p in ("cold_start", "known_artist")}}
    fig = plots.plot_feature_ladder(summary)
    assert [t.name for t in fig.data] == [PROTOCOL_LABELS["cold_start"],
                                          PROTOCOL_LABELS["known_artist"]]
    # the two models' first steps differ in name but share a place; a negative bar shows
    assert list(fig.data[0].x) == list(fig.data[1].x)
    assert [row[0] for row in fig.data[0].customdata] == ["original columns", "+ title markers"]
    assert fig.layout.yaxis.range[0] < -0.03
    assert [t.marker.color for t in fig.data] == [plots.PROTOCOL_COLORS["cold_start"],
                                                  plots.PROTOCOL_COLORS["known_artist"]]


def test_headline_chart_colours_leaky_and_honest():
    rows = pd.DataFrame({"label": ["Published", "Replica", "Known artist", "Cold start"],
                         "r2": [0.801, 0.79, 0.62, 0.35], "sd": [np.nan, np.nan, 0.01, 0.02],
                         "leaky": [True, True, False, False]})
    fig = plots.plot_headline_r2(rows)
    assert [t.marker.color for t in fig.data] == [plots.ACCENT_COLORS["leaky"]] * 2 + [
        plots.ACCENT_COLORS["honest"]] * 2
    assert all(t.orientation == "h" for t in fig.data)  # names in full, on a phone too
    assert fig.data[0].error_x.array is None and fig.data[2].error_x.array == (0.01,)
    assert fig.layout.xaxis.range == (0, 1) and fig.layout.xaxis.title.text.startswith("R²")
    names = [a.text for a in sorted(fig.layout.annotations, key=lambda a: -a.y)]
    assert names == ["Published", "Replica", "Known artist", "Cold start"]  # first row on top
    for bar, name in zip(fig.data, fig.layout.annotations, strict=True):
        assert name.y > bar.y[0] and name.x == 0 and name.xanchor == "left"  # above its bar


def test_headline_chart_sets_the_model_line_smaller():
    rows = pd.DataFrame({"label": ["Published<br>(Random Forest, leaky)"], "r2": [0.8],
                         "sd": [np.nan], "leaky": [True]})
    fig = plots.plot_headline_r2(rows)
    assert fig.layout.annotations[0].text == (
        'Published<br><span style="font-size:12px">(Random Forest, leaky)</span>')
    assert "Published (Random Forest, leaky): R²" in fig.data[0].hovertemplate




# --- the champion on another crawl (models/external.json) -------------------------------------


def test_transfer_chart_sets_each_genre_beside_its_match_here():
    from analysis.external import (
        genre_rows,
        in_data_genre_rows,
        in_data_metrics,
        load_external,
        matched_labels,
    )
    from analysis.labels import EXTERNAL_SET_LABELS

    external = load_external()
    fig = plots.plot_transfer_by_genre(external)
    assert json.dumps(fig.to_plotly_json(), sort_keys=True, default=str) == json.dumps(
        plots.plot_transfer_by_genre(external).to_plotly_json(), sort_keys=True, default=str)
    here, there = fig.data
    assert here.marker.color == plots.PROTOCOL_COLORS["cold_start"]
    assert there.marker.color == plots.EXTERNAL_COLOR
    assert there.name == EXTERNAL_SET_LABELS["music_genre"]
    rows = {r["genre"]: r for r in genre_rows(external)}
    labels = matched_labels(external)
    matched = {r["genre"]: r for r in in_data_genre_rows(external)}
    assert list(there.y) == sorted(rows, key=lambda g: rows[g]["spearman"])  # best on top
    for genre, x_there, x_here in zip(there.y, there.x, here.x, strict=True):
        assert x_there == pytest.approx(rows[genre]["spearman"], abs=1e-4)
        assert x_here == pytest.approx(matched[labels[genre]]["spearman"], abs=1e-4)
    mean = in_data_metrics(external)["spearman_within_genre"]
    assert any(shape.x0 == pytest.approx(mean, abs=1e-4) for shape in fig.layout.shapes)
    assert fig.layout.xaxis.title.text and len(plots.show(fig, name="x").data) < 200_000
    assert plots.EXTERNAL_COLOR not in set(plots.PROTOCOL_COLORS.values())
