"""The feature-availability contract: tags, refusals, out-of-fold history, raw inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.features import (
    ARTIST_HISTORY_COLUMNS,
    FEATURES,
    SAMPLING_ARTEFACT,
    ArtistHistory,
    ForbiddenFeatureError,
    check_allowed,
    feature_names,
    feature_table,
    features_from_raw,
    make_features,
    make_replica_features,
    make_sampling_artefacts,
    oof_artist_history,
    with_artist_history,
)
from analysis.genres import MACRO_GENRES, load_taxonomy
from analysis.schema import AUDIO_COLUMNS, RAW_COLUMNS, TrackDataError


def _tracks(n: int = 6, **over) -> pd.DataFrame:
    frame = pd.DataFrame({
        "track_id": [f"{i:022d}" for i in range(n)],
        "artists": ["Solo"] + ["Band;Guest"] * (n - 1),
        "album_name": ["Greatest Hits Vol. 2"] + ["Night"] * (n - 1),
        "track_name": ["Night (Live) - Remastered 2011"] + ["Night"] * (n - 1),
        "popularity": np.arange(n) * 10,
        "duration_ms": 200_000, "explicit": [True] + [False] * (n - 1),
        **{c: 0.5 for c in AUDIO_COLUMNS},
        "key": 5, "mode": 1, "time_signature": 4, "tempo": 120.0, "loudness": -6.0,
        "primary_genre": ["k-pop"] + ["rock"] * (n - 1),
        "macro_genre": ["East Asian"] + ["Rock"] * (n - 1),
        "genres": [["k-pop", "pop"]] + [["rock"]] * (n - 1),
        "n_genre_lists": [2] + [1] * (n - 1), "n_song_versions": 1, "n_album_tracks": 1,
    })
    for column, value in over.items():
        frame[column] = value
    return frame


def test_every_feature_is_tagged_and_artefacts_are_never_inputs():
    table = feature_table()
    assert table["name"].is_unique
    assert set(table["availability"]) == {"intrinsic", "label", "artist_history",
                                          "sampling_artefact", "leaky"}
    for protocol in ("seed_replica", "known_artist", "cold_start"):
        names = set(feature_names(protocol))
        artefacts = {f.name for f in FEATURES if f.availability == SAMPLING_ARTEFACT}
        assert not names & artefacts
    assert set(feature_names("known_artist")) - set(feature_names("cold_start")) == set(
        ARTIST_HISTORY_COLUMNS)


def test_column_order_is_stable_and_genres_come_from_the_taxonomy():
    names = feature_names("cold_start")
    assert names == feature_names("cold_start")
    genre_columns = [n for n in names if n.startswith("genre_")]
    assert len(genre_columns) == len(load_taxonomy()) == 114
    assert len([n for n in names if n.startswith("macro_")]) == len(MACRO_GENRES)


@pytest.mark.parametrize("column, protocol", [
    ("n_genre_lists", "cold_start"), ("n_song_versions", "known_artist"),
    ("n_album_tracks", "seed_replica"), ("listed_in_pop", "known_artist"),
    ("artist_mean_popularity", "cold_start"), ("artist_popularity_all_rows", "known_artist"),
    ("not_a_feature", "cold_start"),
])
def test_forbidden_features_are_refused(column, protocol):
    with pytest.raises(ForbiddenFeatureError, match=column):
        check_allowed(["energy", column], protocol)


def test_sampling_artefacts_are_measurable_but_all_refused():
    artefacts = make_sampling_artefacts(_tracks())
    assert artefacts.loc[0, "listed_in_pop"] == 1.0
    for protocol in ("cold_start", "known_artist"):
        with pytest.raises(ForbiddenFeatureError):
            check_allowed(artefacts.columns, protocol)


def test_matrix_is_numeric_one_hot_and_in_contract_order():
    X = make_features(_tracks(), protocol="cold_start")
    assert list(X.columns) == feature_names("cold_start")
    assert all(dtype == np.float64 for dtype in X.dtypes)
    genre = X[[c for c in X.columns if c.startswith("genre_")]]
    macro = X[[c for c in X.columns if c.startswith("macro_")]]
    assert genre.sum(axis=1).eq(1).all() and macro.sum(axis=1).eq(1).all()
    first = X.iloc[0]
    assert first["explicit"] == 1 and first["genre_k_pop"] == 1 and first["macro_east_asian"] == 1
    assert first["title_live"] == 1 and first["title_remaster"] == 1
    assert first["album_compilation"] == 1 and first["is_single"] == 0
    assert X.iloc[1]["is_single"] == 1 and X.iloc[1]["n_artists"] == 2


def test_live_in_a_title_proper_is_not_a_live_marker():
    X = make_features(_tracks(track_name="Live Forever"), protocol="cold_start")
    assert X["title_live"].eq(0).all()


def test_known_artist_requires_history_and_cold_start_refuses_it():
    with pytest.raises(ValueError, match="artist_history"):
        make_features(_tracks(), protocol="known_artist")
    history = ArtistHistory.fit(_tracks())
    with pytest.raises(ForbiddenFeatureError):
        make_features(_tracks(), protocol="cold_start", artist_history=history)
    X = make_features(_tracks(), protocol="known_artist", artist_history=history)
    assert list(X.columns) == feature_names("known_artist")


def test_single_track_artist_gets_the_global_prior_out_of_fold():
    train = _tracks(8)
    history = oof_artist_history(train, np.arange(8), n_splits=4)
    solo = history.iloc[0]
    assert solo["artist_n_tracks"] == 0 and np.isnan(solo["artist_max_popularity"])
    others = train.drop(index=0)
    # The prior is the mean of the *other* inner folds, never the solo track's own label.
    assert others["popularity"].min() <= solo["artist_mean_popularity"] <= 70


def test_a_tracks_own_popularity_never_reaches_its_own_history():
    train = _tracks(10)
    groups = np.arange(10)
    before = oof_artist_history(train, groups, n_splits=5)
    for row in range(10):
        changed = train.copy()
        changed.loc[row, "popularity"] = 100 - changed.loc[row, "popularity"]
        after = oof_artist_history(changed, groups, n_splits=5)
        pd.testing.assert_series_equal(after.iloc[row], before.iloc[row])


def test_song_versions_do_not_inform_each_other():
    """Two versions of one song (one group) sit in the same inner fold: neither sees the other."""
    train = _tracks(6)
    groups = np.array([0, 1, 1, 2, 3, 4])
    history = oof_artist_history(train, groups, n_splits=3)
    changed = train.copy()
    changed.loc[2, "popularity"] = 99
    after = oof_artist_history(changed, groups, n_splits=3)
    pd.testing.assert_series_equal(after.iloc[1], history.iloc[1])


def test_with_artist_history_gives_the_known_artist_matrix():
    tracks = _tracks()
    base = make_features(tracks, protocol="cold_start")
    history = ArtistHistory.fit(tracks)
    direct = make_features(tracks, protocol="known_artist", artist_history=history)
    pd.testing.assert_frame_equal(with_artist_history(base, history.transform(tracks)), direct)


def test_replica_matrix_carries_the_leak():
    rows = _tracks(4).rename(columns={"primary_genre": "track_genre"})
    X = make_replica_features(rows)
    assert list(X.columns) == feature_names("seed_replica")
    band = rows["artists"].eq("Band;Guest")
    assert X.loc[band, "artist_popularity_all_rows"].eq(rows.loc[band, "popularity"].mean()).all()
    assert X.loc[0, "artist_popularity_all_rows"] == rows.loc[0, "popularity"]  # the label itself


# --- raw inputs ----------------------------------------------------------------------------

def _raw(**over) -> pd.DataFrame:
    frame = _tracks(3).drop(columns=["primary_genre", "macro_genre", "genres", "popularity",
                                     "n_genre_lists", "n_song_versions", "n_album_tracks"])
    frame["track_genre"] = ["k-pop", "rock", "jazz"]
    for column, value in over.items():
        frame[column] = value
    return frame


def test_raw_input_matches_the_cleaned_path():
    raw = _raw()
    X = features_from_raw(raw, protocol="cold_start", name="catalog.csv")
    cleaned = raw.assign(primary_genre=raw["track_genre"],
                         macro_genre=["East Asian", "Rock", "Jazz, Blues & Soul"])
    pd.testing.assert_frame_equal(X, make_features(cleaned, protocol="cold_start"))


def test_raw_input_may_omit_optional_columns():
    X = features_from_raw(_raw().drop(columns=["track_genre", "explicit", "track_name",
                                              "album_name", "artists", "track_id"]),
                          protocol="cold_start")
    assert X["explicit"].isna().all() and X["title_live"].isna().all()
    assert X[[c for c in X.columns if c.startswith("genre_")]].eq(0).all().all()


def test_raw_input_errors_name_file_line_and_column():
    with pytest.raises(TrackDataError) as err:
        features_from_raw(_raw(energy=[0.5, 1.5, 0.5]), protocol="cold_start", name="mine.csv")
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("mine.csv", 3, "energy")
    with pytest.raises(TrackDataError) as err:
        features_from_raw(_raw(track_genre=["k-pop", "polka", "rock"]), protocol="cold_start",
                          name="mine.csv")
    problem = err.value.problems[0]
    assert (problem.row, problem.column) == (3, "track_genre") and "polka" in problem.message
    with pytest.raises(TrackDataError, match="tempo"):
        features_from_raw(_raw().drop(columns="tempo"), protocol="cold_start")


# --- the vectorised text features equal the row-by-row code they replaced (issue 14) ------


def _old_and_new(monkeypatch, build):
    from _reference_features import _text_features as reference

    import analysis.features as features

    new = build()
    monkeypatch.setattr(features, "_text_features", reference)
    old = build()
    return old, new


def _assert_bit_identical(old: pd.DataFrame, new: pd.DataFrame) -> None:
    assert list(old.columns) == list(new.columns)
    assert old.dtypes.eq("float64").all() and new.dtypes.eq("float64").all()
    a, b = old.to_numpy(), new.to_numpy()
    same = (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))
    assert same.all(), list(old.columns[~same.all(axis=0)])


def test_vectorised_text_features_equal_the_row_by_row_code_on_edge_cases(monkeypatch):
    tricky = ["Live Forever", "Song (Live)", "LİVE (Lıve)", "Café - En Vivo", None, "",
              "Noël (Acústico)", "x (feat. Y) - Radio Edit", "Sped\x1cUp", "ǅ", " Hit ",
              "Straße - remaster", "(unclosed", "a ; b", "Ｈｉｔｓ ２０２０"]
    frame = _tracks(len(tricky))
    frame["track_name"] = tricky
    frame["album_name"] = list(reversed(tricky))
    frame["artists"] = tricky
    old, new = _old_and_new(
        monkeypatch, lambda: make_features(frame, protocol="cold_start"))
    _assert_bit_identical(old, new)


@pytest.mark.slow
def test_vectorised_features_are_bit_identical_on_every_real_track(track_data, monkeypatch):
    """Every real track as a user's raw file, and both protocols' training matrices."""
    from analysis.models import design_matrix

    tracks = track_data.tracks.reset_index(drop=True)
    raw = tracks.drop(columns=["source_index", "popularity"], errors="ignore").rename(
        columns={"primary_genre": "track_genre"})
    raw = raw[[c for c in raw.columns if c in RAW_COLUMNS]]
    old, new = _old_and_new(
        monkeypatch, lambda: features_from_raw(raw, protocol="cold_start"))
    _assert_bit_identical(old, new)
    monkeypatch.undo()
    for protocol in ("cold_start", "known_artist"):
        old, new = _old_and_new(monkeypatch, lambda p=protocol: design_matrix(tracks, p))
        _assert_bit_identical(old, new)
        monkeypatch.undo()
