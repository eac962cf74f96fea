"""What the external crawls say about the main one: findings, not model scores.

Two questions decide how far an in-data result can be read as a property of music rather
than of one crawl:

* **Does an artist's popularity carry over?** The known-artist model leans on an artist's
  mean popularity in the training crawl. :func:`artist_history_across_crawls` compares that
  mean between the Kaggle crawl and music_genre for artists with enough tracks in both,
  beside the same comparison *within* one crawl (a random half of an artist's tracks
  against the other half), which says how stable the mean is when nothing but the sample
  changes.
* **How much of the main crawl is copies?** Compilation, seasonal and dated albums hold
  second versions of songs, often at popularity 0; :func:`album_copies` counts them. A
  model can learn to spot them from the album name, which other crawls barely contain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.external.in_data import new_release_mask
from analysis.features import COPY_ALBUM_MARKERS, copy_album_markers
from analysis.protocols import RANDOM_STATE, primary_artist_key, song_groups

__all__ = [
    "MIN_ARTIST_TRACKS",
    "album_copies",
    "artist_history_across_crawls",
    "artist_means",
    "split_half",
]

#: Tracks an artist needs on each side of a comparison for its mean to enter it.
MIN_ARTIST_TRACKS = 3


def _correlations(a: np.ndarray, b: np.ndarray) -> dict:
    from scipy.stats import pearsonr, spearmanr

    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    if len(a) < 3:
        return {"n": int(len(a)), "spearman": None, "pearson": None}
    return {"n": int(len(a)), "spearman": float(spearmanr(a, b).statistic),
            "pearson": float(pearsonr(a, b).statistic)}


def artist_means(tracks: pd.DataFrame) -> pd.DataFrame:
    """Mean popularity and track count per primary artist (folded, as artist history keys it).

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A;B", "a", "C"], "popularity": [10, 30, 5]})
    >>> artist_means(t).to_dict("index")
    {'a': {'mean': 20.0, 'n': 2}, 'c': {'mean': 5.0, 'n': 1}}
    """
    key = primary_artist_key(tracks["artists"]).to_numpy()
    grouped = tracks["popularity"].astype("float64").groupby(key, sort=True)
    return pd.DataFrame({"mean": grouped.mean(), "n": grouped.size()})


def split_half(tracks: pd.DataFrame, *, min_tracks: int = MIN_ARTIST_TRACKS,
               random_state: int = RANDOM_STATE) -> dict:
    """An artist's mean over a random half of its tracks against the other half's.

    The within-crawl reference for :func:`artist_history_across_crawls`: only the sample of
    tracks changes. Artists need ``min_tracks`` in each half; the halves are drawn with
    ``numpy.random.default_rng(random_state)``, one coin per track in table order.

    Returns
    -------
    dict
        ``n`` (artists), ``spearman``, ``pearson``.
    """
    half = np.random.default_rng(random_state).integers(0, 2, len(tracks))
    first, second = (artist_means(tracks[half == h]) for h in (0, 1))
    both = first.join(second, how="inner", suffixes=("_a", "_b"))
    both = both[(both["n_a"] >= min_tracks) & (both["n_b"] >= min_tracks)]
    return _correlations(both["mean_a"], both["mean_b"])


def _across(kaggle: pd.DataFrame, other: pd.DataFrame, min_tracks: int) -> dict:
    both = artist_means(kaggle).join(artist_means(other), how="inner",
                                     suffixes=("_kaggle", "_other"))
    both = both[(both["n_kaggle"] >= min_tracks) & (both["n_other"] >= min_tracks)]
    out = _correlations(both["mean_kaggle"], both["mean_other"])
    out["mean_abs_difference"] = (float((both["mean_kaggle"] - both["mean_other"]).abs().mean())
                                  if len(both) else None)
    return out


def artist_history_across_crawls(
    kaggle: pd.DataFrame, music_genre: pd.DataFrame, *, min_tracks: int = MIN_ARTIST_TRACKS,
    random_state: int = RANDOM_STATE,
) -> dict:
    """Artist mean popularity in the Kaggle crawl against music_genre, and within each crawl.

    Parameters
    ----------
    kaggle : pandas.DataFrame
        The cleaned training tracks (``artists``, ``popularity``).
    music_genre : pandas.DataFrame
        Its deduplicated tracks with ``in_training``
        (:func:`analysis.external.tracks.mark_overlap`).

    Returns
    -------
    dict
        ``min_tracks``; ``across_crawls``: ``all_tracks`` (every valid music_genre track)
        and ``scored_tracks`` (those not the same song as a Kaggle track), each ``n``
        (artists with ``min_tracks`` in both crawls), ``spearman``, ``pearson``,
        ``mean_abs_difference`` (popularity points); ``within_crawl``: :func:`split_half`
        of ``kaggle`` and of ``music_genre``.
    """
    scored = music_genre[~music_genre["in_training"].to_numpy(dtype=bool)]
    return {
        "min_tracks": min_tracks,
        "across_crawls": {
            "all_tracks": _across(kaggle, music_genre, min_tracks),
            "scored_tracks": _across(kaggle, scored, min_tracks),
        },
        "within_crawl": {
            "kaggle": split_half(kaggle, min_tracks=min_tracks, random_state=random_state),
            "music_genre": split_half(music_genre, min_tracks=min_tracks,
                                      random_state=random_state),
        },
    }


def album_copies(tracks: pd.DataFrame) -> dict:
    """Popularity of the main crawl's tracks by copy-album marker, and the slices' sizes.

    Returns
    -------
    dict
        ``by_marker``: one row per marker (:data:`COPY_ALBUM_MARKERS`), ``any`` of them,
        ``none`` and ``all`` tracks, each with ``tracks``, ``share_popularity_0``,
        ``mean_popularity``, ``share_second_version`` (the song has more than one track id
        in the crawl); ``slices``: ``tracks``, ``popularity_0``, ``copy_album``,
        ``second_version``, ``new_release``.

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A", "A", "B"], "popularity": [0, 40, 60],
    ...                   "track_name": ["Jingle", "Jingle", "Song"],
    ...                   "album_name": ["Christmas 2020", "Jingle", "LP"]})
    >>> copies = album_copies(t)
    >>> [(r["group"], r["tracks"], r["share_popularity_0"]) for r in copies["by_marker"]][:2]
    [('album_compilation', 0, None), ('album_seasonal', 1, 1.0)]
    >>> copies["slices"]["new_release"]
    1
    """
    markers = copy_album_markers(tracks)
    copy = markers.any(axis=1).to_numpy()
    groups = song_groups(tracks)
    second = np.bincount(groups)[groups] > 1
    popularity = tracks["popularity"].to_numpy("float64")
    rows = {**{m: markers[m].to_numpy() for m in COPY_ALBUM_MARKERS},
            "any": copy, "none": ~copy, "all": np.ones(len(tracks), dtype=bool)}
    by_marker = []
    for group, mask in rows.items():
        part = popularity[mask]
        by_marker.append({
            "group": group, "tracks": int(mask.sum()),
            "share_popularity_0": float((part == 0).mean()) if len(part) else None,
            "mean_popularity": float(part.mean()) if len(part) else None,
            "share_second_version": float(second[mask].mean()) if len(part) else None,
        })
    return {
        "by_marker": by_marker,
        "slices": {"tracks": int(len(tracks)), "popularity_0": int((popularity == 0).sum()),
                   "copy_album": int(copy.sum()), "second_version": int(second.sum()),
                   "new_release": int(new_release_mask(tracks).sum())},
    }
