"""Models: metrics, conformal offsets, tiny end-to-end builds, champions and their guards."""

from __future__ import annotations

import json
import shutil
import string
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis import models, paths
from analysis.artifacts import clean_json
from analysis.cleaning import clean_tracks
from analysis.data import TrackData
from analysis.features import feature_names, make_features
from analysis.models import (
    CONFIDENCE_LEVELS,
    Budget,
    ChampionIntegrityError,
    HurdleRegressor,
    apply_offsets,
    build_models,
    conformal_offsets,
    load,
    load_metrics,
    load_oof,
    score_predictions,
)
from analysis.prose import modeling as modeling_prose
from analysis.prose.drivers import REFIT_TOLERANCE
from analysis.schema import AUDIO_COLUMNS, TrackDataError, validate_tracks

#: Cheap settings for end-to-end builds on a few hundred synthetic tracks.
TINY = Budget(n_trials=2, max_trees=20, random_forest_trees=5, tuning_rows=1.0, fixed_rounds=20,
              calibration_folds=2,
              n_jobs=1)
GENRES = ("pop", "rock", "k-pop", "jazz", "edm", "sleep")
_ALPHABET = np.array(list(string.ascii_letters + string.digits))


def make_synthetic_raw(n_tracks: int = 320, *, seed: int = 0) -> pd.DataFrame:
    """Raw listings with artist effects, featured artists, song versions and multi-genre rows."""
    rng = np.random.default_rng(seed)
    n_artists = 48
    quality = rng.normal(40, 15, n_artists)
    rows = []
    for i in range(n_tracks):
        artist = int(rng.integers(n_artists))
        credits = f"Artist {artist}"
        if rng.random() < 0.2:
            credits += f";Artist {int(rng.integers(n_artists))}"
        energy = float(rng.random())
        popularity = 0 if rng.random() < 0.1 else int(np.clip(
            quality[artist] + 25 * energy + rng.normal(0, 8), 0, 100))
        title = f"Song {i % 250}" + (" - Remastered" if rng.random() < 0.1 else "")
        row = {
            "track_id": "".join(rng.choice(_ALPHABET, 22)), "artists": credits,
            "album_name": "Hits 2022" if rng.random() < 0.1 else f"Album {artist}",
            "track_name": title, "popularity": popularity,
            "duration_ms": int(rng.integers(90_000, 400_000)), "explicit": bool(rng.random() < 0.1),
            **{c: float(rng.random()) for c in AUDIO_COLUMNS},
            "energy": energy, "key": int(rng.integers(12)), "mode": int(rng.integers(2)),
            "loudness": float(rng.uniform(-20, 0)), "tempo": float(rng.uniform(60, 180)),
            "time_signature": 4, "track_genre": GENRES[artist % len(GENRES)],
        }
        rows.append(row)
        if rng.random() < 0.15:
            rows.append({**row, "track_genre": GENRES[(artist + 1) % len(GENRES)]})
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(len(frame), name="source_index")
    return validate_tracks(frame, name="synthetic")


def synthetic_data(seed: int = 0) -> tuple[TrackData, pd.DataFrame]:
    raw = make_synthetic_raw(seed=seed)
    result = clean_tracks(raw)
    data = TrackData(tracks=result.tracks, rows=result.rows, summary=result.summary,
                     sha256="0" * 64)
    return data, raw


def _without_timings(metrics: dict) -> dict:
    """metrics.json minus wall times and thread counts (the two builds use 1 and 2 threads)."""
    def drop(value):
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if k not in ("timings", "n_jobs")}
        return [drop(v) for v in value] if isinstance(value, list) else value

    return drop(metrics)


@pytest.fixture(scope="module")
def tiny_builds(tmp_path_factory):
    """Two independent tiny builds of the same data (the determinism check compares them), the
    second with two threads, so its folds run side by side in worker processes."""
    data, raw = synthetic_data()
    first = tmp_path_factory.mktemp("build1")
    second = tmp_path_factory.mktemp("build2")
    build_models(first, data=data, raw=raw, budget=TINY, verbose=False)
    build_models(second, data=data, raw=raw, budget=replace(TINY, n_jobs=2), verbose=False)
    return first, second, data


# --- units ---------------------------------------------------------------------------------

def test_score_predictions_on_a_known_case():
    y = np.array([0, 20, 40, 60, 80, 100.0])
    m = score_predictions(y, y)
    assert m["mae"] == 0 and m["r2"] == 1 and m["hit_auc"] == 1 and m["spearman"] == 1
    assert m["top1_precision"] == 1.0  # the single top track is a hit
    flat = score_predictions(y, np.full(6, 50.0))
    assert flat["hit_auc"] == 0.5 and np.isnan(flat["spearman"])


def test_conformal_offsets_cover_per_stratum():
    rng = np.random.default_rng(1)
    n = 4000
    strata = np.where(np.arange(n) % 2 == 0, "narrow", "wide")
    noise = np.where(strata == "narrow", 2.0, 12.0)
    pred = rng.uniform(20, 80, 2 * n)
    y = pred + rng.normal(0, 1, 2 * n) * np.tile(noise, 2)
    offsets = conformal_offsets(pred[:n], y[:n], strata)
    for level in CONFIDENCE_LEVELS:
        lower, upper = apply_offsets(pred[n:], strata, offsets, level)
        inside = (y[n:] >= lower) & (y[n:] <= upper)
        for stratum in ("narrow", "wide"):
            mask = strata == stratum
            assert inside[mask].mean() == pytest.approx(level, abs=0.03)


def test_tiny_strata_borrow_the_global_offset():
    pred = np.arange(40.0)
    offsets = conformal_offsets(pred, pred + 1, np.array(["big"] * 32 + ["tiny"] * 8))
    assert offsets["fallback_to_global"] == {"tiny": ["0.9"]}
    assert offsets["by_stratum"]["tiny"]["0.9"] == offsets["global"]["0.9"]


def test_hurdle_regressor_predicts_the_zero_mass():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.random(400)})
    y = np.where(X["x"] < 0.3, 0.0, 50 + 10 * X["x"])
    pred = HurdleRegressor({"n_estimators": 30, "max_depth": 3}, n_jobs=1).fit(X, y).predict(X)
    assert pred[X["x"] < 0.25].max() < 5 and pred[X["x"] > 0.4].min() > 40


# --- end-to-end on synthetic data --------------------------------------------------------------

def test_two_tiny_builds_are_identical_whatever_their_threads(tiny_builds):
    first, second, _ = tiny_builds
    a = json.loads((first / "metrics.json").read_text())
    b = json.loads((second / "metrics.json").read_text())
    assert _without_timings(a) == _without_timings(b)
    assert (first / "metrics.json").read_text().index('"timings"') > 0
    for path in sorted((first / "oof").glob("*.parquet")):
        assert path.read_bytes() == (second / "oof" / path.name).read_bytes(), path.name
    for name in ("cold_start", "known_artist"):
        for path in sorted((first / "champions" / name).iterdir()):
            assert path.read_bytes() == (second / "champions" / name / path.name).read_bytes()


def test_build_writes_every_protocol_model_and_oof_file(tiny_builds):
    first, _, data = tiny_builds
    metrics = load_metrics(first)
    assert set(metrics["protocols"]) == {"seed_replica", "known_artist", "cold_start"}
    assert metrics["protocols"]["seed_replica"]["leaky"] is True
    for protocol, section in metrics["protocols"].items():
        for name in section["models"]:
            oof = load_oof(protocol, name, first)
            assert {"track_id", "fold", "y_true", "y_pred"} <= set(oof.columns)
            assert oof["y_pred"].dtype == np.float32
            if protocol != "seed_replica":
                assert len(oof) == len(data.tracks)
    tuned = metrics["protocols"]["cold_start"]["models"]["xgboost_tuned"]
    assert set(tuned["intervals"]["mondrian"]) == {"0.8", "0.9"}
    assert "lower_90" in load_oof("cold_start", "xgboost_tuned", first).columns
    finding = metrics["findings"]["sampling_artefacts"]
    assert set(finding["variants"]) == {"allowed_plus_3_counts",
                                        "allowed_plus_3_counts_and_genre_membership"}
    table = modeling_prose.comparison_table(metrics)
    assert table["protocol"].str.contains("LEAKY").any()


def test_build_scores_a_hit_classifier_out_of_fold(tiny_builds):
    first, _, data = tiny_builds
    metrics = load_metrics(first)
    assert "triage" not in metrics["protocols"]["seed_replica"]
    for protocol in ("known_artist", "cold_start"):
        triage = metrics["protocols"][protocol]["triage"]
        oof = pd.read_parquet(first / triage["oof_file"])
        assert len(oof) == len(data.tracks) and oof["p_hit"].between(0, 1).all()
        for fold in range(metrics["protocols"][protocol]["n_folds"]):
            part = oof[oof["fold"] == fold]
            got = models.score_hit_probabilities(part["y_true"].to_numpy(),
                                                 part["p_hit"].to_numpy())
            for metric in ("hit_auc", "brier"):
                expected = triage["metrics"][metric]["folds"][fold]
                assert got[metric] == pytest.approx(expected, abs=1e-6, nan_ok=True)
        champion = load(protocol, models_dir=first)
        p_hit = champion.predict_hit_probability(_raw_input(data))
        assert p_hit.shape == (12,) and ((p_hit > 0) & (p_hit < 1)).all()
    table = modeling_prose.triage_table(metrics)
    assert len(table) == 4 and table["model"].str.contains("hit classifier").sum() == 2
    text = modeling_prose.triage(modeling_prose.facts(metrics))
    for protocol in ("known_artist", "cold_start"):
        auc = metrics["protocols"][protocol]["triage"]["metrics"]["hit_auc"]["mean"]
        assert f"{auc:.3f}" in text


def test_benchmark_counts_only_what_the_run_computed(tiny_builds, tmp_path, capsys):
    first, _, _ = tiny_builds
    copy = tmp_path / "models"
    shutil.copytree(first, copy)
    metrics = load_metrics(copy)
    timings = metrics["timings"]

    def seconds(protocol, name):  # a model's wall time, whether or not its folds overlapped
        return timings["protocols"][protocol][name]["wall_seconds"]["total"]

    rf = sum(seconds(p, "random_forest") for p in ("seed_replica", "known_artist", "cold_start"))
    fresh = models.benchmark_models(copy, retrain=False)
    assert fresh["build_minutes_excluding_rf"] * 60 == pytest.approx(
        timings["build_seconds"] - rf)
    assert "random forest, cold_start" in capsys.readouterr().out
    # a run that resumed a model and carried one forest over counts neither as its own work
    metrics["protocols"]["known_artist"]["models"]["random_forest"][
        "reused_from_previous_build"] = True
    timings["resumed_from_checkpoint"] = ["cold_start/xgboost", "cold_start/random_forest"]
    (copy / "metrics.json").write_text(json.dumps(metrics))
    partial = models.benchmark_models(copy, retrain=False)
    assert partial["build_minutes_excluding_rf"] * 60 == pytest.approx(
        timings["build_seconds"] - seconds("seed_replica", "random_forest")
        + seconds("cold_start", "xgboost"))
    assert "estimate: 2 models resumed" in capsys.readouterr().out


def test_tuned_trees_are_depth_capped(tiny_builds):
    first, _, _ = tiny_builds
    for name in ("cold_start", "known_artist"):
        params = load(name, models_dir=first).manifest["params"]
        assert 0 < params["max_depth"] <= models.MAX_TREE_DEPTH


@pytest.mark.parametrize("build", [0, 1])  # sequential and side-by-side folds
def test_a_fold_model_refitted_from_its_record_is_the_scored_model(tiny_builds, build):
    folder, data = tiny_builds[build], tiny_builds[2]
    record = load_metrics(folder)["protocols"]["cold_start"]["models"]["xgboost_tuned"]
    design = models._honest_design(data.tracks.reset_index(drop=True), "cold_start", TINY)
    oof = load_oof("cold_start", "xgboost_tuned", folder).set_index("track_id")["y_pred"]
    for fold, params in enumerate(record["fold_params"]):
        assert params["objective"] == models.TUNED_OBJECTIVE
        data_fold = models._fold_data(design, fold, TINY)
        refit = models.make_model("xgboost_tuned", params=params, n_jobs=1)
        pred = refit.fit(data_fold.X_train, data_fold.y_train).predict(data_fold.X_test)
        committed = oof.loc[design.ids.to_numpy()[data_fold.test]].to_numpy(dtype="float64")
        assert np.max(np.abs(committed - pred)) <= REFIT_TOLERANCE  # OOF files store 0.01


def test_tuned_parameters_are_fitted_as_they_are_recorded():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = 50 + 10 * X[:, 0] + rng.normal(0, 5, 300)
    # four trials, so a sampled (unround) trial can win over the round starting points
    params, summary = models.tune_xgboost(X, y, np.arange(300) % 4 == 0,
                                          budget=replace(TINY, n_trials=4))
    assert summary["best_trial"] >= len(models._TUNING_STARTS)
    assert json.loads(json.dumps(clean_json(params))) == params


def test_targets_table_reports_each_protocols_worst_macro_genre_coverage(tiny_builds):
    first, _, _ = tiny_builds
    metrics = load_metrics(first)
    table = modeling_prose.targets_table(metrics)
    rows = table[table["metric"].str.startswith("interval coverage")].set_index("protocol")
    assert sorted(rows.index) == ["cold_start", "known_artist"]
    for protocol, row in rows.iterrows():
        mondrian = metrics["protocols"][protocol]["models"]["xgboost_tuned"]["intervals"][
            "mondrian"]
        gaps = [abs(v["coverage"] - float(level)) for level, section in mondrian.items()
                for v in section["by_macro_genre"].values()]
        assert row["measured"] == f"{100 * max(gaps):.2f}"
        assert row["met"] == ("yes" if max(gaps) <= 0.02 else "no")


def test_build_refuses_bad_data_and_writes_nothing(tmp_path, monkeypatch):
    bad = tmp_path / "dataset.csv"
    bad.write_text("not,the,dataset\n1,2,3\n")
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(bad))
    monkeypatch.setenv(paths.DATA_DIR_ENV_VAR, str(tmp_path / "data"))
    out = tmp_path / "models"
    with pytest.raises(Exception, match="dataset.csv"):
        build_models(out, verbose=False)
    assert not out.exists()


# --- champions -----------------------------------------------------------------------------

def _raw_input(data: TrackData, n: int = 12) -> pd.DataFrame:
    tracks = data.tracks.head(n)
    return tracks[["track_id", "artists", "album_name", "track_name", "duration_ms", "explicit",
                   *AUDIO_COLUMNS]].assign(track_genre=tracks["primary_genre"].to_numpy())


@pytest.mark.parametrize("name", ["cold_start", "known_artist"])
def test_champion_predicts_raw_columns_like_its_booster(tiny_builds, name):
    first, _, data = tiny_builds
    champion = load(name, models_dir=first)
    df = _raw_input(data)
    pred = champion.predict(df)
    X = champion.features(df)
    assert list(X.columns) == feature_names(name)
    assert np.allclose(pred, champion.booster.inplace_predict(X))
    interval = champion.predict_interval(df, confidence=0.8)
    assert list(interval.columns) == ["prediction", "lower", "upper"]
    assert (interval["lower"] <= interval["upper"]).all()
    assert interval["lower"].ge(0).all() and interval["upper"].le(100).all()


def test_known_artist_champion_looks_up_and_overrides_history(tiny_builds):
    first, _, data = tiny_builds
    champion = load("known_artist", models_dir=first)
    df = _raw_input(data, 3)
    looked_up = champion.features(df)
    expected = champion.artist_history.transform(df)
    assert np.allclose(looked_up["artist_n_tracks"], expected["artist_n_tracks"])
    override = champion.features(df.assign(artist_mean_popularity=[90.0, np.nan, 5.0]))
    assert override["artist_mean_popularity"].tolist()[0::2] == [90.0, 5.0]
    assert override["artist_mean_popularity"].iloc[1] == looked_up["artist_mean_popularity"].iloc[1]
    with pytest.raises(TrackDataError, match="artists"):
        champion.predict(df.drop(columns="artists"))
    with pytest.raises(TrackDataError) as err:
        champion.predict(df.assign(artist_n_tracks=[1, -3, 2]), name="catalog.csv")
    assert (err.value.problems[0].row, err.value.problems[0].column) == (3, "artist_n_tracks")


def test_champion_validates_input_naming_line_and_column(tiny_builds):
    first, _, data = tiny_builds
    champion = load("cold_start", models_dir=first)
    df = _raw_input(data, 4)
    df.loc[df.index[2], "valence"] = 7.0
    with pytest.raises(TrackDataError) as err:
        champion.predict(df, name="upload.csv")
    problem = err.value.problems[0]
    assert (problem.file, problem.row, problem.column) == ("upload.csv", 4, "valence")


def test_load_refuses_a_tampered_champion(tiny_builds, tmp_path):
    first, _, _ = tiny_builds
    copy = tmp_path / "models"
    shutil.copytree(first / "champions", copy / "champions")
    load("cold_start", models_dir=copy)
    model = copy / "champions" / "cold_start" / "model.ubj"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ChampionIntegrityError, match="SHA-256"):
        load("cold_start", models_dir=copy)
    (copy / "champions" / "known_artist" / "offsets.json").unlink()
    with pytest.raises(ChampionIntegrityError, match="missing"):
        load("known_artist", models_dir=copy)


# --- the committed artifacts (real data) ---------------------------------------------------

@pytest.mark.slow
def test_committed_metrics_describe_the_real_data(track_data):
    metrics = load_metrics()
    assert metrics["data"]["sha256"] == track_data.sha256
    assert metrics["data"]["tracks"] == len(track_data.tracks)
    for name in ("cold_start", "known_artist"):
        assert metrics["champions"][name]["artifact_bytes"] <= 10_000_000


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cold_start", "known_artist"])
def test_committed_champion_predicts_real_rows(track_data, name):
    champion = load(name)
    tracks = track_data.tracks.head(200)
    df = tracks[["track_id", "artists", "album_name", "track_name", "duration_ms", "explicit",
                 *AUDIO_COLUMNS]].assign(track_genre=tracks["primary_genre"].to_numpy())
    pred = champion.predict(df)
    assert np.isfinite(pred).all() and 0 <= np.median(pred) <= 100
    cleaned = make_features(
        tracks, protocol=name,
        **({"artist_history": champion.artist_history} if name == "known_artist" else {}))
    assert np.allclose(pred, champion.booster.inplace_predict(cleaned))


def test_every_committed_metric_can_be_recomputed_from_the_oof_files():
    """The audit trail: per-fold R² and MAE in metrics.json follow from the committed OOF."""
    metrics = load_metrics()
    for protocol, section in metrics["protocols"].items():
        for name, entry in section["models"].items():
            oof = load_oof(protocol, name)
            for fold in range(section["n_folds"]):
                part = oof[oof["fold"] == fold]
                got = score_predictions(part["y_true"].to_numpy(), part["y_pred"].to_numpy())
                for metric in ("r2", "mae"):
                    expected = entry["metrics"][metric]["folds"][fold]
                    assert got[metric] == pytest.approx(expected, abs=2e-6), (protocol, name)
        if "triage" in section:
            oof = pd.read_parquet(paths.MODELS_DIR / section["triage"]["oof_file"])
            for fold in range(section["n_folds"]):
                part = oof[oof["fold"] == fold]
                got = models.score_hit_probabilities(part["y_true"].to_numpy(),
                                                     part["p_hit"].to_numpy())
                for metric in ("hit_auc", "top1_precision", "brier"):
                    expected = section["triage"]["metrics"][metric]["folds"][fold]
                    assert got[metric] == pytest.approx(expected, abs=2e-6), (protocol, metric)


def test_the_chapter_captions_hold_on_the_committed_metrics():
    """Figure captions of chapters/04-modeling are prose; their claims are checked here."""
    metrics = load_metrics()
    protocols = metrics["protocols"]
    # fig-modeling-leak: every replica model scores above its honest counterparts.
    for name, entry in protocols["seed_replica"]["models"].items():
        for honest in ("known_artist", "cold_start"):
            assert entry["metrics"]["r2"]["mean"] > protocols[honest]["models"][name][
                "metrics"]["r2"]["mean"]
    # fig-modeling-leak-mechanism: the all-rows artist mean beats the out-of-fold one.
    audit = metrics["findings"]["leak_audit"]
    assert (audit["seed_replica"]["r2_of_artist_mean_alone"]
            > audit["known_artist"]["r2_of_artist_mean_alone"] + 0.1)
    analysis = {p: protocols[p]["models"]["xgboost_tuned"]["error_analysis"]
                for p in ("known_artist", "cold_start")}
    # fig-modeling-error-genre: errors differ several-fold; knowing the artist helps everywhere.
    maes = [v["mae"] for v in analysis["cold_start"]["by_macro_genre"].values()]
    assert max(maes) > 2.5 * min(maes)
    for genre, values in analysis["known_artist"]["by_macro_genre"].items():
        assert values["mae"] < analysis["cold_start"]["by_macro_genre"][genre]["mae"]
    # fig-modeling-error-band: low bands over-predicted, hit bands under-predicted.
    for table in analysis.values():
        bands = table["by_popularity_band"]
        assert bands["0"]["bias"] > 0 and bands["1-19"]["bias"] > 0
        assert bands["60-79"]["bias"] < 0 and bands["80-100"]["bias"] < 0
    # fig-modeling-zero-mass: most new-artist zero tracks are predicted at 10 or more.
    assert analysis["cold_start"]["zero_popularity"]["share_predicted_below_10"] < 0.5
    # fig-modeling-coverage: per-genre offsets keep the 90% interval within 2 points in every
    # macro-genre (the 80% level's worst gap is reported in tbl-modeling-targets); one global
    # offset misses somewhere at both levels.
    for protocol in ("known_artist", "cold_start"):
        intervals = protocols[protocol]["models"]["xgboost_tuned"]["intervals"]
        per_genre = intervals["mondrian"]["0.9"]["by_macro_genre"].values()
        assert all(abs(v["coverage"] - 0.9) <= models.COVERAGE_TOLERANCE for v in per_genre)
        for level in ("0.8", "0.9"):
            global_ = intervals["global"][level]["by_macro_genre"].values()
            assert any(abs(v["coverage"] - float(level)) > 0.02 for v in global_)
    # fig-modeling-artefacts: the forbidden columns lift new-artist R².
    finding = metrics["findings"]["sampling_artefacts"]
    base = finding["allowed_features"]["r2"]["mean"]
    for variant in finding["variants"].values():
        assert variant["metrics"]["r2"]["mean"] > base + 0.05
    # tbl-modeling-targets: the replica Random Forest is the row the leak target reads.
    assert "random_forest" in protocols["seed_replica"]["models"]
    # sec-modeling-triage: the hit classifier out-ranks the popularity model in both protocols.
    for protocol in ("known_artist", "cold_start"):
        assert (protocols[protocol]["triage"]["metrics"]["hit_auc"]["mean"]
                > protocols[protocol]["models"]["xgboost_tuned"]["metrics"]["hit_auc"]["mean"])


def test_committed_champions_are_depth_capped():
    for name in ("cold_start", "known_artist"):
        champion = load(name)
        assert 0 < champion.manifest["params"]["max_depth"] <= models.MAX_TREE_DEPTH
