// Run js/triage.js from the command line, for the Python parity tests and the benchmark.
//
//   node js/tools/triage_node.mjs validate FILE...            one JSON line per file: outcome,
//                                                              problems, rejects, counts
//   node js/tools/triage_node.mjs triage FILE [OUT.json]       ranked rows + rejects (JSON)
//   node js/tools/triage_node.mjs features FILE OUT            the model matrix of the accepted
//                                                              rows: OUT.f64 (row-major float64,
//                                                              NaN = missing) and OUT.json (lines,
//                                                              feature names)
//
// Options: --spec PATH (default models/triage/triage_spec.json), --model PATH (default
// models/export/cold_start.json). Paths are relative to the working directory.

import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import {
  featureMatrix, rankedRecord, reasonsFor, reasonText, triageBytes,
} from "../triage.js";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const specPath = option("--spec", "models/triage/triage_spec.json");
const modelPath = option("--model", "models/export/cold_start.json");
const explainTop = Number(option("--explain", "0"));
const [command, ...files] = args;
const spec = JSON.parse(readFileSync(specPath, "utf8"));
const model = JSON.parse(readFileSync(modelPath, "utf8"));

async function run(file) {
  const bytes = new Uint8Array(readFileSync(file));
  return triageBytes(bytes, model, spec);
}

if (command === "validate") {
  for (const file of files) {
    const r = await run(file);
    process.stdout.write(JSON.stringify({
      file: basename(file), status: r.status, problems: r.problems, rejects: r.rejects,
      read: r.read, accepted: r.accepted, rejected_lines: r.rejectedLines,
      accepted_lines: r.status === "ok" ? Array.from(r.catalogue.line) : [],
    }) + "\n");
  }
} else if (command === "triage") {
  const [file, out] = files;
  const r = await run(file);
  const ranked = r.status === "ok"
    ? Array.from(r.order, (row, k) => {
      const rec = rankedRecord(r.catalogue, r.scores, row, k + 1);
      if (k < explainTop) rec.reasons = reasonText(reasonsFor(model, r.catalogue, row, spec));
      return rec;
    })
    : [];
  const text = JSON.stringify({ status: r.status, problems: r.problems, rejects: r.rejects, read: r.read,
    accepted: r.accepted, rejected_lines: r.rejectedLines, timings: r.timings, ranked });
  if (out) writeFileSync(out, text);
  else process.stdout.write(text + "\n");
} else if (command === "features") {
  const [file, out] = files;
  const r = await run(file);
  if (r.status !== "ok") throw new Error(`${file}: ${JSON.stringify(r.problems.slice(0, 5))}`);
  // the whole model matrix: the hit classifier reads every column (the popularity model may
  // read fewer, a subset)
  const full = model.metadata.hit_probability.model;
  const X = featureMatrix(full, r.catalogue, spec);
  writeFileSync(`${out}.f64`, Buffer.from(X.buffer, X.byteOffset, X.byteLength));
  writeFileSync(`${out}.json`, JSON.stringify({
    feature_names: full.feature_names, lines: Array.from(r.catalogue.line),
    p_hit: Array.from(r.scores.pHit), prediction: Array.from(r.scores.prediction),
    rejects: r.rejects, timings: r.timings,
  }));
} else {
  process.stderr.write("usage: triage_node.mjs validate|triage|features FILE... (see the header)\n");
  process.exit(2);
}
