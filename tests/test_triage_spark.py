"""The Spark job ranks exactly as the command line does (local Spark, slow)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from analysis.triage import make_catalogue
from analysis.triage.cli import run_triage


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is in requirements.txt; CI installs it")
    from analysis.triage.spark import _session

    session = _session("local[2]")
    yield session
    session.stop()


def _catalogue(n: int) -> pd.DataFrame:
    catalogue = make_catalogue(n, random_state=3)
    catalogue["tempo"] = catalogue["tempo"].astype(object)
    catalogue.loc[5, "tempo"] = "fast"      # a row reject
    catalogue.loc[11, "energy"] = 1.7       # another
    catalogue.loc[12, "track_genre"] = "polka"
    return catalogue


@pytest.mark.slow
@pytest.mark.parametrize("options", [
    {},
    {"top": 50, "filters": {"macro_genres": ("Pop", "Latin"), "explicit": False}},
])
def test_spark_ranks_like_the_command_line(spark, tmp_path, options):
    from analysis.triage.spark import triage_spark, with_lines

    catalogue = _catalogue(3000)
    source = tmp_path / "catalogue.parquet"
    catalogue.astype({"tempo": str}).to_parquet(source, index=False)
    out = tmp_path / "ranked.parquet"
    run_triage(source, output=out, chunk_rows=700, progress=False, **options)
    expected = pd.read_parquet(out)
    expected_rejects = pd.read_parquet(tmp_path / "ranked.rejects.parquet")
    ranked, rejects = triage_spark(with_lines(spark, str(source)),
                                   shortlist=options.get("top"),
                                   filters=options.get("filters"))
    got = ranked.orderBy("rank").toPandas()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    got_rejects = rejects.toPandas().sort_values(["line", "column"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got_rejects, expected_rejects.sort_values(["line", "column"]).reset_index(drop=True),
        check_dtype=False)
    assert len(expected_rejects) == 3


@pytest.mark.slow
def test_spark_entry_point_writes_parquet(spark, tmp_path):
    from analysis.triage.spark import main

    source = tmp_path / "small.parquet"
    make_catalogue(40).to_parquet(source, index=False)
    assert main([str(source), str(tmp_path / "out"), "--top", "5"]) == 0
    ranked = pd.read_parquet(tmp_path / "out")
    assert ranked["rank"].tolist() == [1, 2, 3, 4, 5]


@pytest.mark.slow
def test_spark_module_runs_as_a_script(tmp_path):
    """``python -m analysis.triage.spark`` (how spark-submit and the benchmark run it): the
    functions shipped to the workers must not live in ``__main__``."""
    pytest.importorskip("pyspark", reason="pyspark is in requirements.txt; CI installs it")
    source = tmp_path / "small.parquet"
    make_catalogue(40).to_parquet(source, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "analysis.triage.spark", str(source), str(tmp_path / "out"),
         "--top", "3", "--master", "local[1]"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert pd.read_parquet(tmp_path / "out")["rank"].tolist() == [1, 2, 3]
