"""Filling templates: the few helpers every page module of :mod:`analysis.prose` shares.

A page module holds *facts* (numbers, computed or read from artifacts, no wording) and
*templates* (wording, with ``str.format`` fields for the facts, no computation). These helpers
join the two: they format, they pick a word by a sign, they make lists. They know no page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

#: The minus sign of a negative figure in prose (a hyphen would wrap a negative figure on a
#: phone and reads as a dash).
MINUS = "−"

#: A hyphen that is the sign of a number: before a digit, not inside a word, range or date.
_SIGN = re.compile(r"(?<![\w\-–.])-(?=\d)")


def fill(template: str, facts: Mapping, /, **words) -> str:
    """``template`` with its fields taken from ``facts`` and from the chosen ``words``; the
    sign of a negative number is a true minus (:data:`MINUS`).

    Fields may reach into nested facts (``{history[r2_with]:.2f}``), as ``str.format`` does.

    Examples
    --------
    >>> fill("R² {r2:.2f} ({who})", {"r2": 0.3456}, who="new artists")
    'R² 0.35 (new artists)'
    >>> fill("from {a:+.2f} to {b:.2f}, 5-fold, 2021-04", {"a": -0.061, "b": -0.4})
    'from −0.06 to −0.40, 5-fold, 2021-04'
    """
    return _SIGN.sub(MINUS, template.format_map({**facts, **words}))


def by_sign(value: float, positive: str, negative: str, zero: str | None = None) -> str:
    """The word for ``value``'s direction: ``positive`` above zero, ``negative`` below it.

    Exactly zero takes ``zero`` when given, else ``negative`` (so "no gain" never reads as a
    gain).

    Examples
    --------
    >>> by_sign(0.2, "raises", "lowers"), by_sign(-0.2, "raises", "lowers")
    ('raises', 'lowers')
    >>> by_sign(0.0, "raises", "lowers", "keeps")
    'keeps'
    """
    if value == 0 and zero is not None:
        return zero
    return positive if value > 0 else negative


def signed(value: float, digits: int = 1) -> str:
    """A signed number that never prints as "-0.0" (nor "+0.0").

    Examples
    --------
    >>> signed(-0.04), signed(0.26)
    ('0.0', '+0.3')
    """
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def figure(value: float | None, digits: int = 2, *, sign: bool = False,
           missing: str = "–") -> str:
    """A number as a table cell shows it: fixed digits, a true minus, ``missing`` for None.

    Examples
    --------
    >>> figure(-0.561), figure(0.05, sign=True), figure(None)
    ('−0.56', '+0.05', '–')
    """
    if value is None:
        return missing
    return fill("{v:" + ("+" if sign else "") + "." + str(digits) + "f}", {"v": value})


def pct(share: float, digits: int = 0) -> str:
    """A share as a percentage.

    Examples
    --------
    >>> pct(0.1234, 1)
    '12.3%'
    """
    return f"{100 * share:.{digits}f}%"


def pm(mean: float, sd: float | None, digits: int = 2) -> str:
    """``mean ± sd`` (just the mean when there is no sd, as for a single split).

    Examples
    --------
    >>> pm(0.4567, 0.012), pm(0.8, None)
    ('0.46 ± 0.01', '0.80')
    """
    return f"{mean:.{digits}f}" + ("" if sd is None else f" ± {sd:.{digits}f}")


#: Small counts as words ("the three history columns").
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten")


def spelled(n: int) -> str:
    """A small count as a word; larger counts as digits.

    Examples
    --------
    >>> spelled(3), spelled(12)
    ('three', '12')
    """
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def upper_first(text: str) -> str:
    """``text`` with its first letter upper-cased (the rest unchanged).

    Examples
    --------
    >>> upper_first("the primary genre")
    'The primary genre'
    """
    return text[:1].upper() + text[1:]


def listed(items: Iterable[str]) -> str:
    """Words joined as a sentence lists them.

    Examples
    --------
    >>> listed(["album name"]), listed(["genre", "album name", "explicit flag"])
    ('album name', 'genre, album name and explicit flag')
    """
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def bullets(items: Iterable[str]) -> str:
    """A Markdown bullet list.

    Examples
    --------
    >>> print(bullets(["a", "b"]))
    - a
    - b
    """
    return "\n".join(f"- {item}" for item in items)


def numbered(items: Iterable[str]) -> str:
    """A Markdown numbered list (the numbers are the items' positions).

    Examples
    --------
    >>> print(numbered(["a", "b"]))
    1. a
    2. b
    """
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))
