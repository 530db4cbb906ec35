import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { summaryState, reportLines, reviewCounts, fitTarget, reviewStyle, progressText } from "../static/js/imports.js";
import { translator } from "../static/js/i18n.js";

const counts = (c = {}) => ({ read: 3, created: 1, updated: 0, unchanged: 0, rejected: 0, flagged: 0, ...c });

test("the summary is red when a row was refused, even if the import succeeded", () => {
  const result = { status: "succeeded", counts: counts({ rejected: 1 }), errors: [{ row: 2, message: "x" }], warnings: [], flags: [] };
  assert.equal(summaryState(result), "rejected");
  assert.equal(summaryState({ status: "failed", counts: counts(), errors: [], warnings: [], flags: [] }), "rejected");
});

test("the summary is amber when rows were repaired or flagged, green otherwise", () => {
  const repaired = { status: "succeeded", counts: counts(), errors: [], warnings: [{ row: 1, message: "repaired geometry" }], flags: [] };
  const flagged = { status: "succeeded", counts: counts({ flagged: 1 }), errors: [], warnings: [], flags: [{ row: 3, message: "sliver" }] };
  const noteOnly = { status: "succeeded", counts: counts(), errors: [], warnings: [{ row: null, message: "columns not used" }], flags: [] };
  assert.equal(summaryState(repaired), "review");
  assert.equal(summaryState(flagged), "review");
  assert.equal(summaryState(noteOnly), "clean");
  assert.deepEqual(reviewCounts({ ...repaired, flags: flagged.flags }), { repaired: 1, flagged: 1 });
});

test("report lines come in row order, refusals first, with a rule when the server gives none", () => {
  const lines = reportLines({
    errors: [{ row: 3, message: "b", rule: "outside_programme" }],
    warnings: [{ row: 1, message: "a" }, { row: null, message: "file" }, { row: 3, message: "c", rule: "repaired" }],
    flags: [{ row: 2, message: "d" }],
  });
  assert.deepEqual(lines.map((l) => [l.row, l.severity, l.rule]), [
    [null, "warning", "adjusted"], [1, "warning", "adjusted"], [2, "flag", "review"],
    [3, "error", "outside_programme"], [3, "warning", "repaired"],
  ]);
});

test("the map fits the rows inside the programme, never a far-away row alone", () => {
  const programme = [[44, 22], [52.5, 40]];
  const kyiv = [[50.45, 30.5], [50.451, 30.501]];
  const iraq = [[30.5, 50.45], [30.501, 50.451]];
  assert.deepEqual(fitTarget([kyiv, iraq], programme), kyiv);
  assert.deepEqual(fitTarget([iraq], programme), programme);
  assert.deepEqual(fitTarget([], programme), programme);
  assert.deepEqual(fitTarget([kyiv, iraq], null), [[30.5, 30.5], [50.451, 50.451]]);
  assert.equal(fitTarget([], null), null);
});

test("each drawn kind has its own class and style: the repaired shape differs from the submitted one", () => {
  const repaired = reviewStyle("repaired");
  const submitted = reviewStyle("submitted");
  assert.match(repaired.className, /sg-import-repaired/);
  assert.match(submitted.className, /sg-import-submitted/);
  assert.notEqual(repaired.dashArray, submitted.dashArray);
  assert.equal(submitted.fill, false);
  assert.match(reviewStyle("corrected").className, /sg-import-corrected/);
});

test("a running import shows its stage and rows done of rows total, in the reader's language", () => {
  const catalogue = (lang) => JSON.parse(readFileSync(new URL(`../static/i18n/${lang}.json`, import.meta.url)));
  const en = translator(catalogue("en"));
  const uk = translator(catalogue("uk"));
  const running = { status: "running", stage: "check", rows_done: 4000, rows_total: 100000 };
  assert.equal(progressText(running, "en", en), "Checking rows: 4,000 of 100,000 rows");
  assert.equal(progressText(running, "uk", uk), "Перевірка рядків: 4\u00a0000 з 100\u00a0000 рядків");
  assert.equal(progressText({ ...running, stage: "write", rows_total: null }, "en", en), "Writing rows: 4,000 rows");
  assert.equal(progressText({ status: "queued", stage: null }, "en", en), "Working…");
});
