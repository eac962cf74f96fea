"""The browser's triage (``js/triage.js``, run in Node) against Python, row for row.

* Validation, on every file of the malformed corpus (``tests/malformed/``): the Python
  triage's expected outcome (``tests/malformed/expected_triage.json``, when present) file by
  file (error or ranked, the lines accepted, each reject's line, column, value and reason),
  and always :func:`analysis.schema.read_tracks_csv`'s problems (same lines and columns, same
  messages). Then the accepted variants (byte-order mark, CRLF, gzip without ``.gz``, extra
  columns, no index column) and one bad cell at a time, spelled as Python spells it.
* Features and scores, on every row of the real dataset (slow): the fixture is written from
  the data into the gitignored ``data/triage_web/parity/``
  (:func:`analysis.export.triage_data.write_parity_fixture`) and
  ``js/test/triage_parity.test.js`` compares: every model column identical, predictions and
  hit probabilities within 1e-4 of the champion's.
* The ranked output of the example catalogue against :func:`analysis.triage.triage`, and
  the Python command line's files (``python -m analysis.cli triage``) on the example and
  (slow) on a sample of real tracks with defects put in, where that module exists (after
  the Python triage's branch is merged; skipped before): same rejects, same ranking, same
  out-of-distribution flags, scores bit for bit (``tests/_triage_cli_parity.py``).

Classification (the contract shared with the Python triage): a problem on a data line
(line 2 and after) rejects that row; one without a line or on the header stops the file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.features import REQUIRED_RAW_COLUMNS
from analysis.paths import PROJECT_ROOT
from analysis.schema import TrackDataError, read_tracks_csv

CORPUS = PROJECT_ROOT / "tests" / "malformed"
EXPECTED = CORPUS / "expected_triage.json"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name.endswith((".csv", ".csv.gz")))
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (make install)")

#: pandera reports a missing integer twice: "missing value", then this (not a second
#: problem of the cell; the browser reports the first only).
_INT64_ECHO = "dtype('int64'), got nan"


def node_validate(*paths: Path) -> dict[str, dict]:
    """``{file name: outcome}`` of ``js/tools/triage_node.mjs validate``."""
    run = subprocess.run([NODE, "js/tools/triage_node.mjs", "validate", *map(str, paths)],
                         cwd=PROJECT_ROOT, check=True, capture_output=True, text=True, timeout=300)
    return {d["file"]: d for d in map(json.loads, run.stdout.splitlines())}


@pytest.fixture(scope="module")
def corpus_outcomes() -> dict[str, dict]:
    return node_validate(*(CORPUS / name for name in FILES))


def python_problems(source: Path | bytes) -> list[tuple]:
    try:
        read_tracks_csv(source, name="x", columns=REQUIRED_RAW_COLUMNS)
    except TrackDataError as exc:
        return [(p.row, p.column, p.message) for p in exc.problems if p.message != _INT64_ECHO]
    return []


def js_problems(outcome: dict) -> list[tuple]:
    """All problems the browser found: the file's, then every reject's (a file with no valid
    row lists its rows' problems again after "no valid row": counted once)."""
    whole = [(p["line"], p["column"], p["message"]) for p in outcome["problems"]
             if (p["line"] is None or p["line"] < 2)
             and not p["message"].startswith("no valid row")]
    rows = [(r["line"], r["column"] or None, r["reason"]) for r in outcome["rejects"]]
    return whole + rows


@pytest.mark.parametrize("name", FILES)
def test_corpus_file_matches_analysis_schema(name, corpus_outcomes):
    """Same lines and columns as read_tracks_csv, same words; the same classification."""
    expected = python_problems(CORPUS / name)
    outcome = corpus_outcomes[name]
    got = js_problems(outcome)
    assert [(line, column) for line, column, _ in got] == [(r, c) for r, c, _ in expected]
    assert [message for _, _, message in got] == [message for _, _, message in expected]
    whole = [p for p in expected if p[0] is None or p[0] < 2]
    assert outcome["status"] == ("error" if whole or not outcome["accepted"] else "ok")
    if outcome["status"] == "ok":
        rejected = {line for line, _, _ in expected}
        assert outcome["read"] == outcome["accepted"] + len(rejected)
        assert outcome["rejected_lines"] == len(rejected)
        assert not rejected & set(outcome["accepted_lines"])


@pytest.mark.skipif(not EXPECTED.is_file(), reason="tests/malformed/expected_triage.json not "
                    "committed yet (the Python triage writes it)")
@pytest.mark.parametrize("name", FILES)
def test_corpus_file_matches_the_python_triage(name, corpus_outcomes):
    expected = json.loads(EXPECTED.read_text("utf-8"))["files"][name]
    outcome = corpus_outcomes[name]
    if expected["outcome"] == "error":
        assert outcome["status"] == "error"
        mine = [(p["line"], p["column"] or "", p["message"]) for p in outcome["problems"]]
        theirs = [(p["line"], p["column"], p["reason"]) for p in expected["problems"]]
        assert mine == theirs
    else:
        assert outcome["status"] == "ok"
        assert outcome["read"] == expected["n_read"]
        assert outcome["accepted_lines"] == expected["accepted_lines"]
        assert outcome["rejects"] == expected["rejects"]


def _valid_rows() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO((CORPUS / "valid.csv").read_text("utf-8"))))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]], *, newline: str = "\n") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows([header, *rows])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


def test_accepted_variants(tmp_path):
    header, rows = _valid_rows()
    text = (CORPUS / "valid.csv").read_bytes()
    variants = {
        "bom.csv": b"\xef\xbb\xbf" + text,
        "crlf.csv": text.replace(b"\n", b"\r\n"),
        "gzip_named_csv.csv": gzip.compress(text, mtime=0),
    }
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
    _write(tmp_path / "extra_column.csv", [*header, "mood"], [[*r, "calm"] for r in rows])
    _write(tmp_path / "no_index.csv", header[1:], [r[1:] for r in rows])
    outcomes = node_validate(*sorted(tmp_path.iterdir()))
    assert len(outcomes) == 5
    for name, outcome in outcomes.items():
        assert python_problems(tmp_path / name) == []
        assert outcome["status"] == "ok" and outcome["accepted_lines"] == [2, 3, 4, 5, 6], name


#: One cell of valid.csv's first row changed: (column, text).
CELLS = [
    ("energy", " 0.5"), ("energy", "+.5"), ("energy", "5e-1"), ("energy", "0x1"),
    ("energy", "1_0"), ("energy", "NaN"), ("energy", "inf"), ("energy", "-Infinity"),
    ("energy", "1,5"), ("energy", "١"),
    ("energy", "  "), ("energy", "1e400"), ("energy", "1.0000000000000002"), ("tempo", "-0"),
    ("tempo", "fast and loud, very loud indeed, the loudest tempo ever"), ("popularity", "5.0"),
    ("popularity", "5.5"), ("popularity", "1e1"), ("popularity", "1e20"), ("popularity", "-3"),
    ("popularity", "9007199254740993"), ("key", "12.0"), ("key", "-2"), ("mode", "0.5"),
    ("time_signature", "8"), ("duration_ms", "-1"), ("duration_ms", "1.5"), ("explicit", "TRUE"),
    ("explicit", " false "), ("explicit", "1"), ("explicit", "yes"), ("explicit", ""),
    ("track_genre", " indie "), ("track_genre", "  "), ("track_genre", "Indie"),
    ("track_genre", "polka-core"), ("track_id", " 3nFkdlSjzX9mRwTaYb2Q1c"), ("track_id", "abc"),
    ("track_id", ""), ("artists", ""), ("track_name", "it's \"quoted\"\tand\ttabbed"),
    ("liveness", "0.5\u00a0"), ("loudness", "-inf"), ("loudness", ""), ("", "7"), ("", "x"),
]


@pytest.mark.parametrize("column,text", CELLS, ids=[f"{c or 'index'}={t!r}" for c, t in CELLS])
def test_a_bad_cell_is_spelled_as_python_spells_it(column, text, tmp_path):
    header, rows = _valid_rows()
    rows[0][header.index(column)] = text
    path = _write(tmp_path / "cell.csv", header, rows)
    expected = python_problems(path)
    if not expected:  # a valid cell; the genre is checked by features_from_raw
        from analysis.features import features_from_raw

        try:
            features_from_raw(read_tracks_csv(path, columns=REQUIRED_RAW_COLUMNS).reset_index(
                drop=True), protocol="cold_start", name="x")
        except TrackDataError as exc:
            expected = [(p.row, p.column, p.message) for p in exc.problems]
    outcome = node_validate(path)["cell.csv"]
    assert js_problems(outcome) == expected



#: Every row's cell of one column set alike: what else is in a column never changes how a
#: value reads (whole numbers in a float column are numbers; 0/1 flags are not booleans).
COLUMNS = [("tempo", "120"), ("explicit", "1"), ("energy", "1"), ("popularity", "5.0"),
           ("popularity", "5.5")]


@pytest.mark.parametrize("column,text", COLUMNS, ids=[f"{c}={t!r}" for c, t in COLUMNS])
def test_a_whole_column_reads_as_python_reads_it(column, text, tmp_path):
    header, rows = _valid_rows()
    for row in rows:
        row[header.index(column)] = text
    path = _write(tmp_path / "column.csv", header, rows)
    assert js_problems(node_validate(path)["column.csv"]) == python_problems(path)

# --- every real track (slow) --------------------------------------------------------------------

@pytest.mark.slow
def test_features_and_scores_match_python_on_every_real_track(raw_path):
    from analysis.data import uncompressed_sha256
    from analysis.export.triage_data import fixture_dir, write_parity_fixture

    folder = fixture_dir() / "parity"
    expected = folder / "expected.json"
    current = (expected.is_file()
               and json.loads(expected.read_text("utf-8")).get("data_sha256")
               == uncompressed_sha256(raw_path))
    if not current:
        write_parity_fixture(folder, raw=raw_path)
    run = subprocess.run([NODE, "--test", "js/test/triage_parity.test.js"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "TRACK_ANALYTICS_TRIAGE_FIXTURES": str(folder)})
    summary = [line for line in run.stdout.splitlines() if "triage parity" in line]
    print("\n".join(summary))
    assert run.returncode == 0, run.stdout[-4000:]
    assert summary, "the parity test did not run"


# --- the ranked output against the Python triage ------------------------------------------------

def test_ranked_example_matches_the_python_triage(tmp_path):
    triage_module = pytest.importorskip("analysis.triage", reason="analysis.triage not here yet")
    example = PROJECT_ROOT / "models" / "triage" / "example_catalogue.csv"
    out = tmp_path / "ranked.json"
    subprocess.run([NODE, "js/tools/triage_node.mjs", "triage", str(example), str(out),
                    "--explain", "20"], cwd=PROJECT_ROOT, check=True, timeout=300)
    mine = json.loads(out.read_text("utf-8"))
    theirs = triage_module.triage(example, explain=20, source=example.name)
    ranked = theirs.ranked.reset_index(drop=True)
    assert mine["status"] == "ok"
    assert [r["line"] for r in mine["ranked"]] == ranked["line"].tolist()
    for column in ("p_hit", "predicted_popularity", "lower_80", "upper_80", "lower_90",
                   "upper_90", "energy", "valence", "danceability", "tempo", "duration_ms"):
        got = [r[column] for r in mine["ranked"]]
        assert max(abs(a - b) for a, b in zip(got, ranked[column].tolist(), strict=True)) <= 1e-4
    for column in ("track_id", "track_genre", "macro_genre", "ood_reason"):
        assert [r[column] or "" for r in mine["ranked"]] == ranked[column].fillna("").tolist()
    assert [r["out_of_distribution"] for r in mine["ranked"]] == \
        ranked["out_of_distribution"].tolist()
    reasons = [", ".join(ranked.loc[i, ["reason_1", "reason_2", "reason_3"]]) for i in range(20)]
    assert [r["reasons"] for r in mine["ranked"][:20]] == reasons
    rejects = [r for r in theirs.rejects.to_dict("records") if r["reason"] != _INT64_ECHO]
    assert mine["rejects"] == [{k: (int(v) if k == "line" else v) for k, v in r.items()}
                               for r in rejects]


# --- the Python command line, where analysis.triage exists (after the merge) --------------------

EXAMPLE = PROJECT_ROOT / "models" / "triage" / "example_catalogue.csv"


def _against_the_command_line(source: Path, tmp_path: Path) -> dict:
    """``python -m analysis.cli triage`` and ``js/tools/triage_node.mjs`` on one file,
    compared by :func:`_triage_cli_parity.compare` (skips without ``analysis.triage``)."""
    pytest.importorskip("analysis.triage.cli", reason="analysis.triage not here yet (the "
                        "Python triage's branch)")
    from _triage_cli_parity import compare, run_cli, run_node

    ranked, rejects, summary = run_cli(source, tmp_path)
    report = compare(run_node(source, tmp_path / "node.json"), ranked, rejects)
    print(summary)
    print(json.dumps(report, indent=1))
    return report


def test_the_command_line_ranks_the_example_as_the_browser(tmp_path):
    report = _against_the_command_line(EXAMPLE, tmp_path)
    assert report["mismatches"] == []
    # predictions and bounds bit for bit; hit probabilities too where XGBoost's expf is
    # glibc's (js/predictor.js emulates it), within a float32 ulp elsewhere
    assert report["max_abs_diff"]["predicted_popularity"] == 0
    assert max(report["max_abs_diff"].values()) <= 1e-6
    assert report["browser"]["rejected_lines"] == report["cli"]["rejected_lines"] > 0
    assert report["browser"]["out_of_distribution"] == report["cli"]["out_of_distribution"] > 0


#: Defects spread over a sample of real tracks: (column, text), each put in several rows.
DEFECTS = [
    ("tempo", "fast"), ("energy", "1.4"), ("valence", "-0.2"), ("track_genre", "polka-core"),
    ("duration_ms", ""), ("explicit", "maybe"), ("popularity", "55.5"), ("loudness", "inf"),
    ("key", "12"), ("mode", "2"), ("time_signature", "9"), ("danceability", ""),
    ("track_id", "spotify:track:xyz"), ("speechiness", "abc"), ("duration_ms", "-5"),
    ("tempo", "1e400"), ("acousticness", "nan"), ("track_genre", ""),
    ("instrumentalness", "0,5"), ("tempo", " 120.5 "), ("track_genre", " pop "),
    ("explicit", "true"), ("duration_ms", "200000.0"), ("popularity", ""),
    ("track_name", 'A, "quoted"\nsong'),
]


@pytest.mark.slow
def test_the_command_line_ranks_real_tracks_as_the_browser(raw_path, tmp_path):
    """12,000 real tracks (a fixed sample), with every defect above in three rows, a
    duplicate index value, a row with an extra field and one with a field short."""
    pytest.importorskip("analysis.triage.cli", reason="analysis.triage not here yet")
    import random

    tracks = read_tracks_csv(raw_path).sample(12_000, random_state=14)
    buffer = io.StringIO()
    tracks.to_csv(buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue())))
    header = rows[0]
    rng = random.Random(7)
    picks = iter(rng.sample(range(1, len(rows)), 3 * len(DEFECTS) + 3))
    for column, text in DEFECTS * 3:
        rows[next(picks)][header.index(column)] = text
    rows[next(picks)][0] = rows[1][0]
    rows[next(picks)].append("extra")
    short = next(picks)
    rows[short] = rows[short][:-1]
    source = _write(tmp_path / "sample.csv", header, rows[1:])
    report = _against_the_command_line(source, tmp_path)
    assert report["mismatches"] == []
    assert report["max_abs_diff"]["predicted_popularity"] == 0
    assert max(report["max_abs_diff"].values()) <= 1e-6
    assert report["browser"]["rejected_lines"] == report["cli"]["rejected_lines"] > 50


# --- XGBoost's float32 sigmoid: glibc's expf, emulated -------------------------------------------

@pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc",
                    reason="XGBoost calls the C library's expf: glibc's is the one emulated")
def test_expf_is_glibcs_bit_for_bit(tmp_path):
    """``js/predictor.js``'s ``expf`` against the C library's, on 200,000 float32 inputs
    (hit probabilities then equal XGBoost's; ``Math.exp`` rounded to float32 differs from
    glibc's expf on about one input in 2,000)."""
    import ctypes
    import ctypes.util

    import numpy as np

    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    libm.expf.restype, libm.expf.argtypes = ctypes.c_float, [ctypes.c_float]
    rng = np.random.default_rng(14)
    x = np.concatenate([rng.uniform(-104, 89, 100_000), rng.normal(0, 4, 100_000),
                        [0.0, -0.0, 88.7, 88.72, -103.97, -104.0, 1e-30]]).astype(np.float32)
    (tmp_path / "x.f32").write_bytes(x.tobytes())
    script = ("import {readFileSync, writeFileSync} from 'node:fs';"
              "import {expf} from './js/predictor.js';"
              f"const b = readFileSync({json.dumps(str(tmp_path / 'x.f32'))});"
              "const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);"
              f"writeFileSync({json.dumps(str(tmp_path / 'y.f32'))}, "
              "Buffer.from(x.map(expf).buffer));")
    subprocess.run([NODE, "--input-type=module", "-e", script], cwd=PROJECT_ROOT, check=True,
                   timeout=120)
    mine = np.frombuffer((tmp_path / "y.f32").read_bytes(), dtype=np.float32)
    theirs = np.array([libm.expf(float(v)) for v in x], dtype=np.float32)
    differ = np.flatnonzero(mine.view(np.uint32) != theirs.view(np.uint32))
    assert differ.size == 0, [(float(x[i]), float(mine[i]), float(theirs[i])) for i in differ[:5]]
    with np.errstate(over="ignore"):  # 88.72 and beyond: inf, as expf says
        correctly_rounded = np.exp(x.astype(np.float64)).astype(np.float32)
    assert (correctly_rounded != theirs).sum() > 20  # the emulation is needed
