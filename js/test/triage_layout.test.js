// The triage page and its harness agree, and Quarto ships everything the page loads:
// chapters/08-triage.qmd and js/harness/triage.html show the same parts of the app under the
// same sections, in the same order; every module the page and its Web Worker import, and
// every file the worker fetches, is in _quarto.yml's `resources` (Quarto cannot see a
// worker's imports or fetches, so an unlisted file would 404 on the published site); and
// nothing on the page reaches off-site.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const read = (path) => readFileSync(join(root, path), "utf8");
const qmd = read("chapters/08-triage.qmd");
const harness = read("js/harness/triage.html");
const quarto = read("_quarto.yml");

/** [section id, app part] for every `app.<part>` cell of the qmd, in page order. */
function qmdParts(text) {
  const out = [];
  let section = null;
  let inOjs = false;
  for (const line of text.split("\n")) {
    const heading = line.match(/^## .*\{#(sec-[\w-]+)\}\s*$/);
    if (heading) section = heading[1];
    if (/^```\{ojs\}/.test(line)) inOjs = true;
    else if (/^```\s*$/.test(line)) inOjs = false;
    else if (inOjs) {
      const part = line.match(/^app\.(\w+)\s*$/);
      if (part) out.push([section, part[1]]);
    }
  }
  return out;
}

/** [section id, part] for every `<div id="part-...">` of the harness, in page order. */
function harnessParts(text) {
  const out = [];
  let section = null;
  for (const m of text.matchAll(/<h2 id="(sec-[\w-]+)"|<div id="part-(\w+)">/g)) {
    if (m[1]) section = m[1];
    else out.push([section, m[2]]);
  }
  return out;
}

/** The `resources` globs of _quarto.yml. */
function resources(text) {
  const block = text.match(/\n  resources:\n((?:\s+(?:#.*|- .*)\n)+)/)[1];
  return [...block.matchAll(/^\s+- (\S+)\s*$/gm)].map((m) => m[1]);
}

function matches(path, glob) {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
  return re.test(path);
}

/** js/ modules reachable by static imports from `start` (project-relative paths). */
function importsOf(start) {
  const seen = new Set();
  const stack = [start];
  while (stack.length) {
    const path = stack.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    for (const m of read(path).matchAll(/^import\s[^;]*?from\s+"(\.[^"]+)";?/gms)) {
      stack.push(posix.normalize(posix.join(posix.dirname(path), m[1])));
    }
  }
  return [...seen];
}

test("the qmd and the harness show the same parts under the same sections, in order", () => {
  const expected = [
    ["sec-triage-score", "input"], ["sec-triage-score", "status"], ["sec-triage-ranked", "results"],
    ["sec-triage-rejects", "rejects"], ["sec-triage-trust", "trust"],
  ];
  assert.deepEqual(qmdParts(qmd), expected);
  assert.deepEqual(harnessParts(harness), expected);
  assert.match(qmd, /^import \{createTriageApp\} from "\.\.\/js\/triage-page\.js"$/m);
  assert.match(qmd, /^app = createTriageApp\(document\)$/m);
  assert.match(harness, /import \{createTriageApp\} from "\.\.\/triage-page\.js";/);
  assert.match(harness, /createTriageApp\(document\)/);
  assert.ok(qmd.includes("../js/triage.css") && harness.includes("../triage.css"));
});

test("Quarto copies every module the page and its worker import, and every file they fetch", () => {
  const globs = resources(quarto);
  const modules = new Set([...importsOf("js/triage-page.js"), ...importsOf("js/triage.worker.js")]);
  modules.add("js/triage.worker.js");
  modules.add("js/triage.css");
  const page = read("js/triage-page.js");
  const fetched = [...page.matchAll(/url\("(models\/[^"]+)"\)/g)].map((m) => m[1]);
  assert.ok(fetched.includes("models/triage/triage_spec.json") && fetched.includes("models/export/cold_start.json"), fetched.join(", "));
  for (const path of [...modules, ...fetched]) {
    assert.ok(globs.some((g) => matches(path, g)), `${path} is not in _quarto.yml resources`);
  }
});

test("the page's modules reach nothing off-site", () => {
  for (const path of ["js/triage-page.js", "js/triage.worker.js", "js/triage.js", "js/papaparse.bundle.js"]) {
    const urls = read(path).match(/https?:\/\/[^"'\s)]+/g) ?? [];
    const offsite = urls.filter((u) => !u.startsWith("http://www.w3.org/") && !u.startsWith("https://github.com/mholt/PapaParse"));
    assert.deepEqual(offsite, [], path);
  }
  assert.doesNotMatch(read("js/papaparse.bundle.js"), /\bimport\s*[{*"'(]/, "the Papa Parse bundle must be self-contained");
});
