"""Words of the Conclusions chapter (chapters/07-conclusions): what to rely on, and what not.

:func:`facts` reads every number the chapter quotes from ``metrics.json``, the cached
explanations and the cleaning summary; the templates hold the wording. The leak chart's bars
come from :func:`analysis.prose.front.headline_r2`, shared with the front page.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.embed import markdown_table
from analysis.labels import (
    LEAKY,
    PROTOCOL_ADJECTIVES,
    PROTOCOL_CASES,
    PROTOCOL_SHORT_NAMES,
    protocol_column,
)
from analysis.models import TOP_SHARE
from analysis.models.artifacts import (
    finding_entry,
    has_model,
    model_entry,
    model_label,
    original_results,
    protocol_names,
)
from analysis.prose._artifacts import (
    artist_history,
    champion_model,
    champion_r2,
    like_for_like_r2,
    metric,
    published_is_like_for_like,
    replica_model,
    triage_metric,
)
from analysis.prose._render import bullets, by_sign, fill, pm

#: The protocol whose errors and intervals the chapter reads (a new artist's tracks).
PROTOCOL = "cold_start"

#: The honest protocols, as the chapter's table lists them.
HONEST = ("known_artist", "cold_start")

#: The original's four models, in the order of its published table.
ORIGINAL_MODELS = ("linear_regression", "random_forest", "xgboost", "xgboost_tuned")

#: The predictable-table's champion metrics (with their decimals) and triage metrics.
ACCURACY_METRICS: tuple[tuple[str, int], ...] = (("r2", 2), ("mae", 1), ("spearman", 2))
TRIAGE_METRICS: tuple[str, ...] = ("hit_auc", "top1_precision")


# --- facts -------------------------------------------------------------------------------------


def facts(metrics: Mapping, explanations, cleaning_summary: Mapping,
          protocol: str = PROTOCOL) -> dict:
    """Every number the Conclusions quote.

    Parameters
    ----------
    metrics : dict
        ``models/metrics.json``.
    explanations : analysis.explain.Explanations
        ``models/shap/`` (the artist-history share).
    cleaning_summary : dict
        :attr:`analysis.data.TrackData.summary` (popularity conflicts: the drift evidence).
    protocol : str, optional
        The protocol whose errors and intervals are read.
    """
    known, known_sd = like_for_like_r2(metrics, "known_artist")
    cold, cold_sd = like_for_like_r2(metrics, "cold_start")
    entry = model_entry(metrics, protocol, champion_model(metrics, protocol))
    return {
        "protocol": protocol,
        "known": known, "known_sd": known_sd, "cold": cold, "cold_sd": cold_sd,
        "cold_published": champion_r2(metrics, "cold_start")[0],
        "published_is_like_for_like": published_is_like_for_like(metrics),
        "replica": metric(metrics, "seed_replica", replica_model(metrics), "r2")[0],
        "cold_auc": triage_metric(metrics, "cold_start", "hit_auc")[0],
        "history_share": artist_history(explanations)["shap_share_history"],
        "predictable": {p: _predictable(metrics, p) for p in HONEST},
        "errors": _error_facts(entry.get("error_analysis", {})),
        "drift": {k: cleaning_summary[k] for k in ("popularity_conflicts",
                                                    "popularity_conflict_max_spread")},
        "intervals": _interval_facts(entry.get("intervals", {}).get("mondrian", {})),
        "leak_rows": _leak_rows(metrics),
        "leak_audit": finding_entry(metrics, "leak_audit")["seed_replica"],
    }


def _predictable(metrics: Mapping, protocol: str) -> dict:
    model = champion_model(metrics, protocol)
    out = {name: metric(metrics, protocol, model, name) for name, _ in ACCURACY_METRICS}
    out.update({name: triage_metric(metrics, protocol, name) for name in TRIAGE_METRICS})
    return out


def _error_facts(analysis: Mapping) -> dict:
    bands = {k: v for k, v in analysis.get("by_popularity_band", {}).items()
             if v.get("mae") is not None}
    out: dict = {"zero": analysis.get("zero_popularity") or None}
    if bands:
        out["worst"], out["worst_band"] = max(bands.items(), key=lambda kv: kv[1]["mae"])[::-1]
        out["best"], out["best_band"] = min(bands.items(), key=lambda kv: kv[1]["mae"])[::-1]
    return out


def _interval_facts(mondrian: Mapping) -> list[dict]:
    out = []
    for level, stats in sorted(mondrian.items()):
        by_macro = [v["coverage"] for v in stats["by_macro_genre"].values()]
        out.append({"level": float(level), "coverage": stats["coverage"],
                    "lowest": min(by_macro), "highest": max(by_macro),
                    "mean_width": stats["mean_width"]})
    return out


def _leak_rows(metrics: Mapping) -> list[dict]:
    rows = []
    original = original_results(metrics)
    for name in ORIGINAL_MODELS:
        rows.append({
            "label": model_label(metrics, name),
            "published": original[name]["r2"] if name in original else None,
            "r2": {p: metric(metrics, p, name, "r2") if has_model(metrics, p, name) else None
                   for p in protocol_names(metrics)},
        })
    return rows


# --- templates ---------------------------------------------------------------------------------

ANSWER = (
    "**Answer.** Popularity is partly predictable, mostly from who the artist is: a new track by "
    "a known artist is predicted with R² {known_pm}, a track by a new artist with R² "
    "{cold_pm}{published_model}. That is enough to rank a catalogue (hit ROC-AUC "
    "{cold_auc:.2f} for a new artist) but not to promise a number for one track, and "
    "{history_share:.0%} of the known-artist model's signal is the artist's record, not the "
    "recording."
)

#: When the published new-artist model is not the like-for-like one.
ANSWER_PUBLISHED = (
    " (tuned on this crawl alone; the new-artist model published here, chosen for what holds "
    "on other crawls, scores {cold_published:.2f})"
)

PREDICTABLE_COLUMNS = ["question", "R²", "MAE (points)", "Spearman", "hit ROC-AUC",
                       "top-{top_share:.0%} precision"]

EXTREMES = (
    "**The extremes.** Error depends on where the truth lies: mean absolute error is "
    "{best[mae]:.1f} points for tracks at popularity {best_band} and {worst[mae]:.1f} points for "
    "tracks at {worst_band}, because the model pulls predictions toward the middle (mean error "
    "{worst[bias]:+.1f} there)."
)
ZERO_MASS = (
    "**The zero mass.** Tracks at popularity 0 account for "
    "{share_of_total_absolute_error:.0%} of the {model} model's absolute error; without them its "
    "MAE would be {mae_without_zeros:.1f}. Many are compilation copies whose zero says more about "
    "the catalogue than the song."
)
NEXT_HIT = (
    "**The next hit.** A track's own audio features move a prediction by a few points; what "
    "makes one song by an unknown artist break out is not in this data."
)

DRIFT = (
    "Popularity is Spotify's current estimate from recent plays, recomputed continuously, so it "
    "moves. The crawl caught it moving: {popularity_conflicts:,} tracks carry different "
    "popularity in different genre lists of the same dataset (up to "
    "{popularity_conflict_max_spread} points apart). Every number on this site describes one "
    "snapshot; a model fitted to it ages as the catalogue and listening do, and should be "
    "re-fitted and re-evaluated on a fresh crawl before it is trusted again."
)

INTERVALS = ("Measured out of fold for the {model} model, {levels}. An interval that wide says "
             "the model sorts tracks, it does not forecast one.")
INTERVAL = ("the {level:.0%} interval covers {coverage:.1%} of held-out tracks ({lowest:.1%}–"
            "{highest:.1%} across macro-genres) and is {mean_width:.0f} points wide on average")

#: Columns of the leak table: the model, then its R² as published and under each protocol.
LEAK_PROTOCOLS = ("seed_replica", "known_artist", "cold_start")
LEAK_COLUMNS = ["model", f"published ({LEAKY})", *(protocol_column(p) for p in LEAK_PROTOCOLS)]
PUBLISHED = "{:.3f}"
MISSING = "–"

LEAK_LESSON = (
    "The original's headline came from a split that lets the answer into the question: "
    "{test_rows_whose_track_is_also_in_train:.0%} of its test rows are a track also in the "
    "training rows (under another genre), and the artist-mean feature equals the label itself for "
    "{test_rows_feature_equals_label:.0%} of test rows. Replicated here, that recipe scores R² "
    "{replica:.2f}; the same kind of model asked honestly about a new artist scores {cold:.2f}. "
    "Split by the unit you will predict, and compute anything derived from the label inside the "
    "training folds only."
)

SUMMARY: tuple[str, ...] = (
    "**Honest numbers are {lower}.** R² {known:.2f} ({known_name}) and {cold:.2f} ({cold_name}), "
    "not the {replica:.2f} of the leaky recipe.",
    "**The artist is the signal.** History carries {history_share:.0%} of the known-artist "
    "model's movement.",
    "**Use the model to sort, not to forecast**: shortlist by predicted popularity, read the "
    "interval before quoting a number, and re-fit on a fresh crawl.",
)
LOWER, NOT_LOWER = "lower", "not lower"

#: The triage section's sample: tracks drawn from the cleaned data, the shortlist shown, and
#: the shortlisted rows explained.
TRIAGE_SAMPLE, TRIAGE_SHORTLIST, TRIAGE_EXPLAIN = 2000, 8, 8

#: Columns of the triage table: the ranked output's names as a reader says them.
TRIAGE_COLUMNS: dict[str, str] = {"rank": "rank", "track_name": "track", "artists": "artists",
                                  "track_genre": "genre", "p_hit": "hit probability",
                                  "predicted_popularity": "predicted popularity",
                                  "interval": "{level:.0%} interval", "reason_1": "main reason"}
#: The interval level the table shows (one of analysis.models.CONFIDENCE_LEVELS).
TRIAGE_LEVEL = 0.8

TRIAGE_READ = (
    "Of the {n_read:,} tracks read, {n_accepted:,} passed the checks and {n_rejected:,} were "
    "rejected with their line, column and reason; {n_ood:,} of the accepted tracks lie outside "
    "the range the model was trained on and are flagged. The first {n_shown} of the ranking:"
)
TRIAGE_TRUST = (
    "**How much to trust the ranking.** Order, not the numbers, is what the model gets right. "
    "Scored out of fold on artists it had never seen, the hit classifier ranks a real hit above "
    "a non-hit {auc_pct} of the time (ROC-AUC {hit_auc:.2f}), and {precision:.0%} of its "
    "top-{top_share:.0%} shortlist are hits, against {base_rate:.0%} of all tracks. A predicted "
    "popularity is off by {mae:.0f} points on average, which is why each row carries its "
    "interval. These sample tracks were in the training data, so their own scores flatter the "
    "model; the figures in this paragraph do not. Treat a flagged (out-of-distribution) track "
    "as unscored, and read the reasons as what moved the model, not what makes a hit."
)

# --- sentences and tables ----------------------------------------------------------------------


def answer(f: Mapping) -> str:
    """One paragraph: what the models can and cannot do."""
    return fill(ANSWER, f, known_pm=pm(f["known"], f["known_sd"]),
                cold_pm=pm(f["cold"], f["cold_sd"]),
                published_model=("" if f["published_is_like_for_like"]
                           else fill(ANSWER_PUBLISHED, f)))


def predictable_table(f: Mapping) -> str:
    """The two honest protocols side by side: the champion's accuracy and the hit classifier's
    triage metrics (mean ± sd)."""
    rows = []
    for protocol, values in f["predictable"].items():
        cells = [PROTOCOL_CASES[protocol]]
        cells += [pm(*values[name], digits) for name, digits in ACCURACY_METRICS]
        cells += [pm(*values[name], 2) for name in TRIAGE_METRICS]
        rows.append(cells)
    columns = [fill(c, {"top_share": TOP_SHARE}) for c in PREDICTABLE_COLUMNS]
    return markdown_table(pd.DataFrame(rows, columns=columns))


def unpredictable_findings(f: Mapping) -> str:
    """Where the honest champions fail: popularity bands and the zero mass."""
    e = f["errors"]
    items = []
    if "worst" in e:
        items.append(fill(EXTREMES, e))
    if e["zero"]:
        items.append(fill(ZERO_MASS, e["zero"], model=PROTOCOL_ADJECTIVES[f["protocol"]]))
    items.append(NEXT_HIT)
    return bullets(items)


def drift_caveat(f: Mapping) -> str:
    """Popularity is a moving measurement: evidence from the crawl itself."""
    return fill(DRIFT, f["drift"])


def interval_usage(f: Mapping) -> str:
    """What the conformal intervals promise, with their measured coverage and width."""
    if not f["intervals"]:
        return ""
    levels = "; ".join(fill(INTERVAL, level) for level in f["intervals"])
    return fill(INTERVALS, {}, model=PROTOCOL_ADJECTIVES[f["protocol"]], levels=levels)


def leak_table(f: Mapping) -> str:
    """The leaky recipe and the honest protocols side by side (R² and MAE)."""
    rows = []
    for row in f["leak_rows"]:
        cells = [row["label"],
                 MISSING if row["published"] is None else PUBLISHED.format(row["published"])]
        cells += [MISSING if row["r2"].get(p) is None else pm(*row["r2"][p], 3)
                  for p in LEAK_PROTOCOLS]
        rows.append(cells)
    return markdown_table(pd.DataFrame(rows, columns=LEAK_COLUMNS))


def leak_lesson(f: Mapping) -> str:
    """The leak in two sentences, numbers from the replica's audit."""
    return fill(LEAK_LESSON, f["leak_audit"], replica=f["replica"], cold=f["cold"])


def summary(f: Mapping) -> str:
    """Three findings with numbers for the Conclusions' Summary."""
    lower = by_sign(f["replica"] - max(f["known"], f["cold"]), LOWER, NOT_LOWER)
    return bullets(fill(item, f, lower=lower, known_name=PROTOCOL_SHORT_NAMES["known_artist"],
                        cold_name=PROTOCOL_SHORT_NAMES["cold_start"]) for item in SUMMARY)


def triage_sample(tracks: pd.DataFrame) -> pd.DataFrame:
    """The section's catalogue: :data:`TRIAGE_SAMPLE` cleaned tracks in the raw columns, as a
    label would hand them in (:func:`analysis.triage.sample_catalogue`)."""
    from analysis.triage import sample_catalogue

    return sample_catalogue(tracks, TRIAGE_SAMPLE)


def triage_read(result) -> str:
    """What the triage read, accepted, rejected and flagged (an
    :class:`analysis.triage.TriageResult`), introducing the table."""
    return fill(TRIAGE_READ, {
        "n_read": result.n_read, "n_accepted": result.n_accepted,
        "n_rejected": result.n_rejected,
        "n_ood": result.n_out_of_distribution,
        "n_shown": min(TRIAGE_SHORTLIST, len(result.ranked))})


def triage_table(result) -> pd.DataFrame:
    """The shortlist as a reader reads it: identity, hit probability, prediction with its 80%
    interval, and the main reason."""
    ranked = result.ranked.head(TRIAGE_SHORTLIST).copy()
    ranked["p_hit"] = ranked["p_hit"].map("{:.0%}".format)
    ranked["predicted_popularity"] = ranked["predicted_popularity"].map("{:.0f}".format)
    level = round(TRIAGE_LEVEL * 100)
    ranked["interval"] = [f"{lo:.0f}–{hi:.0f}" for lo, hi in
                          zip(ranked[f"lower_{level}"], ranked[f"upper_{level}"], strict=True)]
    if "reason_1" not in ranked.columns:
        ranked["reason_1"] = ""
    names = {k: fill(v, {}, level=TRIAGE_LEVEL) for k, v in TRIAGE_COLUMNS.items()}
    return ranked[list(TRIAGE_COLUMNS)].rename(columns=names)


def triage_trust(f: Mapping, metrics: Mapping, protocol: str = PROTOCOL) -> str:
    """How much to trust the ranking, in plain words, from the out-of-fold figures."""
    values = f["predictable"][protocol]
    auc = values["hit_auc"][0]
    return fill(TRIAGE_TRUST, {}, hit_auc=auc, auc_pct=f"{auc:.0%}",
                precision=values["top1_precision"][0], top_share=TOP_SHARE,
                base_rate=triage_metric(metrics, protocol, "hit_rate")[0],
                mae=values["mae"][0])
