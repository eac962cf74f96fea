"""The model recipes compared for what transfers to other crawls.

A :class:`Candidate` is one recipe for the cold-start popularity model and its hit classifier:
which columns of the cold-start matrix it reads, which training rows it learns from, what it
predicts (popularity, or popularity relative to the genre's mean), how strongly it is
regularised, and which inputs it saw blanked on part of its training rows. Everything else is
held fixed (the committed champion's fitted parameters, the fixed hit-classifier parameters),
so two candidates differ only in what the comparison asks about.

Why blanking (:mod:`analysis.models.blanking`): a model trained with every input always
present meets the inputs other crawls lack missing for the first time outside the data, and
its external score then depends on how the gap is encoded (``fill_sensitivity`` in
``models/external.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.external.in_data import copy_album_markers
from analysis.models.blanking import INPUT_GROUPS, column_family, input_columns
from analysis.protocols import song_groups

__all__ = [
    "CANDIDATES",
    "CURRENT_RECIPE",
    "STRONGER_REGULARISATION",
    "Candidate",
    "candidate",
    "clean_training_rows",
    "columns_of",
    "hit_classifier_recipe",
    "reads",
]

#: "Stronger regularisation": fewer, larger leaves, row and column sampling, a larger L2
#: penalty, more rounds at a lower rate (over the champion's parameters).
STRONGER_REGULARISATION: dict = {
    "max_leaves": 15, "min_child_weight": 200.0, "subsample": 0.8, "colsample_bytree": 0.6,
    "reg_lambda": 10.0, "n_estimators": 300, "learning_rate": 0.05,
}


@dataclass(frozen=True)
class Candidate:
    """One recipe.

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

    def regressor_params(self, champion_params: Mapping) -> dict:
        """The champion's fitted parameters, regularised more if asked."""
        params = dict(champion_params)
        if self.stronger_regularisation:
            params |= STRONGER_REGULARISATION
        return params


_NO_GENRE = ("genre_labels", "macro_genres")

#: The recipe both new-artist models had when the comparison ran (every input, all rows, never
#: blanked): what the selection rule measures its choice against (``current_recipe`` in
#: ``models/transfer.json``). The popularity model still follows it; the hit classifier has
#: followed the rule's choice since (:func:`hit_classifier_recipe`).
CURRENT_RECIPE = "champion_recipe"

#: Every recipe compared, the committed champion's first. The rule that chooses among them is
#: :mod:`analysis.external.selection`; training on the external crawls is not among them (their
#: sources are for evaluation only).
CANDIDATES: tuple[Candidate, ...] = (
    Candidate(CURRENT_RECIPE),
    Candidate("without_genre_labels", drop=("genre_labels",)),
    Candidate("without_genre", drop=_NO_GENRE),
    Candidate("without_genre_or_album", drop=(*_NO_GENRE, "album")),
    Candidate("without_genre_album_or_title", drop=(*_NO_GENRE, "album", "title")),
    Candidate("audio_only", drop=("all_but_audio",)),
    Candidate("champion_recipe_clean_rows", training_rows="clean"),
    Candidate("without_genre_or_album_clean_rows", drop=(*_NO_GENRE, "album"),
              training_rows="clean"),
    Candidate("without_genre_or_album_clean_rows_regularised", drop=(*_NO_GENRE, "album"),
              training_rows="clean", stronger_regularisation=True),
    Candidate("without_genre_or_album_relative_to_genre", drop=(*_NO_GENRE, "album"),
              target="relative_to_genre"),
    Candidate("all_inputs_blanked", blanked=INPUT_GROUPS),
    Candidate("all_inputs_blanked_clean_rows", training_rows="clean", blanked=INPUT_GROUPS),
    Candidate("macro_genres_blanked", drop=("genre_labels",), blanked=INPUT_GROUPS),
    Candidate("without_genre_or_album_blanked", drop=(*_NO_GENRE, "album"),
              blanked=("explicit", "time_signature")),
    Candidate("without_genre_or_album_clean_rows_blanked", drop=(*_NO_GENRE, "album"),
              training_rows="clean", blanked=("explicit", "time_signature")),
)


def hit_classifier_recipe(blanked: tuple[str, ...]) -> str:
    """The recipe a champion's hit classifier follows: every input, all rows, with the inputs
    ``blanked`` blanked in training (what the build records as its ``blanked_inputs``).

    Examples
    --------
    >>> hit_classifier_recipe(()), hit_classifier_recipe(INPUT_GROUPS)
    ('champion_recipe', 'all_inputs_blanked')
    """
    for c in CANDIDATES:
        if (not c.drop and c.training_rows == "all" and c.target == "popularity"
                and not c.stronger_regularisation and set(c.blanked) == set(blanked)):
            return c.name
    raise KeyError(f"no recipe reads every input of all rows with {list(blanked)} blanked")


def candidate(name: str) -> Candidate:
    """The candidate called ``name``."""
    for c in CANDIDATES:
        if c.name == name:
            return c
    raise KeyError(f"no candidate {name!r}; expected one of {[c.name for c in CANDIDATES]}")


def columns_of(recipe: Candidate, columns: list[str], audio: tuple[str, ...]) -> list[str]:
    """The columns ``recipe`` reads, in matrix order.

    Examples
    --------
    >>> cols = ["energy", "duration_ms", "explicit", "genre_pop", "macro_pop", "title_live"]
    >>> columns_of(Candidate("x", drop=("genre_labels",)), cols, ("energy",))
    ['energy', 'duration_ms', 'explicit', 'macro_pop', 'title_live']
    >>> columns_of(Candidate("y", drop=("all_but_audio",)), cols, ("energy",))
    ['energy', 'duration_ms']
    """
    if "all_but_audio" in recipe.drop:
        return [c for c in columns if c in (*audio, "duration_ms")]
    return [c for c in columns if column_family(c) not in recipe.drop]


def reads(recipe: Candidate, columns: list[str]) -> tuple[str, ...]:
    """The lacking-prone inputs (:data:`INPUT_GROUPS`) whose columns ``recipe`` reads."""
    return tuple(g for g in INPUT_GROUPS if input_columns(columns, g))


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
