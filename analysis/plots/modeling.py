"""Charts of the Modeling chapter (chapters/04-modeling), and the leak chart of the
Conclusions and the front page.

Each reads the build's ``metrics.json`` (a dict from :func:`analysis.models.load_metrics`),
``models/external.json`` (:func:`analysis.external.load_external`) or rows made from them,
never a model or the raw tracks, so the pages only read artifacts. The leaky replica always
wears ``ACCENT_COLORS["leaky"]``; a score on another crawl ``EXTERNAL_COLOR``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.explain.cache import protocol_summary
from analysis.genres import MACRO_GENRES
from analysis.labels import (
    EXTERNAL_SET_LABELS,
    LADDER_PART_AXIS,
    PROTOCOL_ADJECTIVES,
    PROTOCOL_LABELS,
    PROTOCOL_SHORT_NAMES,
    THIS_CRAWL,
)
from analysis.models.artifacts import (
    error_analysis_entry,
    finding_entry,
    has_model,
    interval_entry,
    model_label,
    model_metric,
    model_names,
)
from analysis.plots.style import (
    _GRID_COLOR,
    _LINE_COLOR,
    ACCENT_COLORS,
    EXTERNAL_COLOR,
    MIN_CHART_WIDTH,
    NEUTRAL_COLOR,
    PROTOCOL_COLORS,
    ZERO_COLOR,
    _r,
    _set_min_width,
    _two_lines,
)

__all__ = [
    "plot_error_by_macro_genre",
    "plot_error_by_popularity_band",
    "plot_feature_ladder",
    "plot_headline_r2",
    "plot_interval_coverage",
    "plot_leak_comparison",
    "plot_leak_mechanism",
    "plot_recipe_transfer",
    "plot_sampling_artefacts",
    "plot_transfer_by_genre",
    "plot_zero_mass",
]


def plot_leak_comparison(metrics: dict, *, metric: str = "r2", title: str | None = None
                         ) -> go.Figure:
    """The same models scored under the leaky replica and the two honest protocols.

    Bars are fold means; error bars one standard deviation over folds (the replica has a
    single split, so none).
    """
    models = model_names(metrics, "seed_replica")
    fig = go.Figure()
    for protocol in PROTOCOL_LABELS:
        present = [m for m in models if has_model(metrics, protocol, m)]
        means = [model_metric(metrics, protocol, m, metric) for m in present]
        sds = [model_metric(metrics, protocol, m, metric, "sd") for m in present]
        fig.add_bar(
            x=[model_label(metrics, m) for m in present],
            y=_r(means, 4),
            error_y=dict(type="data", array=_r([sd or 0 for sd in sds], 4),
                         visible=protocol != "seed_replica", color=_LINE_COLOR),
            name=PROTOCOL_LABELS[protocol], marker_color=PROTOCOL_COLORS[protocol],
            text=[f"{mean:.2f}" for mean in means], textposition="outside",
            hovertemplate="%{x}<br>" + PROTOCOL_LABELS[protocol] + ": %{y:.3f}<extra></extra>",
        )
    label = {"r2": "R² (share of popularity variance explained)", "mae": "MAE (points)"}
    fig.update_layout(title=title, barmode="group", yaxis=dict(title=label.get(metric, metric)),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def plot_leak_mechanism(metrics: dict, *, title: str | None = None) -> go.Figure:
    """Where the replica's score comes from: duplicated tracks and the label inside a feature.

    Left: shares of the replica's test rows whose track also sits in training, and whose
    'artist popularity' feature is computed from that very row alone. Right: R² of the artist
    mean used directly as the prediction, computed on all rows (the original) versus out of
    fold (known_artist).
    """
    audit = finding_entry(metrics, "leak_audit")
    leaky, honest = audit["seed_replica"], audit["known_artist"]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.16, subplot_titles=(
        "Replica test rows", "Artist mean alone<br>as the prediction"))
    shares = [leaky["test_rows_whose_track_is_also_in_train"],
              leaky["test_rows_feature_equals_label"]]
    fig.add_bar(
        row=1, col=1, x=["same track also<br>in training", "feature equals<br>the label"],
        y=_r([100 * v for v in shares], 2), marker_color=PROTOCOL_COLORS["seed_replica"],
        text=[f"{100 * v:.0f}%" for v in shares], textposition="outside", showlegend=False,
        hovertemplate="%{x}: %{y:.1f}% of test rows<extra></extra>",
    )
    r2 = [leaky["r2_of_artist_mean_alone"], honest["r2_of_artist_mean_alone"]]
    fig.add_bar(
        row=1, col=2, x=["over all rows<br>(original)",
                         f"out of fold<br>({PROTOCOL_SHORT_NAMES['known_artist']})"],
        y=_r(r2, 4), marker_color=[PROTOCOL_COLORS["seed_replica"],
                                   PROTOCOL_COLORS["known_artist"]],
        text=[f"{v:.2f}" for v in r2], textposition="outside", showlegend=False,
        hovertemplate="%{x}: R² %{y:.3f}<extra></extra>",
    )
    fig.update_yaxes(title_text="% of test rows", range=[0, 100], row=1, col=1)
    fig.update_yaxes(title_text="R²", range=[0, 1], row=1, col=2)
    fig.update_layout(title=title, height=420)
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_error_by_macro_genre(metrics: dict, *, model: str | None = None,
                              title: str | None = None) -> go.Figure:
    """Out-of-fold MAE per macro-genre under both honest protocols, worst on top (``model``:
    each protocol's champion unless given)."""
    fig = go.Figure()
    order = None
    for protocol in ("cold_start", "known_artist"):
        table = error_analysis_entry(metrics, protocol, model=model)["by_macro_genre"]
        if order is None:
            order = sorted(table, key=lambda m: table[m]["mae"])
        fig.add_bar(
            y=order, x=_r([table[m]["mae"] for m in order], 3), orientation="h",
            name=PROTOCOL_LABELS[protocol], marker_color=PROTOCOL_COLORS[protocol],
            customdata=[[table[m]["n"], table[m]["bias"]] for m in order],
            hovertemplate="%{y}: MAE %{x:.2f}<br>%{customdata[0]:,} tracks, mean error "
                          "%{customdata[1]:+.2f}<extra>" + PROTOCOL_LABELS[protocol] + "</extra>",
        )
    fig.update_layout(title=title, barmode="group", height=max(420, 34 * len(order) + 140),
                      xaxis=dict(title="MAE, popularity points<br>(out of fold)"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def plot_error_by_popularity_band(metrics: dict, *, model: str | None = None,
                                  title: str | None = None) -> go.Figure:
    """Mean prediction against the truth per popularity band: low tracks are over-predicted,
    hits under-predicted (regression to the mean). ``model``: each protocol's champion unless
    given."""
    fig = go.Figure()
    bands = None
    for protocol in ("cold_start", "known_artist"):
        table = error_analysis_entry(metrics, protocol, model=model)["by_popularity_band"]
        bands = [b for b in table if table[b]["n"]]
        fig.add_bar(
            x=bands, y=_r([table[b]["bias"] for b in bands], 3),
            name=PROTOCOL_LABELS[protocol], marker_color=PROTOCOL_COLORS[protocol],
            customdata=[[table[b]["n"], table[b]["mae"], table[b]["mean_prediction"]]
                        for b in bands],
            hovertemplate="true popularity %{x}: mean error %{y:+.1f}<br>%{customdata[0]:,} "
                          "tracks, MAE %{customdata[1]:.1f}, mean prediction %{customdata[2]:.1f}"
                          "<extra>" + PROTOCOL_LABELS[protocol] + "</extra>",
        )
    fig.add_hline(y=0, line=dict(color=_LINE_COLOR, width=1))
    fig.update_layout(title=title, barmode="group",
                      xaxis=dict(title="True popularity band", type="category"),
                      yaxis=dict(title="Mean error (prediction − truth, points)"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def plot_zero_mass(metrics: dict, *, protocol: str = "cold_start", model: str | None = None,
                   title: str | None = None) -> go.Figure:
    """Where the model (the protocol's champion unless given) puts tracks whose popularity is
    exactly 0, against all other tracks."""
    hist = error_analysis_entry(metrics, protocol, model=model)["prediction_histogram"]
    edges = hist["bin_edges"]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
    fig = go.Figure()
    for key, name, color in (("true_nonzero", "popularity above 0", NEUTRAL_COLOR),
                             ("true_zero", "popularity exactly 0", ZERO_COLOR)):
        fig.add_bar(x=centres, y=_r([100 * v for v in hist[key]], 3), name=name,
                    marker_color=color, width=4.6, opacity=0.75,
                    hovertemplate="predicted %{x}±2.5: %{y:.1f}% of " + name + "<extra></extra>")
    fig.update_layout(title=title, barmode="overlay",
                      xaxis=dict(title="Predicted popularity (out of fold)", range=[0, 100]),
                      yaxis=dict(title="% of tracks in the group"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def plot_interval_coverage(metrics: dict, *, level: str = "0.9", model: str | None = None,
                           title: str | None = None) -> go.Figure:
    """Coverage per macro-genre of one global offset versus one offset per macro-genre
    (``model``: each protocol's champion unless given)."""
    from analysis.models import COVERAGE_TOLERANCE  # the bound, drawn as a band

    nominal = float(level)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                         subplot_titles=[_two_lines(PROTOCOL_LABELS[p])
                                         for p in ("cold_start", "known_artist")])
    order = list(MACRO_GENRES)[::-1]
    for col, protocol in enumerate(("cold_start", "known_artist"), start=1):
        for kind, name, color, symbol in (
            ("global", "one offset for all", NEUTRAL_COLOR, "circle-open"),
            ("mondrian", "one offset per macro-genre", PROTOCOL_COLORS[protocol], "circle"),
        ):
            table = interval_entry(metrics, protocol, level, kind=kind,
                                   model=model)["by_macro_genre"]
            present = [m for m in order if m in table]
            fig.add_scatter(
                row=1, col=col, x=_r([100 * table[m]["coverage"] for m in present], 2),
                y=present, mode="markers", name=name, legendgroup=kind,
                showlegend=col == 1,
                marker=dict(color=color, symbol=symbol, size=10, line=dict(width=2, color=color)),
                customdata=_r([table[m]["mean_width"] for m in present], 2),
                hovertemplate="%{y}: %{x:.1f}% covered, mean width %{customdata} points"
                              "<extra>" + name + "</extra>",
            )
        fig.add_vrect(x0=100 * (nominal - COVERAGE_TOLERANCE),
                      x1=100 * (nominal + COVERAGE_TOLERANCE), row=1, col=col,
                      fillcolor=_GRID_COLOR, opacity=0.6, line_width=0)
        fig.add_vline(x=100 * nominal, row=1, col=col, line=dict(color=_LINE_COLOR, dash="dot"))
    fig.update_xaxes(title_text=f"% inside the<br>{nominal:.0%} interval")
    fig.update_layout(title=title, height=620,
                      legend=dict(orientation="h", y=1.1, yanchor="bottom", x=0))
    return _set_min_width(fig, MIN_CHART_WIDTH)


def plot_feature_ladder(summary: dict, *, title: str | None = None) -> go.Figure:
    """Held-out R² of each honest protocol's fold model refit on growing feature sets.

    ``summary`` is ``models/shap/summary.json`` (:func:`analysis.explain.load_explanations`);
    its ``feature_ladder`` steps are cumulative, so each bar adds one kind of metadata. Bars
    are placed by the kind they add (:data:`~analysis.labels.LADDER_PART_AXIS`), as the two
    models may read different columns of it; the hover names what each added.
    """
    fig = go.Figure()
    lowest = 0.0
    for protocol in ("cold_start", "known_artist"):
        steps = protocol_summary(summary, protocol)["feature_ladder"]["steps"]
        lowest = min(lowest, *(step["r2"] for step in steps))
        fig.add_bar(
            x=[LADDER_PART_AXIS[step["part"]] for step in steps],
            y=_r([step["r2"] for step in steps], 4),
            name=PROTOCOL_LABELS[protocol], marker_color=PROTOCOL_COLORS[protocol],
            text=[f"{step['r2']:.2f}" for step in steps], textposition="outside",
            customdata=[[step["step"], step["n_columns"]] for step in steps],
            hovertemplate="%{customdata[0]}<br>" + PROTOCOL_LABELS[protocol]
                          + ": R² %{y:.3f} (%{customdata[1]} columns)<extra></extra>",
        )
    fig.update_layout(title=title, barmode="group",
                      xaxis=dict(categoryorder="array",
                                 categoryarray=list(LADDER_PART_AXIS.values())),
                      yaxis=dict(title="R², held-out fold<br>(same tuned parameters)",
                                 # room below a negative bar for its label
                                 range=[min(0.0, lowest - 0.15), 1]),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def plot_sampling_artefacts(metrics: dict, *, title: str | None = None) -> go.Figure:
    """New-artist R² with the allowed features, then with the forbidden sampling artefacts."""
    finding = finding_entry(metrics, "sampling_artefacts")
    labels = ["allowed features<br>(what we report)", "+ 3 sampling counts",
              "+ counts and genre-list<br>membership"]
    values = [finding["allowed_features"]["r2"]] + [
        finding["variants"][k]["metrics"]["r2"] for k in (
            "allowed_plus_3_counts", "allowed_plus_3_counts_and_genre_membership")]
    fig = go.Figure(go.Bar(
        x=labels, y=_r([v["mean"] for v in values], 4),
        error_y=dict(type="data", array=_r([v["sd"] or 0 for v in values], 4),
                     color=_LINE_COLOR),
        marker_color=[PROTOCOL_COLORS["cold_start"], ACCENT_COLORS["leaky"],
                      ACCENT_COLORS["leaky"]],
        text=[f"{v['mean']:.2f}" for v in values], textposition="outside",
        hovertemplate="%{x}: R² %{y:.3f}<extra></extra>",
    ))
    fig.update_layout(title=title, yaxis=dict(
        title=f"R², {PROTOCOL_ADJECTIVES['cold_start']} folds (XGBoost defaults)",
        range=[0, 1]))
    return fig


#: The headline chart's bar thickness, in rows (a row holds a bar and its name above it).
_HEADLINE_BAR = 0.42


def plot_headline_r2(rows: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The leak in one picture: R² as published and replicated, beside the honest protocols.

    Horizontal bars, in ``rows`` order from the top, each named *above* its bar, from the
    left edge: names need no margin beside the bars, so the bars and the axis title get the
    figure's whole width, on a phone too (a vertical version had to tilt its names and lost
    the end of its axis title to them). A name's second line (after ``<br>``, the model) is
    set smaller.

    Parameters
    ----------
    rows
        One row per bar: ``label``, ``r2``, ``sd`` (over folds, may be NaN), ``leaky`` (bool);
        e.g. :func:`analysis.prose.front.headline_r2`.

    Examples
    --------
    >>> rows = pd.DataFrame({"label": ["leaky", "honest<br>(model)"], "r2": [0.8, 0.4],
    ...                       "sd": [float("nan"), 0.01], "leaky": [True, False]})
    >>> fig = plot_headline_r2(rows)
    >>> [b.marker.color for b in fig.data] == [ACCENT_COLORS["leaky"], ACCENT_COLORS["honest"]]
    True
    >>> [(a.text, a.y > b.y[0]) for a, b in zip(fig.layout.annotations, fig.data)]
    [('leaky', True), ('honest<br><span style="font-size:12px">(model)</span>', True)]
    """
    fig = go.Figure()
    n = len(rows)
    for i, (_, row) in enumerate(rows.iterrows()):
        kind = "leaky" if row["leaky"] else "honest"
        position = n - 1 - i  # the first row on top
        first, _, rest = row["label"].partition("<br>")
        fig.add_bar(
            y=[position], x=[round(float(row["r2"]), 4)], orientation="h", width=_HEADLINE_BAR,
            name=kind, marker_color=ACCENT_COLORS[kind], showlegend=False,
            error_x=None if pd.isna(row["sd"]) else dict(
                type="data", array=[round(float(row["sd"]), 4)], thickness=1.2),
            text=[f"{row['r2']:.2f}"], textposition="inside", insidetextanchor="end",
            textfont=dict(color="white", size=16),
            hovertemplate=f"{row['label'].replace('<br>', ' ')}: R² %{{x:.3f}}<extra></extra>",
        )
        fig.add_annotation(
            x=0, y=position + _HEADLINE_BAR / 2, xref="x", yref="y", xanchor="left",
            yanchor="bottom", align="left", showarrow=False, yshift=2,
            text=first + (f'<br><span style="font-size:12px">{rest}</span>' if rest else ""),
        )
    fig.update_layout(
        title=title, height=90 * n + 130, bargap=0,
        xaxis=dict(title="R² (share of variance explained)", range=[0, 1]),
        yaxis=dict(visible=False, range=[-0.5, n - 1 + _HEADLINE_BAR / 2 + 0.75]),
    )
    return fig


def plot_transfer_by_genre(external: dict, *, protocol: str = "cold_start",
                           title: str | None = None) -> go.Figure:
    """Within-genre Spearman on another crawl (music_genre) beside the matching genre here.

    One row per music_genre genre, best on top: a bar of the champion's Spearman inside that
    genre of music_genre (``EXTERNAL_COLOR``), and one of its out-of-fold Spearman inside the
    training label the genre maps to (the protocol's colour; Hip-Hop and Rap share hip-hop).
    A dashed line marks the out-of-fold mean over all this crawl's genres.

    Parameters
    ----------
    external
        ``models/external.json`` as :func:`analysis.external.load_external` reads it.
    """
    from analysis.external import (
        genre_rows,
        in_data_genre_rows,
        in_data_metrics,
        matched_labels,
    )

    labels = matched_labels(external)
    here = {row["genre"]: row for row in in_data_genre_rows(external, protocol)}
    rows = sorted(genre_rows(external, protocol),  # the bottom row first: the best on top
                  key=lambda r: -1 if r["spearman"] is None else r["spearman"])
    names = [r["genre"] for r in rows]
    matched = [here[labels[g]] for g in names]
    mean = in_data_metrics(external, protocol)["spearman_within_genre"]
    this_crawl = f"{THIS_CRAWL}, matching genre (out of fold)"
    fig = go.Figure()
    fig.add_bar(
        y=names, x=_r([m["spearman"] for m in matched], 4), orientation="h",
        name=this_crawl, marker_color=PROTOCOL_COLORS[protocol],
        customdata=[[m["genre"], m["n"]] for m in matched],
        hovertemplate="%{y} → %{customdata[0]}: Spearman %{x:.2f}<br>%{customdata[1]:,} tracks"
                      "<extra>" + this_crawl + "</extra>",
    )
    fig.add_bar(
        y=names, x=_r([r["spearman"] for r in rows], 4), orientation="h",
        name=EXTERNAL_SET_LABELS["music_genre"], marker_color=EXTERNAL_COLOR,
        customdata=[r["n"] for r in rows],
        hovertemplate="%{y}: Spearman %{x:.2f}<br>%{customdata:,} tracks<extra>"
                      + EXTERNAL_SET_LABELS["music_genre"] + "</extra>",
    )
    fig.add_vline(x=round(mean, 4), line=dict(color=NEUTRAL_COLOR, dash="dash", width=1.5))
    fig.add_annotation(x=round(mean, 4), y=1, yref="paper", yanchor="bottom", xanchor="left",
                       showarrow=False, text=f"mean over<br>{THIS_CRAWL}'s genres", align="left",
                       font=dict(size=12, color=NEUTRAL_COLOR))
    fig.add_vline(x=0, line=dict(color=_LINE_COLOR, width=1))
    values = [v for v in (*(r["spearman"] for r in rows), *(m["spearman"] for m in matched),
                          mean) if v is not None]
    fig.update_layout(title=title, barmode="group", height=max(420, 44 * len(rows) + 160),
                      xaxis=dict(title="Spearman within the genre<br>(predicted vs actual "
                                       "popularity)",
                                 range=[round(min(0, *values) - 0.02, 2),
                                        round(max(values) + 0.05, 2)]),
                      yaxis=dict(categoryorder="array", categoryarray=names),
                      legend=dict(orientation="h", y=1.12, yanchor="bottom", x=0,
                                  traceorder="reversed"))
    return fig


def plot_recipe_transfer(transfer: dict, *, title: str | None = None) -> go.Figure:
    """Does an in-data score predict the score on another crawl? One point per recipe of
    ``models/transfer.json``: its within-genre Spearman on music_genre (y) against, left, its
    pooled out-of-fold Spearman here and, right, the in-data measure that orders the recipes
    most like music_genre does. Recipes the selection rule may choose are drawn in
    ``EXTERNAL_COLOR``, the others in ``NEUTRAL_COLOR``; the current champion's recipe is a
    diamond, the rule's choice a star.
    """
    from analysis.external.selection import eligibility, flat_scores
    from analysis.external.transfer_artifact import agreement, candidate_entries, selection
    from analysis.labels import RECIPE_LABELS, TRANSFER_MEASURE_LABELS

    entries = candidate_entries(transfer)
    chosen = selection(transfer, "popularity_model")["chosen"]
    current = selection(transfer)["current_recipe"]
    target = agreement(transfer, "popularity_model")["external"]
    ranker = agreement(transfer, "popularity_model")["best_ranker"]
    panels = ("in_data.spearman", ranker)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06)
    groups = {True: ("may be chosen by the rule", EXTERNAL_COLOR),
              False: ("reads an input the other crawls lack", NEUTRAL_COLOR)}
    for col, measure in enumerate(panels, start=1):
        for ok, (name, color) in groups.items():
            rows = [e for e in entries if eligibility(e)[0] == ok]
            scores = [flat_scores(e) for e in rows]
            fig.add_scatter(
                x=_r([s[measure] for s in scores]), y=_r([s[target] for s in scores]),
                mode="markers", name=name, legendgroup=name, showlegend=col == 1,
                marker=dict(color=color, size=[16 if e["name"] in (chosen, current) else 10
                                               for e in rows],
                            symbol=["star" if e["name"] == chosen else
                                    "diamond" if e["name"] == current else "circle"
                                    for e in rows],
                            line=dict(color="white", width=1)),
                customdata=[RECIPE_LABELS[e["name"]] for e in rows],
                hovertemplate="%{customdata}<br>here %{x:.2f}, on music_genre %{y:.2f}"
                              "<extra></extra>",
                row=1, col=col)
        label = TRANSFER_MEASURE_LABELS[measure]
        fig.update_xaxes(title_text=label.replace(", ", ",<br>", 1), row=1, col=col)
    label = TRANSFER_MEASURE_LABELS[target]
    fig.update_yaxes(title_text=label.replace(", ", ",<br>", 1), row=1, col=1)
    fig.update_layout(title=title, height=480,
                      legend=dict(orientation="h", y=1.04, yanchor="bottom", x=0))
    return _set_min_width(fig, MIN_CHART_WIDTH)
