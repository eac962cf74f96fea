"""Tests for the chapter benchmark in analysis.bench (figure and chapter weights)."""

from __future__ import annotations

import json

import nbformat
import pytest
from _mood_tracks import make_tracks

from analysis import bench, moods, plots


def _chapter(path, fig, name):
    """A notebook whose one cell shows ``fig`` the way chapters do (a Markdown output)."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("show(...)", outputs=[nbformat.v4.new_output(
            "execute_result", data={"text/markdown": plots.show(fig, name=name).data,
                                    "text/plain": "<IPython.core.display.Markdown object>"},
            execution_count=1)]),
        nbformat.v4.new_markdown_cell("text"),
    ])
    nbformat.write(nb, path)
    return path


def test_figure_weights_reads_show_outputs(tmp_path):
    fig = plots.plot_effect_sizes(moods.kruskal_by_feature(make_tracks(), ["energy"]))
    path = _chapter(tmp_path / "x.ipynb", fig, "eps-test")
    weights = bench.figure_weights(path)
    assert weights["name"].tolist() == ["eps-test"]
    payload = fig.to_plotly_json()
    expected = len(json.dumps(payload["data"])) + len(json.dumps(payload["layout"]))
    assert weights.loc[0, "json_bytes"] == pytest.approx(expected, rel=0.5)
    assert weights.loc[0, "html_bytes"] >= weights.loc[0, "json_bytes"]
    chapters, figures = bench.chapter_weights([path], execute=False)
    assert chapters.loc[0, "figures"] == 1 and figures.loc[0, "name"] == "eps-test"


def test_print_chapter_weights(tmp_path, capsys):
    fig = plots.plot_effect_sizes(moods.kruskal_by_feature(make_tracks(), ["energy"]))
    path = _chapter(tmp_path / "c.ipynb", fig, "one")
    bench.print_chapter_weights([path], execute=False)
    out = capsys.readouterr().out
    assert "c.ipynb: executed in nan s" in out and "1 figures" in out and "  one: " in out
