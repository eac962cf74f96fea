"""Reading what a build wrote: ``metrics.json`` through typed accessors, and the OOF files.

``metrics.json`` is a nested dict (see :func:`analysis.models.build.build_models`). Code that
reads it goes through the accessors below instead of spelling key paths, so the layout is
known in one place and a missing entry is reported by its path::

    metrics = load_metrics()
    model_metric(metrics, "cold_start", "xgboost_tuned", "r2")          # mean over folds
    model_metric(metrics, "cold_start", "xgboost_tuned", "r2", "folds") # per-fold values
    triage_metric(metrics, "known_artist", "hit_auc")
    interval_entry(metrics, "cold_start", 0.9)["coverage"]

Every accessor takes the metrics dict first (as :func:`load_metrics` returns it, or a
hand-built subset in tests) and returns a read-only view of the stored values: plain
floats, lists and dicts, never copies that could drift. (Writing helpers shared by every
artifact, such as atomic writes and JSON cleaning, live in :mod:`analysis.artifacts`.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import pandas as pd

from analysis import paths
from analysis.labels import MODEL_LABELS
from analysis.models.settings import MODEL_NAMES, SCHEMA_VERSION, level_key
from analysis.protocols import PROTOCOL_INFO

#: Layouts of ``metrics.json`` this code can read.
SUPPORTED_SCHEMA_VERSIONS: frozenset[int] = frozenset({SCHEMA_VERSION})

#: The statistics a fold summary holds (:func:`analysis.models.scoring.summarise_folds`).
STATS = ("mean", "sd", "folds")


class MetricsSchemaError(ValueError):
    """``metrics.json`` was written in a layout this code does not read."""


def check_schema(metrics: Mapping, *, source: str = "metrics.json") -> Mapping:
    """Return ``metrics`` if its ``schema_version`` is one this code reads.

    Every ``metrics.json`` says which layout it was written in, builds and hand-written test
    fixtures alike; a file without ``schema_version``, or with a version this code does not
    know, raises rather than being read by keys that may mean something else. (The accessors
    below take any mapping, so doctests and unit tests may pass a hand-built subset.)

    Raises
    ------
    MetricsSchemaError
        If ``schema_version`` is missing or not in :data:`SUPPORTED_SCHEMA_VERSIONS`; the
        message names ``source`` (the file).

    Examples
    --------
    >>> check_schema({"schema_version": 1})["schema_version"]
    1
    >>> check_schema({"schema_version": 99})
    Traceback (most recent call last):
    ...
    analysis.models.artifacts.MetricsSchemaError: metrics.json: schema_version 99 is not one \
this code reads (1); rebuild it with `python -m analysis.cli models` or update analysis.models
    >>> check_schema({"protocols": {}}, source="models/metrics.json")
    Traceback (most recent call last):
    ...
    analysis.models.artifacts.MetricsSchemaError: models/metrics.json: no schema_version; \
every metrics.json must name its layout (this code reads 1): rebuild it with \
`python -m analysis.cli models`, or add "schema_version" where a fixture writes it
    """
    supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
    if "schema_version" not in metrics:
        raise MetricsSchemaError(
            f"{source}: no schema_version; every metrics.json must name its layout (this code "
            f"reads {supported}): rebuild it with `python -m analysis.cli models`, or add "
            '"schema_version" where a fixture writes it')
    version = metrics["schema_version"]
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise MetricsSchemaError(
            f"{source}: schema_version {version!r} is not one this code reads ({supported}); "
            "rebuild it with `python -m analysis.cli models` or update analysis.models")
    return metrics


def load_metrics(models_dir: str | os.PathLike | None = None) -> dict:
    """The committed ``metrics.json`` (what chapters read; they never train), schema-checked.

    Raises
    ------
    MetricsSchemaError
        If the file's ``schema_version`` is unknown (see :func:`check_schema`).
    """
    path = paths.metrics_file(models_dir)
    return dict(check_schema(json.loads(path.read_text()), source=str(path)))


def oof_models(
    protocol: str, models_dir: str | os.PathLike | None = None, *, column: str | None = None
) -> list[str]:
    """The models with stored out-of-fold predictions under ``protocol``, sorted by name.

    ``column`` keeps only the files that hold it: ``"y_pred"`` the popularity predictions
    (which leaves the hit classifier's probabilities, ``p_hit``, out).
    """
    import pyarrow.parquet as pq

    prefix = f"{protocol}__"
    files = sorted(paths.oof_dir(models_dir).glob(f"{prefix}*.parquet"))
    return [p.name[len(prefix):-len(".parquet")] for p in files
            if column is None or column in pq.read_schema(p).names]


def load_oof(
    protocol: str, model: str, models_dir: str | os.PathLike | None = None, *,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Out-of-fold predictions of one protocol × model (``model`` may be the hit classifier).

    Columns: ``track_id``, ``fold``, ``y_true`` and ``y_pred`` (``p_hit`` for the hit
    classifier), the replica's ``source_index``, and ``lower_80`` … ``upper_90`` where the
    model has intervals; ``columns`` reads only those.

    Raises
    ------
    FileNotFoundError
        Naming the expected file and the models that do have predictions under ``protocol``.
    """
    path = paths.oof_file(protocol, model, models_dir)
    if not path.is_file():
        have = oof_models(protocol, models_dir)
        raise FileNotFoundError(f"{path}: no out-of-fold predictions for {protocol} × {model} "
                                f"(available: {have or 'none'}).")
    return pd.read_parquet(path, columns=columns)


def _get(metrics: Mapping, *keys: str):
    """``metrics[k1][k2]...``; a missing key is reported by its whole path."""
    value = metrics
    for depth, key in enumerate(keys):
        try:
            value = value[key]
        except (KeyError, TypeError):
            path = ".".join(keys[:depth + 1])
            raise KeyError(f"metrics.json has no {path}") from None
    return value


def budget(metrics: Mapping) -> Mapping:
    """The :class:`~analysis.models.settings.Budget` the build ran with, as recorded
    (``n_trials``, ``max_trees``, ``n_splits``, ``random_forest_trees``, ...).

    Examples
    --------
    >>> budget({"budget": {"n_splits": 5, "random_forest_trees": 300}})["random_forest_trees"]
    300
    """
    return _get(metrics, "budget")


def n_splits(metrics: Mapping) -> int:
    """The build's outer (and inner) folds: what a matrix with out-of-fold artist history
    must be rebuilt with to match the build (:func:`analysis.models.design_matrix`).

    Examples
    --------
    >>> n_splits({"budget": {"n_splits": 5}})
    5
    """
    return int(_get(metrics, "budget", "n_splits"))


def original_results(metrics: Mapping) -> Mapping:
    """The original's published R² and MAE per model, as the build recorded them
    (:data:`~analysis.models.settings.ORIGINAL_RESULTS`)."""
    return _get(metrics, "original_results")


def protocol_names(metrics: Mapping) -> list[str]:
    """The protocols the build evaluated, in :data:`analysis.protocols.PROTOCOL_INFO` order.

    Examples
    --------
    >>> protocol_names({"protocols": {"cold_start": {}, "seed_replica": {}}})
    ['seed_replica', 'cold_start']
    """
    section = _get(metrics, "protocols")
    return [p for p in PROTOCOL_INFO if p in section]


def protocol_entry(metrics: Mapping, protocol: str) -> Mapping:
    """One protocol's section: ``leaky``, ``rows``, ``n_folds``, ``fold_signature``,
    ``feature_names``, ``models``, and where they apply ``triage``, ``fold_sizes``,
    ``n_groups``, ``test_rows``, ``featured_artist_overlap``."""
    return _get(metrics, "protocols", protocol)


def model_names(metrics: Mapping, protocol: str) -> list[str]:
    """The models scored under ``protocol``, in table order
    (:data:`~analysis.models.settings.MODEL_NAMES`; any other name after them, as stored).

    ``metrics.json`` stores its keys sorted, so the stored order is alphabetical, not this.

    Examples
    --------
    >>> model_names({"protocols": {"cold_start": {"models": {"xgboost": {},
    ...                                                     "linear_regression": {}}}}},
    ...             "cold_start")
    ['linear_regression', 'xgboost']
    """
    stored = list(_get(metrics, "protocols", protocol, "models"))
    return [m for m in MODEL_NAMES if m in stored] + [m for m in stored if m not in MODEL_NAMES]


def has_model(metrics: Mapping, protocol: str, model: str) -> bool:
    """Whether the build scored ``model`` under ``protocol`` (the Random Forests may be
    skipped, ``xgboost_monotone`` runs under ``known_artist`` only).

    Examples
    --------
    >>> m = {"protocols": {"cold_start": {"models": {"xgboost": {}}}}}
    >>> has_model(m, "cold_start", "xgboost"), has_model(m, "cold_start", "random_forest")
    (True, False)
    """
    return model in _get(metrics, "protocols", protocol, "models")


def model_entry(metrics: Mapping, protocol: str, model: str) -> Mapping:
    """One protocol × model record: ``label``, ``params``, ``metrics``, ``oof_file`` and, where
    they apply, ``fold_params``, ``fold_tuning``, ``intervals``, ``fold_conformal_offsets``,
    ``error_analysis``, ``reused_from_previous_build``."""
    return _get(metrics, "protocols", protocol, "models", model)


def model_label(metrics: Mapping, model: str) -> str:
    """How tables name ``model``: the ``label`` the build stored with it (the first protocol
    that ran it), else :data:`analysis.labels.MODEL_LABELS`, else the name itself.

    Examples
    --------
    >>> model_label({"protocols": {"cold_start": {"models": {"xgboost": {"label": "XGB"}}}}},
    ...             "xgboost")
    'XGB'
    >>> model_label({"protocols": {}}, "linear_regression")
    'Linear Regression'
    """
    for protocol in protocol_names(metrics):
        entry = _get(metrics, "protocols", protocol, "models").get(model, {})
        if "label" in entry:
            return entry["label"]
    return MODEL_LABELS.get(model, model)


def model_metric(
    metrics: Mapping, protocol: str, model: str, metric: str, stat: str = "mean"
) -> float | list[float] | None:
    """A model's cross-validated ``metric`` (``r2``, ``mae``, ``rmse``, ``spearman``,
    ``hit_auc``, ``top1_precision``): its ``mean`` over folds (default), ``sd`` (None with
    one fold) or per-fold values (``"folds"``).

    Examples
    --------
    >>> m = {"protocols": {"cold_start": {"models": {"xgboost": {"metrics": {
    ...     "r2": {"mean": 0.4, "sd": 0.01, "folds": [0.39, 0.41]}}}}}}}
    >>> model_metric(m, "cold_start", "xgboost", "r2"), model_metric(m, "cold_start",
    ...                                                             "xgboost", "r2", "sd")
    (0.4, 0.01)
    """
    return _get(model_entry(metrics, protocol, model), "metrics", metric, _stat(stat))


def triage_entry(metrics: Mapping, protocol: str) -> Mapping:
    """The hit classifier's record under an honest protocol: ``model``, ``label``,
    ``params``, ``metrics``, ``oof_file``."""
    return _get(metrics, "protocols", protocol, "triage")


def triage_metric(
    metrics: Mapping, protocol: str, metric: str, stat: str = "mean"
) -> float | list[float] | None:
    """A hit-classifier metric (``hit_auc``, ``top1_precision``, ``brier``, ``log_loss``,
    ``hit_rate``), as :func:`model_metric` reads a model's."""
    return _get(triage_entry(metrics, protocol), "metrics", metric, _stat(stat))


def interval_entry(
    metrics: Mapping, protocol: str, level: float | str, *, kind: str = "mondrian",
    model: str | None = None,
) -> Mapping:
    """Coverage of a model's out-of-fold intervals at one confidence ``level`` (0.8 or 0.9):
    ``coverage``, ``mean_width`` and ``by_macro_genre``; ``kind`` is ``"mondrian"`` (offsets
    per macro-genre, what the champions use) or ``"global"`` (one offset). ``model``: the
    protocol's champion unless given."""
    key = level if isinstance(level, str) else level_key(level)
    model = model or champion_model(metrics, protocol)
    return _get(model_entry(metrics, protocol, model), "intervals", kind, key)


def error_analysis_entry(
    metrics: Mapping, protocol: str, *, model: str | None = None
) -> Mapping:
    """Where a model errs (:func:`analysis.models.findings.error_analysis`): ``by_macro_genre``,
    ``by_popularity_band``, ``by_album_seen_in_training``, ``prediction_histogram``,
    ``zero_popularity``. ``model``: the protocol's champion unless given."""
    model = model or champion_model(metrics, protocol)
    return _get(model_entry(metrics, protocol, model), "error_analysis")


def champion_names(metrics: Mapping) -> list[str]:
    """The champions the build wrote (one per honest protocol, named after it), in
    :data:`analysis.protocols.PROTOCOL_INFO` order."""
    section = _get(metrics, "champions")
    return [p for p in PROTOCOL_INFO if p in section]


def champion_entry(metrics: Mapping, protocol: str) -> Mapping:
    """The champion written for ``protocol``: ``path``, ``model``, ``params``, ``tuning``,
    ``n_trees``, ``model_bytes``, ``artifact_bytes``, ``manifest_sha256``, ``offsets``."""
    return _get(metrics, "champions", protocol)


def champion_model(metrics: Mapping, protocol: str) -> str:
    """The model the champion written for ``protocol`` is (``xgboost_transfer``,
    ``xgboost_tuned``: :data:`~analysis.models.settings.CHAMPION_MODELS`).

    Examples
    --------
    >>> champion_model({"champions": {"cold_start": {"model": "xgboost_tuned"}}}, "cold_start")
    'xgboost_tuned'
    """
    return _get(metrics, "champions", protocol, "model")


def finding_entry(metrics: Mapping, name: str) -> Mapping:
    """One of the build's findings: ``leak_audit`` or ``sampling_artefacts``."""
    return _get(metrics, "findings", name)


def build_timings(metrics: Mapping) -> Mapping:
    """The build's wall-clock section (``build_seconds``, ``load_average``,
    ``resumed_from_checkpoint``, …; empty if absent). The only part of ``metrics.json`` that
    differs between two builds of the same inputs."""
    return metrics.get("timings", {})


def model_timings(metrics: Mapping, protocol: str, model: str) -> Mapping | None:
    """Wall times of one protocol × model (``fit_seconds``, ``wall_seconds``, … each a
    summary with ``total``), or None when the build has no timing for it."""
    return build_timings(metrics).get("protocols", {}).get(protocol, {}).get(model)


def champion_timings(metrics: Mapping, name: str) -> Mapping:
    """Fit times of one champion (``fit_seconds``, ``hit_classifier_fit_seconds``)."""
    return _get(metrics, "timings", "champions", name)


def worst_coverage_gap(metrics: Mapping, protocol: str) -> float:
    """Largest |coverage - nominal| over macro-genres and levels of the champion's Mondrian
    intervals."""
    mondrian = _get(model_entry(metrics, protocol, champion_model(metrics, protocol)),
                    "intervals", "mondrian")
    return max(abs(entry["coverage"] - float(level))
               for level, section in mondrian.items()
               for entry in section["by_macro_genre"].values())


def _stat(stat: str) -> str:
    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
    return stat
