"""analysis.triage.triage: one scoring function, its output contract, filters and rejects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.features import REQUIRED_RAW_COLUMNS
from analysis.schema import AUDIO_COLUMNS, TrackDataError
from analysis.triage import (
    OUTPUT_COLUMNS,
    REASON_COLUMNS,
    REJECT_COLUMNS,
    LikeTrackError,
    NoValidRowError,
    StaleExportError,
    load_context,
    make_catalogue,
    triage,
)
from analysis.triage.core import format_reason, rank_order


@pytest.fixture(scope="module")
def context():
    return load_context("cold_start")


@pytest.fixture(scope="module")
def catalogue():
    return make_catalogue(60)


def test_output_contract_columns_order_and_accounting(context, catalogue):
    bad = catalogue.copy()
    bad["tempo"] = bad["tempo"].astype(object)
    bad.loc[3, "tempo"] = "fast"
    bad.loc[7, "energy"] = 1.5
    bad.loc[7, "valence"] = -1.0
    bad.loc[9, "track_genre"] = "polka"
    result = triage(bad, context=context, source="mine.csv")
    assert list(result.ranked.columns) == list(OUTPUT_COLUMNS)
    assert list(result.rejects.columns) == list(REJECT_COLUMNS)
    assert result.n_read == len(result.ranked) + result.rejects["line"].nunique() == 60
    assert result.rejects.values.tolist() == [
        [5, "tempo", "fast", "expected a number, got 'fast'"],
        [9, "energy", "1.5", "must be between 0 and 1, got 1.5"],
        [9, "valence", "-1.0", "must be between 0 and 1, got -1.0"],
        [11, "track_genre", "polka", "unknown genre 'polka': expected one of the 114 labels in "
                                     "analysis/macro_genres.csv"],
    ]
    assert result.ranked["rank"].tolist() == list(range(1, 58))
    assert not set(result.ranked["line"]) & {5, 9, 11}


def test_ranking_order_and_ties_by_line():
    scored = {"p_hit": np.array([0.5, 0.5, 0.5, 0.9]),
              "predicted_popularity": np.array([40.0, 50.0, 40.0, 1.0]),
              "line": np.array([9, 8, 2, 30])}
    assert rank_order(scored).tolist() == [3, 1, 2, 0]


def test_scores_are_the_champions(context, catalogue):
    result = triage(catalogue, context=context)
    ranked = result.ranked.sort_values("line")
    raw = catalogue.reset_index(drop=True)
    champion = context.champion
    assert np.array_equal(ranked["predicted_popularity"].to_numpy(), champion.predict(raw))
    assert np.array_equal(ranked["p_hit"].to_numpy(), champion.predict_hit_probability(raw))
    for level in (80, 90):
        interval = champion.predict_interval(raw, confidence=level / 100)
        assert np.array_equal(ranked[f"lower_{level}"].to_numpy(), interval["lower"].to_numpy())
        assert np.array_equal(ranked[f"upper_{level}"].to_numpy(), interval["upper"].to_numpy())
    p = result.ranked["p_hit"].to_numpy()
    assert (np.diff(p) <= 0).all()


def test_out_of_distribution_uses_the_export_ranges_in_column_order(context, catalogue):
    stats = json.loads((paths.export_dir() / "cold_start.json").read_text())["metadata"][
        "feature_stats"]
    rows = catalogue.head(3).copy()
    for column in (*AUDIO_COLUMNS, "duration_ms"):
        rows[column] = stats[column]["quantiles"]["0.5"]
    rows.loc[0, "tempo"] = stats["tempo"]["quantiles"]["0.995"] + 1
    rows.loc[0, "danceability"] = stats["danceability"]["quantiles"]["0.005"] / 2
    rows.loc[1, "duration_ms"] = 10
    result = triage(rows, context=context).ranked.set_index("line").sort_index()
    assert result["ood_reason"].tolist() == ["danceability, tempo", "duration_ms", ""]
    assert result["out_of_distribution"].tolist() == [True, True, False]
    no_genre = triage(rows.drop(columns="track_genre"), context=context).ranked
    assert no_genre["ood_reason"].str.endswith("track_genre").all()
    assert no_genre["macro_genre"].isna().all()


def test_optional_columns_may_be_absent(context, catalogue):
    minimal = catalogue[list(REQUIRED_RAW_COLUMNS)]
    result = triage(minimal, context=context)
    assert len(result.ranked) == len(catalogue)
    assert result.ranked["track_id"].isna().all() and result.ranked["explicit"].isna().all()
    with pytest.raises(TrackDataError, match="tempo"):
        triage(catalogue.drop(columns="tempo"), context=context)


def test_no_valid_row_is_an_error(context, catalogue):
    broken = catalogue.head(3).assign(energy=2.0)
    with pytest.raises(NoValidRowError, match="no valid row: all 3 rows were rejected"):
        triage(broken, context=context)


def test_filters_ranges_genres_explicit_and_shortlist(context, catalogue):
    everything = triage(catalogue, context=context).ranked
    chosen = triage(catalogue, context=context, shortlist=5, filters={
        "macro_genres": ["Pop", "Rock"], "energy": (0.2, 0.9), "explicit": False,
        "duration_ms": (150_000, 280_000)}).ranked
    expected = everything[everything["macro_genre"].isin(["Pop", "Rock"])
                          & everything["energy"].between(0.2, 0.9)
                          & ~everything["explicit"].astype(bool)
                          & everything["duration_ms"].between(150_000, 280_000)]
    assert chosen["line"].tolist() == expected["line"].head(5).tolist()
    assert chosen["rank"].tolist() == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="unknown macro-genre"):
        triage(catalogue, context=context, filters={"macro_genres": ["Polka"]})


def test_like_returns_the_nearest_other_tracks(context, catalogue):
    from analysis.triage.scoring import LIKE_COLUMNS, like_matrix, like_scale

    reference = catalogue["track_id"].iloc[4]
    result = triage(catalogue, context=context, filters={"like": reference, "neighbours": 6})
    assert len(result.ranked) == 6 and reference not in set(result.ranked["track_id"])
    coords = like_matrix(catalogue, like_scale(context))
    distance = np.sqrt(((coords - coords[4]) ** 2).sum(axis=1))
    distance[4] = np.inf
    nearest = set((np.argsort(distance, kind="stable")[:6] + 2).tolist())
    assert set(result.ranked["line"]) == nearest
    assert len(LIKE_COLUMNS) == 9
    with pytest.raises(LikeTrackError):
        triage(catalogue, context=context, filters={"like": "0" * 22})


def test_reason_text():
    assert format_reason("genre", 4.24) == "genre +4.2"
    assert format_reason("album-name markers", -3.06) == "album-name markers −3.1"
    assert format_reason("energy", -0.01) == "energy +0.0"


@pytest.mark.slow
def test_reasons_only_for_the_first_rows_and_they_add_up(context, catalogue):
    from analysis.trees import BIAS, tree_contributions

    result = triage(catalogue, context=context, explain=4)
    ranked = result.ranked
    assert list(ranked.columns) == [*OUTPUT_COLUMNS, *REASON_COLUMNS]
    assert ranked.loc[:3, "reason_1"].ne("").all() and ranked.loc[4:, "reason_1"].eq("").all()
    first = catalogue.iloc[[int(ranked.loc[0, "line"]) - 2]].reset_index(drop=True)
    contributions = tree_contributions(
        context.champion.booster,
        context.champion.features(first)[context.champion.popularity_features])
    total = contributions.drop(columns=BIAS).sum(axis=1).iloc[0] + contributions[BIAS].iloc[0]
    assert total == pytest.approx(ranked.loc[0, "predicted_popularity"], abs=1e-3)


def test_stale_export_is_refused(tmp_path, monkeypatch):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(paths.MODELS_DIR / "champions", models / "champions")
    (models / "export").mkdir()
    document = json.loads((paths.export_dir() / "cold_start.json").read_text())
    document["metadata"]["champion"]["n_trees"] += 1
    (models / "export" / "cold_start.json").write_text(json.dumps(document))
    with pytest.raises(StaleExportError, match="n_trees"):
        load_context("cold_start", models_dir=models)


def test_a_path_is_read_like_the_command_line(context, tmp_path, catalogue):
    path = tmp_path / "c.csv"
    catalogue.to_csv(path, index=False)
    from_file = triage(path, context=context)
    from_frame = triage(catalogue, context=context, source=str(path))
    pd.testing.assert_frame_equal(from_file.ranked, from_frame.ranked)
    assert from_file.source == str(path)


def test_audio_columns_are_required():
    assert set(AUDIO_COLUMNS) < set(REQUIRED_RAW_COLUMNS)
