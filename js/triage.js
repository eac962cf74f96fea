/**
 * Triage a catalogue in the browser: read a CSV (plain or gzip), validate it with the rules of
 * `analysis.schema`, build each model column as `analysis.features` does, score every
 * accepted row with the exported champion and its hit classifier, flag rows outside the
 * training data, rank, and explain a row on request.
 *
 * Nothing here is a copy of a Python rule: the rules come from the spec that
 * `analysis/export/triage_spec.py` writes (`models/triage/triage_spec.json`: columns, checks
 * and their wording, marker regexes translated from Python's `re`, Python's whitespace and
 * case-folding tables, driver groups, "sounds like" standardisation), and the model columns
 * from the champion's own `feature_names`. The parity tests (`tests/test_triage_web.py`)
 * compare the results with `analysis.schema`, `analysis.features` and the Python champion.
 *
 * The module has no DOM dependency: `js/triage.worker.js` runs it in a Web Worker, and
 * `node --test js/test/` runs it in Node. Its only import besides the tree evaluator is Papa
 * Parse, bundled into `js/papaparse.bundle.js`.
 *
 * Outcome of a file (the contract shared with the Python triage):
 *  - a problem without a line, or on the header (line 1), is an ERROR for the whole file
 *    (missing or duplicated column, empty file, header only, wrong delimiter, corrupt gzip,
 *    a column of the wrong type): nothing is scored;
 *  - a problem on a data line (≥ 2) REJECTS that row, with its line, column, value and reason;
 *  - read = accepted + rejected lines; a file with no accepted row is an error too.
 *
 * @module triage
 */

import { parse as papaParse } from "./papaparse.bundle.js";
import { explain, intervalFor, predictMatrix, prepareModel } from "./predictor.js";

/** `format` of the spec this module reads. */
export const SPEC_FORMAT = "track-analytics-triage-spec";
/** `version` of the spec this module reads. */
export const SPEC_VERSION = 1;

const GZIP_MAGIC = [0x1f, 0x8b];
const BOM = [0xef, 0xbb, 0xbf];
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
const NON_ASCII = /[^\x00-\x7F]/;
const ASCII_ONLY = /^[\x00-\x7F]*$/;
// Text on which Python's Unicode \b, \w, \d, \s, "." and "$" mean what JavaScript's ASCII
// ones mean (no control character, no line break, nothing outside ASCII).
// No bracket, no dash: no version part (the version-part regex needs one or the other).
const HAS_VERSION_PART = /[(\[{-]/;
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

/** A file-level failure: nothing is scored. `problems` as {@link Problem}. */
export class TriageFileError extends Error {
  constructor(problems) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "TriageFileError";
    /** @type {Problem[]} */
    this.problems = problems;
  }
}

/**
 * One thing wrong with the input, as `analysis.schema.Problem` reports it.
 * @typedef {object} Problem
 * @property {number|null} line 1-based input line (header = 1), or null for the whole file.
 * @property {string|null} column The expected column concerned, or null.
 * @property {string|null} value The raw cell text, when the problem is about one cell.
 * @property {string} message What is wrong, in `analysis.schema`'s words.
 */

/** "line 4, column 'tempo': expected a number, got 'abc'" */
export function formatProblem(p) {
  const where = [p.line != null ? `line ${p.line}` : null, p.column != null ? `column ${pyRepr(p.column)}` : null]
    .filter(Boolean).join(", ");
  return where ? `${where}: ${p.message}` : p.message;
}

function fail(message) {
  throw new Error(`triage: ${message}`);
}

function fill(template, fields) {
  return template.replace(/\{(\w+)\}/g, (m, key) => (key in fields ? String(fields[key]) : m));
}

// ---------------------------------------------------------------------------------------------
// Python's spelling of values (analysis.schema._show: repr, cut to 40 characters)
// ---------------------------------------------------------------------------------------------

/** Python's `repr` of a float. */
export function pyFloatRepr(x) {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const exp = Number(expText);
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${body}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac || "0"}`;
}

/** Python's `repr` of a str. */
export function pyRepr(s) {
  if (typeof s !== "string") return String(s);
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp >= 0x7f && !NON_PRINTABLE.test(ch) && cp !== 0x7f) out += ch;
    else if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return out + quote;
}

function cut(shown, limit) {
  const chars = [...shown];
  return chars.length <= limit ? shown : chars.slice(0, limit - 3).join("") + "...";
}

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

/**
 * Check and compile the spec once: regexes, Python's whitespace and case folding.
 * @param {object} spec Parsed `triage_spec.json`.
 */
export function prepareSpec(spec) {
  if (spec && spec._prepared) return spec;
  if (!spec || spec.format !== SPEC_FORMAT) fail(`not a ${SPEC_FORMAT} document`);
  if (spec.version !== SPEC_VERSION) fail(`spec version ${spec.version}, this page reads ${SPEC_VERSION}; reload the page`);
  const ws = spec.text.whitespace;
  const stripRe = new RegExp(`^[${ws}]+|[${ws}]+$`, "gu");
  const casefold = new Map(Object.entries(spec.text.casefold).map(([cp, s]) => [parseInt(cp, 16), s]));
  // Letters Python's case-insensitive re matches to an ASCII letter and JavaScript's does not.
  const fold = new Map(Object.entries(spec.text.match_fold ?? {}).map(([cp, s]) => [String.fromCodePoint(parseInt(cp, 16)), s]));
  const foldRe = fold.size ? new RegExp(`[${[...fold.keys()].join("")}]`, "gu") : null;
  const compile = (r, extra = "") => new RegExp(r.js, r.flags + extra);
  const markers = {};
  const asciiMarkers = {};
  for (const [name, recipe] of Object.entries(spec.features)) {
    if (recipe.kind !== "marker") continue;
    markers[name] = compile(recipe.regex);
    asciiMarkers[name] = new RegExp(recipe.regex.js_ascii, recipe.regex.flags.replace("u", ""));
  }
  const schema = spec.schema;
  const order = new Map([schema.index_name, ...schema.raw_columns].map((c, i) => [c, i]));
  const trackId = Object.values(schema.columns).flatMap((c) => c.checks).find((c) => c.kind === "track_id");
  return {
    ...spec,
    _prepared: true,
    strip: (s) => s.replace(stripRe, ""),
    isBlank: (s) => s.replace(stripRe, "") === "",
    casefold: (s) => pyCasefold(s, casefold),
    matchText: foldRe ? (s) => (foldRe.lastIndex = 0, foldRe.test(s) ? s.replace(foldRe, (c) => fold.get(c)) : s) : (s) => s,
    versionPart: compile(spec.text.version_part, "g"),
    markers,
    asciiMarkers,
    trackIdRe: trackId ? new RegExp(`^(?:${trackId.pattern.js})$`, trackId.pattern.flags) : null,
    columnOrder: order,
    genres: new Set(spec.taxonomy.genres),
  };
}

/** Python's `str.casefold`: `toLowerCase` per character, except where folding differs. */
function pyCasefold(s, table) {
  if (ASCII_ONLY.test(s)) return s.toLowerCase();
  let out = "";
  for (const ch of s) {
    const folded = table.get(ch.codePointAt(0));
    out += folded !== undefined ? folded : ch.toLowerCase();
  }
  return out;
}

/** Python's `len` (code points, not UTF-16 units). */
function pyLen(s) {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) { n -= 1; i += 1; }
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Bytes -> text
// ---------------------------------------------------------------------------------------------

function startsWith(bytes, prefix) {
  return prefix.every((b, i) => bytes[i] === b);
}

/** Decompress a gzip stream with the platform's DecompressionStream. */
async function gunzip(bytes, spec) {
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")).getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch (error) {
    const text = String((error && error.message) || error);
    const truncated = /truncat|unexpected end|premature|incomplete|end of (the )?(compressed )?(data|input|stream)/i.test(text);
    // zlib's own reason ("invalid literal/lengths set"), worded as Python's zlib error is
    const reason = text.replace(/^.*not valid:\s*/i, "").replace(/\.$/, "");
    const detail = /^(invalid|incorrect|unknown|too many|header)/i.test(reason)
      ? `Error -3 while decompressing data: ${reason}` : text;
    const message = truncated ? spec.messages.gzip_truncated : fill(spec.messages.gzip_corrupt, { detail });
    throw new TriageFileError([{ line: null, column: null, value: null, message }]);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/**
 * Index of the first byte of the first invalid UTF-8 sequence in `bytes[start, end)`, or -1
 * (Python's `UnicodeDecodeError.start`).
 */
function firstInvalidUtf8(bytes, start, end) {
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) { i += 1; continue; }
    let need;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) { need = 2; lo = 0xa0; }
    else if (b >= 0xe1 && b <= 0xec) need = 2;
    else if (b === 0xed) { need = 2; hi = 0x9f; }
    else if (b >= 0xee && b <= 0xef) need = 2;
    else if (b === 0xf0) { need = 3; lo = 0x90; }
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else if (b === 0xf4) { need = 3; hi = 0x8f; }
    else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (i + k >= end || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** analysis.schema._encoding_problems: every line (split at \n) that is not UTF-8. */
function encodingProblems(bytes, spec, header) {
  const problems = [];
  const decoder = new TextDecoder("utf-8");
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const bad = firstInvalidUtf8(bytes, start, end);
    if (bad >= 0) {
      const text = decoder.decode(bytes.subarray(start, end));
      const fields = papaParse(text, { delimiter: ",", newline: "\n", quoteChar: '"' }).data[0] ?? [];
      const badFields = fields.map((f, i) => (f.includes("\ufffd") ? i : -1)).filter((i) => i >= 0);
      const aligned = line > 1 && header && fields.length === header.length && badFields.length > 0;
      const byte = `0x${bytes[bad].toString(16).padStart(2, "0")}`;
      problems.push({
        line, column: aligned ? header[badFields[0]] : null, value: null,
        message: fill(spec.messages.not_utf8, { byte }),
      });
    }
    if (end >= bytes.length) break;
    start = end + 1;
    line += 1;
  }
  return problems;
}

/**
 * Bytes to text, as `analysis.schema.read_tracks_csv` reads them: gzip detected by its magic
 * bytes, a UTF-8 byte-order mark dropped, bytes that are not UTF-8 located by line.
 *
 * @param {Uint8Array} bytes
 * @returns {Promise<{text: string, encoding: Problem[]}>} `encoding`: lines that are not
 *   UTF-8 (decoded with U+FFFD; their rows are rejected).
 * @throws {TriageFileError} Empty file, broken gzip, a header that is not UTF-8.
 */
export async function decodeInput(bytes, spec) {
  spec = prepareSpec(spec);
  const M = spec.messages;
  if (startsWith(bytes, GZIP_MAGIC)) bytes = await gunzip(bytes, spec);
  if (bytes.length === 0) throw new TriageFileError([{ line: null, column: null, value: null, message: M.empty }]);
  if (startsWith(bytes, BOM)) bytes = bytes.subarray(3);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return { text, encoding: [] };
  } catch {
    text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  }
  const nl = bytes.indexOf(0x0a);
  const firstLine = bytes.subarray(0, nl < 0 ? bytes.length : nl);
  const cr = firstLine.indexOf(0x0d);
  const headerOk = firstInvalidUtf8(firstLine, 0, cr < 0 ? firstLine.length : cr) < 0;
  const problems = encodingProblems(bytes, spec, parseHeaderLine(new TextDecoder().decode(firstLine)));
  if (!headerOk) throw new TriageFileError(problems);
  return { text, encoding: problems };
}

function parseHeaderLine(line) {
  return papaParse(line.replace(/\r[\s\S]*$/, ""), { delimiter: ",", newline: "\n", quoteChar: '"' }).data[0] ?? [""];
}

// ---------------------------------------------------------------------------------------------
// Text -> records
// ---------------------------------------------------------------------------------------------

/**
 * A CSV record and the input line it starts on.
 * @typedef {{line: number, fields: string[]}} CsvRecord
 */

/**
 * Split the text into the header and records (Papa Parse), with the line each record starts
 * on counted as Python's `csv` module counts it (`\n`, `\r\n` and `\r` each end a line, also
 * inside quoted fields). Blank lines are skipped, as pandas skips them.
 *
 * @returns {{header: string[], records: CsvRecord[], unclosedQuoteLine: number|null}}
 * @throws {TriageFileError} Blank header, another delimiter, no data rows.
 */
export function splitRecords(text, spec) {
  spec = prepareSpec(spec);
  const M = spec.messages;
  const firstLine = text.split("\n", 1)[0].split("\r", 1)[0];
  if (spec.isBlank(firstLine)) {
    throw new TriageFileError([{ line: 1, column: null, value: null, message: M.blank_header }]);
  }
  const headerFields = parseHeaderLine(firstLine);
  if (headerFields.length === 1) {
    for (const [delimiter, word] of Object.entries(spec.schema.other_delimiters)) {
      if (firstLine.includes(delimiter)) {
        const count = firstLine.split(delimiter).length - 1;
        throw new TriageFileError([{ line: 1, column: null, value: null, message: fill(M.delimiter, { count, word }) }]);
      }
    }
  }
  const normalised = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  const parsed = papaParse(normalised, { delimiter: ",", newline: "\n", quoteChar: '"', escapeChar: '"', skipEmptyLines: false });
  const rows = parsed.data;
  let unclosedRow = null;
  for (const e of parsed.errors) if (e.code === "MissingQuotes") unclosedRow = e.row;
  const records = [];
  let line = 1;
  let unclosedQuoteLine = null;
  for (let r = 0; r < rows.length; r++) {
    const fields = rows[r];
    const start = line;
    let inner = 0;
    for (let f = 0; f < fields.length; f++) {
      const v = fields[f];
      if (v.length > 0 && v.indexOf("\n") >= 0) inner += v.split("\n").length - 1;
    }
    line += 1 + inner;
    if (r === 0) continue; // the header
    if (unclosedRow !== null && r === unclosedRow) unclosedQuoteLine = start;
    if (fields.length === 1 && spec.isBlank(fields[0])) continue; // blank line (pandas skips)
    records.push({ line: start, fields });
  }
  if (!records.length) {
    throw new TriageFileError([{ line: null, column: null, value: null, message: M.no_rows }]);
  }
  return { header: rows[0] ?? headerFields, records, unclosedQuoteLine };
}

// ---------------------------------------------------------------------------------------------
// Validation (analysis.schema's rules, row by row)
// ---------------------------------------------------------------------------------------------

/** Python's difflib SequenceMatcher(None, a, b).ratio() (no junk: strings under 200). */
function matchRatio(a, b) {
  const A = [...a];
  const B = [...b];
  let matches = 0;
  const queue = [[0, A.length, 0, B.length]];
  while (queue.length) {
    const [alo, ahi, blo, bhi] = queue.pop();
    let bi = alo;
    let bj = blo;
    let size = 0;
    let prev = new Map();
    for (let i = alo; i < ahi; i++) {
      const next = new Map();
      for (let j = blo; j < bhi; j++) {
        if (A[i] !== B[j]) continue;
        const k = (prev.get(j - 1) ?? 0) + 1;
        next.set(j, k);
        if (k > size) { bi = i - k + 1; bj = j - k + 1; size = k; }
      }
      prev = next;
    }
    if (size) {
      matches += size;
      if (alo < bi && blo < bj) queue.push([alo, bi, blo, bj]);
      if (bi + size < ahi && bj + size < bhi) queue.push([bi + size, ahi, bj + size, bhi]);
    }
  }
  const total = A.length + B.length;
  return total ? (2 * matches) / total : 1;
}

/** analysis.schema._closest: a header name the reader probably meant for `column`. */
function closestName(column, candidates, cutoff, spec) {
  for (const c of candidates) if (spec.strip(c).toLowerCase() === column) return c;
  let best = null;
  for (const c of candidates) {
    const score = matchRatio(c, column);
    if (score >= cutoff && (best === null || score > best.score || (score === best.score && c > best.name))) {
      best = { score, name: c };
    }
  }
  return best ? best.name : null;
}

function isEmpty(v) {
  return v === undefined || v === "";
}

// The kind of the last number scanned: 0 not a number, 1 an integer literal, 2 any other.
let scanKind = 0;

function isCSpace(c) {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * pandas' number parsing: optional spaces and sign, digits with an optional decimal point
 * and exponent, or "inf" / "infinity" in any case. Sets `scanKind`.
 * @returns {number} The value (±Infinity for inf), or NaN if the text is not a number.
 */
function scanNumber(s) {
  const n = s.length;
  let i = 0;
  while (i < n && isCSpace(s.charCodeAt(i))) i++;
  let end = n;
  while (end > i && isCSpace(s.charCodeAt(end - 1))) end--;
  scanKind = 0;
  if (i >= end) return NaN;
  let j = i;
  let c = s.charCodeAt(j);
  const negative = c === 45;
  if (c === 43 || c === 45) j++;
  if (j >= end) return NaN;
  c = s.charCodeAt(j);
  if (c === 105 || c === 73) {
    const word = s.slice(j, end).toLowerCase();
    if (word !== "inf" && word !== "infinity") return NaN;
    scanKind = 2;
    return negative ? -Infinity : Infinity;
  }
  let digits = 0;
  let integer = true;
  while (j < end && (c = s.charCodeAt(j)) >= 48 && c <= 57) { j++; digits++; }
  if (j < end && s.charCodeAt(j) === 46) {
    integer = false;
    j++;
    while (j < end && (c = s.charCodeAt(j)) >= 48 && c <= 57) { j++; digits++; }
  }
  if (digits === 0) return NaN;
  if (j < end && ((c = s.charCodeAt(j)) === 101 || c === 69)) {
    integer = false;
    j++;
    if (j < end && ((c = s.charCodeAt(j)) === 43 || c === 45)) j++;
    let exponent = 0;
    while (j < end && (c = s.charCodeAt(j)) >= 48 && c <= 57) { j++; exponent++; }
    if (exponent === 0) return NaN;
  }
  if (j !== end) return NaN;
  scanKind = integer ? 1 : 2;
  return i === 0 && end === n ? +s : +s.slice(i, end);
}

/** pandas' number parsing: a finite number, ±Infinity, or NaN if the text is not a number. */
export function parseNumber(text) {
  return scanNumber(text);
}

/** A whole number's Python spelling from its text (exact beyond 2^53, as pandas' int64). */
function intText(text) {
  const t = text.trim();
  try {
    return BigInt(t.replace(/^\+/, "")).toString();
  } catch {
    return String(Number(t));
  }
}

/**
 * Validate the records: every problem `analysis.schema.read_tracks_csv` (with the spec's
 * required columns) and `analysis.features.features_from_raw` (unknown genre) would report,
 * at the same line and column.
 *
 * @param {{header: string[], records: CsvRecord[], unclosedQuoteLine: number|null}} split
 * @param {Problem[]} [encoding] Lines that are not UTF-8 (from {@link decodeInput}).
 * @returns {{problems: Problem[], columns: Object<string, number>, cells: Object<string, Array>,
 *   rowProblems: Map<number, Problem[]>}} `cells`: the converted values of each present
 *   column, per record (null = missing); `rowProblems`: problems by record position.
 */
export function validateRecords(split, spec, encoding = []) {
  spec = prepareSpec(spec);
  const M = spec.messages;
  const S = spec.schema;
  const { header, records } = split;
  const problems = [];
  const limit = S.shown_value_chars;
  const show = (s) => cut(s, limit);

  // Header: duplicated known columns, missing required ones (with a guess).
  const counts = new Map();
  for (const h of header) counts.set(h, (counts.get(h) ?? 0) + 1);
  const known = new Set(S.raw_columns);
  for (const [name, count] of counts) {
    if (count > 1 && known.has(name)) {
      problems.push({ line: 1, column: name, value: null, message: fill(M.duplicate_column, { count }) });
    }
  }
  const unknown = header.filter((h) => !known.has(h));
  for (const column of spec.required_columns) {
    if (counts.has(column)) continue;
    let message = M.missing_column;
    const guess = closestName(column, unknown, S.did_you_mean_cutoff, spec);
    if (guess !== null) message += fill(M.did_you_mean, { guess: pyRepr(guess), column: pyRepr(column) });
    problems.push({ line: 1, column, value: null, message });
  }

  // Present columns (first occurrence), the index column under its own name.
  const columns = {};
  header.forEach((h, i) => {
    if (i === 0 && S.index_headers.includes(h)) columns[S.index_name] ??= i;
    else if (known.has(h) && !(h in columns)) columns[h] = i;
  });
  const present = Object.keys(columns).sort((a, b) => spec.columnOrder.get(a) - spec.columnOrder.get(b));
  const named = present.filter((c) => c !== S.index_name);

  // Rows that cannot be read cell by cell: not UTF-8, too many fields, an unclosed quote.
  const rowProblems = new Map();
  const addRow = (position, p) => {
    const list = rowProblems.get(position);
    if (list) list.push(p);
    else rowProblems.set(position, [p]);
  };
  const skip = new Uint8Array(records.length);
  const lineToPosition = new Map(records.map((r, i) => [r.line, i]));
  const recordOfLine = (line) => {
    let lo = 0;
    let hi = records.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (records[mid].line <= line) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  };
  for (const p of encoding) {
    const position = lineToPosition.get(p.line) ?? recordOfLine(p.line);
    if (position >= 0) { addRow(position, p); skip[position] = 1; }
    else problems.push(p);
  }
  const n = header.length;
  records.forEach((r, i) => {
    if (skip[i]) return;
    if (split.unclosedQuoteLine !== null && r.line === split.unclosedQuoteLine) {
      addRow(i, { line: r.line, column: null, value: null, message: M.unclosed_quote });
      skip[i] = 1;
    } else if (r.fields.length > n) {
      addRow(i, { line: r.line, column: null, value: null, message: fill(M.field_count, { count: r.fields.length, expected: n }) });
      skip[i] = 1;
    } else if (r.fields.length < n) {
      addRow(i, { line: r.line, column: null, value: null, message: fill(M.field_count, { count: r.fields.length, expected: n }) });
    }
  });

  // A line that repeats the header (concatenated files): reported once, as such.
  const threshold = Math.max(2, named.length / 2);
  const namedIndex = named.map((c) => columns[c]);
  records.forEach((r, i) => {
    if (skip[i]) return;
    let hits = 0;
    for (let k = 0; k < named.length; k++) if (r.fields[namedIndex[k]] === named[k]) hits += 1;
    if (hits >= threshold) {
      rowProblems.set(i, [{ line: r.line, column: null, value: null, message: M.repeated_header }]);
      skip[i] = 2;
    }
  });

  // Cells: conversion to the contract's type, then the schema's checks. First pass: parse
  // every number once and type the column as pandas' read_csv would (int if every cell is an
  // integer and none is empty, float if every cell is a number, otherwise text): the type
  // decides how a bad value is spelled, and a float column typed int is a column error.
  const cells = {};
  const kinds = new Uint8Array(records.length);
  const numbers = new Float64Array(records.length);
  // The present columns' texts, column by column, read off the records in one pass (each
  // column's loops then walk one array instead of every record's field list).
  const texts = present.map(() => new Array(records.length));
  const indexes = present.map((c) => columns[c]);
  for (let i = 0; i < records.length; i++) {
    const fields = records[i].fields;
    for (let k = 0; k < indexes.length; k++) texts[k][i] = fields[indexes[k]];
  }
  for (let k = 0; k < present.length; k++) {
    const column = present[k];
    const rule = S.columns[column];
    const text = texts[k];
    const numeric = rule.kind !== "string";
    // Each cell is read on its own, as analysis.schema reads a file (what else is in the
    // column never changes how a value reads or is shown).
    for (let i = 0; i < records.length; i++) {
      const raw = text[i];
      if (skip[i] === 1 || !numeric) continue;
      if (isEmpty(raw)) { kinds[i] = 0; continue; }
      numbers[i] = scanNumber(raw);
      kinds[i] = scanKind;
    }
    // Converted values: text (null = missing), numbers (NaN = missing), booleans (-1 = missing).
    const values = rule.kind === "string" ? new Array(records.length).fill(null)
      : rule.kind === "boolean" ? new Int8Array(records.length).fill(-1)
        : new Float64Array(records.length).fill(NaN);
    const seen = rule.unique ? new Set() : null;
    const report = (i, message, raw) => {
      if (skip[i] === 2) return;
      addRow(i, { line: records[i].line, column, value: raw ?? null, message });
    };
    // How Python spells a valid value of this column in a message.
    const spell = (i, raw, value) => (rule.kind === "string" ? pyRepr(raw)
      : rule.kind === "boolean" ? (value ? "True" : "False")
        : rule.kind === "float" ? pyFloatRepr(value)
          : kinds[i] === 1 ? intText(raw) : String(value));
    for (let i = 0; i < records.length; i++) {
      if (skip[i] === 1) continue;
      const raw = text[i];
      if (isEmpty(raw)) {
        if (!rule.nullable) report(i, M.missing_value, raw ?? "");
        continue;
      }
      let value;
      if (rule.kind === "string") {
        value = raw;
      } else if (rule.kind === "boolean") {
        const word = spec.strip(raw).toLowerCase();
        if (word !== "true" && word !== "false") {
          report(i, fill(M.expected_boolean, { value: show(pyRepr(raw)) }), raw);
          continue;
        }
        value = word === "true";
      } else if (rule.kind === "integer") {
        const x = numbers[i];
        if (kinds[i] !== 1) {  // integer text is whole, exactly, even beyond 2^53
          const whole = kinds[i] !== 0 && Number.isFinite(x) && x === Math.round(x) && Math.abs(x) <= S.max_exact_int;
          if (!whole) {
            const v = kinds[i] === 0 ? pyRepr(raw) : pyFloatRepr(x);
            report(i, fill(M.expected_whole, { value: show(v) }), raw);
            continue;
          }
        }
        value = x === 0 ? 0 : x;
      } else {
        if (kinds[i] === 0) {
          report(i, fill(M.expected_number, { value: show(pyRepr(raw)) }), raw);
          continue;
        }
        value = numbers[i];
      }
      values[i] = rule.kind === "boolean" ? (value ? 1 : 0) : value;
      const checks = rule.checks;
      for (let k = 0; k < checks.length; k++) {
        if (!passes(checks[k], value, spec)) {
          report(i, fill(M.check_failed, { error: checks[k].error, value: show(spell(i, raw, value)) }), raw);
          break;
        }
      }
      if (seen !== null && skip[i] === 0) {
        if (seen.has(value)) report(i, fill(M.duplicate_index, { value: show(spell(i, raw, value)) }), raw);
        else seen.add(value);
      }
    }
    cells[column] = values;
    texts[k] = null;
  }

  // The genre must be one of the taxonomy's labels (analysis.features.features_from_raw).
  if ("track_genre" in cells) {
    const genres = cells.track_genre;
    const stripped_ = new Array(records.length).fill(null);
    cells.primary_genre = stripped_;
    for (let i = 0; i < records.length; i++) {
      const g = genres[i];
      if (g === null) continue;
      const stripped = spec.strip(g);
      stripped_[i] = stripped;
      // As the Python triage: only rows that passed every other check (features_from_raw's
      // rule runs on validated rows).
      if (!spec.genres.has(stripped) && !rowProblems.has(i) && skip[i] === 0) {
        addRow(i, {
          line: records[i].line, column: "track_genre", value: g,
          message: fill(M.unknown_genre, { value: pyRepr(stripped), count: spec.taxonomy.genres.length }),
        });
      }
    }
  }

  for (const [, list] of rowProblems) list.sort(problemOrder(spec));
  return { problems: problems.sort(problemOrder(spec)), columns, cells, rowProblems };
}

function passes(check, v, spec) {
  switch (check.kind) {
    case "in_range": return v >= check.min && v <= check.max;
    case "ge": return v >= check.min;
    case "isin": return check.values.includes(v);
    case "finite": return Number.isFinite(v);
    case "finite_non_negative": return Number.isFinite(v) && v >= 0;
    case "track_id": return spec.trackIdRe.test(v);
    case "not_blank": return !spec.isBlank(v);
    default: return fail(`unknown check ${JSON.stringify(check.kind)} in the spec`);
  }
}

/** analysis.schema._to_problems' order: whole-file first, then by line, then column order. */
function problemOrder(spec) {
  const rank = (c) => (c === null ? -1 : spec.columnOrder.get(c) ?? -1);
  return (a, b) => (a.line !== null) - (b.line !== null) || (a.line ?? 0) - (b.line ?? 0) || rank(a.column) - rank(b.column);
}

// ---------------------------------------------------------------------------------------------
// Features (analysis.features, column by column from the spec's recipes)
// ---------------------------------------------------------------------------------------------

/**
 * The accepted rows as columns: what the features, the output and "sounds like" read.
 * @typedef {object} Catalogue
 * @property {number} n Rows.
 * @property {Int32Array} line Input line of each row.
 * @property {Object<string, Float64Array>} numbers Audio columns and duration (NaN = absent).
 * @property {Int8Array} explicit 1, 0, or -1 when the column is absent.
 * @property {Object<string, (string|null)[]|null>} text track_id, artists, album_name,
 *   track_name, track_genre (stripped), macro_genre; null when the column is absent.
 */

/** Collect the accepted records into a {@link Catalogue}. */
export function acceptedCatalogue(split, validation, spec) {
  spec = prepareSpec(spec);
  const { records } = split;
  const { cells, rowProblems } = validation;
  const keep = [];
  for (let i = 0; i < records.length; i++) if (!rowProblems.has(i)) keep.push(i);
  const n = keep.length;
  const line = new Int32Array(n);
  keep.forEach((i, k) => { line[k] = records[i].line; });
  const numbers = {};
  for (const column of spec.ood.columns) {
    const out = new Float64Array(n).fill(NaN);
    const values = cells[column];
    if (values) keep.forEach((i, k) => { out[k] = values[i]; });
    numbers[column] = out;
  }
  const explicit = new Int8Array(n).fill(-1);
  if (cells.explicit) keep.forEach((i, k) => { explicit[k] = cells.explicit[i]; });
  const text = {};
  for (const column of ["track_id", "artists", "album_name", "track_name"]) {
    text[column] = cells[column] ? keep.map((i) => cells[column][i]) : null;
  }
  // The genre as the model reads it (stripped), and as the file gives it (for the output).
  text.track_genre = cells.primary_genre ? keep.map((i) => cells.primary_genre[i]) : null;
  text.track_genre_raw = cells.track_genre ? keep.map((i) => cells.track_genre[i]) : null;
  text.macro_genre = text.track_genre ? text.track_genre.map((g) => (g === null ? null : spec.taxonomy.genre_to_macro[g] ?? null)) : null;
  return { n, line, numbers, explicit, text };
}

/**
 * A compiled feature builder for one model: `build(catalogue, row, out, offset)` writes the
 * model's columns (in `featureNames` order) of one row into `out`.
 *
 * @throws {Error} If the model needs a column the browser cannot build (no recipe, or the
 *   artist history the export does not carry).
 */
export function featureBuilder(model, spec) {
  spec = prepareSpec(spec);
  const m = prepareModel(model);
  const numbers = [];
  const texts = [];
  const genreSlot = new Map();
  const macroSlot = new Map();
  const oneHot = [];
  let explicitSlot = -1;
  m.featureNames.forEach((name, j) => {
    const recipe = spec.features[name];
    if (!recipe) fail(`the model needs the column ${JSON.stringify(name)}, which the triage spec does not describe; re-export (python -m analysis.export.triage_spec)`);
    switch (recipe.kind) {
      case "artist_history":
        fail(`the model needs ${name}, the artist's popularity history, which the browser export does not carry`);
        break;
      case "number": numbers.push([j, recipe.column]); break;
      case "boolean": explicitSlot = j; break;
      case "genre": genreSlot.set(recipe.value, j); oneHot.push(j); break;
      case "macro_genre": macroSlot.set(recipe.value, j); oneHot.push(j); break;
      default: texts.push(textFeature(j, name, recipe, spec));
    }
  });
  const numberSlots = Int32Array.from(numbers, ([j]) => j);
  const numberColumns = numbers.map(([, c]) => c);
  const oneHotSlots = Int32Array.from(oneHot);
  let bound = null;
  let sources = null;
  return (cat, r, out, offset) => {
    if (bound !== cat) {
      bound = cat;
      sources = numberColumns.map((c) => cat.numbers[c]);
    }
    for (let k = 0; k < numberSlots.length; k++) out[offset + numberSlots[k]] = sources[k][r];
    if (explicitSlot >= 0) out[offset + explicitSlot] = cat.explicit[r] < 0 ? NaN : cat.explicit[r];
    for (let k = 0; k < oneHotSlots.length; k++) out[offset + oneHotSlots[k]] = 0;
    const genre = cat.text.track_genre ? cat.text.track_genre[r] : null;
    if (genre !== null) {
      const g = genreSlot.get(genre);
      if (g !== undefined) out[offset + g] = 1;
      const macro = macroSlot.get(cat.text.macro_genre[r]);
      if (macro !== undefined) out[offset + macro] = 1;
    }
    const row = { r, version: undefined };
    for (let k = 0; k < texts.length; k++) out[offset + texts[k].slot] = texts[k].value(cat, row);
  };
}

/** One text feature as a small monomorphic function of (catalogue, row). */
function textFeature(slot, name, recipe, spec) {
  const column = (c) => (cat) => cat.text[c];
  switch (recipe.kind) {
    case "count_names": {
      const get = column(recipe.column);
      const sep = recipe.separator;
      return { slot, value: (cat, row) => {
        const col = get(cat);
        const a = col ? col[row.r] : null;
        if (a === null) return NaN;
        let k = 0;
        for (const part of a.split(sep)) if (!spec.isBlank(part)) k += 1;
        return k;
      } };
    }
    case "same_text": {
      const [ga, gb] = recipe.columns.map(column);
      return { slot, value: (cat, row) => {
        const ca = ga(cat);
        const cb = gb(cat);
        if (!ca || !cb) return NaN;
        const a = ca[row.r];
        const b = cb[row.r];
        if (a === null || b === null) return NaN;
        return spec.strip(spec.casefold(a)) === spec.strip(spec.casefold(b)) ? 1 : 0;
      } };
    }
    case "marker": {
      const get = column(recipe.column);
      const re = spec.markers[name];
      const ascii = spec.asciiMarkers[name];
      if (recipe.version_part_only) {
        return { slot, value: (cat, row) => {
          const col = get(cat);
          const t = col ? col[row.r] : null;
          if (t === null) return NaN;
          if (row.version === undefined) row.version = versionPart(t, spec);
          const v = row.version;
          if (v === "") return re.test("") ? 1 : 0;
          return PRINTABLE_ASCII.test(v) ? (ascii.test(v) ? 1 : 0) : (re.test(spec.matchText(v)) ? 1 : 0);
        } };
      }
      return { slot, value: (cat, row) => {
        const col = get(cat);
        const t = col ? col[row.r] : null;
        if (t === null) return NaN;
        return PRINTABLE_ASCII.test(t) ? (ascii.test(t) ? 1 : 0) : (re.test(spec.matchText(t)) ? 1 : 0);
      } };
    }
    case "length": {
      const get = column(recipe.column);
      return { slot, value: (cat, row) => {
        const col = get(cat);
        const t = col ? col[row.r] : null;
        return t === null ? NaN : pyLen(t);
      } };
    }
    case "non_ascii": {
      const get = column(recipe.column);
      return { slot, value: (cat, row) => {
        const col = get(cat);
        const t = col ? col[row.r] : null;
        return t === null ? NaN : NON_ASCII.test(t) ? 1 : 0;
      } };
    }
    default:
      return fail(`unknown feature recipe ${JSON.stringify(recipe.kind)}`);
  }
}

/** analysis.features._version_part: bracketed text and text after " - ", joined by spaces. */
export function versionPart(title, spec) {
  spec = prepareSpec(spec);
  if (!HAS_VERSION_PART.test(title)) return "";
  const re = spec.versionPart;
  re.lastIndex = 0;
  const parts = [];
  for (const m of title.matchAll(re)) parts.push(m[1] || m[2] || "");
  return parts.join(" ");
}

/** The feature matrix of every row (row-major Float64Array, NaN = missing). */
export function featureMatrix(model, catalogue, spec) {
  const m = prepareModel(model);
  const build = featureBuilder(m, spec);
  const F = m.numFeatures;
  const X = new Float64Array(catalogue.n * F);
  for (let r = 0; r < catalogue.n; r++) build(catalogue, r, X, r * F);
  return X;
}

// ---------------------------------------------------------------------------------------------
// Scoring, out-of-distribution flag, ranking
// ---------------------------------------------------------------------------------------------

/**
 * Whether the browser can score with this model, and if not, why (in plain words).
 * @returns {{usable: boolean, reason: string|null}}
 */
export function modelSupport(model, spec) {
  try {
    featureBuilder(model, spec);
    return { usable: true, reason: null };
  } catch (error) {
    return { usable: false, reason: String(error.message).replace(/^triage: /, "") };
  }
}

/** Rows per block of {@link predictRows}: small enough for the block to stay in cache. */
export const SCORE_CHUNK = 1024;

/**
 * Predicted popularity and hit probability of every row of a catalogue, as XGBoost computes
 * them (float32), block by block: build the block's model columns, then walk each model's
 * trees tree by tree ({@link predictMatrix}).
 *
 * @param {{chunk?: number, onProgress?: (done: number, total: number) => void}} [options]
 * @returns {{prediction: Float64Array, pHit: Float64Array}}
 */
export function predictRows(model, catalogue, spec, options = {}) {
  spec = prepareSpec(spec);
  const m = prepareModel(model);
  const hit = m.metadata.hit_probability && m.metadata.hit_probability.model;
  if (!hit) fail("the model has no hit classifier (metadata.hit_probability)");
  const h = prepareModel(hit);
  // The hit classifier reads the whole matrix; a popularity model that follows a recipe
  // reads fewer columns, so each gets its own block.
  const build = featureBuilder(m, spec);
  const buildHit = featureBuilder(h, spec);
  const F = m.numFeatures;
  const H = h.numFeatures;
  const n = catalogue.n;
  const chunk = options.chunk ?? SCORE_CHUNK;
  const block = Math.min(chunk, Math.max(n, 1));
  const X = new Float32Array(block * F);
  const XHit = new Float32Array(block * H);
  const prediction = new Float64Array(n);
  const pHit = new Float64Array(n);
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    for (let k = 0; k < rows; k++) {
      build(catalogue, start + k, X, k * F);
      buildHit(catalogue, start + k, XHit, k * H);
    }
    prediction.set(predictMatrix(m, X, rows, { float32: true }), start);
    pHit.set(predictMatrix(h, XHit, rows, { float32: true }), start);
    if (options.onProgress) options.onProgress(start + rows, n);
  }
  return { prediction, pHit };
}

/**
 * Rows `[start, end)` of a catalogue as a catalogue of their own (copies: what a helper
 * worker is sent to score its share).
 */
export function sliceCatalogue(catalogue, start, end) {
  const numbers = {};
  for (const [c, v] of Object.entries(catalogue.numbers)) numbers[c] = v.slice(start, end);
  const text = {};
  for (const [c, v] of Object.entries(catalogue.text)) text[c] = v ? v.slice(start, end) : null;
  return { n: end - start, line: catalogue.line.slice(start, end), numbers, explicit: catalogue.explicit.slice(start, end), text };
}

/**
 * The rest of the scores from the predictions: the 80% and 90% intervals (the export's
 * Mondrian offsets by macro-genre) and the out-of-distribution flag with its reason.
 */
export function completeScores(model, catalogue, spec, { prediction, pHit }) {
  spec = prepareSpec(spec);
  const m = prepareModel(model);
  const n = catalogue.n;
  const levels = spec.confidence_levels;
  const bounds = levels.map(() => [new Float64Array(n), new Float64Array(n)]);
  const macro = catalogue.text.macro_genre;
  const exact = exactOffsets(m, spec);
  if (exact) {
    // As analysis.models.conformal.apply_offsets: prediction ± q, clipped to [0, 100].
    const [lo, hi] = Array.isArray(m.metadata.interval.clip) ? m.metadata.interval.clip : [0, 100];
    const clip = (v) => Math.min(hi, Math.max(lo, v));
    for (let k = 0; k < levels.length; k++) {
      const key = String(levels[k]);
      const own = new Map(Object.entries(exact.by_stratum).map(([g, q]) => [g, q[key]]));
      const fallback = exact.global[key];
      for (let r = 0; r < n; r++) {
        const q = (macro && own.get(macro[r])) ?? fallback;
        bounds[k][0][r] = clip(prediction[r] - q);
        bounds[k][1][r] = clip(prediction[r] + q);
      }
    }
  } else {
    for (let r = 0; r < n; r++) {
      const group = macro ? macro[r] : null;
      for (let k = 0; k < levels.length; k++) {
        const iv = intervalFor(m, prediction[r], { group, confidence: levels[k] });
        bounds[k][0][r] = iv.lower;
        bounds[k][1][r] = iv.upper;
      }
    }
  }
  return { prediction, pHit, levels, bounds, ...outOfDistribution(m, catalogue, spec) };
}

/**
 * The champion's unrounded conformal offsets from the spec (`intervals[model name]`), when
 * they are the model's own: the same levels and strata as the export's
 * `metadata.interval`, each within its six-significant-digit rounding. Otherwise null, and
 * the export's rounded offsets serve (bounds then within 5e-6 of the Python triage's).
 */
export function exactOffsets(model, spec) {
  const m = prepareModel(model);
  const shown = m.metadata && m.metadata.interval;
  const exact = spec.intervals && m.metadata && spec.intervals[m.metadata.name];
  if (!exact || !shown || !shown.global || !exact.global) return null;
  const close = (a, b) => typeof a === "number" && typeof b === "number" && Math.abs(a - b) <= 1e-5 * Math.abs(b) + 1e-9;
  const same = (x, y) => {
    const keys = Object.keys(y);
    return Object.keys(x).length === keys.length && keys.every((key) => close(x[key], y[key]));
  };
  const strata = shown.by_stratum ?? {};
  const exactStrata = exact.by_stratum ?? {};
  if (!same(exact.global, shown.global)) return null;
  if (Object.keys(exactStrata).length !== Object.keys(strata).length) return null;
  for (const [g, levels] of Object.entries(strata)) {
    if (!exactStrata[g] || !same(exactStrata[g], levels)) return null;
  }
  for (const level of spec.confidence_levels) if (typeof exact.global[String(level)] !== "number") return null;
  return { global: exact.global, by_stratum: exactStrata };
}

/**
 * Score every row: predicted popularity, hit probability (both as XGBoost computes them, in
 * float32), the 80% and 90% intervals, the out-of-distribution flag and its reason.
 *
 * @param {object} model Exported champion (with `metadata.hit_probability.model`).
 * @param {Catalogue} catalogue
 * @param {{chunk?: number, onProgress?: (done: number, total: number) => void}} [options]
 */
export function scoreCatalogue(model, catalogue, spec, options = {}) {
  return completeScores(model, catalogue, spec, predictRows(model, catalogue, spec, options));
}

/**
 * Rows outside the central 99% of the training data on any audio feature or the duration
 * (the export's `feature_stats` quantiles), or without a genre.
 * @returns {{ood: Uint8Array, oodReason: string[]}}
 */
export function outOfDistribution(model, catalogue, spec) {
  const stats = prepareModel(model).metadata.feature_stats;
  const [qlo, qhi] = spec.ood.quantiles;
  const checks = spec.ood.columns.map((c) => {
    if (!stats[c]) fail(`the export has no feature_stats for ${c}`);
    return [c, stats[c].quantiles[qlo], stats[c].quantiles[qhi], catalogue.numbers[c]];
  });
  const genre = catalogue.text.track_genre;
  const ood = new Uint8Array(catalogue.n);
  const reason = new Array(catalogue.n).fill("");
  for (let r = 0; r < catalogue.n; r++) {
    let out = null;
    for (const [c, lo, hi, values] of checks) {
      const v = values[r];
      if (v < lo || v > hi) (out ??= []).push(c);
    }
    if (!genre || genre[r] === null) (out ??= []).push(spec.ood.genre_column);
    if (out) { ood[r] = 1; reason[r] = out.join(", "); }
  }
  return { ood, oodReason: reason };
}

/**
 * Rank order: hit probability descending, then predicted popularity descending, then line.
 * @returns {Int32Array} Row indices, best first.
 */
export function rankOrder(pHit, prediction, line) {
  const order = Int32Array.from({ length: pHit.length }, (_, i) => i);
  order.sort((a, b) => pHit[b] - pHit[a] || prediction[b] - prediction[a] || line[a] - line[b]);
  return order;
}

// ---------------------------------------------------------------------------------------------
// Reasons, "sounds like", output
// ---------------------------------------------------------------------------------------------

/**
 * The top contributions of the popularity model for one row, summed per driver group (the
 * Drivers chapter's groups and names), in popularity points.
 * @returns {{group: string, label: string, value: number}[]}
 */
export function reasonsFor(model, catalogue, row, spec) {
  spec = prepareSpec(spec);
  const m = prepareModel(model);
  const x = new Float64Array(m.numFeatures);
  featureBuilder(m, spec)(catalogue, row, x, 0);
  const e = explain(m, x);
  const sums = new Map();
  e.featureNames.forEach((name, i) => {
    const g = spec.drivers.groups[name] ?? name;
    sums.set(g, (sums.get(g) ?? 0) + e.contributions[i]);
  });
  // Largest first; equal ones in the order their first column comes (a stable sort).
  return [...sums.entries()]
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, spec.drivers.top)
    .map(([group, value]) => ({ group, label: spec.drivers.labels[group] ?? group, value }));
}

/** Python's `f"{x:.1f}"` of a non-negative number (ties to even, as Python rounds). */
function fixed1(x) {
  const scaled = x * 10;
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5) return ((floor % 2 === 0 ? floor : floor + 1) / 10).toFixed(1);
  return x.toFixed(1);
}

/** One reason as the Python triage words it: "genre +4.2", "album-name markers −3.1". */
export function formatReason(label, points) {
  const text = fixed1(Math.abs(points));
  return `${label} ${points < 0 && text !== "0.0" ? "\u2212" : "+"}${text}`;
}

/** "genre +4.2, energy −1.3, duration +0.8" */
export function reasonText(reasons) {
  return reasons.map((r) => formatReason(r.label, r.value)).join(", ");
}

/**
 * The "sounds like" features of every row, standardised by the training tracks' mean and
 * standard deviation (row-major Float64Array, rows × features; NaN where absent).
 */
export function soundsLikeMatrix(catalogue, spec) {
  const { features, mean, sd } = prepareSpec(spec).sounds_like;
  const k = features.length;
  const Z = new Float64Array(catalogue.n * k);
  features.forEach((f, j) => {
    const v = catalogue.numbers[f];
    for (let r = 0; r < catalogue.n; r++) Z[r * k + j] = (v[r] - mean[j]) / sd[j];
  });
  return Z;
}

/**
 * The `k` rows nearest to row `seed` (Euclidean distance in the standardised features), among
 * `candidates` (row indices; default every row), as the Python triage's "sounds like": every
 * row with the seed's track id (the seed itself when there is none) excluded, ties by line.
 * @returns {{row: number, distance: number}[]} Nearest first.
 */
export function nearestRows(Z, width, seed, k, { candidates = null, trackId = null, line = null } = {}) {
  const rows = candidates ?? Int32Array.from({ length: Z.length / width }, (_, i) => i);
  const own = trackId && trackId[seed] !== null ? trackId[seed] : null;
  const out = [];
  for (const r of rows) {
    if (r === seed || (own !== null && trackId[r] === own)) continue;
    let s = 0;
    for (let j = 0; j < width; j++) {
      const d = Z[r * width + j] - Z[seed * width + j];
      s += d * d;
    }
    out.push({ row: r, distance: Math.sqrt(s) });
  }
  const lineOf = (r) => (line ? line[r] : r);
  out.sort((a, b) => a.distance - b.distance || lineOf(a.row) - lineOf(b.row));
  return out.slice(0, k);
}

/** One ranked row in the output contract's columns (`spec.output.ranked`). */
export function rankedRecord(catalogue, scores, row, rank) {
  const t = (c) => (catalogue.text[c] ? catalogue.text[c][row] : null);
  const num = (c) => {
    const v = catalogue.numbers[c][row];
    return Number.isNaN(v) ? null : v;
  };
  const rec = {
    rank, line: catalogue.line[row],
    track_id: t("track_id"), track_name: t("track_name"), artists: t("artists"),
    album_name: t("album_name"), track_genre: t("track_genre_raw"), macro_genre: t("macro_genre"),
    p_hit: scores.pHit[row], predicted_popularity: scores.prediction[row],
  };
  scores.levels.forEach((level, k) => {
    const pct = Math.round(level * 100);
    rec[`lower_${pct}`] = scores.bounds[k][0][row];
    rec[`upper_${pct}`] = scores.bounds[k][1][row];
  });
  rec.out_of_distribution = scores.ood[row] === 1;
  rec.ood_reason = scores.oodReason[row];
  for (const c of ["energy", "valence", "danceability", "tempo", "duration_ms"]) rec[c] = num(c);
  rec.explicit = catalogue.explicit[row] < 0 ? null : catalogue.explicit[row] === 1;
  return rec;
}

/**
 * The offending value as a problem's message shows it (empty when none), as the Python
 * triage's rejects file has it: the text after ", got " (or of a duplicate index value or an
 * unknown genre), read back as Python's `ast.literal_eval` would (a quoted text unquoted, a
 * number as Python prints it), or as shown when it is no literal (inf, a value cut short).
 */
export function valueOf(message) {
  const m = GOT.exec(message) || WHOLE.exec(message);
  if (!m) return "";
  return literalText(m.groups.value);
}

const GOT = /, got (?<value>.+)$/s;
const WHOLE = /^(?:duplicate index value |unknown genre )(?<value>'.*?'|\S+?)(?::|$)/s;
const PY_INT = /^-?\d+$/;
const PY_FLOAT = /^-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$/;

function literalText(shown) {
  if (shown === "True" || shown === "False" || shown === "None") return shown;
  if (PY_INT.test(shown)) return String(BigInt(shown));
  if (PY_FLOAT.test(shown)) return pyFloatRepr(Number(shown));
  const q = shown[0];
  if ((q === "'" || q === '"') && shown.length >= 2 && shown.endsWith(q)) {
    const body = shown.slice(1, -1);
    let out = "";
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === q) return shown; // an unescaped quote: not one literal
      if (c !== "\\") { out += c; continue; }
      const e = body[++i];
      const hex = (n) => {
        const h = body.slice(i + 1, i + 1 + n);
        if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== n) return null;
        i += n;
        return String.fromCodePoint(parseInt(h, 16));
      };
      const simple = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v", 0: "\0" };
      if (e in simple) out += simple[e];
      else if (e === "x") { const h = hex(2); if (h === null) return shown; out += h; }
      else if (e === "u") { const h = hex(4); if (h === null) return shown; out += h; }
      else if (e === "U") { const h = hex(8); if (h === null) return shown; out += h; }
      else if (e === undefined) return shown;
      else out += `\\${e}`;
    }
    return out;
  }
  return shown;
}

/**
 * Rejected rows in the contract's columns (`line`, `column` — empty for a problem of the
 * whole row —, `value`, `reason`), ordered by line then column, as the Python triage writes
 * them.
 */
export function rejectRecords(validation) {
  const out = [];
  for (const [, list] of validation.rowProblems) {
    for (const p of list) out.push({ line: p.line, column: p.column ?? "", value: valueOf(p.message), reason: p.message });
  }
  out.sort((a, b) => a.line - b.line);
  return out;
}

function csvCell(v, integer) {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return !Number.isFinite(v) ? "" : integer && Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  const s = String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV text of records (header = `columns`), as pandas' `to_csv` writes the Python triage's
 * frames: RFC 4180 quoting, booleans True/False, floats as Python prints them, the
 * `integers` columns (line, rank, duration) as integers, missing values empty. One
 * deliberate difference: a text with a leading or trailing space or a lone carriage return
 * is quoted (pandas leaves it bare), so that no reader trims it or splits the row.
 * (The Python command line writes with pyarrow instead: every text quoted, true/false.)
 */
export function toCsv(records, columns, integers = INTEGER_COLUMNS) {
  const whole = columns.map((c) => integers.includes(c));
  const lines = [columns.join(",")];
  for (const r of records) lines.push(columns.map((c, k) => csvCell(r[c], whole[k])).join(","));
  return lines.join("\n") + "\n";
}

/** Output columns holding whole numbers (int64 in the Python triage's frames). */
export const INTEGER_COLUMNS = ["rank", "line", "duration_ms"];

// ---------------------------------------------------------------------------------------------
// The whole pipeline
// ---------------------------------------------------------------------------------------------

/**
 * Bytes in, ranked catalogue out (or a file error).
 *
 * @param {Uint8Array} bytes The file as read (plain or gzip).
 * @param {object} model Exported champion.
 * @param {object} spec `triage_spec.json`.
 * @param {{onProgress?: (phase: string, done: number, total: number) => void,
 *   predict?: (catalogue: Catalogue, onProgress: Function) => Promise<{prediction: Float64Array, pHit: Float64Array}>}} [options]
 *   `predict`: another way to get {@link predictRows}' answer (the worker shares the rows
 *   with a helper worker).
 * @returns {Promise<{status: "ok"|"error", problems: Problem[], rejects: object[],
 *   read: number, accepted: number, rejectedLines: number, catalogue?: Catalogue,
 *   scores?: object, order?: Int32Array, timings: Object<string, number>}>}
 */
export async function triageBytes(bytes, model, spec, options = {}) {
  spec = prepareSpec(spec);
  const progress = options.onProgress ?? (() => {});
  const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());
  const timings = {};
  let t = now();
  const lap = (name) => { const t1 = now(); timings[name] = t1 - t; t = t1; };
  const failed = (problems, extra = {}) => ({ status: "error", problems, rejects: [], read: 0, accepted: 0, rejectedLines: 0, timings, ...extra });
  let decoded;
  let split;
  try {
    progress("reading", 0, 1);
    decoded = await decodeInput(bytes, spec);
    lap("decode");
    progress("parsing", 0, 1);
    split = splitRecords(decoded.text, spec);
    lap("parse");
  } catch (error) {
    if (error instanceof TriageFileError) return failed(error.problems);
    throw error;
  }
  progress("validating", 0, split.records.length);
  const validation = validateRecords(split, spec, decoded.encoding);
  lap("validate");
  const rejects = rejectRecords(validation);
  const rejectedLines = validation.rowProblems.size;
  const read = split.records.length;
  const fileProblems = validation.problems.filter((p) => p.line === null || p.line === 1);
  if (fileProblems.length) return failed(validation.problems, { rejects, read, rejectedLines });
  const catalogue = acceptedCatalogue(split, validation, spec);
  if (catalogue.n === 0) {
    const rowProblems = [...validation.rowProblems.values()].flat().sort(problemOrder(spec));
    return failed([{ line: null, column: null, value: null, message: fill(spec.messages.no_valid_row, { count: rejectedLines }) },
      ...rowProblems], { rejects, read, rejectedLines });
  }
  const onProgress = (done, total) => progress("scoring", done, total);
  const predicted = options.predict
    ? await options.predict(catalogue, onProgress)
    : predictRows(model, catalogue, spec, { onProgress });
  const scores = completeScores(model, catalogue, spec, predicted);
  lap("score");
  progress("ranking", 0, 1);
  const order = rankOrder(scores.pHit, scores.prediction, catalogue.line);
  lap("rank");
  return { status: "ok", problems: [], rejects, read, accepted: catalogue.n, rejectedLines, catalogue, scores, order, timings };
}
