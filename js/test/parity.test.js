// Parity of js/predictor.js with XGBoost and shap on exported models.
//
// Reads every `*.fixture.json` in js/test/fixtures/ (small synthetic models, regenerate
// with `python js/test/make_fixtures.py`) and in the folders listed in
// $TRACK_ANALYTICS_JS_FIXTURES (path-delimited), e.g. a 10,000-track run of the champion
// models written by `analysis.export.write_parity_fixture`.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, delimiter, dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { explain, predict, predictBatch, prepareModel } from "../predictor.js";

const TOL = 1e-3; // |JS − Python| for predictions and per-feature SHAP values
const ADDITIVITY = 1e-6; // relative: expectedValue + Σ contributions vs margin

const builtIn = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const extra = (process.env.TRACK_ANALYTICS_JS_FIXTURES ?? "").split(delimiter).filter(Boolean);
const files = [builtIn, ...extra].flatMap((dir) =>
  existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith(".fixture.json")).sort().map((f) => join(dir, f))
    : [],
);

test("parity fixtures are present", () => {
  assert.ok(files.some((f) => dirname(f) === builtIn), `no fixtures in ${builtIn}; run python js/test/make_fixtures.py`);
});

const toInput = (row) => row.map((v) => (v === null ? NaN : v));
const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

for (const file of files) {
  const fixture = JSON.parse(readFileSync(file, "utf8"));
  const doc = JSON.parse(readFileSync(join(dirname(file), fixture.model_file), "utf8"));
  const model = prepareModel(doc);
  const rows = fixture.X.map(toInput);
  const py = fixture.xgboost;

  describe(`${basename(file)} (${fixture.objective}, ${rows.length} rows, ${model.numTrees} trees)`, () => {
    test("fixture and model agree on features", () => {
      assert.equal(fixture.version, 1);
      assert.deepEqual([...model.featureNames], fixture.feature_names);
    });

    test(`predictions within ${TOL} of booster.predict`, (t) => {
      let worst = 0;
      let worstMargin = 0;
      rows.forEach((x, r) => {
        worst = Math.max(worst, Math.abs(predict(model, x) - py.prediction[r]));
        worstMargin = Math.max(worstMargin, Math.abs(predict(model, x, { outputMargin: true }) - py.margin[r]));
      });
      t.diagnostic(`max |JS − XGBoost|: prediction ${worst.toExponential(2)}, margin ${worstMargin.toExponential(2)}`);
      assert.ok(worst <= TOL, `prediction off by ${worst}`);
      assert.ok(worstMargin <= TOL, `margin off by ${worstMargin}`);
    });

    test("float32 accumulation reproduces XGBoost's margins bit for bit", (t) => {
      const off = rows.filter((x, r) => predict(model, x, { float32: true, outputMargin: true }) !== Math.fround(py.margin[r]));
      t.diagnostic(`${rows.length - off.length}/${rows.length} margins identical`);
      assert.equal(off.length, 0, "float32 margins differ from XGBoost's: split rule or base margin drifted");
    });

    test("rows with missing values follow XGBoost's default directions", (t) => {
      const withNaN = rows.map((x, r) => [x, r]).filter(([x]) => x.some(Number.isNaN));
      t.diagnostic(`${withNaN.length} rows with missing values`);
      if (dirname(file) === builtIn) assert.ok(withNaN.length >= 20, "synthetic fixtures must exercise NaNs");
      for (const [x, r] of withNaN) {
        assert.equal(predict(model, x, { float32: true, outputMargin: true }), Math.fround(py.margin[r]));
      }
    });

    test("object input with missing keys equals the array with NaN", () => {
      const names = model.featureNames;
      rows.forEach((x) => {
        const obj = {};
        x.forEach((v, i) => {
          if (!Number.isNaN(v)) obj[names[i]] = v;
        });
        assert.equal(predict(model, obj), predict(model, x));
      });
    });

    test("predictBatch equals predict", () => {
      const batch = predictBatch(model, rows);
      rows.forEach((x, r) => assert.equal(batch[r], predict(model, x)));
    });

    test(`SHAP within ${TOL} of pred_contribs and shap.TreeExplainer, and additive`, (t) => {
      let vsXgb = 0;
      let vsShap = 0;
      let vsAlg2 = 0;
      let additivity = 0;
      let bias = 0;
      rows.forEach((x, r) => {
        const e = explain(model, x);
        vsXgb = Math.max(vsXgb, maxAbs(e.contributions, py.contribs[r]));
        if (fixture.shap) vsShap = Math.max(vsShap, maxAbs(e.contributions, fixture.shap.values[r]));
        bias = Math.max(bias, Math.abs(e.expectedValue - py.bias[r]));
        const sum = e.contributions.reduce((a, b) => a + b, e.expectedValue);
        additivity = Math.max(additivity, Math.abs(sum - e.margin) / Math.max(1, Math.abs(e.margin)));
        assert.equal(e.margin, predict(model, x, { outputMargin: true }));
        if (r < 50) vsAlg2 = Math.max(vsAlg2, maxAbs(e.contributions, explain(model, x, { method: "algorithm2" }).contributions));
      });
      t.diagnostic(
        `max |JS − pred_contribs| ${vsXgb.toExponential(2)}, |JS − shap| ${vsShap.toExponential(2)}, ` +
          `|expectedValue − bias| ${bias.toExponential(2)}, linear vs algorithm2 ${vsAlg2.toExponential(2)}, ` +
          `relative additivity error ${additivity.toExponential(2)}`,
      );
      assert.ok(vsXgb <= TOL, `pred_contribs off by ${vsXgb}`);
      assert.ok(vsShap <= TOL, `shap off by ${vsShap}`);
      assert.ok(bias <= TOL, `expected value off by ${bias}`);
      assert.ok(vsAlg2 <= 1e-9, `linear and algorithm2 differ by ${vsAlg2}`);
      assert.ok(additivity <= ADDITIVITY, `additivity off by ${additivity}`);
      if (fixture.shap) assert.ok(Math.abs(model.expectedValue - fixture.shap.expected_value) <= TOL);
    });

    if (model.link === "logistic") {
      test("logistic link: probabilities, margin-space explanations", () => {
        rows.forEach((x, r) => {
          const p = predict(model, x);
          assert.ok(p > 0 && p < 1);
          const z = predict(model, x, { outputMargin: true });
          assert.ok(Math.abs(p - 1 / (1 + Math.exp(-z))) < 1e-15);
          assert.ok(Math.abs(p - py.prediction[r]) <= 1e-6);
          const e = explain(model, x);
          assert.equal(e.space, "margin");
          assert.equal(e.prediction, p);
        });
      });
    }
  });
}
