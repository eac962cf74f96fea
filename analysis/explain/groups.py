"""Drivers: model columns grouped into the properties a reader recognises.

One-hot and marker columns describe one property together (114 ``genre_*`` columns are one
genre), so their SHAP values are summed into a group *before* any absolute value is taken;
every other column is its own driver.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.labels import ARTIST_HISTORY_GROUP
from analysis.trees import BIAS

__all__ = ["feature_group", "feature_groups", "group_contributions", "mean_abs"]


def feature_group(name: str) -> str:
    """The driver a model column belongs to.

    One-hot and marker columns describe one property together, so their SHAP values are
    summed: all ``genre_*`` columns are "genre", ``macro_*`` "macro-genre", ``title_*`` and
    ``album_*`` the title and album-name markers, ``artist_*`` the artist history. Every other
    column (audio features, duration, explicit, credited artists, single release) is its own
    group.

    Examples
    --------
    >>> [feature_group(c) for c in ["genre_k_pop", "macro_pop", "title_live", "energy",
    ...                             "artist_n_tracks", "album_dated"]]
    ['genre', 'macro-genre', 'title text', 'energy', 'artist history', 'album-name text']
    """
    for prefix, group in (("genre_", "genre"), ("macro_", "macro-genre"),
                          ("title_", "title text"), ("album_", "album-name text"),
                          ("artist_", ARTIST_HISTORY_GROUP)):
        if name.startswith(prefix):
            return group
    return name


def feature_groups(columns: Sequence[str]) -> dict[str, list[str]]:
    """Columns by group, groups in order of first appearance.

    Examples
    --------
    >>> feature_groups(["energy", "genre_pop", "genre_rock", "valence"])
    {'energy': ['energy'], 'genre': ['genre_pop', 'genre_rock'], 'valence': ['valence']}
    """
    out: dict[str, list[str]] = {}
    for column in columns:
        out.setdefault(feature_group(column), []).append(column)
    return out


def group_contributions(contribs: pd.DataFrame) -> pd.DataFrame:
    """Sum per-column SHAP values into their groups (row by row, before any absolute value).

    SHAP values are additive, so a group's value is the sum of its columns' values: the
    one-hot genre columns together say how much "being this genre" moved the prediction.
    A :data:`BIAS` column, if present, is dropped.

    Examples
    --------
    >>> c = pd.DataFrame({"energy": [1.0], "genre_pop": [2.0], "genre_rock": [-0.5],
    ...                   BIAS: [30.0]})
    >>> group_contributions(c).to_dict("records")
    [{'energy': 1.0, 'genre': 1.5}]
    """
    columns = [c for c in contribs.columns if c != BIAS]
    groups = feature_groups(columns)
    return pd.DataFrame(
        {g: contribs[cols].sum(axis=1) for g, cols in groups.items()}, index=contribs.index
    )


def mean_abs(frame: pd.DataFrame, weights: Sequence[float] | None = None) -> pd.Series:
    """(Weighted) mean absolute value of each column, largest first.

    Examples
    --------
    >>> mean_abs(pd.DataFrame({"a": [1.0, -3.0], "b": [0.5, 0.5]}), weights=[3, 1]).to_dict()
    {'a': 1.5, 'b': 0.5}
    """
    values = frame.abs()
    if weights is None:
        out = values.mean()
    else:
        w = np.asarray(weights, dtype="float64")
        out = pd.Series(w @ values.to_numpy(dtype="float64") / w.sum(), index=frame.columns)
    return out.sort_values(ascending=False, kind="stable")

