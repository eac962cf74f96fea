/**
 * The triage page's Web Worker: everything heavy happens here, so the page stays responsive
 * while a 100,000-row catalogue is read, validated, scored and ranked.
 *
 * Messages in (from `js/triage-page.js`), each with an `id` echoed in the answer:
 *  - `init {specUrl, modelUrls: {name: url}}`: load the spec and the exported champions
 *    (the site's own files; nothing else is ever fetched) → `ready`;
 *  - `score {file | url, name, model}`: a dropped File, or the example catalogue's URL →
 *    `progress` (phase, done, total), then `result` (counts, file problems, the first rejects,
 *    and the columns the page filters and ranks on, as transferred typed arrays);
 *  - `rows {rows}`: the output records of some rows (what a table page shows) → `rows`;
 *  - `explain {row}`: the reasons of one row → `explain`;
 *  - `csv {kind: "ranked"|"rejects", rows?}`: a CSV Blob (rows in the given order) → `csv`;
 *  - `search {query, limit}`: rows whose title, artists or track id contain the text → `search`.
 * Any failure answers `failure {message}`.
 *
 * Scoring is shared with a helper: at `init` this worker starts a second copy of itself
 * (`init-helper`), which loads the same spec and model; a catalogue of more than
 * {@link PARALLEL_MIN_ROWS} rows is split in two and each half is scored in its own worker
 * (`predict-part`), so both cores work. Without a helper (it failed to start) one worker
 * scores everything.
 *
 * @module triage.worker
 */

import { prepareModel } from "./predictor.js";
import {
  modelSupport, predictRows, prepareSpec, rankedRecord, reasonsFor, reasonText, sliceCatalogue,
  soundsLikeMatrix, toCsv, triageBytes,
} from "./triage.js";

/** Rejects sent with a result; the rest are in the rejects download. */
const REJECTS_SHOWN = 200;
/** At most one progress message per this many milliseconds. */
const PROGRESS_EVERY_MS = 50;

/** Below this many rows one worker scores alone (sharing costs more than it saves). */
const PARALLEL_MIN_ROWS = 8000;

const state = { spec: null, models: {}, current: null, helper: null, helperReady: null, helperCalls: new Map(), nextId: 1 };

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

/** Start the helper worker (a second copy of this script) with the usable models. */
function startHelper(specUrl, modelUrls) {
  try {
    const helper = new Worker(new URL(import.meta.url), { type: "module" });
    helper.onmessage = (event) => {
      const msg = event.data;
      const waiting = state.helperCalls.get(msg.id);
      if (!waiting) return;
      if (msg.type === "progress") { waiting.progress?.(msg.done, msg.total); return; }
      state.helperCalls.delete(msg.id);
      if (msg.type === "failure") waiting.reject(new Error(msg.message));
      else waiting.resolve(msg);
    };
    helper.onerror = (event) => {
      event.preventDefault();
      state.helper = null;
      for (const [, w] of state.helperCalls) w.reject(new Error("helper worker failed"));
      state.helperCalls.clear();
    };
    state.helper = helper;
    state.helperReady = helperCall({ type: "init-helper", specUrl, modelUrls }).then(() => true, () => {
      state.helper = null;
      return false;
    });
  } catch {
    state.helper = null;
    state.helperReady = Promise.resolve(false);
  }
}

function helperCall(message, transfer = [], progress = null) {
  return new Promise((resolve, reject) => {
    const id = state.nextId++;
    state.helperCalls.set(id, { resolve, reject, progress });
    state.helper.postMessage({ ...message, id }, transfer);
  });
}

/** Transferable buffers of a catalogue slice (its numbers, lines and explicit flags). */
function buffersOf(part) {
  return [part.line.buffer, part.explicit.buffer, ...Object.values(part.numbers).map((v) => v.buffer)];
}

/**
 * Score the catalogue's rows in two halves, one here and one in the helper, at the same time.
 * Falls back to scoring everything here when there is no helper or few rows.
 */
async function predictShared(model, name, catalogue, onProgress) {
  const n = catalogue.n;
  const helperOk = state.helper && n >= PARALLEL_MIN_ROWS && (await state.helperReady);
  if (!helperOk) return predictRows(model, catalogue, state.spec, { onProgress });
  const half = Math.ceil(n / 2);
  const far = sliceCatalogue(catalogue, half, n);
  let helperDone = 0;
  const remote = helperCall({ type: "predict-part", model: name, catalogue: far }, buffersOf(far),
    (done) => { helperDone = done; });
  const near = predictRows(model, sliceCatalogue(catalogue, 0, half), state.spec, {
    // both halves move at about the same pace; the helper's own messages wait until ours end
    onProgress: (done) => onProgress(Math.min(n, done + Math.max(helperDone, Math.round(done * (n - half) / half))), n),
  });
  const other = await remote;
  const prediction = new Float64Array(n);
  const pHit = new Float64Array(n);
  prediction.set(near.prediction, 0);
  prediction.set(other.prediction, half);
  pHit.set(near.pHit, 0);
  pHit.set(other.pHit, half);
  onProgress(n, n);
  return { prediction, pHit };
}

async function initHelper({ specUrl, modelUrls }) {
  state.spec = prepareSpec(await fetchJson(specUrl));
  for (const [name, url] of Object.entries(modelUrls)) state.models[name] = prepareModel(await fetchJson(url));
  return {};
}

function predictPart({ id, model, catalogue }) {
  let last = 0;
  const result = predictRows(state.models[model], catalogue, state.spec, {
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - last >= PROGRESS_EVERY_MS) { last = now; post({ type: "progress", id, done, total }); }
    },
  });
  post({ type: "predicted", id, prediction: result.prediction, pHit: result.pHit },
    [result.prediction.buffer, result.pHit.buffer]);
}

async function init({ specUrl, modelUrls }) {
  state.spec = prepareSpec(await fetchJson(specUrl));
  const models = [];
  for (const [name, url] of Object.entries(modelUrls)) {
    const declared = state.spec.models?.[name];
    if (declared && !declared.usable) {
      models.push({ name, usable: false, reason: declared.reason, displayName: declared.display_name ?? name });
      continue;
    }
    const model = prepareModel(await fetchJson(url));
    const support = modelSupport(model, state.spec);
    if (support.usable) state.models[name] = model;
    const meta = model.metadata;
    models.push({
      name, usable: support.usable, reason: support.reason,
      displayName: meta.display_name ?? name, description: meta.description ?? "",
      protocol: meta.protocol, metrics: meta.metrics ?? null,
      hit: meta.hit_probability ? { threshold: meta.hit_probability.threshold, metrics: meta.hit_probability.metrics ?? null } : null,
      interval: meta.interval ? { levels: Object.keys(meta.interval.global ?? {}), method: meta.interval.method ?? null } : null,
      external: meta.external_validation ?? null,
    });
  }
  const usableUrls = Object.fromEntries(Object.keys(state.models).map((name) => [name, modelUrls[name]]));
  if (typeof Worker !== "undefined") startHelper(specUrl, usableUrls);
  const s = state.spec;
  return {
    models,
    macroGenres: s.taxonomy.macro_genres,
    requiredColumns: s.required_columns,
    rawColumns: s.schema.raw_columns,
    soundsLike: s.sounds_like.features,
    hitThreshold: s.hit_threshold,
    levels: s.confidence_levels,
    ranked: s.output.ranked,
    rejects: s.output.rejects,
  };
}

async function readInput(msg) {
  if (msg.file) return new Uint8Array(await msg.file.arrayBuffer());
  const response = await fetch(msg.url);
  if (!response.ok) throw new Error(`${msg.url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function score(msg) {
  const model = state.models[msg.model];
  if (!model) throw new Error(`model ${JSON.stringify(msg.model)} cannot score in the browser`);
  state.current = null;
  const started = performance.now();
  let last = 0;
  const onProgress = (phase, done, total) => {
    const now = performance.now();
    if (now - last < PROGRESS_EVERY_MS && done < total) return;
    last = now;
    post({ type: "progress", id: msg.id, phase, done, total });
  };
  onProgress("reading", 0, 1);
  const bytes = await readInput(msg);
  const predict = (catalogue, progress) => predictShared(model, msg.model, catalogue, progress);
  const r = await triageBytes(bytes, model, state.spec, { onProgress, predict });
  const summary = {
    type: "result", id: msg.id, name: msg.name, model: msg.model, status: r.status,
    problems: r.problems, rejectsShown: r.rejects.slice(0, REJECTS_SHOWN), rejectsTotal: r.rejects.length,
    read: r.read, accepted: r.accepted, rejectedLines: r.rejectedLines, bytes: bytes.length,
    timings: { ...r.timings, total: performance.now() - started },
  };
  state.current = { result: r, model, name: msg.name };
  if (r.status !== "ok") {
    post(summary);
    return;
  }
  const { catalogue: c, scores: s, order } = r;
  const n = c.n;
  const rank = new Int32Array(n);
  order.forEach((row, k) => { rank[row] = k + 1; });
  state.current.rank = rank;
  const macroIndex = new Map(state.spec.taxonomy.macro_genres.map((m, i) => [m, i]));
  const macro = new Int16Array(n).fill(-1);
  if (c.text.macro_genre) c.text.macro_genre.forEach((m, i) => { if (m !== null) macro[i] = macroIndex.get(m) ?? -1; });
  const columns = {
    order, rank, line: c.line, pHit: s.pHit, prediction: s.prediction,
    lower80: s.bounds[0][0], upper80: s.bounds[0][1], lower90: s.bounds[1][0], upper90: s.bounds[1][1],
    ood: s.ood, explicit: c.explicit, macro,
    energy: c.numbers.energy, valence: c.numbers.valence, danceability: c.numbers.danceability,
    tempo: c.numbers.tempo, duration: c.numbers.duration_ms,
    sounds: soundsLikeMatrix(c, state.spec),
    trackKey: trackKeys(c.text.track_id, n),
  };
  // Copies for the page (transferred, so zero-copy); the worker keeps its own for rows/CSV.
  const sent = {};
  for (const [key, array] of Object.entries(columns)) sent[key] = array.slice();
  summary.columns = sent;
  summary.soundsWidth = state.spec.sounds_like.features.length;
  post(summary, Object.values(sent).map((a) => a.buffer));
}

/** One integer per distinct track id (-1 without one): "sounds like" leaves out every row of
 * the chosen track, as the Python triage does, without sending the ids themselves. */
function trackKeys(ids, n) {
  const keys = new Int32Array(n).fill(-1);
  if (!ids) return keys;
  const seen = new Map();
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (id === null) continue;
    let k = seen.get(id);
    if (k === undefined) { k = seen.size; seen.set(id, k); }
    keys[i] = k;
  }
  return keys;
}

function current() {
  if (!state.current || state.current.result.status !== "ok") throw new Error("no scored catalogue");
  return state.current;
}

function rows({ rows }) {
  const { result, rank } = current();
  return rows.map((row) => rankedRecord(result.catalogue, result.scores, row, rank[row]));
}

function explainRow({ row }) {
  const { result, model } = current();
  const reasons = reasonsFor(model, result.catalogue, row, state.spec);
  return { row, reasons, text: reasonText(reasons) };
}

function csv({ kind, rows: chosen }) {
  if (kind === "rejects") {
    if (!state.current) throw new Error("no catalogue read");
    return new Blob([toCsv(state.current.result.rejects, state.spec.output.rejects)], { type: "text/csv" });
  }
  // The rows shown (filtered) or the whole ranking, in rank order; `rank` counts within the
  // file (1, 2, ...), as the Python triage numbers the rows passing its filters.
  const { result } = current();
  const list = chosen ?? result.order;
  const records = Array.from(list, (row, k) => rankedRecord(result.catalogue, result.scores, row, k + 1));
  return new Blob([toCsv(records, state.spec.output.ranked)], { type: "text/csv" });
}

function search({ query, limit = 20 }) {
  const { result } = current();
  const q = String(query).trim().toLowerCase();
  if (!q) return [];
  const t = result.catalogue.text;
  const out = [];
  for (const row of result.order) {
    const name = t.track_name ? t.track_name[row] : null;
    const artists = t.artists ? t.artists[row] : null;
    const id = t.track_id ? t.track_id[row] : null;
    const hay = `${name ?? ""}\u0000${artists ?? ""}\u0000${id ?? ""}`.toLowerCase();
    if (hay.includes(q)) {
      out.push({ row, track_name: name, artists, track_id: id, line: result.catalogue.line[row] });
      if (out.length >= limit) break;
    }
  }
  return out;
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    switch (msg.type) {
      case "init": post({ type: "ready", id: msg.id, ...(await init(msg)) }); break;
      case "init-helper": post({ type: "helper-ready", id: msg.id, ...(await initHelper(msg)) }); break;
      case "predict-part": predictPart(msg); break;
      case "score": await score(msg); break;
      case "rows": post({ type: "rows", id: msg.id, rows: rows(msg) }); break;
      case "explain": post({ type: "explain", id: msg.id, ...explainRow(msg) }); break;
      case "csv": post({ type: "csv", id: msg.id, kind: msg.kind, blob: csv(msg) }); break;
      case "search": post({ type: "search", id: msg.id, matches: search(msg) }); break;
      default: throw new Error(`unknown message ${JSON.stringify(msg.type)}`);
    }
  } catch (error) {
    post({ type: "failure", id: msg.id, message: String(error && error.message || error) });
  }
};
