"""Tests for analysis.prose.modeling: the Modeling chapter's words, from the committed
metrics.json and feature ladder (read in milliseconds; nothing is trained here).

Every word a sign chooses is checked both ways on edited facts.
"""

from __future__ import annotations

import copy

import pytest

from analysis.models import HIT_THRESHOLD, POPULARITY_BANDS, TOP_SHARE
from analysis.models.blanking import BLANKED_SHARE
from analysis.prose import modeling as prose


@pytest.fixture(scope="module")
def metrics():
    from analysis.models import load_metrics

    return load_metrics()


@pytest.fixture(scope="module")
def facts(metrics):
    from analysis.explain import load_explanations

    return prose.facts(metrics, load_explanations())


SENTENCES = ("answer", "leak", "original_difference", "comparison", "attempts", "triage",
             "forest_cost", "errors", "intervals", "overlap", "sampling_artefacts", "summary",
             "album_check", "ladder")


@pytest.mark.parametrize("name", SENTENCES)
def test_every_sentence_renders_from_the_facts(facts, name):
    text = getattr(prose, name)(facts)
    assert text and "nan" not in text.lower() and "{" not in text


def test_sentences_quote_metrics_json(metrics, facts):
    known = metrics["protocols"]["known_artist"]["models"]["xgboost_tuned"]["metrics"]
    assert f"R² {known['r2']['mean']:.2f}" in prose.answer(facts)
    for protocol in ("known_artist", "cold_start"):
        auc = metrics["protocols"][protocol]["triage"]["metrics"]["hit_auc"]["mean"]
        assert f"{auc:.3f}" in prose.triage(facts)
    assert f"popularity ≥ {HIT_THRESHOLD}" in prose.triage(facts)
    assert f"among the top {TOP_SHARE:.0%} it shortlists" in prose.triage(facts)
    assert "Adding the three sampling counts" in prose.sampling_artefacts(facts)
    assert prose.summary(facts).startswith("1. **The published")


def test_triage_says_which_classifier_learned_with_blanked_inputs(facts):
    text = prose.triage(facts)
    assert (f"genre, album name, explicit flag and time signature blanked on "
            f"{BLANKED_SHARE:.0%}") in text
    assert text.count("blanked on") == sum(bool(t["blanked"]) for t in facts["triage"].values())
    edited = copy.deepcopy(facts)
    for entry in edited["triage"].values():
        entry["blanked"] = []
    assert "blanked" not in prose.triage(edited)


def test_tables_name_the_shortlist_from_its_constant(metrics):
    header = f"Top-{TOP_SHARE:.0%} precision"
    assert header in prose.comparison_table(metrics).columns
    assert header in prose.triage_table(metrics).columns
    targets = prose.targets_table(metrics)
    assert f"within {prose.REPLICA_TOLERANCE:g} of 0.801" in targets["target"].tolist()


@pytest.mark.parametrize("gain, words", [
    (0.012, "adds +0.012 R² over XGBoost's defaults"),
    (-0.004, "costs 0.004 R² against XGBoost's defaults"),
])
def test_tuning_adds_or_costs(facts, gain, words):
    edited = copy.deepcopy(facts)
    for protocol in edited["comparison"]["by_protocol"].values():
        protocol["tuning_gain"] = gain
    assert words in prose.comparison(edited)


@pytest.mark.parametrize("bias, words", [(-38.7, "are under-predicted by 38.7 points"),
                                         (4.2, "are over-predicted by 4.2 points")])
def test_hits_are_under_or_over_predicted(facts, bias, words):
    label, low, end = POPULARITY_BANDS[-1]
    edited = copy.deepcopy(facts)
    for analysis in edited["errors"].values():
        analysis["by_popularity_band"][label]["bias"] = bias
    text = prose.errors(edited)
    assert f"Hits ({low}–{end - 1}) {words} on average" in text


@pytest.mark.parametrize("base, counts, full, words", [
    (0.48, 0.6, 0.7, ("lifts new-artist R² from 0.480 to 0.600", "lifts it to 0.700")),
    (0.48, 0.4, 0.3, ("lowers new-artist R² from 0.480 to 0.400", "lowers it to 0.300")),
])
def test_artefacts_lift_or_lower(facts, base, counts, full, words):
    edited = copy.deepcopy(facts)
    edited["artefacts"].update(base=base, counts=counts, full=full)
    text = prose.sampling_artefacts(edited)
    assert all(w in text for w in words)


@pytest.mark.parametrize("known_mae, known_auc, words", [
    (7.0, 0.95, ("history cuts the error", "lifts the hit classifier's ROC-AUC")),
    (12.0, 0.70, ("history raises the error", "lowers the hit classifier's ROC-AUC")),
])
def test_summary_verbs_follow_the_signs(facts, known_mae, known_auc, words):
    edited = copy.deepcopy(facts)
    edited["tuned"]["known_artist"]["mae"] = known_mae
    edited["triage"]["known_artist"]["classifier"]["hit_auc"] = known_auc
    text = prose.summary(edited)
    assert all(w in text for w in words)


@pytest.mark.parametrize("classifier_auc, words", [
    (0.99, "ranks them better than the popularity model, which"),
    (0.10, "does not rank them better than the popularity model everywhere"),
])
def test_triage_verdict_follows_the_gains(facts, classifier_auc, words):
    edited = copy.deepcopy(facts)
    edited["triage"]["cold_start"]["classifier"]["hit_auc"] = classifier_auc
    assert words in prose.triage(edited)


@pytest.mark.parametrize("unchanged, words", [(True, "no trial beat the starting slope"),
                                              (False, "the tuner set the slope between")])
def test_huber_slope_sentence(facts, unchanged, words):
    edited = copy.deepcopy(facts)
    edited["comparison"]["slope_unchanged"] = unchanged
    assert words in prose.comparison(edited)


def test_forest_cost_without_forests(facts):
    edited = copy.deepcopy(facts)
    edited["forest_cost"]["forests"] = {}
    assert prose.forest_cost(edited) == prose.NO_FOREST


def test_facts_need_no_explanations_except_for_the_ladder(metrics):
    facts = prose.facts(metrics)
    assert facts["ladder"] is None and prose.answer(facts)


# --- the tables and sentences on the committed tiny build (tests/fixtures/tiny_models) ----------

HONEST = ("known_artist", "cold_start")


@pytest.fixture(scope="module")
def tiny():
    from _tiny_models import TINY_MODELS_DIR

    from analysis.models import load_metrics

    return load_metrics(TINY_MODELS_DIR)


def test_comparison_table_has_a_row_per_protocol_and_model(tiny):
    from analysis.models import model_names

    table = prose.comparison_table(tiny)
    assert table["protocol"].str.contains("LEAKY").any()
    assert len(table) == sum(len(model_names(tiny, p)) for p in ("seed_replica", *HONEST))


def test_triage_table_and_sentence_quote_the_hit_classifier(tiny):
    from analysis.models import triage_metric

    table = prose.triage_table(tiny)
    assert len(table) == 4 and table["model"].str.contains("hit classifier").sum() == 2
    text = prose.triage(prose.facts(tiny))
    for protocol in HONEST:
        assert f"{triage_metric(tiny, protocol, 'hit_auc'):.3f}" in text


def test_targets_table_reports_each_protocols_worst_macro_genre_coverage(tiny):
    from analysis.models import COVERAGE_TOLERANCE, interval_entry

    table = prose.targets_table(tiny)
    rows = table[table["metric"].str.startswith("interval coverage")].set_index("protocol")
    assert sorted(rows.index) == ["cold_start", "known_artist"]
    for protocol, row in rows.iterrows():
        gaps = [abs(v["coverage"] - level) for level in (0.8, 0.9)
                for v in interval_entry(tiny, protocol, level)["by_macro_genre"].values()]
        assert row["measured"] == f"{100 * max(gaps):.2f}"
        assert row["met"] == ("yes" if max(gaps) <= COVERAGE_TOLERANCE else "no")


def test_targets_table_says_not_run_without_the_replica_forest(tiny):
    without = copy.deepcopy(tiny)
    del without["protocols"]["seed_replica"]["models"]["random_forest"]
    table = prose.targets_table(without).set_index("protocol")
    assert table.loc["seed_replica", "met"] == "not run"
