"""Words of the front page (index.qmd): the numbers at a glance, the executive findings and the
leak chart's bars.

:func:`facts` gathers every number the page quotes from the cleaned data, ``metrics.json``
and the cached explanations (:func:`read_facts` does it from already-loaded pieces). The first
screen is a row of tiles (:func:`at_a_glance`), one number each, each linking to the section
that proves it; then each finding is one template with a link to its chapter.

A skill tile (R², ROC-AUC, interval) says where its number holds: out of fold, within this
crawl of Spotify. Its figures are a list (:class:`Measure`): under the first, the same skill
measured on other crawls (``models/external.json``, read by :func:`analysis.prose.transfer.facts`),
each with its own scope (see :func:`tiles`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from analysis.labels import EXTERNAL_SET_SHORT_NAMES, PROTOCOL_CASES, driver_name, external_scope
from analysis.models import CONFIDENCE_LEVELS, HIT_THRESHOLD, TOP_SHARE
from analysis.prose import transfer
from analysis.prose._artifacts import (
    LIKE_FOR_LIKE,
    artist_history,
    champion_model,
    champion_r2,
    importance,
    is_audio,
    like_for_like_r2,
    metric,
    published_is_like_for_like,
    replica_model,
    triage_metric,
)
from analysis.prose._render import by_sign, fill, numbered, spelled, upper_first
from analysis.prose.drivers import audio_share

#: Where each front-page finding is proved (plain links; Quarto resolves .ipynb to .html).
CHAPTER_LINKS: dict[str, str] = {
    "data": "chapters/01-data.ipynb#sec-data-funnel",
    "moods": "chapters/03-genre-moods.ipynb#sec-moods-effects",
    "leak": "chapters/04-modeling.ipynb#sec-modeling-leak",
    "triage": "chapters/04-modeling.ipynb#sec-modeling-triage",
    "intervals": "chapters/04-modeling.ipynb#sec-modeling-intervals",
    "drivers": "chapters/05-drivers.ipynb#sec-drivers-importance",
    "history": "chapters/05-drivers.ipynb#sec-drivers-history",
    "conclusions": "chapters/07-conclusions.ipynb#sec-conclusions-triage",
    "transfer": transfer.SECTION,
}

#: The protocol the tiles quote: a new artist, the case triage is for (no history to lean on).
TILE_PROTOCOL = "cold_start"

#: "Catalogue metadata beats sound" when the strongest audio feature moves predictions by
#: less than the top driver divided by this.
METADATA_DOMINANCE = 2

#: The interval level the front page quotes (the widest of the build's levels).
INTERVAL_LEVEL = max(CONFIDENCE_LEVELS)


# --- facts -------------------------------------------------------------------------------------


def facts(track_data, metrics: Mapping, explanations, external: Mapping | None = None) -> dict:
    """Every number the front page quotes, from the loaded artifacts (what ``index.qmd`` does).

    Adds the genre-mood finding, Kruskal–Wallis ε² of every audio feature across macro-genres
    (:func:`analysis.moods.kruskal_by_feature`), and the share of hits among all tracks; with
    ``external`` (``models/external.json``), the same skills on other crawls.
    """
    from analysis.moods import add_duration_minutes, kruskal_by_feature

    kruskal = kruskal_by_feature(add_duration_minutes(track_data.tracks))
    hit = metrics.get("hit_threshold", HIT_THRESHOLD)
    hit_share = float((track_data.tracks["popularity"] >= hit).mean())
    return read_facts(track_data.summary, metrics, explanations, kruskal, hit_share=hit_share,
                      external=external)


def read_facts(summary: Mapping, metrics: Mapping, explanations,
               kruskal: pd.DataFrame | None = None, *, hit_share: float | None = None,
               external: Mapping | None = None) -> dict:
    """:func:`facts` from pieces already at hand.

    Parameters
    ----------
    summary : dict
        Cleaning summary (:attr:`analysis.data.TrackData.summary`).
    metrics : dict
        ``models/metrics.json``.
    explanations : analysis.explain.Explanations
        ``models/shap/``.
    kruskal : pandas.DataFrame, optional
        :func:`analysis.moods.kruskal_by_feature` of the tracks (the genre-mood finding).
    hit_share : float, optional
        Share of all tracks that are hits (the shortlist's base rate).
    external : dict, optional
        ``models/external.json``: the skills on other crawls (``transfer`` is None without).
    """
    cold = importance(explanations, "cold_start")
    audio = cold[cold["group"].map(is_audio)].iloc[0]
    level = str(INTERVAL_LEVEL)
    intervals = metrics["protocols"]["cold_start"]["models"][
        champion_model(metrics, "cold_start")].get("intervals", {}).get("mondrian", {})
    out = {
        **{k: summary[k] for k in ("input_rows", "genres", "tracks")},
        "repeated_share": summary["rows_repeating_a_track_id"] / summary["input_rows"],
        "published": metrics["original_results"]["random_forest"]["r2"],
        "replica": metric(metrics, "seed_replica", replica_model(metrics), "r2")[0],
        "known": like_for_like_r2(metrics, "known_artist")[0],
        "cold": like_for_like_r2(metrics, "cold_start")[0],
        "cold_published": champion_r2(metrics, "cold_start")[0],
        "published_is_like_for_like": published_is_like_for_like(metrics),
        "hit": metrics.get("hit_threshold", HIT_THRESHOLD), "top_share": TOP_SHARE,
        "auc": triage_metric(metrics, "cold_start", "hit_auc")[0],
        "top_precision": triage_metric(metrics, "cold_start", "top1_precision")[0],
        "hit_share": hit_share,
        "history": artist_history(explanations),
        "first": cold.iloc[0]["group"], "first_shap": cold.iloc[0]["mean_abs_shap"],
        "audio": audio["group"], "audio_shap": audio["mean_abs_shap"],
        "genre_effect": None, "interval": None,
        "transfer": None if external is None else transfer.facts(external),
        **_tile_facts(metrics, explanations),
    }
    if kruskal is not None and len(kruskal):
        top = kruskal.iloc[0]
        out["genre_effect"] = {k: top[k] for k in ("feature", "epsilon_squared", "magnitude")}
    if level in intervals:
        stats = intervals[level]
        by_macro = [v["coverage"] for v in stats["by_macro_genre"].values()]
        out["interval"] = {"level": INTERVAL_LEVEL, "coverage": stats["coverage"],
                           "lowest": min(by_macro), "highest": max(by_macro),
                           "mean_width": stats["mean_width"]}
    return out


def _tile_facts(metrics: Mapping, explanations) -> dict:
    """The numbers only the tiles quote: the new-artist champion's rank correlation and the
    share of its movement that the sound carries."""
    share, audio = audio_share(explanations, TILE_PROTOCOL)
    return {
        "cold_spearman": metric(metrics, TILE_PROTOCOL, champion_model(metrics, TILE_PROTOCOL),
                                "spearman")[0],
        "audio_share": share, "metadata_share": 1 - share, "audio_features": audio,
    }


# --- templates ---------------------------------------------------------------------------------

DATA = (
    "**The public file is not a track table.** Its {input_rows:,} rows are {genres} genre lists "
    "in which {repeated_share:.1%} of rows repeat a track; cleaned, it holds {tracks:,} tracks "
    "([the data]({links[data]}))."
)
LEAK = (
    "**The published accuracy leaned on a leak.** The original's R² of {published:.2f} "
    "(replicated here: {replica:.2f}) rests on test tracks, and their own popularity, leaking "
    "into training; measured honestly, a new track by a known artist gets R² {known:.2f} and a "
    "track by a new artist {cold:.2f} ([modeling]({links[leak]})).{published_model}"
)
#: When the published new-artist model is not the like-for-like one.
LEAK_PUBLISHED = (
    " The new-artist model published here was chosen for what holds on other crawls instead, "
    "and explains less in this one (R² {cold_published:.2f})."
)
TRIAGE = (
    "**The model can triage.** For artists it has never seen, it ranks hits (popularity ≥ {hit}) "
    "above non-hits with ROC-AUC {auc:.2f}, and {top_precision:.0%} of its top-{top_share:.0%} "
    "shortlist are hits{base_rate} ([modeling]({links[triage]}))."
)
BASE_RATE = ", against {hit_share:.0%} of all tracks"
TRIAGE_ELSEWHERE = (
    " On other crawls it still ranks hits first, with ROC-AUC {mg[hit_auc]:.2f} ({mg_name}) and "
    "{bb[hit_auc]:.2f} ({bb_name}), but {barely} orders tracks within a genre (Spearman "
    "{mg[spearman_within_genre]:.2f}, against {here[spearman_within_genre]:.2f} here; "
    "[does it hold elsewhere?]({links[transfer]}))."
)
HISTORY = (
    "**The artist is most of the signal.** Artist history carries "
    "{history[shap_share_history]:.0%} of what moves the known-artist model; without it, R² on a "
    "held-out fold {drops} from {history[r2_with_history]:.2f} to "
    "{history[r2_without_history]:.2f} ([drivers]({links[history]}))."
)
DROPS, RISES = "drops", "rises"
NEW_ARTIST = (
    "**For a new artist, {headline}.** {First} moves a prediction by {first_shap:.1f} points on "
    "average; the strongest audio feature, {audio_name}, by {audio_shap:.1f} "
    "([drivers]({links[drivers]}))."
)
#: When a new artist's first driver is an audio feature: the sound leads.
NEW_ARTIST_SOUND = (
    "**For a new artist, the sound leads.** {First} moves a prediction by {first_shap:.1f} "
    "points on average, and the audio features carry {audio_share:.0%} of what moves it "
    "([drivers]({links[drivers]}))."
)
METADATA_WINS = "catalogue metadata beats sound"
SOUND_COUNTS = "sound matters as much as metadata"
GENRES = (
    "**Genres sound different, most in {feature}.** Macro-genre explains {epsilon_squared:.0%} of "
    "the rank variance of {feature} (Kruskal–Wallis ε²), a {magnitude} effect "
    "([genre moods]({links[moods]}))."
)
RANGE = (
    "**Every prediction comes with an honest range.** The {level:.0%} interval covers "
    "{coverage:.0%} of held-out tracks ({lowest:.0%}–{highest:.0%} by macro-genre) and is "
    "{mean_width:.0f} points wide: good for sorting a catalogue, not for promising one track's "
    "number ([modeling]({links[intervals]}), [how to use it]({links[conclusions]}))."
)

#: The tiles of the first screen, in reading order. ``label`` names the number, ``value`` and
#: ``unit`` show it, ``context`` sets it beside what a reader compares it with, and ``link``
#: (a key of :data:`CHAPTER_LINKS`) with ``link_text`` points at the section that proves it.
#: A ``skill`` tile's number holds where :data:`WITHIN_CRAWL` says; its ``elsewhere`` figures,
#: (set, value, unit), are the same skill on another crawl (from ``f["transfer"]``), each
#: scoped by :func:`analysis.labels.external_scope`.
TILES: tuple[dict, ...] = (
    {"key": "r2", "skill": True, "label": "Popularity explained, new artist",
     "value": "{cold_published:.2f}", "unit": "R²",
     "context": "Rank correlation {cold_spearman:.2f}; chosen for what holds on other crawls. "
                "Tuned on this crawl alone, XGBoost scores {cold:.2f}; the original's leaky "
                "recipe {replica:.2f}.",
     "elsewhere": (("music_genre", "{music_genre[r2]:.2f}", "R²"),),
     "link": "leak", "link_text": "The leak audit"},
    {"key": "auc", "skill": True, "label": "Hits ranked first, new artist",
     "value": "{auc:.2f}", "unit": "ROC-AUC",
     "context": "{top_precision:.0%} of the top-{top_share:.0%} shortlist are hits{base_rate}.",
     "elsewhere": (("music_genre", "{music_genre[hit_auc]:.2f}", "ROC-AUC"),
                   ("billboard", "{billboard[hit_auc]:.2f}", "ROC-AUC")),
     "link": "triage", "link_text": "Triage"},
    {"key": "range", "skill": True, "label": "Width of the {level:.0%} range, new artist",
     "value": "{mean_width:.0f}", "unit": "points",
     "context": "On the 0–100 scale; it holds {coverage:.0%} of held-out tracks.",
     "elsewhere": (("music_genre", "{music_genre[interval_coverage]:.0%}", "held"),),
     "link": "intervals", "link_text": "Prediction intervals"},
    {"key": "sound", "skill": False, "label": "Moved by the sound, new artist",
     "value": "{audio_share:.0%}", "unit": "",
     "context": "of what moves a prediction is the {audio} audio features; everything else it "
                "reads: {metadata_share:.0%}.",
     "link": "drivers", "link_text": "Global importance"},
    {"key": "tracks", "skill": False, "label": "Tracks analysed",
     "value": "{tracks:,}", "unit": "",
     "context": "from {input_rows:,} genre listings, each track counted once.",
     "link": "data", "link_text": "From listings to tracks"},
)
TILE_BASE_RATE = " (vs {hit_share:.0%} of all tracks)"
#: Where a skill figure holds: scored on tracks (and artists) its model never saw, in the one
#: crawl of Spotify this site studies.
WITHIN_CRAWL = "out of fold, within this crawl"
TILES_NOTE = (
    "Skill figures are out of fold: each track is scored by a model trained without it, and, "
    "for a new artist, without any of the artist's tracks. They hold within this crawl of "
    "Spotify (the public dataset). The smaller figures under them are the same model scored, "
    "without retraining, on tracks other crawls collected: how far the skill carries to "
    "another catalogue."
)
#: Markup of the tiles (no words: those are above).
TILES_HTML = (
    '<ul class="kpi-row" aria-label="{aria}">\n{tiles}\n</ul>\n<p class="kpi-note">{note}</p>'
)
TILES_ARIA = "The numbers at a glance"
TILE_HTML = (
    '<li class="kpi{kind}" id="kpi-{key}"><p class="kpi-label">{label}</p>{measures}'
    '<p class="kpi-context">{context}</p><a class="kpi-link" href="{href}">{link_text}'
    '<span aria-hidden="true"> →</span></a></li>'
)
SKILL_CLASS = " kpi-skill"
MEASURE_HTML = (
    '<p class="kpi-measure"><span class="kpi-value">{value}</span>{unit}{scope}</p>'
)
UNIT_HTML = ' <span class="kpi-unit">{unit}</span>'
SCOPE_HTML = '<span class="kpi-scope">{scope}</span>'

#: The leak chart's first two bars, then each honest bar (its protocol's case, model).
PUBLISHED_BAR = "Published by the original<br>(Random Forest, leaky)"
REPLICA_BAR = "Original recipe, replicated<br>({model}, leaky)"
HONEST_BAR = "{case}<br>({model}, honest)"
HONEST = ("known_artist", "cold_start")


# --- sentences ---------------------------------------------------------------------------------


def findings(f: Mapping) -> str:
    """The front page's findings: one sentence each, with a number and a link to the proof."""
    h = f["history"]
    metadata_wins = (not is_audio(f["first"])
                     and f["audio_shap"] < f["first_shap"] / METADATA_DOMINANCE)
    first = driver_name(f["first"])
    items = [
        fill(DATA, f, links=CHAPTER_LINKS),
        fill(LEAK, f, links=CHAPTER_LINKS,
             published_model="" if f["published_is_like_for_like"] else fill(LEAK_PUBLISHED, f)),
        fill(TRIAGE, f, links=CHAPTER_LINKS,
             base_rate="" if f["hit_share"] is None else fill(BASE_RATE, f))
        + _triage_elsewhere(f.get("transfer")),
        fill(HISTORY, f, links=CHAPTER_LINKS,
             drops=by_sign(h["r2_with_history"] - h["r2_without_history"], DROPS, RISES)),
        fill(NEW_ARTIST_SOUND if is_audio(f["first"]) else NEW_ARTIST, f, links=CHAPTER_LINKS,
             First=upper_first(first), headline=METADATA_WINS if metadata_wins else SOUND_COUNTS,
             audio_name=driver_name(f["audio"])),
    ]
    if f["genre_effect"] is not None:
        items.append(fill(GENRES, f["genre_effect"], links=CHAPTER_LINKS))
    if f["interval"] is not None:
        items.append(fill(RANGE, f["interval"], links=CHAPTER_LINKS))
    return numbered(items)


def _triage_elsewhere(t: Mapping | None) -> str:
    """The triage finding's sentence on other crawls (empty without ``external.json``)."""
    if t is None:
        return ""
    mg = t["music_genre"]
    return fill(TRIAGE_ELSEWHERE, t, mg=mg, bb=t["billboard"], here=t["in_data"]["all"],
                links=CHAPTER_LINKS, mg_name=EXTERNAL_SET_SHORT_NAMES["music_genre"],
                bb_name=EXTERNAL_SET_SHORT_NAMES["billboard"],
                barely=transfer.barely(mg["spearman_within_genre"]))


@dataclass(frozen=True)
class Measure:
    """One figure of a tile: the number, its unit, and where it holds (empty: everywhere)."""

    value: str
    unit: str = ""
    scope: str = ""


@dataclass(frozen=True)
class Tile:
    """One number at a glance: what it is, its figure(s), what to compare it with, its proof.

    ``measures[0]`` is the headline figure; a skill tile may carry more, e.g. the same skill
    measured on another crawl, each with its own scope, drawn smaller under the first.
    """

    key: str
    label: str
    measures: tuple[Measure, ...]
    context: str
    href: str
    link_text: str
    skill: bool = False


def tiles(f: Mapping) -> list[Tile]:
    """The first screen's tiles from the page's facts (:data:`TILES`, in order).

    A tile whose numbers are missing from the build (no interval at the quoted level) is left
    out rather than shown empty. With the other crawls' facts (``f["transfer"]``), a skill
    tile's ``elsewhere`` figures follow its headline, each a ``Measure(value, unit, scope)``.
    """
    values = {**f, **(f["interval"] or {})}
    words = {"base_rate": "" if f.get("hit_share") is None else fill(TILE_BASE_RATE, f),
             "audio": spelled(f["audio_features"]) if "audio_features" in f else None}
    out = []
    for spec in TILES:
        try:
            label, value, context = (fill(spec[k], values, **words)
                                     for k in ("label", "value", "context"))
        except (KeyError, TypeError, ValueError):
            continue
        measures = [Measure(value, spec["unit"], WITHIN_CRAWL if spec["skill"] else "")]
        if f.get("transfer") is not None:
            measures += [Measure(fill(template, f["transfer"]), unit,
                                 external_scope(name))
                         for name, template, unit in spec.get("elsewhere", ())]
        out.append(Tile(spec["key"], label, tuple(measures), context,
                        CHAPTER_LINKS[spec["link"]], spec["link_text"], spec["skill"]))
    return out


def tiles_html(items: list[Tile]) -> str:
    """The tiles as HTML (a list styled as a row of tiles by the site's ``styles.css``).

    Every word is escaped: the markup comes from :data:`TILE_HTML` and its kin only.
    """
    esc = html.escape

    def measure(m: Measure) -> str:
        return MEASURE_HTML.format(
            value=esc(m.value), unit=UNIT_HTML.format(unit=esc(m.unit)) if m.unit else "",
            scope=SCOPE_HTML.format(scope=esc(m.scope)) if m.scope else "")

    body = "\n".join(TILE_HTML.format(
        kind=SKILL_CLASS if t.skill else "", key=esc(t.key), label=esc(t.label),
        measures="".join(measure(m) for m in t.measures), context=esc(t.context),
        href=esc(t.href, quote=True), link_text=esc(t.link_text)) for t in items)
    return TILES_HTML.format(aria=esc(TILES_ARIA), tiles=body, note=esc(TILES_NOTE))


def at_a_glance(f: Mapping):
    """The first screen of the front page: the tiles, as a raw HTML block for a Markdown output
    (Quarto passes it into the page unchanged and adds no script for it)."""
    from analysis.embed import raw_html

    return raw_html(tiles_html(tiles(f)))


def headline_r2(metrics: Mapping) -> pd.DataFrame:
    """Bars of the leak chart (front page and Conclusions): published, replicated, and the two
    honest R².

    Returns
    -------
    pandas.DataFrame
        ``label``, ``r2``, ``sd`` (NaN for single splits), ``leaky``.
    """
    replica = replica_model(metrics)

    def label(protocol: str, model: str) -> str:
        entry = metrics["protocols"].get(protocol, {}).get("models", {}).get(model, {})
        return entry.get("label", model.replace("_", " "))

    rows = [(PUBLISHED_BAR, metrics["original_results"]["random_forest"]["r2"], math.nan, True),
            (fill(REPLICA_BAR, {}, model=label("seed_replica", replica)),
             metric(metrics, "seed_replica", replica, "r2")[0], math.nan, True)]
    for protocol in HONEST:
        model = LIKE_FOR_LIKE
        mean, sd = metric(metrics, protocol, model, "r2")
        rows.append((fill(HONEST_BAR, {}, case=upper_first(PROTOCOL_CASES[protocol]),
                          model=label(protocol, model)),
                     mean, math.nan if sd is None else sd, False))
    return pd.DataFrame(rows, columns=["label", "r2", "sd", "leaky"])
