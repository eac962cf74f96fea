"""How good one set of predictions is, and how a build summarises its folds.

:func:`spearman`, :func:`roc_auc`, :func:`top_share_precision` and :func:`spearman_within`
are the measures every score here and on the external crawls is built from;
:func:`score_predictions` gives the accuracy and triage metrics of a popularity model,
:func:`score_hit_probabilities` those of the hit classifier; :func:`summarise_folds` turns
per-fold scores into the ``mean`` / ``sd`` / ``folds`` records of ``metrics.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score, roc_auc_score

from analysis.models.settings import HIT_THRESHOLD, MIN_GENRE_TRACKS, TOP_SHARE


def spearman(y: np.ndarray, score: np.ndarray) -> float:
    """Spearman rank correlation, NaN where it does not exist (fewer than 3 values, or a
    constant side)."""
    from scipy.stats import spearmanr

    y = np.asarray(y, dtype="float64")
    score = np.asarray(score, dtype="float64")
    if len(y) < 3 or np.ptp(y) == 0 or np.ptp(score) == 0:
        return float("nan")
    return float(spearmanr(y, score).statistic)


def roc_auc(label: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of ``score`` for a boolean ``label``, NaN when one class is absent."""
    label = np.asarray(label, dtype=bool)
    if label.all() or not label.any():
        return float("nan")
    return float(roc_auc_score(label, np.asarray(score, dtype="float64")))


def top_share_precision(label: np.ndarray, score: np.ndarray, share: float) -> float:
    """Share of positives among the top ``share`` of tracks by score (at least one track; ties
    broken by position, so it is deterministic).

    Examples
    --------
    >>> top_share_precision(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.1, 0.1]), 0.5)
    0.5
    """
    label = np.asarray(label, dtype=bool)
    score = np.asarray(score, dtype="float64")
    n_top = max(1, math.ceil(share * len(score)))
    order = np.lexsort((np.arange(len(score)), -score))
    return float(label[order[:n_top]].mean())


def spearman_within(
    y: np.ndarray, score: np.ndarray, groups: np.ndarray, *, min_size: int = MIN_GENRE_TRACKS,
) -> tuple[float, int]:
    """Mean over groups of >= ``min_size`` tracks of the Spearman inside each, and how many.

    A model that only knows which groups (genres) are popular scores well pooled and near zero
    here. A group whose Spearman does not exist (constant popularity or score) is left out.

    Examples
    --------
    >>> y = np.array([1, 2, 3, 10, 20, 30.0])
    >>> spearman_within(y, np.array([3, 2, 1, 1, 2, 3.0]), np.array(list("aaabbb")),
    ...                 min_size=3)
    (0.0, 2)
    """
    import pandas as pd

    frame = pd.DataFrame({"y": np.asarray(y, "float64"), "s": np.asarray(score, "float64"),
                          "g": np.asarray(groups)})
    values = [spearman(part["y"].to_numpy(), part["s"].to_numpy())
              for _, part in frame.groupby("g", sort=True) if len(part) >= min_size]
    values = [v for v in values if np.isfinite(v)]
    return (float(np.mean(values)) if values else float("nan")), len(values)


def score_predictions(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and triage metrics of one set of predictions.

    Returns
    -------
    dict
        ``mae``, ``rmse``, ``r2``, ``spearman``; ``hit_auc`` (ROC-AUC of the predicted
        popularity as a score for popularity >= :data:`~analysis.models.settings.HIT_THRESHOLD`;
        NaN when one class is absent) and ``top1_precision`` (share of hits among the top 1% by
        prediction, ties broken by position so it is deterministic).

    Examples
    --------
    >>> m = score_predictions(np.array([0, 10, 70, 90.0]), np.array([5, 10, 60, 80.0]))
    >>> m["mae"], m["hit_auc"], m["top1_precision"]
    (6.25, 1.0, 1.0)
    """
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(math.sqrt(mean_squared_error(y_true, y_pred))),
        "r2": float(r2_score(y_true, y_pred)),
        "spearman": spearman(y_true, y_pred),
        **_triage_scores(y_true, y_pred),
    }


def _triage_scores(y_true: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """ROC-AUC of ``score`` for hits and the hit share of its top 1% (ties by position)."""
    hit = np.asarray(y_true, dtype="float64") >= HIT_THRESHOLD
    return {"hit_auc": roc_auc(hit, score), "top1_precision": top_share_precision(hit, score,
                                                                                  TOP_SHARE)}


def score_hit_probabilities(y_true: np.ndarray, p_hit: np.ndarray) -> dict[str, float]:
    """Triage metrics of a hit classifier: ``hit_auc`` and ``top1_precision`` as in
    :func:`score_predictions`, plus the Brier score, the log loss and the observed hit rate
    (a probability can rank well and still be miscalibrated; these two would show it).

    Examples
    --------
    >>> m = score_hit_probabilities(np.array([0, 10, 70, 90.0]), np.array([.1, .2, .7, .9]))
    >>> m["hit_auc"], round(m["brier"], 4), m["hit_rate"]
    (1.0, 0.0375, 0.5)
    """
    from sklearn.metrics import brier_score_loss, log_loss

    hit = (np.asarray(y_true, dtype="float64") >= HIT_THRESHOLD).astype("float64")
    p_hit = np.clip(np.asarray(p_hit, dtype="float64"), 0.0, 1.0)
    return {
        **_triage_scores(y_true, p_hit),
        "brier": float(brier_score_loss(hit, p_hit)),
        "log_loss": float(log_loss(hit, p_hit, labels=[0.0, 1.0])),
        "hit_rate": float(hit.mean()),
    }


def summarise_folds(per_fold: Sequence[Mapping[str, float]]) -> dict[str, dict]:
    """mean ± sd (ddof=1; null with one fold) and the per-fold values of every metric.

    Non-finite fold values (a fold without hits has no ROC-AUC) are kept in ``folds`` and
    left out of the mean and sd.

    Examples
    --------
    >>> summarise_folds([{"r2": 0.5}, {"r2": 0.7}])["r2"]["folds"]
    [0.5, 0.7]
    """
    out = {}
    for metric in per_fold[0]:
        values = np.array([fold[metric] for fold in per_fold], dtype="float64")
        finite = values[np.isfinite(values)]
        out[metric] = {
            "mean": float(finite.mean()) if len(finite) else None,
            "sd": float(finite.std(ddof=1)) if len(finite) > 1 else None,
            "folds": values.tolist(),
        }
    return out


def summarise_values(values: Sequence[float]) -> dict:
    """mean, sd (ddof=1), per-fold values and total of one timing (``metrics.json`` timings)."""
    array = np.asarray(values, dtype="float64")
    return {"mean": float(array.mean()), "sd": float(array.std(ddof=1)) if len(array) > 1 else None,
            "folds": array.tolist(), "total": float(array.sum())}
