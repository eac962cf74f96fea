"""Scoring accepted rows: the output columns of the triage, one chunk at a time.

Everything here is row-wise (a row's scores never depend on the other rows), so the command
line, which scores a file chunk by chunk, the in-memory :func:`analysis.triage.triage` and the
Spark job, which scores partition by partition, give the same numbers for the same row.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from analysis import paths
from analysis.genres import load_taxonomy
from analysis.schema import AUDIO_COLUMNS, UNIT_INTERVAL_COLUMNS

__all__ = [
    "LIKE_COLUMNS",
    "OOD_COLUMNS",
    "OUTPUT_COLUMNS",
    "REASON_COLUMNS",
    "ScoringContext",
    "StaleExportError",
    "load_context",
    "score_rows",
]

#: The numeric inputs the out-of-distribution rule checks, in the order ``ood_reason`` lists
#: them (then ``track_genre`` when it is missing).
OOD_COLUMNS: tuple[str, ...] = (*AUDIO_COLUMNS, "duration_ms")
#: The training range of the rule: quantiles of the champion export's ``feature_stats``.
OOD_QUANTILES: tuple[str, str] = ("0.005", "0.995")
#: What "sounds like" compares: the unit-interval audio features, loudness and tempo.
LIKE_COLUMNS: tuple[str, ...] = (*UNIT_INTERVAL_COLUMNS, "loudness", "tempo")
#: Identity columns copied from the input when present (empty otherwise).
IDENTITY_COLUMNS: tuple[str, ...] = ("track_id", "track_name", "artists", "album_name",
                                     "track_genre")
#: The ranked output, in order (``reason_1..3`` follow when reasons are computed).
OUTPUT_COLUMNS: tuple[str, ...] = (
    "rank", "line", *IDENTITY_COLUMNS, "macro_genre", "p_hit", "predicted_popularity",
    "lower_80", "upper_80", "lower_90", "upper_90", "out_of_distribution", "ood_reason",
    "energy", "valence", "danceability", "tempo", "duration_ms", "explicit",
)
REASON_COLUMNS: tuple[str, ...] = ("reason_1", "reason_2", "reason_3")


class StaleExportError(RuntimeError):
    """The committed browser export was not made from the champion that is loaded."""


@dataclass
class ScoringContext:
    """What scoring needs, loaded once: the champion and the numbers shared with the browser.

    Attributes
    ----------
    model : str
        The champion's name (``cold_start`` or ``known_artist``).
    champion : analysis.models.Champion
    bounds : dict
        ``{column: (low, high)}``, the training tracks' [0.5%, 99.5%] range of each
        :data:`OOD_COLUMNS` input, read from ``models/export/<model>.json``.
    export_champion : dict
        The export's record of its champion (checked against the loaded one).
    like_scale : dict or None
        ``{column: (mean, sd)}`` of :data:`LIKE_COLUMNS` (:func:`like_scale`), loaded on
        first use.
    models_dir : path-like or None
        Where the champion and its exports were read (None: the committed ``models/``).
    """

    model: str
    champion: object
    bounds: dict[str, tuple[float, float]]
    export_champion: dict
    feature_stats: dict = field(repr=False, default_factory=dict)
    like_scale: dict[str, tuple[float, float]] | None = None
    models_dir: str | os.PathLike | None = None


def load_context(model: str = "cold_start", *, models_dir: str | os.PathLike | None = None
                 ) -> ScoringContext:
    """Load the champion (hash-checked) and its browser export's training ranges.

    Raises
    ------
    StaleExportError
        If ``models/export/<model>.json`` records another champion (model type, trees,
        training rows, data hash or feature list): the browser would flag other tracks as out
        of distribution than the command line. Re-run ``make export``.
    """
    from analysis.models import load

    champion = load(model, models_dir=models_dir)
    export_path = paths.export_dir(models_dir) / f"{model}.json"
    if not export_path.is_file():
        raise StaleExportError(f"{export_path}: no browser export of the {model} champion; "
                               "run `make export`")
    document = json.loads(export_path.read_text("utf-8"))
    meta = document["metadata"]
    recorded = meta.get("champion", {})
    loaded = {"model": champion.manifest.get("model"),
              "n_trees": int(champion.booster.num_boosted_rounds()),
              "n_train": champion.manifest.get("n_train"),
              "data_sha256": champion.manifest.get("data_sha256")}
    differs = {k: (recorded.get(k), v) for k, v in loaded.items() if recorded.get(k) != v}
    if list(document.get("feature_names", [])) != list(champion.popularity_features):
        differs["feature_names"] = ("export's list", "champion's list")
    if differs:
        detail = "; ".join(f"{k}: export {a!r}, champion {b!r}" for k, (a, b) in differs.items())
        raise StaleExportError(
            f"{export_path} was not exported from the loaded {model} champion ({detail}); "
            "run `make export` so the browser and Python use the same ranges")
    stats = meta["feature_stats"]
    bounds = {}
    for column in OOD_COLUMNS:
        quantiles = stats[column]["quantiles"]
        bounds[column] = (float(quantiles[OOD_QUANTILES[0]]), float(quantiles[OOD_QUANTILES[1]]))
    return ScoringContext(model=model, champion=champion, bounds=bounds,
                          export_champion=recorded, feature_stats=stats, models_dir=models_dir)


def like_scale(context: ScoringContext) -> dict[str, tuple[float, float]]:
    """Mean and sd of each :data:`LIKE_COLUMNS` feature over the training tracks.

    Read from the export's ``feature_stats`` (``mean`` and ``sd``) when it has both for every
    column, else from the triage page's committed spec (``models/triage/triage_spec.json``,
    ``sounds_like``), so the browser and Python standardise with the same numbers and
    neither needs the dataset; computed once from the cleaned tracks
    (:func:`analysis.data.load_tracks`, population sd) only where neither file has them.
    """
    if context.like_scale is None:
        stats = context.feature_stats
        if all({"mean", "sd"} <= set(stats.get(c, {})) for c in LIKE_COLUMNS):
            context.like_scale = {c: (float(stats[c]["mean"]), float(stats[c]["sd"]))
                                  for c in LIKE_COLUMNS}
        else:
            context.like_scale = _spec_scale(context.models_dir) or dict(_training_scale())
    return context.like_scale


def _spec_scale(models_dir: str | os.PathLike | None) -> dict[str, tuple[float, float]] | None:
    """The "sounds like" standardisation the triage page uses, if its spec is there."""
    from analysis.export.triage_spec import SPEC_FILE, triage_dir

    path = triage_dir(models_dir) / SPEC_FILE
    if not path.is_file():
        return None
    stats = json.loads(path.read_text("utf-8")).get("sounds_like", {})
    if list(stats.get("features", [])) != list(LIKE_COLUMNS):
        return None
    return {c: (float(m), float(sd)) for c, m, sd in zip(LIKE_COLUMNS, stats["mean"],
                                                         stats["sd"], strict=True)}


@cache
def _training_scale() -> tuple[tuple[str, tuple[float, float]], ...]:
    from analysis.data import load_tracks

    tracks = load_tracks().tracks
    return tuple((c, (float(tracks[c].astype("float64").mean()),
                      float(tracks[c].astype("float64").std(ddof=0)))) for c in LIKE_COLUMNS)


@cache
def _macro_of() -> dict[str, str]:
    taxonomy = load_taxonomy()
    return dict(zip(taxonomy["genre"].astype(str), taxonomy["macro_genre"].astype(str),
                    strict=True))


def score_rows(valid: pd.DataFrame, context: ScoringContext, *, name: str = "<DataFrame>"
               ) -> pd.DataFrame:
    """The output columns (all but ``rank`` and the reasons) of validated rows.

    Parameters
    ----------
    valid : pandas.DataFrame
        Accepted rows in the raw dataset's columns and contract dtypes, indexed by ``line``
        (:func:`analysis.schema.partition_tracks`), genres already checked.
    context : ScoringContext

    Returns
    -------
    pandas.DataFrame
        One row per input row, same index, columns :data:`OUTPUT_COLUMNS` without ``rank``.
    """
    champion = context.champion
    n = len(valid)
    X = champion.features(valid.reset_index(drop=True), name=name, validated=True)
    # Column-major as pandas holds it: XGBoost reads the strides (same predictions, bit for
    # bit), and a row-major copy of the 50,000 x 166 matrix cost more than a booster's pass.
    prediction = champion.predict_matrix(X)
    p_hit = np.asarray(champion.hit_booster.inplace_predict(X.to_numpy(dtype=np.float64)),
                       dtype="float64")
    lower_80, upper_80 = champion.interval_bounds(X, prediction, confidence=0.8)
    lower_90, upper_90 = champion.interval_bounds(X, prediction, confidence=0.9)
    out: dict[str, object] = {"line": valid.index.to_numpy(dtype=np.int64)}
    for column in IDENTITY_COLUMNS:
        out[column] = (valid[column].astype("str").to_numpy(dtype=object, na_value=None)
                       if column in valid.columns else np.full(n, None, dtype=object))
    if "track_genre" in valid.columns:
        genre = valid["track_genre"].astype("string").str.strip()
        out["macro_genre"] = genre.map(_macro_of()).to_numpy(dtype=object, na_value=None)
    else:
        out["macro_genre"] = np.full(n, None, dtype=object)
    out.update(p_hit=p_hit, predicted_popularity=prediction, lower_80=lower_80,
               upper_80=upper_80, lower_90=lower_90, upper_90=upper_90)
    flagged, reasons = _out_of_distribution(valid, context.bounds)
    out["out_of_distribution"] = flagged
    out["ood_reason"] = reasons
    for column in ("energy", "valence", "danceability", "tempo"):
        out[column] = valid[column].to_numpy(dtype="float64")
    out["duration_ms"] = valid["duration_ms"].to_numpy(dtype="int64")
    out["explicit"] = (valid["explicit"].astype("boolean").array if "explicit" in valid.columns
                       else pd.array([pd.NA] * n, dtype="boolean"))
    frame = pd.DataFrame(out, index=valid.index)
    for column in (*IDENTITY_COLUMNS, "macro_genre", "ood_reason"):
        frame[column] = frame[column].astype("str")
    return frame


def _out_of_distribution(valid: pd.DataFrame, bounds: dict[str, tuple[float, float]]
                         ) -> tuple[np.ndarray, np.ndarray]:
    n = len(valid)
    offending = []
    for column in OOD_COLUMNS:
        low, high = bounds[column]
        values = valid[column].to_numpy(dtype="float64")
        offending.append((column, (values < low) | (values > high)))
    if "track_genre" not in valid.columns:
        offending.append(("track_genre", np.ones(n, dtype=bool)))
    flagged = np.zeros(n, dtype=bool)
    for _, mask in offending:
        flagged |= mask
    # Rows share few combinations of offending columns: name each combination once.
    code = np.zeros(n, dtype=np.int64)
    for bit, (_, mask) in enumerate(offending):
        code |= mask.astype(np.int64) << bit
    names = {value: ", ".join(column for bit, (column, _) in enumerate(offending)
                              if value >> bit & 1)
             for value in np.unique(code).tolist()}
    reasons = pd.Series(code).map(names).to_numpy(dtype=object)
    return flagged, reasons


def like_matrix(frame: pd.DataFrame, scale: dict[str, tuple[float, float]]) -> np.ndarray:
    """The standardised "sounds like" coordinates of rows (float64, one column per
    :data:`LIKE_COLUMNS` feature)."""
    return np.column_stack([(frame[c].to_numpy(dtype="float64") - scale[c][0]) / scale[c][1]
                            for c in LIKE_COLUMNS])
