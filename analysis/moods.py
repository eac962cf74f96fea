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
from analysis.labels import feature_name, feature_unit

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
    """Headline numbers on popularity quoted by the EDA chapter."""
    pop = tracks["popularity"]
    nonzero = pop[pop.gt(0)]
    return {
        "tracks": int(len(pop)),
        "mean": float(pop.mean()),
        "median": float(pop.median()),
        "zero_n": int(pop.eq(0).sum()),
        "zero_share": float(pop.eq(0).mean()),
        "nonzero_median": float(nonzero.median()),
        "share_ge_50": float(pop.ge(50).mean()),
        "share_ge_70": float(pop.ge(70).mean()),
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
    level: float = 0.95,
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
        low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
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


# --- sentences the chapters print (every number computed here, never typed) ---------------------


def _short(feature: str) -> str:
    """``"Loudness (dB)"`` → ``"loudness"``: the label without its unit, for prose."""
    return feature_name(feature)


def _strength(r: float) -> str:
    """Words for a correlation's size (|r| < 0.1 negligible, < 0.3 weak, < 0.5 moderate)."""
    r = abs(r)
    return "negligible" if r < 0.1 else "weak" if r < 0.3 else "moderate" if r < 0.5 else "strong"


def _strongest_with(matrix: pd.DataFrame, target: str = "popularity") -> tuple[str, float]:
    others = matrix[target].drop(target)
    feature = str(others.abs().sort_values(ascending=False, kind="stable").index[0])
    return feature, float(others[feature])


def _strongest_pairs(matrix: pd.DataFrame, *, exclude: str = "popularity", k: int = 2):
    inner = matrix.drop(index=exclude, columns=exclude, errors="ignore")
    cols = list(inner.columns)
    pairs = [(cols[i], cols[j], float(inner.iloc[i, j]))
             for i in range(len(cols)) for j in range(i + 1, len(cols))]
    return sorted(pairs, key=lambda p: (-abs(p[2]), p[0], p[1]))[:k]


def describe_eda_answer(tracks: pd.DataFrame) -> str:
    """The EDA chapter's one-sentence answer, from the data."""
    s = popularity_summary(tracks)
    feature, rho = _strongest_with(correlation_matrix(tracks))
    return (
        f"**Answer.** Half of all tracks score {s['median']:.0f} or less on the 0–100 scale and "
        f"{s['zero_share']:.1%} sit at exactly 0; the audio features' links to popularity are at "
        f"most {_strength(rho)}: the strongest rank correlation is with {_short(feature)} "
        f"(Spearman ρ = {rho:+.2f})."
    )


def describe_popularity(tracks: pd.DataFrame) -> str:
    """Takeaway for the popularity distribution."""
    s = popularity_summary(tracks)
    counts = popularity_counts(tracks).set_index("popularity")["n"]
    ratio = counts[0] / max(counts[1], 1)
    return (
        f"{s['zero_n']:,} tracks ({s['zero_share']:.1%}) have a popularity of exactly 0, "
        f"{ratio:.0f} times as many as at popularity 1: a separate spike, not the tail of the "
        f"main hump. Without them the median is {s['nonzero_median']:.0f}; "
        f"{s['share_ge_50']:.0%} of all tracks score 50 or more, {s['share_ge_70']:.1%} score "
        f"70 or more, and the top tenth starts at {s['p90']:.0f}. Whatever predicts popularity "
        f"has to deal with the zeros as a group of their own."
    )


def describe_feature_distributions(tracks: pd.DataFrame) -> str:
    """Takeaway for the audio-feature histograms."""
    duration = tracks["duration_min"].quantile([0.25, 0.5, 0.75])
    return (
        f"Most features are far from bell-shaped. {tracks['instrumentalness'].lt(0.01).mean():.0%}"
        f" of tracks have essentially no instrumental content (instrumentalness below 0.01), "
        f"and speechiness has a median of {tracks['speechiness'].median():.2f}, with only "
        f"{tracks['speechiness'].gt(0.33).mean():.1%} above 0.33, from where Spotify describes a "
        f"track as mixing speech and music. Energy has a median of "
        f"{tracks['energy'].median():.2f}, loudness clusters "
        f"near {tracks['loudness'].median():.1f} dB, tempo centres on "
        f"{tracks['tempo'].median():.0f} BPM and half the tracks last "
        f"{duration[0.25]:.1f}–{duration[0.75]:.1f} minutes. "
        f"{tracks['time_signature'].eq(4).mean():.0%} are in 4/4 and "
        f"{tracks['mode'].eq(1).mean():.0%} in a major key. Skew like this is why the chapters "
        f"compare medians and ranks rather than means."
    )


def describe_correlations(spearman: pd.DataFrame, pearson: pd.DataFrame) -> str:
    """Takeaway for the correlation heatmap."""
    feature, rho = _strongest_with(spearman)
    (a1, b1, r1), (a2, b2, r2) = _strongest_pairs(spearman)
    diff = (spearman - pearson).abs()
    diff = diff.where(~np.eye(len(diff), dtype=bool), 0.0)
    stacked = diff.stack()
    (da, db), dmax = stacked.idxmax(), float(stacked.max())
    return (
        f"Popularity's correlations with the audio features are at most {_strength(rho)}: the "
        f"largest Spearman ρ in its row is {rho:+.2f} ({_short(feature)}). The features are "
        f"tied more to one another: "
        f"{_short(a1)} and {_short(b1)} (ρ = {r1:+.2f}), {_short(a2)} and {_short(b2)} "
        f"(ρ = {r2:+.2f}). Pearson tells a similar story (the largest gap between the two "
        f"coefficients is {dmax:.2f}, for {_short(da)} and {_short(db)}); a weak correlation "
        f"rules out a strong monotone link, not a bent one, which the binned charts below show."
    )


def describe_binned(binned: pd.DataFrame, feature: str) -> str:
    """Takeaway for one binned-means chart (the duration chart)."""
    peak = binned.loc[binned["mean"].idxmax()]
    first, last = binned.iloc[0], binned.iloc[-1]
    unit = feature_unit(feature)
    return (
        f"Mean popularity peaks at {peak['mean']:.1f} for tracks of about {peak['x']:.1f} {unit} "
        f"(bin {peak['left']:.1f}–{peak['right']:.1f}, {int(peak['n']):,} tracks). The shortest "
        f"bin (around {first['x']:.1f}) averages {first['mean']:.1f} and the longest (around "
        f"{last['x']:.1f}) {last['mean']:.1f}. The bands are tight where most tracks are and "
        f"widen in the tails, where a bin holds as few as {int(binned['n'].min()):,} tracks."
    )


def describe_grid(grid: pd.DataFrame, *, min_n: int = 100) -> str:
    """Takeaway for the valence × energy grid; extremes only among cells of ``min_n`` tracks."""
    solid = grid[grid["n"].ge(min_n)].sort_values(["mean", "x", "y"], kind="stable")
    low, high = solid.iloc[0], solid.iloc[-1]
    empty = grid[grid["mean"].isna()]
    blank = len(empty)
    where = (f"mostly where valence is {'high' if empty['x'].mean() > 0.5 else 'low'} and "
             f"energy {'high' if empty['y'].mean() > 0.5 else 'low'}")
    means = grid.pivot(index="y", columns="x", values="mean")
    solid_mask = grid.pivot(index="y", columns="x", values="n").ge(min_n)
    means = means.where(solid_mask).to_numpy()
    steps = np.concatenate([np.abs(np.diff(means, axis=0)).ravel(),
                            np.abs(np.diff(means, axis=1)).ravel()])
    steps = steps[~np.isnan(steps)]
    return (
        f"Among cells with at least {min_n} tracks, mean popularity ranges from "
        f"{low['mean']:.1f} (valence ≈ {low['x']:.2f}, energy ≈ {low['y']:.2f}) to "
        f"{high['mean']:.1f} (valence ≈ {high['x']:.2f}, energy ≈ {high['y']:.2f}). "
        f"{blank} of {len(grid)} cells are left blank because too few tracks fall there, "
        f"{where}. Neighbouring cells differ by {np.median(steps):.1f} points at the median and "
        f"up to {steps.max():.1f}: mood alone places a track's popularity only loosely."
    )


def describe_feature_effects(binned_long: pd.DataFrame) -> str:
    """Takeaway for popularity vs each feature: which binned curves swing the most."""
    swings = binned_long.groupby("feature", sort=False)["mean"].agg(["min", "max"])
    swings["range"] = swings["max"] - swings["min"]
    swings = swings.sort_values("range", ascending=False, kind="stable")
    top = [f"{_short(f)} ({r['min']:.1f} to {r['max']:.1f})" for f, r in swings.head(3).iterrows()]
    flat = swings.index[-1]
    inner = sum(
        0 < int(np.argmax(part["mean"].to_numpy())) < len(part) - 1
        for _, part in binned_long.groupby("feature", sort=False)
    )
    return (
        f"Binned means move more than the correlations suggest, but not along straight lines. "
        f"The widest swings in mean popularity are for {', '.join(top)}; the flattest is "
        f"{_short(flat)} ({swings.loc[flat, 'range']:.1f} points between bins). {inner} of "
        f"{len(swings)} curves peak away from both ends of their range, and the extremes hold "
        f"few tracks and wide bands; these are averages over genres, which differ in both "
        f"features and popularity."
    )


def describe_explicit(result: dict) -> str:
    """Takeaway for explicit vs not (``compare_binary`` output)."""
    table = result["table"].set_index("explicit")
    yes, no = table.loc[True], table.loc[False]
    apart = yes["lower"] > no["upper"] or no["lower"] > yes["upper"]
    return (
        f"{yes['share']:.1%} of tracks are explicit. They average {yes['mean']:.1f} "
        f"(95% CI {yes['lower']:.1f}–{yes['upper']:.1f}) against {no['mean']:.1f} "
        f"({no['lower']:.1f}–{no['upper']:.1f}) for the rest; the intervals "
        f"{'do not overlap' if apart else 'overlap'}. Yet "
        f"Cliff's δ is {result['delta']:+.2f} ({result['magnitude']}): pick one explicit and one "
        f"clean track at random and the explicit one is more popular only "
        f"{(1 + result['delta']) / 2:.0%} of the time (ties split)."
    )


def describe_eda_summary(tracks: pd.DataFrame) -> str:
    """Three findings with numbers for the EDA chapter's Summary."""
    s = popularity_summary(tracks)
    feature, rho = _strongest_with(correlation_matrix(tracks))
    explicit = compare_binary(tracks)
    kw = kruskal_by_feature(tracks, ["popularity"])
    return (
        f"- **Zeros are their own group.** {s['zero_share']:.1%} of tracks have popularity 0; the "
        f"rest form a broad hump with median {s['nonzero_median']:.0f}.\n"
        f"- **Audio features are weak, bent signals.** No feature's rank correlation with "
        f"popularity exceeds {abs(rho):.2f} ({_short(feature)}); binned means peak mid-range.\n"
        f"- **Context matters more than sound.** Explicit tracks are more popular on average but "
        f"the effect is {explicit['magnitude']} (Cliff's δ {explicit['delta']:+.2f}), while "
        f"macro-genre alone explains ε² = {kw.loc[0, 'epsilon_squared']:.2f} of popularity's "
        f"rank variance."
    )


# --- Genre-moods chapter ---


def describe_moods_answer(tracks: pd.DataFrame) -> str:
    """The Genre-moods chapter's one-sentence answer."""
    kw = kruskal_by_feature(tracks, MOOD_FEATURES)  # sorted by effect size
    first = kw.iloc[0]["feature"]
    (_, hi, lo), = extreme_pairs(tracks, [first])
    med = tracks.groupby("macro_genre")[first].median()
    eps = ", ".join(f"{_short(r['feature'])} {r['epsilon_squared']:.2f} "
                    f"({r['magnitude']})" for _, r in kw.iterrows())
    return (
        f"**Answer.** Clearly, and most for {_short(first)}: the share of rank variance that "
        f"macro-genre explains (Kruskal–Wallis ε²) is {eps}. Median {_short(first)} runs from "
        f"{med[hi]:.2f} in {hi} to {med[lo]:.2f} in {lo}, yet every macro-genre spreads widely, "
        f"and the tracks furthest from their macro-genre's sound are listed at the end."
    )


def describe_mood_boxes(pairs_table: pd.DataFrame) -> str:
    """Takeaway for the three mood panels: the extreme macro-genres and Cliff's delta."""
    sentences = []
    for _, row in pairs_table.iterrows():
        sentences.append(
            f"{_short(row['feature']).capitalize()} is highest in {row['group_a']} (median "
            f"{row['median_a']:.2f}) and lowest in {row['group_b']} ({row['median_b']:.2f}); "
            f"Cliff's δ = {row['delta']:+.2f} ({row['magnitude']})."
        )
    return format_pairs_table(pairs_table) + "\n\n" + " ".join(sentences) + (
        " Each box holds the middle half of a macro-genre; where boxes overlap, macro-genre shifts "
        "the typical mood without fixing any single track's. "
    ) + describe_cliffs_scale()


def describe_cliffs_scale() -> str:
    """What Cliff's delta means and the magnitude bands used (from :data:`CLIFF_THRESHOLDS`)."""
    (b1, _), (b2, _), (b3, _), _ = CLIFF_THRESHOLDS
    return (
        f"Cliff's δ is the probability that a random track of the first macro-genre scores "
        f"higher than one of the second, minus the reverse (−1 to +1); |δ| below {b1} is "
        f"negligible, below {b2} small, below {b3} medium, and large above (Romano et al., 2006)."
    )


def describe_other_features(tracks: pd.DataFrame, kw: pd.DataFrame) -> str:
    """Takeaway for the dropdown of the other audio features (those not in MOOD_FEATURES)."""
    others = kw[~kw["feature"].isin(MOOD_FEATURES)].reset_index(drop=True)
    parts = []
    for _, row in others.head(2).iterrows():
        (_, hi, lo), = extreme_pairs(tracks, [row["feature"]])
        med = tracks.groupby("macro_genre")[row["feature"]].median()
        parts.append(f"{_short(row['feature'])} (ε² = {row['epsilon_squared']:.2f}; median "
                     f"{med[hi]:.2f} in {hi} vs {med[lo]:.2f} in {lo})")
    last = others.iloc[-1]
    return (
        f"Beyond mood, the features that separate macro-genres most are {parts[0]} and "
        f"{parts[1]}. {_short(last['feature']).capitalize()} separates them least "
        f"(ε² = {last['epsilon_squared']:.3f}). Use the menu to switch features."
    )


def describe_mood_map(macro: pd.DataFrame, genres: pd.DataFrame) -> str:
    """Takeaway for the mood map: extremes, the closest pair, and the genre-level extremes."""
    first, second, distance = closest_pair(macro)
    spread = (macro["x_q3"] - macro["x_q1"]) * (macro["y_q3"] - macro["y_q1"])
    widest = macro.loc[spread.idxmax(), "macro_genre"]
    label = "genre" if "genre" in genres else "primary_genre"
    g = genres.set_index(label)
    happiest, saddest = g["x_median"].idxmax(), g["x_median"].idxmin()
    loudest, calmest = g["y_median"].idxmax(), g["y_median"].idxmin()
    return (
        f"{first} and {second} sit almost on top of each other (medians {distance:.3f} apart), "
        f"and {widest} spreads furthest (largest interquartile box). Among the {len(g)} genres "
        f"(button above the map), {happiest} is the most positive (median valence "
        f"{g.loc[happiest, 'x_median']:.2f}) and {saddest} the least "
        f"({g.loc[saddest, 'x_median']:.2f}); {loudest} is the most energetic (median energy "
        f"{g.loc[loudest, 'y_median']:.2f}) and {calmest} the calmest "
        f"({g.loc[calmest, 'y_median']:.2f})."
    )


def describe_genre_table(table: pd.DataFrame) -> str:
    """One sentence introducing the 114-genre table."""
    smallest = table.loc[table["tracks"].idxmin()]
    fewest = table.loc[table["primary_tracks"].idxmin()]
    top = table.loc[table["popularity_median"].idxmax()]
    return (
        f"Each of the {len(table)} genres keeps every track listed under it (from "
        f"{int(smallest['tracks']):,} for {smallest['genre']} to {int(table['tracks'].max()):,});"
        f" \"Primary tracks\" counts each track once, under its primary genre, from "
        f"{int(fewest['primary_tracks']):,} ({fewest['genre']}) to "
        f"{int(table['primary_tracks'].max()):,}. {top['genre'].capitalize()} has the highest "
        f"median popularity ({top['popularity_median']:.0f}). Search by name or macro-genre; "
        f"sort by any column."
    )


def describe_effect_sizes(kw: pd.DataFrame) -> str:
    """Takeaway for the epsilon-squared chart."""
    top, second, last = kw.iloc[0], kw.iloc[1], kw.iloc[-1]
    large = int(kw["magnitude"].eq("large").sum())
    bands = " / ".join(str(b) for b, _ in EPSILON_THRESHOLDS[:-1])
    p_max = kw["p_value"].max()
    p_text = ("every p-value underflows to 0 in double precision" if p_max == 0
              else f"the largest p-value is {p_max:.1g}")
    return (
        f"Every feature differs across macro-genres beyond doubt ({p_text} with "
        f"{int(kw['n'].iloc[0]):,} tracks), so the effect size is "
        f"what matters. {_short(top['feature']).capitalize()} separates macro-genres most "
        f"(ε² = {top['epsilon_squared']:.2f}), then {_short(second['feature'])} "
        f"({second['epsilon_squared']:.2f}); {large} of {len(kw)} features reach the 'large' band "
        f"(ε² ≥ {EPSILON_THRESHOLDS[2][0]}), and {_short(last['feature'])} is last "
        f"({last['epsilon_squared']:.3f}). The dotted lines mark the bands {bands} "
        f"(conventional thresholds for η²-type effects, used here for ε²)."
    )


def format_pairs_table(pairs_table: pd.DataFrame) -> str:
    """The Cliff's-delta pairs as a Markdown table (rendered by Quarto and Jupyter alike)."""
    lines = ["| Feature | Higher | Median | Lower | Median | Cliff's δ | Magnitude |",
             "|---|---|---:|---|---:|---:|---|"]
    for _, r in pairs_table.iterrows():
        lines.append(
            f"| {_short(r['feature'])} | {r['group_a']} | {r['median_a']:.2f} | {r['group_b']} | "
            f"{r['median_b']:.2f} | {r['delta']:+.2f} | {r['magnitude']} |"
        )
    return "\n".join(lines)


#: Column headers of the 114-genre table as shown on the site.
GENRE_TABLE_LABELS: dict[str, str] = {
    "genre": "Genre", "macro_genre": "Macro-genre", "tracks": "Tracks listed",
    "primary_tracks": "Primary tracks",
    "popularity_median": "Median popularity", "popularity_mean": "Mean popularity",
    "zero_popularity_pct": "% at popularity 0", "energy_median": "Median energy",
    "valence_median": "Median valence", "danceability_median": "Median danceability",
}


def describe_moods_summary(tracks: pd.DataFrame, kw: pd.DataFrame, pairs_table: pd.DataFrame,
                           atypical_agreement: float) -> str:
    """Three findings with numbers for the Genre-moods Summary."""
    mood = kw[kw["feature"].isin(MOOD_FEATURES)].set_index("feature")
    energy = pairs_table.set_index("feature").loc["energy"]
    return (
        f"- **Macro-genre sets the mood, mostly through energy.** ε² is "
        f"{mood.loc['energy', 'epsilon_squared']:.2f} for energy, "
        f"{mood.loc['valence', 'epsilon_squared']:.2f} for valence and "
        f"{mood.loc['danceability', 'epsilon_squared']:.2f} for danceability; "
        f"{energy['group_a']} vs {energy['group_b']} differ by a {energy['magnitude']} Cliff's δ "
        f"of {energy['delta']:+.2f}.\n"
        f"- **{_short(kw.iloc[0]['feature']).capitalize()} separates macro-genres more than any "
        f"other feature** (ε² = {kw.iloc[0]['epsilon_squared']:.2f}, "
        f"{kw.iloc[0]['magnitude']}).\n"
        f"- **Atypical tracks are leads, not verdicts.** Each macro-genre has a list; "
        f"{atypical_agreement:.0%} of it survives a change of the forest's seed."
    )
