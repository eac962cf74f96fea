"""How chapter outputs reach the page: as Markdown, never as ``text/html``.

Quarto treats any ``text/html`` output of a notebook as a possible Jupyter widget and adds
require.js and jQuery from a CDN to the page head; offline, both fail and the page logs
errors. A ``text/markdown`` output holding a raw HTML block (a fence opened with ``{=html}``)
passes its markup, scripts included, into the page unchanged and adds nothing. Every figure
and interactive table therefore goes through :func:`raw_html`, and every small data table
through :func:`markdown_frame`.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

#: Longer than any backtick run in generated markup, so the fence cannot close early.
_FENCE = "`" * 6

#: Prefix of every embedded figure's div id (:func:`analysis.plots.show`); the chapter
#: benchmark finds figures in stored outputs by it. Not ``fig-``: Quarto gives a cell labelled
#: ``fig-<slug>`` that id, and a second element with the same id would capture the plot.
DIV_ID_PREFIX = "plotly-"


def raw_html(markup: str) -> Markdown:
    """``markup`` as a Markdown raw HTML block: shown as is, with no CDN script added.

    Examples
    --------
    >>> print(raw_html("<b>x</b>").data)
    ``````{=html}
    <b>x</b>
    ``````
    """
    if _FENCE in markup:
        raise ValueError("markup contains the raw-block fence; it would end the block early")
    return Markdown(f"{_FENCE}{{=html}}\n{markup}\n{_FENCE}")


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table; integers with thousands separators, booleans as yes/no.

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"a": [1000], "b": ["x|y"]})))
    | a | b |
    |---|---|
    | 1,000 | x\\|y |
    """
    def fmt(value: object) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def markdown_frame(frame: pd.DataFrame) -> Markdown:
    """``frame`` (index dropped) as a Markdown pipe table for a chapter cell's output."""
    return Markdown(markdown_table(frame.reset_index(drop=True)))
