"""Reading a catalogue in chunks: CSV (plain or gzip) or Parquet, bounded memory, every line
accounted for.

:func:`read_catalogue` yields :class:`Chunk` objects: the valid rows of a run of records
(indexed by their line in the file) and the problems of the rejected ones, partitioned by
:func:`analysis.schema.partition_csv_records` / :func:`analysis.schema.partition_tracks`,
so the rules and messages are the schema's. A problem of the whole file (empty, header only,
a missing or renamed column, a wrong delimiter, a broken gzip stream) raises
:class:`analysis.schema.TrackDataError`.

CSV bytes are cut into whole records here, with numpy: a newline ends a record unless it lies
inside a quoted field. When every quote in a block sits where RFC 4180 puts quotes (at a field's
edges, or doubled), quote parity says which newlines those are; otherwise (a stray quote inside
an unquoted field, which CSV readers keep as text) a small state machine walks the quotes.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.features import REQUIRED_RAW_COLUMNS
from analysis.schema import (
    INDEX_NAME,
    Problem,
    TrackDataError,
    _count_fields,  # the csv module's count, for quoted records
    partition_csv_records,
    partition_tracks,
)

__all__ = ["DEFAULT_CHUNK_ROWS", "Chunk", "read_catalogue"]

#: Rows per chunk: about 10 MB of CSV for this dataset's rows, and a model matrix of 66 MB.
DEFAULT_CHUNK_ROWS = 50_000
_BLOCK_BYTES = 1 << 22
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"
_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13


@dataclass
class Chunk:
    """One run of records of the input.

    Attributes
    ----------
    valid : pandas.DataFrame
        The rows without problems, known columns with their contract dtypes, indexed by
        ``line`` (1-based line in the file, header = line 1; for Parquet the row position + 2).
    problems : list of analysis.schema.Problem
        Every problem of the rejected rows (``row`` is the line), in line order.
    n_read : int
        Records read: ``len(valid)`` plus the distinct lines of ``problems``.
    """

    valid: pd.DataFrame
    problems: list[Problem]
    n_read: int


def read_catalogue(
    source: str | os.PathLike[str],
    *,
    name: str | None = None,
    columns: Sequence[str] = REQUIRED_RAW_COLUMNS,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Iterator[Chunk]:
    """Yield the input in chunks of about ``chunk_rows`` records (see the module docstring).

    Parquet is recognised by its magic bytes, gzip likewise; anything else is read as CSV.

    Raises
    ------
    analysis.schema.TrackDataError
        For a problem of the whole file, possibly after earlier chunks were yielded (a gzip
        stream found truncated at its end): callers must not keep partial output.
    """
    path = Path(source)
    label = name or os.fspath(source)
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == _PARQUET_MAGIC:
        chunks = _read_parquet(path, label, columns, chunk_rows)
    else:
        chunks = _read_csv(path, label, columns, chunk_rows, gzipped=magic[:2] == _GZIP_MAGIC)
    seen = _SeenIndex()
    for chunk in chunks:
        yield seen.check(chunk, label)


class _SeenIndex:
    """The index column must be unique across the file, not only within a chunk: values
    seen in earlier chunks (a bitmap for small non-negative values, a set otherwise)."""

    _BITMAP = 1 << 26

    def __init__(self) -> None:
        self.bitmap = np.zeros(0, dtype=bool)
        self.others: set[int] = set()

    def check(self, chunk: Chunk, label: str) -> Chunk:
        if INDEX_NAME not in chunk.valid.columns or chunk.valid.empty:
            return chunk
        values = chunk.valid[INDEX_NAME].to_numpy(dtype=np.int64)
        small = (values >= 0) & (values < self._BITMAP)
        repeated = np.zeros(len(values), dtype=bool)
        if small.any():
            top = int(values[small].max()) + 1
            if top > len(self.bitmap):
                self.bitmap = np.concatenate(
                    [self.bitmap, np.zeros(max(top, 2 * len(self.bitmap)) - len(self.bitmap),
                                           dtype=bool)])
            repeated[small] = self.bitmap[values[small]]
        for i in np.flatnonzero(~small).tolist():
            repeated[i] = values[i] in self.others
        self.bitmap[values[small & ~repeated]] = True
        self.others.update(values[~small & ~repeated].tolist())
        if not repeated.any():
            return chunk
        lines = chunk.valid.index.to_numpy()[repeated]
        extra = [Problem(label, int(line), INDEX_NAME, f"duplicate index value {int(value)}")
                 for line, value in zip(lines.tolist(), values[repeated].tolist(), strict=True)]
        problems = sorted([*chunk.problems, *extra], key=lambda p: p.row)
        return Chunk(chunk.valid.loc[~repeated], problems, chunk.n_read)


# --- Parquet -----------------------------------------------------------------------------------


def _read_parquet(path: Path, label: str, columns: Sequence[str], chunk_rows: int
                  ) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise TrackDataError([Problem(label, None, None, f"not a readable Parquet file ({exc})")]
                             ) from None
    if parquet.metadata.num_rows == 0:
        raise TrackDataError([Problem(label, None, None, "file has no data rows")])
    first_line = 2
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        lines = np.arange(first_line, first_line + len(frame), dtype=np.int64)
        first_line += len(frame)
        valid, problems = partition_tracks(frame, name=label, columns=columns, lines=lines)
        yield Chunk(valid, problems, len(valid) + len({p.row for p in problems}))


# --- CSV ---------------------------------------------------------------------------------------


def _read_csv(path: Path, label: str, columns: Sequence[str], chunk_rows: int, *,
              gzipped: bool) -> Iterator[Chunk]:
    handle = gzip.open(path, "rb") if gzipped else open(path, "rb")
    with handle:
        blocks = _blocks(handle, label)
        buffer = next(blocks, b"")
        if not buffer:
            raise TrackDataError([Problem(label, None, None, "file is empty (0 bytes)")])
        buffer = buffer.removeprefix(_UTF8_BOM)
        while b"\n" not in buffer:
            more = next(blocks, None)
            if more is None:
                break
            buffer += more
        header_line, _, buffer = buffer.partition(b"\n")
        header_line = header_line.removesuffix(b"\r")
        line = 2
        any_record = False
        exhausted = False
        while not (exhausted and not buffer):
            while not exhausted and buffer.count(b"\n") < chunk_rows:
                more = next(blocks, None)
                if more is None:
                    exhausted = True
                else:
                    buffer += more
            ends = _record_ends(buffer, final=exhausted)
            if not len(ends):
                if exhausted:
                    break
                more = next(blocks, None)  # one record longer than the buffer: read on
                exhausted = more is None
                buffer += more or b""
                continue
            ends = ends[:chunk_rows]
            cut = int(ends[-1]) + 1
            part, buffer = buffer[:cut], buffer[cut:]
            records, lines, counts, n_lines = _split_records(part, line, ends)
            line += n_lines
            if not records:
                continue
            any_record = True
            valid, problems = partition_csv_records(
                header_line, records, lines, name=label, columns=columns, field_counts=counts)
            yield Chunk(valid, problems, len(records))
        if not any_record:
            partition_csv_records(header_line, [], [], name=label, columns=columns)
            raise TrackDataError([Problem(label, None, None,
                                          "file has a header but no data rows")])


def _blocks(handle, label: str) -> Iterator[bytes]:
    try:
        while True:
            block = handle.read(_BLOCK_BYTES)
            if not block:
                return
            yield block
    except EOFError:
        message = "gzip stream is truncated (it ends before its end marker); fetch it again"
    except (OSError, zlib.error) as exc:
        message = f"gzip stream is corrupt ({exc}); fetch it again"
    raise TrackDataError([Problem(label, None, None, message)])


def _record_ends(buffer: bytes, *, final: bool) -> np.ndarray:
    """Positions of the newlines that end a record; when ``final``, also ``len(buffer)`` for
    a last record without a line end (an unclosed quote makes the rest of the file one
    record, as in any CSV reader). ``buffer`` starts at a record's start."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    newlines = np.flatnonzero(data == _LF)
    quotes = np.flatnonzero(data == _QUOTE)
    ends = newlines[~_inside_quotes(buffer, data, quotes, newlines)] if quotes.size else newlines
    last = int(ends[-1]) + 1 if len(ends) else 0
    if final and last < len(buffer):
        ends = np.append(ends, len(buffer))
    return ends


def _standard_quotes(data: np.ndarray, quotes: np.ndarray) -> bool:
    before = np.where(quotes > 0, data[np.maximum(quotes - 1, 0)], _LF)
    after = np.where(quotes + 1 < len(data), data[np.minimum(quotes + 1, len(data) - 1)], _LF)
    return bool((np.isin(before, (_COMMA, _LF, _CR, _QUOTE))
                 | np.isin(after, (_COMMA, _LF, _CR, _QUOTE))).all())


def _quoted_spans(buffer: bytes, quotes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of every quoted field: a quote opens one only at a field's start."""
    starts, ends = [], []
    positions = quotes.tolist()
    open_at = None
    i = 0
    while i < len(positions):
        p = positions[i]
        if open_at is None:
            if p == 0 or buffer[p - 1] in (_COMMA, _LF, _CR):
                open_at = p
        elif i + 1 < len(positions) and positions[i + 1] == p + 1:
            i += 1  # a doubled quote inside a quoted field
        else:
            starts.append(open_at)
            ends.append(p)
            open_at = None
        i += 1
    if open_at is not None:
        starts.append(open_at)
        ends.append(len(buffer))
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def _inside_quotes(buffer: bytes, data: np.ndarray, quotes: np.ndarray,
                   newlines: np.ndarray) -> np.ndarray:
    if _standard_quotes(data, quotes):
        return np.searchsorted(quotes, newlines) % 2 == 1
    starts, ends = _quoted_spans(buffer, quotes)
    if not starts.size:
        return np.zeros(len(newlines), dtype=bool)
    index = np.searchsorted(starts, newlines, side="right") - 1
    return (index >= 0) & (newlines < ends[np.maximum(index, 0)])


def _split_records(part: bytes, first_line: int, ends: np.ndarray
                   ) -> tuple[list[bytes], np.ndarray, np.ndarray, int]:
    """Non-blank records of ``part`` (which ends at ``ends[-1]``), their start lines and field
    counts, and the number of physical lines ``part`` spans."""
    data = np.frombuffer(part, dtype=np.uint8)
    newlines = np.flatnonzero(data == _LF)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    stops = ends.astype(np.int64)
    lines = first_line + np.searchsorted(newlines, starts)
    commas = np.flatnonzero(data == _COMMA)
    quotes = np.flatnonzero(data == _QUOTE)
    counts = np.searchsorted(commas, stops) - np.searchsorted(commas, starts) + 1
    quoted = np.searchsorted(quotes, stops) - np.searchsorted(quotes, starts) > 0
    # Blank lines (only spaces, tabs or a carriage return) are skipped, as pandas skips them.
    short = np.flatnonzero((stops - starts) <= 64)
    blank = np.zeros(len(starts), dtype=bool)
    for i in short.tolist():
        blank[i] = not part[starts[i]:stops[i]].strip(b" \t\r")
    records: list[bytes] = []
    keep = np.flatnonzero(~blank)
    for i in keep.tolist():
        record = part[starts[i]:stops[i]]
        if record.endswith(b"\r"):
            record = record[:-1]
        records.append(record)
        if quoted[i]:
            counts[i] = _count_fields(record)
    n_lines = len(newlines) + (0 if part.endswith(b"\n") else 1)
    return records, lines[keep], counts[keep], n_lines
