"""Champions on disk: the folder format, its writer, and :func:`load_champion` (``load``).

A champion folder (``models/champions/<name>/``) holds the XGBoost trees (UBJ), the hit
classifier, the conformal offsets, for ``known_artist`` the artist history, and a manifest
with the SHA-256 of every file. :func:`write_champion` writes one, :func:`load_champion`
refuses to load one whose files do not match their hashes, and :class:`Champion` predicts
from DataFrames in the raw dataset's columns.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.artifacts import dumps_json, sha256_file
from analysis.features import ARTIST_HISTORY_COLUMNS, ArtistHistory, features_from_raw
from analysis.genres import MACRO_GENRES
from analysis.models.blanking import BLANKED_SHARE, as_missing
from analysis.models.conformal import apply_offsets
from analysis.models.recipes import Recipe
from analysis.models.settings import (
    CHAMPION_MODELS,
    CONFIDENCE_LEVELS,
    HIT_CLASSIFIER_FILE,
    HIT_CLASSIFIER_SETTINGS,
    HIT_THRESHOLD,
    RECIPE_MODELS,
    level_key,
    recorded_versions,
)
from analysis.protocols import RANDOM_STATE
from analysis.schema import Problem, TrackDataError


class ChampionIntegrityError(RuntimeError):
    """A champion file is missing or its SHA-256 differs from the manifest."""


@dataclass
class Champion:
    """A trained champion: XGBoost trees, conformal offsets and (known_artist) artist history.

    Use :func:`load_champion` (or its README name, ``analysis.models.load``) to get one.
    Inputs are DataFrames in the raw dataset's columns, one row per track, ``popularity``
    absent; they are validated by :func:`analysis.schema.validate_tracks` before anything is
    computed.

    Attributes
    ----------
    name, protocol : str
        ``cold_start`` or ``known_artist`` (a champion is named after its protocol).
    booster : xgboost.Booster
        The popularity model's trees. They read the columns ``popularity_features`` of the
        model matrix (:meth:`predict_matrix` selects them).
    feature_names : list of str
        Column order of the model matrix (:func:`analysis.features.make_features`'s), what
        :meth:`features` returns and the hit classifier reads.
    popularity_features : list of str
        The columns the popularity model reads: all of them, or fewer for a champion that
        follows a recipe (``manifest["popularity_model"]``).
    offsets : dict
        Conformal half-widths per macro-genre and confidence level (see
        :func:`~analysis.models.conformal.conformal_offsets`); a track without a genre gets
        the global one.
    artist_history : ArtistHistory or None
        ``known_artist``: popularity history of every training artist, looked up by primary
        artist name. Per-row override: give ``artist_mean_popularity``, ``artist_n_tracks``
        and/or ``artist_max_popularity`` columns (a NaN cell falls back to the lookup).
    manifest : dict
        What was loaded, with hashes, versions and parameters.
    hit_booster : xgboost.Booster
        The hit classifier on the whole matrix (:meth:`predict_hit_probability`).

    Notes
    -----
    The champion was trained on every track, so for a track that is *already* in the
    dataset its artist history contains its own popularity. Honest predictions for those
    tracks are the out-of-fold ones in ``models/oof/<protocol>__xgboost_tuned.parquet``; for
    what-if inputs, override the history columns.
    """

    name: str
    protocol: str
    booster: object
    feature_names: list[str]
    offsets: dict
    artist_history: ArtistHistory | None
    manifest: dict
    hit_booster: object
    popularity_features: list[str]

    def features(self, df: pd.DataFrame, *, name: str = "<DataFrame>",
                 validated: bool = False) -> pd.DataFrame:
        """The validated model matrix of ``df`` (what the trees and the browser see);
        ``validated=True`` for rows that already passed the checks (the triage)."""
        history = None
        if self.protocol == "known_artist":
            history = self._history(df, name)
        return features_from_raw(df, protocol=self.protocol, artist_history=history, name=name,
                                 validated=validated)

    def _history(self, df: pd.DataFrame, name: str) -> pd.DataFrame:
        override = [c for c in ARTIST_HISTORY_COLUMNS if c in df.columns]
        if "artists" not in df.columns and len(override) < len(ARTIST_HISTORY_COLUMNS):
            raise TrackDataError([Problem(
                name, 1, "artists",
                "missing column: the known_artist model looks up artist history by the "
                "primary artist in 'artists' (or give all of "
                f"{', '.join(ARTIST_HISTORY_COLUMNS)})")])
        if "artists" in df.columns:
            looked_up = self.artist_history.transform(
                pd.DataFrame({"artists": df["artists"].astype("string").fillna("")})
            )
        else:
            looked_up = pd.DataFrame(np.nan, index=df.index, columns=list(ARTIST_HISTORY_COLUMNS))
        looked_up.index = df.index
        problems = []
        limits = {"artist_mean_popularity": (0, 100), "artist_n_tracks": (0, np.inf),
                  "artist_max_popularity": (0, 100)}
        for column in override:
            values = pd.to_numeric(df[column], errors="coerce")
            for position, (raw, value) in enumerate(zip(df[column], values, strict=True)):
                lo, hi = limits[column]
                if (pd.isna(value) and not pd.isna(raw)) or (
                    not pd.isna(value) and not lo <= value <= hi
                ):
                    problems.append(Problem(name, position + 2, column,
                                            f"must be a number from {lo} to {hi}, got {raw!r}"))
            looked_up[column] = values.where(values.notna(), looked_up[column]).to_numpy()
        if problems:
            raise TrackDataError(problems)
        return looked_up

    def predict(self, df: pd.DataFrame, *, name: str = "<DataFrame>") -> np.ndarray:
        """Predicted popularity (0–100 scale, not clipped: the trees' raw output)."""
        return self.predict_matrix(self.features(df, name=name))

    def predict_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted popularity of rows of the model matrix ``X`` (the popularity model's
        columns selected from it)."""
        return np.asarray(self.booster.inplace_predict(X[self.popularity_features]),
                          dtype="float64")

    def predict_hit_probability(
        self, df: pd.DataFrame, *, name: str = "<DataFrame>"
    ) -> np.ndarray:
        """P(popularity >= 60) from the hit classifier, the triage score."""
        X = self.features(df, name=name)
        return np.asarray(self.hit_booster.inplace_predict(X), dtype="float64")

    def predict_interval(
        self, df: pd.DataFrame, *, confidence: float = 0.9, name: str = "<DataFrame>"
    ) -> pd.DataFrame:
        """Prediction with its conformal interval (Mondrian by macro-genre, clipped to 0–100).

        Returns
        -------
        pandas.DataFrame
            ``prediction``, ``lower``, ``upper``, indexed like ``df``.
        """
        self._check_confidence(confidence)
        return self._interval(self.features(df, name=name), df.index, confidence)

    def predict_table(
        self, df: pd.DataFrame, *, confidence: float = 0.9, name: str = "<DataFrame>"
    ) -> pd.DataFrame:
        """:meth:`predict_interval` and :meth:`predict_hit_probability` in one table, from one
        validation of ``df`` (what the Jupyter predictor shows on every change).

        Returns
        -------
        pandas.DataFrame
            ``prediction``, ``lower``, ``upper``, ``hit_probability``, indexed like ``df``.
        """
        self._check_confidence(confidence)
        X = self.features(df, name=name)
        table = self._interval(X, df.index, confidence)
        table["hit_probability"] = np.asarray(self.hit_booster.inplace_predict(X),
                                              dtype="float64")
        return table

    @property
    def hit_blanked(self) -> tuple[str, ...]:
        """Inputs the hit classifier saw missing on part of its training rows
        (:data:`~analysis.models.settings.HIT_CLASSIFIER_BLANKED`)."""
        return tuple(self.manifest["hit_classifier"]["blanked_inputs"])

    @property
    def recipe(self) -> Recipe | None:
        """The recipe the popularity model follows (None: every column of every track)."""
        return RECIPE_MODELS.get(self.manifest["model"])

    @property
    def popularity_blanked(self) -> tuple[str, ...]:
        """Inputs the popularity model saw missing on part of its training rows (its recipe's)."""
        return tuple(self.manifest["popularity_model"]["blanked_inputs"])

    def hit_probability_without(self, X: pd.DataFrame, unknown: tuple[str, ...]) -> np.ndarray:
        """P(hit) of the model matrix ``X`` with the inputs ``unknown`` given as missing
        (:func:`analysis.models.blanking.as_missing`); only inputs the classifier saw missing
        in training may be (others raise: it was never taught what their absence means)."""
        _check_taught(f"the {self.name} hit classifier", unknown, self.hit_blanked)
        return np.asarray(self.hit_booster.inplace_predict(as_missing(X, unknown)),
                          dtype="float64")

    def predict_without(self, X: pd.DataFrame, unknown: tuple[str, ...]) -> np.ndarray:
        """Predicted popularity of the model matrix ``X`` with the inputs ``unknown`` given as
        missing, as :meth:`hit_probability_without` (the popularity model's taught inputs)."""
        _check_taught(f"the {self.name} popularity model", unknown, self.popularity_blanked)
        return self.predict_matrix(as_missing(X, unknown))

    def _check_confidence(self, confidence: float) -> None:
        if level_key(confidence) not in self.offsets["global"]:
            raise ValueError(f"confidence must be one of {sorted(self.offsets['global'])}")

    def _interval(self, X: pd.DataFrame, index: pd.Index, confidence: float) -> pd.DataFrame:
        """Prediction and Mondrian interval of a validated matrix ``X``."""
        pred = self.predict_matrix(X)
        lower, upper = self.interval_bounds(X, pred, confidence=confidence)
        return pd.DataFrame({"prediction": pred, "lower": lower, "upper": upper}, index=index)

    def interval_bounds(
        self, X: pd.DataFrame, prediction: np.ndarray, *, confidence: float = 0.9
    ) -> tuple[np.ndarray, np.ndarray]:
        """Conformal bounds of predictions already made on the model matrix ``X``.

        What :meth:`predict_interval` computes, for a caller that already has the matrix
        (:func:`analysis.triage.triage` scores a chunk once for both levels): the
        macro-genre is read from ``X``'s one-hot columns; a track without one gets the
        global offset.
        """
        self._check_confidence(confidence)
        strata = np.array([None] * len(X), dtype=object)
        for macro, column in zip(MACRO_GENRES, _macro_columns(), strict=True):
            strata[X[column].to_numpy() == 1.0] = macro
        return apply_offsets(np.asarray(prediction, dtype="float64"), strata, self.offsets,
                             confidence)


def _check_taught(model: str, unknown: tuple[str, ...], taught: tuple[str, ...]) -> None:
    untaught = sorted(set(unknown) - set(taught))
    if untaught:
        raise ValueError(f"{model} never saw {untaught} missing in training; give them a value")


def _macro_columns() -> list[str]:
    from analysis.features import macro_column

    return [macro_column(m) for m in MACRO_GENRES]


def load_champion(name: str, *, models_dir: str | os.PathLike | None = None) -> Champion:
    """Load a champion after checking every file against its manifest's SHA-256.

    ``analysis.models.load`` is the same function (the name the README documents).

    Parameters
    ----------
    name : {"cold_start", "known_artist"}
        The champion (named after its protocol).
    models_dir : path, optional
        Defaults to the committed ``models/``.

    Raises
    ------
    ChampionIntegrityError
        If the manifest or a file it lists is missing, or a file's hash differs.
    """
    import xgboost as xgb

    folder = paths.champion_dir(name, models_dir)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise ChampionIntegrityError(f"{manifest_path}: no such champion manifest")
    manifest = json.loads(manifest_path.read_text())
    for file_name, expected in manifest["files"].items():
        path = folder / file_name
        if not path.is_file():
            raise ChampionIntegrityError(f"{path}: listed in the manifest but missing")
        actual = sha256_file(path)
        if actual != expected["sha256"]:
            raise ChampionIntegrityError(
                f"{path}: SHA-256 {actual} does not match the manifest ({expected['sha256']}); "
                "refusing to load a modified model"
            )
    booster = xgb.Booster()
    booster.load_model(str(folder / "model.ubj"))
    popularity_features = manifest["popularity_model"]["feature_names"]
    if list(booster.feature_names or []) != popularity_features:
        raise ChampionIntegrityError(f"{folder}: booster features differ from the manifest")
    if set(popularity_features) - set(manifest["feature_names"]):
        raise ChampionIntegrityError(f"{folder}: the popularity model reads columns the "
                                     "model matrix does not have")
    offsets = json.loads((folder / "offsets.json").read_text())
    hit_booster = xgb.Booster()
    hit_booster.load_model(str(folder / manifest["hit_classifier"]["file"]))
    history = None
    if "artist_history.parquet" in manifest["files"]:
        stats = pd.read_parquet(folder / "artist_history.parquet").set_index("artist")
        meta = manifest["artist_history"]
        history = ArtistHistory(stats=stats, global_mean=meta["global_mean"],
                                smoothing=meta["smoothing"])
    return Champion(name=name, protocol=manifest["protocol"], booster=booster,
                    feature_names=manifest["feature_names"], offsets=offsets,
                    artist_history=history, manifest=manifest, hit_booster=hit_booster,
                    popularity_features=popularity_features)


#: The README's name for :func:`load_champion`.
load = load_champion


def popularity_model_entry(recipe: Recipe | None, columns: list[str], learned: int) -> dict:
    """What a manifest says about its popularity model's training: the recipe it follows
    (None: every column of every track, nothing blanked), the columns it reads, how many
    tracks it learned from, which inputs it saw blanked.

    Examples
    --------
    >>> popularity_model_entry(None, ["energy"], 10)["blanked_inputs"]
    []
    """
    return {"recipe": None if recipe is None else recipe.name,
            "training_rows": "all" if recipe is None else recipe.training_rows,
            "feature_names": list(columns), "learned_from_tracks": int(learned),
            "blanked_inputs": [] if recipe is None else list(recipe.blanked),
            "blanked_share": BLANKED_SHARE}


def write_champion(folder: Path, name: str, trained: dict, data_sha256: str) -> dict:
    """Write one champion folder (trees, hit classifier, offsets, history, manifest).

    ``trained`` is what the build's champion training returns: ``model`` and ``hit_model``
    (fitted XGBoost estimators whose boosters carry their feature names), ``params``,
    ``tuning``, ``offsets``, ``history`` (:class:`~analysis.features.ArtistHistory` or None),
    ``feature_names`` (the model matrix), ``recipe`` (a
    :class:`~analysis.models.recipes.Recipe` or None), ``n_train`` and ``n_learned`` (the
    tracks the popularity model learned from).

    Returns
    -------
    dict
        The manifest written, with the SHA-256 and size of every file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    booster = trained["model"].get_booster()  # feature names set by the champion training
    booster.save_model(str(folder / "model.ubj"))
    (folder / "offsets.json").write_text(dumps_json(trained["offsets"]))
    trained["hit_model"].get_booster().save_model(str(folder / HIT_CLASSIFIER_FILE))
    files = ["model.ubj", "offsets.json", HIT_CLASSIFIER_FILE]
    manifest = {
        "name": name, "protocol": name, "model": CHAMPION_MODELS[name], "format": "xgboost-ubj",
        "feature_names": trained["feature_names"],
        "popularity_model": popularity_model_entry(trained["recipe"], booster.feature_names,
                                                   trained["n_learned"]),
        "params": trained["params"],
        "tuning": trained["tuning"], "n_train": trained["n_train"],
        "data_sha256": data_sha256, "random_state": RANDOM_STATE,
        "versions": recorded_versions(),
        "confidence_levels": list(CONFIDENCE_LEVELS),
        "interval": "prediction ± offsets.by_stratum[macro_genre][level] (global if no genre), "
                    "clipped to [0, 100]",
        "objective": f"{json.loads(booster.save_config())['learner']['objective']['name']}; "
                     "prediction = sum of tree leaves + base_score",
        "hit_classifier": {
            "file": HIT_CLASSIFIER_FILE, "threshold": HIT_THRESHOLD,
            "params": HIT_CLASSIFIER_SETTINGS,
            "blanked_inputs": list(trained["hit_blanked"]), "blanked_share": BLANKED_SHARE,
            "objective": "binary:logistic; P(popularity >= threshold) = "
                         "sigmoid(sum of tree leaves + base margin)",
        },
    }
    if trained["history"] is not None:
        history: ArtistHistory = trained["history"]
        stats = history.stats.reset_index()
        stats.to_parquet(folder / "artist_history.parquet", index=False, compression="zstd")
        files.append("artist_history.parquet")
        manifest["artist_history"] = {
            "global_mean": history.global_mean, "smoothing": history.smoothing,
            "key": "primary (first-credited) artist, NFKC-casefolded",
            "override_columns": list(ARTIST_HISTORY_COLUMNS),
        }
    manifest["files"] = {f: {"sha256": sha256_file(folder / f),
                             "bytes": (folder / f).stat().st_size} for f in files}
    (folder / "manifest.json").write_text(dumps_json(manifest))
    return manifest
