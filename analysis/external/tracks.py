"""One row per track in each crawl, and the tracks the training data already holds set apart.

Two things would make an external score look better than it is:

* **the same track counted twice.** music_genre, like the main dataset, lists a track once
  per genre search it was found in (a track under both Rap and Hip-Hop); Billboard repeats a
  uri in two decades' files. Scored per row, a track counts once per listing. Rule: one row
  per track (music_genre: same artist, title, duration and every audio value; Billboard: same
  uri), its popularity the highest listed (as :func:`analysis.cleaning.clean_tracks` does)
  and its genre chosen by the project's primary-genre rule
  (:func:`analysis.genres.choose_primary_genres`, most exclusive label). Tracks with the same
  artist and title but other audio values are other recordings and stay.
* **tracks the models were trained on.** Scoring them would measure memory, not transfer.
  Rule: a track whose id is in the training data is dropped (Billboard, by uri); a set
  without ids is matched by primary artist + normalised title, the song identity of
  :mod:`analysis.protocols` (music_genre). Both are counted, never silent.
"""

from __future__ import annotations

import pandas as pd

from analysis.genres import choose_primary_genres, genre_exclusivity
from analysis.protocols import normalise_title, primary_artist_key
from analysis.schema import AUDIO_COLUMNS

__all__ = [
    "OVERLAP_KEYS",
    "billboard_artists",
    "dedupe_billboard",
    "dedupe_music_genre",
    "mark_overlap",
    "prepare_set",
    "scored_tracks",
    "song_key",
]

#: How a crawl is matched to the training data: by track id where it has one.
OVERLAP_KEYS: dict[str, str] = {
    "track_id": "Spotify track id (uri)",
    "song": "primary artist + normalised title (no track ids in the set)",
}

#: music_genre's audio columns (it has no ``time_signature``).
_MG_AUDIO = tuple(c for c in AUDIO_COLUMNS if c != "time_signature")


def song_key(artists: pd.Series, titles: pd.Series) -> pd.Series:
    """Song identity across crawls: folded primary artist + normalised title.

    Examples
    --------
    >>> song_key(pd.Series(["Band;Guest", "band"]),
    ...          pd.Series(["Hit - Remastered 2011", "HIT (Live)"])).str.replace("\\x1f", "|"
    ...                                                                 ).tolist()
    ['band|hit', 'band|hit']
    """
    return primary_artist_key(artists) + "\x1f" + normalise_title(titles)


def billboard_artists(artist: pd.Series) -> pd.Series:
    """Billboard's "A Featuring B" written the main dataset's way, "A;B".

    Only "Featuring" / "feat." separate artists: "&", "," and "x" are also part of band
    names (Simon & Garfunkel; Earth, Wind & Fire), so they are left alone.

    Examples
    --------
    >>> billboard_artists(pd.Series(["Jay-Z Featuring Alicia Keys", "Simon & Garfunkel"])
    ...                   ).tolist()
    ['Jay-Z;Alicia Keys', 'Simon & Garfunkel']
    """
    return artist.str.replace(r"\s+(?:Featuring|featuring|Feat\.|feat\.)\s+", ";", regex=True)


def dedupe_music_genre(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One row per music_genre track (accepted rows of
    :func:`~analysis.external.validation.read_music_genre`).

    Returns
    -------
    tracks : pandas.DataFrame
        In order of first listing: ``track_key`` (``music_genre:<line>`` of that listing,
        the set has no ids), ``line``, ``artists``, ``track_name``, ``popularity`` (highest
        listed), ``popularity_spread``, ``duration_ms``, the audio columns, ``source_genre``
        (primary-genre rule), ``genres`` (every genre listed, joined by ``+``),
        ``n_genre_lists``.
    counts : dict
        ``duplicates`` (rows merged into another listing of their track), ``tracks``,
        ``tracks_in_several_genres``, ``popularity_conflicts`` (merged tracks listed with
        different popularity), ``duplicate_genre_pairs`` (tracks per genre combination).

    Examples
    --------
    >>> rows = pd.DataFrame({"line": [2, 3, 4], "artist_name": ["A", "A", "B"],
    ...                      "track_name": ["Hit", "Hit", "Hit"], "popularity": [50, 52, 9],
    ...                      "duration_ms": [1000] * 3, "music_genre": ["Rap", "Hip-Hop", "Rap"],
    ...                      **{c: [0.5] * 3 for c in _MG_AUDIO}})
    >>> tracks, counts = dedupe_music_genre(rows)
    >>> tracks[["track_key", "popularity", "genres"]].values.tolist()
    [['music_genre:2', 52, 'Hip-Hop+Rap'], ['music_genre:4', 9, 'Rap']]
    >>> counts["duplicates"], counts["popularity_conflicts"]
    (1, 1)
    """
    identity = ["artist_name", "track_name", "duration_ms", *_MG_AUDIO]
    code = rows.groupby(identity, sort=False, dropna=False).ngroup()
    first = ~code.duplicated()
    key = ("music_genre:" + rows.loc[first, "line"].astype(str)).to_numpy()[code.to_numpy()]
    listings = pd.DataFrame({"track_id": key, "track_genre": rows["music_genre"].to_numpy()})
    primary = choose_primary_genres(listings, genre_exclusivity(listings))
    grouped = rows.groupby(key, sort=False)
    genres = (listings.drop_duplicates().sort_values("track_genre", kind="stable")
              .groupby("track_id", sort=False)["track_genre"].agg("+".join))
    popularity = grouped["popularity"]
    tracks = rows.loc[first].reset_index(drop=True)
    track_key = pd.Series(key[first.to_numpy()])
    tracks = pd.DataFrame({
        "track_key": track_key, "line": tracks["line"], "artists": tracks["artist_name"],
        "track_name": tracks["track_name"],
        "popularity": popularity.max().reindex(track_key).to_numpy(),
        "popularity_spread": (popularity.max() - popularity.min()).reindex(track_key).to_numpy(),
        "duration_ms": tracks["duration_ms"], **{c: tracks[c] for c in _MG_AUDIO},
        "source_genre": primary.reindex(track_key).to_numpy(),
        "genres": genres.reindex(track_key).to_numpy(),
    })
    tracks["n_genre_lists"] = tracks["genres"].str.count(r"\+") + 1
    several = tracks[tracks["n_genre_lists"] > 1]
    counts = {
        "duplicates": int(len(rows) - len(tracks)),
        "tracks": int(len(tracks)),
        "tracks_in_several_genres": int(len(several)),
        "popularity_conflicts": int((several["popularity_spread"] > 0).sum()),
        "duplicate_genre_pairs": {k: int(v) for k, v in
                                  several["genres"].value_counts().sort_index().items()},
    }
    return tracks, counts


def dedupe_billboard(rows: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """One row per Billboard uri (accepted rows of
    :func:`~analysis.external.validation.read_billboard`, in file order).

    The first row of a uri represents it (its decade); ``decades`` lists every decade file
    it is in. Conflicting labels were already rejected, so a uri's rows agree on ``target``.

    Returns
    -------
    tracks : pandas.DataFrame
        ``track_id``, ``file``, ``line``, ``decade``, ``decades``, ``artists`` (Kaggle form,
        :func:`billboard_artists`), ``artist`` (as listed), ``track_name``, ``target``,
        ``duration_ms`` and the twelve audio columns.
    counts : dict
        ``duplicates`` (rows repeating a uri), ``tracks``, ``tracks_in_several_decades``.
    """
    first = ~rows["track_id"].duplicated()
    decades = rows.groupby("track_id", sort=False)["decade"].agg(
        lambda d: "+".join(dict.fromkeys(d)))
    tracks = rows.loc[first].reset_index(drop=True)
    tracks = pd.DataFrame({
        "track_id": tracks["track_id"], "file": tracks["file"], "line": tracks["line"],
        "decade": tracks["decade"], "decades": decades.reindex(tracks["track_id"]).to_numpy(),
        "artists": billboard_artists(tracks["artist"]), "artist": tracks["artist"],
        "track_name": tracks["track"], "target": tracks["target"],
        "duration_ms": tracks["duration_ms"], **{c: tracks[c] for c in AUDIO_COLUMNS},
    })
    counts = {
        "duplicates": int(len(rows) - len(tracks)),
        "tracks": int(len(tracks)),
        "tracks_in_several_decades": int(tracks["decades"].str.contains(r"\+").sum()),
    }
    return tracks, counts


def mark_overlap(
    tracks: pd.DataFrame, training: pd.DataFrame, *, by: str,
) -> tuple[pd.DataFrame, dict]:
    """Flag the tracks the training data already holds (``in_training``) and count them.

    Parameters
    ----------
    tracks : pandas.DataFrame
        A crawl's tracks with ``artists`` and ``track_name`` (and ``track_id`` for
        ``by="track_id"``).
    training : pandas.DataFrame
        The cleaned training tracks (``track_id``, ``artists``, ``track_name``).
    by : {"track_id", "song"}
        The key that decides (:data:`OVERLAP_KEYS`). The song key is counted either way.

    Returns
    -------
    tracks : pandas.DataFrame
        A copy with ``in_training`` (the decision), ``same_song_in_training`` and
        ``artist_in_training`` added.
    counts : dict
        ``overlap_key``, ``overlap_dropped`` (tracks with ``in_training``), ``scored`` (the
        rest), ``same_song_in_training``, ``same_song_other_track_id`` (``by="track_id"``:
        same song as a training track under another id, kept), ``artist_in_training``.

    Examples
    --------
    >>> train = pd.DataFrame({"track_id": ["a" * 22], "artists": ["Band"],
    ...                       "track_name": ["Hit"]})
    >>> mine = pd.DataFrame({"track_id": ["a" * 22, "b" * 22, "c" * 22],
    ...                      "artists": ["Band", "band;X", "Other"],
    ...                      "track_name": ["Hit", "Hit (Live)", "Hit"]})
    >>> marked, counts = mark_overlap(mine, train, by="track_id")
    >>> marked["in_training"].tolist(), counts["same_song_other_track_id"]
    ([True, False, False], 1)
    >>> mark_overlap(mine, train, by="song")[0]["in_training"].tolist()
    [True, True, False]
    """
    if by not in OVERLAP_KEYS:
        raise ValueError(f"by must be one of {list(OVERLAP_KEYS)}, got {by!r}")
    songs = set(song_key(training["artists"], training["track_name"]))
    same_song = song_key(tracks["artists"], tracks["track_name"]).isin(songs).to_numpy()
    artists = set(primary_artist_key(training["artists"]))
    known_artist = primary_artist_key(tracks["artists"]).isin(artists).to_numpy()
    if by == "track_id":
        in_training = tracks["track_id"].isin(set(training["track_id"])).to_numpy()
    else:
        in_training = same_song
    out = tracks.assign(in_training=in_training, same_song_in_training=same_song,
                        artist_in_training=known_artist)
    counts = {
        "overlap_key": OVERLAP_KEYS[by],
        "overlap_dropped": int(in_training.sum()),
        "scored": int((~in_training).sum()),
        "same_song_in_training": int(same_song.sum()),
        "artist_in_training": int(known_artist.sum()),
    }
    if by == "track_id":
        counts["same_song_other_track_id"] = int((same_song & ~in_training).sum())
    return out, counts


def scored_tracks(tracks: pd.DataFrame) -> pd.DataFrame:
    """The tracks an evaluation scores: those not in the training data, reindexed.

    Examples
    --------
    >>> scored_tracks(pd.DataFrame({"x": [1, 2], "in_training": [True, False]}))["x"].tolist()
    [2]
    """
    return tracks[~tracks["in_training"].to_numpy(dtype=bool)].reset_index(drop=True)


def prepare_set(name: str, rows: pd.DataFrame, training: pd.DataFrame
                ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """A crawl's valid rows as tracks, overlap marked, and the tracks an evaluation scores.

    ``name`` is ``"music_genre"`` (deduplicated by recording, matched by song) or
    ``"billboard"`` (by uri, matched by track id).

    Returns
    -------
    tracks : pandas.DataFrame
        One row per track, with ``in_training``.
    scored : pandas.DataFrame
        The tracks not in the training data (:func:`scored_tracks`).
    counts : dict
        The deduplication and overlap counts.
    """
    if name == "music_genre":
        tracks, dedupe_counts = dedupe_music_genre(rows)
        tracks, overlap_counts = mark_overlap(tracks, training, by="song")
    elif name == "billboard":
        tracks, dedupe_counts = dedupe_billboard(rows)
        tracks, overlap_counts = mark_overlap(tracks, training, by="track_id")
    else:
        raise ValueError(f"unknown external set {name!r}")
    return tracks, scored_tracks(tracks), {**dedupe_counts, **overlap_counts}
