"""Catalogues made from the real data for the triage page's parity tests and benchmark.

They are written under the gitignored data folder (``data/triage_web/``, which moves with
``$TRACK_ANALYTICS_DATA_DIR``) and never committed: they are the dataset, or most of it.

* :func:`write_parity_fixture`: every row of the raw dataset as a catalogue, with what Python
  makes of it (the ``cold_start`` model matrix from :func:`analysis.features.features_from_raw`,
  the champion's predictions and hit probabilities), for ``js/test/triage_parity.test.js``;
* :func:`write_benchmark_catalogue`: a 100,000-row catalogue (rows of the raw dataset drawn
  without replacement, popularity dropped) for the browser benchmark and the browser test.

``python -m analysis.export.triage_data`` writes both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from analysis import paths

__all__ = [
    "BENCHMARK_ROWS",
    "FIXTURE_DIR",
    "fixture_dir",
    "write_benchmark_catalogue",
    "write_parity_fixture",
]

#: Folder inside the data folder.
FIXTURE_DIR = "triage_web"
#: Rows of the benchmark catalogue (the issue's browser target).
BENCHMARK_ROWS = 100_000


def fixture_dir() -> Path:
    """``data/triage_web/`` (gitignored)."""
    return paths.data_dir() / FIXTURE_DIR


def _raw_rows(raw: str | os.PathLike | None) -> tuple[Path, Any]:
    from analysis.data import locate_raw
    from analysis.features import REQUIRED_RAW_COLUMNS
    from analysis.schema import read_tracks_csv

    path = Path(raw) if raw is not None else locate_raw(download=False)
    return path, read_tracks_csv(path, columns=REQUIRED_RAW_COLUMNS)


def write_parity_fixture(out_dir: str | os.PathLike | None = None, *,
                         raw: str | os.PathLike | None = None,
                         models_dir: str | os.PathLike | None = None) -> Path:
    """Every raw row as ``catalogue.csv`` plus Python's matrix and scores of it.

    Files: ``catalogue.csv`` (the raw columns as read, popularity dropped, no index column),
    ``features.f64`` (row-major float64, NaN = missing), ``expected.json`` (feature names,
    lines, predictions, hit probabilities, the data file's SHA-256).
    """
    from analysis.data import uncompressed_sha256
    from analysis.features import features_from_raw
    from analysis.models import load

    out = Path(out_dir) if out_dir is not None else fixture_dir() / "parity"
    out.mkdir(parents=True, exist_ok=True)
    path, rows = _raw_rows(raw)
    rows = rows.reset_index(drop=True)
    catalogue = rows.drop(columns=["popularity"], errors="ignore")
    catalogue.to_csv(out / "catalogue.csv", index=False)
    X = features_from_raw(catalogue, protocol="cold_start", name="catalogue.csv")
    champion = load("cold_start", models_dir=models_dir)
    X.to_numpy(dtype=np.float64).tofile(out / "features.f64")
    expected = {
        "data_sha256": uncompressed_sha256(path),
        "rows": int(len(X)),
        "feature_names": list(X.columns),
        "lines": list(range(2, len(X) + 2)),
        "prediction": champion.predict(catalogue).tolist(),
        "p_hit": champion.predict_hit_probability(catalogue).tolist(),
    }
    (out / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    return out


def write_benchmark_catalogue(path: str | os.PathLike | None = None, *, rows: int = BENCHMARK_ROWS,
                              raw: str | os.PathLike | None = None,
                              random_state: int = 42) -> Path:
    """``rows`` raw rows (drawn without replacement, seeded) as a catalogue CSV."""
    out = Path(path) if path is not None else fixture_dir() / f"catalogue_{rows}.csv"
    if out.is_file():
        return out
    _, frame = _raw_rows(raw)
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(frame), size=min(rows, len(frame)), replace=False)
    sample = frame.iloc[np.sort(chosen)].drop(columns=["popularity"], errors="ignore")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    sample.to_csv(tmp, index=False)
    os.replace(tmp, out)
    return out


if __name__ == "__main__":
    print(write_parity_fixture())
    print(write_benchmark_catalogue())
