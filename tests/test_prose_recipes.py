"""Tests for analysis.prose.modeling_recipes: the section "Which recipe would transfer?" quotes
models/transfer.json, and every word a number decides follows it."""

from __future__ import annotations

import copy

import pytest

from analysis.labels import RECIPE_LABELS, TRANSFER_MEASURE_LABELS
from analysis.prose import modeling, modeling_recipes


@pytest.fixture(scope="module")
def transfer():
    from analysis.external.transfer_artifact import load_transfer

    return load_transfer()


@pytest.fixture(scope="module")
def f(transfer):
    from analysis.external import load_external
    from analysis.models import load_metrics

    return {"recipes": modeling_recipes.recipe_facts(transfer, load_external(), load_metrics())}


SENTENCES = ("recipes_intro", "recipes_agreement", "recipes_rule", "recipes_outcome",
             "recipes_known_by_album", "recipes_honest_models")


@pytest.mark.parametrize("name", SENTENCES)
def test_every_sentence_renders_from_the_artifact(f, name):
    text = getattr(modeling, name)(f)
    assert text and "nan" not in text.lower() and "{" not in text and "None" not in text


def test_the_agreement_quotes_the_pooled_and_the_best_measure(f, transfer):
    from analysis.external.transfer_artifact import agreement

    text = modeling.recipes_agreement(f)
    report = agreement(transfer, "popularity_model")
    pooled = next(r for r in report["measures"] if r["measure"] == "in_data.spearman")
    assert f"{pooled['rank_correlation']:+.2f}".replace("-", "−") in text
    assert TRANSFER_MEASURE_LABELS[report["best_ranker"]].lower() in text.lower()
    assert TRANSFER_MEASURE_LABELS[report["closest"]].lower() in text.lower()


def test_the_words_follow_the_signs(f):
    g = copy.deepcopy(f)
    pop = g["recipes"]["agreement"]["popularity_model"]
    pop["pooled"]["rank_correlation"] = -0.4
    assert modeling_recipes.POOLED_AGAINST in modeling.recipes_agreement(g)
    pop["pooled"]["rank_correlation"] = 0.8
    assert modeling_recipes.POOLED_WITH in modeling.recipes_agreement(g)
    pop["ranker"]["rank_correlation"] = 0.9
    assert modeling_recipes.RANKER_ENOUGH in modeling.recipes_agreement(g)
    pop["ranker"]["rank_correlation"] = 0.1
    assert "short of" in modeling.recipes_agreement(g)


def test_the_outcome_says_which_published_model_follows_its_recipe(f):
    text = modeling.recipes_outcome(f)
    s = f["recipes"]["selection"]
    assert RECIPE_LABELS[s["popularity_model"]["chosen"]].lower() in text
    assert RECIPE_LABELS[s["hit_classifier"]["chosen"]].lower() in text
    follows = f["recipes"]["follows"]
    assert modeling_recipes.PUBLISHED[follows["popularity_model"],
                                      follows["hit_classifier"]] in text
    g = copy.deepcopy(f)
    for pop in (True, False):
        for hit in (True, False):
            g["recipes"]["follows"] = {"popularity_model": pop, "hit_classifier": hit}
            assert modeling_recipes.PUBLISHED[pop, hit] in modeling.recipes_outcome(g)
    assert len(set(modeling_recipes.PUBLISHED.values())) == 4


def test_the_published_models_are_matched_to_their_recipes(f):
    from analysis.external.candidates import hit_classifier_recipe
    from analysis.models import champion_entry, load_metrics, triage_entry
    from analysis.models.recipes import TRANSFER_RECIPE
    from analysis.models.settings import HIT_CLASSIFIER_BLANKED

    metrics = load_metrics()
    blanked = triage_entry(metrics, "cold_start")["blanked_inputs"]
    assert tuple(blanked) == HIT_CLASSIFIER_BLANKED["cold_start"]
    recipe = champion_entry(metrics, "cold_start")["popularity_model"]["recipe"]
    assert recipe == TRANSFER_RECIPE.name
    s = f["recipes"]["selection"]
    assert f["recipes"]["follows"] == {
        "popularity_model": s["popularity_model"]["chosen"] == recipe,
        "hit_classifier": s["hit_classifier"]["chosen"] == hit_classifier_recipe(blanked)}
    # this build publishes what the rule chose, for both models
    assert f["recipes"]["follows"] == {"popularity_model": True, "hit_classifier": True}


def test_the_rule_is_the_artifacts(f, transfer):
    from analysis.external.transfer_artifact import selection_rule

    text = modeling.recipes_rule(f)
    assert all(sentence in text for sentence in selection_rule(transfer))


def test_tables_have_a_row_per_recipe_measure_and_model(f, transfer):
    from analysis.external.transfer_artifact import candidate_entries

    assert len(modeling.recipes_table(f)) == len(candidate_entries(transfer))
    assert len(modeling.recipes_agreement_table(f)) == len(
        f["recipes"]["agreement"]["popularity_model"]["rows"])
    honest = modeling.recipes_honest_table(f)
    assert len(honest) == len(f["recipes"]["honest"])
    assert "–" not in set(honest.iloc[:, -1])  # every model is scored on Billboard


def test_the_recipe_chart_has_a_point_per_recipe_in_each_panel(transfer):
    from analysis.external.transfer_artifact import candidate_entries
    from analysis.plots import plot_recipe_transfer

    fig = plot_recipe_transfer(transfer)
    per_panel = sum(len(trace.x) for trace in fig.data) / 2
    assert per_panel == len(candidate_entries(transfer))
