"""Tests of analysis.explain: grouping, sampling, permutation, the ladder, the cached build.

Fast tests read the committed tiny build (``tests/fixtures/tiny/``, written by
``tests/fixtures/make_fixtures.py``: champions trained on synthetic tracks, explained by
``build_explanations``); the rebuild of that fixture and the checks on the committed
artifacts of the real build are marked slow. TreeSHAP itself is tested in test_trees.py.
"""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

xgb = pytest.importorskip("xgboost")

from analysis import explain, paths  # noqa: E402
from analysis.explain import (  # noqa: E402
    BIAS,
    feature_group,
    feature_groups,
    group_contributions,
    grouped_permutation_importance,
    mean_abs,
    stratified_sample,
)
from analysis.genres import load_taxonomy  # noqa: E402

#: The generator of the committed tiny build (its settings and loaders).
FIXTURES = runpy.run_path(str(Path(__file__).parent / "fixtures" / "make_fixtures.py"))


@pytest.fixture(scope="module")
def tiny_build():
    """The committed tiny build: synthetic tracks, two champions, their explanations."""
    models_dir = FIXTURES["FIXTURES_DIR"] / "models"
    summary = json.loads((paths.shap_dir(models_dir) / "summary.json").read_text())
    return SimpleNamespace(tracks=FIXTURES["load_tracks"](), models_dir=models_dir,
                           summary=summary)


# --- grouping ---------------------------------------------------------------------------------


def test_every_contract_column_has_a_sensible_group():
    from analysis.features import feature_names

    groups = feature_groups(feature_names("known_artist"))
    assert len(groups["genre"]) == len(load_taxonomy())
    assert len(groups["macro-genre"]) == 16
    assert groups["artist history"] == ["artist_mean_popularity", "artist_n_tracks",
                                        "artist_max_popularity"]
    singles = [g for g, cols in groups.items() if len(cols) == 1]
    assert {"energy", "valence", "danceability", "duration_ms", "explicit"} <= set(singles)
    assert all(feature_group(c) == g for g, cols in groups.items() for c in cols)


def test_group_contributions_sum_one_hot_columns_before_the_absolute_value():
    contribs = pd.DataFrame({"genre_pop": [2.0, -1.0], "genre_rock": [-2.0, -1.0],
                             "energy": [0.5, 0.5], BIAS: [40.0, 40.0]})
    grouped = group_contributions(contribs)
    assert grouped["genre"].tolist() == [0.0, -2.0]
    # |sum| not sum of |.|: a row whose genre columns cancel has no genre effect
    assert mean_abs(grouped).to_dict() == {"genre": 1.0, "energy": 0.5}


def test_stratified_sample_is_deterministic_and_weights_back_to_the_population():
    tracks = FIXTURES["load_tracks"]()
    first = stratified_sample(tracks, per_group=5)
    again = stratified_sample(tracks.sample(frac=1, random_state=3), per_group=5)
    assert first["track_id"].tolist() == again["track_id"].tolist()
    assert first["weight"].sum() == pytest.approx(len(tracks))
    assert first.groupby("macro_genre").size().max() == 5


# --- permutation importance -------------------------------------------------------------------


def test_grouped_permutation_matches_scikit_learn_on_single_columns():
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(2000, 3)), columns=["a", "b", "c"])
    y = 3 * X["a"] + X["b"] + rng.normal(0, 0.5, 2000)
    model = LinearRegression().fit(X.to_numpy(), y)
    ours = grouped_permutation_importance(model.predict, X, y, {c: [c] for c in X},
                                          n_repeats=10)
    theirs = permutation_importance(model, X.to_numpy(), y, n_repeats=10, random_state=0,
                                    scoring="r2")
    np.testing.assert_allclose(ours["r2_drop_mean"], theirs.importances_mean, atol=0.03)


def test_grouped_permutation_shuffles_a_group_jointly():
    X = pd.DataFrame({"g_1": [1.0, 0, 0, 0] * 25, "g_2": [0, 1.0, 0, 0] * 25,
                      "x": np.linspace(0, 1, 100)})
    seen = []

    def predict(matrix):
        seen.append(matrix[:, :2].sum(axis=1).max())
        return matrix[:, 0] * 2 + matrix[:, 2]

    out = grouped_permutation_importance(predict, X, predict(X.to_numpy()),
                                         {"g": ["g_1", "g_2"]}, n_repeats=3)
    assert max(seen) == 1.0  # one-hot rows stay one-hot after the joint shuffle
    assert out.loc[0, "r2_drop_mean"] > 0


# --- the cached build -------------------------------------------------------------------------


def test_build_writes_small_artifacts_and_a_readable_summary(tiny_build):
    folder = paths.shap_dir(tiny_build.models_dir)
    names = {p.name for p in folder.iterdir()}
    assert {"summary.json", "importance.parquet", "sample.parquet", "by_macro_genre.parquet",
            "interactions.parquet", "features.parquet", "pair.parquet"} <= names
    loaded = explain.load_explanations(tiny_build.models_dir)
    assert set(loaded.importance["protocol"]) == {"known_artist", "cold_start"}
    assert loaded.sample.select_dtypes("float").dtypes.eq("float32").all()
    for protocol, section in loaded.summary["protocols"].items():
        assert section["checks"]["additivity_max_abs_error"] < 1e-3, protocol
        assert section["checks"]["xgboost_max_abs_diff"] < 1e-3, protocol  # shallow trees
        if section["checks"]["shap_library_max_abs_diff"] is not None:
            assert section["checks"]["shap_library_max_abs_diff"] < 1e-3, protocol


@pytest.mark.slow
def test_build_reproduces_the_committed_fixture_and_rewrites_nothing(tiny_build, tmp_path):
    """build_explanations of the committed tiny champions writes the committed files, byte
    for byte (the fixture is current, the build deterministic); a rebuild rewrites nothing."""
    models_dir = tmp_path / "models"
    shutil.copytree(tiny_build.models_dir, models_dir,
                    ignore=shutil.ignore_patterns(paths.shap_dir(models_dir).name))
    data = FIXTURES["track_data"](tiny_build.tracks)
    summary = explain.build_explanations(models_dir, data=data, **FIXTURES["EXPLAIN_SETTINGS"])
    assert summary == tiny_build.summary
    built = paths.shap_dir(models_dir)
    for path in paths.shap_dir(tiny_build.models_dir).iterdir():
        assert (built / path.name).read_bytes() == path.read_bytes(), (
            f"tests/fixtures/tiny/models/shap/{path.name} is stale: run "
            "python tests/fixtures/make_fixtures.py")
    mtimes = {p.name: p.stat().st_mtime_ns for p in built.iterdir()}
    explain.build_explanations(models_dir, data=data, **FIXTURES["EXPLAIN_SETTINGS"])
    assert {p.name: p.stat().st_mtime_ns for p in built.iterdir()} == mtimes


def test_importance_is_the_weighted_mean_abs_of_grouped_shap(tiny_build):
    loaded = explain.load_explanations(tiny_build.models_dir)
    for protocol in ("cold_start", "known_artist"):
        sample = loaded.sample[loaded.sample["protocol"] == protocol]
        table = loaded.importance[loaded.importance["protocol"] == protocol].set_index("group")
        for group, row in table.iterrows():
            expected = np.average(np.abs(sample[f"shap__{group}"]), weights=sample["weight"])
            assert row["mean_abs_shap"] == pytest.approx(expected, rel=1e-5, abs=1e-12), group
        assert table["share"].sum() == pytest.approx(1.0, abs=1e-5)
    # the new-artist champion follows its recipe: no genre driver; the known-artist one has it
    groups = loaded.importance.groupby("protocol")["group"].apply(set)
    assert "genre" not in groups["cold_start"] and "genre" in groups["known_artist"]
    # the signal the data was built with ranks first among single features
    top = loaded.summary["protocols"]["cold_start"]["dependence_features"]
    assert {"energy", "valence"} & set(top[:2])


def test_sample_shap_adds_up_to_the_prediction(tiny_build):
    loaded = explain.load_explanations(tiny_build.models_dir)
    sample = loaded.sample[loaded.sample["protocol"] == "known_artist"]
    shap_cols = [c for c in sample.columns if c.startswith("shap__") and sample[c].notna().all()]
    total = sample[shap_cols].sum(axis=1) + sample["expected_value"]
    np.testing.assert_allclose(total, sample["prediction"], atol=1e-3)


def test_artist_history_section_only_for_known_artist(tiny_build):
    protocols = tiny_build.summary["protocols"]
    assert protocols["cold_start"]["artist_history"] is None
    history = protocols["known_artist"]["artist_history"]
    assert 0 < history["shap_share_history"] < 1
    assert history["r2_drop_without_history"] == pytest.approx(
        history["r2_with_history"] - history["r2_without_history"], abs=1e-6)
    assert history["r2_history_alone"] == 0.1


def test_feature_ladder_ends_with_the_full_model(tiny_build):
    for protocol, section in tiny_build.summary["protocols"].items():
        ladder = section["feature_ladder"]
        steps = ladder["steps"]
        parts = [step["part"] for step in steps]
        assert parts[0] == "original"
        assert (explain.ARTIST_HISTORY_GROUP in parts) == (protocol == "known_artist")
        sizes = [step["n_columns"] for step in steps]
        assert sizes == sorted(set(sizes)) and sizes[-1] == section["champion"]["n_features"]
        # the last step is the fold's full model, whose R² the history section also reports
        if protocol == "known_artist":
            assert steps[-1]["r2"] == pytest.approx(
                section["artist_history"]["r2_with_history"], abs=1e-9)
            assert steps[-2]["r2"] == pytest.approx(
                section["artist_history"]["r2_without_history"], abs=1e-9)


def test_feature_ladder_skips_absent_parts_and_refits_each_step():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"album_dated": rng.integers(0, 2, 300), "energy": rng.random(300),
                      "n_artists": rng.integers(1, 4, 300)})
    y = 20 * X["energy"].to_numpy() + 10 * X["album_dated"].to_numpy()
    seen = []

    def fit(Xf, yf):
        seen.append(list(Xf.columns))
        coef = np.linalg.lstsq(np.c_[np.ones(len(Xf)), Xf], yf, rcond=None)[0]
        return lambda Z: np.c_[np.ones(len(Z)), Z] @ coef

    ladder = explain.feature_ladder(fit, X[:200], y[:200], X[200:], y[200:])
    assert seen == [["energy"], ["energy", "n_artists"], ["album_dated", "energy", "n_artists"]]
    assert ladder["part"].tolist() == ["original", "credits", "album-name text"]
    assert ladder["r2"].iloc[-1] == pytest.approx(1.0) and ladder["r2"].iloc[0] < 0.9


def test_permutation_uses_the_fold_model_and_ranks_groups(tiny_build):
    section = tiny_build.summary["protocols"]["cold_start"]["permutation"]
    assert section["params_source"].startswith("metrics.json fold_params[0]")
    assert -1 <= section["rank_correlation_with_shap"] <= 1
    loaded = explain.load_explanations(tiny_build.models_dir)
    table = loaded.importance[loaded.importance["protocol"] == "cold_start"]
    assert sorted(table["permutation_rank"]) == list(range(1, len(table) + 1))


def test_dependence_frame_colours_by_the_partner(tiny_build):
    loaded = explain.load_explanations(tiny_build.models_dir)
    frame = explain.dependence_frame(loaded, "cold_start", "energy", color_by="valence",
                                     per_macro=5)
    assert frame.attrs["color_by"] == "valence"
    assert frame.groupby("macro_genre").size().max() <= 5
    assert frame[["x", "shap", "color"]].notna().all().all()


def test_missing_cache_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="analysis.cli explain"):
        explain.load_explanations(tmp_path)


# --- the committed artifacts (real data) ------------------------------------------------------


@pytest.mark.slow
def test_committed_explanations_are_current_and_consistent():
    from analysis import paths
    from analysis.prose.drivers import REFIT_TOLERANCE

    try:
        loaded = explain.load_explanations()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    summary = loaded.summary
    metrics = json.loads((paths.MODELS_DIR / "metrics.json").read_text())
    assert summary["metrics_fingerprint"] == explain.metrics_fingerprint(metrics), (
        "models/shap/ is older than models/metrics.json: rerun `python -m analysis.cli explain`")
    for protocol, section in summary["protocols"].items():
        assert section["champion"]["manifest_sha256"] == metrics["champions"][protocol][
            "manifest_sha256"]
        assert section["checks"]["additivity_max_abs_error"] < 1e-3
        assert section["checks"]["xgboost_max_abs_diff"] < 0.1  # XGBoost's float32 rounding
        refit = section["permutation"]["refit_vs_oof"]
        assert refit is not None and refit["max_abs_diff"] <= REFIT_TOLERANCE, (
            f"the fold refit differs from the committed OOF predictions by up to "
            f"{refit['max_abs_diff']} points: the models and the explanations were built from "
            f"different code or parameters; rebuild both")
    size = sum(p.stat().st_size for p in paths.shap_dir().iterdir())
    assert size < 3_000_000


# --- the static captions' claims hold on the committed artifacts ------------------------------

AUDIO_GROUPS = ("danceability", "energy", "key", "loudness", "mode", "speechiness",
                "acousticness", "instrumentalness", "liveness", "valence", "tempo",
                "time_signature")


@pytest.fixture(scope="module")
def committed():
    try:
        return explain.load_explanations()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))


def _table(loaded, protocol):
    table = loaded.importance[loaded.importance["protocol"] == protocol]
    return table.sort_values("shap_rank").set_index("group")


@pytest.mark.slow
def test_caption_importance(committed):
    """Artist history dominates the known-artist model. The new-artist model, which reads no
    genre and no album name, is moved most by the sound, by both measures, a few points per
    feature (also the drivers chapter's setup paragraph)."""
    known, cold = _table(committed, "known_artist"), _table(committed, "cold_start")
    assert known.index[0] == "artist history"
    assert known["r2_drop_mean"].idxmax() == "artist history"
    assert not {"genre", "macro-genre", "album-name text", "is_single"} & set(cold.index)
    assert {"genre", "album-name text"} <= set(known.index)
    assert cold.index[0] in AUDIO_GROUPS and cold["r2_drop_mean"].idxmax() in AUDIO_GROUPS
    assert cold.loc[cold.index.isin(AUDIO_GROUPS), "share"].sum() > 0.5
    assert cold["mean_abs_shap"].max() < 5  # a few points


@pytest.mark.slow
def test_caption_feature_ladder(committed):
    """(fig-modeling-ladder) For known artists every step adds to what the original's columns
    and the genre reach, the artist's history most; the published new-artist model explains
    little of this crawl at any step, which starts without the genre and stops before the
    album."""
    ladders = {p: committed.summary["protocols"][p]["feature_ladder"]["steps"]
               for p in ("cold_start", "known_artist")}
    gains = np.diff([s["r2"] for s in ladders["known_artist"]])
    assert (gains > 0).all() and gains[-1] == gains.max()
    assert ladders["known_artist"][0]["step"] == "original columns + genre"
    assert ladders["cold_start"][0]["step"] == "original columns"
    assert "album-name text" not in {s["part"] for s in ladders["cold_start"]}
    assert max(s["r2"] for s in ladders["cold_start"]) < 0.1


@pytest.mark.slow
def test_caption_beeswarm(committed):
    """For a new artist, audio features move individual predictions most, the strongest by up
    to about ten points either way; for a known artist, the artist's history moves them
    furthest."""
    cold = _table(committed, "cold_start")
    assert set(cold.index[:3]) <= set(AUDIO_GROUPS)
    sample = committed.sample[committed.sample["protocol"] == "cold_start"]
    reach = max(sample[f"shap__{group}"].abs().quantile(0.99) for group in cold.index[:3])
    assert 5 < reach < 12  # "up to about ten points"
    for group in cold.index[:3]:
        assert (sample[f"shap__{group}"] > 0).any() and (sample[f"shap__{group}"] < 0).any()
    assert _table(committed, "known_artist").index[0] == "artist history"


@pytest.mark.slow
def test_caption_dependence(committed):
    """The strongest audio features act by up to about ten points."""
    sample = committed.sample[committed.sample["protocol"] == "cold_start"]
    for feature in committed.summary["protocols"]["cold_start"]["dependence_features"]:
        assert sample[f"shap__{feature}"].abs().quantile(0.99) < 12, feature


@pytest.mark.slow
def test_caption_energy_valence(committed):
    """The energy × valence interaction is a small fraction of energy's own effect."""
    from analysis.prose.drivers import pair_strength

    interaction, energy = pair_strength(committed, "cold_start")
    assert interaction < 0.25 * energy


@pytest.mark.slow
def test_caption_macro_genres(committed):
    """How far the top drivers move predictions differs several-fold between macro-genres."""
    part = committed.by_macro_genre[committed.by_macro_genre["protocol"] == "cold_start"]
    top = _table(committed, "cold_start").index[0]
    values = part[part["group"] == top]["mean_abs_shap"]
    assert values.max() >= 2 * values.min()


@pytest.mark.slow
def test_caption_history(committed):
    """Artist history carries most of the known-artist model's movement; R² falls without it."""
    history = committed.summary["protocols"]["known_artist"]["artist_history"]
    assert history["shap_share_history"] > 0.5
    assert history["r2_without_history"] < history["r2_with_history"]
