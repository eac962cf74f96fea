// Time predict + explain per input for js/predictor.js in Node.
//
//   node js/bench/predict_bench.mjs                  # synthetic 400 trees, depth 7, 60 features
//   node js/bench/predict_bench.mjs --depth 8        # other synthetic shapes (--trees, --features)
//   node js/bench/predict_bench.mjs models/exports/popularity.json   # a real export
//
// Prints the median (and p95) over 1,000 inputs of one predict() + one explain() call,
// after a warm-up, so the figure is the steady state a reader's slider drag sees.
// The synthetic trees are grown like XGBoost's: a node splits with a probability that
// falls slightly with depth (nearly full trees, as XGBoost grows on ~100k rows), covers split unevenly, ~5% of inputs are missing per feature.

import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { explain, predict, prepareModel } from "../predictor.js";

/** Small deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random model in the export format (what analysis/export/trees_json.py writes). */
export function makeSyntheticModel({ trees = 400, depth = 7, features = 60, seed = 42 } = {}) {
  const r = rng(seed);
  const cols = { split_feature: [], threshold: [], left: [], right: [], default_left: [], value: [], cover: [] };
  const offsets = [0];
  for (let t = 0; t < trees; t++) {
    const start = cols.split_feature.length;
    const grow = (d, cover) => {
      const i = cols.split_feature.length - start;
      for (const k in cols) cols[k].push(0);
      const at = start + i;
      cols.cover[at] = cover;
      const split = d < depth && cover >= 4 && r() < 0.99 - 0.01 * d;
      if (!split) {
        cols.split_feature[at] = -1;
        cols.left[at] = cols.right[at] = -1;
        cols.value[at] = Math.fround((r() - 0.5) * 0.4);
        return i;
      }
      cols.split_feature[at] = Math.floor(r() * features);
      cols.threshold[at] = Math.fround(r() * 2 - 1);
      cols.default_left[at] = r() < 0.5 ? 1 : 0;
      const share = 0.2 + 0.6 * r();
      cols.left[at] = grow(d + 1, Math.max(1, Math.round(cover * share)));
      cols.right[at] = grow(d + 1, Math.max(1, cover - Math.round(cover * share)));
      return i;
    };
    grow(0, 50000);
    offsets.push(cols.split_feature.length);
  }
  return {
    format: "track-analytics-trees", version: 1, objective: "reg:squarederror", link: "identity",
    base_score: 40, base_margin: 40, num_features: features,
    feature_names: Array.from({ length: features }, (_, i) => `f${i}`),
    num_trees: trees, max_depth: depth, trees: { node_offset: offsets, ...cols }, metadata: {},
  };
}

function parseArgs(argv) {
  const opts = { trees: 400, depth: 7, features: 60, inputs: 1000, file: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) opts[a.slice(2)] = Number(argv[++i]);
    else opts.file = a;
  }
  return opts;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const opts = parseArgs(process.argv.slice(2));
const doc = opts.file
  ? JSON.parse(readFileSync(opts.file, "utf8"))
  : makeSyntheticModel(opts);
let t0 = performance.now();
const model = prepareModel(doc);
const prepareMs = performance.now() - t0;

const r = rng(7);
const F = model.numFeatures;
const inputs = Array.from({ length: opts.inputs }, () => {
  const x = new Float64Array(F);
  for (let i = 0; i < F; i++) x[i] = r() < 0.05 ? NaN : r() * 2.4 - 1.2;
  return x;
});

let sink = 0;
for (let k = 0; k < 200; k++) sink += predict(model, inputs[k % inputs.length]) + explain(model, inputs[k % inputs.length]).margin;

const both = [];
const onlyPredict = [];
for (const x of inputs) {
  t0 = performance.now();
  sink += predict(model, x);
  const t1 = performance.now();
  sink += explain(model, x).contributions[0];
  both.push(performance.now() - t0);
  onlyPredict.push(t1 - t0);
}
both.sort((a, b) => a - b);
onlyPredict.sort((a, b) => a - b);

const nodes = doc.trees.node_offset[doc.trees.node_offset.length - 1];
const leaves = doc.trees.split_feature.filter((f) => f < 0).length;
console.log(
  `model: ${opts.file ?? "synthetic"} — ${model.numTrees} trees, max depth ${model.maxDepth}, ` +
    `${F} features, ${nodes} nodes (${leaves} leaves); prepareModel ${prepareMs.toFixed(1)} ms`,
);
console.log(
  `predict+explain over ${inputs.length} inputs (Node ${process.version}): ` +
    `median ${quantile(both, 0.5).toFixed(3)} ms, p95 ${quantile(both, 0.95).toFixed(3)} ms ` +
    `(predict alone: median ${(quantile(onlyPredict, 0.5) * 1000).toFixed(1)} µs)`,
);
if (Number.isNaN(sink)) console.log("");
