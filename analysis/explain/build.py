"""The explanation build: everything ``models/shap/`` holds, computed once per champion.

:func:`build_explanations` (``python -m analysis.cli explain``) reads the committed champions
and ``metrics.json``, explains each honest champion on a stratified sample of tracks and on
one held-out outer fold, and writes the small frames and the summary that
:func:`analysis.explain.load_explanations` reads. Nothing is written until everything is
computed, and a file whose bytes would not change is left alone.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.artifacts import clean_json, dumps_json, versions, write_if_changed
from analysis.explain.cache import SCHEMA_VERSION, SUMMARY_FILE, metrics_fingerprint
from analysis.explain.groups import feature_group, feature_groups, group_contributions, mean_abs
from analysis.explain.importance import (
    PERMUTATION_FOLD,
    PERMUTATION_REPEATS,
    feature_ladder,
    grouped_permutation_importance,
)
from analysis.explain.sampling import stratified_sample
from analysis.labels import ARTIST_HISTORY_GROUP, DRIVER_GROUP_DESCRIPTIONS
from analysis.models.artifacts import (
    champion_entry,
    champion_model,
    finding_entry,
    has_model,
    load_metrics,
    load_oof,
    model_entry,
    n_splits,
)
from analysis.models.recipes import Recipe, popularity_fit
from analysis.protocols import HONEST_PROTOCOLS, RANDOM_STATE
from analysis.trees import (
    BIAS,
    interaction_values,
    parse_booster,
    tree_contributions,
    xgboost_contributions,
)

__all__ = [
    "DEFAULT_INTERACTION_PAIR",
    "DISPLAY_PER_MACRO",
    "INTERACTION_PER_MACRO",
    "SAMPLE_PER_MACRO",
    "TOP_DEPENDENCE",
    "build_explanations",
]

#: The interaction the issue names, always computed so the chapter can show it.
DEFAULT_INTERACTION_PAIR: tuple[str, str] = ("energy", "valence")

#: Sample design: tracks per macro-genre for SHAP values (weighted back to the population),
#: how many of them carry exact interaction values, and how many are drawn in charts.
SAMPLE_PER_MACRO = 150
INTERACTION_PER_MACRO = 10
DISPLAY_PER_MACRO = 40

#: How many single features get dependence data (and exact interactions).
TOP_DEPENDENCE = 4

#: Packages whose versions ``summary.json`` records.
_VERSIONED_PACKAGES = ("xgboost", "numba", "pandas", "numpy", "shap")


def build_explanations(
    models_dir: str | os.PathLike = paths.MODELS_DIR, *, data=None,
    protocols: Sequence[str] = HONEST_PROTOCOLS,
    per_macro: int = SAMPLE_PER_MACRO, interaction_per_macro: int = INTERACTION_PER_MACRO,
    top_dependence: int = TOP_DEPENDENCE, permutation_repeats: int = PERMUTATION_REPEATS,
    permutation_fold: int = PERMUTATION_FOLD, verbose: bool = True,
    champions: Mapping | None = None,
) -> dict:
    """Compute and cache every explanation the Drivers chapter and the front page show.

    Reads the champions (``models/champions/``, hash-checked by :func:`analysis.models.load`)
    and ``models/metrics.json``; writes ``models/shap/`` (see
    :func:`analysis.explain.load_explanations`). Nothing is written until everything is
    computed, and a file whose bytes would not change is left alone.

    Parameters
    ----------
    models_dir : path
        The folder holding ``metrics.json`` and ``champions/`` (usually ``models/``).
    data : analysis.data.TrackData, optional
        Default :func:`analysis.data.load_tracks`.
    protocols : sequence of str
        Champions to explain (default both honest protocols).
    per_macro, interaction_per_macro : int
        Tracks per macro-genre with SHAP values, and how many of them get exact interactions.
    top_dependence : int
        Single features with dependence data and interactions.
    permutation_repeats, permutation_fold : int
        Shuffles per group, and the outer fold held out.
    champions : mapping, optional
        Protocol -> an object with ``booster``, ``feature_names`` and ``manifest["params"]``
        (as :func:`analysis.models.load` returns); default: load them from ``models_dir``.

    Returns
    -------
    dict
        The summary written to ``models/shap/summary.json``.

    Raises
    ------
    analysis.models.ChampionIntegrityError
        If a champion is missing or fails its hash check (run ``python -m analysis.cli
        models`` first).

    Notes
    -----
    Cost: a few minutes on two cores, dominated by the SHAP values of the sample and the fold
    refits. Everything is seeded (:data:`analysis.protocols.RANDOM_STATE`): a rerun writes
    byte-identical files.
    """
    from analysis.features import make_features

    log = print if verbose else (lambda message: None)
    start = time.perf_counter()
    models_dir = Path(models_dir)
    if data is None:
        from analysis.data import load_tracks

        data = load_tracks()
    tracks = data.tracks.reset_index(drop=True)
    metrics = load_metrics(models_dir)
    ctx = _Context(tracks=tracks, base=make_features(tracks, protocol="cold_start"),
                   metrics=metrics, models_dir=models_dir, champions=champions)
    sample = stratified_sample(tracks, per_group=per_macro)
    settings = {"sample": sample, "shap_check_rows": 50, "permutation_fold": permutation_fold,
                "permutation_repeats": permutation_repeats, "top_dependence": top_dependence,
                "interaction_per_macro": interaction_per_macro}
    results = {}
    for protocol in protocols:
        log(f"explaining the {protocol} champion")
        results[protocol] = _explain_protocol(ctx, protocol, settings, log)

    frames: dict[str, list[pd.DataFrame]] = {}
    for result in results.values():
        for name, frame in result["frames"].items():
            frames.setdefault(name, []).append(frame)
    summary = {
        "schema_version": SCHEMA_VERSION,
        "data_sha256": data.sha256,
        "metrics_fingerprint": metrics_fingerprint(metrics),
        "random_state": RANDOM_STATE,
        "sample": {
            "by": "macro_genre", "per_group": per_macro, "tracks": int(len(sample)),
            "groups": int(sample["macro_genre"].nunique()),
            "interaction_per_group": interaction_per_macro,
            "interaction_tracks": int((sample["order"] < interaction_per_macro).sum()),
            "display_per_group": DISPLAY_PER_MACRO,
            "population_tracks": int(len(tracks)),
        },
        "method": {
            "shap": "exact path-dependent TreeSHAP in float64 (numba port of XGBoost's "
                    "pred_contribs), compared with XGBoost and "
                    "shap.TreeExplainer(feature_perturbation='tree_path_dependent')",
            "importance": "weighted mean |SHAP| over the stratified sample, one-hot and marker "
                          "columns summed within their group before the absolute value",
            "permutation": "R² drop on one held-out outer fold when a group's columns are "
                           "shuffled jointly, scored by that fold's model (refit from its "
                           "tuned parameters)",
            "interactions": "exact SHAP interaction values (path-dependent), conditioning only "
                            "on the listed features; strength = mean |2 Φ_ij| (both halves)",
            "by_macro_genre": "unweighted mean |SHAP| of each group within each macro-genre of "
                              "the sample",
            "feature_ladder": "R² and MAE on the permutation fold of the fold's model refit "
                              "(same tuned parameters) on cumulative feature sets",
        },
        "versions": versions(_VERSIONED_PACKAGES, python=False),
        "protocols": {p: r["summary"] for p, r in results.items()},
    }
    summary = clean_json(summary)

    out_dir = paths.shap_dir(models_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, parts in frames.items():
        frame = _float32(pd.concat(parts, ignore_index=True))
        if write_if_changed(out_dir / f"{name}.parquet", _parquet_bytes(frame)):
            written.append(f"{name}.parquet")
    if write_if_changed(out_dir / SUMMARY_FILE, dumps_json(summary, indent=2).encode()):
        written.append(SUMMARY_FILE)
    log(f"explanations built in {time.perf_counter() - start:.0f} s; "
        f"{'wrote ' + ', '.join(written) if written else 'no file changed'}")
    return summary


# --- one champion ------------------------------------------------------------------------------

@dataclass
class _Context:
    tracks: pd.DataFrame
    base: pd.DataFrame              # cold_start matrix of every track
    metrics: dict
    models_dir: Path
    champions: Mapping | None = None  # protocol -> loaded champion (tests); else models.load


def _explain_protocol(ctx: _Context, protocol: str, settings: dict, log) -> dict:
    """Everything cached for one champion; returns frames and its summary section."""
    from analysis.models import load

    start = time.perf_counter()
    if ctx.champions is not None:
        champion = ctx.champions[protocol]
    else:
        champion = load(protocol, models_dir=ctx.models_dir)
    booster = champion.booster
    columns = list(champion.popularity_features)
    sample = settings["sample"]
    X = _sample_matrix(ctx, protocol, columns, sample)
    weights = sample["weight"].to_numpy()

    contribs = tree_contributions(booster, X)
    prediction, checks = _shap_checks(booster, X, contribs, settings["shap_check_rows"])
    log(f"  {protocol}: SHAP values of {len(X):,} tracks in {time.perf_counter() - start:.1f} s")

    grouped = group_contributions(contribs)
    groups = feature_groups(columns)
    importance = mean_abs(grouped, weights)
    feature_importance = mean_abs(contribs.drop(columns=BIAS), weights)

    held_out = _held_out(ctx, protocol, champion, columns, groups, grouped, weights, settings,
                         log)
    t0 = time.perf_counter()
    inter = _interactions(booster, X, contribs, sample, columns, groups, feature_importance,
                          settings)
    log(f"  {protocol}: interactions of {len(inter['targets'])} features on "
        f"{inter['tracks']} tracks in {time.perf_counter() - t0:.1f} s")

    frames = _tables(protocol, sample, X, columns, groups, grouped, contribs, prediction,
                     importance, feature_importance, held_out["permutation"])
    frames["interactions"] = inter["interactions"].assign(protocol=protocol)
    if len(inter["pair"]):
        frames["pair"] = inter["pair"].assign(protocol=protocol)
    importance_table = frames["importance"]
    trees = parse_booster(booster)
    section = {
        "champion": {
            "manifest_sha256": champion_entry(ctx.metrics, protocol)["manifest_sha256"],
            "n_trees": int(len(trees.offsets) - 1), "max_depth": trees.max_depth,
            "n_features": len(columns),
        },
        "expected_value": float(contribs[BIAS].iloc[0]),
        "checks": checks,
        "importance_order": list(importance.index),
        "top_features": list(feature_importance.index[:10]),
        "dependence_features": inter["dependence"],
        "interaction_features": inter["targets"],
        "interaction_partners": inter["partners"],
        "permutation": {
            **held_out["fold"], "n_repeats": settings["permutation_repeats"],
            "params_source": held_out["params_source"],
            "baseline_r2": float(held_out["permutation"]["baseline_r2"].iloc[0]),
            "refit_vs_oof": held_out["refit_vs_oof"],
            "rank_correlation_with_shap": float(
                importance_table[["shap_rank", "permutation_rank"]].corr("spearman").iloc[0, 1]),
        },
        "artist_history": held_out["artist_history"],
        "feature_ladder": {**held_out["fold"], "params_source": held_out["params_source"],
                           "steps": held_out["ladder"].to_dict(orient="records")},
    }
    log(f"  {protocol}: done in {time.perf_counter() - start:.1f} s")
    return {"frames": frames, "summary": section}


def _sample_matrix(ctx: _Context, protocol: str, columns: list[str],
                   sample: pd.DataFrame) -> pd.DataFrame:
    """The champion's training matrix (known_artist: out-of-fold artist history), sample rows."""
    from analysis.models import design_matrix

    X_all = design_matrix(ctx.tracks, protocol, n_splits=n_splits(ctx.metrics), base=ctx.base)
    missing = [c for c in columns if c not in X_all.columns]
    if missing:
        raise ValueError(
            f"the {protocol} champion was trained on features that analysis.features no longer "
            f"makes ({', '.join(missing[:5])}): it is stale; rebuild it with "
            "`python -m analysis.cli models` before explaining it")
    X = X_all[columns].iloc[sample["position"].to_numpy()]
    X.index = pd.RangeIndex(len(X))
    return X


def _shap_checks(booster, X: pd.DataFrame, contribs: pd.DataFrame,
                 n_rows: int) -> tuple[np.ndarray, dict]:
    """XGBoost's predictions of ``X``, and how our SHAP values compare with XGBoost and shap.

    Additivity on every row; XGBoost's float32 ``pred_contribs`` (and its own additivity) and
    ``shap.TreeExplainer`` on the first ``n_rows``.
    """
    import xgboost as xgb

    prediction = booster.predict(xgb.DMatrix(X, feature_names=list(X.columns)))
    additivity = float(np.max(np.abs(contribs.sum(axis=1).to_numpy() - prediction)))
    check_rows = X.iloc[:n_rows]
    reference = xgboost_contributions(booster, check_rows)
    xgboost_diff = float(np.max(np.abs(reference.to_numpy() - contribs.iloc[
        : len(check_rows)].to_numpy())))
    xgboost_additivity = float(np.max(np.abs(
        reference.sum(axis=1).to_numpy() - prediction[: len(check_rows)])))
    shap_diff = _shap_library_diff(booster, check_rows, contribs.iloc[: len(check_rows)])
    return prediction, {"additivity_max_abs_error": additivity,
                        "xgboost_max_abs_diff": xgboost_diff,
                        "xgboost_additivity_max_abs_error": xgboost_additivity,
                        "shap_library_max_abs_diff": shap_diff,
                        "shap_library_rows": int(len(check_rows))}


def _shap_library_diff(booster, X: pd.DataFrame, contribs: pd.DataFrame) -> float | None:
    """Largest difference between our float64 TreeSHAP and ``shap.TreeExplainer`` on a few rows.

    shap delegates XGBoost models to XGBoost's float32 ``pred_contribs``, so on deep trees the
    two differ by XGBoost's rounding (its own additivity check is therefore switched off).
    """
    try:
        import shap
    except ImportError:  # optional: the values are ours either way
        return None
    explainer = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent")
    values = np.asarray(explainer.shap_values(X, check_additivity=False), dtype="float64")
    ours = contribs.drop(columns=BIAS).to_numpy(dtype="float64")
    return float(np.max(np.abs(values - ours)))


# --- the held-out fold: permutation importance, ladder, artist history -------------------------

def _held_out(ctx: _Context, protocol: str, champion, columns: list[str],
              groups: Mapping[str, list[str]], grouped: pd.DataFrame, weights: np.ndarray,
              settings: dict, log) -> dict:
    """Permutation importance, the feature ladder and (known_artist) the artist-history
    section, all on one held-out outer fold with that fold's own model."""
    from sklearn.metrics import r2_score

    t0 = time.perf_counter()
    fold = settings["permutation_fold"]
    params, params_source = _fold_params(ctx, protocol, fold, champion)
    X_train, y_train, X_test, y_test, test = _fold_matrices(ctx, protocol, fold, columns,
                                                            champion.recipe)
    # one fit per column set: the ladder's last step is this fold model, and (known artist)
    # its step before artist history is the no-history refit below
    model_name = champion.manifest["model"]
    fitted = {tuple(X_train.columns): _fit(model_name, params, X_train, y_train)}

    def fit_once(X: pd.DataFrame, y: np.ndarray):
        if tuple(X.columns) not in fitted:
            fitted[tuple(X.columns)] = _fit(model_name, params, X, y)
        return fitted[tuple(X.columns)]

    model = fitted[tuple(X_train.columns)]
    fold_pred = np.asarray(model.predict(X_test), dtype="float64")
    fold_r2 = r2_score(y_test, fold_pred)
    oof_gap = _oof_match(ctx, protocol, fold, test, fold_pred, y_test)
    fold_booster = model.get_booster()
    permutation = grouped_permutation_importance(
        fold_booster.inplace_predict, X_test, y_test, groups,
        n_repeats=settings["permutation_repeats"], random_state=RANDOM_STATE,
    )
    log(f"  {protocol}: permutation importance on fold {fold} "
        f"({len(X_test):,} tracks) in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    ladder = feature_ladder(lambda X, y: fit_once(X, y).predict,
                            X_train, y_train, X_test, y_test)
    log(f"  {protocol}: feature ladder ({len(ladder)} refits) in "
        f"{time.perf_counter() - t0:.1f} s")

    history = None
    if protocol == "known_artist":
        t0 = time.perf_counter()
        track_columns = [c for c in columns if feature_group(c) != ARTIST_HISTORY_GROUP]
        no_history = fit_once(X_train[track_columns], y_train)
        r2_without = r2_score(y_test, np.asarray(no_history.predict(X_test[track_columns])))
        hist = grouped[ARTIST_HISTORY_GROUP].abs().to_numpy()
        track = grouped.drop(columns=ARTIST_HISTORY_GROUP).sum(axis=1).abs().to_numpy()
        leak_audit = finding_entry(ctx.metrics, "leak_audit")["known_artist"]
        history = {
            "shap_mean_abs_history": float(np.average(hist, weights=weights)),
            "shap_mean_abs_track": float(np.average(track, weights=weights)),
            "shap_share_history": float(np.average(hist, weights=weights)
                                        / (np.average(hist, weights=weights)
                                           + np.average(track, weights=weights))),
            "fold": fold, "r2_with_history": fold_r2,
            "r2_without_history": r2_without,
            "r2_history_alone": leak_audit["r2_of_artist_mean_alone"],
            "r2_history_alone_source": "metrics.json findings.leak_audit.known_artist "
                                       "(out-of-fold artist mean used as the prediction)",
        }
        history["r2_drop_without_history"] = history["r2_with_history"] - r2_without
        log(f"  {protocol}: no-history refit in {time.perf_counter() - t0:.1f} s")
    return {"fold": {"fold": fold, "test_tracks": int(len(X_test))},
            "params_source": params_source, "refit_vs_oof": oof_gap,
            "permutation": permutation, "ladder": ladder, "artist_history": history}


def _fold_matrices(ctx: _Context, protocol: str, fold: int, columns: Sequence[str],
                   recipe: Recipe | None):
    """Training and test matrices of one outer fold, exactly as analysis.models builds them
    (a recipe's training rows as it learns from them)."""
    from analysis.models import design_matrix
    from analysis.protocols import protocol_folds

    splits = n_splits(ctx.metrics)
    folds = protocol_folds(ctx.tracks, protocol, n_splits=splits)
    train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
    X = design_matrix(ctx.tracks, protocol, fit_rows=train, n_splits=splits, base=ctx.base)
    y = ctx.tracks["popularity"].to_numpy(dtype="float64")
    X_train, y_train = popularity_fit(recipe, X.iloc[train], ctx.tracks.iloc[train])
    return X_train[list(columns)], y_train, X.iloc[test][list(columns)], y[test], test


def _fold_params(ctx: _Context, protocol: str, fold: int, champion) -> tuple[dict, str]:
    """The tuned parameters the build fitted outer fold ``fold`` with (``metrics.json``), or the
    champion's own when the build recorded none for it."""
    model = champion.manifest["model"]
    fold_params = (model_entry(ctx.metrics, protocol, model).get("fold_params")
                   if has_model(ctx.metrics, protocol, model) else None)
    if fold_params and len(fold_params) > fold:
        return dict(fold_params[fold]), f"metrics.json fold_params[{fold}] of {model}"
    return dict(champion.manifest["params"]), "the champion's parameters (no fold parameters)"


def _fit(model: str, params: Mapping, X: pd.DataFrame, y: np.ndarray):
    from analysis.models import make_model

    return make_model(model, params=dict(params)).fit(X, y)


def _oof_match(ctx: _Context, protocol: str, fold: int, test: np.ndarray, pred: np.ndarray,
               y_test: np.ndarray) -> dict | None:
    """How close the refitted fold model comes to the committed OOF predictions of its fold.

    The tuner rounds its parameters to the precision ``metrics.json`` stores before any fold
    model is fitted, so a refit from the record is the scored model itself: its predictions
    should equal the OOF file's up to the file's 0.01-point storage.
    """
    from sklearn.metrics import r2_score

    try:
        oof = load_oof(protocol, champion_model(ctx.metrics, protocol), ctx.models_dir)
    except (OSError, ValueError):
        return None
    oof = oof[oof["fold"] == fold].set_index("track_id")["y_pred"]
    ids = ctx.tracks["track_id"].to_numpy()[test]
    if not pd.Index(ids).isin(oof.index).all():
        return None
    committed = oof.loc[ids].to_numpy(dtype="float64")
    return {"max_abs_diff": float(np.max(np.abs(committed - pred.astype("float32")))),
            "r2_refit": r2_score(y_test, pred), "r2_committed": r2_score(y_test, committed)}


# --- interactions ------------------------------------------------------------------------------

def _top_single_features(importance: pd.Series, X: pd.DataFrame, k: int) -> list[str]:
    """The ``k`` most important continuous columns that are their own group.

    A dependence plot needs a feature on one axis with more than a handful of values: flags
    (explicit, single release) and one-hot groups are read from the importance charts instead.
    """
    singles = [g for g in importance.index
               if g in X.columns and feature_group(g) == g and X[g].nunique() > 10]
    return singles[:k]


def _interactions(booster, X: pd.DataFrame, contribs: pd.DataFrame, sample: pd.DataFrame,
                  columns: list[str], groups: Mapping[str, list[str]],
                  feature_importance: pd.Series, settings: dict) -> dict:
    """Exact interactions of the top single features and the energy x valence pair, on the
    first ``interaction_per_macro`` tracks of every macro-genre's draw."""
    weights = sample["weight"].to_numpy()
    dependence = _top_single_features(feature_importance, X, settings["top_dependence"])
    targets = list(dict.fromkeys(
        [*dependence, *[f for f in DEFAULT_INTERACTION_PAIR if f in columns]]))
    small = sample["order"].to_numpy() < settings["interaction_per_macro"]
    X_small = X[small]
    inter = interaction_values(booster, X_small, targets, contribs=contribs[small])
    w_small = weights[small]
    group_index = list(groups)
    member = np.zeros((len(columns), len(group_index)))
    for g, cols in groups.items():
        for c in cols:
            member[columns.index(c), group_index.index(g)] = 1.0
    inter_groups = inter @ member  # (rows, targets, groups): summed within each group
    interaction_rows = []
    partners = {}
    for i, feature in enumerate(targets):
        strength = np.average(np.abs(inter_groups[:, i, :]), axis=0, weights=w_small)
        main = strength[group_index.index(feature_group(feature))]
        for g, s in zip(group_index, strength, strict=True):
            if g != feature_group(feature):
                interaction_rows.append({"feature": feature, "partner": g,
                                         "mean_abs_interaction": float(2 * s)})
        others = [(float(s), g) for g, s in zip(group_index, strength, strict=True)
                  if g != feature_group(feature)]
        numeric = [(s, g) for s, g in others if g in columns]
        best = max(others)
        best_numeric = max(numeric) if numeric else (0.0, None)
        partners[feature] = {
            "partner": best[1], "mean_abs_interaction": 2 * best[0],
            "numeric_partner": best_numeric[1],
            "numeric_mean_abs_interaction": 2 * best_numeric[0],
            "mean_abs_main_effect": float(main),
            "mean_abs_shap": float(np.average(np.abs(contribs.loc[small, feature]),
                                              weights=w_small)),
        }
    interactions = pd.DataFrame(interaction_rows).sort_values(
        ["feature", "mean_abs_interaction"], ascending=[True, False], kind="stable")
    pair_rows = []
    a, b = DEFAULT_INTERACTION_PAIR
    if a in targets and b in columns:
        phi_ab = inter[:, targets.index(a), columns.index(b)]
        pair_rows = pd.DataFrame({
            "track_id": sample["track_id"].to_numpy()[small],
            "macro_genre": sample["macro_genre"].to_numpy()[small],
            "weight": w_small, a: X_small[a].to_numpy(), b: X_small[b].to_numpy(),
            f"shap_{a}": contribs.loc[small, a].to_numpy(),
            f"shap_{b}": contribs.loc[small, b].to_numpy(),
            f"interaction_{a}_{b}": 2 * phi_ab,
        })
    return {"dependence": dependence, "targets": targets, "partners": partners,
            "interactions": interactions, "pair": pair_rows, "tracks": int(small.sum())}


# --- the cached frames -------------------------------------------------------------------------

def _tables(protocol: str, sample: pd.DataFrame, X: pd.DataFrame, columns: list[str],
            groups: Mapping[str, list[str]], grouped: pd.DataFrame, contribs: pd.DataFrame,
            prediction: np.ndarray, importance: pd.Series, feature_importance: pd.Series,
            permutation: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The importance, features, by-macro-genre and sample frames of one champion."""
    perm = permutation.set_index("group")
    total = float(importance.sum())
    members = {g: ", ".join(sorted(cols, key=lambda c: -feature_importance[c])[:3])
               for g, cols in groups.items()}
    importance_table = pd.DataFrame({
        "protocol": protocol, "group": importance.index,
        "label": [DRIVER_GROUP_DESCRIPTIONS.get(g, g) for g in importance.index],
        "n_columns": [len(groups[g]) for g in importance.index],
        "mean_abs_shap": importance.to_numpy(),
        "share": importance.to_numpy() / total,
        "shap_rank": np.arange(1, len(importance) + 1),
        "r2_drop_mean": perm.loc[importance.index, "r2_drop_mean"].to_numpy(),
        "r2_drop_sd": perm.loc[importance.index, "r2_drop_sd"].to_numpy(),
        "top_columns": [members[g] for g in importance.index],
    })
    importance_table["permutation_rank"] = importance_table["r2_drop_mean"].rank(
        ascending=False, method="first").astype("int64")
    features_table = pd.DataFrame({
        "protocol": protocol, "feature": feature_importance.index,
        "group": [feature_group(c) for c in feature_importance.index],
        "mean_abs_shap": feature_importance.to_numpy(),
    })
    macro = sample["macro_genre"].to_numpy()
    by_macro = []
    for m in dict.fromkeys(macro):
        rows = macro == m
        values = grouped[rows].abs().mean()
        for g, v in values.items():
            by_macro.append({"protocol": protocol, "macro_genre": m, "group": g,
                             "mean_abs_shap": float(v), "n": int(rows.sum())})
    by_macro = pd.DataFrame(by_macro)

    value_columns = [c for c in columns if feature_group(c) == c or c in (
        "artist_mean_popularity", "title_length", "album_compilation")]
    sample_frame = pd.concat([
        sample[["track_id", "macro_genre", "order", "weight"]].reset_index(drop=True).assign(
            protocol=protocol, prediction=prediction.astype("float64"),
            expected_value=contribs[BIAS].to_numpy(dtype="float64")),
        grouped.add_prefix("shap__").reset_index(drop=True),
        X[value_columns].add_prefix("value__").reset_index(drop=True),
    ], axis=1)
    return {"importance": importance_table, "features": features_table,
            "by_macro_genre": by_macro, "sample": sample_frame}


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    return buffer.getvalue()


def _float32(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].astype("float32")
    return out
