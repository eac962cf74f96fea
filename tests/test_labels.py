"""analysis.labels: the names readers see, each written once and consistent with the code."""

from __future__ import annotations

from analysis import labels
from analysis.models import HIT_CLASSIFIER, HIT_THRESHOLD, MODEL_NAMES


def test_every_model_has_a_label_and_the_hit_label_quotes_the_threshold():
    assert set(labels.MODEL_LABELS) == {*MODEL_NAMES, HIT_CLASSIFIER}
    assert labels.MODEL_LABELS[HIT_CLASSIFIER].endswith(f"(popularity >= {HIT_THRESHOLD})")
