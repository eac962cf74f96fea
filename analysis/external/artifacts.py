"""``models/external.json``: writing it, and the typed accessors every reader goes through.

The file is written by :func:`analysis.external.build.build_external` (``python -m
analysis.cli external``) and read by the pages. Readers never spell key paths: they call the
accessors below, so the layout is known in one place and a missing entry is reported by its
path. Every accessor takes the loaded dict first (as :func:`load_external` returns it, or a
hand-built subset in tests) and returns the stored values.

Layout (``schema_version`` 1)::

    schema_version, hit_threshold, min_genre_tracks, top_decile, interval_level, targets,
    versions, training_data_sha256, champions.<name>.{model, manifest_sha256, popularity_reads}
    sources.<set>.{title, author, crawled, repository, commit, files[]}
    sets.<set>.counts      read = accepted + rejected, rejected_by_reason, duplicates,
                           overlap_dropped, scored, ...
    sets.<set>.fill        the fill rule per input, in words
    sets.<set>.hit_classifier_given_as_missing   inputs the set lacks that the new-artist hit
                           classifier saw missing in training, so is asked without
    sets.<set>.popularity_model_given_as_missing   the same for its popularity model
    sets.<set>.metrics.<champion>
    sets.music_genre.genre_labels          the set's genre -> the training label it maps to
    sets.music_genre.by_genre.<champion>   one row per genre
    sets.<set>.known_artists               both champions on tracks by Kaggle-known artists
    sets.billboard.by_decade.<champion>    one row per decade
    in_data.new_release_definition,
    in_data.<champion>.{model, hit_model, all, new_release, by_genre}
    in_data.<champion>.models.<model>.{all, new_release}   every model's OOF popularity
    fill_sensitivity.<set>[]               the champion under each album x genre encoding
    findings.{artist_history, album_copies}

Scores of a set with popularity (music_genre, in-data) carry the coverage of the champion's
interval at ``interval_level`` (``interval_coverage``, ``interval_mean_width``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from analysis import paths
from analysis.artifacts import atomic_write, dumps_json

__all__ = [
    "SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "ExternalSchemaError",
    "check_schema",
    "external_metrics",
    "fill_rules",
    "fill_sensitivity",
    "finding",
    "genre_rows",
    "hit_classifier_given_as_missing",
    "popularity_model_given_as_missing",
    "in_data_genre_rows",
    "in_data_metrics",
    "in_data_model_metrics",
    "interval_level",
    "issue_targets",
    "known_artist_entry",
    "load_external",
    "matched_labels",
    "new_release_definition",
    "scored_champion",
    "set_counts",
    "set_names",
    "source_entry",
    "write_external",
]

#: Layout of ``models/external.json`` this code writes.
SCHEMA_VERSION = 1

#: Layouts this code reads.
SUPPORTED_SCHEMA_VERSIONS: frozenset[int] = frozenset({SCHEMA_VERSION})

#: The one champion scored on every set (the known-artist one only on known artists).
_DEFAULT_CHAMPION = "cold_start"


class ExternalSchemaError(ValueError):
    """``external.json`` was written in a layout this code does not read."""


def check_schema(external: Mapping, *, source: str = "external.json") -> Mapping:
    """Return ``external`` if its ``schema_version`` is one this code reads.

    Raises
    ------
    ExternalSchemaError
        If ``schema_version`` is missing or unknown; the message names ``source``.

    Examples
    --------
    >>> check_schema({"schema_version": 1})["schema_version"]
    1
    >>> check_schema({"sets": {}}, source="models/external.json")
    Traceback (most recent call last):
    ...
    analysis.external.artifacts.ExternalSchemaError: models/external.json: no schema_version; \
rebuild it with `python -m analysis.cli external` (this code reads 1)
    """
    supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
    if "schema_version" not in external:
        raise ExternalSchemaError(f"{source}: no schema_version; rebuild it with "
                                  f"`python -m analysis.cli external` (this code reads "
                                  f"{supported})")
    version = external["schema_version"]
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ExternalSchemaError(f"{source}: schema_version {version!r} is not one this code "
                                  f"reads ({supported}); rebuild it with `python -m "
                                  "analysis.cli external` or update analysis.external")
    return external


def load_external(models_dir: str | os.PathLike | None = None) -> dict:
    """The committed ``models/external.json``, schema-checked.

    Raises
    ------
    FileNotFoundError
        If it has not been built (``make external``).
    ExternalSchemaError
        If its ``schema_version`` is unknown.
    """
    path = paths.external_file(models_dir)
    return dict(check_schema(json.loads(path.read_text()), source=str(path)))


def write_external(external: Mapping, path: str | os.PathLike) -> bytes:
    """Write ``external`` (schema-checked) atomically as the artifacts' stable JSON text.

    Returns the bytes written, so a caller can compare two builds.
    """
    check_schema(external, source=str(path))
    data = dumps_json(external).encode()
    atomic_write(path, data)
    return data


def _get(external: Mapping, *keys: str):
    value = external
    for depth, key in enumerate(keys):
        try:
            value = value[key]
        except (KeyError, TypeError, IndexError):
            raise KeyError(f"external.json has no {'.'.join(keys[:depth + 1])}") from None
    return value


def scored_champion(external: Mapping, name: str) -> Mapping:
    """Which committed champion was scored: ``model`` and its ``manifest_sha256`` (a reader
    compares it with ``metrics.json`` to know the scores are of the champion it has), and
    ``popularity_reads``, the inputs a crawl may lack that its popularity model reads.

    Examples
    --------
    >>> scored_champion({"champions": {"cold_start": {"model": "xgboost_tuned"}}},
    ...                 "cold_start")["model"]
    'xgboost_tuned'
    """
    return _get(external, "champions", name)


def set_names(external: Mapping) -> list[str]:
    """The external sets scored, in build order (music_genre, billboard).

    Examples
    --------
    >>> set_names({"sets": {"billboard": {}, "music_genre": {}}})
    ['music_genre', 'billboard']
    """
    stored = list(_get(external, "sets"))
    order = ["music_genre", "billboard"]
    return [s for s in order if s in stored] + [s for s in stored if s not in order]


def set_counts(external: Mapping, name: str) -> Mapping:
    """How a set was read and narrowed: ``read`` = ``accepted`` + ``rejected``,
    ``rejected_by_reason``, ``examples``, ``files``, ``duplicates``, ``tracks``,
    ``overlap_key``, ``overlap_dropped``, ``scored`` and the set's own extras.

    Examples
    --------
    >>> set_counts({"sets": {"billboard": {"counts": {"read": 3}}}}, "billboard")["read"]
    3
    """
    return _get(external, "sets", name, "counts")


def fill_rules(external: Mapping, name: str) -> Mapping:
    """The set's fill rule per input column, in words."""
    return _get(external, "sets", name, "fill")


def hit_classifier_given_as_missing(external: Mapping, name: str) -> list[str]:
    """The inputs the set lacks that the new-artist hit classifier is asked without (it saw
    them missing in training) instead of by the fill rule."""
    return _get(external, "sets", name, "hit_classifier_given_as_missing")


def popularity_model_given_as_missing(external: Mapping, name: str) -> list[str]:
    """The inputs the set lacks that the new-artist popularity model is asked without."""
    return _get(external, "sets", name, "popularity_model_given_as_missing")


def external_metrics(external: Mapping, name: str, champion: str = _DEFAULT_CHAMPION
                     ) -> Mapping:
    """A champion's scores on a set: for music_genre the in-data metrics
    (``spearman``, ``spearman_within_genre``, ``r2``, ``mae``, ``hit_auc``,
    ``prediction_hit_auc``, ...), for Billboard ``hit_auc``, ``prediction_auc``,
    ``top_decile_precision``, ...

    Examples
    --------
    >>> external_metrics({"sets": {"music_genre": {"metrics": {"cold_start": {"r2": -0.4}}}}},
    ...                  "music_genre")["r2"]
    -0.4
    """
    return _get(external, "sets", name, "metrics", champion)


def genre_rows(external: Mapping, champion: str = _DEFAULT_CHAMPION) -> list[Mapping]:
    """music_genre scored per genre (``genre``, ``n``, ``spearman``, ``hit_auc``, ...)."""
    return _get(external, "sets", "music_genre", "by_genre", champion)


def matched_labels(external: Mapping) -> Mapping:
    """music_genre's genre -> the training (Kaggle) label it was mapped to.

    Examples
    --------
    >>> matched_labels({"sets": {"music_genre": {"genre_labels": {"Rap": "hip-hop"}}}})["Rap"]
    'hip-hop'
    """
    return _get(external, "sets", "music_genre", "genre_labels")


def in_data_genre_rows(external: Mapping, protocol: str = _DEFAULT_CHAMPION) -> list[Mapping]:
    """A champion's out-of-fold scores per training label that music_genre's genres map to
    (``genre`` is the training label; the same fields as :func:`genre_rows`).

    Examples
    --------
    >>> e = {"in_data": {"cold_start": {"by_genre": [{"genre": "rock", "spearman": 0.3}]}}}
    >>> in_data_genre_rows(e)[0]["genre"]
    'rock'
    """
    return _get(external, "in_data", protocol, "by_genre")


def interval_level(external: Mapping) -> float:
    """The nominal level of the interval whose coverage is scored (``interval_coverage``)."""
    return _get(external, "interval_level")


def known_artist_entry(external: Mapping, name: str = "music_genre") -> Mapping:
    """Both champions (and the Kaggle artist mean alone) on a set's tracks whose primary
    artist is in the Kaggle data: ``tracks``, ``of_scored``, ``known_artist``, ``cold_start``
    (each with the set's scores), ``artist_mean_alone``."""
    return _get(external, "sets", name, "known_artists")


def in_data_metrics(external: Mapping, protocol: str = _DEFAULT_CHAMPION,
                    slice_: str = "all") -> Mapping:
    """A champion's out-of-fold scores in the training crawl, on ``all`` tracks or the
    ``new_release`` slice, with the same metrics as the external sets.

    Examples
    --------
    >>> e = {"in_data": {"cold_start": {"new_release": {"spearman": 0.7}}}}
    >>> in_data_metrics(e, "cold_start", "new_release")["spearman"]
    0.7
    """
    if slice_ not in ("all", "new_release"):
        raise ValueError(f"slice_ must be 'all' or 'new_release', got {slice_!r}")
    return _get(external, "in_data", protocol, slice_)


def in_data_model_metrics(external: Mapping, protocol: str, model: str,
                          slice_: str = "all") -> Mapping:
    """Any model's out-of-fold predicted popularity scored in the training crawl (``all`` or
    ``new_release``): ``spearman``, ``spearman_within_genre``, ``r2``, ``mae``, ...

    Examples
    --------
    >>> e = {"in_data": {"cold_start": {"models": {"xgboost": {"all": {"r2": 0.4}}}}}}
    >>> in_data_model_metrics(e, "cold_start", "xgboost")["r2"]
    0.4
    """
    if slice_ not in ("all", "new_release"):
        raise ValueError(f"slice_ must be 'all' or 'new_release', got {slice_!r}")
    return _get(external, "in_data", protocol, "models", model, slice_)


def new_release_definition(external: Mapping) -> str:
    """The new-release slice in words."""
    return _get(external, "in_data", "new_release_definition")


def fill_sensitivity(external: Mapping, name: str) -> list[Mapping]:
    """The cold-start champion on a set under each album (``missing`` / ``blank``) and genre
    (``rule`` / ``none``) encoding; the row with ``rule`` true is the scored one."""
    return _get(external, "fill_sensitivity", name)


def finding(external: Mapping, name: str) -> Mapping:
    """``artist_history`` (artist means across and within crawls) or ``album_copies``."""
    return _get(external, "findings", name)


def source_entry(external: Mapping, name: str) -> Mapping:
    """Provenance of a set: ``title``, ``author``, ``crawled``, ``repository``, ``commit``,
    ``files`` (each ``file``, ``sha256``, ``url``, ``rows``, ``verified``)."""
    return _get(external, "sources", name)


def issue_targets(external: Mapping) -> Mapping:
    """The issue's targets, beside which the scores are read (never a pass/fail here)."""
    return _get(external, "targets")
