"""The triage page on a 100,000-row catalogue in headless Chromium (issue 14's browser targets).

    python js/bench/triage_browser_bench.py              # 100,000 rows, 3 runs
    python js/bench/triage_browser_bench.py --rows 20000 --runs 1 --no-corpus

Writes the catalogue from the real data into the gitignored ``data/triage_web/`` the first
time (:func:`analysis.export.triage_data.write_benchmark_catalogue`), serves the project root
on 127.0.0.1 with every other request aborted, opens ``js/harness/triage.html`` (the page's
module, worker and files), hands it the file as a reader's drop would, and reports:

* **time to ranked**: from handing over the file to the first page of the ranked table on
  screen (target ≤ 10 s), with the worker's own split (decode, parse, validate, score, rank);
* **input latency while scoring**: pointer moves and key presses sent through the browser's
  input pipeline every 50 ms while the worker scores; for each, the time from the event's
  creation (``event.timeStamp``) to its handler on the main thread, and to the next frame
  after it (the answer on screen; target ≤ 100 ms), and the main thread's event-loop lag
  from a 10 ms timer; the medians over the runs of each run's worst;
* **the malformed corpus** (``tests/malformed/``, ``--corpus``, on by default): each file
  dropped on the page; a file with bad rows must list every reject with its line, column and
  reason in the page's rejects table, and a file that cannot be read must name its problem;
* **page weight** as served gzipped, before and after scoring, and console errors and
  off-site requests (target: none).

Chromium shares this machine's cores with whatever else runs: read the figures with the
load average printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

#: Installed before scoring: records input latency and event-loop lag on the main thread.
MONITOR_JS = """() => {
  const m = {input: [], frame: [], lag: [], running: true};
  const record = (e) => {
    if (!m.running) return;
    const t = performance.now();
    m.input.push([t, t - e.timeStamp]);
    // the answer on screen: the next frame after the handler (rAF runs just before paint)
    const stamp = e.timeStamp;
    requestAnimationFrame(() => m.frame.push([t, performance.now() - stamp]));
  };
  document.addEventListener('pointermove', record, {capture: true});
  document.addEventListener('keydown', record, {capture: true});
  let expected = performance.now() + 10;
  const tick = () => {
    const now = performance.now();
    m.lag.push([now, Math.max(0, now - expected)]);
    expected = now + 10;
    if (m.running) setTimeout(tick, 10);
  };
  setTimeout(tick, 10);
  // Long tasks: main-thread work of 50 ms or more (a lag without one is the OS scheduler).
  m.long = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) m.long.push([e.startTime, e.duration]);
  }).observe({type: 'longtask', buffered: false});
  window.triageMonitor = m;
}"""

DONE_JS = """(before) => {
  const s = window.triageHarness.app.state;
  return s.result !== null && s.updates > before &&
    document.querySelectorAll('[data-role=ranked] tbody tr.triage-row').length > 0;
}"""


def thread_times(trace_path: Path, since_ms: float | None = None) -> dict:
    """CPU time per renderer thread from a Chromium trace (immune to other processes' load),
    and the main thread's longest task in CPU and in wall time."""
    doc = json.loads(trace_path.read_text())
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("name") == "thread_name"}
    renderer = {key for key, name in names.items() if name in ("CrRendererMain", "DedicatedWorker thread")}
    cpu: dict[str, float] = {}
    longest_cpu = longest_wall = 0.0
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key not in renderer or e.get("ph") != "X" or e.get("name") not in ("RunTask", "ThreadControllerImpl::RunTask"):
            continue
        label = f"{names[key]} {e['tid']}"
        cpu[label] = cpu.get(label, 0.0) + e.get("tdur", 0) / 1000
        if names[key] == "CrRendererMain":
            longest_cpu = max(longest_cpu, e.get("tdur", 0) / 1000)
            longest_wall = max(longest_wall, e.get("dur", 0) / 1000)
    return {"cpu_ms": {k: round(v) for k, v in sorted(cpu.items())},
            "main_longest_task_cpu_ms": round(longest_cpu, 1),
            "main_longest_task_wall_ms": round(longest_wall, 1)}


def run_once(browser, url: str, catalogue: Path, width: int = 1280,
             trace: Path | None = None) -> dict:
    from site_harness import visit

    context = browser.new_context(viewport={"width": width, "height": 900})
    transferred: dict[str, int] = {}

    def finished(request):
        if "__bench__" in request.url:
            return
        sizes = request.sizes()
        transferred[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]

    context.on("requestfinished", finished)
    v = visit(context, url)
    page = v.page
    page.wait_for_function("window.triageHarness && window.triageHarness.ready", timeout=60_000)
    page.wait_for_timeout(500)
    weight_before = sum(transferred.values())
    files_before = sorted(u.split("/", 3)[-1] for u in transferred)
    page.evaluate(MONITOR_JS)
    before = page.evaluate("window.triageHarness.app.state.updates")
    box = page.locator("[data-role=summary]").bounding_box() or {"x": 10, "y": 10}
    # The file as a reader's drop hands it over: a File in the page (fetched from the local
    # server first; Playwright's set_input_files would push 16 MB through the DevTools
    # protocol on the page's main thread, which no reader's drop does).
    page.route("**/__bench__/catalogue.csv", lambda route: route.fulfill(path=str(catalogue)))
    page.evaluate("async (name) => { const r = await fetch('/__bench__/catalogue.csv'); "
                  "window.benchFile = new File([await r.blob()], name, {type: 'text/csv'}); }",
                  catalogue.name)
    if trace is not None:
        browser.start_tracing(page=page, path=str(trace), categories=[
            "devtools.timeline", "disabled-by-default-devtools.timeline"])
    t0 = time.perf_counter()
    page.evaluate("() => { window.benchStart = performance.now(); "
                  "window.triageHarness.app.scoreFile(window.benchFile); }")
    moves = 0
    while not page.evaluate(DONE_JS, before):
        page.mouse.move(box["x"] + 5 + (moves % 2) * 20, box["y"] + 5)
        if moves % 4 == 0:
            page.keyboard.press("Shift")
        moves += 1
        page.wait_for_timeout(50)
        if time.perf_counter() - t0 > 300:
            raise TimeoutError("not ranked within 300 s")
    elapsed = time.perf_counter() - t0
    threads = None
    if trace is not None:
        browser.stop_tracing()
        threads = thread_times(trace)
    monitor = page.evaluate("""(() => {
      const m = window.triageMonitor; m.running = false;
      const s = window.triageHarness.app.state;
      // while the worker works: from its first progress message to the result on screen
      const from = s.progress.length ? s.progress[0].t : window.benchStart;
      const inside = (xs) => xs.filter(([t]) => t >= from).map(([, v]) => v);
      return {input: inside(m.input), frame: inside(m.frame), lag: inside(m.lag),
              all_lag: m.lag.map(([, v]) => v),
              long: m.long.filter(([t]) => t >= from).map(([t, d]) => [Math.round(t - from), Math.round(d)]),
              lagAt: m.lag.filter(([t, v]) => t >= from && v > 50).map(([t, v]) => [Math.round(t - from), Math.round(v)]),
              ranked_ms: performance.now() - window.benchStart};
    })()""")
    state = page.evaluate("(() => { const r = window.triageHarness.app.state.result; return {"
                          "timings: r.timings, read: r.read, accepted: r.accepted, "
                          "rejected: r.rejectedLines, status: r.status, bytes: r.bytes}; })()")
    weight_after = sum(transferred.values())
    context.close()
    return {
        "seconds_to_ranked": elapsed, "worker": state,
        "input_events": len(monitor["input"]),
        "max_input_latency_ms": max(monitor["input"], default=float("nan")),
        "p95_input_latency_ms": _p95(monitor["input"]),
        "max_input_to_frame_ms": max(monitor["frame"], default=float("nan")),
        "p95_input_to_frame_ms": _p95(monitor["frame"]),
        "max_event_loop_lag_ms": max(monitor["lag"], default=float("nan")),
        "page_ms_to_ranked": monitor["ranked_ms"],
        "long_tasks": monitor["long"], "lag_spikes": monitor["lagAt"],
        "weight_before": weight_before, "weight_after": weight_after, "files": files_before,
        "console_errors": v.console_errors + v.page_errors, "offsite": v.offsite_requests,
        "threads": threads,
    }


#: What the page shows after a corpus file: its outcome, the named rejects in the rejects
#: table (line, column, value, reason cells), the file-level problems it names.
CORPUS_JS = """() => {
  const s = window.triageHarness.app.state;
  const r = s.result;
  const rows = [...document.querySelectorAll('[data-role=rejects-table] tbody tr')].map((tr) =>
    [...tr.cells].map((td) => td.textContent));
  const named = [...document.querySelectorAll('[data-role=file-error] li')]
    .map((li) => li.textContent);
  return {status: r.status, read: r.read, accepted: r.accepted, rejected_lines: r.rejectedLines,
          rejects_total: r.rejectsTotal ?? 0, rejects_table: rows, file_problems: named,
          ms: r.timings.total};
}"""


def run_corpus(browser, url: str) -> list[dict]:
    """Each file of ``tests/malformed/`` handed to the page as a drop would: what it shows.

    ``named`` is true when the page names every problem: each reject row of the table has a
    line (2 and after), a column (or "–" for a whole-row problem) and a reason, as many rows
    as rejects; a file that cannot be scored names at least one problem.
    """
    corpus = sorted(p for p in (ROOT / "tests" / "malformed").iterdir()
                    if p.name.endswith((".csv", ".csv.gz")))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.triageHarness && window.triageHarness.ready", timeout=60_000)
    out = []
    for path in corpus:
        before = page.evaluate("window.triageHarness.app.state.updates")
        page.set_input_files("[data-role=file-input]", str(path))
        page.wait_for_function(
            "(b) => { const s = window.triageHarness.app.state; "
            "return s.result !== null && s.updates > b && !s.busy; }", arg=before, timeout=60_000)
        shown = page.evaluate(CORPUS_JS)
        table = shown["rejects_table"]
        if shown["status"] == "ok":
            named = (len(table) == shown["rejects_total"]
                     and all(int(line) >= 2 and column and reason
                             for line, column, _value, reason in table))
        else:
            named = bool(shown["file_problems"]) and all(shown["file_problems"])
        out.append({"file": path.name, **shown, "named": named})
    context.close()
    return out


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 1)


def _p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-corpus", dest="corpus", action="store_false",
                        help="skip the malformed corpus")
    parser.add_argument("--trace-run", type=int, default=1, metavar="N",
                        help="record a Chromium trace of run N (default 1; 0: none) into "
                             "data/triage_web/triage_bench_trace.json")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright
    from site_harness import Server

    from analysis.export.triage_data import write_benchmark_catalogue

    catalogue = write_benchmark_catalogue(rows=args.rows)
    server = Server(ROOT)
    runs = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(args.runs):
                trace = (catalogue.parent / "triage_bench_trace.json"
                         if i + 1 == args.trace_run else None)
                runs.append(run_once(browser, f"{server.url}/js/harness/triage.html", catalogue,
                                     trace=trace))
            corpus = (run_corpus(browser, f"{server.url}/js/harness/triage.html")
                      if args.corpus else [])
            browser.close()
    finally:
        server.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    best = min(runs, key=lambda r: r["seconds_to_ranked"])
    report = {
        "rows": args.rows, "catalogue_bytes": catalogue.stat().st_size,
        "load_average": load, "cpus": os.cpu_count(),
        "seconds_to_ranked": [round(r["seconds_to_ranked"], 2) for r in runs],
        "median_seconds_to_ranked": round(statistics.median(r["seconds_to_ranked"] for r in runs), 2),
        "max_input_latency_ms": [round(r["max_input_latency_ms"], 1) for r in runs],
        "p95_input_latency_ms": [round(r["p95_input_latency_ms"], 1) for r in runs],
        "max_input_to_frame_ms": [round(r["max_input_to_frame_ms"], 1) for r in runs],
        "p95_input_to_frame_ms": [round(r["p95_input_to_frame_ms"], 1) for r in runs],
        "max_event_loop_lag_ms": [round(r["max_event_loop_lag_ms"], 1) for r in runs],
        "median_max_input_latency_ms": _median(runs, "max_input_latency_ms"),
        "median_max_input_to_frame_ms": _median(runs, "max_input_to_frame_ms"),
        "median_max_event_loop_lag_ms": _median(runs, "max_event_loop_lag_ms"),
        "input_events": [r["input_events"] for r in runs],
        "main_thread_long_tasks": [r["long_tasks"] for r in runs],
        "lag_spikes_over_50ms": [r["lag_spikes"] for r in runs],
        "worker_ms_best_run": {k: round(v) for k, v in best["worker"]["timings"].items()},
        "counts": {k: best["worker"][k] for k in ("read", "accepted", "rejected", "status")},
        "page_transfer_bytes_before": best["weight_before"],
        "page_transfer_bytes_after": best["weight_after"],
        "files_loaded": best["files"],
        "traced_run": args.trace_run,
        "traced_run_threads": (runs[args.trace_run - 1]["threads"]
                               if 0 < args.trace_run <= len(runs) else None),
        "console_errors": sum(len(r["console_errors"]) for r in runs),
        "offsite_requests": sum(len(r["offsite"]) for r in runs),
        "corpus": [{k: c[k] for k in ("file", "status", "read", "accepted", "rejected_lines",
                                      "rejects_total", "named", "ms")} for c in corpus],
        "corpus_all_named": all(c["named"] for c in corpus) if corpus else None,
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"triage page, {args.rows:,} rows ({report['catalogue_bytes']:,} bytes), "
              f"{args.runs} runs, load average {load:.1f} on {os.cpu_count()} cores")
        print(f"  time to ranked: {report['seconds_to_ranked']} s (median "
              f"{report['median_seconds_to_ranked']} s; target <= 10 s)")
        print(f"  worker split, best run (ms): {report['worker_ms_best_run']}")
        print(f"  input latency while scoring, event to handler: max "
              f"{report['max_input_latency_ms']} ms (median {report['median_max_input_latency_ms']}"
              f" ms), p95 {report['p95_input_latency_ms']} ms over {report['input_events']} "
              "events")
        print(f"  input to next frame while scoring: max {report['max_input_to_frame_ms']} ms "
              f"(median {report['median_max_input_to_frame_ms']} ms), p95 "
              f"{report['p95_input_to_frame_ms']} ms (target <= 100 ms)")
        print(f"  main-thread event-loop lag: max {report['max_event_loop_lag_ms']} ms (median "
              f"{report['median_max_event_loop_lag_ms']} ms); "
              f"spikes > 50 ms [ms after start, ms]: {report['lag_spikes_over_50ms']}")
        print(f"  main-thread long tasks (>= 50 ms of page work) [start, ms]: "
              f"{report['main_thread_long_tasks']}")
        print(f"  page weight (transferred, gzip, worker's requests included): "
              f"{report['page_transfer_bytes_before']:,} bytes loaded, "
              f"{report['page_transfer_bytes_after']:,} after scoring; files: "
              f"{', '.join(report['files_loaded'])}")
        t = report["traced_run_threads"]
        if t is not None:
            print(f"  run {args.trace_run}, CPU time per thread (trace; other processes' load "
                  f"excluded): {t['cpu_ms']} ms; main thread's longest task "
                  f"{t['main_longest_task_cpu_ms']} ms CPU "
                  f"({t['main_longest_task_wall_ms']} ms wall)")
        print(f"  console errors {report['console_errors']}, off-site requests "
              f"{report['offsite_requests']}")
        if corpus:
            print(f"  malformed corpus, {len(corpus)} files: every problem named in the page: "
                  f"{report['corpus_all_named']}")
            for c in corpus:
                what = (f"{c['accepted']} scored, {c['rejected_lines']} rows rejected, "
                        f"{c['rejects_total']} named rejects" if c["status"] == "ok"
                        else f"not scored, {len(c['file_problems'])} problem(s) named: "
                             f"{c['file_problems'][0][:70]}")
                print(f"    {c['file']:<26} {what} ({c['ms']:.0f} ms)"
                      f"{'' if c['named'] else '  <-- NOT NAMED'}")
    return report


if __name__ == "__main__":
    main()
