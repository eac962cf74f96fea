// Papa Parse (https://www.papaparse.com, MIT) as one ES module for the triage page's Web
// Worker, bundled offline by `npm run build:papaparse` like inputs.bundle.js: no CDN.
import Papa from "papaparse";

export const parse = Papa.parse;
export const version = Papa.VERSION ?? null;
