"""Tests for the EDA charts (analysis.plots.eda), on synthetic aggregated frames."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from _mood_tracks import make_tracks

from analysis import moods, plots


@pytest.fixture(scope="module")
def tracks():
    return make_tracks(n_per_genre=80, seed=5)


def _json_bytes(fig: go.Figure) -> int:
    return len(fig.to_json().encode())


def test_popularity_distribution_calls_out_the_zero_bar(tracks):
    counts = moods.popularity_counts(tracks)
    fig = plots.plot_popularity_distribution(counts)
    zero = [t for t in fig.data if list(t.x) == [0]][0]
    assert zero.marker.color == plots.ZERO_COLOR
    assert zero.y[0] == tracks["popularity"].eq(0).sum()
    assert "at 0" in fig.layout.annotations[0].text
    assert fig.layout.xaxis.title.text == "Popularity (0–100)"
    assert sum(sum(t.y) for t in fig.data) == len(tracks)


def test_feature_distributions_one_panel_per_feature(tracks):
    hist = moods.feature_histograms(tracks, bins=20)
    fig = plots.plot_feature_distributions(hist)
    assert len(fig.data) == hist["feature"].nunique()
    titles = [a.text for a in fig.layout.annotations]
    assert "Loudness<br>(dB)" in titles and "Tempo<br>(BPM)" in titles  # units on a 2nd line
    assert fig.layout.meta == {"min_width": plots.MIN_CHART_WIDTH}  # scrolls on a phone
    key_axis = [ax for name, ax in fig.layout.to_plotly_json().items()
                if name.startswith("xaxis") and ax.get("ticktext") and "C" in ax["ticktext"]]
    assert key_axis, "the key panel names pitch classes"


def test_correlation_buttons_switch_between_two_traces(tracks):
    fig = plots.plot_correlation_heatmap(moods.correlation_matrix(tracks),
                                         moods.correlation_matrix(tracks, method="pearson"))
    assert [t.name for t in fig.data] == ["Spearman", "Pearson"]
    assert [t.visible for t in fig.data] == [True, False]
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.args[0]["visible"] for b in buttons] == [[True, False], [False, True]]
    assert fig.data[0].zmin == -1 and fig.data[0].zmax == 1


def test_binned_means_band_and_reference(tracks):
    binned = moods.binned_means(tracks, "duration_min", bins=8, min_count=5)
    fig = plots.plot_binned_means(binned, x_label="Duration (minutes)", overall_mean=33.0)
    band, line = fig.data
    assert band.fill == "toself" and len(band.x) == 2 * len(binned)
    assert list(line.y) == pytest.approx(binned["mean"].round(2).tolist())
    assert fig.layout.xaxis.title.text == "Duration (minutes)"
    assert fig.layout.shapes, "the overall mean is drawn as a reference line"


def test_popularity_by_feature_small_multiples(tracks):
    binned = moods.binned_means_long(tracks, ["energy", "valence", "tempo"], bins=6, min_count=5)
    fig = plots.plot_popularity_by_feature(binned, overall_mean=30.0, columns=3)
    assert len(fig.data) == 2 * 3  # a band and a line per feature
    assert [a.text for a in fig.layout.annotations][:3] == [
        "Energy<br>(0–1)", "Valence<br>(0–1, positivity)", "Tempo<br>(BPM)"]


def test_mood_grid_is_a_heatmap_of_aggregates(tracks):
    grid = moods.binned_grid(tracks, bins=10, min_count=3)
    fig = plots.plot_mood_grid(grid)
    (heat,) = fig.data
    assert len(heat.z) == 10 and len(heat.z[0]) == 10
    assert fig.layout.xaxis.title.text.startswith("Valence")
    assert fig.layout.yaxis.title.text.startswith("Energy")


def test_explicit_chart_uses_fixed_colours(tracks):
    result = moods.compare_binary(tracks)
    fig = plots.plot_explicit(result["table"], moods.popularity_hist_by(tracks))
    bars = [t for t in fig.data if t.type == "bar"]
    assert {b.name: b.marker.color for b in bars} == {
        "not explicit": plots.EXPLICIT_COLORS[False], "explicit": plots.EXPLICIT_COLORS[True]}


def test_figures_stay_small(tracks):
    """Aggregated inputs keep each figure's JSON far below the raw data's size."""
    fig = plots.plot_feature_distributions(moods.feature_histograms(tracks))
    assert _json_bytes(fig) < 60_000
