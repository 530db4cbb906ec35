import test from "node:test";
import assert from "node:assert/strict";
import { pickLanguage, translator, formatArea, formatDate, formatNumber, formatDistance, vocabLabel, fieldLabel, adminPath } from "../static/js/i18n.js";

const en = translator({ "unit.m2": "m²", "unit.ha": "ha", "unit.km2": "km²", "unit.m": "m", "unit.km": "km", greet: "Hello {name}" });
const uk = translator({ "unit.m2": "м²", "unit.ha": "га", "unit.km2": "км²", "unit.m": "м", "unit.km": "км" });

test("the saved language wins, then the browser's, then English", () => {
  assert.equal(pickLanguage("uk", ["en-GB"]), "uk");
  assert.equal(pickLanguage(null, ["uk-UA", "en"]), "uk");
  assert.equal(pickLanguage("fr", ["de-DE", "en-US"]), "en");
  assert.equal(pickLanguage(null, ["de"]), "en");
});

test("translator fills placeholders and shows a missing key rather than nothing", () => {
  assert.equal(en("greet", { name: "Olena" }), "Hello Olena");
  assert.equal(en("missing.key"), "missing.key");
  assert.equal(translator({}, { a: "fallback" })("a"), "fallback");
});

test("areas pick m², ha or km² and format per locale", () => {
  assert.equal(formatArea(950, "en", en), "950 m²");
  assert.equal(formatArea(230141.2, "en", en), "23.01 ha");
  assert.equal(formatArea(230141.2, "uk", uk), "23,01 га");
  assert.equal(formatArea(12_345_678, "en", en), "12.35 km²");
  assert.equal(formatArea(null, "en", en), "–");
});

test("numbers, distances and dates follow the locale", () => {
  assert.equal(formatNumber(1234567, "en"), "1,234,567");
  assert.equal(formatNumber(1234567, "uk").replace(/\s/g, " "), "1 234 567");
  assert.equal(formatDistance(250.4, "en", en), "250 m");
  assert.equal(formatDistance(1520, "uk", uk), "1,5 км");
  assert.equal(formatDate("2025-09-12", "en"), "12 Sept 2025");
  assert.match(formatDate("2025-09-12", "uk"), /^12 вер\. 2025/);
  assert.equal(formatDate(null, "en"), "–");
});

test("a code without a label shows the code", () => {
  const t = translator({ "vocab.hazard_status.open": "Open" });
  assert.equal(vocabLabel(t, "hazard_status", "open"), "Open");
  assert.equal(vocabLabel(t, "hazard_status", "odd"), "odd");
});

test("fields show their label, never a raw key", () => {
  const t = translator({ "field.status": "Status", "field.date_of_information": "Date of information" });
  assert.equal(fieldLabel(t, "status"), "Status");
  assert.equal(fieldLabel(t, "date_of_information"), "Date of information");
  assert.equal(fieldLabel(t, "reference_point"), "reference point");
});

test("admin areas show by name, the codes on hover", () => {
  const names = { ZZ04: "Ambervale", ZZ0403: "Birch district" };
  assert.deepEqual(adminPath(["ZZ04", "ZZ0403"], names), { text: "Ambervale › Birch district", title: "ZZ04 › ZZ0403" });
  assert.deepEqual(adminPath(["ZZ09"], names), { text: "ZZ09", title: "ZZ09" });
  assert.deepEqual(adminPath([], names), { text: "–", title: "" });
  assert.deepEqual(adminPath(null), { text: "–", title: "" });
});
