"""Tests for analysis.prose.front: the front page's findings and the leak chart's bars."""

from __future__ import annotations

import copy

import pytest
from _prose_artifacts import CLEANING_SUMMARY, KRUSKAL, synthetic_metrics

from analysis.prose import front as prose


@pytest.fixture(scope="module")
def explanations():
    from analysis.explain import load_explanations

    return load_explanations()


@pytest.fixture
def facts(explanations):
    return prose.read_facts(CLEANING_SUMMARY, synthetic_metrics(), explanations, KRUSKAL)


def test_findings_are_numbered_linked_and_from_artifacts(facts):
    text = prose.findings(facts)
    lines = text.splitlines()
    assert 5 <= len(lines) <= 7
    assert all(line.startswith(f"{i}. ") for i, line in enumerate(lines, start=1))
    assert all("](chapters/" in line for line in lines)
    for number in ("89,740", "0.80", "0.79", "0.66", "0.35", "0.91", "72%", "31%", "90%"):
        assert number in text, number


def test_triage_finding_quotes_the_hit_classifier_not_the_regressor(facts):
    # regressors rank hits at 0.86 / 55%; classifiers: new artist 0.91 / 72%, known 0.93 / 81%
    findings = prose.findings(facts)
    assert "ROC-AUC 0.91" in findings and "72%" in findings and "#sec-modeling-triage" in findings
    assert "0.86" not in findings and "0.93" not in findings and "81%" not in findings
    assert "(popularity ≥ 60)" in findings and "top-1% shortlist" in findings


def test_base_rate_is_quoted_when_known(explanations):
    facts = prose.read_facts(CLEANING_SUMMARY, synthetic_metrics(), explanations, KRUSKAL,
                             hit_share=0.07)
    assert "shortlist are hits, against 7% of all tracks" in prose.findings(facts)


@pytest.mark.parametrize("with_history, without, word", [(0.64, 0.51, "drops"),
                                                         (0.51, 0.64, "rises")])
def test_history_finding_direction_follows_the_sign(facts, with_history, without, word):
    edited = copy.deepcopy(facts)
    edited["history"].update(r2_with_history=with_history, r2_without_history=without)
    assert f"held-out fold {word} from {with_history:.2f}" in prose.findings(edited)


@pytest.mark.parametrize("audio_shap, headline", [(0.1, "catalogue metadata beats sound"),
                                                  (100.0, "sound matters as much as metadata")])
def test_new_artist_headline_follows_the_numbers(facts, audio_shap, headline):
    edited = {**facts, "first": "genre", "audio_shap": audio_shap}
    assert f"**For a new artist, {headline}.**" in prose.findings(edited)


def test_headline_bars_from_metrics():
    rows = prose.headline_r2(synthetic_metrics())
    assert rows["r2"].round(3).tolist() == [0.801, 0.789, 0.661, 0.347]
    assert "Random Forest (300 trees), leaky" in rows["label"].iloc[1]
    assert rows["label"].iloc[2].startswith("New track, known artist<br>")
    assert rows["leaky"].tolist() == [True, True, False, False]
