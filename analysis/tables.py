"""Interactive tables (search, sort, paging) that work with no network.

Tables are rendered by itables (DataTables). Its default loads the DataTables bundle from a CDN,
which fails offline; its "offline" mode inlines 700 KB into every table. Here, as for plotly.js,
one copy of the bundle ships with the site (``assets/dt_bundle.js`` and ``.css``, copied from
the installed itables package) and every table imports it by a path relative to the page.

Track, artist and album names are data, not markup: every string cell is HTML-escaped here,
and the only markup added is the Spotify link this module builds itself.
"""

from __future__ import annotations

import filecmp
import html
import shutil
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from analysis import paths
from analysis.embed import raw_html

#: The bundle as seen from a chapter page (``chapters/*.html`` → ``assets/``).
TABLES_JS_URL = "../assets/dt_bundle.js"

_BUNDLE_FILES = ("dt_bundle.js", "dt_bundle.css")

SPOTIFY_TRACK_URL = "https://open.spotify.com/track/{}"


def ensure_table_assets(dest_dir: Path = paths.ASSETS_DIR) -> Path:
    """Copy itables' DataTables bundle into ``dest_dir`` (a build output) if missing or stale."""
    import itables

    source_dir = Path(itables.__file__).parent / "html"
    dest_dir.mkdir(parents=True, exist_ok=True)
    for name in _BUNDLE_FILES:
        source, dest = source_dir / name, dest_dir / name
        if not dest.exists() or not filecmp.cmp(source, dest, shallow=False):
            shutil.copyfile(source, dest)
    return dest_dir / _BUNDLE_FILES[0]


def spotify_links(labels: pd.Series, track_ids: pd.Series) -> pd.Series:
    """Escaped ``labels`` wrapped in links to each track's Spotify page.

    Examples
    --------
    >>> spotify_links(pd.Series(["<b>x</b>"]), pd.Series(["abc"])).iloc[0]
    '<a href="https://open.spotify.com/track/abc" target="_blank">&lt;b&gt;x&lt;/b&gt;</a>'
    """
    urls = track_ids.map(lambda t: html.escape(SPOTIFY_TRACK_URL.format(t), quote=True))
    text = labels.fillna("").map(html.escape)
    return '<a href="' + urls + '" target="_blank">' + text + "</a>"


def escape_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """HTML-escape every text cell so that names render as text, never as markup."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            out[column] = out[column].map(lambda v: v if pd.isna(v) else html.escape(str(v)))
    return out


def show_table(
    frame: pd.DataFrame,
    *,
    name: str,
    links: Mapping[str, str] | None = None,
    caption: str | None = None,
    page_length: int = 10,
) -> Markdown:
    """Embed ``frame`` as a searchable, sortable, paged table.

    Parameters
    ----------
    frame
        The rows to show; index is dropped (put what matters in columns).
    name
        Stable identifier; the table's id becomes ``tbl-<name>`` so stored notebook outputs do not
        change between runs.
    links
        ``{label_column: track_id_column}``: the label column becomes a link to the track on
        Spotify, and the id column is dropped from the display.
    caption, page_length
        Passed to DataTables.
    """
    import itables

    shown = escape_strings(frame.reset_index(drop=True))
    for label, id_column in (links or {}).items():
        shown[label] = spotify_links(frame[label].reset_index(drop=True),
                                     frame[id_column].reset_index(drop=True))
        shown = shown.drop(columns=id_column)
    markup = itables.to_html_datatable(
        shown,
        caption=caption,
        table_id=f"tbl-{name}",
        connected=True,
        dt_url=TABLES_JS_URL,
        allow_html=True,  # safe: every cell was escaped above
        pageLength=page_length,
        classes="display compact",
        showIndex=False,
        maxBytes=0,
        display_logo_when_loading=False,
    )
    return raw_html(markup)
