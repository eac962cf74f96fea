"""Catalogues for examples, tests and benchmarks, in the raw dataset's columns.

:func:`make_catalogue` builds a small synthetic one (no dataset needed);
:func:`sample_catalogue` draws one from the cleaned real tracks, as a label would hand it in
(``track_genre`` = the primary genre, no popularity); :func:`write_benchmark_catalogue`
writes a large one by resampling and perturbing the real tracks, for ``make bench``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.schema import AUDIO_COLUMNS, RAW_COLUMNS, UNIT_INTERVAL_COLUMNS

__all__ = ["make_catalogue", "sample_catalogue", "write_benchmark_catalogue"]

_GENRES = ("pop", "k-pop", "rock", "samba", "techno", "jazz", "country", "classical")


def make_catalogue(n: int = 8, *, random_state: int = 42) -> pd.DataFrame:
    """``n`` synthetic tracks in the raw columns (no ``popularity``), valid and varied.

    Examples
    --------
    >>> catalogue = make_catalogue(4)
    >>> catalogue.shape, catalogue["track_id"].str.len().unique().tolist()
    ((4, 19), [22])
    """
    rng = np.random.default_rng(random_state)
    alphabet = np.array(list("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    frame = pd.DataFrame({
        "track_id": ["".join(rng.choice(alphabet, 22)) for _ in range(n)],
        "artists": [f"Artist {i % 5}" + (";Guest" if i % 3 == 0 else "") for i in range(n)],
        "album_name": [f"Album {i % 4}" + (" (Deluxe Edition)" if i % 4 == 1 else "")
                       for i in range(n)],
        "track_name": [f"Song {i}" + (" - Live" if i % 6 == 5 else "") for i in range(n)],
        "duration_ms": rng.integers(120_000, 300_000, n),
        "explicit": rng.random(n) < 0.2,
        **{c: rng.uniform(0.05, 0.95, n).round(3) for c in UNIT_INTERVAL_COLUMNS},
        "key": rng.integers(0, 12, n),
        "loudness": rng.uniform(-14, -3, n).round(3),
        "mode": rng.integers(0, 2, n),
        "tempo": rng.uniform(70, 170, n).round(3),
        "time_signature": np.full(n, 4),
        "track_genre": [_GENRES[i % len(_GENRES)] for i in range(n)],
    })
    return frame[[c for c in RAW_COLUMNS if c in frame.columns]]


def sample_catalogue(tracks: pd.DataFrame, n: int, *, random_state: int = 42) -> pd.DataFrame:
    """``n`` cleaned tracks (:func:`analysis.data.load_tracks`) as a catalogue in the raw
    columns: ``track_genre`` is the primary genre, ``popularity`` is dropped.

    The champions were trained on these tracks: their predictions for them are in-sample
    (honest ones are the out-of-fold files in ``models/oof/``). Use it to show the tool.
    """
    picked = tracks.sample(n=min(n, len(tracks)), random_state=random_state)
    raw = picked.rename(columns={"primary_genre": "track_genre"})
    return raw[[c for c in RAW_COLUMNS if c != "popularity"]].reset_index(drop=True)


def write_benchmark_catalogue(
    tracks: pd.DataFrame, rows: int, path: str | os.PathLike, *, random_state: int = 42
) -> Path:
    """Write ``rows`` tracks resampled from the real ones, audio features jittered, as a
    plain CSV (or Parquet, by extension), with the Kaggle file's unnamed index column.

    Titles and albums are resampled as they are (so the text markers fire at the real rate);
    ids are new, audio features are perturbed by a few percent of their spread and kept in
    range. Written in slices, atomically (a temporary name, then renamed).
    """
    path = Path(path)
    rng = np.random.default_rng(random_state)
    base = sample_catalogue(tracks, len(tracks), random_state=random_state)
    tmp = path.with_name(path.name + ".tmp")
    alphabet = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                             dtype="S1")
    step = 250_000
    writer = None
    try:
        for start in range(0, rows, step):
            n = min(step, rows - start)
            part = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
            ids = rng.choice(alphabet, size=(n, 22)).view("S22").ravel().astype(str)
            part["track_id"] = ids
            for column in (*UNIT_INTERVAL_COLUMNS, "loudness", "tempo"):
                values = part[column].to_numpy(dtype="float64")
                jitter = rng.normal(0, 0.03 * values.std(), n)
                low = 0.0 if column != "loudness" else -60.0
                high = 1.0 if column in UNIT_INTERVAL_COLUMNS else (0.0 if column == "loudness"
                                                                    else 250.0)
                part[column] = np.clip(values + jitter, low, high).round(4)
            part.insert(0, "", np.arange(start, start + n))
            if path.suffix == ".parquet":
                import pyarrow as pa
                import pyarrow.parquet as pq

                table = pa.Table.from_pandas(part.rename(columns={"": "source_index"}),
                                             preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
            else:
                part.to_csv(tmp, mode="w" if start == 0 else "a", header=start == 0,
                            index=False)
        if writer is not None:
            writer.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


_ = AUDIO_COLUMNS  # the audio columns are all kept; only the continuous ones are jittered
