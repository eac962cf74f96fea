"""Dataset access: lookup order, checksum, download against a local server, processed cache."""

from __future__ import annotations

import gzip
import hashlib
import os
import time

import pytest

from analysis import data, paths
from analysis.data import DatasetError, fetch_raw, locate_raw, uncompressed_sha256, verify_raw

SMALL = b"a,b\n1,2\n"
SMALL_SHA = hashlib.sha256(SMALL).hexdigest()


@pytest.fixture
def isolated_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.DATA_DIR_ENV_VAR, str(tmp_path / "data"))
    monkeypatch.delenv(paths.DATA_ENV_VAR, raising=False)
    return tmp_path / "data"



def test_sha_is_of_uncompressed_bytes(tmp_path):
    plain, gz = tmp_path / "a.csv", tmp_path / "a.bin"
    plain.write_bytes(SMALL)
    gz.write_bytes(gzip.compress(SMALL))
    assert uncompressed_sha256(plain) == uncompressed_sha256(gz) == SMALL_SHA


def test_verify_rejects_wrong_and_truncated_files(tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_bytes(b"x,y\n")
    with pytest.raises(DatasetError, match="wrong.csv: SHA-256"):
        verify_raw(wrong, expected_sha256=SMALL_SHA)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(SMALL * 1000)[:-20])
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        verify_raw(cut, expected_sha256=SMALL_SHA)
    with pytest.raises(DatasetError, match="no such file"):
        verify_raw(tmp_path / "absent.csv", expected_sha256=SMALL_SHA)


def test_lookup_order_explicit_then_env_then_cache(tmp_path, isolated_data_dir, monkeypatch):
    explicit, env = tmp_path / "explicit.csv", tmp_path / "env.csv"
    for f in (explicit, env):
        f.write_bytes(SMALL)
    cache = isolated_data_dir / "raw" / "dataset.csv"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(SMALL)
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(env))
    assert locate_raw(explicit, expected_sha256=SMALL_SHA) == explicit
    assert locate_raw(expected_sha256=SMALL_SHA) == env
    monkeypatch.delenv(paths.DATA_ENV_VAR)
    assert locate_raw(expected_sha256=SMALL_SHA) == cache
    cache.unlink()
    with pytest.raises(DatasetError, match="No dataset found"):
        locate_raw(download=False, expected_sha256=SMALL_SHA)


def test_a_bad_explicit_file_is_an_error_not_a_fallback(tmp_path, isolated_data_dir):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"nope")
    with pytest.raises(DatasetError, match="bad.csv"):
        locate_raw(bad, expected_sha256=SMALL_SHA)


def test_download_good_body_lands_verified(server, isolated_data_dir):
    url, bodies = server
    bodies["/ok.csv"] = SMALL
    bodies["/ok.gz"] = gzip.compress(SMALL)
    got = fetch_raw(f"{url}/ok.csv", expected_sha256=SMALL_SHA, progress=False)
    assert got == isolated_data_dir / "raw" / "dataset.csv" and got.read_bytes() == SMALL
    got.unlink()
    got = locate_raw(url=f"{url}/ok.gz", expected_sha256=SMALL_SHA)
    assert got.name == "dataset.csv.gz"
    assert sorted(p.name for p in got.parent.iterdir()) == ["dataset.csv.gz"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/corrupt.gz", gzip.compress(SMALL * 500, mtime=0)[:40] + b"\x00" * 40,
         "truncated or corrupt"),
        ("/wrong.csv", b"a,b\n1,3\n", "SHA-256"),
        ("/truncated.csv", SMALL, "download"),
        ("/missing.csv", None, "404"),
    ],
    ids=["corrupt-gz", "wrong-sha", "truncated", "missing"],  # stable across xdist workers
)
def test_failed_download_leaves_nothing(server, isolated_data_dir, path, body, message):
    url, bodies = server
    if body is not None:
        bodies[path] = body
    with pytest.raises(DatasetError, match=message):
        fetch_raw(f"{url}{path}", expected_sha256=SMALL_SHA, progress=False)
    raw_dir = isolated_data_dir / "raw"
    assert not raw_dir.exists() or list(raw_dir.iterdir()) == []


@pytest.mark.slow
def test_download_of_the_real_file_from_a_local_mirror(server, isolated_data_dir, raw_path):
    """The whole path a new user takes, against 127.0.0.1 serving the shared copy."""
    url, bodies = server
    bodies["/dataset.csv"] = gzip.decompress(raw_path.read_bytes())
    bodies["/truncated.csv"] = bodies["/dataset.csv"][: 5_000_000]
    with pytest.raises(DatasetError):
        fetch_raw(f"{url}/truncated.csv", progress=False)
    assert not list((isolated_data_dir / "raw").iterdir())
    got = fetch_raw(f"{url}/dataset.csv", progress=False)
    assert verify_raw(got) == data.DATASET_SHA256


@pytest.mark.slow
def test_processed_cache_is_keyed_and_hit(raw_path, isolated_data_dir):
    first = data.load_tracks(raw_path)
    caches = list((isolated_data_dir / "processed").iterdir())
    assert [c.name for c in caches] == [f"{data.DATASET_SHA256[:16]}-v{data.CLEANING_VERSION}"]
    stamp = os.path.getmtime(caches[0] / "tracks.parquet")
    time.sleep(0.01)
    second = data.load_tracks(raw_path)
    assert os.path.getmtime(caches[0] / "tracks.parquet") == stamp  # a hit, not a rewrite
    assert second.tracks.equals(first.tracks)
    assert second.summary == first.summary


@pytest.mark.parametrize("name", ["out_of_range.csv", "semicolon.csv", "truncated.csv.gz"])
def test_loading_a_malformed_file_writes_nothing(name, isolated_data_dir):
    """Whatever fails (checksum first, then validation), no cache or copy is left behind."""
    from pathlib import Path

    bad = Path(__file__).parent / "malformed" / name
    with pytest.raises((DatasetError, ValueError), match=name):
        data.load_tracks(bad, download=False)
    assert not isolated_data_dir.exists() or not any(isolated_data_dir.rglob("*"))
