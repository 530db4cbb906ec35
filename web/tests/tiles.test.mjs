import test from "node:test";
import assert from "node:assert/strict";
import { parseRetryAfter, retryDelay, tileHealth, tileStatus, liveFetchOptions, FIRST_DELAY_MS, MAX_DELAY_MS } from "../static/js/tiles.js";

test("Retry-After in seconds or as an HTTP date", () => {
  assert.equal(parseRetryAfter("3"), 3);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter(""), null);
  assert.equal(parseRetryAfter("soon"), null);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now), 5);
  assert.equal(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
});

test("retries back off, honour Retry-After and stay bounded", () => {
  const none = () => 0;
  assert.equal(retryDelay(0, null, none), FIRST_DELAY_MS);
  assert.equal(retryDelay(1, null, none), 2 * FIRST_DELAY_MS);
  assert.equal(retryDelay(3, null, none), 8 * FIRST_DELAY_MS);
  assert.equal(retryDelay(50, null, none), MAX_DELAY_MS);
  assert.equal(retryDelay(0, 4, none), 4000); // never sooner than the server asks
  assert.equal(retryDelay(0, 0, none), FIRST_DELAY_MS);
  assert.ok(retryDelay(0, null, () => 0.999) <= FIRST_DELAY_MS * 1.25);
});

test("tile health counts the tiles still missing", () => {
  const seen = [];
  const h = tileHealth((n) => seen.push(n));
  h.failed("a");
  h.failed("a"); // the same tile failing again is no change
  h.failed("b");
  h.settled("a");
  h.settled("c"); // a tile that never failed
  h.settled("b");
  assert.deepEqual(seen, [1, 2, 1, 0]);
  assert.equal(h.missing, 0);
});

test("the status of a tile the layer failed to load, from its error", () => {
  // Leaflet.VectorTileLayer 0.15 throws new Error([url, status, statusText].join(": "))
  assert.equal(tileStatus(new Error("http://127.0.0.1:8000/tiles/hazards/14/1/2.mvt: 401: Unauthorized")), 401);
  assert.equal(tileStatus(new Error("/tiles/hazards/14/1/2.mvt: 401: ")), 401); // HTTP/2: no status text
  assert.equal(tileStatus(new Error("/tiles/hazards/14/1/2.mvt?v=3: 503: Service Unavailable")), 503);
  assert.equal(tileStatus(new TypeError("Failed to fetch")), null);
  assert.equal(tileStatus(undefined), null);
});

test("tile requests read the token when they are sent, not when the layer was made", () => {
  let token = "first";
  const auth = { headers: () => ({ Authorization: `Bearer ${token}` }) };
  const options = liveFetchOptions(auth, { headers: { Accept: "application/x-protobuf" }, credentials: "same-origin" });
  assert.deepEqual(options.headers, { Accept: "application/x-protobuf", Authorization: "Bearer first" });
  token = "renewed";
  assert.deepEqual(options.headers, { Accept: "application/x-protobuf", Authorization: "Bearer renewed" });
  assert.equal(options.credentials, "same-origin");
});
