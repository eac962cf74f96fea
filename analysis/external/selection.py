"""Which in-data measure predicts transfer, and the rule that chooses a recipe.

Ranking models on pooled in-data scores picks the ones that transfer worst (the research behind
issue 13: across 19 recipes the pooled out-of-fold Spearman rank-correlated -0.61 with the
Spearman on another crawl). So the choice is made by a rule fixed before the comparison runs
(:data:`SELECTION_RULE`, recorded in ``models/transfer.json``):

1. only recipes fit for other crawls are eligible (:func:`eligibility`);
2. the selection measure is the in-data measure whose ranking of the recipes agrees best with
   the development crawl's (music_genre) measure, if that agreement reaches
   :data:`MIN_AGREEMENT`; otherwise music_genre's measure itself, used as a validation set
   (its figure for the chosen recipe is then optimistic; Billboard and the crawl kept back for
   verification are the checks);
3. the best eligible recipe by that measure wins; differences under :data:`TIE` are ties,
   broken toward fewer columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analysis.external.candidates import CURRENT_RECIPE
from analysis.external.fill import LACKING_INPUTS
from analysis.models.scoring import spearman

__all__ = [
    "CURRENT_RECIPE",
    "MIN_AGREEMENT",
    "ROLES",
    "SELECTION_RULE",
    "TIE",
    "agreement_report",
    "eligibility",
    "flat_scores",
    "select",
]

#: Differences in the selection measure below this are ties.
TIE = 0.01

#: Rank agreement (Spearman across recipes) an in-data measure needs to stand in for the
#: external one.
MIN_AGREEMENT = 0.5

#: Per role: the development crawl's measure, the confirmation crawl's, and the in-data
#: measures that may stand in for the first.
ROLES: dict[str, dict] = {
    "popularity_model": {
        "external": "music_genre.spearman_within_genre",
        "confirmation": "music_genre.spearman",
        "in_data": (
            "in_data.spearman", "in_data.spearman_within_genre", "in_data.r2",
            "new_release.spearman", "new_release.spearman_within_genre",
            "macro_genre_holdout.spearman_within_macro",
            "macro_genre_holdout.spearman_within_genre",
        ),
    },
    "hit_classifier": {
        "external": "music_genre.hit_auc",
        "confirmation": "billboard.hit_auc",
        "in_data": ("in_data.hit_auc", "new_release.hit_auc"),
    },
}

#: The rule in words, as fixed before the comparison (written to ``models/transfer.json``).
SELECTION_RULE: tuple[str, ...] = (
    "Eligible: trained on the Kaggle data only (the other crawls are for evaluation), and "
    "every input a crawl lacks (album and explicit flag: both; time signature: music_genre; "
    "genre: Billboard) is either not read or was blanked on part of the training rows.",
    "Selection measure: the in-data measure whose ranking of all recipes agrees best with "
    "music_genre's (Spearman across recipes), if that agreement is at least "
    f"{MIN_AGREEMENT}; otherwise music_genre's measure itself, used as a validation set (its "
    "figure for the chosen recipe is then optimistic; Billboard and the crawl kept back for "
    "verification are the checks).",
    "Popularity model: the best eligible recipe for within-genre Spearman; hit classifier: the "
    f"best for hit ROC-AUC. Differences under {TIE} are ties, broken toward fewer columns.",
    "The current champion's recipe stays only if the rule chooses it.",
)


def flat_scores(entry: Mapping) -> dict[str, float]:
    """``{"section.metric": value}`` of a recipe's numeric scores.

    Examples
    --------
    >>> flat_scores({"scores": {"in_data": {"r2": 0.5, "n": 3, "by": []}}})
    {'in_data.r2': 0.5, 'in_data.n': 3.0}
    """
    return {f"{section}.{metric}": float(value)
            for section, values in entry["scores"].items()
            for metric, value in values.items() if isinstance(value, (int, float))}


def eligibility(entry: Mapping) -> tuple[bool, str]:
    """Whether a described recipe may be chosen, and why not.

    Examples
    --------
    >>> eligibility({"reads": ["genre", "explicit"], "blanked": ["explicit"]})
    (False, 'reads genre without having seen it missing in training (lacking in billboard)')
    >>> eligibility({"reads": ["explicit"], "blanked": ["explicit"]})
    (True, '')
    """
    unseen = [g for g in entry["reads"] if g not in entry["blanked"]]
    if not unseen:
        return True, ""
    return False, "; ".join(
        f"reads {g} without having seen it missing in training (lacking in "
        f"{', '.join(LACKING_INPUTS[g])})" for g in unseen)


def agreement_report(entries: Sequence[Mapping]) -> dict:
    """Per role, how each in-data measure relates to the external one across recipes.

    For every in-data measure: ``rank_correlation`` (Spearman across recipes with the
    external measure: does it order recipes as the other crawl does?), ``mean_gap`` (in-data
    minus external, mean over recipes) and ``mean_abs_gap``; then ``closest`` (smallest mean
    absolute gap: the in-data figure nearest the external level) and ``best_ranker``.
    """
    flats = [flat_scores(e) for e in entries]
    out = {}
    for role, spec in ROLES.items():
        external = np.array([f[spec["external"]] for f in flats])
        rows = []
        for measure in spec["in_data"]:
            values = np.array([f[measure] for f in flats])
            gap = values - external
            rows.append({"measure": measure,
                         "rank_correlation": spearman(values, external),
                         "mean_gap": float(gap.mean()),
                         "mean_abs_gap": float(np.abs(gap).mean())})
        ranked = [r for r in rows if np.isfinite(r["rank_correlation"])]
        out[role] = {
            "external": spec["external"], "measures": rows,
            "closest": min(rows, key=lambda r: r["mean_abs_gap"])["measure"],
            "best_ranker": (max(ranked, key=lambda r: r["rank_correlation"])["measure"]
                            if ranked else None),
        }
    return out


def select(entries: Sequence[Mapping], agreement: Mapping) -> dict:
    """Apply the rule (module docstring) per role; report the choice and its scores.

    ``chosen`` is None when no eligible recipe has a finite selection measure (a crawl too
    small to score within genres); the committed artifact's tests require a choice.
    """
    out: dict = {"current_recipe": CURRENT_RECIPE}
    by_name = {e["name"]: e for e in entries}
    for role, spec in ROLES.items():
        report = agreement[role]
        best = next((r for r in report["measures"]
                     if r["measure"] == report["best_ranker"]), None)
        if best is not None and best["rank_correlation"] >= MIN_AGREEMENT:
            measure, source = best["measure"], "in_data"
        else:
            measure, source = spec["external"], "external_validation"
        pool = []
        for entry in entries:
            ok, _ = eligibility(entry)
            value = flat_scores(entry).get(measure, float("nan"))
            if ok and np.isfinite(value):
                pool.append((entry["name"], value, entry["columns"]))
        top = max((v for _, v, _ in pool), default=float("nan"))
        tied = [p for p in pool if p[1] >= top - TIE]
        chosen = min(tied, key=lambda p: (p[2], -p[1], p[0]))[0] if tied else None
        flat = flat_scores(by_name[chosen]) if chosen else {}
        current = flat_scores(by_name[CURRENT_RECIPE]) if CURRENT_RECIPE in by_name else {}
        out[role] = {
            "measure": measure, "measure_source": source,
            "best_in_data_agreement": None if best is None else best["rank_correlation"],
            "eligible": [p[0] for p in sorted(pool, key=lambda p: -p[1])],
            "tied": [p[0] for p in tied], "chosen": chosen,
            "keeps_current": chosen == CURRENT_RECIPE,
            "chosen_scores": {k: flat.get(k) for k in (measure, spec["external"],
                                                       spec["confirmation"])},
            "current_scores": {k: current.get(k) for k in (measure, spec["external"],
                                                           spec["confirmation"])},
        }
    return out
