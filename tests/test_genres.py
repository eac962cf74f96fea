"""Tests for the macro-genre taxonomy and the primary-genre rule (analysis.genres)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from analysis.genres import (
    LABEL_PRECEDENCE,
    MACRO_GENRES,
    TAXONOMY_CSV,
    choose_primary_genres,
    genre_exclusivity,
    load_taxonomy,
    macro_genre_of,
)

#: The 114 labels of the Spotify Tracks dataset, typed out so the fast tests need no data.
ALL_GENRES = """
acoustic afrobeat alt-rock alternative ambient anime black-metal bluegrass blues brazil
breakbeat british cantopop chicago-house children chill classical club comedy country dance
dancehall death-metal deep-house detroit-techno disco disney drum-and-bass dub dubstep edm
electro electronic emo folk forro french funk garage german gospel goth grindcore groove
grunge guitar happy hard-rock hardcore hardstyle heavy-metal hip-hop honky-tonk house idm
indian indie indie-pop industrial iranian j-dance j-idol j-pop j-rock jazz k-pop kids latin
latino malay mandopop metal metalcore minimal-techno mpb new-age opera pagode party piano pop
pop-film power-pop progressive-house psych-rock punk punk-rock r-n-b reggae reggaeton rock
rock-n-roll rockabilly romance sad salsa samba sertanejo show-tunes singer-songwriter ska
sleep songwriter soul spanish study swedish synth-pop tango techno trance trip-hop turkish
world-music
""".split()


@pytest.fixture(scope="module")
def taxonomy() -> pd.DataFrame:
    return load_taxonomy()


@pytest.fixture(scope="module")
def real_listings(raw_path) -> pd.DataFrame:
    """The real listings; ``raw_path`` (conftest) reads $TRACK_ANALYTICS_DATA or skips."""
    return pd.read_csv(raw_path, usecols=["track_id", "track_genre"])


# --- the taxonomy table -------------------------------------------------------------------


def test_csv_maps_exactly_the_114_genres(taxonomy):
    assert len(ALL_GENRES) == 114
    assert sorted(taxonomy["genre"]) == sorted(ALL_GENRES)


def test_csv_is_sorted_by_genre(taxonomy):
    assert taxonomy["genre"].tolist() == sorted(taxonomy["genre"])


def test_between_12_and_16_macro_genres(taxonomy):
    assert 12 <= len(MACRO_GENRES) <= 16
    assert len(set(MACRO_GENRES)) == len(MACRO_GENRES)


def test_macro_genres_constant_matches_csv(taxonomy):
    assert set(taxonomy["macro_genre"]) == set(MACRO_GENRES)


def test_notes_are_single_trimmed_lines(taxonomy):
    for note in taxonomy["note"]:
        assert "\n" not in note and note == note.strip()


def test_package_ships_the_csv():
    assert TAXONOMY_CSV.name == "macro_genres.csv" and TAXONOMY_CSV.is_file()


@pytest.mark.parametrize(
    ("genre", "macro"),
    [
        # names a substring rule would get wrong
        ("k-pop", "East Asian"),
        ("j-idol", "East Asian"),
        ("j-pop", "East Asian"),
        ("cantopop", "East Asian"),
        ("mandopop", "East Asian"),
        ("trip-hop", "Electronic & Dance"),
        ("pop-film", "South Asian"),
        ("power-pop", "Rock"),
        ("forro", "Brazilian"),
        ("pagode", "Brazilian"),
        ("sertanejo", "Brazilian"),
        ("mpb", "Brazilian"),
        ("sleep", "Ambient & Functional"),
        ("study", "Ambient & Functional"),
        ("ambient", "Ambient & Functional"),
        ("new-age", "Ambient & Functional"),
        ("piano", "Ambient & Functional"),
        ("reggaeton", "Latin"),
        ("dubstep", "Electronic & Dance"),
        # labels whose tracks contradict the name (see the note column)
        ("j-dance", "Reggae & Caribbean"),
        ("romance", "World"),
        ("malay", "South Asian"),
        ("world-music", "Pop"),
        ("happy", "Electronic & Dance"),
        ("party", "Pop"),
        ("chill", "Hip-hop & R&B"),
        ("sad", "Hip-hop & R&B"),
        ("iranian", "World"),
        ("gospel", "Brazilian"),
    ],
)
def test_hand_mapped_cases(genre, macro):
    assert macro_genre_of(pd.Series([genre])).item() == macro


@pytest.mark.parametrize(
    "genre",
    [
        "j-dance",
        "romance",
        "malay",
        "world-music",
        "happy",
        "party",
        "chill",
        "sad",
        "iranian",
        "k-pop",
        "dub",
        "reggae",
        "songwriter",
        "groove",
        "r-n-b",
    ],
)
def test_debatable_choices_carry_a_note(taxonomy, genre):
    assert taxonomy.set_index("genre").loc[genre, "note"]


def _write_csv(tmp_path: Path, extra: list[list[str]]) -> Path:
    """A valid table (one genre per macro-genre) followed by the ``extra`` rows."""
    path = tmp_path / "macro.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["genre", "macro_genre", "note"])
        writer.writerows([f"g{i}", macro, ""] for i, macro in enumerate(MACRO_GENRES))
        writer.writerows(extra)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([["g0", "Pop", ""]], r"line {line}: column 'genre': 'g0' already on line 2"),
        ([["x", "", ""]], r"line {line}: column 'macro_genre' is empty"),
        ([["x", "Polka", ""]], r"line {line}: column 'macro_genre': 'Polka' is not one of"),
        ([["", "Pop", ""]], r"line {line}: column 'genre' is empty"),
        ([["x", "Pop"]], r"line {line}: expected 3 fields, got 2"),
    ],
)
def test_load_taxonomy_rejects_bad_rows_naming_file_line_column(tmp_path, extra, message):
    path = _write_csv(tmp_path, extra)
    line = len(MACRO_GENRES) + 2  # header, then one valid row per macro-genre
    with pytest.raises(ValueError, match=message.format(line=line)) as err:
        load_taxonomy(path)
    assert str(path) in str(err.value)


def test_load_taxonomy_rejects_unused_macro_genre(tmp_path):
    path = tmp_path / "macro.csv"
    path.write_text("genre,macro_genre,note\npop,Pop,\n")
    with pytest.raises(ValueError, match="no genre maps to"):
        load_taxonomy(path)


def test_load_taxonomy_returns_a_copy(taxonomy):
    taxonomy_again = load_taxonomy()
    taxonomy_again.loc[0, "macro_genre"] = "changed"
    assert load_taxonomy().loc[0, "macro_genre"] != "changed"


# --- macro_genre_of -----------------------------------------------------------------------


def test_macro_genre_of_keeps_index_and_name():
    genres = pd.Series(["rock", "salsa"], index=[10, 20])
    result = macro_genre_of(genres)
    assert result.index.tolist() == [10, 20]
    assert result.name == "macro_genre"
    assert result.tolist() == ["Rock", "Latin"]


def test_macro_genre_of_names_every_unmapped_genre():
    with pytest.raises(ValueError, match=r"\['<missing>', 'polka', 'zydeco'\]"):
        macro_genre_of(pd.Series(["rock", "zydeco", "polka", None, "polka"]))


# --- label precedence and the primary-genre rule ------------------------------------------


def test_label_precedence_is_the_three_documented_fixes():
    fixes = {(preferred, over) for preferred, over, _ in LABEL_PRECEDENCE}
    assert fixes == {
        ("reggaeton", "reggae"),
        ("dubstep", "dub"),
        ("singer-songwriter", "songwriter"),
    }
    preferred = {p for p, _, _ in LABEL_PRECEDENCE}
    over = {o for _, o, _ in LABEL_PRECEDENCE}
    assert not preferred & over, "a chain of fixes would depend on their order"
    assert (preferred | over) <= set(ALL_GENRES)
    assert all(reason for _, _, reason in LABEL_PRECEDENCE)


@pytest.fixture
def listings() -> pd.DataFrame:
    """Tiny listings covering each branch of the rule (one row per track listing)."""
    rows = [
        ("solo", "tango"),
        ("solo", "tango"),  # duplicate listing
        ("rr", "reggae"),  # reggae scores higher than reggaeton, the fix still wins
        ("rr", "reggaeton"),
        ("dds", "dub"),
        ("dds", "dubstep"),
        ("dds", "salsa"),  # more exclusive than dubstep: wins after the fix
        ("dd", "dub"),
        ("dd", "dubstep"),
        ("ss", "songwriter"),
        ("ss", "singer-songwriter"),
        ("tie", "pop"),  # pop and jazz share a score: alphabetical order decides
        ("tie", "jazz"),
        ("reggae_only", "reggae"),
        ("plain", "pop"),
        ("plain", "tango"),
    ]
    return pd.DataFrame(rows, columns=["track_id", "track_genre"])


SCORES = pd.Series(
    {
        "tango": 0.9,
        "reggae": 0.8,
        "reggaeton": 0.1,
        "dub": 0.7,
        "dubstep": 0.2,
        "salsa": 0.5,
        "songwriter": 0.0,
        "singer-songwriter": 0.0,
        "pop": 0.3,
        "jazz": 0.3,
    }
)

EXPECTED = {
    "dd": "dubstep",
    "dds": "salsa",
    "plain": "tango",
    "reggae_only": "reggae",
    "rr": "reggaeton",
    "solo": "tango",
    "ss": "singer-songwriter",
    "tie": "jazz",
}


def test_choose_primary_genres_applies_fixes_then_exclusivity(listings):
    primary = choose_primary_genres(listings, SCORES)
    assert primary.to_dict() == EXPECTED
    assert primary.name == "primary_genre" and primary.index.name == "track_id"
    assert primary.index.is_monotonic_increasing


def test_choose_primary_genres_ignores_row_order(listings):
    first = choose_primary_genres(listings, SCORES)
    for seed in range(5):
        shuffled = listings.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_series_equal(choose_primary_genres(shuffled, SCORES), first)


def test_choose_primary_genres_needs_a_score_for_every_genre(listings):
    with pytest.raises(ValueError, match=r"no exclusivity score for genre\(s\) \['tango'\]"):
        choose_primary_genres(listings, SCORES.drop("tango"))


def test_choose_primary_genres_rejects_missing_columns_and_values(listings):
    with pytest.raises(ValueError, match="missing"):
        choose_primary_genres(listings.rename(columns={"track_genre": "genre"}), SCORES)
    with pytest.raises(ValueError, match="'track_genre' is empty"):
        choose_primary_genres(listings.assign(track_genre=None), SCORES)


def test_choose_primary_genres_on_empty_input():
    empty = pd.DataFrame({"track_id": [], "track_genre": []}, dtype=str)
    assert choose_primary_genres(empty, SCORES).empty


def test_genre_exclusivity_counts_distinct_tracks(listings):
    scores = genre_exclusivity(listings)
    # tango: "solo" (twice, counted once) is exclusive, "plain" is not -> 1/2
    assert scores["tango"] == 0.5
    assert scores["reggae"] == 0.5  # reggae_only exclusive, rr not
    assert scores["dubstep"] == 0.0
    assert scores.index.is_monotonic_increasing and scores.between(0, 1).all()


def test_exclusivity_and_primary_compose(listings):
    primary = choose_primary_genres(listings, genre_exclusivity(listings))
    assert primary["rr"] == "reggaeton" and primary["ss"] == "singer-songwriter"
    assert primary["solo"] == "tango" and primary["reggae_only"] == "reggae"


# --- the real data (slow) -----------------------------------------------------------------


@pytest.mark.slow
def test_every_genre_in_the_data_is_mapped(real_listings):
    genres = pd.Series(real_listings["track_genre"].unique())
    assert macro_genre_of(genres).notna().all()
    assert sorted(genres) == sorted(ALL_GENRES)


@pytest.mark.slow
def test_label_problems_measured_on_the_data(real_listings):
    tracks = real_listings.drop_duplicates().groupby("track_genre")["track_id"].agg(set)
    assert tracks["songwriter"] == tracks["singer-songwriter"]
    assert len(tracks["reggae"] & tracks["reggaeton"]) == 804
    assert len(tracks["dub"] & tracks["dubstep"]) == 727


@pytest.mark.slow
def test_primary_genres_on_the_data_are_complete(real_listings):
    # Its speed is part of the data benchmark (make bench), not asserted here.
    primary = choose_primary_genres(real_listings, genre_exclusivity(real_listings))
    assert len(primary) == real_listings["track_id"].nunique() == primary.index.nunique()
    counts = primary.value_counts()
    assert "songwriter" not in counts.index
    assert counts["reggae"] <= 1000 - 804 and counts["dub"] <= 999 - 727
    assert macro_genre_of(primary).notna().all()
