"""Tuning the XGBoost models inside one training fold (Optuna, seeded, sequential).

:func:`tune_xgboost` never sees an outer test fold: the evaluation engine
(:mod:`analysis.models.evaluation`) calls it with a training fold and that fold's own grouped
validation part, and the champion reuses the parameters of one outer fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.artifacts import clean_json
from analysis.models.design import as_array
from analysis.models.settings import (
    DEFAULT_BUDGET,
    HUBER_SLOPE_RANGE,
    MAX_TREE_DEPTH,
    TUNED_OBJECTIVE,
    XGB_DEFAULTS,
    Budget,
)
from analysis.protocols import RANDOM_STATE

#: Trials every tuning starts from: XGBoost's own default tree shape, and leaf-wise trees
#: shaped like the HistGradientBoosting attempt (63 leaves, 40-track leaves), both with a
#: pseudo-Huber slope of 30 points. The search can only improve on them (on the
#: tuner's validation part).
TUNING_STARTS: tuple[dict, ...] = (
    {"grow_policy": "depthwise", "max_depth": 6, "min_child_weight": 1.0, "subsample": 1.0,
     "colsample_bytree": 1.0, "reg_lambda": 1.0, "learning_rate": 0.3, "huber_slope": 30.0},
    {"grow_policy": "lossguide", "max_leaves": 63, "min_child_weight": 40.0, "subsample": 1.0,
     "colsample_bytree": 1.0, "reg_lambda": 1.0, "learning_rate": 0.1, "huber_slope": 30.0},
)


def tune_xgboost(
    X: pd.DataFrame, y: np.ndarray, validation: np.ndarray, *, budget: Budget = DEFAULT_BUDGET,
    random_state: int = RANDOM_STATE,
) -> tuple[dict, dict]:
    """Optuna (TPE, seeded, sequential) search on one grouped train/validation split.

    Searches tree shape, regularisation, learning rate and the pseudo-Huber slope of
    :data:`~analysis.models.settings.TUNED_OBJECTIVE`; trials are compared by validation RMSE.

    Called with a *training fold only*: ``validation`` marks the tuner's validation part
    (inner fold 0 of :func:`analysis.protocols.inner_folds`, group-disjoint from the rest).
    The number of trees comes from early stopping on that part; the returned parameters fix
    it, so refitting on the whole training fold needs no validation data.

    Returns
    -------
    tuple of dict
        Parameters for :func:`~analysis.models.zoo.make_model` and a summary (best validation
        RMSE, trials).
    """
    import optuna
    import xgboost as xgb

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    validation = np.asarray(validation, dtype=bool)
    fit_rows = np.flatnonzero(~validation)
    if budget.tuning_rows < 1.0:
        rng = np.random.default_rng(random_state)
        keep = max(1, int(round(budget.tuning_rows * len(fit_rows))))
        fit_rows = np.sort(rng.choice(fit_rows, size=keep, replace=False))
    X = as_array(X)
    X_fit, y_fit = X[fit_rows], y[fit_rows]
    X_val, y_val = X[validation], y[validation]
    best_trees: dict[int, int] = {}

    def objective(trial: optuna.Trial) -> float:
        policy = trial.suggest_categorical("grow_policy", ["depthwise", "lossguide"])
        if policy == "depthwise":
            shape = {"max_depth": trial.suggest_int("max_depth", 4, 10)}
        else:  # leaf-wise growth, as HistGradientBoosting grows its trees, depth capped
            shape = {"max_depth": MAX_TREE_DEPTH,
                     "max_leaves": trial.suggest_int("max_leaves", 16, 256, log=True)}
        params = {
            "grow_policy": policy, **shape,
            "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 200.0, log=True),
            "subsample": trial.suggest_float("subsample", 0.6, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 0.1, 100.0, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.05, 0.3, log=True),
            "huber_slope": trial.suggest_float("huber_slope", *HUBER_SLOPE_RANGE),
        }
        model = xgb.XGBRegressor(
            **XGB_DEFAULTS, objective=TUNED_OBJECTIVE, n_jobs=budget.n_jobs, **params,
            n_estimators=budget.max_trees, early_stopping_rounds=20, eval_metric="rmse",
        )
        model.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
        best_trees[trial.number] = int(model.best_iteration) + 1
        return float(model.best_score)

    sampler = optuna.samplers.TPESampler(seed=random_state,
                                         n_startup_trials=min(5, budget.n_trials))
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for start in TUNING_STARTS[:budget.n_trials]:
        study.enqueue_trial(start)
    study.optimize(objective, n_trials=budget.n_trials)
    best = study.best_trial
    params = {**best.params, "objective": TUNED_OBJECTIVE,
              "n_estimators": best_trees[best.number]}
    if params["grow_policy"] == "lossguide":
        params["max_depth"] = MAX_TREE_DEPTH
    # Rounded as metrics.json and the manifests store them, *before* any model is fitted
    # with them: a refit from the record is then the very model that was scored.
    params = clean_json(params)
    summary = {"best_validation_rmse": float(best.value), "best_trial": int(best.number),
               "n_trials": budget.n_trials, "validation_rows": int(validation.sum()),
               "fitting_rows": int(len(fit_rows))}
    return params, summary
