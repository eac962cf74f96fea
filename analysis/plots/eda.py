"""Charts of the EDA chapter (chapters/02-eda): popularity and the audio features.

Each takes a small aggregated frame from :mod:`analysis.moods`, never raw tracks, so a figure
carries hundreds of values, not 90,000.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.labels import feature_label
from analysis.plots.style import (
    _LINE_COLOR,
    EXPLICIT_COLORS,
    MIN_CHART_WIDTH,
    NEUTRAL_COLOR,
    ZERO_COLOR,
    _hex_to_rgba,
    _r,
    _set_min_width,
    _two_lines,
)

__all__ = [
    "plot_binned_means",
    "plot_correlation_heatmap",
    "plot_explicit",
    "plot_feature_distributions",
    "plot_mood_grid",
    "plot_popularity_by_feature",
    "plot_popularity_distribution",
]

#: Tick labels of the discrete audio features.
_DISCRETE_TICKS: dict[str, dict[int, str]] = {
    "key": dict(enumerate(["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"])),
    "mode": {0: "minor", 1: "major"},
    "time_signature": {},
}

#: Label every n-th value only: twelve pitch classes side by side in a small panel collide.
_TICK_STEP: dict[str, int] = {"key": 3}


def plot_popularity_distribution(counts: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Tracks per popularity value, with the zero bar set apart and labelled.

    Parameters
    ----------
    counts
        :func:`analysis.moods.popularity_counts` (``popularity``, ``n``, ``share``).
    """
    zero = counts["popularity"].eq(0)
    fig = go.Figure()
    fig.add_bar(
        x=counts.loc[~zero, "popularity"].tolist(), y=counts.loc[~zero, "n"].tolist(),
        name="popularity 1–100", marker_color=NEUTRAL_COLOR,
        customdata=_r(counts.loc[~zero, "share"] * 100, 2),
        hovertemplate="popularity %{x}: %{y:,} tracks (%{customdata}%)<extra></extra>",
    )
    n0, share0 = int(counts.loc[zero, "n"].sum()), float(counts.loc[zero, "share"].sum())
    fig.add_bar(
        x=[0], y=[n0], name="popularity 0", marker_color=ZERO_COLOR,
        hovertemplate=f"popularity 0: %{{y:,}} tracks ({share0:.1%})<extra></extra>",
    )
    fig.add_annotation(
        x=0, y=n0, text=f"{n0:,} tracks ({share0:.1%}) at 0", showarrow=True, arrowhead=0,
        ax=60, ay=-30, xanchor="left", font=dict(color=ZERO_COLOR),
    )
    fig.update_layout(
        title=title, bargap=0.05, showlegend=False,
        xaxis_title=feature_label("popularity"), yaxis_title="Tracks",
    )
    return fig


def _panel_title(feature: str) -> str:
    """A small-multiple's title: the feature, its unit on a second line, or no unit where the
    tick labels name the values (key, mode).

    Examples
    --------
    >>> _panel_title("tempo"), _panel_title("mode")
    ('Tempo<br>(BPM)', 'Mode')
    """
    if _DISCRETE_TICKS.get(feature):
        return feature_label(feature).split(" (")[0]
    return _two_lines(feature_label(feature))


def plot_feature_distributions(
    hist: pd.DataFrame, *, columns: int = 4, title: str | None = None
) -> go.Figure:
    """Small multiples: one histogram per audio feature (share of tracks per bin).

    Parameters
    ----------
    hist
        :func:`analysis.moods.feature_histograms` (long: ``feature, left, right, n, share``).
    """
    features = list(dict.fromkeys(hist["feature"]))
    rows = -(-len(features) // columns)
    fig = make_subplots(
        rows=rows, cols=columns, subplot_titles=[_panel_title(f) for f in features],
        horizontal_spacing=0.09, vertical_spacing=0.11,
    )
    for i, feature in enumerate(features):
        part = hist[hist["feature"].eq(feature)]
        centre = (part["left"] + part["right"]) / 2
        discrete = feature in _DISCRETE_TICKS or (part["right"] - part["left"]).eq(1).all()
        width = _r((part["right"] - part["left"]) * (0.8 if discrete else 1))
        cell = dict(row=i // columns + 1, col=i % columns + 1)
        fig.add_bar(
            x=_r(centre), y=_r(part["share"] * 100, 3), width=width,
            marker_color=NEUTRAL_COLOR, showlegend=False, name=feature,
            hovertemplate=f"{feature} %{{x}}: %{{y:.1f}}% of tracks<extra></extra>", **cell,
        )
        if discrete:
            values = [int(v) for v in centre][::_TICK_STEP.get(feature, 1)]
            names = _DISCRETE_TICKS.get(feature, {})
            fig.update_xaxes(tickvals=values, ticktext=[names.get(v, str(v)) for v in values],
                             showgrid=False, **cell)
    fig.update_annotations(font_size=13)
    fig.update_yaxes(ticksuffix="%")
    fig.update_layout(title=title, height=230 * rows + 80, bargap=0)
    return _set_min_width(fig, MIN_CHART_WIDTH)


#: The usual symbol of each correlation (the colour bar's title, on one line).
_CORRELATION_SYMBOL = {"Spearman": "ρ", "Pearson": "r"}


def plot_correlation_heatmap(
    spearman: pd.DataFrame, pearson: pd.DataFrame, *, title: str | None = None
) -> go.Figure:
    """Correlation matrix of popularity and the audio features; buttons switch Spearman/Pearson.

    Parameters
    ----------
    spearman, pearson
        Square frames from :func:`analysis.moods.correlation_matrix` with the same labels.
    """
    labels = [feature_label(c).split(" (")[0] for c in spearman.columns]
    fig = go.Figure()
    for method, matrix, visible in (("Spearman", spearman, True), ("Pearson", pearson, False)):
        z = [_r(row, 3) for row in matrix.to_numpy()]
        fig.add_heatmap(
            z=z, x=labels, y=labels, zmin=-1, zmax=1, zmid=0, colorscale="RdBu",
            texttemplate="%{z:.2f}", textfont_size=11, visible=visible, name=method,
            colorbar=dict(title=dict(text=f"{method} {_CORRELATION_SYMBOL[method]}",
                                     side="right")),
            hovertemplate=f"{method} ρ(%{{y}}, %{{x}}) = %{{z:.2f}}<extra></extra>",
        )
    fig.update_layout(
        title=title, height=640, yaxis_autorange="reversed", xaxis_tickangle=-40,
        xaxis_showgrid=False, yaxis_showgrid=False,
        updatemenus=[dict(
            type="buttons", direction="right", x=1, xanchor="right", y=1.1, yanchor="bottom",
            buttons=[
                dict(label=m, method="restyle",
                     args=[{"visible": [m == "Spearman", m == "Pearson"]}])
                for m in ("Spearman", "Pearson")
            ],
        )],
    )
    return _set_min_width(fig, MIN_CHART_WIDTH)


def _band_traces(part: pd.DataFrame, color: str, name: str, **where) -> list[go.Scatter]:
    """A mean line with its confidence band drawn as a filled polygon (one trace each)."""
    xs = _r(part["x"])
    band = go.Scatter(
        x=xs + xs[::-1], y=_r(part["upper"], 2) + _r(part["lower"], 2)[::-1],
        fill="toself", fillcolor=_hex_to_rgba(color, 0.2), line=dict(width=0),
        hoverinfo="skip", showlegend=False, name=f"{name} 95% CI",
    )
    line = go.Scatter(
        x=xs, y=_r(part["mean"], 2), mode="lines+markers", line=dict(color=color, width=2),
        marker=dict(size=5), name=name, showlegend=False,
        customdata=np.column_stack([part["n"], _r(part["lower"], 1), _r(part["upper"], 1)]),
        hovertemplate=("%{x:.3g}: mean popularity %{y:.1f} (95% CI %{customdata[1]}–"
                       "%{customdata[2]}, %{customdata[0]:,} tracks)<extra></extra>"),
    )
    return [band, line]


def plot_binned_means(
    binned: pd.DataFrame,
    *,
    x_label: str,
    overall_mean: float | None = None,
    color: str = NEUTRAL_COLOR,
    title: str | None = None,
) -> go.Figure:
    """Mean popularity per bin of one feature, with its 95% confidence band.

    Parameters
    ----------
    binned
        :func:`analysis.moods.binned_means` (``x, n, mean, lower, upper``).
    overall_mean
        Drawn as a dotted reference line when given.
    """
    fig = go.Figure(_band_traces(binned, color, "mean popularity"))
    if overall_mean is not None:
        fig.add_hline(y=overall_mean, line=dict(color=_LINE_COLOR, dash="dot"),
                      annotation_text=f"all tracks: {overall_mean:.1f}",
                      annotation_position="bottom right")
    fig.update_layout(title=title, xaxis_title=x_label,
                      yaxis_title="Mean popularity (0–100), 95% CI")
    return fig


def plot_popularity_by_feature(
    binned_long: pd.DataFrame,
    *,
    overall_mean: float | None = None,
    columns: int = 5,
    title: str | None = None,
) -> go.Figure:
    """Small multiples of :func:`plot_binned_means`, one panel per feature, shared y axis.

    Parameters
    ----------
    binned_long
        :func:`analysis.moods.binned_means_long` (``feature`` plus the binned-means columns).
    """
    features = list(dict.fromkeys(binned_long["feature"]))
    rows = -(-len(features) // columns)
    fig = make_subplots(
        rows=rows, cols=columns, shared_yaxes=True,
        subplot_titles=[_two_lines(feature_label(f)) for f in features],
        horizontal_spacing=0.03, vertical_spacing=0.16,
    )
    for i, feature in enumerate(features):
        part = binned_long[binned_long["feature"].eq(feature)]
        for trace in _band_traces(part, NEUTRAL_COLOR, feature):
            fig.add_trace(trace, row=i // columns + 1, col=i % columns + 1)
        if overall_mean is not None:
            fig.add_hline(y=overall_mean, line=dict(color=_LINE_COLOR, dash="dot", width=1),
                          row=i // columns + 1, col=i % columns + 1)
    fig.update_annotations(font_size=12)
    fig.update_yaxes(title_text="Mean popularity", col=1)
    fig.update_layout(title=title, height=300 * rows + 60)
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_mood_grid(grid: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Mean popularity over the valence × energy plane (2-D bins; sparse cells left blank).

    Parameters
    ----------
    grid
        :func:`analysis.moods.binned_grid` (long: ``x`` valence, ``y`` energy, ``n``, ``mean``).
    """
    xs, ys = sorted(grid["x"].unique()), sorted(grid["y"].unique())
    table = grid.pivot(index="y", columns="x", values="mean").reindex(index=ys, columns=xs)
    counts = grid.pivot(index="y", columns="x", values="n").reindex(index=ys, columns=xs)
    fig = go.Figure(go.Heatmap(
        x=_r(xs, 3), y=_r(ys, 3), z=[_r(row, 1) for row in table.to_numpy()],
        customdata=counts.to_numpy().astype(int).tolist(), colorscale="Viridis",
        colorbar=dict(title="Mean<br>popularity"), hoverongaps=False,
        hovertemplate=("valence %{x:.2f}, energy %{y:.2f}: mean popularity %{z:.1f} "
                       "(%{customdata:,} tracks)<extra></extra>"),
    ))
    fig.update_layout(
        title=title, height=560,
        xaxis=dict(title=feature_label("valence"), range=[0, 1], showgrid=False,
                   constrain="domain"),
        yaxis=dict(title=feature_label("energy"), range=[0, 1], showgrid=False,
                   scaleanchor="x", scaleratio=1, constrain="domain"),
    )
    return fig


def plot_explicit(
    table: pd.DataFrame, hist: pd.DataFrame, *, title: str | None = None
) -> go.Figure:
    """Explicit vs not: popularity distribution per group, and mean popularity with its 95% CI.

    Parameters
    ----------
    table
        ``compare_binary(...)["table"]`` (``explicit, n, mean, lower, upper``).
    hist
        :func:`analysis.moods.popularity_hist_by` (``bin, explicit, share``).
    """
    fig = make_subplots(rows=1, cols=2, column_widths=[0.72, 0.28], horizontal_spacing=0.1,
                         subplot_titles=["Share of tracks per popularity band",
                                         "Mean popularity<br>(95% CI)"])
    for level in (False, True):
        name = "explicit" if level else "not explicit"
        part = hist[hist["explicit"].eq(level)]
        fig.add_bar(x=part["bin"].tolist(), y=_r(part["share"] * 100, 2), name=name,
                    marker_color=EXPLICIT_COLORS[level], legendgroup=name,
                    hovertemplate=f"{name}, popularity %{{x}}: %{{y:.1f}}%<extra></extra>",
                    row=1, col=1)
        row = table[table["explicit"].eq(level)].iloc[0]
        fig.add_scatter(
            x=[name], y=[round(float(row["mean"]), 2)], mode="markers", showlegend=False,
            legendgroup=name, marker=dict(color=EXPLICIT_COLORS[level], size=12),
            error_y=dict(type="data", symmetric=False,
                         array=[round(float(row["upper"] - row["mean"]), 2)],
                         arrayminus=[round(float(row["mean"] - row["lower"]), 2)]),
            hovertemplate=(f"{name}: mean %{{y:.1f}} (95% CI {row['lower']:.1f}–"
                           f"{row['upper']:.1f}), {int(row['n']):,} tracks<extra></extra>"),
            row=1, col=2,
        )
    # Every other band named: twenty-one tilted names side by side run into each other.
    fig.update_xaxes(title_text=feature_label("popularity"), tickangle=-45, dtick=2, row=1,
                     col=1)
    fig.update_yaxes(title_text="Tracks in group (%)", ticksuffix="%", row=1, col=1)
    fig.update_yaxes(title_text="Mean popularity (0–100)", row=1, col=2)
    # The legend sits in the left panel's top right corner, where the bars are short (above
    # the panel it covered the panel's title).
    fig.update_layout(title=title, barmode="group", bargap=0.15,
                      legend=dict(x=fig.layout.xaxis.domain[1], xanchor="right", y=1,
                                  yanchor="top", bgcolor="rgba(255,255,255,0.85)"))
    return _set_min_width(fig, MIN_CHART_WIDTH)
