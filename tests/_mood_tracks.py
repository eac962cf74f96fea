"""Synthetic tracks for the Explore tests (moods, outliers, their charts and prose).

A helper module, not a test module: test modules import it, never one another.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import moods


def make_tracks(n_per_genre: int = 60, seed: int = 0) -> pd.DataFrame:
    """Synthetic tracks: two macro-genres, four genres, loud energetic Metal vs quiet Ambient."""
    rng = np.random.default_rng(seed)
    spec = [("black-metal", "Metal & Punk", 0.9), ("punk", "Metal & Punk", 0.8),
            ("sleep", "Ambient & Functional", 0.1), ("new-age", "Ambient & Functional", 0.2)]
    parts = []
    for genre, macro, energy in spec:
        n = n_per_genre
        parts.append(pd.DataFrame({
            "track_id": [f"{genre}-{i}" for i in range(n)],
            "primary_genre": genre, "macro_genre": macro,
            "energy": np.clip(rng.normal(energy, 0.05, n), 0, 1),
            "valence": rng.uniform(0, 1, n), "danceability": rng.uniform(0, 1, n),
            "speechiness": rng.uniform(0, 0.3, n), "acousticness": rng.uniform(0, 1, n),
            "instrumentalness": np.where(rng.uniform(size=n) < 0.5, 0.0, rng.uniform(0, 1, n)),
            "liveness": rng.uniform(0, 1, n), "loudness": rng.normal(-8, 3, n),
            "tempo": rng.normal(120, 20, n), "duration_ms": rng.integers(60_000, 400_000, n),
            "key": rng.integers(0, 12, n), "mode": rng.integers(0, 2, n),
            "time_signature": rng.choice([3, 4], n), "explicit": rng.uniform(size=n) < 0.2,
            "popularity": rng.integers(0, 101, n),
        }))
    frame = pd.concat(parts, ignore_index=True)
    frame["popularity"] = frame["popularity"].where(frame.index % 10 != 0, 0)
    # Every track is listed under its primary genre; every fourth also under "punk".
    frame["genres"] = [[g] if (i % 4 or g == "punk") else sorted([g, "punk"])
                       for i, g in enumerate(frame["primary_genre"])]
    for column in ("track_id", "primary_genre", "macro_genre"):
        frame[column] = frame[column].astype("string")
    return moods.add_duration_minutes(frame)


def make_outlier_tracks(n_per_genre: int = 80, seed: int = 3) -> pd.DataFrame:
    """:func:`make_tracks` with names and one planted outlier (``attrs["odd"]``): a Metal
    track that is quiet and slow, which the atypicality forest must find."""
    frame = make_tracks(n_per_genre=n_per_genre, seed=seed)
    frame["track_name"] = [f"Song {i}" for i in range(len(frame))]
    frame["primary_artist"] = "Artist"
    frame["album_name"] = "Album"
    frame["song_id"] = np.arange(len(frame))
    frame["n_song_versions"] = 1
    # One Metal track that is quiet and slow: the outlier the forest must find, and why.
    odd = frame.index[frame["macro_genre"].eq("Metal & Punk")][5]
    frame.loc[odd, ["energy", "loudness", "tempo"]] = [0.01, -40.0, 40.0]
    frame.attrs["odd"] = frame.loc[odd, "track_id"]
    return frame


def make_oof(tracks: pd.DataFrame, *, intervals: bool | str = True) -> pd.DataFrame:
    """A synthetic cold_start out-of-fold frame: a constant-ish model with known surprises."""
    rng = np.random.default_rng(0)
    oof = pd.DataFrame({
        "track_id": tracks["track_id"].to_numpy(),
        "fold": np.arange(len(tracks)) % 4,
        "y_true": np.clip(np.round(40 + rng.normal(0, 8, len(tracks))), 1, 100),
        "y_pred": 40 + rng.normal(0, 3, len(tracks)),
    })
    oof.loc[0, ["y_true", "y_pred"]] = [99.0, 30.0]   # hit beyond expectation
    oof.loc[1, ["y_true", "y_pred"]] = [2.0, 70.0]    # hidden gem
    oof.loc[2, ["y_true", "y_pred"]] = [0.0, 75.0]    # zero popularity: an artefact, not a gem
    if intervals == "levels":  # the modeling step's layout: one pair per confidence level
        for pct, half in ((80, 20), (90, 25)):
            oof[f"lower_{pct}"] = (oof["y_pred"] - half).astype("float32")
            oof[f"upper_{pct}"] = (oof["y_pred"] + half).astype("float32")
    elif intervals:
        oof["y_lower"], oof["y_upper"] = oof["y_pred"] - 25, oof["y_pred"] + 25
    return oof
