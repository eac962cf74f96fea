"""What a modeling build is set up with: thresholds, model names, fixed parameters, the
published results we compare against, and the :class:`Budget` (the models' display labels
are in :mod:`analysis.labels`).

Everything here is a constant decided before any fold was scored; no function in this
module computes a result. The other modules of :mod:`analysis.models` read them from here,
so a threshold or a parameter is written once.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.artifacts import versions
from analysis.models.blanking import INPUT_GROUPS
from analysis.models.recipes import TRANSFER_RECIPE, Recipe
from analysis.protocols import N_SPLITS, RANDOM_STATE

#: Popularity from which a track counts as a hit for the triage metrics.
HIT_THRESHOLD = 60

#: Share of tracks a triage shortlist keeps ("top 1% by predicted popularity").
TOP_SHARE = 0.01

#: Smallest genre whose within-genre Spearman enters a mean over genres (in-data and external).
MIN_GENRE_TRACKS = 20

#: Nominal coverages of the prediction intervals.
CONFIDENCE_LEVELS: tuple[float, ...] = (0.8, 0.9)

def level_key(level: float) -> str:
    """How a confidence level is spelled as a key of offsets and metrics.json.

    Examples
    --------
    >>> level_key(0.9), level_key(0.80)
    ('0.9', '0.8')
    """
    return f"{level:g}"


#: The issue's bound on per-macro-genre interval coverage: within 2 points of nominal.
COVERAGE_TOLERANCE = 0.02

#: The popularity scale; interval bounds are clipped to it.
POPULARITY_BOUNDS: tuple[float, float] = (0.0, 100.0)

#: Every model, in table order. ``xgboost_monotone`` runs under ``known_artist`` only,
#: ``xgboost_transfer`` (:data:`RECIPE_MODELS`) under ``cold_start`` only.
MODEL_NAMES: tuple[str, ...] = (
    "linear_regression",
    "random_forest",
    "xgboost",
    "xgboost_tuned",
    "hist_gradient_boosting",
    "xgboost_hurdle",
    "xgboost_monotone",
    "xgboost_transfer",
)

#: Models of the original's table, the only ones the leaky replica runs.
REPLICA_MODELS: tuple[str, ...] = ("linear_regression", "random_forest", "xgboost", "xgboost_tuned")

#: The model each champion is (exportable trees, no transformer in front). The new-artist
#: champion follows the recipe the transfer comparison chose
#: (:data:`~analysis.models.recipes.TRANSFER_RECIPE`, model ``xgboost_transfer``); the
#: known-artist champion was not part of that comparison and keeps the tuned model.
CHAMPION_MODELS: dict[str, str] = {"cold_start": "xgboost_transfer",
                                   "known_artist": "xgboost_tuned"}

#: Models that follow a :class:`~analysis.models.recipes.Recipe` (columns, training rows,
#: blanked inputs) with the fold's ``xgboost_tuned`` parameters; they run under ``cold_start``
#: only (a recipe is a cold-start model's).
RECIPE_MODELS: dict[str, Recipe] = {"xgboost_transfer": TRANSFER_RECIPE}

#: Models whose out-of-fold predictions carry conformal intervals.
INTERVAL_MODELS: tuple[str, ...] = ("xgboost_tuned", "xgboost_transfer")

#: Deepest tree the tuner may grow. Leaf-wise trees grow as deep as their leaves allow (the
#: uncapped champions reached depth 34), and XGBoost's own TreeSHAP (``pred_contribs``, which
#: shap returns for XGBoost models) then stops adding up to the prediction: measured on a
#: cold_start fold, 256-leaf trees miss additivity by 6e8 uncapped and by 5e-5 at depth 12.
MAX_TREE_DEPTH = 12

#: Loss of the tuned models. Popularity has a spike at 0 and long tails on both sides of any
#: prediction (compilation copies of hits sit near 0); squared error lets those tracks pull
#: every leaf. The pseudo-Huber loss is squared near the prediction and grows linearly beyond
#: ``huber_slope`` points, so the tails pull less: measured on the five cold_start folds with
#: the squared-error champion's parameters, R² stayed at 0.493 and MAE fell from 10.52 to
#: 10.27. Its prediction is still the sum of tree leaves (identity link), so export and
#: TreeSHAP are unchanged. The slope is tuned inside each training fold.
TUNED_OBJECTIVE = "reg:pseudohubererror"
HUBER_SLOPE_RANGE = (15.0, 60.0)

#: Inner fold (of each training fold) the tuner validates on. Calibration residuals of that
#: fold come from a model refit without it, with the parameters fixed.
TUNING_INNER_FOLD = 0

#: Settings every XGBoost model of the zoo shares.
XGB_DEFAULTS: dict = {"tree_method": "hist", "random_state": RANDOM_STATE}

#: The triage model: a classifier of hit = popularity >= :data:`HIT_THRESHOLD`. Ranking hits
#: is a different task from predicting popularity (a regression loss spends its effort on
#: every track's score, the zero-popularity mass included), and a classifier ranks them
#: better under both honest protocols.
#: Fixed parameters, set once before any outer fold was scored; not tuned.
HIT_CLASSIFIER = "xgboost_hit_classifier"
HIT_CLASSIFIER_PARAMS: dict = {
    "n_estimators": 400, "learning_rate": 0.05, "max_depth": 6, "min_child_weight": 20.0,
    "subsample": 0.8, "colsample_bytree": 0.6,
}

#: Everything the hit classifier is built with but its thread count (as recorded).
HIT_CLASSIFIER_SETTINGS: dict = {**XGB_DEFAULTS, **HIT_CLASSIFIER_PARAMS}

#: Inputs each protocol's hit classifier sees missing on part of its training rows
#: (:func:`analysis.models.blanking.blank_inputs`), so that on a crawl lacking them it is told
#: "unknown" instead of given a guess. The new-artist classifier follows the recipe the
#: transfer comparison's rule chose (``selection.hit_classifier`` in ``models/transfer.json``:
#: every input, each blanked on 30% of training rows); the known-artist classifier was not part
#: of that comparison and keeps every input always present.
HIT_CLASSIFIER_BLANKED: dict[str, tuple[str, ...]] = {
    "cold_start": INPUT_GROUPS, "known_artist": (),
}

#: File name of the hit classifier inside a champion's folder.
HIT_CLASSIFIER_FILE = "hit_classifier.ubj"

#: Fixed parameters of the untuned attempts (their rounds come from the :class:`Budget`).
HURDLE_PARAMS: dict = {
    "learning_rate": 0.08, "max_depth": 7, "subsample": 0.8,
    "colsample_bytree": 0.6, "min_child_weight": 5.0,
}
HGB_PARAMS: dict = {
    "learning_rate": 0.1, "max_leaf_nodes": 63, "min_samples_leaf": 40,
    "l2_regularization": 1.0, "early_stopping": False, "random_state": RANDOM_STATE,
}

#: The original's published table (R², MAE), for the "where we differ" callout.
ORIGINAL_RESULTS: dict[str, dict[str, float]] = {
    "linear_regression": {"r2": 0.252, "mae": 14.17},
    "random_forest": {"r2": 0.801, "mae": 4.86},
    "xgboost": {"r2": 0.756, "mae": 5.92},
    "xgboost_tuned": {"r2": 0.800, "mae": 5.11},
}

#: The original Random Forest's cost on this machine (issue 3), printed beside ours.
ORIGINAL_RF_SECONDS = 145.0
ORIGINAL_RF_JOBLIB_BYTES = int(1.8e9)

#: Popularity bands of the error analysis (left-closed, right-open; last band closed).
POPULARITY_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0", 0, 1), ("1-19", 1, 20), ("20-39", 20, 40), ("40-59", 40, 60), ("60-79", 60, 80),
    ("80-100", 80, 101),
)

#: Version of the layout of ``metrics.json`` this code writes and reads
#: (:func:`analysis.models.artifacts.check_schema`).
SCHEMA_VERSION = 1

#: Packages whose versions metrics.json and the champion manifests record.
VERSIONED_PACKAGES = ("numpy", "pandas", "scikit-learn", "xgboost", "mapie", "optuna", "scipy",
                      "pyarrow")


def recorded_versions() -> dict[str, str]:
    """Versions of :data:`VERSIONED_PACKAGES`, as metrics.json and the manifests record them."""
    return versions(VERSIONED_PACKAGES)


@dataclass(frozen=True)
class Budget:
    """How much work a build does; the defaults are the committed build's.

    Attributes
    ----------
    n_trials : int
        Optuna trials per tuning (once inside each outer training fold).
    max_trees : int
        Upper bound on trees for tuned models.
    tuning_rows : float
        Share of the tuner's fitting part used by each trial (the validation part is always
        whole); the chosen parameters are then refit on the entire training fold.
    fixed_rounds : int
        Boosting rounds of the untuned attempts (HistGradientBoosting iterations, trees of
        each part of the hurdle model).
    calibration_folds : int
        Grouped inner folds whose out-of-group residuals calibrate the conformal offsets
        (all of them by default; 1 would be split conformal on a single inner fold). Three
        of five save a minute of build time but left 80% intervals 2.2 points over nominal in
        one macro-genre per protocol (2.0 at worst with all five).
    random_forest_trees : int
        The original's 300.
    n_splits : int
        Outer (and inner) folds.
    n_jobs : int
        Cores the build uses (<= 2 here): with more than one, a model's outer folds run side
        by side, one thread each; the Random Forests, the hit classifier, the champions and
        the findings' refits use the threads inside one fit instead. Results do not depend on
        it; tiny test builds use 1, where process start-up would dominate.
    """

    n_trials: int = 6
    max_trees: int = 1000
    tuning_rows: float = 0.5
    fixed_rounds: int = 200
    calibration_folds: int = N_SPLITS
    random_forest_trees: int = 300
    n_splits: int = N_SPLITS
    n_jobs: int = 2


#: The committed build's budget (the default of every function that takes one).
DEFAULT_BUDGET = Budget()
