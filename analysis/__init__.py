"""Track Analytics: the library behind the report site.

The light, data-layer API is re-exported here; modeling, explanation and export live in their
own modules (``analysis.models``, ``analysis.explain``, ``analysis.export``) so that importing
the package does not pay for xgboost or shap.
"""

from analysis.cleaning import CleaningResult, clean_tracks
from analysis.data import (
    DATASET_SHA256,
    DatasetError,
    TrackData,
    fetch_raw,
    load_raw,
    load_tracks,
    locate_raw,
    verify_raw,
)
from analysis.genres import MACRO_GENRES, load_taxonomy, macro_genre_of
from analysis.schema import RAW_COLUMNS, TrackDataError, read_tracks_csv, validate_tracks

__all__ = [
    "DATASET_SHA256",
    "MACRO_GENRES",
    "RAW_COLUMNS",
    "CleaningResult",
    "DatasetError",
    "TrackData",
    "TrackDataError",
    "clean_tracks",
    "fetch_raw",
    "load_raw",
    "load_tracks",
    "load_taxonomy",
    "locate_raw",
    "macro_genre_of",
    "read_tracks_csv",
    "validate_tracks",
    "verify_raw",
]
