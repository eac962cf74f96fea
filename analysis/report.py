"""Sentences and small Markdown tables built from artifacts, for the chapters' prose.

Numbers on the site are never typed by hand: a chapter cell calls one of these functions on
the cleaning summary (or another artifact) and displays the Markdown it returns. Keeping the
wording here also lets the tests check it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.cleaning import BUCKETS, DROPPED_MISSING, KEPT, MERGED_OTHER_GENRE
from analysis.embed import markdown_table


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


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


# --- Drivers, conclusions and front page ---
#
# Sentences for chapters/05-drivers, chapters/07-conclusions and index.qmd. They take the
# artifacts as plain objects (metrics.json as a dict, analysis.explain.Explanations, the
# cleaning summary), so this module imports no model code and the wording is testable.


#: Where each front-page finding is proved (plain links; Quarto resolves .ipynb to .html).
CHAPTER_LINKS: dict[str, str] = {
    "data": "chapters/01-data.ipynb#sec-data-funnel",
    "moods": "chapters/03-genre-moods.ipynb#sec-moods-effects",
    "leak": "chapters/04-modeling.ipynb#sec-modeling-leak",
    "triage": "chapters/04-modeling.ipynb#sec-modeling-triage",
    "intervals": "chapters/04-modeling.ipynb#sec-modeling-intervals",
    "drivers": "chapters/05-drivers.ipynb#sec-drivers-importance",
    "history": "chapters/05-drivers.ipynb#sec-drivers-history",
    "conclusions": "chapters/07-conclusions.ipynb#sec-conclusions-triage",
}

_DRIVER_NAMES = {
    "genre": "the primary genre", "macro-genre": "the macro-genre",
    "title text": "title markers", "album-name text": "album-name markers",
    "artist history": "artist history", "duration_ms": "duration", "n_artists":
    "the number of credited artists", "is_single": "single-or-album release", "explicit":
    "the explicit flag",
}


def driver_name(group: str) -> str:
    """How prose names a driver group.

    Examples
    --------
    >>> driver_name("genre"), driver_name("acousticness")
    ('the primary genre', 'acousticness')
    """
    return _DRIVER_NAMES.get(group, group)


def _metric(metrics: dict, protocol: str, model: str, metric: str) -> tuple[float, float | None]:
    value = metrics["protocols"][protocol]["models"][model]["metrics"][metric]
    return value["mean"], value["sd"]


def _triage_metric(metrics: dict, protocol: str, metric: str) -> tuple[float, float | None]:
    """A triage metric (hit ROC-AUC, top-1% precision) of the protocol's hit classifier."""
    value = metrics["protocols"][protocol]["triage"]["metrics"][metric]
    return value["mean"], value["sd"]


def champion_model(metrics: dict, protocol: str) -> str:
    """The model type of a protocol's champion (``metrics.json`` ``champions``)."""
    return metrics.get("champions", {}).get(protocol, {}).get("model", "xgboost_tuned")


def replica_model(metrics: dict) -> str:
    """The replica model quoted beside the original's headline: its Random Forest if run."""
    models = metrics["protocols"]["seed_replica"]["models"]
    for name in ("random_forest", "xgboost_tuned", "xgboost"):
        if name in models:
            return name
    return next(iter(models))


def _pm(mean: float, sd: float | None, digits: int = 2) -> str:
    return f"{mean:.{digits}f}" + ("" if sd is None else f" ± {sd:.{digits}f}")


def headline_r2(metrics: dict) -> pd.DataFrame:
    """Bars of the front page's chart: published, replicated, and the two honest R².

    Returns
    -------
    pandas.DataFrame
        ``label``, ``r2``, ``sd`` (NaN for single splits), ``leaky``.
    """
    published = metrics["original_results"]["random_forest"]["r2"]
    replica = replica_model(metrics)
    rep_r2, _ = _metric(metrics, "seed_replica", replica, "r2")

    def label(protocol: str, model: str) -> str:
        entry = metrics["protocols"].get(protocol, {}).get("models", {}).get(model, {})
        return entry.get("label", model.replace("_", " "))

    rows = [("Published by the original<br>(Random Forest, leaky)", published, math.nan, True),
            (f"Original recipe, replicated<br>({label('seed_replica', replica)}, leaky)", rep_r2,
             math.nan, True)]
    for protocol, text in (("known_artist", "New track, known artist"),
                           ("cold_start", "New artist")):
        model = champion_model(metrics, protocol)
        mean, sd = _metric(metrics, protocol, model, "r2")
        rows.append((f"{text}<br>({label(protocol, model)}, honest)", mean,
                     math.nan if sd is None else sd, False))
    return pd.DataFrame(rows, columns=["label", "r2", "sd", "leaky"])


def _importance(explanations, protocol: str) -> pd.DataFrame:
    table = explanations.importance
    return table[table["protocol"] == protocol].sort_values("shap_rank").reset_index(drop=True)


def _audio(group: str) -> bool:
    from analysis.schema import AUDIO_COLUMNS

    return group in AUDIO_COLUMNS


def drivers_answer(explanations) -> str:
    """The Drivers chapter's answer: artist first when known; otherwise the label and sound."""
    history = explanations.summary["protocols"]["known_artist"]["artist_history"]
    cold = _importance(explanations, "cold_start")
    top = cold.head(3)
    audio = cold[cold["group"].map(_audio)].iloc[0]
    listed = ", ".join(f"{driver_name(r.group)} ({r.mean_abs_shap:.1f} points)"
                       for r in top.itertuples())
    return (
        f"**Answer.** For a new track by an artist we know, mostly the artist: their history "
        f"carries {history['shap_share_history']:.0%} of what moves the known-artist model's "
        f"predictions, and removing it lowers R² on a held-out fold from "
        f"{history['r2_with_history']:.2f} to {history['r2_without_history']:.2f}. For an "
        f"artist we have never seen, the strongest drivers are {listed}, measured as the mean "
        f"absolute SHAP value in popularity points; the strongest audio feature is "
        f"{driver_name(audio['group'])} ({audio['mean_abs_shap']:.1f} points)."
    )


def drivers_sample_note(explanations) -> str:
    """How the explained tracks were chosen, and how far to trust the values."""
    s = explanations.summary["sample"]
    return (
        f"SHAP values are computed for {s['tracks']:,} tracks: {s['per_group']} drawn at random "
        f"(seeded) from each of the {s['groups']} macro-genres, weighted back to all "
        f"{s['population_tracks']:,} tracks, so a small macro-genre is described as precisely "
        f"as a large one. Exact interaction values use the first {s['interaction_per_group']} "
        f"of every macro-genre's draw ({s['interaction_tracks']:,} tracks); the charts draw "
        f"{s['display_per_group']} per macro-genre to stay light."
    )


#: Largest gap (popularity points) between the fold model refitted from its recorded
#: parameters and the committed out-of-fold predictions for it to count as the same model:
#: the OOF files store predictions to 0.01 points, so a true copy is within half of that.
REFIT_TOLERANCE = 0.006


def drivers_checks(explanations) -> str:
    """The build's self-checks, in one sentence per champion."""
    parts = []
    for protocol, section in explanations.summary["protocols"].items():
        checks, perm = section["checks"], section["permutation"]
        xgb_diff = checks.get("xgboost_max_abs_diff")
        xgb_add = checks.get("xgboost_additivity_max_abs_error")
        refit = perm.get("refit_vs_oof")
        parts.append(
            f"{protocol.replace('_', '-')} champion ({section['champion']['n_trees']:,} trees, "
            f"up to {section['champion']['max_depth']} levels deep): contributions add up to "
            f"the prediction within {checks['additivity_max_abs_error']:.1e} points"
            + ("" if xgb_diff is None else
               f"; XGBoost's own float32 values (which shap's TreeExplainer returns) differ by at "
               f"most {xgb_diff:.1e} points and miss additivity by up to {xgb_add:.1e}")
            + ("" if refit is None else
               f"; the fold model refitted from its recorded parameters reproduces the "
               f"committed out-of-fold predictions of its fold (largest gap "
               f"{refit['max_abs_diff']:.3f} points; they are stored to 0.01)"
               if refit["max_abs_diff"] <= REFIT_TOLERANCE else
               f"; WARNING: the fold model refitted from its recorded parameters differs from "
               f"the committed out-of-fold predictions by up to {refit['max_abs_diff']:.2f} "
               f"points (fold R² {refit['r2_refit']:.3f} against "
               f"{refit['r2_committed']:.3f}), so the models and this explanation "
               f"were built from different code") + "."
        )
    return ("Checks of the cached build (SHAP values computed in float64): " + " ".join(parts))


def importance_reading(explanations) -> str:
    """What the importance chart says, and where SHAP and permutation disagree."""
    sentences = []
    for protocol, name in (("known_artist", "known-artist"), ("cold_start", "cold-start")):
        table = _importance(explanations, protocol)
        perm = explanations.summary["protocols"][protocol]["permutation"]
        by_perm = table.sort_values("permutation_rank").iloc[0]
        first = table.iloc[0]
        agree = ("also loses the most R² when shuffled" if by_perm["group"] == first["group"]
                 else f"while shuffling {driver_name(by_perm['group'])} loses the most R² "
                      f"({by_perm['r2_drop_mean']:.3f})")
        sentences.append(
            f"In the {name} model, {driver_name(first['group'])} moves predictions most "
            f"({first['mean_abs_shap']:.1f} points on average, "
            f"{first['share']:.0%} of the total) and {agree}; the two rankings agree with a "
            f"Spearman correlation of {perm['rank_correlation_with_shap']:.2f} over "
            f"{len(table)} drivers (held-out fold of {perm['test_tracks']:,} tracks, "
            f"{perm['n_repeats']} shuffles each)."
        )
    return " ".join(sentences)


def _value_effect(sample: pd.DataFrame, group: str) -> float | None:
    """Spearman correlation between a feature's value and its SHAP value in the sample."""
    column = f"value__{'artist_mean_popularity' if group == 'artist history' else group}"
    if column not in sample or f"shap__{group}" not in sample:
        return None
    pair = sample[[column, f"shap__{group}"]].dropna()
    if pair[column].nunique() <= 2:  # a flag has no "higher"; read it from the bars
        return None
    return float(pair.corr(method="spearman").iloc[0, 1])


def beeswarm_reading(explanations, protocol: str = "cold_start", *, top: int = 10) -> str:
    """Which way the top drivers push: sign of value-vs-SHAP correlation in the sample."""
    sample = explanations.sample[explanations.sample["protocol"] == protocol]
    ups, downs = [], []
    for group in _importance(explanations, protocol)["group"].head(top):
        rho = _value_effect(sample, group)
        if rho is None or abs(rho) < 0.3:
            continue
        (ups if rho > 0 else downs).append(f"{driver_name(group)} (ρ = {rho:+.2f})")
    text = []
    if ups:
        text.append("higher " + ", ".join(ups) + " push predictions up")
    if downs:
        text.append("higher " + ", ".join(downs) + (" push them down" if ups else
                                                    " push predictions down"))
    body = "; ".join(text) if text else "no top driver moves predictions in one direction only"
    return (
        f"Reading the colours (ρ is the rank correlation between a driver's value and its SHAP "
        f"value over the sample, shown where |ρ| ≥ 0.3): {body}. Drivers whose points fan out in "
        f"both directions at the same colour act through interactions."
    )


def _signed(value: float, digits: int = 1) -> str:
    """A signed number that never prints as "-0.0".

    Examples
    --------
    >>> _signed(-0.04), _signed(0.26)
    ('0.0', '+0.3')
    """
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def dependence_reading(explanations, protocol: str, features) -> str:
    """Median SHAP value in the lowest versus the highest quarter of each feature."""
    from analysis.explain import dependence_frame

    partners = explanations.summary["protocols"][protocol]["interaction_partners"]
    parts = []
    for feature in features:
        frame = dependence_frame(explanations, protocol, feature)
        lo, hi = frame["x"].quantile([0.25, 0.75])
        low = frame.loc[frame["x"] <= lo, "shap"].median()
        high = frame.loc[frame["x"] >= hi, "shap"].median()
        parts.append(f"{driver_name(feature)} {_signed(low)} → {_signed(high)}")
    named = [partners.get(f, {}).get("partner") for f in features]
    common = max(set(named), key=named.count) if named else None
    tail = (f" All {len(features)} interact most with {driver_name(common)}: the same sound "
            f"is worth different amounts in different genres." if common and
            named.count(common) == len(named) else
            " Their strongest partners: " + ", ".join(
                f"{driver_name(f)} with {driver_name(p or '?')}"
                for f, p in zip(features, named, strict=True)) + ".")
    return ("Median SHAP value in each feature's lowest quarter of tracks → its highest "
            "quarter (points): " + "; ".join(parts) + "." + tail)


def interaction_table(explanations, protocol: str) -> str:
    """Each conditioned feature's main effect and its strongest interaction partners."""
    section = explanations.summary["protocols"][protocol]["interaction_partners"]
    rows = []
    for feature, p in section.items():
        rows.append((driver_name(feature), f"{p['mean_abs_shap']:.2f}",
                     f"{p['mean_abs_main_effect']:.2f}", driver_name(p["partner"]),
                     f"{p['mean_abs_interaction']:.2f}",
                     driver_name(p["numeric_partner"]) if p["numeric_partner"] else "–",
                     f"{p['numeric_mean_abs_interaction']:.2f}"))
    return markdown_table(pd.DataFrame(rows, columns=[
        "feature", "mean abs SHAP", "main effect", "strongest partner", "interaction",
        "strongest single-column partner", "interaction "]))


def pair_strength(explanations, protocol: str = "cold_start") -> tuple[float, float]:
    """Weighted mean |energy × valence interaction| and mean |SHAP of energy|, in points."""
    from analysis.explain import DEFAULT_INTERACTION_PAIR

    a, b = DEFAULT_INTERACTION_PAIR
    pair = explanations.pair[explanations.pair["protocol"] == protocol]
    w = pair["weight"].to_numpy(dtype="float64")
    return (float(np.average(pair[f"interaction_{a}_{b}"].abs(), weights=w)),
            float(np.average(pair[f"shap_{a}"].abs(), weights=w)))


def _share_word(ratio: float) -> str:
    return "a small" if ratio < 0.25 else "a secondary" if ratio < 0.5 else "a major"


def pair_reading(explanations, protocol: str = "cold_start") -> str:
    """How big the energy × valence interaction is next to energy's own effect."""
    from analysis.explain import DEFAULT_INTERACTION_PAIR

    a, b = DEFAULT_INTERACTION_PAIR
    inter, own = pair_strength(explanations, protocol)
    n = int((explanations.pair["protocol"] == protocol).sum())
    partner = explanations.summary["protocols"][protocol]["interaction_partners"].get(a, {})
    return (
        f"On the {n:,} tracks with exact interaction values, the {a} × {b} interaction moves a "
        f"prediction by {inter:.2f} points on average, against {own:.2f} for {a}'s whole SHAP "
        f"value: {_share_word(inter / own)} part of how {a} acts. {a.capitalize()}'s strongest "
        f"partner is {driver_name(partner.get('partner', '?'))} "
        f"({partner.get('mean_abs_interaction', float('nan')):.2f} points), so whether an "
        f"energetic track does better depends "
        f"{'far ' if partner.get('mean_abs_interaction', 0) >= 3 * inter else ''}more on "
        f"{driver_name(partner.get('partner', '?'))} than on how happy it sounds."
        if partner.get("partner") not in (None, b) else
        f"On the {n:,} tracks with exact interaction values, the {a} × {b} interaction moves a "
        f"prediction by {inter:.2f} points on average, against {own:.2f} for {a}'s whole SHAP "
        f"value: {_share_word(inter / own)} part of how {a} acts, and {b} is {a}'s strongest "
        f"partner."
    )


def macro_genre_reading(explanations, protocol: str = "cold_start") -> str:
    """Which driver leads within each macro-genre, how much the top one varies, and where the
    sound matters most."""
    table = explanations.by_macro_genre
    part = table[table["protocol"] == protocol]
    leaders = part.loc[part.groupby("macro_genre")["mean_abs_shap"].idxmax()]
    counts = leaders["group"].value_counts()
    others = ", ".join(f"{driver_name(g)} in {n}" for g, n in counts.iloc[1:].items())
    top = _importance(explanations, protocol)["group"].iloc[0]
    rows = part[part["group"] == top].set_index("macro_genre")["mean_abs_shap"]
    audio = part[part["group"].map(_audio)].groupby("macro_genre")["mean_abs_shap"].sum()
    return (
        f"{driver_name(counts.index[0]).capitalize()} is the largest driver in "
        f"{counts.iloc[0]} of {len(leaders)} macro-genres" + (f" ({others})" if others else "")
        + f". How far {driver_name(top)} moves predictions varies "
        + ("several-fold" if rows.max() >= 3 * rows.min() else "widely"
           if rows.max() >= 1.5 * rows.min() else "little") + ": "
        f"{rows.min():.1f} points on average in {rows.idxmin()}, {rows.max():.1f} in "
        f"{rows.idxmax()}. The sound matters most in {audio.idxmax()} (the audio features' mean "
        f"|SHAP| values add up to {audio.max():.1f} points) and least in {audio.idxmin()} "
        f"({audio.min():.1f})."
    )


def ladder_reading(explanations) -> str:
    """Where the honest R² comes from, step by step (the explain build's feature ladder)."""
    sentences = []
    for protocol, who in (("cold_start", "new artists"), ("known_artist", "known artists")):
        ladder = explanations.summary["protocols"][protocol]["feature_ladder"]
        steps = ladder["steps"]
        gains = ", ".join(f"{b['step'].removeprefix('+ ')} {b['r2'] - a['r2']:+.2f}"
                          for a, b in zip(steps, steps[1:], strict=False))
        sentences.append(
            f"For {who} (outer fold {ladder['fold']}, {ladder['test_tracks']:,} held-out "
            f"tracks), the original's columns and the genre reach R² {steps[0]['r2']:.2f}; "
            f"then {gains}, for R² {steps[-1]['r2']:.2f} with every allowed input.")
    return " ".join(sentences)


def history_reading(explanations) -> str:
    """How much of the known-artist model is the artist's record."""
    h = explanations.summary["protocols"]["known_artist"]["artist_history"]
    alone = h.get("r2_history_alone")
    table = _importance(explanations, "known_artist").set_index("group")
    by_driver = table.loc["artist history", "share"] if "artist history" in table.index else None
    return (
        f"Artist history carries {h['shap_share_history']:.0%} of the known-artist model's "
        f"movement (mean |SHAP| {h['shap_mean_abs_history']:.1f} points for the three history "
        f"columns together, {h['shap_mean_abs_track']:.1f} for everything about the track, "
        f"summed per track)"
        + ("" if by_driver is None else
           f"; counted driver by driver, as in the importance chart, it is {by_driver:.0%} of the "
           f"total, because the track's drivers partly cancel each other when summed") + ". On "
        f"held-out fold {h['fold']}, the model scores R² {h['r2_with_history']:.2f}; refitted "
        f"with the same parameters but without the history columns, "
        f"{h['r2_without_history']:.2f}, a drop of {h['r2_drop_without_history']:.2f}"
        + ("" if alone is None else
           f"; the artist's out-of-fold mean popularity used alone as the prediction scores "
           f"{alone:.2f}") + "."
    )


def drivers_summary(explanations) -> str:
    """Three findings with numbers for the Drivers chapter's Summary."""
    h = explanations.summary["protocols"]["known_artist"]["artist_history"]
    cold = _importance(explanations, "cold_start")
    first = cold.iloc[0]
    audio = cold[cold["group"].map(_audio)]
    perm = explanations.summary["protocols"]["cold_start"]["permutation"]
    inter, _ = pair_strength(explanations, "cold_start")
    return "\n".join([
        f"- **The artist comes first.** History carries {h['shap_share_history']:.0%} of the "
        f"known-artist model's movement; without it, R² on a held-out fold falls from "
        f"{h['r2_with_history']:.2f} to {h['r2_without_history']:.2f}.",
        f"- **For a new artist, {driver_name(first['group'])} leads** "
        f"({first['mean_abs_shap']:.1f} points on average); SHAP and held-out permutation "
        f"rankings agree (Spearman {perm['rank_correlation_with_shap']:.2f}).",
        f"- **Sound matters, modestly.** The top audio features, "
        f"{', '.join(driver_name(g) for g in audio['group'].head(3))}, each move a cold-start "
        f"prediction by {audio['mean_abs_shap'].head(3).min():.1f}–"
        f"{audio['mean_abs_shap'].head(3).max():.1f} points on average; the energy × valence "
        f"interaction adds {inter:.2f}.",
    ])


# Conclusions ---------------------------------------------------------------------------------


def conclusions_answer(metrics: dict, explanations) -> str:
    """One paragraph: what the models can and cannot do."""
    ka, ka_sd = _metric(metrics, "known_artist", champion_model(metrics, "known_artist"), "r2")
    cs, cs_sd = _metric(metrics, "cold_start", champion_model(metrics, "cold_start"), "r2")
    auc, _ = _triage_metric(metrics, "cold_start", "hit_auc")
    h = explanations.summary["protocols"]["known_artist"]["artist_history"]
    return (
        f"**Answer.** Popularity is partly predictable, mostly from who the artist is: a new "
        f"track by a known artist is predicted with R² {_pm(ka, ka_sd)}, a track by a new artist "
        f"with R² {_pm(cs, cs_sd)}. That is enough to rank a catalogue (hit ROC-AUC "
        f"{auc:.2f} for a new artist) but not to promise a number for one track, and "
        f"{h['shap_share_history']:.0%} of the known-artist model's signal is the artist's "
        f"record, not the recording."
    )


def predictable_table(metrics: dict) -> str:
    """The two honest protocols side by side: the champion's accuracy and the hit classifier's
    triage metrics (mean ± sd)."""
    rows = []
    for protocol, label in (("known_artist", "new track, known artist"),
                            ("cold_start", "new artist")):
        model = champion_model(metrics, protocol)
        cells = [label]
        for metric, digits in (("r2", 2), ("mae", 1), ("spearman", 2)):
            cells.append(_pm(*_metric(metrics, protocol, model, metric), digits))
        for metric in ("hit_auc", "top1_precision"):
            cells.append(_pm(*_triage_metric(metrics, protocol, metric), 2))
        rows.append(cells)
    return markdown_table(pd.DataFrame(rows, columns=[
        "question", "R²", "MAE (points)", "Spearman", "hit ROC-AUC", "top-1% precision"]))


def unpredictable_findings(metrics: dict) -> str:
    """Where the honest champions fail: popularity bands and the zero mass."""
    protocol = "cold_start"
    entry = metrics["protocols"][protocol]["models"][champion_model(metrics, protocol)]
    analysis = entry.get("error_analysis", {})
    bands = {k: v for k, v in analysis.get("by_popularity_band", {}).items()
             if v.get("mae") is not None}
    items = []
    if bands:
        worst = max(bands.items(), key=lambda kv: kv[1]["mae"])
        best = min(bands.items(), key=lambda kv: kv[1]["mae"])
        items.append(
            f"**The extremes.** Error depends on where the truth lies: mean absolute error is "
            f"{best[1]['mae']:.1f} points for tracks at popularity {best[0]} and "
            f"{worst[1]['mae']:.1f} points for tracks at {worst[0]}, because the model pulls "
            f"predictions toward the middle (mean error {worst[1]['bias']:+.1f} there).")
    zero = analysis.get("zero_popularity") or {}
    if zero:
        items.append(
            f"**The zero mass.** Tracks at popularity 0 account for "
            f"{zero['share_of_total_absolute_error']:.0%} of the new-artist model's absolute "
            f"error; without them its MAE would be {zero['mae_without_zeros']:.1f}. Many are "
            f"compilation copies whose zero says more about the catalogue than the song.")
    items.append(
        "**The next hit.** A track's own audio features move a prediction by a few points; "
        "what makes one song by an unknown artist break out is not in this data.")
    return "\n".join(f"- {item}" for item in items)


def drift_caveat(summary: dict) -> str:
    """Popularity is a moving measurement: evidence from the crawl itself."""
    s = summary
    return (
        f"Popularity is Spotify's current estimate from recent plays, recomputed continuously, "
        f"so it moves. The crawl caught it moving: {s['popularity_conflicts']:,} tracks carry "
        f"different popularity in different genre lists of the same dataset (up to "
        f"{s['popularity_conflict_max_spread']} points apart). Every number on this site "
        f"describes one snapshot; a model fitted to it ages as the catalogue and listening do, "
        f"and should be re-fitted and re-evaluated on a fresh crawl before it is trusted again."
    )


def interval_usage(metrics: dict, protocol: str = "cold_start") -> str:
    """What the conformal intervals promise, with their measured coverage and width."""
    entry = metrics["protocols"][protocol]["models"][champion_model(metrics, protocol)]
    intervals = entry.get("intervals", {}).get("mondrian", {})
    parts = []
    for level, stats in sorted(intervals.items()):
        by_macro = [v["coverage"] for v in stats["by_macro_genre"].values()]
        parts.append(
            f"the {float(level):.0%} interval covers {stats['coverage']:.1%} of held-out tracks "
            f"({min(by_macro):.1%}–{max(by_macro):.1%} across macro-genres) and is "
            f"{stats['mean_width']:.0f} points wide on average")
    name = "new-artist" if protocol == "cold_start" else "known-artist"
    return (f"Measured out of fold for the {name} model, " + "; ".join(parts) + ". An interval "
            "that wide says the model sorts tracks, it does not forecast one.") if parts else ""


_ORIGINAL_LABELS = {"linear_regression": "Linear Regression",
                    "random_forest": "Random Forest (300 trees)", "xgboost": "XGBoost",
                    "xgboost_tuned": "XGBoost (tuned)"}


def leak_table(metrics: dict) -> str:
    """The leaky recipe and the honest protocols side by side (R² and MAE)."""
    rows = []
    original = metrics["original_results"]
    for name in ("linear_regression", "random_forest", "xgboost", "xgboost_tuned"):
        labels = [section["models"][name]["label"] for section in metrics["protocols"].values()
                  if "label" in section["models"].get(name, {})]
        row = [labels[0] if labels else _ORIGINAL_LABELS.get(name, name)]
        row.append(f"{original[name]['r2']:.3f}" if name in original else "–")
        for protocol in ("seed_replica", "known_artist", "cold_start"):
            models = metrics["protocols"][protocol]["models"]
            if name in models:
                mean, sd = _metric(metrics, protocol, name, "r2")
                row.append(_pm(mean, sd, 3))
            else:
                row.append("–")
        rows.append(row)
    return markdown_table(pd.DataFrame(rows, columns=[
        "model", "published (leaky)", "replica (leaky)", "known artist (honest)",
        "new artist (honest)"]))


def leak_lesson(metrics: dict) -> str:
    """The leak in two sentences, numbers from the replica's audit."""
    audit = metrics["findings"]["leak_audit"]["seed_replica"]
    rep = replica_model(metrics)
    rep_r2, _ = _metric(metrics, "seed_replica", rep, "r2")
    cs, _ = _metric(metrics, "cold_start", champion_model(metrics, "cold_start"), "r2")
    return (
        f"The original's headline came from a split that lets the answer into the question: "
        f"{audit['test_rows_whose_track_is_also_in_train']:.0%} of its test rows are a track "
        f"also in the training rows (under another genre), and the artist-mean feature equals "
        f"the label itself for {audit['test_rows_feature_equals_label']:.0%} of test rows. "
        f"Replicated here, that recipe scores R² {rep_r2:.2f}; the same kind of model asked "
        f"honestly about a new artist scores {cs:.2f}. Split by the unit you will predict, and "
        f"compute anything derived from the label inside the training folds only."
    )


def conclusions_summary(metrics: dict, explanations) -> str:
    """Three findings with numbers for the Conclusions' Summary."""
    ka, _ = _metric(metrics, "known_artist", champion_model(metrics, "known_artist"), "r2")
    cs, _ = _metric(metrics, "cold_start", champion_model(metrics, "cold_start"), "r2")
    rep, _ = _metric(metrics, "seed_replica", replica_model(metrics), "r2")
    h = explanations.summary["protocols"]["known_artist"]["artist_history"]
    return "\n".join([
        f"- **Honest numbers are lower.** R² {ka:.2f} (known artist) and {cs:.2f} (new artist), "
        f"not the {rep:.2f} of the leaky recipe.",
        f"- **The artist is the signal.** History carries {h['shap_share_history']:.0%} of the "
        f"known-artist model's movement.",
        "- **Use the model to sort, not to forecast**: shortlist by predicted popularity, read "
        "the interval before quoting a number, and re-fit on a fresh crawl.",
    ])


# Front page ----------------------------------------------------------------------------------


def executive_findings(summary: dict, metrics: dict, explanations,
                       kruskal: pd.DataFrame | None = None, *,
                       hit_share: float | None = None) -> str:
    """The front page's findings: one sentence each, with a number and a link to the proof.

    Parameters
    ----------
    summary : dict
        Cleaning summary (:attr:`analysis.data.TrackData.summary`).
    metrics : dict
        ``models/metrics.json``.
    explanations : analysis.explain.Explanations
        ``models/shap/``.
    kruskal : pandas.DataFrame, optional
        :func:`analysis.moods.kruskal_by_feature` of the tracks (genre-mood finding).
    hit_share : float, optional
        Share of all tracks that are hits (the shortlist's base rate).
    """
    s = summary
    link = CHAPTER_LINKS
    rep, _ = _metric(metrics, "seed_replica", replica_model(metrics), "r2")
    published = metrics["original_results"]["random_forest"]["r2"]
    ka, _ = _metric(metrics, "known_artist", champion_model(metrics, "known_artist"), "r2")
    cs, _ = _metric(metrics, "cold_start", champion_model(metrics, "cold_start"), "r2")
    auc, _ = _triage_metric(metrics, "cold_start", "hit_auc")
    top1, _ = _triage_metric(metrics, "cold_start", "top1_precision")
    h = explanations.summary["protocols"]["known_artist"]["artist_history"]
    cold = _importance(explanations, "cold_start")
    audio = cold[cold["group"].map(_audio)].iloc[0]
    hit = metrics.get("hit_threshold", 60)
    repeated = s["rows_repeating_a_track_id"] / s["input_rows"]
    first = driver_name(cold.iloc[0]["group"])
    headline = ("catalogue metadata beats sound" if not _audio(cold.iloc[0]["group"])
                and audio["mean_abs_shap"] < cold.iloc[0]["mean_abs_shap"] / 2
                else "sound matters as much as metadata")
    items = [
        f"**The public file is not a track table.** Its {s['input_rows']:,} rows are "
        f"{s['genres']} genre lists in which {_pct(repeated)} of rows repeat a track; "
        f"cleaned, it holds {s['tracks']:,} tracks "
        f"([the data]({link['data']})).",
        f"**The published accuracy leaned on a leak.** The original's R² of {published:.2f} "
        f"(replicated here: {rep:.2f}) rests on test tracks, and their own popularity, leaking "
        f"into training; measured honestly, a new track by a known artist gets R² {ka:.2f} "
        f"and a track by a new artist {cs:.2f} ([modeling]({link['leak']})).",
        f"**The model can triage.** For artists it has never seen, it ranks hits (popularity "
        f"≥ {hit}) above non-hits with ROC-AUC {auc:.2f}, and {top1:.0%} of its top-1% "
        f"shortlist are hits"
        + ("" if hit_share is None else f", against {hit_share:.0%} of all tracks")
        + f" ([modeling]({link['triage']})).",
        f"**The artist is most of the signal.** Artist history carries "
        f"{h['shap_share_history']:.0%} of what moves the known-artist model; without it, "
        f"R² on a held-out fold drops from {h['r2_with_history']:.2f} to "
        f"{h['r2_without_history']:.2f} ([drivers]({link['history']})).",
        f"**For a new artist, {headline}.** {first[:1].upper() + first[1:]} moves a "
        f"prediction by {cold.iloc[0]['mean_abs_shap']:.1f} points on average; the strongest "
        f"audio feature, {driver_name(audio['group'])}, by {audio['mean_abs_shap']:.1f} "
        f"([drivers]({link['drivers']})).",
    ]
    if kruskal is not None and len(kruskal):
        top = kruskal.iloc[0]
        items.append(
            f"**Genres sound different, most in {top['feature']}.** Macro-genre explains "
            f"{top['epsilon_squared']:.0%} of the rank variance of {top['feature']} "
            f"(Kruskal–Wallis ε²), a {top['magnitude']} effect "
            f"([genre moods]({link['moods']})).")
    intervals = metrics["protocols"]["cold_start"]["models"][
        champion_model(metrics, "cold_start")].get("intervals", {}).get("mondrian", {})
    if "0.9" in intervals:
        stats = intervals["0.9"]
        by_macro = [v["coverage"] for v in stats["by_macro_genre"].values()]
        items.append(
            f"**Every prediction comes with an honest range.** The 90% interval covers "
            f"{stats['coverage']:.0%} of held-out tracks ({min(by_macro):.0%}–"
            f"{max(by_macro):.0%} by macro-genre) and is {stats['mean_width']:.0f} points wide: "
            f"good for sorting a catalogue, not for promising one track's number "
            f"([modeling]({link['intervals']}), [how to use it]({link['conclusions']})).")
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


def triage_example(champion, tracks: pd.DataFrame, *, n: int = 5,
                   confidence: float = 0.9) -> pd.DataFrame:
    """A champion's predictions with intervals for the first ``n`` tracks, as a user calls it.

    The tracks are passed in the raw dataset's columns (``track_genre`` = the primary genre,
    ``popularity`` dropped), exactly what :meth:`analysis.models.Champion.predict_interval`
    expects from a user's file.
    """
    from analysis.schema import RAW_COLUMNS

    columns = [c for c in RAW_COLUMNS if c != "popularity"]
    raw = tracks.rename(columns={"primary_genre": "track_genre"})[columns].head(n)
    out = champion.predict_interval(raw, confidence=confidence).round(1)
    return pd.concat([raw[["track_name", "artists", "track_genre"]].rename(columns={
        "track_name": "track", "artists": "artists", "track_genre": "genre"}), out], axis=1)


def front_page_findings(track_data, metrics: dict, explanations) -> str:
    """:func:`executive_findings` from the loaded artifacts (what ``index.qmd`` prints).

    Adds the genre-mood finding: Kruskal–Wallis ε² of every audio feature across
    macro-genres (:func:`analysis.moods.kruskal_by_feature`).
    """
    from analysis.moods import add_duration_minutes, kruskal_by_feature

    kruskal = kruskal_by_feature(add_duration_minutes(track_data.tracks))
    hit = metrics.get("hit_threshold", 60)
    hit_share = float((track_data.tracks["popularity"] >= hit).mean())
    return executive_findings(track_data.summary, metrics, explanations, kruskal,
                              hit_share=hit_share)
