"""The transfer comparison: its splits, recipes, the agreement table and the selection rule;
end to end on synthetic crawls and the tiny build; the real artifact's internal consistency."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _tiny_models import SYNTHETIC_CRAWLS, TINY_MODELS_DIR, synthetic_data

from analysis import paths
from analysis.external.candidates import CANDIDATES, candidate
from analysis.external.comparison import (
    ExternalSide,
    TrainingSide,
    build_transfer,
    fit_recipe,
)
from analysis.external.selection import (
    CURRENT_RECIPE,
    MIN_AGREEMENT,
    ROLES,
    agreement_report,
    eligibility,
    select,
)
from analysis.features import feature_names
from analysis.labels import RECIPE_LABELS, TRANSFER_MEASURE_LABELS
from analysis.models.blanking import inputs_read
from analysis.models.recipes import TRANSFER_RECIPE, Recipe, clean_training_rows, columns_of
from analysis.protocols import (
    album_groups,
    artist_groups,
    check_group_disjoint,
    known_artist_by_album_folds,
    macro_genre_holdout_folds,
)
from analysis.schema import AUDIO_COLUMNS

FILES = SYNTHETIC_CRAWLS
COLUMNS = feature_names("cold_start")


# --- splits -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tracks() -> pd.DataFrame:
    return synthetic_data()[0].tracks.reset_index(drop=True)


def test_album_folds_never_split_an_album_or_a_song(tracks):
    folds = known_artist_by_album_folds(tracks, n_splits=3)
    check_group_disjoint(album_groups(tracks), folds)
    assert set(folds.tolist()) == {0, 1, 2}


def test_macro_genre_holdout_hides_the_genre_family_and_its_artists(tracks):
    splits = macro_genre_holdout_folds(tracks)
    macro = tracks["macro_genre"].astype(str).to_numpy()
    groups = artist_groups(tracks)
    tested = np.concatenate([test for _, _, test in splits])
    assert sorted(tested.tolist()) == list(range(len(tracks)))  # every track predicted once
    for held_out, train, test in splits:
        assert set(macro[test]) == {held_out}
        assert held_out not in set(macro[train])
        assert not set(groups[train]) & set(groups[test])


# --- recipes ------------------------------------------------------------------------------------

def test_recipes_read_the_columns_they_say():
    count = {c.name: len(columns_of(c, COLUMNS, AUDIO_COLUMNS)) for c in CANDIDATES}
    n_genre = sum(c.startswith("genre_") for c in COLUMNS)
    n_macro = sum(c.startswith("macro_") for c in COLUMNS)
    assert count["champion_recipe"] == len(COLUMNS)
    assert count["without_genre_labels"] == len(COLUMNS) - n_genre
    assert count["without_genre"] == len(COLUMNS) - n_genre - n_macro
    assert count["audio_only"] == len(AUDIO_COLUMNS) + 1
    assert inputs_read(columns_of(candidate("without_genre_or_album"), COLUMNS,
                                  AUDIO_COLUMNS)) == ("explicit", "time_signature")
    assert len({c.name for c in CANDIDATES}) == len(CANDIDATES)
    assert set(RECIPE_LABELS) == {c.name for c in CANDIDATES}


def test_clean_rows_are_decided_inside_the_rows_given():
    t = pd.DataFrame({"artists": ["A", "A", "B"], "popularity": [10, 30, 20],
                      "track_name": ["Hit", "Hit (Live)", "Other"],
                      "album_name": ["LP", "Live", "Christmas Hits"]})
    assert clean_training_rows(t).tolist() == [False, True, False]
    assert clean_training_rows(t.iloc[[0, 2]]).tolist() == [True, False]  # its sister held out


def test_a_relative_target_adds_the_genre_mean_back(tracks):
    side = TrainingSide.of(tracks, n_splits=2)
    params = {"n_estimators": 5, "max_depth": 2}
    fitted = fit_recipe(Recipe("r", target="relative_to_genre"), side.matrix, side.tracks,
                        params, with_classifier=False)
    means = side.tracks.groupby("primary_genre")["popularity"].mean()
    row = side.matrix.iloc[[0]]
    genre = side.genre[0]
    base = fitted.regressor.predict(row[fitted.columns].to_numpy())[0]
    assert fitted.predict(row, np.array([genre]))[0][0] == pytest.approx(base + means[genre])
    assert fitted.predict(row, None)[0][0] == pytest.approx(base + means.mean())


def test_an_input_a_set_lacks_is_missing_only_for_recipes_trained_without_it():
    matrix = pd.DataFrame({"energy": [0.5], "explicit": [0.0], "time_signature": [4.0],
                           "genre_pop": [1.0], "macro_pop": [1.0]})
    mg = ExternalSide("music_genre", matrix, None, np.array([50.0]), None)
    bb = ExternalSide("billboard", matrix, None, np.array([1]), None)
    blanked = Recipe("b", blanked=("genre", "explicit", "time_signature"))
    seen = mg.as_recipe_sees(blanked).iloc[0]
    assert np.isnan(seen["explicit"]) and np.isnan(seen["time_signature"])
    assert seen["genre_pop"] == 1.0  # music_genre has a genre
    seen = bb.as_recipe_sees(blanked).iloc[0]
    assert seen["genre_pop"] == 0.0 and seen["time_signature"] == 4.0  # Billboard has one
    assert mg.as_recipe_sees(Recipe("plain")).equals(matrix)


# --- agreement and the rule ---------------------------------------------------------------------

def _entry(name, columns, *, reads_=(), blanked=(), **scores):
    sections: dict = {}
    for key, value in scores.items():
        section, metric = key.split("__")
        sections.setdefault(section, {})[metric] = value
    return {"name": name, "columns": columns, "reads": list(reads_), "blanked": list(blanked),
            "scores": sections}


def _scores(pooled, within, new_within, mg_within, hit, mg_hit):
    keys = dict.fromkeys(ROLES["popularity_model"]["in_data"], pooled)
    out = {k.replace(".", "__"): v for k, v in keys.items()}
    out |= {"in_data__spearman_within_genre": within,
            "new_release__spearman_within_genre": new_within,
            "music_genre__spearman_within_genre": mg_within, "music_genre__spearman": mg_within,
            "in_data__hit_auc": hit, "new_release__hit_auc": hit, "music_genre__hit_auc": mg_hit,
            "billboard__hit_auc": mg_hit}
    return out


def test_agreement_finds_the_measure_that_orders_recipes_like_the_other_crawl():
    entries = [
        _entry("a", 10, **_scores(0.7, 0.30, 0.10, 0.05, 0.9, 0.70)),
        _entry("b", 10, **_scores(0.6, 0.20, 0.12, 0.08, 0.8, 0.75)),
        _entry("c", 10, **_scores(0.5, 0.25, 0.14, 0.11, 0.7, 0.80)),
    ]
    report = agreement_report(entries)["popularity_model"]
    rows = {r["measure"]: r for r in report["measures"]}
    assert rows["new_release.spearman_within_genre"]["rank_correlation"] == pytest.approx(1.0)
    assert rows["in_data.spearman"]["rank_correlation"] == pytest.approx(-1.0)
    assert report["best_ranker"] == "new_release.spearman_within_genre"
    assert report["closest"] == "new_release.spearman_within_genre"  # gap 0.04 everywhere
    assert rows["new_release.spearman_within_genre"]["mean_gap"] == pytest.approx(0.04)


def test_the_rule_uses_the_agreeing_measure_and_breaks_ties_toward_fewer_columns():
    entries = [
        _entry(CURRENT_RECIPE, 166, reads_=("genre",), **_scores(0.7, 0.3, 0.10, 0.05, 0.9, .7)),
        _entry("big", 40, **_scores(0.6, 0.2, 0.145, 0.11, 0.8, 0.75)),
        _entry("small", 20, **_scores(0.5, 0.2, 0.14, 0.10, 0.7, 0.72)),
    ]
    agreement = agreement_report(entries)
    chosen = select(entries, agreement)["popularity_model"]
    assert chosen["measure"] == "new_release.spearman_within_genre"
    assert chosen["measure_source"] == "in_data"
    assert chosen["tied"] == ["big", "small"] and chosen["chosen"] == "small"
    assert CURRENT_RECIPE not in chosen["eligible"] and not chosen["keeps_current"]


def test_without_an_agreeing_measure_the_rule_falls_back_to_the_development_crawl():
    entries = [
        _entry(CURRENT_RECIPE, 166, **_scores(0.7, 0.30, 0.30, 0.05, 0.9, 0.70)),
        _entry("b", 10, **_scores(0.6, 0.20, 0.20, 0.20, 0.8, 0.75)),
        _entry("c", 10, **_scores(0.5, 0.25, 0.25, 0.10, 0.7, 0.80)),
    ]
    agreement = agreement_report(entries)
    assert agreement["popularity_model"]["measures"][0]["rank_correlation"] < MIN_AGREEMENT
    chosen = select(entries, agreement)
    assert chosen["popularity_model"]["measure"] == "music_genre.spearman_within_genre"
    assert chosen["popularity_model"]["measure_source"] == "external_validation"
    assert chosen["popularity_model"]["chosen"] == "b"
    assert chosen["hit_classifier"]["chosen"] == "c"


def test_eligibility_names_the_input_and_the_crawl_that_lacks_it():
    ok, why = eligibility({"reads": ["album"], "blanked": []})
    assert not ok and "album" in why and "music_genre, billboard" in why


# --- end to end ---------------------------------------------------------------------------------

def _build(out: Path) -> dict:
    recipes = tuple(candidate(n) for n in ("champion_recipe", "without_genre_or_album_blanked",
                                            "all_inputs_blanked_clean_rows"))
    return build_transfer(TINY_MODELS_DIR, files=FILES, data=synthetic_data()[0], out=out,
                          recipes=recipes, n_splits=2, log=lambda _: None,
                          models={"cold_start": ["linear_regression", "xgboost_tuned"],
                                  "known_artist": ["xgboost_monotone"]})


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("transfer") / "transfer.json"
    return _build(out), out


def test_every_recipe_is_scored_on_every_section(built):
    report, _ = built
    sections = {"in_data", "new_release", "macro_genre_holdout", "music_genre", "billboard"}
    for entry in report["candidates"]:
        assert set(entry["scores"]) == sections
        assert entry["scores"]["music_genre"]["n"] == 5  # the synthetic crawl's scored tracks
        assert entry["scores"]["billboard"]["n"] == 6
    clean = next(e for e in report["candidates"] if e["training_rows"] == "clean")
    assert clean["training_tracks"] < len(synthetic_data()[0].tracks)
    assert report["rule"] and report["selection"]["current_recipe"] == CURRENT_RECIPE
    # five scored tracks in five genres: nothing to rank within a genre, so no choice
    assert report["selection"]["popularity_model"]["chosen"] is None
    honest = report["honest_models"]
    assert set(honest["cold_start"]) == {"linear_regression", "xgboost_tuned"}
    for entry in honest["cold_start"].values():
        assert entry["music_genre"]["n"] == 5 and entry["billboard"]["n"] == 6
    known = honest["known_artist"]["xgboost_monotone"]
    assert 0 < known["music_genre"]["n"] <= 5 and 0 < known["billboard"]["n"] <= 6
    by_album = report["known_artist_by_album"]
    assert by_album["by_album"]["album_seen_in_training"] <= 1
    assert by_album["by_song"]["all"]["n"] == by_album["by_album"]["all"]["n"]


def test_two_transfer_builds_write_the_same_bytes(built, tmp_path):
    _, out = built
    again = tmp_path / "transfer.json"
    _build(again)
    assert again.read_bytes() == out.read_bytes()


# --- the committed artifact ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def committed() -> dict:
    path = paths.transfer_file()
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make transfer`")
    return json.loads(path.read_text())


def test_the_committed_comparison_covers_every_recipe_and_measure(committed):
    assert [e["name"] for e in committed["candidates"]] == [c.name for c in CANDIDATES]
    for role, spec in ROLES.items():
        measures = [r["measure"] for r in committed["agreement"][role]["measures"]]
        assert measures == list(spec["in_data"])
        assert set(measures) | {spec["external"]} <= set(TRANSFER_MEASURE_LABELS)


def test_the_committed_choice_follows_from_its_own_scores(committed):
    for role in ROLES:
        assert committed["selection"][role]["chosen"] in RECIPE_LABELS
    agreement = agreement_report(committed["candidates"])
    # recomputed from the stored (six-decimal) scores: equal up to that rounding
    _assert_close(select(committed["candidates"], agreement), committed["selection"])
    _assert_close(agreement, committed["agreement"])


def test_the_published_popularity_model_is_the_chosen_recipe_as_the_comparison_scored_it(
        committed):
    """The new-artist champion follows the recipe the rule chose, with the parameters the
    comparison used, so its scores on the crawls (``external.json``, computed from the loaded
    champion) are the comparison's for that recipe."""
    from analysis.external import external_metrics, load_external
    from analysis.models import champion_entry, load_metrics

    metrics = load_metrics()
    chosen = committed["selection"]["popularity_model"]["chosen"]
    champion = champion_entry(metrics, "cold_start")
    assert champion["popularity_model"]["recipe"] == chosen == TRANSFER_RECIPE.name
    assert champion["params"] == committed["parameters"]["regressor"]
    scores = next(e for e in committed["candidates"] if e["name"] == chosen)["scores"]
    external = load_external()
    for name, keys in (("music_genre", ("spearman", "spearman_within_genre", "r2", "mae")),
                       ("billboard", ("prediction_auc", "prediction_top_decile_precision"))):
        published = external_metrics(external, name)
        for key in keys:
            assert published[key] == pytest.approx(scores[name][key], abs=1e-5), (name, key)


def _assert_close(a, b, path="") -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _assert_close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, abs=1e-5), path
    else:
        assert a == b, path


@pytest.mark.slow
def test_rebuilding_a_recipe_from_the_real_files_gives_the_committed_scores(track_data, tmp_path):
    """One recipe, one honest model and the album folds on the verified crawls (about five
    minutes; the whole comparison takes most of an hour): the same numbers as the commit."""
    if not paths.SHARED_EXTERNAL_DIR.is_dir():
        pytest.skip("no shared copy of the external crawls here")
    committed = json.loads(paths.transfer_file().read_text())
    rebuilt = build_transfer(external_dir=paths.SHARED_EXTERNAL_DIR, data=track_data,
                             download=False, out=tmp_path / "transfer.json",
                             recipes=(candidate(CURRENT_RECIPE),),
                             models={"cold_start": ["linear_regression"]}, log=lambda _: None)
    assert rebuilt["candidates"][0] == committed["candidates"][0], (
        "models/transfer.json is stale: run `make transfer` and commit it")
    assert rebuilt["honest_models"]["cold_start"]["linear_regression"] == (
        committed["honest_models"]["cold_start"]["linear_regression"])
    assert rebuilt["known_artist_by_album"] == committed["known_artist_by_album"]
    assert rebuilt["training_data_sha256"] == committed["training_data_sha256"]
