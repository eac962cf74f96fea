"""Artist history: the one target-derived feature family, learnt and applied out-of-fold.

Apart from :mod:`analysis.features` because it is the only part of the matrix that reads
popularity, so its rules (primary artist only, a smoothing prior, never a track's own song
group) sit together where they can be read and tested as one. :mod:`analysis.features`
re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.protocols import N_SPLITS, RANDOM_STATE, inner_folds, primary_artist_key

__all__ = ["ARTIST_HISTORY_COLUMNS", "ARTIST_SMOOTHING", "ArtistHistory", "oof_artist_history"]

#: Prior weight (in tracks) pulling an artist's mean popularity toward the global mean.
ARTIST_SMOOTHING = 2.0

#: Artist-history columns, in matrix order (``known_artist`` only).
ARTIST_HISTORY_COLUMNS: tuple[str, ...] = (
    "artist_mean_popularity",
    "artist_n_tracks",
    "artist_max_popularity",
)


@dataclass(frozen=True)
class ArtistHistory:
    """Popularity history per primary artist, learnt from a set of training tracks.

    Multi-artist tracks are credited to their *primary* (first-credited) artist only: the lead
    is who A&R signs and whose audience a release reaches first; a featured credit would let a
    one-off guest spot define an artist's record.

    Attributes
    ----------
    stats : pandas.DataFrame
        Indexed by folded primary-artist name; columns ``n``, ``total``, ``best``.
    global_mean : float
        Mean popularity of the training tracks (the prior).
    smoothing : float
        Prior weight in tracks (:data:`ARTIST_SMOOTHING`).

    Examples
    --------
    >>> train = pd.DataFrame({"artists": ["A", "A", "B"], "popularity": [10, 30, 80]})
    >>> history = ArtistHistory.fit(train, smoothing=2)
    >>> history.transform(pd.DataFrame({"artists": ["A;X", "C"]})).round(2).to_dict("list")
    {'artist_mean_popularity': [30.0, 40.0], 'artist_n_tracks': [2.0, 0.0], \
'artist_max_popularity': [30.0, nan]}
    """

    stats: pd.DataFrame
    global_mean: float
    smoothing: float = ARTIST_SMOOTHING
    meta: Mapping = field(default_factory=dict)

    @classmethod
    def fit(
        cls, tracks: pd.DataFrame, *, smoothing: float = ARTIST_SMOOTHING,
        global_mean: float | None = None,
    ) -> ArtistHistory:
        """Aggregate popularity by primary artist over ``tracks`` (their labels are used)."""
        key = primary_artist_key(tracks["artists"])
        popularity = tracks["popularity"].astype("float64")
        grouped = popularity.groupby(key.to_numpy(), sort=True)
        stats = pd.DataFrame({"n": grouped.size().astype("float64"), "total": grouped.sum(),
                              "best": grouped.max()})
        stats.index.name = "artist"
        prior = float(popularity.mean()) if global_mean is None else float(global_mean)
        return cls(stats=stats, global_mean=prior, smoothing=float(smoothing))

    def transform(self, tracks: pd.DataFrame) -> pd.DataFrame:
        """The three history columns for ``tracks`` (unknown artists get the prior)."""
        key = primary_artist_key(tracks["artists"])
        found = self.stats.reindex(key.to_numpy())
        n = found["n"].fillna(0.0).to_numpy()
        total = found["total"].fillna(0.0).to_numpy()
        mean = (total + self.smoothing * self.global_mean) / (n + self.smoothing)
        return pd.DataFrame(
            {"artist_mean_popularity": mean, "artist_n_tracks": n,
             "artist_max_popularity": found["best"].to_numpy(dtype="float64")},
            index=tracks.index,
        )


def oof_artist_history(
    tracks: pd.DataFrame, groups: np.ndarray, *, n_splits: int = N_SPLITS,
    random_state: int = RANDOM_STATE, smoothing: float = ARTIST_SMOOTHING,
) -> pd.DataFrame:
    """Artist history of *training* tracks, each computed without its own song group.

    The training tracks are split into grouped inner folds
    (:func:`analysis.protocols.inner_folds`); each fold's history comes from the other folds,
    with the prior set to those folds' mean. A track therefore never sees its own popularity
    (nor its other versions'), and an artist with a single track gets the prior.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Training tracks with ``artists`` and ``popularity``.
    groups : numpy.ndarray
        Song groups of those tracks (:func:`analysis.protocols.song_groups`).

    Examples
    --------
    >>> train = pd.DataFrame({"artists": ["Solo", "B", "B", "C", "C"],
    ...                       "popularity": [99, 10, 20, 30, 40]})
    >>> h = oof_artist_history(train, np.arange(5), n_splits=2)
    >>> float(h.loc[0, "artist_n_tracks"]), bool(h.loc[0, "artist_mean_popularity"] < 99)
    (0.0, True)
    """
    folds = inner_folds(groups, n_splits=n_splits, random_state=random_state)
    parts = []
    for fold in range(n_splits):
        inside = folds == fold
        if not inside.any():
            continue
        history = ArtistHistory.fit(tracks[~inside], smoothing=smoothing)
        parts.append(history.transform(tracks[inside]))
    return pd.concat(parts).reindex(tracks.index)
