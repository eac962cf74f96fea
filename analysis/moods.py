"""Descriptive statistics for the Explore part: the whole catalogue and its genres' moods.

Everything the EDA and Genre-moods chapters plot or quote is computed here, as small aggregated
frames, so that (a) each number in the prose comes from a tested function and (b) the charts
carry a few hundred aggregated values instead of 90,000 points.

Two kinds of statistics live here:

* **Aggregates for charts**: counts per popularity value, per-feature histograms, binned means
  with t confidence bands (:func:`binned_means`), 2-D binned means (:func:`binned_grid`),
  per-group quantiles (:func:`group_quantiles`) and medians (:func:`genre_table`).
* **Tests of genre differences**: Kruskal–Wallis across macro-genres with an epsilon-squared
  effect size (:func:`kruskal_by_feature`), and Cliff's delta for named pairs
  (:func:`cliffs_delta`, :func:`cliffs_delta_pairs`). With ~90,000 tracks every p-value is
  essentially zero, so the chapters argue from the effect sizes.

Notes
-----
Statistics come from SciPy (``kruskal``, ``mannwhitneyu``, ``binned_statistic``,
``binned_statistic_2d``, ``t.interval``, ``spearmanr`` via pandas); nothing is re-derived by hand
beyond the two textbook conversions documented in :func:`epsilon_squared` and
:func:`cliffs_delta`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.genres import MACRO_GENRES, macro_genre_of

#: Audio features bounded in [0, 1] (Spotify's descriptors).
UNIT_FEATURES: tuple[str, ...] = (
    "danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness",
    "valence",
)

#: Continuous audio features the chapters describe; duration is shown in minutes.
AUDIO_FEATURES: tuple[str, ...] = (*UNIT_FEATURES, "loudness", "tempo", "duration_min")

#: Discrete audio descriptors (shown as bars, never averaged).
DISCRETE_FEATURES: tuple[str, ...] = ("key", "mode", "time_signature")

#: The three "mood" features the Genre-moods chapter leads with.
MOOD_FEATURES: tuple[str, ...] = ("energy", "valence", "danceability")

#: The audio features the Genre-moods chapter shows after the mood features.
OTHER_FEATURES: tuple[str, ...] = tuple(f for f in AUDIO_FEATURES if f not in MOOD_FEATURES)

#: Romano et al. (2006) thresholds for |Cliff's delta|.
CLIFF_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (0.147, "negligible"), (0.33, "small"), (0.474, "medium"), (np.inf, "large"),
)

#: Confidence level of every interval of a mean (binned means, the explicit comparison).
CI_LEVEL = 0.95

#: Popularity marks whose share of tracks the EDA chapter quotes ("50 or more").
POPULARITY_MARKS: tuple[int, ...] = (50, 70)

#: Cohen's rule-of-thumb thresholds for eta-squared-like effects, used for epsilon-squared.
EPSILON_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (0.01, "negligible"), (0.06, "small"), (0.14, "medium"), (np.inf, "large"),
)


def _magnitude(value: float, thresholds: Sequence[tuple[float, str]]) -> str:
    for bound, label in thresholds:
        if abs(value) < bound:
            return label
    return thresholds[-1][1]


def add_duration_minutes(tracks: pd.DataFrame) -> pd.DataFrame:
    """``tracks`` with ``duration_min`` (minutes) added, the unit every chart uses.

    Examples
    --------
    >>> add_duration_minutes(pd.DataFrame({"duration_ms": [90_000]}))["duration_min"].tolist()
    [1.5]
    """
    return tracks.assign(duration_min=tracks["duration_ms"] / 60_000)


def group_order(values: pd.Series) -> list[str]:
    """The groups present in ``values``, in display order.

    Categorical order if ``values`` is categorical; :data:`analysis.genres.MACRO_GENRES` order if
    every value is a macro-genre (so legends and colours line up on every page); else alphabetical.

    Examples
    --------
    >>> group_order(pd.Series(["Rock", "Pop", "Rock"]))
    ['Pop', 'Rock']
    >>> group_order(pd.Series(["b", "a"]))
    ['a', 'b']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [str(c) for c in values.cat.categories if c in present]
    present = {str(v) for v in values.dropna().unique()}
    if present <= set(MACRO_GENRES):
        return [g for g in MACRO_GENRES if g in present]
    return sorted(present)


# --- whole-catalogue aggregates (EDA chapter) ---------------------------------------------------


def popularity_counts(tracks: pd.DataFrame) -> pd.DataFrame:
    """Tracks per popularity value 0–100 (every value present, zero-filled), with shares.

    Examples
    --------
    >>> counts = popularity_counts(pd.DataFrame({"popularity": [0, 0, 50, 100]}))
    >>> counts.loc[[0, 1, 50], ["popularity", "n", "share"]].values.tolist()
    [[0.0, 2.0, 0.5], [1.0, 0.0, 0.0], [50.0, 1.0, 0.25]]
    """
    counts = (
        tracks["popularity"].astype("int64").value_counts()
        .reindex(range(101), fill_value=0).rename_axis("popularity").rename("n").reset_index()
    )
    counts["share"] = counts["n"] / counts["n"].sum()
    return counts


def popularity_summary(tracks: pd.DataFrame) -> dict:
    """Headline numbers on popularity quoted by the EDA chapter.

    ``share_ge_<mark>`` is the share of tracks at or above each of :data:`POPULARITY_MARKS`.
    """
    pop = tracks["popularity"]
    nonzero = pop[pop.gt(0)]
    return {
        "tracks": int(len(pop)),
        "mean": float(pop.mean()),
        "median": float(pop.median()),
        "zero_n": int(pop.eq(0).sum()),
        "zero_share": float(pop.eq(0).mean()),
        "nonzero_median": float(nonzero.median()),
        **{f"share_ge_{mark}": float(pop.ge(mark).mean()) for mark in POPULARITY_MARKS},
        "p90": float(pop.quantile(0.9)),
    }


def feature_histograms(
    tracks: pd.DataFrame,
    features: Iterable[str] = (*AUDIO_FEATURES, *DISCRETE_FEATURES),
    *,
    bins: int = 40,
    clip_quantile: float = 0.995,
) -> pd.DataFrame:
    """Long table of per-feature histograms: ``feature, left, right, n, share``.

    Unit-interval features use ``bins`` equal bins on [0, 1]; unbounded ones (loudness, tempo,
    duration) span their 0.5th–99.5th percentiles, with the tails counted in the end bins, so a
    ten-hour ambient track does not squash the chart. Discrete features get one bar per value.
    """
    parts = []
    for feature in features:
        values = tracks[feature].dropna().astype("float64").to_numpy()
        if feature in DISCRETE_FEATURES:
            levels, n = np.unique(values, return_counts=True)
            left, right = levels - 0.5, levels + 0.5
        else:
            if feature in UNIT_FEATURES:
                lo, hi = 0.0, 1.0
            else:
                lo, hi = np.quantile(values, [1 - clip_quantile, clip_quantile])
            n, edges = np.histogram(np.clip(values, lo, hi), bins=bins, range=(lo, hi))
            left, right = edges[:-1], edges[1:]
        parts.append(pd.DataFrame({
            "feature": feature, "left": left, "right": right, "n": n.astype("int64"),
            "share": n / max(len(values), 1),
        }))
    return pd.concat(parts, ignore_index=True)


def correlation_matrix(
    tracks: pd.DataFrame,
    *,
    columns: Sequence[str] = ("popularity", *AUDIO_FEATURES),
    method: str = "spearman",
) -> pd.DataFrame:
    """Pairwise correlations (``spearman`` default: robust to the skewed features)."""
    return tracks[list(columns)].astype("float64").corr(method=method)


def correlation_matrices(tracks: pd.DataFrame, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spearman and Pearson :func:`correlation_matrix` of the same columns, in that order."""
    return (correlation_matrix(tracks, method="spearman", **kwargs),
            correlation_matrix(tracks, method="pearson", **kwargs))


def binned_means(
    tracks: pd.DataFrame,
    x: str,
    y: str = "popularity",
    *,
    bins: int = 20,
    clip_quantile: float = 0.995,
    min_count: int = 30,
    level: float = CI_LEVEL,
) -> pd.DataFrame:
    """Mean of ``y`` in equal-width bins of ``x``, with a t confidence band.

    Returns one row per bin holding at least ``min_count`` tracks: ``x`` (the mean ``x`` inside
    the bin, so points sit where the data are), ``left``/``right`` edges, ``n``, ``mean``,
    ``lower``/``upper`` (the ``level`` t interval of the mean). Unbounded features are binned
    between their 0.5th and 99.5th percentiles; unit-interval features on [0, 1].

    Examples
    --------
    >>> frame = pd.DataFrame({"energy": [0.1] * 40 + [0.9] * 40,
    ...                       "popularity": [10, 20] * 20 + [60, 80] * 20})
    >>> out = binned_means(frame, "energy", bins=2)
    >>> out[["n", "mean"]].values.tolist()
    [[40.0, 15.0], [40.0, 70.0]]
    >>> bool((out["lower"] < out["mean"]).all() and (out["mean"] < out["upper"]).all())
    True
    """
    frame = tracks[[x, y]].dropna().astype("float64")
    if x in UNIT_FEATURES:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = np.quantile(frame[x], [1 - clip_quantile, clip_quantile])
    frame = frame[frame[x].between(lo, hi)]
    xs, ys = frame[x].to_numpy(), frame[y].to_numpy()
    mean, edges, _ = stats.binned_statistic(xs, ys, "mean", bins=bins, range=(lo, hi))
    std, _, _ = stats.binned_statistic(xs, ys, "std", bins=bins, range=(lo, hi))
    n, _, _ = stats.binned_statistic(xs, ys, "count", bins=bins, range=(lo, hi))
    x_mean, _, _ = stats.binned_statistic(xs, xs, "mean", bins=bins, range=(lo, hi))
    out = pd.DataFrame({
        "x": x_mean, "left": edges[:-1], "right": edges[1:], "n": n, "mean": mean, "std": std,
    })
    out = out[out["n"].ge(max(min_count, 2))].reset_index(drop=True)
    sem = out["std"] * np.sqrt(out["n"] / (out["n"] - 1)) / np.sqrt(out["n"])  # ddof=1
    lower, upper = stats.t.interval(level, out["n"] - 1, loc=out["mean"], scale=sem)
    out["lower"], out["upper"] = lower, upper
    out["n"] = out["n"].astype("int64")
    return out.drop(columns="std")


def binned_means_long(
    tracks: pd.DataFrame, features: Iterable[str] = AUDIO_FEATURES, **kwargs
) -> pd.DataFrame:
    """:func:`binned_means` of popularity for several features, stacked with a ``feature``."""
    return pd.concat(
        [binned_means(tracks, f, **kwargs).assign(feature=f) for f in features], ignore_index=True
    )


def binned_grid(
    tracks: pd.DataFrame,
    x: str = "valence",
    y: str = "energy",
    z: str = "popularity",
    *,
    bins: int = 25,
    min_count: int = 20,
) -> pd.DataFrame:
    """Mean of ``z`` over a ``bins`` × ``bins`` grid of two unit-interval features.

    Returns a long frame ``x, y`` (cell centres), ``n``, ``mean``; cells with fewer than
    ``min_count`` tracks get ``mean`` NaN so that noisy corners are left blank.
    """
    frame = tracks[[x, y, z]].dropna().astype("float64")
    args = (frame[x].to_numpy(), frame[y].to_numpy(), frame[z].to_numpy())
    mean, xe, ye, _ = stats.binned_statistic_2d(*args, "mean", bins=bins, range=[[0, 1], [0, 1]])
    n, _, _, _ = stats.binned_statistic_2d(*args, "count", bins=bins, range=[[0, 1], [0, 1]])
    xc, yc = (xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2
    gx, gy = np.meshgrid(xc, yc, indexing="ij")
    out = pd.DataFrame({
        "x": gx.ravel(), "y": gy.ravel(), "n": n.ravel().astype("int64"), "mean": mean.ravel(),
    })
    out.loc[out["n"].lt(min_count), "mean"] = np.nan
    return out


def compare_binary(tracks: pd.DataFrame, by: str = "explicit", y: str = "popularity") -> dict:
    """Summary of ``y`` for the two levels of a binary column, with Cliff's delta (True vs False).

    Returns a dict with a per-level frame (``n``, ``share``, ``mean``, ``median``, the mean's 95 %
    t interval, ``zero_share``) and the effect size of level True over level False.
    """
    rows = []
    for level, values in tracks.groupby(by, sort=True)[y]:
        values = values.astype("float64")
        low, high = stats.t.interval(CI_LEVEL, len(values) - 1, loc=values.mean(),
                                     scale=stats.sem(values))
        rows.append({
            by: level, "n": len(values), "mean": values.mean(), "lower": low, "upper": high,
            "median": values.median(), "zero_share": values.eq(0).mean(),
        })
    table = pd.DataFrame(rows)
    table["share"] = table["n"] / table["n"].sum()
    mask = tracks[by].astype(bool)
    effect = cliffs_delta(tracks.loc[mask, y], tracks.loc[~mask, y])
    return {"table": table, **effect}


def popularity_hist_by(
    tracks: pd.DataFrame, by: str = "explicit", *, width: int = 5
) -> pd.DataFrame:
    """Share of each level's tracks per popularity bin of ``width`` points (0 on its own)."""
    edges = [-0.5, 0.5, *np.arange(width, 100, width) + 0.5, 100.5]
    pairs = zip(edges[1:-1], edges[2:], strict=True)
    labels = ["0", *(f"{int(a + 0.5)}–{int(b - 0.5)}" for a, b in pairs)]
    binned = pd.cut(tracks["popularity"], edges, labels=labels)
    counts = pd.crosstab(binned, tracks[by]).reindex(labels, fill_value=0)
    shares = counts / counts.sum()
    out = shares.rename_axis(index="bin", columns=None).reset_index().melt(
        id_vars="bin", var_name=by, value_name="share"
    )
    out["bin"] = out["bin"].astype("string")
    return out


# --- per-genre aggregates (Genre-moods chapter) -------------------------------------------------


def group_quantiles(
    tracks: pd.DataFrame,
    features: Iterable[str] = AUDIO_FEATURES,
    *,
    by: str = "macro_genre",
) -> pd.DataFrame:
    """Box-plot statistics per group and feature, so boxes can be drawn without raw points.

    Columns: ``by, feature, n, q1, median, q3, lowerfence, upperfence, mean`` where the fences are
    the most extreme values within 1.5 IQR of the quartiles (Tukey), as a box plot would draw.
    """
    rows = []
    order = group_order(tracks[by])
    for feature in features:
        for group, values in tracks.groupby(by, sort=False, observed=True)[feature]:
            v = values.dropna().astype("float64")
            q1, med, q3 = v.quantile([0.25, 0.5, 0.75])
            iqr = q3 - q1
            inside = v[v.between(q1 - 1.5 * iqr, q3 + 1.5 * iqr)]
            rows.append({
                by: str(group), "feature": feature, "n": len(v), "q1": q1, "median": med,
                "q3": q3, "lowerfence": inside.min(), "upperfence": inside.max(),
                "mean": v.mean(),
            })
    out = pd.DataFrame(rows)
    out[by] = pd.Categorical(out[by], categories=order, ordered=True)
    return out.sort_values(["feature", by], kind="stable").reset_index(drop=True)


def mood_positions(
    tracks: pd.DataFrame,
    *,
    by: str = "macro_genre",
    x: str = "valence",
    y: str = "energy",
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Each group's median ``x``/``y`` with quartiles (its spread) and track count.

    Columns: ``by`` (and ``extra`` columns, taken as each group's first value, e.g. the macro-genre
    of a genre), ``n``, ``x_q1, x_median, x_q3, y_q1, y_median, y_q3``, ``popularity_median``;
    rows in display order (:func:`group_order`).
    """
    grouped = tracks.groupby(by, sort=True, observed=True)
    parts = {"n": grouped.size()}
    for axis, column in (("x", x), ("y", y)):
        q = grouped[column].quantile([0.25, 0.5, 0.75]).unstack()
        parts[f"{axis}_q1"], parts[f"{axis}_median"], parts[f"{axis}_q3"] = q[0.25], q[0.5], q[0.75]
    parts["popularity_median"] = grouped["popularity"].median()
    for column in extra:
        parts[column] = grouped[column].first().astype("string")
    out = pd.DataFrame(parts)
    out.index = out.index.astype("string")
    out = out.reindex(group_order(tracks[by])).rename_axis(by).reset_index()
    out[by] = out[by].astype("string")
    return out


def genre_listings(tracks: pd.DataFrame) -> pd.DataFrame:
    """One row per (track, genre it is listed under): all 114 genres, each with its own tracks.

    A track listed under three genres appears three times, once under each ``genre``, and
    ``macro_genre`` becomes that genre's macro-genre. Use it to describe *genres* (every label
    keeps all of its tracks, "songwriter" included); use the one-row-per-track table to describe
    *tracks*.

    Examples
    --------
    >>> t = pd.DataFrame({"track_id": ["a"], "genres": [["k-pop", "pop"]], "energy": [0.5]})
    >>> genre_listings(t)[["track_id", "genre", "macro_genre"]].values.tolist()
    [['a', 'k-pop', 'East Asian'], ['a', 'pop', 'Pop']]
    """
    out = tracks.drop(columns=["macro_genre"], errors="ignore").explode("genres")
    out = out.rename(columns={"genres": "genre"}).reset_index(drop=True)
    out["genre"] = out["genre"].astype("string")
    out["macro_genre"] = macro_genre_of(out["genre"]).astype("string")
    return out


def mood_map_positions(tracks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mood-map inputs: :func:`mood_positions` per macro-genre (tracks) and per genre (listings)."""
    genres = mood_positions(genre_listings(tracks), by="genre", extra=["macro_genre"])
    return mood_positions(tracks), genres


def genre_table(tracks: pd.DataFrame, *, features: Sequence[str] = MOOD_FEATURES) -> pd.DataFrame:
    """One row per genre label (all 114): tracks listed, tracks it is primary for, medians.

    Popularity and moods are over every track listed under the genre (:func:`genre_listings`);
    ``primary_tracks`` counts the tracks whose primary genre it is (each track counted once
    across the table). Sorted by macro-genre order, then genre name, so the stored table is
    stable.
    """
    listings = genre_listings(tracks)
    grouped = listings.groupby("genre", sort=True, observed=True)
    primary = tracks["primary_genre"].astype("string").value_counts()
    out = pd.DataFrame({
        "macro_genre": grouped["macro_genre"].first().astype("string"),
        "tracks": grouped.size(),
        "primary_tracks": primary.reindex(grouped.size().index, fill_value=0).astype("int64"),
        "popularity_median": grouped["popularity"].median(),
        "popularity_mean": grouped["popularity"].mean().round(1),
        "zero_popularity_pct": (grouped["popularity"].agg(lambda s: s.eq(0).mean()) * 100).round(1),
        **{f"{f}_median": grouped[f].median().round(3) for f in features},
    }).rename_axis("genre").reset_index()
    out["genre"] = out["genre"].astype("string")
    order = {g: i for i, g in enumerate(group_order(tracks["macro_genre"]))}
    out = out.assign(_o=out["macro_genre"].map(order)).sort_values(["_o", "genre"], kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)


# --- tests of genre differences ----------------------------------------------------------------


def epsilon_squared(h: float, n: int) -> float:
    """Epsilon-squared effect size of a Kruskal–Wallis H over ``n`` observations.

    ``E²_R = H / ((n² − 1) / (n + 1)) = H / (n − 1)`` (Tomczak & Tomczak, 2014): the share of
    rank variance explained by the groups, from 0 (no difference) to 1 (complete separation).

    Examples
    --------
    >>> round(epsilon_squared(99.0, 100), 3)
    1.0
    """
    return float(h) / (n - 1)


def kruskal_by_feature(
    tracks: pd.DataFrame,
    features: Iterable[str] = AUDIO_FEATURES,
    *,
    by: str = "macro_genre",
) -> pd.DataFrame:
    """Kruskal–Wallis H test across the groups of ``by`` for each feature, with epsilon².

    Returns one row per feature, sorted by effect size (largest first): ``feature, groups, n, H,
    df, p_value, epsilon_squared, magnitude``.

    Notes
    -----
    With ~90,000 tracks any difference is "significant" (p underflows to 0), so the chapters rank
    features by epsilon² instead. Magnitude words use Cohen's rule-of-thumb bands for eta²-like
    effects (0.01 / 0.06 / 0.14).
    """
    rows = []
    for feature in features:
        frame = tracks[[by, feature]].dropna()
        samples = [g.to_numpy(dtype="float64") for _, g in
                   frame.groupby(by, sort=True, observed=True)[feature]]
        result = stats.kruskal(*samples)
        n = int(sum(len(s) for s in samples))
        eps = epsilon_squared(result.statistic, n)
        rows.append({
            "feature": feature, "groups": len(samples), "n": n, "H": float(result.statistic),
            "df": len(samples) - 1, "p_value": float(result.pvalue), "epsilon_squared": eps,
            "magnitude": _magnitude(eps, EPSILON_THRESHOLDS),
        })
    out = pd.DataFrame(rows)
    return out.sort_values(["epsilon_squared", "feature"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


def features_by_separation(kruskal: pd.DataFrame, features: Iterable[str]) -> list[str]:
    """``features`` ordered by how sharply macro-genres differ on them (epsilon², largest first).

    Why: a chart that shows one feature at a time (the Genre-moods menu of "other" features)
    opens on its first one, and its caption speaks of the sharpest separation; ordering by
    the data keeps the two in agreement whatever the data says.

    Parameters
    ----------
    kruskal : pandas.DataFrame
        :func:`kruskal_by_feature` (already sorted by effect size).
    features : iterable of str
        The features to order; each must be in ``kruskal``.

    Examples
    --------
    >>> table = pd.DataFrame({"feature": ["acousticness", "energy", "tempo"],
    ...                       "epsilon_squared": [0.4, 0.3, 0.01]})
    >>> features_by_separation(table, ["tempo", "acousticness"])
    ['acousticness', 'tempo']
    """
    wanted = list(features)
    missing = sorted(set(wanted) - set(kruskal["feature"]))
    if missing:
        raise KeyError(f"no Kruskal–Wallis result for {missing}")
    ranked = kruskal.sort_values("epsilon_squared", ascending=False, kind="stable")
    return [f for f in ranked["feature"] if f in set(wanted)]


def cliffs_delta(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> dict:
    """Cliff's delta of ``x`` over ``y``: P(X > Y) − P(X < Y), from SciPy's Mann–Whitney U.

    ``delta = 2U / (n_x n_y) − 1`` where U is the statistic of ``x`` (ties count one half).
    Ranges from −1 (every ``x`` below every ``y``) to +1; the magnitude word follows Romano et
    al. (2006): |δ| < 0.147 negligible, < 0.33 small, < 0.474 medium, else large.

    Examples
    --------
    >>> cliffs_delta([3, 4, 5], [1, 2])["delta"]
    1.0
    >>> cliffs_delta([1, 2], [1, 2])["delta"]
    0.0
    """
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) == 0 or len(y) == 0:
        raise ValueError("cliffs_delta needs at least one value in each sample.")
    result = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    delta = float(2 * result.statistic / (len(x) * len(y)) - 1)
    return {
        "delta": delta, "magnitude": _magnitude(delta, CLIFF_THRESHOLDS),
        "U": float(result.statistic), "p_value": float(result.pvalue),
        "n_x": int(len(x)), "n_y": int(len(y)),
    }


def cliffs_delta_pairs(
    tracks: pd.DataFrame,
    pairs: Iterable[tuple[str, str, str]],
    *,
    by: str = "macro_genre",
) -> pd.DataFrame:
    """Cliff's delta for named ``(feature, group_a, group_b)`` triples (a over b).

    Raises
    ------
    KeyError
        If a group has no tracks (a typo in a name should not yield a silent NaN).
    """
    rows = []
    labels = tracks[by].astype("string")
    for feature, a, b in pairs:
        xa, xb = tracks.loc[labels.eq(a), feature], tracks.loc[labels.eq(b), feature]
        for name, values in ((a, xa), (b, xb)):
            if values.empty:
                raise KeyError(f"{by} {name!r} has no tracks.")
        effect = cliffs_delta(xa, xb)
        rows.append({
            "feature": feature, "group_a": a, "group_b": b,
            "median_a": float(xa.median()), "median_b": float(xb.median()), **effect,
        })
    return pd.DataFrame(rows)


def extreme_pairs(
    tracks: pd.DataFrame,
    features: Iterable[str] = MOOD_FEATURES,
    *,
    by: str = "macro_genre",
) -> list[tuple[str, str, str]]:
    """For each feature, the groups with the highest and the lowest median: ``(feature, hi, lo)``.

    These are the contrasts the Genre-moods chapter names, chosen by the data, not by hand.
    """
    out = []
    for feature in features:
        medians = tracks.groupby(by, observed=True)[feature].median()
        medians.index = medians.index.astype("string")
        medians = medians.sort_index()  # ties resolved alphabetically
        out.append((feature, str(medians.idxmax()), str(medians.idxmin())))
    return out


def closest_pair(positions: pd.DataFrame, *, by: str = "macro_genre") -> tuple[str, str, float]:
    """The two groups whose median mood (``x_median``, ``y_median``) are closest on the map."""
    coords = positions[["x_median", "y_median"]].to_numpy()
    names = positions[by].astype("string").to_numpy()
    dist = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))
    dist[np.tril_indices(len(coords))] = np.inf
    i, j = np.unravel_index(np.argmin(dist), dist.shape)
    first, second = sorted([str(names[i]), str(names[j])])
    return first, second, float(dist[i, j])


# --- strongest correlations (what the EDA chapter's prose quotes) ------------------------------


def strongest_correlation(matrix: pd.DataFrame, target: str = "popularity") -> tuple[str, float]:
    """The feature most correlated (in absolute value) with ``target``, and its coefficient.

    Examples
    --------
    >>> m = pd.DataFrame([[1, .2, -.5], [.2, 1, 0], [-.5, 0, 1]], index=list("pab"),
    ...                  columns=list("pab"))
    >>> strongest_correlation(m, "p")
    ('b', -0.5)
    """
    others = matrix[target].drop(target)
    feature = str(others.abs().sort_values(ascending=False, kind="stable").index[0])
    return feature, float(others[feature])


def strongest_pairs(matrix: pd.DataFrame, *, exclude: str = "popularity",
                    k: int = 2) -> list[tuple[str, str, float]]:
    """The ``k`` most correlated pairs of features (``exclude`` left out), strongest first.

    Ties are broken by the features' names, so the pairs are stable run to run.
    """
    inner = matrix.drop(index=exclude, columns=exclude, errors="ignore")
    cols = list(inner.columns)
    pairs = [(cols[i], cols[j], float(inner.iloc[i, j]))
             for i in range(len(cols)) for j in range(i + 1, len(cols))]
    return sorted(pairs, key=lambda p: (-abs(p[2]), p[0], p[1]))[:k]
