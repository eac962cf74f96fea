"""analysis.external.artifacts: the schema check, the accessors, the committed artifact."""

from __future__ import annotations

import json

import pytest

from analysis import paths
from analysis.external import (
    ExternalSchemaError,
    check_schema,
    external_metrics,
    fill_rules,
    fill_sensitivity,
    finding,
    genre_rows,
    in_data_genre_rows,
    in_data_metrics,
    interval_level,
    issue_targets,
    known_artist_entry,
    load_external,
    matched_labels,
    new_release_definition,
    set_counts,
    set_names,
    source_entry,
)
from analysis.external.artifacts import SCHEMA_VERSION, write_external


def test_schema_check_refuses_a_missing_or_unknown_version(tmp_path):
    with pytest.raises(ExternalSchemaError, match="no schema_version"):
        check_schema({"sets": {}})
    with pytest.raises(ExternalSchemaError, match="schema_version 7 is not one this code"):
        check_schema({"schema_version": 7}, source="x.json")
    target = tmp_path / "external.json"
    with pytest.raises(ExternalSchemaError):
        write_external({"sets": {}}, target)
    assert not target.exists()  # nothing written
    target.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ExternalSchemaError, match=str(target)):
        load_external(tmp_path)


def test_write_is_stable_json_and_accessors_name_missing_paths(tmp_path):
    external = {"schema_version": SCHEMA_VERSION, "sets": {"billboard": {"counts": {"read": 2}}},
                "in_data": {"cold_start": {"all": {"r2": 0.123456789}}}}
    data = write_external(external, tmp_path / "external.json")
    assert data == write_external(external, tmp_path / "again.json")
    loaded = load_external(tmp_path)
    assert in_data_metrics(loaded, "cold_start")["r2"] == 0.123457  # six decimals
    assert set_counts(loaded, "billboard")["read"] == 2
    with pytest.raises(KeyError, match="external.json has no sets.music_genre"):
        set_counts(loaded, "music_genre")
    with pytest.raises(ValueError, match="slice_ must be"):
        in_data_metrics(loaded, "cold_start", "recent")


def test_the_committed_artifact_reads_through_every_accessor():
    external = load_external()
    assert external["schema_version"] == SCHEMA_VERSION
    assert set_names(external) == ["music_genre", "billboard"]
    for name in set_names(external):
        counts = set_counts(external, name)
        assert counts["read"] == counts["accepted"] + counts["rejected"]
        assert counts["read"] == sum(f["read"] for f in counts["files"].values())
        assert counts["rejected"] <= sum(counts["rejected_by_reason"].values())
        assert counts["accepted"] - counts["duplicates"] == counts["tracks"]
        assert counts["tracks"] - counts["overlap_dropped"] == counts["scored"]
        assert external_metrics(external, name)["n"] == counts["scored"]
        assert "album_name" in fill_rules(external, name)
        rule_rows = [row for row in fill_sensitivity(external, name) if row["rule"]]
        assert len(rule_rows) == 1
        assert {k: v for k, v in rule_rows[0].items() if k not in ("album", "genre", "rule")
                } == external_metrics(external, name)
        assert all(f["verified"] for f in source_entry(external, name)["files"])
    assert sum(row["n"] for row in genre_rows(external)) == set_counts(
        external, "music_genre")["scored"]
    assert known_artist_entry(external)["tracks"] == known_artist_entry(external)[
        "known_artist"]["n"]
    for protocol in ("cold_start", "known_artist"):
        assert in_data_metrics(external, protocol, "new_release")["n"] < in_data_metrics(
            external, protocol)["n"]
    assert new_release_definition(external).startswith("popularity > 0")
    assert finding(external, "artist_history")["min_tracks"] == 3
    assert finding(external, "album_copies")["slices"]["new_release"] == in_data_metrics(
        external, "cold_start", "new_release")["n"]
    assert set(issue_targets(external)) == {"music_genre_spearman_within_genre",
                                            "music_genre_hit_auc", "billboard_hit_auc"}
    assert paths.external_file().name == "external.json"


def test_the_committed_artifact_scores_the_interval_and_the_matched_labels():
    """The interval the pages quote, scored on music_genre as in-data, and the training labels
    music_genre's genres map to, scored out of fold beside them."""
    from analysis.models import CONFIDENCE_LEVELS, load_metrics
    from analysis.models.artifacts import interval_entry

    external = load_external()
    assert interval_level(external) == max(CONFIDENCE_LEVELS)
    for scores in (external_metrics(external, "music_genre"),
                   known_artist_entry(external)["known_artist"],
                   in_data_metrics(external), in_data_metrics(external, slice_="new_release"),
                   *genre_rows(external)):
        assert 0 <= scores["interval_coverage"] <= 1 and scores["interval_mean_width"] > 0
    # the OOF intervals are the ones metrics.json scores
    level = f"{interval_level(external):g}"
    for protocol in ("cold_start", "known_artist"):
        assert in_data_metrics(external, protocol)["interval_coverage"] == pytest.approx(
            interval_entry(load_metrics(), protocol, level)["coverage"], abs=1e-6)
    labels = matched_labels(external)
    assert sorted(labels) == [row["genre"] for row in genre_rows(external)]
    assert {row["genre"] for row in in_data_genre_rows(external)} == set(labels.values())
