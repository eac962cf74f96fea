"""analysis.prose.modeling: the Modeling chapter's tables and sentences, on a real tiny build.

Reads the committed tiny build (``tests/fixtures/tiny_models``); the sentences the chapter
prints from the committed real build are checked by nbval and ``test_prose_numbers.py``.
"""

from __future__ import annotations

import copy

import pytest
from _tiny_models import TINY_MODELS_DIR

from analysis.models import (
    COVERAGE_TOLERANCE,
    interval_entry,
    load_metrics,
    model_names,
    triage_metric,
)
from analysis.prose import modeling as modeling_prose

HONEST = ("known_artist", "cold_start")


@pytest.fixture(scope="module")
def tiny():
    return load_metrics(TINY_MODELS_DIR)


def test_comparison_table_has_a_row_per_protocol_and_model(tiny):
    table = modeling_prose.comparison_table(tiny)
    assert table["protocol"].str.contains("LEAKY").any()
    assert len(table) == sum(len(model_names(tiny, p)) for p in ("seed_replica", *HONEST))


def test_triage_table_and_sentence_quote_the_hit_classifier(tiny):
    table = modeling_prose.triage_table(tiny)
    assert len(table) == 4 and table["model"].str.contains("hit classifier").sum() == 2
    text = modeling_prose.describe_triage(tiny)
    for protocol in HONEST:
        assert f"{triage_metric(tiny, protocol, 'hit_auc'):.3f}" in text


def test_targets_table_reports_each_protocols_worst_macro_genre_coverage(tiny):
    table = modeling_prose.targets_table(tiny)
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
    table = modeling_prose.targets_table(without).set_index("protocol")
    assert table.loc["seed_replica", "met"] == "not run"
    assert "Random Forest" in modeling_prose.describe_random_forest_cost(tiny)


def test_every_chapter_sentence_reads_from_a_tiny_build(tiny):
    for name in ("describe_answer", "describe_leak", "describe_original_difference",
                 "describe_comparison", "describe_attempts", "describe_errors",
                 "describe_intervals", "describe_overlap", "describe_sampling_artefacts",
                 "describe_summary", "describe_album_check"):
        assert getattr(modeling_prose, name)(tiny).strip(), name
