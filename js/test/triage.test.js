// The triage module (js/triage.js) on the committed spec (models/triage/triage_spec.json) and
// the cold-start export: Python's spelling of values, reading (gzip, BOM, line ends, blank
// lines, quotes), validation (header, cells, column types), features, scoring, ranking,
// reasons, "sounds like" and the CSV output. Parity with Python on the malformed corpus and on
// every real track is checked by tests/test_triage_web.py and js/test/triage_parity.test.js.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { explain, predictMatrix, prepareModel } from "../predictor.js";
import {
  acceptedCatalogue, featureMatrix, formatReason, modelSupport, nearestRows, parseNumber, prepareSpec,
  pyFloatRepr, pyRepr, rankOrder, reasonsFor, reasonText, soundsLikeMatrix, splitRecords, toCsv, triageBytes,
  validateRecords, valueOf, versionPart,
} from "../triage.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const spec = prepareSpec(JSON.parse(readFileSync(join(root, "models", "triage", "triage_spec.json"), "utf8")));
const model = prepareModel(JSON.parse(readFileSync(join(root, "models", "export", "cold_start.json"), "utf8")));
const hitModel = prepareModel(model.metadata.hit_probability.model);
const known = JSON.parse(readFileSync(join(root, "models", "export", "known_artist.json"), "utf8"));
const corpus = (name) => new Uint8Array(readFileSync(join(root, "tests", "malformed", name)));
const validText = readFileSync(join(root, "tests", "malformed", "valid.csv"), "utf8");
const enc = (text) => new TextEncoder().encode(text);

describe("Python's spelling of values", () => {
  test("floats as repr", () => {
    const cases = [[1.5, "1.5"], [-5, "-5.0"], [120, "120.0"], [1e-5, "1e-05"], [0.0001, "0.0001"], [1e16, "1e+16"],
      [1.2345678901234567e17, "1.2345678901234566e+17"], [Infinity, "inf"], [-Infinity, "-inf"], [NaN, "nan"],
      [0, "0.0"], [-0, "-0.0"], [123456789012345.6, "123456789012345.6"], [1e20, "1e+20"], [2.5e-7, "2.5e-07"]];
    for (const [x, expected] of cases) assert.equal(pyFloatRepr(x), expected, String(x));
  });

  test("strings as repr", () => {
    assert.equal(pyRepr("abc"), "'abc'");
    assert.equal(pyRepr("it's"), '"it\'s"');
    assert.equal(pyRepr(`it's "x"`), `'it\\'s "x"'`);
    assert.equal(pyRepr("a\tb\nc\\"), "'a\\tb\\nc\\\\'");
    assert.equal(pyRepr("é東京"), "'é東京'");
    assert.equal(pyRepr("\u00a0\u200b\x07"), "'\\xa0\\u200b\\x07'");
  });

  test("pandas' numbers: spaces, signs, exponents, inf; no hex, no NaN text, no thousands", () => {
    const ok = [[" 0.5", 0.5], ["0.5 ", 0.5], ["+0.5", 0.5], [".5", 0.5], ["5e-1", 0.5], ["1.", 1], ["-0", -0],
      ["1E-1", 0.1], ["inf", Infinity], ["-Infinity", -Infinity], ["iNf", Infinity], ["1e400", Infinity]];
    for (const [text, value] of ok) assert.ok(Object.is(parseNumber(text), value), text);
    for (const text of ["0x1", "1_0", "NaN", "nan", "1,5", "١", "0.5d", "  ", "0.5e", "", ".", "+", "e5", "infin"]) {
      assert.ok(Number.isNaN(parseNumber(text)), text);
    }
  });

  test("the value a problem's message shows, as the Python triage's rejects file has it", () => {
    assert.equal(valueOf("expected a number, got 'abc'"), "abc");
    assert.equal(valueOf("must be a finite number >= 0, got -5.0"), "-5.0");
    assert.equal(valueOf("must be a finite number, got inf"), "inf");
    assert.equal(valueOf("expected a whole number, got 1e+20"), "1e+20");
    assert.equal(valueOf("duplicate index value 1"), "1");
    assert.equal(valueOf("unknown genre 'polka': expected one of the labels"), "polka");
    assert.equal(valueOf("expected a number, got 'it\\'s'"), "it's");
    assert.equal(valueOf("expected a number, got 'abcdefghijklmnopqrstuvwxyzabcdefgh..."), "'abcdefghijklmnopqrstuvwxyzabcdefgh...");
    assert.equal(valueOf("missing value"), "");
    assert.equal(valueOf("has 22 fields but the header has 21"), "");
  });
});

describe("reading a file", () => {
  test("gzip is recognised by its bytes, a byte-order mark is dropped, CRLF and CR end lines", async () => {
    for (const bytes of [gzipSync(enc(validText)), enc(`\ufeff${validText}`), enc(validText.replace(/\n/g, "\r\n")),
      enc(validText.replace(/\n/g, "\r"))]) {
      const r = await triageBytes(bytes, model, spec);
      assert.equal(r.status, "ok");
      assert.deepEqual(Array.from(r.catalogue.line), [2, 3, 4, 5, 6]);
    }
  });

  test("lines are counted as Python's csv module counts them: quoted newlines, blank lines, mixed ends", () => {
    const [header, a, b, c] = validText.split("\n");
    const quoted = a.replace("Night Ferries,Night Ferries", '"Night\nFerries",Night Ferries');
    const text = [header, quoted, "", "   ", b].join("\n") + "\r\n" + c + "\r" + a + "\n";
    const split = splitRecords(text, spec);
    assert.deepEqual(split.records.map((r) => r.line), [2, 6, 7, 8]);
    assert.equal(split.records[0].fields[3], "Night\nFerries");
  });

  test("an unclosed quote rejects the record it opens on", () => {
    const lines = validText.trim().split("\n");
    lines[2] = lines[2].replace("Slow Thaw", '"Slow Thaw');
    const split = splitRecords(lines.join("\n") + "\n", spec);
    const v = validateRecords(split, spec);
    assert.equal(v.rowProblems.get(1)[0].message, spec.messages.unclosed_quote);
    assert.equal(v.rowProblems.get(1)[0].line, 3);
  });

  test("file errors: empty, blank header, another delimiter, header only, broken gzip", async () => {
    const cases = [[new Uint8Array(0), spec.messages.empty], [enc("\n\n"), spec.messages.blank_header],
      [enc(validText.replace(/,/g, "\t")), /tab-delimited/], [enc(validText.split("\n")[0] + "\n"), spec.messages.no_rows],
      [corpus("truncated.csv.gz"), spec.messages.gzip_truncated], [corpus("corrupt.csv.gz"), /^gzip stream is corrupt \(.+\); fetch it again$/]];
    for (const [bytes, expected] of cases) {
      const r = await triageBytes(bytes, model, spec);
      assert.equal(r.status, "error");
      if (expected instanceof RegExp) assert.match(r.problems[0].message, expected);
      else assert.equal(r.problems[0].message, expected);
    }
  });
});

describe("validation", () => {
  const parsed = splitRecords(validText, spec);
  const names = parsed.header;
  const header = names.join(",");
  const quote = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = parsed.records.map((r) => r.fields.map(quote).join(","));
  const run = (text) => validateRecords(splitRecords(text, spec), spec);
  const cellsOf = (row) => splitRecords(`${header}\n${row}\n`, spec).records[0].fields.map(quote);
  const withCell = (column, value, at = 0) => {
    const lines = rows.map((r) => cellsOf(r));
    lines[at][names.indexOf(column)] = value;
    return [header, ...lines.map((l) => l.join(","))].join("\n") + "\n";
  };

  test("a renamed required column is a header problem with a guess; a duplicated one too", () => {
    const renamed = run(validText.replace(",valence,", ",Valence ,"));
    assert.deepEqual(renamed.problems.map((p) => [p.line, p.column]), [[1, "valence"]]);
    assert.match(renamed.problems[0].message, /did you mean 'Valence '\? rename it to 'valence'/);
    const dup = run(validText.replace(",tempo,", ",energy,"));
    assert.deepEqual(dup.problems.map((p) => [p.line, p.column]), [[1, "energy"], [1, "tempo"]]);
  });

  test("cells: messages and values as analysis.schema spells them", () => {
    const cases = [
      ["energy", "1.5", "must be between 0 and 1, got 1.5"],
      ["popularity", "55.5", "expected a whole number, got 55.5"],
      ["popularity", "1e20", "expected a whole number, got 1e+20"],
      ["tempo", "abc", "expected a number, got 'abc'"],
      ["explicit", "yes", "expected True or False, got 'yes'"],
      ["track_genre", "  ", "must not be blank, got '  '"],
      ["track_genre", "polka", "unknown genre 'polka': expected one of the 114 labels in analysis/macro_genres.csv"],
      ["key", "12.0", "must be -1 to 11, got 12"],
      ["loudness", "-inf", "must be a finite number, got -inf"],
      ["track_id", "abc", "must be a 22-character base-62 Spotify track ID, got 'abc'"],
    ];
    for (const [column, value, message] of cases) {
      const v = run(withCell(column, value));
      assert.deepEqual(v.rowProblems.get(0).map((p) => [p.line, p.column, p.message]), [[2, column, message]], `${column}=${value}`);
    }
  });

  test("each cell read on its own: all-integer explicit flags, an all-integer float column", () => {
    const lines = rows.map(cellsOf);
    lines.forEach((l, i) => { l[names.indexOf("explicit")] = String(i % 2); });
    const v = run([header, ...lines.map((l) => l.join(","))].join("\n") + "\n");
    assert.equal(v.rowProblems.get(1)[0].message, "expected True or False, got '1'");
    const ints = rows.map(cellsOf);
    ints.forEach((l) => { l[names.indexOf("tempo")] = "120"; });
    const w = run([header, ...ints.map((l) => l.join(","))].join("\n") + "\n");
    assert.deepEqual(w.problems, []);
    assert.equal(w.rowProblems.size, 0);
  });

  test("only the required columns must be present; an extra column is ignored", async () => {
    const keep = names.map((n, i) => [n, i]).filter(([n]) => spec.required_columns.includes(n) || n === "extra");
    const text = [[...keep.map(([n]) => n), "extra"].join(","), ...rows.map((r) => [...keep.map(([, i]) => cellsOf(r)[i]), "x"].join(","))].join("\n");
    const r = await triageBytes(enc(text), model, spec);
    assert.equal(r.status, "ok");
    assert.equal(r.accepted, rows.length);
    assert.ok(r.scores.ood.every((v) => v === 1), "no genre: every row is out of distribution");
    assert.ok(r.scores.oodReason.every((x) => x.endsWith("track_genre")));
  });
});

describe("features", () => {
  const catalogueOf = async (records) => {
    const names = ["track_name", "album_name", "artists", "track_genre", ...spec.required_columns, "explicit"];
    const csv = toCsv(records.map((r) => ({
      danceability: 0.5, energy: 0.5, key: 5, loudness: -6.2, mode: 1, speechiness: 0.05, acousticness: 0.2,
      instrumentalness: 0.001, liveness: 0.1, valence: 0.5, tempo: 120.5, time_signature: 4, duration_ms: 200000,
      explicit: true, track_genre: "pop", ...r,
    })), names);
    const r = await triageBytes(enc(csv), model, spec);
    assert.equal(r.status, "ok", JSON.stringify(r.problems));
    // the hit classifier reads every column (the popularity model may read fewer)
    const X = featureMatrix(hitModel, r.catalogue, spec);
    const F = hitModel.numFeatures;
    return (row, name) => X[row * F + hitModel.featureNames.indexOf(name)];
  };

  test("title and album markers, with the version-part rule and Unicode word boundaries", async () => {
    const f = await catalogueOf([
      { track_name: "Live Forever", album_name: "Live Forever" },
      { track_name: "Song (Live)", album_name: "Greatest Hits 1999" },
      { track_name: "Éedit - Radio Edit", album_name: "x" },
      { track_name: "Straße feat. Someone", album_name: "STRASSE FEAT. SOMEONE" },
      { track_name: "Caféedit (x)", album_name: "Vol. 2" },
    ]);
    assert.equal(f(0, "title_live"), 0, "'Live Forever' is not a live recording");
    assert.equal(f(0, "is_single"), 1);
    assert.equal(f(1, "title_live"), 1);
    assert.equal(f(1, "album_compilation"), 1);
    assert.equal(f(1, "album_dated"), 1);
    assert.equal(f(2, "title_edit"), 1);
    assert.equal(f(3, "title_feat"), 1);
    assert.equal(f(3, "is_single"), 1, "casefold: ß = ss");
    assert.equal(f(4, "title_edit"), 0, "no word boundary between é and e");
    assert.equal(f(4, "album_compilation"), 1);
  });

  test("missing text is NaN, a missing genre is all zeros, lengths count code points", async () => {
    const f = await catalogueOf([{ track_name: "", album_name: "", artists: "", track_genre: "k-pop" }, { track_name: "🔥 x", artists: "A; ;B" }]);
    assert.ok(Number.isNaN(f(0, "title_remix")));
    assert.ok(Number.isNaN(f(0, "is_single")));
    assert.ok(Number.isNaN(f(0, "n_artists")));
    assert.equal(f(0, "genre_k_pop"), 1);
    assert.equal(f(0, "macro_east_asian"), 1);
    assert.equal(f(1, "title_length"), 3);
    assert.equal(f(1, "title_non_ascii"), 1);
    assert.equal(f(1, "n_artists"), 2);
  });

  test("version part: bracketed text and the text after ' - ', joined", () => {
    assert.equal(versionPart("A (Live) [2011 Remaster] - Radio Edit", spec), "Live 2011 Remaster Radio Edit");
    assert.equal(versionPart("Plain", spec), "");
    assert.equal(versionPart("x\u00a0-\u00a0live", spec), "live");
  });

  test("a model that needs the artist history cannot score in the browser, and says why", () => {
    const support = modelSupport(known, spec);
    assert.equal(support.usable, false);
    assert.match(support.reason, /artist/);
    assert.equal(spec.models.known_artist.usable, false);
    assert.equal(modelSupport(model, spec).usable, true);
  });
});

describe("scoring, ranking, reasons", () => {
  test("the example catalogue: every row scored or rejected, ranked by hit probability", async () => {
    const bytes = new Uint8Array(readFileSync(join(root, "models", "triage", "example_catalogue.csv")));
    const r = await triageBytes(bytes, model, spec);
    assert.equal(r.status, "ok");
    assert.equal(r.accepted + r.rejectedLines, r.read);
    assert.ok(r.rejectedLines >= 5);
    const p = Array.from(r.order, (i) => r.scores.pHit[i]);
    for (let k = 1; k < p.length; k++) assert.ok(p[k - 1] >= p[k]);
    for (let i = 0; i < r.accepted; i++) {
      assert.ok(r.scores.bounds[1][0][i] <= r.scores.bounds[0][0][i] && r.scores.bounds[0][1][i] <= r.scores.bounds[1][1][i]);
    }
  });

  test("each model is scored on its own columns, the popularity model on fewer when it reads fewer", async () => {
    const r = await triageBytes(enc(validText), model, spec);
    assert.ok(model.numFeatures <= hitModel.numFeatures);
    for (const [m, scores] of [[model, r.scores.prediction], [hitModel, r.scores.pHit]]) {
      const X = Float32Array.from(featureMatrix(m, r.catalogue, spec));
      assert.deepEqual(Array.from(scores), Array.from(predictMatrix(m, X, r.accepted, { float32: true })));
    }
  });

  test("ties: hit probability, then predicted popularity, then line", () => {
    const order = rankOrder(new Float64Array([0.5, 0.5, 0.9, 0.5]), new Float64Array([10, 20, 1, 20]), new Int32Array([2, 3, 4, 5]));
    assert.deepEqual(Array.from(order), [2, 1, 3, 0]);
  });

  test("reasons: the popularity model's contributions summed per driver, top three, in points", async () => {
    const r = await triageBytes(enc(validText), model, spec);
    const reasons = reasonsFor(model, r.catalogue, 0, spec);
    assert.equal(reasons.length, 3);
    for (let k = 1; k < 3; k++) assert.ok(Math.abs(reasons[k - 1].value) >= Math.abs(reasons[k].value));
    const x = new Float64Array(model.numFeatures);
    const X = featureMatrix(model, r.catalogue, spec);
    x.set(X.subarray(0, model.numFeatures));
    const e = explain(model, x);
    const genre = e.featureNames.reduce((s, n, i) => s + (n.startsWith("genre_") ? e.contributions[i] : 0), 0);
    const g = reasons.find((q) => q.group === "genre");
    if (g) assert.ok(Math.abs(g.value - genre) < 1e-9);
    assert.match(reasonText(reasons), /^[a-z -]+ [+\u2212]\d+\.\d, [a-z -]+ [+\u2212]\d+\.\d, [a-z -]+ [+\u2212]\d+\.\d$/);
    assert.equal(formatReason("genre", 4.21), "genre +4.2");
    assert.equal(formatReason("album-name markers", -3.08), "album-name markers \u22123.1");
    assert.equal(formatReason("energy", -0.04), "energy +0.0");
    assert.equal(formatReason("energy", 0.25), "energy +0.2");
  });

  test("sounds like: nearest in standardised audio features, the track's own rows left out, ties by line", async () => {
    const r = await triageBytes(enc(validText), model, spec);
    const Z = soundsLikeMatrix(r.catalogue, spec);
    const w = spec.sounds_like.features.length;
    const near = nearestRows(Z, w, 0, 2, { trackId: r.catalogue.text.track_id, line: r.catalogue.line });
    assert.equal(near.length, 2);
    assert.ok(!near.some((x) => x.row === 0));
    assert.ok(near[0].distance <= near[1].distance);
    const twin = nearestRows(Z, w, 0, 4, { trackId: ["a", "b", "a", "c", "d"], line: r.catalogue.line });
    assert.ok(!twin.some((x) => x.row === 2), "another row of the same track id is left out");
  });

  test("CSV: quoting, booleans as True/False, missing as empty", () => {
    const text = toCsv([{ a: 'x, "y"', b: true, c: null, d: 1.5, line: 7 }, { a: " lead", b: false, c: undefined, d: 72, line: 9 },
      { a: "", b: null, c: 1e-5, d: NaN, line: 10 }], ["a", "b", "c", "d", "line"]);
    assert.equal(text, 'a,b,c,d,line\n"x, ""y""",True,,1.5,7\n" lead",False,,72.0,9\n,,1e-05,,10\n');
  });

  test("accepted rows keep their input lines", async () => {
    const split = splitRecords(readFileSync(join(root, "tests", "malformed", "wrong_type.csv"), "utf8"), spec);
    const v = validateRecords(split, spec);
    const cat = acceptedCatalogue(split, v, spec);
    assert.deepEqual(Array.from(cat.line), [2, 3, 5]);
  });
});
