"""The cross-validation engine: one protocol × model scored out of fold.

For each outer fold of a :class:`~analysis.models.design.Design`, the model is fitted on the
training fold only (tuning and artist history inside it), predicts the test fold, and, for
:data:`~analysis.models.settings.INTERVAL_MODELS`, calibrates conformal offsets from refits
on the fold's grouped inner folds. :func:`evaluate` returns the OOF frame, per-fold scores
and timings; :func:`evaluate_hit_classifier` does the same for the triage classifier.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.features import check_allowed
from analysis.models.blanking import blank_inputs
from analysis.models.conformal import apply_offsets, conformal_offsets, coverage
from analysis.models.design import Design, as_array, design_matrix
from analysis.models.recipes import Recipe, fit_rows
from analysis.models.scoring import score_hit_probabilities, score_predictions
from analysis.models.settings import (
    CONFIDENCE_LEVELS,
    HIT_CLASSIFIER,
    HIT_CLASSIFIER_BLANKED,
    HIT_THRESHOLD,
    INTERVAL_MODELS,
    RECIPE_MODELS,
    TUNING_INNER_FOLD,
    Budget,
    level_key,
)
from analysis.models.tuning import tune_xgboost
from analysis.models.zoo import joblib_bytes, make_hit_classifier, make_model
from analysis.protocols import HONEST_PROTOCOLS, inner_folds


@dataclass
class FoldData:
    """One outer fold's matrices, as float64 arrays, and where its rows sit in the design.

    A model following a recipe (:data:`RECIPE_MODELS`) learns from part of the training fold
    (``fit_rows``), with inputs blanked (``X_fit``); calibration still predicts every training
    row, as the intervals are applied to every track.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    columns: list[str]
    inner: np.ndarray             # inner fold of each training row
    train: np.ndarray             # positions
    test: np.ndarray
    X_fit: np.ndarray | None = None     # the rows learned from, as learned (recipe models)
    fit_rows: np.ndarray | None = None  # bool per training row: learned from

    def learned(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The matrix, target and inner folds of the rows a model learns from."""
        if self.fit_rows is None:
            return self.X_train, self.y_train, self.inner
        return self.X_fit, self.y_train[self.fit_rows], self.inner[self.fit_rows]


@dataclass
class Result:
    """What :func:`evaluate` hands to the build (and what a checkpoint stores)."""

    oof: pd.DataFrame
    per_fold: list[dict]
    fold_info: list[dict]
    timings: dict
    intervals: dict | None = None


def fold_data(design: Design, fold: int, budget: Budget, model: str | None = None) -> FoldData:
    """The matrices of outer fold ``fold`` as ``model`` reads them, built once per design
    (cached in ``extra``).

    Honest protocols get their matrix from :func:`~analysis.models.design.design_matrix` fitted
    on the training fold, so artist history never sees a test label. A recipe model's
    (:data:`RECIPE_MODELS`) keeps the recipe's columns and rows (:func:`fit_rows`, computed on
    the training fold only).
    """
    cache = design.extra.setdefault("fold_data", {})
    if fold not in cache:
        cache[fold] = _make_fold_data(design, fold, budget)
    if model not in RECIPE_MODELS:
        return cache[fold]
    if (fold, model) not in cache:
        cache[fold, model] = _recipe_fold_data(design, cache[fold], RECIPE_MODELS[model])
    return cache[fold, model]


def _recipe_fold_data(design: Design, data: FoldData, recipe: Recipe) -> FoldData:
    if design.protocol != "cold_start":
        raise ValueError(f"recipe {recipe.name!r} is a cold-start model's, not {design.protocol}'s")
    train = pd.DataFrame(data.X_train, columns=data.columns)
    X_fit, kept = fit_rows(recipe, train, design.tracks.iloc[data.train])
    columns = list(X_fit.columns)
    test = pd.DataFrame(data.X_test, columns=data.columns)
    return replace(data, X_train=as_array(train[columns]), X_test=as_array(test[columns]),
                   columns=columns, X_fit=as_array(X_fit), fit_rows=kept)


def _make_fold_data(design: Design, fold: int, budget: Budget) -> FoldData:
    train = np.flatnonzero(design.folds != fold)  # replica: the 80% rows (fold -1)
    test = np.flatnonzero(design.folds == fold)
    inner = inner_folds(design.groups[train], n_splits=budget.n_splits)
    X = design.base
    if design.protocol != "seed_replica":
        X = design_matrix(design.tracks, design.protocol, fit_rows=train,
                          n_splits=budget.n_splits, base=design.base)
    X_train, X_test = X.iloc[train], X.iloc[test]
    check_allowed(X_train.columns, design.protocol)
    return FoldData(as_array(X_train), design.y[train], as_array(X_test),
                    list(X_train.columns), inner, train, test)


def _fit_predict(
    name: str, data: FoldData, budget: Budget, tuned: Mapping | None,
) -> tuple[np.ndarray, dict]:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=budget.n_jobs):
        return _fit_predict_unlimited(name, data, budget, tuned)


def _fit_predict_unlimited(
    name: str, data: FoldData, budget: Budget, tuned: Mapping | None,
) -> tuple[np.ndarray, dict]:
    """Fit one model on a training fold (tuning inside it when needed) and predict the test.

    ``xgboost_monotone`` reuses the fold's ``xgboost_tuned`` parameters (``tuned``) and only
    adds the constraint, so the comparison isolates the constraint; a recipe model reuses them
    and changes only what it learns from.
    """
    info: dict = {}
    params = None
    if name == "xgboost_tuned":
        start = time.perf_counter()
        params, summary = tune_xgboost(data.X_train, data.y_train,
                                       data.inner == TUNING_INNER_FOLD, budget=budget)
        info = {"params": params, "tuning": summary,
                "_tuning_seconds": time.perf_counter() - start}
    elif name == "xgboost_monotone":
        if tuned is None:
            raise RuntimeError("xgboost_monotone runs after xgboost_tuned on the same folds")
        constraint = tuple(int(c == "artist_mean_popularity") for c in data.columns)
        params = {**tuned, "monotone_constraints": "(" + ",".join(map(str, constraint)) + ")"}
        info = {"params": {**tuned, "monotone_constraints": {"artist_mean_popularity": 1}}}
    elif name in RECIPE_MODELS:
        if tuned is None:
            raise RuntimeError(f"{name} runs after xgboost_tuned on the same folds")
        params = RECIPE_MODELS[name].regressor_params(tuned)
        info = {"params": params}
    X_fit, y_fit, _ = data.learned()
    model = make_model(name, params=params, n_trees=budget.random_forest_trees,
                       n_jobs=budget.n_jobs, rounds=budget.fixed_rounds)
    start = time.perf_counter()
    model.fit(X_fit, y_fit)
    info["_fit_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    pred = np.asarray(model.predict(data.X_test), dtype="float64")
    info["_predict_seconds"] = time.perf_counter() - start
    info["_params"] = params
    if name == "random_forest":
        start = time.perf_counter()
        info["_joblib_bytes"] = joblib_bytes(model)
        info["_joblib_seconds"] = time.perf_counter() - start
    return pred, info


def _calibration_predictions(
    name: str, params: Mapping | None, data: FoldData, budget: Budget
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-group predictions for calibration rows of a training fold, fixed parameters.

    With ``budget.calibration_folds`` = k, each of the first k grouped inner folds is
    predicted by a model fit on the rest of the training fold (cross-conformal residuals, as
    MAPIE's ``CrossConformalRegressor(method="base")`` computes them); k = 1 is plain split
    conformal on one inner fold. More folds mean more artists behind every macro-genre's
    offset, which is what keeps per-genre coverage stable. A recipe model learns from its own
    rows of the other inner folds and is calibrated on every row of the held one.
    """
    X_fit, y_fit, inner_fit = data.learned()
    pred = np.full(len(data.y_train), np.nan)
    for inner in range(budget.calibration_folds):
        held = data.inner == inner
        if not held.any():
            continue
        model = make_model(name, params=params, n_trees=budget.random_forest_trees,
                           n_jobs=budget.n_jobs, rounds=budget.fixed_rounds)
        learn = inner_fit != inner
        model.fit(X_fit[learn], y_fit[learn])
        pred[held] = model.predict(data.X_train[held])
    used = ~np.isnan(pred)
    return pred[used], used


def stored(values: np.ndarray, decimals: int = 2) -> np.ndarray:
    """Predictions as the OOF files store them: 0.01 popularity points, float32.

    Popularity is an integer score, so a hundredth of a point loses nothing, and it halves
    the files. Metrics are computed on these very values, so anyone can recompute every
    number in ``metrics.json`` from the OOF files.

    Examples
    --------
    >>> stored(np.array([12.3456])).round(4).tolist()
    [12.35]
    """
    return (np.round(np.asarray(values, dtype="float64"), decimals)
            .astype("float32").astype("float64"))


def _fold_work(
    name: str, data: FoldData, macro_train: np.ndarray | None, budget: Budget,
    tuned: Mapping | None,
) -> tuple[np.ndarray, dict]:
    """Everything one outer fold needs: fit (tuning inside), predict, and, when
    ``macro_train`` is given, the conformal offsets from the fold's calibration refits."""
    pred, info = _fit_predict(name, data, budget, tuned)
    if macro_train is not None:
        start = time.perf_counter()
        calib_pred, held = _calibration_predictions(name, info["_params"], data, budget)
        info["conformal_offsets"] = conformal_offsets(calib_pred, data.y_train[held],
                                                      macro_train[held])
        info["_interval_seconds"] = time.perf_counter() - start
    return pred, info


def _map_folds(name: str, jobs: Sequence[tuple], budget: Budget) -> list[tuple[np.ndarray, dict]]:
    """Run :func:`_fold_work` over the folds: side by side, one thread each, when the
    budget has more than one thread.

    Two single-threaded fits use two cores better than one two-threaded fit on tens of
    thousands of rows (XGBoost gains 1.4x from a second thread here), and fits do not depend
    on their thread count, so results are the same either way. The Random Forests keep
    their folds in turn, two threads each: their fit times are the ones set beside the
    original's, and two forests at once would double the memory.
    """
    if budget.n_jobs <= 1 or name == "random_forest" or len(jobs) <= 1:
        return [_fold_work(name, *job, budget, tuned) for *job, tuned in jobs]
    from joblib import Parallel, delayed

    single = replace(budget, n_jobs=1)
    return Parallel(n_jobs=budget.n_jobs, backend="loky")(
        delayed(_fold_work)(name, *job, single, tuned) for *job, tuned in jobs)


def evaluate(design: Design, name: str, budget: Budget, log: Callable[[str], None]) -> Result:
    """Score model ``name`` on every outer fold of ``design``.

    The predictions are rounded as the OOF file stores them (:func:`stored`) *before* they
    are scored. ``xgboost_tuned`` leaves its per-fold parameters in
    ``design.extra["tuned_params"]`` for ``xgboost_monotone``.
    """
    start_model = time.perf_counter()
    pred_all = np.full(len(design.y), np.nan)
    bounds = {level: (np.full(len(design.y), np.nan), np.full(len(design.y), np.nan))
              for level in CONFIDENCE_LEVELS}
    global_bounds = {level: (np.full(len(design.y), np.nan), np.full(len(design.y), np.nan))
                     for level in CONFIDENCE_LEVELS}
    per_fold, fold_info = [], []
    timings = {"fit_seconds": [], "predict_seconds": [], "tuning_seconds": [],
               "interval_seconds": []}
    with_intervals = name in INTERVAL_MODELS and design.protocol in HONEST_PROTOCOLS
    tuned_cache = design.extra.setdefault("tuned_params", {})
    folds = range(design.n_folds)
    datas = [fold_data(design, fold, budget, name) for fold in folds]
    jobs = [(data, design.macro[data.train] if with_intervals else None, tuned_cache.get(fold))
            for fold, data in zip(folds, datas, strict=True)]
    for fold, data, (pred, info) in zip(folds, datas, _map_folds(name, jobs, budget),
                                        strict=True):
        params = info.pop("_params")
        if name == "xgboost_tuned":
            tuned_cache[fold] = params
        pred = stored(pred)  # score exactly what the OOF file will hold
        pred_all[data.test] = pred
        per_fold.append(score_predictions(design.y[data.test], pred))
        timings["fit_seconds"].append(info.pop("_fit_seconds"))
        timings["predict_seconds"].append(info.pop("_predict_seconds"))
        timings["tuning_seconds"].append(info.pop("_tuning_seconds", 0.0))
        if "_joblib_bytes" in info:
            timings.setdefault("joblib_bytes", []).append(info.pop("_joblib_bytes"))
            timings.setdefault("joblib_seconds", []).append(info.pop("_joblib_seconds"))
        if with_intervals:
            offsets = info["conformal_offsets"]
            for level in CONFIDENCE_LEVELS:
                lo, hi = map(stored, apply_offsets(pred, design.macro[data.test], offsets,
                                                   level))
                bounds[level][0][data.test], bounds[level][1][data.test] = lo, hi
                glo, ghi = map(stored, apply_offsets(pred, None, offsets, level))
                global_bounds[level][0][data.test], global_bounds[level][1][data.test] = glo, ghi
            timings["interval_seconds"].append(info.pop("_interval_seconds"))
        fold_info.append(info)
        log(f"  {design.protocol} / {name} fold {fold}: R² {per_fold[-1]['r2']:.3f} "
            f"MAE {per_fold[-1]['mae']:.2f} ({timings['fit_seconds'][-1]:.1f} s fit, "
            f"{timings['tuning_seconds'][-1]:.1f} s tuning)")
    timings["wall_seconds"] = [time.perf_counter() - start_model]  # folds may overlap
    predicted = design.folds >= 0
    oof = pd.DataFrame({
        "track_id": design.ids.to_numpy()[predicted],
        "fold": design.folds[predicted].astype("int8"),
        "y_true": design.y[predicted].astype("float32"),
        "y_pred": pred_all[predicted].astype("float32"),
    })
    if design.protocol == "seed_replica":
        oof.insert(1, "source_index", design.extra["source_index"][predicted].astype("int32"))
    intervals = None
    if with_intervals:
        for level in CONFIDENCE_LEVELS:
            pct = int(round(level * 100))
            oof[f"lower_{pct}"] = bounds[level][0][predicted].astype("float32")
            oof[f"upper_{pct}"] = bounds[level][1][predicted].astype("float32")
        y, macro = design.y, design.macro
        intervals = {
            "method": "inside each training fold, models refit without one grouped inner "
                      "fold at a time (fold's tuned parameters) predict it; these out-of-group "
                      "absolute residuals calibrate one MAPIE SplitConformalRegressor per "
                      "macro-genre (Mondrian); intervals are the fold model's prediction +/- "
                      "the offset, clipped to 0-100",
            "calibration_folds": budget.calibration_folds,
            "mondrian": {level_key(lv): coverage(y, *bounds[lv], macro)
                         for lv in CONFIDENCE_LEVELS},
            "global": {level_key(lv): coverage(y, *global_bounds[lv], macro)
                       for lv in CONFIDENCE_LEVELS},
        }
    return Result(oof, per_fold, fold_info, timings, intervals)


def evaluate_hit_classifier(
    design: Design, budget: Budget, log: Callable[[str], None]
) -> Result:
    """Out-of-fold hit probabilities on the protocol's folds and features (artist history
    included under ``known_artist``, computed inside each training fold as for every model),
    the inputs of :data:`HIT_CLASSIFIER_BLANKED` blanked on part of each training fold (the
    test fold is scored as it is)."""
    from threadpoolctl import threadpool_limits

    p_all = np.full(len(design.y), np.nan)
    per_fold, fold_info = [], []
    timings: dict[str, list] = {"fit_seconds": [], "predict_seconds": []}
    blanked = HIT_CLASSIFIER_BLANKED.get(design.protocol, ())
    for fold in range(design.n_folds):
        data = fold_data(design, fold, budget)
        X_train = data.X_train
        if blanked:
            X_train = as_array(blank_inputs(pd.DataFrame(X_train, columns=data.columns), blanked))
        with threadpool_limits(limits=budget.n_jobs):
            start = time.perf_counter()
            model = make_hit_classifier(budget.n_jobs).fit(
                X_train, data.y_train >= HIT_THRESHOLD)
            timings["fit_seconds"].append(time.perf_counter() - start)
            start = time.perf_counter()
            # probabilities keep 1e-6: rounding them like popularity would create ties
            p_hit = stored(model.predict_proba(data.X_test)[:, 1], decimals=6)
            timings["predict_seconds"].append(time.perf_counter() - start)
        p_all[data.test] = p_hit
        per_fold.append(score_hit_probabilities(design.y[data.test], p_hit))
        fold_info.append({})
        log(f"  {design.protocol} / {HIT_CLASSIFIER} fold {fold}: hit ROC-AUC "
            f"{per_fold[-1]['hit_auc']:.3f} ({timings['fit_seconds'][-1]:.1f} s fit)")
    oof = pd.DataFrame({
        "track_id": design.ids.to_numpy(),
        "fold": design.folds.astype("int8"),
        "y_true": design.y.astype("float32"),
        "p_hit": p_all.astype("float32"),
    })
    return Result(oof, per_fold, fold_info, timings)
