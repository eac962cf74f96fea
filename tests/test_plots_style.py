"""Tests for the site's figure style and offline embedding (analysis.plots.style)."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from analysis import paths, plots
from analysis.genres import MACRO_GENRES
from analysis.paths import PROJECT_ROOT
from analysis.plots import style

PACKAGE_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@pytest.fixture
def site_style():
    """Apply set_style() for one test and restore Plotly's previous default afterwards."""
    previous = pio.templates.default
    plots.set_style()
    yield
    pio.templates.default = previous


#: A small figure using every macro-genre colour (stands in for a plot_* function); code, so
#: that a fresh interpreter can build the same figure without importing this test module.
EXAMPLE_FIGURE = (
    "go.Figure([go.Bar(x=[macro], y=[i + 0.5], name=macro, marker_color=color)"
    " for i, (macro, color) in enumerate(plots.MACRO_GENRE_COLORS.items())],"
    " layout_title_text='Example')"
)


def _example_figure() -> go.Figure:
    return eval(EXAMPLE_FIGURE, {"go": go, "plots": plots})  # noqa: S307


# --- template -----------------------------------------------------------------------------


def test_template_is_registered_and_set_style_makes_it_default(site_style):
    assert plots.TEMPLATE_NAME in pio.templates
    assert pio.templates.default == plots.TEMPLATE_NAME
    assert go.Figure().layout.template.layout.font.family == plots.FONT_FAMILY


def test_font_stack_needs_no_web_font():
    family = plots.FONT_FAMILY
    assert family.rstrip().endswith("sans-serif")
    assert not re.search(r"https?:|url\(|@import", family)
    layout = pio.templates[plots.TEMPLATE_NAME].layout
    assert layout.font.family == family and layout.hoverlabel.font.family == family


def test_template_is_light_readable_and_has_fixed_margins():
    layout = pio.templates[plots.TEMPLATE_NAME].layout
    assert layout.paper_bgcolor == layout.plot_bgcolor == "white"
    assert layout.font.size >= 13 and layout.title.font.size > layout.font.size
    assert layout.margin.l and layout.margin.r and layout.margin.t and layout.margin.b
    assert layout.height >= 400
    assert list(layout.colorway) == list(plots.MACRO_GENRE_COLORS.values())


# --- palette ------------------------------------------------------------------------------


def test_every_macro_genre_has_a_colour_in_display_order():
    assert tuple(plots.MACRO_GENRE_COLORS) == MACRO_GENRES


def test_colours_are_unique_hex_and_apart_from_neutral_and_accents():
    colours = [c.upper() for c in plots.MACRO_GENRE_COLORS.values()]
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colours)
    assert len(set(colours)) == len(colours)
    extras = [plots.NEUTRAL_COLOR.upper(), *(c.upper() for c in plots.ACCENT_COLORS.values())]
    assert set(plots.ACCENT_COLORS) == {"honest", "leaky"}
    assert len(set(extras)) == 3 and not set(extras) & set(colours)


# Machado, Oliveira & Fernandes (2009), severity 1, applied to linear RGB.
_CVD = {
    "normal": np.eye(3),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
         [-0.011820, 0.042940, 0.968881]]
    ),
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
         [-0.003882, -0.048116, 1.051998]]
    ),
}  # fmt: skip


def _lab(hex_colour: str, vision: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of a colour as seen with the given colour-vision matrix."""
    srgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = to_xyz @ np.clip(vision @ linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", list(_CVD))
def test_palette_stays_apart_under_colour_blindness(vision):
    """Regression guard for the palette choice: smallest CIE76 difference stays >= 8."""
    colours = [*plots.MACRO_GENRE_COLORS.values(), plots.NEUTRAL_COLOR]
    labs = [_lab(c, _CVD[vision]) for c in colours]
    closest = min(np.linalg.norm(a - b) for a, b in itertools.combinations(labs, 2))
    assert closest >= 8


# --- embedding ----------------------------------------------------------------------------


def test_show_embeds_offline_with_a_fixed_div_id(site_style):
    html = plots.show(_example_figure(), name="macro-example").data
    assert f'<script charset="utf-8" src="{plots.PLOTLY_JS_SRC}"></script>' in html
    assert 'id="plotly-macro-example"' in html
    assert len(html) < 50_000, "plotly.js must not be inlined"
    assert "cdn" not in html and "https:" not in html, "nothing may load from the network"
    assert re.search(r"\"displaylogo\": ?false", html)


def test_show_output_has_no_random_ids_and_repeats_exactly(site_style):
    first = plots.show(_example_figure(), name="macro-example").data
    second = plots.show(_example_figure(), name="macro-example").data
    assert first == second
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert not re.search(uuid, first)


@pytest.mark.slow
def test_show_output_is_identical_in_a_fresh_interpreter(site_style):
    """Different process, different hash seed: stored notebook outputs must not change."""
    script = (
        "import sys; import plotly.graph_objects as go; from analysis import plots;"
        f"plots.set_style(); fig = {EXAMPLE_FIGURE};"
        "sys.stdout.write(plots.show(fig, name='macro-example').data)"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "123"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert fresh == plots.show(_example_figure(), name="macro-example").data


@pytest.mark.parametrize("bad", ["", "Has Caps", "under_score", "-lead", "trail-", "a--b", 3])
def test_show_rejects_names_that_are_not_slugs(bad):
    with pytest.raises(ValueError, match="slug"):
        plots.show(go.Figure(), name=bad)


def test_plotly_js_src_points_from_a_chapter_to_the_assets_folder():
    from_chapter = (PROJECT_ROOT / "chapters" / plots.PLOTLY_JS_SRC).resolve()
    assert from_chapter == (paths.ASSETS_DIR / "plotly.min.js").resolve()


# --- ensure_plotly_js ---------------------------------------------------------------------


def test_ensure_plotly_js_copies_the_package_file(tmp_path):
    dest = plots.ensure_plotly_js(tmp_path / "assets")
    assert dest == tmp_path / "assets" / "plotly.min.js"
    assert dest.read_bytes() == PACKAGE_JS.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["plotly.min.js"]


def test_ensure_plotly_js_leaves_an_identical_copy_alone(tmp_path, monkeypatch):
    dest = plots.ensure_plotly_js(tmp_path)

    def fail(*args, **kwargs):
        raise AssertionError("copied although the file was up to date")

    monkeypatch.setattr(style.shutil, "copyfile", fail)
    assert plots.ensure_plotly_js(tmp_path) == dest


def test_ensure_plotly_js_replaces_a_different_copy(tmp_path):
    stale = tmp_path / "plotly.min.js"
    stale.write_text("/* plotly.js from another version */")
    plots.ensure_plotly_js(tmp_path)
    assert stale.read_bytes() == PACKAGE_JS.read_bytes()


def test_root_page_embed_points_at_the_root_assets():
    html = plots.show_root_page(go.Figure(go.Bar(x=[1], y=[1])), name="headline-r2").data
    assert 'src="assets/plotly.min.js"' in html
    assert 'id="plotly-headline-r2"' in html
    assert "../assets" not in html


def test_every_chart_module_draws_with_the_one_style():
    """Colours come from style only: no chart module defines a colour of its own."""
    for module in ("data", "eda", "moods", "modeling", "drivers"):
        source = (PROJECT_ROOT / "analysis" / "plots" / f"{module}.py").read_text()
        assert not re.search(r"#[0-9A-Fa-f]{6}\b", source), f"plots/{module}.py defines a colour"


def test_package_reexports_every_public_chart_and_style_name():
    from analysis.plots import data, drivers, eda, modeling, moods

    for module in (style, data, eda, moods, modeling, drivers):
        for name in module.__all__:
            assert getattr(plots, name) is getattr(module, name), name
            assert name in plots.__all__, name


def test_benchmark_names_stay_importable_from_plots():
    from analysis import bench

    assert plots.figure_weights is bench.figure_weights
    with pytest.raises(AttributeError):
        plots.no_such_chart  # noqa: B018
