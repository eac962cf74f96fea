"""analysis.external.build: end to end on synthetic crawls and tiny models; the real rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest
from _tiny_models import SYNTHETIC_CRAWLS, SYNTHETIC_CRAWLS_DIR, TINY_MODELS_DIR, synthetic_data

from analysis import paths
from analysis.external import build_external, load_external
from analysis.external.artifacts import (
    external_metrics,
    fill_sensitivity,
    hit_classifier_given_as_missing,
    known_artist_entry,
    set_counts,
    source_entry,
)
from analysis.schema import TrackDataError

FILES = SYNTHETIC_CRAWLS


def _build(out: Path, files=FILES) -> dict:
    return build_external(TINY_MODELS_DIR, files=files, data=synthetic_data()[0], out=out,
                          log=lambda _: None)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("external") / "external.json"
    return _build(out), out


def test_counts_account_for_every_row(built):
    report, _ = built
    expected = {"music_genre": (14, 7, 7, 1, 6, 1, 5), "billboard": (14, 9, 5, 2, 7, 1, 6)}
    for name, (read, accepted, rejected, duplicates, tracks, overlap, scored) in (
            expected.items()):
        c = set_counts(report, name)
        assert (c["read"], c["accepted"], c["rejected"], c["duplicates"], c["tracks"],
                c["overlap_dropped"], c["scored"]) == (read, accepted, rejected, duplicates,
                                                       tracks, overlap, scored)
        assert external_metrics(report, name)["n"] == scored
    assert set_counts(report, "billboard")["same_song_other_track_id"] == 1
    assert set_counts(report, "music_genre")["rejected_with_several_reasons"] == 1


def test_the_artifact_says_where_its_inputs_came_from(built):
    report, _ = built
    files = source_entry(report, "billboard")["files"]
    assert [f["stem"] for f in files] == ["hit_predictor_60s", "hit_predictor_10s"]
    assert not any(f["verified"] for f in files)  # synthetic files, not the registered bytes
    assert report["training_data_sha256"] == "0" * 64
    assert set(report["champions"]) == {"cold_start", "known_artist"}


def test_the_artifact_says_which_inputs_the_hit_classifier_was_asked_without(built):
    report, _ = built
    assert hit_classifier_given_as_missing(report, "music_genre") == [
        "album", "explicit", "time_signature"]
    assert hit_classifier_given_as_missing(report, "billboard") == [
        "genre", "album", "explicit"]


def test_both_champions_are_scored_on_billboard_tracks_by_known_artists(built):
    report, _ = built
    k = known_artist_entry(report, "billboard")
    assert (k["tracks"], k["of_scored"]) == (1, set_counts(report, "billboard")["scored"])
    for name in ("known_artist", "cold_start"):
        assert k[name]["n"] == k["tracks"]
        assert set(k[name]) == set(external_metrics(report, "billboard"))
    # the known-artist champion reads the artist's history, so it predicts otherwise
    assert k["known_artist"]["mean_prediction"] != k["cold_start"]["mean_prediction"]
    assert set(k["artist_mean_alone"]) == {"prediction_auc", "prediction_top_decile_precision"}


def test_the_scored_rule_is_one_row_of_the_fill_sensitivity(built):
    report, _ = built
    for name in ("music_genre", "billboard"):
        rows = fill_sensitivity(report, name)
        assert [(r["album"], r["genre"]) for r in rows] == [
            ("missing", "rule"), ("missing", "none"), ("blank", "rule"), ("blank", "none")]
        rule = {k: v for k, v in rows[0].items() if k not in ("album", "genre", "rule")}
        assert rows[0]["rule"] and rule == external_metrics(report, name)


def test_two_builds_write_the_same_bytes(built, tmp_path):
    report, out = built
    again = tmp_path / "external.json"
    _build(again)
    assert again.read_bytes() == out.read_bytes()
    assert load_external(out.parent)["sets"].keys() == report["sets"].keys()


@pytest.mark.parametrize("stem, bad", [
    ("music_genre", "music_genre_no_tempo.csv"),
    ("hit_predictor_10s", "hit_predictor_ragged.csv"),
])
def test_a_malformed_file_stops_the_build_and_writes_nothing(tmp_path, stem, bad):
    out = tmp_path / "external.json"
    with pytest.raises(TrackDataError, match=bad):
        _build(out, FILES | {stem: SYNTHETIC_CRAWLS_DIR / "malformed" / bad})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_rebuilding_from_the_real_files_gives_the_committed_artifact(track_data, tmp_path):
    """The whole build on the verified crawls (about two minutes): byte for byte the commit."""
    if not paths.SHARED_EXTERNAL_DIR.is_dir():
        pytest.skip("no shared copy of the external crawls here")
    out = tmp_path / "external.json"
    build_external(external_dir=paths.SHARED_EXTERNAL_DIR, data=track_data, download=False,
                   out=out, log=lambda _: None)
    assert out.read_bytes() == paths.external_file().read_bytes(), (
        "models/external.json is stale: run `make external` and commit it")
