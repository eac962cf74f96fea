"""Title, album-name and credit features, read from text: the vectorised half of the contract.

:mod:`analysis.features` says *which* columns a model may see; this module computes the ones
that come from text (credited artists, the single-release flag, the :data:`TEXT_MARKERS`,
title length, non-ASCII flags). It stands apart because it is a different kind of code: RE2
through pyarrow where it provably agrees with Python's ``re`` (:mod:`analysis.fastregex`),
Python for the rest, checked bit-identical against the row-by-row reference in
``tests/_reference_features.py``. :mod:`analysis.features` re-exports its names, and looks
``_text_features`` up in its own namespace so the tests can swap in that reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.fastregex import count_nonblank_fields, python_each, search_rows, superset_pattern

__all__ = ["COPY_ALBUM_MARKERS", "TEXT_MARKERS", "TextMarker", "copy_album_markers"]

#: A title's version part: bracketed text, or text after " - ".
_VERSION_PART = re.compile(r"[\(\[\{]([^\)\]\}]*)[\)\]\}]|\s-\s(.*)$")


@dataclass(frozen=True)
class TextMarker:
    """A 0/1 flag read from a title or album name with a case-insensitive regex."""

    name: str
    column: str
    pattern: str
    description: str
    version_part_only: bool = False

    @property
    def regex(self) -> re.Pattern:
        return re.compile(self.pattern, re.IGNORECASE)


#: Title and album-name markers. Title markers other than ``feat`` look only at the version
#: part of a title (bracketed text or after " - "), so "Live Forever" is not a live recording.
TEXT_MARKERS: tuple[TextMarker, ...] = (
    TextMarker("title_remix", "track_name", r"\bre-?mix|\brmx\b|\bmix\b|\bbootleg\b|\bflip\b",
               "remix or DJ mix", True),
    TextMarker("title_live", "track_name", r"\blive\b|\bao vivo\b|\ben vivo\b|\ben directo\b",
               "live recording", True),
    TextMarker("title_remaster", "track_name", r"remaster", "remastered release", True),
    TextMarker("title_feat", "track_name", r"\bfeat\b\.?|\bft\.|\bfeaturing\b|[\(\[]with\s",
               "credits a featured artist in the title"),
    TextMarker("title_acoustic", "track_name", r"acoustic|ac[uú]stic[oa]|unplugged",
               "acoustic version", True),
    TextMarker("title_instrumental", "track_name", r"instrumental|karaoke",
               "instrumental or karaoke version", True),
    TextMarker("title_edit", "track_name", r"\bedit\b", "edit (radio edit, single edit)", True),
    TextMarker("title_version", "track_name", r"\bversion\b|\bversi[oó]n\b|\bvers[aã]o\b",
               "named version", True),
    TextMarker("title_sped_slowed", "track_name", r"sped\s*up|slowed|nightcore|reverb",
               "sped-up / slowed / nightcore edit"),
    TextMarker("title_seasonal", "track_name",
               r"christmas|xmas|navidad|natal|santa|jingle|halloween|noel|weihnacht",
               "seasonal (Christmas, Halloween) title"),
    TextMarker("title_soundtrack", "track_name", r"\bfrom\b|soundtrack|\bost\b|theme",
               "soundtrack / 'from the film' credit", True),
    TextMarker("album_compilation", "album_name",
               r"\bhits\b|best of|greatest|collection|essential|anthology|compilation|\bvol\b|"
               r"\bvolume\b|\btop\b|classics|\bmix\b|playlist|party|workout|study|sleep|relax|"
               r"chill|music for|songs|canciones|m[uú]sicas|\bpov\b|mood|vibes|\b\d+ ",
               "compilation- or playlist-style album name"),
    TextMarker("album_dated", "album_name", r"\b(?:19|20)\d\d\b", "album name contains a year"),
    TextMarker("album_seasonal", "album_name",
               r"christmas|xmas|navidad|natal|holiday|halloween|summer|winter|weihnacht|"
               r"no[eë]l|carnaval|karneval|spring|autumn",
               "seasonal album name"),
    TextMarker("album_deluxe", "album_name", r"deluxe|expanded|edition|remaster|anniversary",
               "deluxe, expanded or remastered edition"),
    TextMarker("album_live", "album_name", r"\blive\b|ao vivo|en vivo|unplugged|ac[uú]stico",
               "live or unplugged album"),
    TextMarker("album_soundtrack", "album_name",
               r"soundtrack|\bost\b|original motion|from the|music from",
               "soundtrack album"),
)

#: Album-name markers of a crawl copy of a song (compilation, seasonal, dated): findings about
#: how the dataset was sampled, and what a recipe's clean training rows leave out.
COPY_ALBUM_MARKERS: tuple[str, ...] = ("album_compilation", "album_seasonal", "album_dated")


def copy_album_markers(tracks: pd.DataFrame) -> pd.DataFrame:
    """The three copy-album markers of each track, as booleans.

    The same regular expressions as the model's album features (:data:`TEXT_MARKERS`),
    without building the whole matrix; a missing album name has no marker.

    Examples
    --------
    >>> copy_album_markers(pd.DataFrame({"album_name": ["Greatest Hits 1999", "Blue"]})
    ...                    ).values.tolist()
    [[True, False, True], [False, False, False]]
    """
    album = tracks["album_name"].astype("string").fillna("").astype(object)
    markers = {m.name: m for m in TEXT_MARKERS}
    return pd.DataFrame({
        name: album.map(lambda s, rx=markers[name].regex: bool(rx.search(s))).astype(bool)
        for name in COPY_ALBUM_MARKERS
    }, index=tracks.index)



def _as_arrow(text: pd.Series) -> pa.Array:
    """A ``string`` Series as one pyarrow string array, missing values as ``""``."""
    filled = text.fillna("")
    try:
        array = pa.array(filled.array)
    except (TypeError, pa.ArrowInvalid):
        array = pa.array(filled.to_numpy(dtype=object), type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string())


def _extract_version(title: str) -> str:
    return " ".join(a or b for a, b in _VERSION_PART.findall(title))


def _version_part(titles: pd.Series) -> pd.Series:
    """Bracketed text and text after ' - ', joined; empty when a title has none.

    RE2 picks the titles that may have one (:func:`analysis.fastregex.superset_pattern`);
    Python's ``re`` extracts it from those alone.

    Examples
    --------
    >>> _version_part(pd.Series(["Song (Live) - Remastered 2011", "Plain", None])).tolist()
    ['Live Remastered 2011', '', '']
    """
    text = _as_arrow(titles.astype("string"))
    candidate = pc.match_substring_regex(text, superset_pattern(_VERSION_PART.pattern))
    rows = np.flatnonzero(candidate.to_numpy(zero_copy_only=False))
    out = np.full(len(text), "", dtype=object)
    if rows.size:
        out[rows] = python_each(_extract_version, text.take(pa.array(rows)).to_pylist())
    return pd.Series(out, index=titles.index, dtype=object)


def _count_artists(artists: pd.Series) -> np.ndarray:
    """Credited artists: non-blank names between ``;`` (NaN when ``artists`` is missing)."""
    counts = count_nonblank_fields(_as_arrow(artists), ";").astype("float64")
    counts[artists.isna().to_numpy()] = np.nan
    return counts


def _casefolded_trimmed(text: pd.Series) -> pa.Array:
    """``text.str.casefold().str.strip()`` as pandas computes it on pyarrow strings (Python
    ``casefold``, then Arrow's ``utf8_trim_whitespace``), ASCII rows lowered by Arrow (for
    ASCII, ``casefold`` is ``lower``)."""
    arrow = _as_arrow(text)
    ascii_rows = pc.string_is_ascii(arrow).to_numpy(zero_copy_only=False)
    lowered = pc.ascii_lower(arrow)
    slow = np.flatnonzero(~ascii_rows)
    if slow.size:
        folded = pa.array(python_each(str.casefold, arrow.take(pa.array(slow)).to_pylist()),
                          type=pa.string())
        lowered = pc.replace_with_mask(lowered, pa.array(~ascii_rows), folded)
    return pc.utf8_trim_whitespace(lowered)


def _text_features(frame: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Credits, single-release flag, title and album-name markers, title length, non-ASCII.

    Vectorised (issue 14) with :mod:`analysis.fastregex`: RE2 answers where it provably agrees
    with Python's ``re``, Python decides the rest; ``tests/test_features.py`` checks the
    matrices are bit-identical to the row-by-row code's (``tests/_reference_features.py``) on
    every real track and on both protocols' training matrices.
    """
    n = len(index)
    nan = np.full(n, np.nan)
    has = {c: c in frame.columns for c in ("artists", "track_name", "album_name")}
    title = frame["track_name"].astype("string") if has["track_name"] else None
    album = frame["album_name"].astype("string") if has["album_name"] else None
    out: dict[str, np.ndarray] = {}

    def flag(mask: np.ndarray, present: np.ndarray) -> np.ndarray:
        return np.where(present, mask.astype("float64"), np.nan)

    out["n_artists"] = (_count_artists(frame["artists"].astype("string"))
                        if has["artists"] else nan)
    present = {"track_name": None if title is None else title.notna().to_numpy(),
               "album_name": None if album is None else album.notna().to_numpy()}
    if title is not None and album is not None:
        same = pc.equal(_casefolded_trimmed(title), _casefolded_trimmed(album))
        out["is_single"] = flag(same.to_numpy(zero_copy_only=False),
                                present["track_name"] & present["album_name"])
    else:
        out["is_single"] = nan
    sources: dict[str, tuple[pa.Array, np.ndarray]] = {}
    for column, text in (("track_name", title), ("album_name", album)):
        if text is not None:
            arrow = _as_arrow(text)
            sources[column] = (arrow, pc.string_is_ascii(arrow).to_numpy(zero_copy_only=False))
    if title is not None:
        version = _as_arrow(_version_part(title))
        sources["version"] = (version, pc.string_is_ascii(version).to_numpy(
            zero_copy_only=False))
    for marker in TEXT_MARKERS:
        if marker.column not in sources:
            out[marker.name] = nan
            continue
        text, ascii_rows = sources["version" if marker.version_part_only else marker.column]
        out[marker.name] = flag(search_rows(marker.regex, text, ascii_rows=ascii_rows),
                                present[marker.column])
    # Title length only: an exact album-name length singles out one album, and would let a
    # model learn a compilation's popularity from its other artists' tracks (measured: it
    # helped only on test tracks whose album was in training).
    out["title_length"] = (nan if title is None else
                           title.str.len().to_numpy(dtype="float64", na_value=np.nan))
    for prefix, column in (("title", "track_name"), ("album", "album_name")):
        if column not in sources:
            out[f"{prefix}_non_ascii"] = nan
        else:
            out[f"{prefix}_non_ascii"] = flag(~sources[column][1], present[column])
    return pd.DataFrame(out, index=index)
