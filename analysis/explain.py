# ruff: noqa: E402  (imports follow the OpenMP setting below, as in analysis.models)
"""What drives the champions' predictions: SHAP, permutation importance, interactions.

The Drivers chapter answers "what drives popularity?" with the two honest champions of
:mod:`analysis.models` (``known_artist`` and ``cold_start``). Everything here is computed once
by :func:`build_explanations` (``python -m analysis.cli explain``) and cached under
``models/shap/``; the chapter and the front page only read those files
(:func:`load_explanations`), so rendering never trains a model or computes a SHAP value.

What is computed, per champion
------------------------------
SHAP values (local)
    Exact path-dependent TreeSHAP (Lundberg et al. 2020): the algorithm behind
    ``shap.TreeExplainer`` with ``feature_perturbation="tree_path_dependent"`` and XGBoost's
    ``pred_contribs=True``, ported to numba and run in float64 (:func:`tree_contributions`).
    XGBoost (and shap, which calls it) compute in float32, which on the champions' deep
    lossguide trees breaks additivity by up to half a point. The build records how far ours
    are from XGBoost's and shap's (``checks.xgboost_max_abs_diff``,
    ``checks.shap_library_max_abs_diff``), XGBoost's own additivity error, and that every
    track's contributions add up to its prediction (``checks.additivity_max_abs_error``).
Global importance
    Mean absolute SHAP value over a fixed, stratified sample of tracks
    (:func:`stratified_sample`: the same number of tracks from every macro-genre, weighted
    back to the population), in popularity points. One-hot columns are summed into their
    group *before* the absolute value (:func:`feature_group`), so "genre" is one driver, not
    114 small ones.
Permutation importance (held out)
    The drop in R² on one outer test fold of the protocol when a group's columns are
    shuffled together (:func:`grouped_permutation_importance`), scored with the fold's own
    model: refitted from the fold's tuned parameters recorded in ``metrics.json`` (the tuner
    rounds them before fitting, so the record is exact), and checked to reproduce the
    committed out-of-fold predictions of that fold track by track.
Interactions
    Exact SHAP interaction values, but only for a handful of features (the top track
    features and the energy × valence pair) on a small sample (:func:`interaction_values`).
    XGBoost's ``pred_interactions=True`` conditions on *every* one of the ~170 columns and
    costs seconds per track; conditioning only on the features we plot gives the same numbers
    (tested) for a few percent of the cost.
Drivers by macro-genre
    Mean absolute SHAP of each group within each macro-genre of the sample.
Feature ladder
    Why the honest scores are what they are: the R² of the permutation fold's model refit on
    growing feature sets (:data:`LADDER_STEPS`: the original's columns and the genre, then
    credits, title markers, album-name markers and, for ``known_artist``, artist history),
    same fold, same tuned parameters (:func:`feature_ladder`).
Artist history versus the track
    For ``known_artist``: the share of the prediction's movement (mean |SHAP|) that the three
    artist-history columns carry, and the R² of the fold model with the history columns
    removed (same folds, same parameters).

.. warning::
   SHAP values explain the *model*, not the world. With correlated inputs (energy, loudness
   and acousticness move together) credit is split between them in a way that depends on the
   trees' arbitrary choices; path-dependent TreeSHAP follows the training data's conditional
   structure, so it can credit a feature the model barely needs. Permutation importance asks
   the opposite question (how much the *score* falls without a feature) and breaks
   correlations, creating unrealistic tracks. The chapter shows both side by side.

Cost: about a few minutes on two cores, dominated by the SHAP values of the sample and the
fold refits. Everything is seeded (:data:`analysis.protocols.RANDOM_STATE`): a rerun writes
byte-identical files, and a file whose content did not change is not rewritten.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see analysis.models: speed only

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.artifacts import clean_json, versions, write_if_changed
from analysis.labels import ARTIST_HISTORY_GROUP, DRIVER_GROUP_DESCRIPTIONS
from analysis.protocols import HONEST_PROTOCOLS, RANDOM_STATE

__all__ = [
    "ARTIST_HISTORY_GROUP",
    "BIAS",
    "DEFAULT_INTERACTION_PAIR",
    "Explanations",
    "build_explanations",
    "dependence_frame",
    "LADDER_STEPS",
    "feature_group",
    "feature_groups",
    "feature_ladder",
    "ladder_part",
    "group_contributions",
    "grouped_permutation_importance",
    "interaction_values",
    "load_explanations",
    "mean_abs",
    "metrics_fingerprint",
    "parse_booster",
    "stratified_sample",
    "tree_contributions",
    "xgboost_contributions",
]

#: Folder under ``models/`` holding the cached artifacts.

#: Regression objectives whose prediction is the raw sum of leaves (+ base score), so the
#: contributions add up to the prediction itself.
IDENTITY_LINK_OBJECTIVES: tuple[str, ...] = ("reg:squarederror", "reg:pseudohubererror")

#: Name of the expected-value column of :func:`tree_contributions` (XGBoost's bias term).
BIAS = "expected_value"

#: Group of the three target-derived columns of ``known_artist``.

#: The interaction the issue names, always computed so the chapter can show it.
DEFAULT_INTERACTION_PAIR: tuple[str, str] = ("energy", "valence")

#: Sample design: tracks per macro-genre for SHAP values (weighted back to the population),
#: how many of them carry exact interaction values, and how many are drawn in charts.
SAMPLE_PER_MACRO = 150
INTERACTION_PER_MACRO = 10
DISPLAY_PER_MACRO = 40

#: Permutation importance: which outer fold is held out, and how many shuffles per group.
PERMUTATION_FOLD = 0
PERMUTATION_REPEATS = 5

#: How many single features get dependence data (and exact interactions).
TOP_DEPENDENCE = 4

#: The feature ladder's cumulative steps: a label and the :func:`ladder_part` each one adds.
#: The first is what the original modelled (its audio columns, duration, explicit) plus the
#: one primary genre; each next step adds one kind of metadata a label knows at release.
LADDER_STEPS: tuple[tuple[str, str], ...] = (
    ("original columns + genre", "original"),
    ("+ credited artists, single release", "credits"),
    ("+ title markers", "title text"),
    ("+ album-name markers", "album-name text"),
    ("+ artist history", ARTIST_HISTORY_GROUP),
)

SUMMARY_FILE = "summary.json"
SCHEMA_VERSION = 1

#: Readable names of the multi-column groups (single columns keep their own name).


# --- feature groups ----------------------------------------------------------------------------

def feature_group(name: str) -> str:
    """The driver a model column belongs to.

    One-hot and marker columns describe one property together, so their SHAP values are
    summed: all ``genre_*`` columns are "genre", ``macro_*`` "macro-genre", ``title_*`` and
    ``album_*`` the title and album-name markers, ``artist_*`` the artist history. Every other
    column (audio features, duration, explicit, credited artists, single release) is its own
    group.

    Examples
    --------
    >>> [feature_group(c) for c in ["genre_k_pop", "macro_pop", "title_live", "energy",
    ...                             "artist_n_tracks", "album_dated"]]
    ['genre', 'macro-genre', 'title text', 'energy', 'artist history', 'album-name text']
    """
    for prefix, group in (("genre_", "genre"), ("macro_", "macro-genre"),
                          ("title_", "title text"), ("album_", "album-name text"),
                          ("artist_", ARTIST_HISTORY_GROUP)):
        if name.startswith(prefix):
            return group
    return name


def feature_groups(columns: Sequence[str]) -> dict[str, list[str]]:
    """Columns by group, groups in order of first appearance.

    Examples
    --------
    >>> feature_groups(["energy", "genre_pop", "genre_rock", "valence"])
    {'energy': ['energy'], 'genre': ['genre_pop', 'genre_rock'], 'valence': ['valence']}
    """
    out: dict[str, list[str]] = {}
    for column in columns:
        out.setdefault(feature_group(column), []).append(column)
    return out


def ladder_part(name: str) -> str:
    """The step of :data:`LADDER_STEPS` that brings a model column in.

    Examples
    --------
    >>> [ladder_part(c) for c in ["energy", "explicit", "genre_pop", "macro_pop", "n_artists"]]
    ['original', 'original', 'original', 'original', 'credits']
    >>> [ladder_part(c) for c in ["title_live", "album_dated", "artist_n_tracks"]]
    ['title text', 'album-name text', 'artist history']
    """
    from analysis.features import ORIGINAL_TRACK_COLUMNS

    group = feature_group(name)
    if group in ("title text", "album-name text", ARTIST_HISTORY_GROUP):
        return group
    if group in ("genre", "macro-genre") or name in ORIGINAL_TRACK_COLUMNS:
        return "original"
    return "credits"


def feature_ladder(
    fit: Callable[[pd.DataFrame, np.ndarray], Callable[[pd.DataFrame], np.ndarray]],
    X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame, y_test: np.ndarray,
) -> pd.DataFrame:
    """Held-out R² and MAE of models refit on the cumulative feature sets of the ladder.

    ``fit(X, y)`` returns a predict function; steps whose part is absent from the columns
    (artist history under ``cold_start``) are left out. The last row uses every column.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"energy": rng.random(200), "title_live": rng.integers(0, 2, 200)})
    >>> y = 10 * X["energy"].to_numpy() + 5 * X["title_live"].to_numpy()
    >>> def fit(X, y):
    ...     coef = np.linalg.lstsq(np.c_[np.ones(len(X)), X], y, rcond=None)[0]
    ...     return lambda Z: np.c_[np.ones(len(Z)), Z] @ coef
    >>> ladder = feature_ladder(fit, X[:150], y[:150], X[150:], y[150:])
    >>> ladder["step"].tolist(), bool(ladder["r2"].iloc[-1] > ladder["r2"].iloc[0])
    (['original columns + genre', '+ title markers'], True)
    """
    parts = {c: ladder_part(c) for c in X_train.columns}
    rows, included = [], set()
    for label, part in LADDER_STEPS:
        if part not in parts.values():
            continue
        included.add(part)
        # the matrix's own column order: the last step is exactly the full model
        columns = [c for c in X_train.columns if parts[c] in included]
        pred = np.asarray(fit(X_train[columns], y_train)(X_test[columns]), dtype="float64")
        rows.append({"step": label, "part": part, "n_columns": len(columns),
                     "r2": _r2(y_test, pred),
                     "mae": float(np.mean(np.abs(y_test - pred)))})
    return pd.DataFrame(rows)


def group_contributions(contribs: pd.DataFrame) -> pd.DataFrame:
    """Sum per-column SHAP values into their groups (row by row, before any absolute value).

    SHAP values are additive, so a group's value is the sum of its columns' values: the
    one-hot genre columns together say how much "being this genre" moved the prediction.
    A :data:`BIAS` column, if present, is dropped.

    Examples
    --------
    >>> c = pd.DataFrame({"energy": [1.0], "genre_pop": [2.0], "genre_rock": [-0.5],
    ...                   BIAS: [30.0]})
    >>> group_contributions(c).to_dict("records")
    [{'energy': 1.0, 'genre': 1.5}]
    """
    columns = [c for c in contribs.columns if c != BIAS]
    groups = feature_groups(columns)
    return pd.DataFrame(
        {g: contribs[cols].sum(axis=1) for g, cols in groups.items()}, index=contribs.index
    )


def mean_abs(frame: pd.DataFrame, weights: Sequence[float] | None = None) -> pd.Series:
    """(Weighted) mean absolute value of each column, largest first.

    Examples
    --------
    >>> mean_abs(pd.DataFrame({"a": [1.0, -3.0], "b": [0.5, 0.5]}), weights=[3, 1]).to_dict()
    {'a': 1.5, 'b': 0.5}
    """
    values = frame.abs()
    if weights is None:
        out = values.mean()
    else:
        w = np.asarray(weights, dtype="float64")
        out = pd.Series(w @ values.to_numpy(dtype="float64") / w.sum(), index=frame.columns)
    return out.sort_values(ascending=False, kind="stable")


# --- sampling ----------------------------------------------------------------------------------

def stratified_sample(
    tracks: pd.DataFrame, *, per_group: int, by: str = "macro_genre",
    random_state: int = RANDOM_STATE,
) -> pd.DataFrame:
    """The same number of tracks from every group, with weights back to the population.

    Equal allocation gives every macro-genre enough tracks for its own drivers; the weight
    (group size / tracks drawn) makes weighted means estimate the whole catalogue. Tracks are
    drawn in a seeded random order within each group, sorted by ``track_id`` first, so the
    sample does not depend on row order. ``order`` is a track's rank in its group's draw: the
    first ``k`` of every group form a smaller stratified sample (for charts, interactions).

    Returns
    -------
    pandas.DataFrame
        ``position`` (row position in ``tracks``), ``track_id``, ``by``, ``order``, ``weight``,
        sorted by group name and ``order``.

    Examples
    --------
    >>> t = pd.DataFrame({"track_id": list("abcdefg"), "macro_genre": list("xxxxxyy")})
    >>> s = stratified_sample(t, per_group=2)
    >>> s.groupby("macro_genre")["weight"].first().to_dict()
    {'x': 2.5, 'y': 1.0}
    >>> float(s["weight"].sum()) == len(t)
    True
    """
    rng = np.random.default_rng(random_state)
    keys = tracks[by].astype(str).to_numpy()
    ids = tracks["track_id"].astype(str).to_numpy()
    parts = []
    for group in sorted(set(keys)):
        positions = np.flatnonzero(keys == group)
        positions = positions[np.argsort(ids[positions], kind="stable")]
        drawn = rng.permutation(positions)[:per_group]
        parts.append(pd.DataFrame({
            "position": drawn, "track_id": ids[drawn], by: group,
            "order": np.arange(len(drawn)), "weight": len(positions) / len(drawn),
        }))
    return pd.concat(parts, ignore_index=True)


# --- TreeSHAP ----------------------------------------------------------------------------------

def tree_contributions(booster, X: pd.DataFrame) -> pd.DataFrame:
    """Exact path-dependent SHAP values of an XGBoost model, one column per feature.

    The TreeSHAP algorithm of ``shap.TreeExplainer`` (path-dependent), as XGBoost implements it
    for ``pred_contribs=True``, but computed in float64 (:func:`_ts_contributions`, a numba
    port of XGBoost's code). XGBoost and shap (which delegates to XGBoost for XGBoost models)
    run it in float32, and on deep trees (the lossguide champions reach depth 30 and more) the
    rounding breaks additivity by half a point; in float64 it holds to 1e-9. The last column,
    :data:`BIAS`, is the expected value (base score plus each tree's cover-weighted mean leaf):
    for every row, the contributions plus the bias equal the model's raw prediction.

    Examples
    --------
    >>> import xgboost as xgb
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 0.0, 1.0], "b": [0.0, 0.0, 1.0, 1.0]})
    >>> booster = xgb.train({"max_depth": 2, "seed": 0}, xgb.DMatrix(X, [0, 1, 1, 3]), 5)
    >>> c = tree_contributions(booster, X)
    >>> bool(np.allclose(c.sum(axis=1), booster.predict(xgb.DMatrix(X)), atol=1e-5))
    True
    >>> ref = booster.predict(xgb.DMatrix(X), pred_contribs=True)
    >>> bool(np.allclose(c.to_numpy(), ref, atol=1e-5))
    True
    """
    trees = parse_booster(booster)
    columns = list(map(str, X.columns))
    if trees.feature_names != columns:
        raise ValueError("X's columns are not the booster's features in the booster's order")
    matrix = np.ascontiguousarray(X.to_numpy(dtype=np.float32))
    if len(X):
        phi = _kernel("_ts_contributions")(
            matrix, trees.offsets, trees.left, trees.right, trees.feature, trees.threshold,
            trees.default_left, trees.value, trees.cover, trees.max_depth)
    else:
        phi = np.zeros((0, len(columns)))
    bias = _base_score(booster) + float(_expected_values(trees).sum())
    out = pd.DataFrame(phi, index=X.index, columns=columns)
    out[BIAS] = bias
    return out


def xgboost_contributions(booster, X: pd.DataFrame) -> pd.DataFrame:
    """XGBoost's own ``pred_contribs=True`` (float32), for comparison with
    :func:`tree_contributions`."""
    import xgboost as xgb

    matrix = xgb.DMatrix(X, feature_names=list(map(str, X.columns)))
    values = booster.predict(matrix, pred_contribs=True, validate_features=False)
    return pd.DataFrame(values, index=X.index, columns=[*map(str, X.columns), BIAS])


@dataclass(frozen=True)
class ParsedTrees:
    """An XGBoost ensemble as flat node arrays (what the numba TreeSHAP walks).

    ``offsets[t]`` is tree ``t``'s first node; children are tree-local node numbers (-1 at a
    leaf); ``value`` is a leaf's output, ``cover`` a node's hessian sum, ``uses[t, f]`` whether
    tree ``t`` splits on feature ``f``.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    value: np.ndarray
    cover: np.ndarray
    offsets: np.ndarray
    uses: np.ndarray
    max_depth: int
    feature_names: list[str]


def parse_booster(booster) -> ParsedTrees:
    """Read a regression booster's trees from its JSON dump into flat arrays.

    Thresholds stay float32 (XGBoost compares float32 feature values against float32 split
    conditions), so the walk takes exactly XGBoost's branches.
    """
    learner = json.loads(bytes(booster.save_raw("json")))["learner"]
    gbm = learner["gradient_booster"]
    if gbm.get("name") != "gbtree":
        raise ValueError(f"only gbtree boosters are supported, not {gbm.get('name')!r}")
    trees = gbm["model"]["trees"]
    n_features = int(learner["learner_model_param"]["num_feature"])
    arrays: dict[str, list] = {k: [] for k in ("left", "right", "feature", "threshold",
                                               "default_left", "value", "cover")}
    offsets = [0]
    uses = np.zeros((len(trees), n_features), dtype=np.bool_)
    max_depth = 0
    for t, tree in enumerate(trees):
        if any(tree.get("split_type", [])):
            raise ValueError(f"tree {t} has a categorical split; only numeric splits are supported")
        left = np.asarray(tree["left_children"], dtype=np.int64)
        right = np.asarray(tree["right_children"], dtype=np.int64)
        feature = np.asarray(tree["split_indices"], dtype=np.int64)
        conditions = np.asarray(tree["split_conditions"], dtype=np.float64)
        arrays["left"].append(left)
        arrays["right"].append(right)
        arrays["feature"].append(feature)
        arrays["threshold"].append(conditions.astype(np.float32))
        arrays["default_left"].append(np.asarray(tree["default_left"], dtype=np.bool_))
        arrays["value"].append(conditions)
        arrays["cover"].append(np.asarray(tree["sum_hessian"], dtype=np.float64))
        offsets.append(offsets[-1] + len(left))
        internal = left != -1
        uses[t, feature[internal]] = True
        depth = np.zeros(len(left), dtype=np.int64)
        for node in range(len(left)):  # parents precede children in XGBoost's numbering
            if left[node] != -1:
                depth[left[node]] = depth[right[node]] = depth[node] + 1
        max_depth = max(max_depth, int(depth.max()))
    names = list(booster.feature_names or [f"f{i}" for i in range(n_features)])
    return ParsedTrees(
        left=np.concatenate(arrays["left"]), right=np.concatenate(arrays["right"]),
        feature=np.concatenate(arrays["feature"]),
        threshold=np.concatenate(arrays["threshold"]),
        default_left=np.concatenate(arrays["default_left"]),
        value=np.concatenate(arrays["value"]), cover=np.concatenate(arrays["cover"]),
        offsets=np.asarray(offsets, dtype=np.int64), uses=uses, max_depth=max_depth,
        feature_names=names,
    )


# A line-by-line port of XGBoost's TreeShap with its `condition` argument
# (src/tree/tree_model.cc: ExtendPath, UnwindPath, UnwoundPathSum, TreeShap). The path arrays
# are one flat buffer per thread; a child's path starts right after its parent's. These are
# plain Python functions until _kernel() compiles them with numba (cached on disk), so that
# importing this module does not pay for numba.

_prange = range


def _ts_extend(fi, zf, of, pw, start, depth, zero_fraction, one_fraction, feature):
    fi[start + depth] = feature
    zf[start + depth] = zero_fraction
    of[start + depth] = one_fraction
    pw[start + depth] = 1.0 if depth == 0 else 0.0
    for i in range(depth - 1, -1, -1):
        pw[start + i + 1] += one_fraction * pw[start + i] * (i + 1) / (depth + 1)
        pw[start + i] = zero_fraction * pw[start + i] * (depth - i) / (depth + 1)


def _ts_unwind(fi, zf, of, pw, start, depth, path_index):
    one_fraction = of[start + path_index]
    zero_fraction = zf[start + path_index]
    next_one = pw[start + depth]
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0:
            tmp = pw[start + i]
            pw[start + i] = next_one * (depth + 1) / ((i + 1) * one_fraction)
            next_one = tmp - pw[start + i] * zero_fraction * (depth - i) / (depth + 1)
        else:
            pw[start + i] = pw[start + i] * (depth + 1) / (zero_fraction * (depth - i))
    for i in range(path_index, depth):
        fi[start + i] = fi[start + i + 1]
        zf[start + i] = zf[start + i + 1]
        of[start + i] = of[start + i + 1]


def _ts_unwound_sum(zf, of, pw, start, depth, path_index):
    one_fraction = of[start + path_index]
    zero_fraction = zf[start + path_index]
    next_one = pw[start + depth]
    total = 0.0
    for i in range(depth - 1, -1, -1):
        if one_fraction != 0:
            tmp = next_one * (depth + 1) / ((i + 1) * one_fraction)
            total += tmp
            next_one = pw[start + i] - tmp * zero_fraction * ((depth - i) / (depth + 1))
        elif zero_fraction != 0:
            total += (pw[start + i] / zero_fraction) / ((depth - i) / (depth + 1))
    return total


def _ts_tree_shap(x, phi, left, right, feat, thr, dleft, value, cover, base,
                  fi, zf, of, pw, stack_i, stack_f, condition, cfeature):
    # XGBoost's recursive TreeShap, unrolled onto an explicit stack (numba caches recursive
    # functions unreliably). A frame is (node, parent path start, unique depth, parent
    # feature) + (zero fraction, one fraction, condition fraction). Frames are processed
    # depth first: a node's path segment lies after its parent's, so a subtree never
    # overwrites the segment its sibling will still read.
    top = 0
    stack_i[0, 0] = 0
    stack_i[0, 1] = 0
    stack_i[0, 2] = 0
    stack_i[0, 3] = -1
    stack_f[0, 0] = 1.0
    stack_f[0, 1] = 1.0
    stack_f[0, 2] = 1.0
    while top >= 0:
        node = stack_i[top, 0]
        parent_start = stack_i[top, 1]
        depth = stack_i[top, 2]
        pfeature = stack_i[top, 3]
        pzero = stack_f[top, 0]
        pone = stack_f[top, 1]
        cfraction = stack_f[top, 2]
        top -= 1
        if cfraction == 0.0:
            continue
        start = parent_start + depth + 1
        for i in range(depth + 1):
            fi[start + i] = fi[parent_start + i]
            zf[start + i] = zf[parent_start + i]
            of[start + i] = of[parent_start + i]
            pw[start + i] = pw[parent_start + i]
        if condition == 0 or cfeature != pfeature:
            _ts_extend(fi, zf, of, pw, start, depth, pzero, pone, pfeature)
        n = base + node
        if left[n] == -1:
            for i in range(1, depth + 1):
                w = _ts_unwound_sum(zf, of, pw, start, depth, i)
                phi[fi[start + i]] += w * (of[start + i] - zf[start + i]) * value[n] * cfraction
            continue
        split = feat[n]
        xv = x[split]
        if np.isnan(xv):
            hot = left[n] if dleft[n] else right[n]
        elif xv < thr[n]:
            hot = left[n]
        else:
            hot = right[n]
        cold = right[n] if hot == left[n] else left[n]
        w = cover[n]
        hot_zero = cover[base + hot] / w
        cold_zero = cover[base + cold] / w
        in_zero = 1.0
        in_one = 1.0
        path_index = 0
        while path_index <= depth:
            if fi[start + path_index] == split:
                break
            path_index += 1
        if path_index != depth + 1:
            in_zero = zf[start + path_index]
            in_one = of[start + path_index]
            _ts_unwind(fi, zf, of, pw, start, depth, path_index)
            depth -= 1
        hot_cf = cfraction
        cold_cf = cfraction
        if condition > 0 and split == cfeature:
            cold_cf = 0.0
            depth -= 1
        elif condition < 0 and split == cfeature:
            hot_cf *= hot_zero
            cold_cf *= cold_zero
            depth -= 1
        # push cold first so the hot child is processed first, as in the recursion
        top += 1
        stack_i[top, 0] = cold
        stack_i[top, 1] = start
        stack_i[top, 2] = depth + 1
        stack_i[top, 3] = split
        stack_f[top, 0] = cold_zero * in_zero
        stack_f[top, 1] = 0.0
        stack_f[top, 2] = cold_cf
        top += 1
        stack_i[top, 0] = hot
        stack_i[top, 1] = start
        stack_i[top, 2] = depth + 1
        stack_i[top, 3] = split
        stack_f[top, 0] = hot_zero * in_zero
        stack_f[top, 1] = in_one
        stack_f[top, 2] = hot_cf


def _ts_interactions(X, targets, uses, offsets, left, right, feat, thr, dleft, value, cover,
                     max_depth):
    n, m = X.shape
    k = targets.shape[0]
    out = np.zeros((n, k, m))
    size = (max_depth + 3) * (max_depth + 4) // 2 + 2
    n_trees = offsets.shape[0] - 1
    for r in _prange(n):
        fi = np.zeros(size, np.int64)
        zf = np.zeros(size)
        of = np.zeros(size)
        pw = np.zeros(size)
        on = np.zeros(m)
        off = np.zeros(m)
        stack_i = np.zeros((2 * max_depth + 4, 4), np.int64)
        stack_f = np.zeros((2 * max_depth + 4, 3))
        x = X[r]
        for kk in range(k):
            f = targets[kk]
            on[:] = 0.0
            off[:] = 0.0
            for t in range(n_trees):
                if not uses[t, f]:
                    continue  # a tree that never splits on f adds nothing to its interactions
                _ts_tree_shap(x, on, left, right, feat, thr, dleft, value, cover, offsets[t],
                              fi, zf, of, pw, stack_i, stack_f, 1, f)
                _ts_tree_shap(x, off, left, right, feat, thr, dleft, value, cover, offsets[t],
                              fi, zf, of, pw, stack_i, stack_f, -1, f)
            for j in range(m):
                out[r, kk, j] = (on[j] - off[j]) / 2.0
    return out


def _ts_contributions(X, offsets, left, right, feat, thr, dleft, value, cover, max_depth):
    n, m = X.shape
    out = np.zeros((n, m))
    size = (max_depth + 3) * (max_depth + 4) // 2 + 2
    n_trees = offsets.shape[0] - 1
    for r in _prange(n):
        fi = np.zeros(size, np.int64)
        zf = np.zeros(size)
        of = np.zeros(size)
        pw = np.zeros(size)
        phi = np.zeros(m)
        stack_i = np.zeros((2 * max_depth + 4, 4), np.int64)
        stack_f = np.zeros((2 * max_depth + 4, 3))
        x = X[r]
        for t in range(n_trees):
            _ts_tree_shap(x, phi, left, right, feat, thr, dleft, value, cover, offsets[t],
                          fi, zf, of, pw, stack_i, stack_f, 0, -1)
        out[r] = phi
    return out


_JIT_NAMES = ("_ts_extend", "_ts_unwind", "_ts_unwound_sum", "_ts_tree_shap")
_PARALLEL_NAMES = ("_ts_interactions", "_ts_contributions")


def _kernel(name: str = "_ts_interactions"):
    """A compiled TreeSHAP kernel (numba; compiled once, then loaded from its disk cache)."""
    global _prange
    current = globals()[name]
    if hasattr(current, "py_func"):
        return current
    import numba as nb

    if not hasattr(globals()[_JIT_NAMES[-1]], "py_func"):
        for helper in _JIT_NAMES:  # rebind first: compiled callers resolve these globals
            globals()[helper] = nb.njit(cache=True)(globals()[helper])
        _prange = nb.prange
    globals()[name] = nb.njit(parallel=True, cache=True)(current)
    return globals()[name]


def _expected_values(trees: ParsedTrees) -> np.ndarray:
    """Each tree's cover-weighted mean leaf value (XGBoost's ``node_mean_values`` at the root)."""
    out = np.zeros(len(trees.offsets) - 1)
    for t in range(len(out)):
        base, end = trees.offsets[t], trees.offsets[t + 1]
        left, right = trees.left[base:end], trees.right[base:end]
        cover, value = trees.cover[base:end], trees.value[base:end]
        mean = value.copy()
        for node in range(end - base - 1, -1, -1):  # children have larger ids than parents
            if left[node] != -1:
                a, b = left[node], right[node]
                mean[node] = (mean[a] * cover[a] + mean[b] * cover[b]) / cover[node]
        out[t] = mean[0]
    return out


def _base_score(booster) -> float:
    learner = json.loads(booster.save_config())["learner"]
    objective = learner["objective"]["name"]
    if objective not in IDENTITY_LINK_OBJECTIVES:
        raise ValueError(f"only boosters whose prediction is the margin are supported "
                         f"({', '.join(IDENTITY_LINK_OBJECTIVES)}), not {objective!r}")
    return float(learner["learner_model_param"]["base_score"].strip("[]").split(",")[0])


def interaction_values(
    booster, X: pd.DataFrame, features: Sequence[str], *, contribs: pd.DataFrame | None = None
) -> np.ndarray:
    """Exact SHAP interaction values between the chosen ``features`` and every column.

    ``out[r, i, j]`` is the path-dependent SHAP interaction value Φ of ``features[i]`` and
    column ``j`` for row ``r``, as ``xgboost`` ``pred_interactions=True`` (and
    ``shap.TreeExplainer.shap_interaction_values``) define it: half the change in column
    ``j``'s SHAP value when feature ``i`` is always present versus always absent; the diagonal
    holds the main effect, so each row of ``out[r, i]`` sums to feature ``i``'s SHAP value.

    Why not XGBoost's own: it conditions on every column (2 × 170 TreeSHAP passes per track);
    here only the few features we plot are conditioned on, and trees that never split on a
    feature are skipped (they contribute no interaction with it).

    Parameters
    ----------
    booster : xgboost.Booster
    X : pandas.DataFrame
        Model matrix, columns in the booster's order.
    features : sequence of str
        Columns to condition on.
    contribs : pandas.DataFrame, optional
        :func:`tree_contributions` of ``X`` (computed if absent), for the diagonal.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(X), len(features), X.shape[1])``, float64.

    Examples
    --------
    >>> import xgboost as xgb
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    >>> booster = xgb.train({"max_depth": 3, "seed": 0}, xgb.DMatrix(X, X.a * X.b), 10)
    >>> mine = interaction_values(booster, X.iloc[:5], ["a"])
    >>> ref = booster.predict(xgb.DMatrix(X.iloc[:5]), pred_interactions=True)[:, 0, :3]
    >>> bool(np.allclose(mine[:, 0], ref, atol=1e-4))
    True
    """
    trees = parse_booster(booster)
    columns = list(map(str, X.columns))
    if trees.feature_names != columns:
        raise ValueError("X's columns are not the booster's features in the booster's order")
    targets = np.asarray([columns.index(f) for f in features], dtype=np.int64)
    if len(X) == 0 or len(targets) == 0:
        return np.zeros((len(X), len(targets), len(columns)))
    matrix = np.ascontiguousarray(X.to_numpy(dtype=np.float32))
    out = _kernel()(matrix, targets, trees.uses, trees.offsets, trees.left, trees.right,
                    trees.feature, trees.threshold, trees.default_left, trees.value,
                    trees.cover, trees.max_depth)
    if contribs is None:
        contribs = tree_contributions(booster, X)
    phi = contribs[columns].to_numpy(dtype=np.float64)
    for i, t in enumerate(targets):
        out[:, i, t] = 0.0
        out[:, i, t] = phi[:, t] - out[:, i, :].sum(axis=1)
    return out


# --- permutation importance --------------------------------------------------------------------

def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    y = np.asarray(y, dtype="float64")
    residual = float(np.sum((y - pred) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - residual / total


def grouped_permutation_importance(
    predict: Callable[[np.ndarray], np.ndarray],
    X: pd.DataFrame,
    y: Sequence[float],
    groups: Mapping[str, Sequence[str]],
    *,
    n_repeats: int = PERMUTATION_REPEATS,
    random_state: int = RANDOM_STATE,
) -> pd.DataFrame:
    """Drop in R² when a group of columns is shuffled together, on held-out rows.

    The algorithm of :func:`sklearn.inspection.permutation_importance` (score, shuffle,
    re-score, ``n_repeats`` times), except that a group's columns are permuted with *one*
    shuffle of the rows, so one-hot columns stay one-hot and the genre is permuted as one
    property. A single-column group is exactly scikit-learn's column permutation.

    Parameters
    ----------
    predict : callable
        Maps a NumPy matrix (``X``'s columns, in order) to predictions: the fold's model,
        e.g. ``booster.inplace_predict`` (NumPy in, to skip DataFrame conversion per call).
    X, y : held-out rows and their popularity.
    groups : mapping
        Group name -> its columns (e.g. :func:`feature_groups`).

    Returns
    -------
    pandas.DataFrame
        ``group``, ``r2_drop_mean``, ``r2_drop_sd`` (over repeats), ``baseline_r2``; in the
        order of ``groups``.

    Examples
    --------
    >>> X = pd.DataFrame({"a": np.arange(50.0), "b": np.zeros(50)})
    >>> out = grouped_permutation_importance(lambda m: m[:, 0], X, X["a"],
    ...                                      {"a": ["a"], "b": ["b"]}, n_repeats=3)
    >>> bool(out.loc[0, "r2_drop_mean"] > 1), float(out.loc[1, "r2_drop_mean"])
    (True, 0.0)
    """
    y = np.asarray(y, dtype="float64")
    rng = np.random.default_rng(random_state)
    values = X.to_numpy(dtype="float64")
    position = {c: i for i, c in enumerate(X.columns)}
    baseline = _r2(y, np.asarray(predict(values), dtype="float64"))
    rows = []
    for group, columns in groups.items():
        index = [position[c] for c in columns]
        shuffled = values.copy()
        drops = []
        for _ in range(n_repeats):
            order = rng.permutation(len(values))
            shuffled[:, index] = values[order][:, index]
            drops.append(baseline - _r2(y, np.asarray(predict(shuffled), dtype="float64")))
        rows.append({"group": group, "r2_drop_mean": float(np.mean(drops)),
                     "r2_drop_sd": float(np.std(drops, ddof=1)) if n_repeats > 1 else 0.0,
                     "baseline_r2": baseline})
    return pd.DataFrame(rows)


# --- the build ---------------------------------------------------------------------------------

def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, compression="zstd")
    return buffer.getvalue()


def _float32(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].astype("float32")
    return out


@dataclass
class _Context:
    tracks: pd.DataFrame
    base: pd.DataFrame              # cold_start matrix of every track
    metrics: dict
    models_dir: Path
    champions: Mapping | None = None  # protocol -> loaded champion (tests); else models.load


def _n_splits(ctx: _Context) -> int:
    """Inner folds of the build's out-of-fold artist history (as ``metrics.json`` records)."""
    from analysis.protocols import N_SPLITS

    return int(ctx.metrics.get("budget", {}).get("n_splits", N_SPLITS))


def _matrix(ctx: _Context, protocol: str) -> pd.DataFrame:
    """The champion's training matrix (known_artist: out-of-fold artist history)."""
    from analysis.models import design_matrix

    return design_matrix(ctx.tracks, protocol, n_splits=_n_splits(ctx), base=ctx.base)


def _fold_matrices(ctx: _Context, protocol: str, fold: int, columns: Sequence[str]):
    """Training and test matrices of one outer fold, exactly as analysis.models builds them."""
    from analysis.models import design_matrix
    from analysis.protocols import protocol_folds

    n_splits = _n_splits(ctx)
    folds = protocol_folds(ctx.tracks, protocol, n_splits=n_splits)
    train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
    X = design_matrix(ctx.tracks, protocol, fit_rows=train, n_splits=n_splits, base=ctx.base)
    y = ctx.tracks["popularity"].to_numpy(dtype="float64")
    return X.iloc[train][list(columns)], y[train], X.iloc[test][list(columns)], y[test], test


def _fold_params(ctx: _Context, protocol: str, fold: int, champion) -> tuple[dict, str]:
    from analysis.models import CHAMPION_MODEL

    entry = ctx.metrics["protocols"][protocol]["models"].get(CHAMPION_MODEL, {})
    fold_params = entry.get("fold_params")
    if fold_params and len(fold_params) > fold:
        return dict(fold_params[fold]), f"metrics.json fold_params[{fold}] of {CHAMPION_MODEL}"
    return dict(champion.manifest["params"]), "the champion's parameters (no fold parameters)"


def _fit(params: Mapping, X: pd.DataFrame, y: np.ndarray):
    from analysis.models import CHAMPION_MODEL, make_model

    return make_model(CHAMPION_MODEL, params=dict(params)).fit(X, y)


def _oof_match(ctx: _Context, protocol: str, fold: int, test: np.ndarray, pred: np.ndarray,
               y_test: np.ndarray) -> dict | None:
    """How close the refitted fold model comes to the committed OOF predictions of its fold.

    The tuner rounds its parameters to the precision ``metrics.json`` stores before any fold
    model is fitted, so a refit from the record is the scored model itself: its predictions
    should equal the OOF file's up to the file's 0.01-point storage.
    """
    from analysis.models import CHAMPION_MODEL, load_oof

    try:
        oof = load_oof(protocol, CHAMPION_MODEL, ctx.models_dir)
    except (OSError, ValueError):
        return None
    oof = oof[oof["fold"] == fold].set_index("track_id")["y_pred"]
    ids = ctx.tracks["track_id"].to_numpy()[test]
    if not pd.Index(ids).isin(oof.index).all():
        return None
    committed = oof.loc[ids].to_numpy(dtype="float64")
    return {"max_abs_diff": float(np.max(np.abs(committed - pred.astype("float32")))),
            "r2_refit": _r2(y_test, pred), "r2_committed": _r2(y_test, committed)}


def _top_single_features(importance: pd.Series, X: pd.DataFrame, k: int) -> list[str]:
    """The ``k`` most important continuous columns that are their own group.

    A dependence plot needs a feature on one axis with more than a handful of values: flags
    (explicit, single release) and one-hot groups are read from the importance charts instead.
    """
    singles = [g for g in importance.index
               if g in X.columns and feature_group(g) == g and X[g].nunique() > 10]
    return singles[:k]


def _explain_protocol(ctx: _Context, protocol: str, settings: dict, log) -> dict:
    """Everything cached for one champion; returns frames and its summary section."""
    from analysis.models import load

    start = time.perf_counter()
    if ctx.champions is not None:
        champion = ctx.champions[protocol]
    else:
        champion = load(protocol, models_dir=ctx.models_dir)
    booster = champion.booster
    columns = list(champion.feature_names)
    X_all = _matrix(ctx, protocol)
    missing = [c for c in columns if c not in X_all.columns]
    if missing:
        raise ValueError(
            f"the {protocol} champion was trained on features that analysis.features no longer "
            f"makes ({', '.join(missing[:5])}): it is stale; rebuild it with "
            "`python -m analysis.cli models` before explaining it")
    X_all = X_all[columns]
    sample = settings["sample"]
    X = X_all.iloc[sample["position"].to_numpy()]
    X.index = pd.RangeIndex(len(X))
    weights = sample["weight"].to_numpy()

    contribs = tree_contributions(booster, X)
    import xgboost as xgb

    prediction = booster.predict(xgb.DMatrix(X, feature_names=columns))
    additivity = float(np.max(np.abs(contribs.sum(axis=1).to_numpy() - prediction)))
    check_rows = X.iloc[: settings["shap_check_rows"]]
    reference = xgboost_contributions(booster, check_rows)
    xgboost_diff = float(np.max(np.abs(reference.to_numpy() - contribs.iloc[
        : len(check_rows)].to_numpy())))
    xgboost_additivity = float(np.max(np.abs(
        reference.sum(axis=1).to_numpy() - prediction[: len(check_rows)])))
    shap_diff = _shap_library_diff(booster, check_rows, contribs.iloc[: len(check_rows)])
    log(f"  {protocol}: SHAP values of {len(X):,} tracks in {time.perf_counter() - start:.1f} s")

    grouped = group_contributions(contribs)
    groups = feature_groups(columns)
    importance = mean_abs(grouped, weights)
    feature_importance = mean_abs(contribs.drop(columns=BIAS), weights)

    # permutation importance on a held-out fold, with that fold's own model
    t0 = time.perf_counter()
    fold = settings["permutation_fold"]
    params, params_source = _fold_params(ctx, protocol, fold, champion)
    X_train, y_train, X_test, y_test, test = _fold_matrices(ctx, protocol, fold, columns)
    # one fit per column set: the ladder's last step is this fold model, and (known artist)
    # its step before artist history is the no-history refit below
    fitted = {tuple(X_train.columns): _fit(params, X_train, y_train)}

    def fit_once(X: pd.DataFrame, y: np.ndarray):
        if tuple(X.columns) not in fitted:
            fitted[tuple(X.columns)] = _fit(params, X, y)
        return fitted[tuple(X.columns)]

    model = fitted[tuple(X_train.columns)]
    fold_pred = np.asarray(model.predict(X_test), dtype="float64")
    fold_r2 = _r2(y_test, fold_pred)
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
        r2_without = _r2(y_test, np.asarray(no_history.predict(X_test[track_columns])))
        hist = grouped[ARTIST_HISTORY_GROUP].abs().to_numpy()
        track = grouped.drop(columns=ARTIST_HISTORY_GROUP).sum(axis=1).abs().to_numpy()
        leak_audit = ctx.metrics.get("findings", {}).get("leak_audit", {}).get("known_artist", {})
        history = {
            "shap_mean_abs_history": float(np.average(hist, weights=weights)),
            "shap_mean_abs_track": float(np.average(track, weights=weights)),
            "shap_share_history": float(np.average(hist, weights=weights)
                                        / (np.average(hist, weights=weights)
                                           + np.average(track, weights=weights))),
            "fold": fold, "r2_with_history": fold_r2,
            "r2_without_history": r2_without,
            "r2_history_alone": leak_audit.get("r2_of_artist_mean_alone"),
            "r2_history_alone_source": "metrics.json findings.leak_audit.known_artist "
                                       "(out-of-fold artist mean used as the prediction)",
        }
        history["r2_drop_without_history"] = history["r2_with_history"] - r2_without
        log(f"  {protocol}: no-history refit in {time.perf_counter() - t0:.1f} s")

    # exact interactions for the top single features and the energy x valence pair
    t0 = time.perf_counter()
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
    log(f"  {protocol}: interactions of {len(targets)} features on {int(small.sum())} tracks "
        f"in {time.perf_counter() - t0:.1f} s")

    # tables -----------------------------------------------------------------------------
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

    trees = parse_booster(booster)
    section = {
        "champion": {
            "manifest_sha256": ctx.metrics.get("champions", {}).get(protocol, {}).get(
                "manifest_sha256"),
            "n_trees": int(len(trees.offsets) - 1), "max_depth": trees.max_depth,
            "n_features": len(columns),
        },
        "expected_value": float(contribs[BIAS].iloc[0]),
        "checks": {"additivity_max_abs_error": additivity,
                   "xgboost_max_abs_diff": xgboost_diff,
                   "xgboost_additivity_max_abs_error": xgboost_additivity,
                   "shap_library_max_abs_diff": shap_diff,
                   "shap_library_rows": int(len(check_rows))},
        "importance_order": list(importance.index),
        "top_features": list(feature_importance.index[:10]),
        "dependence_features": dependence,
        "interaction_features": targets,
        "interaction_partners": partners,
        "permutation": {
            "fold": fold, "test_tracks": int(len(X_test)), "n_repeats":
            settings["permutation_repeats"], "params_source": params_source,
            "baseline_r2": float(permutation["baseline_r2"].iloc[0]),
            "refit_vs_oof": oof_gap,
            "rank_correlation_with_shap": float(
                importance_table[["shap_rank", "permutation_rank"]].corr("spearman").iloc[0, 1]),
        },
        "artist_history": history,
        "feature_ladder": {"fold": fold, "test_tracks": int(len(X_test)),
                           "params_source": params_source,
                           "steps": ladder.to_dict(orient="records")},
    }
    frames = {"importance": importance_table, "features": features_table,
              "by_macro_genre": by_macro, "sample": sample_frame,
              "interactions": interactions.assign(protocol=protocol)}
    if len(pair_rows):
        frames["pair"] = pair_rows.assign(protocol=protocol)
    log(f"  {protocol}: done in {time.perf_counter() - start:.1f} s")
    return {"frames": frames, "summary": section}


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


def _versions() -> dict:
    return versions(("xgboost", "numba", "pandas", "numpy", "shap"), python=False)


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
    and ``models/metrics.json``; writes ``models/shap/`` (see :func:`load_explanations`).
    Nothing is written until everything is computed, and a file whose bytes would not change
    is left alone.

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
        Tests pass small models trained on synthetic tracks.

    Returns
    -------
    dict
        The summary written to ``models/shap/summary.json``.

    Raises
    ------
    analysis.models.ChampionIntegrityError
        If a champion is missing or fails its hash check (run ``python -m analysis.cli
        models`` first).
    """
    from analysis.features import make_features
    from analysis.models import load_metrics

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
        "versions": _versions(),
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
    text = json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if write_if_changed(out_dir / SUMMARY_FILE, text.encode()):
        written.append(SUMMARY_FILE)
    log(f"explanations built in {time.perf_counter() - start:.0f} s; "
        f"{'wrote ' + ', '.join(written) if written else 'no file changed'}")
    return summary


# --- reading the cache -------------------------------------------------------------------------

def metrics_fingerprint(metrics: Mapping) -> str:
    """SHA-256 of ``metrics.json``'s content without its wall times.

    The cached explanations are current when this matches the committed metrics: a rebuild of
    the models that only re-timed them does not make the explanations stale.

    Examples
    --------
    >>> metrics_fingerprint({"a": 1, "timings": {"s": 3}}) == metrics_fingerprint({"a": 1})
    True
    """
    content = {k: v for k, v in metrics.items() if k != "timings"}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Explanations:
    """The cached artifacts of :func:`build_explanations` (what the chapters read).

    Attributes
    ----------
    summary : dict
        ``summary.json``: sample design, methods, per-protocol checks, orders, partners,
        permutation set-up and (``known_artist``) artist history versus the track.
    importance : pandas.DataFrame
        Per protocol and group: mean |SHAP| (points), share, permutation R² drop (± sd), ranks.
    features : pandas.DataFrame
        Per protocol and model column: mean |SHAP|.
    by_macro_genre : pandas.DataFrame
        Per protocol, macro-genre and group: mean |SHAP|.
    sample : pandas.DataFrame
        Per protocol and sampled track: group SHAP values (``shap__<group>``), the values of the
        single-column features (``value__<column>``), prediction, weight, draw order.
    interactions : pandas.DataFrame
        Per protocol, conditioned feature and partner group: mean |interaction|.
    pair : pandas.DataFrame
        Per protocol and interaction-sample track: energy, valence, their SHAP values and their
        interaction value.
    """

    summary: dict
    importance: pd.DataFrame
    features: pd.DataFrame
    by_macro_genre: pd.DataFrame
    sample: pd.DataFrame
    interactions: pd.DataFrame
    pair: pd.DataFrame


def load_explanations(models_dir: str | os.PathLike | None = None) -> Explanations:
    """Read ``models/shap/`` (written by :func:`build_explanations`).

    Raises
    ------
    FileNotFoundError
        Naming the missing file and the command that builds it.
    """
    folder = paths.shap_dir(models_dir)
    summary_path = folder / SUMMARY_FILE
    if not summary_path.is_file():
        raise FileNotFoundError(
            f"{summary_path}: no cached explanations; run `python -m analysis.cli explain`")
    frames = {}
    for name in ("importance", "features", "by_macro_genre", "sample", "interactions", "pair"):
        path = folder / f"{name}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing; run `python -m analysis.cli explain`")
        frames[name] = pd.read_parquet(path)
    return Explanations(summary=json.loads(summary_path.read_text()), **frames)


def dependence_frame(
    explanations: Explanations, protocol: str, feature: str, *,
    color_by: str | None = None, per_macro: int | None = None,
) -> pd.DataFrame:
    """A feature's value against its SHAP value, with the partner feature's value for colour.

    Parameters
    ----------
    color_by : str, optional
        Default: the feature's strongest single-column interaction partner in the summary.
    per_macro : int, optional
        Keep the first ``per_macro`` tracks of every macro-genre's draw (chart weight).

    Returns
    -------
    pandas.DataFrame
        ``track_id``, ``macro_genre``, ``x``, ``shap``, ``color`` (and ``color_by`` in
        ``attrs``).
    """
    sample = explanations.sample[explanations.sample["protocol"] == protocol]
    if per_macro is not None:
        sample = sample[sample["order"] < per_macro]
    if color_by is None:
        partners = explanations.summary["protocols"][protocol]["interaction_partners"]
        color_by = (partners.get(feature) or {}).get("numeric_partner")
    out = pd.DataFrame({
        "track_id": sample["track_id"].to_numpy(),
        "macro_genre": sample["macro_genre"].to_numpy(),
        "x": sample[f"value__{feature}"].to_numpy(dtype="float64"),
        "shap": sample[f"shap__{feature_group(feature)}"].to_numpy(dtype="float64"),
        "color": (sample[f"value__{color_by}"].to_numpy(dtype="float64")
                  if color_by and f"value__{color_by}" in sample else np.nan),
    })
    out.attrs["feature"] = feature
    out.attrs["color_by"] = color_by
    return out
