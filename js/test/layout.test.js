// The predictor page's layout and rendering, without a browser: the harness uses the qmd's
// layout divs in the same order with the same cells inside, the waterfall keeps every label
// whole, and controls a model does not read are hidden and disabled. The browser checks
// (sticky result, in-viewport prediction) are in tests/test_predictor_page.py.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { renderWaterfall, setControlAvailability } from "../page.js";

const here = dirname(fileURLToPath(import.meta.url));
const qmd = readFileSync(join(here, "..", "..", "chapters", "06-predictor.qmd"), "utf8");
const harness = readFileSync(join(here, "..", "harness", "predictor.html"), "utf8");
const css = readFileSync(join(here, "..", "predictor.css"), "utf8");

const LAYOUT = ["predictor-layout", "predictor-controls", "predictor-result", "predictor-neighbours"];

/** Layout classes in the order the qmd's fenced divs open them. */
function qmdLayout(text) {
  return [...text.matchAll(/^:{3,}\s*\{([^}]*)\}\s*$/gm)]
    .flatMap((m) => [...m[1].matchAll(/\.([\w-]+)/g)].map((c) => c[1]))
    .filter((c) => LAYOUT.includes(c));
}

/** Layout classes in the order the harness's divs open them. */
function harnessLayout(text) {
  return [...text.matchAll(/<div class="([^"]*)"/g)]
    .flatMap((m) => m[1].split(/\s+/))
    .filter((c) => LAYOUT.includes(c));
}

/** The page.js render calls inside each layout div of the qmd. */
function qmdCallsByDiv(text) {
  const out = {};
  let current = null;
  for (const line of text.split("\n")) {
    const open = line.match(/^:::\s*\{\.(predictor-[\w-]+)\}/);
    if (open) current = open[1];
    else if (/^:::\s*$/.test(line)) current = null;
    else if (current) {
      for (const m of line.matchAll(/\b(render\w+|buildControls|setControlAvailability)\(/g)) {
        (out[current] ??= []).push(m[1]);
      }
    }
  }
  return out;
}

test("the harness lays out the page with the qmd's divs, in the qmd's order", () => {
  assert.deepEqual(qmdLayout(qmd), LAYOUT);
  assert.deepEqual(harnessLayout(harness), LAYOUT);
  assert.match(qmd, /^::::\s*\{\.predictor-layout \.column-page-right\}/m);
  assert.match(harness, /<div class="predictor-layout column-page-right">/);
  for (const sheet of ["../js/inputs.css", "../js/predictor.css"]) assert.ok(qmd.includes(sheet), sheet);
  for (const sheet of ["../inputs.css", "../predictor.css", "../../styles.css"]) assert.ok(harness.includes(sheet), sheet);
});

test("each layout div holds the same cells in the page and in the harness", () => {
  assert.deepEqual(qmdCallsByDiv(qmd), {
    "predictor-controls": ["renderModelCard", "buildControls", "setControlAvailability"],
    "predictor-result": ["renderSummary", "renderWarnings", "renderWaterfall"],
    "predictor-neighbours": ["renderNearest"],
  });
  const mounts = {
    "predictor-controls": ["model", "card", "preset", "macro", "genre", "controls", "availability"],
    "predictor-result": ["output", "waterfall"],
    "predictor-neighbours": ["nearest"],
  };
  for (const [div, ids] of Object.entries(mounts)) {
    const start = harness.indexOf(`<div class="${div}`);
    const end = harness.indexOf("</div>\n<div class=\"predictor-", start + 1);
    const block = harness.slice(start, end === -1 ? harness.indexOf("<h2", start) : end);
    for (const id of ids) assert.ok(block.includes(`id="${id}"`), `${div} lacks #${id}`);
  }
});

test("the result column is sticky beside the controls on wide screens", () => {
  const wide = css.slice(css.indexOf("@media (min-width: 992px)"));
  assert.match(wide, /\.predictor-result\s*\{[^}]*position:\s*sticky/);
  assert.match(wide, /\.predictor-result\s*\{[^}]*max-height:\s*calc\(100vh/);
});

// --- a minimal DOM, enough for page.js's render functions -----------------------------------

class FakeElement {
  constructor(tag) {
    this.tagName = tag.toUpperCase();
    this.attributes = {};
    this.children = [];
    this.textContent = "";
    this.hidden = false;
    this.disabled = false;
    this.dataset = {};
  }
  setAttribute(k, v) { this.attributes[k] = String(v); if (k.startsWith("data-")) this.dataset[k.slice(5)] = String(v); }
  getAttribute(k) { return this.attributes[k] ?? null; }
  append(...nodes) { this.children.push(...nodes); }
  *walk() { for (const c of this.children) { yield c; yield* c.walk(); } }
  querySelectorAll(selector) {
    const data = selector.match(/^\[data-feature="([^"]+)"\]$/);
    if (data) return [...this.walk()].filter((e) => e.dataset.feature === data[1]);
    const tags = selector.split(",").map((s) => s.trim().toUpperCase());
    return [...this.walk()].filter((e) => tags.includes(e.tagName));
  }
}
const fakeDocument = { createElement: (tag) => new FakeElement(tag) };

test("the waterfall shows every label whole, however long", () => {
  const long = "Marker: album name uses non-ASCII characters (accents, other scripts) and then some";
  const wf = {
    base: 34.6, prediction: 37.2,
    steps: [
      { label: long, value: 1.5, start: 34.6, end: 36.1 },
      { label: "Genre: french", value: 1.1, start: 36.1, end: 37.2 },
    ],
  };
  const figure = renderWaterfall(fakeDocument, wf);
  const labels = [...figure.walk()].filter((e) => e.getAttribute("data-role") === "wf-label").map((e) => e.textContent);
  assert.deepEqual(labels, ["Average prediction (expected value)", long, "Genre: french", "Prediction"]);
  const bars = [...figure.walk()].filter((e) => e.getAttribute("data-role") === "bar");
  assert.equal(bars.length, 4);
  for (const bar of bars) {
    const [, left, width] = bar.getAttribute("style").match(/left: ([\d.-]+)%; width: ([\d.]+)%/).map(Number);
    assert.ok(left >= 0 && left + width <= 100.01, bar.getAttribute("style"));
  }
});

test("controls a model does not read are hidden, disabled and named in a note", () => {
  const form = new FakeElement("form");
  const field = (key) => {
    const el = new FakeElement("form");
    el.dataset.feature = key;
    el.append(new FakeElement("input"));
    form.append(el);
    return el;
  };
  const energy = field("energy");
  const history = field("artist_mean_popularity");
  const specs = [
    { key: "energy", label: "Energy", models: ["cold_start", "known_artist"] },
    { key: "artist_mean_popularity", label: "Artist mean popularity", models: ["known_artist"] },
  ];
  const models = {
    cold_start: { metadata: { display_name: "New artist" } },
    known_artist: { metadata: { display_name: "Known artist" } },
  };
  const note = setControlAvailability(fakeDocument, form, specs, "cold_start", models);
  assert.equal(history.hidden, true);
  assert.equal(history.children[0].disabled, true);
  assert.equal(energy.hidden, false);
  assert.match(note.textContent, /Artist mean popularity: read only by Known artist, so hidden while New artist is selected/);
  const again = setControlAvailability(fakeDocument, form, specs, "known_artist", models);
  assert.equal(history.hidden, false);
  assert.equal(history.children[0].disabled, false);
  assert.equal(again.hidden, true);
});
