"""Sentences and small Markdown tables built from artifacts, for the chapters' prose.

Numbers on the site are never typed by hand: a chapter cell calls one of these functions on
the cleaning summary (or another artifact) and displays the Markdown it returns. Keeping the
wording here also lets the tests check it.
"""

from __future__ import annotations

import pandas as pd

from analysis.cleaning import BUCKETS, DROPPED_MISSING, KEPT, MERGED_OTHER_GENRE


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table; numbers formatted with thousands separators.

    Examples
    --------
    >>> print(markdown_table(pd.DataFrame({"a": [1000], "b": ["x"]})))
    | a | b |
    |---|---|
    | 1,000 | x |
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


def data_answer(summary: dict) -> str:
    """The one-sentence answer at the top of the Data chapter."""
    return (
        f"Not as published: its {summary['input_rows']:,} rows are {summary['genres']} genre "
        f"lists, and {summary['rows_repeating_a_track_id']:,} rows repeat a track already "
        f"listed. Collapsed to one row per track, with every input row accounted for, it gives "
        f"**{summary['tracks']:,} tracks**, and it needs care: "
        f"{summary['popularity_conflicts']:,} tracks carry conflicting popularity values, "
        f"{summary['same_song_groups']:,} songs exist under several track_ids, and some genre "
        f"labels hold another genre's tracks."
    )


def provenance_table(track_data) -> str:
    """File identity and shape: what every other number was computed from."""
    s = track_data.summary
    low, high = s["rows_per_genre_min"], s["rows_per_genre_max"]
    frame = pd.DataFrame(
        [
            ("SHA-256 of the uncompressed file (verified on every load)", f"`{track_data.sha256}`"),
            ("Input rows", s["input_rows"]),
            ("Genres (lists of equal size)", s["genres"]),
            ("Rows per genre", f"{low:,}" if low == high else f"{low:,}–{high:,}"),
            ("Distinct track_ids", s["distinct_track_ids_in_input"]),
        ],
        columns=["", "value"],
    )
    return markdown_table(frame)


_BUCKET_EXPLANATIONS = {
    KEPT: "the row that represents its track (its listing in the primary genre)",
    MERGED_OTHER_GENRE: "the same track found by another genre's search; its genre is kept",
    "merged: repeated listing in the same genre": "the same track listed twice in one genre",
    DROPPED_MISSING: "no artist and no title, so it cannot be grouped or checked",
}


def bucket_table(summary: dict) -> str:
    """Rows per cleaning bucket, with a total that must equal the input."""
    counts = summary["buckets"]
    rows = [(b, counts[b], _BUCKET_EXPLANATIONS[b]) for b in BUCKETS]
    rows.append(("**total**", sum(counts.values()), f"= {summary['input_rows']:,} input rows"))
    return markdown_table(pd.DataFrame(rows, columns=["bucket", "rows", "meaning"]))


def quality_findings(summary: dict) -> str:
    """The data problems that decide results on this dataset, with their counts."""
    s = summary
    dropped = ", ".join(str(i) for i in s["dropped_source_indices"])
    items = [
        f"**Repeated tracks.** {s['rows_repeating_a_track_id']:,} of the {s['input_rows']:,} "
        f"rows repeat a track_id; {s['multi_genre_tracks']:,} tracks are listed under more than "
        f"one genre, up to {s['max_genre_lists']}. {s['fully_duplicated_rows']:,} rows are exact "
        f"duplicates of another row.",
        f"**Conflicting popularity.** {s['popularity_conflicts']:,} tracks have different "
        f"popularity in different listings; {s['popularity_conflicts_spread_one']:,} of them "
        f"differ by one point, the largest gap is {s['popularity_conflict_max_spread']} points.",
        f"**One song, several track_ids.** {s['same_song_groups']:,} songs (same credited "
        f"artists and title) appear under more than one track_id, "
        f"{s['tracks_in_same_song_groups']:,} tracks in all.",
        f"**Zero popularity.** {s['zero_popularity_tracks']:,} tracks "
        f"({_pct(s['zero_popularity_share'])}) have popularity 0, a mass far larger than the "
        f"rest of the distribution suggests (see the EDA chapter).",
        f"**An empty row.** Row {dropped} has no artist, album or title; it is dropped.",
    ]
    return "\n".join(f"- {item}" for item in items)


def label_overlap_table(summary: dict) -> str:
    """How much the problematic genre lists overlap, and who the shared tracks are by."""
    rows = [
        (
            f"`{o['genre']}` vs `{o['other']}`",
            o["genre_tracks"],
            o["other_tracks"],
            o["shared_tracks"],
            "identical lists" if o["identical"] else ", ".join(o["top_shared_artists"][:3]),
        )
        for o in summary["label_overlaps"]
    ]
    return markdown_table(pd.DataFrame(
        rows,
        columns=["lists", "tracks in first", "tracks in second", "shared", "top shared artists"],
    ))


def macro_genre_sizes(tracks: pd.DataFrame) -> str:
    """One sentence on the macro-genre split of tracks."""
    sizes = tracks["macro_genre"].value_counts()
    return (
        f"The {tracks['primary_genre'].nunique()} primary genres fall into "
        f"{len(sizes)} macro-genres, from {sizes.index[0]} ({sizes.iloc[0]:,} tracks) to "
        f"{sizes.index[-1]} ({sizes.iloc[-1]:,})."
    )


def taxonomy_table(tracks: pd.DataFrame, taxonomy: pd.DataFrame) -> pd.DataFrame:
    """The genre → macro-genre map with how many tracks each genre lists and leads."""
    listed = tracks["genres"].explode().value_counts()
    primary = tracks["primary_genre"].value_counts()
    out = taxonomy.assign(
        listed=taxonomy["genre"].map(listed).fillna(0).astype(int),
        primary=taxonomy["genre"].map(primary).fillna(0).astype(int),
        note=taxonomy["note"].fillna(""),
    )
    return out[["genre", "macro_genre", "listed", "primary", "note"]].rename(columns={
        "macro_genre": "macro-genre", "listed": "tracks listed", "primary": "tracks as primary",
    })


def data_summary(summary: dict) -> str:
    """Three findings with numbers, for the chapter's Summary section."""
    s = summary
    repeated = s["rows_repeating_a_track_id"] / s["input_rows"]
    return "\n".join([
        f"- The file is {s['genres']} genre lists, not a track table: "
        f"{_pct(repeated)} of its rows repeat a track; cleaning leaves {s['tracks']:,} tracks "
        f"and accounts for all {s['input_rows']:,} rows.",
        f"- {s['same_song_groups']:,} songs exist under several track_ids and "
        f"{s['popularity_conflicts']:,} tracks carry conflicting popularity: both are handled by "
        f"documented rules, and song versions never straddle a train/test split.",
        f"- {_pct(s['zero_popularity_share'])} of tracks have popularity 0, and some genre "
        f"labels hold other genres' tracks; the reviewed macro-genre map corrects for the labels.",
    ])
