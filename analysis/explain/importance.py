"""How much the score needs each driver: grouped permutation importance and the feature ladder.

SHAP values say how far a driver moves the predictions; these say how much the held-out R²
depends on it. :func:`grouped_permutation_importance` shuffles a group's columns together on
held-out rows; :func:`feature_ladder` refits the model on growing feature sets
(:data:`LADDER_STEPS`), from the original's columns and the genre to the full model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.explain.groups import feature_group
from analysis.labels import ARTIST_HISTORY_GROUP, GENRE_STEP, ORIGINAL_STEP, ladder_step
from analysis.protocols import RANDOM_STATE

__all__ = [
    "LADDER_STEPS",
    "PERMUTATION_FOLD",
    "PERMUTATION_REPEATS",
    "feature_ladder",
    "grouped_permutation_importance",
    "ladder_label",
    "ladder_part",
]

#: Permutation importance: which outer fold is held out, and how many shuffles per group.
PERMUTATION_FOLD = 0
PERMUTATION_REPEATS = 5

#: The feature ladder's cumulative steps, each the :func:`ladder_part` it adds. The first is
#: what the original modelled (its audio columns, duration, explicit) plus the one primary
#: genre when the model reads it; each next step adds one kind of metadata a label knows at
#: release. A step is named after the driver groups it adds to the model at hand
#: (:func:`ladder_label`).
LADDER_STEPS: tuple[str, ...] = (
    "original", "credits", "title text", "album-name text", ARTIST_HISTORY_GROUP,
)


def grouped_permutation_importance(
    predict: Callable[[np.ndarray], np.ndarray],
    X: pd.DataFrame,
    y: Sequence[float],
    groups: Mapping[str, Sequence[str]],
    *,
    n_repeats: int = PERMUTATION_REPEATS,
    random_state: int = RANDOM_STATE,
) -> pd.DataFrame:
    """Drop in R² when a group of columns is shuffled together, on held-out rows.

    The algorithm of :func:`sklearn.inspection.permutation_importance` (score, shuffle,
    re-score, ``n_repeats`` times), except that a group's columns are permuted with *one*
    shuffle of the rows, so one-hot columns stay one-hot and the genre is permuted as one
    property. A single-column group is exactly scikit-learn's column permutation.

    Parameters
    ----------
    predict : callable
        Maps a NumPy matrix (``X``'s columns, in order) to predictions: the fold's model,
        e.g. ``booster.inplace_predict`` (NumPy in, to skip DataFrame conversion per call).
    X, y : held-out rows and their popularity.
    groups : mapping
        Group name -> its columns (e.g. :func:`feature_groups`).

    Returns
    -------
    pandas.DataFrame
        ``group``, ``r2_drop_mean``, ``r2_drop_sd`` (over repeats), ``baseline_r2``; in the
        order of ``groups``.

    Examples
    --------
    >>> X = pd.DataFrame({"a": np.arange(50.0), "b": np.zeros(50)})
    >>> out = grouped_permutation_importance(lambda m: m[:, 0], X, X["a"],
    ...                                      {"a": ["a"], "b": ["b"]}, n_repeats=3)
    >>> bool(out.loc[0, "r2_drop_mean"] > 1), float(out.loc[1, "r2_drop_mean"])
    (True, 0.0)
    """
    from sklearn.metrics import r2_score

    y = np.asarray(y, dtype="float64")
    rng = np.random.default_rng(random_state)
    values = X.to_numpy(dtype="float64")
    position = {c: i for i, c in enumerate(X.columns)}
    baseline = r2_score(y, np.asarray(predict(values), dtype="float64"))
    rows = []
    for group, columns in groups.items():
        index = [position[c] for c in columns]
        shuffled = values.copy()
        drops = []
        for _ in range(n_repeats):
            order = rng.permutation(len(values))
            shuffled[:, index] = values[order][:, index]
            drops.append(baseline - r2_score(y, np.asarray(predict(shuffled), dtype="float64")))
        rows.append({"group": group, "r2_drop_mean": float(np.mean(drops)),
                     "r2_drop_sd": float(np.std(drops, ddof=1)) if n_repeats > 1 else 0.0,
                     "baseline_r2": baseline})
    return pd.DataFrame(rows)


def ladder_part(name: str) -> str:
    """The step of :data:`LADDER_STEPS` that brings a model column in.

    Examples
    --------
    >>> [ladder_part(c) for c in ["energy", "explicit", "genre_pop", "macro_pop", "n_artists"]]
    ['original', 'original', 'original', 'original', 'credits']
    >>> [ladder_part(c) for c in ["title_live", "album_dated", "artist_n_tracks"]]
    ['title text', 'album-name text', 'artist history']
    """
    from analysis.features import ORIGINAL_TRACK_COLUMNS

    group = feature_group(name)
    if group in ("title text", "album-name text", ARTIST_HISTORY_GROUP):
        return group
    if group in ("genre", "macro-genre") or name in ORIGINAL_TRACK_COLUMNS:
        return "original"
    return "credits"


def ladder_label(part: str, columns: Sequence[str]) -> str:
    """The name of the ladder step adding ``part`` to a model whose matrix has ``columns``.

    Examples
    --------
    >>> ladder_label("original", ["energy", "genre_pop"]), ladder_label("original", ["energy"])
    ('original columns + genre', 'original columns')
    >>> ladder_label("credits", ["energy", "n_artists"])
    '+ credited artists'
    """
    if part == "original":
        reads_genre = any(ladder_part(c) == part and feature_group(c) in ("genre", "macro-genre")
                          for c in columns)
        return ORIGINAL_STEP + GENRE_STEP if reads_genre else ORIGINAL_STEP
    return ladder_step(*dict.fromkeys(feature_group(c) for c in columns
                                      if ladder_part(c) == part))


def feature_ladder(
    fit: Callable[[pd.DataFrame, np.ndarray], Callable[[pd.DataFrame], np.ndarray]],
    X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame, y_test: np.ndarray,
) -> pd.DataFrame:
    """Held-out R² and MAE of models refit on the cumulative feature sets of the ladder.

    ``fit(X, y)`` returns a predict function; steps whose part is absent from the columns
    (artist history under ``cold_start``) are left out. The last row uses every column.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"energy": rng.random(200), "title_live": rng.integers(0, 2, 200)})
    >>> y = 10 * X["energy"].to_numpy() + 5 * X["title_live"].to_numpy()
    >>> def fit(X, y):
    ...     coef = np.linalg.lstsq(np.c_[np.ones(len(X)), X], y, rcond=None)[0]
    ...     return lambda Z: np.c_[np.ones(len(Z)), Z] @ coef
    >>> ladder = feature_ladder(fit, X[:150], y[:150], X[150:], y[150:])
    >>> ladder["step"].tolist(), bool(ladder["r2"].iloc[-1] > ladder["r2"].iloc[0])
    (['original columns', '+ title markers'], True)
    """
    from sklearn.metrics import r2_score

    parts = {c: ladder_part(c) for c in X_train.columns}
    rows, included = [], set()
    for part in LADDER_STEPS:
        if part not in parts.values():
            continue
        label = ladder_label(part, list(X_train.columns))
        included.add(part)
        # the matrix's own column order: the last step is exactly the full model
        columns = [c for c in X_train.columns if parts[c] in included]
        pred = np.asarray(fit(X_train[columns], y_train)(X_test[columns]), dtype="float64")
        rows.append({"step": label, "part": part, "n_columns": len(columns),
                     "r2": r2_score(y_test, pred),
                     "mae": float(np.mean(np.abs(y_test - pred)))})
    return pd.DataFrame(rows)

