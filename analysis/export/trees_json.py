"""The browser's tree format: XGBoost models as compact JSON, and a Python reader of it.

The predictor page runs in the reader's browser with no server, so the champion models travel
as data and ``js/predictor.js`` walks the trees itself. That only works if the browser sees
*exactly* the model Python scored: the same float32 split thresholds, the same default
directions for missing values, the same base margin and link. This module writes that file
(:func:`export_xgboost`, layout ``"format": "track-analytics-trees"``, ``"version": 1``),
proves it with a Python reference evaluator of the JSON, not of the booster
(:func:`predict_exported`), and reads it back only after its sha256 matches the manifest
(:func:`load_exported`).

The trees are read from XGBoost's JSON dump by :func:`analysis.trees.read_booster`, the same
reader the TreeSHAP port uses.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.artifacts import atomic_write
from analysis.export.compact_json import (
    Raw,
    decimal_to_float32,
    dumps_compact,
    float32_text,
    float32_texts,
    general_texts,
    plain_json,
    raw_array,
)
from analysis.export.manifest import ExportIntegrityError, manifest_entry, read_manifest
from analysis.trees.reader import OBJECTIVE_LINKS, read_booster

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Forest",
    "as_matrix",
    "booster_of",
    "build_document",
    "export_xgboost",
    "load_exported",
    "predict_exported",
]

#: Value of the ``"format"`` field of an exported model.
FORMAT = "track-analytics-trees"
#: Bumped whenever a reader of version N could misread a file of version N + 1.
FORMAT_VERSION = 1

_NODE_FIELDS = (
    "split_feature", "threshold", "left", "right", "default_left", "value", "cover",
)


# --------------------------------------------------------------------------------------------
# Writing the document
# --------------------------------------------------------------------------------------------


def booster_of(model: Any) -> Any:
    """The booster that ``model.predict`` actually uses (early stopping honoured).

    The scikit-learn wrappers predict with ``best_iteration`` when early stopping ran, a raw
    ``Booster`` with all its trees; exporting anything else would make the browser disagree
    with the Python chapters.
    """
    import xgboost as xgb

    if isinstance(model, xgb.Booster):
        return model
    get_booster = getattr(model, "get_booster", None)
    if get_booster is None:
        raise TypeError(
            f"expected an xgboost Booster or scikit-learn XGBModel, got {type(model).__name__}"
        )
    booster = get_booster()
    try:
        best = int(model.best_iteration)
    except AttributeError:  # no early stopping: every round is used
        return booster
    if best + 1 < booster.num_boosted_rounds():
        booster = booster[: best + 1]
    return booster


def _probe_margin(booster: Any, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Two inputs (all missing, all zero) and XGBoost's margins for them."""
    import xgboost as xgb

    probe = np.vstack([np.full(n_features, np.nan), np.zeros(n_features)])
    dm = xgb.DMatrix(
        probe, feature_names=booster.feature_names, feature_types=booster.feature_types
    )
    return probe, booster.predict(dm, output_margin=True, validate_features=False)


def build_document(
    booster: Any,
    feature_names: Sequence[str],
    metadata: Mapping,
    cover_digits: int | None = 6,
) -> str:
    """Serialise ``booster`` to the export format and verify its base margin numerically.

    The text :func:`export_xgboost` writes; parity fixtures and the predictor page's embedded
    hit classifier use it directly.
    """
    import xgboost as xgb

    feature_names = [str(name) for name in feature_names]
    if len(set(feature_names)) != len(feature_names):
        dupes = sorted({n for n in feature_names if feature_names.count(n) > 1})
        raise ValueError(f"feature_names has duplicates: {dupes}")
    dump = read_booster(booster)
    objective = dump.objective
    if objective not in OBJECTIVE_LINKS:
        raise ValueError(
            f"objective {objective!r} is not supported; supported: {sorted(OBJECTIVE_LINKS)}"
        )
    n_features = dump.num_feature
    if n_features != len(feature_names):
        raise ValueError(
            f"the booster has {n_features} features but {len(feature_names)} feature_names"
        )
    if dump.feature_names is not None and dump.feature_names != feature_names:
        diff = [
            (i, a, b)
            for i, (a, b) in enumerate(zip(dump.feature_names, feature_names, strict=False))
            if a != b
        ][:3]
        raise ValueError(
            "feature_names do not match the order the booster was trained with "
            f"(first differences as (index, booster, given): {diff})"
        )

    columns: dict[str, list] = {key: [] for key in _NODE_FIELDS}
    offsets = [0]
    max_depth = 0
    for tree in dump.trees:
        left, right = tree.left, tree.right
        # Re-number reachable nodes in depth-first pre-order (left first): deleted nodes drop
        # out, a parent always precedes its children and the left child is always next.
        order, depth_of, stack = [], {0: 0}, [0]
        while stack:
            node = stack.pop()
            order.append(node)
            if left[node] != -1:
                depth_of[left[node]] = depth_of[right[node]] = depth_of[node] + 1
                stack.extend((right[node], left[node]))
        new = {old: i for i, old in enumerate(order)}
        max_depth = max(max_depth, max(depth_of.values()))
        cond = decimal_to_float32([tree.split_conditions[n] for n in order])
        cover = decimal_to_float32([tree.sum_hessian[n] for n in order])
        internal = np.array([left[n] != -1 for n in order])
        columns["split_feature"] += [tree.split_indices[n] if left[n] != -1 else -1
                                     for n in order]
        columns["left"] += [new[left[n]] if left[n] != -1 else -1 for n in order]
        columns["right"] += [new[right[n]] if left[n] != -1 else -1 for n in order]
        columns["default_left"] += [int(tree.default_left[n]) if left[n] != -1 else 0
                                    for n in order]
        columns["threshold"].append(np.where(internal, cond, np.float32(0)))
        columns["value"].append(np.where(internal, np.float32(0), cond))
        columns["cover"].append(cover)
        offsets.append(offsets[-1] + len(order))

    def concat(key: str) -> np.ndarray:
        parts = columns[key]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def floats(key: str) -> list[str]:
        return float32_texts(concat(key), f"tree {key}")

    trees_doc = {
        "node_offset": raw_array([str(v) for v in offsets]),
        "split_feature": raw_array([str(v) for v in columns["split_feature"]]),
        "threshold": raw_array(floats("threshold")),
        "left": raw_array([str(v) for v in columns["left"]]),
        "right": raw_array([str(v) for v in columns["right"]]),
        "default_left": raw_array([str(v) for v in columns["default_left"]]),
        "value": raw_array(floats("value")),
        "cover": raw_array(
            floats("cover") if cover_digits is None
            else general_texts(concat("cover"), cover_digits)
        ),
    }

    base_score = decimal_to_float32([dump.base_score])[0]
    link = OBJECTIVE_LINKS[objective]
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "producer": {"library": "analysis.export", "xgboost": xgb.__version__},
        "objective": objective,
        "link": link,
        "base_score": Raw(float32_text(base_score)),
        "base_margin": None,  # filled in below, once verified
        "num_features": n_features,
        "feature_names": feature_names,
        "num_trees": len(dump.trees),
        "max_depth": max_depth,
        "trees": trees_doc,
        "metadata": plain_json(dict(metadata)),
    }
    doc["base_margin"] = Raw(float32_text(_verified_base_margin(booster, doc, base_score)))
    return dumps_compact(doc, indent="")


def _verified_base_margin(booster: Any, doc: dict, base_score: np.float32) -> np.float32:
    """Find which reading of ``base_score`` XGBoost adds to the trees, by asking it.

    XGBoost 3 stores ``base_score`` in ``learner_model_param`` in *output* space (a
    probability for ``binary:logistic``) and converts it to a margin when predicting; older
    releases and hand-set values have differed. Rather than trust one convention, both
    readings are evaluated on probe inputs and the one reproducing
    ``booster.predict(output_margin=True)`` is kept; if neither does, export stops.
    """
    f32 = np.float32
    with np.errstate(divide="ignore", invalid="ignore"):
        converted = {
            "identity": base_score,
            "logistic": -np.log(f32(1) / base_score - f32(1)),
            "exp": np.log(base_score),
        }[doc["link"]]
    probe, expected = _probe_margin(booster, doc["num_features"])
    trial = json.loads(dumps_compact({**doc, "base_margin": 0.0}))
    leaves = _forest(trial).leaf_values(probe.astype(np.float32))
    best, best_err = None, math.inf
    for candidate in (f32(converted), f32(base_score)):
        if not np.isfinite(candidate):
            continue
        acc = np.full(len(probe), candidate, dtype=np.float32)
        for column in leaves.T:
            acc = acc + column
        err = float(np.max(np.abs(acc.astype(np.float64) - expected)))
        if err < best_err:
            best, best_err = candidate, err
    scale = max(1.0, float(np.max(np.abs(expected))))
    if best is None or best_err > 1e-5 * scale:
        raise RuntimeError(
            f"cannot reproduce XGBoost's margin from base_score={base_score!r} "
            f"(best error {best_err:.3g}); the base_score convention may have changed"
        )
    return best


# --------------------------------------------------------------------------------------------
# Reference evaluator of the exported JSON
# --------------------------------------------------------------------------------------------


class Forest:
    """Numpy view of an exported document, used by the reference evaluator."""

    def __init__(self, doc: Mapping[str, Any]):
        trees = doc["trees"]
        self.offsets = np.asarray(trees["node_offset"], dtype=np.int64)
        starts = np.repeat(self.offsets[:-1], np.diff(self.offsets))
        self.feature = np.asarray(trees["split_feature"], dtype=np.int64)
        self.threshold = np.asarray(trees["threshold"], dtype=np.float64).astype(np.float32)
        self.default_left = np.asarray(trees["default_left"], dtype=bool)
        self.value = np.asarray(trees["value"], dtype=np.float64).astype(np.float32)
        left = np.asarray(trees["left"], dtype=np.int64)
        right = np.asarray(trees["right"], dtype=np.int64)
        internal = self.feature >= 0
        self.left = np.where(internal, left + starts, np.arange(len(left)))
        self.right = np.where(internal, right + starts, np.arange(len(right)))
        self.max_depth = int(doc["max_depth"])
        self.base_margin = np.float32(doc["base_margin"])
        self.link = doc["link"]
        self.num_features = int(doc["num_features"])

    def leaf_values(self, x32: np.ndarray) -> np.ndarray:
        """(rows, trees) float32 leaf values, with XGBoost's float32 ``x < threshold`` rule."""
        n = x32.shape[0]
        rows = np.arange(n)
        out = np.empty((n, len(self.offsets) - 1), dtype=np.float32)
        for t, root in enumerate(self.offsets[:-1]):
            node = np.full(n, root)
            for _ in range(self.max_depth):
                feature = self.feature[node]
                internal = feature >= 0
                if not internal.any():
                    break
                x = x32[rows, np.where(internal, feature, 0)]
                with np.errstate(invalid="ignore"):
                    go_left = np.where(np.isnan(x), self.default_left[node],
                                       x < self.threshold[node])
                node = np.where(internal, np.where(go_left, self.left[node], self.right[node]),
                                node)
            out[:, t] = self.value[node]
        return out


def _forest(doc: Mapping[str, Any]) -> Forest:
    _check_document(doc, "model")
    return Forest(doc)


def _check_document(doc: Any, where: str | os.PathLike) -> None:
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a {FORMAT!r} document")
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{where}: format version {doc.get('version')!r}, this reader understands "
            f"{FORMAT_VERSION}; re-export the model"
        )


def as_matrix(X: Any, feature_names: Sequence[str], where: str = "X") -> np.ndarray:
    """float64 matrix in model order; a DataFrame is reordered by name, NaN marks missing."""
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        missing = [name for name in feature_names if name not in X.columns]
        if missing:
            raise ValueError(f"{where} lacks model features {missing[:5]}")
        frame = X.loc[:, list(feature_names)]
        for column in frame.columns:
            if not (pd.api.types.is_numeric_dtype(frame[column])
                    or pd.api.types.is_bool_dtype(frame[column])):
                raise TypeError(
                    f"{where}: column {column!r} has dtype {frame[column].dtype}; the model "
                    "needs numbers (one-hot encode categoricals, booleans as 0/1)"
                )
        return frame.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
    matrix = np.asarray(X, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
        raise ValueError(
            f"{where} has shape {matrix.shape}; expected (rows, {len(feature_names)})"
        )
    return matrix


def predict_exported(
    exported: Mapping[str, Any],
    X: Any,
    *,
    output_margin: bool = False,
    accumulate: str = "float32",
) -> np.ndarray:
    """Evaluate an exported model in Python, as the browser does, to prove the file is right.

    This reads only the JSON document, never the booster, so agreement with
    ``booster.predict`` shows the *file* carries the whole model.

    Parameters
    ----------
    exported : mapping
        A parsed export (``json.load`` or :func:`load_exported`).
    X : array-like or DataFrame, shape (rows, features)
        Features in model order (a DataFrame is reordered by name); NaN is missing.
    output_margin : bool, default False
        Return the raw margin (log-odds for a logistic model) instead of the response.
    accumulate : {"float32", "float64"}
        ``"float32"`` adds leaf values in float32 in tree order starting from the base
        margin, exactly as XGBoost's CPU predictor does, and so reproduces ``booster.predict``
        bit for bit; ``"float64"`` gives the exact sum that SHAP values add up to (they
        differ by float32 rounding, ~1e-5 for a 400-tree model around 50).

    Returns
    -------
    numpy.ndarray
        One prediction per row (float32 or float64 following ``accumulate``).

    Examples
    --------
    >>> import numpy as np, xgboost as xgb, tempfile, json, pathlib
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> model = xgb.XGBRegressor(n_estimators=5, max_depth=2, n_jobs=1).fit(X, X[:, 0] * 2)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.json"
    >>> _ = export_xgboost(model, feature_names=["a", "b", "c"], path=path, metadata={})
    >>> doc = json.loads(path.read_text())
    >>> bool(np.array_equal(predict_exported(doc, X), model.predict(X)))
    True
    """
    forest = _forest(exported)
    x = as_matrix(X, exported["feature_names"]).astype(np.float32)
    leaves = forest.leaf_values(x)
    if accumulate == "float32":
        margin = np.full(len(x), forest.base_margin, dtype=np.float32)
        for column in leaves.T:
            margin = margin + column
    elif accumulate == "float64":
        margin = np.float64(forest.base_margin) + leaves.astype(np.float64).sum(axis=1)
    else:
        raise ValueError(f"accumulate must be 'float32' or 'float64', not {accumulate!r}")
    if output_margin or forest.link == "identity":
        return margin
    one = margin.dtype.type(1)
    if forest.link == "logistic":
        return one / (one + np.exp(-margin))
    return np.exp(margin)


# --------------------------------------------------------------------------------------------
# Public writer and reader
# --------------------------------------------------------------------------------------------


def export_xgboost(
    model: Any,
    *,
    feature_names: Sequence[str],
    path: str | os.PathLike,
    metadata: Mapping[str, Any],
    cover_digits: int | None = 6,
) -> dict[str, Any]:
    """Write ``model`` as a compact JSON document that ``js/predictor.js`` can evaluate.

    The browser has no XGBoost, so the file must carry every number that decides a
    prediction or a SHAP value, in a form JavaScript reproduces exactly.

    Parameters
    ----------
    model : xgboost.Booster or xgboost.XGBModel
        A gbtree regressor (``reg:squarederror`` and other identity-link objectives), a
        binary classifier (``binary:logistic``) or a log-link model, trained on a numeric
        matrix (one-hot categoricals, 0/1 booleans, NaN for missing). A scikit-learn model
        that early-stopped is exported up to ``best_iteration``, as its ``predict`` does.
    feature_names : sequence of str
        Column order of the training matrix; must equal ``booster.feature_names`` when the
        booster has names. The browser maps named inputs through it.
    path : path-like
        Destination file; written atomically, parent folders created.
    metadata : mapping
        Free-form JSON-ready data passed through untouched (numpy scalars and arrays are
        converted; NaN is refused): display names, feature ranges and units for the
        controls, categorical encodings, conformal offsets (see Notes).
    cover_digits : int or None, default 6
        Significant digits kept for node covers. Covers only weight SHAP values (never a
        prediction): 6 digits move each cover by at most 5e-6 relative, which shifts SHAP
        values far below the 1e-3 parity tolerance, and cut a classifier's gzip size by
        about a fifth (its covers are hessian sums, not counts; a regressor's integer
        counts below 1e6 stay exact). ``None`` keeps exact float32.

    Returns
    -------
    dict
        Manifest entry ``{"file", "sha256", "bytes", "gzip_bytes"}``; ``file`` is the bare
        file name, because the manifest sits next to the exports (:func:`write_manifest`).

    Raises
    ------
    ValueError
        For unsupported models (dart/gblinear boosters, multi-output, categorical splits,
        unknown objectives), mismatched ``feature_names`` or non-JSON metadata.
    RuntimeError
        If the base margin cannot be reproduced against ``booster.predict``.

    See Also
    --------
    predict_exported : the Python reference evaluator of the written file.
    write_manifest, load_exported : integrity checking.

    Notes
    -----
    Layout (version 1), one JSON object, keys in this order::

        format        "track-analytics-trees"
        version       1
        producer      {"library": "analysis.export", "xgboost": "<version>"}
        objective     XGBoost objective name, e.g. "reg:squarederror"
        link          "identity" | "logistic" | "exp": response = link(margin)
        base_score    XGBoost's base_score as stored (output space)
        base_margin   what is added to the tree sum (margin space), verified numerically
        num_features, feature_names, num_trees, max_depth
        trees         parallel arrays over all nodes of all trees, concatenated:
            node_offset   [num_trees + 1]; tree t owns nodes node_offset[t] ..< [t + 1]
            split_feature feature index, -1 for a leaf
            threshold     float32 split value; go left iff float32(x) < threshold
            left, right   child indices local to the tree, -1 for a leaf (nodes are in
                          depth-first pre-order, so a tree's root is its local node 0)
            default_left  1 if a missing (NaN) value goes left
            value         leaf value (learning rate included), 0 for internal nodes
            cover         sum of hessians at the node (path-dependent TreeSHAP weights),
                          to ``cover_digits`` significant digits
        metadata      the caller's mapping

    Thresholds, leaf values and the base margin are the exact float32 values XGBoost uses,
    written as the shortest decimal that reads back to the same float32
    (``Math.fround(JSON.parse(...))`` in JavaScript), so no prediction is rounded. The
    output is deterministic: the same model and metadata give the same bytes and sha256.

    Metadata keys that ``js/predictor.js`` itself reads: ``interval`` (see ``intervalFor``),
    either ``{"alpha", "lower_offset", "upper_offset", "clip": [lo, hi], "by_group": {name:
    {"lower_offset", "upper_offset"}}}`` (non-negative distances below and above the point
    prediction) or the per-level half-widths of ``analysis.models.conformal_offsets``
    (``{"global": {"0.9": q}, "by_stratum": {macro_genre: {"0.9": q}}}``) as they are.

    Examples
    --------
    >>> import numpy as np, xgboost as xgb, tempfile, pathlib
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> model = xgb.XGBRegressor(n_estimators=3, max_depth=2, n_jobs=1).fit(X, X[:, 0])
    >>> entry = export_xgboost(model, feature_names=["x0", "x1"],
    ...                        path=pathlib.Path(tempfile.mkdtemp()) / "tiny.json",
    ...                        metadata={"target": "popularity"})
    >>> sorted(entry)
    ['bytes', 'file', 'gzip_bytes', 'sha256']
    """
    booster = booster_of(model)
    data = build_document(booster, feature_names, metadata, cover_digits).encode("utf-8")
    path = Path(path)
    atomic_write(path, data)
    return manifest_entry(path.name, data)


def load_exported(
    path: str | os.PathLike, manifest: str | os.PathLike | Mapping[str, Any]
) -> dict[str, Any]:
    """Read an exported model after checking its sha256 against the manifest.

    A model file edited by hand, truncated, or left over from an older export would still
    parse and predict - just wrongly. The hash check turns that into an immediate error.

    Parameters
    ----------
    path : path-like
        The exported model file.
    manifest : path-like or mapping
        The manifest written by :func:`write_manifest` (or its parsed content).

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    ExportIntegrityError
        If the file is not listed in the manifest or its sha256 differs.
    ValueError
        If the file is not a version-1 ``track-analytics-trees`` document.
    """
    path = Path(path)
    where = "the manifest" if isinstance(manifest, Mapping) else str(manifest)
    entries = read_manifest(manifest)
    entry = entries.get(path.name)
    if entry is None:
        raise ExportIntegrityError(f"{path}: not listed in {where} (lists {sorted(entries)})")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"]:
        raise ExportIntegrityError(
            f"{path}: sha256 mismatch - {where} expects {entry['sha256']}, the file has "
            f"{digest} ({len(data)} bytes, expected {entry['bytes']}). The file changed after "
            "it was exported; re-run the export instead of editing it."
        )
    doc = json.loads(data)
    _check_document(doc, path)
    return doc

