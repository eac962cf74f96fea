"""Scoring the committed champions on the external crawls, with the in-data metrics.

The numbers must be comparable with the site's in-data ones, so the metrics are the same
functions (:func:`analysis.models.scoring.score_predictions`,
:func:`~analysis.models.scoring.score_hit_probabilities`) and the same hit definition
(popularity >= :data:`analysis.models.HIT_THRESHOLD`). Three further measures:

* **mean within-genre Spearman**: the mean over genres with at least
  :data:`MIN_GENRE_TRACKS` tracks of the rank correlation inside each. A model that only
  knows which genres are popular scores well pooled and near zero here; the site's
  question is which tracks *within* a genre stand out.
* **Billboard**: the set has no popularity, only hit (on the Hot 100) or flop; scored are
  the ROC-AUC of the hit probability and of the predicted popularity against that label, and
  the precision of their top decile (:data:`TOP_DECILE`);
* **interval coverage**: the share of tracks inside the champion's conformal interval at
  :data:`INTERVAL_LEVEL` (the level the pages quote), and its mean width; in-data, the same
  share of the committed out-of-fold intervals.

Champions are loaded by the caller (:func:`analysis.models.load`) and only predict here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.features import genre_column, macro_column
from analysis.genres import macro_genre_of
from analysis.models.blanking import inputs_read
from analysis.models.scoring import roc_auc, spearman, spearman_within, top_share_precision
from analysis.models.settings import CONFIDENCE_LEVELS, HIT_THRESHOLD, MIN_GENRE_TRACKS

__all__ = [
    "INTERVAL_LEVEL",
    "MIN_GENRE_TRACKS",
    "TOP_DECILE",
    "billboard_scores",
    "interval_scores",
    "mean_over_genres",
    "genre_rows",
    "popularity_scores",
    "predict_over_genres",
    "prediction_scores",
    "spearman_within",
    "top_share_precision",
    "with_genre",
]

#: Share of tracks a Billboard shortlist keeps ("top decile by score").
TOP_DECILE = 0.10

#: The interval level whose coverage is scored (the widest the build makes, as the pages quote).
INTERVAL_LEVEL = max(CONFIDENCE_LEVELS)


def interval_scores(popularity: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict:
    """How often the truth falls inside an interval, and how wide the interval is.

    Returns
    -------
    dict
        ``interval_coverage`` (share of tracks with ``lower <= popularity <= upper``, bounds
        included, as the in-data coverage counts them) and ``interval_mean_width``.

    Examples
    --------
    >>> interval_scores(np.array([10, 50, 90.0]), np.array([0, 50, 0.0]),
    ...                 np.array([20, 60, 40.0]))
    {'interval_coverage': 0.6666666666666666, 'interval_mean_width': 23.333333333333332}
    """
    y = np.asarray(popularity, dtype="float64")
    lo = np.asarray(lower, dtype="float64")
    hi = np.asarray(upper, dtype="float64")
    return {"interval_coverage": float(((y >= lo) & (y <= hi)).mean()),
            "interval_mean_width": float((hi - lo).mean())}


def popularity_scores(
    popularity: np.ndarray, prediction: np.ndarray, hit_probability: np.ndarray,
    genre: np.ndarray, *, min_size: int = MIN_GENRE_TRACKS,
    lower: np.ndarray | None = None, upper: np.ndarray | None = None,
) -> dict:
    """The in-data metrics of one set of predictions, for a set with popularity.

    Returns
    -------
    dict
        ``n``, ``mean_popularity``, ``mean_prediction``, ``hit_rate`` (share with popularity
        >= the hit threshold), ``mean_hit_probability`` (beside ``hit_rate``: calibration),
        ``spearman`` (pooled), ``spearman_within_genre`` and ``genres_scored``, ``r2``,
        ``mae``, ``hit_auc`` (the hit classifier's ROC-AUC) and ``prediction_hit_auc`` (the
        predicted popularity's, as ``metrics.json`` scores a popularity model); with
        ``lower`` and ``upper`` (the interval at :data:`INTERVAL_LEVEL`) also
        :func:`interval_scores`.

    Examples
    --------
    >>> s = popularity_scores(np.array([0, 10, 70, 90.0]), np.array([5, 10, 60, 80.0]),
    ...                       np.array([.1, .2, .7, .9]), np.array(["a"] * 4), min_size=2)
    >>> s["mae"], s["hit_auc"], s["spearman_within_genre"], s["hit_rate"]
    (6.25, 1.0, 1.0, 0.5)
    """
    from analysis.models.scoring import score_hit_probabilities, score_predictions

    y = np.asarray(popularity, dtype="float64")
    pred = np.asarray(prediction, dtype="float64")
    p_hit = np.asarray(hit_probability, dtype="float64")
    accuracy = score_predictions(y, pred)
    triage = score_hit_probabilities(y, p_hit)
    within, n_genres = spearman_within(y, pred, genre, min_size=min_size)
    out = {
        "n": int(len(y)),
        "mean_popularity": float(y.mean()),
        "mean_prediction": float(pred.mean()),
        "hit_rate": triage["hit_rate"],
        "mean_hit_probability": float(p_hit.mean()),
        "spearman": accuracy["spearman"],
        "spearman_within_genre": within,
        "genres_scored": n_genres,
        "r2": accuracy["r2"],
        "mae": accuracy["mae"],
        "hit_auc": triage["hit_auc"],
        "prediction_hit_auc": accuracy["hit_auc"],
    }
    if lower is not None and upper is not None:
        out |= interval_scores(y, lower, upper)
    return out


def prediction_scores(popularity: np.ndarray, prediction: np.ndarray, genre: np.ndarray, *,
                      min_size: int = MIN_GENRE_TRACKS) -> dict:
    """The scores of a predicted popularity alone (a model without its own hit classifier):
    ``n``, ``spearman``, ``spearman_within_genre``, ``genres_scored``, ``r2``, ``mae`` and
    ``prediction_hit_auc``, as :func:`popularity_scores` names them.

    Examples
    --------
    >>> s = prediction_scores(np.array([0, 10, 70, 90.0]), np.array([5, 10, 60, 80.0]),
    ...                       np.array(["a"] * 4), min_size=2)
    >>> s["mae"], s["prediction_hit_auc"], s["spearman_within_genre"]
    (6.25, 1.0, 1.0)
    """
    from analysis.models.scoring import score_predictions

    y = np.asarray(popularity, dtype="float64")
    pred = np.asarray(prediction, dtype="float64")
    accuracy = score_predictions(y, pred)
    within, n_genres = spearman_within(y, pred, genre, min_size=min_size)
    return {"n": int(len(y)), "spearman": accuracy["spearman"],
            "spearman_within_genre": within, "genres_scored": n_genres, "r2": accuracy["r2"],
            "mae": accuracy["mae"], "prediction_hit_auc": accuracy["hit_auc"]}


def genre_rows(
    popularity: np.ndarray, prediction: np.ndarray, hit_probability: np.ndarray,
    genre: np.ndarray, *, lower: np.ndarray | None = None, upper: np.ndarray | None = None,
) -> list[dict]:
    """One row per genre (sorted): ``genre``, ``n``, ``mean_popularity``,
    ``mean_prediction``, ``hit_rate``, ``mean_hit_probability``, ``spearman``, ``hit_auc``,
    ``mae`` (what a per-genre chart shows); with ``lower`` and ``upper`` also
    :func:`interval_scores`.

    Examples
    --------
    >>> rows = genre_rows(np.array([0, 70, 10, 90.0]), np.array([5, 60, 10, 80.0]),
    ...                   np.array([.1, .7, .2, .9]), np.array(list("abab")))
    >>> [(r["genre"], r["n"], r["mae"]) for r in rows]
    [('a', 2, 2.5), ('b', 2, 10.0)]
    """
    frame = pd.DataFrame({"y": np.asarray(popularity, "float64"),
                          "p": np.asarray(prediction, "float64"),
                          "h": np.asarray(hit_probability, "float64"), "g": np.asarray(genre)})
    with_interval = lower is not None and upper is not None
    if with_interval:
        frame["lo"] = np.asarray(lower, "float64")
        frame["hi"] = np.asarray(upper, "float64")
    rows = []
    for name, part in frame.groupby("g", sort=True):
        y, p, h = (part[c].to_numpy() for c in ("y", "p", "h"))
        row = {
            "genre": str(name), "n": int(len(part)), "mean_popularity": float(y.mean()),
            "mean_prediction": float(p.mean()), "hit_rate": float((y >= HIT_THRESHOLD).mean()),
            "mean_hit_probability": float(h.mean()), "spearman": spearman(y, p),
            "hit_auc": roc_auc(y >= HIT_THRESHOLD, h), "mae": float(np.abs(y - p).mean()),
        }
        if with_interval:
            row |= interval_scores(y, part["lo"].to_numpy(), part["hi"].to_numpy())
        rows.append(row)
    return rows


def billboard_scores(target: np.ndarray, hit_probability: np.ndarray,
                     prediction: np.ndarray) -> dict:
    """Billboard's hit/flop label against the hit probability and the predicted popularity.

    Returns
    -------
    dict
        ``n``, ``hit_rate`` (share labelled hit), ``hit_auc`` and ``top_decile_precision``
        of the hit probability, ``prediction_auc`` and ``prediction_top_decile_precision``
        of the predicted popularity, ``mean_hit_probability``, ``mean_prediction``.

    Examples
    --------
    >>> s = billboard_scores(np.array([1, 0, 1, 0]), np.array([.9, .1, .8, .2]),
    ...                      np.array([10, 50, 60, 5.0]))
    >>> s["hit_auc"], s["prediction_auc"], s["top_decile_precision"]
    (1.0, 0.75, 1.0)
    """
    label = np.asarray(target) == 1
    p_hit = np.asarray(hit_probability, dtype="float64")
    pred = np.asarray(prediction, dtype="float64")
    return {
        "n": int(len(label)), "hit_rate": float(label.mean()),
        "mean_hit_probability": float(p_hit.mean()), "mean_prediction": float(pred.mean()),
        "hit_auc": roc_auc(label, p_hit),
        "top_decile_precision": top_share_precision(label, p_hit, TOP_DECILE),
        "prediction_auc": roc_auc(label, pred),
        "prediction_top_decile_precision": top_share_precision(label, pred, TOP_DECILE),
    }


def with_genre(matrix: pd.DataFrame, genre: str | None) -> pd.DataFrame:
    """A model matrix with its genre flags saying ``genre`` (``None``: no genre at all).

    The flags are what :func:`analysis.features.features_from_raw` writes for
    ``track_genre = genre``: the label's column and its macro-genre's column are 1, every
    other genre and macro-genre column 0.

    Examples
    --------
    >>> X = pd.DataFrame({"energy": [0.5], "genre_pop": [0.0], "genre_k_pop": [1.0],
    ...                   "macro_pop": [0.0], "macro_east_asian": [1.0]})
    >>> with_genre(X, "pop").iloc[0].tolist()
    [0.5, 1.0, 0.0, 1.0, 0.0]
    """
    flags = [c for c in matrix.columns if c.startswith(("genre_", "macro_"))]
    out = matrix.copy()
    out[flags] = 0.0
    if genre is not None:
        macro = macro_genre_of(pd.Series([genre])).iloc[0]
        out[[genre_column(genre), macro_column(macro)]] = 1.0
    return out


def predict_over_genres(
    champion, frame: pd.DataFrame, genres: Sequence[str | None], *, name: str = "<DataFrame>",
    lacking: tuple[str, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Prediction and hit probability averaged over ``genres``, for tracks of unknown genre.

    Equal to the mean of ``champion.predict`` / ``predict_hit_probability`` with
    ``track_genre`` set to each genre in turn, computed from one validated matrix
    (:meth:`analysis.models.Champion.features`) with only the genre flags changed.
    ``[None]`` gives the prediction with no genre flag set. ``lacking``: inputs the tracks
    lack; each model gets as missing those it saw missing in training
    (:meth:`~analysis.models.Champion.predict_without`, ``hit_probability_without``). A
    model taught that genre may be missing, or that does not read it, is asked once, not
    averaged.

    Returns
    -------
    prediction, hit_probability : numpy.ndarray
    """
    if "track_genre" in frame.columns:
        raise ValueError("frame has a track_genre: predict it directly")
    matrix = champion.features(frame, name=name)
    columns = list(matrix.columns)
    reads_genre = "genre" in inputs_read(champion.popularity_features)
    out = []
    for ask, taught, reads in (
        (champion.predict_without, champion.popularity_blanked, reads_genre),
        (champion.hit_probability_without, champion.hit_blanked, True),
    ):
        unknown = tuple(i for i in lacking if i in taught)

        def predict(array: np.ndarray, ask=ask, unknown=unknown) -> np.ndarray:
            return ask(pd.DataFrame(array, columns=columns), unknown)

        (averaged,) = mean_over_genres(
            matrix, (predict,), genres if reads and "genre" not in unknown else [None])
        out.append(averaged)
    prediction, hit_probability = out
    return prediction, hit_probability


def mean_over_genres(
    matrix: pd.DataFrame, predictors: Sequence[Callable[[np.ndarray], np.ndarray]],
    genres: Sequence[str | None],
) -> list[np.ndarray]:
    """Each predictor's output averaged over ``matrix`` with its genre flags set to each of
    ``genres`` in turn (``None``: no flag). A predictor takes the float64 array of every
    column of ``matrix``.

    Examples
    --------
    >>> X = pd.DataFrame({"energy": [0.5], "genre_pop": [0.0], "genre_k_pop": [0.0],
    ...                   "macro_pop": [0.0], "macro_east_asian": [0.0]})
    >>> mean_over_genres(X, [lambda m: m[:, 1] + 2 * m[:, 2]], ["pop", "k-pop"])[0].tolist()
    [1.5]
    """
    columns = list(matrix.columns)
    array = matrix.to_numpy(dtype="float64", copy=True)
    flags = [i for i, c in enumerate(columns) if c.startswith(("genre_", "macro_"))]
    array[:, flags] = 0.0
    position = {c: i for i, c in enumerate(columns)}
    totals = [np.zeros(len(array)) for _ in predictors]
    for genre in genres:
        set_on = []
        if genre is not None:
            macro = macro_genre_of(pd.Series([genre])).iloc[0]
            set_on = [position[genre_column(genre)], position[macro_column(macro)]]
        array[:, set_on] = 1.0
        for total, predict in zip(totals, predictors, strict=True):
            total += predict(array)
        array[:, set_on] = 0.0
    return [total / len(genres) for total in totals]
