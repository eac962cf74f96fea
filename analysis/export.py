"""Export XGBoost models to a compact JSON that the browser predictor evaluates.

The predictor page runs in the reader's browser with no server, so the champion models travel
as data and ``js/predictor.js`` walks the trees itself. That only works if the browser sees
*exactly* the model Python scored: the same float32 split thresholds, the same default
directions for missing values, the same base margin and link. This module writes that file,
proves it with a Python reference evaluator of the JSON (not of the booster), and records a
sha256 manifest so a stale or hand-edited export fails loudly instead of predicting quietly.

The file layout (``"format": "track-analytics-trees"``, ``"version": 1``) is documented in
:func:`export_xgboost`; :func:`write_parity_fixture` produces the cross-language fixtures that
``node --test js/test/`` checks the JavaScript against.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from analysis.artifacts import atomic_write
from analysis.labels import PREDICTOR_MODEL_NAMES

__all__ = [
    "FIXTURE_FORMAT",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_FORMAT",
    "ExportIntegrityError",
    "export_xgboost",
    "load_exported",
    "predict_exported",
    "read_manifest",
    "write_manifest",
    "write_parity_fixture",
    "PAGE_FORMAT",
    "PAGE_VERSION",
    "REFERENCE_FILE",
    "SELECTABLE_MODELS",
    "champion_matrix",
    "export_champions",
    "load_export_manifest",
]

#: Value of the ``"format"`` field of an exported model.
FORMAT = "track-analytics-trees"
#: Bumped whenever a reader of version N could misread a file of version N + 1.
FORMAT_VERSION = 1
#: Value of the ``"format"`` field of a manifest written by :func:`write_manifest`.
MANIFEST_FORMAT = "track-analytics-manifest"
MANIFEST_VERSION = 1
#: Value of the ``"format"`` field of a parity fixture written by :func:`write_parity_fixture`.
FIXTURE_FORMAT = "track-analytics-parity-fixture"
FIXTURE_VERSION = 1

# Objective -> inverse link applied to the margin. Only objectives whose prediction is a
# scalar function of a single margin are listed; anything else is refused rather than guessed.
_LINKS: dict[str, str] = {
    "reg:squarederror": "identity",
    "reg:squaredlogerror": "identity",
    "reg:absoluteerror": "identity",
    "reg:pseudohubererror": "identity",
    "reg:quantileerror": "identity",
    "binary:logitraw": "identity",
    "binary:logistic": "logistic",
    "reg:logistic": "logistic",
    "count:poisson": "exp",
    "reg:gamma": "exp",
    "reg:tweedie": "exp",
}

_NODE_FIELDS = (
    "split_feature", "threshold", "left", "right", "default_left", "value", "cover",
)


class ExportIntegrityError(ValueError):
    """An exported file does not match its manifest (or is not listed in it)."""


# --------------------------------------------------------------------------------------------
# Number formatting: exact float32 values in as few characters as possible.
# --------------------------------------------------------------------------------------------


def _decimal_to_float32(texts: Sequence[str]) -> np.ndarray:
    """Parse decimal strings to the float32 nearest to each, as XGBoost's own reader does.

    Going through float64 first is exact except when the double lands exactly on a midpoint
    between two float32 values (double rounding); those rare cases are settled with exact
    rational arithmetic so a threshold can never move by one ulp on the way in.
    """
    d = np.array(list(texts), dtype=np.float64)
    f = d.astype(np.float32)
    up = np.nextafter(f, np.float32(np.inf))
    down = np.nextafter(f, np.float32(-np.inf))
    f64 = f.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        tie = np.isfinite(d) & (
            (d == (f64 + up.astype(np.float64)) / 2) | (d == (f64 + down.astype(np.float64)) / 2)
        )
    for i in np.flatnonzero(tie):
        exact = Fraction(texts[i])
        candidates = sorted(
            {f[i], up[i], down[i]},
            key=lambda c: (abs(Fraction(float(c)) - exact), int(np.float32(c).view(np.uint32)) & 1),
        )
        f[i] = candidates[0]
    return f


_EXPONENT = re.compile(r"e([+-])0*(\d)")


def _compact(text: str) -> str:
    """'500.0' -> '500', '1e-08' -> '1e-8', '3.4e+38' -> '3.4e38', '-0.0' -> '0'."""
    if text.endswith(".0"):
        text = text[:-2]
    text = _EXPONENT.sub(lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), text)
    text = text.replace(".0e", "e")
    return "0" if text == "-0" else text


def _float32_texts(values: np.ndarray, what: str) -> list[str]:
    """Shortest decimal strings that read back (decimal -> double -> float32) to ``values``."""
    values = np.asarray(values, dtype=np.float32)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} contains NaN or infinity; the model cannot be exported")
    texts = [_compact(str(v)) for v in values]
    back = np.array(texts, dtype=np.float64).astype(np.float32)
    for i in np.flatnonzero(back != values):  # double rounding on the reader's side: spell out
        texts[i] = repr(float(values[i]))
    return texts


def _float32_text(value: float) -> str:
    return _float32_texts(np.array([value], dtype=np.float32), "value")[0]


def _general_texts(values: np.ndarray, digits: int) -> list[str]:
    """Rounded decimals for fixture payloads (SHAP values), where 1e-6 relative is plenty."""
    return [_compact(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64)]


class _Raw(str):
    """Pre-serialised JSON text inserted verbatim by :func:`_dumps`."""


def _raw_array(texts: Sequence[str]) -> _Raw:
    return _Raw("[" + ",".join(texts) + "]")


def _dumps(obj: Any, *, indent: str | None = None) -> str:
    """Deterministic compact JSON; ``indent`` puts each top-level key on its own line."""
    if isinstance(obj, _Raw):
        return str(obj)
    if isinstance(obj, Mapping):
        items = [json.dumps(str(k)) + ":" + _dumps(v) for k, v in obj.items()]
        if indent is None:
            return "{" + ",".join(items) + "}"
        return "{\n" + ",\n".join(indent + item for item in items) + "\n}\n"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(_dumps(v) for v in obj) + "]"
    return json.dumps(obj, allow_nan=False)


def _plain(obj: Any, where: str = "metadata") -> Any:
    """Make caller-supplied metadata JSON-ready, naming the exact key that is not."""
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is not a string; JSON keys must be")
            out[key] = _plain(value, f"{where}[{key!r}]")
        return out
    if isinstance(obj, np.ndarray):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj.tolist())]
    if isinstance(obj, list | tuple):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"{where} is {obj!r}; JSON has no NaN/Infinity (use None)")
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"{where} has type {type(obj).__name__}, which is not JSON-serialisable")


def _entry_for(name: str, data: bytes) -> dict[str, Any]:
    return {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0)),
    }


# --------------------------------------------------------------------------------------------
# Reading the booster
# --------------------------------------------------------------------------------------------


def _booster_of(model: Any) -> Any:
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


def _build_document(
    booster: Any,
    feature_names: Sequence[str],
    metadata: Mapping,
    cover_digits: int | None = 6,
) -> str:
    """Serialise ``booster`` to the export format and verify its base margin numerically."""
    import xgboost as xgb

    feature_names = [str(name) for name in feature_names]
    if len(set(feature_names)) != len(feature_names):
        dupes = sorted({n for n in feature_names if feature_names.count(n) > 1})
        raise ValueError(f"feature_names has duplicates: {dupes}")
    learner = json.loads(bytes(booster.save_raw("json")), parse_float=str)["learner"]
    gbm = learner["gradient_booster"]
    if gbm.get("name") != "gbtree":
        raise ValueError(f"only the gbtree booster can be exported, not {gbm.get('name')!r}")
    params = learner["learner_model_param"]
    if int(params.get("num_class", "0")) > 1 or int(params.get("num_target", "1")) > 1:
        raise ValueError("multi-class and multi-target models are not supported")
    objective = learner["objective"]["name"]
    if objective not in _LINKS:
        raise ValueError(
            f"objective {objective!r} is not supported; supported: {sorted(_LINKS)}"
        )
    n_features = int(params["num_feature"])
    if n_features != len(feature_names):
        raise ValueError(
            f"the booster has {n_features} features but {len(feature_names)} feature_names"
        )
    if booster.feature_names is not None and list(booster.feature_names) != feature_names:
        diff = [
            (i, a, b)
            for i, (a, b) in enumerate(zip(booster.feature_names, feature_names, strict=False))
            if a != b
        ][:3]
        raise ValueError(
            "feature_names do not match the order the booster was trained with "
            f"(first differences as (index, booster, given): {diff})"
        )
    if "c" in (learner.get("feature_types") or []):
        raise ValueError(
            "native categorical features are not supported; one-hot encode them (0/1 columns)"
        )

    trees = gbm["model"]["trees"]
    columns: dict[str, list] = {key: [] for key in _NODE_FIELDS}
    offsets = [0]
    max_depth = 0
    for t, tree in enumerate(trees):
        left, right = tree["left_children"], tree["right_children"]
        if any(tree["split_type"]) or tree.get("categories_nodes"):
            raise ValueError(f"tree {t} has a categorical split; only numeric splits export")
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
        cond = _decimal_to_float32([tree["split_conditions"][n] for n in order])
        cover = _decimal_to_float32([tree["sum_hessian"][n] for n in order])
        internal = np.array([left[n] != -1 for n in order])
        columns["split_feature"] += [tree["split_indices"][n] if left[n] != -1 else -1
                                     for n in order]
        columns["left"] += [new[left[n]] if left[n] != -1 else -1 for n in order]
        columns["right"] += [new[right[n]] if left[n] != -1 else -1 for n in order]
        columns["default_left"] += [int(tree["default_left"][n]) if left[n] != -1 else 0
                                    for n in order]
        columns["threshold"].append(np.where(internal, cond, np.float32(0)))
        columns["value"].append(np.where(internal, np.float32(0), cond))
        columns["cover"].append(cover)
        offsets.append(offsets[-1] + len(order))

    def concat(key: str) -> np.ndarray:
        parts = columns[key]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def floats(key: str) -> list[str]:
        return _float32_texts(concat(key), f"tree {key}")

    trees_doc = {
        "node_offset": _raw_array([str(v) for v in offsets]),
        "split_feature": _raw_array([str(v) for v in columns["split_feature"]]),
        "threshold": _raw_array(floats("threshold")),
        "left": _raw_array([str(v) for v in columns["left"]]),
        "right": _raw_array([str(v) for v in columns["right"]]),
        "default_left": _raw_array([str(v) for v in columns["default_left"]]),
        "value": _raw_array(floats("value")),
        "cover": _raw_array(
            floats("cover") if cover_digits is None
            else _general_texts(concat("cover"), cover_digits)
        ),
    }

    base_texts = params["base_score"].strip("[]").split(",")
    base_score = _decimal_to_float32([t.strip() for t in base_texts])[0]
    link = _LINKS[objective]
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "producer": {"library": "analysis.export", "xgboost": xgb.__version__},
        "objective": objective,
        "link": link,
        "base_score": _Raw(_float32_text(base_score)),
        "base_margin": None,  # filled in below, once verified
        "num_features": n_features,
        "feature_names": feature_names,
        "num_trees": len(trees),
        "max_depth": max_depth,
        "trees": trees_doc,
        "metadata": _plain(dict(metadata)),
    }
    doc["base_margin"] = _Raw(_float32_text(_verified_base_margin(booster, doc, base_score)))
    return _dumps(doc, indent="")


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
    trial = json.loads(_dumps({**doc, "base_margin": 0.0}))
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


class _Forest:
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


def _forest(doc: Mapping[str, Any]) -> _Forest:
    _check_document(doc, "model")
    return _Forest(doc)


def _check_document(doc: Any, where: str | os.PathLike) -> None:
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise ValueError(f"{where}: not a {FORMAT!r} document")
    if doc.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{where}: format version {doc.get('version')!r}, this reader understands "
            f"{FORMAT_VERSION}; re-export the model"
        )


def _as_matrix(X: Any, feature_names: Sequence[str], where: str = "X") -> np.ndarray:
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
    x = _as_matrix(X, exported["feature_names"]).astype(np.float32)
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
# Public writers and readers
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
    booster = _booster_of(model)
    data = _build_document(booster, feature_names, metadata, cover_digits).encode("utf-8")
    path = Path(path)
    atomic_write(path, data)
    return _entry_for(path.name, data)


def write_manifest(entries: Sequence[Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Record the sha256 of each export so later readers can refuse a changed file.

    Every entry is re-checked against the file next to the manifest before anything is
    written, so a manifest can never certify a file it has not seen.

    Parameters
    ----------
    entries : sequence of mapping
        Entries returned by :func:`export_xgboost`; their files must sit in the manifest's
        folder.
    path : path-like
        Manifest file to write (JSON, sorted by file name, deterministic).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ExportIntegrityError
        If a listed file is missing or its bytes no longer match its entry.
    ValueError
        For malformed or duplicate entries.
    """
    path = Path(path)
    checked: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        missing = {"file", "sha256", "bytes", "gzip_bytes"} - set(entry)
        if missing:
            raise ValueError(f"manifest entry {i} lacks {sorted(missing)}")
        name = str(entry["file"])
        if Path(name).name != name:
            raise ValueError(f"manifest entry {i}: file {name!r} must be a bare file name")
        if name in checked:
            raise ValueError(f"manifest entry {i}: {name!r} is listed twice")
        target = path.parent / name
        if not target.exists():
            raise ExportIntegrityError(f"{target}: listed in the manifest but does not exist")
        actual = _entry_for(name, target.read_bytes())
        if actual["sha256"] != entry["sha256"]:
            raise ExportIntegrityError(
                f"{target}: sha256 is {actual['sha256']} but the entry says {entry['sha256']}; "
                "the file changed after export - re-export before writing the manifest"
            )
        checked[name] = actual
    doc = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "files": [checked[name] for name in sorted(checked)],
    }
    atomic_write(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
    return path


def read_manifest(manifest: str | os.PathLike | Mapping[str, Any]) -> dict[str, dict]:
    """Manifest entries keyed by file name, from a manifest file or an already-parsed one."""
    source = manifest if isinstance(manifest, Mapping) else Path(manifest)
    doc = source if isinstance(source, Mapping) else json.loads(Path(source).read_text("utf-8"))
    if doc.get("format") != MANIFEST_FORMAT or doc.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{source if not isinstance(source, Mapping) else 'manifest'}: "
                         f"not a {MANIFEST_FORMAT!r} version {MANIFEST_VERSION} document")
    return {entry["file"]: dict(entry) for entry in doc["files"]}


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


# --------------------------------------------------------------------------------------------
# Cross-language parity fixtures
# --------------------------------------------------------------------------------------------


def _threshold_probes(doc: Mapping, X: np.ndarray, n: int, random_state: int) -> np.ndarray:
    """Rows of ``X`` with one split feature set on, or one double-ulp under, a threshold.

    These are the inputs a float64 comparison gets wrong: a double just below a float32
    threshold rounds *to* it, so XGBoost sends it right while ``x < t`` in doubles sends it
    left.
    """
    if n <= 0 or len(X) == 0:
        return np.empty((0, X.shape[1]))
    rng = np.random.default_rng(random_state)
    forest = _Forest(doc)
    internal = np.flatnonzero(forest.feature >= 0)
    if len(internal) == 0:
        return np.empty((0, X.shape[1]))
    rows = X[rng.integers(0, len(X), size=n)].copy()
    nodes = internal[rng.integers(0, len(internal), size=n)]
    for k, node in enumerate(nodes):
        t = float(forest.threshold[node])
        rows[k, forest.feature[node]] = t if k % 2 == 0 else np.nextafter(t, -np.inf)
    return rows


def write_parity_fixture(
    model: Any,
    X: Any,
    *,
    feature_names: Sequence[str],
    path: str | os.PathLike,
    metadata: Mapping[str, Any] | None = None,
    threshold_probes: int = 40,
    with_shap: bool = True,
    tolerance: float = 1e-5,
    random_state: int = 42,
) -> dict[str, Any]:
    """Write what the Node parity test needs to check ``js/predictor.js`` against XGBoost.

    The same function serves the small synthetic fixtures committed under
    ``js/test/fixtures/`` and a full run on real tracks with the champion models: point it
    at the champion and ``X``, write outside the repository, and run
    ``TRACK_ANALYTICS_JS_FIXTURES=<folder> node --test js/test/``.

    Parameters
    ----------
    model : xgboost.Booster or xgboost.XGBModel
        The model to export and score.
    X : array-like or DataFrame, shape (rows, features)
        Inputs (NaN = missing). Rows are written as given (float64), so the browser-side
        float32 rounding is exercised too.
    feature_names : sequence of str
        Model feature order.
    path : path-like
        Fixture file; its name must end in ``.fixture.json``. The model is exported next to
        it as ``<name>.model.json`` and referenced by file name.
    metadata : mapping, optional
        Passed to :func:`export_xgboost`.
    threshold_probes : int, default 40
        Extra rows placing one split feature exactly on a threshold or one double-ulp under
        it (see Notes).
    with_shap : bool, default True
        Also store ``shap.TreeExplainer`` values, a second opinion on ``pred_contribs``.
    tolerance : float, default 1e-5
        Largest accepted gap (relative to ``max(1, |margin|)``) between the reference
        evaluator of the exported file and ``booster.predict``.
    random_state : int, default 42
        Seed for choosing probe rows.

    Returns
    -------
    dict
        ``{"fixture", "model", "rows", "max_abs_reference_vs_xgboost",
        "max_abs_shap_vs_xgboost"}``.

    Raises
    ------
    RuntimeError
        If the exported file does not reproduce XGBoost, or shap and ``pred_contribs``
        disagree by more than 1e-3; nothing is written then.

    Notes
    -----
    Fixture fields: ``format``, ``version``, ``name``, ``model_file``, ``objective``,
    ``feature_names``, ``X`` (rows, ``null`` = missing), ``xgboost`` = ``{"margin",
    "prediction"}`` (float32 outputs of ``booster.predict``, exact), ``"contribs"`` (rows of
    ``pred_contribs`` without the bias column) and ``"bias"``, and optionally ``shap`` =
    ``{"values", "expected_value"}``. SHAP values are rounded to 7 significant digits.

    .. warning:: Cost grows with rows x trees x leaves x depth^2 (``pred_contribs`` and
       shap both run): 10,000 rows of a 400-tree depth-7 model took ~3 minutes on two
       busy cores and wrote an 18 MB fixture. Keep such fixtures out of git.
    """
    import xgboost as xgb

    path = Path(path)
    if not path.name.endswith(".fixture.json"):
        raise ValueError(f"{path}: fixture file names must end in '.fixture.json'")
    name = path.name.removesuffix(".fixture.json")
    booster = _booster_of(model)
    feature_names = [str(n) for n in feature_names]
    model_text = _build_document(booster, feature_names, metadata or {})
    doc = json.loads(model_text)

    matrix = _as_matrix(X, feature_names)
    probes = _threshold_probes(doc, matrix, threshold_probes, random_state)
    matrix = np.vstack([matrix, probes])
    dm = xgb.DMatrix(matrix, feature_names=booster.feature_names,
                     feature_types=booster.feature_types)
    margin = booster.predict(dm, output_margin=True)
    prediction = booster.predict(dm)
    contribs = booster.predict(dm, pred_contribs=True)

    reference = predict_exported(doc, matrix, output_margin=True, accumulate="float32")
    gap = np.abs(reference.astype(np.float64) - margin) / np.maximum(1.0, np.abs(margin))
    if gap.size and gap.max() > tolerance:
        row = int(np.argmax(gap))
        raise RuntimeError(
            f"exported model disagrees with booster.predict at row {row}: "
            f"{reference[row]!r} vs {margin[row]!r}"
        )
    shap_doc = None
    shap_gap = float("nan")
    if with_shap:
        import shap

        explainer = shap.TreeExplainer(booster)
        values = np.asarray(explainer.shap_values(matrix), dtype=np.float64)
        shap_gap = float(np.max(np.abs(values - contribs[:, :-1]), initial=0.0))
        if shap_gap > 1e-3:
            raise RuntimeError(f"shap.TreeExplainer and pred_contribs differ by {shap_gap:.3g}")
        shap_doc = {
            "values": _rows(values, lambda r: _general_texts(r, 7)),
            "expected_value": float(np.ravel(explainer.expected_value)[0]),
        }

    def x_texts(row: np.ndarray) -> list[str]:
        return ["null" if math.isnan(v) else _compact(repr(float(v))) for v in row]

    fixture = {
        "format": FIXTURE_FORMAT,
        "version": FIXTURE_VERSION,
        "name": name,
        "model_file": f"{name}.model.json",
        "objective": doc["objective"],
        "feature_names": feature_names,
        "X": _rows(matrix, x_texts),
        "xgboost": {
            "margin": _raw_array(_float32_texts(margin, "margin")),
            "prediction": _raw_array(_float32_texts(prediction, "prediction")),
            "contribs": _rows(contribs[:, :-1], lambda r: _general_texts(r, 7)),
            "bias": _raw_array(_general_texts(contribs[:, -1], 9)),
        },
        "shap": shap_doc,
    }
    model_path = path.with_name(f"{name}.model.json")
    model_bytes = model_text.encode("utf-8")
    atomic_write(model_path, model_bytes)
    atomic_write(path, _dumps(fixture, indent="").encode("utf-8"))
    return {
        "fixture": path,
        "model": _entry_for(model_path.name, model_bytes),
        "rows": len(matrix),
        "max_abs_reference_vs_xgboost": float(
            np.max(np.abs(reference.astype(np.float64) - margin), initial=0.0)
        ),
        "max_abs_shap_vs_xgboost": shap_gap,
    }


def _rows(matrix: np.ndarray, fmt: Any) -> _Raw:
    """A 2-D array as JSON, one row per line (diffable, still compact)."""
    return _Raw("[\n" + ",\n".join("[" + ",".join(fmt(row)) + "]" for row in matrix) + "]")


# --------------------------------------------------------------------------------------------
# The predictor page's exports: champions + everything the controls need
# --------------------------------------------------------------------------------------------

#: ``metadata["page_format"]`` of a model exported for ``chapters/06-predictor.qmd``.
PAGE_FORMAT = "track-analytics-predictor"
#: Bumped whenever ``js/page.js`` could misread metadata written by a newer exporter.
PAGE_VERSION = 1
#: Folder (under ``models/``) holding the browser exports and their manifest.
#: Reference tracks for the nearest-neighbour list and the density warning.
REFERENCE_FILE = "reference_tracks.json"

#: Champions the page offers, in selector order, with the wording shown beside the selector.
SELECTABLE_MODELS: dict[str, dict[str, str]] = {
    "cold_start": {
        "display_name": PREDICTOR_MODEL_NAMES["cold_start"],
        "description": "Audio features, release metadata and genre only: the artist is "
                       "unknown to the model (honest protocol: artists never shared between "
                       "training and test).",
    },
    "known_artist": {
        "display_name": PREDICTOR_MODEL_NAMES["known_artist"],
        "description": "Adds the primary artist's popularity history (mean, count and best "
                       "of the artist's other tracks), as for a release by a signed artist.",
    },
}

#: Reference tracks exported for nearest neighbours (a sample, not the dataset).
REFERENCE_TRACKS = 2500
#: Real tracks offered as presets: the most popular track of each of these macro-genres.
PRESET_MACROS: tuple[str, ...] = (
    "Pop", "Rock", "Hip-hop & R&B", "Electronic & Dance", "Latin", "Country & Folk",
    "Jazz, Blues & Soul", "Classical & Stage",
)
#: Continuous features spanning the space in which "nearest" and "dense" are measured.
NEIGHBOUR_FEATURES: tuple[str, ...] = (
    "danceability", "energy", "loudness", "speechiness", "acousticness", "instrumentalness",
    "liveness", "valence", "tempo", "duration_ms",
)
_QUANTILES = (0.005, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.995)
# How a feature is shown: control kind, display unit, and factor from display to model value.
_DISPLAY = {
    "duration_ms": ("range", "min", 60000.0, 0.05),
    "loudness": ("range", "dB", 1.0, 0.1),
    "tempo": ("range", "BPM", 1.0, 1.0),
    "key": ("integer", "pitch class", 1.0, 1.0),
    "time_signature": ("integer", "beats per bar", 1.0, 1.0),
    "n_artists": ("integer", "artists", 1.0, 1.0),
    "title_length": ("integer", "characters", 1.0, 1.0),
    "album_length": ("integer", "characters", 1.0, 1.0),
    "mode": ("toggle", "major", 1.0, 1.0),
    "explicit": ("toggle", "explicit", 1.0, 1.0),
    "artist_mean_popularity": ("range", "popularity 0-100", 1.0, 0.5),
    "artist_n_tracks": ("integer", "other tracks", 1.0, 1.0),
    "artist_max_popularity": ("range", "popularity 0-100", 1.0, 1.0),
}
_LABELS = {
    "duration_ms": "Duration", "loudness": "Loudness", "tempo": "Tempo", "key": "Key",
    "time_signature": "Time signature", "mode": "Major mode", "explicit": "Explicit lyrics",
    "n_artists": "Credited artists", "title_length": "Title length",
    "album_length": "Album name length",
    "artist_mean_popularity": "Artist mean popularity",
    "artist_n_tracks": "Artist's other tracks",
    "artist_max_popularity": "Artist best popularity",
}


def _sig(value: float, digits: int = 6) -> float | None:
    """Round to ``digits`` significant digits (stable JSON text); NaN becomes None."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def champion_matrix(champion: Any, tracks: Any, *, n_splits: int | None = None) -> Any:
    """The matrix ``champion``'s booster was trained on, rebuilt from the cleaned tracks
    (:func:`analysis.models.design_matrix`: for ``known_artist`` the *out-of-fold* artist
    history), so an accuracy check on it compares the export with the Python model on the
    data the protocol defines. ``n_splits``: the build's inner folds (default its default).
    """
    from analysis.models import design_matrix
    from analysis.protocols import N_SPLITS

    X = design_matrix(tracks, champion.protocol,
                      n_splits=N_SPLITS if n_splits is None else n_splits)
    stale = [name for name in champion.feature_names if name not in X.columns]
    if stale:
        raise ValueError(
            f"champion {champion.name!r} was trained on features that analysis.features no "
            f"longer builds ({stale[:5]}); retrain it (make models) before exporting"
        )
    return X.loc[:, list(champion.feature_names)]


def _raw_rows(tracks: Any) -> Any:
    """Cleaned tracks as the raw-column frame a :class:`~analysis.models.Champion` reads."""
    frame = tracks.copy()
    frame["track_genre"] = frame["primary_genre"].astype("string")
    return frame


def _feature_stats(X: Any) -> dict[str, dict[str, Any]]:
    stats = {}
    for column in X.columns:
        values = X[column].to_numpy(dtype=np.float64)
        present = values[~np.isnan(values)]
        if present.size == 0:
            continue
        q = np.quantile(present, _QUANTILES)
        stats[column] = {
            "min": _sig(present.min()), "max": _sig(present.max()),
            "mean": _sig(present.mean()), "share_missing": _sig(1 - present.size / len(values), 4),
            "quantiles": {f"{p:g}": _sig(v) for p, v in zip(_QUANTILES, q, strict=True)},
        }
    return stats


def _control_specs(feature_names: Sequence[str], stats: Mapping[str, Any]) -> list[dict]:
    """One control per non-one-hot feature (one-hot genre columns get the two dropdowns)."""
    from analysis.features import FEATURES

    registry = {f.name: f for f in FEATURES}
    specs: list[dict] = []
    flags: list[dict] = []
    for name in feature_names:
        if name.startswith(("genre_", "macro_")):
            continue
        feature = registry[name]
        s = stats[name]
        kind, unit, scale, step = _DISPLAY.get(name, ("range", feature.unit, 1.0, 0.01))
        group = ("artist" if feature.availability == "artist_history"
                 else "audio" if name in NEIGHBOUR_FEATURES or name in (
                     "key", "mode", "time_signature") else "release")
        if feature.unit == "0/1" and name not in _DISPLAY:
            flags.append({"feature": name, "label": feature.description,
                          "share": s["mean"], "group": "markers"})
            continue
        spec = {
            "feature": name, "label": _LABELS.get(name, name.capitalize()),
            "description": feature.description, "kind": kind, "unit": unit, "scale": scale,
            "step": step, "group": group,
            # Control bounds: the observed range, in display units.
            "min": _sig(s["min"] / scale), "max": _sig(s["max"] / scale),
            "default": _sig(round(s["quantiles"]["0.5"] / scale / step) * step),
            # Warn outside the central 99% (display units).
            "typical": [_sig(s["quantiles"]["0.005"] / scale),
                        _sig(s["quantiles"]["0.995"] / scale)],
        }
        if name == "artist_max_popularity":
            spec["optional"] = "no other tracks"
        specs.append(spec)
    if flags:
        specs.append({"feature": None, "kind": "flags", "group": "markers",
                      "label": "Title and album markers", "flags": flags})
    return specs


def _reference_table(
    tracks: Any, X: Any, *, n: int, random_state: int
) -> tuple[dict[str, Any], Any]:
    """A stratified sample of real tracks for nearest neighbours, and its density scale.

    Distances are Euclidean over :data:`NEIGHBOUR_FEATURES` divided by their interquartile
    range over all tracks (robust to the long tails of tempo and duration). The density
    threshold is the 99th percentile, over tracks *not* in the sample, of the distance to
    the nearest sampled track: an input farther than that from every reference track sits
    where fewer than 1% of real tracks do.
    """
    rng = np.random.default_rng(random_state)
    macro = tracks["macro_genre"].astype(str).to_numpy()
    share = n / len(tracks)
    chosen: list[int] = []
    for m in sorted(set(macro)):
        rows = np.flatnonzero(macro == m)
        k = max(1, int(round(len(rows) * share)))
        chosen.extend(rng.choice(rows, size=min(k, len(rows)), replace=False).tolist())
    chosen = np.array(sorted(chosen))
    features = list(NEIGHBOUR_FEATURES)
    values = X[features].to_numpy(dtype=np.float64)
    q1, q3 = np.nanquantile(values, [0.25, 0.75], axis=0)
    scale = np.where(q3 - q1 > 0, q3 - q1, 1.0)
    center = np.nanmedian(values, axis=0)
    z = (values - center) / scale
    ref = z[chosen]
    others = np.setdiff1d(np.arange(len(tracks)), chosen)
    probe = rng.choice(others, size=min(5000, len(others)), replace=False)
    nearest = np.array([np.sqrt(((ref - z[i]) ** 2).sum(axis=1)).min() for i in probe])
    sample = tracks.iloc[chosen]
    table = {
        "format": "track-analytics-reference-tracks",
        "version": 1,
        "description": (f"{len(chosen)} real tracks sampled per macro-genre (seed "
                        f"{random_state}) from {len(tracks)}: ids, names and the features the "
                        "predictor measures distance on. A sample for the nearest-track list, "
                        "not a copy of the dataset."),
        "features": features,
        "center": [_sig(v) for v in center],
        "scale": [_sig(v) for v in scale],
        "density": {
            "probe_tracks": int(len(probe)),
            "nearest_distance_quantiles": {f"{p:g}": _sig(v) for p, v in zip(
                (0.5, 0.9, 0.95, 0.99), np.quantile(nearest, [0.5, 0.9, 0.95, 0.99]),
                strict=True)},
            "threshold": _sig(np.quantile(nearest, 0.99)),
            "threshold_share": 0.01,
        },
        "track_id": sample["track_id"].astype(str).tolist(),
        "name": sample["track_name"].astype(str).tolist(),
        "artist": sample["artists"].astype(str).tolist(),
        "genre": sample["primary_genre"].astype(str).tolist(),
        "popularity": sample["popularity"].astype(int).tolist(),
        "X": _Raw("[\n" + ",\n".join(
            "[" + ",".join(_compact(repr(_sig(v, 5))) for v in row) + "]"
            for row in values[chosen]) + "]"),
    }
    return table, chosen


def _presets(tracks: Any, champions: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The most popular track of each :data:`PRESET_MACROS` macro-genre, with model inputs."""
    picks = []
    for m in PRESET_MACROS:
        rows = tracks[tracks["macro_genre"].astype(str) == m]
        if len(rows):
            rows = rows.sort_values(["popularity", "track_id"], ascending=[False, True])
            picks.append(rows.index[0])
    chosen = tracks.loc[picks]
    raw = _raw_rows(chosen)
    out = []
    inputs = {name: champion.features(raw, name="presets") for name, champion in champions.items()}
    for position, (_, row) in enumerate(chosen.iterrows()):
        preset = {
            "track_id": str(row["track_id"]), "name": str(row["track_name"]),
            "artist": str(row["artists"]), "genre": str(row["primary_genre"]),
            "macro_genre": str(row["macro_genre"]), "popularity": int(row["popularity"]),
            "inputs": {},
        }
        for name, X in inputs.items():
            values = X.iloc[position]
            preset["inputs"][name] = {
                column: _sig(values[column], 9) for column in X.columns
                if not column.startswith(("genre_", "macro_"))
            }
        out.append(preset)
    return out


def _honest_metrics(metrics: Mapping[str, Any] | None, protocol: str) -> dict[str, Any] | None:
    """R², MAE (mean ± sd over the protocol's grouped folds) of the champion's model type."""
    from analysis.models import CHAMPION_MODEL

    try:
        entry = metrics["protocols"][protocol]["models"][CHAMPION_MODEL]["metrics"]
    except (KeyError, TypeError):
        return None
    out = {"source": f"models/metrics.json: protocols.{protocol}.models.{CHAMPION_MODEL}",
           "protocol": protocol}
    for key in ("r2", "mae", "rmse", "spearman", "hit_auc"):
        if key in entry and entry[key].get("mean") is not None:
            out[key] = _sig(entry[key]["mean"], 4)
            if entry[key].get("sd") is not None:
                out[f"{key}_sd"] = _sig(entry[key]["sd"], 3)
    return out


def _hit_classifier(
    champion: Any, X: Any, metrics: Mapping[str, Any] | None, protocol: str
) -> dict[str, Any]:
    """The champion's hit classifier as an embedded tree document, checked like the trees.

    P(popularity >= threshold) is the classifier's own output (``binary:logistic``): the
    browser evaluates it with the same ``predict`` as the popularity trees. Its honest
    triage metrics come from ``metrics.json`` (out-of-fold, the protocol's folds).
    """
    import xgboost as xgb

    from analysis.models import HIT_THRESHOLD

    feature_names = list(champion.feature_names)
    doc = json.loads(_build_document(champion.hit_booster, feature_names, {}))
    python_p = champion.hit_booster.predict(xgb.DMatrix(X.to_numpy(dtype=np.float64),
                                                        feature_names=feature_names))
    exported_p = predict_exported(doc, X)
    diff = float(np.max(np.abs(python_p - exported_p)))
    if diff > 1e-6:
        raise RuntimeError(f"{champion.name}: exported hit classifier differs from Python by "
                           f"{diff:.2e}; nothing written")
    triage = None
    try:
        entry = metrics["protocols"][protocol]["triage"]
        triage = {k: _sig(entry["metrics"][k]["mean"], 4)
                  for k in ("hit_auc", "top1_precision", "brier", "hit_rate")}
        triage["source"] = f"models/metrics.json: protocols.{protocol}.triage"
    except (KeyError, TypeError):
        pass
    return {
        "threshold": HIT_THRESHOLD,
        "model": doc,
        "metrics": triage,
        "max_abs_probability_diff": _sig(diff, 3),
        "method": f"XGBoost classifier of popularity >= {HIT_THRESHOLD} on the same inputs, "
                  f"trained on every track of the protocol ({protocol})",
    }


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    return float(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


def export_champions(
    models_dir: str | os.PathLike | None = None,
    *,
    out_dir: str | os.PathLike | None = None,
    tracks: Any = None,
    names: Sequence[str] | None = None,
    reference_tracks: int = REFERENCE_TRACKS,
    random_state: int = 42,
    verbose: bool = True,
) -> dict[str, Any]:
    """Export every selectable champion, the reference tracks and a manifest for the page.

    The predictor page (``chapters/06-predictor.qmd``) reads nothing else: each
    ``<name>.json`` carries the trees plus, under ``metadata``, everything its controls,
    interval, presets and model card need; ``reference_tracks.json`` the real tracks for
    the nearest-neighbour list and the density warning; ``manifest.json`` their sha256.

    Parameters
    ----------
    models_dir : path-like, optional
        Folder with ``champions/`` and ``metrics.json`` (default ``models/``).
    out_dir : path-like, optional
        Destination (default ``<models_dir>/export``).
    tracks : pandas.DataFrame, optional
        Cleaned tracks (default :func:`analysis.data.load_tracks`), the data the champions
        were trained on: ranges, presets, references and the accuracy check come from it.
    names : sequence of str, optional
        Champions to export (default: every :data:`SELECTABLE_MODELS` entry).
    reference_tracks : int, default 2500
        Size of the reference sample.
    random_state : int, default 42
        Seed of the reference sample.
    verbose : bool, default True
        Print one line per file and the accuracy check.

    Returns
    -------
    dict
        ``{"files": manifest entries, "accuracy": {name: {...}}, "gzip_bytes": total}``.

    Raises
    ------
    RuntimeError
        If an exported model's R² on the protocol's tracks differs from the Python
        champion's by more than 0.005 (nothing is written then).

    Notes
    -----
    Output is deterministic: the same champions and data give the same bytes (floats in
    metadata are rounded to fixed significant digits; no timestamps).

    Model metadata (``metadata``; ``page_format`` ``"track-analytics-predictor"``,
    ``page_version`` 1): ``name``, ``display_name``, ``description``, ``protocol``,
    ``champion`` (type, trees, training rows, manifest sha256), ``metrics`` (honest
    cross-validated R², MAE from ``metrics.json``), ``accuracy_check`` (R² of Python and of
    the export on the protocol's tracks), ``interval`` (conformal half-widths, global and
    per macro-genre, clip 0-100, read by ``intervalFor``), ``hit_probability`` (the champion's
    hit classifier as an embedded tree document with ``link`` logistic, its threshold and its
    out-of-fold triage metrics), ``categorical`` (genres, macro-genres, genre→macro and
    their one-hot columns), ``feature_stats`` (min, max, quantiles), ``controls`` (one spec
    per control in display units: duration in minutes, loudness in dB, tempo in BPM),
    ``artist_history`` (known_artist: prior mean and smoothing) and ``presets``.

    .. warning:: Reads the full cleaned data and evaluates both champions on every track
       twice (XGBoost and the Python reader of the export): about a minute on two cores.
    """
    import xgboost as xgb

    from analysis import paths
    from analysis.features import genre_column, macro_column
    from analysis.genres import MACRO_GENRES, load_taxonomy
    from analysis.models import load as load_champion

    log = print if verbose else (lambda *a, **k: None)
    models_dir = paths.resolve_models_dir(models_dir)
    out_dir = Path(out_dir) if out_dir is not None else paths.export_dir(models_dir)
    names = list(names) if names is not None else list(SELECTABLE_MODELS)
    if tracks is None:
        from analysis.data import load_tracks

        tracks = load_tracks().tracks
    tracks = tracks.reset_index(drop=True)
    metrics_path = paths.metrics_file(models_dir)
    metrics = json.loads(metrics_path.read_text("utf-8")) if metrics_path.is_file() else None
    champions = {name: load_champion(name, models_dir=models_dir) for name in names}

    taxonomy = load_taxonomy()
    genres = [str(g) for g in taxonomy["genre"]]
    genre_to_macro = dict(zip(genres, taxonomy["macro_genre"].astype(str), strict=True))
    categorical = {
        "genres": genres,
        "macro_genres": list(MACRO_GENRES),
        "genre_to_macro": genre_to_macro,
        "genre_columns": {g: genre_column(g) for g in genres},
        "macro_columns": {m: macro_column(m) for m in MACRO_GENRES},
    }
    presets = _presets(tracks, champions)
    y = tracks["popularity"].to_numpy(dtype=np.float64)
    documents: dict[str, tuple[Any, list[str], dict]] = {}
    accuracy: dict[str, dict] = {}
    base_X = None
    for name, champion in champions.items():
        X = champion_matrix(champion, tracks,
                            n_splits=(metrics or {}).get("budget", {}).get("n_splits"))
        if base_X is None or champion.protocol == "cold_start":
            base_X = X
        booster = champion.booster
        feature_names = list(champion.feature_names)
        python_pred = booster.predict(xgb.DMatrix(X.to_numpy(dtype=np.float64),
                                                  feature_names=feature_names))
        doc = json.loads(_build_document(booster, feature_names, {}))
        exported_pred = predict_exported(doc, X).astype(np.float64)
        r2_python, r2_exported = _r2(y, python_pred), _r2(y, exported_pred)
        check = {
            "rows": int(len(y)),
            "data": "all tracks of the protocol (the champion's training data)",
            "r2_python": _sig(r2_python, 8), "r2_exported": _sig(r2_exported, 8),
            "r2_delta": _sig(abs(r2_python - r2_exported), 3),
            "max_abs_prediction_diff": _sig(np.max(np.abs(python_pred - exported_pred)), 3),
        }
        if abs(r2_python - r2_exported) > 0.005:
            raise RuntimeError(f"{name}: exported R² {r2_exported:.5f} differs from Python "
                               f"{r2_python:.5f} by more than 0.005; nothing written")
        accuracy[name] = check
        # One-hot genre columns are described by ``categorical``; their shares would only
        # add 30 KB per model.
        stats = _feature_stats(X.loc[:, [c for c in X.columns
                                         if not c.startswith(("genre_", "macro_"))]])
        offsets = champion.offsets
        interval = {
            "global": {k: _sig(v) for k, v in offsets["global"].items()},
            "by_stratum": {g: {k: _sig(v) for k, v in levels.items()}
                           for g, levels in offsets.get("by_stratum", {}).items()},
            "clip": [0, 100],
            "default_confidence": 0.9 if "0.9" in offsets["global"] else None,
            "method": "split-conformal, Mondrian by macro-genre (absolute residuals of the "
                      "protocol's out-of-fold predictions)",
        }
        meta = {
            "page_format": PAGE_FORMAT,
            "page_version": PAGE_VERSION,
            "name": name,
            **SELECTABLE_MODELS.get(name, {"display_name": name, "description": ""}),
            "protocol": champion.protocol,
            "target": "popularity (0-100)",
            "champion": {
                "model": champion.manifest.get("model"),
                "n_trees": int(booster.num_boosted_rounds()),
                "n_train": champion.manifest.get("n_train"),
                "data_sha256": champion.manifest.get("data_sha256"),
            },
            "metrics": _honest_metrics(metrics, champion.protocol),
            "accuracy_check": check,
            "interval": interval,
            "hit_probability": _hit_classifier(champion, X, metrics, champion.protocol),
            "categorical": categorical,
            "feature_stats": stats,
            "controls": _control_specs(feature_names, stats),
            "artist_history": (
                {"global_mean": _sig(champion.artist_history.global_mean, 9),
                 "smoothing": champion.artist_history.smoothing}
                if champion.artist_history is not None else None),
            "presets": [{**{k: v for k, v in p.items() if k != "inputs"},
                         "inputs": p["inputs"][name]} for p in presets],
            "reference_file": REFERENCE_FILE,
        }
        documents[name] = (booster, feature_names, meta)
        log(f"{name}: R² python {r2_python:.6f}, exported {r2_exported:.6f} "
            f"(max |diff| {check['max_abs_prediction_diff']})")

    reference, _ = _reference_table(tracks, base_X, n=reference_tracks,
                                    random_state=random_state)
    entries = []
    for name, (booster, feature_names, meta) in documents.items():
        entries.append(export_xgboost(booster, feature_names=feature_names,
                                      path=out_dir / f"{name}.json", metadata=meta))
    reference_bytes = _dumps(reference, indent="").encode("utf-8")
    atomic_write(out_dir / REFERENCE_FILE, reference_bytes)
    entries.append(_entry_for(REFERENCE_FILE, reference_bytes))
    write_manifest(entries, out_dir / "manifest.json")
    total = sum(e["gzip_bytes"] for e in entries)
    for e in entries:
        log(f"  {e['file']}: {e['bytes']:,} bytes, {e['gzip_bytes']:,} gzip")
    log(f"  total payload {total:,} bytes gzip")
    return {"files": entries, "accuracy": accuracy, "gzip_bytes": total}


def load_export_manifest(out_dir: str | os.PathLike | None = None) -> dict[str, dict]:
    """Entries of ``models/export/manifest.json`` keyed by file name."""
    from analysis import paths

    folder = Path(out_dir) if out_dir is not None else paths.export_dir()
    return read_manifest(folder / "manifest.json")
