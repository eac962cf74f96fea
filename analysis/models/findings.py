"""Findings the build records beside the model scores (``metrics.json`` ``findings`` and each
honest model's ``error_analysis``).

Why the leaky replica scores so well (:func:`leak_audit`, :func:`replica_genre_only_lr`,
:func:`honest_artist_mean_alone`), what the forbidden sampling artefacts would add
(:func:`sampling_artefact_finding`, never a reported model), and where a model errs
(:func:`error_analysis`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, r2_score

from analysis.features import ArtistHistory, make_sampling_artefacts
from analysis.genres import MACRO_GENRES
from analysis.models.design import Design, as_array
from analysis.models.evaluation import Result
from analysis.models.scoring import score_predictions, summarise_folds
from analysis.models.settings import POPULARITY_BANDS, Budget
from analysis.models.zoo import make_model


def leak_audit(design: Design) -> dict:
    """Why the replica scores so well: duplicated tracks and the label inside a feature."""
    rows = design.tracks
    train, test = design.extra["train"], design.extra["test"]
    train_ids = set(rows["track_id"].iloc[train])
    test_rows = rows.iloc[test]
    artist_rows = rows.groupby("artists")["popularity"].transform("size").iloc[test]
    feature = design.base["artist_popularity_all_rows"].to_numpy()[test]
    y = design.y[test]
    return {
        "rows": int(len(rows)), "train_rows": int(len(train)), "test_rows": int(len(test)),
        "test_rows_whose_track_is_also_in_train": float(
            test_rows["track_id"].isin(train_ids).mean()),
        "test_rows_whose_artist_has_one_row": float((artist_rows == 1).mean()),
        "test_rows_feature_equals_label": float(np.mean(np.isclose(feature, y))),
        "r2_of_artist_mean_alone": float(r2_score(y, feature)),
    }


def replica_genre_only_lr(design: Design) -> dict:
    """The original's Linear Regression table entry is matched by genre alone (no artist mean)."""
    rows = design.tracks
    X = pd.get_dummies(rows["track_genre"], dtype="float64")
    train, test = design.extra["train"], design.extra["test"]
    model = LinearRegression().fit(X.iloc[train], design.y[train])
    return score_predictions(design.y[test], model.predict(X.iloc[test]))


def honest_artist_mean_alone(design: Design) -> dict:
    """R² of the out-of-fold artist mean used directly as the prediction (known_artist)."""
    tracks = design.tracks
    pred = np.full(len(tracks), np.nan)
    for fold in range(design.n_folds):
        train, test = design.folds != fold, design.folds == fold
        pred[test] = ArtistHistory.fit(tracks[train]).transform(tracks[test])[
            "artist_mean_popularity"].to_numpy()
    return {"r2_of_artist_mean_alone": float(r2_score(design.y, pred)),
            "mae_of_artist_mean_alone": float(mean_absolute_error(design.y, pred))}


def sampling_artefact_finding(
    design: Design, budget: Budget, without: Result, log: Callable[[str], None]
) -> dict:
    """cold_start XGBoost (defaults) with the forbidden artefacts added. Never a champion."""
    artefacts = make_sampling_artefacts(design.tracks).reset_index(drop=True)
    counts = artefacts[["n_genre_lists", "n_song_versions", "n_album_tracks"]]
    variants = {
        "allowed_plus_3_counts": counts,
        "allowed_plus_3_counts_and_genre_membership": artefacts,
    }
    out = {
        "protocol": design.protocol, "model": "xgboost",
        "note": "Sampling artefacts are how the crawl was built, not properties of a track. "
                "Measured here as a finding; never used by any reported model or champion.",
        "allowed_features": summarise_folds(without.per_fold),
        "variants": {},
    }
    base = design.base.reset_index(drop=True)
    for label, extra in variants.items():
        X = as_array(pd.concat([base, extra], axis=1))  # deliberately bypasses check_allowed
        per_fold = []
        for fold in range(design.n_folds):
            train, test = design.folds != fold, design.folds == fold
            model = make_model("xgboost", n_jobs=budget.n_jobs).fit(X[train], design.y[train])
            per_fold.append(score_predictions(design.y[test], model.predict(X[test])))
        out["variants"][label] = {"added_columns": list(extra.columns) if len(extra.columns) < 5
                                  else [*counts.columns, "listed_in_<genre> x 114"],
                                  "metrics": summarise_folds(per_fold)}
        log(f"  finding {label}: R² {np.mean([f['r2'] for f in per_fold]):.3f}")
    return out


def error_analysis(design: Design, oof: pd.DataFrame) -> dict:
    """Where a model's out-of-fold predictions err: per macro-genre, per popularity band, on
    albums seen in training or not, and on the zero-popularity mass."""
    y = oof["y_true"].to_numpy(dtype="float64")
    pred = oof["y_pred"].to_numpy(dtype="float64")
    macro = design.macro[design.folds >= 0]
    err = pred - y
    out = {"by_macro_genre": {}, "by_popularity_band": {}}
    for m in [m for m in MACRO_GENRES if m in set(macro.tolist())]:
        mask = macro == m
        out["by_macro_genre"][m] = {
            "n": int(mask.sum()), "mae": float(np.abs(err[mask]).mean()),
            "bias": float(err[mask].mean()),
            "r2": float(r2_score(y[mask], pred[mask])) if mask.sum() > 1 else None,
            "mean_popularity": float(y[mask].mean()),
        }
    for label, lo, hi in POPULARITY_BANDS:
        mask = (y >= lo) & (y < hi)
        out["by_popularity_band"][label] = {
            "n": int(mask.sum()),
            "mae": float(np.abs(err[mask]).mean()) if mask.any() else None,
            "bias": float(err[mask].mean()) if mask.any() else None,
            "mean_prediction": float(pred[mask].mean()) if mask.any() else None,
        }
    if "album_seen" in design.extra:
        seen = design.extra["album_seen"][design.folds >= 0]
        out["by_album_seen_in_training"] = {
            label: {"n": int(mask.sum()), "share": float(mask.mean()),
                    **({k: v for k, v in score_predictions(y[mask], pred[mask]).items()
                        if k in ("r2", "mae", "hit_auc")} if mask.sum() > 2 else {})}
            for label, mask in (("seen", seen), ("unseen", ~seen))
        }
    zero = y == 0
    edges = np.arange(0, 105, 5)
    clipped = np.clip(pred, 0, 99.999)
    out["prediction_histogram"] = {
        "bin_edges": edges.tolist(),
        "true_zero": (np.histogram(clipped[zero], edges)[0] / max(1, zero.sum())).tolist(),
        "true_nonzero": (np.histogram(clipped[~zero], edges)[0] / max(1, (~zero).sum())).tolist(),
    }
    out["zero_popularity"] = {
        "share_of_tracks": float(zero.mean()),
        "mean_prediction": float(pred[zero].mean()) if zero.any() else None,
        "share_predicted_below_10": float((pred[zero] < 10).mean()) if zero.any() else None,
        "share_of_total_absolute_error": float(np.abs(err[zero]).sum() / np.abs(err).sum()),
        "mae_without_zeros": float(np.abs(err[~zero]).mean()),
        "r2_without_zeros": float(r2_score(y[~zero], pred[~zero])),
    }
    return out
