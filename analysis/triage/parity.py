"""The parity fixture: what Python's triage makes of every file of the malformed corpus.

``tests/malformed/expected_triage.json`` (written by ``tests/malformed/make_expected_triage.py``
from :func:`expected_outcomes`, checked by ``tests/test_triage_parity.py``) is what the
browser's validator is compared with. Per file, either

``{"outcome": "ranked", "n_read": N, "accepted_lines": [...], "rejects": [...]}``
    the file was read: the lines accepted, and one entry per problem of a rejected line,
    ``{"line", "column", "value", "reason"}`` exactly as the rejects file has them
    (``column`` and ``value`` empty when the problem concerns the whole row); or
``{"outcome": "error", "problems": [{"line", "column", "reason"}]}``
    a problem of the whole file (``line`` null or 1, the header), or no valid row (then the
    first problem, with no line, says so and the rejected rows' problems follow): nothing
    is ranked.

Classification: a problem located on a data line (line 2 and after) rejects that line;
anything else stops the file. Scores are not part of the fixture (the browser's predictor
has its own parity tests against the exported trees).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from analysis.schema import TrackDataError
from analysis.triage.core import no_valid_row, read_file, rejects_frame

__all__ = ["CORPUS", "FIXTURE", "expected_outcome", "expected_outcomes", "fixture_text"]

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "malformed"
FIXTURE = CORPUS / "expected_triage.json"


def expected_outcome(path: str | os.PathLike) -> dict:
    """Python's outcome for one file (see the module docstring)."""
    name = Path(path).name
    try:
        valid, problems = read_file(path, name=name)
        if valid.empty:  # as triage() refuses it: an error, not an empty ranking
            raise no_valid_row(name, len({p.row for p in problems}), problems)
    except TrackDataError as exc:
        return {"outcome": "error", "problems": [
            {"line": p.row, "column": p.column or "", "reason": p.message}
            for p in exc.problems]}
    rejects = rejects_frame(problems)
    return {
        "outcome": "ranked",
        "n_read": len(valid) + rejects["line"].nunique(),
        "accepted_lines": [int(line) for line in valid.index],
        "rejects": [{"line": int(r.line), "column": r.column, "value": r.value,
                     "reason": r.reason} for r in rejects.itertuples()],
    }


def expected_outcomes(corpus: str | os.PathLike = CORPUS) -> dict:
    """Every corpus file's outcome, by file name (``*.csv`` and ``*.csv.gz``), sorted."""
    files = sorted(p for p in Path(corpus).iterdir()
                   if p.name.endswith((".csv", ".csv.gz")))
    return {
        "about": "Python's triage of tests/malformed (analysis.triage.parity): the browser's "
                 "validator must classify every file and line the same way",
        "files": {p.name: expected_outcome(p) for p in files},
    }


def fixture_text(corpus: str | os.PathLike = CORPUS) -> str:
    """The fixture file's exact text."""
    return json.dumps(expected_outcomes(corpus), indent=1, ensure_ascii=False) + "\n"
