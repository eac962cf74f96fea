"""From 114,000 genre listings to one row per track, with every input row accounted for.

The raw file is not a table of tracks: it is 114 genre search results of 1,000 rows each, so
the same ``track_id`` appears under several genres (and a few times twice in one genre). Modeling
on rows would put copies of one track on both sides of a split. :func:`clean_tracks` therefore
collapses listings to tracks and records, for every input row, the bucket it landed in:

``kept``
    the row that represents its track (the listing in the track's primary genre);
``merged: same track under another genre``
    another genre's listing of a kept track; its genre joins the track's ``genres``;
``merged: repeated listing in the same genre``
    the track listed twice in one genre;
``dropped: missing artist and title``
    a row with no artist or title (one row, index 65900), unusable for grouping.

Rules chosen here (documented on the Data page):

* **Popularity** of a track listed with different values (720 tracks, crawl-time drift, mostly
  by one point) is the highest value seen; the spread is kept as ``popularity_spread``.
* **Primary genre** follows :func:`analysis.genres.choose_primary_genres` (label fixes first,
  then the most exclusive genre list).
* **Same song, several track_ids** (same ``artists`` and ``track_name``, e.g. single and album
  versions) are flagged with a shared ``song_id``; they stay separate tracks, and the evaluation
  protocols keep a song's versions on one side of every split.

Columns that describe how the data was sampled (``n_genre_lists``, ``n_song_versions``,
``n_album_tracks``) are kept as findings; :mod:`analysis.features` forbids them as model inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.genres import choose_primary_genres, genre_exclusivity, macro_genre_of

KEPT = "kept"
MERGED_OTHER_GENRE = "merged: same track under another genre"
MERGED_SAME_GENRE = "merged: repeated listing in the same genre"
DROPPED_MISSING = "dropped: missing artist and title"

#: Every bucket, in funnel order.
BUCKETS = (KEPT, MERGED_OTHER_GENRE, MERGED_SAME_GENRE, DROPPED_MISSING)

#: Track-level columns copied from the representative row (identical across a track's listings).
_TRACK_COLUMNS = [
    "track_id", "artists", "album_name", "track_name", "duration_ms", "explicit",
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo", "time_signature",
]

#: Genre pairs whose overlap the Data chapter reports as label problems.
LABEL_OVERLAPS = (("songwriter", "singer-songwriter"), ("reggae", "reggaeton"), ("dub", "dubstep"))


@dataclass(frozen=True)
class CleaningResult:
    """Output of :func:`clean_tracks`: tracks, per-row accounting, and summary counts."""

    tracks: pd.DataFrame
    rows: pd.DataFrame
    summary: dict


def primary_artist(artists: pd.Series) -> pd.Series:
    """The first-credited artist (``artists`` is ``;``-separated in this data).

    Examples
    --------
    >>> primary_artist(pd.Series(["Ingrid Michaelson;ZAYN", "Gen Hoshino"])).tolist()
    ['Ingrid Michaelson', 'Gen Hoshino']
    """
    return artists.str.replace(r"\s*;.*$", "", regex=True).str.strip()


def song_key(artists: pd.Series, track_name: pd.Series) -> pd.Series:
    """Identity of a song across track_ids: exact credited artists plus exact title."""
    return artists + "\x1f" + track_name


def _genre_lists(track_code: np.ndarray, genre: pd.Series, n_tracks: int) -> pd.Series:
    """Each track's distinct genres in file (alphabetical) order, one list per track.

    Built from offsets in one pass (sort by track code, then genre): a per-group Python
    lambda over 90k tracks costs seconds.
    """
    genre_code, genre_names = pd.factorize(genre, sort=True)
    pairs = np.unique(track_code.astype(np.int64) * len(genre_names) + genre_code)
    tracks_of_pairs = pairs // len(genre_names)
    offsets = np.searchsorted(tracks_of_pairs, np.arange(n_tracks + 1)).astype(np.int32)
    values = pa.array(np.asarray(genre_names, dtype=object)[pairs % len(genre_names)],
                      type=pa.string())
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pd.Series(lists.to_pylist(), dtype=object)


def _label_overlaps(listings: pd.DataFrame) -> list[dict]:
    named = {g for pair in LABEL_OVERLAPS for g in pair}
    subset = listings[listings["track_genre"].isin(named)]
    members = {g: set(ids) for g, ids in subset.groupby("track_genre")["track_id"]}
    out = []
    for first, second in LABEL_OVERLAPS:
        a, b = members.get(first, set()), members.get(second, set())
        shared = a & b
        top = (
            subset[subset["track_genre"].eq(first) & subset["track_id"].isin(shared)]
            .drop_duplicates("track_id")["artists"].value_counts().head(5)
        )
        out.append({
            "genre": first, "other": second, "genre_tracks": len(a), "other_tracks": len(b),
            "shared_tracks": len(shared), "identical": a == b,
            "top_shared_artists": [str(x) for x in top.index],
        })
    return out


def _count_within(key: pd.Series) -> np.ndarray:
    """For each element, how many elements share its value."""
    codes = pd.factorize(key)[0]
    return np.bincount(codes)[codes]


def clean_tracks(raw: pd.DataFrame) -> CleaningResult:
    """Collapse genre listings to one row per track and account for every input row.

    Parameters
    ----------
    raw
        The validated raw table (:func:`analysis.schema.read_tracks_csv`), indexed by the
        original Kaggle row index.

    Returns
    -------
    CleaningResult
        ``tracks`` (one row per track_id), ``rows`` (one row per input row with its bucket) and
        ``summary`` (counts for the report).
    """
    raw = raw.rename_axis("source_index").reset_index()
    missing = (raw["artists"].isna() | raw["track_name"].isna()).to_numpy()
    listings = raw[~missing]

    # Integer track codes once; everything per track is then array indexing, not string maps.
    code, track_ids = pd.factorize(listings["track_id"], sort=True)
    n_tracks = len(track_ids)
    primary = choose_primary_genres(listings, genre_exclusivity(listings))
    primary = primary.reindex(track_ids).to_numpy()
    in_primary = listings["track_genre"].to_numpy() == primary[code]
    # The representative is each track's first listing in its primary genre.
    position = np.flatnonzero(in_primary)
    first = position[np.unique(code[position], return_index=True)[1]]
    representative = listings["source_index"].to_numpy()[first]  # ordered by track code

    # Per-row accounting.
    rows = raw[["source_index", "track_id", "track_genre"]].copy()
    kept_as = np.full(len(raw), -1, dtype=np.int64)
    kept_as[~missing] = representative[code]
    rows["kept_as"] = pd.array(np.where(missing, None, kept_as), dtype="Int64")
    bucket = np.full(len(raw), MERGED_OTHER_GENRE, dtype=object)
    bucket[raw.duplicated(["track_id", "track_genre"]).to_numpy() & ~missing] = MERGED_SAME_GENRE
    bucket[kept_as == raw["source_index"].to_numpy()] = KEPT
    bucket[missing] = DROPPED_MISSING
    rows["bucket"] = pd.Categorical(bucket, categories=BUCKETS)

    # One row per track, in track-code order first.
    pop = listings["popularity"].to_numpy()
    pop_max = np.full(n_tracks, np.iinfo(np.int64).min)
    pop_min = np.full(n_tracks, np.iinfo(np.int64).max)
    np.maximum.at(pop_max, code, pop)
    np.minimum.at(pop_min, code, pop)
    tracks = listings.iloc[first][["source_index", *_TRACK_COLUMNS]].reset_index(drop=True)
    tracks["popularity"] = pop_max
    tracks["popularity_spread"] = pop_max - pop_min
    tracks["primary_genre"] = pd.array(primary, dtype="string")
    tracks["macro_genre"] = macro_genre_of(tracks["primary_genre"])
    tracks["genres"] = _genre_lists(code, listings["track_genre"], n_tracks)
    tracks["n_genre_lists"] = tracks["genres"].str.len().astype("int64")
    tracks["primary_artist"] = primary_artist(tracks["artists"])
    key = song_key(tracks["artists"], tracks["track_name"])
    tracks["song_id"] = pd.factorize(key, sort=True)[0].astype("int64")
    tracks["n_song_versions"] = _count_within(key)
    album = tracks["primary_artist"] + "\x1f" + tracks["album_name"]
    tracks["n_album_tracks"] = _count_within(album)
    tracks = tracks.sort_values("source_index", kind="stable").reset_index(drop=True)

    return CleaningResult(tracks=tracks, rows=rows, summary=_summarise(raw, rows, tracks, listings))


def _summarise(
    raw: pd.DataFrame, rows: pd.DataFrame, tracks: pd.DataFrame, listings: pd.DataFrame
) -> dict:
    """Counts quoted by the Data chapter; every number there comes from here."""
    per_genre = raw["track_genre"].value_counts()
    songs = tracks["n_song_versions"]
    conflicts = tracks["popularity_spread"].gt(0)
    return {
        "input_rows": int(len(raw)),
        "genres": int(raw["track_genre"].nunique()),
        "rows_per_genre_min": int(per_genre.min()),
        "rows_per_genre_max": int(per_genre.max()),
        "buckets": {b: int(n) for b, n in rows["bucket"].value_counts().reindex(BUCKETS).items()},
        "tracks": int(len(tracks)),
        "distinct_track_ids_in_input": int(raw["track_id"].nunique()),
        "rows_repeating_a_track_id": int(raw["track_id"].duplicated().sum()),
        "fully_duplicated_rows": int(raw.drop(columns="source_index").duplicated().sum()),
        "dropped_source_indices": [
            int(i) for i in rows.loc[rows["bucket"].eq(DROPPED_MISSING), "source_index"]
        ],
        "multi_genre_tracks": int(tracks["n_genre_lists"].gt(1).sum()),
        "max_genre_lists": int(tracks["n_genre_lists"].max()),
        "popularity_conflicts": int(conflicts.sum()),
        "popularity_conflict_max_spread": int(tracks["popularity_spread"].max()),
        "popularity_conflicts_spread_one": int(tracks["popularity_spread"].eq(1).sum()),
        "same_song_groups": int(tracks.loc[songs.gt(1), "song_id"].nunique()),
        "tracks_in_same_song_groups": int(songs.gt(1).sum()),
        "zero_popularity_tracks": int(tracks["popularity"].eq(0).sum()),
        "zero_popularity_share": float(tracks["popularity"].eq(0).mean()),
        "label_overlaps": _label_overlaps(listings),
    }
