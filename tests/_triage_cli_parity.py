"""The browser's triage (``js/triage.js`` in Node) against the Python command line
(``python -m analysis.cli triage``) on one file: what to compare and how.

Used by ``tests/test_triage_web.py`` (where ``analysis.triage`` exists) and runnable by hand
against another checkout of the Python triage::

    PYTHONPATH=/path/to/python/checkout python tests/_triage_cli_parity.py FILE [--python-root DIR]

Compared: the rows read, accepted and rejected; each reject (line, column, value, reason);
the ranking (line at each rank); identity, genre and out-of-distribution columns exactly;
the audio features and duration exactly; ``p_hit``, ``predicted_popularity`` and the 80% and
90% interval bounds within a tolerance (reported as the largest absolute difference).
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")

#: Scores compared within a tolerance (XGBoost sums leaves in float32, in its own order).
SCORE_COLUMNS = ("p_hit", "predicted_popularity", "lower_80", "upper_80", "lower_90",
                 "upper_90")
#: Compared exactly (as text: the CLI's CSV against the browser's record).
TEXT_COLUMNS = ("track_id", "track_name", "artists", "album_name", "track_genre",
                "macro_genre", "ood_reason")
EXACT_NUMBERS = ("energy", "valence", "danceability", "tempo", "duration_ms")
#: pandera's echo of a missing integer ("missing value" is the cell's problem): the Python
#: triage lists it as a second reject of the same cell; the browser does not.
INT64_ECHO = "dtype('int64'), got nan"


def run_cli(source: Path, out_dir: Path, *, python: str = sys.executable,
            python_root: Path = ROOT, timeout: int = 1800) -> tuple[Path, Path, str]:
    """Run the Python command line on ``source``; return the ranked and rejects CSV paths
    and its summary line."""
    ranked, rejects = out_dir / "cli.ranked.csv", out_dir / "cli.rejects.csv"
    env = {**os.environ, "PYTHONPATH": str(python_root)}
    run = subprocess.run([python, "-m", "analysis.cli", "triage", str(source), "--output",
                          str(ranked), "--rejects", str(rejects), "--quiet"],
                         cwd=python_root, env=env, capture_output=True, text=True,
                         timeout=timeout)
    if run.returncode != 0:
        raise RuntimeError(f"the Python triage failed ({run.returncode}): {run.stderr[-2000:]}")
    return ranked, rejects, run.stdout.strip()


def run_node(source: Path, out: Path, *, timeout: int = 1800) -> dict:
    """``js/tools/triage_node.mjs triage`` on ``source``: the browser's outcome (JSON)."""
    subprocess.run([NODE, "js/tools/triage_node.mjs", "triage", str(source), str(out)],
                   cwd=ROOT, check=True, timeout=timeout)
    return json.loads(out.read_text("utf-8"))


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _text(value) -> str:
    return "" if value is None else str(value)


def compare(node: dict, ranked_csv: Path, rejects_csv: Path) -> dict:
    """Every difference between the browser's outcome and the CLI's files.

    Returns
    -------
    dict
        ``mismatches`` (a list of short descriptions, empty when the outputs agree, at most
        20 per kind), ``max_abs_diff`` per score column, the counts of both sides, and
        ``python_echo_rejects`` (the CLI's extra "dtype('int64'), got nan" rejects, left out
        of the comparison).
    """
    theirs = _rows(ranked_csv)
    their_rejects = _rows(rejects_csv)
    mismatches: list[str] = []

    def note(kind: str, text: str) -> None:
        if sum(m.startswith(kind) for m in mismatches) < 20:
            mismatches.append(f"{kind}: {text}")

    echo = [r for r in their_rejects if r["reason"] == INT64_ECHO]
    their_rejects = [r for r in their_rejects if r["reason"] != INT64_ECHO]
    mine_rejects = [(r["line"], r["column"] or "", r["value"], r["reason"])
                    for r in node["rejects"]]
    theirs_rejects = [(int(r["line"]), r["column"], r["value"], r["reason"])
                      for r in their_rejects]
    if mine_rejects != theirs_rejects:
        only_mine = sorted(set(mine_rejects) - set(theirs_rejects))
        only_theirs = sorted(set(theirs_rejects) - set(mine_rejects))
        note("rejects", f"{len(mine_rejects)} in the browser, {len(theirs_rejects)} in the "
                        f"CLI; only the browser's: {only_mine[:5]}; only the CLI's: "
                        f"{only_theirs[:5]}")
    mine = node["ranked"]
    if [r["line"] for r in mine] != [int(r["line"]) for r in theirs]:
        a, b = [r["line"] for r in mine], [int(r["line"]) for r in theirs]
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
        note("ranking", f"{len(a)} ranked rows in the browser, {len(b)} in the CLI; first "
                        f"difference at rank {first + 1}")
        if sorted(a) != sorted(b):
            note("accepted", f"lines only in the browser {sorted(set(a) - set(b))[:10]}, "
                             f"only in the CLI {sorted(set(b) - set(a))[:10]}")
    theirs_by_line = {int(r["line"]): r for r in theirs}
    worst = dict.fromkeys(SCORE_COLUMNS, 0.0)
    for k, r in enumerate(mine):
        t = theirs_by_line.get(r["line"])
        if t is None:
            continue
        if int(t["rank"]) != r["rank"] or r["rank"] != k + 1:
            note("rank", f"line {r['line']}: browser {r['rank']}, CLI {t['rank']}")
        for column in SCORE_COLUMNS:
            diff = abs(float(r[column]) - float(t[column]))
            worst[column] = max(worst[column], diff if math.isfinite(diff) else math.inf)
        for column in TEXT_COLUMNS:
            if _text(r[column]) != t[column]:
                note(column, f"line {r['line']}: browser {r[column]!r}, CLI {t[column]!r}")
        for column in EXACT_NUMBERS:
            if float(r[column]) != float(t[column]):
                note(column, f"line {r['line']}: browser {r[column]!r}, CLI {t[column]!r}")
        if str(r["out_of_distribution"]).lower() != t["out_of_distribution"]:
            note("out_of_distribution", f"line {r['line']}: browser {r['out_of_distribution']}, "
                                        f"CLI {t['out_of_distribution']}")
        explicit = "" if r["explicit"] is None else str(r["explicit"]).lower()
        if explicit != t["explicit"]:
            note("explicit", f"line {r['line']}: browser {r['explicit']}, CLI {t['explicit']}")
    return {
        "mismatches": mismatches, "max_abs_diff": worst,
        "browser": {"read": node["read"], "accepted": node["accepted"],
                    "rejected_lines": node["rejected_lines"], "rejects": len(mine_rejects),
                    "out_of_distribution": sum(r["out_of_distribution"] for r in mine)},
        "cli": {"ranked": len(theirs), "rejected_lines": len({r[0] for r in theirs_rejects}),
                "rejects": len(theirs_rejects),
                "out_of_distribution": sum(r["out_of_distribution"] == "true" for r in theirs)},
        "python_echo_rejects": len(echo),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--python-root", type=Path, default=ROOT,
                        help="checkout holding analysis.triage (default: this one)")
    parser.add_argument("--keep", type=Path, help="write the outputs here, and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        ranked, rejects, summary = run_cli(args.source.resolve(), out,
                                           python_root=args.python_root.resolve())
        node = run_node(args.source.resolve(), out / "node.json")
        report = compare(node, ranked, rejects)
    print(summary)
    print(json.dumps(report, indent=1))
    return 1 if report["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
