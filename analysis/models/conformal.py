"""Conformal prediction intervals: split-conformal offsets per macro-genre (Mondrian), via MAPIE.

Within each training fold, grouped inner cross-validation (the protocol's own grouping) gives
out-of-group residuals (:mod:`analysis.models.evaluation`), and one MAPIE
:class:`~mapie.regression.SplitConformalRegressor` per macro-genre turns them into offsets
``prediction ± q`` (:func:`conformal_offsets`). The champions store the same offsets,
computed from the out-of-fold residuals of the full cross-validation; :func:`apply_offsets`
turns a prediction into an interval and :func:`coverage` says how often intervals held.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from analysis.genres import MACRO_GENRES
from analysis.models.settings import CONFIDENCE_LEVELS, POPULARITY_BOUNDS, level_key


class _Precomputed(RegressorMixin, BaseEstimator):
    """A 'fitted regressor' whose prediction is its single input column.

    Lets MAPIE's split-conformal machinery calibrate predictions that were made elsewhere
    (out-of-group, by models that never saw the calibration rows).
    """

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def predict(self, X):
        return np.asarray(X, dtype="float64")[:, 0]


def _split_conformal_quantiles(
    y_pred: np.ndarray, y_true: np.ndarray, levels: Sequence[float]
) -> list[float]:
    from mapie.regression import SplitConformalRegressor

    X = np.asarray(y_pred, dtype="float64")[:, None]
    regressor = SplitConformalRegressor(
        estimator=_Precomputed().fit(X), confidence_level=list(levels), prefit=True,
        conformity_score="absolute",
    )
    regressor.conformalize(X, np.asarray(y_true, dtype="float64"))
    _, bounds = regressor.predict_interval(np.zeros((1, 1)))
    return [float(bounds[0, 1, i]) for i in range(len(levels))]


def conformal_offsets(
    y_pred: np.ndarray, y_true: np.ndarray, strata: np.ndarray | None = None, *,
    levels: Sequence[float] = CONFIDENCE_LEVELS,
) -> dict:
    """Split-conformal half-widths, globally and per stratum (Mondrian), via MAPIE.

    ``y_pred`` must come from models that did not train on the rows (or their groups):
    out-of-fold predictions. Each stratum (macro-genre) gets its own
    :class:`~mapie.regression.SplitConformalRegressor` on absolute residuals, so coverage
    holds within every stratum, not only on average.

    Returns
    -------
    dict
        ``{"global": {"0.8": q, ...}, "by_stratum": {name: {"0.8": q, ...}}, "n": {...}}``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pred = rng.uniform(0, 100, 400)
    >>> y = pred + rng.normal(0, 1, 400) * np.where(np.arange(400) < 200, 1, 10)
    >>> o = conformal_offsets(pred, y, np.where(np.arange(400) < 200, "calm", "wild"))
    >>> o["by_stratum"]["calm"]["0.9"] < o["global"]["0.9"] < o["by_stratum"]["wild"]["0.9"]
    True
    """
    keys = [level_key(level) for level in levels]
    y_pred = np.asarray(y_pred, dtype="float64")
    y_true = np.asarray(y_true, dtype="float64")
    out: dict = {"global": dict(zip(keys, _split_conformal_quantiles(y_pred, y_true, levels),
                                    strict=True)),
                 "by_stratum": {}, "n": {}, "fallback_to_global": {}}
    if strata is not None:
        strata = np.asarray(strata)
        for stratum in sorted(set(strata.tolist())):
            inside = strata == stratum
            n = int(inside.sum())
            out["n"][stratum] = n
            # MAPIE needs more than 1 / (1 - level) calibration points (11 for 90%); a smaller
            # stratum would get an infinite interval, so it borrows the global offset.
            usable = [lv for lv in levels if n > max(1 / (1 - lv), 1 / lv) + 1e-6]
            values = dict(zip([level_key(lv) for lv in usable], _split_conformal_quantiles(
                y_pred[inside], y_true[inside], usable), strict=True)) if usable else {}
            missing = [k for k in keys if k not in values]
            if missing:
                out["fallback_to_global"][stratum] = missing
            out["by_stratum"][stratum] = {k: values.get(k, out["global"][k]) for k in keys}
    return out


def apply_offsets(
    y_pred: np.ndarray, strata: np.ndarray | None, offsets: Mapping, level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds ``prediction ± q`` (Mondrian when a stratum has its own ``q``),
    clipped to the popularity scale 0–100.

    Examples
    --------
    >>> offsets = {"global": {"0.9": 10.0}, "by_stratum": {"calm": {"0.9": 2.0}}}
    >>> lower, upper = apply_offsets(np.array([50.0, 95.0]), np.array(["calm", "wild"]),
    ...                              offsets, 0.9)
    >>> lower.tolist(), upper.tolist()
    ([48.0, 85.0], [52.0, 100.0])
    """
    key = level_key(level)
    q = np.full(len(y_pred), offsets["global"][key], dtype="float64")
    if strata is not None:
        for stratum, values in offsets.get("by_stratum", {}).items():
            q[np.asarray(strata) == stratum] = values[key]
    lower = np.clip(y_pred - q, *POPULARITY_BOUNDS)
    upper = np.clip(y_pred + q, *POPULARITY_BOUNDS)
    return lower, upper


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray, strata: np.ndarray) -> dict:
    """Share of ``y`` inside its interval and mean width, overall and per macro-genre
    (in :data:`~analysis.genres.MACRO_GENRES` order)."""
    inside = (y >= lower) & (y <= upper)
    width = upper - lower
    out = {"coverage": float(inside.mean()), "mean_width": float(width.mean()),
           "by_macro_genre": {}}
    for stratum in [m for m in MACRO_GENRES if m in set(strata.tolist())]:
        mask = strata == stratum
        out["by_macro_genre"][stratum] = {
            "coverage": float(inside[mask].mean()), "mean_width": float(width[mask].mean()),
            "n": int(mask.sum()),
        }
    return out
