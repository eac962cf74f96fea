"""analysis.external.findings: artist means across and within crawls, album copies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.external.findings import (
    album_copies,
    artist_history_across_crawls,
    artist_means,
    split_half,
)


def _crawl(means: dict[str, float], n: int, *, offset: float = 0.0) -> pd.DataFrame:
    rows = [{"artists": artist, "popularity": mean + offset + (i % 3 - 1)}
            for artist, mean in means.items() for i in range(n)]
    return pd.DataFrame(rows)


def test_artist_means_key_on_the_folded_primary_artist():
    means = artist_means(pd.DataFrame({"artists": ["Ab;X", "AB", "c"],
                                       "popularity": [10, 20, 30]}))
    assert means.to_dict("index") == {"ab": {"mean": 15.0, "n": 2}, "c": {"mean": 30.0, "n": 1}}


def test_across_crawls_compares_artists_with_enough_tracks_in_both():
    kaggle = _crawl({"A": 10, "B": 40, "C": 70, "D": 90}, 3)
    # the other crawl reverses the order of A..C; D has too few tracks there; E is unknown
    other = pd.concat([_crawl({"A": 70, "B": 40, "C": 10}, 3), _crawl({"D": 5, "E": 50}, 2)])
    other = other.assign(in_training=[False] * 9 + [True] * 4)
    out = artist_history_across_crawls(kaggle, other, min_tracks=3)
    across = out["across_crawls"]["all_tracks"]
    assert across["n"] == 3 and across["spearman"] == pytest.approx(-1.0)
    assert across["mean_abs_difference"] == pytest.approx(40.0)
    assert out["across_crawls"]["scored_tracks"]["n"] == 3
    assert out["min_tracks"] == 3 and set(out["within_crawl"]) == {"kaggle", "music_genre"}


def test_split_half_is_seeded_and_stable_when_artists_are():
    crawl = _crawl({f"artist {i}": 5.0 * i for i in range(12)}, 10)
    first = split_half(crawl, min_tracks=3, random_state=1)
    assert first == split_half(crawl, min_tracks=3, random_state=1)
    assert first["n"] >= 10 and first["spearman"] > 0.95
    assert split_half(crawl.head(4), min_tracks=3)["spearman"] is None


def test_album_copies_count_markers_popularity_and_slices():
    tracks = pd.DataFrame({
        "artists": ["A", "A", "B", "C", "D"], "popularity": [0, 50, 0, 30, 70],
        "track_name": ["Carol", "Carol", "Tune", "Other", "Hit"],
        "album_name": ["Christmas Hits", "Carol", "Summer 2019", "LP", "Best of D"],
    })
    copies = album_copies(tracks)
    rows = {r["group"]: r for r in copies["by_marker"]}
    assert rows["album_seasonal"]["tracks"] == 2 and rows["album_seasonal"][
        "share_popularity_0"] == 1.0
    assert rows["album_compilation"]["tracks"] == 2  # "Christmas Hits", "Best of D"
    assert rows["album_dated"]["tracks"] == 1
    assert rows["any"]["tracks"] + rows["none"]["tracks"] == rows["all"]["tracks"] == 5
    assert rows["none"]["share_second_version"] == pytest.approx(1 / 2)
    assert copies["slices"] == {"tracks": 5, "popularity_0": 2, "copy_album": 3,
                                "second_version": 2, "new_release": 1}
    assert np.isclose(rows["all"]["mean_popularity"], 30.0)
