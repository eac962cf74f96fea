"""The triage issue's performance figures, printed beside their targets (``make bench``, or
``python -m analysis.cli bench --only triage``).

Targets (issue 14, on 2 cores): the command line, without reasons, at least 50,000 tracks/s
end to end on a 1,000,000-row catalogue and at most 1.5 GB peak memory on 5,000,000 rows;
reasons for a 1,000-track shortlist in at most 10 s; Spark local mode on 1,000,000 rows
reported beside the command line. Each figure is printed with the load average at the time,
since the machine is shared: a figure measured under load is pessimistic.

The catalogues are generated once into the gitignored ``data/bench/`` by resampling and
perturbing the real tracks (:func:`analysis.triage.write_benchmark_catalogue`).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from analysis import paths

__all__ = ["bench_cli", "bench_reasons", "benchmark_catalogue", "run_triage_benchmarks"]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def benchmark_catalogue(rows: int, suffix: str = ".csv") -> Path:
    """``data/bench/catalogue_<rows><suffix>``, generated on first use."""
    folder = paths.data_dir() / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"catalogue_{rows}{suffix}"
    if not path.exists():
        from analysis.data import load_tracks
        from analysis.triage import write_benchmark_catalogue

        start = time.perf_counter()
        write_benchmark_catalogue(load_tracks().tracks, rows, path)
        print(f"  (generated {path} in {time.perf_counter() - start:.0f} s)")
    return path


def bench_cli(path: Path, *, extra: tuple[str, ...] = ()) -> dict:
    """Run the command line on ``path`` in a child process: wall time, rate, peak RSS."""
    out = path.with_name(path.stem.split(".")[0] + ".bench-ranked.csv")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    load = _load()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "triage", str(path), "--output", str(out),
         "--quiet", *extra], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    if done.returncode:
        raise RuntimeError(f"triage failed ({done.returncode}): {done.stderr[-2000:]}")
    rows = int(done.stdout.split("read ")[1].split(" rows")[0].replace(",", ""))
    for file in out.parent.glob(out.name.split(".")[0] + ".*"):
        file.unlink()
    return {"rows": rows, "seconds": seconds, "rate": rows / seconds, "cpu_seconds": cpu,
            "peak_rss_gb": max(peak_kb, before) / 1e6 if peak_kb > before else float("nan"),
            "load": load}


def bench_reasons(n: int = 1000) -> dict:
    """Seconds to compute reasons for ``n`` tracks (after a warm-up that compiles TreeSHAP)."""
    from analysis.data import load_tracks
    from analysis.triage import load_context, sample_catalogue
    from analysis.triage.core import explain_rows, partition

    context = load_context("cold_start")
    catalogue = sample_catalogue(load_tracks().tracks, n, random_state=7)
    valid, _ = partition(catalogue, name="bench")
    explain_rows(valid.head(5), context)  # numba compiles (or loads its cache) once
    load = _load()
    start, cpu = time.perf_counter(), time.process_time()
    explain_rows(valid, context)
    return {"rows": len(valid), "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu, "load": load}


def bench_spark(path: Path) -> dict:
    """Wall time of the Spark job in local mode (``local[2]``) on a Parquet catalogue."""
    out = path.with_name(path.stem + ".spark-ranked.parquet")
    load = _load()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "analysis.triage.spark", str(path), str(out),
                           "--master", "local[2]"], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"spark triage failed: {done.stderr[-2000:]}")
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "load": load}


def run_triage_benchmarks(*, spark: bool = True) -> dict:
    """Print every triage figure beside its target."""
    print("== Triage (issue 14)")
    results = {}
    one_million = benchmark_catalogue(1_000_000)
    r = bench_cli(one_million)
    results["cli_1m"] = r
    print(f"command line, 1,000,000 rows (CSV in, CSV out, no reasons): {r['seconds']:.1f} s = "
          f"{r['rate']:,.0f} tracks/s (target >= 50,000), {r['cpu_seconds']:.0f} CPU-seconds, "
          f"peak RSS {r['peak_rss_gb']:.2f} GB ({r['load']} at start)")
    r = bench_reasons()
    results["reasons_1000"] = r
    print(f"reasons for {r['rows']:,} tracks: {r['seconds']:.1f} s, {r['cpu_seconds']:.1f} "
          f"CPU-seconds (target <= 10 s; {r['load']})")
    five_million = benchmark_catalogue(5_000_000)
    r = bench_cli(five_million)
    results["cli_5m"] = r
    print(f"command line, 5,000,000 rows: peak RSS {r['peak_rss_gb']:.2f} GB (target <= 1.5 GB), "
          f"{r['seconds']:.1f} s = {r['rate']:,.0f} tracks/s ({r['load']} at start)")
    if spark:
        parquet = benchmark_catalogue(1_000_000, ".parquet")
        r_cli = bench_cli(parquet)
        r = bench_spark(parquet)
        results["spark_1m"] = r
        print(f"Spark local[2], 1,000,000 rows Parquet -> Parquet: {r['seconds']:.1f} s, beside "
              f"the command line on the same file: {r_cli['seconds']:.1f} s ({r['load']})")
    return results
