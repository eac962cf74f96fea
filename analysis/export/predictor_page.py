"""The predictor page's exports: the champions plus everything the page's controls need.

``chapters/06-predictor.qmd`` reads nothing but ``models/export/``: each champion as a tree
document (:mod:`analysis.export.trees_json`) whose ``metadata`` carries the page's wording,
controls, feature ranges, interval offsets, hit classifier and presets, the champion's scores
on other crawls (from ``models/external.json``, when it is there), the reference tracks for
the nearest-neighbour list and the density warning, and the sha256 manifest.
:func:`export_champions` (``python -m analysis.cli export``) writes them all. The triage page
(``chapters/08-triage.qmd``) reads the same model files.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis import paths
from analysis.artifacts import atomic_write
from analysis.export.compact_json import compact_number, dumps_compact, raw_rows
from analysis.export.manifest import manifest_entry, read_manifest, write_manifest
from analysis.export.trees_json import build_document, export_xgboost, predict_exported
from analysis.labels import (
    CONTROL_LABELS,
    EXTERNAL_SET_LABELS,
    EXTERNAL_SET_SHORT_NAMES,
    KNOWN_ARTIST_SUBSET,
    PREDICTOR_MODEL_NAMES,
    external_scope,
)

__all__ = [
    "NEIGHBOUR_FEATURES",
    "PAGE_FORMAT",
    "PAGE_VERSION",
    "PRESET_MACROS",
    "REFERENCE_FILE",
    "REFERENCE_TRACKS",
    "SELECTABLE_MODELS",
    "champion_matrix",
    "export_champions",
    "load_export_manifest",
]

#: ``metadata["page_format"]`` of a model exported for ``chapters/06-predictor.qmd``.
PAGE_FORMAT = "track-analytics-predictor"
#: Bumped whenever ``js/page.js`` could misread metadata written by a newer exporter.
PAGE_VERSION = 1
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
# How a feature's control is shown, where it differs from a slider in the feature's own unit:
# sliders with their display unit, factor from display to model value and step; whole-number
# inputs and toggles with the word shown beside them.
_RANGES = {
    "duration_ms": ("min", 60000.0, 0.05), "loudness": ("dB", 1.0, 0.1),
    "tempo": ("BPM", 1.0, 1.0), "artist_mean_popularity": ("popularity 0-100", 1.0, 0.5),
    "artist_max_popularity": ("popularity 0-100", 1.0, 1.0),
}
_INTEGERS = {
    "key": "pitch class", "time_signature": "beats per bar", "n_artists": "artists",
    "title_length": "characters", "album_length": "characters",
    "artist_n_tracks": "other tracks",
}
_TOGGLES = {"mode": "major", "explicit": "explicit"}
# feature -> (control kind, display unit, factor from display to model value, step)
_DISPLAY = {
    **{name: ("range", *shown) for name, shown in _RANGES.items()},
    **{name: ("integer", unit, 1.0, 1.0) for name, unit in _INTEGERS.items()},
    **{name: ("toggle", word, 1.0, 1.0) for name, word in _TOGGLES.items()},
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


def _as_raw_tracks(tracks: Any) -> Any:
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
            "feature": name, "label": CONTROL_LABELS.get(name, name.capitalize()),
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
        "X": raw_rows(values[chosen],
                      lambda row: [compact_number(repr(_sig(v, 5))) for v in row]),
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
    raw = _as_raw_tracks(chosen)
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


def _honest_metrics(metrics: Mapping[str, Any], protocol: str) -> dict[str, Any]:
    """R², MAE (mean ± sd over the protocol's grouped folds) of the champion's model type."""
    from analysis.models import champion_model, model_entry

    model = champion_model(metrics, protocol)
    entry = model_entry(metrics, protocol, model)["metrics"]
    out = {"source": f"models/metrics.json: protocols.{protocol}.models.{model}",
           "protocol": protocol}
    for key in ("r2", "mae", "rmse", "spearman", "hit_auc"):
        if key in entry and entry[key].get("mean") is not None:
            out[key] = _sig(entry[key]["mean"], 4)
            if entry[key].get("sd") is not None:
                out[f"{key}_sd"] = _sig(entry[key]["sd"], 3)
    return out


#: The scores a page quotes per external set, as ``external.json`` names them.
_EXTERNAL_FIELDS: dict[str, tuple[str, ...]] = {
    "music_genre": ("n", "r2", "spearman", "spearman_within_genre", "hit_auc",
                    "interval_coverage", "interval_mean_width"),
    "billboard": ("n", "hit_auc", "prediction_auc"),
}


def _external_validation(external: Mapping[str, Any] | None, metrics: Mapping[str, Any],
                         protocol: str) -> dict[str, Any] | None:
    """The champion's scores on other crawls, beside its out-of-fold ones, for the pages.

    ``None`` without ``external.json``. The cold-start champion is scored on every set; the
    known-artist one on the music_genre tracks whose artist this crawl knows (its artist
    history needs one). Names and scopes come from :mod:`analysis.labels`.

    Raises
    ------
    RuntimeError
        If ``external.json`` scored another champion than ``metrics.json`` names (rebuild it
        with ``python -m analysis.cli external`` before exporting).
    """
    if external is None:
        return None
    from analysis.external import (
        external_metrics,
        in_data_metrics,
        interval_level,
        known_artist_entry,
        scored_champion,
        set_names,
    )
    from analysis.models import champion_entry

    scored = scored_champion(external, protocol)["manifest_sha256"]
    if scored != champion_entry(metrics, protocol)["manifest_sha256"]:
        raise RuntimeError(f"models/external.json scored another {protocol} champion than "
                           "models/metrics.json names; run python -m analysis.cli external "
                           "first; nothing written")

    def pick(scores: Mapping[str, Any], name: str) -> dict[str, Any]:
        return {k: scores[k] if k == "n" else _sig(scores[k], 4)
                for k in _EXTERNAL_FIELDS[name] if scores.get(k) is not None}

    sets = []
    for name in set_names(external):
        if protocol == "cold_start":
            scores, subset = external_metrics(external, name, protocol), None
        elif name == "music_genre":
            scores, subset = known_artist_entry(external)[protocol], KNOWN_ARTIST_SUBSET
        else:
            continue
        sets.append({"name": name, "label": EXTERNAL_SET_LABELS[name],
                     "short_name": EXTERNAL_SET_SHORT_NAMES[name],
                     "scope": external_scope(name), "subset": subset, **pick(scores, name)})
    here = in_data_metrics(external, protocol)
    return {
        "source": "models/external.json (python -m analysis.cli external)",
        "interval_level": interval_level(external),
        "in_data": {k: _sig(here[k], 4) for k in _EXTERNAL_FIELDS["music_genre"]
                    if k != "n"},
        "sets": sets,
    }


def _hit_classifier(
    champion: Any, X: Any, metrics: Mapping[str, Any], protocol: str
) -> dict[str, Any]:
    """The champion's hit classifier as an embedded tree document, checked like the trees.

    P(popularity >= threshold) is the classifier's own output (``binary:logistic``): the
    browser evaluates it with the same ``predict`` as the popularity trees. Its honest
    triage metrics come from ``metrics.json`` (out-of-fold, the protocol's folds).
    """
    import xgboost as xgb

    from analysis.models import HIT_THRESHOLD, triage_metric

    feature_names = list(champion.feature_names)
    doc = json.loads(build_document(champion.hit_booster, feature_names, {}))
    python_p = champion.hit_booster.predict(xgb.DMatrix(X.to_numpy(dtype=np.float64),
                                                        feature_names=feature_names))
    exported_p = predict_exported(doc, X)
    diff = float(np.max(np.abs(python_p - exported_p)))
    if diff > 1e-6:
        raise RuntimeError(f"{champion.name}: exported hit classifier differs from Python by "
                           f"{diff:.2e}; nothing written")
    triage = {k: _sig(triage_metric(metrics, protocol, k), 4)
              for k in ("hit_auc", "top1_precision", "brier", "hit_rate")}
    triage["source"] = f"models/metrics.json: protocols.{protocol}.triage"
    return {
        "threshold": HIT_THRESHOLD,
        "model": doc,
        "metrics": triage,
        "max_abs_probability_diff": _sig(diff, 3),
        "method": f"XGBoost classifier of popularity >= {HIT_THRESHOLD} on the same inputs, "
                  f"trained on every track of the protocol ({protocol})",
    }


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
        champion's by more than 0.005, or ``external.json`` scored other champions (nothing
        is written then).

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
    ``artist_history`` (known_artist: prior mean and smoothing), ``presets`` and, when
    ``models_dir`` holds ``external.json``, ``external_validation`` (the champion's scores on
    other crawls beside its out-of-fold ones: ``interval_level``, ``in_data``, ``sets``, each
    set with its ``label``, ``short_name``, ``scope`` and, for the known-artist champion,
    the ``subset`` of tracks scored).

    .. warning:: Reads the full cleaned data and evaluates both champions on every track
       twice (XGBoost and the Python reader of the export): about a minute on two cores.
    """
    from sklearn.metrics import r2_score

    from analysis.features import genre_column, macro_column
    from analysis.genres import MACRO_GENRES, load_taxonomy
    from analysis.models import load as load_champion
    from analysis.models import load_metrics, n_splits

    log = print if verbose else (lambda *a, **k: None)
    models_dir = paths.resolve_models_dir(models_dir)
    out_dir = Path(out_dir) if out_dir is not None else paths.export_dir(models_dir)
    names = list(names) if names is not None else list(SELECTABLE_MODELS)
    if tracks is None:
        from analysis.data import load_tracks

        tracks = load_tracks().tracks
    tracks = tracks.reset_index(drop=True)
    metrics = load_metrics(models_dir)
    champions = {name: load_champion(name, models_dir=models_dir) for name in names}
    external = None
    if paths.external_file(models_dir).is_file():
        from analysis.external import load_external

        external = load_external(models_dir)

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
        X = champion_matrix(champion, tracks, n_splits=n_splits(metrics))
        if base_X is None or champion.protocol == "cold_start":
            base_X = X
        booster = champion.booster
        feature_names = list(champion.popularity_features)
        python_pred = champion.predict_matrix(X)
        doc = json.loads(build_document(booster, feature_names, {}))
        exported_pred = predict_exported(doc, X[feature_names]).astype(np.float64)
        r2_python, r2_exported = r2_score(y, python_pred), r2_score(y, exported_pred)
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
            # every input either model reads (the hit classifier reads the whole matrix)
            "controls": _control_specs(list(champion.feature_names), stats),
            "artist_history": (
                {"global_mean": _sig(champion.artist_history.global_mean, 9),
                 "smoothing": champion.artist_history.smoothing}
                if champion.artist_history is not None else None),
            "presets": [{**{k: v for k, v in p.items() if k != "inputs"},
                         "inputs": p["inputs"][name]} for p in presets],
            "reference_file": REFERENCE_FILE,
        }
        validation = _external_validation(external, metrics, champion.protocol)
        if validation is not None:  # a build without external.json writes no key at all
            meta["external_validation"] = validation
        documents[name] = (booster, feature_names, meta)
        log(f"{name}: R² python {r2_python:.6f}, exported {r2_exported:.6f} "
            f"(max |diff| {check['max_abs_prediction_diff']})")

    reference, _ = _reference_table(tracks, base_X, n=reference_tracks,
                                    random_state=random_state)
    entries = []
    for name, (booster, feature_names, meta) in documents.items():
        entries.append(export_xgboost(booster, feature_names=feature_names,
                                      path=out_dir / f"{name}.json", metadata=meta))
    reference_bytes = dumps_compact(reference, indent="").encode("utf-8")
    atomic_write(out_dir / REFERENCE_FILE, reference_bytes)
    entries.append(manifest_entry(REFERENCE_FILE, reference_bytes))
    write_manifest(entries, out_dir / "manifest.json")
    total = sum(e["gzip_bytes"] for e in entries)
    for e in entries:
        log(f"  {e['file']}: {e['bytes']:,} bytes, {e['gzip_bytes']:,} gzip")
    log(f"  total payload {total:,} bytes gzip")
    return {"files": entries, "accuracy": accuracy, "gzip_bytes": total}


def load_export_manifest(out_dir: str | os.PathLike | None = None) -> dict[str, dict]:
    """Entries of ``models/export/manifest.json`` keyed by file name."""
    folder = Path(out_dir) if out_dir is not None else paths.export_dir()
    return read_manifest(folder / "manifest.json")
