"""Reading bytes into a frame of text, checking it against the contract, and reporting problems
by file, line and column (the helpers behind every public reader)."""


from __future__ import annotations

import csv
import difflib
import gzip
import io
import os
import warnings
import zlib
from collections.abc import Callable, Sequence
from typing import BinaryIO

import numpy as np
import pandas as pd
from pandera.errors import SchemaErrors

from analysis.schema.contract import (
    _BOOLEAN_COLUMNS,
    _CONTRACT_DTYPES,
    _GZIP_MAGIC,
    _INDEX_HEADERS,
    _INTEGER_COLUMNS,
    _INTEGER_TEXT,
    _MAX_EXACT_INT,
    _OTHER_DELIMITERS,
    INDEX_NAME,
    RAW_COLUMNS,
    STRING_COLUMNS,
    TRACKS_SCHEMA,
    Problem,
    TrackDataError,
    _Issue,
    _show,
)

# --- reading bytes ---------------------------------------------------------------------------

#: An issue before rows are mapped to lines: (row position or -1 for the header or None,
#: column or None, message).


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







