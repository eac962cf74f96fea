"""Splits: grouping, determinism, the replica recipe, and the committed OOF files' folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import paths
from analysis.protocols import (
    FoldLeakError,
    artist_groups,
    check_group_disjoint,
    cold_start_folds,
    featured_artist_overlap,
    inner_folds,
    known_artist_folds,
    normalise_title,
    primary_artist_key,
    seed_replica_rows,
    seed_replica_split,
    song_groups,
)


@pytest.fixture
def catalog() -> pd.DataFrame:
    """Forty tracks by eight artists, with song versions, reversed credits and features."""
    rows = []
    for a in range(8):
        for s in range(5):
            rows.append({"artists": f"Artist {a}", "track_name": f"Song {a}-{s}"})
    rows += [
        {"artists": "Artist 0", "track_name": "Song 0-0 - Remastered 2011"},
        {"artists": "artist 0", "track_name": "SONG 0-0 (Live)"},
        {"artists": "Artist 1;Artist 2", "track_name": "Duet"},
        {"artists": "Artist 2;Artist 1", "track_name": "Duet - Radio Edit"},
        {"artists": "Artist 3;Guest", "track_name": "Feature"},
        {"artists": "Guest", "track_name": "Guest Solo"},
    ]
    return pd.DataFrame(rows)


def test_normalise_title_drops_version_decorations():
    titles = pd.Series(["Hit - Remastered 2011", "hit (Live at Wembley)", "Hit [Radio Edit]",
                        "Hit"])
    assert normalise_title(titles).nunique() == 1


def test_song_versions_share_a_group(catalog):
    groups = song_groups(catalog)
    versions = catalog["track_name"].str.casefold().str.startswith("song 0-0")
    assert len(set(groups[versions.to_numpy()])) == 1
    duet = catalog["track_name"].str.startswith("Duet").to_numpy()
    assert len(set(groups[duet])) == 1  # credit order does not matter


def test_reversed_credits_merge_primary_artists(catalog):
    groups = artist_groups(catalog)
    key = primary_artist_key(catalog["artists"])
    # Artist 1 and Artist 2 are both primary on one version of the duet: one group.
    one = groups[key.eq("artist 1").to_numpy()]
    two = groups[key.eq("artist 2").to_numpy()]
    assert set(one) == set(two) and len(set(one)) == 1


@pytest.mark.parametrize("folds_of, groups_of", [
    (known_artist_folds, song_groups),
    (cold_start_folds, artist_groups),
])
def test_groups_never_straddle_folds(catalog, folds_of, groups_of):
    folds = folds_of(catalog, n_splits=3)
    assert set(folds) == {0, 1, 2}
    check_group_disjoint(groups_of(catalog), folds)


def test_cold_start_keeps_each_primary_artist_on_one_side(catalog):
    folds = cold_start_folds(catalog, n_splits=3)
    check_group_disjoint(primary_artist_key(catalog["artists"]), folds)


def test_folds_are_deterministic(catalog):
    assert np.array_equal(known_artist_folds(catalog), known_artist_folds(catalog))
    assert np.array_equal(cold_start_folds(catalog, n_splits=3),
                          cold_start_folds(catalog, n_splits=3))
    a = inner_folds(np.arange(50) // 2, n_splits=4)
    assert np.array_equal(a, inner_folds(np.arange(50) // 2, n_splits=4))


def test_check_group_disjoint_raises_on_a_straddling_group():
    with pytest.raises(FoldLeakError, match="1 group"):
        check_group_disjoint(["x", "x", "y"], [0, 1, 1])


def test_featured_artist_overlap_counts_guests_seen_in_training():
    tracks = pd.DataFrame({"artists": ["A;Guest", "A", "B;Other", "Guest", "C", "Other;A"],
                           "track_name": list("uvwxyz")})
    share = featured_artist_overlap(tracks, np.array([0, 0, 0, 1, 1, 1]))
    # Fold 0: "Guest" is credited in training (row 3); "Other" is too (row 5).
    # Fold 1: row 5 features "A", credited in training.
    assert share["test_tracks_with_featured_artist_seen"] == pytest.approx(3 / 6)
    assert share["test_tracks_with_featured_artists"] == pytest.approx(3 / 6)
    assert share["of_tracks_with_featured_artists"] == pytest.approx(1.0)
    # Primary artists credited on the other side: A (rows 0, 1 via row 5), Guest, Other.
    assert share["test_tracks_primary_seen_as_featured"] == pytest.approx(4 / 6)


def test_replica_recipe_is_dropna_then_drop_duplicates_then_80_20():
    raw = pd.DataFrame({"track_id": ["a", "a", "b", "c", None] * 4,
                        "popularity": [1, 1, 2, 3, 4] * 4})
    rows = seed_replica_rows(raw)
    assert len(rows) == 3
    train, test = seed_replica_split(pd.DataFrame({"x": range(100)}))
    assert len(train) == 80 and len(test) == 20 and not set(train) & set(test)
    again = seed_replica_split(pd.DataFrame({"x": range(100)}))
    assert np.array_equal(train, again[0])


# --- the real data and the committed artifacts ----------------------------------------------

@pytest.mark.slow
def test_replica_row_count_on_the_real_file(raw_path):
    from analysis.data import load_raw

    rows = seed_replica_rows(load_raw(raw_path, download=False))
    assert len(rows) == 113_549
    train, test = seed_replica_split(rows)
    assert (len(train), len(test)) == (90_839, 22_710)


@pytest.mark.slow
@pytest.mark.parametrize("protocol, groups_of, by_primary", [
    ("known_artist", song_groups, False),
    ("cold_start", artist_groups, True),
])
def test_committed_oof_files_are_group_disjoint(track_data, protocol, groups_of, by_primary):
    """Every committed OOF file of an honest protocol: no song / primary artist straddles folds,
    and the folds are exactly the protocol's."""
    tracks = track_data.tracks
    files = sorted((paths.MODELS_DIR / "oof").glob(f"{protocol}__*.parquet"))
    assert files, f"no committed OOF files for {protocol}"
    expected = pd.Series(
        (known_artist_folds if protocol == "known_artist" else cold_start_folds)(tracks),
        index=tracks["track_id"],
    )
    for path in files:
        oof = pd.read_parquet(path, columns=["track_id", "fold"])
        assert len(oof) == len(tracks) and oof["track_id"].is_unique, path.name
        aligned = tracks.set_index("track_id").loc[oof["track_id"]]
        groups = groups_of(aligned.reset_index())
        check_group_disjoint(groups, oof["fold"])
        if by_primary:
            check_group_disjoint(primary_artist_key(aligned["artists"]), oof["fold"])
        assert np.array_equal(oof["fold"].to_numpy(), expected.loc[oof["track_id"]].to_numpy())
