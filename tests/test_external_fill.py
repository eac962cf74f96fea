"""analysis.external.fill: one rule per set for the inputs it lacks."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.external.fill import (
    ALBUM_BLANK,
    FILL_RULES,
    MODEL_INPUTS,
    MUSIC_GENRE_LABELS,
    fill_billboard,
    fill_music_genre,
    genre_labels,
)
from analysis.external.validation import MUSIC_GENRES
from analysis.features import features_from_raw
from analysis.genres import load_taxonomy
from analysis.schema import AUDIO_COLUMNS

_MG_AUDIO = [c for c in AUDIO_COLUMNS if c != "time_signature"]


def _mg_tracks(genres) -> pd.DataFrame:
    n = len(genres)
    return pd.DataFrame({"artists": [f"A{i}" for i in range(n)],
                         "track_name": [f"Song {i}" for i in range(n)],
                         "duration_ms": [200_000] * n, "source_genre": list(genres),
                         **{c: [0.5] * n for c in _MG_AUDIO}} | {"key": [5] * n,
                                                                  "mode": [1] * n})


def test_every_music_genre_genre_maps_to_a_label_and_rap_to_hip_hop():
    labels = set(load_taxonomy()["genre"])
    assert set(MUSIC_GENRE_LABELS) == set(MUSIC_GENRES)
    assert set(MUSIC_GENRE_LABELS.values()) <= labels
    for genre, label in MUSIC_GENRE_LABELS.items():
        assert label == ("hip-hop" if genre == "Rap" else genre.casefold())


def test_music_genre_rule():
    filled = fill_music_genre(_mg_tracks(MUSIC_GENRES))
    assert list(filled.columns) == list(MODEL_INPUTS)
    assert filled["explicit"].eq(False).all() and filled["time_signature"].eq(4).all()
    assert filled["album_name"].isna().all()
    assert filled["track_genre"].tolist() == [MUSIC_GENRE_LABELS[g] for g in MUSIC_GENRES]
    X = features_from_raw(filled, protocol="cold_start")
    album_features = [c for c in X.columns if c.startswith("album_")] + ["is_single"]
    assert X[album_features].isna().all().all()  # unknown, not "a regular album"
    assert X["genre_hip_hop"].sum() == 2 and X["macro_hip_hop_r_b"].sum() == 2


def test_the_blank_album_alternative_says_regular_album():
    X = features_from_raw(fill_music_genre(_mg_tracks(["Rock"]), album=ALBUM_BLANK),
                          protocol="cold_start")
    assert X.loc[0, "album_compilation"] == 0.0 and X.loc[0, "is_single"] == 0.0
    with pytest.raises(ValueError, match="album must be one of"):
        fill_music_genre(_mg_tracks(["Rock"]), album="none")


def test_an_unknown_music_genre_genre_is_refused():
    with pytest.raises(ValueError, match="no label for music_genre genre"):
        fill_music_genre(_mg_tracks(["Polka"]))


def test_billboard_rule_has_no_genre():
    tracks = pd.DataFrame({"artists": ["A;B"], "track_name": ["S"], "duration_ms": [1],
                           **{c: [0.5] for c in AUDIO_COLUMNS}}
                          | {c: [1] for c in ("key", "mode", "time_signature")})
    filled = fill_billboard(tracks)
    assert "track_genre" not in filled.columns
    assert not filled.loc[0, "explicit"] and filled["album_name"].isna().all()
    X = features_from_raw(filled, protocol="cold_start")
    flags = [c for c in X.columns if c.startswith(("genre_", "macro_"))]
    assert X[flags].eq(0).all().all()


def test_rules_are_written_for_every_input_each_set_lacks():
    assert set(FILL_RULES) == {"music_genre", "billboard"}
    for rules in FILL_RULES.values():
        assert {"track_genre", "album_name", "explicit"} <= set(rules)
    assert "time_signature" in FILL_RULES["music_genre"]
    assert "missing" in FILL_RULES["billboard"]["album_name"]
    assert len(genre_labels()) == 114
