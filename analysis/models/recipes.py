"""Recipes: how a cold-start model is trained for what transfers to other crawls.

A :class:`Recipe` says which columns of the cold-start matrix a model reads, which training
rows it learns from (all, or "clean": the crawl's copies left out), what it predicts, how
strongly it is regularised, and which inputs it saw blanked on part of its training rows
(:mod:`analysis.models.blanking`). The transfer comparison (:mod:`analysis.external.candidates`)
measures many recipes; :data:`TRANSFER_RECIPE` is the one its rule chose for the popularity
model, which the build's ``xgboost_transfer`` model follows (:func:`fit_rows`) and the
new-artist champion publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.features import copy_album_markers
from analysis.models.blanking import blank_inputs, column_family
from analysis.protocols import song_groups
from analysis.schema import AUDIO_COLUMNS

__all__ = [
    "NO_GENRE",
    "STRONGER_REGULARISATION",
    "TRANSFER_RECIPE",
    "Recipe",
    "clean_training_rows",
    "columns_of",
    "fit_rows",
    "popularity_fit",
    "training_mask",
]

#: "Stronger regularisation": fewer, larger leaves, row and column sampling, a larger L2
#: penalty, more rounds at a lower rate (over the champion's parameters).
STRONGER_REGULARISATION: dict = {
    "max_leaves": 15, "min_child_weight": 200.0, "subsample": 0.8, "colsample_bytree": 0.6,
    "reg_lambda": 10.0, "n_estimators": 300, "learning_rate": 0.05,
}


@dataclass(frozen=True)
class Recipe:
    """How a cold-start model is trained: which columns, rows, target, regularisation and
    blanked inputs.

    Attributes
    ----------
    name : str
        Identifier in ``models/transfer.json``.
    drop : tuple of str
        Column families left out: ``"genre_labels"`` (the 114 genre one-hots),
        ``"macro_genres"`` (the macro-genre one-hots), ``"album"`` (album-name markers,
        ``is_single``, ``album_non_ascii``), ``"title"`` (title markers and length), or
        ``"all_but_audio"`` (keep the audio features and duration only).
    training_rows : {"all", "clean"}
        ``clean``: popularity above 0, no compilation / seasonal / dated album, and one
        version per song (its most popular): the crawl's copies left out.
    target : {"popularity", "relative_to_genre"}
        ``relative_to_genre`` learns popularity minus the training genre mean and adds the
        mean back (the overall mean where the genre is unknown).
    stronger_regularisation : bool
        Apply :data:`STRONGER_REGULARISATION`.
    blanked : tuple of str
        Inputs (:data:`~analysis.models.blanking.INPUT_GROUPS`) removed on
        :data:`~analysis.models.blanking.BLANKED_SHARE` of the training rows.
    """

    name: str
    drop: tuple[str, ...] = ()
    training_rows: str = "all"
    target: str = "popularity"
    stronger_regularisation: bool = False
    blanked: tuple[str, ...] = field(default=())

    def regressor_params(self, params: Mapping) -> dict:
        """The regressor's parameters (a tuned model's), regularised more if asked."""
        params = dict(params)
        if self.stronger_regularisation:
            params |= STRONGER_REGULARISATION
        return params


def columns_of(recipe: Recipe, columns: list[str], audio: tuple[str, ...]) -> list[str]:
    """The columns ``recipe`` reads, in matrix order.

    Examples
    --------
    >>> cols = ["energy", "duration_ms", "explicit", "genre_pop", "macro_pop", "title_live"]
    >>> columns_of(Recipe("x", drop=("genre_labels",)), cols, ("energy",))
    ['energy', 'duration_ms', 'explicit', 'macro_pop', 'title_live']
    >>> columns_of(Recipe("y", drop=("all_but_audio",)), cols, ("energy",))
    ['energy', 'duration_ms']
    """
    if "all_but_audio" in recipe.drop:
        return [c for c in columns if c in (*audio, "duration_ms")]
    return [c for c in columns if column_family(c) not in recipe.drop]


def clean_training_rows(tracks: pd.DataFrame) -> np.ndarray:
    """Training rows of a ``clean`` recipe: popularity above 0, no copy album, and the most
    popular version of each song (ties: the first row).

    Computed on the rows given (a training fold), so a held-out track never decides which
    training version is kept.

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A", "A", "B", "C"], "popularity": [10, 30, 0, 5],
    ...                   "track_name": ["Hit", "Hit - Live", "S", "T"],
    ...                   "album_name": ["LP", "Live", "LP", "Greatest Hits"]})
    >>> clean_training_rows(t).tolist()
    [False, True, False, False]
    """
    popularity = tracks["popularity"].to_numpy(dtype="float64")
    copy = copy_album_markers(tracks).any(axis=1).to_numpy()
    order = pd.DataFrame({"song": song_groups(tracks), "popularity": -popularity,
                          "row": np.arange(len(tracks))}).sort_values(["song", "popularity",
                                                                       "row"])
    best = np.zeros(len(tracks), dtype=bool)
    best[order.drop_duplicates("song")["row"].to_numpy()] = True
    return (popularity > 0) & ~copy & best


#: Column families of genre: the 114 label one-hots and the macro-genre one-hots.
NO_GENRE: tuple[str, ...] = ("genre_labels", "macro_genres")

#: The popularity model's recipe chosen by the transfer comparison's rule
#: (``selection.popularity_model.chosen`` in ``models/transfer.json``): no genre and no album
#: columns, clean training rows, the explicit flag and time signature blanked on part of them.
TRANSFER_RECIPE = Recipe("without_genre_or_album_clean_rows_blanked", drop=(*NO_GENRE, "album"),
                         training_rows="clean", blanked=("explicit", "time_signature"))


def fit_rows(recipe: Recipe, matrix: pd.DataFrame, tracks: pd.DataFrame
             ) -> tuple[pd.DataFrame, np.ndarray]:
    """What a model following ``recipe`` learns from: the matrix of its training rows (only the
    columns it reads, its blanked inputs blanked) and which of the given rows those are.

    ``matrix`` and ``tracks`` are the rows on offer (a training fold, or every track for a
    champion), aligned positionally; the target is left to the caller.

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A", "B"], "popularity": [10, 0],
    ...                   "track_name": ["x", "y"], "album_name": ["LP", "LP"]})
    >>> m = pd.DataFrame({"energy": [0.5, 0.7], "genre_pop": [1.0, 0.0]})
    >>> X, kept = fit_rows(Recipe("r", drop=NO_GENRE, training_rows="clean"), m, t)
    >>> X.columns.tolist(), kept.tolist()
    (['energy'], [True, False])
    """
    kept = training_mask(recipe, tracks)
    X = matrix.iloc[np.flatnonzero(kept)]
    if recipe.blanked:
        X = blank_inputs(X, recipe.blanked)
    return X[columns_of(recipe, list(matrix.columns), AUDIO_COLUMNS)], kept


def training_mask(recipe: Recipe, tracks: pd.DataFrame) -> np.ndarray:
    """Which of ``tracks`` a model following ``recipe`` learns from (all, or the clean ones)."""
    if recipe.training_rows == "clean":
        return clean_training_rows(tracks)
    return np.ones(len(tracks), dtype=bool)


def popularity_fit(recipe: Recipe | None, matrix: pd.DataFrame, tracks: pd.DataFrame
                   ) -> tuple[pd.DataFrame, np.ndarray]:
    """The matrix and popularity a popularity model learns from: :func:`fit_rows` of its
    recipe, or every row and column of ``matrix`` for a model without one (``None``)."""
    y = tracks["popularity"].to_numpy(dtype="float64")
    if recipe is None:
        return matrix, y
    X, kept = fit_rows(recipe, matrix, tracks)
    return X, y[kept]
