// Page logic (js/page.js) on the exported champions in models/export/ (or the folder in
// $TRACK_ANALYTICS_EXPORT_DIR): controls, input assembly, model switching, presets,
// waterfall additivity, warnings and nearest tracks.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { predict } from "../predictor.js";
import {
  assembleInput, categorical, hitProbability, controlSpecs, evaluate, externalCardText, externalHitText, genresOf,
  inputWarnings, modelChoices, nearestTracks, prepareModels, presetLabel, presets, startState, waterfall,
} from "../page.js";
import { explain, prepareModel } from "../predictor.js";

const here = dirname(fileURLToPath(import.meta.url));
const dir = process.env.TRACK_ANALYTICS_EXPORT_DIR ?? join(here, "..", "..", "models", "export");
const manifestPath = join(dir, "manifest.json");
const have = existsSync(manifestPath);
const read = (f) => JSON.parse(readFileSync(join(dir, f), "utf8"));

describe("page.js on the exported champions", { skip: have ? false : `no export at ${dir} (run python -m analysis.cli export)` }, () => {
  const manifest = have ? read("manifest.json") : { files: [] };
  const modelFiles = manifest.files.map((f) => f.file).filter((f) => f !== "reference_tracks.json");
  const docs = Object.fromEntries(modelFiles.map((f) => [f.replace(/\.json$/, ""), read(f)]));
  const order = ["cold_start", "known_artist"].filter((n) => n in docs);
  const models = have ? prepareModels(Object.fromEntries(order.map((n) => [n, docs[n]]))) : {};
  const reference = have ? read("reference_tracks.json") : null;
  const specs = have ? controlSpecs(models) : [];
  const cats = have ? categorical(models) : null;

  test("both champions are selectable, with display names", () => {
    assert.deepEqual(modelChoices(models).map((c) => c.name), ["cold_start", "known_artist"]);
    for (const c of modelChoices(models)) assert.ok(c.label.length > 3);
  });

  test("one control per non-one-hot input, with observed ranges and display units", () => {
    const covered = new Set(specs.flatMap((s) => (s.kind === "flags" ? s.flags.map((f) => f.feature) : [s.feature])));
    for (const m of Object.values(models)) {
      for (const name of m.featureNames) {
        if (name.startsWith("genre_") || name.startsWith("macro_")) continue;
        assert.ok(covered.has(name), `no control for ${name}`);
      }
    }
    const unit = Object.fromEntries(specs.filter((s) => s.feature).map((s) => [s.feature, s.unit]));
    assert.equal(unit.duration_ms, "min");
    assert.equal(unit.loudness, "dB");
    assert.equal(unit.tempo, "BPM");
    const duration = specs.find((s) => s.feature === "duration_ms");
    assert.ok(duration.min < 1 && duration.max > 10, "duration range is in minutes");
    for (const s of specs.filter((x) => x.kind === "range" || x.kind === "integer")) {
      assert.ok(s.min <= s.default && s.default <= s.max, `${s.feature} default inside range`);
    }
    const artist = specs.filter((s) => s.group === "artist");
    assert.equal(artist.length, 3);
    for (const s of artist) assert.deepEqual(s.models, ["known_artist"]);
  });

  test("genre dropdown follows the macro-genre; one-hot columns are set", () => {
    const state = startState(specs, cats);
    assert.ok(genresOf(cats, state.macro).includes(state.genre));
    for (const [name, m] of Object.entries(models)) {
      const input = assembleInput(m, state, specs);
      assert.equal(input[cats.genre_columns[state.genre]], 1, name);
      assert.equal(input[cats.macro_columns[cats.genre_to_macro[state.genre]]], 1, name);
      const hot = Object.entries(input).filter(([k, v]) => (k.startsWith("genre_") || k.startsWith("macro_")) && v === 1);
      assert.equal(hot.length, 2);
      assert.equal(input.duration_ms, state.values.duration_ms * 60000);
    }
  });

  test("changing an input changes the prediction", () => {
    const state = startState(specs, cats);
    const a = evaluate(models.cold_start, state, specs, reference).prediction;
    const moved = { ...state, values: { ...state.values, instrumentalness: 0.95, acousticness: 0.9 } };
    const b = evaluate(models.cold_start, moved, specs, reference).prediction;
    assert.notEqual(a, b);
  });

  test("switching the model changes the model used", () => {
    const state = startState(specs, cats);
    const cold = evaluate(models.cold_start, state, specs, reference);
    const known = evaluate(models.known_artist, state, specs, reference);
    assert.equal(cold.model, "cold_start");
    assert.equal(known.model, "known_artist");
    assert.notEqual(cold.prediction, known.prediction);
    assert.equal(known.prediction, predict(models.known_artist, known.input));
  });

  test("artist history: no other tracks means the prior mean and a missing best", () => {
    const state = startState(specs, cats);
    state.values.artist_n_tracks = 0;
    state.values.artist_mean_popularity = 90;
    const input = assembleInput(models.known_artist, state, specs);
    assert.equal(input.artist_mean_popularity, models.known_artist.metadata.artist_history.global_mean);
    assert.ok(Number.isNaN(input.artist_max_popularity));
    state.values.artist_n_tracks = 10;
    const busy = assembleInput(models.known_artist, state, specs);
    assert.equal(busy.artist_mean_popularity, 90);
  });

  test("presets reproduce each real track's exported inputs exactly", () => {
    const list = presets(models);
    assert.ok(list.length >= 5);
    for (const p of list) {
      assert.match(presetLabel(p), new RegExp(p.artist.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      const state = startState(specs, cats, p);
      assert.equal(state.genre, p.genre);
      for (const [name, m] of Object.entries(models)) {
        const input = assembleInput(m, state, specs);
        for (const [feature, value] of Object.entries(p.inputs)) {
          if (!(feature in input)) continue;
          if (value === null) assert.ok(Number.isNaN(input[feature]) || input[feature] === 0, `${name} ${feature}`);
          else assert.ok(Math.abs(input[feature] - value) <= 1e-9 * Math.max(1, Math.abs(value)), `${name} ${p.name} ${feature}: ${input[feature]} vs ${value}`);
        }
      }
    }
  });

  test("waterfall steps add up from the expected value to the prediction", () => {
    const state = startState(specs, cats, presets(models)[0]);
    for (const m of Object.values(models)) {
      const input = assembleInput(m, state, specs);
      const wf = waterfall(m, explain(m, input, { ignoreUnknown: true }), state);
      assert.ok(wf.steps.length <= 11);
      assert.ok(Math.abs(wf.prediction - predict(m, input, { ignoreUnknown: true })) < 1e-6);
      for (let i = 1; i < wf.steps.length; i++) assert.equal(wf.steps[i].start, wf.steps[i - 1].end);
      // a genre bar only for a model that reads genre (the new-artist recipe reads none)
      const readsGenre = m.featureNames.some((f) => f.startsWith("genre_"));
      assert.equal(wf.steps.some((s) => s.label.startsWith("Genre: ")), readsGenre, m.metadata.name);
    }
  });

  test("the input carries every column of both models, whichever reads fewer", () => {
    const state = startState(specs, cats, presets(models)[0]);
    for (const m of Object.values(models)) {
      const hit = prepareModel(m.metadata.hit_probability.model);
      const input = assembleInput(m, state, specs);
      for (const name of [...m.featureNames, ...hit.featureNames]) assert.ok(name in input, `${m.metadata.name}: ${name}`);
      assert.equal(input[cats.genre_columns[state.genre]], 1, "the classifier is given the genre");
      assert.equal(hitProbability(m, input), predict(hit, input));
    }
  });

  test("interval brackets the prediction and uses the macro-genre's offsets when present", () => {
    const r = evaluate(models.cold_start, startState(specs, cats), specs, reference);
    assert.ok(r.interval.lower <= r.prediction && r.prediction <= r.interval.upper);
    assert.equal(r.interval.confidence, 0.9);
  });

  test("hit probability comes from the embedded classifier, in [0, 1], and varies with the input", () => {
    for (const m of Object.values(models)) {
      assert.ok(m.metadata.hit_probability.model, `${m.metadata.name}: no hit classifier`);
      const ps = presets(models).slice(0, 8).map((preset) => hitProbability(m, assembleInput(m, startState(specs, cats, preset), specs)));
      for (const p of ps) assert.ok(p > 0 && p < 1, String(p));
      assert.ok(new Set(ps.map((p) => p.toFixed(6))).size > 1, "the same probability for every preset");
      const r = evaluate(m, startState(specs, cats), specs, reference);
      assert.equal(r.hitProbability, hitProbability(m, r.input));
    }
  });

  test("nearest tracks: five real tracks with Spotify links, the track itself first", () => {
    const i = 7;
    const input = Object.fromEntries(reference.features.map((f, j) => [f, reference.X[i][j]]));
    const rows = nearestTracks(reference, input, 5);
    assert.equal(rows.length, 5);
    assert.equal(rows[0].track_id, reference.track_id[i]);
    assert.equal(rows[0].distance, 0);
    assert.match(rows[0].url, /^https:\/\/open\.spotify\.com\/track\/[A-Za-z0-9]{22}$/);
    for (let k = 1; k < 5; k++) assert.ok(rows[k].distance >= rows[k - 1].distance);
  });

  test("scores on other crawls: beside the out-of-fold ones, from models/external.json through the export", () => {
    const cold = models.cold_start.metadata.external_validation;
    const known = models.known_artist.metadata.external_validation;
    assert.ok(cold && known, "the committed export carries the external scores");
    const [mg, bb] = cold.sets;
    const card = externalCardText(cold);
    const fix = (v) => v.toFixed(2).replace("-", "\u2212");
    assert.ok(card.startsWith(`On another crawl (${mg.label}): R² ${fix(mg.r2)}`), card);
    assert.ok(card.includes(`rank correlation ${fix(mg.spearman)}`));
    assert.ok(card.includes(`its 90% interval held ${Math.round(mg.interval_coverage * 100)}% of those tracks (${Math.round(cold.in_data.interval_coverage * 100)}% here)`), card);
    assert.equal(externalHitText(cold), `${fix(mg.hit_auc)} on ${mg.short_name}, ${fix(bb.hit_auc)} on ${bb.short_name}`);
    // the known-artist champion was scored on the music_genre tracks whose artist this crawl knows
    assert.equal(known.sets.length, 1);
    assert.ok(externalCardText(known).includes(known.sets[0].subset));
    const r = evaluate(models.cold_start, startState(specs, cats), specs, reference);
    assert.equal(r.external, cold);
    assert.equal(externalCardText(null), null);
    assert.equal(externalHitText({ sets: [] }), null);
  });

  test("warnings: none for a typical track, range and density warnings far outside", () => {
    const state = startState(specs, cats);
    const typical = evaluate(models.cold_start, state, specs, reference);
    assert.deepEqual(typical.warnings.filter((w) => w.kind === "density"), []);
    const odd = { ...state, values: { ...state.values, duration_ms: 60, tempo: 240, loudness: -45, speechiness: 0.95 } };
    const r = evaluate(models.cold_start, odd, specs, reference);
    const kinds = new Set(r.warnings.map((w) => w.kind));
    assert.ok(kinds.has("range"));
    assert.ok(kinds.has("density"));
    assert.ok(r.warnings.some((w) => /Duration/.test(w.message)));
    assert.deepEqual(inputWarnings(models.cold_start, typical.input, specs, null, NaN).filter((w) => w.kind === "density"), []);
  });
});
