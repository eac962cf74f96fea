"""Macro-genre taxonomy and the primary-genre rule.

The raw data lists each track once per genre playlist it was found in: 114 genre labels,
1,000 rows each, but only 89,741 distinct tracks, and one track can sit under up to nine
labels. Two questions follow, and this module answers both in one place so every chapter
gives the same answer.

**Which macro-genre is a genre label?** ``analysis/macro_genres.csv`` maps all 114 labels
by hand to the 16 macro-genres in :data:`MACRO_GENRES`. Substring rules get this data
wrong ("trip-hop" is not hip-hop, "pop-film" is Indian film music), and several labels do
not hold what their name says, because the dataset was built from Spotify searches:
"j-dance" is Jamaican dancehall, "romance" is Russian romance, "malay" is Malayalam,
"world-music" is Christian worship. The mapping follows what the tracks are (their top
artists) when the data clearly contradicts the name, and the name's meaning when a label
is a mix; the ``note`` column says why wherever the choice is debatable.

**Which single genre is a track's primary genre?** Two steps:

1. *Label fixes* (:data:`LABEL_PRECEDENCE`). Three pairs of labels are known duplicates
   or mislabels. A track listed under both labels of a pair loses the ``over`` label:
   reggae+reggaeton drops reggae (804 of 1,000 "reggae" tracks are reggaeton hits),
   dub+dubstep drops dub (727 of 999), songwriter+singer-songwriter drops songwriter
   (identical 1,000 tracks). The ``preferred`` label then competes in step 2 like any
   other, so a track in dub, dubstep and a more exclusive label gets that label.
2. *Most exclusive label wins.* A genre's exclusivity is the share of its distinct tracks
   listed under no other genre (:func:`genre_exclusivity`). A label whose tracks rarely
   appear elsewhere is specific ("honky-tonk", 1.00); one that shares most tracks is
   generic ("indie", 0.12), so the specific label is the better description. Ties go to
   the alphabetically first genre name (code-point order; the raw file lists a few
   genres differently, e.g. "indie-pop" before "indie", but on the real data no track
   has a tie left once the label fixes are applied).

Exclusivity is measured on the raw listings, before the label fixes. The primary genre
is a description of the track, not a model input: how many lists a track sits in is a
sampling artefact of how the data was collected.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

#: The CSV shipped inside the package (``[tool.setuptools.package-data]``).
TAXONOMY_CSV = Path(__file__).with_name("macro_genres.csv")

#: Macro-genres in display order. Colours (``analysis.plots.MACRO_GENRE_COLORS``) and
#: legends follow this order, and related families sit next to each other.
MACRO_GENRES: tuple[str, ...] = (
    "Pop",
    "Rock",
    "Metal & Punk",
    "Hip-hop & R&B",
    "Electronic & Dance",
    "Latin",
    "Brazilian",
    "Reggae & Caribbean",
    "East Asian",
    "South Asian",
    "World",
    "Country & Folk",
    "Jazz, Blues & Soul",
    "Classical & Stage",
    "Ambient & Functional",
    "Kids & Comedy",
)

#: Label fixes applied before the exclusivity rule, as ``(preferred, over, reason)``:
#: a track listed under both ``preferred`` and ``over`` loses its ``over`` listing.
LABEL_PRECEDENCE: tuple[tuple[str, str, str], ...] = (
    (
        "reggaeton",
        "reggae",
        "804 of 1,000 reggae tracks are also reggaeton (Feid, KAROL G, Daddy Yankee): "
        "reggaeton mislabelled as reggae.",
    ),
    (
        "dubstep",
        "dub",
        "727 of 999 dub tracks are also dubstep (ILLENIUM, Porter Robinson): "
        "dubstep mislabelled as dub.",
    ),
    (
        "singer-songwriter",
        "songwriter",
        "The two labels hold the identical 1,000 track_ids; keep the more common name.",
    ),
)

_COLUMNS = ["genre", "macro_genre", "note"]
_LISTING_COLUMNS = ["track_id", "track_genre"]


def load_taxonomy(path: Path | None = None) -> pd.DataFrame:
    """Read and validate the genre → macro-genre table.

    The table is data, not code, so that the mapping and its reasons can be reviewed in
    one place; validating on every load means a bad edit fails loudly instead of
    silently dropping tracks from a chapter.

    Parameters
    ----------
    path : Path, optional
        CSV to read; defaults to :data:`TAXONOMY_CSV`, the copy shipped in the package.

    Returns
    -------
    pandas.DataFrame
        Columns ``genre``, ``macro_genre``, ``note`` (empty string when not debatable),
        in file order (alphabetical by genre).

    Raises
    ------
    ValueError
        Naming file, line and column when the header is wrong, a genre is empty or
        duplicated, a macro-genre is empty or not in :data:`MACRO_GENRES`, or a
        macro-genre in :data:`MACRO_GENRES` has no genre.

    See Also
    --------
    macro_genre_of : apply the mapping to a column of genres.

    Examples
    --------
    >>> taxonomy = load_taxonomy()
    >>> len(taxonomy), taxonomy["genre"].is_unique
    (114, True)
    >>> taxonomy.set_index("genre").loc["trip-hop", "macro_genre"]
    'Electronic & Dance'
    """
    return _read_taxonomy(Path(path) if path is not None else TAXONOMY_CSV).copy()


@cache
def _read_taxonomy(path: Path) -> pd.DataFrame:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if header != _COLUMNS:
            raise ValueError(f"{path}: line 1: header must be {_COLUMNS}, got {header}")
        records = []
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            if len(row) != len(_COLUMNS):
                raise ValueError(f"{path}: line {line}: expected 3 fields, got {len(row)}")
            genre, macro, note = (field.strip() for field in row)
            if not genre:
                raise ValueError(f"{path}: line {line}: column 'genre' is empty")
            if genre in seen:
                raise ValueError(
                    f"{path}: line {line}: column 'genre': {genre!r} already on line {seen[genre]}"
                )
            seen[genre] = line
            if not macro:
                raise ValueError(f"{path}: line {line}: column 'macro_genre' is empty")
            if macro not in MACRO_GENRES:
                raise ValueError(
                    f"{path}: line {line}: column 'macro_genre': {macro!r} is not one of "
                    f"MACRO_GENRES {MACRO_GENRES}"
                )
            records.append((genre, macro, note))
    unused = [m for m in MACRO_GENRES if m not in {r[1] for r in records}]
    if unused:
        raise ValueError(f"{path}: column 'macro_genre': no genre maps to {unused}")
    return pd.DataFrame(records, columns=_COLUMNS)


def macro_genre_of(genres: pd.Series) -> pd.Series:
    """Map genre labels to macro-genres, refusing to guess.

    An unmapped label (a new genre, a typo, a missing value) raises instead of becoming
    NaN, because a NaN macro-genre silently drops tracks from every grouped chart.

    Parameters
    ----------
    genres : pandas.Series
        Genre labels as in the data's ``track_genre`` column.

    Returns
    -------
    pandas.Series
        Same index, named ``macro_genre``. Order categories with :data:`MACRO_GENRES`.

    Raises
    ------
    ValueError
        Listing every label not in ``analysis/macro_genres.csv``.

    Examples
    --------
    >>> macro_genre_of(pd.Series(["k-pop", "pop-film", "trip-hop"])).tolist()
    ['East Asian', 'South Asian', 'Electronic & Dance']
    >>> macro_genre_of(pd.Series(["polka"]))
    Traceback (most recent call last):
    ...
    ValueError: 1 genre(s) not in analysis/macro_genres.csv: ['polka']
    """
    mapped = genres.map(_mapping())
    missing = genres[mapped.isna()]
    if len(missing):
        names = sorted({"<missing>" if pd.isna(g) else str(g) for g in missing})
        raise ValueError(f"{len(names)} genre(s) not in analysis/macro_genres.csv: {names}")
    return mapped.rename("macro_genre")


@cache
def _mapping() -> dict[str, str]:
    taxonomy = _read_taxonomy(TAXONOMY_CSV)
    return dict(zip(taxonomy["genre"], taxonomy["macro_genre"], strict=True))


def _listing_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Distinct (track_id, track_genre) pairs; clear error on missing columns or values."""
    missing = [c for c in _LISTING_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"listings need columns {_LISTING_COLUMNS}; missing {missing}")
    pairs = rows[_LISTING_COLUMNS]
    for column in _LISTING_COLUMNS:
        null_rows = pairs.index[pairs[column].isna()]
        if len(null_rows):
            raise ValueError(
                f"listings: column {column!r} is empty in {len(null_rows)} row(s), "
                f"first at index {null_rows[0]!r}"
            )
    return pairs.drop_duplicates(ignore_index=True)


def genre_exclusivity(rows: pd.DataFrame) -> pd.Series:
    """Share of each genre's distinct tracks that are listed under no other genre.

    A high value marks a specific label (its tracks live only there), a low one a generic
    label that mostly re-lists tracks from elsewhere; the primary-genre rule prefers the
    specific label.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per listing with columns ``track_id`` and ``track_genre``; other columns
        are ignored and exact duplicate listings count once.

    Returns
    -------
    pandas.Series
        Float in [0, 1] indexed by genre (sorted), named ``exclusivity``.

    Examples
    --------
    >>> rows = pd.DataFrame({"track_id": ["a", "a", "b", "c", "c"],
    ...                      "track_genre": ["pop", "pop", "pop", "pop", "rock"]})
    >>> genre_exclusivity(rows).round(2).to_dict()
    {'pop': 0.67, 'rock': 0.0}
    """
    pairs = _listing_pairs(rows)
    n_genres = pairs.groupby("track_id")["track_genre"].transform("size")
    exclusive = (n_genres == 1).groupby(pairs["track_genre"]).mean()
    return exclusive.astype(float).sort_index().rename("exclusivity").rename_axis("genre")


def choose_primary_genres(listings: pd.DataFrame, exclusivity: pd.Series) -> pd.Series:
    """One primary genre per track: label fixes first, then the most exclusive label.

    See the module docstring for the rule and why. The result does not depend on row
    order, so it is stable across reruns and shuffles.

    Parameters
    ----------
    listings : pandas.DataFrame
        Columns ``track_id`` and ``track_genre``, one row per listing (duplicates allowed).
    exclusivity : pandas.Series
        Score per genre, usually ``genre_exclusivity(listings)``; higher wins.

    Returns
    -------
    pandas.Series
        Primary genre indexed by ``track_id`` (sorted), named ``primary_genre``.

    Raises
    ------
    ValueError
        If a listed genre has no exclusivity score, or a column is missing or empty.

    See Also
    --------
    LABEL_PRECEDENCE : the label fixes of step 1.
    genre_exclusivity : the score of step 2.

    Examples
    --------
    >>> listings = pd.DataFrame({
    ...     "track_id": ["t1", "t1", "t2", "t2", "t2"],
    ...     "track_genre": ["reggae", "reggaeton", "dub", "dubstep", "salsa"]})
    >>> scores = pd.Series({"reggae": 0.9, "reggaeton": 0.1, "dub": 0.5,
    ...                     "dubstep": 0.2, "salsa": 0.3})
    >>> choose_primary_genres(listings, scores).to_dict()
    {'t1': 'reggaeton', 't2': 'salsa'}
    """
    if not exclusivity.index.is_unique:
        raise ValueError("exclusivity has duplicate genres in its index")
    pairs = _apply_label_precedence(_listing_pairs(listings))
    if pairs.empty:
        return pd.Series([], index=pd.Index([], name="track_id"), name="primary_genre", dtype=str)
    genre_code, genres = pd.factorize(pairs["track_genre"], sort=True)
    track_code, track_ids = pd.factorize(pairs["track_id"], sort=True)
    score = exclusivity.reindex(genres).to_numpy(dtype=float)
    if np.isnan(score).any():
        raise ValueError(f"no exclusivity score for genre(s) {list(genres[np.isnan(score)])}")
    # Sort by track, then score descending, then genre name (codes follow sorted names);
    # the first row of each track is its primary genre.
    order = np.lexsort((genre_code, -score[genre_code], track_code))
    sorted_tracks = track_code[order]
    first = order[np.r_[True, sorted_tracks[1:] != sorted_tracks[:-1]]]
    return pd.Series(
        genres[genre_code[first]],
        index=pd.Index(track_ids[track_code[first]], name="track_id"),
        name="primary_genre",
    )


def _apply_label_precedence(pairs: pd.DataFrame) -> pd.DataFrame:
    """Drop each ``over`` listing of a track that also has the ``preferred`` label.

    All fixes are decided on the input pairs at once, so their order does not matter.
    """
    drop = pd.Series(False, index=pairs.index)
    for preferred, over, _reason in LABEL_PRECEDENCE:
        has_preferred = pairs["track_id"].isin(
            pairs.loc[pairs["track_genre"] == preferred, "track_id"]
        )
        drop |= has_preferred & (pairs["track_genre"] == over)
    return pairs[~drop]
