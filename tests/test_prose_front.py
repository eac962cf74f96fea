"""Tests for analysis.prose.front: the front page's findings and the leak chart's bars."""

from __future__ import annotations

import copy

import pytest
from _prose_artifacts import CLEANING_SUMMARY, KRUSKAL, synthetic_metrics

from analysis.prose import front as prose
from analysis.prose._render import MINUS


@pytest.fixture(scope="module")
def explanations():
    from analysis.explain import load_explanations

    return load_explanations()


@pytest.fixture
def facts(explanations):
    return prose.read_facts(CLEANING_SUMMARY, synthetic_metrics(), explanations, KRUSKAL)


def test_findings_are_numbered_linked_and_from_artifacts(facts):
    text = prose.findings(facts)
    lines = text.splitlines()
    assert 5 <= len(lines) <= 7
    assert all(line.startswith(f"{i}. ") for i, line in enumerate(lines, start=1))
    assert all("](chapters/" in line for line in lines)
    for number in ("89,740", "0.80", "0.79", "0.66", "0.35", "0.91", "72%", "31%", "90%"):
        assert number in text, number


def test_triage_finding_quotes_the_hit_classifier_not_the_regressor(facts):
    # regressors rank hits at 0.86 / 55%; classifiers: new artist 0.91 / 72%, known 0.93 / 81%
    findings = prose.findings(facts)
    assert "ROC-AUC 0.91" in findings and "72%" in findings and "#sec-modeling-triage" in findings
    assert "0.86" not in findings and "0.93" not in findings and "81%" not in findings
    assert "(popularity ≥ 60)" in findings and "top-1% shortlist" in findings


def test_base_rate_is_quoted_when_known(explanations):
    facts = prose.read_facts(CLEANING_SUMMARY, synthetic_metrics(), explanations, KRUSKAL,
                             hit_share=0.07)
    assert "shortlist are hits, against 7% of all tracks" in prose.findings(facts)


@pytest.mark.parametrize("with_history, without, word", [(0.64, 0.51, "drops"),
                                                         (0.51, 0.64, "rises")])
def test_history_finding_direction_follows_the_sign(facts, with_history, without, word):
    edited = copy.deepcopy(facts)
    edited["history"].update(r2_with_history=with_history, r2_without_history=without)
    assert f"held-out fold {word} from {with_history:.2f}" in prose.findings(edited)


@pytest.mark.parametrize("audio_shap, headline", [(0.1, "catalogue metadata beats sound"),
                                                  (100.0, "sound matters as much as metadata")])
def test_new_artist_headline_follows_the_numbers(facts, audio_shap, headline):
    edited = {**facts, "first": "genre", "audio_shap": audio_shap}
    assert f"**For a new artist, {headline}.**" in prose.findings(edited)


def test_new_artist_headline_says_the_sound_leads_when_an_audio_feature_is_first(facts):
    edited = {**facts, "first": "energy", "first_shap": 2.4, "audio_share": 0.76}
    text = prose.findings(edited)
    assert "**For a new artist, the sound leads.** Energy moves a prediction by 2.4" in text
    assert "the audio features carry 76% of what moves it" in text


def test_headline_bars_from_metrics():
    rows = prose.headline_r2(synthetic_metrics())
    assert rows["r2"].round(3).tolist() == [0.801, 0.789, 0.661, 0.347]
    assert "Random Forest (300 trees), leaky" in rows["label"].iloc[1]
    assert rows["label"].iloc[2].startswith("New track, known artist<br>")
    assert rows["leaky"].tolist() == [True, True, False, False]


# --- the numbers at a glance ------------------------------------------------------------------


def test_tiles_quote_the_artifacts_each_with_a_link_to_its_proof(facts):
    from analysis.paths import PROJECT_ROOT

    tiles = prose.tiles(facts)
    assert [t.key for t in tiles] == ["r2", "auc", "range", "sound", "tracks"]
    headline = {t.key: t.measures[0].value for t in tiles}
    assert headline == {"r2": "0.35", "auc": "0.91", "range": "40", "sound": headline["sound"],
                        "tracks": "89,740"}
    assert headline["sound"].endswith("%")
    by_key = {t.key: t for t in tiles}
    assert "0.79" in by_key["r2"].context and "0.70" in by_key["r2"].context  # replica, Spearman
    assert "72%" in by_key["auc"].context and "top-1% shortlist" in by_key["auc"].context
    assert "90%" in by_key["range"].label and "90%" in by_key["range"].context
    assert "114,000 genre listings" in by_key["tracks"].context
    for tile in tiles:
        target, _, anchor = tile.href.partition("#")
        assert (PROJECT_ROOT / target).is_file() and anchor
        assert "{#" + anchor + "}" in (PROJECT_ROOT / target).read_text(encoding="utf-8")


def test_skill_tiles_say_where_their_number_holds(facts):
    for tile in prose.tiles(facts):
        scope = tile.measures[0].scope
        assert scope == (prose.WITHIN_CRAWL if tile.key in ("r2", "auc", "range") else "")
        assert tile.skill is bool(scope)
    assert "out of fold" in prose.WITHIN_CRAWL and "within this crawl" in prose.WITHIN_CRAWL
    assert "out of fold" in prose.TILES_NOTE and "this crawl" in prose.TILES_NOTE


def test_sound_tile_adds_up_with_metadata(facts, explanations):
    from analysis.prose.drivers import audio_share

    share, audio = audio_share(explanations, "cold_start")
    assert 0 < share < 1 and audio == 12
    assert facts["audio_share"] + facts["metadata_share"] == pytest.approx(1)
    sound = {t.key: t for t in prose.tiles(facts)}["sound"]
    assert sound.measures[0].value == f"{share:.0%}" and f"{audio} audio features" in sound.context


def test_a_tile_without_its_numbers_is_left_out(facts):
    assert "range" not in [t.key for t in prose.tiles({**facts, "interval": None})]
    auc = {t.key: t for t in prose.tiles({**facts, "hit_share": 0.11})}["auc"]
    assert auc.context.endswith("(vs 11% of all tracks).")


def test_tiles_html_escapes_words_and_shows_every_measure(facts):
    tile = prose.tiles(facts)[0]
    elsewhere = prose.Tile(tile.key, "R² <new> & more", (
        *tile.measures, prose.Measure("0.30", "R²", "out of fold, on another crawl")),
        tile.context, tile.href, tile.link_text, skill=True)
    markup = prose.tiles_html([elsewhere])
    assert "R² &lt;new&gt; &amp; more" in markup and "<new>" not in markup
    assert markup.count('class="kpi-measure"') == 2
    assert markup.index("0.35") < markup.index("0.30") < markup.index("on another crawl")
    assert markup.startswith('<ul class="kpi-row"') and 'class="kpi kpi-skill"' in markup
    assert f'href="{tile.href}"' in markup


def test_at_a_glance_is_a_raw_html_block_for_a_markdown_output(facts):
    markdown = prose.at_a_glance(facts).data
    assert markdown.startswith("``````{=html}\n<ul class=\"kpi-row\"")
    assert markdown.count('<li class="kpi') == 5


# --- the same skills on other crawls (models/external.json) ------------------------------------


@pytest.fixture(scope="module")
def transfer_facts():
    from analysis.external import load_external
    from analysis.prose import transfer

    return transfer.facts(load_external())


def test_skill_tiles_carry_their_figures_on_other_crawls(facts, transfer_facts):
    from analysis.labels import external_scope

    plain = {t.key: t for t in prose.tiles(facts)}
    assert all(len(t.measures) == 1 for t in plain.values())
    tiles = {t.key: t for t in prose.tiles({**facts, "transfer": transfer_facts})}
    mg, bb = transfer_facts["music_genre"], transfer_facts["billboard"]
    assert [(m.value, m.unit, m.scope) for m in tiles["r2"].measures[1:]] == [
        (f"{mg['r2']:.2f}".replace("-", MINUS), "R²", external_scope("music_genre"))]
    assert [(m.value, m.scope) for m in tiles["auc"].measures[1:]] == [
        (f"{mg['hit_auc']:.2f}", external_scope("music_genre")),
        (f"{bb['hit_auc']:.2f}", external_scope("billboard"))]
    assert tiles["range"].measures[1].value == f"{mg['interval_coverage']:.0%}"
    for key in ("sound", "tracks"):
        assert len(tiles[key].measures) == 1
    for key in ("r2", "auc", "range"):
        assert tiles[key].measures[0] == plain[key].measures[0]
    assert "not measured here" not in prose.TILES_NOTE and "other crawls" in prose.TILES_NOTE


def test_triage_finding_gains_one_linked_sentence_on_other_crawls(facts, transfer_facts):
    plain = prose.findings(facts).splitlines()
    lines = prose.findings({**facts, "transfer": transfer_facts}).splitlines()
    assert len(lines) == len(plain)
    changed = [(a, b) for a, b in zip(plain, lines, strict=True) if a != b]
    assert len(changed) == 1
    before, after = changed[0]
    assert after.startswith(before) and "#sec-modeling-transfer" in after[len(before):]
    mg = transfer_facts["music_genre"]
    assert f"ROC-AUC {mg['hit_auc']:.2f}" in after
    assert f"Spearman {mg['spearman_within_genre']:.2f}" in after
