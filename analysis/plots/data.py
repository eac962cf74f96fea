"""Charts of the Data chapter (chapters/01-data): where the rows of the raw file go."""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.plots.style import _GRID_COLOR, NEUTRAL_COLOR

__all__ = ["plot_cleaning_funnel"]


def plot_cleaning_funnel(summary: dict) -> go.Figure:
    """Rows remaining after each cleaning step, from all input rows down to tracks.

    Parameters
    ----------
    summary : dict
        :attr:`analysis.data.TrackData.summary` (needs ``input_rows`` and ``buckets``).

    Examples
    --------
    >>> from analysis.cleaning import BUCKETS
    >>> s = {"input_rows": 10, "buckets": dict(zip(BUCKETS, [6, 3, 0, 1]))}
    >>> list(plot_cleaning_funnel(s).data[0].x)
    [10, 9, 9, 6]
    """
    from analysis.cleaning import DROPPED_MISSING, MERGED_OTHER_GENRE, MERGED_SAME_GENRE

    buckets = summary["buckets"]
    steps = [
        ("All input rows", summary["input_rows"]),
        ("With artist and title", summary["input_rows"] - buckets[DROPPED_MISSING]),
        ("One listing per genre", None),
        ("One row per track", None),
    ]
    steps[2] = (steps[2][0], steps[1][1] - buckets[MERGED_SAME_GENRE])
    steps[3] = (steps[3][0], steps[2][1] - buckets[MERGED_OTHER_GENRE])
    fig = go.Figure(
        go.Funnel(
            y=[label for label, _ in steps],
            x=[count for _, count in steps],
            textinfo="value+percent initial",
            texttemplate="%{value:,} (%{percentInitial:.1%})",
            marker=dict(color=NEUTRAL_COLOR),
            connector=dict(fillcolor=_GRID_COLOR),
            hovertemplate="%{y}: %{x:,} rows<extra></extra>",
        )
    )
    fig.update_layout(
        title="From genre listings to tracks",
        height=360,
        xaxis_title="Rows",
        yaxis=dict(showgrid=False),
    )
    return fig
