import test from "node:test";
import assert from "node:assert/strict";
import { query, api, tileTemplate, bboxParam } from "../static/js/urls.js";
import { gridCluster } from "../static/js/cluster.js";
import { problemMessage } from "../static/js/client.js";
import { balanceBars } from "../static/js/balance.js";

test("query strings leave out empty values and encode the rest", () => {
  assert.equal(query({ a: 1, b: "", c: null, d: "x y&z" }), "?a=1&d=x+y%26z");
  assert.equal(query({}), "");
  assert.equal(query({ k: ["a", "b"] }), "?k=a&k=b");
});

test("API paths and tile templates", () => {
  assert.equal(api("/hazards", { limit: 5 }), "/api/v1/hazards?limit=5");
  assert.equal(tileTemplate("public-hazards"), "/tiles/public-hazards/{z}/{x}/{y}.mvt");
  assert.throws(() => tileTemplate("../etc"));
});

test("bbox is clamped to the world and rounded", () => {
  assert.equal(bboxParam({ west: -200, south: 48.1234567, east: 31.5, north: 95 }), "-180,48.123457,31.5,90");
});

test("grid clustering groups points per cell and keeps every point", () => {
  const pts = [{ x: 1, y: 1 }, { x: 10, y: 10 }, { x: 100, y: 100 }];
  const c = gridCluster(pts, 60);
  assert.equal(c.length, 2);
  assert.equal(c.reduce((n, x) => n + x.count, 0), 3);
  assert.deepEqual(c.find((x) => x.count === 2).x, 5.5);
});

test("a problem+json body reads as one line naming the field", () => {
  const msg = problemMessage({ detail: "1 invalid value(s)", errors: [{ pointer: "/properties/classification", message: "Field required" }] });
  assert.equal(msg, "1 invalid value(s) · /properties/classification: Field required");
  assert.equal(problemMessage(null, "HTTP 500"), "HTTP 500");
});

test("the balance bars add up to the baseline", () => {
  const bars = balanceBars({ baseline_area_m2: 100, cancelled_area_m2: 10, reduced_area_m2: 20, cleared_area_m2: 30, remaining_area_m2: 40 }, 200);
  assert.equal(bars.reduce((s, b) => s + b.width, 0), 200);
  assert.equal(balanceBars({ baseline_area_m2: 0 }, 200).every((b) => b.width === 0), true);
});
