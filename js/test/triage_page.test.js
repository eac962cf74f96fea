// The triage page's pure logic (js/triage-page.js): the playlist filters and "sounds like" on
// the columns the worker sends, the wording of progress, counts and how far to trust the
// ranking (every figure read from the export's metadata). The DOM, the worker and the
// downloads are checked in Chromium by tests/test_triage_page.py.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_NEIGHBOURS, emptyFilters, externalTrustText, filterRows, filtersActive, formatDuration, formatPercent,
  progressText, trustText,
} from "../triage-page.js";

const here = dirname(fileURLToPath(import.meta.url));
const cold = JSON.parse(readFileSync(join(here, "..", "..", "models", "export", "cold_start.json"), "utf8")).metadata;

/** Six rows: rank order 3, 0, 5, 1, 4, 2; two macro-genres; one row without explicit flag. */
function columns() {
  const order = Int32Array.from([3, 0, 5, 1, 4, 2]);
  const rank = new Int32Array(6);
  order.forEach((r, k) => { rank[r] = k + 1; });
  return {
    order, rank, line: Int32Array.from([2, 3, 4, 5, 6, 7]),
    macro: Int16Array.from([0, 1, 0, 1, 0, -1]), explicit: Int8Array.from([0, 1, 0, 1, -1, 0]),
    energy: Float64Array.from([0.1, 0.5, 0.9, 0.3, 0.6, 0.2]), valence: new Float64Array(6).fill(0.5),
    danceability: new Float64Array(6).fill(0.5), tempo: Float64Array.from([90, 100, 110, 120, 130, 140]),
    duration: Float64Array.from([120000, 180000, 240000, 300000, 360000, 420000]),
    // one "sounds like" feature: distances from row 0 are |z - z0|
    sounds: Float64Array.from([0, 3, 1, 2, 1, 5]), trackKey: Int32Array.from([0, 1, 2, 3, 0, 4]),
  };
}

test("no filter: every row, in rank order", () => {
  const f = emptyFilters();
  assert.equal(filtersActive(f), false);
  assert.deepEqual(Array.from(filterRows(columns(), f, 1).rows), [3, 0, 5, 1, 4, 2]);
  assert.equal(f.neighbours, DEFAULT_NEIGHBOURS);
});

test("macro-genre, explicit and closed ranges combine with 'and'; duration in minutes", () => {
  const c = columns();
  const f = { ...emptyFilters(), macro: "Rock", macroIndex: 0 };
  assert.deepEqual(Array.from(filterRows(c, f, 1).rows), [0, 4, 2]);
  f.explicit = "no";
  assert.deepEqual(Array.from(filterRows(c, f, 1).rows), [0, 2], "an unknown flag does not pass");
  const g = emptyFilters();
  g.ranges.duration = [3, 5];
  g.ranges.energy = [0.3, null];
  assert.ok(filtersActive(g));
  assert.deepEqual(Array.from(filterRows(c, g, 1).rows), [3, 1, 2]);
});

test("sounds like: the k nearest among the filtered rows, the track's own rows left out, shown by rank", () => {
  const c = columns();
  const f = { ...emptyFilters(), soundsLike: { row: 0 }, neighbours: 2 };
  const { rows, distance } = filterRows(c, f, 1);
  // row 4 has the same track (key 0): out; nearest then row 2 (1) and row 3 (2)
  assert.deepEqual(Array.from(rows), [3, 2]);
  assert.equal(distance.get(2), 1);
  c.sounds[5] = 2; // row 5 now ties with row 3 at distance 2: the earlier line (row 3) wins
  assert.deepEqual(Array.from(filterRows(c, f, 1).rows), [3, 2]);
  f.neighbours = 3;
  assert.deepEqual(Array.from(filterRows(c, f, 1).rows), [3, 5, 2]);
  f.macro = "Rock";
  f.macroIndex = 0; // then only rows 2 and 4 remain besides the seed, and 4 is the same track
  assert.deepEqual(Array.from(filterRows(c, f, 1).rows), [2]);
});

test("wording: percentages, durations, progress", () => {
  assert.equal(formatPercent(0.6234), "62%");
  assert.equal(formatPercent(0.004), "<1%");
  assert.equal(formatPercent(NaN), "–");
  assert.equal(formatDuration(185000), "3:05");
  assert.equal(progressText("scoring", 45000, 100000), "Scoring: 45,000 of 100,000 rows");
  assert.equal(progressText("parsing", 0, 1), "Parsing the CSV…");
});

test("how far to trust the ranking: the export's out-of-fold figures, a place for the external ones", () => {
  const info = { metrics: cold.metrics, hit: { threshold: cold.hit_probability.threshold, metrics: cold.hit_probability.metrics } };
  const { paragraphs, external } = trustText(info);
  const text = paragraphs.join(" ");
  const hm = cold.hit_probability.metrics;
  assert.ok(text.includes(`ROC-AUC ${hm.hit_auc.toFixed(2)}`), text);
  assert.ok(text.includes(`${Math.round(hm.top1_precision * 100)}% of the tracks it put in its top 1%`));
  assert.ok(text.includes(`R² ${cold.metrics.r2.toFixed(2)}`));
  assert.ok(text.includes(`${cold.metrics.mae.toFixed(1)} points`));
  assert.ok(text.includes(`popularity ${cold.hit_probability.threshold}`));
  assert.match(external, /not available yet/);
  assert.equal(trustText({ ...info, external: { summary: "On an independent crawl ..." } }).external, "On an independent crawl ...");
});

test("the external check: the export's figures on other crawls, and what the list is good for", () => {
  const ext = cold.external_validation;
  assert.ok(ext && ext.sets.length === 2, "the committed export carries models/external.json's scores");
  const info = { metrics: cold.metrics, hit: { threshold: cold.hit_probability.threshold, metrics: cold.hit_probability.metrics }, external: ext };
  const { external } = trustText(info);
  assert.equal(external, externalTrustText(ext, cold.hit_probability.threshold));
  const [mg, bb] = ext.sets;
  assert.equal(mg.name, "music_genre");
  assert.equal(bb.name, "billboard");
  assert.ok(external.includes(`ROC-AUC ${mg.hit_auc.toFixed(2)}, against ${ext.in_data.hit_auc.toFixed(2)} out of fold here`), external);
  assert.ok(external.includes(`ROC-AUC ${bb.hit_auc.toFixed(2)} (a chart hit, not popularity ≥ ${cold.hit_probability.threshold})`), external);
  assert.ok(external.includes(`rank correlation of ${mg.spearman_within_genre.toFixed(2)}, against ${ext.in_data.spearman_within_genre.toFixed(2)}`), external);
  assert.ok(external.includes(`another crawl (${mg.label})`) && external.includes(`another crawl (${bb.label})`));
  assert.match(external, /shortlist likely hits from another catalogue only at the level stated/);
  assert.match(external, /not for ranking tracks within one genre/);
  assert.ok(!/not available yet/.test(external));
  // a negative rank correlation keeps its sign, printed with a true minus
  const negative = { ...ext, sets: [{ ...mg, spearman_within_genre: -0.05 }] };
  assert.ok(externalTrustText(negative, 60).includes("rank correlation of \u22120.05"));
});

