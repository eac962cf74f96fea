"""Tests for the Data chapter's chart (analysis.plots.data)."""

from __future__ import annotations

from analysis import plots
from analysis.cleaning import BUCKETS


def test_funnel_goes_from_input_rows_to_tracks_in_neutral_grey():
    summary = {"input_rows": 100, "buckets": dict(zip(BUCKETS, [70, 20, 8, 2], strict=True))}
    fig = plots.plot_cleaning_funnel(summary)
    (funnel,) = fig.data
    assert list(funnel.x) == sorted(funnel.x, reverse=True)
    assert funnel.x[0] == 100 and funnel.x[-1] == summary["buckets"][BUCKETS[0]]
    assert funnel.marker.color == plots.NEUTRAL_COLOR
