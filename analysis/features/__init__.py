"""The feature-availability contract: what a model may know about a track, and when.

Every feature is tagged with *when it is known* (:data:`FEATURES`, :func:`feature_table`):

``intrinsic``
    Known the day the track exists: Spotify's audio features, duration, the explicit flag,
    how many artists are credited, and markers read from the title and album name (remix,
    live, remaster, feat., acoustic, instrumental, edit, version, sped-up/slowed, seasonal;
    single vs album, compilation-style and dated album names, deluxe editions, soundtracks).
``label``
    Supplied by whoever files the track: its *one* primary genre and that genre's
    macro-genre, one-hot encoded as 0/1 columns.
``artist_history``
    Target-derived, ``known_artist`` only: the primary artist's smoothed mean popularity,
    count and best popularity over the artist's *other* tracks, always computed out-of-fold
    (:class:`ArtistHistory`, :func:`oof_artist_history`).
``sampling_artefact``
    How the dataset was collected, not what the track is: how many genre lists a track sits
    in (and which), how many versions of its song and tracks of its album the crawl holds.
    They predict popularity strongly (genre searches favour popular tracks; compilations add
    near-zero copies), which is a finding about the data. They are **forbidden** as model
    inputs: :func:`check_allowed` refuses them.
``leaky``
    The original recipe's artist mean over *all* rows, label included; ``seed_replica`` only.

:func:`make_features` turns the cleaned track table into a purely numeric matrix (float64,
NaN allowed, stable column order). The browser predictor evaluates exported XGBoost trees on
exactly this matrix, so everything a model sees is computed here, with no scikit-learn
transformer in between: one-hot genres (no native categoricals), booleans as 0/1.
:func:`features_from_raw` does the same for a user's DataFrame in the raw dataset's columns,
after validating it with :func:`analysis.schema.validate_tracks`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from analysis.features.history import (
    ARTIST_HISTORY_COLUMNS,
    ARTIST_SMOOTHING,
    ArtistHistory,
    oof_artist_history,
)
from analysis.features.text import (  # noqa: F401 - private names re-exported for tests
    _VERSION_PART,
    COPY_ALBUM_MARKERS,
    TEXT_MARKERS,
    TextMarker,
    _text_features,
    copy_album_markers,
)
from analysis.genres import MACRO_GENRES, load_taxonomy
from analysis.protocols import PROTOCOLS
from analysis.schema import AUDIO_COLUMNS, Problem, TrackDataError, validate_tracks

__all__ = [
    "ARTIST_HISTORY",
    "ARTIST_HISTORY_COLUMNS",
    "ARTIST_SMOOTHING",
    "COPY_ALBUM_MARKERS",
    "INTRINSIC",
    "LABEL",
    "ORIGINAL_TRACK_COLUMNS",
    "LEAKY",
    "REQUIRED_RAW_COLUMNS",
    "SAMPLING_ARTEFACT",
    "SAMPLING_ARTEFACT_COUNTS",
    "TEXT_MARKERS",
    "FEATURES",
    "ArtistHistory",
    "Feature",
    "ForbiddenFeatureError",
    "check_allowed",
    "copy_album_markers",
    "feature_names",
    "feature_table",
    "features_from_raw",
    "genre_column",
    "unknown_genre_message",
    "unknown_genres",
    "macro_column",
    "make_features",
    "make_replica_features",
    "make_sampling_artefacts",
    "oof_artist_history",
    "with_artist_history",
]

INTRINSIC = "intrinsic"
LABEL = "label"
ARTIST_HISTORY = "artist_history"
SAMPLING_ARTEFACT = "sampling_artefact"
LEAKY = "leaky"

#: Which availability tags each protocol may feed a model.
_ALLOWED: dict[str, frozenset[str]] = {
    "seed_replica": frozenset({INTRINSIC, LABEL, LEAKY}),
    "known_artist": frozenset({INTRINSIC, LABEL, ARTIST_HISTORY}),
    "cold_start": frozenset({INTRINSIC, LABEL}),
}

#: The three sampling-artefact counts of :mod:`analysis.cleaning`.
SAMPLING_ARTEFACT_COUNTS: tuple[str, ...] = ("n_genre_lists", "n_song_versions", "n_album_tracks")

#: Raw columns a prediction input must have; the others may be absent (their features are NaN,
#: which the trees route down their learned default branch).
REQUIRED_RAW_COLUMNS: tuple[str, ...] = (*AUDIO_COLUMNS, "duration_ms")


class ForbiddenFeatureError(ValueError):
    """A feature that is not available at triage time under the protocol was asked for."""


@dataclass(frozen=True)
class Feature:
    """One model input and when it is known.

    Attributes
    ----------
    name : str
        Column name in the feature matrix.
    availability : str
        ``intrinsic``, ``label``, ``artist_history``, ``sampling_artefact`` or ``leaky``.
    source : str
        The raw or cleaned column(s) it is computed from.
    description : str
        What it is, for the contract table and the predictor's controls.
    unit : str
        Unit or encoding (``0/1`` for flags).
    """

    name: str
    availability: str
    source: str
    description: str
    unit: str = ""




# --- the registry ------------------------------------------------------------------------------

def _slug(label: str) -> str:
    """Column-safe name: lowercase letters, digits and underscores.

    Examples
    --------
    >>> _slug("Jazz, Blues & Soul"), _slug("r-n-b")
    ('jazz_blues_soul', 'r_n_b')
    """
    return re.sub(r"[^0-9a-z]+", "_", label.lower()).strip("_")


def genre_column(genre: str) -> str:
    """Matrix column of a primary genre's one-hot flag.

    Examples
    --------
    >>> genre_column("singer-songwriter")
    'genre_singer_songwriter'
    """
    return f"genre_{_slug(genre)}"


def macro_column(macro: str) -> str:
    """Matrix column of a macro-genre's one-hot flag.

    Examples
    --------
    >>> macro_column("Hip-hop & R&B")
    'macro_hip_hop_r_b'
    """
    return f"macro_{_slug(macro)}"


@cache
def _genres() -> tuple[str, ...]:
    return tuple(load_taxonomy()["genre"])


_AUDIO_DESCRIPTIONS = {
    "danceability": ("Spotify danceability", "0-1"),
    "energy": ("Spotify energy", "0-1"),
    "key": ("pitch class (0 = C, -1 = unknown)", "0-11"),
    "loudness": ("average loudness", "dB"),
    "mode": ("major (1) or minor (0)", "0/1"),
    "speechiness": ("Spotify speechiness", "0-1"),
    "acousticness": ("Spotify acousticness", "0-1"),
    "instrumentalness": ("Spotify instrumentalness", "0-1"),
    "liveness": ("Spotify liveness", "0-1"),
    "valence": ("Spotify valence (musical positiveness)", "0-1"),
    "tempo": ("estimated tempo", "BPM"),
    "time_signature": ("estimated beats per bar", "3-7"),
}


@cache
def _registry() -> tuple[Feature, ...]:
    intrinsic = [
        Feature(c, INTRINSIC, c, *_AUDIO_DESCRIPTIONS[c]) for c in AUDIO_COLUMNS
    ] + [
        Feature("duration_ms", INTRINSIC, "duration_ms", "track length", "ms"),
        Feature("explicit", INTRINSIC, "explicit", "explicit lyrics", "0/1"),
        Feature("n_artists", INTRINSIC, "artists", "number of credited artists", "count"),
        Feature("is_single", INTRINSIC, "album_name, track_name",
                "album named like the track (a single release)", "0/1"),
        *(Feature(m.name, INTRINSIC, m.column, m.description, "0/1") for m in TEXT_MARKERS),
        Feature("title_length", INTRINSIC, "track_name", "title length", "characters"),
        Feature("title_non_ascii", INTRINSIC, "track_name",
                "title uses non-ASCII characters (accents, other scripts)", "0/1"),
        Feature("album_non_ascii", INTRINSIC, "album_name",
                "album name uses non-ASCII characters", "0/1"),
    ]
    label = [
        Feature(genre_column(g), LABEL, "primary_genre (track_genre)", f"primary genre is {g}",
                "0/1")
        for g in _genres()
    ] + [
        Feature(macro_column(m), LABEL, "macro_genre", f"macro-genre is {m}", "0/1")
        for m in MACRO_GENRES
    ]
    history = [
        Feature("artist_mean_popularity", ARTIST_HISTORY, "popularity of the artist's other tracks",
                f"primary artist's mean popularity over other tracks, shrunk toward the global "
                f"mean with a prior worth {ARTIST_SMOOTHING:g} tracks (global mean if none)",
                "0-100"),
        Feature("artist_n_tracks", ARTIST_HISTORY, "artist's other tracks",
                "number of the primary artist's other tracks with known popularity", "count"),
        Feature("artist_max_popularity", ARTIST_HISTORY, "popularity of the artist's other tracks",
                "best popularity among the primary artist's other tracks (missing if none)",
                "0-100"),
    ]
    artefacts = [
        Feature("n_genre_lists", SAMPLING_ARTEFACT, "track_genre listings",
                "number of genre search lists the track was found in", "count"),
        Feature("n_song_versions", SAMPLING_ARTEFACT, "artists, track_name",
                "track_ids of the same song in the crawl", "count"),
        Feature("n_album_tracks", SAMPLING_ARTEFACT, "primary artist, album_name",
                "tracks of the same album in the crawl", "count"),
    ] + [
        Feature(f"listed_in_{_slug(g)}", SAMPLING_ARTEFACT, "track_genre listings",
                f"track found in the {g} search list", "0/1")
        for g in _genres()
    ]
    leaky = [
        Feature("genre_code", LABEL, "track_genre",
                "listing genre label-encoded 0-113 (the original's encoding)", "code"),
        Feature("artist_popularity_all_rows", LEAKY, "popularity",
                "mean popularity of the exact artists string over ALL rows, own label "
                "included (the original's feature)", "0-100"),
    ]
    return tuple(intrinsic + label + history + artefacts + leaky)


#: The track columns the original notebooks modelled (besides genre and artist popularity).
ORIGINAL_TRACK_COLUMNS: tuple[str, ...] = ("duration_ms", "explicit", *AUDIO_COLUMNS)

_REPLICA_COLUMNS: tuple[str, ...] = (
    *ORIGINAL_TRACK_COLUMNS, "genre_code", "artist_popularity_all_rows",
)


#: Every feature the project knows, tagged; matrix order within each protocol follows it.
FEATURES: tuple[Feature, ...] = _registry()


def _by_name() -> dict[str, Feature]:
    return {f.name: f for f in _registry()}


def feature_names(protocol: str) -> list[str]:
    """Matrix columns of a protocol, in their fixed order.

    ``cold_start``: intrinsic then label features; ``known_artist``: the same plus the three
    artist-history columns; ``seed_replica``: the original's 14 audio columns, a label-encoded
    genre and the leaky all-rows artist mean.

    Examples
    --------
    >>> names = feature_names("known_artist")
    >>> names[:3], names[-3:]
    (['danceability', 'energy', 'key'], ['artist_mean_popularity', 'artist_n_tracks', \
'artist_max_popularity'])
    >>> len(feature_names("cold_start")) == len(names) - 3
    True
    """
    if protocol == "seed_replica":
        return list(_REPLICA_COLUMNS)
    if protocol not in _ALLOWED:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    allowed = _ALLOWED[protocol] - {LEAKY}
    return [
        f.name for f in _registry()
        if f.availability in allowed and f.name not in ("genre_code",)
    ]


def check_allowed(columns: Iterable[str], protocol: str) -> None:
    """Refuse any column that the protocol may not feed a model.

    Sampling artefacts are refused under every protocol; artist history under
    ``cold_start``; the leaky all-rows artist mean under the honest protocols; unknown names
    everywhere (an unregistered column is an untagged one).

    Raises
    ------
    ForbiddenFeatureError
        Naming each refused column and why.

    Examples
    --------
    >>> check_allowed(["energy", "genre_pop"], "cold_start")
    >>> check_allowed(["energy", "n_genre_lists"], "known_artist")
    Traceback (most recent call last):
    ...
    analysis.features.ForbiddenFeatureError: not allowed as model inputs under known_artist: \
n_genre_lists (sampling_artefact: how the data was collected, never a model input)
    """
    registry = _by_name()
    allowed = _ALLOWED.get(protocol)
    if allowed is None:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    refused = []
    for name in columns:
        feature = registry.get(name)
        if feature is None:
            refused.append(f"{name} (not in the feature contract)")
        elif feature.availability == SAMPLING_ARTEFACT:
            refused.append(f"{name} (sampling_artefact: how the data was collected, "
                           "never a model input)")
        elif feature.availability not in allowed:
            refused.append(f"{name} ({feature.availability}: not available under {protocol})")
    if refused:
        raise ForbiddenFeatureError(
            f"not allowed as model inputs under {protocol}: " + "; ".join(refused)
        )


def feature_table() -> pd.DataFrame:
    """The contract as a table: one row per feature, with the protocols that may use it.

    Examples
    --------
    >>> table = feature_table()
    >>> sorted(table["availability"].unique())
    ['artist_history', 'intrinsic', 'label', 'leaky', 'sampling_artefact']
    >>> bool(table.loc[table["availability"].eq("sampling_artefact"), "protocols"].eq("").all())
    True
    """
    used = {p: set(feature_names(p)) for p in PROTOCOLS}
    rows = [
        {
            "name": f.name, "availability": f.availability, "source": f.source,
            "description": f.description, "unit": f.unit,
            "protocols": ", ".join(p for p in PROTOCOLS if f.name in used[p]),
        }
        for f in _registry()
    ]
    return pd.DataFrame(rows)


# --- intrinsic and label features --------------------------------------------------------------



def _one_hot(values: pd.Series | None, labels: Sequence[str], column_of, index) -> pd.DataFrame:
    columns = [column_of(label) for label in labels]
    matrix = np.zeros((len(index), len(labels)))
    if values is not None:
        # Label positions by hashing (a value outside ``labels``, or missing, gets -1).
        codes = np.asarray(pd.Categorical(values, categories=list(labels)).codes,
                           dtype=np.int64)
        rows = np.flatnonzero(codes >= 0)
        matrix[rows, codes[rows]] = 1.0
    return pd.DataFrame(matrix, index=index, columns=columns)


def _base_features(tracks: pd.DataFrame) -> pd.DataFrame:
    """Intrinsic and label features of cleaned (or raw-derived) tracks, float64."""
    index = tracks.index
    numeric = pd.DataFrame(index=index)
    for column in AUDIO_COLUMNS:
        numeric[column] = pd.to_numeric(tracks[column]).astype("float64")
    numeric["duration_ms"] = pd.to_numeric(tracks["duration_ms"]).astype("float64")
    if "explicit" in tracks.columns:
        numeric["explicit"] = tracks["explicit"].astype("boolean").astype("Float64").astype(
            "float64"
        )
    else:
        numeric["explicit"] = np.nan
    text = _text_features(tracks, index)
    genre = tracks["primary_genre"] if "primary_genre" in tracks.columns else None
    macro = tracks["macro_genre"] if "macro_genre" in tracks.columns else None
    genres = _one_hot(genre, _genres(), genre_column, index)
    macros = _one_hot(macro, MACRO_GENRES, macro_column, index)
    return pd.concat([numeric, text, genres, macros], axis=1)


# --- matrices ----------------------------------------------------------------------------------

def make_features(
    tracks: pd.DataFrame, *, protocol: str,
    artist_history: ArtistHistory | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The model matrix of cleaned tracks: float64, NaN allowed, columns in contract order.

    Parameters
    ----------
    tracks : pandas.DataFrame
        One row per track with the raw columns plus ``primary_genre`` and ``macro_genre``
        (as :func:`analysis.data.load_tracks` returns them).
    protocol : {"cold_start", "known_artist"}
        Which columns (:func:`feature_names`). Use :func:`make_replica_features` for the
        leaky replica.
    artist_history : ArtistHistory or pandas.DataFrame, optional
        ``known_artist`` only, and required there: a fitted :class:`ArtistHistory` (looked up
        by primary artist) or a frame with :data:`ARTIST_HISTORY_COLUMNS` aligned to
        ``tracks`` (e.g. from :func:`oof_artist_history`).

    Examples
    --------
    >>> t = pd.DataFrame({c: [0.5] for c in AUDIO_COLUMNS} | {
    ...     "key": [5], "mode": [1], "time_signature": [4], "tempo": [120.0], "loudness": [-6.0],
    ...     "duration_ms": [200000], "explicit": [True], "artists": ["A;B"],
    ...     "album_name": ["Hit"], "track_name": ["Hit (Live)"],
    ...     "primary_genre": ["pop"], "macro_genre": ["Pop"]})
    >>> X = make_features(t, protocol="cold_start")
    >>> X.loc[0, ["explicit", "n_artists", "title_live", "genre_pop", "macro_pop", "genre_rock"]
    ...       ].tolist()
    [1.0, 2.0, 1.0, 1.0, 1.0, 0.0]
    """
    if protocol == "seed_replica":
        raise ValueError("use make_replica_features() for the leaky seed_replica matrix")
    names = feature_names(protocol)
    base = _base_features(tracks)
    if protocol == "known_artist":
        if artist_history is None:
            raise ValueError(
                "known_artist needs artist_history: an ArtistHistory fitted on training tracks "
                "or a frame of out-of-fold history columns"
            )
        if isinstance(artist_history, ArtistHistory):
            history = artist_history.transform(tracks)
        else:
            history = artist_history.reindex(columns=list(ARTIST_HISTORY_COLUMNS))
            history.index = tracks.index
        base = pd.concat([base, history.astype("float64")], axis=1)
    elif artist_history is not None:
        raise ForbiddenFeatureError(f"{protocol} takes no artist history (target-derived)")
    matrix = base.reindex(columns=names)
    check_allowed(matrix.columns, protocol)
    return matrix.astype("float64")


def with_artist_history(base: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Append artist-history columns to a ``cold_start`` matrix, giving a ``known_artist`` one.

    Lets a caller build the intrinsic and label columns once and add a fold's out-of-fold
    history cheaply; the result is checked against the contract like :func:`make_features`.

    Examples
    --------
    >>> base = pd.DataFrame(0.0, index=[7], columns=feature_names("cold_start"))
    >>> history = pd.DataFrame({"artist_mean_popularity": [40.0], "artist_n_tracks": [0.0],
    ...                         "artist_max_popularity": [np.nan]}, index=[7])
    >>> list(with_artist_history(base, history).columns) == feature_names("known_artist")
    True
    """
    names = feature_names("known_artist")
    history = history.reindex(columns=list(ARTIST_HISTORY_COLUMNS)).set_axis(base.index)
    matrix = pd.concat([base, history.astype("float64")], axis=1).reindex(columns=names)
    check_allowed(matrix.columns, "known_artist")
    return matrix


def make_replica_features(rows: pd.DataFrame) -> pd.DataFrame:
    """The original recipe's matrix on raw rows (LEAKY, ``seed_replica`` only).

    14 raw audio columns, ``track_genre`` label-encoded in sorted order, and the mean
    popularity of the exact ``artists`` string over *all* rows, the row's own label included.
    That last column is the leak: for an artist with one row it *is* the target.

    Examples
    --------
    >>> rows = pd.DataFrame({c: [0.1, 0.2] for c in AUDIO_COLUMNS} | {
    ...     "duration_ms": [1, 2], "explicit": [False, True], "track_genre": ["pop", "rock"],
    ...     "artists": ["A", "A"], "popularity": [10, 30]})
    >>> make_replica_features(rows)[["genre_code", "artist_popularity_all_rows"]].values.tolist()
    [[0.0, 20.0], [1.0, 20.0]]
    """
    out = pd.DataFrame(index=rows.index)
    for column in ORIGINAL_TRACK_COLUMNS:
        out[column] = rows[column].astype("float64")
    out["genre_code"] = pd.factorize(rows["track_genre"], sort=True)[0].astype("float64")
    out["artist_popularity_all_rows"] = (
        rows.groupby("artists")["popularity"].transform("mean").astype("float64")
    )
    return out[feature_names("seed_replica")]


def make_sampling_artefacts(tracks: pd.DataFrame) -> pd.DataFrame:
    """The forbidden sampling-artefact columns, for the finding that measures them.

    The three counts plus multi-genre membership (``listed_in_<genre>``). Nothing that trains
    a champion calls this; :func:`check_allowed` refuses every column it returns.
    """
    counts = tracks[list(SAMPLING_ARTEFACT_COUNTS)].astype("float64")
    genres = _genres()
    membership = np.zeros((len(tracks), len(genres)))
    position = {g: i for i, g in enumerate(genres)}
    for row, listed in enumerate(tracks["genres"]):
        for genre in listed:
            membership[row, position[genre]] = 1.0
    listed = pd.DataFrame(
        membership, index=tracks.index, columns=[f"listed_in_{_slug(g)}" for g in genres]
    )
    return pd.concat([counts, listed], axis=1)


def unknown_genres(track_genre: pd.Series) -> tuple[list[int], list[str]]:
    """Positions and values of genres given but not in the taxonomy (blank-stripped).

    The rule :func:`features_from_raw` enforces, shared with the triage, which rejects those
    rows instead of the whole input.

    Examples
    --------
    >>> unknown_genres(pd.Series(["pop", "popp", None, " rock "]))
    ([1], ['popp'])
    """
    genre = track_genre.astype("string").str.strip()
    bad = (genre.notna() & ~genre.isin(_genres())).to_numpy(dtype=bool)
    positions = np.flatnonzero(bad).tolist()
    return positions, genre.iloc[positions].tolist()


def unknown_genre_message(value: str) -> str:
    """The problem message of a genre outside the taxonomy."""
    return (f"unknown genre {value!r}: expected one of the {len(_genres())} labels in "
            "analysis/macro_genres.csv")


def features_from_raw(
    df: pd.DataFrame, *, protocol: str,
    artist_history: ArtistHistory | pd.DataFrame | None = None, name: str = "<DataFrame>",
    validated: bool = False,
) -> pd.DataFrame:
    """Model matrix from a user's DataFrame in the raw dataset's columns, validated first.

    One row per track. ``popularity`` is not needed. The genre, when known, is given as
    ``track_genre`` (one of the 114 labels of ``analysis/macro_genres.csv``); its macro-genre is
    derived. Columns other than :data:`REQUIRED_RAW_COLUMNS` may be missing: their features
    become NaN (or all-zero genre flags) and the trees take their default branches.

    ``validated=True`` skips the checks for rows that already passed them
    (:func:`analysis.schema.partition_tracks` and :func:`unknown_genres`, as the triage
    does): the values must then have the contract dtypes.

    Raises
    ------
    analysis.schema.TrackDataError
        Naming the input, line and column of every problem (missing required column,
        out-of-range value, unknown genre).

    Examples
    --------
    >>> df = pd.DataFrame({c: [0.5] for c in AUDIO_COLUMNS} | {
    ...     "key": [5], "mode": [1], "time_signature": [4], "tempo": [120.0], "loudness": [-6.0],
    ...     "duration_ms": [200000], "track_genre": ["k-pop"]})
    >>> X = features_from_raw(df, protocol="cold_start", name="demo.csv")
    >>> X[["genre_k_pop", "macro_east_asian"]].iloc[0].tolist(), bool(X["explicit"].isna()[0])
    ([1.0, 1.0], True)
    >>> features_from_raw(df.drop(columns="tempo"), protocol="cold_start", name="demo.csv")
    Traceback (most recent call last):
    ...
    analysis.schema.TrackDataError: demo.csv: 1 problem (line 1; column tempo)
    ...
    """
    if validated:  # the caller's rows passed analysis.schema.partition_tracks and the genres
        tracks = df.copy()
    else:
        tracks = validate_tracks(df, name=name, columns=REQUIRED_RAW_COLUMNS).copy()
    if "track_genre" in tracks.columns and not validated:
        genre = tracks["track_genre"].astype("string").str.strip()
        bad = [Problem(name, position + 2, "track_genre", unknown_genre_message(value))
               for position, value in zip(*unknown_genres(genre), strict=True)]
        if bad:
            raise TrackDataError(bad)
    if "track_genre" in tracks.columns:
        genre = tracks["track_genre"].astype("string").str.strip()
        tracks["primary_genre"] = genre
        taxonomy = load_taxonomy().set_index("genre")["macro_genre"]
        tracks["macro_genre"] = genre.map(taxonomy)
    return make_features(tracks, protocol=protocol, artist_history=artist_history)
