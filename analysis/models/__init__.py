# ruff: noqa: E402  (imports follow the OpenMP setting below)
"""Model zoo, leak-free evaluation, conformal intervals, champions and ``load(name)``.

What this package answers, per protocol of :mod:`analysis.protocols` and per model:
how far off a popularity prediction is (MAE, RMSE, R², Spearman, mean ± sd over folds), how
well it triages hits (ROC-AUC for popularity >= 60, precision of the top 1% by predicted
popularity), how long it takes, and, for the tuned XGBoost, how wide an honest 80% / 90%
prediction interval is and whether it covers in every macro-genre.

Modules, one concern each:

- :mod:`~analysis.models.settings` thresholds, model names, fixed parameters, :class:`Budget`
  (display labels, :data:`MODEL_LABELS` among them, are in :mod:`analysis.labels`);
- :mod:`~analysis.models.zoo` the estimators (:func:`make_model`, :class:`HurdleRegressor`,
  :func:`make_hit_classifier`);
- :mod:`~analysis.models.scoring` metrics of one set of predictions and fold summaries;
- :mod:`~analysis.models.tuning` Optuna inside a training fold (:func:`tune_xgboost`);
- :mod:`~analysis.models.conformal` MAPIE offsets per macro-genre (:func:`conformal_offsets`);
- :mod:`~analysis.models.design` the one :func:`design_matrix` and the evaluation designs;
- :mod:`~analysis.models.blanking` inputs a track may lack: blanked in training, given as
  missing when asked;
- :mod:`~analysis.models.evaluation` the cross-validation engine;
- :mod:`~analysis.models.findings` leak audit, sampling artefacts, error analysis;
- :mod:`~analysis.models.champion` the champion folder, :class:`Champion`,
  :func:`load_champion` (``load``);
- :mod:`~analysis.models.build` :func:`build_models`, checkpoints and carry-over;
- :mod:`~analysis.models.artifacts` :func:`load_metrics`, :func:`load_oof` and the typed
  accessors over ``metrics.json``.

Models (:data:`MODEL_NAMES`): the original's Linear Regression and 300-tree Random Forest,
XGBoost with library defaults, XGBoost tuned by Optuna *inside* each training fold, and three
attempts at doing better (a scikit-learn HistGradientBoosting, a hurdle model for the
zero-popularity mass, and, for ``known_artist``, a tuned XGBoost constrained to rise with the
artist's mean popularity). Performance figures live in :mod:`analysis.bench`.

Importing this package loads the constants and the ``metrics.json`` readers only; the names
that need scikit-learn, XGBoost, MAPIE or Optuna (the zoo, training, conformal intervals,
champions) are imported from their module on first use, so a chapter that only reads
artifacts does not pay for them.
"""

from __future__ import annotations

import os

# OpenMP threads (XGBoost, HistGradientBoosting) spin while they wait. On a shared 2-core
# machine that turns a 3 s XGBoost fit into ~50 s (measured). Passive waiting changes speed
# only, never results. It must be set before an OpenMP runtime loads, hence before the imports
# (a submodule imported directly runs this package file first).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from typing import TYPE_CHECKING

from analysis._lazy import lazy_attributes
from analysis.labels import MODEL_LABELS
from analysis.models.artifacts import (
    MetricsSchemaError,
    budget,
    build_timings,
    champion_entry,
    champion_model,
    champion_names,
    champion_timings,
    check_schema,
    error_analysis_entry,
    finding_entry,
    has_model,
    interval_entry,
    load_metrics,
    load_oof,
    model_entry,
    model_label,
    model_metric,
    model_names,
    model_timings,
    n_splits,
    oof_models,
    original_results,
    protocol_entry,
    protocol_names,
    triage_entry,
    triage_metric,
    worst_coverage_gap,
)
from analysis.models.settings import (
    CHAMPION_MODELS,
    CONFIDENCE_LEVELS,
    COVERAGE_TOLERANCE,
    HIT_CLASSIFIER,
    HIT_THRESHOLD,
    MAX_TREE_DEPTH,
    MODEL_NAMES,
    ORIGINAL_RESULTS,
    ORIGINAL_RF_JOBLIB_BYTES,
    ORIGINAL_RF_SECONDS,
    POPULARITY_BANDS,
    RECIPE_MODELS,
    SCHEMA_VERSION,
    TOP_SHARE,
    TUNED_OBJECTIVE,
    Budget,
)

if TYPE_CHECKING:  # imported on first use by __getattr__ below
    from analysis.models.build import build_models
    from analysis.models.champion import (
        Champion,
        ChampionIntegrityError,
        load,
        load_champion,
        write_champion,
    )
    from analysis.models.conformal import apply_offsets, conformal_offsets
    from analysis.models.design import design_matrix
    from analysis.models.scoring import score_hit_probabilities, score_predictions
    from analysis.models.tuning import tune_xgboost
    from analysis.models.zoo import HurdleRegressor, make_hit_classifier, make_model

#: Public names whose module loads scikit-learn, XGBoost, MAPIE or Optuna: name -> module.
_LAZY: dict[str, str] = {
    "build_models": "build",
    "Champion": "champion", "ChampionIntegrityError": "champion", "load": "champion",
    "load_champion": "champion", "write_champion": "champion",
    "apply_offsets": "conformal", "conformal_offsets": "conformal",
    "design_matrix": "design",
    "score_hit_probabilities": "scoring", "score_predictions": "scoring",
    "tune_xgboost": "tuning",
    "HurdleRegressor": "zoo", "make_hit_classifier": "zoo", "make_model": "zoo",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


__all__ = [
    "CHAMPION_MODELS",
    "CONFIDENCE_LEVELS",
    "COVERAGE_TOLERANCE",
    "HIT_CLASSIFIER",
    "HIT_THRESHOLD",
    "MAX_TREE_DEPTH",
    "MODEL_LABELS",
    "MODEL_NAMES",
    "ORIGINAL_RESULTS",
    "ORIGINAL_RF_JOBLIB_BYTES",
    "ORIGINAL_RF_SECONDS",
    "POPULARITY_BANDS",
    "RECIPE_MODELS",
    "SCHEMA_VERSION",
    "TOP_SHARE",
    "TUNED_OBJECTIVE",
    "apply_offsets",
    "Budget",
    "budget",
    "build_models",
    "build_timings",
    "Champion",
    "champion_entry",
    "champion_model",
    "champion_names",
    "champion_timings",
    "ChampionIntegrityError",
    "check_schema",
    "conformal_offsets",
    "design_matrix",
    "error_analysis_entry",
    "finding_entry",
    "has_model",
    "HurdleRegressor",
    "interval_entry",
    "load",
    "load_champion",
    "load_metrics",
    "load_oof",
    "make_hit_classifier",
    "make_model",
    "MetricsSchemaError",
    "model_entry",
    "model_label",
    "model_metric",
    "model_names",
    "model_timings",
    "n_splits",
    "oof_models",
    "original_results",
    "protocol_entry",
    "protocol_names",
    "score_hit_probabilities",
    "score_predictions",
    "triage_entry",
    "triage_metric",
    "tune_xgboost",
    "worst_coverage_gap",
    "write_champion",
]
