"""analysis.external.validation: quirks are counted rejects, malformed files are errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from analysis.external.validation import (
    CONFLICTING_TARGET,
    EMPTY_ROW,
    REJECT_COLUMNS,
    read_billboard,
    read_music_genre,
    reject_summary,
)
from analysis.schema import TrackDataError

FIXTURES = Path(__file__).parent / "fixtures" / "external"
MALFORMED = FIXTURES / "malformed"
BILLBOARD_FILES = {"hit_predictor_60s": FIXTURES / "hit_predictor_60s.csv",
                   "hit_predictor_10s": FIXTURES / "hit_predictor_10s.csv"}

DURATION = "duration_ms must be a whole number > 0 (-1 = unknown)"
TEMPO = "tempo is not a number"
PLACEHOLDER = "artist is the placeholder 'empty_field'"
DATE = "obtained_date is not a day of April like '4-Apr'"
KEY = "key must be a note name from C to B"


@pytest.fixture(scope="module")
def music_genre():
    return read_music_genre(FIXTURES / "music_genre.csv")


@pytest.fixture(scope="module")
def billboard():
    return read_billboard(BILLBOARD_FILES)


def _records(rejects: pd.DataFrame) -> set[tuple]:
    return {(r.file, r.line, r.column, r.reason) for r in rejects.itertuples()}


def test_every_music_genre_quirk_is_a_reject_named_by_line_column_and_reason(music_genre):
    assert list(music_genre.rejects.columns) == list(REJECT_COLUMNS)
    assert _records(music_genre.rejects) == {
        ("music_genre", 3, "duration_ms", DURATION),
        ("music_genre", 4, "tempo", TEMPO),
        ("music_genre", 5, "artist_name", PLACEHOLDER),
        ("music_genre", 6, "", EMPTY_ROW),
        ("music_genre", 7, "obtained_date", DATE),
        ("music_genre", 11, "artist_name", PLACEHOLDER),
        ("music_genre", 11, "duration_ms", DURATION),
        ("music_genre", 11, "tempo", TEMPO),
        ("music_genre", 12, "key", KEY),
    }
    values = music_genre.rejects.set_index(["line", "column"])["value"]
    assert (values[(4, "tempo")], values[(3, "duration_ms")], values[(12, "key")]) == (
        "?", "-1.0", "H")


def test_music_genre_counts_add_up(music_genre):
    summary = reject_summary(music_genre)
    assert summary["read"] == 14 == summary["accepted"] + summary["rejected"]
    assert (summary["accepted"], summary["rejected"]) == (7, 7)
    assert summary["rejected_by_reason"] == {DURATION: 2, TEMPO: 2, PLACEHOLDER: 2,
                                             EMPTY_ROW: 1, DATE: 1, KEY: 1}
    assert summary["rejected_with_several_reasons"] == 1
    assert summary["examples"][TEMPO] == [
        {"file": "music_genre", "line": 4, "column": "tempo", "value": "?"},
        {"file": "music_genre", "line": 11, "column": "tempo", "value": "?"}]
    assert summary["files"] == {"music_genre": {"read": 14, "rejected": 7}}


def test_accepted_music_genre_rows_are_typed_and_encoded_not_repaired(music_genre):
    rows = music_genre.rows
    assert rows["line"].tolist() == [2, 8, 9, 10, 13, 14, 15]
    first = rows.iloc[0]
    assert (first["key"], first["mode"], first["popularity"], first["duration_ms"]) == (
        1, 1, 55, 210_000)
    assert rows["tempo"].dtype == "float64" and rows["popularity"].dtype == "int64"
    assert "time_signature" not in rows.columns  # the set has none: fill decides, not reading


def test_billboard_conflicting_uri_rejects_all_its_rows_across_files(billboard):
    assert _records(billboard.rejects) == {
        ("hit_predictor_60s", 5, "target", CONFLICTING_TARGET),
        ("hit_predictor_60s", 8, "uri", "uri must be spotify:track:<22-character id>"),
        ("hit_predictor_60s", 9, "key", "key must be -1 to 11"),
        ("hit_predictor_10s", 2, "target", CONFLICTING_TARGET),
        ("hit_predictor_10s", 6, "energy", "energy must be between 0 and 1"),
    }
    assert billboard.rejects["file"].tolist()[:3] == ["hit_predictor_60s"] * 3  # file order
    summary = reject_summary(billboard)
    assert summary["read"] == 14 == summary["accepted"] + summary["rejected"]
    assert summary["rejected_by_reason"][CONFLICTING_TARGET] == 2
    assert summary["files"]["hit_predictor_60s"] == {"read": 9, "rejected": 3, "hits": 4,
                                                     "flops": 2}
    rows = billboard.rows
    assert set(rows["decade"]) == {"60s", "10s"}
    assert "33333333333333333333C3" not in set(rows["track_id"])
    assert rows["track_id"].str.len().eq(22).all()


def test_a_gzipped_copy_reads_the_same_and_hashes_its_plain_bytes(tmp_path, music_genre):
    plain = (FIXTURES / "music_genre.csv").read_bytes()
    packed = tmp_path / "music_genre.csv.gz"
    packed.write_bytes(gzip.compress(plain))
    again = read_music_genre(packed)
    assert again.rows.equals(music_genre.rows) and again.rejects.equals(music_genre.rejects)
    assert again.files["music_genre"]["sha256"] == music_genre.files["music_genre"]["sha256"]


@pytest.mark.parametrize(("reader", "name", "where", "message"), [
    ("music_genre", "music_genre_no_tempo.csv", {(1, "tempo")}, "required column is missing"),
    ("music_genre", "music_genre_semicolon.csv", {(1, None)}, "semicolon-delimited"),
    ("billboard", "hit_predictor_ragged.csv", {(3, None)}, "has 20 fields but the header has 19"),
])
def test_a_malformed_file_is_an_error_naming_file_line_and_column(reader, name, where,
                                                                  message):
    path = MALFORMED / name
    with pytest.raises(TrackDataError) as caught:
        if reader == "music_genre":
            read_music_genre(path)
        else:
            read_billboard({"hit_predictor_60s": path})
    problems = caught.value.problems
    assert {(p.row, p.column) for p in problems} == where
    assert all(p.file == str(path) for p in problems)
    assert message in str(caught.value) and name in str(caught.value)


def test_a_truncated_gzip_or_a_file_that_is_not_text_is_an_error(tmp_path):
    cut = tmp_path / "music_genre.csv.gz"
    cut.write_bytes(gzip.compress((FIXTURES / "music_genre.csv").read_bytes())[:-30])
    with pytest.raises(TrackDataError, match="truncated"):
        read_music_genre(cut)
    binary = tmp_path / "music_genre.csv"
    binary.write_bytes(b"\x00\xff\xfe" * 40)
    with pytest.raises(TrackDataError, match="not valid UTF-8"):
        read_music_genre(binary)
