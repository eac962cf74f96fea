"""Words of the Modeling chapter's section "Which recipe would transfer?" (chapters/04-modeling).

The section words ``models/transfer.json``: model recipes trained on this crawl and scored in
it and on the other crawls, which in-data measure comes closest to the external scores, the
selection rule and its outcome, the known-artist protocol grouped by album, and every honest
model of the build scored on the other crawls. :func:`facts` reads the artifact (numbers and
identifiers only); the templates, sentences and tables follow. :mod:`analysis.prose.modeling`
re-exports the sentence and table functions, so the chapter calls them as ``prose.<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.labels import (
    EXTERNAL_SET_SHORT_NAMES,
    MODEL_LABELS,
    PROTOCOL_ADJECTIVES,
    PROTOCOL_LABELS,
    RECIPE_LABELS,
    TRANSFER_MEASURE_LABELS,
)
from analysis.models.settings import MODEL_NAMES
from analysis.prose import transfer as _transfer
from analysis.prose._render import figure, fill, numbered, spelled

__all__ = [
    "recipe_facts",
    "recipes_agreement",
    "recipes_agreement_table",
    "recipes_honest_models",
    "recipes_honest_table",
    "recipes_intro",
    "recipes_known_by_album",
    "recipes_outcome",
    "recipes_rule",
    "recipes_table",
]

#: The columns of the recipe table: in-data first, then the other crawls.
TABLE_MEASURES: tuple[str, ...] = (
    "in_data.spearman", "new_release.spearman_within_genre",
    "macro_genre_holdout.spearman_within_macro", "music_genre.spearman_within_genre",
    "in_data.hit_auc", "music_genre.hit_auc", "billboard.hit_auc",
)


# --- facts -------------------------------------------------------------------------------------


def recipe_facts(transfer: Mapping, external: Mapping, metrics: Mapping) -> dict:
    """Every number the section quotes, from ``models/transfer.json`` (and ``external.json``
    for every honest model's out-of-fold scores, on all tracks and on new releases;
    ``metrics.json`` for the recipes the published new-artist models follow).

    Returns
    -------
    dict
        ``n``; ``recipes`` (name, eligible, flat scores); ``agreement`` per role with its
        ``pooled`` / ``closest`` / ``ranker`` rows; ``selection``; ``rule``;
        ``min_agreement``; ``by_album`` / ``by_song`` (the known-artist recipe); ``honest``
        (one row per protocol x model with its out-of-fold and external scores);
        ``follows`` (per role, whether the published model follows the chosen recipe).
    """
    from analysis.external import in_data_model_metrics
    from analysis.external import transfer_artifact as art
    from analysis.external.candidates import CURRENT_RECIPE, hit_classifier_recipe
    from analysis.external.selection import MIN_AGREEMENT, eligibility, flat_scores
    from analysis.models.artifacts import champion_entry, triage_entry
    from analysis.protocols import HONEST_PROTOCOLS

    recipes = [{"name": e["name"], "columns": e["columns"], "eligible": eligibility(e)[0],
                "scores": flat_scores(e)} for e in art.candidate_entries(transfer)]
    agreement = {}
    for role in ("popularity_model", "hit_classifier"):
        report = art.agreement(transfer, role)
        rows = {r["measure"]: r for r in report["measures"]}
        agreement[role] = {"external": report["external"], "rows": report["measures"],
                           "closest": rows[report["closest"]],
                           "ranker": rows[report["best_ranker"]],
                           "pooled": rows.get("in_data.spearman")}
    honest = []
    for protocol in HONEST_PROTOCOLS:
        for model, scores in art.honest_models(transfer, protocol).items():
            honest.append({"protocol": protocol, "model": model, **scores,
                           "here": in_data_model_metrics(external, protocol, model),
                           "here_new": in_data_model_metrics(external, protocol, model,
                                                             "new_release")})
    known = art.known_artist_by_album(transfer)
    selection = art.selection(transfer)
    published = {
        "popularity_model": (champion_entry(metrics, "cold_start")["popularity_model"]["recipe"]
                             or CURRENT_RECIPE),
        "hit_classifier": hit_classifier_recipe(
            tuple(triage_entry(metrics, "cold_start")["blanked_inputs"]))}
    return {"n": len(recipes), "recipes": recipes, "agreement": agreement,
            "selection": selection, "rule": art.selection_rule(transfer),
            "min_agreement": MIN_AGREEMENT, "by_album": known["by_album"],
            "by_song": known["by_song"], "honest": honest,
            "follows": {role: selection[role]["chosen"] == recipe
                        for role, recipe in published.items()}}


# --- templates ---------------------------------------------------------------------------------

RECIPES_INTRO = (
    "The tuned models above were chosen on scores in this crawl. To learn what would "
    "transfer, {n} recipes for the {model} model were trained here, each changing one or a few "
    "things against the tuned model's (every input, every track): leaving out the genre "
    "labels, genre altogether, the album or title markers; training without the crawl's "
    "copies (popularity zero, compilation, seasonal and dated albums, all but the most popular "
    "version of a song); predicting popularity relative to the genre's mean; stronger "
    "regularisation; and blanking the inputs the other crawls lack (genre, album, explicit "
    "flag, time signature) on part of the training rows, so that the model has seen them "
    "missing. The model parameters are the tuned model's, so only the recipe differs. Each "
    "recipe is scored out of fold on all tracks and on new releases, on each macro-genre held "
    "out together with its artists (a genre family the model never saw), and, fitted on all of "
    "this crawl, on both other crawls."
)

RECIPES_AGREEMENT = (
    "Across the {n} recipes, the pooled out-of-fold Spearman orders them against the "
    "within-genre Spearman on {mg_name} at {pooled[rank_correlation]:+.2f} (rank "
    "correlation): {pooled_words}. Of the in-data measures, *{closest_label}* comes closest to "
    "the other crawl's level (mean gap {closest[mean_gap]:+.2f}){ranker_sentence}. For the hit "
    "classifier, *{hit_label}* orders the recipes like {mg_name}'s hit ROC-AUC at "
    "{hit[rank_correlation]:+.2f}."
)
RANKER_SAME = " and also orders the recipes most like it ({ranker[rank_correlation]:+.2f}){words}"
RANKER_OTHER = (", and *{label}* orders the recipes most like it "
                "({ranker[rank_correlation]:+.2f}){words}")
POOLED_AGAINST = "a recipe that ranks better here tends to rank worse there"
POOLED_LOOSE = "better here goes with better there only loosely"
POOLED_WITH = "the pooled score picks recipes that also transfer"
RANKER_ENOUGH = ", enough for the rule below to choose on it"
RANKER_SHORT = (", short of the {min_agreement:.1f} the rule below asks before an in-data "
                "measure may stand in for another crawl")

RECIPES_RULE = "The rule was fixed before the comparison ran, and is stored with its result:"

RECIPES_OUTCOME = (
    "Under it, the popularity model would be **{pop_label}** (within-genre Spearman on "
    "{mg_name} {pop[chosen_scores][music_genre.spearman_within_genre]:.2f}, against "
    "{pop[current_scores][music_genre.spearman_within_genre]:.2f} for the champions' recipe "
    "when the rule ran) and the hit classifier **{hit_label}** (hit ROC-AUC "
    "{hit[chosen_scores][music_genre.hit_auc]:.2f} on {mg_name} and "
    "{hit[chosen_scores][billboard.hit_auc]:.2f} on {bb_name}, against "
    "{hit[current_scores][music_genre.hit_auc]:.2f} and "
    "{hit[current_scores][billboard.hit_auc]:.2f}). {source_words}{keeps_words}"
)
SOURCE_EXTERNAL = (
    "No in-data measure agreed well enough, so the rule chose on {mg_name} itself, and these "
    "{mg_name} figures are optimistic; {bb_name} and a crawl kept back for verification are "
    "the checks. "
)
SOURCE_IN_DATA = "The rule chose on an in-data measure, so the other crawls are clean checks. "
#: Whether the published new-artist models follow the chosen recipes, by (popularity model,
#: hit classifier).
PUBLISHED: dict[tuple[bool, bool], str] = {
    (True, True): (
        "Both published new-artist models follow the chosen recipes: they were retrained, and "
        "every predicted popularity and hit probability on this site, in the triage tool and "
        "in the browser predictor is the retrained models', as are the new-artist champion's "
        "out-of-fold figures in this chapter."),
    (False, True): (
        "The published hit classifier follows its recipe: it was retrained, and every hit "
        "probability on this site, in the triage tool and in the browser predictor is the "
        "retrained one's. The popularity model does not yet: its recipe reads fewer columns "
        "and other rows, so the predictor's form, the drivers chapter and the triage's "
        "popularity column change with it, and every predicted popularity on this site is "
        "still the previous recipe's."),
    (True, False): ("The popularity model's recipe stays; the published hit classifier is not "
                    "yet retrained to its recipe."),
    (False, False): ("The published champions are not yet retrained to these recipes: every "
                     "skill figure elsewhere on this site is still the previous recipe's."),
}
STILL_BARELY = (
    " Even the chosen recipe ranks {mg_name} tracks within a genre barely better than chance "
    "(below {barely:.2f})."
)

RECIPES_KNOWN_BY_ALBUM = (
    "The {known} protocol groups its folds by song, so a test track's sister tracks from the "
    "same album usually sit in training: {song[album_seen_in_training]:.0%} of test tracks "
    "have their album name on the training side. A new release by a known artist is usually a "
    "new album. Grouped by album instead (history from the artist's other albums only; "
    "{album[album_seen_in_training]:.0%} of test tracks still meet their album name, on "
    "another artist's album of the same name), the {known} recipe's out-of-fold R² "
    "goes from {song[all][r2]:.2f} to {album[all][r2]:.2f}, its Spearman from "
    "{song[all][spearman]:.2f} to {album[all][spearman]:.2f} and its hit ROC-AUC from "
    "{song[all][hit_auc]:.2f} to {album[all][hit_auc]:.2f}; on new releases, R² "
    "{song[new_release][r2]:.2f} and {album[new_release][r2]:.2f}. For a new album the "
    "album-grouped figures are the honest ones."
)

RECIPES_HONEST = (
    "Every model of the build, fitted on all of this crawl as the build fits it, is scored on "
    "{mg_name} in the table below. Out of fold here, the {cold} models rank "
    "tracks with Spearman {here_lo:.2f} to {here_hi:.2f}; on {mg_name}, {mg_lo:.2f} to "
    "{mg_hi:.2f}, and the one that ranks best here ({best_here}) {best_words} there."
)
BEST_STAYS_BEST = "is also the best"
BEST_IS_NOT = "ranks {rank} of {n}"

AGREEMENT_HEADERS: dict[str, str] = {
    "measure": "In-data measure", "rank_correlation": "Orders recipes like {mg_name} (rank "
    "correlation)", "mean_gap": "Mean gap to {mg_name}",
}
RECIPE_HEADER, ELIGIBLE_HEADER = "Recipe", "May be chosen"
YES, NO = "yes", "no"
HONEST_HEADERS: dict[str, str] = {
    "model": "Model", "here": "Here: Spearman (out of fold)",
    "here_within": "Here: within genre", "here_new": "Here, new releases: within genre",
    "tracks": "{mg_name} tracks", "spearman": "{mg_name}: Spearman",
    "spearman_within_genre": "{mg_name}: within genre", "r2": "{mg_name}: R²",
    "prediction_auc": "{bb_name}: ROC-AUC of predicted popularity",
}


# --- sentences ---------------------------------------------------------------------------------


def _names() -> dict:
    return {"mg_name": EXTERNAL_SET_SHORT_NAMES["music_genre"],
            "bb_name": EXTERNAL_SET_SHORT_NAMES["billboard"],
            "model": PROTOCOL_ADJECTIVES["cold_start"],
            "known": PROTOCOL_ADJECTIVES["known_artist"],
            "cold": PROTOCOL_ADJECTIVES["cold_start"]}


def recipes_intro(f: Mapping) -> str:
    """What the recipes are and how each is scored."""
    r = f["recipes"]
    return fill(RECIPES_INTRO, r, **_names(), n=spelled(r["n"]))


def recipes_agreement(f: Mapping) -> str:
    """Which in-data measure comes closest to the external scores, which ranks like them."""
    r = f["recipes"]
    pop, hit = r["agreement"]["popularity_model"], r["agreement"]["hit_classifier"]
    rho = pop["pooled"]["rank_correlation"]
    pooled_words = (POOLED_AGAINST if rho < 0 else
                    POOLED_LOOSE if rho < r["min_agreement"] else POOLED_WITH)
    ranker = pop["ranker"]
    ranker_words = (RANKER_ENOUGH if ranker["rank_correlation"] >= r["min_agreement"]
                    else fill(RANKER_SHORT, r))
    same = ranker["measure"] == pop["closest"]["measure"]
    ranker_sentence = fill(RANKER_SAME if same else RANKER_OTHER, {}, ranker=ranker,
                           words=ranker_words,
                           label=TRANSFER_MEASURE_LABELS[ranker["measure"]])
    return fill(RECIPES_AGREEMENT, r, **_names(), n=spelled(r["n"]), pooled=pop["pooled"],
                closest=pop["closest"],
                closest_label=TRANSFER_MEASURE_LABELS[pop["closest"]["measure"]],
                ranker_sentence=ranker_sentence, hit=hit["ranker"],
                hit_label=TRANSFER_MEASURE_LABELS[hit["ranker"]["measure"]],
                pooled_words=pooled_words)


def recipes_rule(f: Mapping) -> str:
    """The selection rule as recorded in the artifact, as a numbered list."""
    return RECIPES_RULE + "\n\n" + numbered(f["recipes"]["rule"])


def recipes_outcome(f: Mapping) -> str:
    """What the rule chooses, against the current recipe, and what that means for the site."""
    r = f["recipes"]
    s = r["selection"]
    pop, hit = s["popularity_model"], s["hit_classifier"]
    names = _names()
    external = "external_validation" in (pop["measure_source"], hit["measure_source"])
    barely = pop["chosen_scores"]["music_genre.spearman_within_genre"] < _transfer.BARELY
    return fill(RECIPES_OUTCOME, r, **names, pop=pop, hit=hit,
                pop_label=RECIPE_LABELS[pop["chosen"]].lower(),
                hit_label=RECIPE_LABELS[hit["chosen"]].lower(),
                source_words=fill(SOURCE_EXTERNAL if external else SOURCE_IN_DATA, names),
                keeps_words=PUBLISHED[r["follows"]["popularity_model"],
                                      r["follows"]["hit_classifier"]]
                + (fill(STILL_BARELY, names, barely=_transfer.BARELY) if barely else ""))


def recipes_known_by_album(f: Mapping) -> str:
    """The known-artist recipe under album-grouped folds, beside song-grouped ones."""
    r = f["recipes"]
    return fill(RECIPES_KNOWN_BY_ALBUM, r, **_names(), song=r["by_song"], album=r["by_album"])


def recipes_honest_models(f: Mapping) -> str:
    """Every honest new-artist model, here and on music_genre, in words."""
    rows = [row for row in f["recipes"]["honest"] if row["protocol"] == "cold_start"]
    here = [row["here"]["spearman"] for row in rows]
    there = [row["music_genre"]["spearman"] for row in rows]
    best = max(rows, key=lambda row: row["here"]["spearman"])
    order = sorted(rows, key=lambda row: -row["music_genre"]["spearman"])
    rank = order.index(best) + 1
    words = BEST_STAYS_BEST if rank == 1 else fill(BEST_IS_NOT, {}, rank=spelled(rank),
                                                   n=spelled(len(rows)))
    return fill(RECIPES_HONEST, {}, **_names(), here_lo=min(here), here_hi=max(here),
                mg_lo=min(there), mg_hi=max(there), best_here=MODEL_LABELS[best["model"]],
                best_words=words)


# --- tables ------------------------------------------------------------------------------------


def recipes_table(f: Mapping) -> pd.DataFrame:
    """One row per recipe: its in-data and external scores, and whether the rule may choose
    it."""
    rows = []
    for recipe in f["recipes"]["recipes"]:
        row = {RECIPE_HEADER: RECIPE_LABELS[recipe["name"]]}
        for measure in TABLE_MEASURES:
            row[TRANSFER_MEASURE_LABELS[measure]] = figure(recipe["scores"].get(measure))
        row[ELIGIBLE_HEADER] = YES if recipe["eligible"] else NO
        rows.append(row)
    return pd.DataFrame(rows)


def recipes_agreement_table(f: Mapping) -> pd.DataFrame:
    """Each in-data measure of the popularity model against music_genre's within-genre
    Spearman, across recipes."""
    names = _names()
    headers = {k: fill(v, names) for k, v in AGREEMENT_HEADERS.items()}
    return pd.DataFrame([{
        headers["measure"]: TRANSFER_MEASURE_LABELS[row["measure"]],
        headers["rank_correlation"]: figure(row["rank_correlation"]),
        headers["mean_gap"]: figure(row["mean_gap"], sign=True),
    } for row in f["recipes"]["agreement"]["popularity_model"]["rows"]])


def recipes_honest_table(f: Mapping) -> pd.DataFrame:
    """Every honest protocol x model: its out-of-fold Spearman here, its scores on music_genre
    and Billboard (known-artist models: on tracks of artists this crawl knows)."""
    names = _names()
    headers = {k: fill(v, names) for k, v in HONEST_HEADERS.items()}
    out = []
    order = {name: i for i, name in enumerate(MODEL_NAMES)}
    for row in sorted(f["recipes"]["honest"], key=lambda r: (r["protocol"] != "cold_start",
                                                           order.get(r["model"], len(order)))):
        mg = row["music_genre"]
        bb = row.get("billboard", {})
        out.append({
            headers["model"]: f"{PROTOCOL_LABELS[row['protocol']]}: {MODEL_LABELS[row['model']]}",
            headers["here"]: figure(row["here"]["spearman"]),
            headers["here_within"]: figure(row["here"]["spearman_within_genre"]),
            headers["here_new"]: figure(row["here_new"]["spearman_within_genre"]),
            headers["tracks"]: f"{mg['n']:,}",
            headers["spearman"]: figure(mg["spearman"]),
            headers["spearman_within_genre"]: figure(mg["spearman_within_genre"]),
            headers["r2"]: figure(mg["r2"]),
            headers["prediction_auc"]: figure(bb.get("prediction_auc")),
        })
    return pd.DataFrame(out)
