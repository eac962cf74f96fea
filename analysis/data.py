"""Find, download, verify and load the Spotify Tracks dataset.

The raw file is Kaggle's ``dataset.csv`` (Maharshi Pandya, "Spotify Tracks Dataset"). It is never
committed: this module finds it, proves it is the exact file every number on the site was computed
from (SHA-256 of the uncompressed bytes), and caches the cleaned table as Parquet keyed by that
hash, so an analyst's second run costs a fraction of a second.

Lookup order in :func:`locate_raw`: an explicit path, ``$TRACK_ANALYTICS_DATA``, the local cache
``data/raw/``, and only then a download from the author's public mirror.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.cleaning import CleaningResult, clean_tracks
from analysis.schema import read_tracks_csv

#: SHA-256 of Kaggle's uncompressed ``dataset.csv`` (20,118,244 bytes).
DATASET_SHA256 = "b202fa49909b2d5cef71a04b1d21243cfeb36414535f2ca9272aa646721177bd"

#: The author's own mirror of ``dataset.csv`` on Hugging Face.
DATASET_URL = (
    "https://huggingface.co/datasets/maharshipandya/spotify-tracks-dataset/resolve/main/dataset.csv"
)

#: Bumped whenever the cleaning rules change, so stale processed caches are never read.
CLEANING_VERSION = 1

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class DatasetError(RuntimeError):
    """The raw dataset is missing, truncated, corrupt or not the expected file."""


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether ``path`` starts with the gzip magic bytes (the extension is not trusted)."""
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _iter_uncompressed(path: Path) -> Iterator[bytes]:
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DatasetError(f"{path}: the gzip stream is truncated or corrupt ({exc}).") from exc


def uncompressed_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of the file's uncompressed bytes, so plain and gzipped copies hash alike.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv.gz"
    >>> _ = p.write_bytes(gzip.compress(b"abc"))
    >>> uncompressed_sha256(p) == hashlib.sha256(b"abc").hexdigest()
    True
    """
    digest = hashlib.sha256()
    for chunk in _iter_uncompressed(Path(path)):
        digest.update(chunk)
    return digest.hexdigest()


def verify_raw(path: str | os.PathLike, *, expected_sha256: str = DATASET_SHA256) -> str:
    """Check that ``path`` holds the expected dataset; return its hash.

    Raises
    ------
    DatasetError
        If the file is missing, truncated, corrupt, or hashes differently.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file.")
    actual = uncompressed_sha256(path)
    if actual != expected_sha256:
        raise DatasetError(
            f"{path}: SHA-256 of the uncompressed bytes is {actual}, expected {expected_sha256}. "
            "This is not Kaggle's dataset.csv (or it was modified); refusing to use it."
        )
    return actual


def _cached_raw() -> Path | None:
    for name in ("dataset.csv", "dataset.csv.gz"):
        candidate = paths.raw_dir() / name
        if candidate.is_file():
            return candidate
    return None


def locate_raw(
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    url: str = DATASET_URL,
    expected_sha256: str = DATASET_SHA256,
) -> Path:
    """Find the raw dataset, downloading it only as a last resort, and verify it.

    Parameters
    ----------
    path
        An explicit file (plain or gzip CSV). Wins over everything else.
    download
        Whether a missing file may be fetched from ``url`` into ``data/raw/``.
    url, expected_sha256
        Where to download from and what the uncompressed bytes must hash to.

    Returns
    -------
    Path
        A verified file.

    See Also
    --------
    fetch_raw : the download step.
    """
    env = os.environ.get(paths.DATA_ENV_VAR)
    for candidate in (path, env or None, _cached_raw()):
        if candidate is not None:
            verify_raw(candidate, expected_sha256=expected_sha256)
            return Path(candidate)
    if not download:
        raise DatasetError(
            f"No dataset found: pass a path, set ${paths.DATA_ENV_VAR}, or place dataset.csv in "
            f"{paths.raw_dir()}."
        )
    return fetch_raw(url, expected_sha256=expected_sha256)


def fetch_raw(
    url: str = DATASET_URL,
    *,
    dest_dir: str | os.PathLike | None = None,
    expected_sha256: str = DATASET_SHA256,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download the dataset to a temporary file and move it into place only once verified.

    A truncated transfer, a corrupt body or a checksum mismatch raises :class:`DatasetError` and
    leaves nothing behind in ``dest_dir``. The body may be plain CSV or gzip; the saved name says
    which (``dataset.csv`` or ``dataset.csv.gz``).
    """
    dest_dir = Path(dest_dir) if dest_dir is not None else paths.raw_dir()
    with downloaded(url, dest_dir, timeout=timeout, progress=progress,
                    desc="dataset.csv") as tmp:
        try:
            verify_raw(tmp, expected_sha256=expected_sha256)
        except DatasetError as exc:
            raise DatasetError(f"{url}: {exc}") from exc
        final = dest_dir / ("dataset.csv.gz" if is_gzip(tmp) else "dataset.csv")
        os.replace(tmp, final)
        return final


@contextmanager
def downloaded(
    url: str, dest_dir: str | os.PathLike, *, timeout: float = 60.0, progress: bool = True,
    desc: str | None = None,
) -> Iterator[Path]:
    """Download ``url`` into a temporary file in ``dest_dir``; removed on exit unless moved.

    The one download path of the project (the raw dataset, the external crawls): the caller
    verifies the temporary file and renames it into place, so a failed or unverified
    download never leaves a file a later run could take for a good copy.

    Raises
    ------
    DatasetError
        If the request fails or the body is shorter than its ``Content-Length``.
    """
    import requests
    from tqdm.auto import tqdm

    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".tmp", dir=dest_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = requests.get(url, stream=True, timeout=timeout)
                response.raise_for_status()
                expected_len = int(response.headers.get("Content-Length", 0)) or None
                received = 0
                with tqdm(total=expected_len, unit="B", unit_scale=True,
                          desc=desc or url.rsplit("/", 1)[-1], disable=not progress) as bar:
                    for chunk in response.iter_content(_CHUNK):
                        out.write(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
            except requests.RequestException as exc:
                raise DatasetError(f"{url}: download failed ({exc}).") from exc
        if expected_len is not None and received != expected_len:
            raise DatasetError(
                f"{url}: download truncated: received {received} of {expected_len} bytes."
            )
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def load_raw(path: str | os.PathLike | None = None, *, download: bool = True) -> pd.DataFrame:
    """The verified raw table, validated row by row (114,000 rows, original index kept)."""
    located = locate_raw(path, download=download)
    return read_tracks_csv(located, name=str(located))


@dataclass(frozen=True)
class TrackData:
    """The cleaned dataset with its provenance.

    Attributes
    ----------
    tracks
        One row per ``track_id`` (see :mod:`analysis.cleaning` for every column).
    rows
        One row per input row: which bucket it landed in and which kept row absorbed it.
    summary
        Counts for the cleaning report and the Data chapter (JSON-serialisable).
    sha256
        Hash of the raw file these were computed from.
    """

    tracks: pd.DataFrame
    rows: pd.DataFrame
    summary: dict
    sha256: str


def _cache_dir(sha256: str) -> Path:
    return paths.processed_dir() / f"{sha256[:16]}-v{CLEANING_VERSION}"


def _write_cache(result: CleaningResult, sha256: str, target: Path) -> None:
    """Write all three files into a temporary folder, then rename it into place atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        result.tracks.to_parquet(tmp / "tracks.parquet", index=False)
        result.rows.to_parquet(tmp / "rows.parquet", index=False)
        summary = {"sha256": sha256, "cleaning_version": CLEANING_VERSION, **result.summary}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
        try:
            os.replace(tmp, target)
        except OSError:  # another process won the race; its copy is identical
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_tracks(
    path: str | os.PathLike | None = None, *, download: bool = True, refresh: bool = False
) -> TrackData:
    """The cleaned, one-row-per-track table, from the processed cache when it is there.

    The cache lives in ``data/processed/<hash>-v<cleaning version>/``; it is keyed by the raw
    file's hash, so a different raw file can never be served a stale table.

    Parameters
    ----------
    path
        Explicit raw file; see :func:`locate_raw` for the lookup order otherwise.
    download
        Allow downloading when no local copy exists.
    refresh
        Rebuild the cache even if present.
    """
    located = locate_raw(path, download=download)  # verified: it hashes to DATASET_SHA256
    sha256 = DATASET_SHA256
    cache = _cache_dir(sha256)
    if refresh or not (cache / "summary.json").is_file():
        raw = read_tracks_csv(located, name=str(located))
        if refresh:
            shutil.rmtree(cache, ignore_errors=True)
        _write_cache(clean_tracks(raw), sha256, cache)
    return TrackData(
        tracks=pd.read_parquet(cache / "tracks.parquet"),
        rows=pd.read_parquet(cache / "rows.parquet"),
        summary=json.loads((cache / "summary.json").read_text()),
        sha256=sha256,
    )
