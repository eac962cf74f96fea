"""Tests of analysis.trees: the one reader of XGBoost's dump and the float64 TreeSHAP port.

Fast tests run the kernels uncompiled (``jit=False``) on a few rows of a small model; the
compiled kernels, deep lossguide trees and shap's own values are slow tests (numba compiles
the kernels once per environment, which takes seconds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

xgb = pytest.importorskip("xgboost")

from analysis.trees import (  # noqa: E402
    BIAS,
    interaction_values,
    parse_booster,
    read_booster,
    tree_contributions,
    xgboost_contributions,
)

# --- the reader -------------------------------------------------------------------------------


def test_reader_keeps_xgboosts_decimal_text_and_refuses_what_it_cannot_walk():
    X = np.random.default_rng(0).normal(size=(200, 3))
    model = xgb.XGBRegressor(n_estimators=3, max_depth=2, n_jobs=1).fit(X, X[:, 0])
    dump = read_booster(model.get_booster())
    assert dump.num_feature == 3 and len(dump.trees) == 3
    conditions = [c for tree in dump.trees for c in tree.split_conditions]
    assert all(isinstance(c, str | int) for c in conditions)  # not yet rounded to a double
    dart = xgb.XGBRegressor(n_estimators=2, booster="dart", n_jobs=1).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="gbtree"):
        read_booster(dart.get_booster())
    multi = xgb.XGBClassifier(n_estimators=2, n_jobs=1).fit(X, np.arange(200) % 3)
    with pytest.raises(ValueError, match="multi-class"):
        read_booster(multi.get_booster())


# --- TreeSHAP ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_model():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(300, 5)), columns=["energy", "valence", "a", "b", "c"])
    X.iloc[rng.random(X.shape) < 0.1] = np.nan  # missing values take the default branch
    y = np.nan_to_num(X["energy"] * X["valence"]) + np.nan_to_num(X["a"]) + rng.normal(0, .1, 300)
    booster = xgb.train({"max_depth": 4, "eta": 0.3, "subsample": 0.8, "seed": 0,
                         "nthread": 1}, xgb.DMatrix(X, y), 30)  # threads crawl on busy CI
    return booster, X


#: Rows the uncompiled kernels walk in fast tests (plain Python: a few rows of a small model).
FEW = 6


def test_contributions_add_up_to_the_prediction_and_match_xgboost(small_model):
    booster, X = small_model
    rows = X.iloc[:FEW]
    contribs = tree_contributions(booster, rows, jit=False)
    np.testing.assert_allclose(contribs.sum(axis=1), booster.predict(xgb.DMatrix(rows)),
                               atol=1e-4)
    assert contribs[BIAS].nunique() == 1
    np.testing.assert_allclose(contribs, xgboost_contributions(booster, rows),
                               atol=1e-5)


def test_interactions_match_xgboost_pred_interactions(small_model):
    booster, X = small_model
    rows = X.iloc[:FEW]
    features = ["energy", "c"]
    mine = interaction_values(booster, rows, features, jit=False)
    ref = booster.predict(xgb.DMatrix(rows), pred_interactions=True)
    for i, feature in enumerate(features):
        j = list(X.columns).index(feature)
        np.testing.assert_allclose(mine[:, i, :], ref[:, j, :-1], atol=1e-4)


@pytest.mark.slow
def test_compiled_kernels_on_the_whole_model(small_model):
    """numba's kernels give the plain-Python kernels' values, XGBoost's, and find the
    energy x valence interaction the data was built with."""
    booster, X = small_model
    contribs = tree_contributions(booster, X)
    np.testing.assert_allclose(contribs.sum(axis=1), booster.predict(xgb.DMatrix(X)), atol=1e-4)
    np.testing.assert_allclose(contribs.iloc[:FEW], tree_contributions(booster, X.iloc[:FEW],
                                                                       jit=False), atol=1e-12)
    rows = X.iloc[:25]
    features = ["energy", "a", "c"]
    mine = interaction_values(booster, rows, features)
    ref = booster.predict(xgb.DMatrix(rows), pred_interactions=True)
    for i, feature in enumerate(features):
        j = list(X.columns).index(feature)
        np.testing.assert_allclose(mine[:, i, :], ref[:, j, :-1], atol=1e-4)
    np.testing.assert_allclose(mine[:FEW], interaction_values(booster, rows.iloc[:FEW], features,
                                                              jit=False), atol=1e-12)
    strength = np.abs(mine[:, 0, :]).mean(axis=0)
    assert np.argsort(strength)[-2] == list(X.columns).index("valence")


@pytest.mark.slow
def test_contributions_stay_additive_on_deep_lossguide_trees():
    """The champions grow leaves best-first with no depth limit; float64 keeps SHAP additive."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(3000, 6)), columns=list("abcdef"))
    y = np.sin(3 * X["a"]) * X["b"] + (X["c"] > 0.5) * X["d"] ** 2 + rng.normal(0, .1, 3000)
    booster = xgb.train({"grow_policy": "lossguide", "max_depth": 0, "max_leaves": 64,
                         "tree_method": "hist", "eta": 0.3, "seed": 0}, xgb.DMatrix(X, y), 40)
    assert parse_booster(booster).max_depth > 12
    contribs = tree_contributions(booster, X.iloc[:300])
    prediction = booster.predict(xgb.DMatrix(X.iloc[:300]))
    np.testing.assert_allclose(contribs.sum(axis=1), prediction, atol=1e-4)
    reference = xgboost_contributions(booster, X.iloc[:300])
    np.testing.assert_allclose(contribs, reference, atol=0.05)  # XGBoost: float32 rounding


@pytest.mark.slow
def test_contributions_match_shap_tree_explainer(small_model):
    shap = pytest.importorskip("shap")
    booster, X = small_model
    ours = tree_contributions(booster, X).drop(columns=BIAS).to_numpy()
    explainer = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent")
    np.testing.assert_allclose(explainer.shap_values(X), ours, atol=1e-5)


def test_interaction_rows_sum_to_the_shap_value(small_model):
    booster, X = small_model
    rows = X.iloc[:FEW]
    contribs = tree_contributions(booster, rows, jit=False)
    inter = interaction_values(booster, rows, ["valence"], contribs=contribs, jit=False)
    np.testing.assert_allclose(inter[:, 0, :].sum(axis=1), contribs["valence"], atol=1e-5)


def test_interactions_refuse_columns_in_another_order(small_model):
    booster, X = small_model
    with pytest.raises(ValueError, match="booster's order"):
        interaction_values(booster, X.iloc[:2, ::-1], ["energy"])
