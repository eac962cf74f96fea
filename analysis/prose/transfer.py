"""Whether the scores hold on other crawls of Spotify: the facts every page quotes, and a
short verdict for the Conclusions.

:func:`facts` reads ``models/external.json`` (:func:`analysis.external.load_external`) through
its typed accessors and returns numbers and identifiers only; the Modeling chapter
(:mod:`analysis.prose.modeling`, section "Does it hold elsewhere?") and the front page
(:mod:`analysis.prose.front`) word them. :func:`verdict` is the one paragraph a summary page
(the Conclusions) can quote, with a link to the Modeling section that proves it.

The champion quoted is the new-artist one (``cold_start``): the only one scored on both sets,
and the one triage uses. Its in-data counterparts are its out-of-fold scores on all tracks and
on the new-release slice, scored with the same functions as the other crawls.
"""

from __future__ import annotations

from collections.abc import Mapping

from analysis.labels import (
    EXTERNAL_SET_PERIODS,
    EXTERNAL_SET_SHORT_NAMES,
    INPUT_NAMES,
    PROTOCOL_ADJECTIVES,
)
from analysis.models.blanking import RAW_COLUMNS
from analysis.prose._render import by_sign, fill, listed

#: The champion scored on every external set.
CHAMPION = "cold_start"

#: The Modeling chapter's section, from a page at the site root and from another chapter.
SECTION = "chapters/04-modeling.ipynb#sec-modeling-transfer"
CHAPTER_SECTION = "04-modeling.ipynb#sec-modeling-transfer"

#: Within-genre Spearman below this is "barely" a ranking: at a rank correlation of 0.15 two
#: tracks of a genre are put in the right order about 55% of the time, a coin gets 50%.
BARELY = 0.15

#: ROC-AUC of a ranking that knows nothing.
CHANCE_AUC = 0.5


# --- facts -------------------------------------------------------------------------------------


def facts(external: Mapping) -> dict:
    """Every number the pages quote about the other crawls, read from ``external.json``.

    Returns
    -------
    dict
        ``level`` (the interval's nominal level); ``in_data`` (``all``, ``new_release``: the
        champion's out-of-fold scores) and ``known_in_data``; ``music_genre`` and
        ``billboard`` (the champion's scores there); ``genres`` (one row per music_genre
        genre with its ``label`` in the training data and that label's out-of-fold
        ``in_data_spearman``); ``definition`` (the new-release slice in words);
        ``known_artists`` (music_genre) and ``known_artists_billboard``; ``sensitivity``
        (per set, per album encoding, the scores with the set's genre rule); ``fill``;
        ``hit_missing`` (per set, the inputs the hit classifier is asked without);
        ``artist_history``; ``album_copies``; ``targets``; ``sources`` and ``counts`` per
        set.
    """
    from analysis import external as ext  # its accessors, named once in analysis.external

    labels = ext.matched_labels(external)
    in_data_genres = {row["genre"]: row for row in ext.in_data_genre_rows(external, CHAMPION)}
    genres = [{**row, "label": labels[row["genre"]],
               "in_data_spearman": in_data_genres[labels[row["genre"]]]["spearman"],
               "in_data_n": in_data_genres[labels[row["genre"]]]["n"]}
              for row in ext.genre_rows(external, CHAMPION)]
    names = ext.set_names(external)
    return {
        "level": ext.interval_level(external),
        "in_data": {s: ext.in_data_metrics(external, CHAMPION, s) for s in ("all", "new_release")},
        "definition": ext.new_release_definition(external),
        "known_in_data": ext.in_data_metrics(external, "known_artist"),
        **{name: ext.external_metrics(external, name, CHAMPION) for name in names},
        "genres": genres,
        "known_artists": ext.known_artist_entry(external),
        "known_artists_billboard": ext.known_artist_entry(external, "billboard"),
        "sensitivity": {name: {row["album"]: row for row in ext.fill_sensitivity(external, name)
                               if row["genre"] == "rule"} for name in names},
        "fill": {name: ext.fill_rules(external, name) for name in names},
        "hit_missing": {name: ext.hit_classifier_given_as_missing(external, name)
                        for name in names},
        "popularity_missing": {name: ext.popularity_model_given_as_missing(external, name)
                               for name in names},
        "popularity_reads": ext.scored_champion(external, CHAMPION)["popularity_reads"],
        "artist_history": ext.finding(external, "artist_history"),
        "album_copies": _album_copies(ext.finding(external, "album_copies")),
        "targets": ext.issue_targets(external),
        "sources": {name: ext.source_entry(external, name) for name in names},
        "counts": {name: ext.set_counts(external, name) for name in names},
    }


def input_words(groups: list[str] | tuple[str, ...]) -> str:
    """Inputs a crawl may lack (:data:`analysis.models.blanking.INPUT_GROUPS`), in words.

    Examples
    --------
    >>> input_words(["album", "time_signature"])
    'album name and time signature'
    """
    return listed(INPUT_NAMES[RAW_COLUMNS[g]] for g in groups)


def _album_copies(entry: Mapping) -> dict:
    """The album-copy finding by marker group, with the copies' share of the crawl."""
    groups = {row["group"]: row for row in entry["by_marker"]}
    slices = entry["slices"]
    return {**groups, "slices": slices, "copy_share": slices["copy_album"] / slices["tracks"]}


# --- the verdict -------------------------------------------------------------------------------

VERDICT = (
    "**The honest scores hold within this crawl, not beyond it.** Scored without retraining on "
    "tracks other crawls picked, the {model} model still shortlists hits, with ROC-AUC "
    "{mg[hit_auc]:.2f} on {mg_name} ({mg_period}) and {bb[hit_auc]:.2f} on {bb_name} "
    "({bb_period}), against {here[hit_auc]:.2f} out of fold here; but the rank of a track "
    "within its genre is {barely} predictable there (Spearman "
    "{mg[spearman_within_genre]:.2f}, against {here[spearman_within_genre]:.2f} here) "
    "([does it hold elsewhere?]({link}))."
)
BARELY_WORD, WEAKLY_WORD = "barely", "only weakly"


def barely(within: float) -> str:
    """How predictable a within-genre Spearman says a track's rank is.

    Examples
    --------
    >>> barely(0.09), barely(0.2)
    ('barely', 'only weakly')
    """
    return BARELY_WORD if within < BARELY else WEAKLY_WORD


def verdict(f: Mapping, *, link: str = SECTION) -> str:
    """One paragraph on transfer for a summary page, linking to the Modeling section
    (``link``: :data:`SECTION` from the site root, :data:`CHAPTER_SECTION` from a chapter)."""
    mg = f["music_genre"]
    return fill(VERDICT, f, mg=mg, bb=f["billboard"], here=f["in_data"]["all"],
                model=PROTOCOL_ADJECTIVES[CHAMPION],
                mg_name=EXTERNAL_SET_SHORT_NAMES["music_genre"],
                bb_name=EXTERNAL_SET_SHORT_NAMES["billboard"],
                mg_period=EXTERNAL_SET_PERIODS["music_genre"],
                bb_period=EXTERNAL_SET_PERIODS["billboard"], link=link,
                barely=barely(mg["spearman_within_genre"]))


TRIAGE_USE = (
    "**What a triage list is for, and what not.** Use it to choose which tracks a person "
    "listens to first: its top holds more hits than the catalogue does, here and on the other "
    "crawls. Do not use it to order tracks within one genre, to quote a popularity number for "
    "another catalogue (R² {mg[r2]:.2f} on {mg_name}: {r2_reading}), or to judge an artist by "
    "the history this crawl records: an artist's mean popularity in this crawl and in "
    "{mg_name} correlate at {history[spearman]:.2f} (Spearman, {history[n]:,} artists with at "
    "least {min_tracks} tracks in both), while two halves of one crawl agree at "
    "{within[spearman]:.2f}."
)
R2_BELOW_MEAN = "further off than the set's own mean popularity would be"
R2_ABOVE_MEAN = "closer than the set's own mean, but far from this crawl's"


def triage_use(f: Mapping) -> str:
    """What a triage list can and cannot be trusted for, from the other crawls' figures."""
    history = f["artist_history"]
    mg = f["music_genre"]
    return fill(TRIAGE_USE, f, mg=mg, mg_name=EXTERNAL_SET_SHORT_NAMES["music_genre"],
                r2_reading=by_sign(mg["r2"], R2_ABOVE_MEAN, R2_BELOW_MEAN),
                history=history["across_crawls"]["all_tracks"],
                min_tracks=history["min_tracks"], within=history["within_crawl"]["kaggle"])
