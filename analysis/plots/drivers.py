"""Charts of the Drivers chapter (chapters/05-drivers): what moves the champions' predictions.

Each takes the small cached frames of :mod:`analysis.explain` (``models/shap/``), never a
model, so drawing costs nothing and the JSON stays small: beeswarms and dependence plots draw
the first tracks of every macro-genre's stratified draw, not the whole sample. Drivers are
named by :func:`analysis.labels.driver_label`, protocols by ``PROTOCOL_LABELS`` and coloured by
``PROTOCOL_COLORS``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.labels import (
    ARTIST_HISTORY_GROUP,
    PROTOCOL_ADJECTIVES,
    PROTOCOL_LABELS,
    column_axis_label,
    driver_label,
)
from analysis.plots.style import (
    _LINE_COLOR,
    _TEXT_COLOR,
    FEATURE_VALUE_SCALE,
    MACRO_GENRE_COLORS,
    MIN_CHART_WIDTH,
    NEUTRAL_COLOR,
    PROTOCOL_COLORS,
    _r,
    _set_min_width,
)

__all__ = [
    "plot_driver_importance",
    "plot_drivers_by_macro_genre",
    "plot_history_vs_track",
    "plot_interaction_pair",
    "plot_shap_beeswarm",
    "plot_shap_dependence",
]


def _percentile(values: np.ndarray) -> np.ndarray:
    """Rank of each value within its array, scaled to 0-1 (NaN stays NaN; a 0/1 flag stays 0/1).

    Examples
    --------
    >>> _percentile(np.array([3.0, 1.0, np.nan, 2.0])).tolist()[:2]
    [1.0, 0.0]
    >>> _percentile(np.array([0.0, 0.0, 0.0, 1.0])).tolist()
    [0.0, 0.0, 0.0, 1.0]
    """
    out = np.full(len(values), np.nan)
    ok = ~np.isnan(values)
    distinct = np.unique(values[ok])
    if len(distinct) == 2:  # a flag: its two values are the two ends of the scale
        out[ok] = (values[ok] == distinct[1]).astype(float)
    elif ok.sum() > 1:
        out[ok] = pd.Series(values[ok]).rank(method="average").to_numpy()
        out[ok] = (out[ok] - 1) / (ok.sum() - 1)
    elif ok.sum() == 1:
        out[ok] = 0.5
    return out


def _swarm_offsets(x: np.ndarray, *, bins: int = 70, spread: float = 0.38) -> np.ndarray:
    """Vertical offsets that stack points of similar x into a beeswarm (deterministic).

    Points are binned on x; within a bin they alternate above and below the line, and the
    widest bin fills ``spread`` on each side, so density reads as height.

    Examples
    --------
    >>> _swarm_offsets(np.array([0.0, 0.0, 0.0, 1.0])).round(2).tolist()
    [0.0, 0.38, -0.38, 0.0]
    """
    if len(x) == 0:
        return np.zeros(0)
    lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
    index = np.zeros(len(x), dtype=int) if hi == lo else np.minimum(
        ((x - lo) / (hi - lo) * bins).astype(int), bins - 1)
    offsets = np.zeros(len(x))
    order = np.argsort(x, kind="stable")
    seen: dict[int, int] = {}
    for i in order:
        k = seen.get(index[i], 0)
        seen[index[i]] = k + 1
        offsets[i] = ((k + 1) // 2) * (1 if k % 2 else -1)
    widest = max(max(seen.values()) // 2, 1)
    return offsets / widest * spread


def plot_driver_importance(
    importance: pd.DataFrame, *, top: int = 12, protocols: Sequence[str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Global importance beside permutation importance, per honest protocol.

    Left: mean |SHAP| (popularity points the driver moves a prediction by, on average).
    Right: the drop in held-out R² when the driver's columns are shuffled (± sd over repeats).

    Parameters
    ----------
    importance
        :attr:`analysis.explain.Explanations.importance`.
    top
        Drivers shown: the union of each protocol's top by mean |SHAP|, ordered by the largest
        mean |SHAP| any protocol gives them.

    Examples
    --------
    >>> imp = pd.DataFrame({"protocol": ["cold_start"] * 2, "group": ["energy", "genre"],
    ...                      "mean_abs_shap": [1.0, 3.0], "r2_drop_mean": [0.01, 0.2],
    ...                      "r2_drop_sd": [0.0, 0.01]})
    >>> list(plot_driver_importance(imp).data[0].y)
    ['energy', 'genre']
    """
    protocols = list(protocols or [p for p in ("known_artist", "cold_start")
                                    if p in set(importance["protocol"])])
    shown = importance[importance["protocol"].isin(protocols)]
    keep = set()
    for _, part in shown.groupby("protocol", sort=False):
        keep |= set(part.nlargest(top, "mean_abs_shap")["group"])
    order = (shown[shown["group"].isin(keep)].groupby("group")["mean_abs_shap"].max()
             .sort_values(kind="stable").index.tolist())
    labels = [driver_label(g) for g in order]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                         subplot_titles=["Mean |SHAP|<br>(popularity points)",
                                         "Held-out R² drop<br>when shuffled"])
    for protocol in protocols:
        part = shown[shown["protocol"] == protocol].set_index("group").reindex(order)
        color = PROTOCOL_COLORS.get(protocol, NEUTRAL_COLOR)
        name = PROTOCOL_LABELS.get(protocol, protocol)
        fig.add_bar(x=_r(part["mean_abs_shap"], 3), y=labels, orientation="h", name=name,
                    legendgroup=protocol, marker_color=color,
                    hovertemplate=f"{name}<br>%{{y}}: %{{x:.2f}} points<extra></extra>",
                    row=1, col=1)
        fig.add_bar(x=_r(part["r2_drop_mean"], 4), y=labels, orientation="h", name=name,
                    legendgroup=protocol, marker_color=color, showlegend=False,
                    error_x=dict(type="data", array=_r(part["r2_drop_sd"], 4), thickness=1),
                    hovertemplate=f"{name}<br>%{{y}}: R² drop %{{x:.3f}}<extra></extra>",
                    row=1, col=2)
    fig.update_layout(title=title, barmode="group", bargap=0.25,
                      height=max(380, 34 * len(order) + 160),
                      legend=dict(orientation="h", x=0, y=-0.12))
    fig.update_annotations(font_size=13)
    fig.update_xaxes(rangemode="tozero")
    return _set_min_width(fig, MIN_CHART_WIDTH)


def _beeswarm_traces(sample: pd.DataFrame, groups: Sequence[str], protocol: str,
                     visible: bool) -> list[go.Scatter]:
    traces = []
    colour_of = {ARTIST_HISTORY_GROUP: "artist_mean_popularity"}
    first_with_scale = True
    for rank, group in enumerate(groups):
        shap = sample[f"shap__{group}"].to_numpy(dtype=float)
        column = f"value__{colour_of.get(group, group)}"
        values = sample[column].to_numpy(dtype=float) if column in sample else None
        y = len(groups) - 1 - rank + _swarm_offsets(shap)
        marker = dict(size=4, opacity=0.8)
        if values is None:
            marker["color"] = NEUTRAL_COLOR
            hover = f"{driver_label(group)}: SHAP %{{x:.2f}}<extra></extra>"
            custom = None
        else:
            marker.update(color=_r(_percentile(values), 3), colorscale=FEATURE_VALUE_SCALE,
                          cmin=0, cmax=1, showscale=first_with_scale,
                          colorbar=dict(title=dict(text="feature value<br>(percentile)",
                                                   side="right"),
                                        tickvals=[0, 1], ticktext=["low", "high"],
                                        thickness=12, len=0.6))
            first_with_scale = False
            custom = _r(values, 3)
            hover = (f"{driver_label(group)} = %{{customdata}}<br>SHAP %{{x:.2f}}"
                     "<extra></extra>")
        traces.append(go.Scatter(
            x=_r(shap, 3), y=_r(y, 3), mode="markers", marker=marker, customdata=custom,
            name=driver_label(group), showlegend=False, visible=visible,
            hovertemplate=hover, meta=protocol,
        ))
    return traces


def plot_shap_beeswarm(
    sample: pd.DataFrame, importance: pd.DataFrame, *,
    protocols: Sequence[str] = ("cold_start", "known_artist"), top: int = 10,
    per_macro: int | None = None, title: str | None = None,
) -> go.Figure:
    """Every sampled track's SHAP value per driver, coloured by the driver's value.

    One row per driver (most important on top); a point is a track, its x how far that driver
    moved the track's prediction, its colour the driver's value (percentile within the
    sample; grey for drivers without one value, such as genre). Buttons switch protocol.

    Parameters
    ----------
    sample, importance
        :attr:`analysis.explain.Explanations.sample` and ``.importance``.
    per_macro
        Draw only the first ``per_macro`` tracks of every macro-genre's stratified draw.
    """
    fig = go.Figure()
    layouts = []
    counts = []
    for i, protocol in enumerate(protocols):
        part = sample[sample["protocol"] == protocol]
        if per_macro is not None:
            part = part[part["order"] < per_macro]
        ranked = importance[importance["protocol"] == protocol].sort_values("shap_rank")
        groups = ranked["group"].head(top).tolist()
        traces = _beeswarm_traces(part, groups, protocol, visible=i == 0)
        for trace in traces:
            fig.add_trace(trace)
        counts.append(len(traces))
        layouts.append(dict(tickvals=list(range(len(groups))),
                            ticktext=[driver_label(g) for g in groups][::-1]))
    fig.add_vline(x=0, line=dict(color=_LINE_COLOR, width=1))
    buttons = []
    for i, protocol in enumerate(protocols):
        visible = [j == i for j, n in enumerate(counts) for _ in range(n)]
        buttons.append(dict(label=PROTOCOL_LABELS.get(protocol, protocol), method="update",
                            args=[{"visible": visible},
                                  {"yaxis.tickvals": layouts[i]["tickvals"],
                                   "yaxis.ticktext": layouts[i]["ticktext"]}]))
    fig.update_layout(
        title=title, height=max(420, 44 * top + 140),
        xaxis=dict(title="SHAP value<br>(points added to the prediction)"),
        yaxis=dict(tickvals=layouts[0]["tickvals"], ticktext=layouts[0]["ticktext"],
                   showgrid=False, zeroline=False),
        updatemenus=[dict(type="buttons", direction="right", x=0, xanchor="left", y=1.02,
                          yanchor="bottom", buttons=buttons)] if len(protocols) > 1 else [],
    )
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_shap_dependence(
    frames: Sequence[pd.DataFrame], *, columns: int = 2, title: str | None = None
) -> go.Figure:
    """Small multiples: a feature's value against its SHAP value, coloured by its partner.

    Parameters
    ----------
    frames
        :func:`analysis.explain.dependence_frame` outputs (``x``, ``shap``, ``color``; the
        feature and colour feature in ``attrs``).
    """
    rows = -(-len(frames) // columns)
    titles = [f"{driver_label(f.attrs['feature'])}<br>(colour: "
              f"{driver_label(f.attrs['color_by']) if f.attrs.get('color_by') else 'none'})"
              for f in frames]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles,
                         horizontal_spacing=0.08, vertical_spacing=0.14)
    for i, frame in enumerate(frames):
        row, col = divmod(i, columns)
        colour = _percentile(frame["color"].to_numpy(dtype=float))
        partner = driver_label(frame.attrs["color_by"]) if frame.attrs.get("color_by") else ""
        fig.add_scatter(
            x=_r(frame["x"], 4), y=_r(frame["shap"], 3), mode="markers",
            marker=dict(size=4, opacity=0.75, color=_r(colour, 3), colorscale=FEATURE_VALUE_SCALE,
                        cmin=0, cmax=1, showscale=i == 0,
                        colorbar=dict(title=dict(text="partner value<br>(percentile)",
                                                 side="right"),
                                      tickvals=[0, 1], ticktext=["low", "high"], thickness=12,
                                      len=0.5)),
            customdata=_r(frame["color"], 3), showlegend=False,
            name=driver_label(frame.attrs["feature"]),
            hovertemplate=(f"{driver_label(frame.attrs['feature'])} %{{x}}<br>SHAP %{{y:.2f}}"
                           f"<br>{partner} %{{customdata}}<extra></extra>"),
            row=row + 1, col=col + 1,
        )
        fig.add_hline(y=0, line=dict(color=_LINE_COLOR, width=1), row=row + 1, col=col + 1)
        fig.update_xaxes(title_text=column_axis_label(frame.attrs["feature"]), row=row + 1,
                         col=col + 1)
        fig.update_yaxes(title_text="SHAP (points)" if col == 0 else None, row=row + 1,
                         col=col + 1)
    fig.update_annotations(font_size=13)
    fig.update_layout(title=title, height=340 * rows + 120)
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_interaction_pair(
    pair: pd.DataFrame, *, a: str = "energy", b: str = "valence", title: str | None = None
) -> go.Figure:
    """Two views of one interaction: ``a``'s SHAP value and the a × b interaction value.

    Both panels put ``a`` on x and colour by ``b``. Left: ``a``'s whole SHAP value (main
    effect plus every interaction). Right: the exact SHAP interaction value of the pair
    (both halves, Φ_ab + Φ_ba), which is what ``b`` changes about ``a``'s effect.

    Parameters
    ----------
    pair
        :attr:`analysis.explain.Explanations.pair` for one protocol.
    """
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=[
        f"SHAP value of {driver_label(a)}",
        f"Interaction {driver_label(a)} × {driver_label(b)}"])
    colour = _r(_percentile(pair[b].to_numpy(dtype=float)), 3)
    for col, column in ((1, f"shap_{a}"), (2, f"interaction_{a}_{b}")):
        fig.add_scatter(
            x=_r(pair[a], 4), y=_r(pair[column], 3), mode="markers", showlegend=False,
            marker=dict(size=6, opacity=0.85, color=colour, colorscale=FEATURE_VALUE_SCALE,
                        cmin=0, cmax=1, showscale=col == 1,
                        colorbar=dict(title=dict(text=f"{driver_label(b)}<br>(percentile)",
                                                 side="right"),
                                      tickvals=[0, 1], ticktext=["low", "high"],
                                      thickness=12, len=0.6)),
            customdata=_r(pair[b], 3), name=column,
            hovertemplate=(f"{driver_label(a)} %{{x}}<br>{driver_label(b)} %{{customdata}}"
                           "<br>%{y:.2f} points<extra></extra>"),
            row=1, col=col,
        )
        fig.add_hline(y=0, line=dict(color=_LINE_COLOR, width=1), row=1, col=col)
        fig.update_xaxes(title_text=column_axis_label(a), row=1, col=col)
    fig.update_yaxes(title_text="points", row=1, col=1)
    fig.update_annotations(font_size=13)
    fig.update_layout(title=title, height=440)
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_drivers_by_macro_genre(
    by_macro: pd.DataFrame, importance: pd.DataFrame, *, protocol: str = "cold_start",
    top: int = 8, title: str | None = None,
) -> go.Figure:
    """Mean |SHAP| of the top drivers within each macro-genre: one dot per macro-genre.

    Dots keep their macro-genre colour; a black bar marks the catalogue-wide (weighted)
    value, so a driver that matters more in one macro-genre stands out of its row.

    Parameters
    ----------
    by_macro, importance
        :attr:`analysis.explain.Explanations.by_macro_genre` and ``.importance``.
    """
    ranked = importance[importance["protocol"] == protocol].sort_values("shap_rank")
    groups = ranked["group"].head(top).tolist()[::-1]
    labels = [driver_label(g) for g in groups]
    part = by_macro[(by_macro["protocol"] == protocol) & by_macro["group"].isin(groups)]
    fig = go.Figure()
    overall = ranked.set_index("group").loc[groups, "mean_abs_shap"]
    fig.add_scatter(x=_r(overall, 3), y=labels, mode="markers", name="all tracks (weighted)",
                    marker=dict(symbol="line-ns-open", size=22, color=_TEXT_COLOR,
                                line=dict(width=3)),
                    hovertemplate="all tracks: %{x:.2f} points<extra></extra>")
    macros = [m for m in MACRO_GENRE_COLORS if m in set(part["macro_genre"])]
    for macro in macros:
        rows = part[part["macro_genre"] == macro].set_index("group").reindex(groups)
        fig.add_scatter(
            x=_r(rows["mean_abs_shap"], 3), y=labels, mode="markers", name=macro,
            marker=dict(color=MACRO_GENRE_COLORS[macro], size=10, opacity=0.9,
                        line=dict(color="white", width=0.5)),
            hovertemplate=f"{macro}<br>%{{y}}: %{{x:.2f}} points<extra></extra>",
        )
    fig.update_layout(title=title, height=max(420, 46 * len(groups) + 160),
                      xaxis=dict(title="Mean |SHAP| within the macro-genre<br>(popularity points)",
                                 rangemode="tozero"),
                      legend=dict(font=dict(size=12)))
    # Sixteen macro-genres in the legend beside the dots: narrower, it scrolls in its cell.
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_history_vs_track(history: dict, *, title: str | None = None) -> go.Figure:
    """How much of the known-artist model is the artist's record, and how much the track.

    Left: held-out R² of the artist's mean popularity alone, of the model without artist
    history and of the full model (one fold). Right: the share of the prediction's movement
    (mean |SHAP|) carried by artist history versus everything about the track.

    Parameters
    ----------
    history
        ``explanations.protocol_summary("known_artist")["artist_history"]`` of
        :func:`analysis.explain.load_explanations`.
    """
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.14,
                         subplot_titles=["Held-out R²", "Share of<br>mean |SHAP|"])
    bars = [("Artist mean alone", history.get("r2_history_alone"), NEUTRAL_COLOR),
            ("Track only (no history)", history["r2_without_history"],
             PROTOCOL_COLORS["cold_start"]),
            (f"Track + {driver_label(ARTIST_HISTORY_GROUP)}", history["r2_with_history"],
             PROTOCOL_COLORS["known_artist"])]
    bars = [b for b in bars if b[1] is not None]
    fig.add_bar(x=[b[0] for b in bars], y=[round(b[1], 4) for b in bars],
                marker_color=[b[2] for b in bars], text=[f"{b[1]:.2f}" for b in bars],
                textposition="outside", cliponaxis=False, showlegend=False,
                hovertemplate="%{x}: R² %{y:.3f}<extra></extra>", row=1, col=1)
    share = history["shap_share_history"]
    for label, value, color in ((driver_label(ARTIST_HISTORY_GROUP), share,
                                 PROTOCOL_COLORS["known_artist"]),
                                ("the track", 1 - share, PROTOCOL_COLORS["cold_start"])):
        fig.add_bar(x=[f"{PROTOCOL_ADJECTIVES['known_artist']} model"], y=[round(value, 4)],
                    name=label, marker_color=color, text=[f"{label}<br>{value:.0%}"],
                    textposition="inside", insidetextanchor="middle",
                    hovertemplate=f"{label}: %{{y:.1%}}<extra></extra>", row=1, col=2)
    fig.update_yaxes(range=[0, 1], row=1, col=1)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    fig.update_layout(title=title, barmode="stack", height=420, showlegend=False)
    fig.update_annotations(font_size=13)
    return fig
