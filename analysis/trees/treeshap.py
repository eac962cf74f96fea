"""Exact path-dependent TreeSHAP of XGBoost models, in float64 (a numba port of XGBoost's code).

The Drivers chapter's SHAP values come from here (:func:`tree_contributions`,
:func:`interaction_values`): the algorithm behind ``shap.TreeExplainer`` with
``feature_perturbation="tree_path_dependent"`` and XGBoost's ``pred_contribs=True``
(Lundberg et al. 2020), computed in float64. XGBoost (and shap, which delegates XGBoost models
to it) compute in float32, which on the champions' deep lossguide trees breaks additivity by
up to half a point; in float64 it holds to 1e-9.

The trees come from the one reader of XGBoost's JSON dump (:func:`analysis.trees.read_booster`),
flattened into the node arrays the kernels walk (:func:`parse_booster`). The kernels are plain
Python functions until first use, when numba compiles them (cached on disk), so importing this
module does not pay for numba; ``jit=False`` runs the same functions uncompiled, which is quicker
than a first compile for a handful of rows of a small model (tests, examples).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.trees.reader import BoosterDump, read_booster

__all__ = [
    "BIAS",
    "IDENTITY_LINK_OBJECTIVES",
    "ParsedTrees",
    "interaction_values",
    "parse_booster",
    "tree_contributions",
    "xgboost_contributions",
]

#: Regression objectives whose prediction is the raw sum of leaves (+ base score), so the
#: contributions add up to the prediction itself.
IDENTITY_LINK_OBJECTIVES: tuple[str, ...] = ("reg:squarederror", "reg:pseudohubererror")

#: Name of the expected-value column of :func:`tree_contributions` (XGBoost's bias term).
BIAS = "expected_value"


def tree_contributions(booster, X: pd.DataFrame, *, jit: bool = True) -> pd.DataFrame:
    """Exact path-dependent SHAP values of an XGBoost model, one column per feature.

    The TreeSHAP algorithm of ``shap.TreeExplainer`` (path-dependent), as XGBoost implements it
    for ``pred_contribs=True``, but computed in float64 (:func:`_ts_contributions`, a numba
    port of XGBoost's code). XGBoost and shap (which delegates to XGBoost for XGBoost models)
    run it in float32, and on deep trees (the lossguide champions reach depth 30 and more) the
    rounding breaks additivity by half a point; in float64 it holds to 1e-9. The last column,
    :data:`BIAS`, is the expected value (base score plus each tree's cover-weighted mean leaf):
    for every row, the contributions plus the bias equal the model's raw prediction.

    ``jit=False`` skips numba's compilation (seconds, once per environment) and runs the same
    code as plain Python: for a few rows of a small model only.

    Examples
    --------
    >>> import xgboost as xgb
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 0.0, 1.0], "b": [0.0, 0.0, 1.0, 1.0]})
    >>> booster = xgb.train({"max_depth": 2, "seed": 0}, xgb.DMatrix(X, [0, 1, 1, 3]), 5)
    >>> c = tree_contributions(booster, X, jit=False)  # four rows: no need to compile
    >>> bool(np.allclose(c.sum(axis=1), booster.predict(xgb.DMatrix(X)), atol=1e-5))
    True
    >>> ref = booster.predict(xgb.DMatrix(X), pred_contribs=True)
    >>> bool(np.allclose(c.to_numpy(), ref, atol=1e-5))
    True
    """
    dump = read_booster(booster)
    trees = _flatten(dump)
    columns = list(map(str, X.columns))
    if trees.feature_names != columns:
        raise ValueError("X's columns are not the booster's features in the booster's order")
    matrix = np.ascontiguousarray(X.to_numpy(dtype=np.float32))
    if len(X):
        phi = _kernel("_ts_contributions", jit=jit)(
            matrix, trees.offsets, trees.left, trees.right, trees.feature, trees.threshold,
            trees.default_left, trees.value, trees.cover, trees.max_depth)
    else:
        phi = np.zeros((0, len(columns)))
    bias = _base_score(dump) + float(_expected_values(trees).sum())
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


def interaction_values(
    booster, X: pd.DataFrame, features: Sequence[str], *, contribs: pd.DataFrame | None = None,
    jit: bool = True,
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
    jit : bool, default True
        False runs the kernels uncompiled (see :func:`tree_contributions`).

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
    >>> mine = interaction_values(booster, X.iloc[:5], ["a"], jit=False)
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
    out = _kernel("_ts_interactions", jit=jit)(
        matrix, targets, trees.uses, trees.offsets, trees.left, trees.right, trees.feature,
        trees.threshold, trees.default_left, trees.value, trees.cover, trees.max_depth)
    if contribs is None:
        contribs = tree_contributions(booster, X, jit=jit)
    phi = contribs[columns].to_numpy(dtype=np.float64)
    for i, t in enumerate(targets):
        out[:, i, t] = 0.0
        out[:, i, t] = phi[:, t] - out[:, i, :].sum(axis=1)
    return out


# --- the trees as flat arrays ------------------------------------------------------------------

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
    """A regression booster's trees as flat arrays (:func:`analysis.trees.read_booster`).

    Thresholds stay float32 (XGBoost compares float32 feature values against float32 split
    conditions), so the walk takes exactly XGBoost's branches.

    Examples
    --------
    >>> import xgboost as xgb
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> trees = parse_booster(xgb.train({"max_depth": 2}, xgb.DMatrix(X, X[:, 0]), 3))
    >>> len(trees.offsets) - 1, trees.max_depth, trees.feature_names
    (3, 2, ['f0', 'f1'])
    """
    return _flatten(read_booster(booster))


def _floats(texts) -> np.ndarray:
    """Decimal texts of the dump as float64 (Python's ``float``, as ``json.loads`` reads them)."""
    return np.asarray([float(text) for text in texts], dtype=np.float64)


def _flatten(dump: BoosterDump) -> ParsedTrees:
    n_features = dump.num_feature
    arrays: dict[str, list] = {k: [] for k in ("left", "right", "feature", "threshold",
                                               "default_left", "value", "cover")}
    offsets = [0]
    uses = np.zeros((len(dump.trees), n_features), dtype=np.bool_)
    max_depth = 0
    for t, tree in enumerate(dump.trees):
        left = np.asarray(tree.left, dtype=np.int64)
        right = np.asarray(tree.right, dtype=np.int64)
        feature = np.asarray(tree.split_indices, dtype=np.int64)
        conditions = _floats(tree.split_conditions)
        arrays["left"].append(left)
        arrays["right"].append(right)
        arrays["feature"].append(feature)
        arrays["threshold"].append(conditions.astype(np.float32))
        arrays["default_left"].append(np.asarray(tree.default_left, dtype=np.bool_))
        arrays["value"].append(conditions)
        arrays["cover"].append(_floats(tree.sum_hessian))
        offsets.append(offsets[-1] + len(left))
        internal = left != -1
        uses[t, feature[internal]] = True
        depth = np.zeros(len(left), dtype=np.int64)
        for node in range(len(left)):  # parents precede children in XGBoost's numbering
            if left[node] != -1:
                depth[left[node]] = depth[right[node]] = depth[node] + 1
        max_depth = max(max_depth, int(depth.max()))
    names = list(dump.feature_names or [f"f{i}" for i in range(n_features)])
    return ParsedTrees(
        left=np.concatenate(arrays["left"]), right=np.concatenate(arrays["right"]),
        feature=np.concatenate(arrays["feature"]),
        threshold=np.concatenate(arrays["threshold"]),
        default_left=np.concatenate(arrays["default_left"]),
        value=np.concatenate(arrays["value"]), cover=np.concatenate(arrays["cover"]),
        offsets=np.asarray(offsets, dtype=np.int64), uses=uses, max_depth=max_depth,
        feature_names=names,
    )


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


def _base_score(dump: BoosterDump) -> float:
    if dump.objective not in IDENTITY_LINK_OBJECTIVES:
        raise ValueError(f"only boosters whose prediction is the margin are supported "
                         f"({', '.join(IDENTITY_LINK_OBJECTIVES)}), not {dump.objective!r}")
    return float(dump.base_score)


# --- the kernels -------------------------------------------------------------------------------

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
    top = _ts_push(stack_i, stack_f, -1, 0, 0, 0, -1, 1.0, 1.0, 1.0)  # the root
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
        top = _ts_push(stack_i, stack_f, top, cold, start, depth + 1, split,
                       cold_zero * in_zero, 0.0, cold_cf)
        top = _ts_push(stack_i, stack_f, top, hot, start, depth + 1, split,
                       hot_zero * in_zero, in_one, hot_cf)


def _ts_push(stack_i, stack_f, top, node, parent_start, depth, parent_feature, zero_fraction,
             one_fraction, condition_fraction):
    # One frame of _ts_tree_shap's stack, on top of frame `top`; returns the new top.
    top += 1
    stack_i[top, 0] = node
    stack_i[top, 1] = parent_start
    stack_i[top, 2] = depth
    stack_i[top, 3] = parent_feature
    stack_f[top, 0] = zero_fraction
    stack_f[top, 1] = one_fraction
    stack_f[top, 2] = condition_fraction
    return top




def _ts_buffers(max_depth):
    # One thread's path buffers (a path segment per depth, each after its parent's) and the
    # explicit stack of _ts_tree_shap.
    size = (max_depth + 3) * (max_depth + 4) // 2 + 2
    return (np.zeros(size, np.int64), np.zeros(size), np.zeros(size), np.zeros(size),
            np.zeros((2 * max_depth + 4, 4), np.int64), np.zeros((2 * max_depth + 4, 3)))


def _ts_interactions(X, targets, uses, offsets, left, right, feat, thr, dleft, value, cover,
                     max_depth):
    n, m = X.shape
    k = targets.shape[0]
    out = np.zeros((n, k, m))
    n_trees = offsets.shape[0] - 1
    for r in _prange(n):
        fi, zf, of, pw, stack_i, stack_f = _ts_buffers(max_depth)
        on = np.zeros(m)
        off = np.zeros(m)
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
    n_trees = offsets.shape[0] - 1
    for r in _prange(n):
        fi, zf, of, pw, stack_i, stack_f = _ts_buffers(max_depth)
        phi = np.zeros(m)
        x = X[r]
        for t in range(n_trees):
            _ts_tree_shap(x, phi, left, right, feat, thr, dleft, value, cover, offsets[t],
                          fi, zf, of, pw, stack_i, stack_f, 0, -1)
        out[r] = phi
    return out


_JIT_NAMES = ("_ts_buffers", "_ts_push", "_ts_extend", "_ts_unwind", "_ts_unwound_sum",
              "_ts_tree_shap")
_PARALLEL_NAMES = ("_ts_interactions", "_ts_contributions")
#: The kernels as plain Python (``jit=False``), kept before _kernel() rebinds the names.
_PYTHON = {name: globals()[name] for name in (*_JIT_NAMES, *_PARALLEL_NAMES)}


def _kernel(name: str, *, jit: bool = True):
    """A TreeSHAP kernel: compiled by numba (once, then loaded from its disk cache), or the
    plain Python function when ``jit`` is False."""
    global _prange
    if not jit:
        return _PYTHON[name]
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
