"""analysis.external.tracks: one row per track, training tracks set apart by id or song."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.external.tracks import (
    billboard_artists,
    dedupe_billboard,
    dedupe_music_genre,
    mark_overlap,
    scored_tracks,
)
from analysis.external.validation import read_billboard, read_music_genre

FIXTURES = Path(__file__).parent / "fixtures" / "external"

#: A hand-made training set: one track shares music_genre's song "Artist 18 / Song 7", one
#: Billboard's uri, one Billboard's song under another id.
TRAINING = pd.DataFrame({
    "track_id": ["vZK3NKEchSNJhZXGpYG9rv", "WiT85P82ah1f8Z7wjG8w3x", "zdDxAAtEE8QWat8qF1N2kF"],
    "artists": ["Artist 18", "Artist 11", "Artist 7;Guest"],
    "track_name": ["Song 7", "Song 1", "Something Else"],
})


@pytest.fixture(scope="module")
def music_genre():
    return dedupe_music_genre(read_music_genre(FIXTURES / "music_genre.csv").rows)


@pytest.fixture(scope="module")
def billboard():
    files = {s: FIXTURES / f"{s}.csv" for s in ("hit_predictor_60s", "hit_predictor_10s")}
    return dedupe_billboard(read_billboard(files).rows)


def test_a_track_listed_under_two_genres_is_one_track(music_genre):
    tracks, counts = music_genre
    assert (counts["duplicates"], counts["tracks"]) == (1, 6)
    rhymes = tracks[tracks["track_name"] == "Rhymes"]
    assert len(rhymes) == 2  # the 200,001 ms one is another recording and stays
    merged = rhymes[rhymes["n_genre_lists"] == 2].iloc[0]
    assert (merged["popularity"], merged["popularity_spread"], merged["genres"]) == (
        64, 2, "Hip-Hop+Rap")
    assert merged["track_key"] == "music_genre:8"
    assert counts["popularity_conflicts"] == 1
    assert counts["duplicate_genre_pairs"] == {"Hip-Hop+Rap": 1}
    assert set(tracks["source_genre"]) <= {"Electronic", "Country", "Rap", "Hip-Hop", "Anime"}


def test_primary_genre_follows_the_projects_rule(music_genre):
    tracks, _ = music_genre
    # Rap lists two tracks, one only there (exclusivity 0.5); Hip-Hop only the shared one (0).
    merged = tracks[(tracks["track_name"] == "Rhymes") & (tracks["n_genre_lists"] == 2)]
    assert merged["source_genre"].tolist() == ["Rap"]


def test_music_genre_overlap_is_by_artist_and_normalised_title(music_genre):
    tracks, _ = music_genre
    marked, counts = mark_overlap(tracks, TRAINING, by="song")
    dropped = marked[marked["in_training"]]
    assert dropped["track_name"].tolist() == ["Song 7 (Live)"]  # "Song 7" by Artist 18
    assert (counts["overlap_dropped"], counts["scored"]) == (1, 5)
    assert counts["overlap_dropped"] + counts["scored"] == len(tracks)
    assert counts["artist_in_training"] == 2  # Artist 18, Artist 7 (primary of "Artist 7;Guest")
    assert "same_song_other_track_id" not in counts
    assert len(scored_tracks(marked)) == 5


def test_billboard_dedupe_is_by_uri_across_decades(billboard):
    tracks, counts = billboard
    assert (counts["duplicates"], counts["tracks"]) == (2, 7)
    deep_cut = tracks.set_index("track_id").loc["22222222222222222222B2"]
    assert (deep_cut["decade"], deep_cut["decades"]) == ("60s", "60s+10s")
    assert counts["tracks_in_several_decades"] == 1
    duet = tracks.set_index("track_id").loc["44444444444444444444D4"]
    assert (duet["artists"], duet["artist"]) == ("Singer;Rapper", "Singer Featuring Rapper")


def test_billboard_overlap_is_by_track_id_and_same_song_is_counted_not_dropped(billboard):
    tracks, _ = billboard
    marked, counts = mark_overlap(tracks, TRAINING, by="track_id")
    assert marked.loc[marked["in_training"], "track_id"].tolist() == ["vZK3NKEchSNJhZXGpYG9rv"]
    assert (counts["overlap_dropped"], counts["scored"]) == (1, 6)
    assert counts["same_song_in_training"] == 2
    assert counts["same_song_other_track_id"] == 1  # Artist 11 / Song 1 under another id
    assert counts["overlap_key"] == "Spotify track id (uri)"


def test_overlap_key_must_be_known(music_genre):
    with pytest.raises(ValueError, match="by must be one of"):
        mark_overlap(music_genre[0], TRAINING, by="album")


def test_featuring_is_the_only_separator():
    assert billboard_artists(pd.Series(["A feat. B", "Earth, Wind & Fire", "A x B"])
                             ).tolist() == ["A;B", "Earth, Wind & Fire", "A x B"]
