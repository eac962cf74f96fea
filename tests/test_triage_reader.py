"""The chunked reader finds exactly the problems read_tracks_csv finds, chunk size aside."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from analysis.schema import RAW_COLUMNS, TrackDataError, read_tracks_csv
from analysis.triage.parity import CORPUS
from analysis.triage.reader import read_catalogue

FILES = sorted(p.name for p in CORPUS.iterdir() if p.name.endswith((".csv", ".csv.gz")))


def _read_all(path, chunk_rows):
    """(valid rows, problems as tuples) of the whole file, or the file error's problems."""
    try:
        chunks = list(read_catalogue(path, columns=RAW_COLUMNS, chunk_rows=chunk_rows))
    except TrackDataError as exc:
        return None, [(p.row, p.column, p.message) for p in exc.problems]
    valid = pd.concat([c.valid for c in chunks])
    problems = [(p.row, p.column, p.message) for c in chunks for p in c.problems]
    assert sum(c.n_read for c in chunks) == len(valid) + len({row for row, _, _ in problems})
    return valid, problems


@pytest.mark.parametrize("name", FILES)
def test_same_problems_as_read_tracks_csv(name):
    try:
        read_tracks_csv(CORPUS / name)
        expected = []
    except TrackDataError as exc:
        expected = [(p.row, p.column, p.message) for p in exc.problems]
    _, problems = _read_all(CORPUS / name, chunk_rows=100)
    assert sorted(problems, key=str) == sorted(expected, key=str)


@pytest.mark.parametrize("name", FILES)
def test_chunk_size_changes_nothing(name):
    one_by_one = _read_all(CORPUS / name, chunk_rows=1)
    whole = _read_all(CORPUS / name, chunk_rows=10_000)
    assert one_by_one[1] == whole[1]
    if whole[0] is not None:
        pd.testing.assert_frame_equal(one_by_one[0], whole[0])


def _with_title(row, text):
    """``row`` (a line of valid.csv) with its track_name field (the fifth) replaced by the
    CSV text ``text``; the other fields re-quoted where they hold a comma."""
    cells = next(csv.reader([row]))
    cells = [f'"{cell}"' if "," in cell else cell for cell in cells]
    cells[4] = text
    return ",".join(cells)


def test_quoted_newlines_blank_lines_crlf_and_stray_quotes(tmp_path):
    valid = (CORPUS / "valid.csv").read_bytes().decode()
    header, *rows = valid.strip("\n").split("\n")
    title = next(csv.reader([rows[0]]))[4]
    rows[0] = _with_title(rows[0], f'"{title}\nsecond line"')  # a quoted newline
    rows[1] = _with_title(rows[1], 'Say 12" Mix')               # a stray quote
    rows[2] = _with_title(rows[2], 'Vinyl 12"')                 # one at a field's end
    text = "\r\n".join([header, rows[0], "", "   ", *rows[1:]]) + "\r\n"
    path = tmp_path / "odd.csv"
    path.write_bytes(text.encode())
    expected = read_tracks_csv(path)  # pandas' C parser, the whole file at once
    for chunk_rows in (1, 2, 100):
        valid_rows, problems = _read_all(path, chunk_rows)
        assert problems == []
        assert valid_rows.index.tolist() == [2, 6, 7, 8, 9]
        assert valid_rows.loc[2, "track_name"] == f"{title}\nsecond line"
        assert valid_rows.loc[6, "track_name"] == 'Say 12" Mix'
        assert valid_rows.loc[7, "track_name"] == 'Vinyl 12"'
        pd.testing.assert_frame_equal(valid_rows.set_index("source_index"), expected)


def test_lone_carriage_returns_end_lines_as_in_pandas(tmp_path):
    valid = (CORPUS / "valid.csv").read_bytes().decode()
    header, *rows = valid.strip("\n").split("\n")
    rows[3] = _with_title(rows[3], '"two\rlines"')  # a lone CR inside quotes is text
    path = tmp_path / "mac.csv"
    path.write_bytes(("\r".join([header, *rows]) + "\r").encode())
    expected = read_tracks_csv(path)
    for chunk_rows in (1, 3, 100):
        valid_rows, problems = _read_all(path, chunk_rows)
        assert problems == []
        assert valid_rows.index.tolist() == [2, 3, 4, 5, 7]
        pd.testing.assert_frame_equal(valid_rows.set_index("source_index"), expected)


def test_unclosed_quote_rejects_its_line_only(tmp_path):
    valid = (CORPUS / "valid.csv").read_bytes().decode()
    header, *rows = valid.strip("\n").split("\n")
    rows[-1] = _with_title(rows[-1], '"never closed')
    path = tmp_path / "unclosed.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(path)
    assert [(p.row, p.message) for p in caught.value.problems] == [
        (6, "a quoted field opens on this line and is never closed")]
    for chunk_rows in (1, 2, 100):
        valid_rows, problems = _read_all(path, chunk_rows)
        assert valid_rows.index.tolist() == [2, 3, 4, 5]
        assert problems == [(6, None, "a quoted field opens on this line and is never closed")]


def test_a_cell_reads_the_same_whatever_its_neighbours(tmp_path):
    """pandas types a column by all its cells; the contract reads each cell alone, so an
    ``explicit`` of 0/1, a whole-number float column, an empty integer cell or a huge index
    read the same in a chunk of one row as in the whole file."""
    valid = (CORPUS / "valid.csv").read_bytes().decode()
    header, *rows = valid.strip("\n").split("\n")
    names = header.split(",")
    cells = [next(csv.reader([row])) for row in rows]
    cells[0][names.index("explicit")] = "1"                 # 0/1 beside True/False
    cells[1][names.index("danceability")] = "1"             # a whole number in a float column
    cells[2][names.index("popularity")] = "55.5"            # beside integers
    cells[3][names.index("popularity")] = "abc"
    cells[3][0] = "9007199254740993"                         # 2**53 + 1, exact in int64
    cells[4][names.index("key")] = ""                       # missing, beside integers
    text = "\n".join([header, *(",".join(f'"{c}"' if "," in c else c for c in row)
                                for row in cells)]) + "\n"
    path = tmp_path / "cells.csv"
    path.write_bytes(text.encode())
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(path)
    expected = [(p.row, p.column, p.message) for p in caught.value.problems]
    assert ("expected True or False, got '1'" in [m for _, _, m in expected])
    assert (4, "popularity", "expected a whole number, got 55.5") in expected
    for chunk_rows in (1, 2, 100):
        valid_rows, problems = _read_all(path, chunk_rows)
        assert problems == expected
        assert valid_rows.index.tolist() == [3]
        assert valid_rows.loc[3, "danceability"] == 1.0
        assert valid_rows.dtypes["danceability"] == "float64"


def test_an_index_repeating_a_rejected_row_of_an_earlier_chunk(tmp_path):
    """Read whole, a duplicate index is reported whether or not the first row is valid."""
    valid = (CORPUS / "valid.csv").read_bytes().decode()
    header, *rows = valid.strip("\n").split("\n")
    rows[0] = rows[0].replace("118.004", "fast")  # line 2: rejected, index 0
    rows[3] = "0" + rows[3][1:]                    # line 5: index 0 again
    path = tmp_path / "dup.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(path)
    expected = [(p.row, p.column, p.message) for p in caught.value.problems]
    assert (5, "source_index", "duplicate index value 0") in expected
    for chunk_rows in (1, 2, 100):
        assert _read_all(path, chunk_rows)[1] == expected


@pytest.mark.slow
def test_real_file_reads_identically_in_chunks(raw_path):
    expected = read_tracks_csv(raw_path)
    valid, problems = _read_all(raw_path, chunk_rows=7_777)
    assert problems == []
    assert valid.index.tolist() == list(range(2, len(expected) + 2))
    got = valid.set_index("source_index")
    assert list(got.columns) == list(expected.columns)
    for column in expected.columns:
        a, b = got[column].to_numpy(), expected[column].to_numpy()
        if a.dtype.kind == "f":
            assert np.array_equal(a.view(np.int64), b.view(np.int64)), column
        else:
            assert (pd.Series(a).fillna("<NA>") == pd.Series(b).fillna("<NA>")).all(), column
