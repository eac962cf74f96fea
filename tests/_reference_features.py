"""The feature code of e22c0d3 (before vectorisation), kept verbatim as the reference.

``analysis.features._text_features`` was rewritten for speed (issue 14: RE2 through pyarrow
for ASCII text, Python ``re`` for the rest). ``tests/test_features_speed.py`` checks that the
new code builds bit-identical matrices to this one on every real track and on edge cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.features import _VERSION_PART, TEXT_MARKERS


def _version_part(titles: pd.Series) -> pd.Series:
    """Bracketed text and text after ' - ', joined; empty when a title has none."""
    def extract(title: str) -> str:
        return " ".join(a or b for a, b in _VERSION_PART.findall(title))

    return titles.fillna("").map(extract)


def _text_features(frame: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    out = {}
    has = {c: c in frame.columns for c in ("artists", "track_name", "album_name")}
    title = frame["track_name"].astype("string") if has["track_name"] else None
    album = frame["album_name"].astype("string") if has["album_name"] else None
    nan = pd.Series(np.nan, index=index)

    def flag(mask: pd.Series, present: pd.Series) -> pd.Series:
        return mask.astype("float64").where(present, np.nan)

    if has["artists"]:
        artists = frame["artists"].astype("string")
        counts = artists.str.split(";").map(
            lambda names: float(sum(1 for a in names if a.strip())), na_action="ignore"
        )
        out["n_artists"] = pd.to_numeric(counts, errors="coerce").astype("float64")
    else:
        out["n_artists"] = nan
    if has["track_name"] and has["album_name"]:
        same = title.str.casefold().str.strip() == album.str.casefold().str.strip()
        out["is_single"] = flag(same.fillna(False), title.notna() & album.notna())
    else:
        out["is_single"] = nan
    version = _version_part(title.astype(object)) if has["track_name"] else None
    for marker in TEXT_MARKERS:
        text = {"track_name": title, "album_name": album}[marker.column]
        if text is None:
            out[marker.name] = nan
            continue
        source = version if marker.version_part_only else text.fillna("").astype(object)
        hit = source.map(lambda s, rx=marker.regex: bool(rx.search(s)))
        out[marker.name] = flag(hit.astype(bool), text.notna())
    # Title length only: an exact album-name length singles out one album, and would let a
    # model learn a compilation's popularity from its other artists' tracks (measured: it
    # helped only on test tracks whose album was in training).
    if title is None:
        out["title_length"] = nan
    else:
        out["title_length"] = title.str.len().astype("float64")
    for prefix, text in (("title", title), ("album", album)):
        if text is None:
            out[f"{prefix}_non_ascii"] = nan
        else:
            non_ascii = text.fillna("").str.contains(r"[^\x00-\x7F]", regex=True)
            out[f"{prefix}_non_ascii"] = flag(non_ascii.astype(bool), text.notna())
    return pd.DataFrame({k: pd.Series(v, index=index).to_numpy(dtype="float64")
                         for k, v in out.items()}, index=index)
