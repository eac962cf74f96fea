"""analysis.external.in_data: in-data counterparts from the committed OOF files, no training."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _tiny_models import TINY_MODELS_DIR, synthetic_data

from analysis.external.evaluate import genre_rows, interval_scores, popularity_scores
from analysis.external.in_data import (
    MATCHED_LABELS,
    in_data_counterparts,
    new_release_mask,
    oof_predictions,
)
from analysis.features import COPY_ALBUM_MARKERS, copy_album_markers, make_features
from analysis.models import CHAMPION_MODELS
from analysis.models.artifacts import model_names
from analysis.protocols import song_groups


@pytest.fixture(scope="module")
def tracks() -> pd.DataFrame:
    return synthetic_data()[0].tracks


@pytest.fixture(scope="module")
def tiny_metrics() -> dict:
    return json.loads((TINY_MODELS_DIR / "metrics.json").read_text())


def test_copy_markers_are_the_models_album_features(tracks):
    X = make_features(tracks, protocol="cold_start")
    markers = copy_album_markers(tracks)
    assert markers.any().any()  # the synthetic "Hits 2022" albums
    for name in COPY_ALBUM_MARKERS:
        assert markers[name].to_numpy().tolist() == (X[name] == 1).tolist()


def test_new_release_slice_follows_its_three_rules(tracks):
    mask = new_release_mask(tracks)
    groups = song_groups(tracks)
    versions = np.bincount(groups)[groups]
    copy = copy_album_markers(tracks).any(axis=1).to_numpy()
    assert not mask[tracks["popularity"].to_numpy() == 0].any()
    assert not mask[copy].any() and not mask[versions > 1].any()
    keep = (tracks["popularity"].to_numpy() > 0) & ~copy & (versions == 1)
    assert mask.tolist() == keep.tolist() and 0 < mask.sum() < len(tracks)


def test_counterparts_score_the_committed_oof_of_each_champion(tracks, tiny_metrics):
    out = in_data_counterparts(tracks, tiny_metrics, TINY_MODELS_DIR)
    assert list(out) == ["known_artist", "cold_start"]
    mask = new_release_mask(tracks)
    y = tracks["popularity"].to_numpy("float64")
    genre = tracks["primary_genre"].to_numpy()
    for protocol, entry in out.items():
        model = CHAMPION_MODELS[protocol]
        assert (entry["model"], entry["hit_model"]) == (model, "xgboost_hit_classifier")
        oof = pd.read_parquet(TINY_MODELS_DIR / "oof" / f"{protocol}__{model}.parquet")
        hit = pd.read_parquet(TINY_MODELS_DIR / "oof"
                              / f"{protocol}__xgboost_hit_classifier.parquet")
        aligned = oof.set_index("track_id").loc[tracks["track_id"]]
        pred = aligned["y_pred"].to_numpy()
        lower, upper = aligned["lower_90"].to_numpy(), aligned["upper_90"].to_numpy()
        p_hit = hit.set_index("track_id").loc[tracks["track_id"], "p_hit"].to_numpy()
        assert entry["all"] == popularity_scores(y, pred, p_hit, genre, lower=lower,
                                                 upper=upper)
        assert entry["all"]["interval_coverage"] == interval_scores(y, lower, upper)[
            "interval_coverage"]
        assert entry["new_release"]["n"] == int(mask.sum())
        assert entry["new_release"] == popularity_scores(y[mask], pred[mask], p_hit[mask],
                                                         genre[mask], lower=lower[mask],
                                                         upper=upper[mask])
        matched = np.isin(genre, MATCHED_LABELS)
        assert entry["by_genre"] == genre_rows(y[matched], pred[matched], p_hit[matched],
                                               genre[matched], lower=lower[matched],
                                               upper=upper[matched])
        assert {row["genre"] for row in entry["by_genre"]} <= set(MATCHED_LABELS)
        # every model of the protocol's table, not only the champion
        assert list(entry["models"]) == model_names(tiny_metrics, protocol)
        tuned = entry["models"][model]  # the champion's row equals its headline scores
        assert {k: tuned["all"][k] for k in ("spearman", "spearman_within_genre", "r2", "mae")} \
            == {k: entry["all"][k] for k in ("spearman", "spearman_within_genre", "r2", "mae")}
        assert tuned["all"]["prediction_hit_auc"] == entry["all"]["prediction_hit_auc"]
        assert tuned["new_release"]["n"] == int(mask.sum())


def test_matched_labels_are_the_labels_music_genre_maps_to():
    from analysis.external.fill import MUSIC_GENRE_LABELS
    from analysis.genres import load_taxonomy

    assert set(MATCHED_LABELS) == set(MUSIC_GENRE_LABELS.values())
    assert set(MATCHED_LABELS) <= set(load_taxonomy()["genre"])


def test_oof_files_of_other_data_are_refused(tracks):
    with pytest.raises(ValueError, match="differs from the tracks' popularity"):
        oof_predictions(tracks.assign(popularity=tracks["popularity"] + 1), "cold_start",
                        "xgboost_tuned", "y_pred", TINY_MODELS_DIR)
    other = tracks.assign(track_id=[f"{i:022d}" for i in range(len(tracks))])
    with pytest.raises(ValueError, match="have no out-of-fold prediction"):
        oof_predictions(other, "cold_start", "xgboost_tuned", "y_pred", TINY_MODELS_DIR)
