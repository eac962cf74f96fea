/**
 * The triage page (`chapters/08-triage.qmd` and its test harness `js/harness/triage.html`):
 * the reader drops a CSV (or takes the example catalogue), a Web Worker
 * (`js/triage.worker.js`) scores it, and this module shows the ranked list with the playlist
 * filters, the reasons of the rows a reader opens, the rejects, the downloads and how far to
 * trust the ranking.
 *
 * The main thread only lays out, filters and pages: the worker sends the columns the filters
 * read as typed arrays (transferred, not copied), and the text of a row only when a table
 * page shows it. Filtering 100,000 rows takes a few milliseconds, so the page answers every
 * input while the worker scores.
 *
 * Names, titles and every value from a file are data: they are inserted as text
 * (`textContent`), never as HTML.
 *
 * @module triage-page
 */

/** Rows per table page. */
export const PAGE_SIZE = 25;
/** Neighbour counts offered by "sounds like". */
export const NEIGHBOURS = [10, 20, 50, 100];
/** Neighbours kept unless the reader picks another count (the Python triage's default). */
export const DEFAULT_NEIGHBOURS = 20;
/** Ranges the filters offer, with their display unit and the factor from display to data. */
export const RANGE_FILTERS = [
  { key: "energy", label: "Energy", unit: "0–1", factor: 1, step: 0.05 },
  { key: "valence", label: "Valence", unit: "0–1", factor: 1, step: 0.05 },
  { key: "danceability", label: "Danceability", unit: "0–1", factor: 1, step: 0.05 },
  { key: "tempo", label: "Tempo", unit: "BPM", factor: 1, step: 1 },
  { key: "duration", label: "Duration", unit: "min", factor: 60000, step: 0.5 },
];
const PHASES = {
  reading: "Reading the file",
  parsing: "Parsing the CSV",
  validating: "Checking every row",
  scoring: "Scoring",
  ranking: "Ranking",
};

// ---------------------------------------------------------------------------------------------
// Pure helpers (tested in Node)
// ---------------------------------------------------------------------------------------------

/** The default filters: nothing excluded. */
export function emptyFilters() {
  return {
    macro: "", explicit: "any", ranges: Object.fromEntries(RANGE_FILTERS.map((f) => [f.key, [null, null]])),
    soundsLike: null, neighbours: DEFAULT_NEIGHBOURS,
  };
}

/** Whether any filter is set. */
export function filtersActive(filters) {
  return filters.macro !== "" || filters.explicit !== "any" || filters.soundsLike !== null ||
    Object.values(filters.ranges).some(([lo, hi]) => lo !== null || hi !== null);
}

/**
 * Rows passing the playlist filters, best rank first. With "sounds like", the `neighbours`
 * rows nearest to the chosen track (Euclidean distance in the standardised audio features,
 * ties by line) among those passing the other filters, every row of the chosen track
 * excluded, shown in rank order with their distance: the Python triage's rule.
 *
 * @param {object} columns The typed arrays the worker sent (`order`, `macro`, `explicit`,
 *   `energy`, ..., `sounds`).
 * @returns {{rows: Int32Array, distance: Map<number, number>|null}}
 */
export function filterRows(columns, filters, soundsWidth) {
  const { order } = columns;
  const macro = filters.macro === "" ? -2 : filters.macroIndex;
  const explicit = filters.explicit === "any" ? -2 : filters.explicit === "yes" ? 1 : 0;
  const ranges = RANGE_FILTERS.map((f) => {
    const [lo, hi] = filters.ranges[f.key] ?? [null, null];
    return [columns[f.key], lo === null ? -Infinity : lo * f.factor, hi === null ? Infinity : hi * f.factor, lo !== null || hi !== null];
  }).filter((r) => r[3]);
  const seed = filters.soundsLike ? filters.soundsLike.row : -1;
  const seedKey = seed >= 0 && columns.trackKey ? columns.trackKey[seed] : -1;
  const out = new Int32Array(order.length);
  let n = 0;
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    if (macro !== -2 && columns.macro[r] !== macro) continue;
    if (explicit !== -2 && columns.explicit[r] !== explicit) continue;
    let ok = true;
    for (let j = 0; j < ranges.length; j++) {
      const v = ranges[j][0][r];
      if (!(v >= ranges[j][1] && v <= ranges[j][2])) { ok = false; break; }
    }
    if (ok && r !== seed && (seedKey < 0 || columns.trackKey[r] !== seedKey)) out[n++] = r;
  }
  let rows = out.subarray(0, n);
  if (seed < 0) return { rows, distance: null };
  const Z = columns.sounds;
  const w = soundsWidth;
  const near = [];
  for (const r of rows) {
    let s = 0;
    for (let j = 0; j < w; j++) {
      const d = Z[r * w + j] - Z[seed * w + j];
      s += d * d;
    }
    near.push([r, Math.sqrt(s)]);
  }
  near.sort((a, b) => a[1] - b[1] || columns.line[a[0]] - columns.line[b[0]]);
  const chosen = near.slice(0, filters.neighbours);
  const distance = new Map(chosen);
  rows = Int32Array.from(chosen.map(([r]) => r)).sort((a, b) => columns.rank[a] - columns.rank[b]);
  return { rows, distance };
}

/** 0.6234 -> "62%" (below 1% as "<1%"). */
export function formatPercent(p) {
  if (!Number.isFinite(p)) return "–";
  const pct = p * 100;
  return pct > 0 && pct < 1 ? "<1%" : `${Math.round(pct)}%`;
}

/** A number with thousands separators. */
export function formatCount(n) {
  return Number(n).toLocaleString("en-US");
}

/** Milliseconds -> "1:23" (minutes:seconds). */
export function formatDuration(ms) {
  if (!Number.isFinite(ms)) return "–";
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** "Scoring: 45,000 of 100,000 rows" */
export function progressText(phase, done, total) {
  const words = PHASES[phase] ?? phase;
  return phase === "scoring" || (phase === "validating" && total > 1)
    ? `${words}: ${formatCount(done)} of ${formatCount(total)} rows`
    : `${words}…`;
}

const fixed = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : "–");

/**
 * How far to trust the ranking, in plain words, every figure read from the export's
 * metadata (out-of-fold, grouped cross-validation). `external`: the independent check, the
 * same model scored without retraining on tracks other crawls collected
 * (`metadata.external_validation`, from `models/external.json`), when the export carries it.
 * @returns {{paragraphs: string[], external: string}}
 */
export function trustText(info) {
  const m = info.metrics ?? {};
  const hit = info.hit ?? {};
  const hm = hit.metrics ?? {};
  const paragraphs = [];
  if (hm.hit_auc != null) {
    paragraphs.push(
      `The list is ordered by the probability that a track reaches popularity ${hit.threshold}, from a classifier ` +
      `checked on tracks by artists it never saw in training (grouped cross-validation). There it ranks a ` +
      `random hit above a random non-hit ${fixed(hm.hit_auc * 100, 0)}% of the time (ROC-AUC ${fixed(hm.hit_auc, 2)}), ` +
      `and ${fixed(hm.top1_precision * 100, 0)}% of the tracks it put in its top 1% were hits, where ` +
      `${fixed(hm.hit_rate * 100, 0)}% of all tracks are. Read the top of the list as a shortlist to listen to, ` +
      "not as a forecast.");
  }
  if (m.r2 != null) {
    paragraphs.push(
      `The predicted popularity explains ${fixed(m.r2 * 100, 0)}% of the variance out of fold ` +
      `(R² ${fixed(m.r2, 2)}${m.r2_sd != null ? ` ± ${fixed(m.r2_sd, 2)}` : ""}) and misses by ` +
      `${fixed(m.mae, 1)} points on average, on the 0–100 scale: most of what makes a track popular is not in its ` +
      "audio features or its title. The intervals are conformal, per macro-genre: about 80% and 90% of tracks " +
      "like these fall inside the 80% and 90% intervals.");
  }
  paragraphs.push(
    "A row flagged out of distribution has an audio feature or a duration outside the central 99% of the " +
    "training tracks, or no genre: its scores are extrapolations. The model never sees the artist, so a famous " +
    "name gets no credit, and genres are those of the Spotify dataset.");
  const ext = info.external;
  const external = ext && Array.isArray(ext.sets) && ext.sets.length
    ? externalTrustText(ext, hit.threshold)
    : ext && ext.summary
      ? String(ext.summary)
      : "An external check on tracks collected independently of the training data is not available yet; " +
        "when it is, its figures appear here.";
  return { paragraphs, external };
}

const signed = (v, d) => fixed(v, d).replace("-", "\u2212");

/**
 * The external check in plain words: hit ROC-AUC on each other crawl, the rank correlation
 * within a genre beside the out-of-fold one, and what the list is good for at that level.
 * @param {{sets: object[], in_data?: object}} ext `metadata.external_validation`
 * @param {number} [threshold] The hit threshold (popularity).
 */
export function externalTrustText(ext, threshold) {
  const here = ext.in_data ?? {};
  const sentences = [];
  const withPopularity = ext.sets.find((s) => s.spearman_within_genre != null);
  for (const s of ext.sets.filter((x) => x.hit_auc != null)) {
    const tracks = `${formatCount(s.n)} tracks of another crawl (${s.label})${s.subset ? `, ${s.subset}` : ""}`;
    const chartHit = threshold != null ? `a chart hit, not popularity ≥ ${threshold}` : "a chart hit";
    sentences.push(s.prediction_auc != null && s.spearman_within_genre == null
      ? `On ${tracks}, it tells the tracks that entered the Billboard chart from those that did not with ` +
        `ROC-AUC ${fixed(s.hit_auc, 2)} (${chartHit}).`
      : `Scored without retraining on ${tracks}, it ranks a hit above a non-hit ${fixed(s.hit_auc * 100, 0)}% of ` +
        `the time (ROC-AUC ${fixed(s.hit_auc, 2)}, against ${fixed(here.hit_auc, 2)} out of fold here).`);
  }
  if (withPopularity) {
    sentences.push(
      `Within one genre of ${withPopularity.short_name}, the predicted popularity orders tracks with a rank ` +
      `correlation of ${signed(withPopularity.spearman_within_genre, 2)}, against ` +
      `${fixed(here.spearman_within_genre, 2)} out of fold here.`);
  }
  sentences.push(
    "So the list is good enough to shortlist likely hits from another catalogue only at the level stated " +
    "above, and not for ranking tracks within one genre.");
  return sentences.join(" ");
}

// ---------------------------------------------------------------------------------------------
// DOM
// ---------------------------------------------------------------------------------------------

function el(document, tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : String(v));
  }
  if (text !== null) node.textContent = text;
  return node;
}

/**
 * Build the page's pieces and start the worker.
 *
 * @param {Document} document
 * @param {{base?: string|URL, workerUrl?: string|URL}} [options] `base`: the site root
 *   (default: the folder above this module), where `models/` is served.
 * @returns {{input: HTMLElement, status: HTMLElement, results: HTMLElement,
 *   rejects: HTMLElement, trust: HTMLElement, ready: Promise<object>, state: object,
 *   scoreFile: (file: Blob, name?: string) => Promise<object>,
 *   scoreExample: () => Promise<object>, terminate: () => void}}
 */
export function createTriageApp(document, options = {}) {
  const base = new URL(options.base ?? "../", import.meta.url);
  const url = (path) => new URL(path, base).href;
  const worker = new Worker(options.workerUrl ?? new URL("./triage.worker.js", import.meta.url), { type: "module" });
  const pending = new Map();
  let nextId = 1;
  const state = {
    info: null, model: "cold_start", result: null, filters: emptyFilters(), view: null, page: 0,
    open: new Set(), busy: false, updates: 0, progress: [],
  };
  const call = (message, transfer = []) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...message, id }, transfer);
  });
  worker.onmessage = (event) => {
    const msg = event.data;
    if (msg.type === "progress") {
      showProgress(msg);
      return;
    }
    const waiting = pending.get(msg.id);
    if (!waiting) return;
    pending.delete(msg.id);
    if (msg.type === "failure") waiting.reject(new Error(msg.message));
    else waiting.resolve(msg);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    for (const [, w] of pending) w.reject(new Error(event.message || "the scoring worker failed"));
    pending.clear();
    statusLine.textContent = `The scoring worker failed: ${event.message || "unknown error"}.`;
  };

  // --- input -------------------------------------------------------------------------------
  const input = el(document, "div", { class: "triage-input", "data-role": "triage-input" });
  const drop = el(document, "label", { class: "triage-drop", "data-role": "drop-zone" });
  const fileInput = el(document, "input", { type: "file", accept: ".csv,.gz,.csv.gz,text/csv", "data-role": "file-input" });
  drop.append(el(document, "strong", {}, "Drop a CSV here"), el(document, "span", {}, " or choose a file (plain or gzip). "), fileInput);
  const example = el(document, "button", { type: "button", class: "btn btn-outline-primary btn-sm", "data-role": "example" }, "Use the example catalogue");
  const modelLine = el(document, "div", { class: "triage-model", "data-role": "model" }, "Loading the model…");
  input.append(drop, example, modelLine);

  // --- status ------------------------------------------------------------------------------
  const status = el(document, "div", { class: "triage-status", "data-role": "status", "aria-live": "polite" });
  const bar = el(document, "progress", { max: "100", value: "0", "data-role": "progress", hidden: true });
  const statusLine = el(document, "div", { "data-role": "status-line" }, "No catalogue yet: drop a file or use the example.");
  const summary = el(document, "div", { "data-role": "summary" });
  const errors = el(document, "div", { "data-role": "file-errors" });
  status.append(bar, statusLine, summary, errors);

  // --- results -----------------------------------------------------------------------------
  const results = el(document, "div", { class: "triage-results", "data-role": "results" });
  const filtersBox = el(document, "form", { class: "triage-filters", "data-role": "filters" });
  filtersBox.addEventListener("submit", (e) => e.preventDefault());
  const macroSelect = el(document, "select", { "data-role": "filter-macro", "aria-label": "Macro-genre" });
  const explicitSelect = el(document, "select", { "data-role": "filter-explicit", "aria-label": "Explicit lyrics" });
  for (const [value, label] of [["any", "Any"], ["no", "No"], ["yes", "Yes"]]) explicitSelect.append(el(document, "option", { value }, label));
  const field = (label, ...controls) => {
    const box = el(document, "div", { class: "triage-field" });
    box.append(el(document, "span", { class: "triage-label" }, label), ...controls);
    return box;
  };
  filtersBox.append(field("Macro-genre", macroSelect), field("Explicit lyrics", explicitSelect));
  const rangeInputs = {};
  for (const f of RANGE_FILTERS) {
    const lo = el(document, "input", { type: "number", step: f.step, placeholder: "min", "data-role": `filter-${f.key}-min`, "aria-label": `${f.label} minimum (${f.unit})` });
    const hi = el(document, "input", { type: "number", step: f.step, placeholder: "max", "data-role": `filter-${f.key}-max`, "aria-label": `${f.label} maximum (${f.unit})` });
    rangeInputs[f.key] = [lo, hi];
    const pair = el(document, "span", { class: "triage-range" });
    pair.append(lo, el(document, "span", {}, "to"), hi);
    filtersBox.append(field(`${f.label} (${f.unit})`, pair));
  }
  const soundsInput = el(document, "input", { type: "search", placeholder: "title, artist or track id", "data-role": "sounds-like-search", "aria-label": "Sounds like: search a track of the catalogue" });
  const soundsMatches = el(document, "div", { class: "triage-matches", "data-role": "sounds-like-matches" });
  const soundsChosen = el(document, "div", { class: "triage-chosen", "data-role": "sounds-like-chosen" });
  const neighbourSelect = el(document, "select", { "data-role": "sounds-like-k", "aria-label": "How many similar tracks" });
  for (const k of NEIGHBOURS) neighbourSelect.append(el(document, "option", { value: String(k), selected: k === DEFAULT_NEIGHBOURS }, `${k} nearest`));
  const soundsBox = field("Sounds like", soundsInput, neighbourSelect);
  soundsBox.classList.add("triage-sounds");
  soundsBox.append(soundsMatches, soundsChosen);
  const reset = el(document, "button", { type: "button", class: "btn btn-outline-secondary btn-sm", "data-role": "filters-reset" }, "Clear the filters");
  filtersBox.append(soundsBox, reset);

  const countLine = el(document, "div", { class: "triage-count", "data-role": "count" });
  const downloads = el(document, "div", { class: "triage-downloads" });
  const downloadRanked = el(document, "button", { type: "button", class: "btn btn-primary btn-sm", "data-role": "download-ranked", disabled: true }, "Download the ranked list (CSV)");
  downloads.append(downloadRanked);
  const tableBox = el(document, "div", { class: "triage-table-box", "data-role": "table-box" });
  const table = el(document, "table", { class: "table table-sm triage-table", "data-role": "ranked" });
  const thead = el(document, "thead");
  const headRow = el(document, "tr");
  for (const [h, short, cls] of [["#", null, null], ["Track", null, null], ["Genre", null, "triage-col-genre"],
    ["Hit probability", "Hit", "triage-num"], ["Popularity", "Pop.", "triage-num"]]) {
    const th = el(document, "th", { scope: "col", class: cls });
    // a phone shows the short label (js/triage.css); the long one stays for screen readers
    if (short) th.append(el(document, "span", { class: "triage-long" }, h), el(document, "span", { class: "triage-short", "aria-hidden": "true" }, short));
    else th.textContent = h;
    headRow.append(th);
  }
  const caption = el(document, "caption", { class: "triage-caption" },
    "Hit probability: the chance of reaching the hit threshold. Popularity: the predicted score with its 80% interval. " +
    "Open a row for the reasons.");
  thead.append(headRow);
  const tbody = el(document, "tbody");
  table.append(thead, tbody);
  table.prepend(caption);
  tableBox.append(table);
  const pager = el(document, "div", { class: "triage-pager", "data-role": "pager" });
  const prev = el(document, "button", { type: "button", class: "btn btn-outline-secondary btn-sm", "data-role": "prev" }, "Previous");
  const next = el(document, "button", { type: "button", class: "btn btn-outline-secondary btn-sm", "data-role": "next" }, "Next");
  const pageLine = el(document, "span", { "data-role": "page" });
  pager.append(prev, pageLine, next);
  results.append(filtersBox, countLine, tableBox, pager, downloads);
  results.hidden = true;

  // --- rejects -----------------------------------------------------------------------------
  const rejects = el(document, "div", { class: "triage-rejects", "data-role": "rejects" });
  const rejectsLine = el(document, "p", { "data-role": "rejects-line" }, "Rows that cannot be scored appear here, with their line, column and reason.");
  const rejectsBox = el(document, "div", { class: "triage-table-box" });
  const rejectsTable = el(document, "table", { class: "table table-sm", "data-role": "rejects-table", hidden: true });
  const rejectsBody = el(document, "tbody");
  const rh = el(document, "tr");
  for (const h of ["Line", "Column", "Value", "Reason"]) rh.append(el(document, "th", { scope: "col" }, h));
  const rhead = el(document, "thead");
  rhead.append(rh);
  rejectsTable.append(rhead, rejectsBody);
  rejectsBox.append(rejectsTable);
  const downloadRejects = el(document, "button", { type: "button", class: "btn btn-outline-primary btn-sm", "data-role": "download-rejects", disabled: true }, "Download the rejects (CSV)");
  rejects.append(rejectsLine, rejectsBox, downloadRejects);

  // --- trust -------------------------------------------------------------------------------
  const trust = el(document, "div", { class: "triage-trust", "data-role": "trust" });
  trust.append(el(document, "p", {}, "Loading the model's out-of-fold figures…"));

  // --- behaviour ---------------------------------------------------------------------------
  function showProgress(msg) {
    state.progress.push({ phase: msg.phase, done: msg.done, total: msg.total, t: performance.now() });
    bar.hidden = false;
    const share = msg.phase === "scoring" ? 0.3 + 0.65 * (msg.done / Math.max(1, msg.total))
      : { reading: 0.02, parsing: 0.1, validating: 0.2, ranking: 0.97 }[msg.phase] ?? 0;
    bar.value = Math.round(share * 100);
    statusLine.textContent = progressText(msg.phase, msg.done, msg.total);
  }

  function renderTrust(info) {
    trust.replaceChildren();
    const model = info.models.find((m) => m.name === state.model);
    const words = trustText(model);
    for (const p of words.paragraphs) trust.append(el(document, "p", {}, p));
    const ext = el(document, "div", { class: "callout callout-note triage-external", "data-role": "external-validation" });
    ext.append(el(document, "strong", {}, "External check. "), el(document, "span", {}, words.external));
    trust.append(ext);
  }

  function renderModel(info) {
    modelLine.replaceChildren();
    const usable = info.models.filter((m) => m.usable);
    const chosen = usable.find((m) => m.name === state.model) ?? usable[0];
    state.model = chosen.name;
    modelLine.append(el(document, "span", {}, "Model: "), el(document, "strong", { "data-role": "model-name" }, chosen.displayName));
    for (const m of info.models.filter((x) => !x.usable)) {
      modelLine.append(el(document, "p", { class: "triage-note", "data-role": "model-unavailable", "data-model": m.name },
        `${m.displayName} is not offered here: ${m.reason}`));
    }
    macroSelect.replaceChildren(el(document, "option", { value: "" }, "Any"));
    for (const macro of info.macroGenres) macroSelect.append(el(document, "option", { value: macro }, macro));
  }

  function setBusy(busy) {
    state.busy = busy;
    example.disabled = busy;
    fileInput.disabled = busy;
  }

  async function score(message, name) {
    setBusy(true);
    state.result = null;
    state.open.clear();
    results.hidden = true;
    errors.replaceChildren();
    summary.replaceChildren();
    bar.hidden = false;
    bar.value = 0;
    statusLine.textContent = `Reading ${name}…`;
    state.progress = [];
    try {
      if (!(await ready)) throw new Error("the model could not be loaded");
      const result = await call({ type: "score", model: state.model, name, ...message });
      state.result = result;
      showResult(result);
      return result;
    } catch (error) {
      statusLine.textContent = `Could not score ${name}: ${error.message}`;
      throw error;
    } finally {
      setBusy(false);
      bar.hidden = true;
      state.updates += 1;
    }
  }

  function showResult(r) {
    const seconds = (r.timings.total / 1000).toFixed(1);
    if (r.status !== "ok") {
      statusLine.textContent = `${r.name}: nothing scored.`;
      const box = el(document, "div", { class: "callout callout-warning", "data-role": "file-error" });
      box.append(el(document, "strong", {}, "The file cannot be scored as a whole."));
      const ul = el(document, "ul");
      for (const p of r.problems.slice(0, 20)) {
        ul.append(el(document, "li", { "data-line": p.line ?? "", "data-column": p.column ?? "" }, problemText(p)));
      }
      if (r.problems.length > 20) ul.append(el(document, "li", {}, `… and ${formatCount(r.problems.length - 20)} more`));
      box.append(ul);
      errors.append(box);
    } else {
      statusLine.textContent = `${r.name}: scored in ${seconds} s.`;
    }
    summary.textContent = `Read ${formatCount(r.read)} rows: ${formatCount(r.accepted)} scored, ${formatCount(r.rejectedLines)} rejected.`;
    summary.dataset.read = String(r.read);
    summary.dataset.accepted = String(r.accepted);
    summary.dataset.rejected = String(r.rejectedLines);
    showRejects(r);
    if (r.status === "ok") {
      results.hidden = false;
      downloadRanked.disabled = false;
      state.filters = emptyFilters();
      clearFilterControls();
      applyFilters();
    }
  }

  function problemText(p) {
    const where = [p.line != null ? `line ${p.line}` : null, p.column != null ? `column ${p.column}` : null].filter(Boolean).join(", ");
    return where ? `${where}: ${p.message}` : p.message;
  }

  function showRejects(r) {
    rejectsBody.replaceChildren();
    rejectsTable.hidden = r.rejectsTotal === 0;
    downloadRejects.disabled = r.rejectsTotal === 0;
    rejectsLine.textContent = r.rejectsTotal === 0
      ? "No row was rejected."
      : `${formatCount(r.rejectedLines)} rows rejected (${formatCount(r.rejectsTotal)} problems)` +
        (r.rejectsTotal > r.rejectsShown.length ? `; the first ${formatCount(r.rejectsShown.length)} are listed, all are in the download.` : ".");
    for (const x of r.rejectsShown) {
      const tr = el(document, "tr", { "data-line": x.line });
      tr.append(el(document, "td", {}, String(x.line)), el(document, "td", {}, x.column || "–"),
        el(document, "td", { class: "triage-value" }, x.value ?? ""), el(document, "td", {}, x.reason));
      rejectsBody.append(tr);
    }
  }

  function clearFilterControls() {
    macroSelect.value = "";
    explicitSelect.value = "any";
    for (const [lo, hi] of Object.values(rangeInputs)) { lo.value = ""; hi.value = ""; }
    soundsInput.value = "";
    soundsMatches.replaceChildren();
    soundsChosen.replaceChildren();
    neighbourSelect.value = String(DEFAULT_NEIGHBOURS);
  }

  function readFilters() {
    const f = state.filters;
    f.macro = macroSelect.value;
    f.macroIndex = state.info ? state.info.macroGenres.indexOf(f.macro) : -1;
    f.explicit = explicitSelect.value;
    for (const [key, [lo, hi]] of Object.entries(rangeInputs)) {
      const num = (x) => (x.value === "" || !Number.isFinite(Number(x.value)) ? null : Number(x.value));
      f.ranges[key] = [num(lo), num(hi)];
    }
    f.neighbours = Number(neighbourSelect.value);
  }

  function applyFilters() {
    const r = state.result;
    if (!r || r.status !== "ok") return;
    readFilters();
    const t0 = performance.now();
    state.view = filterRows(r.columns, state.filters, r.soundsWidth);
    state.filterMs = performance.now() - t0;
    state.page = 0;
    state.open.clear();
    const n = state.view.rows.length;
    countLine.textContent = filtersActive(state.filters)
      ? `${formatCount(n)} of ${formatCount(r.accepted)} tracks match the filters.`
      : `All ${formatCount(r.accepted)} scored tracks, best first.`;
    downloadRanked.textContent = filtersActive(state.filters)
      ? `Download these ${formatCount(n)} tracks (CSV)` : "Download the ranked list (CSV)";
    return renderPage();
  }

  let pageToken = 0;
  async function renderPage() {
    const rows = state.view.rows;
    const start = state.page * PAGE_SIZE;
    const shown = Array.from(rows.subarray(start, start + PAGE_SIZE));
    pageLine.textContent = rows.length ? `Rows ${formatCount(start + 1)}–${formatCount(start + shown.length)} of ${formatCount(rows.length)}` : "No track matches.";
    prev.disabled = state.page === 0;
    next.disabled = start + PAGE_SIZE >= rows.length;
    const token = ++pageToken;
    const answer = shown.length ? await call({ type: "rows", rows: shown }) : { rows: [] };
    if (token !== pageToken) return;
    tbody.replaceChildren();
    answer.rows.forEach((rec, k) => tbody.append(...rowElements(rec, shown[k])));
    state.updates += 1;
  }

  function rowElements(rec, row) {
    const tr = el(document, "tr", { class: "triage-row", "data-row": row, "data-rank": rec.rank, "data-line": rec.line, tabindex: "0", "aria-expanded": "false" });
    tr.append(el(document, "td", { class: "triage-rank" }, String(rec.rank)));
    const track = el(document, "td", { class: "triage-track" });
    track.append(el(document, "span", { class: "triage-title" }, rec.track_name ?? "(no title)"));
    track.append(el(document, "span", { class: "triage-artists" }, rec.artists ?? ""));
    // on a phone the genre column folds into the track's cell (js/triage.css)
    track.append(el(document, "span", { class: "triage-genre-inline" }, [rec.track_genre, rec.macro_genre].filter(Boolean).join(" · ")));
    tr.append(track);
    const genre = el(document, "td", { class: "triage-col-genre" });
    genre.append(el(document, "span", {}, rec.track_genre ?? "–"));
    if (rec.macro_genre) genre.append(el(document, "span", { class: "triage-macro" }, rec.macro_genre));
    tr.append(genre);
    tr.append(el(document, "td", { class: "triage-num", "data-role": "p-hit", "data-value": rec.p_hit }, formatPercent(rec.p_hit)));
    const popularity = el(document, "td", { class: "triage-num" });
    popularity.append(el(document, "span", {}, fixed(rec.predicted_popularity, 0)),
      el(document, "span", { class: "triage-interval" }, ` (${fixed(rec.lower_80, 0)}–${fixed(rec.upper_80, 0)})`));
    tr.append(popularity);
    const flags = el(document, "span", { class: "triage-flags" });
    if (rec.out_of_distribution) flags.append(el(document, "span", { class: "triage-badge", title: `Outside the training data: ${rec.ood_reason}`, "data-role": "ood" }, "unusual"));
    const distance = state.view.distance ? state.view.distance.get(row) : undefined;
    if (distance !== undefined) flags.append(el(document, "span", { class: "triage-distance", "data-role": "distance" }, `distance ${distance.toFixed(2)}`));
    if (flags.childNodes.length) track.append(flags);
    const detail = el(document, "tr", { class: "triage-detail", "data-role": "detail", "data-row": row, hidden: true });
    const cell = el(document, "td", { colspan: "5" });
    detail.append(cell);
    const toggle = () => openRow(tr, detail, cell, rec, row);
    tr.addEventListener("click", toggle);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
    if (state.open.has(row)) toggle();
    return [tr, detail];
  }

  async function openRow(tr, detail, cell, rec, row) {
    const opening = detail.hidden;
    detail.hidden = !opening;
    tr.setAttribute("aria-expanded", String(opening));
    if (!opening) { state.open.delete(row); return; }
    state.open.add(row);
    if (cell.dataset.filled) return;
    cell.dataset.filled = "1";
    const reasons = el(document, "p", { "data-role": "reasons" }, "Working out the reasons…");
    const facts = el(document, "ul", { class: "triage-facts" });
    const fact = (label, value) => {
      const li = el(document, "li");
      li.append(el(document, "span", { class: "triage-label" }, `${label}: `), el(document, "span", {}, value));
      facts.append(li);
    };
    fact("90% interval", `${fixed(rec.lower_90, 0)}–${fixed(rec.upper_90, 0)}`);
    fact("Energy", fixed(rec.energy, 2));
    fact("Valence", fixed(rec.valence, 2));
    fact("Danceability", fixed(rec.danceability, 2));
    fact("Tempo", `${fixed(rec.tempo, 0)} BPM`);
    fact("Duration", formatDuration(rec.duration_ms));
    fact("Explicit", rec.explicit === null ? "not given" : rec.explicit ? "yes" : "no");
    fact("Album", rec.album_name ?? "not given");
    fact("Input line", String(rec.line));
    if (rec.out_of_distribution) fact("Outside the training data", rec.ood_reason);
    // the details follow the table's width without widening its columns (js/triage.css)
    const body = el(document, "div", { class: "triage-detail-body" });
    body.append(reasons, facts);
    cell.append(body);
    try {
      const answer = await call({ type: "explain", row });
      reasons.textContent = answer.reasons.length
        ? `Why this prediction (popularity points, largest first): ${answer.text}.`
        : "No input moved the prediction away from the average.";
      reasons.dataset.text = answer.text;
    } catch (error) {
      reasons.textContent = `Reasons unavailable: ${error.message}`;
    }
    state.updates += 1;
  }

  async function download(kind) {
    const message = { type: "csv", kind };
    if (kind === "ranked" && filtersActive(state.filters)) message.rows = Array.from(state.view.rows);
    const answer = await call(message);
    const base = (state.result?.name ?? "catalogue").replace(/\.(csv|gz)+$/i, "").replace(/\.csv$/i, "");
    const a = el(document, "a", { href: URL.createObjectURL(answer.blob), download: `${base}-${kind === "ranked" ? "ranked" : "rejects"}.csv` });
    a.hidden = true;
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 60000);
  }

  let searchToken = 0;
  async function searchTracks() {
    const q = soundsInput.value;
    const token = ++searchToken;
    if (!state.result || state.result.status !== "ok" || q.trim() === "") { soundsMatches.replaceChildren(); return; }
    const answer = await call({ type: "search", query: q, limit: 8 });
    if (token !== searchToken) return;
    soundsMatches.replaceChildren();
    for (const m of answer.matches) {
      const b = el(document, "button", { type: "button", class: "triage-match", "data-role": "sounds-like-option", "data-row": m.row },
        `${m.track_name ?? "(no title)"} — ${m.artists ?? ""}`);
      b.addEventListener("click", () => chooseSeed(m));
      soundsMatches.append(b);
    }
  }

  function chooseSeed(m) {
    state.filters.soundsLike = { row: m.row, label: `${m.track_name ?? "(no title)"} — ${m.artists ?? ""}` };
    soundsMatches.replaceChildren();
    soundsInput.value = "";
    soundsChosen.replaceChildren(el(document, "span", { "data-role": "sounds-like-seed", "data-row": m.row }, `Tracks that sound like ${state.filters.soundsLike.label}`));
    const clear = el(document, "button", { type: "button", class: "btn btn-link btn-sm", "data-role": "sounds-like-clear" }, "clear");
    clear.addEventListener("click", () => { state.filters.soundsLike = null; soundsChosen.replaceChildren(); applyFilters(); });
    soundsChosen.append(clear);
    applyFilters();
  }

  fileInput.addEventListener("change", () => {
    const file = fileInput.files && fileInput.files[0];
    if (file) score({ file }, file.name).catch(() => {});
  });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("triage-drag"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("triage-drag"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("triage-drag");
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (file && !state.busy) score({ file }, file.name).catch(() => {});
  });
  example.addEventListener("click", () => { scoreExample().catch(() => {}); });
  filtersBox.addEventListener("input", (e) => { if (e.target !== soundsInput) applyFilters(); });
  soundsInput.addEventListener("input", () => { searchTracks().catch(() => {}); });
  reset.addEventListener("click", () => { state.filters = emptyFilters(); clearFilterControls(); applyFilters(); });
  prev.addEventListener("click", () => { if (state.page > 0) { state.page -= 1; renderPage(); } });
  next.addEventListener("click", () => { if ((state.page + 1) * PAGE_SIZE < state.view.rows.length) { state.page += 1; renderPage(); } });
  downloadRanked.addEventListener("click", () => { download("ranked").catch(() => {}); });
  downloadRejects.addEventListener("click", () => { download("rejects").catch(() => {}); });

  const exampleUrl = url("models/triage/example_catalogue.csv");
  function scoreExample() {
    return score({ url: exampleUrl }, "example_catalogue.csv");
  }
  function scoreFile(file, name = file.name ?? "catalogue.csv") {
    return score({ file }, name);
  }

  const ready = call({
    type: "init",
    specUrl: url("models/triage/triage_spec.json"),
    modelUrls: { cold_start: url("models/export/cold_start.json"), known_artist: url("models/export/known_artist.json") },
  }).then((info) => {
    state.info = info;
    renderModel(info);
    renderTrust(info);
    example.disabled = false;
    state.updates += 1;
    return info;
  }).catch((error) => {
    modelLine.textContent = `The model could not be loaded: ${error.message}`;
    return null;
  });
  example.disabled = true;

  return {
    input, status, results, rejects, trust, ready, state,
    scoreFile, scoreExample, applyFilters,
    terminate: () => worker.terminate(),
  };
}
