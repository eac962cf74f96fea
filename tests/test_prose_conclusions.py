"""Tests for analysis.prose.conclusions: the Conclusions' words, from a hand-built metrics.json,
the committed explanations and a cleaning summary."""

from __future__ import annotations

import copy

import pytest
from _prose_artifacts import CLEANING_SUMMARY, synthetic_metrics

from analysis.prose import conclusions as prose


@pytest.fixture(scope="module")
def explanations():
    from analysis.explain import load_explanations

    return load_explanations()


@pytest.fixture
def facts(explanations):
    return prose.facts(synthetic_metrics(), explanations, CLEANING_SUMMARY)


def test_sentences_quote_the_artifacts(facts):
    assert "0.66 ± 0.01" in prose.answer(facts)
    table = prose.predictable_table(facts)
    assert table.count("\n") == 3 and "0.35 ± 0.01" in table and "top-1% precision" in table
    failing = prose.unpredictable_findings(facts)
    assert "20.0 points" in failing and "30%" in failing and "new-artist model" in failing
    assert "720 tracks" in prose.drift_caveat(facts)
    usage = prose.interval_usage(facts)
    assert "80% interval covers 80.1%" in usage and "90% interval covers 90.2%" in usage
    assert usage.startswith("Measured out of fold for the new-artist model")
    leak = prose.leak_table(facts)
    assert "| Random Forest (300 trees) | 0.801 | 0.789 | – | – |" in leak
    assert "21%" in prose.leak_lesson(facts)
    assert "0.79" in prose.summary(facts)


def test_triage_numbers_come_from_the_hit_classifier(facts):
    # regressors rank hits at 0.86 / 55%; classifiers: new artist 0.91 / 72%, known 0.93 / 81%
    assert "0.93 ± 0.01" in prose.predictable_table(facts)
    assert "ROC-AUC 0.91" in prose.answer(facts)
    assert "0.91 ± 0.01" in prose.predictable_table(facts)


@pytest.mark.parametrize("replica, word", [(0.79, "lower"), (0.5, "not lower")])
def test_honest_numbers_are_lower_only_when_they_are(facts, replica, word):
    edited = {**facts, "replica": replica}
    assert f"**Honest numbers are {word}.**" in prose.summary(edited)


def test_without_intervals_or_errors_the_sentences_step_aside(facts):
    edited = copy.deepcopy(facts)
    edited["intervals"], edited["errors"] = [], {"zero": None}
    assert prose.interval_usage(edited) == ""
    assert prose.unpredictable_findings(edited) == "- " + prose.NEXT_HIT


def test_triage_trust_quotes_out_of_fold_figures(facts):
    metrics = synthetic_metrics()
    text = prose.triage_trust(facts, metrics)
    auc = metrics["protocols"]["cold_start"]["triage"]["metrics"]["hit_auc"]["mean"]
    assert f"ROC-AUC {auc:.2f}" in text and f"{auc:.0%} of the time" in text
    assert "top-1% shortlist" in text and "out of fold" in text


def test_triage_section_reads_a_result():
    import pandas as pd

    from analysis.triage import make_catalogue, triage

    result = triage(make_catalogue(12), shortlist=prose.TRIAGE_SHORTLIST)
    sentence = prose.triage_read(result)
    assert sentence.startswith("Of the 12 tracks read, 12 passed the checks and 0 were rejected")
    table = prose.triage_table(result)
    assert list(table.columns) == ["rank", "track", "artists", "genre", "hit probability",
                                   "predicted popularity", "80% interval", "main reason"]
    assert len(table) == prose.TRIAGE_SHORTLIST and isinstance(table, pd.DataFrame)
