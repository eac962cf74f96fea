"""Tests for analysis.schema: the malformed corpus, accepted variants, in-memory frames."""

from __future__ import annotations

import gzip
import importlib.util
import io
import pickle
import re
import time
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.schema import (
    AUDIO_COLUMNS,
    INDEX_NAME,
    RAW_COLUMNS,
    Problem,
    TrackDataError,
    read_tracks_csv,
    validate_tracks,
)

CORPUS_DIR = Path(__file__).parent / "malformed"
VALID = CORPUS_DIR / "valid.csv"

#: File -> ({(line, column), ...} every problem must be exactly these, a message fragment).
EXPECTED: dict[str, tuple[set[tuple[int | None, str | None]], str]] = {
    "missing_column.csv": ({(1, "tempo")}, "required column is missing"),
    "renamed_column.csv": ({(1, "valence")}, "did you mean 'valance'"),
    "wrong_type.csv": ({(4, "tempo"), (6, "energy")}, "expected a number, got 'abc'"),
    "out_of_range.csv": (
        {
            (2, "popularity"),
            (2, "loudness"),
            (3, "energy"),
            (3, "valence"),
            (4, "danceability"),
            (4, "key"),
            (5, "duration_ms"),
            (5, "time_signature"),
            (6, "mode"),
            (6, "tempo"),
        },
        "must be 0 to 100, got 120",
    ),
    "empty.csv": ({(None, None)}, "empty"),
    "header_only.csv": ({(None, None)}, "no data rows"),
    "semicolon.csv": ({(1, None)}, "semicolon-delimited"),
    "truncated.csv.gz": ({(None, None)}, "truncated"),
    "corrupt.csv.gz": ({(None, None)}, "corrupt"),
    "repeated_header.csv": ({(4, None)}, "repeats the header row"),
    "ragged_rows.csv": ({(3, None), (5, None)}, "has 22 fields but the header has 21"),
    "short_row.csv": ({(4, None), (4, "track_genre")}, "has 20 fields"),
    "non_utf8.csv": ({(3, "artists"), (6, "album_name")}, "not valid UTF-8"),
    "explicit_not_boolean.csv": (
        {(3, "explicit"), (5, "explicit")},
        "expected True or False, got 'yes'",
    ),
    "popularity_float.csv": ({(4, "popularity")}, "expected a whole number, got 55.5"),
    "missing_values.csv": (
        {(2, "track_id"), (5, "track_genre"), (6, "tempo")},
        "missing value",
    ),
    "bad_track_id.csv": ({(2, "track_id")}, "22-character base-62"),
    "duplicate_index.csv": ({(4, INDEX_NAME)}, "duplicate index value 1"),
}


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS_DIR / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the malformed corpus --------------------------------------------------------------------


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_malformed_file_names_file_rows_and_columns(file_name: str) -> None:
    path = CORPUS_DIR / file_name
    expected, fragment = EXPECTED[file_name]
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(path)
    error = caught.value
    assert {(p.row, p.column) for p in error.problems} == expected
    assert {p.file for p in error.problems} == {str(path)}
    message = str(error)
    assert message.startswith(f"{path}: ")
    assert fragment in message
    for row, column in expected:
        if row is not None:
            assert re.search(rf"\bline {row}\b", message)
        if column is not None:
            assert f"column '{column}'" in message


def test_every_corpus_file_has_an_expectation() -> None:
    on_disk = {p.name for p in CORPUS_DIR.iterdir() if p.suffix in {".csv", ".gz"}}
    assert on_disk - {VALID.name} == set(EXPECTED)
    readme = (CORPUS_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in on_disk)


def test_corpus_is_what_the_generator_writes(tmp_path: Path) -> None:
    generator = _load_generator()
    for written in generator.write_corpus(tmp_path):
        if written.suffix != ".gz":  # gzip bytes may differ between zlib builds
            assert written.read_bytes() == (CORPUS_DIR / written.name).read_bytes(), written.name


# --- valid inputs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid_read() -> pd.DataFrame:
    """``valid.csv`` as read: once per module (validation takes a fraction of a second)."""
    return read_tracks_csv(VALID)


@pytest.fixture
def valid_frame(valid_read: pd.DataFrame) -> pd.DataFrame:
    """Each test's own copy of the valid frame."""
    return valid_read.copy()


def test_valid_file_reads_with_contract_dtypes(valid_frame: pd.DataFrame) -> None:
    assert valid_frame.shape == (5, 20)
    assert tuple(valid_frame.columns) == RAW_COLUMNS
    assert valid_frame.index.name == INDEX_NAME
    assert valid_frame.index.tolist() == [0, 1, 2, 3, 4]
    assert valid_frame.index.dtype == "int64"
    for column in ("popularity", "duration_ms", "key", "mode", "time_signature"):
        assert valid_frame[column].dtype == "int64", column
    for column in (*AUDIO_COLUMNS,):
        if column not in ("key", "mode", "time_signature"):
            assert valid_frame[column].dtype == "float64", column
    assert valid_frame["explicit"].dtype == bool
    for column in ("track_id", "artists", "album_name", "track_name", "track_genre"):
        assert valid_frame[column].dtype == "str", column


def test_row_without_artist_album_and_title_passes(valid_frame: pd.DataFrame) -> None:
    assert valid_frame.loc[3, ["artists", "album_name", "track_name"]].isna().all()
    assert valid_frame.loc[3, "duration_ms"] == 0


def test_text_that_looks_like_na_stays_text() -> None:
    data = VALID.read_bytes().replace(b"Marea Baja", b"None").replace(b"Slow Thaw", b"NA")
    frame = read_tracks_csv(data)
    assert frame.loc[[1, 4], "track_name"].tolist() == ["NA", "None"]


@pytest.mark.parametrize(
    ("variant", "make"),
    [
        ("bom.csv", lambda data: b"\xef\xbb\xbf" + data),
        ("crlf.csv", lambda data: data.replace(b"\n", b"\r\n")),
        ("gzip_named.csv", lambda data: gzip.compress(data)),
        ("plain_named.csv.gz", lambda data: data),
        ("trailing_blank_lines.csv", lambda data: data + b"\n\n"),
        ("cr_only.csv", lambda data: data.replace(b"\n", b"\r")),
        # An empty last field on every data row carries nothing; pandas drops it.
        ("trailing_commas.csv", lambda data: data.replace(b"\n", b",\n").replace(b",\n", b"\n", 1)),
    ],
)
def test_accepted_variants_read_like_the_valid_file(
    tmp_path: Path, valid_frame: pd.DataFrame, variant: str, make
) -> None:
    path = tmp_path / variant
    path.write_bytes(make(VALID.read_bytes()))
    pd.testing.assert_frame_equal(read_tracks_csv(path), valid_frame)


def test_bytes_and_binary_file_objects(valid_frame: pd.DataFrame) -> None:
    data = VALID.read_bytes()
    pd.testing.assert_frame_equal(read_tracks_csv(data), valid_frame)
    pd.testing.assert_frame_equal(read_tracks_csv(io.BytesIO(data)), valid_frame)
    with pytest.raises(TrackDataError, match=r"^<bytes>: "):
        read_tracks_csv(b"")
    with pytest.raises(TrackDataError, match=r"^upload\.csv: "):
        read_tracks_csv(io.BytesIO(b""), name="upload.csv")
    with pytest.raises(TypeError, match="binary"):
        read_tracks_csv(io.StringIO(data.decode()))


def test_extra_columns_are_dropped_and_index_column_is_optional(valid_frame: pd.DataFrame) -> None:
    frame = pd.read_csv(VALID, index_col=0, keep_default_na=False, na_values=[""])
    data = frame.assign(notes="hand-typed").to_csv(index=False).encode()
    read = read_tracks_csv(data)
    assert tuple(read.columns) == RAW_COLUMNS
    assert isinstance(read.index, pd.RangeIndex) and read.index.name == INDEX_NAME
    pd.testing.assert_frame_equal(read, valid_frame, check_index_type=False)


def test_subset_of_columns_may_omit_the_rest_but_validates_what_is_there() -> None:
    frame = pd.read_csv(VALID, index_col=0, keep_default_na=False, na_values=[""])
    catalog = frame.drop(columns=["popularity", "track_genre"]).to_csv().encode()
    required = tuple(c for c in RAW_COLUMNS if c not in ("popularity", "track_genre"))
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(catalog)
    assert {p.column for p in caught.value.problems} == {"popularity", "track_genre"}
    assert "popularity" not in read_tracks_csv(catalog, columns=required).columns

    loud = frame.assign(popularity=[10, 20, 300, 40, 50]).to_csv().encode()
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(loud, columns=AUDIO_COLUMNS)
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "popularity")]


def test_columns_argument_must_name_known_columns() -> None:
    with pytest.raises(ValueError, match="unknown"):
        read_tracks_csv(VALID, columns=("tempo", "bpm"))


def test_header_problems_and_cell_problems_are_reported_together() -> None:
    data = VALID.read_bytes().replace(b",valence,", b",Valence,").replace(b"118.004", b"fast")
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(data)
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "valence"), (2, "tempo")]
    assert "did you mean 'Valence'" in caught.value.problems[0].message


def test_structural_defects_are_located() -> None:
    valid = VALID.read_bytes()
    unterminated = valid.replace(b"DJ Kestrel", b'"DJ Kestrel')
    with pytest.raises(TrackDataError, match=r"line 4: a quoted field .* never closed"):
        read_tracks_csv(unterminated)
    # Rows with an index field but a header without its empty name: reported, not shifted.
    headless_index = valid.removeprefix(b",")
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(headless_index)
    assert [p.row for p in caught.value.problems] == [2, 3, 4, 5, 6]
    with pytest.raises(TrackDataError, match="line 1: is blank"):
        read_tracks_csv(b"\n" + valid)


def test_reading_writes_nothing(tmp_path: Path) -> None:
    for path in CORPUS_DIR.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    before = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    for path in sorted(tmp_path.glob("*.csv*")):
        try:
            read_tracks_csv(path)
        except TrackDataError:
            pass
    assert {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


# --- in-memory frames ------------------------------------------------------------------------


def test_validate_round_trips_a_read_frame(valid_frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(validate_tracks(valid_frame), valid_frame)
    pd.testing.assert_frame_equal(validate_tracks(valid_frame.reset_index()), valid_frame)


def test_validate_converts_text_columns_without_touching_the_input(
    valid_frame: pd.DataFrame,
) -> None:
    as_text = valid_frame.astype(object).map(lambda v: v if pd.isna(v) else str(v))
    snapshot = as_text.copy()
    pd.testing.assert_frame_equal(validate_tracks(as_text), valid_frame)
    pd.testing.assert_frame_equal(as_text, snapshot)


def test_validate_reports_positions_plus_two(valid_frame: pd.DataFrame) -> None:
    bad = valid_frame.assign(
        energy=[0.1, 0.2, 1.7, 0.4, -0.5], key=[0, 1, 2, 3, 99], explicit=[True] * 4 + ["no"]
    )
    with pytest.raises(TrackDataError) as caught:
        validate_tracks(bad, name="catalog")
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [
        ("catalog", 4, "energy"),
        ("catalog", 6, "explicit"),
        ("catalog", 6, "energy"),
        ("catalog", 6, "key"),
    ]


def test_validate_reports_missing_columns_and_empty_frames(valid_frame: pd.DataFrame) -> None:
    with pytest.raises(TrackDataError, match=r"line 1, column 'tempo'"):
        validate_tracks(valid_frame.drop(columns="tempo"))
    with pytest.raises(TrackDataError, match="no data rows"):
        validate_tracks(valid_frame.iloc[:0])


def test_validate_takes_the_index_from_an_index_column(valid_frame: pd.DataFrame) -> None:
    as_read_by_pandas = valid_frame.reset_index().rename(columns={INDEX_NAME: "Unnamed: 0"})
    pd.testing.assert_frame_equal(validate_tracks(as_read_by_pandas), valid_frame)
    moved = valid_frame.reset_index()[[*RAW_COLUMNS, INDEX_NAME]].set_axis(list("abcde"))
    pd.testing.assert_frame_equal(validate_tracks(moved), valid_frame)
    plain = valid_frame.set_axis(list("abcde"))
    assert validate_tracks(plain).index.tolist() == list("abcde")


# --- the error type --------------------------------------------------------------------------


def test_message_lists_twenty_problems_then_counts_the_rest() -> None:
    frame = pd.DataFrame({"tempo": np.full(25, -1.0)})
    with pytest.raises(TrackDataError) as caught:
        validate_tracks(frame, columns=("tempo",))
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("<DataFrame>: 25 problems (lines 2, 3,")
    assert len(lines) == 22
    assert lines[-1] == "  … and 5 more"


def test_error_and_problem_types() -> None:
    problem = Problem("f.csv", 3, "tempo", "expected a number, got 'abc'")
    assert str(problem) == "f.csv, line 3, column 'tempo': expected a number, got 'abc'"
    with pytest.raises(FrozenInstanceError):
        problem.row = 4  # type: ignore[misc]
    error = TrackDataError([problem])
    assert isinstance(error, ValueError)
    assert pickle.loads(pickle.dumps(error)).problems == [problem]


# --- the real file ---------------------------------------------------------------------------


# `raw_path` (tests/conftest.py) is $TRACK_ANALYTICS_DATA or the shared copy; it skips
# when neither exists, except in CI, which must have the data.


@pytest.mark.slow
def test_real_file_validates_quickly(raw_path: Path) -> None:
    start = time.perf_counter()
    tracks = read_tracks_csv(raw_path)
    elapsed = time.perf_counter() - start
    assert tracks.shape == (114_000, 20)
    assert tracks.index.is_unique and tracks.index.name == INDEX_NAME
    assert tracks.loc[65900, ["artists", "album_name", "track_name"]].isna().all()
    assert tracks[["artists", "album_name", "track_name"]].isna().sum().tolist() == [1, 1, 1]
    # Budget: well under 1 s warm; the bound is loose so a slow CI box does not flake,
    # but an element-wise check (tens of seconds) would fail it.
    assert elapsed < 3.0, f"read + validate took {elapsed:.2f} s"


@pytest.mark.slow
def test_one_bad_cell_in_the_real_file_is_located(raw_path: Path) -> None:
    lines = gzip.decompress(raw_path.read_bytes()).split(b"\n")
    head, _, genre = lines[50_000].rsplit(b",", 2)
    lines[50_000] = b",".join([head, b"9", genre])
    with pytest.raises(TrackDataError) as caught:
        read_tracks_csv(b"\n".join(lines), name="real")
    assert [(p.row, p.column) for p in caught.value.problems] == [(50_001, "time_signature")]


def test_read_text_table_keeps_text_and_numbers_records_by_their_first_line():
    from analysis.schema import read_text_table

    plain = read_text_table(b"a,b\n1,?\n,\n", columns=["a"])
    assert plain.index.tolist() == [2, 3] and plain.loc[3].tolist() == ["", ""]
    # a quoted line break and a blank line: records keep the line they start on
    tricky = read_text_table(b'a,b\n1,"x\ny"\n\n2,z\n', columns=["a", "b"], name="t.csv")
    assert tricky.index.tolist() == [2, 5] and tricky.loc[5, "b"] == "z"
    with pytest.raises(TrackDataError) as caught:
        read_text_table(b"a,b,b\n1,2,3\n", columns=["b", "c"], name="t.csv")
    assert {(p.row, p.column) for p in caught.value.problems} == {(1, "b"), (1, "c")}
