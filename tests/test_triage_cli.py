"""python -m analysis.cli triage: files in, ranked and rejects files out, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.triage import OUTPUT_COLUMNS, make_catalogue, triage
from analysis.triage.parity import CORPUS, FIXTURE


@pytest.fixture(scope="module")
def catalogue_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "catalogue.csv"
    make_catalogue(300).to_csv(path, index=False)
    return path


def _run(*argv) -> int:
    return main(["triage", *map(str, argv), "--quiet"])


def test_cli_writes_what_the_function_returns(catalogue_csv, tmp_path):
    out = tmp_path / "ranked.csv"
    assert _run(catalogue_csv, "--output", out, "--chunk-rows", 70) == 0
    written = pd.read_csv(out, keep_default_na=False, na_values=[""])
    expected = triage(pd.read_csv(catalogue_csv)).ranked
    assert list(written.columns) == list(OUTPUT_COLUMNS)
    assert written["line"].tolist() == expected["line"].tolist()
    assert (written["p_hit"] - expected["p_hit"]).abs().max() == 0
    rejects = pd.read_csv(tmp_path / "ranked.rejects.csv")
    assert list(rejects.columns) == ["line", "column", "value", "reason"] and rejects.empty


def test_cli_parquet_filters_shortlist_and_reasons(catalogue_csv, tmp_path):
    source = tmp_path / "c.parquet"
    pd.read_csv(catalogue_csv).to_parquet(source, index=False)
    out = tmp_path / "short.parquet"
    code = _run(source, "--output", out, "--top", 5, "--macro-genre", "Pop",
                "--macro-genre", "Rock", "--energy", "0.1:0.9", "--duration-min", "2:5",
                "--no-explicit", "--explain", 2)
    assert code == 0
    ranked = pd.read_parquet(out)
    expected = triage(pd.read_csv(catalogue_csv), shortlist=5, explain=2, filters={
        "macro_genres": ("Pop", "Rock"), "energy": (0.1, 0.9),
        "duration_ms": (120_000, 300_000), "explicit": False}).ranked
    pd.testing.assert_frame_equal(ranked, expected, check_dtype=False)
    assert (tmp_path / "short.rejects.parquet").exists()


def test_cli_like_track(catalogue_csv, tmp_path):
    frame = pd.read_csv(catalogue_csv)
    like = frame["track_id"].iloc[10]
    out = tmp_path / "like.csv"
    assert _run(catalogue_csv, "--output", out, "--like", like, "--neighbours", 7) == 0
    expected = triage(frame, filters={"like": like, "neighbours": 7}).ranked
    assert pd.read_csv(out)["line"].tolist() == expected["line"].tolist()
    assert _run(catalogue_csv, "--output", out, "--like", "x" * 22) == 2


def test_help_shows_worked_examples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["triage", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "--like 4LRPiXqCikLlN15c3yImP7" in text and "exit codes" in text


#: Run by the fast suite; every other corpus file runs in the slow one (a CLI run each).
FAST_CORPUS = ("wrong_type.csv", "missing_column.csv", "non_utf8.csv")


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=() if name in FAST_CORPUS else pytest.mark.slow)
    for name in sorted(json.loads(FIXTURE.read_text())["files"])])
def test_every_corpus_file_gives_named_rejects_or_a_file_error(name, tmp_path, capsys):
    expected = json.loads(FIXTURE.read_text())["files"][name]
    out = tmp_path / "out.csv"
    code = _run(CORPUS / name, "--output", out)
    err = capsys.readouterr().err
    if expected["outcome"] == "error":
        assert code == 2
        assert name in err and expected["problems"][0]["reason"][:30] in err
        for problem in expected["problems"][:5]:
            if problem["line"] is not None:
                assert f"line {problem['line']}" in err
            if problem["column"]:
                assert f"column '{problem['column']}'" in err
        assert list(tmp_path.iterdir()) == []  # nothing left behind
    else:
        assert code == 0
        ranked = pd.read_csv(out)
        assert sorted(ranked["line"]) == expected["accepted_lines"]
        rejects = pd.read_csv(tmp_path / "out.rejects.csv", keep_default_na=False,
                              dtype={"column": str, "value": str, "reason": str})
        assert rejects.to_dict("records") == expected["rejects"]


def test_internal_error_exits_1_and_leaves_nothing(catalogue_csv, tmp_path, monkeypatch):
    import analysis.triage.cli as cli

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "score_rows", broken)
    assert _run(catalogue_csv, "--output", tmp_path / "x.csv") == 1
    assert list(tmp_path.iterdir()) == []
