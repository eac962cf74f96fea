"""analysis.models.tuning: Optuna inside one training fold."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from _tiny_models import TINY

from analysis.artifacts import clean_json
from analysis.models.tuning import TUNING_STARTS, tune_xgboost


def test_tuned_parameters_are_fitted_as_they_are_recorded():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = 50 + 10 * X[:, 0] + rng.normal(0, 5, 300)
    # four trials, so a sampled (unround) trial can win over the round starting points
    params, summary = tune_xgboost(X, y, np.arange(300) % 4 == 0,
                                   budget=replace(TINY, n_trials=4))
    assert summary["best_trial"] >= len(TUNING_STARTS)
    assert json.loads(json.dumps(clean_json(params))) == params
