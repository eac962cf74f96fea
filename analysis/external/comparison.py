"""Which recipe transfers to other crawls, and which in-data measure would have said so.

Every recipe of :data:`~analysis.external.candidates.CANDIDATES` is scored on the same things:

``in_data``
    Out of fold on the cold-start folds (:func:`analysis.protocols.cold_start_folds`), all
    tracks: pooled and within-genre Spearman, R², MAE, the hit classifier's ROC-AUC.
``new_release``
    The same predictions on the new-release slice
    (:data:`~analysis.external.in_data.NEW_RELEASE_DEFINITION`).
``macro_genre_holdout``
    Each macro-genre predicted by a model that never saw it nor its artists
    (:func:`analysis.protocols.macro_genre_holdout_folds`): the mean Spearman inside the
    held-out macro-genres, and the within-genre Spearman of those predictions.
``music_genre`` / ``billboard``
    Fitted on all training tracks (of the recipe's training rows), scored on the crawls'
    tracks that are not in the training data, inputs filled by each set's rule
    (:mod:`analysis.external.fill`), except that an input the set lacks and the recipe was
    trained with blanked is given as missing.

:func:`known_artist_by_album` scores the known-artist champion's recipe under album-grouped
folds beside its song-grouped out-of-fold predictions. :func:`build_transfer`
(``python -m analysis.cli transfer``, ``make transfer``) writes everything, with the agreement
of in-data and external measures and the rule's choice (:mod:`analysis.external.selection`),
to ``models/transfer.json``. Cost: about half an hour on 2 cores (15 recipes x 22 fits).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.artifacts import atomic_write, dumps_json, versions
from analysis.external.candidates import CANDIDATES
from analysis.external.evaluate import (
    billboard_scores,
    mean_over_genres,
    popularity_scores,
    prediction_scores,
)
from analysis.external.fill import (
    fill_billboard,
    fill_music_genre,
    genre_labels,
    given_as_missing,
)
from analysis.external.in_data import NEW_RELEASE_DEFINITION, new_release_mask, oof_predictions
from analysis.external.selection import SELECTION_RULE, agreement_report, select
from analysis.external.sources import BILLBOARD, MUSIC_GENRE
from analysis.external.tracks import prepare_set
from analysis.external.transfer_artifact import TRANSFER_SCHEMA_VERSION
from analysis.models.blanking import BLANKED_SHARE, as_missing, inputs_read
from analysis.models.design import as_array, design_matrix
from analysis.models.recipes import (
    STRONGER_REGULARISATION,
    Recipe,
    columns_of,
    fit_rows,
    training_mask,
)
from analysis.models.scoring import spearman, spearman_within
from analysis.models.settings import HIT_CLASSIFIER_SETTINGS, HIT_THRESHOLD, XGB_DEFAULTS
from analysis.protocols import (
    HONEST_PROTOCOLS,
    RANDOM_STATE,
    album_groups,
    album_seen_in_training,
    cold_start_folds,
    known_artist_by_album_folds,
    known_artist_folds,
    macro_genre_holdout_folds,
)
from analysis.schema import AUDIO_COLUMNS

__all__ = [
    "SCHEMA_VERSION",
    "ExternalSide",
    "FittedRecipe",
    "TrainingSide",
    "build_transfer",
    "compare_recipes",
    "fit_recipe",
    "honest_models_external",
    "known_artist_by_album",
    "score_recipe",
]

SCHEMA_VERSION = TRANSFER_SCHEMA_VERSION

#: Threads per fit (the build machine has 2 cores; results do not depend on it).
N_JOBS = 2

_VERSIONED = ("numpy", "pandas", "scipy", "scikit-learn", "xgboost")


@dataclass
class TrainingSide:
    """The training crawl as every recipe reads it, computed once."""

    tracks: pd.DataFrame      # cleaned tracks, positional index
    matrix: pd.DataFrame      # the cold-start matrix (every column)
    folds: np.ndarray         # cold-start folds
    new_release: np.ndarray   # bool per track

    @classmethod
    def of(cls, tracks: pd.DataFrame, n_splits: int | None = None) -> TrainingSide:
        from analysis.features import make_features

        tracks = tracks.reset_index(drop=True)
        folds = (cold_start_folds(tracks) if n_splits is None
                 else cold_start_folds(tracks, n_splits=n_splits))
        return cls(tracks=tracks, matrix=make_features(tracks, protocol="cold_start"),
                   folds=folds, new_release=new_release_mask(tracks))

    @property
    def y(self) -> np.ndarray:
        return self.tracks["popularity"].to_numpy(dtype="float64")

    @property
    def genre(self) -> np.ndarray:
        return self.tracks["primary_genre"].astype(str).to_numpy()


@dataclass
class ExternalSide:
    """One crawl's scored tracks as a cold-start matrix filled by the set's rule."""

    name: str
    matrix: pd.DataFrame
    labels: np.ndarray | None       # the training genre label per track; None: unknown
    outcome: np.ndarray             # popularity (music_genre) or hit/flop target (billboard)
    groups: np.ndarray | None       # the set's own genre (music_genre), for within-genre
    artists: pd.Series | None = None  # credited artists (the known-artist models' lookup)

    @classmethod
    def music_genre(cls, scored: pd.DataFrame) -> ExternalSide:
        from analysis.features import features_from_raw

        filled = fill_music_genre(scored)
        return cls(MUSIC_GENRE.name,
                   features_from_raw(filled, protocol="cold_start", name=MUSIC_GENRE.name),
                   filled["track_genre"].astype(str).to_numpy(),
                   scored["popularity"].to_numpy(dtype="float64"),
                   scored["source_genre"].astype(str).to_numpy(), filled["artists"])

    @classmethod
    def billboard(cls, scored: pd.DataFrame) -> ExternalSide:
        from analysis.features import features_from_raw

        filled = fill_billboard(scored)
        return cls(BILLBOARD.name,
                   features_from_raw(filled, protocol="cold_start", name=BILLBOARD.name),
                   None, scored["target"].to_numpy(), None, filled["artists"])

    def as_recipe_sees(self, recipe: Recipe) -> pd.DataFrame:
        """The matrix with each input this set lacks, and the recipe was trained with
        blanked, given as missing (genre flags 0) instead of by the set's fill rule."""
        return as_missing(self.matrix, given_as_missing(self.name, recipe.blanked))


@dataclass
class FittedRecipe:
    """A recipe's regressor (and hit classifier) fitted on some training rows."""

    recipe: Recipe
    columns: list[str]
    regressor: object
    classifier: object | None
    genre_means: pd.Series | None   # relative_to_genre: training mean popularity per label

    def _offset(self, labels: np.ndarray | None, n: int) -> np.ndarray:
        if self.genre_means is None:
            return np.zeros(n)
        fallback = float(self.genre_means.mean())
        if labels is None:
            return np.full(n, fallback)
        return pd.Series(labels).map(self.genre_means).fillna(fallback).to_numpy("float64")

    def _select(self, matrix: pd.DataFrame) -> np.ndarray:
        return as_array(matrix[self.columns])

    def predict(self, matrix: pd.DataFrame, labels: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """Predicted popularity and hit probability (None without a classifier)."""
        X = self._select(matrix)
        pred = self.regressor.predict(X) + self._offset(labels, len(X))
        p_hit = None if self.classifier is None else self.classifier.predict_proba(X)[:, 1]
        return pred.astype("float64"), p_hit

    def predict_unknown_genre(self, matrix: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Averaged over the 114 labels when the recipe reads genre and was not trained
        with it blanked (the Billboard fill rule); otherwise as given (flags 0)."""
        if "genre" not in inputs_read(self.columns) or "genre" in self.recipe.blanked:
            pred, p_hit = self.predict(matrix, None)
            return pred, p_hit
        index = [list(matrix.columns).index(c) for c in self.columns]
        pred, p_hit = mean_over_genres(
            matrix, (lambda a: self.regressor.predict(a[:, index]),
                     lambda a: self.classifier.predict_proba(a[:, index])[:, 1]),
            genre_labels())
        return pred + self._offset(None, len(pred)), p_hit


def fit_recipe(recipe: Recipe, matrix: pd.DataFrame, tracks: pd.DataFrame,
               regressor_params: Mapping, *, with_classifier: bool = True) -> FittedRecipe:
    """Fit ``recipe`` on the given training rows (matrix and tracks aligned positionally)."""
    import xgboost as xgb

    X, kept = fit_rows(recipe, matrix, tracks)
    train = tracks.iloc[np.flatnonzero(kept)]
    y = train["popularity"].to_numpy(dtype="float64")
    genre_means = None
    if recipe.target == "relative_to_genre":
        genre_means = train.groupby(train["primary_genre"].astype(str))["popularity"].mean()
        y = y - train["primary_genre"].astype(str).map(genre_means).to_numpy("float64")
    elif recipe.target != "popularity":
        raise ValueError(f"unknown target {recipe.target!r}")
    array = as_array(X)
    regressor = xgb.XGBRegressor(**{**XGB_DEFAULTS, "n_jobs": N_JOBS,
                                    **recipe.regressor_params(regressor_params)})
    regressor.fit(array, y)
    classifier = None
    if with_classifier:
        classifier = xgb.XGBClassifier(**{**HIT_CLASSIFIER_SETTINGS, "n_jobs": N_JOBS})
        classifier.fit(array, train["popularity"].to_numpy() >= HIT_THRESHOLD)
    return FittedRecipe(recipe, list(X.columns), regressor, classifier, genre_means)


def _out_of_fold(recipe: Recipe, side: TrainingSide, params: Mapping
                 ) -> tuple[np.ndarray, np.ndarray]:
    pred = np.full(len(side.tracks), np.nan)
    p_hit = np.full(len(side.tracks), np.nan)
    for fold in np.unique(side.folds):
        test = np.flatnonzero(side.folds == fold)
        train = np.flatnonzero(side.folds != fold)
        fitted = fit_recipe(recipe, side.matrix.iloc[train], side.tracks.iloc[train], params)
        pred[test], p_hit[test] = fitted.predict(side.matrix.iloc[test], side.genre[test])
    return pred, p_hit


def _holdout(recipe: Recipe, side: TrainingSide, params: Mapping) -> dict:
    pred = np.full(len(side.tracks), np.nan)
    inside = []
    for macro, train, test in macro_genre_holdout_folds(side.tracks):
        fitted = fit_recipe(recipe, side.matrix.iloc[train], side.tracks.iloc[train], params,
                            with_classifier=False)
        pred[test], _ = fitted.predict(side.matrix.iloc[test], None)
        inside.append({"macro_genre": macro, "n": int(len(test)),
                       "spearman": spearman(side.y[test], pred[test])})
    within, n_genres = spearman_within(side.y, pred, side.genre)
    finite = [r["spearman"] for r in inside if np.isfinite(r["spearman"])]
    return {"spearman_within_macro": float(np.mean(finite)) if finite else float("nan"),
            "spearman_within_genre": within,
            "genres_scored": n_genres, "by_macro_genre": inside}


def score_recipe(recipe: Recipe, side: TrainingSide, external: Mapping[str, ExternalSide],
                 params: Mapping, *, log: Callable[[str], None] = print) -> dict:
    """Every score of one recipe (the sections of the module docstring)."""
    start = time.perf_counter()
    pred, p_hit = _out_of_fold(recipe, side, params)
    y, genre, mask = side.y, side.genre, side.new_release
    out = {"in_data": popularity_scores(y, pred, p_hit, genre),
           "new_release": popularity_scores(y[mask], pred[mask], p_hit[mask], genre[mask])}
    log(f"  {recipe.name}: out of fold in {time.perf_counter() - start:.0f} s")
    out["macro_genre_holdout"] = _holdout(recipe, side, params)
    log(f"  {recipe.name}: macro-genre holdout done at {time.perf_counter() - start:.0f} s")
    fitted = fit_recipe(recipe, side.matrix, side.tracks, params)
    mg = external[MUSIC_GENRE.name]
    mg_pred, mg_hit = fitted.predict(mg.as_recipe_sees(recipe), mg.labels)
    out[MUSIC_GENRE.name] = popularity_scores(mg.outcome, mg_pred, mg_hit, mg.groups)
    bb = external[BILLBOARD.name]
    bb_pred, bb_hit = fitted.predict_unknown_genre(bb.as_recipe_sees(recipe))
    out[BILLBOARD.name] = billboard_scores(bb.outcome, bb_hit, bb_pred)
    log(f"  {recipe.name}: done in {time.perf_counter() - start:.0f} s")
    return out


def _describe(recipe: Recipe, side: TrainingSide) -> dict:
    columns = columns_of(recipe, list(side.matrix.columns), AUDIO_COLUMNS)
    rows = training_mask(recipe, side.tracks)
    return {"name": recipe.name, "columns": len(columns), "drops": list(recipe.drop),
            "reads": list(inputs_read(columns)), "blanked": list(recipe.blanked),
            "training_rows": recipe.training_rows, "training_tracks": int(rows.sum()),
            "target": recipe.target,
            "stronger_regularisation": recipe.stronger_regularisation}


def compare_recipes(side: TrainingSide, external: Mapping[str, ExternalSide], params: Mapping,
                    *, recipes: tuple[Recipe, ...] = CANDIDATES,
                    log: Callable[[str], None] = print) -> dict:
    """Every recipe described and scored, the agreement table and the rule's choice."""
    entries = []
    for recipe in recipes:
        log(f"recipe {recipe.name}")
        entries.append({**_describe(recipe, side),
                        "scores": score_recipe(recipe, side, external, params, log=log)})
    agreement = agreement_report(entries)
    return {"candidates": entries, "agreement": agreement,
            "selection": select(entries, agreement)}


def known_artist_by_album(tracks: pd.DataFrame, params: Mapping, *, song_grouped: Mapping,
                          base: pd.DataFrame | None = None) -> dict:
    """The known-artist recipe (its champion's fitted parameters, artist history out of fold)
    scored under album-grouped folds, beside the committed song-grouped predictions.

    ``song_grouped`` holds the committed out-of-fold ``y_pred`` and ``p_hit`` arrays, aligned
    to ``tracks``.
    """
    import xgboost as xgb

    from analysis.features import make_features

    tracks = tracks.reset_index(drop=True)
    base = make_features(tracks, protocol="cold_start") if base is None else base
    groups = album_groups(tracks)
    folds = known_artist_by_album_folds(tracks)
    y = tracks["popularity"].to_numpy(dtype="float64")
    genre = tracks["primary_genre"].astype(str).to_numpy()
    pred, p_hit = np.full(len(tracks), np.nan), np.full(len(tracks), np.nan)
    for fold in np.unique(folds):
        test, train = np.flatnonzero(folds == fold), np.flatnonzero(folds != fold)
        X = as_array(design_matrix(tracks, "known_artist", fit_rows=train, base=base,
                                   history_groups=groups))
        regressor = xgb.XGBRegressor(**{**XGB_DEFAULTS, "n_jobs": N_JOBS, **params})
        regressor.fit(X[train], y[train])
        classifier = xgb.XGBClassifier(**{**HIT_CLASSIFIER_SETTINGS, "n_jobs": N_JOBS})
        classifier.fit(X[train], y[train] >= HIT_THRESHOLD)
        pred[test] = regressor.predict(X[test])
        p_hit[test] = classifier.predict_proba(X[test])[:, 1]
    mask = new_release_mask(tracks)
    out = {}
    for name, (p, h, f) in {"by_album": (pred, p_hit, folds),
                            "by_song": (np.asarray(song_grouped["y_pred"]),
                                        np.asarray(song_grouped["p_hit"]),
                                        known_artist_folds(tracks))}.items():
        out[name] = {"all": popularity_scores(y, p, h, genre),
                     "new_release": popularity_scores(y[mask], p[mask], h[mask], genre[mask]),
                     "album_seen_in_training": float(album_seen_in_training(tracks, f).mean())}
    return out


def _zoo_model(protocol: str, name: str, params: Mapping, columns: list[str]):
    """A zoo model as the build fits it, with the champion's parameters where it is tuned."""
    from analysis.models.settings import DEFAULT_BUDGET
    from analysis.models.zoo import make_model

    fitted_params = None
    if name == "xgboost_tuned":
        fitted_params = dict(params)
    elif name == "xgboost_monotone":
        constraint = ",".join(str(int(c == "artist_mean_popularity")) for c in columns)
        fitted_params = {**params, "monotone_constraints": f"({constraint})"}
    return make_model(name, params=fitted_params, n_trees=DEFAULT_BUDGET.random_forest_trees,
                      n_jobs=N_JOBS, rounds=DEFAULT_BUDGET.fixed_rounds)


def _with_history(side: ExternalSide, history) -> tuple[np.ndarray, pd.DataFrame]:
    """A crawl's tracks whose primary artist the training crawl knows, and their cold-start
    matrix with that artist's history here (the known-artist models' input)."""
    from analysis.features import with_artist_history
    from analysis.protocols import primary_artist_key

    known = primary_artist_key(side.artists).isin(history.stats.index).to_numpy()
    matrix = with_artist_history(
        side.matrix.iloc[np.flatnonzero(known)],
        history.transform(pd.DataFrame({"artists": side.artists[known].to_numpy()})))
    return known, matrix


def _billboard_prediction_scores(target: np.ndarray, prediction: np.ndarray) -> dict:
    """The Billboard scores of a predicted popularity alone (no hit classifier)."""
    return {key: value for key, value in billboard_scores(target, prediction, prediction).items()
            if key.startswith("prediction") or key in ("n", "mean_prediction")}


def honest_models_external(side: TrainingSide, external: Mapping[str, ExternalSide],
                           champion_params: Mapping[str, Mapping], *,
                           models: Mapping[str, list[str]] | None = None,
                           log: Callable[[str], None] = print) -> dict:
    """Every honest protocol x model of the build, fitted on all training tracks as the build
    fits it (the tuned ones with their champion's parameters), its predicted popularity scored
    on the crawls: new-artist models on every scored track of both; known-artist models on the
    tracks of both whose primary artist this crawl knows, with that artist's history here.
    Billboard has no genre: predictions are averaged over the 114 labels.
    The hit classifier is one per protocol, so only the popularity's scores differ by model.
    """
    from analysis.features import ArtistHistory
    from analysis.models.build import models_for
    from analysis.models.settings import RECIPE_MODELS

    # a recipe model's scores on the crawls are its recipe's, among the candidates
    models = models or {p: [m for m in models_for(p) if m not in RECIPE_MODELS]
                        for p in HONEST_PROTOCOLS}
    mg, bb = external[MUSIC_GENRE.name], external[BILLBOARD.name]
    history = ArtistHistory.fit(side.tracks)
    inputs = {"cold_start": {MUSIC_GENRE.name: (np.ones(len(mg.outcome), dtype=bool), mg.matrix),
                             BILLBOARD.name: (np.ones(len(bb.outcome), dtype=bool), bb.matrix)},
              "known_artist": {MUSIC_GENRE.name: _with_history(mg, history),
                               BILLBOARD.name: _with_history(bb, history)}}
    out: dict = {}
    for protocol, names in models.items():
        X = design_matrix(side.tracks, protocol, base=side.matrix)
        columns = list(X.columns)
        (mg_rows, mg_matrix), (bb_rows, bb_matrix) = (inputs[protocol][MUSIC_GENRE.name],
                                                      inputs[protocol][BILLBOARD.name])
        out[protocol] = {}
        for name in names:
            start = time.perf_counter()
            model = _zoo_model(protocol, name, champion_params[protocol], columns)
            model.fit(as_array(X), side.y)
            bb_pred = mean_over_genres(bb_matrix[columns], (lambda a, m=model: m.predict(a),),
                                       genre_labels())[0]
            out[protocol][name] = {
                MUSIC_GENRE.name: prediction_scores(
                    mg.outcome[mg_rows], model.predict(as_array(mg_matrix[columns])),
                    mg.groups[mg_rows]),
                BILLBOARD.name: _billboard_prediction_scores(bb.outcome[bb_rows], bb_pred)}
            log(f"  {protocol} / {name} on the crawls in {time.perf_counter() - start:.0f} s")
    return out


def build_transfer(
    models_dir: str | os.PathLike | None = None, *,
    files: Mapping[str, str | os.PathLike] | None = None,
    external_dir: str | os.PathLike | None = None, data=None, download: bool = True,
    out: str | os.PathLike | None = None, recipes: tuple[Recipe, ...] = CANDIDATES,
    n_splits: int | None = None, models: Mapping[str, list[str]] | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Read the crawls and the training data, compare the recipes, write
    ``models/transfer.json`` atomically; return what was written.

    Parameters are those of :func:`analysis.external.build.build_external`, plus ``recipes``,
    ``n_splits`` and ``models`` (``{protocol: [model, ...]}`` of :func:`honest_models_external`;
    tests pass fewer of each).
    """
    from analysis.external.build import read_inputs
    from analysis.models.artifacts import champion_entry, champion_model, triage_entry

    start = time.perf_counter()
    music_genre, billboard, data, metrics = read_inputs(
        models_dir, files=files, external_dir=external_dir, download=download, data=data)
    side = TrainingSide.of(data.tracks, n_splits)
    external = {
        MUSIC_GENRE.name: ExternalSide.music_genre(
            prepare_set(MUSIC_GENRE.name, music_genre.rows, side.tracks)[1]),
        BILLBOARD.name: ExternalSide.billboard(
            prepare_set(BILLBOARD.name, billboard.rows, side.tracks)[1]),
    }
    params = champion_entry(metrics, "cold_start")["params"]
    log(f"read the crawls and {len(side.tracks):,} training tracks in "
        f"{time.perf_counter() - start:.0f} s")
    song_grouped = {
        "y_pred": oof_predictions(side.tracks, "known_artist",
                                  champion_model(metrics, "known_artist"), "y_pred", models_dir),
        "p_hit": oof_predictions(side.tracks, "known_artist",
                                 triage_entry(metrics, "known_artist")["model"], "p_hit",
                                 models_dir)}
    known = known_artist_by_album(side.tracks, champion_entry(metrics, "known_artist")["params"],
                                  song_grouped=song_grouped, base=side.matrix)
    log(f"known_artist by album done at {time.perf_counter() - start:.0f} s")
    honest = honest_models_external(
        side, external, {p: champion_entry(metrics, p)["params"] for p in HONEST_PROTOCOLS},
        models=models, log=log)
    report = compare_recipes(side, external, params, recipes=recipes, log=log)
    written = {
        "schema_version": SCHEMA_VERSION,
        "training_data_sha256": data.sha256,
        "random_state": RANDOM_STATE,
        "hit_threshold": HIT_THRESHOLD,
        "new_release_definition": NEW_RELEASE_DEFINITION,
        "parameters": {"regressor": dict(params), "classifier": dict(HIT_CLASSIFIER_SETTINGS),
                       "stronger_regularisation": STRONGER_REGULARISATION,
                       "blanked_share": BLANKED_SHARE},
        "rule": list(SELECTION_RULE),
        **report,
        "known_artist_by_album": known,
        "honest_models": honest,
        "versions": versions(_VERSIONED),
    }
    target = Path(out) if out is not None else paths.transfer_file(models_dir)
    payload = dumps_json(written).encode()
    atomic_write(target, payload)
    log(f"wrote {target} in {time.perf_counter() - start:.0f} s")
    return json.loads(payload)
