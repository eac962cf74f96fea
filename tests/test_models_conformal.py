"""analysis.models.conformal: Mondrian split-conformal offsets and their coverage."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.models import CONFIDENCE_LEVELS
from analysis.models.conformal import apply_offsets, conformal_offsets, coverage


def test_conformal_offsets_cover_per_stratum():
    rng = np.random.default_rng(1)
    n = 4000
    strata = np.where(np.arange(n) % 2 == 0, "narrow", "wide")
    noise = np.where(strata == "narrow", 2.0, 12.0)
    pred = rng.uniform(20, 80, 2 * n)
    y = pred + rng.normal(0, 1, 2 * n) * np.tile(noise, 2)
    offsets = conformal_offsets(pred[:n], y[:n], strata)
    for level in CONFIDENCE_LEVELS:
        lower, upper = apply_offsets(pred[n:], strata, offsets, level)
        inside = (y[n:] >= lower) & (y[n:] <= upper)
        for stratum in ("narrow", "wide"):
            mask = strata == stratum
            assert inside[mask].mean() == pytest.approx(level, abs=0.03)


def test_tiny_strata_borrow_the_global_offset():
    pred = np.arange(40.0)
    offsets = conformal_offsets(pred, pred + 1, np.array(["big"] * 32 + ["tiny"] * 8))
    assert offsets["fallback_to_global"] == {"tiny": ["0.9"]}
    assert offsets["by_stratum"]["tiny"]["0.9"] == offsets["global"]["0.9"]


def test_coverage_is_reported_per_macro_genre_in_taxonomy_order():
    y = np.array([10.0, 50.0, 90.0, 30.0])
    strata = np.array(["Rock", "Pop", "Pop", "Rock"])
    out = coverage(y, y - 5, y + 5, strata)
    assert out["coverage"] == 1.0 and out["mean_width"] == 10.0
    assert list(out["by_macro_genre"]) == ["Pop", "Rock"]
    assert out["by_macro_genre"]["Rock"]["n"] == 2
