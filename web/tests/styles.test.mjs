import test from "node:test";
import assert from "node:assert/strict";
import { hazardStyle, releaseStyle, legendEntries, COLOURS, clusterRadius } from "../static/js/styles.js";

test("CHA red and SHA orange fills at 50 % transparency (IMAS TN 07.11/01)", () => {
  const cha = hazardStyle({ classification: "CHA", status: "open" });
  const sha = hazardStyle({ classification: "SHA", status: "open" });
  assert.equal(cha.fillColor, "#FF0000");
  assert.equal(sha.fillColor, "#F4A718");
  assert.equal(cha.fillOpacity, 0.5);
  assert.match(cha.className, /sg-cha/);
  assert.match(sha.className, /sg-sha/);
});

test("outline by status: open solid red, worked on dashed orange, closed green", () => {
  assert.equal(hazardStyle({ status: "open" }).dashArray, null);
  assert.equal(hazardStyle({ status: "open" }).color, COLOURS.open);
  assert.ok(hazardStyle({ status: "worked_on" }).dashArray);
  assert.equal(hazardStyle({ status: "worked_on" }).color, COLOURS.worked_on);
  assert.equal(hazardStyle({ status: "closed" }).color, COLOURS.closed);
  assert.equal(hazardStyle({ status: "handed_over" }).color, COLOURS.closed);
});

test("unknown values draw as the most dangerous case, never as safe", () => {
  const s = hazardStyle({ classification: "??", status: "??" });
  assert.equal(s.fillColor, COLOURS.CHA);
  assert.equal(s.color, COLOURS.open);
});

test("released land is green and its outline tells the outcome", () => {
  const cleared = releaseStyle({ outcome: "cleared" });
  assert.equal(cleared.fillColor, COLOURS.released);
  assert.equal(cleared.dashArray, null);
  assert.notEqual(releaseStyle({ outcome: "cancelled" }).dashArray, releaseStyle({ outcome: "reduced" }).dashArray);
});

test("the legend never relies on colour alone: fills have patterns, lines have dashes or labels", () => {
  const entries = legendEntries();
  assert.ok(entries.length >= 7);
  const fills = entries.filter((e) => e.swatch.fill);
  assert.deepEqual(fills.slice(0, 2).map((e) => e.swatch.pattern), ["hatch", "dots"]);
  for (const e of entries) assert.match(e.key, /^legend\./);
});

test("cluster radius grows with the count and is bounded", () => {
  assert.ok(clusterRadius(1) < clusterRadius(50));
  assert.ok(clusterRadius(1e9) <= 22);
});

test("context layers are quiet and not clickable; bigger places draw bigger", async () => {
  const { contextStyle } = await import("../static/js/styles.js");
  assert.equal(contextStyle("context-roads").fill, false);
  assert.ok(contextStyle("context-settlements", { population: 50000 }).radius > contextStyle("context-settlements", { population: 10 }).radius);
  for (const name of ["context-roads", "context-settlements", "context-facilities", "context-land-use"]) {
    assert.equal(contextStyle(name).interactive, false);
  }
});
