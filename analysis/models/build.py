"""The modeling build: every protocol × model scored out of fold, the findings, the
champions, and the artifacts written under ``models/``.

Artifacts written by :func:`build_models`: ``metrics.json`` (every number, the data hash,
library versions, parameters, seeds; wall times only under ``"timings"``; read it through
:mod:`analysis.models.artifacts`), ``oof/<protocol>__<model>.parquet``, and
``champions/<name>/`` (:mod:`analysis.models.champion`). An interrupted build resumes from
per-model checkpoints; ``skip_random_forest`` carries the previous forests over.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.artifacts import atomic_write, dumps_json, sha256_file
from analysis.features import ArtistHistory, feature_names
from analysis.labels import MODEL_LABELS
from analysis.models.artifacts import load_metrics, model_entry, model_timings, protocol_entry
from analysis.models.blanking import BLANKED_SHARE, blank_inputs
from analysis.models.champion import write_champion
from analysis.models.conformal import conformal_offsets
from analysis.models.design import (
    Design,
    as_array,
    design_matrix,
    fold_signature,
    honest_design,
    replica_design,
)
from analysis.models.evaluation import Result, evaluate, evaluate_hit_classifier
from analysis.models.findings import (
    error_analysis,
    honest_artist_mean_alone,
    leak_audit,
    replica_genre_only_lr,
    sampling_artefact_finding,
)
from analysis.models.recipes import popularity_fit
from analysis.models.scoring import summarise_folds, summarise_values
from analysis.models.settings import (
    CHAMPION_MODELS,
    CONFIDENCE_LEVELS,
    DEFAULT_BUDGET,
    HIT_CLASSIFIER,
    HIT_CLASSIFIER_BLANKED,
    HIT_CLASSIFIER_SETTINGS,
    HIT_THRESHOLD,
    MODEL_NAMES,
    ORIGINAL_RESULTS,
    ORIGINAL_RF_JOBLIB_BYTES,
    ORIGINAL_RF_SECONDS,
    RECIPE_MODELS,
    REPLICA_MODELS,
    SCHEMA_VERSION,
    TOP_SHARE,
    Budget,
    recorded_versions,
)
from analysis.models.zoo import describe_model, make_hit_classifier, make_model
from analysis.protocols import (
    HONEST_PROTOCOLS,
    PROTOCOL_INFO,
    RANDOM_STATE,
    featured_artist_overlap,
)

#: Source files and packages whose content keys the build's checkpoints (with every module of
#: this package): a changed split, feature or model never resumes from a stale result.
_CHECKPOINT_SOURCES = ("protocols.py", "features")


def models_for(protocol: str, skip_random_forest: bool = False) -> list[str]:
    """The models a build scores under ``protocol``, in table order.

    Examples
    --------
    >>> models_for("seed_replica", skip_random_forest=True)
    ['linear_regression', 'xgboost', 'xgboost_tuned']
    >>> models_for("known_artist")[-1], models_for("cold_start")[-1]
    ('xgboost_monotone', 'xgboost_transfer')
    """
    names = list(REPLICA_MODELS) if protocol == "seed_replica" else [
        m for m in MODEL_NAMES
        if (m != "xgboost_monotone" or protocol == "known_artist")
        and (m not in RECIPE_MODELS or protocol == "cold_start")
    ]
    if skip_random_forest:
        names = [m for m in names if m != "random_forest"]
    return names


def build_models(
    out_dir: str | os.PathLike = paths.MODELS_DIR, *, skip_random_forest: bool = False,
    data=None, raw: pd.DataFrame | None = None, budget: Budget = DEFAULT_BUDGET,
    verbose: bool = True,
) -> dict:
    """Retrain every protocol × model and write ``metrics.json``, OOF files and champions.

    Everything is computed in memory first and written at the end, so bad input data (which
    :func:`analysis.data.load_tracks` rejects with :class:`analysis.schema.TrackDataError`)
    leaves ``out_dir`` untouched.

    Parameters
    ----------
    out_dir : path
        Usually the committed ``models/``.
    skip_random_forest : bool
        Leave out the 300-tree forests (the original's cost). Their previous results are
        carried over, flagged, when the previous build had the same data and folds.
    data : analysis.data.TrackData, optional
        Default: :func:`analysis.data.load_tracks` (``$TRACK_ANALYTICS_DATA``).
    raw : pandas.DataFrame, optional
        Validated raw rows for the replica; default :func:`analysis.data.load_raw`.
    budget : Budget
        Tuning trials etc.; tests pass a tiny one.
    verbose : bool
        Print progress (per fold).

    Returns
    -------
    dict
        The metrics written to ``metrics.json``.
    """
    log = print if verbose else (lambda message: None)
    start_build = time.perf_counter()
    load_start = os.getloadavg()[0]
    if data is None:
        from analysis.data import load_tracks

        data = load_tracks()
    if raw is None:
        from analysis.data import load_raw

        raw = load_raw()
    tracks = data.tracks.reset_index(drop=True)
    out_dir = Path(out_dir)
    previous = _read_previous(out_dir)
    checkpoint = checkpoint_dir(out_dir, data.sha256, budget)

    metrics: dict = {
        "schema_version": SCHEMA_VERSION,
        "data": {"sha256": data.sha256, "raw_rows": int(len(raw)), "tracks": int(len(tracks))},
        "versions": recorded_versions(),
        "random_state": RANDOM_STATE,
        "budget": {k: getattr(budget, k) for k in budget.__dataclass_fields__},
        "hit_threshold": HIT_THRESHOLD, "top_share": TOP_SHARE,
        "confidence_levels": list(CONFIDENCE_LEVELS),
        "original_results": ORIGINAL_RESULTS,
        "protocols": {}, "findings": {}, "champions": {},
    }
    timings: dict = {"protocols": {}, "champions": {}}
    resumed: list[str] = []  # (protocol/model) taken from an interrupted run's checkpoints
    oof_frames: dict[tuple[str, str], pd.DataFrame] = {}
    designs = {"seed_replica": replica_design(raw)}
    for protocol in HONEST_PROTOCOLS:
        designs[protocol] = honest_design(tracks, protocol, budget.n_splits)

    for protocol, design in designs.items():
        section = _protocol_section(design, tracks)
        timings["protocols"][protocol] = {}
        for name in models_for(protocol):
            if name == "random_forest" and skip_random_forest:
                carried = _carry_over(previous, protocol, name, section["fold_signature"])
                if carried is not None:
                    section["models"][name] = carried[0]
                    timings["protocols"][protocol][name] = carried[1]
                log(f"  {protocol} / random_forest: skipped"
                    + (" (previous results carried over)" if carried else ""))
                continue
            log(f"{protocol} / {name}")
            result = _checkpointed(
                checkpoint, (section["fold_signature"], protocol, name),
                lambda d=design, n=name: evaluate(d, n, budget, log), log, resumed)
            if name == "xgboost_tuned":  # a resumed result must still feed xgboost_monotone
                design.extra["tuned_params"] = {
                    fold: info["params"] for fold, info in enumerate(result.fold_info)}
            section["models"][name] = _model_record(design, name, result, budget)
            timings["protocols"][protocol][name] = _timing_record(result)
            oof_frames[protocol, name] = result.oof
            if protocol == "cold_start" and name == "xgboost":
                metrics["findings"]["sampling_artefacts"] = sampling_artefact_finding(
                    design, budget, result, log)
        if protocol in HONEST_PROTOCOLS:
            log(f"{protocol} / {HIT_CLASSIFIER}")
            result = _checkpointed(
                checkpoint, (section["fold_signature"], protocol, HIT_CLASSIFIER),
                lambda d=design: evaluate_hit_classifier(d, budget, log), log, resumed)
            section["triage"] = {
                "model": HIT_CLASSIFIER, "label": MODEL_LABELS[HIT_CLASSIFIER],
                "params": {"estimator": "XGBClassifier (binary:logistic), fixed parameters",
                           **HIT_CLASSIFIER_SETTINGS},
                "blanked_inputs": list(HIT_CLASSIFIER_BLANKED.get(protocol, ())),
                "blanked_share": BLANKED_SHARE,
                "metrics": summarise_folds(result.per_fold),
                "oof_file": paths.oof_name(protocol, HIT_CLASSIFIER),
            }
            timings["protocols"][protocol][HIT_CLASSIFIER] = _timing_record(result)
            oof_frames[protocol, HIT_CLASSIFIER] = result.oof
        metrics["protocols"][protocol] = section

    replica = designs["seed_replica"]
    metrics["findings"]["leak_audit"] = {
        "seed_replica": leak_audit(replica),
        "known_artist": honest_artist_mean_alone(designs["known_artist"]),
        "replica_linear_regression_genre_only": replica_genre_only_lr(replica),
    }

    champions = {}
    for protocol in HONEST_PROTOCOLS:
        tuned = model_entry(metrics, protocol, "xgboost_tuned")
        trained = train_champion(tracks, protocol, budget,
                                 oof_frames[protocol, CHAMPION_MODELS[protocol]],
                                 tuned["fold_params"], tuned["fold_tuning"], log)
        champions[protocol] = trained
        timings["champions"][protocol] = {"fit_seconds": trained["fit_seconds"],
                                          "hit_classifier_fit_seconds":
                                              trained["hit_fit_seconds"]}

    timings["random_forest_original"] = {"fit_seconds": ORIGINAL_RF_SECONDS,
                                          "joblib_bytes": ORIGINAL_RF_JOBLIB_BYTES}
    timings["build_seconds"] = time.perf_counter() - start_build
    timings["load_average"] = {"start": load_start, "end": os.getloadavg()[0]}
    timings["resumed_from_checkpoint"] = resumed

    # --- everything computed: write -------------------------------------------------------
    out_dir.mkdir(parents=True, exist_ok=True)
    for (protocol, name), frame in oof_frames.items():
        atomic_write(paths.oof_file(protocol, name, out_dir),
                     lambda p, f=frame: _write_parquet(f, p))
    for protocol, trained in champions.items():
        manifest = _replace_champion(out_dir, protocol, trained, data.sha256)
        metrics["champions"][protocol] = {
            "path": f"{paths.CHAMPIONS_DIR}/{protocol}", "model": CHAMPION_MODELS[protocol],
            "params": trained["params"], "tuning": trained["tuning"],
            "popularity_model": {**{k: v for k, v in manifest["popularity_model"].items()
                                    if k != "feature_names"},
                                 "columns": len(manifest["popularity_model"]["feature_names"])},
            "n_trees": trained["params"]["n_estimators"],
            "model_bytes": manifest["files"]["model.ubj"]["bytes"],
            "artifact_bytes": sum(f["bytes"] for f in manifest["files"].values()),
            "manifest_sha256": sha256_file(paths.champion_dir(protocol, out_dir) / "manifest.json"),
            "offsets": trained["offsets"],
        }
    timings["build_seconds_including_writes"] = time.perf_counter() - start_build
    metrics["timings"] = timings
    atomic_write(paths.metrics_file(out_dir), dumps_json(metrics).encode())
    shutil.rmtree(checkpoint, ignore_errors=True)
    log(f"build finished in {timings['build_seconds_including_writes']:.0f} s")
    return json.loads(dumps_json(metrics))


def _protocol_section(design: Design, tracks: pd.DataFrame) -> dict:
    """A protocol's section of metrics.json before its models are added."""
    protocol = design.protocol
    info = PROTOCOL_INFO[protocol]
    section = {
        "leaky": info.leaky, "unit": info.unit, "grouped_by": info.grouped_by,
        "question": info.question, "rows": int(len(design.y)),
        "n_folds": design.n_folds, "fold_signature": fold_signature(design),
        "feature_names": feature_names(protocol), "models": {},
    }
    if protocol == "seed_replica":
        section["test_rows"] = int((design.folds == 0).sum())
    else:
        section["fold_sizes"] = np.bincount(design.folds).tolist()
        section["n_groups"] = int(len(np.unique(design.groups)))
    if protocol == "cold_start":
        section["featured_artist_overlap"] = featured_artist_overlap(tracks, design.folds)
    return section


def _model_record(design: Design, name: str, result: Result, budget: Budget) -> dict:
    """One protocol × model entry of metrics.json."""
    entry = {
        "label": MODEL_LABELS[name],
        "params": describe_model(name, budget),
        "metrics": summarise_folds(result.per_fold),
        "oof_file": paths.oof_name(design.protocol, name),
    }
    if any("params" in f for f in result.fold_info):
        entry["fold_params"] = [f["params"] for f in result.fold_info]
    if any("tuning" in f for f in result.fold_info):
        entry["fold_tuning"] = [f["tuning"] for f in result.fold_info]
    if result.intervals is not None:
        entry["intervals"] = result.intervals
        entry["fold_conformal_offsets"] = [f["conformal_offsets"] for f in result.fold_info]
    if design.protocol != "seed_replica":
        entry["error_analysis"] = error_analysis(design, result.oof)
    return entry


def _timing_record(result: Result) -> dict:
    return {k: summarise_values(v) for k, v in result.timings.items() if v}


def train_champion(
    tracks: pd.DataFrame, protocol: str, budget: Budget, oof: pd.DataFrame, fold_params: list,
    fold_tuning: list, log: Callable[[str], None],
) -> dict:
    """Fit the champion on all tracks and calibrate it from the protocol's OOF residuals.

    Parameters are those the tuner chose in the outer training fold whose grouped validation
    RMSE was lowest (inner scores only: no outer test label takes part in the choice). A
    champion that follows a recipe (:data:`CHAMPION_MODELS`, :data:`RECIPE_MODELS`) learns
    from the recipe's rows and columns (:func:`~analysis.models.recipes.fit_rows`). The
    conformal offsets come from the out-of-fold predictions ``oof`` of the same procedure,
    each made by a model that never saw the track's group.

    Returns
    -------
    dict
        What :func:`analysis.models.champion.write_champion` writes, plus fit times.
    """
    best = int(np.argmin([t["best_validation_rmse"] for t in fold_tuning]))
    params = dict(fold_params[best])
    history = ArtistHistory.fit(tracks) if protocol == "known_artist" else None
    X = design_matrix(tracks, protocol, n_splits=budget.n_splits)
    y = tracks["popularity"].to_numpy(dtype="float64")
    X_array = as_array(X)
    name = CHAMPION_MODELS[protocol]
    recipe = RECIPE_MODELS.get(name)
    if recipe is not None:
        params = recipe.regressor_params(params)
    X_fit, y_fit = popularity_fit(recipe, X, tracks)
    start = time.perf_counter()
    model = make_model(name, params=params, n_jobs=budget.n_jobs).fit(as_array(X_fit), y_fit)
    model.get_booster().feature_names = list(X_fit.columns)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    blanked = HIT_CLASSIFIER_BLANKED.get(protocol, ())
    X_hit = as_array(blank_inputs(X, blanked)) if blanked else X_array
    hit_model = make_hit_classifier(budget.n_jobs).fit(X_hit, y >= HIT_THRESHOLD)
    hit_model.get_booster().feature_names = list(X.columns)
    hit_fit_seconds = time.perf_counter() - start
    macro = tracks["macro_genre"].astype(str).to_numpy()
    aligned = oof.set_index("track_id").loc[tracks["track_id"].to_numpy()]
    offsets = conformal_offsets(aligned["y_pred"].to_numpy(dtype="float64"),
                                aligned["y_true"].to_numpy(dtype="float64"), macro)
    log(f"  champion {protocol}: {params['n_estimators']} trees, fit {fit_seconds:.1f} s")
    return {"model": model, "params": params, "hit_model": hit_model,
            "hit_fit_seconds": hit_fit_seconds, "hit_blanked": blanked,
            "tuning": {**fold_tuning[best], "chosen_from_outer_fold": best},
            "offsets": offsets, "history": history, "feature_names": list(X.columns),
            "recipe": recipe, "n_train": len(tracks), "n_learned": len(X_fit),
            "fit_seconds": fit_seconds}


def _replace_champion(out_dir: Path, protocol: str, trained: dict, data_sha256: str) -> dict:
    """Write a champion in a staging folder, then swap it in place of the previous one."""
    staging = Path(tempfile.mkdtemp(prefix=".champion-", dir=out_dir))
    try:
        manifest = write_champion(staging, protocol, trained, data_sha256)
        target = paths.champion_dir(protocol, out_dir)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staging, 0o755)  # mkdtemp makes folders private
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False, compression="zstd")


def checkpoint_dir(out_dir: Path, data_sha256: str, budget: Budget) -> Path:
    """Where an interrupted build keeps finished (protocol, model) results to resume from.

    Keyed by the output folder, the data, the budget, the library versions and the source of
    the modeling code (every module of this package, ``protocols.py`` and the ``features``
    package, read in a fixed order), so a changed input never reuses a stale result. It lives in the
    gitignored data folder and is deleted once the build has written its artifacts.
    """
    digest = hashlib.sha256()
    for part in (str(Path(out_dir).resolve()), data_sha256, repr(budget),
                 json.dumps(recorded_versions(), sort_keys=True)):
        digest.update(part.encode())
    for source in checkpoint_sources():
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return paths.build_checkpoints_dir() / digest.hexdigest()[:20]


def checkpoint_sources() -> list[Path]:
    """The source files that key :func:`checkpoint_dir`, in a fixed order: this package's
    modules sorted by name, then ``protocols.py`` and the ``features`` package's modules
    sorted by name (a package's every module counts, not only its ``__init__``)."""
    package = Path(__file__).parent
    library = package.parent
    extra = [sorted(path.glob("*.py")) if path.is_dir() else [path]
             for path in (library / name for name in _CHECKPOINT_SOURCES)]
    return [*sorted(package.glob("*.py")), *(source for group in extra for source in group)]


def _checkpointed(
    folder: Path, key: tuple, compute: Callable[[], Result], log, resumed: list
) -> Result:
    """Run ``compute`` unless an interrupted run of the same build already finished it.

    Resumed (protocol, model) pairs are appended to ``resumed``: their compute time is not
    in this run's wall time, which the benchmark must know.
    """
    import pickle

    path = folder / (hashlib.sha256(repr(key).encode()).hexdigest()[:20] + ".pkl")
    if path.is_file():
        log(f"  resumed {key[1]} / {key[2]} from {path.parent.name}")
        resumed.append(f"{key[1]}/{key[2]}")
        with open(path, "rb") as fh:
            return pickle.load(fh)
    result = compute()
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda p: p.write_bytes(pickle.dumps(result)))
    return result


def _read_previous(out_dir: Path) -> dict | None:
    """The metrics.json a previous build left in ``out_dir``, if it is one this code reads."""
    try:
        return load_metrics(out_dir)
    except (OSError, ValueError, AttributeError):  # MetricsSchemaError is a ValueError
        return None


def _carry_over(previous, protocol, name, signature):
    """The previous build's record and timings of ``protocol`` × ``name``, flagged as reused,
    when that build split the same rows the same way; else None."""
    try:
        if protocol_entry(previous, protocol)["fold_signature"] != signature:
            return None
        entry = dict(model_entry(previous, protocol, name))
        timing = model_timings(previous, protocol, name)
    except (KeyError, TypeError, AttributeError):
        return None
    if timing is None:
        return None
    entry["reused_from_previous_build"] = True
    return entry, timing

