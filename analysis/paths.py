"""Where the project keeps things on disk.

Every path the library writes to or reads from is derived here, so a reader can see
the whole layout in one place and tests can point it elsewhere.
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


def data_dir() -> Path:
    """The data folder: ``$TRACK_ANALYTICS_DATA_DIR`` or ``<project>/data``."""
    return Path(os.environ.get(DATA_DIR_ENV_VAR, PROJECT_ROOT / "data"))


def raw_dir() -> Path:
    """Cache for the downloaded raw file (gitignored)."""
    return data_dir() / "raw"


def processed_dir() -> Path:
    """Cache for cleaned Parquet tables, keyed by the raw file's hash (gitignored)."""
    return data_dir() / "processed"


#: Committed model artifacts: metrics, out-of-fold predictions, champions, exports.
MODELS_DIR = PROJECT_ROOT / "models"
