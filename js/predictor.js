/**
 * Evaluate exported XGBoost models in the reader's browser: predictions, exact
 * path-dependent TreeSHAP explanations and conformal intervals.
 *
 * The models are written by `analysis/export/trees_json.py` (`"format": "track-analytics-trees"`,
 * `"version": 1`; the layout is documented in `export_xgboost`). This module has no
 * dependencies and uses no Node-only API, so the same file runs in Observable JS cells,
 * plain `<script type="module">` pages and `node --test`.
 *
 * Numerical contract (checked against XGBoost and shap by `js/test/parity.test.js`):
 *  - splits compare like XGBoost: the feature value is rounded to float32
 *    (`Math.fround`) and goes left iff it is `< threshold` (an exact float32); NaN,
 *    `null`, `undefined` and absent keys are missing and take the node's default branch;
 *  - `predict` sums leaves in float64 by default (the value SHAP contributions add up to);
 *    `{float32: true}` accumulates in float32 in tree order like XGBoost's CPU predictor,
 *    which reproduces `booster.predict(output_margin=True)` bit for bit, and then applies
 *    the link as XGBoost does in float32 (its `common::Sigmoid`, step by step, over an
 *    emulation of glibc's `expf`: {@link expf}), which reproduces `booster.predict()` of a
 *    logistic model as XGBoost computes it on Linux;
 *  - `explain` returns exact path-dependent TreeSHAP values, those of Algorithm 2 of
 *    Lundberg, Erion & Lee (2018), "Consistent Individualized Feature Attribution for
 *    Tree Ensembles" — what XGBoost's `pred_contribs=True` and shap's `TreeExplainer`
 *    (tree_path_dependent) compute — by default through an exact O(nodes × depth)
 *    reformulation, or with `{method: "algorithm2"}` through the paper's own recursion.
 *
 * @example
 * import {prepareModel, predict, explain} from "../js/predictor.js";
 * const model = prepareModel(await FileAttachment("../models/exports/popularity.json").json());
 * const y = predict(model, {danceability: 0.7, energy: 0.8, genre_rock: 1});
 * const {expectedValue, contributions, featureNames} = explain(model, {danceability: 0.7});
 *
 * @module predictor
 */

/** Value of the `format` field this module reads. */
export const FORMAT = "track-analytics-trees";
/** Format version this module reads. */
export const FORMAT_VERSION = 1;

const LINKS = new Set(["identity", "logistic", "exp"]);
const PREPARED = Symbol("track-analytics-prepared-model");
/** @type {WeakMap<object, PreparedModel>} */
const preparedCache = new WeakMap();

/**
 * A parsed export, as `JSON.parse` / `FileAttachment(...).json()` returns it.
 * @typedef {object} ExportedModel
 * @property {string} format `"track-analytics-trees"`.
 * @property {number} version `1`.
 * @property {string} objective XGBoost objective, e.g. `"reg:squarederror"`.
 * @property {"identity"|"logistic"|"exp"} link Inverse link: response = link(margin).
 * @property {number} base_margin Added to the tree sum (margin space).
 * @property {number} num_features
 * @property {string[]} feature_names
 * @property {number} num_trees
 * @property {number} max_depth
 * @property {object} trees Parallel node arrays (see `analysis/export/trees_json.py`).
 * @property {object} metadata Free-form metadata from the exporter.
 */

/**
 * Inputs: an array / typed array in `featureNames` order, or an object keyed by feature
 * name. Missing keys, `null`, `undefined` and `NaN` are missing values; booleans are 0/1.
 * @typedef {ArrayLike<number|null|undefined|boolean>|Object<string, number|null|undefined|boolean>} ModelInput
 */

/**
 * Per-model structures, built once by {@link prepareModel}. Fields starting with `_` are
 * internal and may change.
 */
class PreparedModel {
  /** @param {ExportedModel} doc */
  constructor(doc) {
    /** @type {string} */ this.objective = doc.objective;
    /** @type {"identity"|"logistic"|"exp"} */ this.link = doc.link;
    /** Base margin as a float32 value. */
    this.baseMargin = Math.fround(doc.base_margin);
    /** @type {ReadonlyArray<string>} */ this.featureNames = Object.freeze([...doc.feature_names]);
    this.numFeatures = doc.num_features;
    this.numTrees = doc.num_trees;
    /** Maximum tree depth (edges from root to deepest leaf). */
    this.maxDepth = 0;
    /** Free-form metadata passed through by the exporter. */
    this.metadata = doc.metadata ?? {};
    /** Mean margin over the training data (as weighted by covers): SHAP's base value. */
    this.expectedValue = 0;
    this[PREPARED] = true;
    /** @type {Map<string, number>} */ this._index = new Map();
    this._roots = new Int32Array(0);
    this._feature = new Int32Array(0);
    this._threshold = new Float64Array(0);
    this._left = new Int32Array(0);
    this._right = new Int32Array(0);
    this._missing = new Int32Array(0);
    this._value = new Float64Array(0);
    this._zeroFraction = new Float64Array(0);
    this._repeat = new Uint8Array(0);
    this._x = new Float64Array(doc.num_features);
    this._pathFeature = new Int32Array(0);
    this._pathZero = new Float64Array(0);
    this._pathOne = new Float64Array(0);
    this._pathWeight = new Float64Array(0);
    this._gaussT = new Float64Array(0);
    this._gaussW = new Float64Array(0);
    this._levelR = new Float64Array(0);
    this._levelS = new Float64Array(0);
    this._levelSave = new Float64Array(0);
    this._pending = new Float64Array(0);
    this._featureZero = new Float64Array(0);
    this._featureOne = new Float64Array(0);
    this._levelNode = new Int32Array(0);
    this._levelSide = new Int8Array(0);
    this._levelHot = new Int32Array(0);
    this._levelOldZero = new Float64Array(0);
    this._levelOldOne = new Float64Array(0);
    this._levelNewZero = new Float64Array(0);
    this._levelNewOne = new Float64Array(0);
  }
}

function fail(message) {
  throw new Error(`predictor: ${message}`);
}

/**
 * Validate an exported model and build the typed arrays that `predict` and `explain` walk.
 *
 * Doing this once per model keeps the per-input work allocation-free. Calling it again
 * with the same parsed object (or a prepared model) is free, and every other function
 * accepts either form, so `predict(rawJson, x)` also works.
 *
 * @param {ExportedModel|PreparedModel} doc Parsed export.
 * @returns {PreparedModel}
 * @throws {Error} If the document is not a version-1 export or its arrays are inconsistent.
 */
export function prepareModel(doc) {
  if (doc && doc[PREPARED]) return /** @type {PreparedModel} */ (doc);
  if (doc === null || typeof doc !== "object") fail("expected a parsed model object");
  const cached = preparedCache.get(doc);
  if (cached) return cached;
  if (doc.format !== FORMAT) fail(`not a ${FORMAT} document (format: ${JSON.stringify(doc.format)})`);
  if (doc.version !== FORMAT_VERSION) {
    fail(`format version ${doc.version} but this predictor reads version ${FORMAT_VERSION}; update js/predictor.js or re-export`);
  }
  if (!LINKS.has(doc.link)) fail(`unknown link ${JSON.stringify(doc.link)}`);
  const F = doc.num_features;
  if (!Array.isArray(doc.feature_names) || doc.feature_names.length !== F) {
    fail(`feature_names must list num_features (${F}) names`);
  }
  const t = doc.trees;
  const offsets = t.node_offset;
  const nNodes = offsets[offsets.length - 1];
  for (const key of ["split_feature", "threshold", "left", "right", "default_left", "value", "cover"]) {
    if (!t[key] || t[key].length !== nNodes) fail(`trees.${key} must have ${nNodes} entries`);
  }
  if (offsets.length !== doc.num_trees + 1) fail("trees.node_offset must have num_trees + 1 entries");

  const m = new PreparedModel(doc);
  doc.feature_names.forEach((name, i) => m._index.set(name, i));
  const T = doc.num_trees;
  const roots = new Int32Array(T);
  const feature = new Int32Array(nNodes);
  const threshold = new Float64Array(nNodes);
  const left = new Int32Array(nNodes);
  const right = new Int32Array(nNodes);
  const missing = new Int32Array(nNodes);
  const value = new Float64Array(nNodes);
  const cover = new Float64Array(nNodes);
  const zeroFraction = new Float64Array(nNodes);
  const mean = new Float64Array(nNodes);
  const depth = new Int32Array(nNodes);
  const parent = new Int32Array(nNodes).fill(-1);
  const repeat = new Uint8Array(nNodes);
  let expected = 0;
  let maxDepth = 0;
  for (let k = 0; k < T; k++) {
    const start = offsets[k];
    const end = offsets[k + 1];
    if (!(end > start)) fail(`tree ${k} is empty`);
    roots[k] = start;
    zeroFraction[start] = 1;
    for (let n = start; n < end; n++) {
      const f = t.split_feature[n];
      cover[n] = t.cover[n];
      if (f < 0) {
        feature[n] = -1;
        left[n] = right[n] = missing[n] = -1;
        value[n] = Math.fround(t.value[n]);
        continue;
      }
      const l = start + t.left[n];
      const r = start + t.right[n];
      // Children strictly after their parent (pre-order): also guarantees termination.
      if (!(f < F) || !(l > n && l < end && r > n && r < end)) fail(`tree ${k}, node ${n - start}: bad split or child index`);
      feature[n] = f;
      threshold[n] = Math.fround(t.threshold[n]);
      left[n] = l;
      right[n] = r;
      missing[n] = t.default_left[n] ? l : r;
    }
    // Zero fractions and depths top-down (parents precede children) ...
    for (let n = start; n < end; n++) {
      if (feature[n] < 0) continue;
      for (const c of [left[n], right[n]]) {
        zeroFraction[c] = cover[n] > 0 ? cover[c] / cover[n] : 0;
        depth[c] = depth[n] + 1;
        parent[c] = n;
        if (depth[c] > maxDepth) maxDepth = depth[c];
      }
      // Mark splits on a feature already split on above (1) and those ancestors (2).
      for (let a = parent[n]; a >= 0; a = parent[a]) {
        if (feature[a] === feature[n]) {
          repeat[n] |= 1;
          repeat[a] |= 2;
        }
      }
    }
    // ... and cover-weighted mean values bottom-up, as XGBoost's FillNodeMeanValues.
    for (let n = end - 1; n >= start; n--) {
      mean[n] = feature[n] < 0
        ? value[n]
        : zeroFraction[left[n]] * mean[left[n]] + zeroFraction[right[n]] * mean[right[n]];
    }
    expected += mean[start];
  }
  m.maxDepth = maxDepth;
  m.expectedValue = m.baseMargin + expected;
  m._roots = roots;
  m._feature = feature;
  m._threshold = threshold;
  m._left = left;
  m._right = right;
  m._missing = missing;
  m._value = value;
  m._zeroFraction = zeroFraction;
  m._repeat = repeat;
  // Path buffers for TreeSHAP: one path per recursion level, level u holding u + 1 items.
  const d = maxDepth + 3;
  const size = (d * (d + 1)) / 2 + d;
  m._pathFeature = new Int32Array(size);
  m._pathZero = new Float64Array(size);
  m._pathOne = new Float64Array(size);
  m._pathWeight = new Float64Array(size);
  // Linear-time TreeSHAP: Gauss–Legendre rule exact for polynomials of degree maxDepth − 1.
  const q = Math.max(1, Math.ceil(maxDepth / 2));
  [m._gaussT, m._gaussW] = gaussLegendre01(q);
  m._levelR = new Float64Array((maxDepth + 2) * q);
  m._levelS = new Float64Array((maxDepth + 2) * q);
  m._levelSave = new Float64Array((maxDepth + 2) * q);
  m._pending = new Float64Array(F * q);
  m._featureZero = new Float64Array(F);
  m._featureOne = new Float64Array(F);
  const levels = maxDepth + 2;
  m._levelNode = new Int32Array(levels);
  m._levelSide = new Int8Array(levels);
  m._levelHot = new Int32Array(levels);
  m._levelOldZero = new Float64Array(levels);
  m._levelOldOne = new Float64Array(levels);
  m._levelNewZero = new Float64Array(levels);
  m._levelNewOne = new Float64Array(levels);
  preparedCache.set(doc, m);
  return m;
}

function toFeatureValue(v, where) {
  if (typeof v === "number") return Math.fround(v);
  if (v === null || v === undefined) return NaN;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new TypeError(`predictor: feature ${where} must be a number, boolean, null or undefined, not ${typeof v}`);
}

/**
 * Copy one input into `x` (float32-rounded, NaN = missing).
 * @param {PreparedModel} m
 * @param {ModelInput} input
 * @param {Float64Array} x
 * @param {{ignoreUnknown?: boolean}} [options]
 */
function fillInput(m, input, x, options) {
  const F = m.numFeatures;
  if (Array.isArray(input) || ArrayBuffer.isView(input)) {
    const a = /** @type {ArrayLike<any>} */ (input);
    if (a.length !== F) {
      throw new RangeError(`predictor: input has ${a.length} values but the model expects ${F}, in model.featureNames order`);
    }
    for (let i = 0; i < F; i++) x[i] = toFeatureValue(a[i], `${i} (${m.featureNames[i]})`);
    return;
  }
  if (input === null || typeof input !== "object") {
    throw new TypeError("predictor: input must be an array in feature order or an object keyed by feature name");
  }
  x.fill(NaN);
  for (const key of Object.keys(input)) {
    const i = m._index.get(key);
    if (i === undefined) {
      if (options && options.ignoreUnknown) continue;
      throw new Error(`predictor: unknown feature "${key}" (pass {ignoreUnknown: true} to skip extra keys)`);
    }
    x[i] = toFeatureValue(input[key], `"${key}"`);
  }
}

/**
 * The leaf that the row starting at `x[base]` reaches from node `n` (a root), walking
 * the prepared model's flat arrays.
 */
function leafOf(m, x, base, n) {
  const feature = m._feature;
  const threshold = m._threshold;
  const left = m._left;
  const right = m._right;
  const missing = m._missing;
  let f;
  while ((f = feature[n]) >= 0) {
    const v = x[base + f];
    const t = threshold[n];
    // NaN fails both comparisons and falls through to the default child.
    n = v < t ? left[n] : v >= t ? right[n] : missing[n];
  }
  return n;
}

/** Sum of leaf values for the prepared input, float64 or XGBoost-style float32. */
function margin(m, x, float32) {
  const roots = m._roots;
  const value = m._value;
  let sum = float32 ? m.baseMargin : 0;
  for (let k = 0; k < roots.length; k++) {
    const n = leafOf(m, x, 0, roots[k]);
    sum = float32 ? Math.fround(sum + value[n]) : sum + value[n];
  }
  return float32 ? sum : m.baseMargin + sum;
}

function response(link, z, float32) {
  if (float32) {
    // XGBoost's float32 transforms: common::Sigmoid (x = min(-x, 88.7f);
    // 1.0f / (expf(x) + 1.0f + 1e-16f), each step rounded to float32) and expf.
    if (link === "logistic") {
      const e = expf(Math.min(Math.fround(-z), SIGMOID_CLAMP));
      return Math.fround(1 / Math.fround(Math.fround(e + 1) + SIGMOID_EPS));
    }
    return link === "exp" ? expf(z) : Math.fround(z);
  }
  if (link === "logistic") return 1 / (1 + Math.exp(-z));
  return link === "exp" ? Math.exp(z) : z;
}

const SIGMOID_CLAMP = Math.fround(88.7);
const SIGMOID_EPS = Math.fround(1e-16);

// glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, the algorithm of ARM's optimized-routines):
// exp(x) = 2^(k/32) * 2^(r/32) with k = round(x * 32 / ln 2), 2^(k/32) from a table of the 32
// doubles 2^(j/32) times a power of two, 2^(r/32) from a cubic, all in double, rounded once to
// float32. Its error is up to 0.502 ulp, so it is not Math.exp rounded to float32 (which is
// correctly rounded) for about one input in 2,000: enough to swap near-tied hit probabilities.
const EXPF_TABLE = Float64Array.of(
  1.0, 1.0218971486541166, 1.0442737824274138, 1.0671404006768237,
  1.0905077326652577, 1.1143867425958924, 1.1387886347566916, 1.1637248587775775,
  1.189207115002721, 1.215247359980469, 1.241857812073484, 1.2690509571917332,
  1.2968395546510096, 1.3252366431597413, 1.3542555469368927, 1.383909881963832,
  1.4142135623730951, 1.4451808069770467, 1.4768261459394993, 1.5091644275934228,
  1.5422108254079407, 1.5759808451078865, 1.6104903319492543, 1.645755478153965,
  1.681792830507429, 1.718619298122478, 1.7562521603732995, 1.7947090750031072,
  1.8340080864093424, 1.8741676341103, 1.9152065613971474, 1.9571441241754002);
const EXPF_INV_LN2_N = 46.16624130844683; // 0x1.71547652b82fep+0 * 32
const EXPF_SHIFT = 6755399441055744; // 0x1.8p+52: adding it rounds to an integer, ties to even
const EXPF_C0 = 1.6938359250920212e-06; // 0x1.c6af84b912394p-5 / 32^3
const EXPF_C1 = 0.00023459809789509004; // 0x1.ebfce50fac4f3p-3 / 32^2
const EXPF_C2 = 0.021660849396613134; // 0x1.62e42ff0c52d6p-1 / 32
const EXPF_OVERFLOW = 88.72283172607422; // 0x1.62e42ep6f: above, exp(x) > FLT_MAX
const EXPF_UNDERFLOW = -103.97207641601562; // -0x1.9fe368p6f: below, exp(x) < 2^-150
// 2^m for the m the table's index leaves (k / 32 in [-150, 128]), exact.
const EXPF_POW2 = (() => {
  const out = new Float64Array(280);
  out[150] = 1;
  for (let i = 151; i < 280; i++) out[i] = out[i - 1] * 2;
  for (let i = 149; i >= 0; i--) out[i] = out[i + 1] / 2;
  return out;
})();

/**
 * `expf` of glibc (float32 exponential), bit for bit: what XGBoost's float32 link functions
 * call on Linux. `x` is rounded to float32 first; the answer is a float32 value.
 * @param {number} x
 * @returns {number}
 */
export function expf(x) {
  x = Math.fround(x);
  if (!(x <= EXPF_OVERFLOW)) return x === x ? Infinity : x; // NaN stays NaN
  if (x < EXPF_UNDERFLOW) return 0;
  const z = EXPF_INV_LN2_N * x;
  const kd = z + EXPF_SHIFT - EXPF_SHIFT;
  const r = z - kd;
  const j = kd & 31;
  const s = EXPF_TABLE[j] * EXPF_POW2[(kd - j) / 32 + 150];
  const y = (EXPF_C0 * r + EXPF_C1) * (r * r) + (EXPF_C2 * r + 1);
  return Math.fround(y * s);
}

/**
 * Options for {@link predict} and {@link predictBatch}.
 * @typedef {object} PredictOptions
 * @property {boolean} [outputMargin=false] Return the margin (log-odds for a logistic
 *   model) instead of the response.
 * @property {boolean} [float32=false] Accumulate in float32 like XGBoost (bit-identical
 *   margins to `booster.predict`); the default float64 sum is what `explain` adds up to.
 * @property {boolean} [ignoreUnknown=false] Skip object keys that are not model features
 *   instead of throwing (a typo in a one-hot column name would otherwise silently become
 *   "missing").
 */

/**
 * Predict one input.
 *
 * @param {ExportedModel|PreparedModel} model
 * @param {ModelInput} input
 * @param {PredictOptions} [options]
 * @returns {number} Response (popularity, probability, ...) or margin.
 */
export function predict(model, input, options) {
  const m = prepareModel(model);
  fillInput(m, input, m._x, options);
  const float32 = !!(options && options.float32);
  const z = margin(m, m._x, float32);
  return options && options.outputMargin ? z : response(m.link, z, float32);
}

/**
 * Predict many inputs: an array of inputs, or one flat row-major typed array / array of
 * `rows × numFeatures` numbers.
 *
 * @param {ExportedModel|PreparedModel} model
 * @param {ModelInput[]|ArrayLike<number>} inputs
 * @param {PredictOptions} [options]
 * @returns {Float64Array}
 */
export function predictBatch(model, inputs, options) {
  const m = prepareModel(model);
  const F = m.numFeatures;
  const float32 = !!(options && options.float32);
  const outputMargin = !!(options && options.outputMargin);
  const x = m._x;
  const flat = ArrayBuffer.isView(inputs) || (inputs.length > 0 && typeof inputs[0] === "number");
  if (flat && inputs.length % F !== 0) {
    throw new RangeError(`predictor: flat input length ${inputs.length} is not a multiple of ${F} features`);
  }
  const rows = flat ? inputs.length / F : inputs.length;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    if (flat) {
      for (let i = 0; i < F; i++) x[i] = toFeatureValue(inputs[r * F + i], `${i} of row ${r}`);
    } else {
      fillInput(m, inputs[r], x, options);
    }
    const z = margin(m, x, float32);
    out[r] = outputMargin ? z : response(m.link, z, float32);
  }
  return out;
}

/**
 * Predict a block of rows held in one row-major matrix, tree by tree: each tree's nodes stay
 * in cache while every row walks it, which is what makes scoring a 100,000-row catalogue
 * fast (the triage page). Same results as {@link predict} on each row: the values are read
 * as float32 (a `Float32Array` already holds them so), NaN is missing, and with
 * `{float32: true}` the sum is accumulated in float32 in tree order like XGBoost.
 *
 * @param {ExportedModel|PreparedModel} model
 * @param {Float32Array|Float64Array} X `rows × numFeatures` values, row by row.
 * @param {number} [rows] Rows to predict (default `X.length / numFeatures`).
 * @param {{float32?: boolean, outputMargin?: boolean}} [options]
 * @returns {Float64Array}
 */
export function predictMatrix(model, X, rows, options) {
  const m = prepareModel(model);
  const F = m.numFeatures;
  const n = rows ?? X.length / F;
  if (!(ArrayBuffer.isView(X)) || !Number.isInteger(n) || n * F > X.length) {
    throw new RangeError(`predictor: predictMatrix needs a typed array of at least rows × ${F} values`);
  }
  const float32 = !!(options && options.float32);
  const x = X instanceof Float32Array ? X : Float32Array.from(X.subarray(0, n * F));
  const sum = new Float64Array(n).fill(float32 ? m.baseMargin : 0);
  const roots = m._roots;
  const value = m._value;
  for (let k = 0; k < roots.length; k++) {
    const root = roots[k];
    for (let r = 0, base = 0; r < n; r++, base += F) {
      const nd = leafOf(m, x, base, root);
      sum[r] = float32 ? Math.fround(sum[r] + value[nd]) : sum[r] + value[nd];
    }
  }
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const z = float32 ? sum[r] : m.baseMargin + sum[r];
    out[r] = options && options.outputMargin ? z : response(m.link, z, float32);
  }
  return out;
}

// ---- Path-dependent TreeSHAP -----------------------------------------------------------
// Module-level "registers" for the recursion (JavaScript is single-threaded and the
// recursion never yields), so the hot loops read locals instead of object fields.
let gFeature, gThreshold, gLeft, gRight, gMissing, gValue, gZero, gX, gPhi;
let pFeature, pZero, pOne, pWeight;

/** Add feature `feature` to the path at depth `u` (EXTEND in the paper). */
function extendPath(s, u, zero, one, feature) {
  pFeature[s + u] = feature;
  pZero[s + u] = zero;
  pOne[s + u] = one;
  pWeight[s + u] = u === 0 ? 1 : 0;
  const d = u + 1;
  for (let i = u - 1; i >= 0; i--) {
    pWeight[s + i + 1] += (one * pWeight[s + i] * (i + 1)) / d;
    pWeight[s + i] = (zero * pWeight[s + i] * (u - i)) / d;
  }
}

/** Remove path item `k` (UNWIND in the paper); the caller decrements its depth. */
function unwindPath(s, u, k) {
  const one = pOne[s + k];
  const zero = pZero[s + k];
  const d = u + 1;
  let next = pWeight[s + u];
  if (one !== 0) {
    for (let i = u - 1; i >= 0; i--) {
      const tmp = pWeight[s + i];
      pWeight[s + i] = (next * d) / ((i + 1) * one);
      next = tmp - (pWeight[s + i] * zero * (u - i)) / d;
    }
  } else {
    for (let i = u - 1; i >= 0; i--) pWeight[s + i] = (pWeight[s + i] * d) / (zero * (u - i));
  }
  for (let i = k; i < u; i++) {
    pFeature[s + i] = pFeature[s + i + 1];
    pZero[s + i] = pZero[s + i + 1];
    pOne[s + i] = pOne[s + i + 1];
  }
}

/**
 * Credit leaf value `v` to the features on the path ending at this leaf.
 *
 * For an item with one-fraction 0 (x left the leaf's region at that feature) the paper's
 * UNWOUND-SUM divided by its zero-fraction is the same for every such item, so it is
 * computed once per leaf instead of once per item: same result, about half the work.
 */
function creditLeaf(s, u, v) {
  const d = u + 1;
  let coldSum = NaN;
  for (let i = 1; i <= u; i++) {
    const one = pOne[s + i];
    const zero = pZero[s + i];
    if (one !== 0) {
      let next = pWeight[s + u];
      let total = 0;
      for (let j = u - 1; j >= 0; j--) {
        const tmp = (next * d) / ((j + 1) * one);
        total += tmp;
        next = pWeight[s + j] - (tmp * zero * (u - j)) / d;
      }
      gPhi[pFeature[s + i]] += total * (one - zero) * v;
    } else {
      if (coldSum !== coldSum) {
        coldSum = 0;
        for (let j = 0; j < u; j++) coldSum += (pWeight[s + j] * d) / (u - j);
      }
      gPhi[pFeature[s + i]] -= coldSum * v;
    }
  }
}

/** RECURSE of Algorithm 2; `s` is where this node's path starts in the path buffers. */
function recurse(n, u, parentStart, zero, one, feature) {
  const s = parentStart + u + 1;
  for (let i = 0; i < u; i++) {
    pFeature[s + i] = pFeature[parentStart + i];
    pZero[s + i] = pZero[parentStart + i];
    pOne[s + i] = pOne[parentStart + i];
    pWeight[s + i] = pWeight[parentStart + i];
  }
  extendPath(s, u, zero, one, feature);
  const f = gFeature[n];
  if (f < 0) {
    creditLeaf(s, u, gValue[n]);
    return;
  }
  const v = gX[f];
  const t = gThreshold[n];
  const hot = v < t ? gLeft[n] : v >= t ? gRight[n] : gMissing[n];
  const cold = hot === gLeft[n] ? gRight[n] : gLeft[n];
  let incomingZero = 1;
  let incomingOne = 1;
  let k = 0;
  while (k <= u && pFeature[s + k] !== f) k++;
  if (k <= u) {
    // Feature already split on above: undo its earlier item, fold its fractions in here.
    incomingZero = pZero[s + k];
    incomingOne = pOne[s + k];
    unwindPath(s, u, k);
    u -= 1;
  }
  recurse(hot, u + 1, s, gZero[hot] * incomingZero, incomingOne, f);
  recurse(cold, u + 1, s, gZero[cold] * incomingZero, 0, f);
}

/**
 * Gauss–Legendre nodes and weights on [0, 1]: `q` points integrate polynomials of degree
 * ≤ 2q − 1 exactly.
 * @param {number} q
 * @returns {[Float64Array, Float64Array]}
 */
export function gaussLegendre01(q) {
  const t = new Float64Array(q);
  const w = new Float64Array(q);
  for (let i = 0; i < q; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (q + 0.5));
    let dp = 1;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= q; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = q === 1 ? 1 : (q * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    t[i] = (1 - x) / 2;
    w[i] = 1 / ((1 - x * x) * dp * dp);
  }
  return [t, w];
}

// Linear-time evaluation of the same values (method "linear", the default).
//
// In Algorithm 2 a leaf with value v credits the feature of path item i with
//   v · (o_i − z_i) · Σ_S |S|!(d−|S|−1)!/d! · Π_{j∈S} o_j · Π_{j∉S, j≠i} z_j ,
// and by the Beta integral that weight equals ∫₀¹ Π_{j≠i} (z_j + (o_j − z_j) t) dt (expand
// the product: a term with |S| factors o_j·t integrates to |S|!(d−|S|−1)!/d!). The integrand
// is a polynomial of degree ≤ maxDepth − 1, so a Gauss–Legendre rule with ⌈maxDepth/2⌉
// points integrates it exactly. With R_l(t) = Π_j (z_j + (o_j − z_j) t) over the leaf's path, the credit is
// v (o_i − z_i) Σ_q w_q R_l(t_q) / F_i(t_q), and every leaf below the deepest split on a
// feature shares that feature's factor F_i, so the sum over leaves is accumulated bottom-up
// once per edge: O(nodes × depth) per tree instead of O(leaves × depth²). (Linear TreeShap,
// Yu, Bifet, Read & Xu, NeurIPS 2022, reaches the same complexity with polynomial
// arithmetic in a similar spirit.) The walk is iterative, with per-level state in typed
// arrays, so it allocates nothing. Unit tests check it against brute-force Shapley values
// and against the literal Algorithm 2 below; parity tests against XGBoost and shap.
function shapLinear(m) {
  const Q = m._gaussT.length;
  const T = m._gaussT;
  const W = m._gaussW;
  const R = m._levelR; // per level: path product R(t_q) at the node on that level
  const S = m._levelS; // per level: Σ over leaves below of v · R(t_q)
  const SAVE = m._levelSave; // per level: the ancestor's pending sums while this node runs
  const P = m._pending; // per feature: subtree sums reported by the topmost splits below
  const FZ = m._featureZero; // per feature: its merged zero / one fraction on the path
  const FO = m._featureOne;
  const lvNode = m._levelNode;
  const lvSide = m._levelSide;
  const lvHot = m._levelHot;
  const lvOldZ = m._levelOldZero;
  const lvOldO = m._levelOldOne;
  const lvNewZ = m._levelNewZero;
  const lvNewO = m._levelNewOne;
  const feature = m._feature;
  const threshold = m._threshold;
  const left = m._left;
  const right = m._right;
  const missing = m._missing;
  const value = m._value;
  const zero = m._zeroFraction;
  const repeat = m._repeat; // bit 1: an ancestor splits on this feature; bit 2: a descendant
  const x = gX;
  const phi = gPhi;
  FZ.fill(1);
  FO.fill(1);
  for (let q = 0; q < Q; q++) R[q] = 1;
  const roots = m._roots;
  for (let k = 0; k < roots.length; k++) {
    const root = roots[k];
    if (feature[root] < 0) continue; // a lone leaf credits nobody
    let level = 0;
    let n = root;
    descend: for (;;) {
      // Enter internal node n on `level`.
      const f = feature[n];
      const xv = x[f];
      const thr = threshold[n];
      lvNode[level] = n;
      lvHot[level] = xv < thr ? left[n] : xv >= thr ? right[n] : missing[n];
      lvOldZ[level] = FZ[f];
      lvOldO[level] = FO[f];
      lvSide[level] = 0;
      const base = level * Q;
      for (let q = 0; q < Q; q++) S[base + q] = 0;
      if (repeat[n] & 2) {
        // Splits on f below will report into P[f]: start from zero, keep the outer sums.
        const pf = f * Q;
        for (let q = 0; q < Q; q++) {
          SAVE[base + q] = P[pf + q];
          P[pf + q] = 0;
        }
      }
      // Walk its children; descend into internal ones, settle leaves in place.
      for (;;) {
        const nn = lvNode[level];
        const ff = feature[nn];
        const b = level * Q;
        const side = lvSide[level];
        if (side < 2) {
          const c = side === 0 ? left[nn] : right[nn];
          const oZ = lvOldZ[level];
          const oO = lvOldO[level];
          const nZ = oZ * zero[c];
          const nO = c === lvHot[level] ? oO : 0;
          const fresh = (repeat[nn] & 1) === 0; // f not yet on the path: old factor is 1
          if (feature[c] < 0) {
            // Leaf child: its credit v·Σ w R/F_new needs no division by F_new.
            const v = value[c];
            const dn = nO - nZ;
            let acc = 0;
            if (fresh) {
              for (let q = 0; q < Q; q++) {
                const ratio = R[b + q];
                S[b + q] += v * ratio * (nZ + dn * T[q]);
                acc += W[q] * ratio;
              }
            } else {
              for (let q = 0; q < Q; q++) {
                const t = T[q];
                const oldF = oZ + (oO - oZ) * t;
                const ratio = oldF === 0 ? 0 : R[b + q] / oldF;
                S[b + q] += v * ratio * (nZ + dn * t);
                acc += W[q] * ratio;
              }
            }
            phi[ff] += (nO - nZ) * v * acc;
            lvSide[level] = side + 1;
            continue;
          }
          // Internal child: set up its level, then descend.
          lvNewZ[level] = nZ;
          lvNewO[level] = nO;
          const cb = b + Q;
          const dn = nO - nZ;
          if (fresh) {
            for (let q = 0; q < Q; q++) R[cb + q] = R[b + q] * (nZ + dn * T[q]);
          } else {
            for (let q = 0; q < Q; q++) {
              const t = T[q];
              const oldF = oZ + (oO - oZ) * t;
              R[cb + q] = oldF === 0 ? 0 : (R[b + q] / oldF) * (nZ + dn * t);
            }
          }
          FZ[ff] = nZ;
          FO[ff] = nO;
          level += 1;
          n = c;
          continue descend;
        }
        // Both children done: hand this subtree's sums to the nearest split on f above.
        const flags = repeat[nn];
        if (flags & 1) {
          const pf = ff * Q;
          if (flags & 2) for (let q = 0; q < Q; q++) P[pf + q] = SAVE[b + q] + S[b + q];
          else for (let q = 0; q < Q; q++) P[pf + q] += S[b + q];
        }
        if (level === 0) break descend;
        // Back in the parent: restore f's fractions, credit the edge into the finished child.
        level -= 1;
        const pn = lvNode[level];
        const pfeat = feature[pn];
        const pb = level * Q;
        const nZ = lvNewZ[level];
        const nO = lvNewO[level];
        FZ[pfeat] = lvOldZ[level];
        FO[pfeat] = lvOldO[level];
        let acc = 0;
        if (repeat[pn] & 2) {
          const ppf = pfeat * Q;
          for (let q = 0; q < Q; q++) {
            const newF = nZ + (nO - nZ) * T[q];
            const sum = S[pb + Q + q];
            if (newF !== 0) acc += (W[q] * (sum - P[ppf + q])) / newF;
            S[pb + q] += sum;
            P[ppf + q] = 0;
          }
        } else {
          for (let q = 0; q < Q; q++) {
            const newF = nZ + (nO - nZ) * T[q];
            const sum = S[pb + Q + q];
            if (newF !== 0) acc += (W[q] * sum) / newF;
            S[pb + q] += sum;
          }
        }
        phi[pfeat] += (nO - nZ) * acc;
        lvSide[level] += 1;
      }
    }
  }
}

function shapAlgorithm2(m) {
  pFeature = m._pathFeature;
  pZero = m._pathZero;
  pOne = m._pathOne;
  pWeight = m._pathWeight;
  const roots = m._roots;
  for (let k = 0; k < roots.length; k++) recurse(roots[k], 0, 0, 1, 1, -1);
}

/**
 * The result of {@link explain}.
 * @typedef {object} Explanation
 * @property {number} expectedValue SHAP base value (margin space): the cover-weighted mean
 *   margin, identical for every input.
 * @property {Float64Array} contributions One SHAP value per feature, in `featureNames`
 *   order, in margin space. `expectedValue + Σ contributions === margin` up to rounding.
 * @property {ReadonlyArray<string>} featureNames
 * @property {number} margin The float64 margin (what the contributions add up to).
 * @property {number} prediction `link(margin)`: popularity, or probability for a
 *   logistic model.
 * @property {"output"|"margin"} space `"output"` when the link is identity (contributions
 *   are in prediction units); otherwise `"margin"` (log-odds for a logistic model,
 *   log for an exp link), because SHAP values only add up on the margin scale.
 * @property {"identity"|"logistic"|"exp"} link
 */

/**
 * Exact path-dependent TreeSHAP values for one input: the values of Lundberg et al.
 * (2018), Algorithm 2, which XGBoost's `pred_contribs=True` and `shap.TreeExplainer`
 * (tree_path_dependent) compute.
 *
 * Two exact evaluations of the same quantity are available:
 *  - `"linear"` (default): O(nodes × depth) per tree (Beta-integral form evaluated by an
 *    exact Gauss–Legendre rule, see `shapLinear`), about 4× faster on depth-7 trees;
 *  - `"algorithm2"`: the paper's EXTEND/UNWIND recursion, O(leaves × depth²), kept as the
 *    literal reference the tests compare against.
 * They agree to ~1e-12; contributions add up to `margin − expectedValue` to rounding.
 *
 * @param {ExportedModel|PreparedModel} model
 * @param {ModelInput} input
 * @param {{ignoreUnknown?: boolean, method?: "linear"|"algorithm2"}} [options]
 * @returns {Explanation}
 */
export function explain(model, input, options) {
  const m = prepareModel(model);
  const x = m._x;
  fillInput(m, input, x, options);
  const method = (options && options.method) || "linear";
  if (method !== "linear" && method !== "algorithm2") fail(`unknown explain method ${JSON.stringify(method)}`);
  const phi = new Float64Array(m.numFeatures);
  gFeature = m._feature;
  gThreshold = m._threshold;
  gLeft = m._left;
  gRight = m._right;
  gMissing = m._missing;
  gValue = m._value;
  gZero = m._zeroFraction;
  gX = x;
  gPhi = phi;
  try {
    if (method === "linear") shapLinear(m);
    else shapAlgorithm2(m);
  } finally {
    gX = gPhi = null;
  }
  const z = margin(m, x, false);
  return {
    expectedValue: m.expectedValue,
    contributions: phi,
    featureNames: m.featureNames,
    margin: z,
    prediction: response(m.link, z, false),
    space: m.link === "identity" ? "output" : "margin",
    link: m.link,
  };
}

/**
 * A prediction interval.
 * @typedef {object} Interval
 * @property {number} lower
 * @property {number} upper
 * @property {number|null} alpha Miscoverage level (0.1 → a 90% interval), if known.
 * @property {string|null} group The group key whose offsets were used, or null for global.
 */

/**
 * Conformal prediction interval around a point prediction, from the offsets the exporter
 * stored in `metadata.interval`. Two shapes are read:
 *
 * 1. One level, possibly asymmetric:
 *    ```json
 *    {"alpha": 0.1, "lower_offset": 12.5, "upper_offset": 15.0, "clip": [0, 100],
 *     "by_group": {"rock": {"lower_offset": 11.0, "upper_offset": 13.2}}}
 *    ```
 *    Offsets are non-negative distances below and above the prediction.
 * 2. Symmetric half-widths per confidence level, as `analysis.models.conformal_offsets`
 *    returns them (Mondrian by macro-genre):
 *    ```json
 *    {"global": {"0.8": 9.1, "0.9": 12.4}, "by_stratum": {"rock": {"0.8": 8.0, "0.9": 11.2}}}
 *    ```
 *    `confidence` picks the level (default 0.9, or the only one stored).
 *
 * `lower = prediction − lower offset`, `upper = prediction + upper offset`; a `group` with
 * its own offsets uses them, any other group (or none) the global ones. The bounds are
 * clipped to `clip`, default `[0, 100]` (the popularity scale).
 *
 * @param {ExportedModel|PreparedModel} model
 * @param {number} prediction Point prediction on the response scale.
 * @param {string|null|{group?: string|null, confidence?: number}} [options] A group key
 *   (e.g. the macro-genre) or `{group, confidence}`.
 * @returns {Interval}
 * @throws {Error} If the model has no usable `metadata.interval` or the level is absent.
 */
export function intervalFor(model, prediction, options = null) {
  const m = prepareModel(model);
  const { group = null, confidence = null } =
    options !== null && typeof options === "object" ? options : { group: options };
  const spec = m.metadata && m.metadata.interval;
  if (!spec || typeof spec !== "object") fail("model metadata has no `interval` (conformal offsets)");
  if (typeof prediction !== "number" || !Number.isFinite(prediction)) fail("prediction must be a finite number");
  const has = (obj, key) => obj !== null && typeof obj === "object" && Object.prototype.hasOwnProperty.call(obj, key);
  let lo;
  let hi;
  let alpha;
  let usedGroup = null;
  if (has(spec, "global")) {
    const levels = Object.keys(spec.global);
    const key = confidence !== null ? String(confidence) : levels.length === 1 ? levels[0] : "0.9";
    if (!has(spec.global, key)) fail(`no interval offsets for confidence ${key} (have ${levels.join(", ")})`);
    const strata = spec.by_stratum || {};
    const own = group !== null && has(strata, group) && has(strata[group], key);
    lo = hi = own ? strata[group][key] : spec.global[key];
    usedGroup = own ? String(group) : null;
    alpha = 1 - Number(key);
  } else {
    if (confidence !== null && typeof spec.alpha === "number" && Math.abs(1 - spec.alpha - confidence) > 1e-9) {
      fail(`the stored interval has confidence ${1 - spec.alpha}, not ${confidence}`);
    }
    const byGroup = spec.by_group || {};
    const own = group !== null && has(byGroup, group);
    const source = own ? byGroup[group] : spec;
    lo = source.lower_offset;
    hi = source.upper_offset;
    usedGroup = own ? String(group) : null;
    alpha = typeof spec.alpha === "number" ? spec.alpha : null;
  }
  for (const [name, val] of [["lower_offset", lo], ["upper_offset", hi]]) {
    if (typeof val !== "number" || !Number.isFinite(val) || val < 0) {
      fail(`interval ${name}${usedGroup ? ` for group "${usedGroup}"` : ""} must be a finite number ≥ 0, got ${JSON.stringify(val)}`);
    }
  }
  const [cmin, cmax] = Array.isArray(spec.clip) ? spec.clip : [0, 100];
  const clip = (v) => Math.min(cmax, Math.max(cmin, v));
  return {
    lower: clip(prediction - lo),
    upper: clip(prediction + hi),
    alpha: alpha === null ? null : Math.round(alpha * 1e12) / 1e12,
    group: usedGroup,
  };
}
