"""Regenerate the malformed-file corpus: ``python tests/malformed/make_corpus.py``.

Every file is one (or a few) deliberate defects applied to :data:`VALID_ROWS`, five
synthetic tracks shaped like the Kaggle ``dataset.csv`` (invented IDs, artists and titles).
``README.md`` beside this script lists what each file must make ``read_tracks_csv`` report;
``tests/test_schema.py`` holds the same expectations as a table and checks that the
committed files are what this script writes.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from pathlib import Path

from analysis.schema import RAW_COLUMNS

HEADER = ["", *RAW_COLUMNS]  # the Kaggle file starts with an unnamed index column

# Line numbers: the header is line 1, VALID_ROWS[i] is line i + 2. Row 3 mimics the one
# real row (index 65900) with no artist, album or title, which must pass validation.
# fmt: off
VALID_ROWS = [
    ["0", "3nFkdlSjzX9mRwTaYb2Q1c", "Lumen Harbor", "Night Ferries", "Night Ferries", "61",
     "214533", "False", "0.612", "0.734", "5", "-5.912", "1", "0.0451", "0.118", "0.0",
     "0.127", "0.522", "118.004", "4", "indie"],
    ["1", "7Qp2XvLm9RtYc4Hb8KdW0e", "Orla Vance;The Tin Choir", "Paper Lanterns, Vol. 2",
     "Slow Thaw", "38", "187200", "True", "0.455", "0.291", "9", "-11.384", "0", "0.0332",
     "0.842", "1.2e-05", "0.0981", "0.317", "84.512", "3", "folk"],
    ["2", "0aZ5yU8iOp3LkJ7hG6fD1s", "DJ Kestrel", "Pulse Theory", "Pulse Theory - Extended Mix",
     "47", "402866", "False", "0.781", "0.912", "1", "-4.207", "1", "0.0618", "0.00213",
     "0.861", "0.344", "0.405", "127.98", "4", "techno"],
    ["3", "5mN4bV3cX2zL1kJ9hG8fDq", "", "", "", "0", "0", "False", "0.5", "0.58", "7", "-9.5",
     "0", "0.06", "0.69", "0.004", "0.075", "0.73", "138.4", "4", "k-pop"],
    ["4", "9Hs6Tq1Wv2Ye3Ur4Io5Pa0", "Marisol Quintero", "Canciones de Sal", "Marea Baja", "72",
     "241093", "False", "0.688", "0.603", "10", "-6.75", "1", "0.0923", "0.377", "0.000154",
     "0.211", "0.671", "96.015", "4", "latin"],
]
# fmt: on


def _csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _with(changes: dict[tuple[int, str], str]) -> bytes:
    """The valid file with ``{(row, column): new text}`` applied."""
    rows = [list(row) for row in VALID_ROWS]
    for (row, column), text in changes.items():
        rows[row][HEADER.index(column)] = text
    return _csv([HEADER, *rows])


def _without(column: str) -> bytes:
    keep = [i for i, name in enumerate(HEADER) if name != column]
    return _csv([[row[i] for i in keep] for row in [HEADER, *VALID_ROWS]])


def _renamed(old: str, new: str) -> bytes:
    return _csv([[new if name == old else name for name in HEADER], *VALID_ROWS])


def _valid() -> bytes:
    return _csv([HEADER, *VALID_ROWS])


def _ragged() -> bytes:
    lines = _valid().decode().splitlines(keepends=True)
    lines[2] = lines[2].replace('"Paper Lanterns, Vol. 2"', "Paper Lanterns, Vol. 2")
    lines[4] = lines[4].replace("\n", ",\n")
    return "".join(lines).encode()


def _short_row() -> bytes:
    lines = _valid().decode().splitlines(keepends=True)
    lines[3] = lines[3].removesuffix(",techno\n") + "\n"
    return "".join(lines).encode()


def _repeated_header() -> bytes:
    lines = _valid().splitlines(keepends=True)
    return b"".join([*lines[:3], lines[0], *lines[3:]])


def _latin1() -> bytes:
    rows = [list(row) for row in VALID_ROWS]
    rows[1][HEADER.index("artists")] = "Orla Vancé;The Tin Choir"
    rows[4][HEADER.index("album_name")] = "Canción de Sal"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *rows])
    return buffer.getvalue().encode("latin-1")


def _truncated_gzip() -> bytes:
    packed = gzip.compress(_valid(), mtime=0)
    return packed[: len(packed) // 2]


def _corrupt_gzip() -> bytes:
    packed = bytearray(gzip.compress(_valid(), mtime=0))
    packed[20:40] = bytes(20)  # zero part of the deflate stream, keep the gzip header
    return bytes(packed)


#: File name -> how to make its bytes.
CORPUS: dict[str, Callable[[], bytes]] = {
    "valid.csv": _valid,
    "missing_column.csv": lambda: _without("tempo"),
    "renamed_column.csv": lambda: _renamed("valence", "valance"),
    "wrong_type.csv": lambda: _with({(2, "tempo"): "abc", (4, "energy"): "high"}),
    "out_of_range.csv": lambda: _with(
        {
            (0, "popularity"): "120",
            (0, "loudness"): "inf",
            (1, "energy"): "1.5",
            (1, "valence"): "1.01",
            (2, "key"): "12",
            (2, "danceability"): "-0.1",
            (3, "time_signature"): "8",
            (3, "duration_ms"): "-1",
            (4, "tempo"): "-5.0",
            (4, "mode"): "2",
        }
    ),
    "empty.csv": lambda: b"",
    "header_only.csv": lambda: _csv([HEADER]),
    "semicolon.csv": lambda: _csv([HEADER, *VALID_ROWS], delimiter=";"),
    "truncated.csv.gz": _truncated_gzip,
    "corrupt.csv.gz": _corrupt_gzip,
    "repeated_header.csv": _repeated_header,
    "ragged_rows.csv": _ragged,
    "short_row.csv": _short_row,
    "non_utf8.csv": _latin1,
    "explicit_not_boolean.csv": lambda: _with({(1, "explicit"): "yes", (3, "explicit"): "1"}),
    "popularity_float.csv": lambda: _with({(2, "popularity"): "55.5"}),
    "missing_values.csv": lambda: _with(
        {(0, "track_id"): "", (1, "artists"): "", (3, "track_genre"): "", (4, "tempo"): ""}
    ),
    "bad_track_id.csv": lambda: _with({(0, "track_id"): "spotify:track:3nFkdlSjzX9mRwTaYb2Q1c"}),
    "duplicate_index.csv": lambda: _with({(2, ""): "1"}),
}


def write_corpus(directory: Path) -> list[Path]:
    """Write every corpus file into ``directory``; return their paths."""
    paths = []
    for name, make in CORPUS.items():
        path = directory / name
        path.write_bytes(make())
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_corpus(Path(__file__).parent):
        print(written)
