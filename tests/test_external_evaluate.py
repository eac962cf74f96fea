"""analysis.external.evaluate: the in-data metrics on tiny known cases, genre averaging."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _tiny_models import TINY_MODELS_DIR, raw_input, synthetic_data

from analysis.external.evaluate import (
    INTERVAL_LEVEL,
    billboard_scores,
    genre_rows,
    interval_scores,
    popularity_scores,
    predict_over_genres,
    spearman_within,
    top_share_precision,
    with_genre,
)
from analysis.models.scoring import score_predictions


def test_popularity_scores_on_a_known_case():
    y = np.array([0, 10, 20, 65, 70, 90.0])
    pred = np.array([5, 15, 10, 60, 80, 70.0])
    p_hit = np.array([0.1, 0.2, 0.6, 0.5, 0.7, 0.9])
    genre = np.array(list("aaabbb"))
    s = popularity_scores(y, pred, p_hit, genre, min_size=3)
    assert s["n"] == 6 and s["hit_rate"] == 0.5
    assert s["mae"] == pytest.approx(np.mean([5, 5, 10, 5, 10, 20]))
    assert s["r2"] == pytest.approx(score_predictions(y, pred)["r2"])
    assert s["spearman"] == pytest.approx(1 - 6 * 4 / (6 * 35))  # rank differences 0,1,1,0,1,1
    # within a: ranks (1,2,3) vs (1,3,2) -> 0.5; within b: (1,2,3) vs (1,3,2) -> 0.5
    assert s["spearman_within_genre"] == pytest.approx(0.5) and s["genres_scored"] == 2
    # hits are the three of b; the classifier puts one non-hit (0.6) above a hit (0.5)
    assert s["hit_auc"] == pytest.approx(8 / 9)
    assert s["prediction_hit_auc"] == 1.0
    assert s["mean_hit_probability"] == pytest.approx(p_hit.mean())


def test_interval_coverage_counts_the_bounds_as_inside():
    y = np.array([0, 10, 20, 65, 70, 90.0])
    lower = np.array([0, 11, 10, 60, 50, 91.0])
    upper = np.array([5, 30, 20, 70, 60, 99.0])
    assert interval_scores(y, lower, upper) == {
        "interval_coverage": pytest.approx(3 / 6),
        "interval_mean_width": pytest.approx(np.mean([5, 19, 10, 10, 10, 8]))}
    pred, p_hit, genre = y, np.linspace(0, 1, 6), np.array(list("aaabbb"))
    plain = popularity_scores(y, pred, p_hit, genre, min_size=3)
    assert "interval_coverage" not in plain
    with_interval = popularity_scores(y, pred, p_hit, genre, min_size=3, lower=lower,
                                      upper=upper)
    assert with_interval == plain | interval_scores(y, lower, upper)
    rows = genre_rows(y, pred, p_hit, genre, lower=lower, upper=upper)
    assert [r["interval_coverage"] for r in rows] == pytest.approx([2 / 3, 1 / 3])
    assert "interval_coverage" not in genre_rows(y, pred, p_hit, genre)[0]
    from analysis.models import CONFIDENCE_LEVELS

    assert INTERVAL_LEVEL == max(CONFIDENCE_LEVELS)


def test_small_genres_are_left_out_of_the_within_mean():
    y, score = np.arange(25.0), np.arange(25.0)
    groups = np.array(["big"] * 21 + ["small"] * 4)
    assert spearman_within(y, score, groups) == (1.0, 1)
    assert spearman_within(y, -score, groups, min_size=4) == (-1.0, 2)
    mean, n = spearman_within(np.ones(30), score[:1].repeat(30), np.zeros(30))
    assert np.isnan(mean) and n == 0


def test_billboard_scores_on_a_known_case():
    target = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    p_hit = np.array([.9, .2, .8, .1, .7, .1, .1, .1, .1, .1])
    pred = np.arange(10.0)
    s = billboard_scores(target, p_hit, pred)
    assert s["hit_rate"] == 0.3
    assert s["top_decile_precision"] == 1.0  # the top 1 of 10 is the 0.9 hit
    assert s["prediction_top_decile_precision"] == 0.0  # the top 1 by prediction is a flop
    assert s["hit_auc"] == pytest.approx(19 / 21)  # 0.2 and 0.7 lose to the 0.8 flop
    assert top_share_precision(target, p_hit, 0.3) == pytest.approx(2 / 3)


def test_genre_rows_give_each_genres_numbers():
    rows = genre_rows(np.array([0, 70, 10, 90, 30.0]), np.array([5, 60, 10, 80, 50.0]),
                      np.array([.1, .7, .2, .9, .3]), np.array(list("ababb")))
    assert [(r["genre"], r["n"]) for r in rows] == [("a", 2), ("b", 3)]
    assert rows[1]["hit_rate"] == pytest.approx(2 / 3) and rows[1]["hit_auc"] == 1.0
    assert np.isnan(rows[0]["hit_auc"]) and rows[0]["mae"] == 2.5  # no hit in a


def test_with_genre_sets_the_label_and_its_macro_only():
    columns = ["energy", "genre_pop", "genre_rock", "macro_pop", "macro_rock"]
    X = pd.DataFrame([[0.5, 1.0, 0.0, 1.0, 0.0]], columns=columns)
    assert with_genre(X, "rock").iloc[0].tolist() == [0.5, 0.0, 1.0, 0.0, 1.0]
    assert with_genre(X, None).iloc[0].tolist() == [0.5, 0.0, 0.0, 0.0, 0.0]
    assert X.iloc[0].tolist() == [0.5, 1.0, 0.0, 1.0, 0.0]  # not modified


@pytest.mark.parametrize("name", ["cold_start", "known_artist"])
def test_averaging_over_genres_equals_the_mean_of_predict(name):
    from analysis.models import load

    champion = load(name, models_dir=TINY_MODELS_DIR)
    frame = raw_input(synthetic_data()[0], n=15).drop(columns=["track_id", "track_genre"])
    genres = ["pop", "k-pop", "sleep", "jazz"]
    pred, p_hit = predict_over_genres(champion, frame, genres)
    expected = np.mean([champion.predict(frame.assign(track_genre=g)) for g in genres], axis=0)
    expected_hit = np.mean([champion.predict_hit_probability(frame.assign(track_genre=g))
                            for g in genres], axis=0)
    np.testing.assert_allclose(pred, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p_hit, expected_hit, rtol=0, atol=1e-12)
    none, _ = predict_over_genres(champion, frame, [None])
    np.testing.assert_allclose(none, champion.predict(frame), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="has a track_genre"):
        predict_over_genres(champion, frame.assign(track_genre="pop"), genres)


def test_each_model_is_asked_without_the_lacking_inputs_it_was_taught_and_genre_once():
    from analysis.models import load
    from analysis.models.blanking import INPUT_GROUPS

    champion = load("cold_start", models_dir=TINY_MODELS_DIR)
    frame = raw_input(synthetic_data()[0], n=15).drop(columns=["track_id", "track_genre"])
    X = champion.features(frame)
    genres = ["pop", "k-pop", "sleep", "jazz"]
    pred, p_hit = predict_over_genres(champion, frame, genres, lacking=INPUT_GROUPS)
    # the popularity model reads no genre and was taught explicit and time signature missing
    np.testing.assert_allclose(
        pred, champion.predict_without(X, ("explicit", "time_signature")), rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        p_hit, champion.hit_probability_without(X, INPUT_GROUPS), rtol=0, atol=1e-12)
    plain_pred, _ = predict_over_genres(champion, frame, genres)
    np.testing.assert_allclose(plain_pred, champion.predict(frame), rtol=0, atol=1e-9)
    explicit_pred, explicit_unknown = predict_over_genres(champion, frame, genres,
                                                          lacking=("explicit",))
    expected = np.mean([champion.hit_probability_without(
        champion.features(frame.assign(track_genre=g)), ("explicit",)) for g in genres], axis=0)
    np.testing.assert_allclose(explicit_unknown, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(explicit_pred, champion.predict_without(X, ("explicit",)),
                               rtol=0, atol=1e-9)
    known = load("known_artist", models_dir=TINY_MODELS_DIR)  # taught nothing: fill rules stay
    known_pred, _ = predict_over_genres(known, frame, genres, lacking=INPUT_GROUPS)
    np.testing.assert_array_equal(known_pred, predict_over_genres(known, frame, genres)[0])
