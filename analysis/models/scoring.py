"""How good one set of predictions is, and how a build summarises its folds.

:func:`score_predictions` gives the accuracy and triage metrics of a popularity model,
:func:`score_hit_probabilities` those of the hit classifier; :func:`summarise_folds` turns
per-fold scores into the ``mean`` / ``sd`` / ``folds`` records of ``metrics.json``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score, roc_auc_score

from analysis.models.settings import HIT_THRESHOLD, TOP_SHARE


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
    from scipy.stats import spearmanr

    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    constant = np.ptp(y_pred) == 0 or np.ptp(y_true) == 0
    rho = spearmanr(y_true, y_pred).statistic if len(y_true) > 2 and not constant else np.nan
    return {
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "rmse": float(math.sqrt(mean_squared_error(y_true, y_pred))),
        "r2": float(r2_score(y_true, y_pred)),
        "spearman": float(rho),
        **_triage_scores(y_true, y_pred),
    }


def _triage_scores(y_true: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """ROC-AUC of ``score`` for hits and the hit share of its top 1% (ties by position)."""
    hit = np.asarray(y_true, dtype="float64") >= HIT_THRESHOLD
    score = np.asarray(score, dtype="float64")
    n_top = max(1, math.ceil(TOP_SHARE * len(score)))
    order = np.lexsort((np.arange(len(score)), -score))
    auc = roc_auc_score(hit, score) if 0 < hit.sum() < len(hit) else float("nan")
    return {"hit_auc": float(auc), "top1_precision": float(hit[order[:n_top]].mean())}


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
