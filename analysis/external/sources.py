"""The external crawls: which files, where they come from, and proof they are the right bytes.

Two public datasets gathered independently of the Kaggle Spotify Tracks Dataset, at other
times and by other sampling, are used for **evaluation only** (the question of issue 13: does
what a model learnt on one crawl hold on tracks another crawl picked?). Like the main dataset
they are never committed. Each file is found the way :func:`analysis.data.locate_raw` finds
the raw dataset, and proved by the SHA-256 of its *uncompressed* bytes (a plain or a gzipped
copy hash alike).

Lookup order of :func:`locate_external` for each file, by the name ``<stem>.csv`` or
``<stem>.csv.gz``:

1. an explicit folder (``python -m analysis.cli external --external-dir DIR``),
2. the folder named by ``$TRACK_ANALYTICS_EXTERNAL``,
3. the shared verified copies ``../shared/data/external/`` when that folder exists,
4. the local cache ``data/external/``,
5. and only then a download from the public source below (a pinned GitHub commit), verified
   before it is moved into the cache.

A file found in 1 or 2 must be there and verify; a copy that does not verify is an error
wherever it is found, never a reason to look further.

Notes
-----
No licence is stated by the GitHub copies. Both are Kaggle datasets: cite them by name and
author; track, artist and album names remain their owners'. The provenance of every byte
(repositories, commits, archive member) is recorded in ``../shared/data/external/SOURCE.md``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from analysis import paths
from analysis.data import DatasetError, downloaded, uncompressed_sha256

__all__ = [
    "BILLBOARD",
    "EXTERNAL_SETS",
    "MUSIC_GENRE",
    "ExternalFile",
    "ExternalSet",
    "describe_sources",
    "external_file",
    "fetch_external",
    "locate_external",
    "locate_set",
    "verify_external",
]

_SUFFIXES = (".csv", ".csv.gz")


@dataclass(frozen=True)
class ExternalFile:
    """One file of an external crawl.

    Attributes
    ----------
    stem : str
        Local name without ``.csv`` / ``.csv.gz`` (``music_genre``, ``hit_predictor_60s``).
    original : str
        The file's name at its source (``dataset-of-60s.csv``).
    sha256 : str
        SHA-256 of the uncompressed original CSV.
    rows : int
        Data rows of the original (header excluded).
    url : str
        Public download, at a pinned commit.
    archive_sha256, member : str or None
        When ``url`` serves a zip: the zip's SHA-256 and the CSV inside it.
    """

    stem: str
    original: str
    sha256: str
    rows: int
    url: str
    archive_sha256: str | None = None
    member: str | None = None


@dataclass(frozen=True)
class ExternalSet:
    """An external crawl: its files and how to cite it.

    Attributes
    ----------
    name : str
        ``music_genre`` or ``billboard`` (keys of ``models/external.json``).
    title, author, crawled : str
        The Kaggle dataset it is, who published it, when it was crawled.
    repository, commit : str
        The public GitHub copy the bytes come from.
    files : tuple of ExternalFile
        In reading order.
    """

    name: str
    title: str
    author: str
    crawled: str
    repository: str
    commit: str
    files: tuple[ExternalFile, ...]


def _github_raw(repository: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repository}/{commit}/{path}"


_MG_REPO = "SidtheKidx/spotify-genre-analysis"
_MG_COMMIT = "408d667e648564983f761da81b18e72e4de962b6"
_BB_REPO = "Anjana-2004/Hit-Song-Prediction"
_BB_COMMIT = "dff867518b7be235cb3971192b2a29492f94bcee"

#: "Prediction of music genre" (Kaggle, vicsuperman), crawled April 2021: 50,005 rows, ten
#: genres, popularity, no track ids and no album names.
MUSIC_GENRE = ExternalSet(
    name="music_genre", title="Prediction of music genre", author="vicsuperman (Kaggle)",
    crawled="April 2021", repository=_MG_REPO, commit=_MG_COMMIT,
    files=(ExternalFile(
        stem="music_genre", original="music_genre.csv", rows=50_005,
        sha256="6e1a77a46c88226e24aa36facf81235315b4680054bc7f3d3c609c1b05711078",
        url=_github_raw(_MG_REPO, _MG_COMMIT, "music_genre.csv.zip"),
        archive_sha256="85a4c95a912a7de6990cdbc096ab5db24422350e04010ab9c5f4589503004e30",
        member="music_genre.csv"),),
)

_BB_FILES = (
    ("60", 8_642, "08993f6a89f7b9580e0283e1e490f54e0d4277d13154d7b94bd5ef30059adb7d"),
    ("70", 7_766, "978526cb06679e4d5187e4a0ef3cfe95418c7330d1a7271822333bc8d36658ae"),
    ("80", 6_908, "9ace31fe7cf814c1637a0bed1ed77e25b475e1bf292a942ccec41905b22850a0"),
    ("90", 5_520, "aeeed288dc138c8ef7ef3da8fcbf23d2c0e72afd4067baf40804d8f129196235"),
    ("00", 5_872, "def18a104f77cdecfb5c86d1d0bf2e7c9dc3bcead0bc5864b99b26aaab689a1b"),
    ("10", 6_398, "a76c3d334ac4a65690f6ad407279ffcec5819997d800377f33f4cd36fe3917b7"),
)

#: "The Spotify Hit Predictor Dataset (1960-2019)" (Kaggle, Farooq Ansari): one file per
#: decade, Billboard Hot 100 hits and "flops" 50/50, no popularity, genre or album.
BILLBOARD = ExternalSet(
    name="billboard", title="The Spotify Hit Predictor Dataset (1960-2019)",
    author="Farooq Ansari (Kaggle)", crawled="2020", repository=_BB_REPO, commit=_BB_COMMIT,
    files=tuple(
        ExternalFile(stem=f"hit_predictor_{decade}s", original=f"dataset-of-{decade}s.csv",
                     rows=rows, sha256=sha,
                     url=_github_raw(_BB_REPO, _BB_COMMIT, f"dataset-of-{decade}s.csv"))
        for decade, rows, sha in _BB_FILES),
)

#: Both crawls, by name.
EXTERNAL_SETS: dict[str, ExternalSet] = {s.name: s for s in (MUSIC_GENRE, BILLBOARD)}


def external_file(stem: str) -> ExternalFile:
    """The registered file called ``stem``.

    Examples
    --------
    >>> external_file("hit_predictor_70s").original
    'dataset-of-70s.csv'
    """
    for external_set in EXTERNAL_SETS.values():
        for file in external_set.files:
            if file.stem == stem:
                return file
    raise KeyError(f"no external file {stem!r}")


def verify_external(path: str | os.PathLike, file: ExternalFile) -> str:
    """Check that ``path`` holds ``file`` (uncompressed SHA-256); return the hash.

    Raises
    ------
    DatasetError
        Naming the path when it is missing, truncated, corrupt or hashes differently.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file.")
    actual = uncompressed_sha256(path)
    if actual != file.sha256:
        raise DatasetError(
            f"{path}: SHA-256 of the uncompressed bytes is {actual}, expected {file.sha256} "
            f"({file.original} of {file.url}); refusing to use it.")
    return actual


def _in_folder(folder: Path, file: ExternalFile) -> Path | None:
    for suffix in _SUFFIXES:
        candidate = folder / f"{file.stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def locate_external(
    file: ExternalFile, folder: str | os.PathLike | None = None, *, download: bool = True,
    timeout: float = 60.0, progress: bool = True,
) -> Path:
    """Find one external file (see the module docstring for the order) and verify it.

    Parameters
    ----------
    file : ExternalFile
        What to find.
    folder : path, optional
        An explicit folder; wins over everything else, and the file must be in it.
    download : bool
        Whether a file found nowhere may be fetched into ``data/external/``.

    Raises
    ------
    DatasetError
        If an explicit folder lacks the file, a copy does not verify, or nothing is found and
        ``download`` is False (or the download fails).
    """
    env = os.environ.get(paths.EXTERNAL_ENV_VAR)
    for explicit in (folder, env or None):
        if explicit is not None:
            found = _in_folder(Path(explicit), file)
            if found is None:
                raise DatasetError(f"{explicit}: no {file.stem}.csv or {file.stem}.csv.gz "
                                   f"(the folder given for the external crawls).")
            verify_external(found, file)
            return found
    for candidate in (paths.SHARED_EXTERNAL_DIR, paths.external_cache_dir()):
        found = _in_folder(candidate, file) if candidate.is_dir() else None
        if found is not None:
            verify_external(found, file)
            return found
    if not download:
        raise DatasetError(
            f"No copy of {file.stem}: pass a folder, set ${paths.EXTERNAL_ENV_VAR}, or place "
            f"{file.stem}.csv(.gz) in {paths.external_cache_dir()}.")
    return fetch_external(file, timeout=timeout, progress=progress)


def locate_set(
    external_set: ExternalSet, folder: str | os.PathLike | None = None, *, download: bool = True,
) -> dict[str, Path]:
    """Every file of a crawl, located and verified: ``{stem: path}`` in reading order."""
    return {f.stem: locate_external(f, folder, download=download) for f in external_set.files}


def fetch_external(
    file: ExternalFile, *, dest_dir: str | os.PathLike | None = None, timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download one external file, verify it, and only then move it into ``dest_dir``.

    When the source serves a zip, the zip's own SHA-256 is checked first and its member is
    extracted; the CSV is then verified like any copy. A failure of any step raises
    :class:`~analysis.data.DatasetError` and leaves nothing in ``dest_dir``.

    Returns
    -------
    Path
        ``dest_dir/<stem>.csv`` (default ``data/external/``).
    """
    dest_dir = Path(dest_dir) if dest_dir is not None else paths.external_cache_dir()
    final = dest_dir / f"{file.stem}.csv"
    with downloaded(file.url, dest_dir, timeout=timeout, progress=progress,
                    desc=file.original) as tmp:
        try:
            if file.member is None:
                verify_external(tmp, file)
                os.replace(tmp, final)
                return final
            _check_archive(tmp, file)
            _extract_verified(tmp, file, final)
        except DatasetError as exc:
            raise DatasetError(f"{file.url}: {exc}") from exc
        return final


def _check_archive(path: Path, file: ExternalFile) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != file.archive_sha256:
        raise DatasetError(f"the archive's SHA-256 is {digest}, expected {file.archive_sha256}.")


def _extract_verified(archive: Path, file: ExternalFile, final: Path) -> None:
    """Extract ``file.member`` beside ``final``, verify it, rename it into place."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            data = zipped.read(file.member)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DatasetError(f"no readable {file.member} in the archive ({exc}).") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != file.sha256:
        raise DatasetError(f"{file.member}: SHA-256 {digest}, expected {file.sha256}.")
    fd, tmp_name = tempfile.mkstemp(prefix=".extract-", suffix=".tmp", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp_name, final)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def describe_sources(read_sha256: Mapping[str, str]) -> dict[str, dict]:
    """Provenance of both crawls as ``models/external.json`` records it.

    ``read_sha256`` maps each stem to the SHA-256 of the uncompressed bytes actually read;
    ``verified`` says whether they are the registered file's (always, for copies found by
    :func:`locate_external`; a test build on synthetic files records its own hashes).
    """
    return {
        s.name: {
            "title": s.title, "author": s.author, "crawled": s.crawled,
            "repository": s.repository, "commit": s.commit,
            "files": [{"file": f.original, "stem": f.stem, "rows": f.rows, "url": f.url,
                       "sha256": read_sha256.get(f.stem),
                       "verified": read_sha256.get(f.stem) == f.sha256,
                       **({"archive_sha256": f.archive_sha256, "member": f.member}
                          if f.member else {})}
                      for f in s.files if f.stem in read_sha256],
        }
        for s in EXTERNAL_SETS.values()
    }
