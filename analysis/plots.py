"""The one figure style of the site, and the offline way to embed figures in chapters.

Every chart on the site comes from a ``plot_*`` function here, returns a Plotly figure and
never shows it; chapters display it with :func:`show`. Keeping the template, the palette and
the embedding in one module is what makes the chapters look like one report.

Style
    :data:`TEMPLATE_NAME` is registered with Plotly on import; :func:`set_style` (called in
    every chapter's Prerequisites cell) makes it the default. System fonts only (the site
    makes no web-font request), a light background, 14 px text for a 1280 px screen.
Palette
    :data:`MACRO_GENRE_COLORS` gives each macro-genre of :data:`analysis.genres.MACRO_GENRES`
    one colour, in that order; :data:`NEUTRAL_COLOR` is for "all tracks" or "other", and
    :data:`ACCENT_COLORS` for two-way contrasts such as an honest versus a leaky protocol.
Embedding
    :func:`show` writes the figure as a small HTML fragment that loads the site's single copy
    of plotly.js (:data:`PLOTLY_JS_SRC`, put in place by :func:`ensure_plotly_js`), with a
    fixed div id, so notebooks stay small, pages work offline and stored outputs are
    identical run to run (see ``QUARTO-FACTS.md``).
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import Markdown
from plotly.subplots import make_subplots

from analysis import paths
from analysis.embed import DIV_ID_PREFIX, raw_html
from analysis.genres import MACRO_GENRES
from analysis.labels import ARTIST_HISTORY_GROUP, PROTOCOL_LABELS, feature_label

# ---------------------------------------------------------------------------------------------
# Style: template, palette, embedding
# ---------------------------------------------------------------------------------------------

#: Name under which the site template is registered in ``plotly.io.templates``.
TEMPLATE_NAME = "track_analytics"

#: System font stack: every platform has one of these, so no web font is ever fetched.
FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
    '"Noto Sans", "Liberation Sans", sans-serif'
)

#: One colour per macro-genre, in ``MACRO_GENRES`` order.
#:
#: The 16 colours come from two colour-blind-safe qualitative schemes, Okabe & Ito (2008)
#: and Paul Tol's (bright, vibrant, muted, light, high-contrast and dark sets), and were
#: picked from their union to maximise the smallest CIEDE2000 difference between any two,
#: under normal vision and under simulated deuteranopia and protanopia (Machado et al.
#: 2009): at least 8.4 in all three. That tells neighbouring bars apart; it does not make a
#: 16-entry legend readable by colour alone, so charts also name traces (labels, hover).
MACRO_GENRE_COLORS: dict[str, str] = dict(
    zip(
        MACRO_GENRES,
        (
            "#EE6677",  # Pop                   Tol bright red
            "#0077BB",  # Rock                  Tol vibrant blue
            "#663333",  # Metal & Punk          Tol dark red
            "#AA4499",  # Hip-hop & R&B         Tol muted purple
            "#88CCEE",  # Electronic & Dance    Tol muted cyan
            "#D55E00",  # Latin                 Okabe-Ito vermillion
            "#AAAA00",  # Brazilian             Tol light olive
            "#009E73",  # Reggae & Caribbean    Okabe-Ito bluish green
            "#FFAABB",  # East Asian            Tol light pink
            "#DDCC77",  # South Asian           Tol muted sand
            "#666633",  # World                 Tol dark olive
            "#44BB99",  # Country & Folk        Tol light mint
            "#004488",  # Jazz, Blues & Soul    Tol high-contrast blue
            "#225555",  # Classical & Stage     Tol dark teal
            "#77AADD",  # Ambient & Functional  Tol light blue
            "#CC79A7",  # Kids & Comedy         Okabe-Ito reddish purple
        ),
        strict=True,
    )
)

#: For "all tracks", "other" or a reference line; kept apart from every macro-genre colour.
NEUTRAL_COLOR = "#666666"

#: Two-way contrasts (Tol indigo vs Okabe-Ito orange: apart under every colour-vision type).
ACCENT_COLORS: dict[str, str] = {"honest": "#332288", "leaky": "#E69F00"}

#: The shared plotly.js as seen from a chapter page (``chapters/*.ipynb`` → ``assets/``).
PLOTLY_JS_SRC = "../assets/plotly.min.js"

#: Where :func:`ensure_plotly_js` puts plotly.js (a gitignored build output).


#: Plotly.js options for every embedded figure: no logo, no lasso tools, SVG download.
PLOT_CONFIG: dict = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    "toImageButtonOptions": {"format": "svg"},
}

_TEXT_COLOR = "#2B2B2B"
_GRID_COLOR = "#E5E5E5"
_LINE_COLOR = "#BDBDBD"
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _build_template() -> go.layout.Template:
    """The site template: layout defaults only, so each figure's JSON stays small."""
    axis = dict(
        showgrid=True,
        gridcolor=_GRID_COLOR,
        zeroline=False,
        showline=True,
        linecolor=_LINE_COLOR,
        ticks="outside",
        tickcolor=_LINE_COLOR,
        automargin=True,
        title=dict(standoff=8),
    )
    return go.layout.Template(
        layout=dict(
            font=dict(family=FONT_FAMILY, size=14, color=_TEXT_COLOR),
            title=dict(font=dict(size=18), x=0, xanchor="left", xref="paper"),
            paper_bgcolor="white",
            plot_bgcolor="white",
            colorway=list(MACRO_GENRE_COLORS.values()),
            colorscale=dict(sequential="Viridis", diverging="RdBu"),
            margin=dict(l=64, r=24, t=64, b=56),
            height=480,
            xaxis=axis,
            yaxis=axis,
            legend=dict(font=dict(size=13), bgcolor="rgba(255,255,255,0)"),
            hoverlabel=dict(font=dict(family=FONT_FAMILY, size=13)),
        )
    )


pio.templates[TEMPLATE_NAME] = _build_template()


def set_style() -> None:
    """Make the site template the default for every figure built afterwards.

    Chapters call this once in their Prerequisites cell (like r4ds' ``_common.R``), so a
    figure looks the same whichever chapter draws it.

    Examples
    --------
    >>> previous = pio.templates.default
    >>> set_style()
    >>> pio.templates.default
    'track_analytics'
    >>> pio.templates.default = previous
    """
    pio.templates.default = TEMPLATE_NAME


def show(fig: go.Figure, *, name: str) -> Markdown:
    """Embed a figure in a chapter: small, offline, and identical on every run.

    Why not ``fig.show()``: Quarto does not draw Plotly's own mime type, and the inline
    renderers put 4.8 MB of plotly.js into every notebook. This fragment instead loads the
    site's single shared copy (:data:`PLOTLY_JS_SRC`), and its div id is derived from
    ``name`` rather than random, so nbval sees the same output on every run. Plotly's JSON
    engine is fixed to the standard library's: with ``orjson`` installed, Plotly would switch
    to it and write the same figure with different escaping.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure, typically from a ``plot_*`` function.
    name : str
        Slug unique within the page (lowercase letters, digits, single dashes), e.g.
        ``"popularity-by-genre"``; the div id is ``DIV_ID_PREFIX + name``.

    Returns
    -------
    IPython.display.Markdown
        The last expression of a notebook cell: a raw HTML block (see :mod:`analysis.embed`),
        which Quarto passes into the page without adding any CDN script.

    Raises
    ------
    ValueError
        If ``name`` is not a slug.

    See Also
    --------
    ensure_plotly_js : put the shared plotly.js where the pages expect it.

    Examples
    --------
    >>> fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    >>> html = show(fig, name="example").data
    >>> 'id="plotly-example"' in html and 'src="../assets/plotly.min.js"' in html
    True
    """
    return raw_html(figure_html(fig, name=name, plotly_js=PLOTLY_JS_SRC))


def figure_html(fig: go.Figure, *, name: str, plotly_js: str) -> str:
    """The figure's HTML fragment, loading plotly.js from ``plotly_js`` (see :func:`show`)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"figure name must be a slug like 'popularity-by-genre', got {name!r}")
    engine = pio.json.config.default_engine
    pio.json.config.default_engine = "json"
    try:
        return fig.to_html(
            include_plotlyjs=plotly_js,
            full_html=False,
            div_id=f"{DIV_ID_PREFIX}{name}",
            config={
                **PLOT_CONFIG,
                "toImageButtonOptions": {**PLOT_CONFIG["toImageButtonOptions"], "filename": name},
            },
        )
    finally:
        pio.json.config.default_engine = engine


def ensure_plotly_js(dest_dir: Path = paths.ASSETS_DIR) -> Path:
    """Copy plotly.js from the installed plotly package into the site's assets folder.

    The copy comes from the same plotly package that writes the figures' JSON, so the two
    always match. It is a build output (gitignored, about 4.8 MB), written only when
    missing or different, and atomically, so a concurrent build never sees half a file.

    Parameters
    ----------
    dest_dir : Path, optional
        Target folder; default ``<project>/assets`` (listed under ``project: resources``
        in ``_quarto.yml``).

    Returns
    -------
    Path
        ``dest_dir / "plotly.min.js"``.
    """
    source = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    dest = Path(dest_dir) / "plotly.min.js"
    if dest.is_file() and filecmp.cmp(source, dest, shallow=False):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


# ---------------------------------------------------------------------------------------------
# Figures: plot_* functions (each returns a go.Figure and never shows it)
# ---------------------------------------------------------------------------------------------

# --- Data charts ---------------------------------------------------------------------------


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


# --- EDA and genre-mood charts ---
#
# Charts of the Explore part (chapters 02-eda and 03-genre-moods). Each takes a small
# aggregated frame from analysis.moods, never raw tracks, so a figure carries hundreds of
# values, not 90,000. Macro-genres keep their MACRO_GENRE_COLORS colour on every chart.


#: Colours for a track being explicit or not (neutral grey vs Okabe-Ito orange).
EXPLICIT_COLORS: dict[bool, str] = {False: NEUTRAL_COLOR, True: "#E69F00"}

#: Colour of the zero-popularity bar, set apart from the rest of the distribution.
ZERO_COLOR = "#E69F00"

#: Tick labels of the discrete audio features.
_DISCRETE_TICKS: dict[str, dict[int, str]] = {
    "key": dict(enumerate(["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"])),
    "mode": {0: "minor", 1: "major"},
    "time_signature": {},
}


def _feature_label(feature: str) -> str:

    return feature_label(feature)


def _r(values, digits: int = 4) -> list:
    """Round for the figure JSON: four decimals is finer than any chart can show."""
    return [None if v is None or pd.isna(v) else round(float(v), digits) for v in values]


def _hex_to_rgba(color: str, alpha: float) -> str:
    color = color.lstrip("#")
    red, green, blue = (int(color[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


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
        xaxis_title=_feature_label("popularity"), yaxis_title="Tracks",
    )
    return fig


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
        rows=rows, cols=columns, subplot_titles=[_feature_label(f) for f in features],
        horizontal_spacing=0.06, vertical_spacing=0.11,
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
            values = [int(v) for v in centre]
            names = _DISCRETE_TICKS.get(feature, {})
            fig.update_xaxes(tickvals=values, ticktext=[names.get(v, str(v)) for v in values],
                             showgrid=False, **cell)
    fig.update_annotations(font_size=13)
    fig.update_yaxes(ticksuffix="%")
    fig.update_layout(title=title, height=230 * rows + 80, bargap=0)
    return fig


def plot_correlation_heatmap(
    spearman: pd.DataFrame, pearson: pd.DataFrame, *, title: str | None = None
) -> go.Figure:
    """Correlation matrix of popularity and the audio features; buttons switch Spearman/Pearson.

    Parameters
    ----------
    spearman, pearson
        Square frames from :func:`analysis.moods.correlation_matrix` with the same labels.
    """
    labels = [_feature_label(c).split(" (")[0] for c in spearman.columns]
    fig = go.Figure()
    for method, matrix, visible in (("Spearman", spearman, True), ("Pearson", pearson, False)):
        z = [_r(row, 3) for row in matrix.to_numpy()]
        fig.add_heatmap(
            z=z, x=labels, y=labels, zmin=-1, zmax=1, zmid=0, colorscale="RdBu",
            texttemplate="%{z:.2f}", textfont_size=11, visible=visible, name=method,
            colorbar=dict(title=f"{method}<br>correlation"),
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
    return fig


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
        subplot_titles=[_feature_label(f) for f in features],
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
    return fig


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
        xaxis=dict(title=_feature_label("valence"), range=[0, 1], showgrid=False,
                   constrain="domain"),
        yaxis=dict(title=_feature_label("energy"), range=[0, 1], showgrid=False,
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
                                         "Mean popularity, 95% CI"])
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
    fig.update_xaxes(title_text=_feature_label("popularity"), tickangle=-45, row=1, col=1)
    fig.update_yaxes(title_text="Tracks in group (%)", ticksuffix="%", row=1, col=1)
    fig.update_yaxes(title_text="Mean popularity (0–100)", row=1, col=2)
    fig.update_layout(title=title, barmode="group", bargap=0.15,
                      legend=dict(orientation="h", x=0, y=1.12))
    return fig


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
                          subplot_titles=[_feature_label(f) for f in features])
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
        return fig
    fig.update_layout(
        title=title, height=height, xaxis_title=_feature_label(features[0]),
        updatemenus=[dict(
            type="dropdown", x=1, xanchor="right", y=1.02, yanchor="bottom",
            buttons=[dict(label=_feature_label(f), method="update",
                          args=[{"visible": [v == i for v in visibility]},
                                {"xaxis.title.text": _feature_label(f)}])
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
        xaxis=dict(title=_feature_label("valence") + " — median, bars span the IQR",
                   range=[0, 1]),
        yaxis=dict(title=_feature_label("energy"), range=[0, 1]),
    )
    return fig


def plot_effect_sizes(kruskal: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Epsilon² per audio feature (Kruskal–Wallis across macro-genres), largest on top.

    Parameters
    ----------
    kruskal
        :func:`analysis.moods.kruskal_by_feature`.
    """
    from analysis.moods import EPSILON_THRESHOLDS

    ordered = kruskal.sort_values("epsilon_squared", kind="stable")
    labels = [_feature_label(f).split(" (")[0] for f in ordered["feature"]]
    fig = go.Figure(go.Bar(
        x=_r(ordered["epsilon_squared"], 4), y=labels, orientation="h",
        marker_color=NEUTRAL_COLOR, text=[f"{e:.2f} ({m})" for e, m in
                                         zip(ordered["epsilon_squared"], ordered["magnitude"],
                                             strict=True)],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: ε² = %{x:.3f}<extra></extra>",
    ))
    for bound, _label in EPSILON_THRESHOLDS[:-1]:
        fig.add_vline(x=bound, line=dict(color=_LINE_COLOR, dash="dot", width=1))
    fig.update_layout(
        title=title, height=max(360, 34 * len(labels) + 120),
        xaxis=dict(title="Epsilon² (share of rank variance explained by macro-genre)",
                   range=[0, float(ordered["epsilon_squared"].max()) * 1.3]),
    )
    return fig


# --- Driver charts ---
#
# Charts of the Drivers chapter (05-drivers), the Conclusions and the front page. Each takes
# the small cached frames of analysis.explain (models/shap/) or numbers from metrics.json,
# never a model, so drawing costs nothing and the JSON stays small: beeswarms and dependence
# plots draw the first tracks of every macro-genre's stratified draw, not the whole sample.

# Protocols keep one colour and one name across the site: PROTOCOL_COLORS and PROTOCOL_LABELS
# are defined once, in the Modeling charts section below, and read here at call time.

#: Sequential scale for "feature value, low to high" (blue to red, like shap's beeswarm, but
#: from Tol's colour-blind-safe sunset scheme).
FEATURE_VALUE_SCALE: list[list] = [
    [0.0, "#364B9A"], [0.25, "#6EA6CD"], [0.5, "#EAECCC"], [0.75, "#F67E4B"], [1.0, "#A50026"],
]

#: The shared plotly.js as seen from a page at the site root (``index.qmd``).
ROOT_PLOTLY_JS_SRC = "assets/plotly.min.js"

def _driver_label(group: str) -> str:
    """Short axis label of a driver group (audio features keep their chart label)."""
    special = {"genre": "genre", "macro-genre": "macro-genre", "title text": "title markers",
               "album-name text": "album-name markers", ARTIST_HISTORY_GROUP: "artist history",
               "duration_ms": "duration", "n_artists": "credited artists",
               "is_single": "single release", "explicit": "explicit"}
    if group in special:
        return special[group]
    label = _feature_label(group).split(" (")[0]
    return label[:1].lower() + label[1:]


def _driver_axis_label(feature: str) -> str:
    """Axis title with unit of a model column (``duration_ms`` is in milliseconds)."""
    units = {"duration_ms": "Duration (ms)", "n_artists": "Credited artists",
             "artist_mean_popularity": "Artist's mean popularity (0–100)",
             "artist_n_tracks": "Artist's other tracks", "title_length": "Title length"}
    return units.get(feature) or _feature_label(feature)


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
    labels = [_driver_label(g) for g in order]
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                         subplot_titles=["Mean |SHAP| (popularity points)",
                                         "Held-out R² drop when shuffled"])
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
    return fig


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
            hover = f"{_driver_label(group)}: SHAP %{{x:.2f}}<extra></extra>"
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
            hover = (f"{_driver_label(group)} = %{{customdata}}<br>SHAP %{{x:.2f}}"
                     "<extra></extra>")
        traces.append(go.Scatter(
            x=_r(shap, 3), y=_r(y, 3), mode="markers", marker=marker, customdata=custom,
            name=_driver_label(group), showlegend=False, visible=visible,
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
                            ticktext=[_driver_label(g) for g in groups][::-1]))
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
        xaxis=dict(title="SHAP value (popularity points added to the prediction)"),
        yaxis=dict(tickvals=layouts[0]["tickvals"], ticktext=layouts[0]["ticktext"],
                   showgrid=False, zeroline=False),
        updatemenus=[dict(type="buttons", direction="right", x=0, xanchor="left", y=1.02,
                          yanchor="bottom", buttons=buttons)] if len(protocols) > 1 else [],
    )
    return fig


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
    titles = [f"{_driver_label(f.attrs['feature'])} (colour: "
              f"{_driver_label(f.attrs['color_by']) if f.attrs.get('color_by') else 'none'})"
              for f in frames]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles,
                         horizontal_spacing=0.08, vertical_spacing=0.14)
    for i, frame in enumerate(frames):
        row, col = divmod(i, columns)
        colour = _percentile(frame["color"].to_numpy(dtype=float))
        partner = _driver_label(frame.attrs["color_by"]) if frame.attrs.get("color_by") else ""
        fig.add_scatter(
            x=_r(frame["x"], 4), y=_r(frame["shap"], 3), mode="markers",
            marker=dict(size=4, opacity=0.75, color=_r(colour, 3), colorscale=FEATURE_VALUE_SCALE,
                        cmin=0, cmax=1, showscale=i == 0,
                        colorbar=dict(title=dict(text="partner value<br>(percentile)",
                                                 side="right"),
                                      tickvals=[0, 1], ticktext=["low", "high"], thickness=12,
                                      len=0.5)),
            customdata=_r(frame["color"], 3), showlegend=False,
            name=_driver_label(frame.attrs["feature"]),
            hovertemplate=(f"{_driver_label(frame.attrs['feature'])} %{{x}}<br>SHAP %{{y:.2f}}"
                           f"<br>{partner} %{{customdata}}<extra></extra>"),
            row=row + 1, col=col + 1,
        )
        fig.add_hline(y=0, line=dict(color=_LINE_COLOR, width=1), row=row + 1, col=col + 1)
        fig.update_xaxes(title_text=_driver_axis_label(frame.attrs["feature"]), row=row + 1,
                         col=col + 1)
        fig.update_yaxes(title_text="SHAP (points)" if col == 0 else None, row=row + 1,
                         col=col + 1)
    fig.update_annotations(font_size=13)
    fig.update_layout(title=title, height=340 * rows + 120)
    return fig


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
        f"SHAP value of {_driver_label(a)}",
        f"Interaction {_driver_label(a)} × {_driver_label(b)}"])
    colour = _r(_percentile(pair[b].to_numpy(dtype=float)), 3)
    for col, column in ((1, f"shap_{a}"), (2, f"interaction_{a}_{b}")):
        fig.add_scatter(
            x=_r(pair[a], 4), y=_r(pair[column], 3), mode="markers", showlegend=False,
            marker=dict(size=6, opacity=0.85, color=colour, colorscale=FEATURE_VALUE_SCALE,
                        cmin=0, cmax=1, showscale=col == 1,
                        colorbar=dict(title=dict(text=f"{_driver_label(b)}<br>(percentile)",
                                                 side="right"),
                                      tickvals=[0, 1], ticktext=["low", "high"],
                                      thickness=12, len=0.6)),
            customdata=_r(pair[b], 3), name=column,
            hovertemplate=(f"{_driver_label(a)} %{{x}}<br>{_driver_label(b)} %{{customdata}}"
                           "<br>%{y:.2f} points<extra></extra>"),
            row=1, col=col,
        )
        fig.add_hline(y=0, line=dict(color=_LINE_COLOR, width=1), row=1, col=col)
        fig.update_xaxes(title_text=_driver_axis_label(a), row=1, col=col)
    fig.update_yaxes(title_text="points", row=1, col=1)
    fig.update_annotations(font_size=13)
    fig.update_layout(title=title, height=440)
    return fig


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
    labels = [_driver_label(g) for g in groups]
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
                      xaxis=dict(title="Mean |SHAP| within the macro-genre (popularity points)",
                                 rangemode="tozero"),
                      legend=dict(font=dict(size=12)))
    return fig


def plot_history_vs_track(history: dict, *, title: str | None = None) -> go.Figure:
    """How much of the known-artist model is the artist's record, and how much the track.

    Left: held-out R² of the artist's mean popularity alone, of the model without artist
    history and of the full model (one fold). Right: the share of the prediction's movement
    (mean |SHAP|) carried by artist history versus everything about the track.

    Parameters
    ----------
    history
        ``summary["protocols"]["known_artist"]["artist_history"]`` of
        :func:`analysis.explain.load_explanations`.
    """
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.14,
                         subplot_titles=["Held-out R²", "Share of mean |SHAP|"])
    bars = [("Artist mean alone", history.get("r2_history_alone"), NEUTRAL_COLOR),
            ("Track only (no history)", history["r2_without_history"],
             PROTOCOL_COLORS["cold_start"]),
            ("Track + artist history", history["r2_with_history"],
             PROTOCOL_COLORS["known_artist"])]
    bars = [b for b in bars if b[1] is not None]
    fig.add_bar(x=[b[0] for b in bars], y=[round(b[1], 4) for b in bars],
                marker_color=[b[2] for b in bars], text=[f"{b[1]:.2f}" for b in bars],
                textposition="outside", cliponaxis=False, showlegend=False,
                hovertemplate="%{x}: R² %{y:.3f}<extra></extra>", row=1, col=1)
    share = history["shap_share_history"]
    for label, value, color in (("artist history", share, PROTOCOL_COLORS["known_artist"]),
                                ("the track", 1 - share, PROTOCOL_COLORS["cold_start"])):
        fig.add_bar(x=["known-artist model"], y=[round(value, 4)], name=label,
                    marker_color=color, text=[f"{label}<br>{value:.0%}"],
                    textposition="inside", insidetextanchor="middle",
                    hovertemplate=f"{label}: %{{y:.1%}}<extra></extra>", row=1, col=2)
    fig.update_yaxes(range=[0, 1], row=1, col=1)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    fig.update_layout(title=title, barmode="stack", height=420, showlegend=False)
    fig.update_annotations(font_size=13)
    return fig


def plot_headline_r2(rows: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The leak in one picture: R² as published and replicated, beside the honest protocols.

    Parameters
    ----------
    rows
        One row per bar: ``label``, ``r2``, ``sd`` (over folds, may be NaN), ``leaky`` (bool);
        e.g. :func:`analysis.report.headline_r2`.

    Examples
    --------
    >>> rows = pd.DataFrame({"label": ["leaky", "honest"], "r2": [0.8, 0.4],
    ...                       "sd": [float("nan"), 0.01], "leaky": [True, False]})
    >>> [b.marker.color for b in plot_headline_r2(rows).data]
    ['#E69F00', '#332288']
    """
    fig = go.Figure()
    for _, row in rows.iterrows():
        kind = "leaky" if row["leaky"] else "honest"
        fig.add_bar(
            x=[row["label"]], y=[round(float(row["r2"]), 4)], name=kind,
            marker_color=ACCENT_COLORS[kind], showlegend=False,
            error_y=None if pd.isna(row["sd"]) else dict(
                type="data", array=[round(float(row["sd"]), 4)], thickness=1.2),
            text=[f"{row['r2']:.2f}"], textposition="inside", insidetextanchor="end",
            textfont=dict(color="white", size=16),
            hovertemplate=f"{row['label'].replace('<br>', ' ')}: R² %{{y:.3f}}<extra></extra>",
        )
    fig.update_layout(title=title, height=420, bargap=0.35,
                      yaxis=dict(title="R² (share of popularity variance explained)",
                                 range=[0, 1]),
                      xaxis=dict(showgrid=False))
    return fig


def show_root_page(fig: go.Figure, *, name: str) -> Markdown:
    """:func:`show` for a page at the site root (``index.qmd``): same figure, same div id
    scheme, but plotly.js is loaded from ``assets/`` rather than ``../assets/``.

    Examples
    --------
    >>> html = show_root_page(go.Figure(), name="headline").data
    >>> 'src="assets/plotly.min.js"' in html and "../assets" not in html
    True
    """
    return raw_html(figure_html(fig, name=name, plotly_js=ROOT_PLOTLY_JS_SRC))


# --- Modeling charts ---
#
# Charts of the Model part (chapter 04-modeling). Each reads the build's metrics.json (a dict
# from analysis.models.load_metrics), never a model or the raw tracks, so the chapter only
# reads artifacts. The leaky replica always wears ACCENT_COLORS["leaky"].

#: One colour per evaluation protocol (leaky orange, honest indigo, and Tol teal for the
#: stricter honest protocol).
PROTOCOL_COLORS: dict[str, str] = {
    "seed_replica": ACCENT_COLORS["leaky"],
    "known_artist": ACCENT_COLORS["honest"],
    "cold_start": "#44AA99",
}

#: How protocols are named on charts.


def _model_label(metrics: dict, name: str) -> str:
    for section in metrics["protocols"].values():
        if name in section["models"]:
            return section["models"][name]["label"]
    return name


def plot_leak_comparison(metrics: dict, *, metric: str = "r2", title: str | None = None
                         ) -> go.Figure:
    """The same models scored under the leaky replica and the two honest protocols.

    Bars are fold means; error bars one standard deviation over folds (the replica has a
    single split, so none).
    """
    models = list(metrics["protocols"]["seed_replica"]["models"])
    fig = go.Figure()
    for protocol in PROTOCOL_LABELS:
        section = metrics["protocols"][protocol]
        present = [m for m in models if m in section["models"]]
        values = [section["models"][m]["metrics"][metric] for m in present]
        fig.add_bar(
            x=[_model_label(metrics, m) for m in present],
            y=_r([v["mean"] for v in values], 4),
            error_y=dict(type="data", array=_r([v["sd"] or 0 for v in values], 4),
                         visible=protocol != "seed_replica", color=_LINE_COLOR),
            name=PROTOCOL_LABELS[protocol], marker_color=PROTOCOL_COLORS[protocol],
            text=[f"{v['mean']:.2f}" for v in values], textposition="outside",
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
    audit = metrics["findings"]["leak_audit"]
    leaky, honest = audit["seed_replica"], audit["known_artist"]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.16, subplot_titles=(
        "Replica test rows", "Artist mean alone as the prediction"))
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
        row=1, col=2, x=["over all rows<br>(original)", "out of fold<br>(known artist)"],
        y=_r(r2, 4), marker_color=[PROTOCOL_COLORS["seed_replica"],
                                   PROTOCOL_COLORS["known_artist"]],
        text=[f"{v:.2f}" for v in r2], textposition="outside", showlegend=False,
        hovertemplate="%{x}: R² %{y:.3f}<extra></extra>",
    )
    fig.update_yaxes(title_text="% of test rows", range=[0, 100], row=1, col=1)
    fig.update_yaxes(title_text="R²", range=[0, 1], row=1, col=2)
    fig.update_layout(title=title, height=420)
    return fig


def plot_error_by_macro_genre(metrics: dict, *, model: str = "xgboost_tuned",
                              title: str | None = None) -> go.Figure:
    """Out-of-fold MAE per macro-genre under both honest protocols, worst on top."""
    fig = go.Figure()
    order = None
    for protocol in ("cold_start", "known_artist"):
        table = metrics["protocols"][protocol]["models"][model]["error_analysis"][
            "by_macro_genre"]
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
                      xaxis=dict(title="MAE (popularity points, out of fold)"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def plot_error_by_popularity_band(metrics: dict, *, model: str = "xgboost_tuned",
                                  title: str | None = None) -> go.Figure:
    """Mean prediction against the truth per popularity band: low tracks are over-predicted,
    hits under-predicted (regression to the mean)."""
    fig = go.Figure()
    bands = None
    for protocol in ("cold_start", "known_artist"):
        table = metrics["protocols"][protocol]["models"][model]["error_analysis"][
            "by_popularity_band"]
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


def plot_zero_mass(metrics: dict, *, protocol: str = "cold_start", model: str = "xgboost_tuned",
                   title: str | None = None) -> go.Figure:
    """Where the model puts tracks whose popularity is exactly 0, against all other tracks."""
    hist = metrics["protocols"][protocol]["models"][model]["error_analysis"][
        "prediction_histogram"]
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


def plot_interval_coverage(metrics: dict, *, level: str = "0.9", model: str = "xgboost_tuned",
                           title: str | None = None) -> go.Figure:
    """Coverage per macro-genre of one global offset versus one offset per macro-genre."""
    from analysis.models import COVERAGE_TOLERANCE  # the bound, drawn as a band

    nominal = float(level)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                         subplot_titles=[PROTOCOL_LABELS[p] for p in ("cold_start",
                                                                       "known_artist")])
    order = list(MACRO_GENRES)[::-1]
    for col, protocol in enumerate(("cold_start", "known_artist"), start=1):
        intervals = metrics["protocols"][protocol]["models"][model]["intervals"]
        for kind, name, color, symbol in (
            ("global", "one offset for all", NEUTRAL_COLOR, "circle-open"),
            ("mondrian", "one offset per macro-genre", PROTOCOL_COLORS[protocol], "circle"),
        ):
            table = intervals[kind][level]["by_macro_genre"]
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
    fig.update_xaxes(title_text=f"Coverage of the {nominal:.0%} interval (%)")
    fig.update_layout(title=title, height=620,
                      legend=dict(orientation="h", y=1.06, yanchor="bottom", x=0))
    return fig


def plot_feature_ladder(summary: dict, *, title: str | None = None) -> go.Figure:
    """Held-out R² of each honest protocol's fold model refit on growing feature sets.

    ``summary`` is ``models/shap/summary.json`` (:func:`analysis.explain.load_explanations`);
    its ``feature_ladder`` steps are cumulative, so each bar adds one kind of metadata.
    """
    fig = go.Figure()
    for protocol in ("cold_start", "known_artist"):
        steps = summary["protocols"][protocol]["feature_ladder"]["steps"]
        fig.add_bar(
            x=[step["step"] for step in steps], y=_r([step["r2"] for step in steps], 4),
            name=PROTOCOL_LABELS[protocol], marker_color=PROTOCOL_COLORS[protocol],
            text=[f"{step['r2']:.2f}" for step in steps], textposition="outside",
            customdata=[step["n_columns"] for step in steps],
            hovertemplate="%{x}<br>" + PROTOCOL_LABELS[protocol]
                          + ": R² %{y:.3f} (%{customdata} columns)<extra></extra>",
        )
    fig.update_layout(title=title, barmode="group",
                      yaxis=dict(title="R², held-out fold (same tuned parameters)",
                                 range=[0, 1]),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def plot_sampling_artefacts(metrics: dict, *, title: str | None = None) -> go.Figure:
    """New-artist R² with the allowed features, then with the forbidden sampling artefacts."""
    finding = metrics["findings"]["sampling_artefacts"]
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
    fig.update_layout(title=title, yaxis=dict(title="R², new-artist folds (XGBoost defaults)",
                                              range=[0, 1]))
    return fig


#: Names of the chapter benchmark, which lives in :mod:`analysis.bench` now; still importable
#: from here (``tests/test_browser.py`` does), loaded on first use so that importing the
#: charts never imports the benchmark.
_MOVED_TO_BENCH = ("chapter_weights", "figure_weights", "print_chapter_weights")


def __getattr__(name: str):
    if name in _MOVED_TO_BENCH:
        from analysis import bench

        return getattr(bench, name)
    raise AttributeError(f"module 'analysis.plots' has no attribute {name!r}")
