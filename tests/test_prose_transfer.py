"""Tests for analysis.prose.transfer and the Modeling chapter's section on other crawls: every
number quoted comes from models/external.json, and every word a number decides follows it.
"""

from __future__ import annotations

import copy

import pytest

from analysis.prose import modeling, transfer


@pytest.fixture(scope="module")
def external():
    from analysis.external import load_external

    return load_external()


@pytest.fixture(scope="module")
def t(external):
    return transfer.facts(external)


@pytest.fixture(scope="module")
def f(t):
    from analysis.explain import load_explanations
    from analysis.models import load_metrics

    facts = modeling.facts(load_metrics(), load_explanations())
    return {**facts, "transfer": t}


SECTION = ("transfer_sets", "transfer_scores", "transfer_genres", "transfer_fill",
           "transfer_sensitivity", "transfer_known_artist", "transfer_meaning")


@pytest.mark.parametrize("name", SECTION)
def test_every_transfer_sentence_renders_from_the_artifact(f, name):
    text = getattr(modeling, name)(f)
    assert text and "nan" not in text.lower() and "{" not in text and "None" not in text


def test_facts_read_the_accessors(external, t):
    from analysis.external import external_metrics, in_data_metrics, matched_labels

    assert t["music_genre"] == external_metrics(external, "music_genre")
    assert t["billboard"] == external_metrics(external, "billboard")
    assert t["in_data"]["new_release"] == in_data_metrics(external, slice_="new_release")
    assert [g["label"] for g in t["genres"]] == [matched_labels(external)[g["genre"]]
                                                 for g in t["genres"]]
    assert set(t["sensitivity"]) == {"music_genre", "billboard"}
    assert all(set(rows) == {"missing", "blank"} for rows in t["sensitivity"].values())
    assert t["sensitivity"]["billboard"]["missing"]["hit_auc"] == t["billboard"]["hit_auc"]


def test_scores_quote_the_artifact(f, t):
    text = modeling.transfer_scores(f)
    mg, bb, here = t["music_genre"], t["billboard"], t["in_data"]["all"]
    for number in (f"Spearman {mg['spearman']:.2f}", f"{mg['spearman_within_genre']:.2f}",
                   f"R² is {mg['r2']:.2f}".replace("-", "−"), f"ROC-AUC {mg['hit_auc']:.2f}",
                   f"ROC-AUC {bb['hit_auc']:.2f}", f"({bb['prediction_auc']:.2f})",
                   f"{mg['interval_coverage']:.0%} of music_genre tracks",
                   f"here {here['interval_coverage']:.0%}", f"{here['hit_auc']:.2f} here"):
        assert number in text, number
    assert "popularity ≥ 60" in text


@pytest.mark.parametrize("r2, words", [(-0.37, "below zero"), (0.2, "(here")])
def test_r2_words_follow_the_sign(f, r2, words):
    edited = copy.deepcopy(f)
    edited["transfer"]["music_genre"]["r2"] = r2
    text = modeling.transfer_scores(edited)
    assert words in text and (r2 > 0) != ("below zero" in text)
    meaning = modeling.transfer_meaning(edited)
    assert ("explains none of the variance" in meaning) == (r2 <= 0)


@pytest.mark.parametrize("value, word", [(0.1, "missed"), (0.9, "reached")])
def test_targets_are_read_beside_the_scores(f, value, word):
    edited = copy.deepcopy(f)
    for key in ("spearman_within_genre", "hit_auc"):
        edited["transfer"]["music_genre"][key] = value
    edited["transfer"]["billboard"]["hit_auc"] = value
    text = modeling.transfer_scores(edited).split("\n\n")[1]
    assert text.count(word) == 3


def test_billboard_classifier_against_predicted_popularity(f):
    edited = copy.deepcopy(f)
    bb = edited["transfer"]["billboard"]
    bb["hit_auc"], bb["prediction_auc"] = 0.8, 0.7
    assert "better than the predicted popularity" in modeling.transfer_scores(edited)
    bb["hit_auc"] = 0.6
    assert "less well than the predicted popularity" in modeling.transfer_scores(edited)


def test_sensitivity_states_both_encodings(f, t):
    from analysis.prose import modeling_transfer

    bb, mg = t["sensitivity"]["billboard"], t["sensitivity"]["music_genre"]
    # the published popularity model does not read the album: the encoding cannot move it
    assert "album" not in t["popularity_reads"]
    assert mg["missing"]["spearman_within_genre"] == mg["blank"]["spearman_within_genre"]
    assert bb["missing"]["prediction_auc"] == bb["blank"]["prediction_auc"]
    text = modeling.transfer_sensitivity(f)
    assert text.startswith(modeling_transfer.TRANSFER_SENSITIVITY_UNREAD.split(".")[0])
    assert (f"{mg['missing']['spearman_within_genre']:.2f} with the album left missing and "
            f"{mg['blank']['spearman_within_genre']:.2f} with a blank name") in text
    # a popularity model that reads the album: the swing is the finding
    g = copy.deepcopy(f)
    g["transfer"]["popularity_reads"] = ["genre", "album", "explicit", "time_signature"]
    text = modeling.transfer_sensitivity(g)
    assert (f"from {mg['missing']['spearman_within_genre']:.2f} to "
            f"{mg['blank']['spearman_within_genre']:.2f}") in text
    assert (f"from {bb['missing']['prediction_auc']:.2f} to "
            f"{bb['blank']['prediction_auc']:.2f}") in text
    assert "cannot see" in text


@pytest.mark.parametrize("reads_album, taught, template", [
    (False, True, "SENSITIVITY_HIT_TAUGHT_TOO"),
    (True, True, "SENSITIVITY_HIT_TAUGHT"),
    (True, False, "SENSITIVITY_HIT_MOVES"),
    (False, False, "SENSITIVITY_HIT_MOVES"),
])
def test_sensitivity_says_whether_the_hit_classifier_moves(f, t, reads_album, taught, template):
    from analysis.prose import modeling_transfer

    # the published classifier was taught the album may be missing: its score cannot move
    assert all("album" in missing for missing in t["hit_missing"].values())
    for name in ("music_genre", "billboard"):
        rows = t["sensitivity"][name]
        assert rows["missing"]["hit_auc"] == rows["blank"]["hit_auc"]
    g = copy.deepcopy(f)
    g["transfer"]["popularity_reads"] = ["album"] if reads_album else []
    if not taught:
        g["transfer"]["hit_missing"] = {name: [] for name in t["hit_missing"]}
    text = modeling.transfer_sensitivity(g)
    words = {name: getattr(modeling_transfer, name).split(",")[0] for name in (
        "SENSITIVITY_HIT_TAUGHT_TOO", "SENSITIVITY_HIT_TAUGHT", "SENSITIVITY_HIT_MOVES")}
    assert [name for name, start in words.items() if start in text] == [template]


def test_fill_rules_are_the_artifacts_words(f, t):
    text = modeling.transfer_fill(f)
    for rules in t["fill"].values():
        for rule in rules.values():
            assert rule in text
    assert "*album name*" in text and "album_name" not in text.split("*album name*")[0]
    # what the popularity model does not read, and what it is asked without, per set
    from analysis.external.fill import given_as_missing
    from analysis.models.recipes import TRANSFER_RECIPE

    assert t["popularity_missing"] == {
        name: list(given_as_missing(name, TRANSFER_RECIPE.blanked)) for name in t["fill"]}
    assert "*the popularity model*: does not read the album name, so its rule does" in text
    assert "does not read the genre and album name, so their rules do" in text
    assert ("*the popularity model*: asked without the explicit flag and time signature"
            in text)


def test_genre_sentence_counts_the_rows(f):
    edited = copy.deepcopy(f)
    for row in edited["transfer"]["genres"]:
        row["spearman"] = row["in_data_spearman"] - 0.1
    assert modeling.transfer_genres(edited).startswith("In every one of the")
    edited["transfer"]["genres"][0]["spearman"] = 0.99
    assert modeling.transfer_genres(edited).startswith("In nine of the ten")


def test_known_artist_sentence_adds_billboard_only_when_it_has_tracks(f, t):
    b = t["known_artists_billboard"]
    text = modeling.transfer_known_artist(f)
    assert b["tracks"] > 0 and f"{b['tracks']:,} tracks are by artists" in text
    assert f"{b['known_artist']['prediction_auc']:.2f}" in text
    edited = copy.deepcopy(f)
    edited["transfer"]["known_artists_billboard"] = {"tracks": 0, "of_scored": 10}
    assert "tracks are by artists" not in modeling.transfer_known_artist(edited)


@pytest.mark.parametrize("known, words", [(-0.01, "does not travel"), (0.5, "travels, a little")])
def test_known_artist_headline_follows_the_numbers(f, known, words):
    edited = copy.deepcopy(f)
    edited["transfer"]["known_artists"]["known_artist"]["spearman"] = known
    text = modeling.transfer_known_artist(edited)
    assert words in text
    assert ("worse than" in text) == (known < 0.08)


def test_sampling_artefacts_gain_the_cross_crawl_findings(f, t):
    plain = modeling.sampling_artefacts({**f, "transfer": None})
    text = modeling.sampling_artefacts(f)
    assert text.startswith(plain) and len(text) > len(plain)
    across = t["artist_history"]["across_crawls"]["all_tracks"]
    seasonal = t["album_copies"]["album_seasonal"]["share_popularity_0"]
    assert f"Spearman {across['spearman']:.2f}" in text and f"{seasonal:.1%}" in text
    assert "#sec-modeling-transfer" in text


def test_summary_gains_a_fourth_finding_only_with_the_artifact(f):
    assert len(modeling.summary({**f, "transfer": None}).splitlines()) == 3
    lines = modeling.summary(f).splitlines()
    assert len(lines) == 4 and lines[3].startswith("4. **Honest here")


def test_table_has_the_same_metrics_for_every_row(f, t):
    table = modeling.transfer_table(f)
    assert len(table) == 4 and table.iloc[:, 0].tolist()[2:] == [
        "music_genre, 2021", "Billboard hits, 1960–2019"]
    mg, bb, here = t["music_genre"], t["billboard"], t["in_data"]["all"]
    assert table.iloc[2]["Spearman within genre"] == f"{mg['spearman_within_genre']:.3f}"
    assert table.iloc[3]["R²"] == "–"
    assert table.iloc[3]["Hit ROC-AUC"] == f"{bb['hit_auc']:.3f}"
    assert "90% interval coverage" in table.columns
    assert table.iloc[0]["90% interval coverage"] == f"{here['interval_coverage']:.1%}"


def test_verdict_for_the_conclusions_links_the_section(t):
    from analysis.paths import PROJECT_ROOT

    text = transfer.verdict(t)
    assert f"ROC-AUC {t['music_genre']['hit_auc']:.2f}" in text
    target, _, anchor = transfer.SECTION.partition("#")
    assert f"]({transfer.SECTION})" in text
    assert "{#" + anchor + "}" in (PROJECT_ROOT / target).read_text(encoding="utf-8")
    assert f"]({transfer.CHAPTER_SECTION})" in transfer.verdict(t, link=transfer.CHAPTER_SECTION)
    assert transfer.barely(0.05) == "barely" and transfer.barely(0.3) == "only weakly"


def test_captions_of_the_section_hold_on_the_committed_artifact(t):
    """The chart's caption: near zero in most genres, on the other crawl and here alike."""
    rows = t["genres"]
    assert sum(r["spearman"] < transfer.BARELY for r in rows) > len(rows) / 2
    assert sum(r["in_data_spearman"] < transfer.BARELY for r in rows) > len(rows) / 2
    # "neither colour is longer in every row"
    assert not all(r["spearman"] < r["in_data_spearman"] for r in rows)
    assert not all(r["spearman"] > r["in_data_spearman"] for r in rows)


def test_triage_use_reads_the_r2_by_its_sign(t):
    below = {**t, "music_genre": {**t["music_genre"], "r2": -0.37}}
    above = {**t, "music_genre": {**t["music_genre"], "r2": 0.12}}
    assert transfer.R2_BELOW_MEAN in transfer.triage_use(below)
    assert "R² −0.37" in transfer.triage_use(below)
    assert transfer.R2_ABOVE_MEAN in transfer.triage_use(above)
    assert transfer.R2_BELOW_MEAN not in transfer.triage_use(above)


def test_triage_use_claims_hold_on_the_committed_artifact(t):
    """'Its top holds more hits than the catalogue, here and on the other crawls'; artist means
    agree less across crawls than within one."""
    assert t["in_data"]["all"]["hit_auc"] > transfer.CHANCE_AUC
    assert t["music_genre"]["hit_auc"] > transfer.CHANCE_AUC
    assert t["billboard"]["hit_auc"] > transfer.CHANCE_AUC
    history = t["artist_history"]
    assert history["across_crawls"]["all_tracks"]["spearman"] < (
        history["within_crawl"]["kaggle"]["spearman"])
    text = transfer.triage_use(t)
    assert f"{history['across_crawls']['all_tracks']['n']:,} artists" in text
