/**
 * Logic of the predictor page (`chapters/06-predictor.qmd`) and its test harness
 * (`js/harness/predictor.html`), kept out of the OJS cells so Node can test it.
 *
 * The page's cells only lay out controls and call these functions:
 *  - {@link controlSpecs} merges the control specs that `analysis.export.export_champions`
 *    wrote into each model's metadata (observed ranges, display units: duration in minutes,
 *    loudness in dB, tempo in BPM);
 *  - {@link buildControls} turns them into Observable Inputs (passed in, so this module has
 *    no dependency but `predictor.js`);
 *  - {@link startState} / {@link assembleInput} map between what the reader sets and the
 *    model's numeric input (one-hot genre and macro-genre, 0/1 markers, artist history);
 *  - {@link evaluate} predicts, explains, builds the interval, the waterfall, the warnings
 *    and the five nearest real tracks;
 *  - `render*` build the output as DOM nodes. Track and artist names are data, so they are
 *    only ever inserted as text (`textContent`), never parsed as HTML;
 *  - {@link externalCardText} / {@link externalHitText} word the champion's scores on other
 *    crawls (`metadata.external_validation`, from `models/external.json`) beside the
 *    out-of-fold ones the page quotes.
 *
 * @module page
 */

import { explain, intervalFor, predict, prepareModel } from "./predictor.js";

/** `metadata.page_format` this module reads. */
export const PAGE_FORMAT = "track-analytics-predictor";
/** `metadata.page_version` this module reads. */
export const PAGE_VERSION = 1;
/** Bars shown in the waterfall before the rest is pooled into "other features". */
export const WATERFALL_BARS = 10;

const SPOTIFY_ID = /^[A-Za-z0-9]{22}$/;

function fail(message) {
  throw new Error(`page: ${message}`);
}

/**
 * Prepare the exported models for the page, checking they carry page metadata.
 * @param {Object<string, object>} docs Parsed exports keyed by model name, in selector order.
 * @returns {Object<string, import("./predictor.js").PreparedModel>}
 */
export function prepareModels(docs) {
  const out = {};
  for (const [name, doc] of Object.entries(docs)) {
    const meta = doc && doc.metadata;
    if (!meta || meta.page_format !== PAGE_FORMAT) fail(`${name}: not exported for the predictor page`);
    if (meta.page_version !== PAGE_VERSION) fail(`${name}: page metadata version ${meta.page_version}, expected ${PAGE_VERSION}; re-export`);
    out[name] = prepareModel(doc);
  }
  if (!Object.keys(out).length) fail("no models");
  return out;
}

/** Model names in selector order and their display names. */
export function modelChoices(models) {
  return Object.keys(models).map((name) => ({ name, label: models[name].metadata.display_name ?? name }));
}

/**
 * The union of every model's controls, in the first model's order, each annotated with the
 * models that use it (`models`), so switching models keeps what the reader has set.
 */
export function controlSpecs(models) {
  const byKey = new Map();
  for (const [name, model] of Object.entries(models)) {
    for (const spec of model.metadata.controls) {
      const key = spec.kind === "flags" ? "flags" : spec.feature;
      const seen = byKey.get(key);
      if (seen) {
        seen.models.push(name);
        if (spec.kind === "flags") {
          const have = new Set(seen.flags.map((f) => f.feature));
          for (const f of spec.flags) if (!have.has(f.feature)) seen.flags.push(f);
        }
      } else {
        byKey.set(key, { ...spec, key, models: [name], flags: spec.flags ? [...spec.flags] : undefined });
      }
    }
  }
  return [...byKey.values()];
}

/** The categorical encodings (genres, macro-genres, map, one-hot columns) of the models. */
export function categorical(models) {
  return Object.values(models)[0].metadata.categorical;
}

/** Genres of a macro-genre, in the taxonomy's order. */
export function genresOf(cats, macro) {
  return cats.genres.filter((g) => cats.genre_to_macro[g] === macro);
}

/** All presets (real tracks), merged across models: each carries every model's inputs. */
export function presets(models) {
  const byId = new Map();
  for (const [name, model] of Object.entries(models)) {
    for (const p of model.metadata.presets ?? []) {
      const seen = byId.get(p.track_id) ?? { ...p, inputs: {} };
      Object.assign(seen.inputs, p.inputs);
      byId.set(p.track_id, seen);
    }
  }
  return [...byId.values()];
}

/** Label of a preset in the "Start from" dropdown (plain text; the select escapes it). */
export function presetLabel(preset) {
  return preset ? `${preset.name} — ${preset.artist} (${preset.genre}, popularity ${preset.popularity})` : "A typical track (medians)";
}

const roundTo = (value, step) => {
  if (!(step > 0)) return value;
  const digits = Math.max(0, Math.ceil(-Math.log10(step)) + 2);
  return Number((Math.round(value / step) * step).toFixed(digits));
};

/**
 * Where the controls start: medians and the most common macro-genre, or a preset track's
 * exact values (not rounded to the slider step, so the page reproduces its prediction).
 * @returns {{values: Object<string, number|boolean|string[]>, macro: string, genre: string}}
 */
export function startState(specs, cats, preset = null) {
  const values = {};
  for (const spec of specs) {
    if (spec.kind === "flags") {
      values.flags = preset
        ? spec.flags.filter((f) => preset.inputs[f.feature] === 1).map((f) => f.feature)
        : [];
      continue;
    }
    const raw = preset ? preset.inputs[spec.feature] : undefined;
    let v = raw === undefined || raw === null ? spec.default : raw / spec.scale;
    if (spec.kind === "toggle") v = v >= 0.5;
    values[spec.feature] = v;
  }
  if (preset) {
    return { values, macro: preset.macro_genre, genre: preset.genre };
  }
  const macro = cats.macro_genres.includes("Pop") ? "Pop" : cats.macro_genres[0];
  return { values, macro, genre: genresOf(cats, macro)[0] };
}

/**
 * The models' input (feature name → number, NaN = missing) from what the reader set: every
 * column the popularity model or its hit classifier reads (a popularity model that follows
 * a recipe reads fewer). Display units are converted back (minutes → ms); genre and
 * macro-genre become their one-hot columns; with no other tracks the artist history is the
 * prior, as in training.
 */
export function assembleInput(model, state, specs) {
  const m = prepareModel(model);
  const meta = m.metadata;
  const input = {};
  const hit = meta.hit_probability && meta.hit_probability.model;
  for (const name of m.featureNames) input[name] = 0;
  if (hit) for (const name of prepareModel(hit).featureNames) input[name] = 0;
  const values = state.values ?? {};
  for (const spec of specs) {
    if (spec.kind === "flags") {
      const on = new Set(values.flags ?? []);
      for (const f of spec.flags) if (f.feature in input) input[f.feature] = on.has(f.feature) ? 1 : 0;
      continue;
    }
    if (!(spec.feature in input)) continue;
    const v = values[spec.feature];
    if (spec.kind === "toggle") input[spec.feature] = v ? 1 : 0;
    else input[spec.feature] = v === null || v === undefined || v === "" ? NaN : Number(v) * spec.scale;
  }
  const cats = meta.categorical;
  const genreColumn = cats.genre_columns[state.genre];
  if (genreColumn && genreColumn in input) input[genreColumn] = 1;
  const macro = state.genre ? cats.genre_to_macro[state.genre] ?? state.macro : state.macro;
  const macroColumn = cats.macro_columns[macro];
  if (macroColumn && macroColumn in input) input[macroColumn] = 1;
  if (meta.artist_history && "artist_n_tracks" in input && input.artist_n_tracks === 0) {
    input.artist_mean_popularity = meta.artist_history.global_mean;
    input.artist_max_popularity = NaN;
  }
  return input;
}

/** Names the waterfall pools: every genre / macro-genre one-hot into one bar each. */
function barOf(name, meta, state) {
  if (name.startsWith("genre_")) return `Genre: ${state.genre ?? "none"}`;
  if (name.startsWith("macro_")) return `Macro-genre: ${meta.categorical.genre_to_macro[state.genre] ?? state.macro ?? "none"}`;
  const spec = meta.controls.find((s) => s.feature === name);
  if (spec) return spec.label;
  for (const s of meta.controls) {
    const f = s.flags && s.flags.find((x) => x.feature === name);
    if (f) return `Marker: ${f.label}`;
  }
  return name;
}

/**
 * Waterfall of an explanation: from the expected value, the largest contributions (pooled
 * one-hot columns) in order of size, then the rest, ending at the prediction.
 * @returns {{base: number, prediction: number, steps: {label: string, value: number, start: number, end: number}[]}}
 */
export function waterfall(model, explanation, state, bars = WATERFALL_BARS) {
  const meta = prepareModel(model).metadata;
  const pooled = new Map();
  explanation.featureNames.forEach((name, i) => {
    const label = barOf(name, meta, state);
    pooled.set(label, (pooled.get(label) ?? 0) + explanation.contributions[i]);
  });
  const sorted = [...pooled.entries()].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || (a[0] < b[0] ? -1 : 1));
  const shown = sorted.slice(0, bars);
  const rest = sorted.slice(bars);
  if (rest.length) shown.push([`Other ${rest.length} features`, rest.reduce((s, [, v]) => s + v, 0)]);
  let at = explanation.expectedValue;
  const steps = shown.map(([label, value]) => {
    const step = { label, value, start: at, end: at + value };
    at += value;
    return step;
  });
  return { base: explanation.expectedValue, prediction: at, steps };
}

/** Euclidean distance in the reference table's robust-scaled space. */
function distances(reference, input) {
  const F = reference.features.length;
  const z = reference.features.map((f, j) => (input[f] - reference.center[j]) / reference.scale[j]);
  const n = reference.track_id.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = reference.X[i];
    let s = 0;
    for (let j = 0; j < F; j++) {
      const d = (row[j] - reference.center[j]) / reference.scale[j] - z[j];
      s += d * d;
    }
    out[i] = Math.sqrt(s);
  }
  return out;
}

/**
 * The `k` reference tracks nearest to the input in audio features and duration.
 * @returns {{track_id: string, name: string, artist: string, genre: string, popularity: number, distance: number, url: string|null}[]}
 */
export function nearestTracks(reference, input, k = 5) {
  const d = distances(reference, input);
  const order = Array.from(d.keys()).sort((a, b) => d[a] - d[b] || a - b).slice(0, k);
  return order.map((i) => ({
    track_id: reference.track_id[i],
    name: reference.name[i],
    artist: reference.artist[i],
    genre: reference.genre[i],
    popularity: reference.popularity[i],
    distance: d[i],
    url: SPOTIFY_ID.test(reference.track_id[i]) ? `https://open.spotify.com/track/${reference.track_id[i]}` : null,
  }));
}

/**
 * Warnings when the input lies outside the training data: a value outside the central 99%
 * of a feature, or a combination farther from every reference track than 99% of real tracks.
 * @returns {{kind: "range"|"density"|"artist", message: string}[]}
 */
export function inputWarnings(model, input, specs, reference, nearestDistance) {
  const m = prepareModel(model);
  const out = [];
  for (const spec of specs) {
    if (spec.kind !== "range" && spec.kind !== "integer") continue;
    if (!m._index.has(spec.feature)) continue;
    const v = input[spec.feature] / spec.scale;
    if (!Number.isFinite(v) || !spec.typical) continue;
    const [lo, hi] = spec.typical;
    if (v < spec.min || v > spec.max) {
      out.push({ kind: "range", feature: spec.feature, message: `${spec.label} ${fmt(v)} ${spec.unit} is outside the training data's range (${fmt(spec.min)} to ${fmt(spec.max)}).` });
    } else if (v < lo || v > hi) {
      out.push({ kind: "range", feature: spec.feature, message: `${spec.label} ${fmt(v)} ${spec.unit} is outside the central 99% of training tracks (${fmt(lo)} to ${fmt(hi)}): few tracks to learn from.` });
    }
  }
  if (reference && Number.isFinite(nearestDistance) && nearestDistance > reference.density.threshold) {
    out.push({ kind: "density", message: `This combination of audio features is far from every reference track (distance ${fmt(nearestDistance)} > ${fmt(reference.density.threshold)}, exceeded by only 1% of real tracks): the prediction is an extrapolation.` });
  }
  return out;
}

function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

/**
 * P(popularity ≥ threshold) for an input, from the hit classifier the exporter embedded
 * (`metadata.hit_probability.model`, a logistic-link tree document), or `null` if the
 * model has none.
 */
export function hitProbability(model, input) {
  const hit = prepareModel(model).metadata.hit_probability;
  if (!hit || !hit.model) return null;
  return predict(prepareModel(hit.model), input);
}

/**
 * Everything the page shows for one model and one state of the controls.
 */
export function evaluate(model, state, specs, reference) {
  const m = prepareModel(model);
  const input = assembleInput(m, state, specs);
  // the input carries the hit classifier's columns too; the popularity model reads its own
  const prediction = predict(m, input, { ignoreUnknown: true });
  const explanation = explain(m, input, { ignoreUnknown: true });
  const macro = m.metadata.categorical.genre_to_macro[state.genre] ?? state.macro ?? null;
  let interval = null;
  if (m.metadata.interval) {
    const confidence = m.metadata.interval.default_confidence ?? null;
    interval = { ...intervalFor(m, prediction, confidence === null ? { group: macro } : { group: macro, confidence }), confidence };
  }
  const nearest = reference ? nearestTracks(reference, input, 5) : [];
  const warnings = inputWarnings(m, input, specs, reference, nearest.length ? nearest[0].distance : NaN);
  return {
    model: m.metadata.name,
    displayName: m.metadata.display_name,
    input,
    prediction,
    interval,
    hitProbability: hitProbability(m, input),
    hitThreshold: m.metadata.hit_probability ? m.metadata.hit_probability.threshold : null,
    hitAuc: m.metadata.hit_probability?.metrics?.hit_auc ?? null,
    external: m.metadata.external_validation ?? null,
    explanation,
    waterfall: waterfall(m, explanation, state),
    nearest,
    warnings,
  };
}

// ------------------------------------------------------------------------------------------
// Controls (Observable Inputs passed in) and DOM output
// ------------------------------------------------------------------------------------------

function controlLabel(spec, models) {
  const repeats = spec.unit && spec.label.toLowerCase().includes(spec.unit.toLowerCase());
  const unit = spec.unit && !repeats && !["0-1", "major", "explicit"].includes(spec.unit) ? ` (${spec.unit})` : "";
  const only = models && spec.models.length < Object.keys(models).length ? ` — ${spec.models.map((n) => models[n].metadata.display_name).join(", ")} only` : "";
  return `${spec.label}${unit}${only}`;
}

/**
 * One Observable Input per spec, wrapped in `form` (value: `{feature: value, flags: [...]}`).
 * @param {{range: Function, toggle: Function, checkbox: Function, form: Function}} Inputs
 *   From `js/inputs.bundle.js`.
 */
export function buildControls(Inputs, specs, state, models = null) {
  const fields = {};
  for (const spec of specs) {
    let el;
    const label = controlLabel(spec, models);
    if (spec.kind === "flags") {
      const names = spec.flags.map((f) => f.feature);
      const labelOf = Object.fromEntries(spec.flags.map((f) => [f.feature, f.label]));
      el = Inputs.checkbox(names, { label, value: state.values.flags ?? [], format: (n) => labelOf[n] });
      fields.flags = el;
    } else if (spec.kind === "toggle") {
      el = Inputs.toggle({ label, value: Boolean(state.values[spec.feature]) });
      fields[spec.feature] = el;
    } else {
      const value = state.values[spec.feature];
      // Continuous controls take any value (step "any"): Inputs.range would otherwise round a
      // preset's exact value to the slider grid and change its prediction.
      const step = spec.kind === "integer" ? spec.step : undefined;
      el = Inputs.range([spec.min, spec.max], { label, step, value: value === undefined ? spec.default : value });
      fields[spec.feature] = el;
    }
    el.dataset.feature = spec.key;
    el.title = spec.description ?? "";
  }
  const form = Inputs.form(fields);
  form.dataset.role = "controls";
  return form;
}

function el(document, tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

/** A figure as the page prints it: fixed digits, a true minus sign. */
const num = (v, d) => v.toFixed(d).replace("-", "\u2212");
const pct = (v) => `${Math.round(v * 100)}%`;
const upperFirst = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The model card's line on other crawls: for each set scored with popularity, its R², rank
 * correlation (overall and within a genre) and the interval's coverage, beside the same
 * figures out of fold here. `null` when the export carries no external scores.
 * @param {object|null} ext `metadata.external_validation`
 */
export function externalCardText(ext) {
  if (!ext || !Array.isArray(ext.sets)) return null;
  const here = ext.in_data ?? {};
  const parts = ext.sets.filter((s) => s.r2 != null).map((s) => {
    const where = upperFirst(s.scope) + (s.subset ? `, ${s.subset}` : "");
    let text = `${where}: R² ${num(s.r2, 2)} and rank correlation ${num(s.spearman, 2)}` +
      ` (${num(s.spearman_within_genre, 2)} within a genre, against ${num(here.spearman_within_genre, 2)} here)`;
    if (s.interval_coverage != null && ext.interval_level != null) {
      text += `; its ${pct(ext.interval_level)} interval held ${pct(s.interval_coverage)} of those tracks` +
        (here.interval_coverage != null ? ` (${pct(here.interval_coverage)} here)` : "");
    }
    return `${text}.`;
  });
  return parts.length ? parts.join(" ") : null;
}

/**
 * The hit line's counterpart on other crawls: "0.77 on music_genre, 0.62 on Billboard hits",
 * or `null` without external scores.
 */
export function externalHitText(ext) {
  if (!ext || !Array.isArray(ext.sets)) return null;
  const parts = ext.sets.filter((s) => s.hit_auc != null)
    .map((s) => `${num(s.hit_auc, 2)} on ${s.short_name}${s.subset ? ` (${s.subset})` : ""}`);
  return parts.length ? parts.join(", ") : null;
}

/** The selected model's name, honest test metrics and what it uses. */
export function renderModelCard(document, model) {
  const meta = prepareModel(model).metadata;
  const card = el(document, "div", { "data-role": "model-card", class: "predictor-model-card" });
  card.append(el(document, "strong", { "data-role": "model-name" }, meta.display_name));
  card.append(el(document, "span", {}, ` — ${meta.description}`));
  const mt = meta.metrics;
  const text = mt
    ? `Honest test performance (${mt.protocol}, grouped cross-validation): R² ${mt.r2?.toFixed(3)}${mt.r2_sd != null ? ` ± ${mt.r2_sd.toFixed(3)}` : ""}, MAE ${mt.mae?.toFixed(2)} popularity points.`
    : "Honest test metrics not available for this export.";
  card.append(el(document, "div", { "data-role": "model-metrics" }, text));
  const elsewhere = externalCardText(meta.external_validation);
  if (elsewhere) card.append(el(document, "div", { "data-role": "model-external" }, elsewhere));
  return card;
}

/** Prediction, interval and hit probability. */
export function renderSummary(document, result) {
  const box = el(document, "div", { "data-role": "summary", class: "predictor-summary" });
  const line = el(document, "div", {});
  line.append(el(document, "span", {}, "Predicted popularity: "));
  line.append(el(document, "strong", { "data-role": "prediction", "data-value": String(result.prediction) }, result.prediction.toFixed(1)));
  line.append(el(document, "span", {}, ` / 100 (${result.displayName})`));
  box.append(line);
  if (result.interval) {
    const pct = result.interval.alpha !== null ? `${Math.round((1 - result.interval.alpha) * 100)}%` : "";
    const where = result.interval.group ? ` for ${result.interval.group}` : "";
    box.append(el(document, "div", { "data-role": "interval" }, `${pct} prediction interval${where}: ${result.interval.lower.toFixed(1)} to ${result.interval.upper.toFixed(1)}`));
  }
  box.append(el(document, "div", { "data-role": "hit" }, result.hitProbability === null
    ? "Hit probability: not available for this model (see the interval instead)."
    : `Hit probability (popularity ≥ ${result.hitThreshold}): ${(result.hitProbability * 100).toFixed(0)}%, from the hit classifier` +
      (result.hitAuc === null ? "" : ` (out-of-fold ROC-AUC ${result.hitAuc.toFixed(2)}` +
        (externalHitText(result.external) ? `; other crawls: ${externalHitText(result.external)}` : "") + ")")));
  return box;
}

/** Warnings as a list (empty element when there are none). */
export function renderWarnings(document, warnings) {
  const box = el(document, "div", { "data-role": "warnings", class: warnings.length ? "callout callout-warning predictor-warnings" : "predictor-warnings" });
  if (!warnings.length) return box;
  box.append(el(document, "strong", {}, "Outside the training data"));
  const ul = el(document, "ul");
  for (const w of warnings) ul.append(el(document, "li", { "data-kind": w.kind }, w.message));
  box.append(ul);
  return box;
}

/** Waterfall caption (also its accessible name). */
export const WATERFALL_CAPTION = "How each input moved the prediction away from the average (exact TreeSHAP)";

/**
 * The explanation as a horizontal waterfall: one row per step, its full label, a bar from
 * where the step starts to where it ends, and its value. Plain HTML laid out by CSS
 * (`js/predictor.css`): labels wrap instead of being cut, and the chart follows the width
 * of its column, from a phone to the result panel beside the controls.
 */
export function renderWaterfall(document, wf) {
  const rows = [
    { label: "Average prediction (expected value)", start: 0, end: wf.base, base: true },
    ...wf.steps,
    { label: "Prediction", start: 0, end: wf.prediction, base: true },
  ];
  // The axis spans where the steps travel (not from zero), so small contributions stay
  // visible; the average and the prediction are drawn as markers at their values.
  const ends = [wf.base, wf.prediction, ...wf.steps.flatMap((s) => [s.start, s.end])];
  const span = Math.max(...ends) - Math.min(...ends) || 1;
  const lo = Math.min(...ends) - 0.04 * span;
  const hi = Math.max(...ends) + 0.04 * span;
  const pct = (v) => ((v - lo) / (hi - lo)) * 100;
  const figure = el(document, "figure", { "data-role": "waterfall", class: "predictor-waterfall" });
  figure.append(el(document, "figcaption", {}, WATERFALL_CAPTION));
  const list = el(document, "ol", { class: "wf-rows", "aria-label": WATERFALL_CAPTION });
  for (const r of rows) {
    const kind = r.base ? "base" : r.end >= r.start ? "up" : "down";
    const row = el(document, "li", { class: `wf-row wf-${kind}`, "data-role": "wf-step" });
    row.append(el(document, "span", { class: "wf-label", "data-role": "wf-label" }, r.label));
    const track = el(document, "span", { class: "wf-track", "aria-hidden": "true" });
    const a = r.base ? pct(r.end) - 0.75 : pct(Math.min(r.start, r.end));
    const b = r.base ? pct(r.end) + 0.75 : pct(Math.max(r.start, r.end));
    track.append(el(document, "span", {
      class: "wf-bar", "data-role": "bar",
      style: `left: ${a.toFixed(2)}%; width: ${Math.max(0.5, b - a).toFixed(2)}%`,
    }));
    row.append(track);
    const value = r.base ? r.end.toFixed(1) : `${r.end >= r.start ? "+" : "−"}${Math.abs(r.end - r.start).toFixed(2)}`;
    row.append(el(document, "span", { class: "wf-value" }, value));
    list.append(row);
  }
  figure.append(list);
  return figure;
}

/**
 * Show only the controls the selected model reads. The others (the artist history while
 * *New artist* is selected) are hidden and disabled, and the returned note says which and why.
 * Their values are kept, so switching back restores them.
 * @param {HTMLElement} form The element {@link buildControls} returned.
 * @returns {HTMLElement} A note (empty and hidden when the model reads every control).
 */
export function setControlAvailability(document, form, specs, modelName, models) {
  const unused = [];
  for (const spec of specs) {
    const used = spec.models.includes(modelName);
    for (const field of form.querySelectorAll(`[data-feature="${spec.key}"]`)) {
      field.hidden = !used;
      field.setAttribute("aria-hidden", String(!used));
      for (const input of field.querySelectorAll("input, select, button, textarea")) input.disabled = !used;
    }
    if (!used) unused.push(spec);
  }
  const note = el(document, "p", { "data-role": "unused-controls", class: "predictor-note" });
  if (!unused.length) {
    note.hidden = true;
    return note;
  }
  const readers = [...new Set(unused.flatMap((s) => s.models))].map((n) => models[n].metadata.display_name);
  const selected = models[modelName].metadata.display_name;
  note.textContent = `${unused.map((s) => s.label).join(", ")}: read only by ${readers.join(" and ")}, so hidden while ${selected} is selected.`;
  return note;
}

/** The nearest real tracks as a table with Spotify links (names are text, never HTML). */
export function renderNearest(document, rows) {
  const table = el(document, "table", { "data-role": "nearest", class: "table table-sm" });
  const head = el(document, "tr");
  for (const h of ["Track", "Artist", "Genre", "Popularity", "Distance"]) head.append(el(document, "th", {}, h));
  const thead = el(document, "thead");
  thead.append(head);
  table.append(thead);
  const body = el(document, "tbody");
  for (const r of rows) {
    const tr = el(document, "tr", { "data-track-id": r.track_id });
    const name = el(document, "td");
    if (r.url) name.append(el(document, "a", { href: r.url, target: "_blank", rel: "noopener noreferrer" }, r.name));
    else name.textContent = r.name;
    tr.append(name, el(document, "td", {}, r.artist), el(document, "td", {}, r.genre), el(document, "td", {}, String(r.popularity)), el(document, "td", {}, r.distance.toFixed(2)));
    body.append(tr);
  }
  table.append(body);
  return table;
}
