// Parity of the browser's triage (js/triage.js) with Python on real tracks.
//
// Reads the fixture folder named by $TRACK_ANALYTICS_TRIAGE_FIXTURES, written from the real
// data by `python -m analysis.export.triage_data` into the gitignored data/triage_web/parity/
// (tests/test_triage_web.py writes it and runs this file): catalogue.csv (every row of the
// raw dataset), features.f64 (analysis.features.features_from_raw's cold_start matrix) and
// expected.json (the champion's predictions and hit probabilities). Without the variable the
// test is skipped: the dataset is never committed.
//
// Required: every model column of every row identical (NaN = NaN), predictions and hit
// probabilities within 1e-4 of Python's, every row accepted on its own line. (On Linux they
// are bit-identical: the log line counts them; elsewhere XGBoost's expf may differ by an ulp.)

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { prepareModel } from "../predictor.js";
import { featureMatrix, triageBytes } from "../triage.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const dir = process.env.TRACK_ANALYTICS_TRIAGE_FIXTURES ?? "";
const have = dir !== "" && existsSync(join(dir, "expected.json"));
const TOL = 1e-4;

test("features, predictions and hit probabilities equal Python's on every real track",
  { skip: have ? false : "TRACK_ANALYTICS_TRIAGE_FIXTURES not set (tests/test_triage_web.py sets it)" }, async () => {
    const spec = JSON.parse(readFileSync(join(root, "models", "triage", "triage_spec.json"), "utf8"));
    const model = prepareModel(JSON.parse(readFileSync(join(root, "models", "export", "cold_start.json"), "utf8")));
    const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
    const bytes = new Uint8Array(readFileSync(join(dir, "catalogue.csv")));
    const r = await triageBytes(bytes, model, spec);
    assert.equal(r.status, "ok", JSON.stringify(r.problems.slice(0, 3)));
    assert.equal(r.rejects.length, 0, JSON.stringify(r.rejects.slice(0, 3)));
    assert.deepEqual(Array.from(r.catalogue.line), expected.lines);
    // the whole model matrix is the hit classifier's (the popularity model reads a subset)
    const full = prepareModel(model.metadata.hit_probability.model);
    assert.deepEqual([...full.featureNames], expected.feature_names);
    assert.ok(model.featureNames.every((name) => full.featureNames.includes(name)));
    const X = featureMatrix(full, r.catalogue, spec);
    const buffer = readFileSync(join(dir, "features.f64"));
    const P = new Float64Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 8);
    assert.equal(P.length, X.length);
    const F = full.numFeatures;
    const mismatches = [];
    for (let i = 0; i < X.length; i++) {
      const a = X[i];
      const b = P[i];
      if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) {
        mismatches.push(`line ${expected.lines[Math.floor(i / F)]}, ${full.featureNames[i % F]}: JS ${a}, Python ${b}`);
      }
    }
    assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} mismatches`);
    let worstPrediction = 0;
    let worstHit = 0;
    let samePrediction = 0;
    let sameHit = 0;
    for (let i = 0; i < r.accepted; i++) {
      worstPrediction = Math.max(worstPrediction, Math.abs(r.scores.prediction[i] - expected.prediction[i]));
      worstHit = Math.max(worstHit, Math.abs(r.scores.pHit[i] - expected.p_hit[i]));
      samePrediction += r.scores.prediction[i] === expected.prediction[i];
      sameHit += r.scores.pHit[i] === expected.p_hit[i];
    }
    console.log(`triage parity: ${r.accepted} rows x ${F} columns identical; max |prediction diff| ${worstPrediction}, max |p_hit diff| ${worstHit}; ` +
      `bit-identical: ${samePrediction} predictions, ${sameHit} hit probabilities`);
    assert.ok(worstPrediction <= TOL, `prediction differs by ${worstPrediction}`);
    assert.ok(worstHit <= TOL, `hit probability differs by ${worstHit}`);
  });
