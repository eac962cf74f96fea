"""The parity fixture for the browser: committed, current, and classified by the rule."""

from __future__ import annotations

import json

from analysis.triage import triage
from analysis.triage.parity import CORPUS, FIXTURE, fixture_text


def test_committed_fixture_is_what_the_script_writes():
    assert FIXTURE.read_text(encoding="utf-8") == fixture_text(), (
        "run python tests/malformed/make_expected_triage.py")


def test_every_corpus_file_is_in_the_fixture_and_classified_by_the_rule():
    files = json.loads(FIXTURE.read_text())["files"]
    corpus = {p.name for p in CORPUS.iterdir() if p.name.endswith((".csv", ".csv.gz"))}
    assert set(files) == corpus
    for name, outcome in files.items():
        if outcome["outcome"] == "ranked":
            assert outcome["rejects"] or name == "valid.csv"
            assert all(r["line"] >= 2 and r["reason"] for r in outcome["rejects"])
            lines = {r["line"] for r in outcome["rejects"]}
            assert outcome["n_read"] == len(outcome["accepted_lines"]) + len(lines)
            assert not lines & set(outcome["accepted_lines"])
        else:
            first = outcome["problems"][0]
            assert first["line"] in (None, 1), name


def test_the_python_function_agrees_with_the_fixture():
    from analysis.schema import TrackDataError

    files = json.loads(FIXTURE.read_text())["files"]
    for name, outcome in files.items():
        try:
            result = triage(CORPUS / name, source=name)
        except TrackDataError as exc:
            assert outcome["outcome"] == "error", name
            assert [p.message for p in exc.problems] == [p["reason"] for p in outcome["problems"]]
            continue
        assert outcome["outcome"] == "ranked", name
        assert sorted(result.ranked["line"]) == outcome["accepted_lines"]
        assert result.rejects.to_dict("records") == outcome["rejects"]
        assert result.n_read == outcome["n_read"]
