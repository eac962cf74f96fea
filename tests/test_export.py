"""Tests for ``analysis.export``: the browser model format, its manifest and parity fixtures.

The fixture generator's tests (they import shap) and the Node run on freshly generated
fixtures are marked slow; ``node --test js/test/`` checks the committed fixtures on its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from analysis.export import (
    FORMAT,
    ExportIntegrityError,
    export_xgboost,
    load_exported,
    predict_exported,
    read_manifest,
    write_manifest,
    write_parity_fixture,
)

ROOT = Path(__file__).resolve().parents[1]
JS_TEST_DIR = ROOT / "js" / "test"


def _load_make_fixtures():
    """The fixture generator is a script under js/test/; load it as a module."""
    spec = importlib.util.spec_from_file_location("make_fixtures", JS_TEST_DIR / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_fixtures = _load_make_fixtures()


@pytest.fixture(scope="module")
def tracks() -> pd.DataFrame:
    return make_fixtures.make_synthetic_tracks(n=1500, random_state=42)


@pytest.fixture(scope="module")
def names(tracks) -> list[str]:
    return make_fixtures.feature_columns(tracks)


@pytest.fixture(scope="module")
def models(tracks, names) -> dict:
    """Small synthetic models covering the objectives and training paths we export."""
    X, y, hit = tracks[names], tracks.popularity, tracks.hit
    common = {"max_depth": 5, "random_state": 42, "n_jobs": 1}  # threads crawl on busy CI
    early = xgb.XGBRegressor(n_estimators=200, learning_rate=0.3, early_stopping_rounds=3,
                             **common)
    early.fit(X.iloc[:1000], y.iloc[:1000], eval_set=[(X.iloc[1000:], y.iloc[1000:])],
              verbose=False)
    return {
        "regressor": xgb.XGBRegressor(n_estimators=40, **common).fit(X, y),
        "classifier": xgb.XGBClassifier(n_estimators=30, **common).fit(X, hit),
        "poisson": xgb.XGBRegressor(n_estimators=30, objective="count:poisson", **common)
        .fit(X, np.round(y / 10)),
        "booster": xgb.train({"max_depth": 4, "seed": 42, "nthread": 1},
                             xgb.DMatrix(X, label=y), 25),
        "early_stopped": early,
    }


def _export(model, names, tmp_path, name="model.json", **kwargs):
    path = tmp_path / name
    entry = export_xgboost(model, feature_names=names, path=path, metadata={}, **kwargs)
    return path, entry, json.loads(path.read_text())


@pytest.mark.parametrize("kind", ["regressor", "classifier", "poisson", "booster",
                                  "early_stopped"])
def test_reference_evaluator_reproduces_booster_predict(kind, models, tracks, names, tmp_path):
    model = models[kind]
    _, _, doc = _export(model, names, tmp_path)
    X = tracks[names]
    assert X.isna().any().any(), "inputs must contain NaN to exercise default directions"
    booster = model if isinstance(model, xgb.Booster) else model.get_booster()
    if kind == "early_stopped":
        booster = booster[: model.best_iteration + 1]
    dm = xgb.DMatrix(X)
    margin = booster.predict(dm, output_margin=True)
    expected = booster.predict(dm)

    ours = predict_exported(doc, X, output_margin=True)
    np.testing.assert_array_equal(ours, margin)  # float32 accumulation: bit for bit
    np.testing.assert_allclose(predict_exported(doc, X), expected, rtol=0, atol=1e-5)
    exact_sum = predict_exported(doc, X, output_margin=True, accumulate="float64")
    np.testing.assert_allclose(exact_sum, margin, rtol=0, atol=1e-4)


def test_sklearn_predict_matches_including_early_stopping(models, tracks, names, tmp_path):
    model = models["early_stopped"]
    _, _, doc = _export(model, names, tmp_path)
    assert doc["num_trees"] == model.best_iteration + 1 < model.get_booster().num_boosted_rounds()
    np.testing.assert_allclose(predict_exported(doc, tracks[names]), model.predict(tracks[names]),
                               rtol=0, atol=1e-5)
    proba = models["classifier"].predict_proba(tracks[names])[:, 1]
    _, _, cdoc = _export(models["classifier"], names, tmp_path, "c.json")
    np.testing.assert_allclose(predict_exported(cdoc, tracks[names]), proba, rtol=0, atol=1e-6)


def test_document_layout(models, names, tmp_path):
    _, entry, doc = _export(models["classifier"], names, tmp_path)
    assert doc["format"] == FORMAT and doc["version"] == 1
    assert doc["objective"] == "binary:logistic" and doc["link"] == "logistic"
    assert doc["feature_names"] == names and doc["num_features"] == len(names)
    trees = doc["trees"]
    n_nodes = trees["node_offset"][-1]
    assert len(trees["node_offset"]) == doc["num_trees"] + 1
    for key in ("split_feature", "threshold", "left", "right", "default_left", "value", "cover"):
        assert len(trees[key]) == n_nodes, key
    # base_score is stored in output space (a probability); base_margin is its log-odds.
    p = doc["base_score"]
    assert 0 < p < 1
    assert doc["base_margin"] == pytest.approx(np.log(p / (1 - p)), abs=1e-6)
    assert set(trees["default_left"]) == {0, 1}
    assert entry["bytes"] == len((tmp_path / "model.json").read_bytes())
    assert 0 < entry["gzip_bytes"] < entry["bytes"]


def test_thresholds_are_xgboosts_float32_values(models, names, tmp_path):
    model = models["regressor"]
    _, _, doc = _export(model, names, tmp_path)
    internal = np.array(doc["trees"]["split_feature"]) >= 0
    ours = np.array(doc["trees"]["threshold"])[internal]
    as32 = ours.astype(np.float32)
    # Shortest decimals: each reads back (via float64, as JSON.parse does) to one float32 ...
    assert all(len(repr(float(v))) <= 12 for v in ours)
    # ... and that float32 is exactly the split condition XGBoost stores.
    raw = json.loads(bytes(model.get_booster().save_raw("json")))
    theirs = np.concatenate([
        np.array(t["split_conditions"], dtype=np.float64)[np.array(t["left_children"]) != -1]
        for t in raw["learner"]["gradient_booster"]["model"]["trees"]
    ]).astype(np.float32)
    np.testing.assert_array_equal(np.sort(as32), np.sort(theirs))
    assert not np.array_equal(as32.astype(np.float64), ours)  # i.e. not float32-padded digits


def test_export_is_deterministic_and_compact(models, names, tmp_path):
    _, first, _ = _export(models["regressor"], names, tmp_path, "a.json")
    _, second, _ = _export(models["regressor"], names, tmp_path, "b.json")
    assert first["sha256"] == second["sha256"]
    text = (tmp_path / "a.json").read_text()
    assert "e-0" not in text and ".0," not in text and " " not in text.split('"trees"')[1]


def test_cover_digits(models, names, tmp_path):
    _, rounded, rdoc = _export(models["classifier"], names, tmp_path, "r.json")
    _, exact, edoc = _export(models["classifier"], names, tmp_path, "e.json", cover_digits=None)
    assert rounded["gzip_bytes"] < exact["gzip_bytes"]
    np.testing.assert_allclose(rdoc["trees"]["cover"], edoc["trees"]["cover"], rtol=5e-6)
    assert rdoc["trees"]["threshold"] == edoc["trees"]["threshold"]
    assert rdoc["trees"]["value"] == edoc["trees"]["value"]


def test_metadata_passes_through(models, names, tmp_path):
    metadata = {"interval": {"alpha": np.float64(0.1), "lower_offset": 9.5, "upper_offset": 11},
                "ranges": {"tempo": np.array([60.0, 200.0])}, "display": {"tempo": "Tempo"}}
    path = tmp_path / "m.json"
    export_xgboost(models["regressor"], feature_names=names, path=path, metadata=metadata)
    doc = json.loads(path.read_text())
    assert doc["metadata"] == {"interval": {"alpha": 0.1, "lower_offset": 9.5, "upper_offset": 11},
                               "ranges": {"tempo": [60.0, 200.0]}, "display": {"tempo": "Tempo"}}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [({"interval": {"lower_offset": float("nan")}}, r"metadata\['interval'\]\['lower_offset'\]"),
     ({"when": object()}, "not JSON-serialisable"),
     ({1: "x"}, "not a string")],
)
def test_bad_metadata_is_refused_and_nothing_written(metadata, message, models, names, tmp_path):
    path = tmp_path / "m.json"
    with pytest.raises((ValueError, TypeError), match=message):
        export_xgboost(models["regressor"], feature_names=names, path=path, metadata=metadata)
    assert not path.exists()


def test_feature_names_must_match_training_order(models, names, tmp_path):
    path = tmp_path / "m.json"
    with pytest.raises(ValueError, match="do not match the order"):
        export_xgboost(models["regressor"], feature_names=names[::-1], path=path, metadata={})
    with pytest.raises(ValueError, match="features but"):
        export_xgboost(models["booster"], feature_names=names[:-1], path=path, metadata={})
    assert not path.exists()


def test_native_categorical_models_are_refused(tmp_path):
    frame = pd.DataFrame({"genre": pd.Categorical(["pop", "rock", "jazz"] * 30),
                          "energy": np.linspace(0, 1, 90)})
    model = xgb.XGBRegressor(n_estimators=3, enable_categorical=True, n_jobs=1)
    model.fit(frame, np.arange(90.0))
    with pytest.raises(ValueError, match="one-hot encode"):
        export_xgboost(model, feature_names=["genre", "energy"], path=tmp_path / "m.json",
                       metadata={})


def test_unsupported_boosters_are_refused(tracks, names, tmp_path):
    X, y = tracks[names], tracks.popularity
    dart = xgb.XGBRegressor(n_estimators=3, booster="dart", n_jobs=1).fit(X, y)
    with pytest.raises(ValueError, match="gbtree"):
        export_xgboost(dart, feature_names=names, path=tmp_path / "m.json", metadata={})
    multi = xgb.XGBClassifier(n_estimators=2, n_jobs=1).fit(X, tracks.popularity // 34)
    with pytest.raises(ValueError, match="multi-class"):
        export_xgboost(multi, feature_names=names, path=tmp_path / "m.json", metadata={})


def test_manifest_round_trip_and_tampering(models, names, tmp_path):
    entries = [export_xgboost(models[k], feature_names=names, path=tmp_path / f"{k}.json",
                              metadata={"name": k}) for k in ("regressor", "classifier")]
    manifest = write_manifest(entries, tmp_path / "manifest.json")
    listed = read_manifest(manifest)
    assert sorted(listed) == ["classifier.json", "regressor.json"]
    doc = load_exported(tmp_path / "regressor.json", manifest)
    assert doc["metadata"] == {"name": "regressor"}
    assert load_exported(tmp_path / "classifier.json", json.loads(manifest.read_text()))

    path = tmp_path / "regressor.json"
    path.write_bytes(path.read_bytes().replace(b'"num_trees":40', b'"num_trees":39'))
    with pytest.raises(ExportIntegrityError, match=r"regressor\.json: sha256 mismatch .*re-run"):
        load_exported(path, manifest)

    stray = tmp_path / "stray.json"
    stray.write_text("{}")
    with pytest.raises(ExportIntegrityError, match="not listed in"):
        load_exported(stray, manifest)


def test_write_manifest_refuses_stale_entries(models, names, tmp_path):
    entry = export_xgboost(models["regressor"], feature_names=names,
                           path=tmp_path / "m.json", metadata={})
    (tmp_path / "m.json").write_text("{}")
    with pytest.raises(ExportIntegrityError, match="changed after export"):
        write_manifest([entry], tmp_path / "manifest.json")
    with pytest.raises(ExportIntegrityError, match="does not exist"):
        write_manifest([{**entry, "file": "gone.json"}], tmp_path / "manifest.json")
    entry = export_xgboost(models["regressor"], feature_names=names,
                           path=tmp_path / "m.json", metadata={})
    with pytest.raises(ValueError, match="listed twice"):
        write_manifest([entry, entry], tmp_path / "manifest.json")
    assert not (tmp_path / "manifest.json").exists()


@pytest.mark.slow
def test_parity_fixture_generator(tmp_path):
    reports = make_fixtures.main(tmp_path, rows=60)
    assert {r["fixture"].name for r in reports} == {"regression.fixture.json",
                                                    "logistic.fixture.json"}
    for report in reports:
        assert report["max_abs_reference_vs_xgboost"] == 0.0
        assert report["max_abs_shap_vs_xgboost"] <= 1e-3
        fixture = json.loads(report["fixture"].read_text())
        assert len(fixture["X"]) == report["rows"] == 60 + 40
        assert (tmp_path / fixture["model_file"]).exists()
        assert any(v is None for row in fixture["X"] for v in row)


def test_parity_fixture_accepts_dataframes_and_checks_columns(models, tracks, names, tmp_path):
    X = tracks[names[::-1]].iloc[:20]  # reordered by name
    report = write_parity_fixture(models["regressor"], X, feature_names=names,
                                  path=tmp_path / "x.fixture.json", with_shap=False,
                                  threshold_probes=4)
    assert report["rows"] == 24
    with pytest.raises(ValueError, match="lacks model features"):
        write_parity_fixture(models["regressor"], X.drop(columns="tempo"), feature_names=names,
                             path=tmp_path / "y.fixture.json")
    with pytest.raises(ValueError, match=r"must end in '\.fixture\.json'"):
        write_parity_fixture(models["regressor"], X, feature_names=names,
                             path=tmp_path / "z.json")
    assert not (tmp_path / "y.fixture.json").exists()


def test_committed_fixtures_are_small():
    sizes = [p.stat().st_size for p in (JS_TEST_DIR / "fixtures").glob("*.json")]
    assert sizes and sum(sizes) < 300_000


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_node_parity_on_freshly_generated_fixtures(tmp_path):
    """Regenerate fixtures with the installed XGBoost and run the Node tests on them."""
    make_fixtures.main(tmp_path, rows=80)
    env = {**os.environ, "TRACK_ANALYTICS_JS_FIXTURES": str(tmp_path)}
    result = subprocess.run(["node", "--test", "js/test/"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert str(tmp_path.name) in result.stdout or "regression.fixture.json" in result.stdout


def test_decimal_parsing_avoids_double_rounding():
    """A decimal just above a float32 midpoint must not round down via float64."""
    from analysis.export.compact_json import decimal_to_float32, float32_texts

    above_midpoint = "1.00000005960464477539062500001"  # 1 + 2**-24 + tiny
    assert np.float32(float(above_midpoint)) == np.float32(1)  # the trap
    up = np.nextafter(np.float32(1), np.float32(2))
    np.testing.assert_array_equal(decimal_to_float32([above_midpoint]), [up])
    np.testing.assert_array_equal(decimal_to_float32(["1.000000059604644775390625"]), [1])
    values = np.array([0.1, 1e-8, 500, -0.0, 3.4e38, 1.5e-45, 123456789], dtype=np.float32)
    texts = float32_texts(values, "x")
    assert texts == ["0.1", "1e-8", "500", "0", "3.4e38", "1e-45", "1.2345679e8"]
    np.testing.assert_array_equal(np.array(texts, dtype=np.float64).astype(np.float32), values)
