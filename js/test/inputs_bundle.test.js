// The Inputs bundle ships with the site so the predictor page needs no CDN (Quarto's OJS
// runtime would fetch Inputs/htl from cdn.jsdelivr.net). Check it exports what the page and
// the harness import, and that it neither imports nor fetches anything else.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bundlePath = join(here, "..", "inputs.bundle.js");

/** Names chapters/06-predictor.qmd and js/harness/predictor.html import from the bundle. */
export const PAGE_IMPORTS = ["range", "select", "toggle", "checkbox", "form", "html"];

test("inputs.bundle.js exports every name the predictor page imports", async () => {
  const bundle = await import(bundlePath);
  for (const name of PAGE_IMPORTS) {
    assert.equal(typeof bundle[name], "function", `inputs.bundle.js lacks ${name}`);
  }
});

test("inputs.bundle.js is self-contained: no imports, no off-site URLs", () => {
  const source = readFileSync(bundlePath, "utf8");
  assert.doesNotMatch(source, /\bimport\s*[{*"'(]/, "the bundle must not import other modules");
  const urls = source.match(/https?:\/\/[^"'\s)]+/g) ?? [];
  const offsite = urls.filter((u) => !u.startsWith("http://www.w3.org/"));
  assert.deepEqual(offsite, [], "the bundle must not reference off-site URLs");
});

test("the page imports only names that exist in the bundle", () => {
  const qmd = readFileSync(join(here, "..", "..", "chapters", "06-predictor.qmd"), "utf8");
  const harness = readFileSync(join(here, "..", "harness", "predictor.html"), "utf8");
  for (const [where, text] of [["06-predictor.qmd", qmd], ["harness", harness]]) {
    const match = text.match(/import\s*\{([^}]*)\}\s*from\s*["'][^"']*inputs\.bundle\.js["']/);
    assert.ok(match, `${where} does not import from inputs.bundle.js`);
    const names = match[1].split(",").map((s) => s.trim().split(/\s+as\s+/)[0]).filter(Boolean);
    for (const name of names) assert.ok(PAGE_IMPORTS.includes(name), `${where} imports ${name}`);
  }
});

test("page and harness load the same modules and exported files", () => {
  const qmd = readFileSync(join(here, "..", "..", "chapters", "06-predictor.qmd"), "utf8");
  const harness = readFileSync(join(here, "..", "harness", "predictor.html"), "utf8");
  const attached = [...qmd.matchAll(/FileAttachment\("\.\.\/models\/export\/([^"]+)"\)/g)].map((m) => m[1]).sort();
  const fetched = [...harness.matchAll(/"([a-z_]+\.json)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(attached, ["cold_start.json", "known_artist.json", "reference_tracks.json"]);
  assert.deepEqual(fetched, attached);
  for (const module of ["page.js", "inputs.bundle.js"]) {
    assert.ok(harness.includes(`from "../${module}"`), `harness does not import ${module}`);
  }
  assert.match(qmd, /import \{[^}]*\} from "\.\.\/js\/page\.js"/);
  assert.match(qmd, /import \{[^}]*\} from "\.\.\/js\/inputs\.bundle\.js"/);
  assert.match(qmd, /^md = /m, "the page must shadow md (Quarto would load marked from a CDN)");
  assert.doesNotMatch(qmd, /\bimport\s*\(/, "dynamic import() resolves against site_libs, not the page");
  assert.doesNotMatch(qmd, /\b(Inputs|Plot|d3)\./, "stdlib Inputs/Plot/d3 load from a CDN");
  assert.doesNotMatch(qmd, /https?:\/\/(?!open\.spotify\.com)/);
});
