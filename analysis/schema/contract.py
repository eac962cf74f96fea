"""The declared contract of a tracks file: its columns, the pandera schema, and the error type."""


from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

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

#: The 20 named columns of the Kaggle ``dataset.csv``, in file order.
RAW_COLUMNS: tuple[str, ...] = (
    "track_id",
    "artists",
    "album_name",
    "track_name",
    "popularity",
    "duration_ms",
    "explicit",
    *AUDIO_COLUMNS,
    "track_genre",
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



_Issue = tuple[int | None, str | None, str]


# Both are raised and caught through the package; name them by where they are public.
Problem.__module__ = TrackDataError.__module__ = "analysis.schema"


# --- wording of a problem ---------------------------------------------------------------------


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
