"""Words of the Drivers chapter (chapters/05-drivers): what moves the honest champions.

:func:`facts` reads every number the chapter quotes from the cached explanations
(:func:`analysis.explain.load_explanations`): importances, the sample design, the build's
self-checks, how the top drivers push predictions, interactions, artist history. The templates
hold the wording; the sentence functions fill them and pick the words the numbers decide
("lowers" or "raises", "agree" or "disagree", "up" or "down").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.embed import markdown_table
from analysis.labels import ARTIST_HISTORY_GROUP, PROTOCOL_MODEL_NAMES, driver_name
from analysis.prose._artifacts import artist_history, importance, is_audio
from analysis.prose._render import bullets, by_sign, fill, signed, spelled

#: The protocol the chapter reads track by track (a new artist: no history to lean on).
PROTOCOL = "cold_start"

#: Both honest champions, in the order the chapter compares them.
PROTOCOLS = ("known_artist", "cold_start")

#: Drivers whose push the beeswarm reading describes, and the smallest |ρ| it names.
BEESWARM_TOP = 10
MIN_RHO = 0.3

#: Largest gap (popularity points) between the fold model refitted from its recorded
#: parameters and the committed out-of-fold predictions for it to count as the same model:
#: the OOF files store predictions to :data:`OOF_STEP` points, so a true copy is within half.
REFIT_TOLERANCE = 0.006
OOF_STEP = 0.01

#: How many of the top audio features the summary names.
SUMMARY_AUDIO = 3


# --- facts -------------------------------------------------------------------------------------


def facts(explanations, protocol: str = PROTOCOL) -> dict:
    """Every number the Drivers chapter quotes, read from the cached explanations.

    Parameters
    ----------
    explanations : analysis.explain.Explanations
        ``models/shap/``.
    protocol : str, optional
        The champion read track by track (beeswarm, dependence, interactions, macro-genres).
    """
    cold = importance(explanations, protocol)
    audio = cold[cold["group"].map(is_audio)]
    features = explanations.features
    return {
        "protocol": protocol,
        "history": {
            **artist_history(explanations),
            "columns": int(((features["protocol"] == "known_artist")
                            & (features["group"] == ARTIST_HISTORY_GROUP)).sum()),
            "share_by_driver": _history_share_by_driver(explanations),
        },
        "leaders": _rows(cold.head(3)),
        "audio": _rows(audio),
        "sample": explanations.summary["sample"],
        "checks": {p: _check_facts(section)
                   for p, section in explanations.protocol_summaries().items()},
        "importance": {p: _importance_facts(explanations, p) for p in PROTOCOLS},
        "push": _push_facts(explanations, protocol),
        "dependence": _dependence_facts(explanations, protocol),
        "partners": explanations.protocol_summary(protocol)["interaction_partners"],
        "pair": _pair_facts(explanations, protocol),
        "macro": _macro_facts(explanations, protocol),
    }


def _rows(table: pd.DataFrame) -> list[dict]:
    return [{"group": r.group, "mean_abs_shap": r.mean_abs_shap} for r in table.itertuples()]


def _history_share_by_driver(explanations) -> float | None:
    table = importance(explanations, "known_artist").set_index("group")
    return (table.loc[ARTIST_HISTORY_GROUP, "share"] if ARTIST_HISTORY_GROUP in table.index
            else None)


def _check_facts(section: Mapping) -> dict:
    checks, refit = section["checks"], section["permutation"].get("refit_vs_oof")
    return {
        "n_trees": section["champion"]["n_trees"], "max_depth": section["champion"]["max_depth"],
        "additivity": checks["additivity_max_abs_error"],
        "xgboost_diff": checks.get("xgboost_max_abs_diff"),
        "xgboost_additivity": checks.get("xgboost_additivity_max_abs_error"),
        "refit": refit, "refit_ok": refit is not None and refit["max_abs_diff"] <= REFIT_TOLERANCE,
    }


def audio_share(explanations, protocol: str) -> tuple[float, int]:
    """The share of a champion's movement (mean |SHAP|, all drivers summed) that Spotify's audio
    features carry together, and how many of them the model reads.

    The rest is everything else a track or artist brings: genre, release and title metadata,
    and (known artist) the artist's history. The front page quotes it for the new-artist
    model, and links here for the proof.
    """
    table = importance(explanations, protocol)
    audio = table[table["group"].map(is_audio)]
    return float(audio["share"].sum() / table["share"].sum()), len(audio)


def _importance_facts(explanations, protocol: str) -> dict:
    table = importance(explanations, protocol)
    perm = explanations.protocol_summary(protocol)["permutation"]
    first = table.iloc[0]
    by_perm = table.sort_values("permutation_rank").iloc[0]
    share, audio = audio_share(explanations, protocol)
    return {
        "audio_share": share, "audio_features": audio,
        "first": first["group"], "first_shap": first["mean_abs_shap"],
        "first_share": first["share"],
        "by_permutation": by_perm["group"], "by_permutation_drop": by_perm["r2_drop_mean"],
        "rank_correlation": perm["rank_correlation_with_shap"], "drivers": len(table),
        "test_tracks": perm["test_tracks"], "repeats": perm["n_repeats"],
    }


def value_effect(sample: pd.DataFrame, group: str) -> float | None:
    """Spearman correlation between a driver's value and its SHAP value in the sample.

    None for a driver without one value (genre) or with two (a flag has no "higher"; read it
    from the bars).
    """
    column = f"value__{'artist_mean_popularity' if group == ARTIST_HISTORY_GROUP else group}"
    if column not in sample or f"shap__{group}" not in sample:
        return None
    pair = sample[[column, f"shap__{group}"]].dropna()
    if pair[column].nunique() <= 2:
        return None
    return float(pair.corr(method="spearman").iloc[0, 1])


def _push_facts(explanations, protocol: str) -> list[tuple[str, float]]:
    """The top drivers whose value moves their SHAP value one way (|ρ| ≥ MIN_RHO)."""
    sample = explanations.sample[explanations.sample["protocol"] == protocol]
    out = []
    for group in importance(explanations, protocol)["group"].head(BEESWARM_TOP):
        rho = value_effect(sample, group)
        if rho is not None and abs(rho) >= MIN_RHO:
            out.append((group, rho))
    return out


def _dependence_facts(explanations, protocol: str) -> dict:
    from analysis.explain import dependence_frame

    section = explanations.protocol_summary(protocol)
    features, partners = section["dependence_features"], section["interaction_partners"]
    quarters = []
    for feature in features:
        frame = dependence_frame(explanations, protocol, feature)
        lo, hi = frame["x"].quantile([0.25, 0.75])
        quarters.append((feature, frame.loc[frame["x"] <= lo, "shap"].median(),
                         frame.loc[frame["x"] >= hi, "shap"].median()))
    return {"quarters": quarters,
            "partners": [partners.get(f, {}).get("partner") for f in features]}


def pair_strength(explanations, protocol: str = PROTOCOL) -> tuple[float, float]:
    """Weighted mean |energy × valence interaction| and mean |SHAP of energy|, in points."""
    from analysis.explain import DEFAULT_INTERACTION_PAIR

    a, b = DEFAULT_INTERACTION_PAIR
    pair = explanations.pair[explanations.pair["protocol"] == protocol]
    w = pair["weight"].to_numpy(dtype="float64")
    return (float(np.average(pair[f"interaction_{a}_{b}"].abs(), weights=w)),
            float(np.average(pair[f"shap_{a}"].abs(), weights=w)))


def _pair_facts(explanations, protocol: str) -> dict:
    from analysis.explain import DEFAULT_INTERACTION_PAIR

    a, b = DEFAULT_INTERACTION_PAIR
    inter, own = pair_strength(explanations, protocol)
    partner = explanations.protocol_summary(protocol)["interaction_partners"].get(a, {})
    return {"a": a, "b": b, "interaction": inter, "own": own,
            "tracks": int((explanations.pair["protocol"] == protocol).sum()),
            "partner": partner.get("partner"),
            "partner_interaction": partner.get("mean_abs_interaction")}


def _macro_facts(explanations, protocol: str) -> dict:
    table = explanations.by_macro_genre
    part = table[table["protocol"] == protocol]
    leaders = part.loc[part.groupby("macro_genre")["mean_abs_shap"].idxmax()]
    counts = leaders["group"].value_counts()
    top = importance(explanations, protocol)["group"].iloc[0]
    rows = part[part["group"] == top].set_index("macro_genre")["mean_abs_shap"]
    audio = part[part["group"].map(is_audio)].groupby("macro_genre")["mean_abs_shap"].sum()
    return {
        "leaders": list(counts.items()), "macro_genres": len(leaders), "top": top,
        "top_min": rows.min(), "top_min_in": rows.idxmin(), "top_max": rows.max(),
        "top_max_in": rows.idxmax(), "audio_max": audio.max(), "audio_max_in": audio.idxmax(),
        "audio_min": audio.min(), "audio_min_in": audio.idxmin(),
    }


# --- templates ---------------------------------------------------------------------------------

ANSWER = (
    "**Answer.** For a new track by an artist we know, mostly the artist: their history carries "
    "{history[shap_share_history]:.0%} of what moves the known-artist model's predictions, and "
    "removing it {removing} R² on a held-out fold from {history[r2_with_history]:.2f} to "
    "{history[r2_without_history]:.2f}. For an artist we have never seen, the strongest drivers "
    "are {leaders}, measured as the mean absolute SHAP value in popularity points{audio_words}."
)
#: The strongest audio feature, when it is not already the first of the leaders.
ANSWER_AUDIO = "; the strongest audio feature is {audio_name} ({audio[mean_abs_shap]:.1f} points)"
LEADER = "{name} ({mean_abs_shap:.1f} points)"
LOWERS, RAISES = "lowers", "raises"

SAMPLE = (
    "SHAP values are computed for {tracks:,} tracks: {per_group} drawn at random (seeded) from "
    "each of the {groups} macro-genres, weighted back to all {population_tracks:,} tracks, so a "
    "small macro-genre is described as precisely as a large one. Exact interaction values use the "
    "first {interaction_per_group} of every macro-genre's draw ({interaction_tracks:,} tracks); "
    "the charts draw {display_per_group} per macro-genre to stay light."
)

CHECKS = "Checks of the cached build (SHAP values computed in float64): "
CHECK = ("{name} champion ({n_trees:,} trees, up to {max_depth} levels deep): contributions add "
         "up to the prediction within {additivity:.1e} points")
CHECK_XGBOOST = ("; XGBoost's own float32 values (which shap's TreeExplainer returns) differ by "
                 "at most {xgboost_diff:.1e} points and miss additivity by up to "
                 "{xgboost_additivity:.1e}")
CHECK_REFIT = ("; the fold model refitted from its recorded parameters reproduces the committed "
               "out-of-fold predictions of its fold (largest gap {refit[max_abs_diff]:.3f} points; "
               "they are stored to {oof_step})")
CHECK_REFIT_FAILED = (
    "; WARNING: the fold model refitted from its recorded parameters differs from the committed "
    "out-of-fold predictions by up to {refit[max_abs_diff]:.2f} points (fold R² "
    "{refit[r2_refit]:.3f} against {refit[r2_committed]:.3f}), so the models and this "
    "explanation were built from different code"
)

IMPORTANCE = (
    "In the {name} model, {first_name} moves predictions most ({first_shap:.1f} points on "
    "average, {first_share:.0%} of the total) and {permutation}; the two rankings {agree} with a "
    "Spearman correlation of {rank_correlation:.2f} over {drivers} drivers (held-out fold of "
    "{test_tracks:,} tracks, {repeats} shuffles each)."
)
AUDIO_TOTAL = "Its {audio} audio features together carry {audio_share:.0%} of that total."
SAME_LEADER = "also loses the most R² when shuffled"
OTHER_LEADER = "while shuffling {driver} loses the most R² ({by_permutation_drop:.3f})"
AGREE, DISAGREE = "agree", "disagree"

BEESWARM = (
    "Reading the colours (ρ is the rank correlation between a driver's value and its SHAP value "
    "over the sample, shown where |ρ| ≥ {min_rho}): {body}. Drivers whose points fan out in both "
    "directions at the same colour act through interactions."
)
PUSH = "{name} (ρ = {rho:+.2f})"
PUSH_UP = "higher {drivers} push predictions up"
PUSH_DOWN_TOO = "higher {drivers} push them down"
PUSH_DOWN = "higher {drivers} push predictions down"
NO_PUSH = "no top driver moves predictions in one direction only"

DEPENDENCE = ("Median SHAP value in each feature's lowest quarter of tracks → its highest quarter "
              "(points): {quarters}.{tail}")
QUARTER = "{name} {low} → {high}"
ONE_PARTNER = (" All {features} interact most with {partner}: the same sound is worth different "
               "amounts in different genres.")
PARTNERS = " Their strongest partners: {pairs}."
PARTNER = "{feature} with {partner}"
UNKNOWN = "?"

INTERACTION_COLUMNS = ["feature", "mean abs SHAP", "main effect", "strongest partner",
                       "interaction", "strongest single-column partner", "interaction "]
NO_PARTNER = "–"

PAIR = (
    "On the {tracks:,} tracks with exact interaction values, the {a} × {b} interaction moves a "
    "prediction by {interaction:.2f} points on average, against {own:.2f} for {a}'s whole SHAP "
    "value: {share_word} part of how {a} acts"
)
PAIR_OTHER_PARTNER = (
    ". {A}'s strongest partner is {partner_name} ({partner_interaction:.2f} points), so whether "
    "an energetic track does better depends {far}more on {partner_name} than on how happy it "
    "sounds."
)
PAIR_IS_PARTNER = ", and {b} is {a}'s strongest partner."
#: Words for the interaction's size against the feature's own effect: (largest ratio, word).
SHARE_WORDS: tuple[tuple[float, str], ...] = ((0.25, "a small"), (0.5, "a secondary"),
                                              (np.inf, "a major"))
#: The partner's interaction counts as "far" stronger from this many times the pair's.
FAR_FACTOR = 3
FAR = "far "

MACRO = (
    "{Leader} is the largest driver in {leader_count} of {macro_genres} macro-genres{others}. "
    "How far {top_name} moves predictions varies {spread}: {top_min:.1f} points on average in "
    "{top_min_in}, {top_max:.1f} in {top_max_in}. The sound matters most in {audio_max_in} (the "
    "audio features' mean |SHAP| values add up to {audio_max:.1f} points) and least in "
    "{audio_min_in} ({audio_min:.1f})."
)
OTHER_LEADERS = " ({leaders})"
OTHER_LEADER_COUNT = "{name} in {count}"
#: Words for how much the top driver varies across macro-genres: (smallest max/min, word).
SPREAD_WORDS: tuple[tuple[float, str], ...] = ((3, "several-fold"), (1.5, "widely"),
                                               (0, "little"))

HISTORY = (
    "Artist history carries {shap_share_history:.0%} of the known-artist model's movement (mean "
    "|SHAP| {shap_mean_abs_history:.1f} points for the {columns_word} history columns together, "
    "{shap_mean_abs_track:.1f} for everything about the track, summed per track){by_driver}. On "
    "held-out fold {fold}, the model scores R² {r2_with_history:.2f}; refitted with the same "
    "parameters but without the history columns, {r2_without_history:.2f}, {change} of "
    "{change_size:.2f}{alone}."
)
HISTORY_BY_DRIVER = ("; counted driver by driver, as in the importance chart, it is "
                     "{share_by_driver:.0%} of the total, because the track's drivers partly "
                     "cancel each other when summed")
HISTORY_ALONE = ("; the artist's out-of-fold mean popularity used alone as the prediction scores "
                 "{r2_history_alone:.2f}")
A_DROP, A_GAIN = "a drop", "a gain"

SUMMARY: tuple[str, ...] = (
    "**The artist comes first.** History carries {history[shap_share_history]:.0%} of the "
    "known-artist model's movement; without it, R² on a held-out fold {falls} from "
    "{history[r2_with_history]:.2f} to {history[r2_without_history]:.2f}.",
    "**For a new artist, {leader} leads** ({leaders[0][mean_abs_shap]:.1f} points on average); "
    "SHAP and held-out permutation rankings {agree} (Spearman {rank_correlation:.2f}).",
    "**Sound matters, modestly.** The top audio features, {audio_names}, each move a {model} "
    "prediction by {audio_low:.1f}–{audio_high:.1f} points on average; the {pair[a]} × "
    "{pair[b]} interaction adds {pair[interaction]:.2f}.",
)
FALLS, RISES = "falls", "rises"


# --- sentences and tables ----------------------------------------------------------------------


def answer(f: Mapping) -> str:
    """The chapter's answer: artist first when known; otherwise the label and the sound."""
    h = f["history"]
    leaders = ", ".join(fill(LEADER, r, name=driver_name(r["group"])) for r in f["leaders"])
    audio = f["audio"][0]
    audio_words = ("" if audio["group"] == f["leaders"][0]["group"]
                   else fill(ANSWER_AUDIO, {}, audio=audio, audio_name=driver_name(audio["group"])))
    return fill(ANSWER, f, leaders=leaders, audio_words=audio_words,
                removing=by_sign(h["r2_with_history"] - h["r2_without_history"], LOWERS, RAISES))


def sample_note(f: Mapping) -> str:
    """How the explained tracks were chosen, and how far to trust the values."""
    return fill(SAMPLE, f["sample"])


def checks(f: Mapping) -> str:
    """The build's self-checks, in one sentence per champion."""
    parts = []
    for protocol, c in f["checks"].items():
        text = fill(CHECK, c, name=PROTOCOL_MODEL_NAMES[protocol])
        if c["xgboost_diff"] is not None:
            text += fill(CHECK_XGBOOST, c)
        if c["refit"] is not None:
            text += fill(CHECK_REFIT if c["refit_ok"] else CHECK_REFIT_FAILED, c,
                         oof_step=OOF_STEP)
        parts.append(text + ".")
    return CHECKS + " ".join(parts)


def importance_reading(f: Mapping) -> str:
    """What the importance chart says, and where SHAP and permutation disagree."""
    sentences = []
    for protocol, i in f["importance"].items():
        permutation = (SAME_LEADER if i["by_permutation"] == i["first"] else
                       fill(OTHER_LEADER, i, driver=driver_name(i["by_permutation"])))
        sentences.append(fill(IMPORTANCE, i, name=PROTOCOL_MODEL_NAMES[protocol],
                              first_name=driver_name(i["first"]), permutation=permutation,
                              agree=by_sign(i["rank_correlation"], AGREE, DISAGREE)))
        sentences.append(fill(AUDIO_TOTAL, i, audio=spelled(i["audio_features"])))
    return " ".join(sentences)


def beeswarm_reading(f: Mapping) -> str:
    """Which way the top drivers push: the sign of each one's value-against-SHAP correlation."""
    def listed(sign: int) -> str:
        return ", ".join(fill(PUSH, {"rho": rho}, name=driver_name(group))
                         for group, rho in f["push"] if np.sign(rho) == sign)

    ups, downs = listed(1), listed(-1)
    text = []
    if ups:
        text.append(fill(PUSH_UP, {}, drivers=ups))
    if downs:
        text.append(fill(PUSH_DOWN_TOO if ups else PUSH_DOWN, {}, drivers=downs))
    return fill(BEESWARM, {}, min_rho=MIN_RHO, body="; ".join(text) if text else NO_PUSH)


def dependence_reading(f: Mapping) -> str:
    """Median SHAP value in the lowest against the highest quarter of each feature."""
    d = f["dependence"]
    quarters = "; ".join(fill(QUARTER, {}, name=driver_name(x), low=signed(low),
                              high=signed(high)) for x, low, high in d["quarters"])
    features = [x for x, _, _ in d["quarters"]]
    partners = d["partners"]
    if partners and partners[0] and len(set(partners)) == 1:
        tail = fill(ONE_PARTNER, {}, features=len(features), partner=driver_name(partners[0]))
    else:
        tail = fill(PARTNERS, {}, pairs=", ".join(
            fill(PARTNER, {}, feature=driver_name(x), partner=driver_name(p or UNKNOWN))
            for x, p in zip(features, partners, strict=True)))
    return fill(DEPENDENCE, {}, quarters=quarters, tail=tail)


def interaction_table(f: Mapping) -> str:
    """Each conditioned feature's main effect and its strongest interaction partners."""
    rows = [(driver_name(feature), f"{p['mean_abs_shap']:.2f}",
             f"{p['mean_abs_main_effect']:.2f}", driver_name(p["partner"]),
             f"{p['mean_abs_interaction']:.2f}",
             driver_name(p["numeric_partner"]) if p["numeric_partner"] else NO_PARTNER,
             f"{p['numeric_mean_abs_interaction']:.2f}")
            for feature, p in f["partners"].items()]
    return markdown_table(pd.DataFrame(rows, columns=INTERACTION_COLUMNS))


def _share_word(ratio: float) -> str:
    return next(word for bound, word in SHARE_WORDS if ratio < bound)


def pair_reading(f: Mapping) -> str:
    """How big the energy × valence interaction is next to energy's own effect."""
    p = f["pair"]
    text = fill(PAIR, p, share_word=_share_word(p["interaction"] / p["own"]))
    if p["partner"] in (None, p["b"]):
        return text + fill(PAIR_IS_PARTNER, p)
    far = FAR if (p["partner_interaction"] or 0) >= FAR_FACTOR * p["interaction"] else ""
    return text + fill(PAIR_OTHER_PARTNER, p, A=p["a"].capitalize(), far=far,
                       partner_name=driver_name(p["partner"]))


def macro_genre_reading(f: Mapping) -> str:
    """Which driver leads within each macro-genre, how much the top one varies, and where the
    sound matters most."""
    m = f["macro"]
    (leader, count), *rest = m["leaders"]
    others = ", ".join(fill(OTHER_LEADER_COUNT, {}, name=driver_name(g), count=n)
                       for g, n in rest)
    ratio_words = (word for bound, word in SPREAD_WORDS if m["top_max"] >= bound * m["top_min"])
    return fill(MACRO, m, Leader=driver_name(leader).capitalize(), leader_count=count,
                others=fill(OTHER_LEADERS, {}, leaders=others) if others else "",
                top_name=driver_name(m["top"]), spread=next(ratio_words))


def history_reading(f: Mapping) -> str:
    """How much of the known-artist model is the artist's record."""
    h = f["history"]
    drop = h["r2_drop_without_history"]
    return fill(HISTORY, h, columns_word=spelled(h["columns"]),
                by_driver="" if h["share_by_driver"] is None else fill(HISTORY_BY_DRIVER, h),
                change=by_sign(drop, A_DROP, A_GAIN), change_size=abs(drop),
                alone="" if h.get("r2_history_alone") is None else fill(HISTORY_ALONE, h))


def summary(f: Mapping) -> str:
    """Three findings with numbers for the chapter's Summary."""
    h = f["history"]
    top_audio = f["audio"][:SUMMARY_AUDIO]
    shap = [r["mean_abs_shap"] for r in top_audio]
    words = {
        "falls": by_sign(h["r2_with_history"] - h["r2_without_history"], FALLS, RISES),
        "leader": driver_name(f["leaders"][0]["group"]),
        "rank_correlation": f["importance"][f["protocol"]]["rank_correlation"],
        "agree": by_sign(f["importance"][f["protocol"]]["rank_correlation"], AGREE, DISAGREE),
        "audio_names": ", ".join(driver_name(r["group"]) for r in top_audio),
        "audio_low": min(shap), "audio_high": max(shap),
        "model": PROTOCOL_MODEL_NAMES[f["protocol"]],
    }
    return bullets(fill(item, f, **words) for item in SUMMARY)

