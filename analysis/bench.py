"""Performance figures for the targets the issues set, printed rather than asserted.

Timed tests are flaky on shared machines; the closing notes quote these figures instead.
Run with ``make bench`` (``python -m analysis.cli bench``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from analysis import paths


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_data_pipeline(repeat: int = 3) -> dict[str, float]:
    """Load + validate + clean the full file, cold (no processed cache) and cached.

    Each cold run uses a fresh, empty data folder so nothing is reused between runs.
    """
    from analysis.data import load_tracks, locate_raw

    raw = locate_raw()
    old = os.environ.get(paths.DATA_DIR_ENV_VAR)

    def cold() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ[paths.DATA_DIR_ENV_VAR] = tmp
            load_tracks(raw)

    try:
        cold_s = _median_seconds(cold, repeat)
        with tempfile.TemporaryDirectory() as tmp:
            os.environ[paths.DATA_DIR_ENV_VAR] = tmp
            load_tracks(raw)
            cached_s = _median_seconds(lambda: load_tracks(raw), repeat)
    finally:
        if old is None:
            os.environ.pop(paths.DATA_DIR_ENV_VAR, None)
        else:
            os.environ[paths.DATA_DIR_ENV_VAR] = old
    return {"cold_s": cold_s, "cached_s": cached_s}


def run_benchmarks() -> None:
    """Print every figure with its target, section by section."""
    print("== Data (issue: Foundation)")
    data = bench_data_pipeline()
    print(f"load+validate+clean, cold:   {data['cold_s']:.2f} s  (target <= 3 s)")
    print(f"load+validate+clean, cached: {data['cached_s']:.2f} s  (target <= 0.5 s)")

    print("== Chapters: execution time and weight (target <= 60 s each)")
    from analysis.plots import print_chapter_weights

    print_chapter_weights(sorted((paths.PROJECT_ROOT / "chapters").glob("*.ipynb")))

    print("== Modeling (issue: Modeling)")
    from analysis.models import benchmark_models

    benchmark_models(retrain=True)

    print("== Predictor (issue: Predictor)")
    from analysis.export import load_export_manifest

    payload = sum(e["gzip_bytes"] for e in load_export_manifest().values())
    print(f"exported payload, all selectable models + reference tracks: "
          f"{payload / 1e6:.2f} MB gzip  (target <= 1.5 MB)")
    browser_bench = paths.PROJECT_ROOT / "js" / "bench" / "predict_browser_bench.py"
    subprocess.run([sys.executable, str(browser_bench)], check=False)
