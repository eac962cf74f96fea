"""Charts of the Genre-moods chapter (chapters/03-genre-moods): macro-genres compared.

Each takes a small aggregated frame from :mod:`analysis.moods`, never raw tracks, and every
macro-genre wears its :data:`~analysis.plots.style.MACRO_GENRE_COLORS` colour.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.labels import feature_label
from analysis.plots.style import (
    _LINE_COLOR,
    _TEXT_COLOR,
    MACRO_GENRE_COLORS,
    MIN_CHART_WIDTH,
    NEUTRAL_COLOR,
    _hex_to_rgba,
    _r,
    _set_min_width,
    _two_lines,
)

__all__ = ["plot_effect_sizes", "plot_group_boxes", "plot_mood_map"]


def _box_trace(stats_row: pd.DataFrame, group: str, color: str, **kwargs) -> go.Box:
    """A horizontal box drawn from precomputed statistics (no raw points in the figure)."""
    return go.Box(
        y=[group], q1=_r(stats_row["q1"]), median=_r(stats_row["median"]),
        q3=_r(stats_row["q3"]), lowerfence=_r(stats_row["lowerfence"]),
        upperfence=_r(stats_row["upperfence"]), mean=_r(stats_row["mean"]),
        orientation="h", name=group, marker_color=color, line_width=1.5,
        fillcolor=_hex_to_rgba(color, 0.45), showlegend=False, boxpoints=False, **kwargs,
    )


def plot_group_boxes(
    quantiles: pd.DataFrame,
    features: Sequence[str],
    *,
    by: str = "macro_genre",
    layout: str = "panels",
    title: str | None = None,
) -> go.Figure:
    """Box plots of audio features per macro-genre, from :func:`analysis.moods.group_quantiles`.

    Parameters
    ----------
    layout
        ``"panels"``: one panel per feature side by side (for the three mood features);
        ``"dropdown"``: one panel with a menu choosing the feature (for the rest).
    """
    if layout not in ("panels", "dropdown"):
        raise ValueError(f"layout must be 'panels' or 'dropdown', not {layout!r}.")
    groups = [str(g) for g in quantiles[by].cat.categories] if isinstance(
        quantiles[by].dtype, pd.CategoricalDtype) else list(dict.fromkeys(quantiles[by]))
    groups = [g for g in groups if quantiles[by].astype("string").eq(g).any()]
    panels = layout == "panels"
    fig = (make_subplots(rows=1, cols=len(features), shared_yaxes=True,
                          horizontal_spacing=0.02,
                          subplot_titles=[_two_lines(feature_label(f)) for f in features])
           if panels else go.Figure())
    visibility = []
    for i, feature in enumerate(features):
        part = quantiles[quantiles["feature"].eq(feature)]
        for group in groups:
            row = part[part[by].astype("string").eq(group)]
            if row.empty:
                continue
            trace = _box_trace(row, group, MACRO_GENRE_COLORS.get(group, NEUTRAL_COLOR))
            if panels:
                fig.add_trace(trace, row=1, col=i + 1)
            else:
                trace.visible = i == 0
                fig.add_trace(trace)
            visibility.append(i)
    fig.update_yaxes(categoryorder="array", categoryarray=groups[::-1])
    fig.update_xaxes(type="linear")  # boxes from statistics only: Plotly may guess "category"
    height = max(420, 30 * len(groups) + 140)
    if panels:
        fig.update_annotations(font_size=13)
        fig.update_layout(title=title, height=height)
        return _set_min_width(fig, MIN_CHART_WIDTH)
    fig.update_layout(
        title=title, height=height, xaxis_title=feature_label(features[0]),
        updatemenus=[dict(
            type="dropdown", x=1, xanchor="right", y=1.02, yanchor="bottom",
            buttons=[dict(label=feature_label(f), method="update",
                          args=[{"visible": [v == i for v in visibility]},
                                {"xaxis.title.text": feature_label(f)}])
                     for i, f in enumerate(features)],
        )],
    )
    return fig


def _label_positions(
    x: Sequence[float],
    y: Sequence[float],
    labels: Sequence[str],
    *,
    char_width: float = 0.0062,
    line_height: float = 0.032,
) -> list[str]:
    """Greedy label placement on a unit square: each label takes the side of its point that
    overlaps the fewest points and already placed labels (sizes in axis units at ~1200 px).

    Examples
    --------
    >>> _label_positions([0.5, 0.5], [0.5, 0.51], ["a", "b"])  # a's top would cover b
    ['bottom center', 'top center']
    """
    pad = 0.012
    candidates = {
        "top center": lambda w: (-w / 2, w / 2, pad, pad + line_height),
        "bottom center": lambda w: (-w / 2, w / 2, -pad - line_height, -pad),
        "middle right": lambda w: (pad, pad + w, -line_height / 2, line_height / 2),
        "middle left": lambda w: (-pad - w, -pad, -line_height / 2, line_height / 2),
    }
    points = list(zip(x, y, strict=True))
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for (px, py), label in zip(points, labels, strict=True):
        width = char_width * len(label)
        best, best_cost = "top center", None
        for position, box in candidates.items():
            x0, x1, y0, y1 = box(width)
            x0, x1, y0, y1 = px + x0, px + x1, py + y0, py + y1
            cost = sum(x0 - pad <= qx <= x1 + pad and y0 - pad <= qy <= y1 + pad
                       for qx, qy in points)
            cost += sum(max(0.0, min(x1, b[1]) - max(x0, b[0])) *
                        max(0.0, min(y1, b[3]) - max(y0, b[2])) * 1e4 for b in placed)
            cost += 0.5 * (x0 < 0 or x1 > 1 or y0 < 0 or y1 > 1)
            if best_cost is None or cost < best_cost:
                best, best_cost, best_box = position, cost, (x0, x1, y0, y1)
        placed.append(best_box)
        out.append(best)
    return out


def plot_mood_map(
    macro: pd.DataFrame, genres: pd.DataFrame | None = None, *, title: str | None = None
) -> go.Figure:
    """Each macro-genre's median valence and energy, with interquartile whiskers.

    Buttons add the 114 genres (small points in their macro-genre's colour), so the map opens
    uncluttered and the detail is one click away.

    Parameters
    ----------
    macro
        :func:`analysis.moods.mood_positions` by ``macro_genre`` (``x`` = valence, ``y`` = energy).
    genres
        The same by ``genre`` over :func:`analysis.moods.genre_listings` (or by
        ``primary_genre``), with ``extra=["macro_genre"]``; optional.
    """
    fig = go.Figure()
    size = np.sqrt(macro["n"].to_numpy(dtype=float))
    size = 12 + 18 * (size - size.min()) / max(size.max() - size.min(), 1e-9)
    positions = _label_positions(macro["x_median"].tolist(), macro["y_median"].tolist(),
                                 macro["macro_genre"].astype("string").tolist())
    for k, (_, row) in enumerate(macro.iterrows()):
        name = str(row["macro_genre"])
        color = MACRO_GENRE_COLORS.get(name, NEUTRAL_COLOR)
        fig.add_scatter(
            x=[round(row["x_median"], 3)], y=[round(row["y_median"], 3)], mode="markers+text",
            text=[name], textposition=positions[k], textfont=dict(size=12, color=_TEXT_COLOR),
            cliponaxis=False,  # a label beside a point near an edge may use the margin
            name=name, legendgroup=name,
            marker=dict(color=color, size=round(float(size[k]), 1),
                        line=dict(color="white", width=1)),
            error_x=dict(type="data", symmetric=False, color=_hex_to_rgba(color, 0.6),
                         thickness=1.2, width=0,
                         array=[round(row["x_q3"] - row["x_median"], 3)],
                         arrayminus=[round(row["x_median"] - row["x_q1"], 3)]),
            error_y=dict(type="data", symmetric=False, color=_hex_to_rgba(color, 0.6),
                         thickness=1.2, width=0,
                         array=[round(row["y_q3"] - row["y_median"], 3)],
                         arrayminus=[round(row["y_median"] - row["y_q1"], 3)]),
            hovertemplate=(
                f"<b>{name}</b> ({int(row['n']):,} tracks)<br>valence median %{{x:.2f}} "
                f"(IQR {row['x_q1']:.2f}–{row['x_q3']:.2f})<br>energy median %{{y:.2f}} "
                f"(IQR {row['y_q1']:.2f}–{row['y_q3']:.2f})<br>median popularity "
                f"{row['popularity_median']:.0f}<extra></extra>"
            ),
        )
    n_macro = len(fig.data)
    if genres is not None:
        for name in macro["macro_genre"].astype("string"):
            part = genres[genres["macro_genre"].astype("string").eq(name)]
            if part.empty:
                continue
            fig.add_scatter(
                x=_r(part["x_median"], 3), y=_r(part["y_median"], 3), mode="markers",
                name=f"{name} genres", legendgroup=str(name), showlegend=False, visible=False,
                marker=dict(color=MACRO_GENRE_COLORS.get(str(name), NEUTRAL_COLOR), size=8,
                            symbol="diamond", opacity=0.85, line=dict(color="white", width=0.5)),
                text=part["genre" if "genre" in part else "primary_genre"].tolist(),
                customdata=np.column_stack([
                    part["n"], _r(part["x_q1"], 2), _r(part["x_q3"], 2), _r(part["y_q1"], 2),
                    _r(part["y_q3"], 2), _r(part["popularity_median"], 0),
                ]),
                hovertemplate=(
                    f"<b>%{{text}}</b> ({name}, %{{customdata[0]:,}} tracks)<br>"
                    "valence median %{x:.2f} (IQR %{customdata[1]}–%{customdata[2]})<br>"
                    "energy median %{y:.2f} (IQR %{customdata[3]}–%{customdata[4]})<br>"
                    "median popularity %{customdata[5]}<extra></extra>"
                ),
            )
        n_genre = len(fig.data) - n_macro
        fig.update_layout(updatemenus=[dict(
            type="buttons", direction="right", x=0, xanchor="left", y=1.02, yanchor="bottom",
            buttons=[
                dict(label="Macro-genres", method="restyle",
                     args=[{"visible": [True] * n_macro + [False] * n_genre}]),
                dict(label="+ 114 genres", method="restyle",
                     args=[{"visible": [True] * n_macro + [True] * n_genre}]),
            ],
        )])
    fig.update_layout(
        title=title, height=640, showlegend=False,
        xaxis=dict(title=feature_label("valence") + "<br>median; bars span the middle half",
                   range=[0, 1]),
        yaxis=dict(title=feature_label("energy"), range=[0, 1]),
    )
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_effect_sizes(kruskal: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Epsilon² per audio feature (Kruskal–Wallis across macro-genres), largest on top.

    Parameters
    ----------
    kruskal
        :func:`analysis.moods.kruskal_by_feature`.
    """
    from analysis.moods import EPSILON_THRESHOLDS

    ordered = kruskal.sort_values("epsilon_squared", kind="stable")
    labels = [feature_label(f).split(" (")[0] for f in ordered["feature"]]
    fig = go.Figure(go.Bar(
        x=_r(ordered["epsilon_squared"], 4), y=labels, orientation="h",
        marker_color=NEUTRAL_COLOR, text=[f"{e:.2f} ({m})" for e, m in
                                         zip(ordered["epsilon_squared"], ordered["magnitude"],
                                             strict=True)],
        # Inside the bar when it fits, else beside it: a fixed "outside" runs off a phone.
        textposition="auto", insidetextanchor="end", cliponaxis=False,
        hovertemplate="%{y}: ε² = %{x:.3f}<extra></extra>",
    ))
    for bound, _label in EPSILON_THRESHOLDS[:-1]:
        fig.add_vline(x=bound, line=dict(color=_LINE_COLOR, dash="dot", width=1))
    fig.update_layout(
        title=title, height=max(360, 34 * len(labels) + 120),
        xaxis=dict(title="ε², share of rank variance<br>explained by macro-genre",
                   range=[0, float(ordered["epsilon_squared"].max()) * 1.3]),
    )
    return fig
