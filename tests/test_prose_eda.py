"""Tests for analysis.prose.eda: the EDA chapter's words, from synthetic tracks.

Numbers are checked against the analysis.moods functions that compute them; every word chosen
by a sign or a side is checked both ways on edited facts.
"""

from __future__ import annotations

import copy

import pytest
from _mood_tracks import make_tracks

from analysis import moods
from analysis.prose import eda as prose


@pytest.fixture(scope="module")
def tracks():
    return make_tracks(n_per_genre=1000)  # enough for the chapter's bins and grid


@pytest.fixture(scope="module")
def facts(tracks):
    return prose.facts(tracks, grid_min_tracks=10)


def test_sentences_quote_computed_numbers(tracks, facts):
    summary = moods.popularity_summary(tracks)
    assert f"{summary['zero_share']:.1%}" in prose.answer(facts)
    assert f"{summary['zero_n']:,} tracks" in prose.popularity(facts)
    assert f"{tracks['tempo'].median():.0f} BPM" in prose.feature_distributions(facts)
    assert "Spearman ρ" in prose.correlations(facts)
    binned = moods.binned_means(tracks, "duration_min")
    assert f"{binned['mean'].max():.1f}" in prose.binned(facts)
    assert f"of {moods.binned_means_long(tracks)['feature'].nunique()} curves" in (
        prose.feature_effects(facts))
    result = moods.compare_binary(tracks)
    assert f"{result['delta']:+.2f}" in prose.explicit(facts)
    assert prose.summary(facts).count("\n- ") == 2


def test_constants_reach_the_text(facts):
    text = prose.feature_distributions(facts)
    assert f"below {prose.NO_INSTRUMENTAL_BELOW}" in text
    assert f"above {prose.SPEECH_AND_MUSIC_ABOVE}" in text
    assert f"in {prose.COMMON_TIME}/{prose.COMMON_TIME}" in text
    mid, high = moods.POPULARITY_MARKS
    assert f"score {mid} or more" in prose.popularity(facts)
    assert f"score {high} or more" in prose.popularity(facts)
    assert f"({moods.CI_LEVEL:.0%} CI" in prose.explicit(facts)


def test_grid_reading_quotes_only_well_filled_cells():
    grid = moods.binned_grid(make_tracks(), bins=4, min_count=2)
    facts = {"grid": prose._grid_facts(grid, min_n=10)}
    assert f"{grid.loc[grid['n'] >= 10, 'mean'].max():.1f}" in prose.grid(facts)


@pytest.mark.parametrize("x, y, words", [
    (0.8, 0.2, "valence is high and energy low"),
    (0.2, 0.8, "valence is low and energy high"),
])
def test_blank_cells_are_placed_on_their_side(facts, x, y, words):
    edited = copy.deepcopy(facts)
    edited["grid"].update(blank_x_mean=x, blank_y_mean=y)
    assert words in prose.grid(edited)


@pytest.mark.parametrize("difference, word", [(1.5, "more"), (-1.5, "less")])
def test_explicit_direction_follows_the_sign(facts, difference, word):
    edited = copy.deepcopy(facts)
    edited["explicit"]["difference"] = difference
    assert f"Explicit tracks are {word} popular on average" in prose.summary(edited)


@pytest.mark.parametrize("apart, words", [(True, "do not overlap"), (False, "overlap")])
def test_interval_overlap_is_read_from_the_facts(facts, apart, words):
    edited = copy.deepcopy(facts)
    edited["explicit"]["apart"] = apart
    assert f"the intervals {words}." in prose.explicit(edited)


@pytest.mark.parametrize("rho, word", [(0.05, "negligible"), (-0.2, "weak"), (0.4, "moderate"),
                                       (-0.7, "strong")])
def test_correlation_strength_words(facts, rho, word):
    edited = copy.deepcopy(facts)
    edited["correlations"]["rho"] = rho
    assert f"at most {word}:" in prose.correlations(edited)
    assert f"(Spearman ρ = {rho:+.2f})".replace("-", "−") in prose.answer(edited)
