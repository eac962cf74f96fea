"""Tests for analysis.outliers: audio-atypical tracks and over-/under-performers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _mood_tracks import make_oof, make_outlier_tracks

from analysis import outliers
from analysis.models import oof_models


@pytest.fixture(scope="module")
def tracks() -> pd.DataFrame:
    return make_outlier_tracks()


@pytest.fixture(scope="module")
def listed(tracks) -> pd.DataFrame:
    """The top three atypical tracks of each macro-genre (one forest per group: computed once)."""
    return outliers.audio_atypical(tracks, top=3)


def test_scores_are_deterministic_and_aligned(tracks):
    first = outliers.atypicality_scores(tracks)
    second = outliers.atypicality_scores(tracks)
    pd.testing.assert_series_equal(first, second)
    assert first.index.equals(tracks.index) and first.notna().all()


def test_planted_outlier_tops_its_macro_genre_with_reasons(tracks, listed):
    metal = listed[listed["macro_genre"].eq("Metal & Punk")]
    top = metal.iloc[0]
    assert top["track_id"] == tracks.attrs["odd"] and top["rank"] == 1
    reasons = {feature: (value, high) for feature, value, _, high in top["reasons"]}
    assert reasons["energy"] == (pytest.approx(0.01), False)
    assert reasons["loudness"] == (-40.0, False)
    assert set(top["features"].split(", ")) == set(reasons)


def test_every_group_gets_a_list_in_display_order(tracks):
    listed = outliers.audio_atypical(tracks, top=4)
    assert listed["macro_genre"].unique().tolist() == ["Metal & Punk", "Ambient & Functional"]
    assert listed.groupby("macro_genre")["rank"].apply(list).map(len).eq(4).all()
    assert listed["reasons"].map(len).le(3).all()
    assert listed.equals(outliers.audio_atypical(tracks, top=4))  # run to run


def test_one_per_song_keeps_the_most_atypical_version(tracks):
    odd = tracks["track_id"].eq(tracks.attrs["odd"])
    copy = tracks[odd].assign(track_id="copy-of-odd")
    with_copy = pd.concat([tracks, copy], ignore_index=True)
    listed = outliers.audio_atypical(with_copy, top=3)
    assert listed["song_id"].is_unique if "song_id" in listed else True
    assert listed["track_id"].isin(["copy-of-odd", tracks.attrs["odd"]]).sum() == 1
    both = outliers.audio_atypical(with_copy, top=3, one_per_song=False)
    assert both["track_id"].isin(["copy-of-odd", tracks.attrs["odd"]]).sum() == 2


def test_tail_shares_two_sided():
    group = pd.DataFrame({"x": [0.0, 0.0, 0.0, 0.5, 1.0]})
    shares = outliers.tail_shares(group, group, ["x"])
    assert shares["x"].tolist() == [0.6, 0.6, 0.6, 0.4, 0.2]
    assert shares["x__high"].tolist() == [False, False, False, True, True]


def test_no_reason_when_no_feature_is_extreme():
    group = pd.DataFrame({f: np.linspace(0, 1, 101) for f in ("energy", "valence")})
    reasons = outliers.atypical_reasons(group, group.iloc[[50]], features=["energy", "valence"])
    assert reasons.iloc[0] == ()


def test_seed_agreement_is_a_share(tracks, listed):
    assert outliers.seed_agreement(tracks, listed, seed=outliers.RANDOM_STATE) == 1.0
    assert 0 <= outliers.seed_agreement(tracks, listed) <= 1


def test_list_agreement():
    a = pd.DataFrame({"macro_genre": ["Pop", "Rock"], "track_id": ["x", "x"]})
    b = pd.DataFrame({"macro_genre": ["Pop", "Pop"], "track_id": ["x", "x"]})
    assert outliers.list_agreement(a, b) == 0.5


# --- over- and under-performers -----------------------------------------------------------------


def test_performer_scores_standardise_within_fold(tracks):
    scored = outliers.performer_scores(make_oof(tracks))
    for _, fold in scored.groupby("fold"):
        assert fold["z"].std() == pytest.approx(1.0)
    assert scored.loc[0, "exceedance"] == pytest.approx(99 - 55)
    assert scored.loc[1, "exceedance"] == pytest.approx(2 - 45)


@pytest.mark.parametrize("intervals", [True, False, "levels"])
def test_over_and_under_performers(tracks, intervals):
    oof = make_oof(tracks, intervals=intervals)
    over = outliers.rank_performers(oof, tracks, direction="over", top=5)
    under = outliers.rank_performers(oof, tracks, direction="under", top=5)
    assert over.loc[0, "track_id"] == tracks.loc[0, "track_id"]
    assert under.loc[0, "track_id"] == tracks.loc[1, "track_id"]
    assert tracks.loc[2, "track_id"] not in set(under["track_id"])  # popularity 0 left out
    assert over["rank"].tolist() == [1, 2, 3, 4, 5]
    assert ("exceedance" in over) is bool(intervals)
    assert {"track_name", "primary_artist", "expected", "actual", "z"} <= set(over.columns)


def test_under_performers_skip_songs_with_other_versions(tracks):
    tracks = tracks.copy()
    tracks.loc[1, "n_song_versions"] = 2
    under = outliers.rank_performers(make_oof(tracks), tracks, direction="under", top=5)
    assert tracks.loc[1, "track_id"] not in set(under["track_id"])
    kept = outliers.rank_performers(make_oof(tracks), tracks, direction="under", top=5,
                                    single_version_only=False)
    assert kept.loc[0, "track_id"] == tracks.loc[1, "track_id"]


def test_rank_performers_rejects_bad_arguments(tracks):
    oof = make_oof(tracks, intervals=False)
    with pytest.raises(ValueError, match="direction"):
        outliers.rank_performers(oof, tracks, direction="sideways")
    with pytest.raises(ValueError, match="prediction-interval columns"):
        outliers.rank_performers(oof, tracks, direction="over", by="exceedance")


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda f: f.drop(columns="y_pred"), r"missing column\(s\) \['y_pred'\]"),
    (lambda f: pd.concat([f, f.iloc[[3]]], ignore_index=True), r"row \d+, column 'track_id'"),
    (lambda f: f.assign(y_pred=f["y_pred"].where(f.index != 7)), r"row 7, column 'y_pred'"),
])
def test_validate_oof_names_row_and_column(tracks, mutate, message):
    with pytest.raises(ValueError, match=message):
        outliers.validate_oof(mutate(make_oof(tracks)), name="x.parquet")


def test_load_oof_reads_and_lists_models(tmp_path, tracks):
    (tmp_path / "oof").mkdir()
    make_oof(tracks).to_parquet(tmp_path / "oof" / "cold_start__ridge.parquet")
    make_oof(tracks).to_parquet(tmp_path / "oof" / "random__ridge.parquet")
    make_oof(tracks).rename(columns={"y_pred": "p_hit"}).to_parquet(
        tmp_path / "oof" / "cold_start__hit_classifier.parquet")
    assert oof_models("cold_start", tmp_path, column="y_pred") == ["ridge"]
    assert oof_models("cold_start", tmp_path) == ["hit_classifier", "ridge"]
    assert len(outliers.read_oof("cold_start", "ridge", tmp_path)) == len(tracks)
    with pytest.raises(FileNotFoundError, match=r"available: \['hit_classifier', 'ridge'\]"):
        outliers.read_oof("cold_start", "xgboost", tmp_path)


@pytest.mark.slow
def test_real_data_lists_every_macro_genre(track_data):
    from analysis.genres import MACRO_GENRES

    listed = outliers.audio_atypical(track_data.tracks, top=5)
    assert listed["macro_genre"].unique().tolist() == list(MACRO_GENRES)
    assert len(listed) == 5 * len(MACRO_GENRES)
    assert listed["track_id"].is_unique


def test_best_oof_model_and_performer_lists(tmp_path, tracks):
    assert outliers.best_oof_model(models_dir=tmp_path) is None
    assert outliers.performer_lists(tracks, models_dir=tmp_path) is None
    (tmp_path / "oof").mkdir()
    good = make_oof(tracks)
    bad = good.assign(y_pred=good["y_pred"] + 30)
    good.to_parquet(tmp_path / "oof" / "cold_start__xgboost.parquet")
    bad.to_parquet(tmp_path / "oof" / "cold_start__baseline.parquet")
    assert outliers.best_oof_model(models_dir=tmp_path) == "xgboost"
    lists = outliers.performer_lists(tracks, models_dir=tmp_path, top=5)
    assert lists["model"] == "xgboost" and lists["by"] == "exceedance"
    assert len(lists["over"]) == len(lists["under"]) == 5
    assert lists["excluded_zero"] == 1  # the planted zero-popularity track


def test_interval_levels_from_the_modeling_layout(tracks):
    oof = make_oof(tracks, intervals="levels")
    assert outliers.interval_columns(oof) == ("lower_90", "upper_90")
    assert outliers.interval_columns(oof, level=80) == ("lower_80", "upper_80")
    with pytest.raises(ValueError, match="no 95% interval"):
        outliers.interval_columns(oof, level=95)
    scored = outliers.performer_scores(oof, level=80)
    assert scored.loc[0, "exceedance"] == pytest.approx(99 - 50)  # y_pred 30 + 20
    assert outliers.interval_columns(make_oof(tracks, intervals=False)) is None


def test_best_model_prefers_intervals(tmp_path, tracks):
    (tmp_path / "oof").mkdir()
    plain = make_oof(tracks, intervals=False)
    plain.to_parquet(tmp_path / "oof" / "cold_start__ridge.parquet")  # same RMSE, no interval
    make_oof(tracks, intervals="levels").to_parquet(
        tmp_path / "oof" / "cold_start__xgboost_tuned.parquet")
    assert outliers.best_oof_model(models_dir=tmp_path) == "xgboost_tuned"
    lists = outliers.performer_lists(tracks, models_dir=tmp_path, top=3)
    assert lists["level"] == 90
