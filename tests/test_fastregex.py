"""RE2 answers for Python regexes: exactly ``re.search``'s, on ASCII and on any other text."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest

from analysis.fastregex import (
    ascii_pattern,
    count_nonblank_fields,
    search_rows,
    superset_pattern,
)
from analysis.features import _VERSION_PART, TEXT_MARKERS

#: Strings where Python's Unicode semantics and RE2's differ, next to plain ones.
ADVERSARIAL = [
    "", "Live", "LIVE", "olive", "Lıve", "LİVE", "ſped up", "KARAOKE", "Karaoke",
    "café live", "éLive", "live é", "Ao Vivo", "ao\u00a0vivo", "sped\x1cup", "sped\x0bup",
    "sped\u3000up", "Remix", "re-mix", "RMX!", "acústico", "ACÚSTICA", "Acoustic",
    "Música 2020", "Música２０２０", "۲۰۲۰ hits", "1999 ", "Vol. 2", "vol.2", "x\u0301live",
    "feat. X", "(with Y)", "[with\tZ]", "ft.", "Noël", "NOËL", "ǅ", "Christmas", "ＸＭＡＳ",
    "from the film", "Theme", "edit", "Radio Edit", "versión", "VERSÃO", "nightcore", "\n",
]


@pytest.mark.parametrize("marker", TEXT_MARKERS, ids=lambda m: m.name)
def test_markers_match_python_re_on_adversarial_text(marker):
    expected = [marker.regex.search(s) is not None for s in ADVERSARIAL]
    assert search_rows(marker.regex, pa.array(ADVERSARIAL)).tolist() == expected


@pytest.mark.parametrize("marker", TEXT_MARKERS, ids=lambda m: m.name)
def test_superset_never_misses_a_python_match(marker):
    loose = superset_pattern(marker.pattern, marker.regex.flags & ~re.UNICODE)
    assert loose is not None
    matched = [s for s in ADVERSARIAL if marker.regex.search(s)]
    import pyarrow.compute as pc

    assert all(pc.match_substring_regex(pa.array(matched, type=pa.string()), loose).to_pylist())


def test_version_part_superset_and_unsupported_constructs():
    assert superset_pattern(_VERSION_PART.pattern) is not None
    assert superset_pattern(r"(a)\1") is None          # back-reference: no translation
    assert superset_pattern(r"(?=a)b") is None          # look-ahead


def test_ascii_pattern_refuses_escapes_it_has_not_checked():
    with pytest.raises(ValueError, match="no checked RE2"):
        ascii_pattern(r"\w")
    for marker in TEXT_MARKERS:
        ascii_pattern(marker.pattern)


def test_count_nonblank_fields_matches_split_and_strip():
    values = ["A;B", "Solo", " ; x", "", ";;", "é;\u3000", "a;\x1c;b", " \u00a0 ", "x;"]
    expected = [sum(1 for f in s.split(";") if f.strip()) for s in values]
    assert count_nonblank_fields(pa.array(values)).tolist() == expected


@pytest.mark.slow
def test_markers_match_python_re_on_every_real_title_and_album(track_data):
    tracks = track_data.tracks
    for marker in TEXT_MARKERS:
        values = tracks[marker.column].fillna("").astype(str).tolist()
        expected = np.array([marker.regex.search(s) is not None for s in values])
        assert np.array_equal(search_rows(marker.regex, pa.array(values)), expected), marker.name
