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
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import HTML

from analysis.genres import MACRO_GENRES
from analysis.paths import PROJECT_ROOT

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
ASSETS_DIR = PROJECT_ROOT / "assets"

#: Prefix of every figure's div id. Not ``fig-``: Quarto gives a cell labelled
#: ``fig-<slug>`` that id, and a second element with the same id would capture the plot.
DIV_ID_PREFIX = "plotly-"

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


def show(fig: go.Figure, *, name: str) -> HTML:
    """Embed a figure in a chapter: small, offline, and identical on every run.

    Why not ``fig.show()``: Quarto does not draw Plotly's own mime type, and the inline
    renderers put 4.8 MB of plotly.js into every notebook. This fragment instead loads the
    site's single shared copy (:data:`PLOTLY_JS_SRC`), and its div id is derived from
    ``name`` rather than random, so nbval sees the same output on every run.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        The figure, typically from a ``plot_*`` function.
    name : str
        Slug unique within the page (lowercase letters, digits, single dashes), e.g.
        ``"popularity-by-genre"``; the div id is ``DIV_ID_PREFIX + name``.

    Returns
    -------
    IPython.display.HTML
        The last expression of a notebook cell; Quarto renders its ``text/html`` output.

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
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"figure name must be a slug like 'popularity-by-genre', got {name!r}")
    html = fig.to_html(
        include_plotlyjs=PLOTLY_JS_SRC,
        full_html=False,
        div_id=f"{DIV_ID_PREFIX}{name}",
        config={
            **PLOT_CONFIG,
            "toImageButtonOptions": {**PLOT_CONFIG["toImageButtonOptions"], "filename": name},
        },
    )
    return HTML(html)


def ensure_plotly_js(dest_dir: Path = ASSETS_DIR) -> Path:
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
