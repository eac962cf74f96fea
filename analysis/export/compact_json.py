"""The export's JSON text: exact float32 numbers in as few characters as possible.

The browser exports are committed and compared byte for byte, and the browser must read back
exactly the float32 values XGBoost uses. General artifacts are written by
:func:`analysis.artifacts.dumps_json` (sorted keys, rounded to 6 decimals); the exports need a
different writer: keys in the order the format documents, numbers spelled as the shortest
decimal that reads back to their float32, and long arrays passed in pre-serialised
(:class:`Raw`) so a 100,000-node tree array is one line of compact text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

__all__ = [
    "Raw",
    "compact_number",
    "decimal_to_float32",
    "dumps_compact",
    "float32_text",
    "float32_texts",
    "general_texts",
    "plain_json",
    "raw_array",
    "raw_rows",
]


def decimal_to_float32(texts: Sequence[str]) -> np.ndarray:
    """Parse decimal strings to the float32 nearest to each, as XGBoost's own reader does.

    Going through float64 first is exact except when the double lands exactly on a midpoint
    between two float32 values (double rounding); those rare cases are settled with exact
    rational arithmetic so a threshold can never move by one ulp on the way in.
    """
    d = np.array(list(texts), dtype=np.float64)
    f = d.astype(np.float32)
    up = np.nextafter(f, np.float32(np.inf))
    down = np.nextafter(f, np.float32(-np.inf))
    f64 = f.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        tie = np.isfinite(d) & (
            (d == (f64 + up.astype(np.float64)) / 2) | (d == (f64 + down.astype(np.float64)) / 2)
        )
    for i in np.flatnonzero(tie):
        exact = Fraction(texts[i])
        candidates = sorted(
            {f[i], up[i], down[i]},
            key=lambda c: (abs(Fraction(float(c)) - exact), int(np.float32(c).view(np.uint32)) & 1),
        )
        f[i] = candidates[0]
    return f


_EXPONENT = re.compile(r"e([+-])0*(\d)")


def compact_number(text: str) -> str:
    """'500.0' -> '500', '1e-08' -> '1e-8', '3.4e+38' -> '3.4e38', '-0.0' -> '0'."""
    if text.endswith(".0"):
        text = text[:-2]
    text = _EXPONENT.sub(lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), text)
    text = text.replace(".0e", "e")
    return "0" if text == "-0" else text


def float32_texts(values: np.ndarray, what: str) -> list[str]:
    """Shortest decimal strings that read back (decimal -> double -> float32) to ``values``."""
    values = np.asarray(values, dtype=np.float32)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} contains NaN or infinity; the model cannot be exported")
    texts = [compact_number(str(v)) for v in values]
    back = np.array(texts, dtype=np.float64).astype(np.float32)
    for i in np.flatnonzero(back != values):  # double rounding on the reader's side: spell out
        texts[i] = repr(float(values[i]))
    return texts


def float32_text(value: float) -> str:
    return float32_texts(np.array([value], dtype=np.float32), "value")[0]


def general_texts(values: np.ndarray, digits: int) -> list[str]:
    """Rounded decimals for fixture payloads (SHAP values), where 1e-6 relative is plenty."""
    return [compact_number(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64)]


class Raw(str):
    """Pre-serialised JSON text inserted verbatim by :func:`dumps_compact`."""


def raw_array(texts: Sequence[str]) -> Raw:
    return Raw("[" + ",".join(texts) + "]")


def dumps_compact(obj: Any, *, indent: str | None = None) -> str:
    """Deterministic compact JSON; ``indent`` puts each top-level key on its own line."""
    if isinstance(obj, Raw):
        return str(obj)
    if isinstance(obj, Mapping):
        items = [json.dumps(str(k)) + ":" + dumps_compact(v) for k, v in obj.items()]
        if indent is None:
            return "{" + ",".join(items) + "}"
        return "{\n" + ",\n".join(indent + item for item in items) + "\n}\n"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps_compact(v) for v in obj) + "]"
    return json.dumps(obj, allow_nan=False)


def plain_json(obj: Any, where: str = "metadata") -> Any:
    """Make caller-supplied metadata JSON-ready, naming the exact key that is not."""
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is not a string; JSON keys must be")
            out[key] = plain_json(value, f"{where}[{key!r}]")
        return out
    if isinstance(obj, np.ndarray):
        return [plain_json(v, f"{where}[{i}]") for i, v in enumerate(obj.tolist())]
    if isinstance(obj, list | tuple):
        return [plain_json(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"{where} is {obj!r}; JSON has no NaN/Infinity (use None)")
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"{where} has type {type(obj).__name__}, which is not JSON-serialisable")


def raw_rows(matrix: np.ndarray, fmt: Any) -> Raw:
    """A 2-D array as JSON, one row per line (diffable, still compact)."""
    return Raw("[\n" + ",\n".join("[" + ",".join(fmt(row)) + "]" for row in matrix) + "]")

