"""The inputs each crawl lacks, filled by one stated rule per set.

The champions read a track in the raw dataset's columns
(:func:`analysis.features.features_from_raw`). Neither crawl has all of them, and whatever
stands in for a missing input is a choice that moves the score. So each set gets **one**
rule per input, written down here (:data:`FILL_RULES`, recorded in ``models/external.json``)
and applied by :func:`fill_music_genre` / :func:`fill_billboard`; nothing else is tried on
the scored numbers.

Album name unknown: **missing**, not blank
    With the album missing, every album feature (compilation, dated, seasonal, deluxe, live
    and soundtrack markers, ``is_single``, ``album_non_ascii``) is missing and the trees take
    their default branch: the model is told it does not know. A blank name would instead
    tell it "a regular album, no compilation, not a single", a claim about every track that
    nobody made. Neither is what the model saw in training (every Kaggle track has an album),
    and the current champion's external score swings widely between the two; that swing is
    recorded beside the scores (``fill_sensitivity``), never hidden by picking the better one.

Genre unknown (Billboard)
    The prediction and the hit probability are the means over all 114 labels, each with its
    macro-genre (:func:`analysis.external.evaluate.predict_over_genres`): no label is
    favoured, and every label the model knows is asked.

A model that saw an input missing in training: **missing**
    The rules above stand in for inputs a model has never seen absent. A model trained with
    an input blanked on part of its rows (:mod:`analysis.models.blanking`; the new-artist hit
    classifier) was taught what its absence means, so every input the set lacks that it saw
    blanked is given to it as missing instead (:func:`given_as_missing`; genre: no flag set,
    not averaged). Which inputs that was is recorded beside the rules in
    ``models/external.json``.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from analysis.genres import load_taxonomy
from analysis.schema import AUDIO_COLUMNS

__all__ = [
    "ALBUM_BLANK",
    "ALBUM_ENCODINGS",
    "ALBUM_MISSING",
    "FILL_RULES",
    "MODEL_INPUTS",
    "MUSIC_GENRE_LABELS",
    "fill_billboard",
    "fill_music_genre",
    "LACKING_INPUTS",
    "genre_labels",
    "given_as_missing",
    "lacking",
]

#: The rule's album encoding, and the alternative the sensitivity check scores.
ALBUM_MISSING, ALBUM_BLANK = "missing", "blank"
ALBUM_ENCODINGS: tuple[str, ...] = (ALBUM_MISSING, ALBUM_BLANK)

AlbumEncoding = Literal["missing", "blank"]

#: The raw columns a champion reads (``popularity`` is the answer, never an input).
MODEL_INPUTS: tuple[str, ...] = (
    "artists", "album_name", "track_name", "duration_ms", "explicit", *AUDIO_COLUMNS,
    "track_genre",
)

#: music_genre's genre -> a label of ``analysis/macro_genres.csv``: the label of the same name
#: (case-folded), and for Rap, which has none among the 114, ``hip-hop`` (the only rap label).
MUSIC_GENRE_LABELS: dict[str, str] = {
    "Alternative": "alternative", "Anime": "anime", "Blues": "blues",
    "Classical": "classical", "Country": "country", "Electronic": "electronic",
    "Hip-Hop": "hip-hop", "Jazz": "jazz", "Rap": "hip-hop", "Rock": "rock",
}

_ALBUM_WORDS = ("unknown: left missing, so every album feature is missing and the trees take "
                "their default branch (a blank name would claim a regular, non-compilation "
                "album)")

#: Each set's rule for every input it lacks or spells differently, in words.
FILL_RULES: dict[str, dict[str, str]] = {
    "music_genre": {
        "track_genre": "the set's genre mapped to the main dataset's label of the same name; "
                       "Rap, which has no label among the 114, to hip-hop (the only rap "
                       "label); the macro-genre follows from the label",
        "album_name": _ALBUM_WORDS,
        "explicit": "False (the set does not say)",
        "time_signature": "4 (the set does not say; 4/4 is the main dataset's most common "
                          "value)",
        "artists": "artist_name (one artist per row)",
        "key": "note name C..B as pitch class 0..11, mode Major/Minor as 1/0 (the main "
               "dataset's encoding)",
    },
    "billboard": {
        "track_genre": "unknown: prediction and hit probability are the means over all 114 "
                       "genre labels, each with its macro-genre",
        "album_name": _ALBUM_WORDS,
        "explicit": "False (the set does not say)",
        "artists": "artist, with 'A Featuring B' written 'A;B' as in the main dataset",
    },
}


#: Which crawl lacks which input of :data:`analysis.models.blanking.INPUT_GROUPS`.
LACKING_INPUTS: dict[str, tuple[str, ...]] = {
    "genre": ("billboard",),
    "album": ("music_genre", "billboard"),
    "explicit": ("music_genre", "billboard"),
    "time_signature": ("music_genre",),
}


def lacking(set_name: str) -> tuple[str, ...]:
    """The inputs of :data:`analysis.models.blanking.INPUT_GROUPS` that ``set_name`` lacks.

    Examples
    --------
    >>> lacking("music_genre"), lacking("billboard")
    (('album', 'explicit', 'time_signature'), ('genre', 'album', 'explicit'))
    """
    return tuple(g for g, sets in LACKING_INPUTS.items() if set_name in sets)


def given_as_missing(set_name: str, blanked: tuple[str, ...]) -> tuple[str, ...]:
    """The inputs a model trained with ``blanked`` inputs gets as missing on ``set_name``
    (those the set lacks), instead of by the set's fill rule.

    A model that saw an input missing in training is told "unknown" rather than given a
    guess; a model that never saw it missing gets the rule's stand-in.

    Examples
    --------
    >>> given_as_missing("music_genre", ("genre", "album", "explicit", "time_signature"))
    ('album', 'explicit', 'time_signature')
    >>> given_as_missing("billboard", ())
    ()
    """
    return tuple(g for g in blanked if g in lacking(set_name))


def _album(index: pd.Index, album: AlbumEncoding) -> pd.Series:
    if album == ALBUM_MISSING:
        return pd.Series(pd.NA, index=index, dtype="string")
    if album == ALBUM_BLANK:
        return pd.Series("", index=index, dtype="string")
    raise ValueError(f"album must be one of {ALBUM_ENCODINGS}, got {album!r}")


def fill_music_genre(tracks: pd.DataFrame, *, album: AlbumEncoding = ALBUM_MISSING
                     ) -> pd.DataFrame:
    """music_genre tracks as a champion reads them (:data:`MODEL_INPUTS`), by its rule.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Deduplicated tracks (:func:`analysis.external.tracks.dedupe_music_genre`).
    album : {"missing", "blank"}
        The rule is ``"missing"``; ``"blank"`` exists only to measure the sensitivity.

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A"], "track_name": ["S"], "duration_ms": [1000],
    ...                   "source_genre": ["Rap"], **{c: [0.5] for c in AUDIO_COLUMNS
    ...                                               if c != "time_signature"}})
    >>> filled = fill_music_genre(t)
    >>> filled[["track_genre", "explicit", "time_signature"]].to_dict("records")
    [{'track_genre': 'hip-hop', 'explicit': False, 'time_signature': 4}]
    >>> bool(pd.isna(filled.loc[0, "album_name"]))
    True
    """
    unknown = sorted(set(tracks["source_genre"]) - set(MUSIC_GENRE_LABELS))
    if unknown:
        raise ValueError(f"no label for music_genre genre(s) {unknown}")
    out = pd.DataFrame({
        "artists": tracks["artists"], "album_name": _album(tracks.index, album),
        "track_name": tracks["track_name"], "duration_ms": tracks["duration_ms"],
        "explicit": False,
        **{c: tracks[c] for c in AUDIO_COLUMNS if c != "time_signature"},
        "time_signature": 4,
        "track_genre": tracks["source_genre"].map(MUSIC_GENRE_LABELS),
    }, index=tracks.index)
    return out[list(MODEL_INPUTS)]


def fill_billboard(tracks: pd.DataFrame, *, album: AlbumEncoding = ALBUM_MISSING
                   ) -> pd.DataFrame:
    """Billboard tracks as a champion reads them, without ``track_genre`` (unknown: the
    evaluation averages over every label, :func:`~analysis.external.evaluate.predict_over_genres`).

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A;B"], "track_name": ["S"], "duration_ms": [1000],
    ...                   **{c: [1] for c in AUDIO_COLUMNS}})
    >>> list(fill_billboard(t, album="blank").columns) == list(MODEL_INPUTS[:-1])
    True
    """
    out = pd.DataFrame({
        "artists": tracks["artists"], "album_name": _album(tracks.index, album),
        "track_name": tracks["track_name"], "duration_ms": tracks["duration_ms"],
        "explicit": False, **{c: tracks[c] for c in AUDIO_COLUMNS},
    }, index=tracks.index)
    return out[[c for c in MODEL_INPUTS if c != "track_genre"]]


def genre_labels() -> list[str]:
    """The 114 labels a genre-less track is averaged over, in taxonomy order.

    Examples
    --------
    >>> labels = genre_labels()
    >>> len(labels), "hip-hop" in labels
    (114, True)
    """
    return load_taxonomy()["genre"].tolist()
