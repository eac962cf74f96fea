"""Inputs a track may arrive without, and training a model to expect that.

Other crawls of Spotify lack inputs the main dataset always has: neither external crawl has
an album name or an explicit flag, music_genre has no time signature and Billboard no genre.
A model trained with those inputs always present meets them missing for the first time
outside the data. A model that saw them missing on part of its training rows
(:func:`blank_inputs`) was taught what "unknown" means; at prediction time such an input is
then given as missing (:func:`as_missing`) rather than guessed.

An input becomes columns of the model matrix (:func:`input_columns`); "missing" is NaN, except
for genre, whose one-hot flags are all 0 (what a track of unknown genre gets from
:func:`analysis.features.features_from_raw`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.protocols import RANDOM_STATE

__all__ = [
    "BLANKED_SHARE",
    "INPUT_GROUPS",
    "RAW_COLUMNS",
    "as_missing",
    "blank_inputs",
    "column_family",
    "input_columns",
    "inputs_read",
]

#: Share of training rows on which each blanked input is removed (independently per input).
BLANKED_SHARE = 0.3

#: Inputs a track may lack, by the matrix columns they become (:func:`input_columns`).
INPUT_GROUPS: tuple[str, ...] = ("genre", "album", "explicit", "time_signature")

#: The raw dataset column each input comes from.
RAW_COLUMNS: dict[str, str] = {"genre": "track_genre", "album": "album_name",
                               "explicit": "explicit", "time_signature": "time_signature"}

_GENRE_FAMILIES = ("genre_labels", "macro_genres")


def column_family(column: str) -> str:
    """The family of a model-matrix column: ``genre_labels``, ``macro_genres``, ``album``
    (album-name markers, ``is_single``), ``title`` or ``other``.

    Examples
    --------
    >>> [column_family(c) for c in ("genre_pop", "macro_pop", "is_single", "title_live", "energy")]
    ['genre_labels', 'macro_genres', 'album', 'title', 'other']
    """
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
        return [c for c in columns if column_family(c) in _GENRE_FAMILIES]
    if group == "album":
        return [c for c in columns if column_family(c) == "album"]
    if group in ("explicit", "time_signature"):
        return [c for c in columns if c == group]
    raise ValueError(f"unknown input {group!r}; expected one of {INPUT_GROUPS}")


def inputs_read(columns: list[str]) -> tuple[str, ...]:
    """The inputs of :data:`INPUT_GROUPS` a model whose matrix has ``columns`` reads.

    Examples
    --------
    >>> inputs_read(["energy", "explicit", "album_live"])
    ('album', 'explicit')
    """
    return tuple(g for g in INPUT_GROUPS if input_columns(columns, g))


def _missing_value(group: str) -> float:
    return 0.0 if group == "genre" else np.nan


def blank_inputs(matrix: pd.DataFrame, groups: tuple[str, ...], *, share: float = BLANKED_SHARE,
                 seed: int = RANDOM_STATE) -> pd.DataFrame:
    """``matrix`` with each input of ``groups`` removed on ``share`` of the rows, drawn
    independently per input (seeded), for training.

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
        positions = [columns.index(c) for c in input_columns(columns, group)]
        out.iloc[rows, positions] = _missing_value(group)
    return out


def as_missing(matrix: pd.DataFrame, groups: tuple[str, ...]) -> pd.DataFrame:
    """``matrix`` with every input of ``groups`` missing on every row, for prediction.

    Examples
    --------
    >>> X = pd.DataFrame({"genre_pop": [1.0], "explicit": [1.0], "energy": [0.5]})
    >>> as_missing(X, ("genre", "explicit")).iloc[0].tolist()
    [0.0, nan, 0.5]
    """
    out = matrix.copy()
    columns = list(matrix.columns)
    for group in groups:
        out[input_columns(columns, group)] = _missing_value(group)
    return out
