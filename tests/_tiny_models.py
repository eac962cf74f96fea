"""Synthetic listings and the tiny modeling build the model tests read.

``make_synthetic_raw`` builds a few hundred raw listings with artist effects, featured
artists, song versions and multi-genre rows; :data:`TINY` is a budget that builds every
protocol × model on them in well under a minute. ``tests/fixtures/make_tiny_models.py``
runs that build once and commits its output under :data:`TINY_MODELS_DIR`, so fast tests
read a real build's ``metrics.json``, OOF files and champions without training anything;
the slow tests in ``test_models_build.py`` rebuild it and check the committed copy is what
the current code writes.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.cleaning import clean_tracks
from analysis.data import TrackData
from analysis.models import Budget
from analysis.schema import AUDIO_COLUMNS, validate_tracks

#: Where the committed tiny build lives (``metrics.json``, ``oof/``, ``champions/``).
TINY_MODELS_DIR = Path(__file__).resolve().parent / "fixtures" / "tiny_models"

#: The synthetic crawls the external builds read beside the tiny build (``{stem: file}``).
SYNTHETIC_CRAWLS_DIR = Path(__file__).resolve().parent / "fixtures" / "external"
SYNTHETIC_CRAWLS = {stem: SYNTHETIC_CRAWLS_DIR / f"{stem}.csv"
                    for stem in ("music_genre", "hit_predictor_60s", "hit_predictor_10s")}

#: Cheap settings for end-to-end builds on a few hundred synthetic tracks.
TINY = Budget(n_trials=2, max_trees=20, random_forest_trees=5, tuning_rows=1.0, fixed_rounds=20,
              calibration_folds=2, n_jobs=1)

#: Seed of the synthetic listings of the committed tiny build.
TINY_SEED = 0

GENRES = ("pop", "rock", "k-pop", "jazz", "edm", "sleep")
_ALPHABET = np.array(list(string.ascii_letters + string.digits))


def make_synthetic_raw(n_tracks: int = 256, *, seed: int = TINY_SEED) -> pd.DataFrame:
    """Raw listings with artist effects, featured artists, song versions and multi-genre rows."""
    rng = np.random.default_rng(seed)
    n_artists = 48
    quality = rng.normal(40, 15, n_artists)
    rows = []
    for i in range(n_tracks):
        artist = int(rng.integers(n_artists))
        credits = f"Artist {artist}"
        if rng.random() < 0.2:
            credits += f";Artist {int(rng.integers(n_artists))}"
        energy = float(rng.random())
        popularity = 0 if rng.random() < 0.1 else int(np.clip(
            quality[artist] + 25 * energy + rng.normal(0, 8), 0, 100))
        title = f"Song {i % 250}" + (" - Remastered" if rng.random() < 0.1 else "")
        row = {
            "track_id": "".join(rng.choice(_ALPHABET, 22)), "artists": credits,
            "album_name": "Hits 2022" if rng.random() < 0.1 else f"Album {artist}",
            "track_name": title, "popularity": popularity,
            "duration_ms": int(rng.integers(90_000, 400_000)), "explicit": bool(rng.random() < 0.1),
            **{c: float(rng.random()) for c in AUDIO_COLUMNS},
            "energy": energy, "key": int(rng.integers(12)), "mode": int(rng.integers(2)),
            "loudness": float(rng.uniform(-20, 0)), "tempo": float(rng.uniform(60, 180)),
            "time_signature": 4, "track_genre": GENRES[artist % len(GENRES)],
        }
        rows.append(row)
        if rng.random() < 0.15:
            rows.append({**row, "track_genre": GENRES[(artist + 1) % len(GENRES)]})
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(len(frame), name="source_index")
    return validate_tracks(frame, name="synthetic")


@lru_cache(maxsize=2)
def synthetic_data(seed: int = TINY_SEED) -> tuple[TrackData, pd.DataFrame]:
    """Cleaned tracks (as :func:`analysis.data.load_tracks` returns them) and their raw rows.

    Cached: built once per session; callers must not modify them."""
    raw = make_synthetic_raw(seed=seed)
    result = clean_tracks(raw)
    data = TrackData(tracks=result.tracks, rows=result.rows, summary=result.summary,
                     sha256="0" * 64)
    return data, raw


def raw_input(data: TrackData, n: int = 12) -> pd.DataFrame:
    """The first ``n`` tracks in the raw columns a champion reads (``popularity`` absent)."""
    tracks = data.tracks.head(n)
    return tracks[["track_id", "artists", "album_name", "track_name", "duration_ms", "explicit",
                   *AUDIO_COLUMNS]].assign(track_genre=tracks["primary_genre"].to_numpy())


def without_timings(metrics: dict) -> dict:
    """metrics.json minus wall times and thread counts (builds may use 1 or 2 threads)."""
    def drop(value):
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if k not in ("timings", "n_jobs")}
        return [drop(v) for v in value] if isinstance(value, list) else value

    return drop(metrics)


def artifact_files(models_dir: Path) -> list[Path]:
    """Every OOF and champion file of a build, relative to ``models_dir``, sorted."""
    models_dir = Path(models_dir)
    return sorted(p.relative_to(models_dir) for sub in ("oof", "champions")
                  for p in (models_dir / sub).rglob("*") if p.is_file())
