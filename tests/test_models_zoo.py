"""analysis.models.zoo: the estimators a build fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.models import MODEL_NAMES, Budget
from analysis.models.zoo import HurdleRegressor, describe_model, make_model


def test_hurdle_regressor_predicts_the_zero_mass():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.random(400)})
    y = np.where(X["x"] < 0.3, 0.0, 50 + 10 * X["x"])
    pred = HurdleRegressor({"n_estimators": 30, "max_depth": 3}, n_jobs=1).fit(X, y).predict(X)
    assert pred[X["x"] < 0.25].max() < 5 and pred[X["x"] > 0.4].min() > 40


def test_tuned_models_need_their_parameters_and_names_are_checked():
    with pytest.raises(ValueError, match="tuned params"):
        make_model("xgboost_tuned")
    with pytest.raises(ValueError, match="unknown model"):
        make_model("svm")


def test_every_model_is_described_for_metrics_json():
    for name in MODEL_NAMES:
        assert describe_model(name, Budget())["estimator"]
