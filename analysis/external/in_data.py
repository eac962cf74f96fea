"""The in-data counterparts of the external scores, from the committed out-of-fold predictions.

An external score means little alone: it is read against what the same kind of model scores
inside the crawl it was trained on. Those numbers come from the committed OOF files
(``models/oof``, :func:`analysis.models.load_oof`), scored with the same functions as the
external sets (:func:`analysis.external.evaluate.popularity_scores`); nothing is retrained.

Two slices of the training data:

``all``
    every track, as the modeling chapter scores them;
``new_release``
    the tracks that look like what the external crawls mostly hold, an original release
    with a real audience (:data:`NEW_RELEASE_DEFINITION`). The main crawl also holds
    compilation, seasonal and dated-album copies of songs, many at popularity 0, which a
    model learns to spot from the album name and which other crawls barely contain
    (:func:`analysis.external.findings.album_copies`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.external.evaluate import (
    INTERVAL_LEVEL,
    genre_rows,
    popularity_scores,
    prediction_scores,
)
from analysis.external.fill import MUSIC_GENRE_LABELS
from analysis.features import copy_album_markers
from analysis.models.artifacts import (
    champion_model,
    champion_names,
    load_oof,
    model_names,
    triage_entry,
)
from analysis.protocols import song_groups

__all__ = [
    "MATCHED_LABELS",
    "NEW_RELEASE_DEFINITION",
    "in_data_counterparts",
    "new_release_mask",
    "oof_predictions",
]

#: The training labels an external set's genres map to (:data:`MUSIC_GENRE_LABELS`), whose
#: in-data scores sit beside that set's per-genre scores.
MATCHED_LABELS: tuple[str, ...] = tuple(sorted(set(MUSIC_GENRE_LABELS.values())))

#: The new-release slice, in words (recorded in ``models/external.json``).
NEW_RELEASE_DEFINITION = (
    "popularity > 0; album name without a compilation, seasonal or dated marker; the song "
    "(credited artists + normalised title) has a single track id in the crawl"
)


def new_release_mask(tracks: pd.DataFrame) -> np.ndarray:
    """Whether each training track is in the new-release slice (:data:`NEW_RELEASE_DEFINITION`).

    Examples
    --------
    >>> t = pd.DataFrame({"artists": ["A", "A", "B", "C"], "popularity": [50, 40, 0, 30],
    ...                   "track_name": ["Hit", "Hit - Live", "Song", "Tune"],
    ...                   "album_name": ["Hit", "Live", "LP", "Christmas Songs"]})
    >>> new_release_mask(t).tolist()
    [False, False, False, False]
    >>> new_release_mask(t.assign(popularity=50, album_name="LP", track_name=list("wxyz"))
    ...                  ).tolist()
    [True, True, True, True]
    """
    copy = copy_album_markers(tracks).any(axis=1).to_numpy()
    groups = song_groups(tracks)
    single_version = np.bincount(groups)[groups] == 1
    return (tracks["popularity"].to_numpy() > 0) & ~copy & single_version


def oof_predictions(
    tracks: pd.DataFrame, protocol: str, model: str, column: str,
    models_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """One OOF column (``y_pred`` or ``p_hit``) aligned to ``tracks`` by ``track_id``.

    Raises
    ------
    ValueError
        If a track has no prediction, or the OOF file's ``y_true`` is not the track's
        popularity (the file belongs to other data).
    """
    oof = load_oof(protocol, model, models_dir, columns=["track_id", "y_true", column])
    oof = oof.set_index("track_id").reindex(tracks["track_id"])
    if oof[column].isna().any():
        missing = int(oof[column].isna().sum())
        raise ValueError(f"{protocol} × {model}: {missing} tracks have no out-of-fold "
                         "prediction; the OOF files belong to other data")
    if not np.array_equal(oof["y_true"].to_numpy("float64"),
                          tracks["popularity"].to_numpy("float64")):
        raise ValueError(f"{protocol} × {model}: the OOF y_true differs from the tracks' "
                         "popularity; the OOF files belong to other data")
    return oof[column].to_numpy("float64")


def in_data_counterparts(
    tracks: pd.DataFrame, metrics: Mapping, models_dir: str | os.PathLike | None = None,
) -> dict:
    """Each honest champion's OOF scores on all tracks and on the new-release slice.

    Parameters
    ----------
    tracks : pandas.DataFrame
        The cleaned training tracks (:func:`analysis.data.load_tracks`).
    metrics : mapping
        ``metrics.json`` of the same ``models_dir`` (which model is each champion, which the
        hit classifier).

    Returns
    -------
    dict
        Per champion (``cold_start``, ``known_artist``): ``model``, ``hit_model``, the
        :func:`~analysis.external.evaluate.popularity_scores` of ``all`` and ``new_release``
        (within-genre = within the 114 primary genres; with the coverage of the out-of-fold
        interval at :data:`~analysis.external.evaluate.INTERVAL_LEVEL`), ``by_genre``:
        the :func:`~analysis.external.evaluate.genre_rows` of all tracks whose primary genre
        is one of :data:`MATCHED_LABELS`, and ``models``: every model of the protocol's
        table, its out-of-fold predicted popularity scored by
        :func:`~analysis.external.evaluate.prediction_scores` on ``all`` tracks and on
        ``new_release``.
    """
    mask = new_release_mask(tracks)
    genre = tracks["primary_genre"].astype(str).to_numpy()
    y = tracks["popularity"].to_numpy("float64")
    matched = np.isin(genre, MATCHED_LABELS)
    pct = int(round(INTERVAL_LEVEL * 100))
    out = {}
    for protocol in champion_names(metrics):
        model = champion_model(metrics, protocol)
        hit_model = triage_entry(metrics, protocol)["model"]
        pred = oof_predictions(tracks, protocol, model, "y_pred", models_dir)
        p_hit = oof_predictions(tracks, protocol, hit_model, "p_hit", models_dir)
        lower = oof_predictions(tracks, protocol, model, f"lower_{pct}", models_dir)
        upper = oof_predictions(tracks, protocol, model, f"upper_{pct}", models_dir)
        out[protocol] = {
            "model": model, "hit_model": hit_model,
            "all": popularity_scores(y, pred, p_hit, genre, lower=lower, upper=upper),
            "new_release": popularity_scores(y[mask], pred[mask], p_hit[mask], genre[mask],
                                             lower=lower[mask], upper=upper[mask]),
            "by_genre": genre_rows(y[matched], pred[matched], p_hit[matched], genre[matched],
                                   lower=lower[matched], upper=upper[matched]),
            "models": {},
        }
        for name in model_names(metrics, protocol):
            every = oof_predictions(tracks, protocol, name, "y_pred", models_dir)
            out[protocol]["models"][name] = {
                "all": prediction_scores(y, every, genre),
                "new_release": prediction_scores(y[mask], every[mask], genre[mask])}
    return out
