"""The readers: a whole tracks file or frame, all or nothing; a foreign CSV read as text."""


from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np
import pandas as pd

from analysis.schema.contract import (
    _UTF8_BOM,
    INDEX_NAME,
    RAW_COLUMNS,
    Problem,
    TrackDataError,
)
from analysis.schema.reading import (
    _check_columns_argument,
    _check_frame,
    _closest,
    _decompress,
    _encoding_problems,
    _field_count_problems,
    _has_index_column,
    _parse_body,
    _parse_header,
    _position_to_row,
    _read_source,
    _scan_records,
    _to_problems,
)

# --- public API ------------------------------------------------------------------------------


def _opened(source: str | os.PathLike[str] | bytes | BinaryIO,
            name: str | None) -> tuple[bytes, str, list[str]]:
    """A source's bytes (decompressed, without a UTF-8 BOM), its label for messages and its
    header: the first steps every CSV reader here takes, an empty file refused outright."""
    data, label = _read_source(source, name)
    data = _decompress(data, label)
    if not data:
        raise TrackDataError([Problem(label, None, None, "file is empty (0 bytes)")])
    data = data.removeprefix(_UTF8_BOM)
    return data, label, _parse_header(data, label)


def read_tracks_csv(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    name: str | None = None,
    columns: Sequence[str] = RAW_COLUMNS,
) -> pd.DataFrame:
    """Read a tracks CSV (plain or gzip) and validate it against :data:`TRACKS_SCHEMA`.

    Parameters
    ----------
    source : path, bytes or binary file object
        A ``str``/``PathLike`` is a path; gzip is detected by its magic bytes, not by the
        extension. ``bytes`` or an object with a binary ``read()`` are taken as the content.
    name : str, optional
        How the input is named in error messages; defaults to the path, or ``"<bytes>"`` /
        the file object's ``name``.
    columns : sequence of str, default RAW_COLUMNS
        The columns that must be present (a subset of :data:`RAW_COLUMNS`). Other known
        columns may be absent, but are validated when present.

    Returns
    -------
    pandas.DataFrame
        The known columns present, in :data:`RAW_COLUMNS` order, with dtypes int64 /
        float64 / bool / ``str``. The index is ``source_index``: the file's leading
        row-number column (the Kaggle file's unnamed first column), or ``0..n-1`` if the
        file has none.

    Raises
    ------
    TrackDataError
        For anything wrong with the content, listing every problem found (see Notes).
    OSError
        If the path cannot be opened (e.g. ``FileNotFoundError``).

    See Also
    --------
    validate_tracks : the same checks for a DataFrame already in memory.

    Notes
    -----
    A UTF-8 byte-order mark is stripped and the file read normally (Excel adds one).
    Columns not in :data:`RAW_COLUMNS` are ignored and dropped from the result, apart from
    a leading index column named ``""``, ``"Unnamed: 0"`` or ``"source_index"``.
    ``explicit`` must read True or False (in any case); 0/1 or yes/no are reported.
    ``track_id`` must be a bare 22-character base-62 Spotify ID, as all 114,000 in the
    Kaggle file are; a ``spotify:track:`` URI or a shifted column is reported.
    Only empty fields count as missing: text such as ``NA`` or ``None`` stays text, so
    a track called "None" keeps its name and ``NaN`` in a numeric column is reported.
    Structural problems (empty file, broken gzip, bytes that are not UTF-8, wrong
    delimiter, rows with too many fields) stop the reading; otherwise every missing or
    duplicated column and every bad cell is collected before raising. A line that repeats
    the header is reported once, as such; a row with too few fields is reported as such
    next to the missing values it causes. An empty last field on every data row (a
    trailing comma) is dropped by pandas and does no harm.
    Each cell is read on its own, not as the rest of its column makes pandas type it: an
    ``explicit`` of ``1`` is reported as ``'1'`` beside ``0`` as beside ``yes``, ``55.5`` in
    an integer column as 55.5, and whole numbers in a float column are taken as floats.
    So a file read in chunks (:func:`partition_csv_records`) finds exactly these problems.

    Examples
    --------
    >>> header = ",".join(["", *RAW_COLUMNS])
    >>> row = ("0,0123456789abcdefABCDEF,Ada;Bo,Album,Song,55,200000,False,"
    ...        "0.5,0.6,5,-7.1,1,0.04,0.3,0.0,0.1,0.5,120.0,4,indie")
    >>> tracks = read_tracks_csv(f"{header}\\n{row}\\n".encode(), name="mine.csv")
    >>> print(tracks.loc[0, "track_name"], tracks.loc[0, "popularity"], tracks.loc[0, "tempo"])
    Song 55 120.0
    >>> try:
    ...     read_tracks_csv(f"{header}\\n{row.replace('120.0', 'fast')}\\n".encode(),
    ...                     name="mine.csv")
    ... except TrackDataError as err:
    ...     print(err.problems[0])
    mine.csv, line 2, column 'tempo': expected a number, got 'fast'
    """
    required = _check_columns_argument(columns)
    data, label, header = _opened(source, name)
    raw = _parse_body(data, header, label)
    frame, issues = _check_frame(raw, header, required, header_is_row=True)
    if issues:
        record_lines, short_rows = _scan_records(data, len(header))
        issues += [(position, None, message) for position, message in short_rows]
        if len(record_lines) != len(raw):  # the csv module disagrees with pandas: estimate
            raise TrackDataError(_to_problems(issues, label, _position_to_row))

        def row_of(position: int | None) -> int | None:
            return None if position is None else 1 if position < 0 else record_lines[position]

        raise TrackDataError(_to_problems(issues, label, row_of))
    return frame


def validate_tracks(
    df: pd.DataFrame,
    *,
    name: str = "<DataFrame>",
    columns: Sequence[str] = RAW_COLUMNS,
) -> pd.DataFrame:
    """Validate a DataFrame already in memory against :data:`TRACKS_SCHEMA`.

    Same checks and same error as :func:`read_tracks_csv`. Text in numeric columns,
    ``"True"``/``"False"`` strings, whole floats in integer columns and integers in float
    columns are converted.

    Parameters
    ----------
    df : pandas.DataFrame
        The tracks; it is not modified.
    name : str, default "<DataFrame>"
        How the frame is named in error messages.
    columns : sequence of str, default RAW_COLUMNS
        The columns that must be present; other known columns are validated if present.

    Returns
    -------
    pandas.DataFrame
        A new frame with the known columns present, in :data:`RAW_COLUMNS` order and with
        their contract dtypes. A ``source_index`` column, or a leading unnamed one (``""``,
        ``"Unnamed: 0"``, as ``pd.read_csv`` leaves the Kaggle index), becomes the
        ``source_index`` index (validated as unique integers); otherwise ``df``'s index is
        kept.

    Raises
    ------
    TrackDataError
        Listing every problem. ``Problem.row`` is the row *position* + 2 (the line it
        would occupy in a CSV written with ``to_csv(index=False)``; a missing column is
        reported on line 1, the header).

    See Also
    --------
    read_tracks_csv : read and validate a file.

    Examples
    --------
    A predictor's input needs only the audio features:

    >>> df = pd.DataFrame({"danceability": [0.5, 1.2], "tempo": [120.0, -1.0]})
    >>> try:
    ...     validate_tracks(df, columns=("danceability", "tempo"))
    ... except TrackDataError as err:
    ...     for problem in err.problems:
    ...         print(problem)
    <DataFrame>, line 3, column 'danceability': must be between 0 and 1, got 1.2
    <DataFrame>, line 3, column 'tempo': must be a finite number >= 0, got -1.0
    """
    required = _check_columns_argument(columns)
    raw = df.reset_index(drop=True)
    raw.columns = [str(column) for column in raw.columns]
    header = list(raw.columns)
    frame, issues = _check_frame(raw, header, required, header_is_row=False)
    if issues:
        raise TrackDataError(_to_problems(issues, name, _position_to_row))
    if not (_has_index_column(header) or INDEX_NAME in header):
        frame.index = df.index
    return frame


def read_text_table(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    columns: Sequence[str],
    name: str | None = None,
) -> pd.DataFrame:
    """Read a CSV (plain or gzip) in a foreign layout with every field as text, unjudged.

    Files that are not the tracks contract (the external crawls of :mod:`analysis.external`)
    have their own columns and their own quirks, which their readers *count* as rejects
    instead of refusing the file. This function stops only a file that cannot be read as
    that table at all, with the same :class:`TrackDataError` as :func:`read_tracks_csv`:
    gzip, encoding, delimiter, ragged rows, a required column missing or repeated.

    Parameters
    ----------
    source : path, bytes or binary file object
        As for :func:`read_tracks_csv`.
    columns : sequence of str
        The columns that must be present; others are kept as they are.
    name : str, optional
        How the input is named in error messages.

    Returns
    -------
    pandas.DataFrame
        Every field as text (``""`` when empty: nothing is guessed to be missing), indexed by
        ``line``, the 1-based line each record starts on (the header is line 1).

    Examples
    --------
    >>> read_text_table(b"a,b\\n1,?\\n", columns=["a", "b"]).loc[2].tolist()
    ['1', '?']
    >>> try:
    ...     read_text_table(b"a,c\\n1,2\\n", columns=["a", "b"], name="x.csv")
    ... except TrackDataError as err:
    ...     print(err.problems[0])
    x.csv, line 1, column 'b': required column is missing
    """
    data, label, header = _opened(source, name)
    problems = [Problem(label, 1, column, f"column appears {header.count(column)} times in "
                        "the header") for column in columns if header.count(column) > 1]
    for column in columns:
        if column not in header:
            guess = _closest(column, [c for c in header if c not in columns])
            hint = f"; did you mean {guess!r}? rename it to {column!r}" if guess else ""
            problems.append(Problem(label, 1, column, "required column is missing" + hint))
    if problems:
        raise TrackDataError(problems)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            raw = pd.read_csv(io.BytesIO(data), encoding="utf-8", dtype=str, index_col=False,
                              keep_default_na=False, na_filter=False)
    except UnicodeDecodeError:
        raise TrackDataError(_encoding_problems(data, label)) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise TrackDataError(_field_count_problems(data, header, label, str(exc))) from None
    if raw.empty:
        raise TrackDataError([Problem(label, None, None, "file has a header but no data rows")])
    raw.columns = header
    physical = data.count(b"\n") + (not data.endswith(b"\n")) - 1
    if physical == len(raw):  # one line per record: no blank line, no line break in a field
        lines = np.arange(2, len(raw) + 2)
    else:
        lines = np.asarray(_scan_records(data, len(header))[0])
    raw.index = pd.Index(lines, name="line")
    return raw
