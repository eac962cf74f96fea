"""The model zoo: every estimator a build fits, unfitted, and how metrics.json describes it.

:func:`make_model` returns the original's Linear Regression and Random Forest, XGBoost with
library defaults, the tuned XGBoost (parameters from :func:`analysis.models.tuning.tune_xgboost`)
and the attempts at doing better; :func:`make_hit_classifier` the triage classifier. Fitting,
folds and scoring live in :mod:`analysis.models.evaluation`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from analysis.models.blanking import BLANKED_SHARE
from analysis.models.settings import (
    HGB_PARAMS,
    HIT_CLASSIFIER_SETTINGS,
    HURDLE_PARAMS,
    MAX_TREE_DEPTH,
    MODEL_NAMES,
    RECIPE_MODELS,
    XGB_DEFAULTS,
    Budget,
)
from analysis.models.tuning import TUNING_STARTS
from analysis.protocols import RANDOM_STATE


def _xgb_regressor(n_jobs: int = 2, **params):
    import xgboost as xgb

    return xgb.XGBRegressor(**{**XGB_DEFAULTS, "n_jobs": n_jobs, **params})


class HurdleRegressor(RegressorMixin, BaseEstimator):
    """Two-part model for a target with a point mass at zero.

    A classifier estimates P(popularity = 0) and a regressor the popularity of non-zero
    tracks; the prediction is the expectation ``(1 - p0) * E[y | y > 0]``. Popularity has a
    14% spike at exactly 0 (mostly compilation copies), which a single squared-error model
    blurs into its neighbours.

    Parameters
    ----------
    params : dict, optional
        XGBoost parameters shared by both parts.
    n_jobs : int
        Threads per part.
    """

    def __init__(self, params: Mapping | None = None, n_jobs: int = 2):
        self.params = params
        self.n_jobs = n_jobs

    def fit(self, X, y):
        import xgboost as xgb

        params = {**XGB_DEFAULTS, "n_jobs": self.n_jobs,
                  **(self.params or {**HURDLE_PARAMS, "n_estimators": 300})}
        y = np.asarray(y, dtype="float64")
        zero = y <= 0
        self.classifier_ = xgb.XGBClassifier(**params).fit(X, zero.astype(int))
        positive = ~zero
        X_pos = X.iloc[np.flatnonzero(positive)] if hasattr(X, "iloc") else X[positive]
        self.regressor_ = xgb.XGBRegressor(**params).fit(X_pos, y[positive])
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        p_zero = self.classifier_.predict_proba(X)[:, 1]
        return (1.0 - p_zero) * self.regressor_.predict(X)


def make_model(
    name: str, *, params: Mapping | None = None, n_trees: int = 300, n_jobs: int = 2,
    rounds: int = 300,
):
    """A fresh, unfitted estimator of the zoo.

    Parameters
    ----------
    name : str
        One of :data:`~analysis.models.settings.MODEL_NAMES`.
    params : dict, optional
        Tuned XGBoost parameters (``xgboost_tuned``, ``xgboost_monotone``, the recipe models).
    n_trees : int
        Trees of the Random Forest (the original's 300).
    n_jobs : int
        Threads (at most 2 on the build machine). Results do not depend on it.
    rounds : int
        Boosting rounds of the untuned attempts (``hist_gradient_boosting``,
        ``xgboost_hurdle``).

    Examples
    --------
    >>> make_model("linear_regression").steps[-1][0]
    'model'
    >>> make_model("random_forest", n_trees=10).n_estimators
    10
    """
    if name == "linear_regression":
        # As the original (ordinary least squares); imputing and scaling only make it runnable
        # on inputs with missing text columns and well-conditioned on duration in ms.
        return Pipeline([
            ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                     keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", LinearRegression()),
        ])
    if name == "random_forest":
        return RandomForestRegressor(n_estimators=n_trees, n_jobs=n_jobs,
                                     random_state=RANDOM_STATE)
    if name == "xgboost":
        return _xgb_regressor(n_jobs)
    if name in ("xgboost_tuned", "xgboost_monotone", *RECIPE_MODELS):
        if params is None:
            raise ValueError(f"{name} needs tuned params (see tune_xgboost)")
        return _xgb_regressor(n_jobs, **params)
    if name == "hist_gradient_boosting":
        return HistGradientBoostingRegressor(max_iter=rounds, **HGB_PARAMS)
    if name == "xgboost_hurdle":
        return HurdleRegressor({**HURDLE_PARAMS, "n_estimators": rounds}, n_jobs=n_jobs)
    raise ValueError(f"unknown model {name!r}; expected one of {MODEL_NAMES}")


def make_hit_classifier(n_jobs: int = 2):
    """A fresh hit classifier (:data:`~analysis.models.settings.HIT_CLASSIFIER_PARAMS`), to be
    fitted on popularity >= :data:`~analysis.models.settings.HIT_THRESHOLD`."""
    import xgboost as xgb

    return xgb.XGBClassifier(**HIT_CLASSIFIER_SETTINGS, n_jobs=n_jobs)


def describe_model(name: str, budget: Budget) -> dict:
    """The parameters a model ran with, for metrics.json (JSON-safe, deterministic).

    Examples
    --------
    >>> describe_model("random_forest", Budget(random_forest_trees=5, n_jobs=1))["n_estimators"]
    5
    """
    if name == "linear_regression":
        return {"estimator": "Pipeline(SimpleImputer(median, indicators), StandardScaler, "
                             "LinearRegression)"}
    if name == "random_forest":
        return {"estimator": "RandomForestRegressor", "n_estimators": budget.random_forest_trees,
                "n_jobs": budget.n_jobs, "random_state": RANDOM_STATE}
    if name == "xgboost":
        return {"estimator": "XGBRegressor (library defaults)", **XGB_DEFAULTS}
    if name == "hist_gradient_boosting":
        return {"estimator": "HistGradientBoostingRegressor", "max_iter": budget.fixed_rounds,
                **HGB_PARAMS}
    if name == "xgboost_hurdle":
        return {"estimator": "HurdleRegressor(XGBClassifier p0, XGBRegressor on y>0)",
                **XGB_DEFAULTS, **HURDLE_PARAMS, "n_estimators": budget.fixed_rounds}
    if name in RECIPE_MODELS:
        recipe = RECIPE_MODELS[name]
        return {"estimator": "XGBRegressor with the training fold's xgboost_tuned parameters, "
                             "trained by a recipe",
                "recipe": recipe.name, "drops": list(recipe.drop),
                "training_rows": recipe.training_rows, "blanked_inputs": list(recipe.blanked),
                "blanked_share": BLANKED_SHARE, **XGB_DEFAULTS}
    return {"estimator": "XGBRegressor tuned per training fold by Optuna (TPE, seeded)",
            **XGB_DEFAULTS, "n_trials": budget.n_trials, "max_trees": budget.max_trees,
            "tuning_rows": budget.tuning_rows, "early_stopping_rounds": 20,
            "max_depth_lossguide": MAX_TREE_DEPTH, "starts": list(TUNING_STARTS)}


def joblib_bytes(model) -> int:
    """Size of a fitted model saved with joblib (uncompressed), as the original stored it."""
    import joblib

    fd, tmp = tempfile.mkstemp(suffix=".joblib")
    os.close(fd)
    try:
        joblib.dump(model, tmp)
        return os.path.getsize(tmp)
    finally:
        os.unlink(tmp)
