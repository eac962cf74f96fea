"""Tests for the Drivers chapter's charts (analysis.plots.drivers).

The charts take the cached frames of analysis.explain; here they get small synthetic frames of
the same shape, so these tests need neither models nor data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import plots
from analysis.genres import MACRO_GENRES
from analysis.labels import PROTOCOL_LABELS
from analysis.plots import drivers as plot_drivers

GROUPS = ["artist history", "genre", "energy", "valence", "duration_ms", "acousticness",
          "title text", "macro-genre", "danceability", "loudness", "explicit", "tempo"]
VALUE_COLUMNS = ["energy", "valence", "duration_ms", "acousticness", "danceability", "loudness",
                 "explicit", "tempo", "artist_mean_popularity"]


@pytest.fixture
def frames():
    """Importance, sample, by-macro-genre and pair frames shaped like models/shap/."""
    rng = np.random.default_rng(0)
    importance, sample, by_macro = [], [], []
    for protocol in ("known_artist", "cold_start"):
        groups = GROUPS if protocol == "known_artist" else GROUPS[1:]
        values = np.sort(rng.uniform(0.1, 5, len(groups)))[::-1]
        importance.append(pd.DataFrame({
            "protocol": protocol, "group": groups, "mean_abs_shap": values,
            "share": values / values.sum(), "shap_rank": np.arange(1, len(groups) + 1),
            "r2_drop_mean": values / 50, "r2_drop_sd": values / 500,
            "permutation_rank": np.arange(1, len(groups) + 1),
        }))
        n_per = 6
        rows = pd.DataFrame({
            "protocol": protocol,
            "macro_genre": np.repeat(list(MACRO_GENRES), n_per),
            "order": np.tile(np.arange(n_per), len(MACRO_GENRES)),
            "track_id": [f"{protocol}-{i}" for i in range(n_per * len(MACRO_GENRES))],
        })
        for g in groups:
            rows[f"shap__{g}"] = rng.normal(0, 2, len(rows))
        for c in VALUE_COLUMNS:
            rows[f"value__{c}"] = rng.uniform(0, 1, len(rows))
        sample.append(rows)
        for m in MACRO_GENRES:
            by_macro.append(pd.DataFrame({"protocol": protocol, "macro_genre": m, "group": groups,
                                          "mean_abs_shap": rng.uniform(0, 5, len(groups))}))
    pair = pd.DataFrame({"energy": rng.uniform(0, 1, 40), "valence": rng.uniform(0, 1, 40),
                         "shap_energy": rng.normal(0, 1, 40),
                         "interaction_energy_valence": rng.normal(0, .3, 40)})
    return {"importance": pd.concat(importance, ignore_index=True),
            "sample": pd.concat(sample, ignore_index=True),
            "by_macro": pd.concat(by_macro, ignore_index=True), "pair": pair}


def _json_bytes(fig) -> int:
    return len(fig.to_json().encode())


def test_importance_chart_pairs_shap_and_permutation_per_protocol(frames):
    fig = plots.plot_driver_importance(frames["importance"], top=5)
    assert len(fig.data) == 4  # 2 protocols x (SHAP, permutation)
    colours = {t.marker.color for t in fig.data}
    assert colours == {plots.PROTOCOL_COLORS[p] for p in ("known_artist", "cold_start")}
    assert fig.data[0].name == PROTOCOL_LABELS["known_artist"]
    # panels share the driver order; permutation bars carry error bars
    assert list(fig.data[0].y) == list(fig.data[1].y)
    assert fig.data[1].error_x.array is not None
    # the largest driver is drawn last (on top of a horizontal bar chart)
    assert fig.data[0].y[-1] == "artist history"
    assert all(label == label.lower() or label[0].islower() for label in fig.data[0].y)


def test_beeswarm_toggles_protocols_and_stays_small(frames):
    fig = plots.plot_shap_beeswarm(frames["sample"], frames["importance"], top=6, per_macro=3)
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == [PROTOCOL_LABELS["cold_start"],
                                          PROTOCOL_LABELS["known_artist"]]
    for i, button in enumerate(buttons):
        visible = button.args[0]["visible"]
        assert len(visible) == len(fig.data)
        shown = [t for t, v in zip(fig.data, visible, strict=True) if v]
        assert {t.meta for t in shown} == {["cold_start", "known_artist"][i]}
    visible_now = [t for t in fig.data if t.visible is not False]
    assert all(len(t.x) == 3 * len(MACRO_GENRES) for t in visible_now)
    # genre has no single value: grey; energy is coloured by value percentile
    by_name = {t.name: t for t in visible_now}
    assert by_name["genre"].marker.color == plots.NEUTRAL_COLOR
    assert 0 <= min(by_name["energy"].marker.color) and max(by_name["energy"].marker.color) <= 1
    assert _json_bytes(fig) < 120_000


def test_beeswarm_is_deterministic(frames):
    one = plots.plot_shap_beeswarm(frames["sample"], frames["importance"]).to_json()
    two = plots.plot_shap_beeswarm(frames["sample"], frames["importance"]).to_json()
    assert one == two


def test_swarm_offsets_stack_dense_regions_higher():
    x = np.r_[np.zeros(20), np.linspace(1, 2, 5)]
    offsets = plot_drivers._swarm_offsets(x)
    assert np.abs(offsets[:20]).max() == pytest.approx(0.38)
    assert np.abs(offsets[20:]).max() < 0.1


def _dependence(sample, feature, color_by):
    """What analysis.explain.dependence_frame returns (x, shap, colour; names in attrs)."""
    part = sample[sample["protocol"] == "cold_start"]
    frame = pd.DataFrame({"x": part[f"value__{feature}"], "shap": part[f"shap__{feature}"],
                          "color": part[f"value__{color_by}"]})
    frame.attrs.update(feature=feature, color_by=color_by)
    return frame


def test_dependence_panels_name_feature_and_partner(frames):
    panels = [_dependence(frames["sample"], "energy", "valence"),
              _dependence(frames["sample"], "duration_ms", "energy")]
    fig = plots.plot_shap_dependence(panels)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["energy<br>(colour: valence)", "duration<br>(colour: energy)"]
    assert fig.layout.xaxis2.title.text == "Duration (ms)"
    assert sum(bool(t.marker.showscale) for t in fig.data) == 1


def test_interaction_pair_has_both_views(frames):
    fig = plots.plot_interaction_pair(frames["pair"])
    assert [t.name for t in fig.data] == ["shap_energy", "interaction_energy_valence"]
    assert fig.data[0].marker.color == fig.data[1].marker.color  # same colouring by valence


def test_macro_genre_dots_use_the_site_palette(frames):
    fig = plots.plot_drivers_by_macro_genre(frames["by_macro"], frames["importance"], top=5)
    dots = [t for t in fig.data if t.name in plots.MACRO_GENRE_COLORS]
    assert len(dots) == len(MACRO_GENRES)
    assert all(t.marker.color == plots.MACRO_GENRE_COLORS[t.name] for t in dots)
    assert fig.data[0].name == "all tracks (weighted)"
    assert len(fig.data[0].y) == 5


def test_history_chart_shows_r2_and_share():
    history = {"r2_history_alone": 0.45, "r2_without_history": 0.40, "r2_with_history": 0.62,
               "shap_share_history": 0.7}
    fig = plots.plot_history_vs_track(history)
    assert list(fig.data[0].y) == [0.45, 0.4, 0.62]
    shares = [t.y[0] for t in fig.data[1:]]
    assert shares == pytest.approx([0.7, 0.3])
    no_alone = plots.plot_history_vs_track({**history, "r2_history_alone": None})
    assert len(no_alone.data[0].x) == 2
