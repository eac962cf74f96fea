"""The model recipes compared for what transfers to other crawls.

A :class:`Candidate` is one recipe for the cold-start popularity model and its hit classifier:
which columns of the cold-start matrix it reads, which training rows it learns from, what it
predicts (popularity, or popularity relative to the genre's mean), how strongly it is
regularised, and which inputs it saw blanked on part of its training rows. Everything else is
held fixed (the committed champion's fitted parameters, the fixed hit-classifier parameters),
so two candidates differ only in what the comparison asks about.

Why blanking: neither external crawl has an album name or an explicit flag, music_genre has
no time signature and Billboard no genre. A model trained with those inputs always present
meets them missing for the first time outside the data, and its external score then depends
on how the gap is encoded (``fill_sensitivity`` in ``models/external.json``). A model that saw
them missing on part of its training rows was taught what "unknown" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.external.in_data import copy_album_markers
from analysis.protocols import RANDOM_STATE, song_groups

__all__ = [
    "BLANKED_SHARE",
    "CANDIDATES",
    "CURRENT_RECIPE",
    "INPUT_GROUPS",
    "LACKING_INPUTS",
    "STRONGER_REGULARISATION",
    "Candidate",
    "blank_inputs",
    "candidate",
    "clean_training_rows",
    "columns_of",
    "input_columns",
    "reads",
]

#: Share of training rows on which each blanked input is removed (independently per input).
BLANKED_SHARE = 0.3

#: Inputs the crawls may lack, by the matrix columns they become.
INPUT_GROUPS: tuple[str, ...] = ("genre", "album", "explicit", "time_signature")

#: Which crawl lacks which input (the eligibility rule reads this).
LACKING_INPUTS: dict[str, tuple[str, ...]] = {
    "genre": ("billboard",),
    "album": ("music_genre", "billboard"),
    "explicit": ("music_genre", "billboard"),
    "time_signature": ("music_genre",),
}

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
        Inputs (:data:`INPUT_GROUPS`) removed on :data:`BLANKED_SHARE` of the training rows.
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

#: The recipe of the committed champion (every input, all rows); the selection rule keeps the
#: champion only if it chooses this one.
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


def candidate(name: str) -> Candidate:
    """The candidate called ``name``."""
    for c in CANDIDATES:
        if c.name == name:
            return c
    raise KeyError(f"no candidate {name!r}; expected one of {[c.name for c in CANDIDATES]}")


def _family(column: str) -> str:
    if column.startswith("genre_"):
        return "genre_labels"
    if column.startswith("macro_"):
        return "macro_genres"
    if column.startswith("album_") or column == "is_single":
        return "album"
    if column.startswith("title_"):
        return "title"
    return "other"


def input_columns(columns: list[str], group: str) -> list[str]:
    """The matrix columns an input of :data:`INPUT_GROUPS` becomes.

    Examples
    --------
    >>> input_columns(["energy", "genre_pop", "macro_pop", "album_live", "is_single"], "genre")
    ['genre_pop', 'macro_pop']
    """
    if group == "genre":
        return [c for c in columns if _family(c) in _NO_GENRE]
    if group == "album":
        return [c for c in columns if _family(c) == "album"]
    if group in ("explicit", "time_signature"):
        return [c for c in columns if c == group]
    raise ValueError(f"unknown input {group!r}; expected one of {INPUT_GROUPS}")


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
    return [c for c in columns if _family(c) not in recipe.drop]


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


def blank_inputs(matrix: pd.DataFrame, groups: tuple[str, ...], *, share: float = BLANKED_SHARE,
                 seed: int = RANDOM_STATE) -> pd.DataFrame:
    """``matrix`` with each input of ``groups`` removed on ``share`` of the rows, drawn
    independently per input (seeded): genre flags all 0 (what a track of unknown genre
    gets), every other input missing (NaN).

    Examples
    --------
    >>> X = pd.DataFrame({"energy": [0.5] * 4, "explicit": [1.0] * 4})
    >>> int(blank_inputs(X, ("explicit",), share=0.5)["explicit"].isna().sum())
    2
    """
    out = matrix.copy()
    columns = list(matrix.columns)
    for offset, group in enumerate(INPUT_GROUPS):
        if group not in groups:
            continue
        rng = np.random.default_rng(seed + offset)
        rows = rng.permutation(len(out))[: int(round(share * len(out)))]
        cols = input_columns(columns, group)
        positions = [columns.index(c) for c in cols]
        out.iloc[rows, positions] = 0.0 if group == "genre" else np.nan
    return out
