"""The sha256 manifest of the browser exports: write it, read it, and the error it raises.

An exported model that was edited by hand, truncated or left over from an older export still
parses and predicts, just wrongly. Every reader of ``models/export/`` therefore checks each
file against ``manifest.json`` first (:func:`analysis.export.load_exported`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from analysis.artifacts import atomic_write

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_VERSION",
    "ExportIntegrityError",
    "manifest_entry",
    "read_manifest",
    "write_manifest",
]

#: Value of the ``"format"`` field of a manifest written by :func:`write_manifest`.
MANIFEST_FORMAT = "track-analytics-manifest"
MANIFEST_VERSION = 1


class ExportIntegrityError(ValueError):
    """An exported file does not match its manifest (or is not listed in it)."""


def manifest_entry(name: str, data: bytes) -> dict[str, Any]:
    """The manifest entry of a file called ``name`` holding ``data``.

    Examples
    --------
    >>> entry = manifest_entry("m.json", b"{}")
    >>> entry["file"], entry["bytes"], entry["sha256"][:12]
    ('m.json', 2, '44136fa355b3')
    """
    return {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "gzip_bytes": len(gzip.compress(data, compresslevel=9, mtime=0)),
    }


def write_manifest(entries: Sequence[Mapping[str, Any]], path: str | os.PathLike) -> Path:
    """Record the sha256 of each export so later readers can refuse a changed file.

    Every entry is re-checked against the file next to the manifest before anything is
    written, so a manifest can never certify a file it has not seen.

    Parameters
    ----------
    entries : sequence of mapping
        Entries returned by :func:`export_xgboost`; their files must sit in the manifest's
        folder.
    path : path-like
        Manifest file to write (JSON, sorted by file name, deterministic).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ExportIntegrityError
        If a listed file is missing or its bytes no longer match its entry.
    ValueError
        For malformed or duplicate entries.
    """
    path = Path(path)
    checked: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        missing = {"file", "sha256", "bytes", "gzip_bytes"} - set(entry)
        if missing:
            raise ValueError(f"manifest entry {i} lacks {sorted(missing)}")
        name = str(entry["file"])
        if Path(name).name != name:
            raise ValueError(f"manifest entry {i}: file {name!r} must be a bare file name")
        if name in checked:
            raise ValueError(f"manifest entry {i}: {name!r} is listed twice")
        target = path.parent / name
        if not target.exists():
            raise ExportIntegrityError(f"{target}: listed in the manifest but does not exist")
        actual = manifest_entry(name, target.read_bytes())
        if actual["sha256"] != entry["sha256"]:
            raise ExportIntegrityError(
                f"{target}: sha256 is {actual['sha256']} but the entry says {entry['sha256']}; "
                "the file changed after export - re-export before writing the manifest"
            )
        checked[name] = actual
    doc = {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "files": [checked[name] for name in sorted(checked)],
    }
    atomic_write(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
    return path


def read_manifest(manifest: str | os.PathLike | Mapping[str, Any]) -> dict[str, dict]:
    """Manifest entries keyed by file name, from a manifest file or an already-parsed one."""
    source = manifest if isinstance(manifest, Mapping) else Path(manifest)
    doc = source if isinstance(source, Mapping) else json.loads(Path(source).read_text("utf-8"))
    if doc.get("format") != MANIFEST_FORMAT or doc.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{source if not isinstance(source, Mapping) else 'manifest'}: "
                         f"not a {MANIFEST_FORMAT!r} version {MANIFEST_VERSION} document")
    return {entry["file"]: dict(entry) for entry in doc["files"]}


