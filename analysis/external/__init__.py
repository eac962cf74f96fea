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

A second artifact, ``models/transfer.json`` (``python -m analysis.cli transfer``), asks which
model recipe would transfer and which in-data measure says so:

- :mod:`~analysis.external.candidates` the recipes compared;
- :mod:`~analysis.external.comparison` scoring them in-data, on unseen macro-genres and on the
  crawls; the known-artist recipe grouped by album; every honest model on the crawls;
- :mod:`~analysis.external.selection` the agreement of in-data and external measures and the
  selection rule;
- :mod:`~analysis.external.transfer_artifact` reading ``transfer.json``.

Importing the package loads the accessors only (no pandera, scikit-learn or XGBoost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis._lazy import lazy_attributes
from analysis.external import artifacts as _artifacts
from analysis.external.artifacts import *  # noqa: F403 - the accessors, named once in its __all__

if TYPE_CHECKING:  # imported on first use by __getattr__ below
    from analysis.external.build import build_external as build_external
    from analysis.external.build import locate_sources as locate_sources

_LAZY: dict[str, str] = {"build_external": "build", "locate_sources": "build"}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

#: The accessors of :mod:`~analysis.external.artifacts` and the lazy build names.
__all__ = sorted([*_artifacts.__all__, *_LAZY])
