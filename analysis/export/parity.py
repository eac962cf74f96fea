"""Cross-language parity fixtures: what ``node --test js/test/`` checks ``js/predictor.js`` with.

A fixture pairs an exported model (:func:`analysis.export.export_xgboost`) with inputs,
XGBoost's predictions and ``pred_contribs``, and optionally ``shap.TreeExplainer`` values, so
the JavaScript evaluator and its TreeSHAP are checked against XGBoost itself. The small
synthetic fixtures committed under ``js/test/fixtures/`` come from ``js/test/make_fixtures.py``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.artifacts import atomic_write
from analysis.export.compact_json import (
    compact_number,
    dumps_compact,
    float32_texts,
    general_texts,
    raw_array,
    raw_rows,
)
from analysis.export.manifest import manifest_entry
from analysis.export.trees_json import (
    Forest,
    as_matrix,
    booster_of,
    build_document,
    predict_exported,
)

__all__ = ["FIXTURE_FORMAT", "FIXTURE_VERSION", "write_parity_fixture"]

#: Value of the ``"format"`` field of a parity fixture written by :func:`write_parity_fixture`.
FIXTURE_FORMAT = "track-analytics-parity-fixture"
FIXTURE_VERSION = 1


def _threshold_probes(doc: Mapping, X: np.ndarray, n: int, random_state: int) -> np.ndarray:
    """Rows of ``X`` with one split feature set on, or one double-ulp under, a threshold.

    These are the inputs a float64 comparison gets wrong: a double just below a float32
    threshold rounds *to* it, so XGBoost sends it right while ``x < t`` in doubles sends it
    left.
    """
    if n <= 0 or len(X) == 0:
        return np.empty((0, X.shape[1]))
    rng = np.random.default_rng(random_state)
    forest = Forest(doc)
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
    booster = booster_of(model)
    feature_names = [str(n) for n in feature_names]
    model_text = build_document(booster, feature_names, metadata or {})
    doc = json.loads(model_text)

    matrix = as_matrix(X, feature_names)
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
            "values": raw_rows(values, lambda r: general_texts(r, 7)),
            "expected_value": float(np.ravel(explainer.expected_value)[0]),
        }

    def x_texts(row: np.ndarray) -> list[str]:
        return ["null" if math.isnan(v) else compact_number(repr(float(v))) for v in row]

    fixture = {
        "format": FIXTURE_FORMAT,
        "version": FIXTURE_VERSION,
        "name": name,
        "model_file": f"{name}.model.json",
        "objective": doc["objective"],
        "feature_names": feature_names,
        "X": raw_rows(matrix, x_texts),
        "xgboost": {
            "margin": raw_array(float32_texts(margin, "margin")),
            "prediction": raw_array(float32_texts(prediction, "prediction")),
            "contribs": raw_rows(contribs[:, :-1], lambda r: general_texts(r, 7)),
            "bias": raw_array(general_texts(contribs[:, -1], 9)),
        },
        "shap": shap_doc,
    }
    model_path = path.with_name(f"{name}.model.json")
    model_bytes = model_text.encode("utf-8")
    atomic_write(model_path, model_bytes)
    atomic_write(path, dumps_compact(fixture, indent="").encode("utf-8"))
    return {
        "fixture": path,
        "model": manifest_entry(model_path.name, model_bytes),
        "rows": len(matrix),
        "max_abs_reference_vs_xgboost": float(
            np.max(np.abs(reference.astype(np.float64) - margin), initial=0.0)
        ),
        "max_abs_shap_vs_xgboost": shap_gap,
    }

