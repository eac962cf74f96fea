"""analysis.external.sources: the registry, the lookup order, verification and downloads."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest

from analysis import paths
from analysis.data import DatasetError
from analysis.external.sources import (
    BILLBOARD,
    EXTERNAL_SETS,
    MUSIC_GENRE,
    ExternalFile,
    describe_sources,
    external_file,
    fetch_external,
    locate_external,
    verify_external,
)

BODY = b"a,b\n1,2\n"
SHA = hashlib.sha256(BODY).hexdigest()


def _zip(member: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, data)
    return buffer.getvalue()


def _file(url: str = "http://127.0.0.1:9/none.csv", **over) -> ExternalFile:
    fields = {"stem": "tiny_set", "original": "tiny.csv", "sha256": SHA, "rows": 1, "url": url}
    return ExternalFile(**(fields | over))


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No shared copies, no environment folder, a private data/ folder."""
    monkeypatch.setenv(paths.DATA_DIR_ENV_VAR, str(tmp_path / "data"))
    monkeypatch.delenv(paths.EXTERNAL_ENV_VAR, raising=False)
    monkeypatch.setattr(paths, "SHARED_EXTERNAL_DIR", tmp_path / "shared")
    return tmp_path



def test_registry_has_seven_files_with_pinned_public_urls():
    stems = [f.stem for s in EXTERNAL_SETS.values() for f in s.files]
    assert stems == ["music_genre", *(f"hit_predictor_{d}s" for d in
                                      ("60", "70", "80", "90", "00", "10"))]
    for external_set in EXTERNAL_SETS.values():
        for file in external_set.files:
            assert re.fullmatch(r"[0-9a-f]{64}", file.sha256)
            assert file.url.startswith(f"https://raw.githubusercontent.com/"
                                       f"{external_set.repository}/{external_set.commit}/")
    assert MUSIC_GENRE.files[0].member == "music_genre.csv"
    assert sum(f.rows for f in BILLBOARD.files) == 41_106
    assert external_file("music_genre") is MUSIC_GENRE.files[0]
    with pytest.raises(KeyError):
        external_file("nope")


def test_registry_hashes_are_those_of_the_shared_source_notes():
    notes = paths.SHARED_EXTERNAL_DIR / "SOURCE.md"
    if not notes.is_file():
        pytest.skip("no shared copy of the external crawls here")
    text = notes.read_text()
    for external_set in EXTERNAL_SETS.values():
        for file in external_set.files:
            assert file.sha256 in text and external_set.commit in text
            assert file.original in text


def test_lookup_order_explicit_then_env_then_shared_then_cache(isolated, monkeypatch):
    file = _file()
    folders = {name: isolated / name for name in ("explicit", "env", "shared")}
    folders["cache"] = paths.external_cache_dir()
    for folder in folders.values():
        folder.mkdir(parents=True)
        (folder / "tiny_set.csv").write_bytes(BODY)
    (folders["shared"] / "tiny_set.csv").unlink()
    (folders["shared"] / "tiny_set.csv.gz").write_bytes(gzip.compress(BODY))
    monkeypatch.setenv(paths.EXTERNAL_ENV_VAR, str(folders["env"]))
    assert locate_external(file, folders["explicit"]) == folders["explicit"] / "tiny_set.csv"
    assert locate_external(file) == folders["env"] / "tiny_set.csv"
    monkeypatch.delenv(paths.EXTERNAL_ENV_VAR)
    assert locate_external(file) == folders["shared"] / "tiny_set.csv.gz"
    (folders["shared"] / "tiny_set.csv.gz").unlink()
    assert locate_external(file) == folders["cache"] / "tiny_set.csv"
    (folders["cache"] / "tiny_set.csv").unlink()
    with pytest.raises(DatasetError, match="No copy of tiny_set"):
        locate_external(file, download=False)


def test_an_explicit_folder_without_the_file_or_a_bad_copy_is_an_error(isolated):
    file = _file()
    with pytest.raises(DatasetError, match="no tiny_set.csv or tiny_set.csv.gz"):
        locate_external(file, isolated)
    paths.external_cache_dir().mkdir(parents=True)
    (paths.external_cache_dir() / "tiny_set.csv").write_bytes(b"a,b\n1,3\n")
    with pytest.raises(DatasetError, match="SHA-256 of the uncompressed bytes"):
        locate_external(file, download=False)
    with pytest.raises(DatasetError, match="no such file"):
        verify_external(isolated / "absent.csv", file)


def test_download_of_a_plain_file_and_of_a_zip_member(isolated, server):
    url, bodies = server
    bodies["/tiny.csv"] = BODY
    got = locate_external(_file(f"{url}/tiny.csv"), progress=False)
    assert got == paths.external_cache_dir() / "tiny_set.csv" and got.read_bytes() == BODY
    archive = _zip("inner.csv", BODY)
    bodies["/tiny.zip"] = archive
    zipped = _file(f"{url}/tiny.zip", stem="zipped_set", member="inner.csv",
                   archive_sha256=hashlib.sha256(archive).hexdigest())
    got = fetch_external(zipped, progress=False)
    assert got.name == "zipped_set.csv" and got.read_bytes() == BODY
    assert sorted(p.name for p in got.parent.iterdir()) == ["tiny_set.csv", "zipped_set.csv"]


@pytest.mark.parametrize(("path", "over", "message"), [
    ("/wrong.csv", {}, "SHA-256"),
    ("/missing.csv", {}, "404"),
    ("/a.zip", {"member": "inner.csv", "archive_sha256": "0" * 64}, "archive's SHA-256"),
    ("/b.zip", {"member": "other.csv"}, "no readable other.csv"),
    ("/c.zip", {"member": "inner.csv", "sha256": "0" * 64}, "inner.csv: SHA-256"),
])
def test_a_failed_download_leaves_nothing(isolated, server, path, over, message):
    url, bodies = server
    archive = _zip("inner.csv", BODY)
    bodies.update({"/wrong.csv": b"x\n", "/a.zip": archive, "/b.zip": archive,
                   "/c.zip": archive})
    if "member" in over and "archive_sha256" not in over:
        over = over | {"archive_sha256": hashlib.sha256(archive).hexdigest()}
    with pytest.raises(DatasetError, match=message):
        fetch_external(_file(f"{url}{path}", **over), progress=False)
    cache = paths.external_cache_dir()
    assert not cache.exists() or list(cache.iterdir()) == []


def test_describe_sources_records_what_was_read():
    read = {"music_genre": MUSIC_GENRE.files[0].sha256, "hit_predictor_60s": "f" * 64}
    described = describe_sources(read)
    assert [f["verified"] for f in described["music_genre"]["files"]] == [True]
    assert described["music_genre"]["files"][0]["member"] == "music_genre.csv"
    assert [(f["stem"], f["verified"]) for f in described["billboard"]["files"]] == [
        ("hit_predictor_60s", False)]


@pytest.mark.slow
def test_every_shared_copy_verifies():
    if not paths.SHARED_EXTERNAL_DIR.is_dir():
        pytest.skip("no shared copy of the external crawls here")
    for external_set in EXTERNAL_SETS.values():
        for file in external_set.files:
            found = locate_external(file, paths.SHARED_EXTERNAL_DIR, download=False)
            assert Path(found).parent == paths.SHARED_EXTERNAL_DIR
