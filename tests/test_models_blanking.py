"""analysis.models.blanking, and the hit classifiers trained and asked with it.

The new-artist hit classifier learns with every input a crawl may lack blanked on part of its
training rows (``HIT_CLASSIFIER_BLANKED``), and is asked with those inputs missing where a
crawl lacks them; the known-artist one keeps every input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _tiny_models import TINY, TINY_MODELS_DIR, raw_input, synthetic_data

from analysis.features import features_from_raw
from analysis.models import build as build_module
from analysis.models import champion_entry, evaluation, load, load_metrics, load_oof
from analysis.models.blanking import (
    BLANKED_SHARE,
    INPUT_GROUPS,
    as_missing,
    blank_inputs,
    input_columns,
)
from analysis.models.design import honest_design
from analysis.models.settings import CHAMPION_MODELS, HIT_CLASSIFIER_BLANKED


def test_blanking_removes_each_input_on_its_share_of_rows_reproducibly():
    X = pd.DataFrame(1.0, index=range(100), columns=["energy", "explicit", "genre_pop",
                                                      "macro_pop", "album_live"])
    blanked = blank_inputs(X, ("genre", "explicit"))
    share = round(BLANKED_SHARE * len(X))
    assert int(blanked["explicit"].isna().sum()) == share
    assert int((blanked["genre_pop"] == 0).sum()) == share
    assert (blanked["genre_pop"] == blanked["macro_pop"]).all()  # a track's flags go together
    assert blanked["album_live"].eq(1).all() and blanked["energy"].eq(1).all()
    assert not (blanked["explicit"].isna() == (blanked["genre_pop"] == 0)).all()  # independent
    pd.testing.assert_frame_equal(blanked, blank_inputs(X, ("genre", "explicit")))
    assert X.eq(1).all().all()  # not modified


def test_as_missing_blanks_every_row_of_the_inputs_named():
    X = pd.DataFrame(1.0, index=range(3), columns=["energy", "time_signature", "genre_pop",
                                                    "macro_pop", "is_single", "album_live"])
    out = as_missing(X, ("genre", "album"))
    assert out[["genre_pop", "macro_pop"]].eq(0).all().all()
    assert out[["is_single", "album_live"]].isna().all().all()
    assert out[["energy", "time_signature"]].eq(1).all().all()
    pd.testing.assert_frame_equal(as_missing(X, ()), X)
    with pytest.raises(ValueError, match="unknown input 'mood'"):
        input_columns(list(X.columns), "mood")


class _RecordingFits:
    """Stands in for ``make_hit_classifier``: records the matrix of every fit."""

    def __init__(self, real):
        self.real, self.matrices = real, []

    def __call__(self, n_jobs: int = 2):
        model, matrices = self.real(n_jobs), self.matrices
        fit = model.fit

        def recording_fit(X, y, **kwargs):
            matrices.append(np.asarray(X, dtype="float64").copy())
            return fit(X, y, **kwargs)

        model.fit = recording_fit
        return model


def _missing_share(matrix: np.ndarray, columns: list[str], group: str) -> float:
    positions = [columns.index(c) for c in input_columns(columns, group)]
    values = matrix[:, positions]
    missing = (values == 0).all(axis=1) if group == "genre" else np.isnan(values).all(axis=1)
    return float(missing.mean())


@pytest.mark.parametrize("protocol", ["cold_start", "known_artist"])
def test_each_training_fold_of_the_hit_classifier_is_blanked_as_set(protocol, monkeypatch):
    data = synthetic_data()[0]
    design = honest_design(data.tracks, protocol, TINY.n_splits)
    recorder = _RecordingFits(evaluation.make_hit_classifier)
    monkeypatch.setattr(evaluation, "make_hit_classifier", recorder)
    result = evaluation.evaluate_hit_classifier(design, TINY, log=lambda _: None)
    assert len(recorder.matrices) == design.n_folds
    columns = evaluation.fold_data(design, 0, TINY).columns
    for matrix in recorder.matrices:
        for group in INPUT_GROUPS:
            share = _missing_share(matrix, columns, group)
            if group in HIT_CLASSIFIER_BLANKED[protocol]:
                assert share == pytest.approx(BLANKED_SHARE, abs=0.01)
            elif group != "genre":  # every synthetic track has a genre
                assert share == 0.0
    # the test folds are scored as they are: the committed tiny build agrees
    committed = load_oof(protocol, "xgboost_hit_classifier", TINY_MODELS_DIR)
    np.testing.assert_allclose(result.oof["p_hit"].to_numpy(), committed["p_hit"].to_numpy(),
                               atol=1e-6)


def test_the_champion_hit_classifier_is_fitted_on_blanked_rows(monkeypatch):
    data = synthetic_data()[0]
    metrics = load_metrics(TINY_MODELS_DIR)
    params = champion_entry(metrics, "cold_start")["params"]
    oof = load_oof("cold_start", CHAMPION_MODELS["cold_start"], TINY_MODELS_DIR)
    recorder = _RecordingFits(build_module.make_hit_classifier)
    monkeypatch.setattr(build_module, "make_hit_classifier", recorder)
    trained = build_module.train_champion(
        data.tracks, "cold_start", TINY, oof, [params], [{"best_validation_rmse": 1.0}],
        log=lambda _: None)
    (matrix,) = recorder.matrices
    for group in ("album", "explicit", "time_signature"):
        assert _missing_share(matrix, trained["feature_names"], group) == pytest.approx(
            BLANKED_SHARE, abs=0.01)
    assert trained["hit_blanked"] == HIT_CLASSIFIER_BLANKED["cold_start"]
    champion = load("cold_start", models_dir=TINY_MODELS_DIR)
    assert champion.manifest["hit_classifier"]["blanked_share"] == BLANKED_SHARE
    np.testing.assert_array_equal(  # the committed classifier is this one
        trained["hit_model"].get_booster().save_raw("ubj"),
        champion.hit_booster.save_raw("ubj"))


@pytest.mark.parametrize("name", ["cold_start", "known_artist"])
def test_a_champion_records_and_honours_what_its_classifier_saw_missing(name):
    champion = load(name, models_dir=TINY_MODELS_DIR)
    assert champion.hit_blanked == HIT_CLASSIFIER_BLANKED[name]
    frame = raw_input(synthetic_data()[0], n=12)
    X = champion.features(frame)
    np.testing.assert_array_equal(champion.hit_probability_without(X, ()),
                                  champion.predict_hit_probability(frame))
    unknown = ("explicit", "time_signature")
    if champion.hit_blanked:
        expected = champion.hit_booster.inplace_predict(as_missing(X, unknown))
        np.testing.assert_allclose(champion.hit_probability_without(X, unknown), expected)
    else:
        with pytest.raises(ValueError, match="never saw .*explicit.* missing"):
            champion.hit_probability_without(X, unknown)


def test_a_frame_without_the_lacking_inputs_matches_the_missing_matrix():
    """What ``as_missing`` gives is what the features of a track without those inputs are:
    no album name -> every album feature missing; no genre -> no flag set."""
    frame = raw_input(synthetic_data()[0], n=8)
    X = features_from_raw(frame, protocol="cold_start")
    without = features_from_raw(frame.assign(album_name=pd.NA).drop(columns="track_genre"),
                                protocol="cold_start")
    pd.testing.assert_frame_equal(as_missing(X, ("genre", "album")), without,
                                  check_dtype=False)
