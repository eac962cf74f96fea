"""analysis.models.scoring: metrics of one set of predictions and fold summaries."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.models.scoring import score_hit_probabilities, score_predictions, summarise_folds


def test_score_predictions_on_a_known_case():
    y = np.array([0, 20, 40, 60, 80, 100.0])
    m = score_predictions(y, y)
    assert m["mae"] == 0 and m["r2"] == 1 and m["hit_auc"] == 1 and m["spearman"] == 1
    assert m["top1_precision"] == 1.0  # the single top track is a hit
    flat = score_predictions(y, np.full(6, 50.0))
    assert flat["hit_auc"] == 0.5 and np.isnan(flat["spearman"])


def test_hit_probabilities_without_both_classes_have_no_auc():
    m = score_hit_probabilities(np.array([10, 20, 30.0]), np.array([0.1, 0.2, 0.3]))
    assert np.isnan(m["hit_auc"]) and m["hit_rate"] == 0.0


def test_fold_summary_leaves_non_finite_folds_out_of_the_mean():
    summary = summarise_folds([{"hit_auc": 0.8}, {"hit_auc": float("nan")}, {"hit_auc": 0.6}])
    assert summary["hit_auc"]["mean"] == pytest.approx(0.7)
    assert len(summary["hit_auc"]["folds"]) == 3
    assert summarise_folds([{"r2": 0.5}])["r2"]["sd"] is None
