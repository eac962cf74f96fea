"""analysis.artifacts: atomic, deterministic writes and JSON that is always valid."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from analysis.artifacts import (
    NonFiniteValueError,
    atomic_write,
    clean_json,
    dumps_json,
    sha256_file,
    write_if_changed,
)


def test_clean_json_rounds_and_nulls_nan_but_rejects_infinity():
    assert clean_json({"a": 1 / 3, "b": np.float64("nan")}) == {"a": 0.333333, "b": None}
    for bad in (float("inf"), -np.inf):
        with pytest.raises(NonFiniteValueError, match=r"value\.m\[1\]"):
            clean_json({"m": [0.0, bad]})


def test_dumps_json_is_valid_sorted_and_stable():
    text = dumps_json({"z": np.int64(3), "a": (np.float32(0.5), True)})
    assert json.loads(text) == {"a": [0.5, True], "z": 3}
    assert text == dumps_json({"a": [0.5, True], "z": 3})
    assert text.index('"a"') < text.index('"z"') and text.endswith("\n")


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    atomic_write(target, b"old")

    def fail(path):
        path.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, fail)
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(target.parent)) == ["file.bin"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_write_if_changed_keeps_identical_files(tmp_path):
    target = tmp_path / "x.json"
    assert write_if_changed(target, b"{}") is True
    stamp = target.stat().st_mtime_ns
    assert write_if_changed(target, b"{}") is False
    assert target.stat().st_mtime_ns == stamp
    assert write_if_changed(target, b"[]") is True


def test_sha256_file(tmp_path):
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert sha256_file(path) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
