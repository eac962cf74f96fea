"""Words of the Genre-moods chapter (chapters/03-genre-moods): macro-genres and outliers.

:func:`facts` computes the numbers the chapter quotes about macro-genres (with
:mod:`analysis.moods`, as the charts do); :func:`atypical_facts` and :func:`performer_facts`
read the outlier lists of :mod:`analysis.outliers`. The templates and table headers below hold
the wording, including how a track's atypical features are put into words
(:func:`why_atypical`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from IPython.display import Markdown

from analysis import moods, outliers
from analysis.labels import PROTOCOL_MODEL_NAMES, feature_name
from analysis.prose._render import bullets, fill

# --- facts -------------------------------------------------------------------------------------


def facts(tracks: pd.DataFrame) -> dict:
    """Every number the chapter quotes about macro-genres, from the cleaned tracks.

    Returns
    -------
    dict
        ``moods`` (the mood features' ε², strongest first, and the first one's extreme
        macro-genres), ``pairs`` (Cliff's δ between the extreme macro-genres of each mood
        feature), ``others`` (the other features' ε² and extremes), ``map`` (the mood map),
        ``genres`` (the 114-genre table) and ``effects`` (ε² of every feature).
    """
    kw = moods.kruskal_by_feature(tracks)  # sorted by effect size
    mood_kw = kw[kw["feature"].isin(moods.MOOD_FEATURES)].reset_index(drop=True)
    pairs = moods.cliffs_delta_pairs(tracks, moods.extreme_pairs(tracks))
    macro, genres = moods.mood_map_positions(tracks)
    return {
        "moods": {"features": _effect_rows(mood_kw),
                  **_extremes(tracks, mood_kw.iloc[0]["feature"])},
        "pairs": pairs.to_dict("records"),
        "others": _other_facts(tracks, kw),
        "map": _map_facts(macro, genres),
        "genres": _genre_table_facts(moods.genre_table(tracks)),
        "effects": _effect_size_facts(kw),
    }


def _effect_rows(kw: pd.DataFrame) -> list[dict]:
    return [{"feature": r["feature"], "epsilon_squared": r["epsilon_squared"],
             "magnitude": r["magnitude"]} for _, r in kw.iterrows()]


def _extremes(tracks: pd.DataFrame, feature: str) -> dict:
    (_, hi, lo), = moods.extreme_pairs(tracks, [feature])
    med = tracks.groupby("macro_genre")[feature].median()
    return {"feature": feature, "highest": hi, "highest_median": med[hi], "lowest": lo,
            "lowest_median": med[lo]}


def _other_facts(tracks: pd.DataFrame, kw: pd.DataFrame) -> dict:
    others = kw[~kw["feature"].isin(moods.MOOD_FEATURES)].reset_index(drop=True)
    top = [{**_extremes(tracks, r["feature"]), "epsilon_squared": r["epsilon_squared"]}
           for _, r in others.head(2).iterrows()]
    return {"top": top, "last": _effect_rows(others.tail(1))[0]}


def _map_facts(macro: pd.DataFrame, genres: pd.DataFrame) -> dict:
    first, second, distance = moods.closest_pair(macro)
    spread = (macro["x_q3"] - macro["x_q1"]) * (macro["y_q3"] - macro["y_q1"])
    g = genres.set_index("genre" if "genre" in genres else "primary_genre")
    happiest, saddest = g["x_median"].idxmax(), g["x_median"].idxmin()
    loudest, calmest = g["y_median"].idxmax(), g["y_median"].idxmin()
    return {
        "closest": (first, second), "distance": distance,
        "widest": macro.loc[spread.idxmax(), "macro_genre"], "genres": len(g),
        "happiest": happiest, "happiest_valence": g.loc[happiest, "x_median"],
        "saddest": saddest, "saddest_valence": g.loc[saddest, "x_median"],
        "loudest": loudest, "loudest_energy": g.loc[loudest, "y_median"],
        "calmest": calmest, "calmest_energy": g.loc[calmest, "y_median"],
    }


def _genre_table_facts(table: pd.DataFrame) -> dict:
    smallest = table.loc[table["tracks"].idxmin()]
    fewest = table.loc[table["primary_tracks"].idxmin()]
    top = table.loc[table["popularity_median"].idxmax()]
    return {
        "genres": len(table), "smallest": smallest["genre"],
        "smallest_tracks": int(smallest["tracks"]), "most_tracks": int(table["tracks"].max()),
        "fewest": fewest["genre"], "fewest_primary": int(fewest["primary_tracks"]),
        "most_primary": int(table["primary_tracks"].max()), "top": top["genre"],
        "top_median": top["popularity_median"],
    }


def _effect_size_facts(kw: pd.DataFrame) -> dict:
    rows = _effect_rows(kw)
    return {
        "features": rows, "large": int(kw["magnitude"].eq("large").sum()),
        "large_from": moods.EPSILON_THRESHOLDS[2][0],
        "bands": [bound for bound, _ in moods.EPSILON_THRESHOLDS[:-1]],
        "p_max": kw["p_value"].max(), "tracks": int(kw["n"].iloc[0]),
    }


def atypical_facts(tracks: pd.DataFrame, listed: pd.DataFrame) -> dict:
    """Numbers of the atypical-track lists: their size, the features they name, their stability.

    Parameters
    ----------
    tracks, listed
        The tracks and :func:`analysis.outliers.audio_atypical` of them; the lists are made
        again with another forest seed (:func:`analysis.outliers.seed_agreement`) to measure how
        much of them survives.
    """
    named = listed["features"].str.split(", ").explode()
    named = named[named.notna() & named.ne("")]
    counts = named.value_counts().sort_index().sort_values(ascending=False, kind="stable")
    return {
        "tracks": len(listed), "per_group": int(listed["rank"].max()),
        "groups": listed["macro_genre"].nunique(), "named": list(counts.head(3).items()),
        "combinations": int(listed["features"].eq("").sum()),
        "agreement": outliers.seed_agreement(tracks, listed),
    }


def performer_facts(lists: dict | None) -> dict | None:
    """Numbers of the over- and under-performer lists (None while they are not built)."""
    if lists is None:
        return None
    over, under = lists["over"], lists["under"]
    return {
        "model": lists["model"], "protocol": lists["protocol"], "rmse": lists["rmse"],
        "tracks": lists["tracks"],
        "by": lists["by"], "level": lists.get("level"),
        "over_actual": over["actual"].iloc[0], "over_expected": over["expected"].iloc[0],
        "under_expected": under["expected"].iloc[0], "under_actual": under["actual"].iloc[0],
        "excluded_zero": lists["excluded_zero"], "excluded_versions": lists["excluded_versions"],
    }


# --- templates ---------------------------------------------------------------------------------

ANSWER = (
    "**Answer.** Clearly, and most for {feature}: the share of rank variance that macro-genre "
    "explains (Kruskal–Wallis ε²) is {effects}. Median {feature} runs from {highest_median:.2f} in "
    "{highest} to {lowest_median:.2f} in {lowest}, yet every macro-genre spreads widely, and the "
    "tracks furthest from their macro-genre's sound are listed at the end."
)
EFFECT = "{feature} {epsilon_squared:.2f} ({magnitude})"

PAIRS_HEADER = ("| Feature | Higher | Median | Lower | Median | Cliff's δ | Magnitude |\n"
                "|---|---|---:|---|---:|---:|---|")
PAIRS_ROW = ("| {feature} | {group_a} | {median_a:.2f} | {group_b} | {median_b:.2f} | "
             "{delta:+.2f} | {magnitude} |")
PAIR = ("{Feature} is highest in {group_a} (median {median_a:.2f}) and lowest in {group_b} "
        "({median_b:.2f}); Cliff's δ = {delta:+.2f} ({magnitude}).")
BOXES = (" Each box holds the middle half of a macro-genre; where boxes overlap, macro-genre "
         "shifts the typical mood without fixing any single track's. ")
CLIFFS_SCALE_TEMPLATE = (
    "Cliff's δ is the probability that a random track of the first macro-genre scores higher "
    "than one of the second, minus the reverse (−1 to +1); |δ| below {negligible} is negligible, "
    "below {small} small, below {medium} medium, and large above (Romano et al., 2006)."
)
#: :data:`CLIFFS_SCALE_TEMPLATE` with the bands of ``analysis.moods.CLIFF_THRESHOLDS``.
CLIFFS_SCALE = fill(CLIFFS_SCALE_TEMPLATE,
                    {label: bound for bound, label in moods.CLIFF_THRESHOLDS[:-1]})

OTHERS = (
    "Beyond mood, the features that separate macro-genres most are {first} and {second}. "
    "{Last} separates them least (ε² = {last[epsilon_squared]:.3f}). Use the menu to switch "
    "features."
)
OTHER = ("{feature} (ε² = {epsilon_squared:.2f}; median {highest_median:.2f} in {highest} vs "
         "{lowest_median:.2f} in {lowest})")

MAP = (
    "{first} and {second} sit almost on top of each other (medians {distance:.3f} apart), and "
    "{widest} spreads furthest (largest interquartile box). Among the {genres} genres (button "
    "above the map), {happiest} is the most positive (median valence {happiest_valence:.2f}) and "
    "{saddest} the least ({saddest_valence:.2f}); {loudest} is the most energetic (median energy "
    "{loudest_energy:.2f}) and {calmest} the calmest ({calmest_energy:.2f})."
)

GENRE_TABLE = (
    "Each of the {genres} genres keeps every track listed under it (from {smallest_tracks:,} for "
    "{smallest} to {most_tracks:,}); \"Primary tracks\" counts each track once, under its primary "
    "genre, from {fewest_primary:,} ({fewest}) to {most_primary:,}. {Top} has the highest median "
    "popularity ({top_median:.0f}). Search by name or macro-genre; sort by any column."
)

#: Column headers of the 114-genre table as shown on the site.
GENRE_TABLE_LABELS: dict[str, str] = {
    "genre": "Genre", "macro_genre": "Macro-genre", "tracks": "Tracks listed",
    "primary_tracks": "Primary tracks",
    "popularity_median": "Median popularity", "popularity_mean": "Mean popularity",
    "zero_popularity_pct": "% at popularity 0", "energy_median": "Median energy",
    "valence_median": "Median valence", "danceability_median": "Median danceability",
}

EFFECT_SIZES = (
    "Every feature differs across macro-genres beyond doubt ({p_text} with {tracks:,} tracks), "
    "so the effect size is what matters. {Top} separates macro-genres most (ε² = "
    "{top[epsilon_squared]:.2f}), then {second} ({second_row[epsilon_squared]:.2f}); {large} of "
    "{n_features} features reach the 'large' band (ε² ≥ {large_from}), and {last} is last "
    "({last_row[epsilon_squared]:.3f}). The dotted lines mark the bands {bands} (conventional "
    "thresholds for η²-type effects, used here for ε²)."
)
P_UNDERFLOW = "every p-value underflows to 0 in double precision"
P_LARGEST = "the largest p-value is {p_max:.1g}"

ATYPICAL = (
    "{tracks} tracks, up to {per_group} for each of {groups} macro-genres. The features named "
    "most often (times named) are {named}. {combinations_text} Re-running with another forest "
    "seed keeps {agreement:.0%} of the list, so treat it as a set of leads to listen to, not a "
    "ranking."
)
NAMED = "{feature} ({times})"
NO_COMBINATION = "None is atypical only through a combination of ordinary values."
COMBINATIONS = ("{combinations} listed track(s) are atypical only through a combination of "
                "ordinary values.")

#: How a reason for atypicality reads, e.g. "instrumentalness 0.91, high (top 0.4%)".
REASON = "{feature} {value}, {side} ({end} {share})"
REASON_SIDES = {True: ("high", "top"), False: ("low", "bottom")}
#: Below this share of the macro-genre, the share reads "<0.1%".
SHARE_FLOOR = 0.001
SHARE = "{share:.1%}"
SHARE_BELOW_FLOOR = "<{floor:.1%}"
NO_REASON = "unusual combination of typical values"
#: How a feature's value reads in a reason (plain two decimals when not listed).
VALUE_FORMATS: dict[str, str] = {"loudness": "{:.1f} dB", "tempo": "{:.0f} BPM",
                                 "duration_min": "{:.1f} min"}
VALUE_FORMAT = "{:.2f}"

#: Headers of the atypical-track table, by column of :func:`analysis.outliers.audio_atypical`.
ATYPICAL_COLUMNS: dict[str, str] = {
    "macro_genre": "Macro-genre", "rank": "#", "track_name": "Track",
    "primary_artist": "Artist", "primary_genre": "Genre", "popularity": "Popularity",
    "atypicality": "Atypicality", "reasons": "What makes it atypical", "track_id": "track_id",
}

PERFORMERS = (
    "Expectations come from the `{model}` model under the {protocol} protocol (out-of-fold RMSE "
    "{rmse:.1f} popularity points over {tracks:,} tracks), ranked by {how}. The top "
    "over-performer scores {over_actual:.0f} against an expected {over_expected:.0f}; the top "
    "hidden gem was expected at {under_expected:.0f} and scores {under_actual:.0f}. The "
    "hidden-gem list leaves out {excluded_zero:,} tracks at popularity 0 and "
    "{excluded_versions:,} whose song has another version in the data: there the low score more "
    "likely reflects a duplicate copy than an overlooked track."
)
BY_EXCEEDANCE = "how far popularity falls outside the model's {interval}prediction interval"
INTERVAL_LEVEL = "{level}% "
BY_Z = "the residual standardised within its fold"
PERFORMERS_MISSING = (
    "::: {{.callout-note}}\n## Lists not built yet\nThe over- and under-performer lists need "
    "the {protocol} out-of-fold predictions (`models/oof/cold_start__<model>.parquet`, written "
    "by `make models`). They appear here once those exist.\n:::"
)
#: The protocol the note on missing lists names (:func:`analysis.outliers.performer_lists`'s).
MISSING_PROTOCOL = "cold_start"
PERFORMERS_TABLE_MISSING = "*(not available yet)*"
INTERVAL_RANGE = "–"

SUMMARY: tuple[str, ...] = (
    "**Macro-genre sets the mood, mostly through {feature}.** ε² is {mood_effects}; "
    "{pair[group_a]} vs {pair[group_b]} differ by a {pair[magnitude]} Cliff's δ of "
    "{pair[delta]:+.2f}.",
    "**{Top} separates macro-genres more than any other feature** (ε² = "
    "{top[epsilon_squared]:.2f}, {top[magnitude]}).",
    "**Atypical tracks are leads, not verdicts.** Each macro-genre has a list; "
    "{agreement:.0%} of it survives a change of the forest's seed.",
)
MOOD_EFFECT = "{epsilon_squared:.2f} for {feature}"


# --- sentences and tables ----------------------------------------------------------------------


def answer(f: Mapping) -> str:
    """The chapter's one-sentence answer."""
    m = f["moods"]
    effects = ", ".join(fill(EFFECT, row, feature=feature_name(row["feature"]))
                        for row in m["features"])
    return fill(ANSWER, m, feature=feature_name(m["feature"]), effects=effects)


def pairs_table(f: Mapping) -> str:
    """The Cliff's-delta pairs as a Markdown table (rendered by Quarto and Jupyter alike)."""
    rows = [fill(PAIRS_ROW, p, feature=feature_name(p["feature"])) for p in f["pairs"]]
    return "\n".join([PAIRS_HEADER, *rows])


def mood_boxes(f: Mapping) -> str:
    """Takeaway for the three mood panels: the pairs table, the extremes, Cliff's δ."""
    sentences = [fill(PAIR, p, Feature=feature_name(p["feature"]).capitalize())
                 for p in f["pairs"]]
    return pairs_table(f) + "\n\n" + " ".join(sentences) + BOXES + CLIFFS_SCALE


def other_features(f: Mapping) -> str:
    """Takeaway for the menu of the other audio features."""
    o = f["others"]
    first, second = (fill(OTHER, row, feature=feature_name(row["feature"])) for row in o["top"])
    return fill(OTHERS, o, first=first, second=second,
                Last=feature_name(o["last"]["feature"]).capitalize())


def mood_map(f: Mapping) -> str:
    """Takeaway for the mood map: the closest pair, the widest spread, the genre extremes."""
    m = f["map"]
    first, second = m["closest"]
    return fill(MAP, m, first=first, second=second)


def genre_table(f: Mapping) -> str:
    """One sentence introducing the 114-genre table."""
    g = f["genres"]
    return fill(GENRE_TABLE, g, Top=g["top"].capitalize())


def effect_sizes(f: Mapping) -> str:
    """Takeaway for the epsilon-squared chart."""
    e = f["effects"]
    top, second, last = e["features"][0], e["features"][1], e["features"][-1]
    p_text = P_UNDERFLOW if e["p_max"] == 0 else fill(P_LARGEST, e)
    return fill(EFFECT_SIZES, e, p_text=p_text, top=top, second_row=second, last_row=last,
                Top=feature_name(top["feature"]).capitalize(),
                second=feature_name(second["feature"]), last=feature_name(last["feature"]),
                n_features=len(e["features"]), bands=" / ".join(str(b) for b in e["bands"]))


def why_atypical(reasons) -> str:
    """A track's reasons for atypicality (:func:`analysis.outliers.atypical_reasons`) in words.

    Examples
    --------
    >>> why_atypical([("loudness", -40.0, 0.0004, False), ("energy", 0.91, 0.02, True)])
    'loudness −40.0 dB, low (bottom <0.1%); energy 0.91, high (top 2.0%)'
    >>> why_atypical(())
    'unusual combination of typical values'
    """
    parts = []
    for feature, value, share, high in reasons:
        side, end = REASON_SIDES[high]
        where = (fill(SHARE, {"share": share}) if share >= SHARE_FLOOR
                 else fill(SHARE_BELOW_FLOOR, {"floor": SHARE_FLOOR}))
        value_text = VALUE_FORMATS.get(feature, VALUE_FORMAT).format(value)
        parts.append(fill(REASON, {}, feature=feature_name(feature), value=value_text, side=side,
                          end=end, share=where))
    return "; ".join(parts) if parts else NO_REASON


def atypical_table(listed: pd.DataFrame) -> pd.DataFrame:
    """The atypical-track list with readable headers, ready for ``show_table(links=...)``."""
    shown = listed.assign(
        atypicality=listed["atypicality"].round(3),
        reasons=pd.array(listed["reasons"].map(why_atypical), dtype="string"),
    )
    return shown[list(ATYPICAL_COLUMNS)].rename(columns=ATYPICAL_COLUMNS)


def atypical(a: Mapping) -> str:
    """Takeaway for the atypical-track lists: what makes tracks atypical, and how stable."""
    named = ", ".join(fill(NAMED, {"feature": feature_name(name), "times": times})
                      for name, times in a["named"])
    text = NO_COMBINATION if a["combinations"] == 0 else fill(COMBINATIONS, a)
    return fill(ATYPICAL, a, named=named, combinations_text=text)


def performers(p: Mapping | None) -> str:
    """Takeaway for the over-/under-performer lists, or a note that they are not built yet."""
    if p is None:
        return fill(PERFORMERS_MISSING, {}, protocol=PROTOCOL_MODEL_NAMES[MISSING_PROTOCOL])
    interval = fill(INTERVAL_LEVEL, p) if p.get("level") else ""
    how = fill(BY_EXCEEDANCE, p, interval=interval) if p["by"] == "exceedance" else BY_Z
    return fill(PERFORMERS, p, how=how, protocol=PROTOCOL_MODEL_NAMES[p["protocol"]])


def performers_table(table: pd.DataFrame) -> pd.DataFrame:
    """An over-/under-performer list with readable headers, for ``show_table(links=...)``."""
    out = pd.DataFrame({
        "#": table["rank"], "Track": table["track_name"], "Artist": table["primary_artist"],
        "Genre": table["primary_genre"], "Macro-genre": table["macro_genre"],
        "Expected": table["expected"].astype("float64").round(1),
        "Actual": table["actual"].astype("float64").round(0),
        "Std. residual": table["z"].astype("float64").round(2),
    })
    if "exceedance" in table:
        out["Interval"] = (table["y_lower"].round(0).astype("int64").astype("string")
                           + INTERVAL_RANGE
                           + table["y_upper"].round(0).astype("int64").astype("string"))
        out["Outside by"] = table["exceedance"].astype("float64").abs().round(1)
    out["track_id"] = table["track_id"]
    return out


def show_performers(lists: dict | None, direction: str, *, name: str) -> Markdown:
    """The ``direction`` list as an interactive table with Spotify links (a note if not built)."""
    from analysis.tables import show_table

    if lists is None:
        return Markdown(PERFORMERS_TABLE_MISSING)
    return show_table(performers_table(lists[direction]), name=name, links={"Track": "track_id"})


def summary(f: Mapping, a: Mapping) -> str:
    """Three findings with numbers for the chapter's Summary (``a``: :func:`atypical_facts`)."""
    m = f["moods"]
    by_feature = {row["feature"]: row for row in m["features"]}
    mood_effects = ", ".join(fill(MOOD_EFFECT, by_feature[x], feature=feature_name(x))
                             for x in moods.MOOD_FEATURES[:-1])
    last = moods.MOOD_FEATURES[-1]
    mood_effects += " and " + fill(MOOD_EFFECT, by_feature[last], feature=feature_name(last))
    pair = next(p for p in f["pairs"] if p["feature"] == m["feature"])
    top = f["effects"]["features"][0]
    return bullets(fill(item, a, feature=feature_name(m["feature"]), mood_effects=mood_effects,
                        pair=pair, top=top, Top=feature_name(top["feature"]).capitalize())
                   for item in SUMMARY)
