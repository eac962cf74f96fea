"""Tests for analysis.prose.moods: the Genre-moods chapter's words and its outlier tables."""

from __future__ import annotations

import pytest
from _mood_tracks import make_oof, make_outlier_tracks, make_tracks

from analysis import moods, outliers
from analysis.prose import moods as prose


@pytest.fixture(scope="module")
def tracks():
    return make_tracks()


@pytest.fixture(scope="module")
def facts(tracks):
    return prose.facts(tracks)


def test_sentences_quote_computed_numbers(tracks, facts):
    kw = moods.kruskal_by_feature(tracks)
    pairs = moods.cliffs_delta_pairs(tracks, moods.extreme_pairs(tracks))
    answer = prose.answer(facts)
    assert answer.startswith("**Answer.**") and "Metal & Punk" in answer
    boxes = prose.mood_boxes(facts)
    assert f"{pairs.loc[0, 'delta']:+.2f}" in boxes and boxes.startswith("| Feature |")
    assert boxes.endswith(prose.CLIFFS_SCALE)
    assert "ε² =" in prose.other_features(facts)
    assert "Among the 4 genres" in prose.mood_map(facts)
    assert "Each of the 4 genres" in prose.genre_table(facts)
    assert f"{kw.loc[0, 'epsilon_squared']:.2f}" in prose.effect_sizes(facts)
    table = prose.pairs_table(facts)
    assert table.count("\n") == len(pairs) + 1 and "| energy |" in table


def test_cliffs_scale_comes_from_the_thresholds():
    for bound, _ in moods.CLIFF_THRESHOLDS[:-1]:
        assert f"below {bound}" in prose.CLIFFS_SCALE


def test_genre_table_labels_name_every_column(tracks):
    assert set(prose.GENRE_TABLE_LABELS) == set(moods.genre_table(tracks).columns)


def test_summary_quotes_the_seed_agreement(facts):
    summary = prose.summary(facts, {"agreement": 0.625})
    assert "62%" in summary and summary.count("\n- ") == 2
    assert f"mostly through {facts['moods']['feature']}" in summary


@pytest.mark.parametrize("p_max, words", [(0.0, "every p-value underflows to 0"),
                                          (3e-12, "the largest p-value is 3e-12")])
def test_effect_sizes_say_how_small_the_p_values_are(facts, p_max, words):
    edited = {**facts, "effects": {**facts["effects"], "p_max": p_max}}
    assert words in prose.effect_sizes(edited)


# --- the outlier lists ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outlier_tracks():
    return make_outlier_tracks()


def test_reasons_read_as_words():
    reasons = (("loudness", -40.0, 0.0004, False), ("instrumentalness", 0.91, 0.004, True),
               ("tempo", 40.4, 0.02, False))
    assert prose.why_atypical(reasons) == (
        "loudness −40.0 dB, low (bottom <0.1%); instrumentalness 0.91, high (top 0.4%); "
        "tempo 40 BPM, low (bottom 2.0%)")
    assert prose.why_atypical(()) == prose.NO_REASON


def test_atypical_table_and_sentence(outlier_tracks):
    listed = outliers.audio_atypical(outlier_tracks, top=3)
    shown = prose.atypical_table(listed)
    assert list(shown.columns) == list(prose.ATYPICAL_COLUMNS.values())
    top = shown.iloc[0]
    assert top["What makes it atypical"] == prose.why_atypical(listed.loc[0, "reasons"])
    odd = shown[shown["track_id"].eq(outlier_tracks.attrs["odd"])].iloc[0]
    assert "energy 0.01, low" in odd["What makes it atypical"]
    assert "loudness −40.0 dB, low" in odd["What makes it atypical"]
    facts = prose.atypical_facts(outlier_tracks, listed)
    text = prose.atypical(facts)
    assert f"{len(listed)} tracks" in text and f"{facts['agreement']:.0%}" in text
    assert "energy" in listed.loc[0, "features"]


@pytest.mark.parametrize("combinations, words", [
    (0, "None is atypical only through a combination"),
    (2, "2 listed track(s) are atypical only through a combination"),
])
def test_atypical_sentence_counts_combination_only_tracks(combinations, words):
    facts = {"tracks": 10, "per_group": 5, "groups": 2, "named": [("energy", 4)],
             "combinations": combinations, "agreement": 0.9}
    assert words in prose.atypical(facts)


def test_performer_tables_and_sentence(tmp_path, outlier_tracks):
    (tmp_path / "oof").mkdir()
    make_oof(outlier_tracks, intervals="levels").to_parquet(
        tmp_path / "oof" / "cold_start__xgboost.parquet")
    lists = outliers.performer_lists(outlier_tracks, models_dir=tmp_path, top=5)
    text = prose.performers(prose.performer_facts(lists))
    assert "`xgboost`" in text and f"{lists['rmse']:.1f}" in text
    assert "under the cold-start protocol" in text
    assert "90% prediction interval" in text
    shown = prose.performers_table(lists["under"])
    assert shown["Expected"].dtype == "float64"
    assert {"Track", "Expected", "Actual", "Interval", "Outside by", "track_id"} <= set(shown)
    html = prose.show_performers(lists, "under", name="gems").data
    assert 'id="tbl-gems"' in html and "open.spotify.com/track/" in html


def test_performers_by_standardised_residual_without_intervals():
    facts = {"model": "m", "protocol": "cold_start", "rmse": 10.0, "tracks": 100, "by": "z",
             "level": None,
             "over_actual": 90, "over_expected": 40, "under_expected": 70, "under_actual": 5,
             "excluded_zero": 1, "excluded_versions": 2}
    assert "ranked by the residual standardised within its fold" in prose.performers(facts)


def test_performers_not_built_yet():
    assert prose.performer_facts(None) is None
    assert "callout-note" in prose.performers(None)
    assert "the cold-start out-of-fold predictions" in prose.performers(None)
    assert "not available" in prose.show_performers(None, "over", name="x").data


def test_computation_modules_hold_no_wording():
    """Sentences and display tables live here, not in analysis.moods or analysis.outliers."""
    for module in (moods, outliers):
        names = [n for n in dir(module) if n.startswith(("describe_", "format_", "show_"))]
        assert names == [], (module.__name__, names)
        assert not hasattr(module, "GENRE_TABLE_LABELS")
