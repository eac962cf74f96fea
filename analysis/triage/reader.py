"""Reading a catalogue in chunks: CSV (plain or gzip) or Parquet, bounded memory, every line
accounted for.

:func:`read_catalogue` yields :class:`Chunk` objects: the valid rows of a run of records
(indexed by their line in the file) and the problems of the rejected ones, partitioned by
:func:`analysis.schema.partition_csv_records` / :func:`analysis.schema.partition_tracks`,
so the rules and messages are the schema's. A problem of the whole file (empty, header only,
a missing or renamed column, a wrong delimiter, a broken gzip stream) raises
:class:`analysis.schema.TrackDataError`.

CSV bytes are cut into whole records here, with numpy, as pandas' C parser cuts them: a line
end (LF, CRLF, or a lone CR) ends a record unless it lies inside a quoted field; lines of only
spaces and tabs are skipped; a quoted field still open at the end of the file rejects its
record (read whole, the file stops there). When every quote in a block sits where RFC 4180
puts quotes (at a field's edges, or doubled), quote parity says which line ends those are;
otherwise (a stray quote inside an unquoted field, which CSV readers keep as text) a small
state machine walks the quotes. Whatever the chunk size, the problems are those
:func:`analysis.schema.read_tracks_csv` finds (beside those it stops at: rows with too many
fields, bytes that are not UTF-8, the unclosed quote), and the valid rows' values and dtypes
are the same.
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
from analysis.schema import Problem, TrackDataError, partition_csv_records, partition_tracks
from analysis.schema.partition import _count_fields  # the csv module's count, for quoted records

__all__ = ["DEFAULT_CHUNK_ROWS", "Chunk", "read_catalogue"]

#: Rows per chunk: about 10 MB of CSV for this dataset's rows, and a model matrix of 66 MB.
DEFAULT_CHUNK_ROWS = 50_000
_BLOCK_BYTES = 1 << 22
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_UTF8_BOM = b"\xef\xbb\xbf"
_QUOTE, _COMMA, _LF, _CR = 34, 44, 10, 13
_UNCLOSED = "a quoted field opens on this line and is never closed"  # as read_tracks_csv says


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
    seen = _SeenIndex()
    if magic == _PARQUET_MAGIC:
        chunks = _read_parquet(path, label, columns, chunk_rows, seen)
    else:
        chunks = _read_csv(path, label, columns, chunk_rows, seen,
                           gzipped=magic[:2] == _GZIP_MAGIC)
    yield from chunks


class _SeenIndex:
    """The index column must be unique across the file, not only within a chunk: the values
    of earlier chunks (a bitmap for small non-negative values, a set otherwise). Called with
    a chunk's values (every row whose index is a whole number, valid or not, as the whole
    file read at once counts them), it says which were seen in an earlier chunk and
    remembers them all; repeats within the chunk are the schema's to report."""

    _BITMAP = 1 << 26

    def __init__(self) -> None:
        self.bitmap = np.zeros(0, dtype=bool)
        self.others: set[int] = set()

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.int64)
        small = (values >= 0) & (values < self._BITMAP)
        repeated = np.zeros(len(values), dtype=bool)
        if small.any():
            top = int(values[small].max()) + 1
            if top > len(self.bitmap):
                self.bitmap = np.concatenate(
                    [self.bitmap, np.zeros(max(top, 2 * len(self.bitmap)) - len(self.bitmap),
                                           dtype=bool)])
            repeated[small] = self.bitmap[values[small]]
        large = np.flatnonzero(~small)
        for i in large.tolist():
            repeated[i] = values[i] in self.others
        self.bitmap[values[small]] = True
        self.others.update(values[large].tolist())
        return repeated


# --- Parquet -----------------------------------------------------------------------------------


def _read_parquet(path: Path, label: str, columns: Sequence[str], chunk_rows: int,
                  seen: _SeenIndex) -> Iterator[Chunk]:
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
        valid, problems = partition_tracks(frame, name=label, columns=columns, lines=lines,
                                           seen_index=seen)
        yield Chunk(valid, problems, len(valid) + len({p.row for p in problems}))


# --- CSV ---------------------------------------------------------------------------------------


def _read_csv(path: Path, label: str, columns: Sequence[str], chunk_rows: int,
              seen: _SeenIndex, *, gzipped: bool) -> Iterator[Chunk]:
    handle = gzip.open(path, "rb") if gzipped else open(path, "rb")
    with handle:
        blocks = _blocks(handle, label)
        buffer = next(blocks, b"")
        if not buffer:
            raise TrackDataError([Problem(label, None, None, "file is empty (0 bytes)")])
        buffer = buffer.removeprefix(_UTF8_BOM)
        exhausted = False
        while True:  # the header: up to the first line end
            line_ends = _line_ends(_bytes_array(buffer), final=exhausted)
            if len(line_ends) or exhausted:
                break
            more = next(blocks, None)
            exhausted = more is None
            buffer += more or b""
        header_end = int(line_ends[0]) if len(line_ends) else len(buffer)
        header_line = buffer[:header_end].removesuffix(b"\r")
        buffer = buffer[header_end + 1:]
        line = 2
        any_record = False
        while not (exhausted and not buffer):
            while not exhausted and max(buffer.count(b"\n"), buffer.count(b"\r")) < chunk_rows:
                more = next(blocks, None)
                if more is None:
                    exhausted = True
                else:
                    buffer += more
            ends, unclosed = _record_ends(buffer, final=exhausted)
            if not len(ends):
                if exhausted:
                    break
                more = next(blocks, None)  # one record longer than the buffer: read on
                exhausted = more is None
                buffer += more or b""
                continue
            ends = ends[:chunk_rows]
            last_unclosed = unclosed and int(ends[-1]) >= len(buffer)
            cut = int(ends[-1]) + 1
            part, buffer = buffer[:cut], buffer[cut:]
            records, lines, counts, n_lines, joined = _split_records(part, line, ends)
            line += n_lines
            problems: list[Problem] = []
            if last_unclosed and len(records):  # pandas' "EOF inside string": this record
                problems.append(Problem(label, int(lines[-1]), None, _UNCLOSED))
                records, lines, counts, joined = records[:-1], lines[:-1], counts[:-1], None
            if not len(records) and not problems:
                continue
            any_record = True
            valid, found = partition_csv_records(
                header_line, records, lines, name=label, columns=columns, field_counts=counts,
                seen_index=seen, joined=joined)
            yield Chunk(valid, found + problems, len(records) + len(problems))
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


def _bytes_array(buffer: bytes) -> np.ndarray:
    return np.frombuffer(buffer, dtype=np.uint8)


def _line_ends(data: np.ndarray, *, final: bool) -> np.ndarray:
    """Positions of the bytes that end a physical line: every LF, and every CR not followed
    by an LF (pandas' C parser and the csv module both end a line at a lone CR; CRLF ends
    at its LF). A CR that is the last byte of a buffer with more to come is not counted
    yet: its LF may be the next block's first byte."""
    lf = data == _LF
    cr = np.flatnonzero(data == _CR)
    if not cr.size:
        return np.flatnonzero(lf)
    after = cr + 1
    at_end = after >= len(data)
    lone = cr[~at_end & ~lf[np.minimum(after, len(data) - 1)] | (at_end & final)]
    return np.union1d(np.flatnonzero(lf), lone)


def _record_ends(buffer: bytes, *, final: bool) -> tuple[np.ndarray, bool]:
    """Positions of the line ends that end a record (not inside a quoted field), and whether
    the buffer's last record is an unclosed quoted field. When ``final``, ``len(buffer)``
    ends a last record without a line end (an unclosed quote makes the rest of the file
    one record, as in any CSV reader). ``buffer`` starts at a record's start."""
    data = _bytes_array(buffer)
    line_ends = _line_ends(data, final=final)
    quotes = np.flatnonzero(data == _QUOTE)
    if not quotes.size:
        ends, open_at_end = line_ends, False
    else:
        inside = _inside_quotes(buffer, data, quotes, np.append(line_ends, len(buffer)))
        ends, open_at_end = line_ends[~inside[:-1]], bool(inside[-1])
    last = int(ends[-1]) + 1 if len(ends) else 0
    if final and last < len(buffer):
        ends = np.append(ends, len(buffer))
    return ends, final and open_at_end


def _standard_quotes(data: np.ndarray, quotes: np.ndarray) -> bool:
    """Whether quote parity tells which line ends are inside quoted fields: every quote
    that parity calls an opener (even count before it) sits at a field's start, every other
    one (a closer, or the first of a doubled quote) at a field's end or before a quote.
    Then, by induction over the quotes, pandas' tokenizer is inside a quoted field exactly
    where the count of quotes before is odd. A stray quote (``12" Mix``, ``Vinyl 12"``)
    fails this and the state machine (:func:`_quoted_spans`) decides."""
    before = np.where(quotes > 0, data[np.maximum(quotes - 1, 0)], _LF)
    after = np.where(quotes + 1 < len(data), data[np.minimum(quotes + 1, len(data) - 1)], _LF)
    edge = (_COMMA, _LF, _CR, _QUOTE)
    opener = np.arange(len(quotes)) % 2 == 0
    return bool(np.where(opener, np.isin(before, edge), np.isin(after, edge)).all())


def _quoted_spans(buffer: bytes, quotes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of every quoted field: a quote opens one only at a field's start; a
    field still open at the buffer's end ends after it."""
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
        ends.append(len(buffer) + 1)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def _inside_quotes(buffer: bytes, data: np.ndarray, quotes: np.ndarray,
                   positions: np.ndarray) -> np.ndarray:
    if _standard_quotes(data, quotes):
        return np.searchsorted(quotes, positions) % 2 == 1
    starts, ends = _quoted_spans(buffer, quotes)
    if not starts.size:
        return np.zeros(len(positions), dtype=bool)
    index = np.searchsorted(starts, positions, side="right") - 1
    return (index >= 0) & (positions < ends[np.maximum(index, 0)])


class _Records(Sequence[bytes]):
    """The records of a part of the file, cut from it only when asked for (the schema needs
    single records only for the few that are ragged or not UTF-8)."""

    def __init__(self, part: bytes, starts: np.ndarray, stops: np.ndarray) -> None:
        self.part, self.starts, self.stops = part, starts, stops

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return _Records(self.part, self.starts[i], self.stops[i])
        record = self.part[int(self.starts[i]):int(self.stops[i])]
        return record[:-1] if record.endswith(b"\r") else record  # CRLF


def _split_records(part: bytes, first_line: int, ends: np.ndarray
                   ) -> tuple[_Records, np.ndarray, np.ndarray, int, bytes | None]:
    """Non-blank records of ``part`` (which ends at ``ends[-1]``), their start lines and field
    counts, the number of physical lines ``part`` spans, and the records joined by LF when
    that is ``part`` itself (no blank line, no CR), else None."""
    data = _bytes_array(part)
    line_ends = _line_ends(data, final=True)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    stops = ends.astype(np.int64)
    lines = first_line + np.searchsorted(line_ends, starts)
    commas = np.flatnonzero(data == _COMMA)
    quotes = np.flatnonzero(data == _QUOTE)
    counts = np.searchsorted(commas, stops) - np.searchsorted(commas, starts) + 1
    quoted = np.flatnonzero(np.searchsorted(quotes, stops) - np.searchsorted(quotes, starts))
    # Lines of only spaces, tabs and carriage returns are skipped, as pandas skips them
    # (such a line has no comma: only those are looked at).
    blank = np.zeros(len(starts), dtype=bool)
    for i in np.flatnonzero(counts == 1).tolist():
        blank[i] = not part[starts[i]:stops[i]].strip(b" \t\r")
    ended = len(line_ends) and int(line_ends[-1]) == len(part) - 1
    n_lines = len(line_ends) + (0 if ended else 1)
    joined = None
    if not blank.any() and part.find(b"\r") < 0:
        joined = part[:-1] if ended else part
    else:
        keep = ~blank
        starts, stops, lines, counts = starts[keep], stops[keep], lines[keep], counts[keep]
        quoted = np.flatnonzero(np.searchsorted(quotes, stops) - np.searchsorted(quotes, starts))
    records = _Records(part, starts, stops)
    for i in quoted.tolist():
        counts[i] = _count_fields(records[i])
    return records, lines, counts, n_lines, joined
