"""Performance figures for the targets the issues set, printed rather than asserted.

Timed tests are flaky on shared machines; the closing notes quote these figures instead.
Run with ``make bench`` (``python -m analysis.cli bench``).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.embed import DIV_ID_PREFIX
from analysis.notebooks import execute_notebook


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


# --- chapters: execution time, notebook size and figure weight ------------------------------


def figure_weights(notebook: Path | str) -> pd.DataFrame:
    """Size of every embedded Plotly figure in an executed notebook.

    Returns one row per figure: ``name`` (the :func:`analysis.plots.show` name), ``html_bytes``
    (the stored output) and ``json_bytes`` (the figure's data + layout as Plotly serialised
    them).
    """
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]  # nbformat 4 JSON
    pattern = re.compile(
        r'id="' + re.escape(DIV_ID_PREFIX) + r'([^"]+)"'
    )
    rows = []
    for cell in cells:
        for output in cell.get("outputs", []):
            markup = output.get("data", {}).get("text/markdown")  # see analysis.embed
            if not markup:
                continue
            markup = "".join(markup) if isinstance(markup, list) else markup
            match = pattern.search(markup)
            if not match:
                continue
            call = markup[markup.find("Plotly.newPlot("):]
            rows.append({
                "name": match.group(1), "html_bytes": len(markup.encode()),
                "json_bytes": _plotly_payload_bytes(call),
            })
    return pd.DataFrame(rows, columns=["name", "html_bytes", "json_bytes"])


def _plotly_payload_bytes(call: str) -> int:
    """Bytes of the JSON arguments (data, layout) inside a ``Plotly.newPlot(...)`` call."""
    decoder = json.JSONDecoder()
    start = call.find("[")
    if start < 0:
        return 0
    size = 0
    position = start
    for _ in range(2):  # data array, then layout object
        _, end = decoder.raw_decode(call, position)
        size += end - position
        position = call.find("{", end)
        if position < 0:
            break
    return size


def chapter_weights(
    notebooks: Sequence[Path | str], *, execute: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Execution time and size of each chapter, and the JSON size of each of its figures.

    Parameters
    ----------
    notebooks
        Chapter notebooks; executed in place (as ``python -m analysis.cli chapters`` does) when
        ``execute`` is true, otherwise measured as stored.

    Returns
    -------
    chapters, figures
        ``chapter, seconds, notebook_bytes, figures, figure_json_bytes`` per chapter, and
        ``chapter, name, html_bytes, json_bytes`` per figure.
    """
    chapter_rows, figure_frames = [], []
    for notebook in map(Path, notebooks):
        seconds = float("nan")
        if execute:
            start = time.perf_counter()
            execute_notebook(notebook)
            seconds = time.perf_counter() - start
        figures = figure_weights(notebook).assign(chapter=notebook.name)
        figure_frames.append(figures)
        chapter_rows.append({
            "chapter": notebook.name, "seconds": round(seconds, 1),
            "notebook_bytes": notebook.stat().st_size, "figures": len(figures),
            "figure_json_bytes": int(figures["json_bytes"].sum()),
        })
    figures = pd.concat(figure_frames, ignore_index=True)[
        ["chapter", "name", "html_bytes", "json_bytes"]]
    return pd.DataFrame(chapter_rows), figures


def print_chapter_weights(notebooks: Sequence[Path | str], *, execute: bool = True) -> None:
    """Print :func:`chapter_weights` as the benchmark's text (for ``make bench``).

    Quarto is not available here to weigh rendered pages, so each figure's JSON is the measure.
    """
    chapters, figures = chapter_weights(notebooks, execute=execute)
    for _, c in chapters.iterrows():
        print(f"{c['chapter']}: executed in {c['seconds']:.1f} s (target <= 60 s), notebook "
              f"{c['notebook_bytes'] / 1024:.0f} KB, {c['figures']} figures, "
              f"{c['figure_json_bytes'] / 1024:.0f} KB of figure JSON")
        for _, f in figures[figures["chapter"].eq(c["chapter"])].iterrows():
            print(f"  {f['name']}: {f['json_bytes'] / 1024:.1f} KB JSON")


# --- all figures -------------------------------------------------------------------------------
def benchmark_models(models_dir: str | os.PathLike | None = None, *, retrain: bool = True) -> dict:
    """Print the modeling issue's performance figures beside their targets.

    Full build time excluding the Random Forests (their fits, predictions and joblib
    measurement) vs 15 min; the forests' fit time and joblib size vs the original's
    145 s / 1.8 GB; champion training time vs 30 s (re-measured by refitting each champion's
    parameters on all tracks when ``retrain``); champion artifact size vs 10 MB. Times are
    wall-clock on whatever else the machine was running: the load average is printed too.
    Reads ``metrics.json`` only (through :mod:`analysis.models.artifacts`), unless
    ``retrain``.
    """
    from analysis.models import (
        ORIGINAL_RF_JOBLIB_BYTES,
        ORIGINAL_RF_SECONDS,
        build_timings,
        champion_entry,
        champion_names,
        champion_timings,
        has_model,
        load_metrics,
        model_entry,
        model_timings,
        protocol_names,
    )

    metrics = load_metrics(models_dir)
    timings = build_timings(metrics)
    forests = [p for p in protocol_names(metrics)
               if model_timings(metrics, p, "random_forest") is not None]
    rf = {p: model_timings(metrics, p, "random_forest") for p in forests}
    # The wall time of *this* run, minus the forests it fitted. Forests carried over from a
    # previous build (--skip-random-forest) or resumed from checkpoints are not in it; models
    # resumed from checkpoints are added back from their recorded compute time (an estimate).
    carried = {p for p in protocol_names(metrics) if has_model(metrics, p, "random_forest")
               and model_entry(metrics, p, "random_forest").get("reused_from_previous_build")}
    resumed = timings.get("resumed_from_checkpoint", [])

    def compute_seconds(protocol: str, name: str) -> float:
        """Wall time of one model: recorded whole where its folds ran side by side (the
        per-fold times then overlap), else the sum of its parts."""
        entry = model_timings(metrics, protocol, name)
        if "wall_seconds" in entry:
            return entry["wall_seconds"]["total"]
        return sum(v["total"] for k, v in entry.items() if k.endswith("_seconds"))

    rf_here = sum(compute_seconds(p, "random_forest") for p in rf
                  if p not in carried and f"{p}/random_forest" not in resumed)
    resumed_other = sum(compute_seconds(*key.split("/")) for key in resumed
                        if not key.endswith("/random_forest"))
    build = timings["build_seconds"] - rf_here + resumed_other
    load = timings.get("load_average", {})
    lines = [f"full build excluding Random Forests: {build / 60:.1f} min"
             + (f" (estimate: {len(resumed)} models resumed from checkpoints)" if resumed else "")
             + " (target <= 15 min; "
             f"load average {load.get('start', float('nan')):.1f} at start, "
             f"{load.get('end', float('nan')):.1f} at end, on 2 cores)"]
    for protocol, entry in rf.items():
        lines.append(
            f"random forest, {protocol}: {entry['fit_seconds']['mean']:.0f} s per fit, joblib "
            f"{max(entry['joblib_bytes']['folds']) / 1e9:.2f} GB "
            f"(original: {ORIGINAL_RF_SECONDS:.0f} s, {ORIGINAL_RF_JOBLIB_BYTES / 1e9:.1f} GB)")
    if not rf:
        lines.append("random forests: not in this build (skipped)")
    out = {"build_minutes_excluding_rf": build / 60, "random_forest": rf, "champions": {}}
    for name in champion_names(metrics):
        artifact_bytes = champion_entry(metrics, name)["artifact_bytes"]
        fit = champion_timings(metrics, name)["fit_seconds"]
        hit_fit = champion_timings(metrics, name).get("hit_classifier_fit_seconds")
        if retrain:
            fit = _time_champion_fit(name, models_dir)
        lines.append(f"champion {name}: training {fit:.1f} s"
                     + (f" + hit classifier {hit_fit:.1f} s (in the build)" if hit_fit else "")
                     + f" (target <= 30 s), artifact {artifact_bytes / 1e6:.2f} MB "
                     "(target <= 10 MB)")
        out["champions"][name] = {"fit_seconds": fit, "hit_classifier_fit_seconds": hit_fit,
                                  "artifact_bytes": artifact_bytes}
    print("\n".join(lines))
    return out


def _time_champion_fit(name: str, models_dir: str | os.PathLike | None) -> float:
    """Seconds to refit a champion's recorded parameters on the tracks it learned from (its
    matrix built as the build built it, a recipe's rows and columns)."""
    from analysis.data import load_tracks
    from analysis.models import design_matrix, load_champion, load_metrics, make_model, n_splits
    from analysis.models.recipes import popularity_fit

    champion = load_champion(name, models_dir=models_dir)
    tracks = load_tracks().tracks.reset_index(drop=True)
    X, y = popularity_fit(champion.recipe, design_matrix(
        tracks, name, n_splits=n_splits(load_metrics(models_dir))), tracks)
    start = time.perf_counter()
    make_model(champion.manifest["model"], params=champion.manifest["params"]).fit(X, y)
    return time.perf_counter() - start


def run_benchmarks(only: str | None = None, *, repeat: int = 1) -> None:
    """Print every figure with its target, section by section (``only="triage"``: the
    triage section alone, each figure the median of ``repeat`` runs)."""
    if only == "triage":
        from analysis.triage.bench import run_triage_benchmarks

        run_triage_benchmarks(repeat=repeat)
        return
    print("== Data (issue: Foundation)")
    data = bench_data_pipeline()
    print(f"load+validate+clean, cold:   {data['cold_s']:.2f} s  (target <= 3 s)")
    print(f"load+validate+clean, cached: {data['cached_s']:.2f} s  (target <= 0.5 s)")

    print("== Chapters: execution time and weight (target <= 60 s each)")
    print_chapter_weights(sorted(paths.CHAPTERS_DIR.glob("*.ipynb")))

    print("== Modeling (issue: Modeling)")
    benchmark_models(retrain=True)

    print("== Predictor (issue: Predictor)")
    from analysis.export import load_export_manifest

    payload = sum(e["gzip_bytes"] for e in load_export_manifest().values())
    print(f"exported payload, all selectable models + reference tracks: "
          f"{payload / 1e6:.2f} MB gzip  (target <= 1.5 MB)")
    browser_bench = paths.PROJECT_ROOT / "js" / "bench" / "predict_browser_bench.py"
    subprocess.run([sys.executable, str(browser_bench)], check=False)
