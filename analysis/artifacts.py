"""Writing build artifacts: atomically, deterministically, and only valid JSON.

Every build step (models, explanations, browser exports) writes files that are committed and
compared byte for byte between builds. The rules they share live here once:

* a file is replaced in one step (temporary file + rename), so a crash or a concurrent reader
  never sees half of it, and it gets the usual umask-based mode, not ``mkstemp``'s private one;
* JSON is rounded to 6 decimals with sorted keys, so reruns write the same text; NaN (a metric
  that does not exist, such as a ROC-AUC with one class) becomes ``null``, and an infinite
  value is an error rather than the invalid JSON token ``Infinity``;
* the library versions behind an artifact are recorded with it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np


class NonFiniteValueError(ValueError):
    """An artifact was about to store an infinite number, which JSON cannot hold."""


def clean_json(value: Any, *, where: str = "value") -> Any:
    """``value`` made JSON-safe and stable: floats rounded to 6 decimals, NaN to ``None``.

    Mappings get string keys, tuples become lists, NumPy scalars become Python numbers.

    Raises
    ------
    NonFiniteValueError
        If a float is infinite; ``where`` names its position (e.g. ``metrics.r2``).

    Examples
    --------
    >>> clean_json({"a": np.float32(0.1), "b": (1, float("nan")), 3: np.bool_(True)})
    {'a': 0.1, 'b': [1, None], '3': True}
    >>> clean_json({"x": float("inf")})
    Traceback (most recent call last):
    ...
    analysis.artifacts.NonFiniteValueError: value.x is inf: JSON cannot store it
    """
    if isinstance(value, Mapping):
        return {str(k): clean_json(v, where=f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise NonFiniteValueError(f"{where} is {value}: JSON cannot store it")
        return round(value, 6)
    return value


def dumps_json(obj: Any, *, indent: int = 1) -> str:
    """:func:`clean_json` text with sorted keys and a final newline (how artifacts store JSON).

    Examples
    --------
    >>> print(dumps_json({"b": 1.23456789, "a": [1, 2]}), end="")
    {
     "a": [
      1,
      2
     ],
     "b": 1.234568
    }
    """
    return json.dumps(clean_json(obj), indent=indent, sort_keys=True, ensure_ascii=False,
                      allow_nan=False) + "\n"


def atomic_write(path: str | os.PathLike, data: bytes | Callable[[Path], None]) -> Path:
    """Replace ``path`` in one step with ``data`` (bytes, or a function writing a given path).

    The temporary file sits beside the target (same file system, so the rename is atomic)
    and is removed if anything fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if callable(data):
            data(Path(tmp))
        else:
            Path(tmp).write_bytes(data)
        umask = os.umask(0)  # mkstemp makes 0600 files; artifacts are for everyone
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def write_if_changed(path: str | os.PathLike, data: bytes) -> bool:
    """:func:`atomic_write` unless ``path`` already holds exactly ``data``; True if written.

    Cached artifacts keep their timestamps (and produce no diff) when a rebuild changes
    nothing.
    """
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    atomic_write(path, data)
    return True


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def versions(packages: Iterable[str], *, python: bool = True) -> dict[str, str]:
    """The installed version of each package (named as on PyPI), plus Python's if ``python``.

    Read from the installed distribution's metadata, without importing the package (Optuna,
    MAPIE or shap cost seconds to import). A package is found under any distribution that
    provides its import package: ``xgboost`` is installed as the ``xgboost-cpu``
    distribution, ``scikit-learn`` provides ``sklearn``. A package that is not installed is
    left out, so an optional dependency does not stop a build.

    Examples
    --------
    >>> sorted(versions(["numpy", "no-such-package"]))
    ['numpy', 'python']
    >>> import xgboost
    >>> versions(["xgboost"], python=False) == {"xgboost": xgboost.__version__}
    True
    """
    from importlib import metadata

    out = {"python": platform.python_version()} if python else {}
    providers = None
    for package in packages:
        try:
            out[package] = metadata.version(package)
            continue
        except metadata.PackageNotFoundError:
            pass
        if providers is None:  # import package -> distributions that install it
            providers = metadata.packages_distributions()
        for distribution in providers.get(_IMPORT_NAMES.get(package, package), []):
            out[package] = metadata.version(distribution)
            break
    return out


#: Import names of the packages whose distribution name differs from it.
_IMPORT_NAMES = {"scikit-learn": "sklearn"}
