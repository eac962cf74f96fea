"""export_champions: the predictor page's files, their determinism, size and accuracy.

Fast tests export the committed tiny champions (``tests/fixtures/tiny/``, written by
``tests/fixtures/make_fixtures.py``) and compare the files with the committed export; the
slow ones use the committed champions on the real data, including the 10,000-track parity
run of ``js/predictor.js`` against XGBoost and shap (``node --test`` with
``TRACK_ANALYTICS_JS_FIXTURES``).
"""

from __future__ import annotations

import copy
import json
import os
import runpy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from analysis import paths
from analysis.export import (
    PAGE_FORMAT,
    REFERENCE_FILE,
    export_champions,
    load_exported,
    predict_exported,
    read_manifest,
)
from analysis.models import load
from analysis.paths import PROJECT_ROOT

#: The generator of the committed tiny build (its settings and loaders).
FIXTURES = runpy.run_path(str(Path(__file__).parent / "fixtures" / "make_fixtures.py"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The committed tiny champions exported afresh (the committed export is compared with it)."""
    folder = FIXTURES["FIXTURES_DIR"] / "models"
    out = tmp_path_factory.mktemp("export")
    tracks = FIXTURES["load_tracks"]()
    report = export_champions(folder, out_dir=out, tracks=tracks, **FIXTURES["EXPORT_SETTINGS"])
    return folder, out, tracks, report


def test_export_reproduces_the_committed_fixture(tiny):
    """Same champions and tracks, same bytes: the export is deterministic and the fixture
    current."""
    folder, out, _, _ = tiny
    committed = paths.export_dir(folder)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in committed.iterdir())
    for path in committed.iterdir():
        assert (out / path.name).read_bytes() == path.read_bytes(), (
            f"tests/fixtures/tiny/models/export/{path.name} is stale: run "
            "python tests/fixtures/make_fixtures.py")


def test_files_manifest_and_metadata(tiny):
    folder, out, _, report = tiny
    entries = read_manifest(out / "manifest.json")
    assert sorted(entries) == ["cold_start.json", "known_artist.json", REFERENCE_FILE]
    for name in ("cold_start", "known_artist"):
        doc = load_exported(out / f"{name}.json", out / "manifest.json")
        meta = doc["metadata"]
        assert meta["page_format"] == PAGE_FORMAT and meta["page_version"] == 1
        champion = load(name, models_dir=folder)
        # each model with its own columns; the controls cover every column either reads
        assert doc["feature_names"] == champion.popularity_features
        assert meta["hit_probability"]["model"]["feature_names"] == champion.feature_names
        controlled = {f["feature"] for c in meta["controls"] for f in c.get("flags", [c])}
        assert {n for n in champion.feature_names
                if not n.startswith(("genre_", "macro_"))} <= controlled
        assert set(meta["interval"]["global"]) == {"0.8", "0.9"}
        assert meta["metrics"]["r2"] == FIXTURES["R2"][name]
        assert len(meta["categorical"]["genres"]) == 114
        units = {c["feature"]: c["unit"] for c in meta["controls"] if c.get("feature")}
        assert units["duration_ms"] == "min" and units["loudness"] == "dB"
        assert units["tempo"] == "BPM"
        assert ("artist_n_tracks" in units) == (name == "known_artist")
        assert len(meta["presets"]) >= 5
        hit = meta["hit_probability"]
        assert hit["threshold"] == 60 and hit["model"]["link"] == "logistic"
        assert hit["metrics"]["hit_auc"] == FIXTURES["TRIAGE"]["hit_auc"]
        assert hit["max_abs_probability_diff"] <= 1e-6
    assert report["gzip_bytes"] == sum(e["gzip_bytes"] for e in entries.values())


def test_exported_models_reproduce_python(tiny):
    folder, out, tracks, report = tiny
    for name in ("cold_start", "known_artist"):
        champion = load(name, models_dir=folder)
        doc = json.loads((out / f"{name}.json").read_text())
        raw = tracks.assign(track_genre=tracks["primary_genre"])
        X = champion.features(raw)
        assert np.array_equal(predict_exported(doc, X), champion.predict(raw))
        hit_doc = doc["metadata"]["hit_probability"]["model"]
        np.testing.assert_allclose(predict_exported(hit_doc, X),
                                   champion.predict_hit_probability(raw), atol=1e-6)
        assert report["accuracy"][name]["r2_delta"] <= 0.005


def test_presets_carry_the_champion_inputs(tiny):
    folder, out, tracks, _ = tiny
    doc = json.loads((out / "known_artist.json").read_text())
    champion = load("known_artist", models_dir=folder)
    for preset in doc["metadata"]["presets"]:
        row = tracks[tracks["track_id"] == preset["track_id"]]
        X = champion.features(row.assign(track_genre=row["primary_genre"]))
        for column, value in preset["inputs"].items():
            got = float(X[column].iloc[0])
            assert (value is None and np.isnan(got)) or got == pytest.approx(value, rel=1e-8)


# --- the committed export, from the committed champions, on the real data ------------------

#: The committed champions and export (override to check another build's folder).
COMMITTED = Path(os.environ.get("TRACK_ANALYTICS_MODELS_DIR", PROJECT_ROOT / "models"))
needs_champions = pytest.mark.skipif(
    not (COMMITTED / "champions" / "cold_start" / "manifest.json").is_file()
    or not (COMMITTED / "export" / "manifest.json").is_file(),
    reason="committed champions or models/export/ missing (make models export)",
)


@pytest.mark.slow
@needs_champions
def test_committed_export_is_up_to_date_and_within_targets(track_data, tmp_path):
    report = export_champions(COMMITTED, out_dir=tmp_path, tracks=track_data.tracks)
    for path in (COMMITTED / "export").iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), (
            f"models/export/{path.name} is stale: run python -m analysis.cli export")
    print(f"export payload {report['gzip_bytes']:,} bytes gzip; accuracy {report['accuracy']}")
    assert report["gzip_bytes"] <= 1.5e6
    for check in report["accuracy"].values():
        assert check["r2_delta"] <= 0.005


@pytest.mark.slow
@needs_champions
def test_js_parity_on_10000_real_tracks(track_data, tmp_path):
    """|JS − XGBoost| ≤ 1e-3, |JS − shap| ≤ 1e-3 and additivity, via node --test."""
    from analysis.export import champion_matrix, write_parity_fixture

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    tracks = track_data.tracks.reset_index(drop=True)
    rows = np.random.default_rng(42).choice(len(tracks), size=10_000, replace=False)
    for name in ("cold_start", "known_artist"):
        champion = load(name, models_dir=COMMITTED)
        X = champion_matrix(champion, tracks).iloc[np.sort(rows)]
        result = write_parity_fixture(champion.booster, X[champion.popularity_features],
                                      feature_names=champion.popularity_features,
                                      path=tmp_path / f"{name}.fixture.json")
        print(f"{name}: {result['rows']} rows, reference vs xgboost "
              f"{result['max_abs_reference_vs_xgboost']:.2e}, shap vs xgboost "
              f"{result['max_abs_shap_vs_xgboost']:.2e}")
    env = {**os.environ, "TRACK_ANALYTICS_JS_FIXTURES": str(tmp_path)}
    run = subprocess.run([node, "--test", "js/test/parity.test.js"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=1800)
    diagnostics = [line for line in run.stdout.splitlines() if "max |JS" in line]
    print("\n".join(diagnostics[-20:]))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "cold_start.fixture.json" in run.stdout and "known_artist.fixture.json" in run.stdout


# --- the champions' scores on other crawls, carried to the pages -------------------------------


def test_tiny_build_without_external_json_exports_no_external_scores(tiny):
    _, out, _, _ = tiny
    for name in ("cold_start", "known_artist"):
        assert "external_validation" not in json.loads((out / f"{name}.json").read_text())[
            "metadata"]


def test_committed_export_carries_external_json_for_the_champion_it_scored():
    from analysis.export.predictor_page import _external_validation
    from analysis.external import external_metrics, known_artist_entry, load_external
    from analysis.labels import external_scope
    from analysis.models import load_metrics

    external, metrics = load_external(), load_metrics()
    for name in ("cold_start", "known_artist"):
        meta = json.loads((PROJECT_ROOT / "models" / "export" / f"{name}.json").read_text())[
            "metadata"]
        assert meta["external_validation"] == _external_validation(external, metrics, name)
    cold = _external_validation(external, metrics, "cold_start")
    assert [s["name"] for s in cold["sets"]] == ["music_genre", "billboard"]
    mg = cold["sets"][0]
    assert mg["scope"] == external_scope("music_genre") and mg["subset"] is None
    assert mg["hit_auc"] == pytest.approx(external_metrics(external, "music_genre")["hit_auc"],
                                          rel=1e-3)
    known = _external_validation(external, metrics, "known_artist")
    assert [s["name"] for s in known["sets"]] == ["music_genre"] and known["sets"][0]["subset"]
    assert known["sets"][0]["n"] == known_artist_entry(external)["tracks"]
    assert _external_validation(None, metrics, "cold_start") is None
    other = copy.deepcopy(external)
    other["champions"]["cold_start"]["manifest_sha256"] = "0" * 64
    with pytest.raises(RuntimeError, match="python -m analysis.cli external"):
        _external_validation(other, metrics, "cold_start")
