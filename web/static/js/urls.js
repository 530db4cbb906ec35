// URL building (pure; web/tests/urls.test.mjs).

// A query string from an object, leaving out empty values; arrays repeat the key.
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === "") continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const api = (path, params) => `/api/v1/${path.replace(/^\/+/, "")}${query(params)}`;

// The Leaflet URL template of a vector-tile layer: /tiles/<layer>/{z}/{x}/{y}.mvt
export function tileTemplate(layer, params) {
  if (!/^[a-z0-9-]+$/.test(layer)) throw new Error(`bad layer name ${layer}`);
  return `/tiles/${layer}/{z}/{x}/{y}.mvt${query(params)}`;
}

// bbox=minLon,minLat,maxLon,maxLat from Leaflet-like bounds, clamped to the world.
export function bboxParam(b) {
  const c = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const parts = [c(b.west, -180, 180), c(b.south, -90, 90), c(b.east, -180, 180), c(b.north, -90, 90)];
  return parts.map((v) => Number(v.toFixed(6))).join(",");
}
