# ruff: noqa: E402  (imports follow the OpenMP setting below)
"""Evaluation protocols: the only place in the library that splits data.

A popularity model is only as honest as the split it is scored on. This dataset makes the
naive split badly optimistic in two ways: the same ``track_id`` is listed under several genres
(so copies of a track land on both sides of a row-level split), and an artist's mean popularity
computed over *all* rows contains the test track's own label. Three protocols are defined here,
and every module that evaluates a model asks this one for its folds:

``seed_replica`` (leaky, shown only to expose the leak)
    The original recipe as far as it can be inferred: the 114,000 raw rows after ``dropna()`` and
    ``drop_duplicates()``, an artist mean computed on all of them, and a random 80/20 row split
    with seed 42 (:func:`seed_replica_rows`, :func:`seed_replica_split`).
``known_artist`` (honest: "a new track by an artist we know")
    One row per track; 5-fold cross-validation grouped by *song* (:func:`song_groups`: same
    credited artists and the same normalised title never sit on both sides), so a single and its
    album version are predicted together. Artist history is computed from training folds only,
    out-of-fold inside them (:func:`inner_folds`, used by :mod:`analysis.features`).
``cold_start`` (honest: "a track by an artist we have never seen")
    One row per track; 5-fold cross-validation grouped by *primary* (first-credited) artist
    (:func:`artist_groups`), and no target-derived features at all. Grouping by every credited
    artist is impossible here (the collaboration graph's largest component holds 42.6% of the
    tracks), so :func:`featured_artist_overlap` reports how often a featured artist of a test
    track was seen in training.

Two further splits score what transfers to other crawls (:mod:`analysis.external.comparison`),
not the protocols' tables: :func:`known_artist_by_album_folds` (a new *album* by a known artist:
history from the artist's other albums only) and :func:`macro_genre_holdout_folds` (each
macro-genre held out in turn, with the artists it touches).

Every split is deterministic: :data:`RANDOM_STATE` seeds scikit-learn's shuffled
:class:`~sklearn.model_selection.GroupKFold`.
"""

from __future__ import annotations

import os

# Passive OpenMP waiting before scikit-learn's runtime loads (see analysis.models: spinning
# threads make fits on a shared 2-core machine an order of magnitude slower; results unchanged).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sklearn.model_selection import GroupKFold

# scipy's graph routines and scikit-learn's splitters are imported where a split is made, so
# that the constants here (read by every chapter) do not load them.

__all__ = [
    "HONEST_PROTOCOLS",
    "N_SPLITS",
    "PROTOCOLS",
    "PROTOCOL_INFO",
    "RANDOM_STATE",
    "REPLICA_TEST_SIZE",
    "FoldLeakError",
    "ProtocolInfo",
    "album_groups",
    "album_seen_in_training",
    "artist_groups",
    "check_group_disjoint",
    "cold_start_folds",
    "featured_artist_overlap",
    "group_kfold",
    "inner_folds",
    "known_artist_by_album_folds",
    "known_artist_folds",
    "macro_genre_holdout_folds",
    "normalise_artists",
    "normalise_title",
    "primary_artist_key",
    "protocol_folds",
    "protocol_groups",
    "seed_replica_rows",
    "seed_replica_split",
    "song_groups",
]

#: The one seed every split, model and tuner in the project uses.
RANDOM_STATE = 42

#: Folds of the honest protocols (and of the inner splits inside their training folds).
N_SPLITS = 5

#: Test share of the original's random row split.
REPLICA_TEST_SIZE = 0.2


@dataclass(frozen=True)
class ProtocolInfo:
    """What a protocol measures, for tables and chapter prose.

    Attributes
    ----------
    name : str
        Identifier used in file names and ``metrics.json``.
    leaky : bool
        True for the replica of the original recipe; such numbers are never a claim.
    unit : str
        What one modeling row is.
    grouped_by : str
        What is never on both sides of a split.
    question : str
        The business question the protocol answers.
    """

    name: str
    leaky: bool
    unit: str
    grouped_by: str
    question: str


#: The three protocols, in the order chapters show them (the leak first).
PROTOCOL_INFO: dict[str, ProtocolInfo] = {
    "seed_replica": ProtocolInfo(
        "seed_replica", True, "genre listing (raw row)", "nothing (random 80/20 rows, seed 42)",
        "LEAKY replica of the original: artist mean over all rows, duplicate tracks across "
        "the split",
    ),
    "known_artist": ProtocolInfo(
        "known_artist", False, "track", "song (credited artists + normalised title)",
        "How popular will a new track by an artist we already know be?",
    ),
    "cold_start": ProtocolInfo(
        "cold_start", False, "track", "primary (first-credited) artist",
        "How popular will a track by an artist we have never seen be?",
    ),
}

PROTOCOLS: tuple[str, ...] = tuple(PROTOCOL_INFO)
HONEST_PROTOCOLS: tuple[str, ...] = tuple(p for p, i in PROTOCOL_INFO.items() if not i.leaky)


class FoldLeakError(AssertionError):
    """A group (song or artist) has rows in more than one fold."""


# --- identities --------------------------------------------------------------------------------

_BRACKETED = re.compile(r"[\(\[\{][^\)\]\}]*[\)\]\}]")
_VERSION_SUFFIX = re.compile(r"\s+-\s+.*$")
_NON_WORD = re.compile(r"[^\w]+")


def _fold_text(text: pd.Series) -> pd.Series:
    """Unicode-normalise (NFKC) and casefold, so 'Ｓｏｎｇ' and 'song' compare equal."""
    return text.astype("string").fillna("").map(
        lambda s: unicodedata.normalize("NFKC", s).casefold()
    ).astype("string")


def normalise_title(titles: pd.Series) -> pd.Series:
    """A title with its version decorations removed, for grouping a song's versions.

    Bracketed parts and anything after ``" - "`` are version markers in this data
    ("Remastered 2011", "Live", "feat. X", "Radio Edit"), so they are dropped; case, accents'
    compatibility forms, punctuation and spacing are folded. A title that is *only*
    decoration keeps its folded full text.

    Examples
    --------
    >>> normalise_title(pd.Series([
    ...     "Let It Snow, Let It Snow - Remastered", "Let it snow let it snow (Live)", "(Intro)",
    ... ])).tolist()
    ['let it snow let it snow', 'let it snow let it snow', 'intro']
    """
    folded = _fold_text(titles)
    stripped = folded.str.replace(_BRACKETED, " ", regex=True).str.replace(
        _VERSION_SUFFIX, "", regex=True
    )
    stripped = stripped.str.replace(_NON_WORD, " ", regex=True).str.strip()
    fallback = folded.str.replace(_NON_WORD, " ", regex=True).str.strip()
    return stripped.where(stripped.str.len() > 0, fallback)


def normalise_artists(artists: pd.Series) -> pd.Series:
    """The set of credited artists, folded and sorted, so credit order does not matter.

    Examples
    --------
    >>> normalise_artists(pd.Series(["Band;Guest", "guest; BAND", "Solo"])).tolist()
    ['band;guest', 'band;guest', 'solo']
    """
    folded = _fold_text(artists)
    return folded.map(
        lambda s: ";".join(sorted({a.strip() for a in s.split(";") if a.strip()}))
    ).astype("string")


def primary_artist_key(artists: pd.Series) -> pd.Series:
    """The first-credited artist, folded: the identity cold-start groups and artist history use.

    Examples
    --------
    >>> primary_artist_key(pd.Series(["Ingrid Michaelson;ZAYN", " gen HOSHINO"])).tolist()
    ['ingrid michaelson', 'gen hoshino']
    """
    return _fold_text(artists).str.split(";", n=1).str[0].str.strip()


def song_groups(tracks: pd.DataFrame) -> np.ndarray:
    """Song identity of each track: same credited artists (any order) + same normalised title.

    Coarser than :func:`analysis.cleaning.song_key` (exact strings), so every ``song_id`` group
    of the cleaned data lies inside one song group here. Grouping wider is the safe direction:
    a remaster and its original can never be on both sides of a split.

    Returns
    -------
    numpy.ndarray
        One integer per row (codes in sorted key order, so stable across runs).

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A;B", "B;A", "A"],
    ...                   "track_name": ["Hit - Radio Edit", "Hit", "Hit"]})
    >>> g = song_groups(t)
    >>> bool(g[0] == g[1]), bool(g[0] == g[2])
    (True, False)
    """
    key = normalise_artists(tracks["artists"]) + "\x1f" + normalise_title(tracks["track_name"])
    return pd.factorize(key, sort=True)[0].astype(np.int64)


def artist_groups(tracks: pd.DataFrame) -> np.ndarray:
    """Cold-start groups: the primary artist, merged through song groups.

    A song credited "A;B" on one release and "B;A" on another has two different primary
    artists; merging both artists into one group (connected components over artist and song
    links) keeps every song *and* every primary artist on one side of a split.

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A;B", "B;A", "C", "a"],
    ...                   "track_name": ["Hit", "Hit", "Other", "Solo"]})
    >>> artist_groups(t).tolist()
    [0, 0, 1, 0]
    """
    artist = pd.factorize(primary_artist_key(tracks["artists"]), sort=True)[0]
    return _linked(artist, song_groups(tracks))


def album_groups(tracks: pd.DataFrame) -> np.ndarray:
    """Album groups: the primary artist's album (folded album name), merged through songs.

    What ``known_artist_by_album`` never splits: a new release by a known artist is usually
    a new album, so its sister tracks must not sit in training. The album is taken per primary
    artist ("Greatest Hits" of two artists are two albums), and merging through song groups
    keeps a single and its album version together.

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A", "A", "A", "B", "A"],
    ...                   "album_name": ["LP", "lp", "Hits", "Hits", "Single"],
    ...                   "track_name": ["x", "y", "z", "w", "x - Radio Edit"]})
    >>> album_groups(t).tolist()
    [0, 0, 1, 2, 0]
    """
    album = primary_artist_key(tracks["artists"]) + "\x1f" + _fold_text(
        tracks["album_name"]).str.strip()
    return _linked(pd.factorize(album, sort=True)[0], song_groups(tracks))


def _linked(*codes: np.ndarray) -> np.ndarray:
    """Connected components of tracks that share any of the given codes (one integer array
    per kind of link, one value per track), numbered in order of first appearance."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(codes[0])
    # Bipartite graph: track nodes 0..n-1, then one block of nodes per kind of link.
    rows, cols, offset = [], [], n
    for code in codes:
        code = np.asarray(code, dtype=np.int64)
        rows.append(np.arange(n))
        cols.append(offset + code)
        offset += int(code.max()) + 1 if n else 0
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(offset, offset))
    _, labels = connected_components(graph, directed=False)
    return pd.factorize(labels[:n], sort=False)[0].astype(np.int64)


def protocol_groups(tracks: pd.DataFrame, protocol: str) -> np.ndarray:
    """The grouping an honest protocol never splits: songs or (primary) artists."""
    if protocol == "known_artist":
        return song_groups(tracks)
    if protocol == "cold_start":
        return artist_groups(tracks)
    raise ValueError(f"protocol {protocol!r} is not grouped; expected one of {HONEST_PROTOCOLS}")


# --- folds -------------------------------------------------------------------------------------

def group_kfold(
    n_splits: int = N_SPLITS, *, random_state: int = RANDOM_STATE
) -> GroupKFold:
    """The project's grouped splitter: shuffled, seeded, groups never straddle folds."""
    from sklearn.model_selection import GroupKFold

    return GroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)


def _assign_folds(groups: np.ndarray, n_splits: int, random_state: int) -> np.ndarray:
    groups = np.asarray(groups)
    folds = np.full(len(groups), -1, dtype=np.int64)
    splitter = group_kfold(n_splits, random_state=random_state)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(groups)), groups=groups)):
        folds[test] = fold
    return folds


def known_artist_folds(
    tracks: pd.DataFrame, *, n_splits: int = N_SPLITS, random_state: int = RANDOM_STATE
) -> np.ndarray:
    """Fold number (0..n_splits-1) of each track, grouped by song (:func:`song_groups`).

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A"] * 4 + ["B"] * 4,
    ...                   "track_name": ["x", "x (Live)", "y", "z", "x", "w", "v", "u"]})
    >>> f = known_artist_folds(t, n_splits=2)
    >>> bool(f[0] == f[1])  # a song and its live version share a fold
    True
    """
    return _assign_folds(song_groups(tracks), n_splits, random_state)


def cold_start_folds(
    tracks: pd.DataFrame, *, n_splits: int = N_SPLITS, random_state: int = RANDOM_STATE
) -> np.ndarray:
    """Fold number of each track, grouped by primary artist (:func:`artist_groups`).

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A", "A;X", "B", "C", "D", "D;A"],
    ...                   "track_name": list("pqrstu")})
    >>> f = cold_start_folds(t, n_splits=2)
    >>> bool(f[0] == f[1]), bool(f[4] == f[5])
    (True, True)
    """
    return _assign_folds(artist_groups(tracks), n_splits, random_state)


def known_artist_by_album_folds(
    tracks: pd.DataFrame, *, n_splits: int = N_SPLITS, random_state: int = RANDOM_STATE
) -> np.ndarray:
    """Fold of each track for "a new album by a known artist": grouped by album
    (:func:`album_groups`), so the artist's history on the training side comes from the
    artist's *other* albums only (the song-grouped ``known_artist`` folds put 60% of test
    tracks beside sister tracks of their own album)."""
    return _assign_folds(album_groups(tracks), n_splits, random_state)


def macro_genre_holdout_folds(tracks: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Leave-one-macro-genre-out splits: ``(macro_genre, train_positions, test_positions)``.

    Each macro-genre (of the primary genre) is held out in turn; the training side also
    loses every track of a cold-start artist group (:func:`artist_groups`) with a track in the
    held-out macro-genre, so neither a genre's level nor its artists are seen. What is left
    measures whether a model ranks tracks in a genre family it never met, the closest
    in-data stand-in for a crawl whose genre labels differ.

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A", "A", "B", "C"], "track_name": list("wxyz"),
    ...                   "macro_genre": ["rock", "pop", "pop", "rock"]})
    >>> [(m, tr.tolist(), te.tolist()) for m, tr, te in macro_genre_holdout_folds(t)]
    [('pop', [3], [1, 2]), ('rock', [2], [0, 3])]
    """
    macro = tracks["macro_genre"].astype(str).to_numpy()
    groups = artist_groups(tracks)
    out = []
    for held_out in sorted(set(macro.tolist())):
        test = macro == held_out
        touched = np.isin(groups, np.unique(groups[test]))
        out.append((held_out, np.flatnonzero(~test & ~touched), np.flatnonzero(test)))
    return out


def protocol_folds(
    tracks: pd.DataFrame, protocol: str, *, n_splits: int = N_SPLITS,
    random_state: int = RANDOM_STATE,
) -> np.ndarray:
    """Folds of an honest protocol by name (``known_artist`` or ``cold_start``)."""
    return _assign_folds(protocol_groups(tracks, protocol), n_splits, random_state)


def inner_folds(
    groups: np.ndarray, *, n_splits: int = N_SPLITS, random_state: int = RANDOM_STATE
) -> np.ndarray:
    """Grouped folds *inside* a training fold (pass the training rows' groups).

    Used for out-of-fold artist history, for the tuner's validation part (inner fold 0) and
    for the conformal calibration residuals, so nothing inside a training fold is ever scored
    on rows of its own group.

    Examples
    --------
    >>> f = inner_folds(np.array([0, 0, 1, 2, 3, 3]), n_splits=2)
    >>> bool(f[0] == f[1]) and bool(f[4] == f[5])
    True
    """
    return _assign_folds(np.asarray(groups), n_splits, random_state)


def check_group_disjoint(groups: Sequence, folds: Sequence) -> None:
    """Raise :class:`FoldLeakError` if any group has rows in two folds.

    Examples
    --------
    >>> check_group_disjoint(["a", "a", "b"], [0, 0, 1])
    >>> check_group_disjoint(["a", "a", "b"], [0, 1, 1])
    Traceback (most recent call last):
    ...
    analysis.protocols.FoldLeakError: 1 group(s) straddle folds, e.g. ['a']
    """
    frame = pd.DataFrame({"group": list(groups), "fold": list(folds)})
    spread = frame.groupby("group", sort=True)["fold"].nunique()
    bad = spread[spread > 1]
    if len(bad):
        raise FoldLeakError(f"{len(bad)} group(s) straddle folds, e.g. {list(bad.index[:5])}")


def featured_artist_overlap(tracks: pd.DataFrame, folds: np.ndarray) -> dict[str, float]:
    """How artist-disjoint a primary-artist split really is.

    For each test fold, a credited artist counts as *seen* when it is credited (in any
    position) on a training track of that fold.

    Returns
    -------
    dict
        ``test_tracks_with_featured_artist_seen``: share of all test tracks with at least one
        featured (non-primary) artist seen in training; ``of_tracks_with_featured_artists``: the
        same share among test tracks that have featured artists; ``test_tracks_primary_seen_as_
        featured``: share whose primary artist is credited on a training track (under a
        primary-artist split, necessarily as a featured artist).

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A;X", "B", "X;C", "D"], "track_name": list("pqrs")})
    >>> share = featured_artist_overlap(t, np.array([0, 0, 1, 1]))
    >>> share["test_tracks_with_featured_artist_seen"]
    0.25
    >>> share["test_tracks_primary_seen_as_featured"]
    0.25
    """
    credits = _fold_text(tracks["artists"]).str.split(";").map(
        lambda names: [a.strip() for a in names if a.strip()]
    )
    primary = credits.str[0]
    featured = credits.str[1:]
    folds = np.asarray(folds)
    seen_featured = np.zeros(len(tracks), dtype=bool)
    primary_seen = np.zeros(len(tracks), dtype=bool)
    for fold in np.unique(folds):
        test = folds == fold
        seen = {a for names in credits[~test] for a in names}
        idx = np.flatnonzero(test)
        seen_featured[idx] = [any(a in seen for a in f) for f in featured.iloc[idx]]
        primary_seen[idx] = [p in seen for p in primary.iloc[idx]]
    has_featured = featured.str.len().to_numpy() > 0
    return {
        "test_tracks_with_featured_artist_seen": float(seen_featured.mean()),
        "of_tracks_with_featured_artists": float(
            seen_featured[has_featured].mean() if has_featured.any() else 0.0
        ),
        "test_tracks_with_featured_artists": float(has_featured.mean()),
        "test_tracks_primary_seen_as_featured": float(primary_seen.mean()),
    }


def album_seen_in_training(tracks: pd.DataFrame, folds: np.ndarray) -> np.ndarray:
    """Whether each track's album name (folded) also names a training track's album.

    A robustness diagnostic, not a grouping: compilations ("Christmas 2022", "Greatest Hits")
    link thousands of artists, so an album-disjoint split would put half the data in one
    group. Scoring test tracks with and without a seen album shows whether a model leans on
    albums it met in training.

    Examples
    --------
    >>> t = pd.DataFrame({"album_name": ["Hits", "hits", "Solo LP", "Other"]})
    >>> album_seen_in_training(t, np.array([0, 1, 0, 1])).tolist()
    [True, True, False, False]
    """
    album = _fold_text(tracks["album_name"]).str.strip().to_numpy()
    folds = np.asarray(folds)
    seen = np.zeros(len(album), dtype=bool)
    for fold in np.unique(folds):
        test = folds == fold
        training = set(album[~test].tolist())
        seen[test] = [a in training for a in album[test]]
    return seen


# --- the leaky replica -------------------------------------------------------------------------

def seed_replica_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The original's cleaning as far as it can be inferred: ``dropna()``, ``drop_duplicates()``.

    Works on genre *listings* (raw rows), not tracks: a track listed under three genres stays
    three rows, which is one of the two leaks this replica exists to show. The Kaggle index
    column is not a data column here (:func:`analysis.schema.read_tracks_csv` moves it to the
    index), so fully repeated listings are dropped as the original did after discarding it.
    On the real file: 114,000 rows -> 113,549.

    Examples
    --------
    >>> raw = pd.DataFrame({"track_id": ["a", "a", "b", None], "popularity": [1, 1, 2, 3]})
    >>> len(seed_replica_rows(raw))
    2
    """
    return raw.dropna().drop_duplicates()


def seed_replica_split(
    rows: pd.DataFrame, *, test_size: float = REPLICA_TEST_SIZE, random_state: int = RANDOM_STATE
) -> tuple[np.ndarray, np.ndarray]:
    """The original's random 80/20 row split (LEAKY: copies of a track fall on both sides).

    Returns
    -------
    tuple of numpy.ndarray
        Positional indices of the training and test rows (scikit-learn's
        ``train_test_split`` with ``random_state=42``, as in the original).

    Examples
    --------
    >>> train, test = seed_replica_split(pd.DataFrame({"x": range(10)}))
    >>> len(train), len(test)
    (8, 2)
    """
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(rows))
    train, test = train_test_split(positions, test_size=test_size, random_state=random_state)
    return np.asarray(train), np.asarray(test)
