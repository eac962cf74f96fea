"""The one triage function: validate, score, filter, rank, shortlist, explain.

:func:`triage` works on a DataFrame in memory; the command line
(:mod:`analysis.triage.cli`) streams a file through the same pieces (:func:`partition`,
:func:`analysis.triage.scoring.score_rows`, :func:`filter_mask`, :func:`like_neighbours`,
:func:`rank_order`, :func:`explain_rows`, :func:`rejects_frame`), and the Spark job
(:mod:`analysis.triage.spark`) applies them per partition.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from analysis.features import REQUIRED_RAW_COLUMNS, unknown_genre_message, unknown_genres
from analysis.genres import MACRO_GENRES
from analysis.schema import Problem, TrackDataError, partition_tracks
from analysis.triage.scoring import (
    OUTPUT_COLUMNS,
    REASON_COLUMNS,
    ScoringContext,
    like_matrix,
    like_scale,
    load_context,
    score_rows,
)

__all__ = [
    "REJECT_COLUMNS",
    "LikeTrackError",
    "NoValidRowError",
    "TriageFilters",
    "TriageResult",
    "explain_rows",
    "filter_mask",
    "like_neighbours",
    "partition",
    "rank_order",
    "rejects_frame",
    "triage",
]

#: Columns of the rejects table, one row per problem.
REJECT_COLUMNS: tuple[str, ...] = ("line", "column", "value", "reason")
#: Neighbours returned by a "sounds like" filter unless told otherwise.
DEFAULT_NEIGHBOURS = 20


class NoValidRowError(TrackDataError):
    """Every row of the catalogue was rejected: an error, not an empty ranking."""


class LikeTrackError(ValueError):
    """The "sounds like" track is not among the catalogue's accepted rows."""


@dataclass(frozen=True)
class TriageFilters:
    """Playlist filters, applied after scoring and before the shortlist is cut.

    Every filter given must hold (they combine with "and"); a row whose value is unknown
    (no ``explicit`` column, no genre) does not pass a filter on it. Ranges are closed.

    Attributes
    ----------
    macro_genres : tuple of str
        Keep these macro-genres (:data:`analysis.genres.MACRO_GENRES`).
    energy, valence, danceability, tempo, duration_ms : (float, float) or None
        Closed ranges; ``duration_ms`` in milliseconds (the command line takes minutes).
    explicit : bool or None
        Keep only explicit (``True``) or only clean (``False``) tracks.
    like : str or None
        A ``track_id`` of the catalogue: keep its ``neighbours`` nearest tracks (Euclidean
        distance over the standardised :data:`~analysis.triage.scoring.LIKE_COLUMNS`, ties by
        line), among the rows that pass the other filters, the track itself (every row with
        its id) excluded.
    neighbours : int
        How many, for ``like``.
    """

    macro_genres: tuple[str, ...] = ()
    energy: tuple[float, float] | None = None
    valence: tuple[float, float] | None = None
    danceability: tuple[float, float] | None = None
    tempo: tuple[float, float] | None = None
    duration_ms: tuple[float, float] | None = None
    explicit: bool | None = None
    like: str | None = None
    neighbours: int = DEFAULT_NEIGHBOURS

    RANGES = ("energy", "valence", "danceability", "tempo", "duration_ms")

    @classmethod
    def of(cls, filters: TriageFilters | Mapping | None) -> TriageFilters:
        """Filters from a mapping of the attribute names (or ``None``: no filter)."""
        if filters is None:
            return cls()
        if isinstance(filters, cls):
            result = filters
        else:
            known = {f.name for f in fields(cls)}
            unknown = set(filters) - known
            if unknown:
                raise ValueError(f"unknown filter(s) {sorted(unknown)}; expected {sorted(known)}")
            values = dict(filters)
            if isinstance(values.get("macro_genres"), str):
                values["macro_genres"] = (values["macro_genres"],)
            result = cls(**{k: tuple(v) if k == "macro_genres" else v for k, v in values.items()})
        result._check()
        return result

    def _check(self) -> None:
        unknown = [m for m in self.macro_genres if m not in MACRO_GENRES]
        if unknown:
            raise ValueError(f"unknown macro-genre(s) {unknown}; expected some of "
                             f"{list(MACRO_GENRES)}")
        for name in self.RANGES:
            bounds = getattr(self, name)
            if bounds is not None and (len(bounds) != 2 or not bounds[0] <= bounds[1]):
                raise ValueError(f"{name} range must be (min, max) with min <= max; got {bounds}")
        if self.neighbours < 1:
            raise ValueError(f"neighbours must be >= 1; got {self.neighbours}")

    @property
    def active(self) -> bool:
        return self != TriageFilters(neighbours=self.neighbours)


@dataclass
class TriageResult:
    """What :func:`triage` returns.

    Attributes
    ----------
    ranked : pandas.DataFrame
        The accepted rows that pass the filters, best first, cut to the shortlist:
        :data:`~analysis.triage.scoring.OUTPUT_COLUMNS` (+ ``reason_1..3`` when asked for).
    rejects : pandas.DataFrame
        One row per problem of a rejected row: :data:`REJECT_COLUMNS`.
    n_read : int
        Rows read: accepted rows plus distinct rejected lines.
    n_accepted, n_passed : int
        Rows accepted, and of those the rows passing the filters (before the shortlist).
    n_out_of_distribution : int
        Accepted rows flagged out of distribution (before filters and shortlist).
    source, model : str
    """

    ranked: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    n_accepted: int
    n_passed: int
    source: str
    model: str
    n_out_of_distribution: int = 0

    @property
    def n_rejected(self) -> int:
        return self.rejects["line"].nunique()


def triage(
    tracks: pd.DataFrame | str | os.PathLike,
    *,
    model: str = "cold_start",
    shortlist: int | None = None,
    explain: int = 0,
    filters: TriageFilters | Mapping | None = None,
    source: str = "<DataFrame>",
    context: ScoringContext | None = None,
) -> TriageResult:
    """Rank a catalogue by hit probability: intervals, out-of-distribution flags, reasons.

    Parameters
    ----------
    tracks : pandas.DataFrame, or a path
        One row per track in the raw dataset's columns (a path: a CSV, plain or gzip, or a
        Parquet file, read in memory as the command line reads it, lines being the file's
        physical lines). Required:
        :data:`analysis.features.REQUIRED_RAW_COLUMNS` (the twelve audio features and
        ``duration_ms``). Optional: ``track_id``, ``track_name``, ``artists``,
        ``album_name``, ``explicit``, ``track_genre`` (one of the 114 taxonomy labels; without
        it every row is out of distribution), ``popularity`` (ignored, but validated when
        present), and a leading unnamed index column (``""``, ``"Unnamed: 0"`` or
        ``source_index``, unique integers). Other columns are ignored. ``known_artist`` also
        uses ``artists`` to look up the artist's history.
    model : {"cold_start", "known_artist"}
        The champion (:func:`analysis.models.load`).
    shortlist : int, optional
        Keep the first ``shortlist`` rows of the ranking (default all).
    explain : int, default 0
        Compute reasons for the first ``explain`` rows of the (filtered) ranking only.
    filters : TriageFilters or mapping, optional
        Playlist filters (:class:`TriageFilters`).
    source : str
        The input's name in rejects and errors.
    context : ScoringContext, optional
        A loaded :func:`~analysis.triage.scoring.load_context` (saves reloading the model).

    Returns
    -------
    TriageResult
        ``n_read == len(accepted) + rejected lines``; ``ranked`` ordered by ``p_hit``
        descending, then ``predicted_popularity`` descending, then ``line`` ascending, with
        ``rank`` 1, 2, ...; ``line`` is the row's line in a CSV written with
        ``to_csv(index=False)`` (row position + 2).

    Raises
    ------
    analysis.schema.TrackDataError
        For a problem of the whole input (a required column missing...); its subclass
        :class:`NoValidRowError` when every row is rejected.
    LikeTrackError
        When ``filters.like`` is not an accepted row's ``track_id``.
    analysis.triage.scoring.StaleExportError
        When the browser export does not match the champion.

    Examples
    --------
    >>> from analysis.triage import make_catalogue
    >>> result = triage(make_catalogue(3), shortlist=2)
    >>> result.n_read, len(result.ranked), result.ranked["rank"].tolist()
    (3, 2, [1, 2])
    """
    chosen = TriageFilters.of(filters)
    context = context or load_context(model)
    if isinstance(tracks, str | os.PathLike):
        source = os.fspath(tracks) if source == "<DataFrame>" else source
        valid, problems = read_file(tracks, name=source)
    else:
        valid, problems = partition(tracks, name=source)
    n_read = len(valid) + len({p.row for p in problems})
    if valid.empty:
        raise no_valid_row(source, n_read, problems)
    scored = score_rows(valid, context, name=source)
    keep = filter_mask(scored, chosen)
    if chosen.like is not None:
        keep &= like_neighbours(valid, scored, keep, chosen, like_scale(context))
    ranked = scored.loc[keep]
    order = rank_order(ranked)
    if shortlist is not None:
        order = order[:shortlist]
    ranked = ranked.iloc[order]
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1, dtype=np.int64))
    ranked = ranked.reset_index(drop=True)[list(OUTPUT_COLUMNS)]
    if explain:
        lines = ranked["line"].to_numpy()[:explain]
        reasons = explain_rows(valid.loc[lines], context)
        ranked = add_reasons(ranked, reasons)
    return TriageResult(ranked=ranked, rejects=rejects_frame(problems), n_read=n_read,
                        n_accepted=len(valid), n_passed=int(keep.sum()), source=source,
                        model=context.model,
                        n_out_of_distribution=int(scored["out_of_distribution"].sum()))


# --- pieces shared with the command line and Spark ---------------------------------------------


def no_valid_row(name: str, n_read: int, problems: Sequence[Problem]) -> NoValidRowError:
    """The error of a catalogue whose every row was rejected (its problems follow)."""
    return NoValidRowError([Problem(name, None, None,
                                    f"no valid row: all {n_read} rows were rejected"),
                            *problems])


def read_file(path: str | os.PathLike, *, name: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Accepted rows and problems of a whole file, read as the command line reads it
    (:func:`analysis.triage.reader.read_catalogue`), genres checked."""
    from analysis.triage.reader import read_catalogue

    parts, problems = [], []
    for chunk in read_catalogue(path, name=name):
        valid, chunk_problems = check_genres(chunk.valid, chunk.problems, name=name)
        parts.append(valid)
        problems += chunk_problems
    return pd.concat(parts), problems


def partition(tracks: pd.DataFrame, *, name: str, lines=None, header_is_row: bool = False
              ) -> tuple[pd.DataFrame, list[Problem]]:
    """Accepted rows (indexed by line) and the problems of the others: the schema
    (:func:`analysis.schema.partition_tracks`), then genres outside the taxonomy."""
    valid, problems = partition_tracks(tracks, name=name, columns=REQUIRED_RAW_COLUMNS,
                                       lines=lines, header_is_row=header_is_row)
    return check_genres(valid, problems, name=name)


def check_genres(valid: pd.DataFrame, problems: list[Problem], *, name: str
                 ) -> tuple[pd.DataFrame, list[Problem]]:
    """Move rows whose ``track_genre`` is outside the taxonomy from ``valid`` to problems
    (the rule of :func:`analysis.features.features_from_raw`)."""
    if "track_genre" not in valid.columns or valid.empty:
        return valid, problems
    positions, values = unknown_genres(valid["track_genre"])
    if not positions:
        return valid, problems
    lines = valid.index.to_numpy()[positions]
    extra = [Problem(name, int(line), "track_genre", unknown_genre_message(value))
             for line, value in zip(lines.tolist(), values, strict=True)]
    keep = np.ones(len(valid), dtype=bool)
    keep[positions] = False
    merged = sorted([*problems, *extra], key=lambda p: (p.row, _column_order(p.column)))
    return valid.loc[keep], merged


def _column_order(column: str | None) -> int:
    from analysis.schema import INDEX_NAME, RAW_COLUMNS

    order = (INDEX_NAME, *RAW_COLUMNS)
    return order.index(column) if column in order else -1


def filter_mask(scored: pd.DataFrame, filters: TriageFilters) -> np.ndarray:
    """Rows of scored output passing the row-wise filters (all but ``like``)."""
    keep = np.ones(len(scored), dtype=bool)
    if filters.macro_genres:
        keep &= scored["macro_genre"].isin(filters.macro_genres).to_numpy(dtype=bool)
    for name in TriageFilters.RANGES:
        bounds = getattr(filters, name)
        if bounds is not None:
            values = scored[name].to_numpy(dtype="float64")
            keep &= (values >= bounds[0]) & (values <= bounds[1])
    if filters.explicit is not None:
        explicit = scored["explicit"].astype("boolean")
        keep &= (explicit == filters.explicit).fillna(False).to_numpy(dtype=bool)
    return keep


def like_neighbours(valid: pd.DataFrame, scored: pd.DataFrame, keep: np.ndarray,
                    filters: TriageFilters, scale: Mapping) -> np.ndarray:
    """Mask of the ``filters.neighbours`` rows nearest the ``filters.like`` track among the
    rows ``keep`` passes (see :class:`TriageFilters`)."""
    if "track_id" not in valid.columns:
        raise LikeTrackError(f"cannot find track {filters.like!r}: the catalogue has no "
                             "track_id column")
    ids = valid["track_id"].astype("str").to_numpy(dtype=object, na_value="")
    matches = np.flatnonzero(ids == filters.like)
    if not matches.size:
        raise LikeTrackError(f"track {filters.like!r} is not among the catalogue's accepted "
                             "rows (rejected or absent)")
    coordinates = like_matrix(valid, scale)
    reference = coordinates[matches[0]]
    distance = np.sqrt(((coordinates - reference) ** 2).sum(axis=1))
    lines = valid.index.to_numpy(dtype=np.int64)
    candidates = np.flatnonzero(keep & (ids != filters.like))
    nearest = candidates[np.lexsort((lines[candidates], distance[candidates]))]
    out = np.zeros(len(valid), dtype=bool)
    out[nearest[:filters.neighbours]] = True
    return out


def rank_order(scored: pd.DataFrame | Mapping) -> np.ndarray:
    """Positions of rows in ranking order: ``p_hit`` descending, ``predicted_popularity``
    descending, ``line`` ascending.

    Examples
    --------
    >>> rank_order({"p_hit": np.array([0.2, 0.9, 0.2]), "line": np.array([2, 3, 4]),
    ...             "predicted_popularity": np.array([10.0, 5.0, 30.0])}).tolist()
    [1, 2, 0]
    """
    p_hit = np.asarray(scored["p_hit"], dtype="float64")
    prediction = np.asarray(scored["predicted_popularity"], dtype="float64")
    line = np.asarray(scored["line"], dtype=np.int64)
    return np.lexsort((line, -prediction, -p_hit))


def explain_rows(rows: pd.DataFrame, context: ScoringContext) -> pd.DataFrame:
    """``reason_1..3`` of validated rows: the popularity model's three largest exact TreeSHAP
    contributions (:func:`analysis.trees.tree_contributions`), summed per driver group
    (:func:`analysis.explain.feature_group`), named as the Drivers chapter names them
    (:func:`analysis.labels.driver_label`), in popularity points with a sign, e.g.
    ``"genre +4.2"`` or ``"album-name markers −3.1"``.

    .. warning:: Costly: exact TreeSHAP of every tree for each row (a few hundred rows a
       second on two cores). Call it for a shortlist, never a whole catalogue.
    """
    from analysis.explain.groups import group_contributions
    from analysis.labels import driver_label
    from analysis.trees import tree_contributions

    if rows.empty:
        return pd.DataFrame(columns=list(REASON_COLUMNS), index=rows.index, dtype="str")
    champion = context.champion
    X = champion.features(rows.reset_index(drop=True), validated=True)
    groups = group_contributions(tree_contributions(champion.booster,
                                                    X[champion.popularity_features]))
    values = groups.to_numpy(dtype="float64")
    names = [driver_label(group) for group in groups.columns]
    top = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :len(REASON_COLUMNS)]
    out = {column: [] for column in REASON_COLUMNS}
    for r, columns in enumerate(top.tolist()):
        for column, c in zip(REASON_COLUMNS, columns, strict=False):
            out[column].append(format_reason(names[c], values[r, c]))
    return pd.DataFrame(out, index=rows.index, dtype="str")


def format_reason(driver: str, points: float) -> str:
    """A driver and its contribution in points, signed (a true minus sign).

    Examples
    --------
    >>> format_reason("genre", 4.21), format_reason("album-name markers", -3.08)
    ('genre +4.2', 'album-name markers −3.1')
    """
    text = f"{abs(points):.1f}"
    return f"{driver} {'−' if points < 0 and text != '0.0' else '+'}{text}"


def add_reasons(ranked: pd.DataFrame, reasons: pd.DataFrame) -> pd.DataFrame:
    """``ranked`` with ``reason_1..3``: filled for its first ``len(reasons)`` rows, empty for
    the others."""
    out = ranked.copy()
    for column in REASON_COLUMNS:
        values = np.full(len(out), "", dtype=object)
        values[:len(reasons)] = reasons[column].to_numpy(dtype=object)
        out[column] = pd.array(values, dtype="str")
    return out


_GOT = re.compile(r", got (?P<value>.+)$")
_WHOLE = re.compile(r"^(?:duplicate index value |unknown genre )(?P<value>'.*?'|\S+?)(?::|$)")


def rejects_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """One row per problem: ``line``, ``column`` (empty for a whole-row problem), ``value``
    (the offending value as the message shows it, empty when none) and ``reason`` (the
    schema's message, as :class:`analysis.schema.TrackDataError` words it).

    Examples
    --------
    >>> rejects_frame([Problem("f.csv", 4, "tempo", "expected a number, got 'abc'")]
    ...               ).to_dict("records")
    [{'line': 4, 'column': 'tempo', 'value': 'abc', 'reason': "expected a number, got 'abc'"}]
    """
    rows = [(p.row, p.column or "", _value_of(p.message), p.message) for p in problems]
    frame = pd.DataFrame(rows, columns=list(REJECT_COLUMNS))
    frame["line"] = frame["line"].astype("int64")
    for column in ("column", "value", "reason"):
        frame[column] = frame[column].astype("str")
    return frame


def _value_of(message: str) -> str:
    match = _GOT.search(message) or _WHOLE.search(message)
    if not match:
        return ""
    shown = match.group("value")
    try:
        value = ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        return shown
    return str(value)


def with_filters(filters: TriageFilters, **changes) -> TriageFilters:
    """A copy of ``filters`` with some attributes changed (checked again)."""
    result = replace(filters, **changes)
    result._check()
    return result
