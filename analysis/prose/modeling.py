"""Words of the Modeling chapter (chapters/04-modeling), built from ``metrics.json``.

:func:`facts` reads every number the chapter quotes from the build's artifacts
(:func:`analysis.models.load_metrics`, the feature ladder of the cached explanations and, for
the section "Does it hold elsewhere?", ``models/external.json`` through
:func:`analysis.prose.transfer.facts`); it computes no model result. The templates hold the
wording; the sentence functions fill them and pick the words a sign decides ("adds" or
"costs", "lifts" or "lowers", "under-" or "over-predicted"). The three tables are built
straight from ``metrics.json``. The words of "Does it hold elsewhere?" live in
:mod:`analysis.prose.modeling_transfer`, those of "Which recipe would transfer?"
(``models/transfer.json``) in :mod:`analysis.prose.modeling_recipes`; both are re-exported
here, so the chapter reaches every sentence as ``modeling.<name>``."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.labels import (
    EXTERNAL_SET_SHORT_NAMES,
    GENRE_STEP,
    LADDER_STEP_PREFIX,
    LEAKY,
    MODEL_LABELS,
    ORIGINAL_STEP,
    PROTOCOL_ADJECTIVES,
    PROTOCOL_AUDIENCES,
    PROTOCOL_SHORT_NAMES,
    RECIPE_LABELS,
)
from analysis.models import (
    CONFIDENCE_LEVELS,
    COVERAGE_TOLERANCE,
    HIT_THRESHOLD,
    ORIGINAL_RESULTS,
    ORIGINAL_RF_JOBLIB_BYTES,
    ORIGINAL_RF_SECONDS,
    POPULARITY_BANDS,
    TOP_SHARE,
)
from analysis.models.artifacts import (
    budget,
    champion_entry,
    champion_model,
    champion_names,
    error_analysis_entry,
    finding_entry,
    has_model,
    interval_entry,
    model_entry,
    model_metric,
    model_names,
    model_timings,
    original_results,
    protocol_entry,
    protocol_names,
    triage_entry,
    worst_coverage_gap,
)
from analysis.prose import transfer as _transfer
from analysis.prose._artifacts import LIKE_FOR_LIKE
from analysis.prose._render import bullets, by_sign, fill, numbered, spelled, upper_first
from analysis.prose.modeling_recipes import (  # noqa: F401 - the chapter calls prose.<name>
    recipe_facts,
    recipes_agreement,
    recipes_agreement_table,
    recipes_honest_models,
    recipes_honest_table,
    recipes_intro,
    recipes_known_by_album,
    recipes_outcome,
    recipes_rule,
    recipes_table,
)
from analysis.prose.modeling_transfer import (  # noqa: F401 - the chapter calls prose.<name>
    transfer_fill,
    transfer_genres,
    transfer_known_artist,
    transfer_meaning,
    transfer_scores,
    transfer_sensitivity,
    transfer_sets,
    transfer_table,
)
from analysis.protocols import HONEST_PROTOCOLS, PROTOCOL_INFO

#: The interval level the chapter's prose quotes (the widest of the build's levels).
LEVEL = str(max(CONFIDENCE_LEVELS))

#: The models tried beyond the original's four, compared with the tuned XGBoost.
ATTEMPTS = ("hist_gradient_boosting", "xgboost_hurdle", "xgboost_monotone", "xgboost_transfer")

#: How close the replica's R² must come to the original's to count as reproduced.
REPLICA_TOLERANCE = 0.03

#: The issue's targets, as (protocol, metric, comparison, value).
TARGETS: tuple[tuple[str, str, str, float], ...] = (
    ("seed_replica", "r2", f"within {REPLICA_TOLERANCE:g} of", 0.801),
    ("known_artist", "r2", ">=", 0.60),
    ("known_artist", "mae", "<=", 8.5),
    ("cold_start", "r2", ">=", 0.45),
    ("cold_start", "mae", "<=", 10.5),
    ("cold_start", "hit_auc", ">=", 0.85),
)

_TOP = f"{TOP_SHARE:.0%}"

#: Metrics as the tables name them (column headers and target rows).
METRIC_HEADERS: dict[str, str] = {
    "r2": "R²", "mae": "MAE", "rmse": "RMSE", "spearman": "Spearman",
    "hit_auc": "Hit ROC-AUC", "top1_precision": f"Top-{_TOP} precision",
}
METRIC_NAMES: dict[str, str] = {
    "r2": "R²", "mae": "MAE", "rmse": "RMSE", "spearman": "Spearman",
    "hit_auc": "hit ROC-AUC", "top1_precision": f"top-{_TOP} precision",
}


# --- facts -------------------------------------------------------------------------------------


def _metrics(entry: Mapping) -> dict:
    """A model or hit-classifier entry's fold means, by metric."""
    return {name: value["mean"] for name, value in entry["metrics"].items()}


def _means(metrics: Mapping, protocol: str, model: str) -> dict:
    """A model's fold means, by metric."""
    return _metrics(model_entry(metrics, protocol, model))


def best_honest_models(metrics: Mapping) -> dict[str, str]:
    """Per honest protocol, the model with the highest mean R² (ties: table order)."""
    out = {}
    for protocol in HONEST_PROTOCOLS:
        names = model_names(metrics, protocol)
        out[protocol] = max(names, key=lambda m, p=protocol: (
            model_metric(metrics, p, m, "r2"), -names.index(m)))
    return out


def facts(metrics: Mapping, explanations=None, external: Mapping | None = None,
          transfer: Mapping | None = None) -> dict:
    """Every number the Modeling chapter quotes.

    Parameters
    ----------
    metrics : dict
        ``models/metrics.json``.
    explanations : analysis.explain.Explanations, optional
        ``models/shap/``, for the feature ladder (``ladder`` is None without it).
    external : dict, optional
        ``models/external.json`` (:func:`analysis.external.load_external`), for the section
        on other crawls and the sampling-artefact findings they add (``transfer`` is None
        without it).
    transfer : dict, optional
        ``models/transfer.json`` (:func:`analysis.external.transfer_artifact.load_transfer`),
        for the section on which recipe would transfer (``recipes`` is None without it or
        without ``external``).
    """
    return {
        "champions": {p: _means(metrics, p, champion_model(metrics, p)) for p in HONEST_PROTOCOLS},
        # the same kind of model as the original's best under each honest protocol (the
        # champions' own kind, unless a champion follows a recipe for other crawls)
        "tuned": {p: _means(metrics, p, LIKE_FOR_LIKE) for p in HONEST_PROTOCOLS},
        "published_recipe": champion_entry(metrics, "cold_start")["popularity_model"]["recipe"],
        "replica_best": max(model_metric(metrics, "seed_replica", m, "r2")
                            for m in model_names(metrics, "seed_replica")),
        "replica_rf": model_metric(metrics, "seed_replica",
                                   "random_forest" if has_model(metrics, "seed_replica",
                                                                "random_forest") else "xgboost",
                                   "r2"),
        "published": original_results(metrics)["random_forest"]["r2"],
        "leak": _leak_facts(metrics),
        "original": _original_facts(metrics),
        "comparison": _comparison_facts(metrics),
        "attempts": _attempt_facts(metrics),
        "triage": {p: _triage_facts(metrics, p) for p in HONEST_PROTOCOLS},
        "forest_cost": _forest_cost_facts(metrics),
        "errors": {p: error_analysis_entry(metrics, p) for p in HONEST_PROTOCOLS},
        "intervals": {p: _interval_facts(metrics, p) for p in HONEST_PROTOCOLS},
        "overlap": protocol_entry(metrics, "cold_start")["featured_artist_overlap"],
        "artefacts": _artefact_facts(finding_entry(metrics, "sampling_artefacts")),
        "album": {p: error_analysis_entry(metrics, p)["by_album_seen_in_training"]
                  for p in HONEST_PROTOCOLS},
        "ladder": None if explanations is None else {
            p: explanations.protocol_summary(p)["feature_ladder"]
            for p in ("cold_start", "known_artist")},
        "transfer": None if external is None else _transfer.facts(external),
        "recipes": (None if transfer is None or external is None
                    else recipe_facts(transfer, external, metrics)),
    }


def _triage_facts(metrics: Mapping, protocol: str) -> dict:
    entry = triage_entry(metrics, protocol)
    return {"classifier": _metrics(entry),
            "regressor": _means(metrics, protocol, champion_model(metrics, protocol)),
            "blanked": entry["blanked_inputs"], "blanked_share": entry["blanked_share"]}


def _leak_facts(metrics: Mapping) -> dict:
    audit = finding_entry(metrics, "leak_audit")
    return {"rows": protocol_entry(metrics, "seed_replica")["rows"],
            "leaky": audit["seed_replica"], "honest": audit["known_artist"]}


def _original_facts(metrics: Mapping) -> dict:
    rows = [{"model": name, "r2": model_metric(metrics, "seed_replica", name, "r2"),
             "mae": model_metric(metrics, "seed_replica", name, "mae"),
             "original_r2": original["r2"], "original_mae": original["mae"]}
            for name, original in ORIGINAL_RESULTS.items()
            if has_model(metrics, "seed_replica", name)]
    return {"rows": rows,
            "genre_only": finding_entry(metrics, "leak_audit")[
                "replica_linear_regression_genre_only"]}


def _comparison_facts(metrics: Mapping) -> dict:
    best = best_honest_models(metrics)
    out = {}
    for protocol in HONEST_PROTOCOLS:
        winner = best[protocol]

        def r2(model: str, p: str = protocol) -> float:
            return model_metric(metrics, p, model, "r2")

        out[protocol] = {
            "winner": winner, "r2": r2(winner),
            "r2_sd": model_metric(metrics, protocol, winner, "r2", "sd"),
            "mae": model_metric(metrics, protocol, winner, "mae"),
            "tuning_gain": r2("xgboost_tuned") - r2("xgboost"),
            "linear": r2("linear_regression"),
        }
    tuned = [model_entry(metrics, p, "xgboost_tuned") for p in HONEST_PROTOCOLS]
    slopes = [params["huber_slope"] for entry in tuned for params in entry["fold_params"]]
    start = tuned[0]["params"]["starts"][0]["huber_slope"]
    return {"by_protocol": out, "slope_start": start, "slope_min": min(slopes),
            "slope_max": max(slopes), "slope_unchanged": set(slopes) == {start}}


def _attempt_facts(metrics: Mapping) -> list[dict]:
    rows = []
    for protocol in HONEST_PROTOCOLS:
        base = _means(metrics, protocol, "xgboost_tuned")
        for name in ATTEMPTS:
            if has_model(metrics, protocol, name):
                m = _means(metrics, protocol, name)
                rows.append({"protocol": protocol, "model": name, "r2": m["r2"],
                             "r2_change": m["r2"] - base["r2"], "mae": m["mae"],
                             "mae_change": m["mae"] - base["mae"]})
    return rows


def _forest_cost_facts(metrics: Mapping) -> dict:
    forests = {}
    for protocol in PROTOCOL_INFO:
        entry = model_timings(metrics, protocol, "random_forest")
        if entry and "joblib_bytes" in entry:
            forests[protocol] = {"seconds": entry["fit_seconds"]["mean"],
                                 "gigabytes": max(entry["joblib_bytes"]["folds"]) / 1e9}
    return {
        "forests": forests, "trees": budget(metrics)["random_forest_trees"],
        "original_seconds": ORIGINAL_RF_SECONDS,
        "original_gigabytes": ORIGINAL_RF_JOBLIB_BYTES / 1e9,
        "champion_megabytes": (max(champion_entry(metrics, c)["artifact_bytes"]
                                   for c in champion_names(metrics)) / 1e6
                               if forests else None),
    }


def _interval_facts(metrics: Mapping, protocol: str) -> dict:
    out = {}
    for kind in ("global", "mondrian"):
        table = interval_entry(metrics, protocol, LEVEL, kind=kind)
        per = [v["coverage"] for v in table["by_macro_genre"].values()]
        out[kind] = {"coverage": table["coverage"], "mean_width": table["mean_width"],
                     "lowest": min(per), "highest": max(per)}
    return {"level": float(LEVEL), **out}


def _artefact_facts(finding: Mapping) -> dict:
    counts = finding["variants"]["allowed_plus_3_counts"]
    full = finding["variants"]["allowed_plus_3_counts_and_genre_membership"]
    return {"protocol": finding["protocol"], "base": finding["allowed_features"]["r2"]["mean"],
            "counts": counts["metrics"]["r2"]["mean"], "full": full["metrics"]["r2"]["mean"],
            "added_counts": len(counts["added_columns"])}


# --- templates ---------------------------------------------------------------------------------

ANSWER = (
    "**Answer.** Honestly evaluated, a new track by an artist we know is predicted with R² "
    "{known[r2]:.2f} (typical error {known[mae]:.1f} popularity points) and one by an artist we "
    "have never seen with R² {cold[r2]:.2f} (error {cold[mae]:.1f}); the original's R² of about "
    "{replica_best:.2f} came from a leak, not from the model."
)
#: When the published new-artist model follows a recipe chosen for other crawls.
ANSWER_PUBLISHED = (
    " The new-artist model this site publishes was chosen instead for what holds on other "
    "crawls ({recipe}; @sec-modeling-recipes): here it explains less "
    "(R² {published_model[r2]:.2f}, error {published_model[mae]:.1f}; rank correlation "
    "{published_model[spearman]:.2f} against {cold[spearman]:.2f})."
)

LEAK = (
    "The replica works on {rows:,} genre listings, not tracks. Two things leak. First, "
    "{leaky[test_rows_whose_track_is_also_in_train]:.0%} of its {leaky[test_rows]:,} test rows "
    "are a track whose copy under another genre sits in the training rows. Second, the 'artist "
    "popularity' feature is the mean over *all* rows, the test row's own label included: for "
    "{leaky[test_rows_feature_equals_label]:.0%} of test rows it is exactly the label (artists "
    "with a single listing). Used alone as a prediction, that feature scores R² "
    "{leaky[r2_of_artist_mean_alone]:.2f}; the same artist mean computed out of fold scores R² "
    "{honest[r2_of_artist_mean_alone]:.2f}."
)

ORIGINAL = (
    "Our replica of the original recipe gives {models}. The original's Linear Regression score "
    "is matched by a regression on the genre label alone (R² {genre_only[r2]:.3f}, MAE "
    "{genre_only[mae]:.2f}), so its linear model evidently did not use the artist mean that the "
    "tree models used."
)
ORIGINAL_MODEL = ("{label} R² {r2:.3f} (original {original_r2:.3f}), MAE {mae:.2f} (original "
                  "{original_mae:.2f})")

COMPARISON = (
    "Under **{protocol}** the best model is {label} (R² {r2:.3f} ± {r2_sd:.3f}, MAE {mae:.2f}); "
    "tuning (the search and the pseudo-Huber loss below) {tuning}, and Linear Regression "
    "reaches {linear:.3f}."
)
TUNING_GAIN = "adds {tuning_gain:+.3f} R² over XGBoost's defaults"
TUNING_LOSS = "costs {tuning_loss:.3f} R² against XGBoost's defaults"
HUBER = (
    "The tuned XGBoost fits a pseudo-Huber loss: squared near the prediction and linear beyond "
    "a slope, so the zero-popularity copies and other far-off tracks pull its trees less than "
    "squared error would; {slope}"
)
SLOPE_UNCHANGED = ("no trial beat the starting slope of {slope_start:.0f} popularity points in "
                   "any fold.")
SLOPE_TUNED = ("the tuner set the slope between {slope_min:.0f} and {slope_max:.0f} popularity "
               "points.")

ATTEMPT = ("{protocol}, {label}: R² {r2:.3f} ({r2_change:+.3f} vs tuned XGBoost), MAE {mae:.2f} "
           "({mae_change:+.2f})")

TRIAGE = (
    "Ranking hits is its own task: a classifier trained on popularity ≥ {hit} {verdict}. "
    "{Protocols}. The predictor page shows this classifier's probability beside the predicted "
    "popularity."
)
TRIAGE_PROTOCOL = (
    "for {audience}, hit ROC-AUC {classifier[hit_auc]:.3f} with the classifier against "
    "{regressor[hit_auc]:.3f} ranking by predicted popularity; among the top {top} it "
    "shortlists, {classifier[top1_precision]:.0%} are hits (base rate {classifier[hit_rate]:.0%})"
)
TRIAGE_BLANKED = (
    " For {audience}, the classifier learned with the {inputs} blanked on {blanked_share:.0%} of "
    "its training rows (the recipe chosen in @sec-modeling-recipes), so that a track from a "
    "crawl lacking them is scored as unknown there rather than with a guess."
)
CLASSIFIER_WINS = ("ranks them better than the popularity model, which is fitted to every "
                   "track's score rather than to the hit line")
CLASSIFIER_MIXED = "does not rank them better than the popularity model everywhere"

FOREST_COST = (
    "The {trees}-tree Random Forest is the most expensive model here: {forests} (the original's: "
    "{original_seconds:.0f} s and {original_gigabytes:.1f} GB on this machine). A champion, with "
    "its tuned XGBoost trees, intervals, hit classifier and artist history, takes "
    "{champion_megabytes:.1f} MB."
)
FOREST = "{audience}, {seconds:.0f} s per fit and {gigabytes:.1f} GB as a joblib file"
NO_FOREST = "The Random Forests were not part of this build."

ERRORS = (
    "Under **{protocol}**, errors are largest in {worst} (MAE {worst_mae:.1f}) and smallest in "
    "{best} ({best_mae:.1f}). Tracks at popularity 0 ({zero[share_of_tracks]:.1%} of tracks) are "
    "predicted {zero[mean_prediction]:.1f} on average and carry "
    "{zero[share_of_total_absolute_error]:.0%} of all absolute error; without them MAE would be "
    "{zero[mae_without_zeros]:.1f}.{hits}"
)
HITS = " Hits ({low}–{high}) are {predicted} by {miss:.1f} points on average."
UNDER_PREDICTED, OVER_PREDICTED = "under-predicted", "over-predicted"

INTERVALS = (
    "Under **{protocol}**, the {level:.0%} interval covers {mondrian[coverage]:.1%} of held-out "
    "tracks with a mean width of {mondrian[mean_width]:.1f} points; per macro-genre coverage runs "
    "from {mondrian[lowest]:.1%} to {mondrian[highest]:.1%}. One global offset would cover "
    "{global[coverage]:.1%} overall but only {global[lowest]:.1%} to {global[highest]:.1%} across "
    "macro-genres."
)

OVERLAP = (
    "No primary artist is on both sides of a new-artist split, but "
    "{test_tracks_with_featured_artist_seen:.1%} of test tracks credit a featured artist seen in "
    "training, and for {test_tracks_primary_seen_as_featured:.1%} the primary artist appears in "
    "training as someone else's guest. The model sees no artist identity, so this can only help "
    "through look-alike tracks."
)

ARTEFACTS = (
    "Adding the {added} sampling counts (genre lists, song versions and album tracks in the "
    "crawl) {counts_verb} {model} R² from {base:.3f} to {counts:.3f}, and adding which genre "
    "lists a track sits in {full_verb} it to {full:.3f}. None of this is known for a new track: "
    "it describes how the dataset was searched together, so no reported model uses it."
)
LIFTS, LOWERS = "lifts", "lowers"
ARTIST_ACROSS = (
    "The other crawls (see [does it hold elsewhere?](#sec-modeling-transfer)) add two "
    "findings. An artist's popularity is a property of the crawl as much as of the artist: for "
    "the {across[n]:,} artists with at least {min_tracks} tracks both here and in {mg_name}, "
    "their mean popularity in one crawl and in the other correlate with Spearman "
    "{across[spearman]:.2f} and differ by {across[mean_abs_difference]:.0f} points on average, "
    "while within one crawl two random halves of an artist's tracks agree at "
    "{within[kaggle][spearman]:.2f} (here) and {within[music_genre][spearman]:.2f} "
    "({mg_name})."
)
ALBUM_COPIES = (
    "And {copy_share:.0%} of this crawl's tracks ({slices[copy_album]:,}) sit on a "
    "compilation, seasonal or dated album: {seasonal:.1%} of the seasonal-album tracks are at "
    "popularity 0, {compilation:.0%} of the compilation tracks and {dated:.0%} of the "
    "dated-album ones, against {none:.0%} of the tracks on other albums. A model that spots "
    "them by the album name scores well here; neither other crawl names albums at all."
)

SUMMARY: tuple[str, ...] = (
    "**The published {published:.2f} is a leak.** The original recipe reproduces R² "
    "{replica_rf:.2f}; scored honestly, the same kind of model explains {known[r2]:.2f} of "
    "popularity variance for known artists and {cold[r2]:.2f} for new ones.",
    "**A known artist is worth a lot.** Artist history {error_verb} the error from "
    "{cold[mae]:.1f} to {known[mae]:.1f} points and {auc_verb} the hit classifier's ROC-AUC from "
    "{cold_auc:.2f} to {known_auc:.2f}.",
    "**Intervals are wide but honest.** {level:.0%} intervals cover {known_cover:.1%} "
    "({known_name}) and {cold_cover:.1%} ({cold_name}) of held-out tracks, about "
    "{known_width:.0f} and "
    "{cold_width:.0f} points wide.",
)
CUTS, RAISES = "cuts", "raises"
SUMMARY_TRANSFER = (
    "**Honest here is not the same as true elsewhere.** On another crawl the {model} model's "
    "within-genre Spearman {within_verb} from {here[spearman_within_genre]:.2f} to "
    "{mg[spearman_within_genre]:.2f} and its hit ROC-AUC from {here[hit_auc]:.2f} to "
    "{mg[hit_auc]:.2f} ({bb[hit_auc]:.2f} on {bb_name})."
)
FALLS, RISES = "falls", "rises"

ALBUM = (
    "Album names are allowed inputs (markers such as 'Greatest Hits', a year, 'Christmas'), but "
    "a split by song or artist can leave a compilation, or a known artist's other album tracks, "
    "on the training side. Scored separately, {protocols}. Known-artist history also counts "
    "tracks from the same album, which a truly new release would not have yet."
)
ALBUM_PROTOCOL = (
    "under {protocol}, {seen[share]:.0%} of test tracks have an album name that also appears in "
    "training (R² {seen[r2]:.2f}, MAE {seen[mae]:.1f}) and the rest score R² {unseen[r2]:.2f}, "
    "MAE {unseen[mae]:.1f}"
)

LADDER = (
    "For {audience} (outer fold {fold}, {test_tracks:,} held-out tracks), {first_step} reach "
    "R² {first:.2f}; then {gains}, for R² {last:.2f} with every input the model reads."
)
#: The ladder's first step in words, by its name.
LADDER_FIRST = {ORIGINAL_STEP + GENRE_STEP: "the original's columns and the genre",
                ORIGINAL_STEP: "the original's columns"}
LADDER_STEP = "{step} {gain:+.2f}"


# --- sentences ---------------------------------------------------------------------------------


def answer(f: Mapping) -> str:
    """The chapter's answer to its question: the tuned models' honest skill, and the
    published new-artist model's when it follows a recipe chosen for other crawls."""
    cold = f["tuned"]["cold_start"]
    text = fill(ANSWER, f, known=f["tuned"]["known_artist"], cold=cold)
    if f["published_recipe"] is not None:
        text += fill(ANSWER_PUBLISHED, f, cold=cold, published_model=f["champions"]["cold_start"],
                     recipe=RECIPE_LABELS[f["published_recipe"]].lower())
    return text


def leak(f: Mapping) -> str:
    """What the leak is, in numbers."""
    return fill(LEAK, f["leak"])


def original_difference(f: Mapping) -> str:
    """Where our replica differs from the original's published table, and why."""
    o = f["original"]
    models = "; ".join(fill(ORIGINAL_MODEL, row, label=MODEL_LABELS[row["model"]])
                       for row in o["rows"])
    return fill(ORIGINAL, o, models=models)


def comparison(f: Mapping) -> str:
    """Which model wins each honest protocol, and what tuning added."""
    c = f["comparison"]
    sentences = []
    for protocol, p in c["by_protocol"].items():
        gain = p["tuning_gain"]
        tuning = (fill(TUNING_GAIN, p) if gain > 0
                  else fill(TUNING_LOSS, {}, tuning_loss=abs(gain)))
        sentences.append(fill(COMPARISON, p, protocol=protocol, label=MODEL_LABELS[p["winner"]],
                              tuning=tuning))
    slope = fill(SLOPE_UNCHANGED if c["slope_unchanged"] else SLOPE_TUNED, c)
    sentences.append(fill(HUBER, {}, slope=slope))
    return " ".join(sentences)


def attempts(f: Mapping) -> str:
    """What the attempts at beating the tuned XGBoost gave."""
    return bullets(fill(ATTEMPT, row, label=MODEL_LABELS[row["model"]])
                   for row in f["attempts"])


def triage(f: Mapping) -> str:
    """What the dedicated hit classifier adds to triage, per protocol."""
    t = f["triage"]
    gains = [p["classifier"]["hit_auc"] - p["regressor"]["hit_auc"] for p in t.values()]
    protocols = "; ".join(fill(TRIAGE_PROTOCOL, p, audience=PROTOCOL_AUDIENCES[protocol],
                               top=_TOP) for protocol, p in t.items())
    blanked = "".join(
        fill(TRIAGE_BLANKED, p, audience=PROTOCOL_AUDIENCES[protocol],
             inputs=_transfer.input_words(p["blanked"]))
        for protocol, p in t.items() if p["blanked"])
    return fill(TRIAGE, {}, hit=HIT_THRESHOLD, Protocols=upper_first(protocols),
                verdict=CLASSIFIER_WINS if min(gains) > 0 else CLASSIFIER_MIXED) + blanked


def forest_cost(f: Mapping) -> str:
    """The Random Forests' fit time and joblib size beside the original's."""
    c = f["forest_cost"]
    if not c["forests"]:
        return NO_FOREST
    forests = "; ".join(fill(FOREST, entry, audience=PROTOCOL_AUDIENCES[protocol])
                        for protocol, entry in c["forests"].items())
    return fill(FOREST_COST, c, forests=forests)


def errors(f: Mapping) -> str:
    """Error analysis in words: macro-genres, the highest popularity band, the zero mass."""
    hits_label, hits_low, hits_end = POPULARITY_BANDS[-1]
    parts = []
    for protocol, analysis in f["errors"].items():
        by_macro = analysis["by_macro_genre"]
        worst = max(by_macro, key=lambda m: by_macro[m]["mae"])
        best = min(by_macro, key=lambda m: by_macro[m]["mae"])
        bias = analysis["by_popularity_band"][hits_label]["bias"]
        hits = "" if bias is None else fill(
            HITS, {}, low=hits_low, high=hits_end - 1, miss=abs(bias),
            predicted=by_sign(bias, OVER_PREDICTED, UNDER_PREDICTED))
        parts.append(fill(ERRORS, analysis, protocol=protocol, worst=worst,
                          worst_mae=by_macro[worst]["mae"], best=best,
                          best_mae=by_macro[best]["mae"], zero=analysis["zero_popularity"],
                          hits=hits))
    return "\n\n".join(parts)


def intervals(f: Mapping) -> str:
    """Coverage and width of the conformal intervals, global against Mondrian."""
    return "\n\n".join(fill(INTERVALS, i, protocol=protocol)
                       for protocol, i in f["intervals"].items())


def overlap(f: Mapping) -> str:
    """How artist-disjoint the new-artist folds are."""
    return fill(OVERLAP, f["overlap"])


def sampling_artefacts(f: Mapping) -> str:
    """The sampling-artefact finding in one paragraph; with the other crawls' facts, a second
    one on artist popularity across crawls and the album copies."""
    a = f["artefacts"]
    text = fill(ARTEFACTS, a, added=spelled(a["added_counts"]),
                model=PROTOCOL_ADJECTIVES[a["protocol"]],
                counts_verb=by_sign(a["counts"] - a["base"], LIFTS, LOWERS),
                full_verb=by_sign(a["full"] - a["counts"], LIFTS, LOWERS))
    t = f.get("transfer")
    if t is None:
        return text
    history, copies = t["artist_history"], t["album_copies"]
    share = {g: copies[f"album_{g}"]["share_popularity_0"]
             for g in ("seasonal", "compilation", "dated")}
    return "\n\n".join([
        text,
        fill(ARTIST_ACROSS, history, across=history["across_crawls"]["all_tracks"],
             within=history["within_crawl"], mg_name=EXTERNAL_SET_SHORT_NAMES["music_genre"])
        + " " + fill(ALBUM_COPIES, copies, none=copies["none"]["share_popularity_0"], **share),
    ])


def summary(f: Mapping) -> str:
    """Three findings with numbers, for the chapter's Summary, and a fourth on other crawls
    when the facts have them."""
    known, cold = f["tuned"]["known_artist"], f["tuned"]["cold_start"]
    auc = {p: t["classifier"]["hit_auc"] for p, t in f["triage"].items()}
    cover = {p: i["mondrian"] for p, i in f["intervals"].items()}
    items = [fill(item, f, known=known, cold=cold,
                  error_verb=by_sign(cold["mae"] - known["mae"], CUTS, RAISES),
                  auc_verb=by_sign(auc["known_artist"] - auc["cold_start"], LIFTS, LOWERS),
                  cold_auc=auc["cold_start"], known_auc=auc["known_artist"],
                  level=f["intervals"]["known_artist"]["level"],
                  known_cover=cover["known_artist"]["coverage"],
                  cold_cover=cover["cold_start"]["coverage"],
                  known_width=cover["known_artist"]["mean_width"],
                  known_name=PROTOCOL_SHORT_NAMES["known_artist"],
                  cold_name=PROTOCOL_SHORT_NAMES["cold_start"],
                  cold_width=cover["cold_start"]["mean_width"])
             for item in SUMMARY]
    t = f.get("transfer")
    if t is not None:
        here, mg = t["in_data"]["all"], t["music_genre"]
        items.append(fill(
            SUMMARY_TRANSFER, t, here=here, mg=mg, bb=t["billboard"],
            bb_name=EXTERNAL_SET_SHORT_NAMES["billboard"],
            model=PROTOCOL_ADJECTIVES[_transfer.CHAMPION],
            within_verb=by_sign(mg["spearman_within_genre"] - here["spearman_within_genre"],
                                RISES, FALLS)))
    return numbered(items)


def album_check(f: Mapping) -> str:
    """Whether scores lean on albums met in training (compilations, album-mates)."""
    protocols = "; ".join(fill(ALBUM_PROTOCOL, check, protocol=protocol)
                          for protocol, check in f["album"].items())
    return fill(ALBUM, {}, protocols=protocols)


def ladder(f: Mapping) -> str:
    """Where the honest R² comes from, step by step (the explain build's feature ladder)."""
    sentences = []
    for protocol, rung in f["ladder"].items():
        steps = rung["steps"]
        gains = ", ".join(fill(LADDER_STEP, {}, step=b["step"].removeprefix(LADDER_STEP_PREFIX),
                               gain=b["r2"] - a["r2"])
                          for a, b in zip(steps, steps[1:], strict=False))
        sentences.append(fill(LADDER, rung, audience=PROTOCOL_AUDIENCES[protocol], gains=gains,
                              first=steps[0]["r2"], last=steps[-1]["r2"],
                              first_step=LADDER_FIRST[steps[0]["step"]]))
    return " ".join(sentences)

# --- tables ------------------------------------------------------------------------------------


def comparison_table(metrics: Mapping, *, digits: int = 3) -> pd.DataFrame:
    """Protocol × model table of R², MAE, RMSE, Spearman, hit AUC and top-1% precision.

    Cells read ``mean ± sd`` over folds (the replica has one split, so no sd).
    """
    rows = []
    for protocol in protocol_names(metrics):
        leaky = protocol_entry(metrics, protocol)["leaky"]
        for name in model_names(metrics, protocol):
            entry = model_entry(metrics, protocol, name)
            row = {"protocol": protocol + (f" ({LEAKY.upper()})" if leaky else ""),
                   "model": entry["label"]}
            for metric, label in METRIC_HEADERS.items():
                value = entry["metrics"][metric]
                d = 2 if metric in ("mae", "rmse") else digits
                cell = "–" if value["mean"] is None else f"{value['mean']:.{d}f}"
                if value["sd"] is not None:
                    cell += f" ± {value['sd']:.{d}f}"
                row[label] = cell
            rows.append(row)
    return pd.DataFrame(rows)


def targets_table(metrics: Mapping) -> pd.DataFrame:
    """The issue's targets beside what the build measured: the Random Forest for the
    replica; for honest protocols the champion, except hit ROC-AUC, which is the triage
    question and is answered by the hit classifier. One more row per honest protocol: the
    worst macro-genre's interval coverage gap (:func:`analysis.models.worst_coverage_gap`)."""
    rows = []
    for protocol, metric, comparison, target in TARGETS:
        model = ("random_forest" if protocol == "seed_replica"
                 else champion_model(metrics, protocol))
        entry = model_entry(metrics, protocol, model) if has_model(metrics, protocol,
                                                                   model) else None
        if metric == "hit_auc":
            entry = triage_entry(metrics, protocol)
            model = entry["model"]
        value = None if entry is None else entry["metrics"][metric]["mean"]
        if value is None:
            met = None
        elif comparison == ">=":
            met = value >= target
        elif comparison == "<=":
            met = value <= target
        else:
            met = abs(value - target) <= REPLICA_TOLERANCE
        rows.append({"protocol": protocol, "model": MODEL_LABELS[model],
                     "metric": METRIC_NAMES[metric], "target": f"{comparison} {target:g}",
                     "measured": "–" if value is None else f"{value:.3f}",
                     "met": {True: "yes", False: "no", None: "not run"}[met]})
    for protocol in HONEST_PROTOCOLS:
        gap = worst_coverage_gap(metrics, protocol)
        rows.append({"protocol": protocol, "model": MODEL_LABELS[champion_model(metrics, protocol)],
                     "metric": "interval coverage, worst macro-genre's gap (points)",
                     "target": f"<= {100 * COVERAGE_TOLERANCE:g}",
                     "measured": f"{100 * gap:.2f}",
                     "met": "yes" if gap <= COVERAGE_TOLERANCE else "no"})
    return pd.DataFrame(rows)


def triage_table(metrics: Mapping) -> pd.DataFrame:
    """Per honest protocol: how well the popularity champion and the hit classifier rank hits.

    Both are scored on the same out-of-fold tracks; the champion's score is its predicted
    popularity, the classifier's its probability.
    """
    rows = []
    for protocol in HONEST_PROTOCOLS:
        triage = triage_entry(metrics, protocol)
        champion = champion_model(metrics, protocol)
        entries = [(MODEL_LABELS[champion], model_entry(metrics, protocol, champion)["metrics"]),
                   (triage["label"], triage["metrics"])]
        for label, m in entries:
            rows.append({
                "protocol": protocol, "model": label,
                METRIC_HEADERS["hit_auc"]: f"{m['hit_auc']['mean']:.3f} ± "
                                           f"{m['hit_auc']['sd']:.3f}",
                METRIC_HEADERS["top1_precision"]: f"{m['top1_precision']['mean']:.3f} ± "
                                                  f"{m['top1_precision']['sd']:.3f}",
                "Brier score": f"{m['brier']['mean']:.4f}" if "brier" in m else "–",
            })
    return pd.DataFrame(rows)

