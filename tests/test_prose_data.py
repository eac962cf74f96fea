"""Tests for analysis.prose.data: the Data chapter's words, fed by the cleaning summary."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from analysis.cleaning import BUCKETS, clean_tracks
from analysis.genres import load_taxonomy
from analysis.prose import data as prose


@pytest.fixture
def facts(raw_tiny):
    cleaned = clean_tracks(raw_tiny)
    return prose.facts(SimpleNamespace(summary=cleaned.summary, tracks=cleaned.tracks,
                                       sha256="ab" * 32))


def test_facts_are_the_summary_plus_derived_numbers(facts):
    assert facts["input_rows"] == 9 and facts["tracks"] == 6
    assert facts["repeated_share"] == pytest.approx(facts["rows_repeating_a_track_id"] / 9)
    assert facts["largest_macro_tracks"] >= facts["smallest_macro_tracks"]
    assert facts["sha256"] == "ab" * 32


def test_every_sentence_quotes_the_facts(facts):
    assert f"**{facts['tracks']:,} tracks**" in prose.answer(facts)
    assert prose.quality_findings(facts).count("\n- ") == len(prose.QUALITY_FINDINGS) - 1
    assert f"{facts['zero_popularity_share']:.1%}" in prose.summary(facts)
    assert f"{facts['primary_genres']} primary genres" in prose.macro_genre_sizes(facts)
    assert "Row 5 has no artist" in prose.quality_findings(facts)


def test_tables_account_for_every_row(facts):
    buckets = prose.bucket_table(facts)
    assert all(b in buckets for b in BUCKETS)
    rows = facts["input_rows"]
    assert f"| **total** | {rows:,} | = {rows:,} input rows |" in buckets
    provenance = prose.provenance_table(facts)
    assert f"`{'ab' * 32}`" in provenance


@pytest.mark.parametrize("low, high, shown", [(1000, 1000, "| 1,000 |"), (990, 1000, "990–1,000")])
def test_rows_per_genre_is_one_number_or_a_range(facts, low, high, shown):
    table = prose.provenance_table({**facts, "rows_per_genre_min": low, "rows_per_genre_max": high})
    assert shown in table


def test_overlap_table_names_identical_lists(facts):
    overlap = {"genre": "a", "other": "b", "genre_tracks": 3, "other_tracks": 3,
               "shared_tracks": 3, "identical": True, "top_shared_artists": ["x"]}
    partial = {**overlap, "identical": False, "top_shared_artists": ["x", "y", "z", "w"]}
    table = prose.label_overlap_table({**facts, "label_overlaps": [overlap, partial]})
    assert "| `a` vs `b` | 3 | 3 | 3 | identical lists |" in table
    assert "x, y, z |" in table and "w" not in table


def test_taxonomy_table_counts_listed_and_primary_tracks(raw_tiny):
    cleaned = clean_tracks(raw_tiny)
    table = prose.taxonomy_table(cleaned.tracks, load_taxonomy())
    assert list(table.columns) == list(prose.TAXONOMY_COLUMNS.values())
    assert table["tracks as primary"].sum() == len(cleaned.tracks)
