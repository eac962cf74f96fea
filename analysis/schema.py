"""Validation of raw Spotify Tracks files and user catalogs.

Everything that enters the library from outside passes through here, so a bad file stops at
the door with one error that lists *every* offending line and column, instead of failing
three modules later with a pandas traceback. The contract is declared once as a pandera
schema (:data:`TRACKS_SCHEMA`); the readers in front of it turn parsing accidents (gzip,
encoding, delimiter, ragged rows, repeated headers, text in numeric columns) into the same
:class:`TrackDataError`.

Nothing here writes anywhere: the functions read their input and return a new frame.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import importlib.util
import io
import os
import re
import sys
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import pandas as pd


def _skip_pandas_on_spark() -> None:
    """Keep pandera from importing ``pyspark.pandas`` (pyspark is installed for the triage's
    Spark job). pandera tries it at import and at the first validation; with pandas 3,
    pyspark 4.3's pandas-on-Spark first warns (a FutureWarning, an error under the tests'
    rules) and then fails with an ImportError, which pandera ignores. The project never uses
    pandas-on-Spark (its Spark job exchanges Arrow batches), so the import fails at once.
    """
    if "pyspark.pandas" not in sys.modules and importlib.util.find_spec("pyspark") is not None:
        sys.modules["pyspark.pandas"] = None  # "import pyspark.pandas" -> ImportError


_skip_pandas_on_spark()
import pandera.pandas as pa  # noqa: E402  (after the pyspark.pandas guard)
from pandera.errors import SchemaErrors  # noqa: E402

__all__ = [
    "AUDIO_COLUMNS",
    "INDEX_NAME",
    "RAW_COLUMNS",
    "STRING_COLUMNS",
    "TRACKS_SCHEMA",
    "UNIT_INTERVAL_COLUMNS",
    "Problem",
    "TrackDataError",
    "is_file_level",
    "partition_csv_records",
    "partition_tracks",
    "read_tracks_csv",
    "validate_tracks",
]

#: The 20 named columns of the Kaggle ``dataset.csv``, in file order.
RAW_COLUMNS: tuple[str, ...] = (
    "track_id",
    "artists",
    "album_name",
    "track_name",
    "popularity",
    "duration_ms",
    "explicit",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
    "track_genre",
)

#: Spotify's audio features (what a predictor may use for a track nobody has heard yet).
AUDIO_COLUMNS: tuple[str, ...] = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
)

#: Audio features that Spotify reports as a confidence or proportion in [0, 1].
UNIT_INTERVAL_COLUMNS: tuple[str, ...] = (
    "danceability",
    "energy",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
)

#: Text columns, returned with pandas' default ``str`` dtype.
STRING_COLUMNS: tuple[str, ...] = ("track_id", "artists", "album_name", "track_name", "track_genre")

#: Name of the returned index: the Kaggle file's leading unnamed row-number column.
INDEX_NAME = "source_index"

_INTEGER_COLUMNS = ("popularity", "duration_ms", "key", "mode", "time_signature", INDEX_NAME)
_BOOLEAN_COLUMNS = ("explicit",)
#: The dtype each known column has once converted (rows without problems).
_CONTRACT_DTYPES: dict[str, str] = {
    INDEX_NAME: "int64",
    **{column: "str" for column in STRING_COLUMNS},
    **{column: "int64" for column in _INTEGER_COLUMNS},
    **{column: "bool" for column in _BOOLEAN_COLUMNS},
    **{column: "float64" for column in RAW_COLUMNS
       if column not in (*STRING_COLUMNS, *_INTEGER_COLUMNS, *_BOOLEAN_COLUMNS)},
}
#: Header names under which a leading row-number column is recognised (Kaggle writes "").
_INDEX_HEADERS = ("", "Unnamed: 0", INDEX_NAME)
_TRACK_ID_PATTERN = r"[0-9A-Za-z]{22}"
_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
#: Largest integer a float64 holds exactly; bigger "whole numbers" are parse accidents.
_MAX_EXACT_INT = 2**53
_MAX_LISTED = 20
_INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as it can be.

    Attributes
    ----------
    file : str
        The name of the input (a path, or the ``name=`` given by the caller).
    row : int or None
        1-based line number in the source file: the header is line 1, the first data row
        line 2. For a DataFrame validated in memory it is the row *position* + 2, the line
        the row would sit on if the frame were written with ``to_csv(index=False)``.
        ``None`` when the problem concerns the whole file or a whole column.
    column : str or None
        The expected column name concerned, or ``None``.
    message : str
        What is wrong, in words, including the offending value where there is one.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        return ", ".join(filter(None, [self.file, _locate(self.row, self.column)])) + (
            f": {self.message}"
        )


class TrackDataError(ValueError):
    """The input does not satisfy the tracks contract; ``.problems`` lists every finding.

    The message names the file, then at most 20 problems with their line and column,
    then "… and N more".

    Parameters
    ----------
    problems : sequence of Problem
        Everything found, in the order it should be read.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return _summarise(self.problems)


# --- the declared contract -------------------------------------------------------------------


def _is_track_id(values: pd.Series) -> pd.Series:
    return values.str.fullmatch(_TRACK_ID_PATTERN)


def _is_finite(values: pd.Series) -> pd.Series:
    return pd.Series(np.isfinite(values.to_numpy(dtype="float64")), index=values.index)


def _is_finite_non_negative(values: pd.Series) -> pd.Series:
    array = values.to_numpy(dtype="float64")
    return pd.Series(np.isfinite(array) & (array >= 0), index=values.index)


def _is_not_blank(values: pd.Series) -> pd.Series:
    return values.str.strip() != ""


_UNIT = pa.Check.in_range(0.0, 1.0, error="must be between 0 and 1")

#: The contract for one raw row, in columnar form (``source_index`` still a column).
#: Every check is vectorised: the full 114,000-row file validates in a few tens of ms.
TRACKS_SCHEMA = pa.DataFrameSchema(
    {
        INDEX_NAME: pa.Column(
            "int64", unique=True, report_duplicates="exclude_first", required=False
        ),
        "track_id": pa.Column(
            str,
            pa.Check(_is_track_id, error="must be a 22-character base-62 Spotify track ID"),
        ),
        "artists": pa.Column(str, nullable=True),
        "album_name": pa.Column(str, nullable=True),
        "track_name": pa.Column(str, nullable=True),
        "popularity": pa.Column("int64", pa.Check.in_range(0, 100, error="must be 0 to 100")),
        "duration_ms": pa.Column("int64", pa.Check.ge(0, error="must be >= 0")),
        "explicit": pa.Column(bool),
        **{name: pa.Column("float64", _UNIT) for name in UNIT_INTERVAL_COLUMNS},
        "key": pa.Column("int64", pa.Check.in_range(-1, 11, error="must be -1 to 11")),
        "loudness": pa.Column("float64", pa.Check(_is_finite, error="must be a finite number")),
        "mode": pa.Column("int64", pa.Check.isin([0, 1], error="must be 0 or 1")),
        "tempo": pa.Column(
            "float64", pa.Check(_is_finite_non_negative, error="must be a finite number >= 0")
        ),
        "time_signature": pa.Column("int64", pa.Check.in_range(0, 7, error="must be 0 to 7")),
        "track_genre": pa.Column(str, pa.Check(_is_not_blank, error="must not be blank")),
    },
    name="spotify_tracks",
)


# --- public API ------------------------------------------------------------------------------


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
    data, label = _read_source(source, name)
    data = _decompress(data, label)
    if not data:
        raise TrackDataError([Problem(label, None, None, "file is empty (0 bytes)")])
    data = data.removeprefix(_UTF8_BOM)
    header = _parse_header(data, label)
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


def partition_tracks(
    df: pd.DataFrame,
    *,
    name: str = "<DataFrame>",
    columns: Sequence[str] = RAW_COLUMNS,
    lines: Sequence[int] | np.ndarray | None = None,
    header_is_row: bool = False,
    seen_index: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Split a frame into its valid rows and the problems of the others (the triage's reader).

    The same checks as :func:`validate_tracks` (one schema, one set of messages), but a
    problem located on a data row rejects that row instead of the whole input. A problem of
    the whole input (a missing, renamed or duplicated column, a column of the wrong type, no
    data rows) still raises: nothing can be scored then.

    Parameters
    ----------
    df : pandas.DataFrame
        The rows, in the raw dataset's columns; it is not modified.
    name : str, default "<DataFrame>"
        How the input is named in problems.
    columns : sequence of str, default RAW_COLUMNS
        The columns that must be present; other known columns are validated if present.
    lines : sequence of int, optional
        The 1-based line of each row in its source file (the header is line 1). Default: the
        row position + 2, the line it would occupy in a CSV written with
        ``to_csv(index=False)``, as :func:`validate_tracks` reports.
    header_is_row : bool, default False
        ``True`` when the rows were read from a file: a row repeating the header (two files
        concatenated) is then reported as such, once.
    seen_index : callable, optional
        For a file read in parts, so that ``source_index`` is unique across the file: called
        with the index value of every row whose value is a whole number, in order; returns
        which of them were seen by earlier calls (and remembers them all). A row repeating
        an earlier part's value is reported as a duplicate, as the whole file read at once
        reports it, whether or not that earlier row had other problems.

    Returns
    -------
    valid : pandas.DataFrame
        The rows without any problem, with the known columns present in :data:`RAW_COLUMNS`
        order and their contract dtypes (``source_index``, if present, stays a column),
        indexed by their ``line``.
    problems : list of Problem
        One per problem of a rejected row (a row may have several), ``row`` being its line,
        ordered by line then column.

    Raises
    ------
    TrackDataError
        For problems of the whole input, listing those only.

    See Also
    --------
    is_file_level : which problems concern the whole input.

    Examples
    --------
    >>> df = pd.DataFrame({"energy": [0.5, 1.5, 0.2], "tempo": [120.0, 90.0, "fast"]})
    >>> valid, problems = partition_tracks(df, columns=("energy", "tempo"))
    >>> valid.index.tolist(), [str(p) for p in problems]
    ([2], ["<DataFrame>, line 3, column 'energy': must be between 0 and 1, got 1.5", \
"<DataFrame>, line 4, column 'tempo': expected a number, got 'fast'"])
    >>> partition_tracks(df, columns=("energy", "valence"))
    Traceback (most recent call last):
    ...
    analysis.schema.TrackDataError: <DataFrame>: 1 problem (line 1; column valence)
      line 1, column 'valence': required column is missing
    """
    required = _check_columns_argument(columns)
    raw = df.reset_index(drop=True)
    raw.columns = [str(column) for column in raw.columns]
    header = list(raw.columns)
    if lines is None:
        line_of = np.arange(2, len(raw) + 2, dtype=np.int64)
    else:
        line_of = np.asarray(lines, dtype=np.int64)
        if len(line_of) != len(raw):
            raise ValueError(f"lines has {len(line_of)} values for {len(raw)} rows")
    frame, issues = _check_frame(raw, header, required, header_is_row=header_is_row)
    whole = [issue for issue in issues if _is_whole_input(issue)]
    if whole:
        raise TrackDataError(_to_problems(whole, name, _position_to_row))
    if seen_index is not None and _keeps_index(header):
        issues += _seen_index_issues(frame, issues, seen_index)
    problems = _to_problems(issues, name, lambda position: int(line_of[position]))
    bad = np.zeros(len(frame), dtype=bool)
    bad[[position for position, _, _ in issues]] = True
    frame = _index_to_column(frame, keep=_keeps_index(header))
    valid = _with_contract_dtypes(frame.loc[~bad])
    valid.index = pd.Index(line_of[~bad], name="line")
    return valid, problems


def partition_csv_records(
    header_line: bytes,
    records: Sequence[bytes],
    lines: Sequence[int] | np.ndarray,
    *,
    name: str,
    columns: Sequence[str] = RAW_COLUMNS,
    field_counts: Sequence[int] | np.ndarray | None = None,
    seen_index: Callable[[np.ndarray], np.ndarray] | None = None,
    joined: bytes | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """:func:`partition_tracks` for a run of CSV records read from a file (a chunk of it).

    Parsed exactly as :func:`read_tracks_csv` parses a whole file (same reader, same
    missing-value rule, same messages), but what :func:`read_tracks_csv` treats as
    structural when it concerns one line rejects that line only: bytes that are not UTF-8,
    too many fields (the row cannot be aligned with the header; reported alone), too few
    (reported next to the missing values they cause). Problems of the header raise.

    Parameters
    ----------
    header_line : bytes
        The file's first line, without its line end (UTF-8 byte-order mark removed).
    records : sequence of bytes
        Whole, non-blank CSV records (a quoted field may span lines), without line ends.
    lines : sequence of int
        The physical line each record starts on (the header is line 1).
    name : str
        The input's name in problems.
    columns : sequence of str
        The columns that must be present.
    field_counts : sequence of int, optional
        Fields of each record, when the caller counted them; counted here otherwise.
    seen_index : callable, optional
        As for :func:`partition_tracks`: the index values of earlier parts of the file.
    joined : bytes, optional
        ``b"\\n".join(records)``, when the caller has it for free (the records lie one per
        line in the file): used as it is when every record is parsed.

    Returns
    -------
    valid, problems
        As :func:`partition_tracks` returns them (``valid`` indexed by ``line``).
    """
    required = _check_columns_argument(columns)
    header = _parse_header(header_line, name)
    width = len(header)
    lines = np.asarray(lines, dtype=np.int64)
    counts = (np.asarray(field_counts, dtype=np.int64) if field_counts is not None
              else np.array([_count_fields(r) for r in records], dtype=np.int64))
    issues: list[tuple[int, str | None, str]] = []  # (line, column, message)
    keep = np.ones(len(records), dtype=bool)
    for position in np.flatnonzero(counts != width).tolist():
        issues.append((int(lines[position]), None,
                       f"has {counts[position]} fields but the header has {width}"))
        keep[position] = counts[position] < width  # a short row is still parsed
    if joined is not None and keep.all():
        data = header_line + b"\n" + joined
    else:
        data = header_line + b"\n" + b"\n".join(records[i] for i in np.flatnonzero(keep))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        for position in np.flatnonzero(keep).tolist():
            problem = _encoding_problem(records[position], header, name, int(lines[position]))
            if problem is not None:
                issues.append((problem.row, problem.column, problem.message))
                keep[position] = False
        data = header_line + b"\n" + b"\n".join(records[i] for i in np.flatnonzero(keep))
    kept_lines = lines[keep]
    short = set(lines[counts < width].tolist())
    if keep.any():
        raw = _parse_body(data, header, name)
        if len(raw) != int(keep.sum()):
            raise TrackDataError([Problem(name, int(kept_lines[0]), None,
                                          "could not split this part of the file into rows")])
        frame, chunk_issues = _check_frame(raw, header, required, header_is_row=True)
        whole = [issue for issue in chunk_issues if _is_whole_input(issue)]
        if whole:
            raise TrackDataError(_to_problems(whole, name, _position_to_row))
        if seen_index is not None and _keeps_index(header):
            chunk_issues += _seen_index_issues(frame, chunk_issues, seen_index)
        issues += [(int(kept_lines[p]), column, message) for p, column, message in chunk_issues]
        rejected_positions = sorted({p for p, _, _ in chunk_issues}
                                    | {i for i, line in enumerate(kept_lines.tolist())
                                       if line in short})
        ok = np.ones(len(frame), dtype=bool)
        ok[rejected_positions] = False
        frame = _index_to_column(frame, keep=_keeps_index(header))
        valid = _with_contract_dtypes(frame.loc[ok])
        valid.index = pd.Index(kept_lines[ok], name="line")
    else:
        _, header_issues = _check_frame(pd.DataFrame(columns=header), header, required,
                                        header_is_row=True)
        whole = [issue for issue in header_issues if issue[0] is not None]
        if whole:
            raise TrackDataError(_to_problems(whole, name, _position_to_row))
        present = [INDEX_NAME] if _keeps_index(header) else []
        present += [c for c in RAW_COLUMNS if c in header]
        valid = _with_contract_dtypes(pd.DataFrame(columns=present))
        valid.index = pd.Index([], dtype=np.int64, name="line")
    order = {column: i for i, column in enumerate((INDEX_NAME, *RAW_COLUMNS))}
    issues.sort(key=lambda issue: (issue[0], order.get(issue[1], -1)))
    return valid, [Problem(name, line, column, message) for line, column, message in issues]


def _seen_index_issues(frame: pd.DataFrame, issues: list[_Issue],
                       seen_index: Callable[[np.ndarray], np.ndarray]) -> list[_Issue]:
    """Duplicates of index values seen in earlier parts of the file (``frame`` is indexed by
    ``source_index``; a row already reported as a duplicate within this part is not again)."""
    index = frame.index
    if index.dtype == "int64":
        known = np.arange(len(index))
        values = index.to_numpy()
    else:  # a cell that is not a whole number was made missing: float64, or object when
        known = np.flatnonzero(index.notna())  # whole numbers beyond 2**53 are kept exact
        values = (index[known].to_numpy().astype(np.int64) if index.dtype == "float64"
                  else np.array([int(v) for v in index[known]], dtype=np.int64))
    repeated = np.asarray(seen_index(values), dtype=bool)
    flagged = {position for position, column, _ in issues if column == INDEX_NAME}
    return [(position, INDEX_NAME, f"duplicate index value {value}")
            for position, value in zip(known[repeated].tolist(), values[repeated].tolist(),
                                       strict=True)
            if position not in flagged]


def _index_to_column(frame: pd.DataFrame, *, keep: bool) -> pd.DataFrame:
    """``frame.reset_index(drop=not keep)``, except that an object index (whole numbers
    beyond 2**53 beside missing cells) stays object: reset_index would make it float64."""
    out = frame.reset_index(drop=True)
    if keep:
        out.insert(0, INDEX_NAME, pd.Series(frame.index.to_numpy(), dtype=frame.index.dtype))
    return out


def _with_contract_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows without problems, each known column with its contract dtype: a column that held
    a bad cell (now rejected) may still be float (integers) or object (booleans), and an
    empty frame has no dtypes at all; what a file's rows become must not depend on which
    other rows were read with them."""
    wrong = {column: _CONTRACT_DTYPES[column] for column in frame.columns
             if column in _CONTRACT_DTYPES and frame[column].dtype != _CONTRACT_DTYPES[column]}
    return frame.astype(wrong) if wrong else frame


def _count_fields(record: bytes) -> int:
    return len(next(csv.reader([record.decode("utf-8", errors="replace")]), [""]))


def is_file_level(problem: Problem) -> bool:
    """Whether a problem concerns the whole input (no line, or the header, line 1).

    The triage's rule: such a problem stops the input; a problem on a data line (2 and
    after) rejects that row only.

    Examples
    --------
    >>> is_file_level(Problem("f.csv", 1, "tempo", "required column is missing"))
    True
    >>> is_file_level(Problem("f.csv", 7, "tempo", "expected a number, got 'x'"))
    False
    """
    return problem.row is None or problem.row < 2


def _is_whole_input(issue: _Issue) -> bool:
    return issue[0] is None or issue[0] < 0


def _keeps_index(header: list[str]) -> bool:
    return _has_index_column(header) or INDEX_NAME in header


# --- reading bytes ---------------------------------------------------------------------------

#: An issue before rows are mapped to lines: (row position or -1 for the header or None,
#: column or None, message).
_Issue = tuple[int | None, str | None, str]


def _check_columns_argument(columns: Sequence[str]) -> tuple[str, ...]:
    unknown = [column for column in columns if column not in RAW_COLUMNS]
    if unknown:
        raise ValueError(f"columns must be a subset of RAW_COLUMNS; unknown: {unknown}")
    return tuple(columns)


def _read_source(
    source: str | os.PathLike[str] | bytes | BinaryIO, name: str | None
) -> tuple[bytes, str]:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            return handle.read(), name or os.fspath(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), name or "<bytes>"
    data = source.read()
    if not isinstance(data, bytes):
        raise TypeError("read_tracks_csv needs a binary file object (open it with 'rb')")
    return data, name or str(getattr(source, "name", "<stream>"))


def _decompress(data: bytes, label: str) -> bytes:
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except EOFError:
        message = "gzip stream is truncated (it ends before its end marker); fetch it again"
    except (OSError, zlib.error) as exc:
        message = f"gzip stream is corrupt ({exc}); fetch it again"
    raise TrackDataError([Problem(label, None, None, message)])


def _parse_header(data: bytes, label: str) -> list[str]:
    first_line = data.split(b"\n", 1)[0].split(b"\r", 1)[0]
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError:
        raise TrackDataError(_encoding_problems(data, label)) from None
    if not text.strip():
        raise TrackDataError([Problem(label, 1, None, "is blank; expected the header row")])
    header = next(csv.reader([text]))
    if len(header) == 1:
        for delimiter, word in _OTHER_DELIMITERS.items():
            if delimiter in text:
                message = (
                    f"header has no commas but {text.count(delimiter)} {word}s: the file "
                    f"looks {word}-delimited; save it as comma-separated"
                )
                raise TrackDataError([Problem(label, 1, None, message)])
    return header


def _parse_body(data: bytes, header: list[str], label: str) -> pd.DataFrame:
    """The data rows as pandas' C parser types them, except that a known column whose type
    depends on its *other* cells is read again as text (see :func:`_typed_by_neighbours`):
    what a cell is found to be, and how it is shown in a problem, then depends on that
    cell alone, so a file read whole and the same file read in chunks agree."""
    text_columns = {column: "str" for column in STRING_COLUMNS if column in header}
    raw = _read_csv_bytes(data, header, label, text_columns)
    if raw.empty:
        raise TrackDataError([Problem(label, None, None, "file has a header but no data rows")])
    if len(raw.columns) == len(header):
        again = _typed_by_neighbours(raw, header)
        if again:
            raw = _read_csv_bytes(data, header, label,
                                  {**text_columns, **{raw.columns[i]: "str" for i in again}})
        raw.columns = header  # undo pandas' renaming of "" and of duplicated names
    return raw


def _read_csv_bytes(data: bytes, header: list[str], label: str, dtype: dict[str, str]
                    ) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # With index_col=False, pandas only *warns* when every row has one field too
            # many (a trailing comma, or an index column without a header name).
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                io.BytesIO(data),
                encoding="utf-8",
                dtype=dtype,
                index_col=False,
                keep_default_na=False,
                na_values=[""],
            )
    except UnicodeDecodeError:
        raise TrackDataError(_encoding_problems(data, label)) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise TrackDataError(_field_count_problems(data, header, label, str(exc))) from None


def _typed_by_neighbours(raw: pd.DataFrame, header: list[str]) -> list[int]:
    """Positions of the known non-text columns that pandas did not type as the contract
    says (nor as text): an ``explicit`` read as integers, an integer column read as floats
    because a cell is empty or fractional, a float column read as booleans. Each cell's
    reading then depends on the rest of the column (``1`` is an int beside ``0`` but text
    beside ``yes``), so these columns are read again as text and converted cell by cell.
    An integer-typed float column is converted exactly instead (:func:`_convert`) while its
    values stay within 2**53."""
    again = []
    for i, column in enumerate(header):
        if i == 0 and _has_index_column(header):
            column = INDEX_NAME
        if column in STRING_COLUMNS or column not in _CONTRACT_DTYPES:
            continue
        values = raw.iloc[:, i]
        dtype = values.dtype
        if dtype == _CONTRACT_DTYPES[column]:
            continue
        if isinstance(dtype, pd.StringDtype):
            if not (values == "").any():  # pandas may keep "" as text when it gives up on
                continue                  # a huge integer; the text read makes it missing
        elif dtype == "int64" and _CONTRACT_DTYPES[column] == "float64" and (
                int(np.abs(values.to_numpy()).max()) <= _MAX_EXACT_INT):
            continue
        again.append(i)
    return again


def _encoding_problems(data: bytes, label: str) -> list[Problem]:
    header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8", errors="replace")]))
    problems = []
    for line_number, line in enumerate(data.split(b"\n"), start=1):
        problem = _encoding_problem(line, header, label, line_number)
        if problem is not None:
            problems.append(problem)
    return problems


def _encoding_problem(
    line: bytes, header: list[str], label: str, line_number: int
) -> Problem | None:
    """The problem of one line that is not valid UTF-8 (its column when the fields align)."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        fields = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
        bad = [i for i, field in enumerate(fields) if "\ufffd" in field]
        aligned = line_number > 1 and len(fields) == len(header) and bool(bad)
        column = header[bad[0]] if aligned else None
        message = (
            f"byte {line[exc.start]:#04x} is not valid UTF-8 (Latin-1 or Windows-1252?); "
            "re-save the file as UTF-8"
        )
        return Problem(label, line_number, column, message)
    return None


def _field_count_problems(
    data: bytes, header: list[str], label: str, parser_message: str
) -> list[Problem]:
    lines, wrong = _scan_records(data, len(header))
    if "EOF inside string" in parser_message and lines:
        message = "a quoted field opens on this line and is never closed"
        return [Problem(label, lines[-1], None, message)]
    problems = [Problem(label, lines[position], None, message) for position, message in wrong]
    return problems or [Problem(label, None, None, f"could not parse as CSV: {parser_message}")]


def _scan_records(data: bytes, n_fields: int) -> tuple[list[int], list[tuple[int, str]]]:
    """Start line of each data record, and the records whose field count is off.

    Only called once something is wrong: the ``csv`` module is ten times slower than
    pandas' parser, but it tells which physical line each record starts on.
    """
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
    lines: list[int] = []
    wrong: list[tuple[int, str]] = []
    try:
        next(reader, None)
        previous_end = reader.line_num
        for fields in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # pandas skips blank lines too
            if len(fields) != n_fields:
                wrong.append(
                    (len(lines), f"has {len(fields)} fields but the header has {n_fields}")
                )
            lines.append(start)
    except csv.Error:  # e.g. an unterminated quote swallowing the rest of the file
        return [], []
    return lines, wrong


# --- checking a frame ------------------------------------------------------------------------


def _check_frame(
    raw: pd.DataFrame, header: list[str], required: tuple[str, ...], *, header_is_row: bool
) -> tuple[pd.DataFrame, list[_Issue]]:
    """Validate ``raw`` (positional index, header names as columns); return frame, issues."""
    issues = _header_issues(header, required)
    if len(raw) == 0:
        return raw, [*issues, (None, None, "has no data rows")]
    raw = raw.loc[:, ~raw.columns.duplicated()]
    if _has_index_column(header):
        raw = raw.rename(columns={header[0]: INDEX_NAME})
    present = [column for column in (INDEX_NAME, *RAW_COLUMNS) if column in raw.columns]
    raw = raw[present]
    repeated_header = _repeated_header_rows(raw) if header_is_row else set()
    converted = {}
    for column in present:
        converted[column], cell_issues = _convert(raw[column], column)
        issues += cell_issues
    frame = pd.DataFrame(converted, index=raw.index)
    issues += _schema_issues(frame, present, {(row, col) for row, col, _ in issues})
    if repeated_header:
        issues = [issue for issue in issues if issue[0] not in repeated_header]
        issues += [(row, None, "repeats the header row") for row in sorted(repeated_header)]
    if INDEX_NAME in frame.columns:
        frame = frame.set_index(INDEX_NAME)
    else:
        frame.index = pd.RangeIndex(len(frame), name=INDEX_NAME)
    return frame, issues


def _has_index_column(header: list[str]) -> bool:
    return bool(header) and header[0] in _INDEX_HEADERS


def _header_issues(header: list[str], required: tuple[str, ...]) -> list[_Issue]:
    issues: list[_Issue] = []
    for column in dict.fromkeys(header):
        if header.count(column) > 1 and column in RAW_COLUMNS:
            issues.append(
                (-1, column, f"column appears {header.count(column)} times in the header")
            )
    unknown = [column for column in header if column not in RAW_COLUMNS]
    for column in required:
        if column in header:
            continue
        message = "required column is missing"
        guess = _closest(column, unknown)
        if guess is not None:
            message += f"; did you mean {guess!r}? rename it to {column!r}"
        issues.append((-1, column, message))
    return issues


def _closest(column: str, candidates: list[str]) -> str | None:
    for candidate in candidates:
        if candidate.strip().lower() == column:
            return candidate
    matches = difflib.get_close_matches(column, candidates, n=1, cutoff=0.75)
    return matches[0] if matches else None


def _repeated_header_rows(raw: pd.DataFrame) -> set[int]:
    """Positions of rows whose text equals the column names (a concatenated file)."""
    named = [column for column in raw.columns if column != INDEX_NAME]
    hits = np.zeros(len(raw), dtype=int)
    for column in named:
        if raw[column].dtype == "str" or raw[column].dtype == object:
            hits += (raw[column] == column).to_numpy(dtype=bool, na_value=False)
    return set(np.flatnonzero(hits >= max(2, len(named) / 2)).tolist())


def _convert(values: pd.Series, column: str) -> tuple[pd.Series, list[_Issue]]:
    """Give ``values`` the contract dtype, reporting cells that cannot have it.

    Unconvertible cells become missing, so the schema's checks skip them.
    """
    if column in STRING_COLUMNS:
        return (values if values.dtype == "str" else values.astype("str")), []
    if column in _BOOLEAN_COLUMNS:
        if pd.api.types.is_bool_dtype(values.dtype):
            return values, []
        words = values.astype("str").str.strip().str.lower()
        converted = words.map({"true": True, "false": False})
        bad = values.notna() & converted.isna()
        expected = "expected True or False"
        if not converted.isna().any():
            converted = converted.astype(bool)
    else:
        if values.dtype == "int64":
            if column in _INTEGER_COLUMNS:
                return values, []
            array = values.to_numpy()
            if not len(array) or int(np.abs(array).max()) <= _MAX_EXACT_INT:
                return values.astype("float64"), []  # whole numbers in a float column: exact
        converted = pd.to_numeric(values, errors="coerce").astype("float64")
        bad = values.notna() & converted.isna()
        expected = "expected a number"
        if column in _INTEGER_COLUMNS:
            array = converted.to_numpy()
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(array) & (array == np.round(array))
                whole &= np.abs(array) <= _MAX_EXACT_INT
            fractional = converted.notna() & ~whole
            exact: dict[int, int] = {}  # whole numbers beyond 2**53 that int64 holds
            if fractional.any():
                shown = values.astype(object)
                for position in np.flatnonzero(fractional.to_numpy()).tolist():
                    number = _number_of(values.iloc[position], converted.iloc[position])
                    if isinstance(number, int) and -(2**63) <= number < 2**63:
                        exact[position] = number
                    else:
                        shown.iloc[position] = number
                fractional.iloc[list(exact)] = False
                values = shown
            bad |= fractional
            converted = converted.mask(bad)
            expected = "expected a whole number"
            if not converted.isna().any():
                converted = converted.astype("int64")
            elif exact:  # Python ints beside the missing cells, exact
                converted = converted.astype(object)
            for position, number in exact.items():
                converted.iloc[position] = number
    positions = np.flatnonzero(bad.to_numpy())
    issues: list[_Issue] = [
        (position, column, f"{expected}, got {_show(value)}")
        for position, value in zip(positions.tolist(), values.iloc[positions].tolist(), strict=True)
    ]
    return converted, issues


def _number_of(value: object, number: float) -> object:
    """A number that is not a whole one within 2**53, as a problem shows it: the cell's own
    number whatever its neighbours (text ``"55.5"`` shows as 55.5, as a float column would;
    ``"99999999999999999999"`` as that integer, as pandas reads it alone)."""
    if isinstance(value, str):
        return int(value) if _INTEGER_TEXT.fullmatch(value) else number
    return value


def _schema_issues(
    frame: pd.DataFrame, present: list[str], already: set[tuple[int | None, str | None]]
) -> list[_Issue]:
    """Run the pandera schema lazily; translate its failure cases, skipping known cells."""
    try:
        TRACKS_SCHEMA.select_columns(present).validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return []
    cell_issues: list[_Issue] = []
    column_issues: list[_Issue] = []
    for column, check, value, index in zip(
        *(cases[field].tolist() for field in ("column", "check", "failure_case", "index")),
        strict=True,
    ):
        if index is None or index != index:  # NaN: a whole-column failure
            message = f"has dtype {value} but must be {check.removeprefix('dtype')[2:-2]}"
            column_issues.append((None, column, message))
        elif (int(index), column) not in already:
            if column in _INTEGER_COLUMNS:  # pandera gathers numeric failure cases as float64
                value = frame[column].iloc[int(index)]  # (inexact beyond 2**53)
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
            cell_issues.append((int(index), column, _describe(check, value)))
    flagged = {column for _, column, _ in cell_issues} | {column for _, column in already}
    return [issue for issue in column_issues if issue[1] not in flagged] + cell_issues


def _describe(check: str, value: object) -> str:
    if check == "not_nullable":
        return "missing value"
    if check == "field_uniqueness":
        return f"duplicate index value {_show(value)}"
    return f"{check}, got {_show(value)}"


# --- reporting -------------------------------------------------------------------------------


def _position_to_row(position: int | None) -> int | None:
    return None if position is None else position + 2


def _to_problems(
    issues: list[_Issue], label: str, row_of: Callable[[int | None], int | None]
) -> list[Problem]:
    order = {column: i for i, column in enumerate((INDEX_NAME, *RAW_COLUMNS))}
    issues = sorted(
        issues,
        key=lambda issue: (
            issue[0] is not None,
            issue[0] if issue[0] is not None else 0,
            order.get(issue[1], -1) if issue[1] is not None else -1,
        ),
    )
    return [
        Problem(label, row_of(position), column, message) for position, column, message in issues
    ]


def _show(value: object) -> str:
    if hasattr(value, "item"):
        value = value.item()  # numpy scalar -> plain Python for a readable repr
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _locate(row: int | None, column: str | None) -> str:
    parts = ([f"line {row}"] if row is not None else []) + (
        [f"column {column!r}"] if column is not None else []
    )
    return ", ".join(parts)


def _summarise(problems: list[Problem]) -> str:
    files = ", ".join(dict.fromkeys(problem.file for problem in problems))
    columns = list(dict.fromkeys(p.column for p in problems if p.column is not None))
    rows = sorted({p.row for p in problems if p.row is not None})
    where = []
    if rows:
        shown_rows = ", ".join(map(str, rows[:10])) + (", …" if len(rows) > 10 else "")
        where.append(f"line{'s' if len(rows) > 1 else ''} {shown_rows}")
    if columns:
        where.append(f"column{'s' if len(columns) > 1 else ''} {', '.join(columns)}")
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    lines = [f"{files}: {count}" + (f" ({'; '.join(where)})" if where else "")]
    for problem in problems[:_MAX_LISTED]:
        where_exactly = _locate(problem.row, problem.column)
        lines.append(
            f"  {where_exactly}: {problem.message}" if where_exactly else f"  {problem.message}"
        )
    if len(problems) > _MAX_LISTED:
        lines.append(f"  … and {len(problems) - _MAX_LISTED} more")
    return "\n".join(lines)
