"""The tracks the explanations are computed on: a stratified, seeded sample."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.protocols import RANDOM_STATE

__all__ = ["stratified_sample"]


def stratified_sample(
    tracks: pd.DataFrame, *, per_group: int, by: str = "macro_genre",
    random_state: int = RANDOM_STATE,
) -> pd.DataFrame:
    """The same number of tracks from every group, with weights back to the population.

    Equal allocation gives every macro-genre enough tracks for its own drivers; the weight
    (group size / tracks drawn) makes weighted means estimate the whole catalogue. Tracks are
    drawn in a seeded random order within each group, sorted by ``track_id`` first, so the
    sample does not depend on row order. ``order`` is a track's rank in its group's draw: the
    first ``k`` of every group form a smaller stratified sample (for charts, interactions).

    Returns
    -------
    pandas.DataFrame
        ``position`` (row position in ``tracks``), ``track_id``, ``by``, ``order``, ``weight``,
        sorted by group name and ``order``.

    Examples
    --------
    >>> t = pd.DataFrame({"track_id": list("abcdefg"), "macro_genre": list("xxxxxyy")})
    >>> s = stratified_sample(t, per_group=2)
    >>> s.groupby("macro_genre")["weight"].first().to_dict()
    {'x': 2.5, 'y': 1.0}
    >>> float(s["weight"].sum()) == len(t)
    True
    """
    rng = np.random.default_rng(random_state)
    keys = tracks[by].astype(str).to_numpy()
    ids = tracks["track_id"].astype(str).to_numpy()
    parts = []
    for group in sorted(set(keys)):
        positions = np.flatnonzero(keys == group)
        positions = positions[np.argsort(ids[positions], kind="stable")]
        drawn = rng.permutation(positions)[:per_group]
        parts.append(pd.DataFrame({
            "position": drawn, "track_id": ids[drawn], by: group,
            "order": np.arange(len(drawn)), "weight": len(positions) / len(drawn),
        }))
    return pd.concat(parts, ignore_index=True)

