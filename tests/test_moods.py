"""Tests for analysis.moods: aggregates for the Explore chapters and genre-difference statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _mood_tracks import make_tracks
from scipy import stats

from analysis import moods
from analysis.embed import DIV_ID_PREFIX
from analysis.paths import PROJECT_ROOT


@pytest.fixture
def tracks() -> pd.DataFrame:
    return make_tracks()


def test_group_order_follows_the_macro_genre_taxonomy(tracks):
    assert moods.group_order(tracks["macro_genre"]) == ["Metal & Punk", "Ambient & Functional"]
    cat = pd.Series(pd.Categorical(["b", "a"], categories=["b", "a", "c"]))
    assert moods.group_order(cat) == ["b", "a"]


def test_popularity_counts_cover_0_to_100_and_sum_to_tracks(tracks):
    counts = moods.popularity_counts(tracks)
    assert counts["popularity"].tolist() == list(range(101))
    assert counts["n"].sum() == len(tracks)
    assert counts.loc[0, "n"] == tracks["popularity"].eq(0).sum()
    assert counts["share"].sum() == pytest.approx(1)


def test_popularity_summary_zero_mass(tracks):
    summary = moods.popularity_summary(tracks)
    assert summary["zero_n"] == int(tracks["popularity"].eq(0).sum())
    assert summary["zero_share"] == pytest.approx(summary["zero_n"] / len(tracks))
    assert summary["nonzero_median"] == tracks.loc[tracks["popularity"] > 0, "popularity"].median()


def test_feature_histograms_count_every_track(tracks):
    hist = moods.feature_histograms(tracks, bins=10)
    per_feature = hist.groupby("feature")["n"].sum()
    assert (per_feature == len(tracks)).all()
    assert set(per_feature.index) == {*moods.AUDIO_FEATURES, *moods.DISCRETE_FEATURES}
    energy = hist[hist["feature"].eq("energy")]
    assert energy["left"].min() == 0 and energy["right"].max() == 1
    keys = hist[hist["feature"].eq("key")]
    assert (keys["right"] - keys["left"]).eq(1).all()


def test_correlation_matrix_methods_differ_and_are_symmetric(tracks):
    spearman, pearson = moods.correlation_matrices(tracks)
    assert spearman.equals(moods.correlation_matrix(tracks))
    assert np.allclose(spearman, spearman.T)
    assert np.allclose(np.diag(spearman), 1)
    assert spearman.loc["energy", "valence"] == pytest.approx(
        stats.spearmanr(tracks["energy"], tracks["valence"]).statistic)
    assert not np.allclose(spearman, pearson)


def test_binned_means_match_a_direct_computation(tracks):
    out = moods.binned_means(tracks, "energy", bins=10, min_count=5)
    assert out["n"].sum() == len(tracks)  # unit features are binned on [0, 1], nothing clipped
    first = out.iloc[0]
    inside = tracks.loc[tracks["energy"].between(first["left"], first["right"], inclusive="left"),
                        "popularity"]
    assert first["n"] == len(inside)
    assert first["mean"] == pytest.approx(inside.mean())
    low, high = stats.t.interval(0.95, len(inside) - 1, loc=inside.mean(), scale=stats.sem(inside))
    assert (first["lower"], first["upper"]) == pytest.approx((low, high))


def test_binned_means_drop_sparse_bins(tracks):
    out = moods.binned_means(tracks, "energy", bins=20, min_count=25)
    assert 0 < len(out) < 20 and out["n"].min() >= 25


def test_binned_grid_masks_sparse_cells(tracks):
    grid = moods.binned_grid(tracks, bins=5, min_count=15)
    assert len(grid) == 25 and grid["n"].sum() == len(tracks)
    assert grid.loc[grid["n"] < 15, "mean"].isna().all()
    assert grid.loc[grid["n"] >= 15, "mean"].notna().all()


def test_compare_binary_reports_both_levels_and_effect(tracks):
    result = moods.compare_binary(tracks, "explicit")
    table = result["table"]
    assert table["explicit"].tolist() == [False, True]
    assert table["n"].sum() == len(tracks)
    assert -1 <= result["delta"] <= 1


def test_popularity_hist_by_shares_sum_to_one(tracks):
    out = moods.popularity_hist_by(tracks, "explicit", width=10)
    assert out["bin"].iloc[0] == "0"
    assert out.groupby("explicit")["share"].sum().tolist() == pytest.approx([1, 1])


def test_group_quantiles_are_box_statistics(tracks):
    q = moods.group_quantiles(tracks, ["energy"])
    metal = q[q["macro_genre"].eq("Metal & Punk")].iloc[0]
    values = tracks.loc[tracks["macro_genre"].eq("Metal & Punk"), "energy"]
    assert metal["median"] == pytest.approx(values.median())
    assert metal["lowerfence"] <= metal["q1"] <= metal["median"]
    assert metal["median"] <= metal["q3"] <= metal["upperfence"]
    assert q["macro_genre"].tolist() == ["Metal & Punk", "Ambient & Functional"]


def test_mood_positions_and_closest_pair(tracks):
    macro = moods.mood_positions(tracks)
    assert macro["macro_genre"].tolist() == ["Metal & Punk", "Ambient & Functional"]
    assert macro["n"].sum() == len(tracks)
    genres = moods.mood_positions(moods.genre_listings(tracks), by="genre", extra=["macro_genre"])
    assert len(genres) == 4 and set(genres["macro_genre"]) == set(macro["macro_genre"])
    first, second, distance = moods.closest_pair(genres, by="genre")
    assert first < second and distance >= 0


def test_genre_listings_one_row_per_track_and_listed_genre(tracks):
    listings = moods.genre_listings(tracks)
    assert len(listings) == tracks["genres"].str.len().sum()
    punk = listings[listings["genre"].eq("punk")]
    assert punk["macro_genre"].eq("Metal & Punk").all()
    assert set(punk["track_id"]) > set(tracks.loc[tracks["primary_genre"].eq("punk"), "track_id"])


def test_genre_table_one_row_per_listed_genre(tracks):
    table = moods.genre_table(tracks).set_index("genre")
    assert len(table) == 4 and table["primary_tracks"].sum() == len(tracks)
    assert table.loc["punk", "tracks"] > table.loc["punk", "primary_tracks"]
    assert table.loc["sleep", "tracks"] == table.loc["sleep", "primary_tracks"]
    assert table["macro_genre"].tolist()[:2] == ["Metal & Punk", "Metal & Punk"]
    assert {"energy_median", "valence_median", "danceability_median"} <= set(table.columns)
    sleep = tracks.loc[tracks["primary_genre"].eq("sleep"), "energy"].median()
    assert table.loc["sleep", "energy_median"] == pytest.approx(sleep, abs=1e-3)


def test_epsilon_squared_is_h_over_n_minus_one():
    assert moods.epsilon_squared(10.0, 101) == pytest.approx(0.1)


def test_kruskal_matches_scipy_and_ranks_by_effect(tracks):
    table = moods.kruskal_by_feature(tracks, ["energy", "valence"])
    assert table["feature"].iloc[0] == "energy"  # the built-in difference
    groups = [g.to_numpy() for _, g in tracks.groupby("macro_genre")["energy"]]
    expected = stats.kruskal(*groups)
    row = table.set_index("feature").loc["energy"]
    assert row["H"] == pytest.approx(expected.statistic)
    assert row["epsilon_squared"] == pytest.approx(expected.statistic / (len(tracks) - 1))
    assert row["magnitude"] == "large"
    assert 0 <= table["epsilon_squared"].min()


@pytest.mark.parametrize(("x", "y", "expected"), [
    ([3, 4, 5], [1, 2], 1.0),
    ([1, 2], [3, 4, 5], -1.0),
    ([1, 2, 3], [1, 2, 3], 0.0),
    ([1, 3], [2, 2], 0.0),
])
def test_cliffs_delta_known_values(x, y, expected):
    assert moods.cliffs_delta(x, y)["delta"] == pytest.approx(expected)


def test_cliffs_delta_equals_dominance_probability_difference():
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 10, 40), rng.integers(2, 12, 30)
    brute = (np.sign(x[:, None] - y[None, :])).mean()  # reference only, the function uses U
    assert moods.cliffs_delta(x, y)["delta"] == pytest.approx(brute)


def test_cliffs_delta_rejects_empty():
    with pytest.raises(ValueError, match="at least one"):
        moods.cliffs_delta([], [1.0])


def test_extreme_pairs_and_cliffs_delta_pairs(tracks):
    pairs = moods.extreme_pairs(tracks, ["energy"])
    assert pairs == [("energy", "Metal & Punk", "Ambient & Functional")]
    table = moods.cliffs_delta_pairs(tracks, pairs)
    assert table.loc[0, "delta"] == pytest.approx(1.0)
    assert table.loc[0, "magnitude"] == "large"
    with pytest.raises(KeyError, match="Polka"):
        moods.cliffs_delta_pairs(tracks, [("energy", "Polka", "Metal & Punk")])


@pytest.mark.slow
def test_real_data_headline_numbers(track_data):
    tracks = moods.add_duration_minutes(track_data.tracks)
    summary = moods.popularity_summary(tracks)
    assert summary["tracks"] == 89_740
    assert summary["zero_n"] == track_data.summary["zero_popularity_tracks"]
    table = moods.kruskal_by_feature(tracks)
    assert len(table) == len(moods.AUDIO_FEATURES)
    assert (table["groups"] == 16).all()
    assert table["epsilon_squared"].between(0, 1).all()
    assert len(moods.genre_table(tracks)) == 114


def test_strongest_correlation_and_pairs(tracks):
    spearman = moods.correlation_matrix(tracks)
    feature, rho = moods.strongest_correlation(spearman)
    others = spearman["popularity"].drop("popularity")
    assert abs(rho) == others.abs().max() and feature in others.index
    pairs = moods.strongest_pairs(spearman, k=3)
    named = {a for a, _, _ in pairs} | {b for _, b, _ in pairs}
    assert len(pairs) == 3 and "popularity" not in named
    assert [abs(r) for _, _, r in pairs] == sorted((abs(r) for _, _, r in pairs), reverse=True)


def test_popularity_summary_quotes_every_mark(tracks):
    summary = moods.popularity_summary(tracks)
    for mark in moods.POPULARITY_MARKS:
        assert summary[f"share_ge_{mark}"] == pytest.approx(tracks["popularity"].ge(mark).mean())


@pytest.mark.slow
def test_chapter_captions_hold_on_real_data(track_data):
    """The fig-caps in chapters 02 and 03 are static text; check each claim they make."""
    tracks = moods.add_duration_minutes(track_data.tracks)
    # 02-eda
    counts = moods.popularity_counts(tracks)
    assert counts["n"].idxmax() == 0  # the zero bar is the tallest
    spearman = moods.correlation_matrix(tracks)
    assert spearman["popularity"].drop("popularity").abs().max() < 0.2
    assert spearman.loc["energy", "loudness"] > 0.5
    assert spearman.loc["energy", "acousticness"] < -0.5
    duration = moods.binned_means(tracks, "duration_min")
    peak = duration.loc[duration["mean"].idxmax(), "x"]
    assert 2.5 < peak < 5 and duration["mean"].iloc[[0, -1]].max() < duration["mean"].max() - 5
    long = moods.binned_means_long(tracks)
    inner_peaks = sum(0 < int(np.argmax(p["mean"].to_numpy())) < len(p) - 1
                      for _, p in long.groupby("feature"))
    assert inner_peaks >= 0.7 * long["feature"].nunique()  # "tends to peak at middling values"
    grid = moods.binned_grid(tracks)
    solid = grid[grid["n"] >= 100]
    best, worst = solid.loc[solid["mean"].idxmax()], solid.loc[solid["mean"].idxmin()]
    assert best["x"] < 0.5 and 0.3 < best["y"] < 0.7 and worst["x"] > 0.8
    explicit = moods.compare_binary(tracks)
    table = explicit["table"].set_index("explicit")
    assert table.loc[True, "mean"] > table.loc[False, "mean"]
    assert explicit["magnitude"] == "negligible"
    # 03-genre-moods
    kw = moods.kruskal_by_feature(tracks).set_index("feature")["epsilon_squared"]
    assert moods.extreme_pairs(tracks, ["energy"]) == [
        ("energy", "Metal & Punk", "Ambient & Functional")]
    assert kw["energy"] > max(kw["valence"], kw["danceability"])
    assert kw["acousticness"] > kw[list(moods.MOOD_FEATURES)].max()
    assert kw["instrumentalness"] > max(kw["valence"], kw["danceability"])
    assert list(kw.index[:2]) == ["acousticness", "energy"]
    assert set(kw.index[-2:]) == {"liveness", "tempo"}
    macro, _ = moods.mood_map_positions(tracks)
    assert np.ptp(macro["y_median"]) > np.ptp(macro["x_median"])
    calmest = macro.sort_values("y_median")["macro_genre"].head(2).tolist()
    assert set(calmest) == {"Ambient & Functional", "Classical & Stage"}


# --- Genre moods, Figure 2: the caption and the chart's first view agree ---------------------

GENRE_MOODS = PROJECT_ROOT / "chapters" / "03-genre-moods.ipynb"


def _stored_figure(cell, name: str) -> dict:
    """The Plotly figure a chapter cell stored (its ``Plotly.newPlot`` data and layout)."""
    import json

    markup = "".join(o.get("data", {}).get("text/markdown", "") for o in cell.outputs)
    marker = f'"{DIV_ID_PREFIX}{name}",'
    rest = markup[markup.index(marker) + len(marker):].lstrip()
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(rest)
    layout, _ = decoder.raw_decode(rest[end:].lstrip(" \n,"))
    return {"data": data, "layout": layout}


def _labelled_cell(path, label: str):
    import nbformat
    import yaml

    for cell in nbformat.read(path, as_version=4).cells:
        lines = cell.source.splitlines()
        options = yaml.safe_load("\n".join(line[3:] for line in lines if line.startswith("#| ")))
        if cell.cell_type == "code" and isinstance(options, dict) and options.get("label") == label:
            return cell, options
    raise AssertionError(f"{path.name}: no cell labelled {label}")


def test_other_features_chart_opens_on_the_feature_its_caption_names():
    """The caption speaks of acousticness first; the chart must open on it (it once opened on
    speechiness), and its menu must offer it first."""
    from analysis.labels import feature_label, feature_name

    cell, options = _labelled_cell(GENRE_MOODS, "fig-moods-other")
    caption = options["fig-cap"].lower()
    named = sorted((caption.index(feature_name(f)), f) for f in moods.OTHER_FEATURES
                   if feature_name(f) in caption)
    assert named, "the caption names none of the chart's features"
    first = named[0][1]
    figure = _stored_figure(cell, "moods-other")
    assert figure["layout"]["xaxis"]["title"]["text"] == feature_label(first)
    (menu,) = figure["layout"]["updatemenus"]
    assert menu["buttons"][0]["label"] == feature_label(first)
    shown = [trace.get("visible", True) for trace in figure["data"]]
    assert shown == menu["buttons"][0]["args"][0]["visible"], "first view is the menu's first"
    assert f"opens on {feature_name(first)}" in options["fig-alt"].lower()


@pytest.mark.slow
def test_other_features_menu_follows_separation_on_real_data(track_data):
    """The menu lists the features from the sharpest separation of macro-genres to the weakest
    (so whatever the data, the chart opens where the caption's claim is strongest)."""
    from analysis.labels import feature_label

    tracks = moods.add_duration_minutes(track_data.tracks)
    order = moods.features_by_separation(moods.kruskal_by_feature(tracks), moods.OTHER_FEATURES)
    cell, _ = _labelled_cell(GENRE_MOODS, "fig-moods-other")
    (menu,) = _stored_figure(cell, "moods-other")["layout"]["updatemenus"]
    assert [b["label"] for b in menu["buttons"]] == [feature_label(f) for f in order]
    assert order[0] == "acousticness"


def test_features_by_separation_orders_by_effect_and_refuses_unknown_features():
    table = pd.DataFrame({"feature": ["energy", "tempo", "acousticness"],
                          "epsilon_squared": [0.3, 0.01, 0.4]})
    assert moods.features_by_separation(table, ["tempo", "acousticness", "energy"]) == [
        "acousticness", "energy", "tempo"]
    with pytest.raises(KeyError, match="valence"):
        moods.features_by_separation(table, ["valence"])
