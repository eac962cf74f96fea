"""Where the project keeps things on disk.

Every path the library writes to or reads from is derived here, so a reader can see the whole
layout in one place and tests can point it elsewhere: the data caches follow
``$TRACK_ANALYTICS_DATA_DIR``, and every function over the model artifacts takes an optional
``models_dir`` (default: the committed ``models/``).

Layout of ``models/`` (committed)::

    metrics.json                     every number of the modeling build
    oof/<protocol>__<model>.parquet  out-of-fold predictions
    champions/<name>/                champion model files + manifest with SHA-256
    shap/                            cached explanations of the champions
    export/                          browser models for the predictor page + manifest
    external.json                    the champions scored on other crawls (issue 13)
    transfer.json                    model recipes compared for what transfers (issue 13)
"""

from __future__ import annotations

import os
from pathlib import Path

#: Root of the checkout (the folder holding ``_quarto.yml``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable naming an explicit raw dataset file (plain or gzip CSV).
DATA_ENV_VAR = "TRACK_ANALYTICS_DATA"

#: Environment variable that moves the whole ``data/`` folder (raw cache and processed cache).
DATA_DIR_ENV_VAR = "TRACK_ANALYTICS_DATA_DIR"

#: Environment variable naming a folder that holds the external crawls' files
#: (:mod:`analysis.external.sources`); every file must then be there.
EXTERNAL_ENV_VAR = "TRACK_ANALYTICS_EXTERNAL"

#: The verified copies of the external crawls shared by the developers' machines and CI
#: (beside the main dataset, ``../shared/data/``); used when it exists.
SHARED_EXTERNAL_DIR = PROJECT_ROOT.parent / "shared" / "data" / "external"

#: Committed model artifacts: metrics, out-of-fold predictions, champions, exports.
MODELS_DIR = PROJECT_ROOT / "models"

#: Executable chapters of the site (``NN-slug.ipynb`` / ``.qmd``).
CHAPTERS_DIR = PROJECT_ROOT / "chapters"

#: Build outputs the pages load at run time (plotly.js, the DataTables bundle; gitignored).
ASSETS_DIR = PROJECT_ROOT / "assets"

#: Names inside ``models/``. ``metrics.json`` stores OOF locations relative to ``models/``
#: (see :func:`oof_name`), so these names are part of the artifact format.
METRICS_FILE = "metrics.json"
OOF_DIR = "oof"
CHAMPIONS_DIR = "champions"
SHAP_DIR = "shap"
EXPORT_DIR = "export"
EXTERNAL_FILE = "external.json"
TRANSFER_FILE = "transfer.json"


def data_dir() -> Path:
    """The data folder: ``$TRACK_ANALYTICS_DATA_DIR`` or ``<project>/data``."""
    return Path(os.environ.get(DATA_DIR_ENV_VAR, PROJECT_ROOT / "data"))


def raw_dir() -> Path:
    """Cache for the downloaded raw file (gitignored)."""
    return data_dir() / "raw"


def processed_dir() -> Path:
    """Cache for cleaned Parquet tables, keyed by the raw file's hash (gitignored)."""
    return data_dir() / "processed"


def external_cache_dir() -> Path:
    """Cache for downloaded external crawls (gitignored), used when no other copy is found."""
    return data_dir() / "external"


def build_checkpoints_dir() -> Path:
    """Finished (protocol, model) results of an interrupted build, to resume from (gitignored)."""
    return data_dir() / "build-checkpoints"


def resolve_models_dir(models_dir: str | os.PathLike | None = None) -> Path:
    """``models_dir`` as a Path, or the committed ``models/`` when it is None."""
    return Path(models_dir) if models_dir is not None else MODELS_DIR


def metrics_file(models_dir: str | os.PathLike | None = None) -> Path:
    """``models/metrics.json``."""
    return resolve_models_dir(models_dir) / METRICS_FILE


def oof_name(protocol: str, model: str) -> str:
    """An OOF file's location relative to ``models/``, as ``metrics.json`` records it.

    Examples
    --------
    >>> oof_name("cold_start", "xgboost_tuned")
    'oof/cold_start__xgboost_tuned.parquet'
    """
    return f"{OOF_DIR}/{protocol}__{model}.parquet"


def oof_file(protocol: str, model: str, models_dir: str | os.PathLike | None = None) -> Path:
    """Out-of-fold predictions of one protocol × model."""
    return resolve_models_dir(models_dir) / oof_name(protocol, model)


def oof_dir(models_dir: str | os.PathLike | None = None) -> Path:
    """The folder of every OOF file."""
    return resolve_models_dir(models_dir) / OOF_DIR


def champion_dir(name: str, models_dir: str | os.PathLike | None = None) -> Path:
    """One champion's folder (model files and manifest)."""
    return resolve_models_dir(models_dir) / CHAMPIONS_DIR / name


def shap_dir(models_dir: str | os.PathLike | None = None) -> Path:
    """Cached explanations of the champions."""
    return resolve_models_dir(models_dir) / SHAP_DIR


def export_dir(models_dir: str | os.PathLike | None = None) -> Path:
    """Browser models of the predictor page."""
    return resolve_models_dir(models_dir) / EXPORT_DIR


def external_file(models_dir: str | os.PathLike | None = None) -> Path:
    """``models/external.json``: the champions scored on other crawls."""
    return resolve_models_dir(models_dir) / EXTERNAL_FILE


def transfer_file(models_dir: str | os.PathLike | None = None) -> Path:
    """``models/transfer.json``: which recipe transfers, and which in-data measure says so."""
    return resolve_models_dir(models_dir) / TRANSFER_FILE
