// Entry point of js/inputs.bundle.js (npm run build:inputs): Observable Inputs and htl as
// one dependency-free ES module shipped with the site, because Quarto's OJS runtime would
// otherwise fetch them from cdn.jsdelivr.net, which an offline reader cannot reach.
export * from "@observablehq/inputs";
export { html, svg } from "htl";
