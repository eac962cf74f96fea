// Unit tests of js/predictor.js on hand-built models: split semantics, missing values,
// inputs, links, and TreeSHAP against brute-force Shapley values. XGBoost parity lives in
// parity.test.js.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  explain,
  expf,
  gaussLegendre01,
  intervalFor,
  predict,
  predictBatch,
  prepareModel,
} from "../predictor.js";

/**
 * Build an export document from per-tree node lists. Each node is
 * `{f, t, l, r, d, v, c}` (feature, threshold, left, right, default_left, value, cover),
 * local indices in pre-order; leaves have f = -1.
 */
function makeModel(trees, { names = ["a", "b"], link = "identity", base = 0, metadata = {} } = {}) {
  const cols = { split_feature: [], threshold: [], left: [], right: [], default_left: [], value: [], cover: [] };
  const offsets = [0];
  let maxDepth = 0;
  for (const nodes of trees) {
    const depth = [0];
    nodes.forEach((n, i) => {
      cols.split_feature.push(n.f ?? -1);
      cols.threshold.push(n.t ?? 0);
      cols.left.push(n.l ?? -1);
      cols.right.push(n.r ?? -1);
      cols.default_left.push(n.d ?? 0);
      cols.value.push(n.v ?? 0);
      cols.cover.push(n.c ?? 1);
      if ((n.f ?? -1) >= 0) depth[n.l] = depth[n.r] = depth[i] + 1;
      maxDepth = Math.max(maxDepth, depth[i]);
    });
    offsets.push(cols.split_feature.length);
  }
  return {
    format: "track-analytics-trees", version: 1, objective: "reg:squarederror", link,
    base_score: base, base_margin: base, num_features: names.length, feature_names: names,
    num_trees: trees.length, max_depth: maxDepth, trees: { node_offset: offsets, ...cols }, metadata,
  };
}

/** One split on feature `f` at threshold `t`: left leaf `lv`, right leaf `rv`. */
const stump = (f, t, lv, rv, d = 0, covers = [10, 6, 4]) => [
  { f, t, l: 1, r: 2, d, c: covers[0] },
  { v: lv, c: covers[1] },
  { v: rv, c: covers[2] },
];

describe("splits follow XGBoost's float32 rule", () => {
  const t32 = Math.fround(0.1); // 0.10000000149011612
  const model = makeModel([stump(0, 0.1, -1, 1)]);

  test("a value equal to the float32 threshold goes right", () => {
    assert.equal(predict(model, [0.1, 0]), 1);
    assert.equal(predict(model, [t32, 0]), 1);
  });

  test("a double just under the threshold rounds onto it and goes right", () => {
    const x = t32 - 2e-17;
    assert.ok(x < t32, "a float64 comparison would send it left");
    assert.equal(Math.fround(x), t32);
    assert.equal(predict(model, [x, 0]), 1);
  });

  test("the next float32 below goes left", () => {
    const below = t32 - 2 ** -27; // one float32 ulp under (0.1 is in [2^-4, 2^-3))
    assert.equal(Math.fround(below), below);
    assert.equal(predict(model, [below, 0]), -1);
  });
});

describe("missing values take the default direction", () => {
  const model = makeModel([stump(0, 0.5, 1, 2, 1), stump(1, 0.5, 10, 20, 0)]);
  for (const [label, input] of [
    ["NaN", [NaN, NaN]],
    ["null", [null, null]],
    ["undefined", [undefined, undefined]],
    ["absent keys", {}],
  ]) {
    test(label, () => assert.equal(predict(model, input), 1 + 20));
  }
  test("only the missing feature defaults", () => {
    assert.equal(predict(model, { b: 0.1 }), 1 + 10);
    assert.equal(predict(model, { a: 0.9 }), 2 + 20);
  });
});

describe("inputs", () => {
  const model = makeModel([stump(0, 0.5, 1, 2), stump(1, 0.5, 10, 20)]);
  test("object, array and typed array agree", () => {
    const expected = predict(model, [0.2, 0.7]);
    assert.equal(predict(model, { a: 0.2, b: 0.7 }), expected);
    assert.equal(predict(model, Float64Array.of(0.2, 0.7)), expected);
    assert.equal(predict(model, Float32Array.of(0.2, 0.7)), expected);
  });
  test("booleans are 0/1", () => {
    assert.equal(predict(model, { a: true, b: false }), 2 + 10);
  });
  test("unknown keys throw unless ignored", () => {
    assert.throws(() => predict(model, { a: 1, genre_rokc: 1 }), /unknown feature "genre_rokc"/);
    assert.equal(predict(model, { a: 1, extra: 1 }, { ignoreUnknown: true }), predict(model, { a: 1 }));
  });
  test("wrong length and wrong types throw", () => {
    assert.throws(() => predict(model, [1]), /expects 2/);
    assert.throws(() => predict(model, { a: "0.3" }), /must be a number/);
    assert.throws(() => predict(model, 3), /input must be/);
  });
  test("predictBatch matches predict for rows, objects and flat arrays", () => {
    const rows = [[0.2, 0.7], [0.9, NaN], [NaN, 0.1]];
    const expected = rows.map((r) => predict(model, r));
    assert.deepEqual([...predictBatch(model, rows)], expected);
    assert.deepEqual([...predictBatch(model, Float64Array.from(rows.flat()))], expected);
    assert.deepEqual([...predictBatch(model, [{ a: 0.2, b: 0.7 }, { a: 0.9 }, { b: 0.1 }])], expected);
  });
});

describe("links and accumulation", () => {
  test("logistic: probability = sigmoid(margin), explanation in margin space", () => {
    const model = makeModel([stump(0, 0.5, -1, 2)], { link: "logistic", base: 0.25 });
    const z = predict(model, [0.9, 0], { outputMargin: true });
    assert.equal(z, 2.25);
    assert.equal(predict(model, [0.9, 0]), 1 / (1 + Math.exp(-2.25)));
    const e = explain(model, [0.9, 0]);
    assert.equal(e.space, "margin");
    assert.equal(e.prediction, predict(model, [0.9, 0]));
    assert.ok(Math.abs(e.expectedValue + e.contributions[0] + e.contributions[1] - z) < 1e-12);
  });
  test("exp link", () => {
    const model = makeModel([stump(0, 0.5, -1, 2)], { link: "exp", base: 0.5 });
    assert.equal(predict(model, [0, 0]), Math.exp(-0.5));
  });
  test("float32 accumulation reproduces XGBoost's rounding", () => {
    const model = makeModel([[{ v: 1e-6 }], [{ v: 1e-6 }]], { base: 50 });
    assert.equal(predict(model, [0, 0], { float32: true }), 50); // 50 + 1e-6 rounds back to 50
    assert.ok(Math.abs(predict(model, [0, 0]) - (50 + 2 * Math.fround(1e-6))) < 1e-12);
  });
});

// ---- TreeSHAP against brute force ------------------------------------------------------

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

/** Random trees over few features, so features repeat along paths (the tricky case). */
function randomModel(seed, { trees = 4, depth = 5, features = 5, zeroCovers = false } = {}) {
  const r = rng(seed);
  const list = [];
  for (let k = 0; k < trees; k++) {
    const nodes = [];
    const grow = (d) => {
      const i = nodes.length;
      nodes.push({});
      if (d >= depth || (d > 0 && r() < 0.2)) {
        const c = zeroCovers && r() < 0.1 ? 0 : 1 + Math.floor(r() * 20);
        nodes[i] = { v: Math.fround(Math.round((r() * 4 - 2) * 1000) / 1000), c };
        return [i, c];
      }
      const [l, cl] = grow(d + 1);
      const [rr, cr] = grow(d + 1);
      nodes[i] = { f: Math.floor(r() * features), t: Math.round(r() * 100) / 100, l, r: rr, d: r() < 0.5 ? 1 : 0, c: cl + cr };
      return [i, cl + cr];
    };
    grow(0);
    list.push(nodes);
  }
  const names = Array.from({ length: features }, (_, i) => `x${i}`);
  return makeModel(list, { names, base: 0.5 });
}

/** v(S): the path-dependent conditional expectation (Algorithm 1 of Lundberg et al.). */
function conditionalExpectation(model, x, inS) {
  const t = model.trees;
  let total = model.base_margin;
  for (let k = 0; k < model.num_trees; k++) {
    const o = t.node_offset[k];
    const rec = (n) => {
      const f = t.split_feature[o + n];
      if (f < 0) return t.value[o + n];
      const l = t.left[o + n];
      const r = t.right[o + n];
      if (inS[f]) {
        const v = Math.fround(x[f]);
        const thr = Math.fround(t.threshold[o + n]);
        const goLeft = Number.isNaN(v) ? t.default_left[o + n] === 1 : v < thr;
        return rec(goLeft ? l : r);
      }
      const c = t.cover[o + n];
      return c > 0 ? (t.cover[o + l] * rec(l) + t.cover[o + r] * rec(r)) / c : 0;
    };
    total += rec(0);
  }
  return total;
}

function bruteForceShapley(model, x) {
  const M = model.num_features;
  const fact = [1];
  for (let i = 1; i <= M; i++) fact[i] = fact[i - 1] * i;
  const phi = new Float64Array(M);
  for (let mask = 0; mask < 1 << M; mask++) {
    const inS = Array.from({ length: M }, (_, j) => (mask >> j) & 1);
    const size = inS.reduce((a, b) => a + b, 0);
    const vS = conditionalExpectation(model, x, inS);
    for (let i = 0; i < M; i++) {
      if (inS[i]) continue;
      const withI = inS.slice();
      withI[i] = 1;
      const w = (fact[size] * fact[M - size - 1]) / fact[M];
      phi[i] += w * (conditionalExpectation(model, x, withI) - vS);
    }
  }
  return { phi, expected: conditionalExpectation(model, x, new Array(M).fill(0)) };
}

describe("explain equals brute-force Shapley values of the path-dependent expectation", () => {
  const cases = [
    { seed: 1, depth: 3 },
    { seed: 2, depth: 5 },
    { seed: 3, depth: 6, trees: 3 },
    { seed: 4, depth: 9, trees: 2, features: 4 }, // 5-point rule, many repeats
    { seed: 5, depth: 1, trees: 5 },
  ];
  for (const opts of cases) {
    test(`random trees ${JSON.stringify(opts)}`, () => {
      const model = randomModel(opts.seed, opts);
      const r = rng(opts.seed + 100);
      for (let row = 0; row < 25; row++) {
        const x = Array.from({ length: model.num_features }, () => (r() < 0.15 ? NaN : r()));
        const { phi, expected } = bruteForceShapley(model, x);
        for (const method of ["linear", "algorithm2"]) {
          const e = explain(model, x, { method });
          assert.ok(Math.abs(e.expectedValue - expected) < 1e-9, `${method} expected value`);
          e.contributions.forEach((c, i) => {
            assert.ok(Math.abs(c - phi[i]) < 1e-9, `${method} row ${row} feature ${i}: ${c} vs ${phi[i]}`);
          });
          const sum = e.contributions.reduce((a, b) => a + b, e.expectedValue);
          assert.ok(Math.abs(sum - e.margin) <= 1e-9 * Math.max(1, Math.abs(e.margin)));
          assert.equal(e.margin, predict(model, x));
        }
      }
    });
  }

  test("zero-cover leaves stay finite and additive (linear method)", () => {
    const model = randomModel(6, { depth: 5, zeroCovers: true });
    const r = rng(7);
    for (let row = 0; row < 20; row++) {
      const x = Array.from({ length: 5 }, () => r());
      const { phi } = bruteForceShapley(model, x);
      const e = explain(model, x);
      e.contributions.forEach((c, i) => assert.ok(Math.abs(c - phi[i]) < 1e-9));
    }
  });

  test("a single-split tree: contribution is leaf minus cover-weighted mean", () => {
    const model = makeModel([stump(0, 0.5, 1, 3, 0, [40, 30, 10])], { base: 2 });
    const e = explain(model, { a: 0.2 });
    assert.equal(e.expectedValue, 2 + 1.5);
    assert.ok(Math.abs(e.contributions[0] - -0.5) < 1e-12);
    assert.equal(e.contributions[1], 0);
    assert.equal(e.space, "output");
    assert.deepEqual(e.featureNames, ["a", "b"]);
  });
});

test("Gauss–Legendre rule on [0, 1] integrates t^k exactly for k ≤ 2q − 1", () => {
  for (let q = 1; q <= 8; q++) {
    const [t, w] = gaussLegendre01(q);
    for (let k = 0; k <= 2 * q - 1; k++) {
      let integral = 0;
      for (let i = 0; i < q; i++) integral += w[i] * t[i] ** k;
      assert.ok(Math.abs(integral - 1 / (k + 1)) < 1e-14, `q=${q} k=${k}: ${integral}`);
    }
  }
});

describe("intervalFor", () => {
  const metadata = {
    interval: {
      alpha: 0.1, lower_offset: 10, upper_offset: 12, clip: [0, 100],
      by_group: { rock: { lower_offset: 5, upper_offset: 6 } },
    },
  };
  const model = makeModel([stump(0, 0.5, 1, 2)], { metadata });
  test("global offsets", () => {
    assert.deepEqual(intervalFor(model, 50), { lower: 40, upper: 62, alpha: 0.1, group: null });
  });
  test("per-group offsets, unknown groups fall back to global", () => {
    assert.deepEqual(intervalFor(model, 50, "rock"), { lower: 45, upper: 56, alpha: 0.1, group: "rock" });
    assert.equal(intervalFor(model, 50, "polka").group, null);
  });
  test("clipped to the popularity scale", () => {
    assert.deepEqual(intervalFor(model, 95), { lower: 85, upper: 100, alpha: 0.1, group: null });
    assert.equal(intervalFor(model, 3).lower, 0);
  });
  test("per-level symmetric offsets as analysis.models.conformal_offsets writes them", () => {
    const offsets = { global: { "0.8": 8, "0.9": 12 }, by_stratum: { rock: { "0.8": 6, "0.9": 9 } } };
    const m2 = makeModel([stump(0, 0.5, 1, 2)], { metadata: { interval: offsets } });
    assert.deepEqual(intervalFor(m2, 50), { lower: 38, upper: 62, alpha: 0.1, group: null });
    assert.deepEqual(intervalFor(m2, 50, { group: "rock", confidence: 0.8 }), { lower: 44, upper: 56, alpha: 0.2, group: "rock" });
    assert.deepEqual(intervalFor(m2, 95, "jazz"), { lower: 83, upper: 100, alpha: 0.1, group: null });
    assert.throws(() => intervalFor(m2, 50, { confidence: 0.95 }), /no interval offsets for confidence 0.95/);
  });
  test("clear errors", () => {
    assert.throws(() => intervalFor(makeModel([stump(0, 0.5, 1, 2)]), 50), /no `interval`/);
    const bad = makeModel([stump(0, 0.5, 1, 2)], { metadata: { interval: { lower_offset: -1, upper_offset: 1 } } });
    assert.throws(() => intervalFor(bad, 50), /lower_offset .* ≥ 0/);
  });
});

describe("prepareModel", () => {
  test("prepares once per document", () => {
    const doc = makeModel([stump(0, 0.5, 1, 2)]);
    const m = prepareModel(doc);
    assert.equal(prepareModel(doc), m);
    assert.equal(prepareModel(m), m);
    assert.equal(m.numTrees, 1);
    assert.equal(m.maxDepth, 1);
  });
  test("rejects other formats, versions and malformed trees", () => {
    assert.throws(() => prepareModel({ ...makeModel([stump(0, 0.5, 1, 2)]), format: "xgboost" }), /not a track-analytics-trees/);
    assert.throws(() => prepareModel({ ...makeModel([stump(0, 0.5, 1, 2)]), version: 2 }), /format version 2/);
    const cyclic = makeModel([stump(0, 0.5, 1, 2)]);
    cyclic.trees.left[0] = 0;
    assert.throws(() => prepareModel(cyclic), /bad split or child index/);
    const outOfRange = makeModel([stump(7, 0.5, 1, 2)]);
    assert.throws(() => prepareModel(outOfRange), /bad split/);
  });
});

describe("float32 links as XGBoost computes them", () => {
  // Inputs where glibc's expf (what XGBoost calls) is not Math.exp rounded to float32:
  // [x, expf(x) from glibc 2.36's libm] (tests/test_triage_web.py checks many more).
  const GLIBC = [
    [-16.669580459594727, 5.7609380377243724e-08], [6.141057968139648, 464.5447692871094],
    [-4.037411212921143, 0.017643088474869728], [5.727046489715576, 307.06103515625],
    [-8.482030868530273, 0.0002071575727313757], [18.904375076293945, 162205584.0],
    [3.975203275680542, 53.26094055175781], [-17.248018264770508, 3.230582734659038e-08],
  ];
  test("expf is glibc's, not the correctly rounded exp", () => {
    for (const [x, y] of GLIBC) {
      assert.equal(expf(x), y, String(x));
      assert.notEqual(Math.fround(Math.exp(x)), y);
    }
    assert.equal(expf(0), 1);
    assert.equal(expf(1), Math.fround(Math.E));
    assert.equal(expf(89), Infinity);
    assert.equal(expf(-104), 0);
    assert.ok(Number.isNaN(expf(NaN)));
  });

  test("logistic in float32 is XGBoost's common::Sigmoid over expf", () => {
    const f = Math.fround;
    for (const [x, e] of GLIBC) {
      // margin -x: Sigmoid computes expf(x), then 1 / (e + 1), each step in float32
      const model = makeModel([stump(0, 0.5, -x, -x)], { link: "logistic", base: 0.5 });
      const z = predict(model, [0, 0], { float32: true, outputMargin: true });
      if (z !== f(-x)) continue; // the base margin moved it: covered by the triage parity
      assert.equal(predict(model, [0, 0], { float32: true }), f(1 / f(f(e + 1) + f(1e-16))));
    }
    const saturated = makeModel([stump(0, 0.5, -200, -200)], { link: "logistic", base: 0.5 });
    assert.ok(predict(saturated, [0, 0], { float32: true }) > 0); // expf clamps at 88.7: no 1/inf
  });
});
