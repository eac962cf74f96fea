"""The one figure style of the site, and the offline way to embed figures in chapters.

Every chart module of :mod:`analysis.plots` draws with what this module defines, which is
what makes the chapters look like one report.

Style
    :data:`TEMPLATE_NAME` is registered with Plotly on import; :func:`set_style` (called in
    every chapter's Prerequisites cell) makes it the default. System fonts only (the site
    makes no web-font request), a light background, 14 px text for a 1280 px screen.
Palette
    :data:`MACRO_GENRE_COLORS` gives each macro-genre of :data:`analysis.genres.MACRO_GENRES`
    one colour, in that order, on every chart; :data:`NEUTRAL_COLOR` is for "all tracks" or
    "other", :data:`ACCENT_COLORS` for two-way contrasts such as an honest versus a leaky
    protocol, :data:`PROTOCOL_COLORS` for the three evaluation protocols,
    :data:`EXTERNAL_COLOR` for a score measured on another crawl and
    :data:`FEATURE_VALUE_SCALE` for "a feature's value, low to high".
Fitting
    Plotly does not wrap text: a title longer than its axis, or wider than a phone's screen,
    is cut off. Charts keep their titles short or break them over lines (:func:`_two_lines`),
    and a chart whose cells or labels cannot shrink to a phone's width states its minimum
    width (:func:`_set_min_width`): below it the figure scrolls sideways inside its own
    wrapper instead of shrinking.
    ``tests/test_browser.py`` checks every chart at 1280 px and at 390 px for text that is cut
    off or runs into other text.
Embedding
    :func:`show` writes the figure as a small HTML fragment that loads the site's single copy
    of plotly.js (:data:`PLOTLY_JS_SRC`, put in place by :func:`ensure_plotly_js`), with a
    fixed div id, so notebooks stay small, pages work offline and stored outputs are
    identical run to run (see ``QUARTO-FACTS.md``). :func:`show_root_page` does the same for
    the front page.

The underscore helpers (``_r``, ``_hex_to_rgba``, ``_two_lines``, ``_set_min_width`` and the
line colours) are shared by the chart modules of this package and by nothing else.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import plotly
import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import Markdown

from analysis import paths
from analysis.embed import DIV_ID_PREFIX, raw_html
from analysis.genres import MACRO_GENRES
from analysis.labels import PROTOCOL_LABELS

__all__ = [
    "ACCENT_COLORS",
    "DIV_ID_PREFIX",
    "EXPLICIT_COLORS",
    "EXTERNAL_COLOR",
    "FEATURE_VALUE_SCALE",
    "FONT_FAMILY",
    "MACRO_GENRE_COLORS",
    "MIN_CHART_WIDTH",
    "NEUTRAL_COLOR",
    "PLOTLY_JS_SRC",
    "PLOT_CONFIG",
    "PROTOCOL_COLORS",
    "PROTOCOL_LABELS",
    "ROOT_PLOTLY_JS_SRC",
    "TEMPLATE_NAME",
    "ZERO_COLOR",
    "ensure_plotly_js",
    "figure_html",
    "set_style",
    "show",
    "show_root_page",
]

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

#: One colour per evaluation protocol (leaky orange, honest indigo, and Tol teal for the
#: stricter honest protocol); charts name protocols with :data:`PROTOCOL_LABELS`.
PROTOCOL_COLORS: dict[str, str] = {
    "seed_replica": ACCENT_COLORS["leaky"],
    "known_artist": ACCENT_COLORS["honest"],
    "cold_start": "#44AA99",
}

#: A score measured on another crawl of Spotify (``models/external.json``), beside the same score
#: in this crawl in its protocol's colour: Tol muted wine, apart from the three protocol colours
#: under every colour-vision type.
EXTERNAL_COLOR = "#882255"

#: Colour of the zero-popularity bar, set apart from the rest of the distribution (the
#: Okabe-Ito orange of :data:`ACCENT_COLORS`).
ZERO_COLOR = ACCENT_COLORS["leaky"]

#: Colours for a track being explicit or not (neutral grey vs Okabe-Ito orange).
EXPLICIT_COLORS: dict[bool, str] = {False: NEUTRAL_COLOR, True: ZERO_COLOR}

#: Sequential scale for "feature value, low to high" (blue to red, like shap's beeswarm, but
#: from Tol's colour-blind-safe sunset scheme).
FEATURE_VALUE_SCALE: list[list] = [
    [0.0, "#364B9A"], [0.25, "#6EA6CD"], [0.5, "#EAECCC"], [0.75, "#F67E4B"], [1.0, "#A50026"],
]

#: The shared plotly.js as seen from a chapter page (``chapters/*.ipynb`` → ``assets/``).
PLOTLY_JS_SRC = "../assets/plotly.min.js"

#: The shared plotly.js as seen from a page at the site root (``index.qmd``).
ROOT_PLOTLY_JS_SRC = "assets/plotly.min.js"

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


def _r(values, digits: int = 4) -> list:
    """Round for the figure JSON: four decimals is finer than any chart can show."""
    return [None if v is None or pd.isna(v) else round(float(v), digits) for v in values]


def _hex_to_rgba(color: str, alpha: float) -> str:
    color = color.lstrip("#")
    red, green, blue = (int(color[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def _two_lines(label: str) -> str:
    """A label's unit on a second line: subplot and axis titles stay narrow.

    Examples
    --------
    >>> _two_lines("Danceability (0–1)"), _two_lines("Tracks")
    ('Danceability<br>(0–1)', 'Tracks')
    """
    name, paren, rest = label.partition(" (")
    return f"{name}<br>({rest}" if paren else label


#: Key of ``layout.meta`` under which a chart states its minimum width (CSS px).
_MIN_WIDTH_KEY = "min_width"

#: Narrowest width (CSS px) at which a chart with side-by-side panels, a dense grid or many
#: labels stays legible; such a chart declares it (:func:`_set_min_width`) and, on a phone,
#: scrolls sideways inside its cell. Single-panel charts fit a phone's width instead.
MIN_CHART_WIDTH = 600


def _set_min_width(fig: go.Figure, pixels: int) -> go.Figure:
    """Declare that ``fig`` is unreadable narrower than ``pixels`` (a 12 × 12 heatmap, small
    multiples): :func:`figure_html` then gives its div that minimum width, so on a phone the
    chart scrolls sideways inside its cell rather than cutting its labels.

    Examples
    --------
    >>> _set_min_width(go.Figure(), 600).layout.meta
    {'min_width': 600}
    """
    meta = dict(fig.layout.meta) if isinstance(fig.layout.meta, dict) else {}
    fig.update_layout(meta={**meta, _MIN_WIDTH_KEY: int(pixels)})
    return fig


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
            # From the figure's left edge, not the plot area's: long tick labels (a funnel's
            # steps) would otherwise push a title off a phone's screen.
            title=dict(font=dict(size=18), x=0, xanchor="left", xref="container",
                       pad=dict(l=8)),
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
    """The figure's HTML fragment, loading plotly.js from ``plotly_js`` (see :func:`show`).

    A chart that declared a minimum width (:func:`_set_min_width`) gets it on its div.

    Examples
    --------
    >>> html = figure_html(_set_min_width(go.Figure(), 600), name="x", plotly_js="p.js")
    >>> 'class="plotly-graph-div" style="min-width:600px; height:100%; width:100%;"' in html
    True
    >>> html.startswith('<div style="max-width:100%; overflow-x:auto; ')  # scrolls in place
    True
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"figure name must be a slug like 'popularity-by-genre', got {name!r}")
    engine = pio.json.config.default_engine
    pio.json.config.default_engine = "json"
    try:
        markup = fig.to_html(
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
    meta = fig.layout.meta
    min_width = meta.get(_MIN_WIDTH_KEY) if isinstance(meta, dict) else None
    if min_width:
        # The figure keeps its width; its own wrapper scrolls, whatever wraps the output.
        div, outer = 'class="plotly-graph-div" style="', '<div style="'
        if div not in markup or not markup.startswith(outer):
            raise ValueError("Plotly's figure markup changed; cannot set the figure's min-width")
        markup = markup.replace(div, f"{div}min-width:{int(min_width)}px; ", 1)
        markup = outer + "max-width:100%; overflow-x:auto; " + markup[len(outer):]
    return markup


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
