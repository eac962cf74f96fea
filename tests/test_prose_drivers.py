"""Tests for analysis.prose.drivers: the Drivers chapter's words, from the committed
explanations (models/shap/, read in milliseconds; nothing is trained here).

Every word the numbers choose is checked both ways on edited facts.
"""

from __future__ import annotations

import copy

import pytest

from analysis.labels import driver_name
from analysis.prose import drivers as prose


@pytest.fixture(scope="module")
def explanations():
    from analysis.explain import load_explanations

    return load_explanations()


@pytest.fixture(scope="module")
def facts(explanations):
    return prose.facts(explanations)


SENTENCES = ("answer", "sample_note", "checks", "importance_reading", "beeswarm_reading",
             "dependence_reading", "interaction_table", "pair_reading", "macro_genre_reading",
             "history_reading", "summary")


@pytest.mark.parametrize("name", SENTENCES)
def test_every_sentence_renders_from_the_facts(facts, name):
    text = getattr(prose, name)(facts)
    assert text and "nan" not in text.lower() and "{" not in text


def test_sentences_quote_the_artifacts(explanations, facts):
    history = explanations.summary["protocols"]["known_artist"]["artist_history"]
    answer = prose.answer(facts)
    assert f"{history['shap_share_history']:.0%}" in answer
    assert f"{history['r2_with_history']:.2f}" in answer
    assert f"{explanations.summary['sample']['tracks']:,} tracks" in prose.sample_note(facts)
    assert "the three history columns" in prose.history_reading(facts)
    assert prose.summary(facts).count("\n- ") == 2


def test_pair_strength_is_a_weighted_mean_of_the_pair(explanations):
    interaction, own = prose.pair_strength(explanations, "cold_start")
    assert 0 < interaction < own


@pytest.mark.parametrize("with_history, without, answer, summary", [
    (0.64, 0.51, "removing it lowers R²", "fold falls from 0.64 to 0.51"),
    (0.51, 0.64, "removing it raises R²", "fold rises from 0.51 to 0.64"),
])
def test_history_direction_follows_the_sign(facts, with_history, without, answer, summary):
    edited = copy.deepcopy(facts)
    edited["history"].update(r2_with_history=with_history, r2_without_history=without)
    assert answer in prose.answer(edited)
    assert summary in prose.summary(edited)


@pytest.mark.parametrize("drop, words", [(0.13, "a drop of 0.13"), (-0.05, "a gain of 0.05")])
def test_history_change_is_a_drop_or_a_gain(facts, drop, words):
    edited = copy.deepcopy(facts)
    edited["history"]["r2_drop_without_history"] = drop
    assert words in prose.history_reading(edited)


@pytest.mark.parametrize("correlation, word", [(0.81, "agree"), (-0.2, "disagree")])
def test_rankings_agree_or_disagree_by_sign(facts, correlation, word):
    edited = copy.deepcopy(facts)
    for section in edited["importance"].values():
        section["rank_correlation"] = correlation
    assert f"the two rankings {word} with a Spearman" in prose.importance_reading(edited)
    assert f"permutation rankings {word} (Spearman" in prose.summary(edited)


def test_importance_reading_quotes_the_sound_share_the_front_page_links_to(facts, explanations):
    from analysis.prose._artifacts import importance, is_audio

    text = prose.importance_reading(facts)
    for protocol in ("known_artist", "cold_start"):
        table = importance(explanations, protocol)
        share = facts["importance"][protocol]["audio_share"]
        assert share == pytest.approx(table.loc[table["group"].map(is_audio), "share"].sum())
        assert f"together carry {share:.0%} of that total" in text
    assert 0 < facts["importance"]["cold_start"]["audio_share"] < 1


@pytest.mark.parametrize("push, words", [
    ([("energy", 0.5)], "higher energy (ρ = +0.50) push predictions up"),
    ([("energy", -0.5)], "higher energy (ρ = −0.50) push predictions down"),
    ([("energy", 0.5), ("tempo", -0.4)],
     "push predictions up; higher tempo (ρ = −0.40) push them down"),
    ([], "no top driver moves predictions in one direction only"),
])
def test_beeswarm_direction_follows_each_correlations_sign(facts, push, words):
    edited = {**facts, "push": push}
    assert words in prose.beeswarm_reading(edited)
    assert f"|ρ| ≥ {prose.MIN_RHO}" in prose.beeswarm_reading(edited)


@pytest.mark.parametrize("low, high, words", [(-0.04, 0.26, "energy 0.0 → +0.3"),
                                              (0.5, -0.5, "energy +0.5 → −0.5")])
def test_dependence_quarters_are_signed(facts, low, high, words):
    edited = copy.deepcopy(facts)
    edited["dependence"]["quarters"] = [("energy", low, high)]
    edited["dependence"]["partners"] = ["genre"]
    text = prose.dependence_reading(edited)
    assert words in text and f"All 1 interact most with {driver_name('genre')}" in text


def test_pair_reading_names_the_partner(facts):
    pair = facts["pair"]
    edited = {**facts, "pair": {**pair, "partner": pair["b"]}}
    assert f", and {pair['b']} is {pair['a']}'s strongest partner." in prose.pair_reading(edited)
    far = {**facts, "pair": {**pair, "partner": "genre",
                             "partner_interaction": 10 * pair["interaction"]}}
    assert "depends far more on the primary genre" in prose.pair_reading(far)
    near = {**facts, "pair": {**pair, "partner": "genre",
                              "partner_interaction": 1.5 * pair["interaction"]}}
    assert "depends more on the primary genre" in prose.pair_reading(near)


@pytest.mark.parametrize("ok, words", [(True, "reproduces the committed"), (False, "WARNING")])
def test_checks_flag_a_refit_that_differs(facts, ok, words):
    edited = copy.deepcopy(facts)
    for check in edited["checks"].values():
        check.update(refit={"max_abs_diff": 0.004, "r2_refit": 0.5, "r2_committed": 0.5},
                     refit_ok=ok)
    assert words in prose.checks(edited)
    assert f"stored to {prose.OOF_STEP}" in prose.checks(edited) or not ok
