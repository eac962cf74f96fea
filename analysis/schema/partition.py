"""Splitting input into valid rows and per-row problems (the triage's reader), instead of
rejecting the whole input."""


from __future__ import annotations

import csv
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.schema.contract import (
    _CONTRACT_DTYPES,
    INDEX_NAME,
    RAW_COLUMNS,
    Problem,
    TrackDataError,
    _Issue,
)
from analysis.schema.reading import (
    _check_columns_argument,
    _check_frame,
    _encoding_problem,
    _has_index_column,
    _parse_body,
    _parse_header,
    _position_to_row,
    _to_problems,
)


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
    frame, issues = _checked_part(raw, header, required, name, seen_index,
                                  header_is_row=header_is_row)
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
        frame, chunk_issues = _checked_part(raw, header, required, name, seen_index,
                                            header_is_row=True)
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


def _checked_part(raw: pd.DataFrame, header: list[str], required, name: str,
                  seen_index: Callable[[np.ndarray], np.ndarray] | None, *,
                  header_is_row: bool) -> tuple[pd.DataFrame, list[_Issue]]:
    """One part of the input checked against the contract, as both partitions need it: a
    problem of the whole input (a missing column, say) raises, since no row could be valid;
    otherwise the per-row issues, with index values seen in earlier parts as duplicates."""
    frame, issues = _check_frame(raw, header, required, header_is_row=header_is_row)
    whole = [issue for issue in issues if _is_whole_input(issue)]
    if whole:
        raise TrackDataError(_to_problems(whole, name, _position_to_row))
    if seen_index is not None and _keeps_index(header):
        issues += _seen_index_issues(frame, issues, seen_index)
    return frame, issues


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


