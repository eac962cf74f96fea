"""Words of the EDA chapter (chapters/02-eda): popularity and the audio features.

:func:`facts` computes every number the chapter quotes from the cleaned tracks (with
:mod:`analysis.moods`, the same functions and defaults the chapter's charts use); the templates
hold the wording; each sentence function fills its template, choosing a word where the data
decide it (a correlation's strength, the side of the map that stays blank, whether explicit
tracks are more or less popular).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis import moods
from analysis.labels import feature_name, feature_unit
from analysis.prose._render import bullets, by_sign, fill

#: The feature of the chapter's binned-means chart.
BINNED_FEATURE = "duration_min"

#: Smallest number of tracks a cell of the valence × energy grid needs to be quoted.
GRID_MIN_TRACKS = 100

#: Spotify's bounds quoted with the feature histograms: instrumentalness below this is "no
#: instrumental content"; speechiness above this mixes speech and music.
NO_INSTRUMENTAL_BELOW = 0.01
SPEECH_AND_MUSIC_ABOVE = 0.33

#: The time signature most tracks share (beats per bar), and the ``mode`` value of a major key.
COMMON_TIME = 4
MAJOR_MODE = 1

#: Middle of a unit-interval feature: which side of it the grid's blank cells lie on.
UNIT_MIDDLE = 0.5


# --- facts -------------------------------------------------------------------------------------


def facts(tracks: pd.DataFrame, *, grid_min_tracks: int = GRID_MIN_TRACKS) -> dict:
    """Every number the EDA chapter quotes, from the cleaned tracks (``duration_min`` added).

    ``grid_min_tracks`` is the fewest tracks a grid cell needs to be quoted (smaller for small
    samples).

    Returns
    -------
    dict
        ``popularity`` (:func:`analysis.moods.popularity_summary` plus the zero spike's ratio),
        ``features`` (histogram readings), ``correlations``, ``binned`` (the duration curve),
        ``grid`` (the valence × energy grid), ``effects`` (every feature's binned curve),
        ``explicit`` and ``genre_effect`` (macro-genre's ε² on popularity).
    """
    spearman, pearson = moods.correlation_matrices(tracks)
    return {
        "popularity": _popularity_facts(tracks),
        "features": _feature_facts(tracks),
        "correlations": _correlation_facts(spearman, pearson),
        "binned": _binned_facts(moods.binned_means(tracks, BINNED_FEATURE), BINNED_FEATURE),
        "grid": _grid_facts(moods.binned_grid(tracks, x="valence", y="energy"),
                            min_n=grid_min_tracks),
        "effects": _effect_facts(moods.binned_means_long(tracks)),
        "explicit": _explicit_facts(moods.compare_binary(tracks, "explicit")),
        "genre_effect": float(
            moods.kruskal_by_feature(tracks, ["popularity"]).loc[0, "epsilon_squared"]),
    }


def _popularity_facts(tracks: pd.DataFrame) -> dict:
    s = moods.popularity_summary(tracks)
    counts = moods.popularity_counts(tracks).set_index("popularity")["n"]
    lowest = int(counts.index[counts.index > 0].min())  # the bar the zero spike is compared to
    mid, high = moods.POPULARITY_MARKS
    return {**s, "zero_ratio": counts[0] / max(counts[lowest], 1), "lowest_nonzero": lowest,
            "mark_mid": mid, "share_mid": s[f"share_ge_{mid}"],
            "mark_high": high, "share_high": s[f"share_ge_{high}"]}


def _feature_facts(tracks: pd.DataFrame) -> dict:
    duration = tracks["duration_min"].quantile([0.25, 0.5, 0.75])
    return {
        "no_instrumental_share": tracks["instrumentalness"].lt(NO_INSTRUMENTAL_BELOW).mean(),
        "no_instrumental_below": NO_INSTRUMENTAL_BELOW,
        "speechiness_median": tracks["speechiness"].median(),
        "speech_and_music_share": tracks["speechiness"].gt(SPEECH_AND_MUSIC_ABOVE).mean(),
        "speech_and_music_above": SPEECH_AND_MUSIC_ABOVE,
        "energy_median": tracks["energy"].median(),
        "loudness_median": tracks["loudness"].median(),
        "tempo_median": tracks["tempo"].median(),
        "duration_q1": duration[0.25], "duration_q3": duration[0.75],
        "common_time": COMMON_TIME,
        "common_time_share": tracks["time_signature"].eq(COMMON_TIME).mean(),
        "major_share": tracks["mode"].eq(MAJOR_MODE).mean(),
    }


def _correlation_facts(spearman: pd.DataFrame, pearson: pd.DataFrame) -> dict:
    feature, rho = moods.strongest_correlation(spearman)
    (a1, b1, r1), (a2, b2, r2) = moods.strongest_pairs(spearman)
    diff = (spearman - pearson).abs()
    diff = diff.where(~np.eye(len(diff), dtype=bool), 0.0)
    stacked = diff.stack()
    (da, db), dmax = stacked.idxmax(), float(stacked.max())
    return {"feature": feature, "rho": rho, "pairs": [(a1, b1, r1), (a2, b2, r2)],
            "gap_pair": (da, db), "gap": dmax}


def _binned_facts(binned: pd.DataFrame, feature: str) -> dict:
    peak = binned.loc[binned["mean"].idxmax()]
    first, last = binned.iloc[0], binned.iloc[-1]
    return {
        "feature": feature, "peak_mean": peak["mean"], "peak_x": peak["x"],
        "peak_left": peak["left"], "peak_right": peak["right"], "peak_n": int(peak["n"]),
        "first_x": first["x"], "first_mean": first["mean"], "last_x": last["x"],
        "last_mean": last["mean"], "min_n": int(binned["n"].min()),
    }


def _grid_facts(grid: pd.DataFrame, *, min_n: int) -> dict:
    solid = grid[grid["n"].ge(min_n)].sort_values(["mean", "x", "y"], kind="stable")
    low, high = solid.iloc[0], solid.iloc[-1]
    empty = grid[grid["mean"].isna()]
    means = grid.pivot(index="y", columns="x", values="mean")
    solid_mask = grid.pivot(index="y", columns="x", values="n").ge(min_n)
    means = means.where(solid_mask).to_numpy()
    steps = np.concatenate([np.abs(np.diff(means, axis=0)).ravel(),
                            np.abs(np.diff(means, axis=1)).ravel()])
    steps = steps[~np.isnan(steps)]
    return {
        "min_n": min_n, "low_mean": low["mean"], "low_x": low["x"], "low_y": low["y"],
        "high_mean": high["mean"], "high_x": high["x"], "high_y": high["y"],
        "blank": len(empty), "cells": len(grid),
        "blank_x_mean": empty["x"].mean(), "blank_y_mean": empty["y"].mean(),
        "step_median": np.median(steps), "step_max": steps.max(),
    }


def _effect_facts(binned_long: pd.DataFrame) -> dict:
    swings = binned_long.groupby("feature", sort=False)["mean"].agg(["min", "max"])
    swings["range"] = swings["max"] - swings["min"]
    swings = swings.sort_values("range", ascending=False, kind="stable")
    inner = sum(
        0 < int(np.argmax(part["mean"].to_numpy())) < len(part) - 1
        for _, part in binned_long.groupby("feature", sort=False)
    )
    flat = swings.index[-1]
    return {
        "widest": [(f, r["min"], r["max"]) for f, r in swings.head(3).iterrows()],
        "flattest": flat, "flattest_range": swings.loc[flat, "range"],
        "inner_peaks": inner, "curves": len(swings),
    }


def _explicit_facts(result: dict) -> dict:
    table = result["table"].set_index("explicit")
    yes, no = table.loc[True], table.loc[False]
    return {
        "share": yes["share"], "mean": yes["mean"], "lower": yes["lower"], "upper": yes["upper"],
        "other_mean": no["mean"], "other_lower": no["lower"], "other_upper": no["upper"],
        "apart": bool(yes["lower"] > no["upper"] or no["lower"] > yes["upper"]),
        "difference": yes["mean"] - no["mean"], "delta": result["delta"],
        "magnitude": result["magnitude"], "more_popular_share": (1 + result["delta"]) / 2,
        "level": moods.CI_LEVEL,
    }


# --- templates ---------------------------------------------------------------------------------

ANSWER = (
    "**Answer.** Half of all tracks score {popularity[median]:.0f} or less on the 0–100 scale and "
    "{popularity[zero_share]:.1%} sit at exactly 0; the audio features' links to popularity are at "
    "most {strength}: the strongest rank correlation is with {feature} (Spearman ρ = "
    "{correlations[rho]:+.2f})."
)

POPULARITY = (
    "{zero_n:,} tracks ({zero_share:.1%}) have a popularity of exactly 0, {zero_ratio:.0f} times "
    "as many as at popularity {lowest_nonzero}: a separate spike, not the tail of the main hump. "
    "Without them the median is {nonzero_median:.0f}; {share_mid:.0%} of all tracks score "
    "{mark_mid} or more, {share_high:.1%} score {mark_high} or more, and the top tenth starts at "
    "{p90:.0f}. Whatever predicts popularity has to deal with the zeros as a group of their own."
)

FEATURES = (
    "Most features are far from bell-shaped. {no_instrumental_share:.0%} of tracks have "
    "essentially no instrumental content (instrumentalness below {no_instrumental_below}), and "
    "speechiness has a median of {speechiness_median:.2f}, with only "
    "{speech_and_music_share:.1%} above {speech_and_music_above}, from where Spotify describes a "
    "track as mixing speech and music. Energy has a median of {energy_median:.2f}, loudness "
    "clusters near {loudness_median:.1f} dB, tempo centres on {tempo_median:.0f} BPM and half the "
    "tracks last {duration_q1:.1f}–{duration_q3:.1f} minutes. {common_time_share:.0%} are in "
    "{common_time}/{common_time} and {major_share:.0%} in a major key. Skew like this is why the "
    "chapters compare medians and ranks rather than means."
)

#: Words for a correlation's size: (largest |r| the word fits, word).
STRENGTHS: tuple[tuple[float, str], ...] = (
    (0.1, "negligible"), (0.3, "weak"), (0.5, "moderate"), (np.inf, "strong"),
)

CORRELATIONS = (
    "Popularity's correlations with the audio features are at most {strength}: the largest "
    "Spearman ρ in its row is {rho:+.2f} ({feature}). The features are tied more to one another: "
    "{pair_1a} and {pair_1b} (ρ = {rho_1:+.2f}), {pair_2a} and {pair_2b} (ρ = {rho_2:+.2f}). "
    "Pearson tells a similar story (the largest gap between the two coefficients is {gap:.2f}, "
    "for {gap_a} and {gap_b}); a weak correlation rules out a strong monotone link, not a bent "
    "one, which the binned charts below show."
)

BINNED = (
    "Mean popularity peaks at {peak_mean:.1f} for tracks of about {peak_x:.1f} {unit} (bin "
    "{peak_left:.1f}–{peak_right:.1f}, {peak_n:,} tracks). The shortest bin (around "
    "{first_x:.1f}) averages {first_mean:.1f} and the longest (around {last_x:.1f}) "
    "{last_mean:.1f}. The bands are tight where most tracks are and widen in the tails, where a "
    "bin holds as few as {min_n:,} tracks."
)

GRID = (
    "Among cells with at least {min_n} tracks, mean popularity ranges from {low_mean:.1f} "
    "(valence ≈ {low_x:.2f}, energy ≈ {low_y:.2f}) to {high_mean:.1f} (valence ≈ {high_x:.2f}, "
    "energy ≈ {high_y:.2f}). {blank} of {cells} cells are left blank because too few tracks fall "
    "there, mostly where valence is {valence_side} and energy {energy_side}. Neighbouring cells "
    "differ by {step_median:.1f} points at the median and up to {step_max:.1f}: mood alone places "
    "a track's popularity only loosely."
)
HIGH, LOW = "high", "low"

EFFECTS = (
    "Binned means move more than the correlations suggest, but not along straight lines. The "
    "widest swings in mean popularity are for {widest}; the flattest is {flattest} "
    "({flattest_range:.1f} points between bins). {inner_peaks} of {curves} curves peak away from "
    "both ends of their range, and the extremes hold few tracks and wide bands; these are "
    "averages over genres, which differ in both features and popularity."
)
SWING = "{feature} ({low:.1f} to {high:.1f})"

EXPLICIT = (
    "{share:.1%} of tracks are explicit. They average {mean:.1f} ({level:.0%} CI "
    "{lower:.1f}–{upper:.1f}) against {other_mean:.1f} ({other_lower:.1f}–{other_upper:.1f}) for "
    "the rest; the intervals {overlap}. Yet Cliff's δ is {delta:+.2f} ({magnitude}): pick one "
    "explicit and one clean track at random and the explicit one is more popular only "
    "{more_popular_share:.0%} of the time (ties split)."
)
APART, OVERLAP = "do not overlap", "overlap"

SUMMARY: tuple[str, ...] = (
    "**Zeros are their own group.** {popularity[zero_share]:.1%} of tracks have popularity 0; the "
    "rest form a broad hump with median {popularity[nonzero_median]:.0f}.",
    "**Audio features are weak, bent signals.** No feature's rank correlation with popularity "
    "exceeds {abs_rho:.2f} ({feature}); binned means peak mid-range.",
    "**Context matters more than sound.** Explicit tracks are {explicit_direction} popular on "
    "average but the effect is {explicit[magnitude]} (Cliff's δ {explicit[delta]:+.2f}), while "
    "macro-genre alone explains ε² = {genre_effect:.2f} of popularity's rank variance.",
)
MORE, LESS = "more", "less"


# --- sentences ---------------------------------------------------------------------------------


def strength(r: float) -> str:
    """The word for a correlation's size (:data:`STRENGTHS`).

    Examples
    --------
    >>> strength(-0.05), strength(0.25), strength(0.6)
    ('negligible', 'weak', 'strong')
    """
    return next(word for bound, word in STRENGTHS if abs(r) < bound)


def answer(f: Mapping) -> str:
    """The chapter's one-sentence answer."""
    c = f["correlations"]
    return fill(ANSWER, f, strength=strength(c["rho"]), feature=feature_name(c["feature"]))


def popularity(f: Mapping) -> str:
    """Takeaway for the popularity distribution."""
    return fill(POPULARITY, f["popularity"])


def feature_distributions(f: Mapping) -> str:
    """Takeaway for the audio-feature histograms."""
    return fill(FEATURES, f["features"])


def correlations(f: Mapping) -> str:
    """Takeaway for the correlation heatmap."""
    c = f["correlations"]
    (a1, b1, r1), (a2, b2, r2) = c["pairs"]
    gap_a, gap_b = c["gap_pair"]
    return fill(CORRELATIONS, c, strength=strength(c["rho"]), feature=feature_name(c["feature"]),
                pair_1a=feature_name(a1), pair_1b=feature_name(b1), rho_1=r1,
                pair_2a=feature_name(a2), pair_2b=feature_name(b2), rho_2=r2,
                gap_a=feature_name(gap_a), gap_b=feature_name(gap_b))


def binned(f: Mapping) -> str:
    """Takeaway for the binned-means chart (duration)."""
    b = f["binned"]
    return fill(BINNED, b, unit=feature_unit(b["feature"]))


def grid(f: Mapping) -> str:
    """Takeaway for the valence × energy grid (extremes only among well-filled cells)."""
    g = f["grid"]
    return fill(GRID, g, valence_side=HIGH if g["blank_x_mean"] > UNIT_MIDDLE else LOW,
                energy_side=HIGH if g["blank_y_mean"] > UNIT_MIDDLE else LOW)


def feature_effects(f: Mapping) -> str:
    """Takeaway for popularity against each feature: which binned curves swing the most."""
    e = f["effects"]
    widest = ", ".join(fill(SWING, {"feature": feature_name(name), "low": low, "high": high})
                       for name, low, high in e["widest"])
    return fill(EFFECTS, e, widest=widest, flattest=feature_name(e["flattest"]))


def explicit(f: Mapping) -> str:
    """Takeaway for explicit against not explicit."""
    x = f["explicit"]
    return fill(EXPLICIT, x, overlap=APART if x["apart"] else OVERLAP)


def summary(f: Mapping) -> str:
    """Three findings with numbers for the chapter's Summary."""
    c = f["correlations"]
    words = {"abs_rho": abs(c["rho"]), "feature": feature_name(c["feature"]),
             "explicit_direction": by_sign(f["explicit"]["difference"], MORE, LESS)}
    return bullets(fill(item, f, **words) for item in SUMMARY)
