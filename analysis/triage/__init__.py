"""Triage a catalogue: a ranked shortlist of likely hits, with intervals, flags and reasons.

One scoring function, :func:`triage`, used by every front end: a DataFrame in Python or a
notebook; ``python -m analysis.cli triage FILE`` for a CSV or Parquet file streamed in chunks
(:mod:`analysis.triage.cli`); a Spark job beyond one machine (:mod:`analysis.triage.spark`).
The browser page reads the same champion export and follows the same rules; its parity fixture
is ``tests/malformed/expected_triage.json``.

Modules: :mod:`~analysis.triage.core` (the function and its pieces: partition, filters,
ranking, reasons, rejects), :mod:`~analysis.triage.scoring` (the output columns of a chunk,
the out-of-distribution rule), :mod:`~analysis.triage.reader` (chunked CSV/Parquet reading),
:mod:`~analysis.triage.catalogue` (example and benchmark catalogues).
"""

from analysis.triage.catalogue import make_catalogue, sample_catalogue, write_benchmark_catalogue
from analysis.triage.core import (
    REJECT_COLUMNS,
    LikeTrackError,
    NoValidRowError,
    TriageFilters,
    TriageResult,
    triage,
)
from analysis.triage.scoring import (
    LIKE_COLUMNS,
    OOD_COLUMNS,
    OUTPUT_COLUMNS,
    REASON_COLUMNS,
    StaleExportError,
    load_context,
)

__all__ = [
    "LIKE_COLUMNS",
    "OOD_COLUMNS",
    "OUTPUT_COLUMNS",
    "REASON_COLUMNS",
    "REJECT_COLUMNS",
    "LikeTrackError",
    "NoValidRowError",
    "StaleExportError",
    "TriageFilters",
    "TriageResult",
    "load_context",
    "make_catalogue",
    "sample_catalogue",
    "triage",
    "write_benchmark_catalogue",
]
