"""Words of the Data chapter (chapters/01-data): from genre listings to tracks.

:func:`facts` gathers every number the chapter quotes from the cleaning summary, the file's
hash and the cleaned tracks; the templates below hold the wording; each sentence or table
function fills one template with the facts.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.cleaning import BUCKETS, DROPPED_MISSING, KEPT, MERGED_OTHER_GENRE, MERGED_SAME_GENRE
from analysis.embed import markdown_table
from analysis.prose._render import bullets, fill

# --- facts -------------------------------------------------------------------------------------


def facts(track_data) -> dict:
    """Every number the Data chapter quotes.

    Parameters
    ----------
    track_data : analysis.data.TrackData
        The verified, cleaned dataset (its ``summary``, ``sha256`` and ``tracks``).

    Returns
    -------
    dict
        The cleaning summary's counts, plus ``sha256``, ``repeated_share`` (rows repeating a
        track, over input rows) and the macro-genre split of tracks (``primary_genres``,
        ``macro_genres``, ``largest_macro``/``largest_macro_tracks``,
        ``smallest_macro``/``smallest_macro_tracks``).
    """
    s = track_data.summary
    tracks = track_data.tracks
    sizes = tracks["macro_genre"].value_counts()
    return {
        **s,
        "sha256": track_data.sha256,
        "repeated_share": s["rows_repeating_a_track_id"] / s["input_rows"],
        "primary_genres": tracks["primary_genre"].nunique(),
        "macro_genres": len(sizes),
        "largest_macro": sizes.index[0], "largest_macro_tracks": sizes.iloc[0],
        "smallest_macro": sizes.index[-1], "smallest_macro_tracks": sizes.iloc[-1],
    }


# --- templates ---------------------------------------------------------------------------------

ANSWER = (
    "Not as published: its {input_rows:,} rows are {genres} genre lists, and "
    "{rows_repeating_a_track_id:,} rows repeat a track already listed. Collapsed to one row per "
    "track, with every input row accounted for, it gives **{tracks:,} tracks**, and it needs "
    "care: {popularity_conflicts:,} tracks carry conflicting popularity values, "
    "{same_song_groups:,} songs exist under several track_ids, and some genre labels hold "
    "another genre's tracks."
)

#: Rows of the provenance table: (label, fact).
PROVENANCE_ROWS: tuple[tuple[str, str], ...] = (
    ("SHA-256 of the uncompressed file (verified on every load)", "sha256"),
    ("Input rows", "input_rows"),
    ("Genres (lists of equal size)", "genres"),
    ("Rows per genre", "rows_per_genre"),
    ("Distinct track_ids", "distinct_track_ids_in_input"),
)
HASH = "`{sha256}`"
ROWS_PER_GENRE = "{rows_per_genre_min:,}"
ROWS_PER_GENRE_RANGE = "{rows_per_genre_min:,}–{rows_per_genre_max:,}"

#: What each cleaning bucket holds.
BUCKET_MEANINGS: dict[str, str] = {
    KEPT: "the row that represents its track (its listing in the primary genre)",
    MERGED_OTHER_GENRE: "the same track found by another genre's search; its genre is kept",
    MERGED_SAME_GENRE: "the same track listed twice in one genre",
    DROPPED_MISSING: "no artist and no title, so it cannot be grouped or checked",
}
BUCKET_COLUMNS = ["bucket", "rows", "meaning"]
BUCKET_TOTAL = "**total**"
BUCKET_TOTAL_MEANING = "= {input_rows:,} input rows"

QUALITY_FINDINGS: tuple[str, ...] = (
    "**Repeated tracks.** {rows_repeating_a_track_id:,} of the {input_rows:,} rows repeat a "
    "track_id; {multi_genre_tracks:,} tracks are listed under more than one genre, up to "
    "{max_genre_lists}. {fully_duplicated_rows:,} rows are exact duplicates of another row.",
    "**Conflicting popularity.** {popularity_conflicts:,} tracks have different popularity in "
    "different listings; {popularity_conflicts_spread_one:,} of them differ by one point, the "
    "largest gap is {popularity_conflict_max_spread} points.",
    "**One song, several track_ids.** {same_song_groups:,} songs (same credited artists and "
    "title) appear under more than one track_id, {tracks_in_same_song_groups:,} tracks in all.",
    "**Zero popularity.** {zero_popularity_tracks:,} tracks ({zero_popularity_share:.1%}) have "
    "popularity 0, a mass far larger than the rest of the distribution suggests (see the EDA "
    "chapter).",
    "**An empty row.** Row {dropped} has no artist, album or title; it is dropped.",
)

OVERLAP_COLUMNS = ["lists", "tracks in first", "tracks in second", "shared",
                   "top shared artists"]
OVERLAP_LISTS = "`{genre}` vs `{other}`"
OVERLAP_IDENTICAL = "identical lists"
#: How many of the shared tracks' artists the overlap table names.
OVERLAP_ARTISTS = 3

MACRO_GENRE_SIZES = (
    "The {primary_genres} primary genres fall into {macro_genres} macro-genres, from "
    "{largest_macro} ({largest_macro_tracks:,} tracks) to {smallest_macro} "
    "({smallest_macro_tracks:,})."
)

#: Columns of the genre → macro-genre map as the chapter shows them.
TAXONOMY_COLUMNS: dict[str, str] = {
    "genre": "genre", "macro_genre": "macro-genre", "listed": "tracks listed",
    "primary": "tracks as primary", "note": "note",
}

SUMMARY: tuple[str, ...] = (
    "The file is {genres} genre lists, not a track table: {repeated_share:.1%} of its rows "
    "repeat a track; cleaning leaves {tracks:,} tracks and accounts for all {input_rows:,} "
    "rows.",
    "{same_song_groups:,} songs exist under several track_ids and {popularity_conflicts:,} "
    "tracks carry conflicting popularity: both are handled by documented rules, and song "
    "versions never straddle a train/test split.",
    "{zero_popularity_share:.1%} of tracks have popularity 0, and some genre labels hold other "
    "genres' tracks; the reviewed macro-genre map corrects for the labels.",
)


# --- sentences and tables ----------------------------------------------------------------------


def answer(f: Mapping) -> str:
    """The one-sentence answer at the top of the chapter."""
    return fill(ANSWER, f)


def provenance_table(f: Mapping) -> str:
    """File identity and shape: what every other number was computed from."""
    same = f["rows_per_genre_min"] == f["rows_per_genre_max"]
    values = {
        "sha256": fill(HASH, f),
        "rows_per_genre": fill(ROWS_PER_GENRE if same else ROWS_PER_GENRE_RANGE, f),
    }
    rows = [(label, values.get(key, f.get(key))) for label, key in PROVENANCE_ROWS]
    return markdown_table(pd.DataFrame(rows, columns=["", "value"]))


def bucket_table(f: Mapping) -> str:
    """Rows per cleaning bucket, with a total that must equal the input."""
    counts = f["buckets"]
    rows = [(b, counts[b], BUCKET_MEANINGS[b]) for b in BUCKETS]
    rows.append((BUCKET_TOTAL, sum(counts.values()), fill(BUCKET_TOTAL_MEANING, f)))
    return markdown_table(pd.DataFrame(rows, columns=BUCKET_COLUMNS))


def quality_findings(f: Mapping) -> str:
    """The data problems that decide results on this dataset, with their counts."""
    dropped = ", ".join(str(i) for i in f["dropped_source_indices"])
    return bullets(fill(item, f, dropped=dropped) for item in QUALITY_FINDINGS)


def label_overlap_table(f: Mapping) -> str:
    """How much the problematic genre lists overlap, and who the shared tracks are by."""
    rows = [
        (
            fill(OVERLAP_LISTS, o),
            o["genre_tracks"],
            o["other_tracks"],
            o["shared_tracks"],
            OVERLAP_IDENTICAL if o["identical"]
            else ", ".join(o["top_shared_artists"][:OVERLAP_ARTISTS]),
        )
        for o in f["label_overlaps"]
    ]
    return markdown_table(pd.DataFrame(rows, columns=OVERLAP_COLUMNS))


def macro_genre_sizes(f: Mapping) -> str:
    """One sentence on the macro-genre split of tracks."""
    return fill(MACRO_GENRE_SIZES, f)


def taxonomy_table(tracks: pd.DataFrame, taxonomy: pd.DataFrame) -> pd.DataFrame:
    """The genre → macro-genre map with how many tracks each genre lists and leads."""
    listed = tracks["genres"].explode().value_counts()
    primary = tracks["primary_genre"].value_counts()
    out = taxonomy.assign(
        listed=taxonomy["genre"].map(listed).fillna(0).astype(int),
        primary=taxonomy["genre"].map(primary).fillna(0).astype(int),
        note=taxonomy["note"].fillna(""),
    )
    return out[list(TAXONOMY_COLUMNS)].rename(columns=TAXONOMY_COLUMNS)


def summary(f: Mapping) -> str:
    """Three findings with numbers, for the chapter's Summary section."""
    return bullets(fill(item, f) for item in SUMMARY)
