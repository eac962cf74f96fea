"""Reading the model artifacts for the prose: ``metrics.json`` and the cached explanations.

Small readers shared by the Drivers, Conclusions and front-page facts, built on the typed
accessors of :mod:`analysis.models.artifacts` (the one place that knows the layout of
``metrics.json``) and of :mod:`analysis.explain.cache`. They read; they never compute a model
result.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.models import artifacts

#: The replica model quoted beside the original's headline, in order of preference.
REPLICA_PREFERENCE = ("random_forest", "xgboost_tuned", "xgboost")

#: The honest model set beside the original's leaky one: the same kind of model (tuned
#: XGBoost, every input, chosen on this crawl alone) under each honest protocol. A published
#: champion may follow a recipe chosen for other crawls instead, which explains less here.
LIKE_FOR_LIKE = "xgboost_tuned"


def metric(metrics: Mapping, protocol: str, model: str, name: str) -> tuple[float, float | None]:
    """A model's fold mean and sd of one metric."""
    return (artifacts.model_metric(metrics, protocol, model, name),
            artifacts.model_metric(metrics, protocol, model, name, "sd"))


def triage_metric(metrics: Mapping, protocol: str, name: str) -> tuple[float, float | None]:
    """A triage metric (hit ROC-AUC, top-1% precision) of the protocol's hit classifier."""
    return (artifacts.triage_metric(metrics, protocol, name),
            artifacts.triage_metric(metrics, protocol, name, "sd"))


def champion_model(metrics: Mapping, protocol: str) -> str:
    """The model type of a protocol's champion (``metrics.json`` ``champions``)."""
    return artifacts.champion_model(metrics, protocol)


def replica_model(metrics: Mapping) -> str:
    """The replica model quoted beside the original's headline: its Random Forest if run."""
    models = artifacts.model_names(metrics, "seed_replica")
    return next((name for name in REPLICA_PREFERENCE if name in models), models[0])


def champion_r2(metrics: Mapping, protocol: str) -> tuple[float, float | None]:
    """R² (mean, sd) of a protocol's champion."""
    return metric(metrics, protocol, champion_model(metrics, protocol), "r2")


def published_is_like_for_like(metrics: Mapping) -> bool:
    """Whether the published new-artist champion is :data:`LIKE_FOR_LIKE` itself (then its
    R² needs no sentence of its own)."""
    return champion_model(metrics, "cold_start") == LIKE_FOR_LIKE


def like_for_like_r2(metrics: Mapping, protocol: str) -> tuple[float, float | None]:
    """R² (mean, sd) of :data:`LIKE_FOR_LIKE` under a protocol: the honest answer to the
    leaky headline."""
    return metric(metrics, protocol, LIKE_FOR_LIKE, "r2")


def importance(explanations, protocol: str) -> pd.DataFrame:
    """One protocol's driver importance, most important first."""
    table = explanations.importance
    return table[table["protocol"] == protocol].sort_values("shap_rank").reset_index(drop=True)


def is_audio(group: str) -> bool:
    """Whether a driver group is one of Spotify's audio features."""
    from analysis.schema import AUDIO_COLUMNS

    return group in AUDIO_COLUMNS


def artist_history(explanations) -> dict:
    """The known-artist champion's artist history against the track (``summary.json``)."""
    return explanations.protocol_summary("known_artist")["artist_history"]
