"""Tests for the Genre-moods charts (analysis.plots.moods), on synthetic aggregated frames."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from _mood_tracks import make_tracks

from analysis import moods, plots
from analysis.plots import moods as plot_moods


@pytest.fixture(scope="module")
def tracks():
    return make_tracks(n_per_genre=80, seed=5)


def _json_bytes(fig: go.Figure) -> int:
    return len(fig.to_json().encode())


@pytest.mark.parametrize("layout", ["panels", "dropdown"])
def test_group_boxes_keep_macro_genre_colours(tracks, layout):
    quantiles = moods.group_quantiles(tracks, ["energy", "valence", "loudness"])
    fig = plots.plot_group_boxes(quantiles, ["energy", "valence", "loudness"], layout=layout)
    assert len(fig.data) == 3 * 2
    axes = [ax for name, ax in fig.layout.to_plotly_json().items() if name.startswith("xaxis")]
    assert axes and all(ax.get("type") == "linear" for ax in axes)
    for trace in fig.data:
        assert trace.marker.color == plots.MACRO_GENRE_COLORS[trace.name]
        assert trace.q1 is not None and trace.x is None  # drawn from statistics, no raw points
    if layout == "dropdown":
        buttons = fig.layout.updatemenus[0].buttons
        assert len(buttons) == 3
        assert sum(buttons[2].args[0]["visible"]) == 2
        assert buttons[2].args[1]["xaxis.title.text"] == "Loudness (dB)"


def test_group_boxes_rejects_unknown_layout(tracks):
    with pytest.raises(ValueError, match="layout"):
        plots.plot_group_boxes(moods.group_quantiles(tracks, ["energy"]), ["energy"],
                               layout="grid")


def test_mood_map_macro_points_and_genre_toggle(tracks):
    macro = moods.mood_positions(tracks)
    genres = moods.mood_positions(moods.genre_listings(tracks), by="genre", extra=["macro_genre"])
    fig = plots.plot_mood_map(macro, genres)
    shown = [t for t in fig.data if t.visible is not False]
    hidden = [t for t in fig.data if t.visible is False]
    assert [t.name for t in shown] == macro["macro_genre"].tolist()
    assert sum(len(t.x) for t in hidden) == len(genres)
    for trace in fig.data:
        macro_name = trace.legendgroup
        assert trace.marker.color == plots.MACRO_GENRE_COLORS[macro_name]
    first = shown[0]
    row = macro.iloc[0]
    assert first.error_x.arrayminus[0] == pytest.approx(row["x_median"] - row["x_q1"], abs=1e-3)
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert labels == ["Macro-genres", "+ 114 genres"]
    assert fig.layout.xaxis.range == (0, 1) and fig.layout.yaxis.range == (0, 1)


def test_label_positions_avoid_each_other():
    positions = plot_moods._label_positions([0.5, 0.5, 0.9], [0.5, 0.51, 0.1],
                                            ["aaaa", "bbbb", "c"])
    assert positions[0] != positions[1]


def test_effect_sizes_sorted_with_magnitudes(tracks):
    fig = plots.plot_effect_sizes(moods.kruskal_by_feature(tracks, ["energy", "valence"]))
    (bar,) = fig.data
    assert list(bar.y)[-1] == "Energy"  # largest effect drawn on top
    assert "large" in bar.text[-1]


def test_figures_stay_small(tracks):
    """Aggregated inputs keep each figure's JSON far below the raw data's size."""
    q = moods.group_quantiles(tracks)
    figs = [
        plots.plot_group_boxes(q, list(moods.AUDIO_FEATURES), layout="dropdown"),
        plots.plot_mood_map(moods.mood_positions(tracks)),
    ]
    assert all(_json_bytes(f) < 60_000 for f in figs)
