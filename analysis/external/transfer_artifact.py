"""``models/transfer.json``: reading it, and the typed accessors the pages go through.

Written by :func:`analysis.external.comparison.build_transfer` (``make transfer``). Layout
(``schema_version`` 1)::

    schema_version, training_data_sha256, random_state, hit_threshold,
    new_release_definition, parameters, rule[], versions
    candidates[]          name, columns, drops, reads, blanked, training_rows,
                          training_tracks, target, stronger_regularisation,
                          scores.{in_data, new_release, macro_genre_holdout, music_genre,
                                  billboard}
    agreement.<role>      external, measures[] {measure, rank_correlation, mean_gap,
                          mean_abs_gap}, closest, best_ranker
    selection             current_recipe, <role>.{measure, measure_source, chosen, tied,
                          eligible, keeps_current, chosen_scores, current_scores, ...}
    known_artist_by_album by_album / by_song .{all, new_release, album_seen_in_training}
    honest_models.<protocol>.<model>.{music_genre, billboard}

``<role>`` is ``popularity_model`` or ``hit_classifier``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from analysis import paths

__all__ = [
    "TRANSFER_SCHEMA_VERSION",
    "TransferSchemaError",
    "agreement",
    "candidate_entries",
    "candidate_entry",
    "honest_models",
    "known_artist_by_album",
    "load_transfer",
    "selection",
    "selection_rule",
]

#: Layout of ``models/transfer.json`` this code reads and writes.
TRANSFER_SCHEMA_VERSION = 1


class TransferSchemaError(ValueError):
    """``transfer.json`` was written in a layout this code does not read."""


def load_transfer(models_dir: str | os.PathLike | None = None) -> dict:
    """The committed ``models/transfer.json``.

    Raises
    ------
    FileNotFoundError
        If it has not been built (``make transfer``).
    TransferSchemaError
        If its ``schema_version`` is not :data:`TRANSFER_SCHEMA_VERSION`.
    """
    path = paths.transfer_file(models_dir)
    data = json.loads(path.read_text())
    if data.get("schema_version") != TRANSFER_SCHEMA_VERSION:
        raise TransferSchemaError(
            f"{path}: schema_version {data.get('schema_version')!r}, this code reads "
            f"{TRANSFER_SCHEMA_VERSION}; rebuild it with `python -m analysis.cli transfer`")
    return data


def _get(transfer: Mapping, *keys: str):
    value = transfer
    for depth, key in enumerate(keys):
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(f"transfer.json has no {'.'.join(keys[: depth + 1])}")
        value = value[key]
    return value


def candidate_entries(transfer: Mapping) -> list[Mapping]:
    """Every recipe compared, in the comparison's order."""
    return list(_get(transfer, "candidates"))


def candidate_entry(transfer: Mapping, name: str) -> Mapping:
    """One recipe's description and scores.

    Examples
    --------
    >>> candidate_entry({"candidates": [{"name": "a"}]}, "a")
    {'name': 'a'}
    """
    for entry in candidate_entries(transfer):
        if entry["name"] == name:
            return entry
    raise KeyError(f"transfer.json has no candidate {name!r}")


def agreement(transfer: Mapping, role: str) -> Mapping:
    """How each in-data measure relates to the external one for ``role``."""
    return _get(transfer, "agreement", role)


def selection(transfer: Mapping, role: str | None = None) -> Mapping:
    """The rule's outcome (for one ``role``, or the whole section)."""
    return _get(transfer, "selection") if role is None else _get(transfer, "selection", role)


def selection_rule(transfer: Mapping) -> list[str]:
    """The selection rule in words, as recorded before the comparison ran."""
    return list(_get(transfer, "rule"))


def known_artist_by_album(transfer: Mapping) -> Mapping:
    """The known-artist recipe under album- and song-grouped folds."""
    return _get(transfer, "known_artist_by_album")


def honest_models(transfer: Mapping, protocol: str) -> Mapping:
    """Every model of ``protocol`` scored on the crawls: ``{model: {set: scores}}``."""
    return _get(transfer, "honest_models", protocol)
