"""Does it hold outside this dataset? The champions scored on other crawls of Spotify (issue 13).

The site's honest scores are honest within one crawl. Two public crawls gathered
independently (:mod:`~analysis.external.sources`) test whether they transfer; this package
turns them into one artifact, ``models/external.json``, built by ``python -m analysis.cli
external`` (``make external``). One module per concern:

- :mod:`~analysis.external.sources` the files, their SHA-256 and public URLs; locate,
  verify, download (the main dataset's path, :mod:`analysis.data`);
- :mod:`~analysis.external.validation` reading: every quirk a counted reject with its
  reason, a malformed file a :class:`~analysis.schema.TrackDataError` (pandera);
- :mod:`~analysis.external.tracks` one row per track, tracks of the training data set apart;
- :mod:`~analysis.external.fill` one rule per set for the inputs it lacks;
- :mod:`~analysis.external.evaluate` the in-data metrics on the external sets;
- :mod:`~analysis.external.in_data` the same metrics from the committed OOF predictions, on
  all tracks and on a new-release slice;
- :mod:`~analysis.external.findings` artist popularity across crawls, album copies;
- :mod:`~analysis.external.build` :func:`build_external`;
- :mod:`~analysis.external.artifacts` writing ``external.json`` and the typed accessors its
  readers use (:func:`load_external`).

Importing the package loads the accessors only (no pandera, scikit-learn or XGBoost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.external.artifacts import (
    SCHEMA_VERSION,
    ExternalSchemaError,
    check_schema,
    external_metrics,
    fill_rules,
    fill_sensitivity,
    finding,
    genre_rows,
    in_data_genre_rows,
    in_data_metrics,
    interval_level,
    issue_targets,
    known_artist_entry,
    load_external,
    matched_labels,
    new_release_definition,
    scored_champion,
    set_counts,
    set_names,
    source_entry,
)

if TYPE_CHECKING:  # imported on first use by __getattr__ below
    from analysis.external.build import build_external, locate_sources

_LAZY: dict[str, str] = {"build_external": "build", "locate_sources": "build"}


def __getattr__(name: str):
    """Import a heavy public name from its module on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "SCHEMA_VERSION",
    "ExternalSchemaError",
    "build_external",
    "check_schema",
    "external_metrics",
    "fill_rules",
    "fill_sensitivity",
    "finding",
    "genre_rows",
    "in_data_genre_rows",
    "in_data_metrics",
    "interval_level",
    "issue_targets",
    "known_artist_entry",
    "load_external",
    "locate_sources",
    "matched_labels",
    "new_release_definition",
    "scored_champion",
    "set_counts",
    "set_names",
    "source_entry",
]
