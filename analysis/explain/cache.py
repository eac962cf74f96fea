"""Reading the cached explanations (``models/shap/``): what the chapters and the front page use.

Rendering never computes a SHAP value: :func:`load_explanations` reads the frames and the
summary that :func:`analysis.explain.build_explanations` wrote, and :func:`dependence_frame`
cuts one chart's data from them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import paths
from analysis.explain.groups import feature_group

__all__ = [
    "SCHEMA_VERSION",
    "SUMMARY_FILE",
    "Explanations",
    "dependence_frame",
    "load_explanations",
    "metrics_fingerprint",
    "protocol_summaries",
    "protocol_summary",
]

SUMMARY_FILE = "summary.json"
SCHEMA_VERSION = 1


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


def protocol_summaries(summary: Mapping) -> Mapping[str, Mapping]:
    """Every explained champion's section of ``summary.json``, by protocol (build order).

    Examples
    --------
    >>> list(protocol_summaries({"protocols": {"known_artist": {}, "cold_start": {}}}))
    ['known_artist', 'cold_start']
    """
    try:
        return summary["protocols"]
    except KeyError:
        raise KeyError("summary.json has no protocols") from None


def protocol_summary(summary: Mapping, protocol: str) -> Mapping:
    """One champion's section of ``summary.json``: ``champion``, ``checks``, orders,
    ``dependence_features``, ``interaction_partners``, ``permutation``, ``feature_ladder`` and
    (``known_artist``) ``artist_history``. A missing protocol is reported by its path.

    Examples
    --------
    >>> protocol_summary({"protocols": {"cold_start": {"checks": {}}}}, "cold_start")
    {'checks': {}}
    >>> protocol_summary({"protocols": {}}, "cold_start")
    Traceback (most recent call last):
    ...
    KeyError: 'summary.json has no protocols.cold_start'
    """
    try:
        return protocol_summaries(summary)[protocol]
    except KeyError:
        raise KeyError(f"summary.json has no protocols.{protocol}") from None


@dataclass(frozen=True)
class Explanations:
    """The cached artifacts of :func:`analysis.explain.build_explanations` (what the chapters read).

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

    def protocol_summaries(self) -> Mapping[str, Mapping]:
        """Every champion's section of :attr:`summary`, by protocol (:func:`protocol_summaries`)."""
        return protocol_summaries(self.summary)

    def protocol_summary(self, protocol: str) -> Mapping:
        """One champion's section of :attr:`summary` (:func:`protocol_summary`)."""
        return protocol_summary(self.summary, protocol)


def load_explanations(models_dir: str | os.PathLike | None = None) -> Explanations:
    """Read ``models/shap/`` (written by :func:`analysis.explain.build_explanations`).

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
        partners = explanations.protocol_summary(protocol)["interaction_partners"]
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
