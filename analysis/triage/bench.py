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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis import paths
from analysis.triage.cli import _default_rejects

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


def _run_child(command: list[str]) -> tuple[subprocess.CompletedProcess, float, float, float]:
    """Run ``command``; (result, wall seconds, CPU seconds, peak RSS in GB) of that process
    alone (``wait4``: the rusage of this child, not the maximum over every child so far)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(command, process.returncode,
                                           out.read().decode(), err.read().decode())
    return done, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1e6


def bench_cli(path: Path, *, extra: tuple[str, ...] = (), suffix: str = ".csv",
              keep: bool = False) -> dict:
    """Run the command line on ``path`` in a child process: wall time, rate, CPU seconds,
    peak RSS. ``keep``: leave the ranked and rejects files (``output``, ``rejects``)."""
    out = path.with_name(path.name.split(".")[0] + ".bench-ranked" + suffix)
    load = _load()
    done, seconds, cpu, peak_gb = _run_child(
        [sys.executable, "-m", "analysis.cli", "triage", str(path), "--output", str(out),
         "--quiet", *extra])
    if done.returncode:
        raise RuntimeError(f"triage failed ({done.returncode}): {done.stderr[-2000:]}")
    rows = int(done.stdout.split("read ")[1].split(" rows")[0].replace(",", ""))
    outputs = sorted(out.parent.glob(out.name.removesuffix(suffix) + ".*"))  # never the input
    if not keep:
        for file in outputs:
            file.unlink()
    return {"rows": rows, "seconds": seconds, "rate": rows / seconds, "cpu_seconds": cpu,
            "peak_rss_gb": peak_gb, "load": load, "output": out, "rejects": _default_rejects(out)}


def _median_of(runs: list[dict]) -> dict:
    """Several runs of one benchmark as one: median wall and CPU seconds (the rate from the
    median seconds), the largest peak RSS, and every run's seconds."""
    summary = dict(runs[0])
    summary["seconds"] = statistics.median(r["seconds"] for r in runs)
    summary["cpu_seconds"] = statistics.median(r["cpu_seconds"] for r in runs)
    if "rows" in summary:
        summary["rate"] = summary["rows"] / summary["seconds"]
    if "peak_rss_gb" in summary:
        summary["peak_rss_gb"] = max(r["peak_rss_gb"] for r in runs)
    summary["all_seconds"] = [round(r["seconds"], 1) for r in runs]
    return summary


def bench_reasons(n: int = 1000, *, repeat: int = 1) -> dict:
    """Seconds to compute reasons for ``n`` tracks (after a warm-up that compiles TreeSHAP);
    the median of ``repeat`` runs in this process."""
    from analysis.data import load_tracks
    from analysis.triage import load_context, sample_catalogue
    from analysis.triage.core import explain_rows, partition

    context = load_context("cold_start")
    catalogue = sample_catalogue(load_tracks().tracks, n, random_state=7)
    valid, _ = partition(catalogue, name="bench")
    explain_rows(valid.head(5), context)  # numba compiles (or loads its cache) once
    runs = []
    for _ in range(repeat):
        load = _load()
        start, cpu = time.perf_counter(), time.process_time()
        explain_rows(valid, context)
        runs.append({"rows": len(valid), "seconds": time.perf_counter() - start,
                     "cpu_seconds": time.process_time() - cpu, "load": load})
    return _median_of(runs)


def bench_spark(path: Path, *, keep: bool = False) -> dict:
    """Wall time of the Spark job in local mode (``local[2]``) on a Parquet catalogue, JVM
    start included. ``keep``: leave the ranked folder (``output``) and ``output``_rejects."""
    out = path.with_name(path.name.split(".")[0] + ".spark-ranked.parquet")
    load = _load()
    done, seconds, _, _ = _run_child([sys.executable, "-m", "analysis.triage.spark", str(path),
                                      str(out), "--master", "local[2]"])
    if done.returncode:
        raise RuntimeError(f"spark triage failed: {done.stderr[-2000:]}")
    rejects = out.with_name(out.name + "_rejects")
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(rejects, ignore_errors=True)
    return {"seconds": seconds, "cpu_seconds": float("nan"), "load": load, "output": out,
            "rejects": rejects}


def compare_outputs(cli: dict, spark: dict) -> dict:
    """Whether the Spark job's ranked and rejects outputs equal the command line's on the same
    file, value for value (floats compared exactly); the largest float difference besides."""
    import numpy as np
    import pandas as pd

    expected = pd.read_parquet(cli["output"])
    got = pd.read_parquet(spark["output"]).sort_values("rank").reset_index(drop=True)
    floats = [c for c in expected.columns if expected[c].dtype.kind == "f"]
    same_shape = list(got.columns) == list(expected.columns) and len(got) == len(expected)
    diff = (max(float(np.nanmax(np.abs(got[c].to_numpy() - expected[c].to_numpy())))
                for c in floats) if same_shape and floats else float("nan"))
    try:
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)
        ranked_equal = True
    except AssertionError:
        ranked_equal = False
    keys = ["line", "column"]
    want = pd.read_parquet(cli["rejects"]).sort_values(keys).reset_index(drop=True)
    have = pd.read_parquet(spark["rejects"]).sort_values(keys).reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(have, want, check_dtype=False, check_exact=True)
        rejects_equal = True
    except AssertionError:
        rejects_equal = False
    return {"ranked_rows": len(expected), "rejects_rows": len(want),
            "ranked_equal": ranked_equal, "rejects_equal": rejects_equal,
            "max_float_difference": diff}


def run_triage_benchmarks(*, spark: bool = True, repeat: int = 1) -> dict:
    """Print every triage figure beside its target (each the median of ``repeat`` runs)."""
    print(f"== Triage (issue 14); median of {repeat} run(s) each")
    results = {}

    def times(r: dict) -> str:
        return f" (runs: {', '.join(f'{s} s' for s in r['all_seconds'])})" if repeat > 1 else ""

    one_million = benchmark_catalogue(1_000_000)
    r = _median_of([bench_cli(one_million) for _ in range(repeat)])
    results["cli_1m"] = r
    print(f"command line, 1,000,000 rows (CSV in, CSV out, no reasons): {r['seconds']:.1f} s = "
          f"{r['rate']:,.0f} tracks/s (target >= 50,000), {r['cpu_seconds']:.0f} CPU-seconds, "
          f"peak RSS {r['peak_rss_gb']:.2f} GB{times(r)} ({r['load']} at start)")
    r = bench_reasons(repeat=repeat)
    results["reasons_1000"] = r
    print(f"reasons for {r['rows']:,} tracks: {r['seconds']:.1f} s, {r['cpu_seconds']:.1f} "
          f"CPU-seconds (target <= 10 s){times(r)} ({r['load']})")
    # End to end too: the shortlist of a 1M-row catalogue with and without its reasons (the
    # difference includes loading the TreeSHAP code, which the figure above leaves out).
    plain = _median_of([bench_cli(one_million, extra=("--top", "1000"))
                        for _ in range(repeat)])
    explained = _median_of([bench_cli(one_million, extra=("--top", "1000", "--explain", "1000"))
                            for _ in range(repeat)])
    results["reasons_1000_cli"] = {"plain": plain, "explained": explained}
    print(f"command line, 1,000,000 rows, --top 1000: {plain['seconds']:.1f} s{times(plain)}; "
          f"with --explain 1000: {explained['seconds']:.1f} s{times(explained)}, so the reasons "
          f"add {explained['seconds'] - plain['seconds']:.1f} s (target <= 10 s; "
          f"{explained['load']} at start)")
    five_million = benchmark_catalogue(5_000_000)
    r = _median_of([bench_cli(five_million) for _ in range(repeat)])
    results["cli_5m"] = r
    print(f"command line, 5,000,000 rows: peak RSS {r['peak_rss_gb']:.2f} GB (target <= 1.5 GB), "
          f"{r['seconds']:.1f} s = {r['rate']:,.0f} tracks/s{times(r)} ({r['load']} at start)")
    if spark:
        parquet = benchmark_catalogue(1_000_000, ".parquet")
        r_cli = bench_cli(parquet, suffix=".parquet", keep=True)
        r_spark = bench_spark(parquet, keep=True)
        try:
            same = compare_outputs(r_cli, r_spark)
        finally:
            for file in (r_cli["output"], r_cli["rejects"]):
                file.unlink(missing_ok=True)
            shutil.rmtree(r_spark["output"], ignore_errors=True)
            shutil.rmtree(r_spark["rejects"], ignore_errors=True)
        runs = [r_spark] + [bench_spark(parquet) for _ in range(repeat - 1)]
        r = _median_of(runs)
        results["spark_1m"] = {**r, **same, "cli_seconds": r_cli["seconds"]}
        verdict = ("identical" if same["ranked_equal"] and same["rejects_equal"]
                   else "DIFFERENT")
        print(f"Spark local[2], 1,000,000 rows Parquet -> Parquet: {r['seconds']:.1f} s"
              f"{times(r)}, beside the command line on the same file: "
              f"{r_cli['seconds']:.1f} s; outputs {verdict} to the command line's "
              f"({same['ranked_rows']:,} ranked rows: {same['ranked_equal']}, "
              f"{same['rejects_rows']:,} reject rows: {same['rejects_equal']}, largest float "
              f"difference {same['max_float_difference']:.3g}) ({r['load']})")
    return results
