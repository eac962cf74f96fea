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
