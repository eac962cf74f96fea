"""Validation of raw Spotify Tracks files and user catalogs.

Everything that enters the library from outside passes through here, so a bad file stops at
the door with one error that lists *every* offending line and column, instead of failing
three modules later with a pandas traceback. The contract is declared once as a pandera
schema (:data:`TRACKS_SCHEMA`); the readers in front of it turn parsing accidents (gzip,
encoding, delimiter, ragged rows, repeated headers, text in numeric columns) into the same
:class:`TrackDataError`.

Nothing here writes anywhere: the functions read their input and return a new frame.

Modules: ``contract`` (columns, the schema, :class:`Problem`, :class:`TrackDataError`),
``reading`` (bytes to text frames, checks, problem reports), ``tracks`` (all-or-nothing readers
of a tracks file or frame; a foreign CSV as text), ``partition`` (valid rows and per-row
problems, for the triage).
"""

from analysis.schema.contract import (
    AUDIO_COLUMNS,
    INDEX_NAME,
    RAW_COLUMNS,
    STRING_COLUMNS,
    TRACKS_SCHEMA,
    UNIT_INTERVAL_COLUMNS,
    Problem,
    TrackDataError,
)
from analysis.schema.partition import is_file_level, partition_csv_records, partition_tracks
from analysis.schema.tracks import read_text_table, read_tracks_csv, validate_tracks

__all__ = [
    "AUDIO_COLUMNS",
    "INDEX_NAME",
    "RAW_COLUMNS",
    "STRING_COLUMNS",
    "TRACKS_SCHEMA",
    "UNIT_INTERVAL_COLUMNS",
    "Problem",
    "TrackDataError",
    "read_text_table",
    "is_file_level",
    "partition_csv_records",
    "partition_tracks",
    "read_tracks_csv",
    "validate_tracks",
]
