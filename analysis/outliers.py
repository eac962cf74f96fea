"""Tracks worth a second listen: audio-atypical tracks and over-/under-performers.

Two A&R lists, both reproducible run to run:

* **Audio-atypical tracks** (:func:`audio_atypical`): within each macro-genre, an Isolation
  Forest (scikit-learn, fixed seed) scores how easily a track's audio profile is isolated from
  the rest of its macro-genre. Each listed track carries the features that make it atypical:
  those on which it sits furthest into its macro-genre's tails (:func:`atypical_reasons`).
* **Over- and under-performers** (:func:`rank_performers`): tracks whose popularity is far
  above, or far below, what the cold-start model expected for them out of fold. Under-performers
  with a strong expected popularity are the "hidden gems".

Why an Isolation Forest rather than a robust Mahalanobis distance (``MinCovDet``)? Several audio
features have a point mass (instrumentalness is exactly 0 for a third of pop tracks), so the
minimum-covariance subset is degenerate and the robust covariance nearly singular; the forest
has no covariance to invert and is cheap (a few seconds for all 89,740 tracks).

The lists are data; their wording (headers, sentences, the reasons in words) lives in
:mod:`analysis.prose.moods`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from analysis import paths
from analysis.models.artifacts import load_oof, oof_models
from analysis.moods import UNIT_FEATURES, add_duration_minutes, group_order
from analysis.protocols import RANDOM_STATE

#: Features the atypicality score looks at (continuous audio descriptors; duration in minutes).
OUTLIER_FEATURES: tuple[str, ...] = (*UNIT_FEATURES, "loudness", "tempo", "duration_min")

#: Columns shown next to each listed track.
_TRACK_INFO = ["track_id", "track_name", "primary_artist", "album_name", "primary_genre",
               "macro_genre", "popularity"]


def _with_minutes(tracks: pd.DataFrame) -> pd.DataFrame:
    return tracks if "duration_min" in tracks else add_duration_minutes(tracks)


def atypicality_scores(
    tracks: pd.DataFrame,
    *,
    by: str = "macro_genre",
    features: Sequence[str] = OUTLIER_FEATURES,
    n_estimators: int = 100,
    random_state: int = RANDOM_STATE,
) -> pd.Series:
    """Isolation-Forest atypicality of each track within its group (higher = more atypical).

    One forest per group, fitted and scored on that group's tracks. The score is scikit-learn's
    ``-score_samples``: about 0.4–0.5 for an ordinary track, approaching 1 for one isolated in a
    few splits. Scores are comparable within a group; across groups, compare ranks.

    Parameters
    ----------
    tracks
        One row per track with ``by`` and ``features`` (``duration_min`` is derived from
        ``duration_ms`` if absent).
    by
        The grouping within which "typical" is defined.
    features, n_estimators, random_state
        Passed to the forest; the seed makes the lists identical run to run.

    Returns
    -------
    pandas.Series
        Aligned with ``tracks.index``, named ``atypicality``.
    """
    tracks = _with_minutes(tracks)
    scores = pd.Series(np.nan, index=tracks.index, name="atypicality")
    for _, group in tracks.groupby(by, sort=True, observed=True):
        X = group[list(features)].to_numpy(dtype="float64")
        if len(X) < 2:
            continue
        forest = IsolationForest(n_estimators=n_estimators, random_state=random_state)
        forest.fit(X)
        scores.loc[group.index] = -forest.score_samples(X)
    return scores


def tail_shares(group: pd.DataFrame, rows: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """For each of ``rows`` and feature: the share of ``group`` at least as extreme, and the side.

    Returns a frame indexed like ``rows`` with columns ``<feature>`` (the smaller of the shares of
    the group at or above and at or below the value) and ``<feature>__high`` (True when the value
    is in the upper tail). A share of 0.002 means only 0.2 % of the group is as far out.

    Examples
    --------
    >>> g = pd.DataFrame({"energy": [0.1, 0.5, 0.5, 0.5, 0.9]})
    >>> tail_shares(g, g.iloc[[0, 4]], ["energy"]).values.tolist()
    [[0.2, False], [0.2, True]]
    """
    out = {}
    for feature in features:
        ref = np.sort(group[feature].to_numpy(dtype="float64"))
        x = rows[feature].to_numpy(dtype="float64")
        at_or_below = np.searchsorted(ref, x, side="right") / len(ref)
        at_or_above = (len(ref) - np.searchsorted(ref, x, side="left")) / len(ref)
        out[feature] = np.minimum(at_or_below, at_or_above)
        out[f"{feature}__high"] = at_or_above < at_or_below
    return pd.DataFrame(out, index=rows.index)


def atypical_reasons(
    group: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    features: Sequence[str] = OUTLIER_FEATURES,
    max_features: int = 3,
    max_share: float = 0.05,
) -> pd.Series:
    """Why each of ``rows`` is atypical of ``group``: the features deepest in the group's tails.

    A feature counts when at most ``max_share`` of the group is as extreme; up to
    ``max_features`` count, most extreme first. An empty tuple means the track is atypical
    only through an unusual *combination* of ordinary values.

    Returns
    -------
    pandas.Series
        Aligned with ``rows``: per row a tuple of ``(feature, value, share, high)``, where
        ``share`` is the part of the group at least as extreme and ``high`` says the value is in
        the upper tail. :func:`analysis.prose.moods.why_atypical` puts one into words.

    Examples
    --------
    >>> g = pd.DataFrame({"energy": [0.1] + [0.5] * 98 + [0.9]})
    >>> atypical_reasons(g, g.iloc[[0, 50]], features=["energy"]).tolist()
    [(('energy', 0.1, 0.01, False),), ()]
    """
    return pd.Series(_reasons(group, rows, features, max_features, max_share),
                     index=rows.index, name="reasons", dtype=object)


def _reasons(
    group: pd.DataFrame, rows: pd.DataFrame, features: Sequence[str], max_features: int,
    max_share: float,
) -> list[tuple[tuple[str, float, float, bool], ...]]:
    shares = tail_shares(group, rows, features)
    out = []
    for index in rows.index:
        ranked = sorted(features, key=lambda f: (shares.at[index, f], f))
        reasons = []
        for feature in ranked[:max_features]:
            share = shares.at[index, feature]
            if share > max_share:
                break
            reasons.append((feature, float(rows.at[index, feature]), float(share),
                            bool(shares.at[index, f"{feature}__high"])))
        out.append(tuple(reasons))
    return out


def audio_atypical(
    tracks: pd.DataFrame,
    *,
    by: str = "macro_genre",
    top: int = 5,
    one_per_song: bool = True,
    features: Sequence[str] = OUTLIER_FEATURES,
    n_estimators: int = 100,
    random_state: int = RANDOM_STATE,
) -> pd.DataFrame:
    """The ``top`` most audio-atypical tracks of every group, with what makes each atypical.

    Parameters
    ----------
    one_per_song
        List each song (``song_id``: same artists and title) once, at its most atypical version,
        so a single and its album copy do not take two places in a five-track list.

    Returns
    -------
    pandas.DataFrame
        ``top`` rows per group (fewer if the group is smaller), groups in display order, tracks by
        decreasing atypicality (ties by ``track_id``): ``rank``, the track's identity columns,
        ``atypicality``, ``reasons`` (:func:`atypical_reasons`) and ``features`` (the features
        of the reasons, comma-separated).

    See Also
    --------
    atypicality_scores, atypical_reasons
    """
    tracks = _with_minutes(tracks)
    scores = atypicality_scores(tracks, by=by, features=features, n_estimators=n_estimators,
                                random_state=random_state)
    scored = tracks.assign(atypicality=scores)
    parts = []
    labels = scored[by].astype("string")
    for group_name in group_order(scored[by]):
        group = scored[labels.eq(group_name)]
        best = group.sort_values(["atypicality", "track_id"], ascending=[False, True],
                                 kind="stable")
        if one_per_song and "song_id" in best:
            best = best.drop_duplicates("song_id")
        best = best.head(top)
        reasons = atypical_reasons(group, best, features=features)
        best = best.assign(
            rank=np.arange(1, len(best) + 1),
            reasons=reasons,
            features=pd.array([", ".join(r[0] for r in why) for why in reasons],
                              dtype="string"),
        )
        parts.append(best)
    columns = ["rank", *[c for c in _TRACK_INFO if c in scored], "atypicality", "reasons",
               "features"]
    if by not in columns:
        columns.insert(1, by)
    return pd.concat(parts, ignore_index=True)[columns]


def list_agreement(first: pd.DataFrame, second: pd.DataFrame, *, by: str = "macro_genre") -> float:
    """Share of the tracks in ``first`` that ``second`` lists too, in the same group.

    Compare :func:`audio_atypical` lists computed with two seeds to show how much of a list is the
    data and how much is the forest's randomness.

    Examples
    --------
    >>> a = pd.DataFrame({"macro_genre": ["Pop", "Pop"], "track_id": ["x", "y"]})
    >>> list_agreement(a, a.iloc[:1])
    0.5
    """
    keys = [by, "track_id"]
    shared = first[keys].merge(second[keys].drop_duplicates(), on=keys, how="inner")
    return len(shared) / len(first) if len(first) else float("nan")


def seed_agreement(
    tracks: pd.DataFrame, listed: pd.DataFrame, *, seed: int = RANDOM_STATE + 1, **kwargs
) -> float:
    """Share of ``listed`` (an :func:`audio_atypical` result) listed again with another seed.

    ``kwargs`` must repeat the arguments ``listed`` was made with (``top``, ``by`` ...); the
    top-n size is taken from ``listed`` when not given.
    """
    kwargs.setdefault("top", int(listed["rank"].max()))
    by = kwargs.get("by", "macro_genre")
    return list_agreement(listed, audio_atypical(tracks, random_state=seed, **kwargs), by=by)


# --- over- and under-performers against out-of-fold expectations -------------------------------

#: Columns every out-of-fold prediction file must have.
OOF_COLUMNS = ("track_id", "fold", "y_true", "y_pred")


def validate_oof(oof: pd.DataFrame, *, name: str = "out-of-fold predictions") -> pd.DataFrame:
    """Check an out-of-fold frame; raise naming the file, row and column on the first problem.

    Raises
    ------
    ValueError
        A required column is missing, a ``track_id`` repeats (each track must be predicted once,
        by the fold that held it out), or a prediction is missing or not finite.
    """
    missing = [c for c in OOF_COLUMNS if c not in oof]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; expected at least {OOF_COLUMNS}.")
    repeated = oof["track_id"].duplicated()
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        raise ValueError(
            f"{name}: row {row}, column 'track_id': {oof['track_id'].iloc[row]!r} is predicted "
            "more than once; out-of-fold predictions need exactly one row per track."
        )
    bounds = [c for c in oof.columns if c in ("y_lower", "y_upper")
              or str(c).startswith(("lower_", "upper_"))]
    for column in ("y_true", "y_pred", *bounds):
        values = pd.to_numeric(oof[column], errors="coerce").to_numpy(dtype="float64")
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}: row {row}, column {column!r}: not a finite number "
                             f"({oof[column].iloc[row]!r}).")
    return oof


def read_oof(protocol: str, model: str, models_dir: Path | None = None) -> pd.DataFrame:
    """One model's out-of-fold popularity predictions
    (:func:`analysis.models.artifacts.load_oof`), checked by :func:`validate_oof`.

    Raises
    ------
    FileNotFoundError
        Naming the expected file and the models that do have predictions.
    ValueError
        Naming the file, row and column of the first problem.
    """
    oof = load_oof(protocol, model, models_dir)
    return validate_oof(oof, name=str(paths.oof_file(protocol, model, models_dir)))


def interval_columns(oof: pd.DataFrame, *, level: int | None = None) -> tuple[str, str] | None:
    """The prediction-interval bound columns of an out-of-fold frame, or None if it has none.

    Accepts ``y_lower``/``y_upper``, or the modeling step's ``lower_<pct>``/``upper_<pct>`` (one
    pair per confidence level); ``level`` picks a percentage, default the widest available.

    Examples
    --------
    >>> interval_columns(pd.DataFrame(columns=["y_pred", "lower_80", "upper_80", "lower_90",
    ...                                        "upper_90"]))
    ('lower_90', 'upper_90')
    """
    if {"y_lower", "y_upper"} <= set(oof.columns):
        return ("y_lower", "y_upper")
    levels = sorted(int(c[len("lower_"):]) for c in map(str, oof.columns)
                    if c.startswith("lower_") and c[len("lower_"):].isdigit()
                    and f"upper_{c[len('lower_'):]}" in oof.columns)
    if not levels:
        return None
    if level is None:
        level = levels[-1]
    if level not in levels:
        raise ValueError(f"no {level}% interval in the predictions (levels: {levels}).")
    return (f"lower_{level}", f"upper_{level}")


def performer_scores(oof: pd.DataFrame, *, level: int | None = None) -> pd.DataFrame:
    """Residuals of each out-of-fold prediction, standardised within its fold.

    Adds ``residual = y_true − y_pred``, ``z = residual / SD(residuals of the fold)``, and, when
    the frame has prediction intervals (:func:`interval_columns`), the chosen bounds as
    ``y_lower``/``y_upper`` and ``exceedance``: how far ``y_true`` lies outside the interval
    (positive above it, negative below it, 0 inside).

    Examples
    --------
    >>> oof = pd.DataFrame({"track_id": list("abcd"), "fold": [0, 0, 0, 0],
    ...                     "y_true": [10, 20, 30, 80], "y_pred": [20, 20, 30, 40],
    ...                     "y_lower": [5, 5, 15, 25], "y_upper": [35, 35, 45, 55]})
    >>> performer_scores(oof)[["residual", "exceedance"]].values.tolist()
    [[-10.0, 0.0], [0.0, 0.0], [0.0, 0.0], [40.0, 25.0]]
    """
    out = validate_oof(oof).copy()
    y_true, y_pred = out["y_true"].astype("float64"), out["y_pred"].astype("float64")
    out["residual"] = y_true - y_pred
    spread = out.groupby("fold")["residual"].transform("std")
    out["z"] = out["residual"] / spread
    bounds = interval_columns(out, level=level)
    if bounds is not None:
        out["y_lower"] = out[bounds[0]].astype("float64")
        out["y_upper"] = out[bounds[1]].astype("float64")
        above = (y_true - out["y_upper"].astype("float64")).clip(lower=0)
        below = (out["y_lower"].astype("float64") - y_true).clip(lower=0)
        out["exceedance"] = above - below
    return out


def rank_performers(
    oof: pd.DataFrame,
    tracks: pd.DataFrame,
    *,
    direction: str,
    top: int = 25,
    by: str = "auto",
    min_popularity: int = 1,
    single_version_only: bool = True,
    level: int | None = None,
) -> pd.DataFrame:
    """The ``top`` tracks furthest above (``"over"``) or below (``"under"``) expectation.

    Parameters
    ----------
    oof
        Out-of-fold predictions (see :func:`read_oof`), one row per track.
    tracks
        The cleaned tracks (names, artist, genre, ``n_song_versions``).
    direction
        ``"over"``: popular beyond what the audio profile predicts. ``"under"``: the hidden gems,
        strong expected popularity that the actual score does not reflect.
    by
        ``"z"`` (standardised residual), ``"exceedance"`` (distance outside the prediction
        interval, then ``z`` to break ties inside it) or ``"auto"`` (exceedance when intervals
        are present).
    min_popularity, single_version_only
        For ``"under"`` only: a track at popularity 0, or one whose song has another version in
        the data (a single and its album copy), is more likely a catalogue artefact (the
        popularity went to the other copy) than an overlooked track, so such tracks are left out
        of the hidden-gem list by default.
    level
        Confidence level (%) of the interval used for ``"exceedance"``; default the widest.

    Returns
    -------
    pandas.DataFrame
        ``rank``, the track's identity columns, ``expected`` (y_pred), ``actual`` (y_true),
        ``residual``, ``z`` and, with intervals, ``y_lower``, ``y_upper`` and ``exceedance``.
    """
    if direction not in ("over", "under"):
        raise ValueError(f"direction must be 'over' or 'under', not {direction!r}.")
    scored = performer_scores(oof, level=level)
    has_interval = "exceedance" in scored
    if by == "auto":
        by = "exceedance" if has_interval else "z"
    if by == "exceedance" and not has_interval:
        raise ValueError("by='exceedance' needs prediction-interval columns "
                         "(y_lower/y_upper or lower_<pct>/upper_<pct>).")
    info = [c for c in _TRACK_INFO if c in tracks and c != "popularity"]
    extra = ["n_song_versions"] if "n_song_versions" in tracks else []
    merged = scored.merge(tracks[info + extra], on="track_id", how="inner", validate="1:1")
    if direction == "under":
        keep = merged["y_true"].ge(min_popularity)
        if single_version_only and extra:
            keep &= merged["n_song_versions"].eq(1)
        merged = merged[keep]
    sign = 1.0 if direction == "over" else -1.0
    keys = [by, "z"] if by == "exceedance" else ["z"]
    merged = merged.assign(**{f"_k{i}": sign * merged[k] for i, k in enumerate(keys)})
    ranked = merged.sort_values([f"_k{i}" for i in range(len(keys))] + ["track_id"],
                                ascending=[False] * len(keys) + [True], kind="stable").head(top)
    ranked = ranked.rename(columns={"y_pred": "expected", "y_true": "actual"})
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    columns = ["rank", *info, "expected", "actual", "residual", "z"]
    if has_interval:
        columns += ["y_lower", "y_upper", "exceedance"]
    return ranked[columns].reset_index(drop=True)


def best_oof_model(*, protocol: str = "cold_start", models_dir: Path | None = None) -> str | None:
    """The model to measure surprises against (None if no predictions are stored).

    Models whose predictions carry intervals come first (an interval says how far is "far"),
    then the lowest out-of-fold RMSE; chosen from the stored predictions themselves.
    """
    keys = {}
    for model in oof_models(protocol, models_dir, column="y_pred"):
        oof = read_oof(protocol, model, models_dir)
        rmse = float(np.sqrt(np.mean((oof["y_true"].astype("float64") - oof["y_pred"]) ** 2)))
        keys[model] = (interval_columns(oof) is None, rmse, model)
    return min(keys, key=keys.__getitem__) if keys else None


def performer_lists(
    tracks: pd.DataFrame,
    *,
    model: str | None = None,
    protocol: str = "cold_start",
    top: int = 25,
    models_dir: Path | None = None,
) -> dict | None:
    """Over- and under-performer lists against ``protocol`` out-of-fold predictions.

    Returns ``None`` when no predictions are stored yet (the chapter then says so), else a dict
    with ``model``, ``rmse``, ``by`` (ranking criterion), ``over`` and ``under`` frames (see
    :func:`rank_performers`) and the counts left out of the hidden-gem list
    (``excluded_zero``, ``excluded_versions``).
    """
    model = model or best_oof_model(protocol=protocol, models_dir=models_dir)
    if model is None:
        return None
    oof = read_oof(protocol, model, models_dir)
    merged = oof[["track_id", "y_true"]].merge(
        tracks[["track_id", *(["n_song_versions"] if "n_song_versions" in tracks else [])]],
        on="track_id", how="inner")
    zero = merged["y_true"].lt(1)
    versions = merged.get("n_song_versions", pd.Series(1, index=merged.index)).gt(1) & ~zero
    over = rank_performers(oof, tracks, direction="over", top=top)
    bounds = interval_columns(oof)
    level = None
    if bounds is not None and bounds[0].startswith("lower_"):
        level = int(bounds[0][len("lower_"):])
    return {
        "model": model, "protocol": protocol, "level": level,
        "rmse": float(np.sqrt(np.mean((oof["y_true"].astype("float64") - oof["y_pred"]) ** 2))),
        "by": "exceedance" if "exceedance" in over else "z",
        "over": over, "under": rank_performers(oof, tracks, direction="under", top=top),
        "tracks": int(len(oof)), "excluded_zero": int(zero.sum()),
        "excluded_versions": int(versions.sum()),
    }
