"""analysis.models.champion: loading, predicting from raw columns, integrity guards.

Fast tests load the champions of the committed tiny build (``tests/fixtures/tiny_models``).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from _tiny_models import TINY_MODELS_DIR, raw_input, synthetic_data

from analysis.features import feature_names, make_features
from analysis.models import MAX_TREE_DEPTH, ChampionIntegrityError, load, load_champion
from analysis.schema import AUDIO_COLUMNS, TrackDataError

HONEST = ("cold_start", "known_artist")


@pytest.fixture(scope="module")
def data():
    return synthetic_data()[0]


@pytest.fixture(scope="module")
def tiny_champions():
    """The tiny build's champions, loaded once (the tests only read them)."""
    return {name: load(name, models_dir=TINY_MODELS_DIR) for name in HONEST}


def test_load_is_load_champion():
    assert load is load_champion


@pytest.mark.parametrize("name", HONEST)
def test_champion_predicts_raw_columns_like_its_booster(data, tiny_champions, name):
    champion = tiny_champions[name]
    df = raw_input(data)
    pred = champion.predict(df)
    X = champion.features(df)
    assert list(X.columns) == feature_names(name)
    assert np.allclose(pred, champion.booster.inplace_predict(X[champion.popularity_features]))
    interval = champion.predict_interval(df, confidence=0.8)
    assert list(interval.columns) == ["prediction", "lower", "upper"]
    assert (interval["lower"] <= interval["upper"]).all()
    assert interval["lower"].ge(0).all() and interval["upper"].le(100).all()
    with pytest.raises(ValueError, match="confidence"):
        champion.predict_interval(df, confidence=0.5)
    p_hit = champion.predict_hit_probability(df)
    assert p_hit.shape == (12,) and ((p_hit > 0) & (p_hit < 1)).all()
    table = champion.predict_table(df, confidence=0.8)  # both, from one validation
    pd.testing.assert_frame_equal(table.drop(columns="hit_probability"), interval)
    assert np.array_equal(table["hit_probability"].to_numpy(), p_hit)


def test_the_new_artist_champion_follows_the_transfer_recipe(data, tiny_champions):
    from analysis.models.recipes import TRANSFER_RECIPE, columns_of
    from analysis.schema import AUDIO_COLUMNS

    champion = tiny_champions["cold_start"]
    assert champion.recipe == TRANSFER_RECIPE
    entry = champion.manifest["popularity_model"]
    assert entry["recipe"] == TRANSFER_RECIPE.name
    assert champion.popularity_features == columns_of(TRANSFER_RECIPE, champion.feature_names,
                                                      AUDIO_COLUMNS)
    assert not any(c.startswith(("genre_", "macro_", "album_")) for c in
                   champion.popularity_features)
    assert 0 < entry["learned_from_tracks"] < champion.manifest["n_train"]  # clean rows only
    df = raw_input(data)
    # genre and album no longer move the popularity model; the hit classifier still reads them
    other = df.assign(track_genre="sleep", album_name="Greatest Christmas Hits 1999")
    np.testing.assert_array_equal(champion.predict(df), champion.predict(other))
    assert list(champion.hit_booster.feature_names) == champion.feature_names
    X = champion.features(df)
    assert champion.popularity_blanked == TRANSFER_RECIPE.blanked
    unknown = champion.predict_without(X, TRANSFER_RECIPE.blanked)
    given = X.assign(**dict.fromkeys(TRANSFER_RECIPE.blanked, np.nan))[
        champion.popularity_features]
    np.testing.assert_array_equal(unknown, champion.booster.inplace_predict(given))
    with pytest.raises(ValueError, match="never saw"):
        champion.predict_without(X, ("genre",))
    known = tiny_champions["known_artist"]
    assert known.recipe is None and known.popularity_features == known.feature_names
    assert known.manifest["popularity_model"]["learned_from_tracks"] == known.manifest["n_train"]


def test_known_artist_champion_looks_up_and_overrides_history(data, tiny_champions):
    champion = tiny_champions["known_artist"]
    df = raw_input(data, 3)
    looked_up = champion.features(df)
    expected = champion.artist_history.transform(df)
    assert np.allclose(looked_up["artist_n_tracks"], expected["artist_n_tracks"])
    override = champion.features(df.assign(artist_mean_popularity=[90.0, np.nan, 5.0]))
    assert override["artist_mean_popularity"].tolist()[0::2] == [90.0, 5.0]
    assert override["artist_mean_popularity"].iloc[1] == looked_up["artist_mean_popularity"].iloc[1]
    with pytest.raises(TrackDataError, match="artists"):
        champion.predict(df.drop(columns="artists"))
    with pytest.raises(TrackDataError) as err:
        champion.predict(df.assign(artist_n_tracks=[1, -3, 2]), name="catalog.csv")
    assert (err.value.problems[0].row, err.value.problems[0].column) == (3, "artist_n_tracks")


def test_champion_validates_input_naming_line_and_column(data, tiny_champions):
    champion = tiny_champions["cold_start"]
    df = raw_input(data, 4)
    df.loc[df.index[2], "valence"] = 7.0
    with pytest.raises(TrackDataError) as err:
        champion.predict(df, name="upload.csv")
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("upload.csv", 4, "valence")


def test_load_refuses_a_tampered_champion(tmp_path):
    copy = tmp_path / "models"
    shutil.copytree(TINY_MODELS_DIR / "champions", copy / "champions")
    load("cold_start", models_dir=copy)
    model = copy / "champions" / "cold_start" / "model.ubj"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ChampionIntegrityError, match="SHA-256"):
        load("cold_start", models_dir=copy)
    (copy / "champions" / "known_artist" / "offsets.json").unlink()
    with pytest.raises(ChampionIntegrityError, match="missing"):
        load("known_artist", models_dir=copy)
    with pytest.raises(ChampionIntegrityError, match="no such champion"):
        load("cold_start", models_dir=tmp_path / "nowhere")


@pytest.mark.parametrize("models_dir", [TINY_MODELS_DIR, None], ids=["tiny", "committed"])
def test_tuned_trees_are_depth_capped(models_dir):
    for name in HONEST:
        params = load(name, models_dir=models_dir).manifest["params"]
        assert 0 < params["max_depth"] <= MAX_TREE_DEPTH


@pytest.mark.slow
@pytest.mark.parametrize("name", HONEST)
def test_committed_champion_predicts_real_rows(track_data, name):
    champion = load(name)
    tracks = track_data.tracks.head(200)
    df = tracks[["track_id", "artists", "album_name", "track_name", "duration_ms", "explicit",
                 *AUDIO_COLUMNS]].assign(track_genre=tracks["primary_genre"].to_numpy())
    pred = champion.predict(df)
    assert np.isfinite(pred).all() and 0 <= np.median(pred) <= 100
    cleaned = make_features(
        tracks, protocol=name,
        **({"artist_history": champion.artist_history} if name == "known_artist" else {}))
    assert np.allclose(pred, champion.booster.inplace_predict(
        cleaned[champion.popularity_features]))
