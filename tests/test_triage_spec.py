"""analysis.export.triage_spec: the triage page's recipe as data, current and right.

The committed ``models/triage/triage_spec.json`` must be what the Python constants give today
(fast: everything but the "sounds like" standardisation, which needs the data; slow: that
too, and the example catalogue). The regular expressions translated for JavaScript must match
where Python's do: checked end to end, through ``js/triage.js`` in Node, on titles and album
names chosen to break a careless translation (Unicode word boundaries, digits and spaces,
case folding, brackets, dashes, line breaks).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.export.triage_spec import (
    EXAMPLE_FILE,
    SPEC_FILE,
    build_example_catalogue,
    build_spec,
    python_regex_to_js,
    spec_constants,
    triage_dir,
)
from analysis.paths import PROJECT_ROOT

COMMITTED = triage_dir()
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (make install)")


def _committed() -> dict:
    return json.loads((COMMITTED / SPEC_FILE).read_text("utf-8"))


def test_committed_spec_matches_the_python_constants():
    committed = _committed()
    fresh = json.loads(json.dumps(spec_constants()))
    stale = sorted(k for k in fresh if committed.get(k) != fresh[k])
    assert not stale, (f"models/triage/{SPEC_FILE} is stale in {stale}: run "
                       "python -m analysis.export.triage_spec")
    assert set(committed) == set(fresh) | {"sounds_like"}


def test_every_model_column_has_a_recipe_and_known_artist_says_why_not():
    spec = spec_constants()
    from analysis.features import feature_names

    for model in ("cold_start", "known_artist"):
        assert set(feature_names(model)) <= set(spec["features"])
    assert spec["models"]["cold_start"]["usable"] is True
    assert spec["models"]["known_artist"]["usable"] is False
    assert "history" in spec["models"]["known_artist"]["reason"]


def test_pythons_word_class_is_unicode_letters_numbers_and_underscore():
    """What the translation writes for ``\\w`` and ``\\b`` (``[\\p{L}\\p{N}_]``)."""
    import unicodedata

    word = re.compile(r"\w")
    differs = [c for c in range(sys.maxunicode + 1)
               if bool(word.match(chr(c))) != (unicodedata.category(chr(c))[0] in "LN"
                                               or chr(c) == "_")]
    assert differs == []


@pytest.mark.parametrize("pattern", [r"(?i)live", r"(?P<x>a)", r"\Alive", r"[]a]", r"a{", r"\B"])
def test_untranslatable_patterns_are_refused(pattern):
    with pytest.raises(ValueError, match="cannot translate"):
        python_regex_to_js(pattern)


# --- end to end through js/triage.js ------------------------------------------------------------

#: Titles and album names that a translation of the marker regexes could get wrong.
HARD_TEXTS: tuple[str, ...] = (
    "Live Forever", "Song (Live)", "Song - Live", "Song – Live", "Song\u00a0-\u00a0Live",
    "Song\u3000-\u3000Remix", "Song\u2028- live", "Song -\tlive", "Éedit (Radio Edit)",
    "Caféedit (x)", "Cafe\u0301 (edit)", "LİVE (REMİX)", "live (ſped up)",
    "Straße - Remastered 2011", "ΣΊΣΥΦΟΣ (Live)", "東京 (Live at 武道館)", "🔥 remix 🔥",
    "(unclosed remix", "a]b[c (mix)", "x - y - z remix", "Song [feat. X] {Acoustic}",
    "(with Friend)", "[With friend]", "ft. Someone", "Featuring", "Sped Up", "slowed + reverb",
    "NIGHTCORE", "Jingle Bells", "Navidad", "Noël", "NOËL", "From the film", "OST", "Theme",
    "Vol. 2", "Volume 3", "Top 10 Hits", "Best Of", "Greatest", "Hits 1999", "2020",
    "20\u0661\u0662", "1999\u00b2", "Ao Vivo", "En Vivo", "Acústico", "ACÚSTICO",
    "Acustica version", "Versión", "Versão", "Instrumental", "Karaoke Version", "Unplugged",
    "Deluxe Edition", "Anniversary", "Remaster", "Party Mix", "Sleep Music", "Canciones",
    "Músicas", "POV", "mood", "vibes", "12 Songs", "Songs\u00a0", "  ", "", "edit", "editor",
    "reedit", "re-mix", "rmx", "Bootleg", "Flip", "Christmas", "xmas", "Holiday", "Summer",
    "Carnaval", "Karneval", "Ǆ Live", "ﬁre remix", "K\u212a remix", "Ünplugged", "weihnacht",
    "Music For Studying", "a\tb - c", "x\x1c-\x1clive", "x\x85-\x85live",
)


def _hard_catalogue() -> pd.DataFrame:
    n = len(HARD_TEXTS)
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "track_id": [f"{i:022d}" for i in range(n)],
        "artists": [";".join(["A", " ", "B\u00a0"][: 1 + i % 3]) for i in range(n)],
        "album_name": list(reversed(HARD_TEXTS)),
        "track_name": list(HARD_TEXTS),
        "duration_ms": rng.integers(100_000, 300_000, n),
        "explicit": [bool(i % 2) for i in range(n)],
        **{c: rng.uniform(0.01, 0.99, n).round(3) for c in (
            "danceability", "energy", "speechiness", "acousticness", "instrumentalness",
            "liveness", "valence")},
        "key": rng.integers(0, 12, n), "loudness": rng.uniform(-20, -2, n).round(3),
        "mode": rng.integers(0, 2, n), "tempo": rng.uniform(60, 180, n).round(3),
        "time_signature": rng.integers(3, 6, n), "track_genre": ["pop", "k-pop", "samba"] * (n // 3)
        + ["pop"] * (n % 3),
    })


def run_node_features(path, out) -> dict:
    subprocess.run([NODE, "js/tools/triage_node.mjs", "features", str(path), str(out)],
                   cwd=PROJECT_ROOT, check=True, timeout=300)
    meta = json.loads(out.with_suffix(".json").read_text())
    X = np.fromfile(out.with_suffix(".f64"), dtype=np.float64).reshape(len(meta["lines"]), -1)
    return {"meta": meta, "X": X}


@needs_node
def test_text_features_match_python_on_hard_titles(tmp_path):
    from analysis.features import features_from_raw
    from analysis.schema import read_tracks_csv

    frame = _hard_catalogue()
    buf = io.StringIO()
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    path = tmp_path / "hard.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    rows = read_tracks_csv(path, columns=("duration_ms",)).reset_index(drop=True)
    expected = features_from_raw(rows, protocol="cold_start")
    got = run_node_features(path, tmp_path / "hard")
    assert got["meta"]["feature_names"] == list(expected.columns)
    P = expected.to_numpy(dtype=np.float64)
    J = got["X"]
    same = (P == J) | (np.isnan(P) & np.isnan(J))
    bad = [(HARD_TEXTS[r], expected.columns[c], P[r, c], J[r, c]) for r, c in np.argwhere(~same)]
    assert bad == []


# --- needs the data -----------------------------------------------------------------------------

@pytest.mark.slow
def test_committed_spec_and_example_are_current(track_data):
    from analysis.export.predictor_page import REFERENCE_FILE
    from analysis.paths import export_dir

    spec = json.loads(json.dumps(build_spec(track_data.tracks)))
    assert spec == _committed(), "run python -m analysis.export.triage_spec"
    reference = json.loads((export_dir() / REFERENCE_FILE).read_text("utf-8"))
    example = build_example_catalogue(track_data.tracks, reference)
    assert example == (COMMITTED / EXAMPLE_FILE).read_bytes(), \
        "run python -m analysis.export.triage_spec"


@pytest.mark.slow
def test_example_catalogue_holds_only_reference_tracks(track_data):
    from analysis.export.predictor_page import REFERENCE_FILE
    from analysis.paths import export_dir

    reference = set(json.loads((export_dir() / REFERENCE_FILE).read_text("utf-8"))["track_id"])
    text = (COMMITTED / EXAMPLE_FILE).read_text("utf-8")
    ids = [row[0] for row in csv.reader(io.StringIO(text))][1:]
    assert ids and set(ids) <= reference
    assert len(ids) < len(reference) < len(track_data.tracks) / 10
    assert "popularity" not in text.splitlines()[0].split(",")
