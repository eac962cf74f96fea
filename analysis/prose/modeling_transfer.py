"""Words of the Modeling chapter's section "Does it hold elsewhere?" (chapters/04-modeling).

The section words ``models/external.json``: the champion scored on two crawls gathered apart
from this one. Its facts come from :func:`analysis.prose.transfer.facts` (as
``facts["transfer"]`` of :func:`analysis.prose.modeling.facts`); its templates, sentences and
table live here, apart from the rest of the chapter's words, because they read another
artifact and another set of labels and grew to a page of their own. :mod:`analysis.prose.modeling`
re-exports the sentence and table functions, so the chapter calls them as ``prose.<name>``
like every other.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.external.fill import lacking
from analysis.labels import (
    EXTERNAL_SET_LABELS,
    EXTERNAL_SET_SHORT_NAMES,
    INPUT_NAMES,
    PROTOCOL_ADJECTIVES,
    in_data_row,
)
from analysis.models import HIT_THRESHOLD
from analysis.prose import transfer as _transfer
from analysis.prose._render import bullets, by_sign, fill, spelled

__all__ = [
    "transfer_fill",
    "transfer_genres",
    "transfer_known_artist",
    "transfer_meaning",
    "transfer_scores",
    "transfer_sensitivity",
    "transfer_sets",
    "transfer_table",
]

# --- templates ---------------------------------------------------------------------------------

TRANSFER_SETS = (
    "Two public datasets, gathered independently of this one, hold tracks these models never "
    "saw. **{mg_label}** (*{mg_source[title]}*, by {mg_source[author]}, crawled "
    "{mg_source[crawled]}) gives {mg_counts[scored]:,} tracks of {mg_genres} genres with their "
    "popularity, once {mg_counts[overlap_dropped]:,} songs this crawl also holds are set apart "
    "(same primary artist and title). **{bb_label}** (*{bb_source[title]}*, by "
    "{bb_source[author]}) gives {bb_counts[scored]:,} tracks labelled as a Billboard chart hit "
    "({bb_counts[scored_hits]:,}) or a flop that never charted ({bb_counts[scored_flops]:,}), "
    "once {bb_counts[overlap_dropped]:,} tracks of this crawl are set apart; it has no "
    "popularity. The {model} champion scores both as they are, without retraining. Beside "
    "them, its out-of-fold predictions in this crawl are scored with the same functions, on "
    "all tracks and on the {nr[n]:,} that look like a new release ({definition})."
)

TRANSFER_SCORES = (
    "On {mg_name}, the predicted popularity ranks tracks with Spearman {mg[spearman]:.2f} "
    "(out of fold here: {here[spearman]:.2f}) and, within a genre, "
    "{mg[spearman_within_genre]:.2f} (here {here[spearman_within_genre]:.2f}; on new releases "
    "{nr[spearman_within_genre]:.2f}). Its R² is {mg[r2]:.2f} (here {here[r2]:.2f}){r2_words}. "
    "The hit classifier keeps more: ROC-AUC {mg[hit_auc]:.2f} there against "
    "{here[hit_auc]:.2f} here. On {bb_name}, it tells chart hits from flops with ROC-AUC "
    "{bb[hit_auc]:.2f}, {bb_compare} the predicted popularity does ({bb[prediction_auc]:.2f}); "
    "a Billboard hit is a chart entry, not popularity ≥ {hit}, so the two sets' hit scores "
    "answer different questions. The {level:.0%} interval holds {mg[interval_coverage]:.0%} of "
    "{mg_name} tracks (here {here[interval_coverage]:.0%}), at a mean width of "
    "{mg[interval_mean_width]:.0f} points ({here[interval_mean_width]:.0f} here)."
)
R2_BELOW_ZERO = ": below zero, so the predictions miss by more than the set's own average would"
R2_ABOVE_ZERO = ""
BETTER_THAN, LESS_WELL_THAN = "better than", "less well than"

TRANSFER_TARGETS = (
    "The issue set three targets for this check, read here beside the scores: a within-genre "
    "Spearman of at least {music_genre_spearman_within_genre:.2f} on {mg_name} ({within}), a "
    "hit ROC-AUC of at least {music_genre_hit_auc:.2f} there ({mg_auc}) and of at least "
    "{billboard_hit_auc:.2f} on {bb_name} ({bb_auc})."
)
REACHED, MISSED = "reached", "missed"

TRANSFER_GENRES = (
    "In {below} {n} genres the champion ranks {mg_name} tracks less well than it ranks "
    "the matching genre's tracks here, and in {near_zero} of them with a Spearman below "
    "{barely:.2f}. The best, {best[genre]}, reaches {best[spearman]:.2f} (its match here, "
    "{best[label]}: {best[in_data_spearman]:.2f}); the worst, {worst[genre]}, "
    "{worst[spearman]:.2f}. The mean over this crawl's genres is "
    "{here[spearman_within_genre]:.2f}."
)

EVERY, SOME = "every one of the", "{k} of the"

TRANSFER_FILL_SET = "**{label}**\n{rules}"
TRANSFER_FILL_RULE = "  - *{input}*: {rule}"
TRANSFER_FILL_TAUGHT = (
    "  - *the {model}*: asked without the {inputs} instead: it saw each missing on part "
    "of its training rows, so it is told they are unknown rather than given the stand-ins "
    "above"
)
#: The models of :data:`TRANSFER_FILL_TAUGHT`, by the facts key of what each is asked without.
TAUGHT_MODELS = {"popularity_missing": "popularity model", "hit_missing": "hit classifier"}
TRANSFER_FILL_UNREAD = (
    "  - *the popularity model*: does not read the {inputs}, so {rules} not reach it"
)
ITS_RULE, THEIR_RULES = "its rule does", "their rules do"

#: When the published popularity model does not read the album name at all.
TRANSFER_SENSITIVITY_UNREAD = (
    "Neither set names a track's album. The published new-artist popularity model does not "
    "read the album name, so how the missing album is written cannot move it: on {mg_name} "
    "its within-genre Spearman is {mg_missing[spearman_within_genre]:.2f} with the album left "
    "missing and {mg_blank[spearman_within_genre]:.2f} with a blank name, and on {bb_name} its "
    "hit/flop ROC-AUC {bb_missing[prediction_auc]:.2f} and {bb_blank[prediction_auc]:.2f}. "
    "{hit_words} Models trained with the album name always present swung with its encoding "
    "(@sec-modeling-recipes chose a recipe that does not depend on it)."
)
TRANSFER_SENSITIVITY = (
    "Neither set names a track's album, and the champion reads album-name markers "
    "(compilation, dated, seasonal, deluxe, live, soundtrack). Left missing, as the rule above "
    "says, the album tells the model nothing; written as a blank name, it claims a regular "
    "album that nobody stated. On {mg_name} the switch takes the predicted popularity's "
    "within-genre Spearman from {mg_missing[spearman_within_genre]:.2f} to "
    "{mg_blank[spearman_within_genre]:.2f}, and on {bb_name} its hit/flop ROC-AUC from "
    "{bb_missing[prediction_auc]:.2f} to {bb_blank[prediction_auc]:.2f}. {hit_words} The "
    "rule was fixed before scoring and the better number is not picked: the swing is the "
    "finding."
)
SENSITIVITY_HIT_MOVES = (
    "The hit classifier moves too, from ROC-AUC {mg_missing[hit_auc]:.2f} to "
    "{mg_blank[hit_auc]:.2f} on {mg_name} and from {bb_missing[hit_auc]:.2f} to "
    "{bb_blank[hit_auc]:.2f} on {bb_name}: the champion's external score depends on how an "
    "input it cannot see is written."
)
SENSITIVITY_HIT_TAUGHT = (
    "The hit classifier saw the album missing in training and is asked without it either way, "
    "so its ROC-AUC stays {mg_missing[hit_auc]:.2f} on {mg_name} and {bb_missing[hit_auc]:.2f} "
    "on {bb_name}: the popularity model's external score depends on how an input it cannot "
    "see is written, the hit classifier's does not."
)

SENSITIVITY_HIT_TAUGHT_TOO = (
    "Nor can it move the hit classifier, which saw the album missing in training and is asked "
    "without it either way (ROC-AUC {mg_missing[hit_auc]:.2f} on {mg_name}, "
    "{bb_missing[hit_auc]:.2f} on {bb_name})."
)

TRANSFER_KNOWN = (
    "{headline} On the {tracks:,} {mg_name} tracks whose primary artist this crawl knows, the "
    "{known} model, which leans on the artist's mean popularity here (out of fold: Spearman "
    "{known_here[spearman]:.2f}), ranks them with Spearman {ka[spearman]:.2f}, {compare} the "
    "{cold} model on the same tracks ({cs[spearman]:.2f}); the artist's mean popularity here, "
    "used alone, reaches {alone[spearman]:.2f}."
)
TRANSFER_KNOWN_BILLBOARD = (
    " Of {bb_name}, {tracks:,} tracks are by artists this crawl knows; there the {known} model's "
    "predicted popularity tells chart hits from flops with ROC-AUC {ka[prediction_auc]:.2f} "
    "(the {cold} model's: {cs[prediction_auc]:.2f}; the artist's mean popularity here alone: "
    "{alone[prediction_auc]:.2f}), and its hit classifier with {ka[hit_auc]:.2f} (the {cold} "
    "one's: {cs[hit_auc]:.2f})."
)
HISTORY_STAYS = "Artist history does not travel either."
HISTORY_TRAVELS = "Artist history travels, a little."

TRANSFER_MEANING = (
    "**What this means.** Out-of-fold scores are honest for this crawl but overstate how well "
    "the models transfer. On tracks another crawl picked, the {model} model's predicted "
    "popularity {explains} and ranks a track within its genre {barely} better than chance "
    "(Spearman {mg[spearman_within_genre]:.2f}, against {here[spearman_within_genre]:.2f} out of "
    "fold). What survives is a coarse shortlist: {shortlist} (ROC-AUC {mg[hit_auc]:.2f} on "
    "{mg_name}, {bb[hit_auc]:.2f} on {bb_name}). Use the models to sort a catalogue, re-check "
    "them on any catalogue of another origin, and do not trust a rank within one genre."
)
EXPLAINS_NOTHING = "explains none of the variance (R² {r2:.2f})"
EXPLAINS_SHARE = "explains {r2:.0%} of the variance"
SHORTLIST_KEPT = "hits still come out above non-hits more often than not"
SHORTLIST_LOST = "not even hits come out above non-hits"

#: The table's columns beside the metrics (the level's coverage is named from the facts).
TRANSFER_HEADERS: dict[str, str] = {
    "scored": "Scored on", "n": "Tracks", "spearman": "Spearman",
    "spearman_within_genre": "Spearman within genre", "r2": "R²", "mae": "MAE",
    "hit_auc": "Hit ROC-AUC", "prediction_hit_auc": "Hit ROC-AUC, predicted popularity",
}
COVERAGE_HEADER = "{level:.0%} interval coverage"
NOT_MEASURED = "–"


# --- sentences ---------------------------------------------------------------------------------


def _transfer_words(t: Mapping) -> dict:
    """Words every transfer sentence may use: names, the champion, the quoted scores."""
    return {"mg_label": EXTERNAL_SET_LABELS["music_genre"],
            "bb_label": EXTERNAL_SET_LABELS["billboard"],
            "mg_name": EXTERNAL_SET_SHORT_NAMES["music_genre"],
            "bb_name": EXTERNAL_SET_SHORT_NAMES["billboard"],
            "model": PROTOCOL_ADJECTIVES[_transfer.CHAMPION],
            "here": t["in_data"]["all"], "nr": t["in_data"]["new_release"],
            "mg": t["music_genre"], "bb": t["billboard"]}


def transfer_sets(f: Mapping) -> str:
    """Which other crawls, how many tracks, and what the in-data counterparts are."""
    t = f["transfer"]
    return fill(TRANSFER_SETS, t, **_transfer_words(t),
                mg_source=t["sources"]["music_genre"], bb_source=t["sources"]["billboard"],
                mg_counts=t["counts"]["music_genre"], bb_counts=t["counts"]["billboard"],
                mg_genres=spelled(len(t["genres"])))


def transfer_scores(f: Mapping) -> str:
    """The table in words: ranking, R², hits, the interval; then the issue's targets."""
    t = f["transfer"]
    words = _transfer_words(t)
    mg, bb = words["mg"], words["bb"]
    targets = t["targets"]
    reached = {key: REACHED if value >= targets[target] else MISSED for key, value, target in (
        ("within", mg["spearman_within_genre"], "music_genre_spearman_within_genre"),
        ("mg_auc", mg["hit_auc"], "music_genre_hit_auc"),
        ("bb_auc", bb["hit_auc"], "billboard_hit_auc"))}
    scores = fill(TRANSFER_SCORES, t, **words, hit=HIT_THRESHOLD,
                  r2_words=R2_BELOW_ZERO if mg["r2"] < 0 else R2_ABOVE_ZERO,
                  bb_compare=by_sign(bb["hit_auc"] - bb["prediction_auc"], BETTER_THAN,
                                     LESS_WELL_THAN))
    return scores + "\n\n" + fill(TRANSFER_TARGETS, targets, mg_name=words["mg_name"],
                                   bb_name=words["bb_name"], **reached)


def transfer_genres(f: Mapping) -> str:
    """The per-genre chart in words."""
    t = f["transfer"]
    rows = [r for r in t["genres"] if r["spearman"] is not None]
    best = max(rows, key=lambda r: r["spearman"])
    worst = min(rows, key=lambda r: r["spearman"])
    below = sum(r["spearman"] < r["in_data_spearman"] for r in rows)
    near_zero = sum(r["spearman"] < _transfer.BARELY for r in rows)
    return fill(TRANSFER_GENRES, t, **_transfer_words(t), best=best, worst=worst,
                below=EVERY if below == len(rows) else fill(SOME, {}, k=spelled(below)),
                n=spelled(len(rows)), near_zero=spelled(near_zero), barely=_transfer.BARELY)


def transfer_fill(f: Mapping) -> str:
    """Each set's fill rule for every input it lacks, as a nested list (from the artifact)."""
    t = f["transfer"]

    def rules_of(name: str) -> list[str]:
        lines = [fill(TRANSFER_FILL_RULE, {}, input=INPUT_NAMES.get(column, column), rule=rule)
                 for column, rule in t["fill"][name].items()]
        unread = [g for g in lacking(name) if g not in t["popularity_reads"]]
        if unread:
            lines.append(fill(TRANSFER_FILL_UNREAD, {}, inputs=_transfer.input_words(unread),
                              rules=ITS_RULE if len(unread) == 1 else THEIR_RULES))
        for key, model in TAUGHT_MODELS.items():
            if t[key][name]:
                lines.append(fill(TRANSFER_FILL_TAUGHT, {}, model=model,
                                  inputs=_transfer.input_words(t[key][name])))
        return lines

    return bullets(fill(TRANSFER_FILL_SET, {}, label=EXTERNAL_SET_LABELS[name],
                        rules="\n".join(rules_of(name))) for name in t["fill"])


def transfer_sensitivity(f: Mapping) -> str:
    """How much the external scores move with the album's encoding, stated plainly (the hit
    classifier's do not when it was taught the album may be missing)."""
    t = f["transfer"]
    mg, bb = t["sensitivity"]["music_genre"], t["sensitivity"]["billboard"]
    rows = {"mg_missing": mg["missing"], "mg_blank": mg["blank"], "bb_missing": bb["missing"],
            "bb_blank": bb["blank"]}
    taught = all("album" in t["hit_missing"][name] for name in t["hit_missing"])
    unread = "album" not in t["popularity_reads"]
    hit_words = fill(SENSITIVITY_HIT_TAUGHT_TOO if unread and taught
                     else SENSITIVITY_HIT_TAUGHT if taught else SENSITIVITY_HIT_MOVES,
                     t, **_transfer_words(t), **rows)
    return fill(TRANSFER_SENSITIVITY_UNREAD if unread else TRANSFER_SENSITIVITY, t,
                **_transfer_words(t), **rows, hit_words=hit_words)


def transfer_known_artist(f: Mapping) -> str:
    """The known-artist champion on both crawls' tracks by artists this crawl knows."""
    t = f["transfer"]
    k, b = t["known_artists"], t["known_artists_billboard"]
    ka, cs = k["known_artist"], k["cold_start"]
    models = {"known": PROTOCOL_ADJECTIVES["known_artist"],
              "cold": PROTOCOL_ADJECTIVES["cold_start"]}
    billboard = "" if not b["tracks"] else fill(
        TRANSFER_KNOWN_BILLBOARD, b, **_transfer_words(t), **models, ka=b["known_artist"],
        cs=b["cold_start"], alone=b["artist_mean_alone"])
    return fill(TRANSFER_KNOWN, k, **_transfer_words(t), **models, ka=ka, cs=cs,
                alone=k["artist_mean_alone"], known_here=t["known_in_data"],
                headline=by_sign(ka["spearman"] - cs["spearman"], HISTORY_TRAVELS,
                                 HISTORY_STAYS),
                compare=by_sign(ka["spearman"] - cs["spearman"], BETTER_THAN,
                                "worse than")) + billboard


def transfer_meaning(f: Mapping) -> str:
    """What the other crawls mean for how the site's numbers are read."""
    t = f["transfer"]
    words = _transfer_words(t)
    mg, bb = words["mg"], words["bb"]
    explains = fill(EXPLAINS_NOTHING if mg["r2"] <= 0 else EXPLAINS_SHARE, mg)
    kept = min(mg["hit_auc"], bb["hit_auc"]) > _transfer.CHANCE_AUC
    return fill(TRANSFER_MEANING, t, **words, explains=explains,
                barely=_transfer.barely(mg["spearman_within_genre"]),
                shortlist=SHORTLIST_KEPT if kept else SHORTLIST_LOST)


# --- table -------------------------------------------------------------------------------------


def transfer_table(f: Mapping, *, digits: int = 3) -> pd.DataFrame:
    """The new-artist champion's scores in this crawl (out of fold: all tracks, new releases)
    and on the other crawls, one row each, the same metrics in every column ("–" where a set
    cannot measure one: Billboard has no popularity, only hit or flop)."""
    t = f["transfer"]
    coverage = fill(COVERAGE_HEADER, t)
    rows = [(in_data_row(s), t["in_data"][s]) for s in ("all", "new_release")]
    rows += [(EXTERNAL_SET_LABELS[name], t[name]) for name in ("music_genre", "billboard")]
    out = []
    for label, scores in rows:
        if "prediction_auc" in scores:  # Billboard: its own hit label, no popularity
            scores = {**scores, "prediction_hit_auc": scores["prediction_auc"]}
        row = {TRANSFER_HEADERS["scored"]: label, TRANSFER_HEADERS["n"]: f"{scores['n']:,}"}
        for key, header in TRANSFER_HEADERS.items():
            if key in ("scored", "n"):
                continue
            value = scores.get(key)
            d = 2 if key == "mae" else digits
            row[header] = NOT_MEASURED if value is None else f"{value:.{d}f}"
        value = scores.get("interval_coverage")
        row[coverage] = NOT_MEASURED if value is None else f"{value:.1%}"
        out.append(row)
    return pd.DataFrame(out)
