"""The triage page's recipe as data: validation rules, features, reasons, "sounds like".

``chapters/08-triage.qmd`` scores a reader's catalogue in the browser (``js/triage.js`` in a
Web Worker). Everything it must do exactly as Python does is written here, from the Python
constants, into ``models/triage/triage_spec.json``, so the JavaScript holds no copy of a rule:

* the validation contract of :mod:`analysis.schema` (columns, types, checks and their wording,
  the header and encoding rules) and the genre labels :func:`analysis.features.features_from_raw`
  accepts;
* the feature recipe of :mod:`analysis.features`: one entry per model column saying how it is
  computed from the raw columns, with every title / album marker's regular expression
  translated from Python's ``re`` to JavaScript's ``RegExp`` (:func:`python_regex_to_js`:
  ``\\b``, ``\\w``, ``\\d``, ``\\s``, ``.`` and ``$`` mean different things in the two), plus the
  tables Python's ``str.strip`` and ``str.casefold`` use, which JavaScript lacks;
* the out-of-distribution rule, the driver groups and names of the reasons (the Drivers
  chapter's), the "sounds like" features and their standardisation, and the output columns
  (the same contract as the Python triage).

A model column without a recipe (a feature added to :mod:`analysis.features` later) stops
:func:`spec_constants` with an error naming it, so the browser can never silently feed a
model NaN. ``python -m analysis.export.triage_spec`` writes the spec and the page's example
catalogue (:func:`write_triage_files`); the tests check that the committed files are current.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis import paths
from analysis.artifacts import write_if_changed
from analysis.schema import AUDIO_COLUMNS, UNIT_INTERVAL_COLUMNS

__all__ = [
    "EXAMPLE_FILE",
    "OOD_COLUMNS",
    "OOD_QUANTILES",
    "RANKED_COLUMNS",
    "REJECT_COLUMNS",
    "SOUNDS_LIKE_FEATURES",
    "SPEC_FILE",
    "SPEC_FORMAT",
    "SPEC_VERSION",
    "TRIAGE_DIR",
    "build_example_catalogue",
    "build_spec",
    "python_regex_to_js",
    "sounds_like_stats",
    "spec_constants",
    "triage_dir",
    "write_triage_files",
]

#: ``format`` of the spec document ``js/triage.js`` reads.
SPEC_FORMAT = "track-analytics-triage-spec"
#: Bumped whenever ``js/triage.js`` could misread a spec written by a newer generator.
SPEC_VERSION = 1
#: Folder inside ``models/`` holding the triage page's files (not ``export/``: that folder is
#: the predictor's, byte-compared with what :func:`~analysis.export.export_champions` writes).
TRIAGE_DIR = "triage"
SPEC_FILE = "triage_spec.json"
EXAMPLE_FILE = "example_catalogue.csv"

#: The inputs the out-of-distribution flag watches: the audio features and the duration.
OOD_COLUMNS: tuple[str, ...] = (*AUDIO_COLUMNS, "duration_ms")
#: A value outside these quantiles of the training tracks (the export's ``feature_stats``)
#: is out of distribution: the central 99% of the data the model learnt from.
OOD_QUANTILES: tuple[str, str] = ("0.005", "0.995")
#: "Sounds like": nearest neighbours in these audio features, standardised by the training
#: tracks' mean and standard deviation (the unit-interval features, loudness and tempo).
SOUNDS_LIKE_FEATURES: tuple[str, ...] = (*UNIT_INTERVAL_COLUMNS, "loudness", "tempo")

#: One ranked row of the triage output (the contract shared with the Python triage).
RANKED_COLUMNS: tuple[str, ...] = (
    "rank", "line", "track_id", "track_name", "artists", "album_name", "track_genre",
    "macro_genre", "p_hit", "predicted_popularity", "lower_80", "upper_80", "lower_90",
    "upper_90", "out_of_distribution", "ood_reason", "energy", "valence", "danceability",
    "tempo", "duration_ms", "explicit",
)
#: One rejected row: its input line (header = 1), the column and the raw value, the reason.
REJECT_COLUMNS: tuple[str, ...] = ("line", "column", "value", "reason")

# Wording of analysis.schema's problems (and features_from_raw's unknown genre), as templates
# with named fields. The JavaScript fills them in; the parity test compares its messages with
# the ones Python raises on the malformed corpus, so a change of wording there fails here.
_MESSAGES: dict[str, str] = {
    "empty": "file is empty (0 bytes)",
    "gzip_truncated": "gzip stream is truncated (it ends before its end marker); fetch it again",
    "gzip_corrupt": "gzip stream is corrupt ({detail}); fetch it again",
    "blank_header": "is blank; expected the header row",
    "delimiter": "header has no commas but {count} {word}s: the file looks {word}-delimited; "
                 "save it as comma-separated",
    "no_rows": "file has a header but no data rows",
    "not_utf8": "byte {byte} is not valid UTF-8 (Latin-1 or Windows-1252?); re-save the file "
                "as UTF-8",
    "unclosed_quote": "a quoted field opens on this line and is never closed",
    "field_count": "has {count} fields but the header has {expected}",
    "duplicate_column": "column appears {count} times in the header",
    "missing_column": "required column is missing",
    "did_you_mean": "; did you mean {guess}? rename it to {column}",
    "repeated_header": "repeats the header row",
    "expected_number": "expected a number, got {value}",
    "expected_whole": "expected a whole number, got {value}",
    "expected_boolean": "expected True or False, got {value}",
    "missing_value": "missing value",
    "duplicate_index": "duplicate index value {value}",
    "check_failed": "{error}, got {value}",
    "dtype": "has dtype {actual} but must be {expected}",
    "unknown_genre": "unknown genre {value}: expected one of the {count} labels in "
                     "analysis/macro_genres.csv",
    # the Python triage's (analysis.triage), when every row of a catalogue is rejected
    "no_valid_row": "no valid row: all {count} rows were rejected",
}

# How analysis.schema's custom pandera checks are evaluated in the browser (by name).
_CUSTOM_CHECKS = {
    "_is_track_id": "track_id",
    "_is_finite": "finite",
    "_is_finite_non_negative": "finite_non_negative",
    "_is_not_blank": "not_blank",
}


def triage_dir(models_dir: str | os.PathLike | None = None) -> Path:
    """``models/triage/``: the triage page's spec and example catalogue."""
    return paths.resolve_models_dir(models_dir) / TRIAGE_DIR


# --- Python re -> JavaScript RegExp --------------------------------------------------------------

def _ranges(codepoints: Sequence[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for c in sorted(codepoints):
        if out and c == out[-1][1] + 1:
            out[-1] = (out[-1][0], c)
        else:
            out.append((c, c))
    return out


def _js_char(c: int) -> str:
    if 0x21 <= c <= 0x7E and chr(c) not in "\\]^-[":
        return chr(c)
    return f"\\u{{{c:x}}}"


def _js_class_body(codepoints: Sequence[int]) -> str:
    return "".join(_js_char(a) if a == b else f"{_js_char(a)}-{_js_char(b)}"
                   for a, b in _ranges(codepoints))


#: Python's whitespace (``str.isspace``, which ``\\s`` and ``str.strip`` use), as the body of a
#: JavaScript character class. JavaScript's ``\\s`` and ``trim`` differ (U+FEFF in, U+001C-1F
#: and U+0085 out).
_WHITESPACE = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
_WS = _js_class_body(_WHITESPACE)
#: Python's ``\\w`` on str patterns: letters, numbers and the underscore (checked equal to
#: Unicode categories L* and N* by the tests); JavaScript's ``\\w`` is ASCII only.
_WORD = r"\p{L}\p{N}_"
_BOUNDARY = rf"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))"
_QUANTIFIER = re.compile(r"\{\d+(?:,\d*)?\}")
_SYNTAX = set("\\^$.|?*+()[]{}/")


def _word_before(out: list[str]) -> bool:
    """The token just emitted can only match a word character (a letter, digit or '_')."""
    last = out[-1] if out else ""
    return (len(last) == 1 and (last.isalnum() or last == "_")) or last in (r"\p{Nd}",
                                                                           f"[{_WORD}]")


def _word_after(pattern: str, i: int) -> bool:
    """The pattern at ``i`` can only start matching at a word character."""
    if i >= len(pattern):
        return False
    c = pattern[i]
    if c.isalnum() or c == "_":
        return i + 1 >= len(pattern) or pattern[i + 1] not in "?*{"
    return pattern.startswith((r"\d", r"\w"), i) and (
        i + 2 >= len(pattern) or pattern[i + 2] not in "?*{")


def python_regex_to_js(pattern: str, *, ascii_text: bool = False) -> str:
    """Source of a JavaScript ``RegExp`` (flags ``u``, plus ``i`` where Python's had
    ``re.IGNORECASE``) that matches exactly where Python's ``re`` pattern matches.

    Python's str patterns are Unicode-aware where JavaScript's are not: ``\\b`` and ``\\w``
    (letters of every script), ``\\d`` (every decimal digit), ``\\s`` (Python's whitespace).
    ``.`` stops only at ``\\n`` in Python (also at ``\\r``, U+2028, U+2029 in JavaScript) and
    ``$`` also matches before a final newline. Only the constructs the feature patterns use
    are translated; anything else raises, so a new pattern cannot be mistranslated silently.

    A word boundary next to a literal word character needs only one lookaround (before
    ``edit``, "no word character behind"), which keeps the expressions fast.

    With ``ascii_text=True`` the source is for text of printable ASCII characters only
    (U+0020-U+007E), where JavaScript's own ``\\b``, ``\\w``, ``\\d``, ``\\s``, ``.`` and ``$``
    already mean what Python's do; use it without the ``u`` flag. ``js/triage.js`` picks it
    for such text: native word boundaries are several times faster than lookarounds.

    Examples
    --------
    >>> python_regex_to_js(r"\\bedit\\b")
    '(?<![\\\\p{L}\\\\p{N}_])edit(?![\\\\p{L}\\\\p{N}_])'
    >>> python_regex_to_js(r"\\bedit\\b", ascii_text=True)
    '\\\\bedit\\\\b'
    >>> python_regex_to_js(r"\\s-\\s(.*)$").endswith(r"([^\\n]*)(?=\\n?$)")
    True
    >>> python_regex_to_js(r"(?P<x>a)")
    Traceback (most recent call last):
    ...
    ValueError: cannot translate '(?P' at 0 of '(?P<x>a)' to JavaScript
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = False

    def refuse(at: int, what: str) -> ValueError:
        return ValueError(f"cannot translate {what!r} at {at} of {pattern!r} to JavaScript")

    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise refuse(i, c)
            e = pattern[i + 1]
            if ascii_text and e in "bswdSWD" and not (e == "b" and in_class):
                out.append("\\" + e)
            elif e == "b" and not in_class:
                if _word_after(pattern, i + 2):
                    out.append(f"(?<![{_WORD}])")
                elif _word_before(out):
                    out.append(f"(?![{_WORD}])")
                else:
                    out.append(_BOUNDARY)
            elif e == "s":
                out.append(_WS if in_class else f"[{_WS}]")
            elif e == "S" and not in_class:
                out.append(f"[^{_WS}]")
            elif e == "d":
                out.append(r"\p{Nd}")
            elif e == "D" and not in_class:
                out.append(r"\P{Nd}")
            elif e == "w":
                out.append(_WORD if in_class else f"[{_WORD}]")
            elif e == "W" and not in_class:
                out.append(f"[^{_WORD}]")
            elif e == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", pattern[i + 2:i + 4]):
                out.append(pattern[i:i + 4])
                i += 4
                class_start = False
                continue
            elif e in "nrtfv":
                out.append("\\" + e)
            elif e in _SYNTAX:
                out.append("\\" + e)
            elif e == "-":
                out.append("\\-" if in_class else "-")
            else:
                raise refuse(i, pattern[i:i + 2])
            i += 2
            class_start = False
            continue
        if in_class:
            if c == "]" and not class_start:
                in_class = False
            elif c == "[":
                raise refuse(i, c)  # a literal '[' inside a class: nested set in JS's v mode
            out.append(c)
            class_start = False
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                raise refuse(i, "]")  # Python reads a leading ']' as a literal; JS ends the set
            class_start = True
            continue
        if c == "." and not ascii_text:
            out.append(r"[^\n]")
        elif c == "$" and not ascii_text:
            out.append(r"(?=\n?$)")
        elif c == "(":
            if pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
                raise refuse(i, pattern[i:i + 3])
            out.append(c)
        elif c in "{}":
            match = _QUANTIFIER.match(pattern, i) if c == "{" else None
            if match is None:
                raise refuse(i, c)
            out.append(match.group(0))
            i = match.end()
            continue
        else:
            out.append(c)
        i += 1
    if in_class:
        raise refuse(n, "unterminated [")
    return "".join(out)


def _regex(pattern: str, *, ignore_case: bool) -> dict[str, str]:
    return {"python": pattern, "js": python_regex_to_js(pattern),
            "js_ascii": python_regex_to_js(pattern, ascii_text=True),
            "flags": "iu" if ignore_case else "u"}


# --- the pieces of the spec ----------------------------------------------------------------------

def _casefold_table() -> dict[str, str]:
    """Code points whose ``str.casefold`` is not their ``str.lower`` (ß -> ss, ς -> σ, ...);
    JavaScript has ``toLowerCase`` but no case folding."""
    out = {}
    for c in range(sys.maxunicode + 1):
        if 0xD800 <= c < 0xE000:
            continue
        ch = chr(c)
        if ch.casefold() != ch.lower():
            out[f"{c:x}"] = ch.casefold()
    return out


def _match_fold() -> dict[str, str]:
    """Characters Python's case-insensitive ``re`` matches to an ASCII letter where
    JavaScript's ``iu`` flags (simple case folding) do not: İ and ı match ``i`` in Python.
    ``js/triage.js`` replaces them by that letter before testing a marker (both are letters,
    one UTF-16 unit each, so word boundaries and positions stay)."""
    import string

    out = {}
    for c in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= c < 0xE000 or not re.fullmatch("[a-z]", chr(c), re.IGNORECASE):
            continue
        letters = [p for p in string.ascii_lowercase if re.fullmatch(p, chr(c), re.IGNORECASE)]
        if len(letters) == 1 and chr(c).casefold() != letters[0]:
            out[f"{c:x}"] = letters[0]
    return out


def _schema_rules() -> dict[str, Any]:
    from analysis.schema.contract import (
        _BOOLEAN_COLUMNS,
        _INDEX_HEADERS,
        _INTEGER_COLUMNS,
        _MAX_EXACT_INT,
        _OTHER_DELIMITERS,
        _TRACK_ID_PATTERN,
        INDEX_NAME,
        RAW_COLUMNS,
        STRING_COLUMNS,
        TRACKS_SCHEMA,
    )

    columns = {}
    for name, column in TRACKS_SCHEMA.columns.items():
        checks = []
        for check in column.checks:
            stats = dict(check.statistics or {})
            if check.name == "in_range":
                if not (stats.get("include_min", True) and stats.get("include_max", True)):
                    raise ValueError(f"{name}: only inclusive in_range checks are translated")
                rule = {"kind": "in_range", "min": stats["min_value"], "max": stats["max_value"]}
            elif check.name == "greater_than_or_equal_to":
                rule = {"kind": "ge", "min": stats["min_value"]}
            elif check.name == "isin":
                rule = {"kind": "isin", "values": list(stats["allowed_values"])}
            elif check.name in _CUSTOM_CHECKS:
                rule = {"kind": _CUSTOM_CHECKS[check.name]}
                if rule["kind"] == "track_id":
                    rule["pattern"] = _regex(_TRACK_ID_PATTERN, ignore_case=False)
            else:
                raise ValueError(f"{name}: no browser translation of the check {check.name!r}; "
                                 "add one to analysis/export/triage_spec.py and js/triage.js")
            rule["error"] = check.error
            checks.append(rule)
        dtype = str(column.dtype)
        kind = ("string" if name in STRING_COLUMNS else "boolean" if name in _BOOLEAN_COLUMNS
                else "integer" if name in _INTEGER_COLUMNS else "float")
        columns[name] = {
            "kind": kind,
            # how pandera names the dtype in a whole-column message ("int64", "float64", ...)
            "dtype": "str" if kind == "string" else dtype,
            "nullable": bool(column.nullable),
            "unique": bool(column.unique),
            "checks": checks,
        }
    return {
        "raw_columns": list(RAW_COLUMNS),
        "index_name": INDEX_NAME,
        "index_headers": list(_INDEX_HEADERS),
        "columns": columns,
        "other_delimiters": dict(_OTHER_DELIMITERS),
        "max_exact_int": _MAX_EXACT_INT,
        # analysis.schema.reading._closest: difflib.get_close_matches(n=1, cutoff=0.75)
        "did_you_mean_cutoff": 0.75,
        # analysis.schema.contract._show: repr, cut to this many characters
        "shown_value_chars": 40,
    }


def _feature_recipes(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """How each model column is computed from the raw columns (see analysis.features)."""
    from analysis.features import (
        ARTIST_HISTORY,
        FEATURES,
        LABEL,
        TEXT_MARKERS,
        genre_column,
        macro_column,
    )
    from analysis.genres import MACRO_GENRES, load_taxonomy

    registry = {f.name: f for f in FEATURES}
    markers = {m.name: m for m in TEXT_MARKERS}
    genres = {genre_column(g): g for g in load_taxonomy()["genre"]}
    macros = {macro_column(m): m for m in MACRO_GENRES}
    recipes: dict[str, dict[str, Any]] = {}
    for name in names:
        feature = registry.get(name)
        if name in (*AUDIO_COLUMNS, "duration_ms"):
            recipe = {"kind": "number", "column": name}
        elif name == "explicit":
            recipe = {"kind": "boolean", "column": "explicit"}
        elif name == "n_artists":
            recipe = {"kind": "count_names", "column": "artists", "separator": ";"}
        elif name == "is_single":
            recipe = {"kind": "same_text", "columns": ["track_name", "album_name"]}
        elif name in markers:
            m = markers[name]
            recipe = {"kind": "marker", "column": m.column,
                      "version_part_only": m.version_part_only,
                      "regex": _regex(m.pattern, ignore_case=True)}
        elif name == "title_length":
            recipe = {"kind": "length", "column": "track_name"}
        elif name in ("title_non_ascii", "album_non_ascii"):
            recipe = {"kind": "non_ascii",
                      "column": "track_name" if name.startswith("title") else "album_name"}
        elif name in genres and feature is not None and feature.availability == LABEL:
            recipe = {"kind": "genre", "value": genres[name]}
        elif name in macros and feature is not None and feature.availability == LABEL:
            recipe = {"kind": "macro_genre", "value": macros[name]}
        elif feature is not None and feature.availability == ARTIST_HISTORY:
            # Target-derived: the browser would need every training artist's history.
            recipe = {"kind": "artist_history"}
        else:
            raise ValueError(
                f"no browser recipe for model column {name!r}: add one to "
                "analysis/export/triage_spec.py and js/triage.js (the parity test then "
                "checks it against analysis.features)")
        recipes[name] = recipe
    return recipes


def _drivers(names: Sequence[str]) -> dict[str, Any]:
    from analysis.explain.groups import feature_group
    from analysis.labels import driver_label

    groups = {name: feature_group(name) for name in names}
    return {
        # only the columns that pool into a group other than themselves
        "groups": {name: g for name, g in groups.items() if g != name},
        "labels": {g: driver_label(g) for g in dict.fromkeys(groups.values())},
        "top": 3,
    }


#: Why a champion cannot score in the browser, by the kind of column it needs.
_UNUSABLE = {
    "artist_history": (
        "it reads each artist's popularity history (mean, count and best of the artist's "
        "other tracks), and the browser export carries only its prior, not the history of "
        "every training artist: every artist would look unknown, and its ranking would not "
        "be the one the Python triage gives. Score with it in Python instead."),
}


def _browser_models(recipes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Which selectable champions the browser can score, and in plain words why not."""
    from analysis.export.predictor_page import SELECTABLE_MODELS
    from analysis.features import feature_names

    out = {}
    for model, words in SELECTABLE_MODELS.items():
        kinds = {recipes[n]["kind"] for n in feature_names(model)}
        blocking = sorted(kinds & set(_UNUSABLE))
        out[model] = {"display_name": words["display_name"], "usable": not blocking,
                      "reason": _UNUSABLE[blocking[0]] if blocking else None}
    return out


def spec_constants() -> dict[str, Any]:
    """Everything in the spec that comes from code, not data (fast to build and test)."""
    from analysis.export.predictor_page import SELECTABLE_MODELS
    from analysis.features import _VERSION_PART, REQUIRED_RAW_COLUMNS, feature_names
    from analysis.genres import MACRO_GENRES, load_taxonomy
    from analysis.models import CONFIDENCE_LEVELS, HIT_THRESHOLD
    names = list(dict.fromkeys(n for model in SELECTABLE_MODELS for n in feature_names(model)))
    taxonomy = load_taxonomy()
    recipes = _feature_recipes(names)
    return {
        "format": SPEC_FORMAT,
        "version": SPEC_VERSION,
        "description": "How js/triage.js validates a catalogue, builds each model column, "
                       "flags out-of-distribution rows and words the reasons, exactly as "
                       "analysis.schema and analysis.features do; written by "
                       "analysis/export/triage_spec.py.",
        "required_columns": list(REQUIRED_RAW_COLUMNS),
        "schema": _schema_rules(),
        "messages": dict(_MESSAGES),
        "taxonomy": {
            "genres": [str(g) for g in taxonomy["genre"]],
            "macro_genres": list(MACRO_GENRES),
            "genre_to_macro": dict(zip(taxonomy["genre"].astype(str),
                                       taxonomy["macro_genre"].astype(str), strict=True)),
        },
        "text": {
            "whitespace": _WS,
            "casefold": _casefold_table(),
            "match_fold": _match_fold(),
            "version_part": _regex(_VERSION_PART.pattern, ignore_case=False),
        },
        "features": recipes,
        "models": _browser_models(recipes),
        "ood": {"columns": list(OOD_COLUMNS), "quantiles": list(OOD_QUANTILES),
                "genre_column": "track_genre", "audio_columns": list(AUDIO_COLUMNS)},
        "drivers": _drivers(names),
        "hit_threshold": HIT_THRESHOLD,
        "confidence_levels": [float(level) for level in CONFIDENCE_LEVELS],
        "intervals": _interval_offsets(),
        "output": {"ranked": list(RANKED_COLUMNS), "rejects": list(REJECT_COLUMNS)},
    }


def _interval_offsets() -> dict[str, Any]:
    """Each usable champion's conformal offsets as the champion holds them
    (``models/champions/<name>/offsets.json``), unrounded: the export keeps six significant
    digits, which would move the triage's interval bounds up to 5e-6 away from the Python
    triage's. ``js/triage.js`` uses them only where they round to the export's."""
    from analysis.export.predictor_page import SELECTABLE_MODELS

    out = {}
    for model in SELECTABLE_MODELS:
        offsets = json.loads((paths.champion_dir(model) / "offsets.json").read_text("utf-8"))
        out[model] = {"global": offsets["global"], "by_stratum": offsets.get("by_stratum", {})}
    return out


def sounds_like_stats(tracks: Any) -> dict[str, Any]:
    """Mean and standard deviation (population, ``ddof=0``) of the "sounds like" features
    over the training tracks (the cleaned data, one row per track)."""
    values = tracks.loc[:, list(SOUNDS_LIKE_FEATURES)].to_numpy(dtype=np.float64)
    return {
        "features": list(SOUNDS_LIKE_FEATURES),
        "mean": [float(f"{v:.9g}") for v in values.mean(axis=0)],
        "sd": [float(f"{v:.9g}") for v in values.std(axis=0)],
        "tracks": int(len(values)),
        "source": "cleaned tracks (analysis.data.load_tracks), population standard deviation",
    }


def build_spec(tracks: Any) -> dict[str, Any]:
    """The whole spec: :func:`spec_constants` plus the "sounds like" standardisation."""
    spec = spec_constants()
    spec["sounds_like"] = sounds_like_stats(tracks)
    return spec


def _dumps(spec: Mapping[str, Any]) -> bytes:
    return (json.dumps(spec, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()


# --- the example catalogue -----------------------------------------------------------------------

#: Rows of the example catalogue (real tracks of the committed reference sample).
EXAMPLE_ROWS = 400
#: Defects planted in the example so its rejects show: (row position, column, bad value).
_EXAMPLE_DEFECTS: tuple[tuple[int, str, str], ...] = (
    (7, "tempo", "fast"),
    (41, "energy", "1.4"),
    (88, "track_genre", "polka-core"),
    (150, "duration_ms", ""),
    (233, "explicit", "maybe"),
)
#: The row whose album name gets an unquoted comma (one field too many).
_EXAMPLE_RAGGED = 301


def build_example_catalogue(tracks: Any, reference: Mapping[str, Any], *,
                            rows: int = EXAMPLE_ROWS, random_state: int = 42) -> bytes:
    """A small catalogue in the raw dataset's columns (no popularity: tracks to triage),
    drawn from the committed reference sample (``models/export/reference_tracks.json``),
    never from the rest of the dataset, with a few deliberately malformed rows.
    """
    from analysis.schema import RAW_COLUMNS

    ids = list(reference["track_id"])
    rng = np.random.default_rng(random_state)
    chosen = sorted(rng.choice(len(ids), size=min(rows, len(ids)), replace=False).tolist())
    by_id = tracks.drop_duplicates("track_id").set_index("track_id")
    columns = [c for c in RAW_COLUMNS if c != "popularity"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    defects = {position: (column, value) for position, column, value in _EXAMPLE_DEFECTS}
    for position, i in enumerate(chosen):
        track = by_id.loc[ids[i]]
        values = {c: track[c] for c in columns if c not in ("track_id", "track_genre")}
        values["track_id"] = ids[i]
        values["track_genre"] = track["primary_genre"]
        if position in defects:
            column, bad = defects[position]
            values[column] = bad
        row = [_cell(values[c]) for c in columns]
        if position == _EXAMPLE_RAGGED:
            album = columns.index("album_name")
            row[album] = row[album].replace(",", "") + ", Deluxe Edition"
            buf.write(",".join(row) + "\n")
        else:
            writer.writerow(row)
    return buf.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def write_triage_files(models_dir: str | os.PathLike | None = None, *, tracks: Any = None,
                       out_dir: str | os.PathLike | None = None,
                       verbose: bool = True) -> dict[str, Path]:
    """Write ``triage_spec.json`` and ``example_catalogue.csv`` (deterministic bytes; a file
    that would not change keeps its timestamp).

    Parameters
    ----------
    models_dir : path-like, optional
        Folder with ``export/reference_tracks.json`` (default ``models/``).
    tracks : pandas.DataFrame, optional
        Cleaned tracks (default :func:`analysis.data.load_tracks`).
    out_dir : path-like, optional
        Destination (default ``<models_dir>/triage``).
    """
    from analysis.export.predictor_page import REFERENCE_FILE

    models_dir = paths.resolve_models_dir(models_dir)
    out = Path(out_dir) if out_dir is not None else triage_dir(models_dir)
    if tracks is None:
        from analysis.data import load_tracks

        tracks = load_tracks().tracks
    reference = json.loads((paths.export_dir(models_dir) / REFERENCE_FILE).read_text("utf-8"))
    files = {SPEC_FILE: _dumps(build_spec(tracks)),
             EXAMPLE_FILE: build_example_catalogue(tracks, reference)}
    written = {}
    for name, data in files.items():
        changed = write_if_changed(out / name, data)
        written[name] = out / name
        if verbose:
            print(f"{out / name}: {len(data):,} bytes{'' if changed else ' (unchanged)'}")
    return written


def _check_word_class() -> None:
    """Python's ``\\w`` is Unicode letters, numbers and '_' (what :data:`_WORD` says in JS)."""
    word = re.compile(r"\w")
    for c in range(sys.maxunicode + 1):
        ch = chr(c)
        expected = unicodedata.category(ch)[0] in "LN" or ch == "_"
        if bool(word.match(ch)) != expected:
            raise AssertionError(f"Python's \\w and [\\p{{L}}\\p{{N}}_] differ at U+{c:04X}")


if __name__ == "__main__":
    write_triage_files()
