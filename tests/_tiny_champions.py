"""Tiny champions trained on synthetic tracks, in the layout ``analysis.models`` writes.

The widget and export tests need champions but not the full data or a real build: these
train 30 shallow trees per protocol on a few hundred synthetic tracks (a second) and are
written by the modeling module's own writer, so ``analysis.models.load`` reads them.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.schema import AUDIO_COLUMNS


def make_tracks(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Cleaned-looking synthetic tracks whose popularity depends on energy, genre and artist."""
    from analysis.genres import load_taxonomy

    rng = np.random.default_rng(seed)
    taxonomy = load_taxonomy()
    genres = taxonomy["genre"].astype(str).to_numpy()
    macro_of = dict(zip(genres, taxonomy["macro_genre"].astype(str), strict=True))
    alphabet = np.array(list(string.ascii_letters + string.digits))
    frame = pd.DataFrame({
        "track_id": ["".join(rng.choice(alphabet, 22)) for _ in range(n)],
        "artists": [f"Artist {i % 80}" + (";Guest" if i % 7 == 0 else "") for i in range(n)],
        "album_name": [f"Album {i % 150}" for i in range(n)],
        "track_name": [f"Song {i}" + (" - Live" if i % 11 == 0 else "") for i in range(n)],
        "duration_ms": rng.integers(90_000, 400_000, n),
        "explicit": rng.random(n) < 0.2,
    })
    for column in AUDIO_COLUMNS:
        frame[column] = rng.random(n)
    frame["key"] = rng.integers(0, 12, n)
    frame["mode"] = rng.integers(0, 2, n)
    frame["time_signature"] = rng.integers(3, 6, n)
    frame["loudness"] = -30 + 28 * rng.random(n)
    frame["tempo"] = 60 + 140 * rng.random(n)
    frame["primary_genre"] = pd.array(rng.choice(genres[:30], n), dtype="string")
    frame["macro_genre"] = frame["primary_genre"].astype(str).map(macro_of)
    artist_effect = (np.arange(n) % 80) / 80 * 30
    frame["popularity"] = np.clip(
        20 + 30 * frame["energy"] + artist_effect + rng.normal(0, 5, n), 0, 100
    ).round().astype("int64")
    return frame


def write_tiny_champions(models_dir: Path, tracks: pd.DataFrame) -> Path:
    """Train and write ``cold_start`` and ``known_artist`` champions plus a ``metrics.json``."""
    import xgboost as xgb

    from analysis import models as m
    from analysis.features import (
        ArtistHistory,
        make_features,
        oof_artist_history,
        with_artist_history,
    )
    from analysis.protocols import protocol_groups

    models_dir = Path(models_dir)
    y = tracks["popularity"].to_numpy(dtype="float64")
    metrics = {"protocols": {}}
    for protocol in ("cold_start", "known_artist"):
        base = make_features(tracks, protocol="cold_start")
        history = None
        if protocol == "known_artist":
            history = ArtistHistory.fit(tracks)
            X = with_artist_history(
                base, oof_artist_history(tracks, protocol_groups(tracks, protocol)))
        else:
            X = base
        params = {"n_estimators": 30 if protocol == "cold_start" else 40, "max_depth": 3,
                  "learning_rate": 0.3}
        model = xgb.XGBRegressor(**params, n_jobs=1, random_state=42, tree_method="hist")
        model.fit(X.to_numpy(dtype="float64"), y)
        model.get_booster().feature_names = list(X.columns)
        hit_model = xgb.XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1, random_state=42,
                                      tree_method="hist")
        hit_model.fit(X.to_numpy(dtype="float64"), y >= np.median(y))
        hit_model.get_booster().feature_names = list(X.columns)
        pred = model.predict(X.to_numpy(dtype="float64"))
        offsets = m.conformal_offsets(pred, y, tracks["macro_genre"].astype(str).to_numpy())
        trained = {"model": model, "hit_model": hit_model, "params": params, "tuning": {},
                   "offsets": offsets,
                   "history": history, "feature_names": list(X.columns),
                   "n_train": len(tracks), "fit_seconds": 0.0}
        m._write_champion(models_dir / "champions" / protocol, protocol, trained, "synthetic")
        (models_dir / "oof").mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"track_id": tracks["track_id"], "y_true": y.astype("float32"),
                      "y_pred": pred.astype("float32")}).to_parquet(
            models_dir / "oof" / f"{protocol}__xgboost_tuned.parquet", index=False)
        metrics["protocols"][protocol] = {"models": {"xgboost_tuned": {"metrics": {
            "r2": {"mean": 0.5 if protocol == "cold_start" else 0.7, "sd": 0.01},
            "mae": {"mean": 7.5, "sd": 0.1}}}}, "triage": {"metrics": {
            k: {"mean": v} for k, v in {"hit_auc": 0.8, "top1_precision": 0.9, "brier": 0.1,
                                        "hit_rate": 0.5}.items()}}}
    (models_dir / "metrics.json").write_text(json.dumps(metrics))
    return models_dir
