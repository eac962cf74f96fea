"""Build ``models/external.json``: the committed champions scored on other crawls.

:func:`build_external` (``python -m analysis.cli external``, ``make external``) reads both
crawls and the training data first, so a file that cannot be read stops the build before
anything is written; then it narrows each crawl to the tracks it scores, fills what each set
lacks by its rule, scores the champions, computes the in-data counterparts from the
committed OOF predictions and the findings, and writes one JSON file atomically. Nothing is
trained; the output depends only on the input files and the committed models, so two runs
write the same bytes (no timings inside).

Cost: about two to three minutes on 2 cores, most of it the Billboard predictions averaged
over 114 genres, twice (album missing and, for the sensitivity, blank).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.artifacts import versions
from analysis.external.artifacts import SCHEMA_VERSION, write_external
from analysis.external.evaluate import (
    INTERVAL_LEVEL,
    MIN_GENRE_TRACKS,
    TOP_DECILE,
    billboard_scores,
    genre_rows,
    popularity_scores,
    predict_over_genres,
)
from analysis.external.fill import (
    ALBUM_ENCODINGS,
    ALBUM_MISSING,
    FILL_RULES,
    MUSIC_GENRE_LABELS,
    fill_billboard,
    fill_music_genre,
    genre_labels,
    given_as_missing,
    lacking,
)
from analysis.external.findings import album_copies, artist_history_across_crawls
from analysis.external.in_data import NEW_RELEASE_DEFINITION, in_data_counterparts
from analysis.external.sources import (
    BILLBOARD,
    EXTERNAL_SETS,
    MUSIC_GENRE,
    describe_sources,
    locate_set,
)
from analysis.external.tracks import prepare_set
from analysis.external.validation import (
    ReadResult,
    read_billboard,
    read_music_genre,
    reject_summary,
)
from analysis.models.artifacts import champion_entry, champion_model
from analysis.models.blanking import inputs_read
from analysis.models.scoring import (
    roc_auc,
    score_predictions,
    spearman_within,
    top_share_precision,
)
from analysis.models.settings import HIT_THRESHOLD
from analysis.protocols import primary_artist_key

__all__ = ["ISSUE_TARGETS", "build_external", "external_report", "locate_sources", "read_inputs",
           "read_sets"]

#: Issue 13's targets, recorded so the pages can read the scores against them.
ISSUE_TARGETS: dict[str, float] = {
    "music_genre_spearman_within_genre": 0.20,
    "music_genre_hit_auc": 0.85,
    "billboard_hit_auc": 0.85,
}

#: Packages whose versions the artifact records.
_VERSIONED = ("numpy", "pandas", "scipy", "scikit-learn", "xgboost", "pandera")

#: Genre encodings of the sensitivity check: the set's rule, or no genre at all.
_GENRE_RULE, _GENRE_NONE = "rule", "none"


def locate_sources(folder: str | os.PathLike | None = None, *, download: bool = True
                   ) -> dict[str, Path]:
    """Every external file, located and verified (:mod:`analysis.external.sources`):
    ``{stem: path}``, music_genre first, then the six Billboard decades in order."""
    located: dict[str, Path] = {}
    for external_set in EXTERNAL_SETS.values():
        located |= locate_set(external_set, folder, download=download)
    return located


def _billboard_stems(files: Mapping[str, object]) -> list[str]:
    registered = [f.stem for f in BILLBOARD.files]
    return [s for s in registered if s in files] + sorted(
        s for s in files if s.startswith("hit_predictor_") and s not in registered)


def read_sets(files: Mapping[str, str | os.PathLike | bytes]) -> tuple[ReadResult, ReadResult]:
    """Both crawls read and validated from ``{stem: file}`` (:func:`locate_sources`)."""
    music_genre = read_music_genre(files[MUSIC_GENRE.name], name=MUSIC_GENRE.name)
    billboard = read_billboard({stem: files[stem] for stem in _billboard_stems(files)})
    return music_genre, billboard


def read_inputs(
    models_dir: str | os.PathLike | None = None, *,
    files: Mapping[str, str | os.PathLike] | None = None,
    external_dir: str | os.PathLike | None = None, download: bool = True, data=None,
) -> tuple[ReadResult, ReadResult, object, dict]:
    """Everything a build over the crawls reads, before it computes anything: both crawls
    (located, verified and validated), the training data (:func:`analysis.data.load_tracks`
    unless given) and ``metrics.json``."""
    from analysis.data import load_tracks
    from analysis.models import load_metrics

    if files is None:
        files = locate_sources(external_dir, download=download)
    music_genre, billboard = read_sets(files)
    data = data if data is not None else load_tracks()
    return music_genre, billboard, data, load_metrics(models_dir)


def _champion_on(champion, filled: pd.DataFrame, set_name: str) -> dict:
    """A champion's prediction, interval and hit probability of a crawl's filled tracks; the
    inputs the set lacks that a model saw missing in training are given to it as missing
    (:func:`~analysis.external.fill.given_as_missing`)."""
    X = champion.features(filled, name=set_name)
    prediction = champion.predict_without(
        X, given_as_missing(set_name, champion.popularity_blanked))
    lower, upper = champion.interval_bounds(X, prediction, confidence=INTERVAL_LEVEL)
    hit_probability = champion.hit_probability_without(
        X, given_as_missing(set_name, champion.hit_blanked))
    return {"prediction": prediction, "hit_probability": hit_probability, "lower": lower,
            "upper": upper}


def _asked_without(set_name: str, champion) -> dict:
    """The inputs the set lacks that each of the champion's models is asked without (it saw
    them missing in training), as ``external.json`` records them per set."""
    return {"hit_classifier_given_as_missing": list(
                given_as_missing(set_name, champion.hit_blanked)),
            "popularity_model_given_as_missing": list(
                given_as_missing(set_name, champion.popularity_blanked))}


def _score_music_genre(champion, tracks: pd.DataFrame, *, album: str, genre: str) -> dict:
    filled = fill_music_genre(tracks, album=album)
    if genre == _GENRE_NONE:
        filled = filled.drop(columns="track_genre")
    return _champion_on(champion, filled, MUSIC_GENRE.name)


def _score_billboard(champion, tracks: pd.DataFrame, *, album: str, genre: str) -> dict:
    genres = genre_labels() if genre == _GENRE_RULE else [None]
    pred, p_hit = predict_over_genres(
        champion, fill_billboard(tracks, album=album), genres, name=BILLBOARD.name,
        lacking=lacking(BILLBOARD.name))
    return {"prediction": pred, "hit_probability": p_hit}


def _sensitivity(champion, tracks: pd.DataFrame, score: Callable, summarise: Callable,
                 log: Callable[[str], None], name: str) -> tuple[list[dict], dict]:
    """Every album x genre encoding scored; returns the rows and the rule's predictions."""
    rows, rule = [], None
    for album in ALBUM_ENCODINGS:
        for genre in (_GENRE_RULE, _GENRE_NONE):
            start = time.perf_counter()
            predicted = score(champion, tracks, album=album, genre=genre)
            is_rule = album == ALBUM_MISSING and genre == _GENRE_RULE
            if is_rule:
                rule = predicted
            rows.append({"album": album, "genre": genre, "rule": is_rule,
                         **summarise(predicted)})
            log(f"  {name}: album {album}, genre {genre} in "
                f"{time.perf_counter() - start:.1f} s")
    return rows, rule


def _music_genre_section(read: ReadResult, training: pd.DataFrame, cold_start, known_artist,
                         log: Callable[[str], None]) -> tuple[dict, list[dict], pd.DataFrame]:
    tracks, scored, track_counts = prepare_set(MUSIC_GENRE.name, read.rows, training)
    y = scored["popularity"].to_numpy("float64")
    genre = scored["source_genre"].to_numpy()

    def summarise(predicted: dict) -> dict:
        return popularity_scores(y, predicted["prediction"], predicted["hit_probability"], genre,
                                 lower=predicted["lower"], upper=predicted["upper"])

    sensitivity, rule = _sensitivity(cold_start, scored, _score_music_genre, summarise, log,
                                     MUSIC_GENRE.name)
    counts = {**reject_summary(read), **track_counts,
              "scored_by_genre": {str(k): int(v) for k, v in
                                  scored["source_genre"].value_counts().sort_index().items()}}
    section = {
        "counts": counts,
        "fill": FILL_RULES[MUSIC_GENRE.name],
        **_asked_without(MUSIC_GENRE.name, cold_start),
        "genre_labels": MUSIC_GENRE_LABELS,
        "metrics": {"cold_start": summarise(rule)},
        "by_genre": {"cold_start": genre_rows(y, rule["prediction"], rule["hit_probability"],
                                              genre, lower=rule["lower"],
                                              upper=rule["upper"])},
        "known_artists": _known_artists(scored, cold_start, known_artist),
    }
    return section, sensitivity, tracks


def _known_subset(scored: pd.DataFrame, known_artist) -> tuple[dict, pd.DataFrame]:
    """The scored tracks whose primary artist the Kaggle data holds, and their count."""
    known = primary_artist_key(scored["artists"]).isin(
        known_artist.artist_history.stats.index).to_numpy()
    return ({"tracks": int(known.sum()), "of_scored": int(len(scored))},
            scored[known].reset_index(drop=True))


def _artist_mean(known_artist, subset: pd.DataFrame) -> np.ndarray:
    """Each track's primary artist's mean popularity in the Kaggle data (the lookup alone)."""
    return known_artist.artist_history.transform(subset[["artists"]])[
        "artist_mean_popularity"].to_numpy()


def _known_artists(scored: pd.DataFrame, cold_start, known_artist) -> dict:
    """Both champions on the music_genre tracks whose primary artist the Kaggle data holds,
    the known-artist one with that artist's Kaggle history (as ``Champion.predict`` looks it
    up), and that history's mean alone."""
    out, subset = _known_subset(scored, known_artist)
    if subset.empty:
        return out
    filled = fill_music_genre(subset)
    y = subset["popularity"].to_numpy("float64")
    genre = subset["source_genre"].to_numpy()
    for name, champion in (("known_artist", known_artist), ("cold_start", cold_start)):
        scores = _champion_on(champion, filled, MUSIC_GENRE.name)
        out[name] = popularity_scores(y, scores["prediction"], scores["hit_probability"], genre,
                                      lower=scores["lower"], upper=scores["upper"])
    mean = _artist_mean(known_artist, subset)
    within, n_genres = spearman_within(y, mean, genre)
    out["artist_mean_alone"] = {"spearman": score_predictions(y, mean)["spearman"],
                                "spearman_within_genre": within, "genres_scored": n_genres}
    return out


def _known_artists_billboard(scored: pd.DataFrame, cold_start, known_artist) -> dict:
    """Both champions on the Billboard tracks whose primary artist the Kaggle data holds (genre
    unknown: as the set's rule averages it), and the artist's Kaggle mean alone, against the
    hit/flop label."""
    out, subset = _known_subset(scored, known_artist)
    if subset.empty:
        return out
    target = subset["target"].to_numpy()
    for name, champion in (("known_artist", known_artist), ("cold_start", cold_start)):
        scores = _score_billboard(champion, subset, album=ALBUM_MISSING, genre=_GENRE_RULE)
        out[name] = billboard_scores(target, scores["hit_probability"], scores["prediction"])
    mean = _artist_mean(known_artist, subset)
    out["artist_mean_alone"] = {
        "prediction_auc": roc_auc(target == 1, mean),
        "prediction_top_decile_precision": top_share_precision(target == 1, mean, TOP_DECILE)}
    return out


def _billboard_section(read: ReadResult, training: pd.DataFrame, cold_start, known_artist,
                       log: Callable[[str], None]) -> tuple[dict, list[dict]]:
    _, scored, track_counts = prepare_set(BILLBOARD.name, read.rows, training)
    target = scored["target"].to_numpy()

    def summarise(predicted: dict) -> dict:
        return billboard_scores(target, predicted["hit_probability"], predicted["prediction"])

    sensitivity, rule = _sensitivity(cold_start, scored, _score_billboard, summarise, log,
                                     BILLBOARD.name)
    decade = scored["decade"].to_numpy()
    by_decade = [{"decade": d, **billboard_scores(target[decade == d],
                                                  rule["hit_probability"][decade == d],
                                                  rule["prediction"][decade == d])}
                 for d in dict.fromkeys(decade)]
    counts = {**reject_summary(read), **track_counts,
              "scored_hits": int((target == 1).sum()), "scored_flops": int((target == 0).sum())}
    section = {
        "counts": counts,
        "fill": FILL_RULES[BILLBOARD.name],
        **_asked_without(BILLBOARD.name, cold_start),
        "metrics": {"cold_start": summarise(rule)},
        "by_decade": {"cold_start": by_decade},
        "known_artists": _known_artists_billboard(scored, cold_start, known_artist),
    }
    return section, sensitivity


def external_report(
    *, music_genre: ReadResult, billboard: ReadResult, training: pd.DataFrame,
    training_sha256: str, metrics: Mapping, cold_start, known_artist,
    models_dir: str | os.PathLike | None = None, log: Callable[[str], None] = print,
) -> dict:
    """Everything ``models/external.json`` holds, from inputs already read.

    Parameters
    ----------
    music_genre, billboard : ReadResult
        The crawls as :func:`~analysis.external.validation.read_music_genre` and
        :func:`~analysis.external.validation.read_billboard` read them.
    training : pandas.DataFrame
        The cleaned training tracks the champions were built from.
    metrics : mapping
        ``metrics.json`` of ``models_dir`` (champion and hit-classifier names).
    cold_start, known_artist : analysis.models.Champion
        The committed champions.
    """
    mg_section, mg_sensitivity, mg_tracks = _music_genre_section(
        music_genre, training, cold_start, known_artist, log)
    bb_section, bb_sensitivity = _billboard_section(billboard, training, cold_start,
                                                    known_artist, log)
    start = time.perf_counter()
    in_data = in_data_counterparts(training, metrics, models_dir)
    findings = {"artist_history": artist_history_across_crawls(training, mg_tracks),
                "album_copies": album_copies(training)}
    log(f"  in-data counterparts and findings in {time.perf_counter() - start:.1f} s")
    read_sha256 = {stem: info["sha256"] for read in (music_genre, billboard)
                   for stem, info in read.files.items()}
    return {
        "schema_version": SCHEMA_VERSION,
        "hit_threshold": HIT_THRESHOLD,
        "min_genre_tracks": MIN_GENRE_TRACKS,
        "top_decile": TOP_DECILE,
        "interval_level": INTERVAL_LEVEL,
        "targets": ISSUE_TARGETS,
        "training_data_sha256": training_sha256,
        "champions": {c.name: {"model": champion_model(metrics, c.name),
                               "manifest_sha256": champion_entry(metrics, c.name)[
                                   "manifest_sha256"],
                               "popularity_reads": list(inputs_read(c.popularity_features))}
                      for c in (cold_start, known_artist)},
        "sources": describe_sources(read_sha256),
        "sets": {MUSIC_GENRE.name: mg_section, BILLBOARD.name: bb_section},
        "in_data": {"new_release_definition": NEW_RELEASE_DEFINITION, **in_data},
        "fill_sensitivity": {MUSIC_GENRE.name: mg_sensitivity, BILLBOARD.name: bb_sensitivity},
        "findings": findings,
        "versions": versions(_VERSIONED),
    }


def build_external(
    models_dir: str | os.PathLike | None = None, *,
    files: Mapping[str, str | os.PathLike] | None = None,
    external_dir: str | os.PathLike | None = None, data=None, download: bool = True,
    out: str | os.PathLike | None = None, log: Callable[[str], None] = print,
) -> dict:
    """Read, score and write ``models/external.json``; return what was written (as
    :func:`~analysis.external.artifacts.load_external` would read it back).

    Parameters
    ----------
    models_dir : path, optional
        The committed ``models/`` by default (its champions, OOF files and metrics.json).
    files : mapping, optional
        ``{stem: file}`` to read instead of locating the registered files (tests use
        synthetic ones; their hashes are recorded as read, ``verified`` false).
    external_dir : path, optional
        Explicit folder of the external files (see :func:`locate_sources`).
    data : analysis.data.TrackData, optional
        The cleaned training data; :func:`analysis.data.load_tracks` by default.
    out : path, optional
        Where to write; ``models_dir/external.json`` by default.

    Raises
    ------
    analysis.schema.TrackDataError
        If an external file cannot be read as its table (nothing is written).
    analysis.data.DatasetError
        If a file is missing or does not verify (nothing is written).
    """
    from analysis.models import load

    start = time.perf_counter()
    music_genre, billboard, data, metrics = read_inputs(
        models_dir, files=files, external_dir=external_dir, download=download, data=data)
    cold_start = load("cold_start", models_dir=models_dir)
    known_artist = load("known_artist", models_dir=models_dir)
    log(f"read {music_genre.read + billboard.read:,} external rows and "
        f"{len(data.tracks):,} training tracks in {time.perf_counter() - start:.1f} s")
    report = external_report(music_genre=music_genre, billboard=billboard,
                             training=data.tracks, training_sha256=data.sha256,
                             metrics=metrics, cold_start=cold_start, known_artist=known_artist,
                             models_dir=models_dir, log=log)
    target = Path(out) if out is not None else paths.external_file(models_dir)
    written = write_external(report, target)
    log(f"wrote {target} in {time.perf_counter() - start:.1f} s")
    return json.loads(written)
