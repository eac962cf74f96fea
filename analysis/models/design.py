"""Model matrices: the one :func:`design_matrix` of an honest protocol, and the per-protocol
evaluation designs (matrix, target, folds, groups) the build scores models on.

Training, the benchmark, :mod:`analysis.explain` and :mod:`analysis.export` all build an
honest matrix through :func:`design_matrix`, so a champion, its explanation and its browser
export see the same columns computed the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.features import (
    ARTIST_HISTORY_COLUMNS,
    ArtistHistory,
    check_allowed,
    make_features,
    make_replica_features,
    oof_artist_history,
    with_artist_history,
)
from analysis.protocols import (
    N_SPLITS,
    album_seen_in_training,
    protocol_folds,
    protocol_groups,
    seed_replica_rows,
    seed_replica_split,
)


def design_matrix(
    tracks: pd.DataFrame, protocol: str, *, fit_rows: np.ndarray | None = None,
    n_splits: int = N_SPLITS, base: pd.DataFrame | None = None,
    history_groups: np.ndarray | None = None,
) -> pd.DataFrame:
    """The model matrix of an honest ``protocol`` for every track, as a model fitted on
    ``fit_rows`` sees it: the one place a training, explaining or exporting matrix is built.

    ``cold_start``: the intrinsic and label features (:func:`analysis.features.make_features`).
    ``known_artist`` adds the artist's popularity history, which is target-derived and
    therefore computed without the track's own label: for the fit rows out of fold, over
    grouped inner folds of the fit rows (:func:`analysis.features.oof_artist_history`); for
    every other row from all fit rows (a test fold sees its training fold's history).

    Parameters
    ----------
    tracks : pandas.DataFrame
        Cleaned tracks (:func:`analysis.data.load_tracks`), one row per track.
    protocol : {"cold_start", "known_artist"}
    fit_rows : numpy.ndarray, optional
        Positions of the rows a model is fitted on (an outer training fold); default all rows
        (the champion's matrix).
    n_splits : int
        Inner folds of the out-of-fold history (the build's ``Budget.n_splits``).
    base : pandas.DataFrame, optional
        ``make_features(tracks, protocol="cold_start")`` when the caller already has it.
    history_groups : numpy.ndarray, optional
        What the inner folds of the out-of-fold history never split; default the protocol's
        groups (songs). The album-grouped evaluation passes album groups.

    Returns
    -------
    pandas.DataFrame
        One row per track, positionally aligned with ``tracks``, float64, contract columns.
    """
    if base is None:
        base = make_features(tracks, protocol="cold_start")
    if protocol == "cold_start":
        check_allowed(base.columns, protocol)
        return base
    if protocol != "known_artist":
        raise ValueError(f"design_matrix builds honest matrices; got {protocol!r}")
    positions = np.arange(len(tracks))
    fit = positions if fit_rows is None else np.asarray(fit_rows)
    rest = np.setdiff1d(positions, fit)
    fit_tracks = tracks.iloc[fit]
    groups = protocol_groups(tracks, protocol) if history_groups is None else history_groups
    history = pd.DataFrame(np.nan, index=positions, columns=list(ARTIST_HISTORY_COLUMNS))
    history.iloc[fit] = oof_artist_history(fit_tracks, groups[fit], n_splits=n_splits).to_numpy()
    if len(rest):
        history.iloc[rest] = ArtistHistory.fit(fit_tracks).transform(tracks.iloc[rest]).to_numpy()
    return with_artist_history(base, history)


def as_array(X) -> np.ndarray:
    """Plain float64 array: XGBoost re-reads pandas feature names on every boosting round,
    which dominates small fits; names are attached to the champion's booster explicitly.

    Examples
    --------
    >>> as_array(pd.DataFrame({"a": [1, 2]})).dtype
    dtype('float64')
    """
    return np.ascontiguousarray(X.to_numpy(dtype="float64") if hasattr(X, "to_numpy") else X,
                                dtype="float64")


@dataclass
class Design:
    """What one protocol's evaluation needs, computed once.

    ``extra`` carries what only some protocols have (the replica's split and source rows,
    the honest protocols' album check) and caches of the build (fold matrices, the tuned
    parameters ``xgboost_monotone`` reuses).
    """

    protocol: str
    base: pd.DataFrame            # intrinsic + label (honest) or replica matrix
    y: np.ndarray
    ids: pd.Series                # track_id per row
    macro: np.ndarray             # macro-genre per row
    folds: np.ndarray             # fold per row (-1: not predicted, replica train rows)
    groups: np.ndarray            # protocol groups (replica: row ids)
    tracks: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n_folds(self) -> int:
        return int(self.folds.max()) + 1


def honest_design(tracks: pd.DataFrame, protocol: str, n_splits: int = N_SPLITS) -> Design:
    """The evaluation design of an honest protocol: the cold_start matrix (artist history is
    added per training fold by :func:`design_matrix`), the protocol's grouped folds."""
    base = make_features(tracks, protocol="cold_start")  # intrinsic + label; history per fold
    folds = protocol_folds(tracks, protocol, n_splits=n_splits)
    return Design(
        protocol=protocol, base=base, y=tracks["popularity"].to_numpy(dtype="float64"),
        ids=tracks["track_id"].reset_index(drop=True),
        macro=tracks["macro_genre"].astype(str).to_numpy(),
        folds=folds, groups=protocol_groups(tracks, protocol), tracks=tracks,
        extra={"album_seen": album_seen_in_training(tracks, folds)},
    )


def replica_design(raw: pd.DataFrame) -> Design:
    """The leaky replica: the original's rows, features and one seeded 80/20 split (the test
    rows are fold 0, the training rows -1)."""
    from analysis.genres import macro_genre_of

    rows = seed_replica_rows(raw)
    base = make_replica_features(rows)
    train, test = seed_replica_split(rows)
    folds = np.full(len(rows), -1, dtype=np.int64)
    folds[test] = 0
    return Design(
        protocol="seed_replica", base=base, y=rows["popularity"].to_numpy(dtype="float64"),
        ids=rows["track_id"].reset_index(drop=True),
        macro=macro_genre_of(rows["track_genre"]).astype(str).to_numpy(),
        folds=folds, groups=np.arange(len(rows)), tracks=rows,
        extra={"source_index": rows.index.to_numpy(), "train": train, "test": test},
    )


def fold_signature(design: Design) -> str:
    """SHA-256 of the rows, their folds and the base columns: two builds with the same
    signature scored their models on the same splits (forests are carried over on it)."""
    digest = hashlib.sha256()
    digest.update("\n".join(design.ids.astype(str)).encode())
    digest.update(design.folds.astype(np.int64).tobytes())
    digest.update("\n".join(design.base.columns).encode())
    return digest.hexdigest()
