"""Python regexes over millions of strings, at RE2 speed, with Python's exact answers.

The feature contract (:mod:`analysis.features`) reads title and album-name markers with
Python's ``re`` (Unicode, case-insensitive). Row by row that costs about a microsecond per
marker and per track; triaging a million-track catalogue needs the same answers two orders of
magnitude faster. RE2 (``pyarrow.compute``, C++) is that fast, but its ``\\b``, ``\\s`` and
case folding are not Python's on non-ASCII text (Python's case-insensitive ``i`` also matches
``ı`` and ``İ``; its ``\\b`` knows accented letters). So :func:`search_rows`:

1. answers ASCII strings with RE2 directly: on ASCII text both engines mean the same thing,
   once ``\\s`` is spelled as Python's ASCII whitespace (:func:`ascii_pattern`);
2. for the other strings, asks RE2 a *looser* question first (:func:`superset_pattern`: every
   character class spelled out as the exact set of characters Python's engine accepts for it,
   found by running Python's own engine over every code point; word boundaries and anchors
   dropped), so only strings that might match go to Python's ``re``, which decides.

Both steps are exact by construction, and ``tests/test_fastregex.py`` checks the answers
against plain ``re.search`` on the real titles and album names and on adversarial strings.
"""

from __future__ import annotations

import re
from functools import cache
from re import _constants as sre_c
from re import _parser as sre_parse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "ASCII_SPACE",
    "ascii_pattern",
    "count_nonblank_fields",
    "python_each",
    "search_rows",
    "superset_pattern",
    "unicode_space_class",
]

#: What Python's ``str.isspace()`` (``re``'s ``\s``, ``str.strip()``) matches within ASCII.
ASCII_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"
#: Escapes whose meaning on ASCII text is the same in Python's ``re`` and RE2 (``\s`` once
#: spelled :data:`ASCII_SPACE`): word boundary, digit, and escaped punctuation.
_PORTABLE_ESCAPES = frozenset("bds.()[]{}-")


def ascii_pattern(pattern: str) -> str:
    r"""``pattern`` for RE2, matching exactly what Python's ``re`` matches on ASCII text.

    On ASCII text the engines agree on literals, classes, ``\b`` (word characters are
    ``[0-9A-Za-z_]`` for both), ``\d`` and case-insensitive letters; they differ on ``\s``
    (RE2 leaves out ``\v`` and ``\x1c``-``\x1f``), so it is spelled out. Any other escape is
    refused, so a new pattern cannot silently change meaning between the two engines.

    Examples
    --------
    >>> print(ascii_pattern(r"sped\s*up"))
    sped[\t\n\x0b\x0c\r\x1c-\x1f ]*up
    >>> ascii_pattern(r"\w+")
    Traceback (most recent call last):
    ...
    ValueError: escape(s) ['w'] in '\\w+' have no checked RE2 equivalent on ASCII text
    """
    unknown = set(re.findall(r"\\(.)", pattern)) - _PORTABLE_ESCAPES
    if unknown:
        raise ValueError(f"escape(s) {sorted(unknown)} in {pattern!r} have no checked RE2 "
                         "equivalent on ASCII text")
    return pattern.replace(r"\s", ASCII_SPACE)


@cache
def _every_character() -> str:
    """Every Unicode scalar value (surrogates cannot occur in decoded UTF-8)."""
    return "".join(map(chr, [*range(0xD800), *range(0xE000, 0x110000)]))


@cache
def _matched_by(single: str, flags: int) -> str:
    """An RE2 class of exactly the characters the one-character Python pattern matches."""
    chars = re.findall(single, _every_character(), flags)
    return _class(sorted(map(ord, chars)))


def _class(codes: list[int]) -> str:
    if not codes:
        return r"[^\x{0}-\x{10FFFF}]"  # matches nothing
    ranges, start, previous = [], codes[0], codes[0]
    for code in codes[1:]:
        if code != previous + 1:
            ranges.append((start, previous))
            start = code
        previous = code
    ranges.append((start, previous))
    return "[" + "".join(
        f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges) + "]"


@cache
def unicode_space_class() -> str:
    r"""RE2 class of exactly the characters for which Python's ``str.isspace()`` is true.

    Examples
    --------
    >>> [bool(pc.match_substring_regex(c, unicode_space_class()).as_py()) for c in "\x1c\u3000x"]
    [True, True, False]
    """
    return _matched_by(r"\s", 0)


def _python_class(items: list) -> str:
    """Python source of a character class from its parsed items."""
    parts = []
    for op, value in items:
        if op is sre_c.NEGATE:
            parts.insert(0, "^")
        elif op is sre_c.LITERAL:
            parts.append(re.escape(chr(value)))
        elif op is sre_c.RANGE:
            parts.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
        elif op is sre_c.CATEGORY:
            parts.append({sre_c.CATEGORY_DIGIT: r"\d", sre_c.CATEGORY_NOT_DIGIT: r"\D",
                          sre_c.CATEGORY_SPACE: r"\s", sre_c.CATEGORY_NOT_SPACE: r"\S",
                          sre_c.CATEGORY_WORD: r"\w", sre_c.CATEGORY_NOT_WORD: r"\W"}[value])
        else:
            raise _Unsupported(op)
    return "[" + "".join(parts) + "]"


class _Unsupported(Exception):
    """A regex construct the superset translation does not handle (callers fall back)."""


def _translate(nodes, flags: int) -> str:
    out = []
    for op, value in nodes:
        if op is sre_c.LITERAL:
            out.append(_matched_by(re.escape(chr(value)), flags))
        elif op is sre_c.NOT_LITERAL:
            out.append(_matched_by(f"[^{re.escape(chr(value))}]", flags))
        elif op is sre_c.IN:
            out.append(_matched_by(_python_class(value), flags))
        elif op is sre_c.ANY:
            out.append(_matched_by(".", flags))
        elif op is sre_c.AT:
            continue  # boundaries and anchors only restrict: dropping them loosens
        elif op is sre_c.BRANCH:
            out.append("(?:" + "|".join(_translate(alt, flags) for alt in value[1]) + ")")
        elif op is sre_c.SUBPATTERN:
            _, add_flags, del_flags, body = value
            if add_flags or del_flags:
                raise _Unsupported("inline flags")
            out.append("(?:" + _translate(body, flags) + ")")
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            low, high, body = value
            bound = f"{{{low},}}" if high is sre_c.MAXREPEAT else f"{{{low},{high}}}"
            out.append("(?:" + _translate(body, flags) + ")" + bound)
        else:
            raise _Unsupported(op)
    return "".join(out)


@cache
def superset_pattern(pattern: str, flags: int = 0) -> str | None:
    r"""An RE2 pattern that matches every string Python's ``re.search(pattern)`` matches.

    Each literal and class becomes the exact set of characters Python's engine accepts for
    it under ``flags`` (so case-insensitive ``i`` includes ``ı`` and ``İ``), found by running
    Python's engine over every code point; word boundaries and anchors are dropped. RE2 may
    therefore say yes where Python says no, never the reverse: its answer picks the strings
    worth asking Python about. ``None`` for constructs it does not translate
    (back-references, look-arounds, inline flags).

    Examples
    --------
    >>> loose = superset_pattern(r"\blive\b", re.IGNORECASE)
    >>> [bool(pc.match_substring_regex(s, loose).as_py()) for s in ("LİVE", "olive", "lve")]
    [True, True, False]
    """
    try:
        return _translate(sre_parse.parse(pattern, flags), flags)
    except _Unsupported:
        return None


def python_each(function, values: list):
    """``function`` of every value, computed once per distinct value (text repeats: an album's
    name is on each of its tracks)."""
    done = {value: function(value) for value in dict.fromkeys(values)}
    return [done[value] for value in values]


def _to_numpy(array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False)


def search_rows(regex: re.Pattern, text: pa.Array, *, ascii_rows: np.ndarray | None = None
                ) -> np.ndarray:
    r"""``regex.search(s) is not None`` for every string of ``text`` (no nulls), exactly.

    Parameters
    ----------
    regex : re.Pattern
        A compiled Python pattern (``re.IGNORECASE`` honoured).
    text : pyarrow.Array
        Strings, missing values given as ``""``.
    ascii_rows : numpy.ndarray, optional
        ``pc.string_is_ascii(text)``, when the caller already has it.

    Examples
    --------
    >>> rx = re.compile(r"\blive\b", re.IGNORECASE)
    >>> search_rows(rx, pa.array(["Live", "Olive", "Ao vivo LİVE", "café live"])).tolist()
    [True, False, True, True]
    """
    if ascii_rows is None:
        ascii_rows = _to_numpy(pc.string_is_ascii(text))
    case = bool(regex.flags & re.IGNORECASE)
    hits = _to_numpy(pc.match_substring_regex(
        text, ascii_pattern(regex.pattern), ignore_case=case)).copy()
    rows = np.flatnonzero(~ascii_rows)
    if rows.size:
        hits[rows] = False
        subset = text.take(pa.array(rows))
        loose = superset_pattern(regex.pattern, regex.flags & ~re.UNICODE)
        if loose is not None:
            maybe = _to_numpy(pc.match_substring_regex(subset, loose))
            rows, subset = rows[maybe], subset.filter(pa.array(maybe))
        if rows.size:
            hits[rows] = python_each(lambda s: regex.search(s) is not None, subset.to_pylist())
    return hits


def count_nonblank_fields(text: pa.Array, separator: str = ";") -> np.ndarray:
    r"""``sum(1 for f in s.split(separator) if f.strip())`` for every string, in RE2.

    A field counts when it holds a character that is neither the separator nor whitespace
    in Python's sense (:func:`unicode_space_class`), so the count is exact for any text.

    Examples
    --------
    >>> count_nonblank_fields(pa.array(["A;B", "Solo", " ; x", "", "é;\u3000"])).tolist()
    [2, 1, 1, 0, 1]
    """
    space = unicode_space_class()[1:-1]
    sep = re.escape(separator)
    field = f"{sep}[{space}]*[^{sep}{space}]"
    # A separator is prepended to every string: Arrow re-anchors ``^`` after each match.
    prefixed = pc.binary_join_element_wise(separator, text, "")
    return _to_numpy(pc.count_substring_regex(prefixed, field)).astype("int64")
