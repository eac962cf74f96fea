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
    ``pred_contribs=True``, ported to numba and run in float64
    (:func:`analysis.trees.tree_contributions`).
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

Layout
------
:mod:`~analysis.explain.groups` (drivers: columns summed into groups),
:mod:`~analysis.explain.sampling` (the stratified sample),
:mod:`~analysis.explain.importance` (permutation importance, the feature ladder),
:mod:`~analysis.explain.build` (the build that writes ``models/shap/``) and
:mod:`~analysis.explain.cache` (reading it). The trees themselves (the reader of XGBoost's dump
and the TreeSHAP port) are :mod:`analysis.trees`, shared with the browser export.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see analysis.models: speed only

from analysis.explain.build import (
    DEFAULT_INTERACTION_PAIR,
    DISPLAY_PER_MACRO,
    INTERACTION_PER_MACRO,
    SAMPLE_PER_MACRO,
    TOP_DEPENDENCE,
    build_explanations,
)
from analysis.explain.cache import (
    SCHEMA_VERSION,
    SUMMARY_FILE,
    Explanations,
    dependence_frame,
    load_explanations,
    metrics_fingerprint,
    protocol_summaries,
    protocol_summary,
)
from analysis.explain.groups import feature_group, feature_groups, group_contributions, mean_abs
from analysis.explain.importance import (
    LADDER_STEPS,
    PERMUTATION_FOLD,
    PERMUTATION_REPEATS,
    feature_ladder,
    grouped_permutation_importance,
    ladder_part,
)
from analysis.explain.sampling import stratified_sample
from analysis.labels import ARTIST_HISTORY_GROUP
from analysis.trees import (
    BIAS,
    IDENTITY_LINK_OBJECTIVES,
    interaction_values,
    parse_booster,
    tree_contributions,
    xgboost_contributions,
)

__all__ = [
    "ARTIST_HISTORY_GROUP",
    "BIAS",
    "DEFAULT_INTERACTION_PAIR",
    "DISPLAY_PER_MACRO",
    "IDENTITY_LINK_OBJECTIVES",
    "INTERACTION_PER_MACRO",
    "LADDER_STEPS",
    "PERMUTATION_FOLD",
    "PERMUTATION_REPEATS",
    "SAMPLE_PER_MACRO",
    "SCHEMA_VERSION",
    "SUMMARY_FILE",
    "TOP_DEPENDENCE",
    "Explanations",
    "build_explanations",
    "dependence_frame",
    "feature_group",
    "feature_groups",
    "feature_ladder",
    "group_contributions",
    "grouped_permutation_importance",
    "interaction_values",
    "ladder_part",
    "load_explanations",
    "mean_abs",
    "metrics_fingerprint",
    "parse_booster",
    "protocol_summaries",
    "protocol_summary",
    "stratified_sample",
    "tree_contributions",
    "xgboost_contributions",
]
