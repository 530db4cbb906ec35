// Vector-tile layers that never leave a hole silently. A tile the server refuses (429, honouring
// its Retry-After) or that fails (5xx, network) is asked for again with a growing delay for as
// long as it is on screen, and the page shows "Some areas could not be loaded: do not assume
// they are safe" until every such tile is drawn. Tiles of the workspace carry the tab's current
// token on every request (never one captured when the layer was made), and a tile answered 401
// waits for the tab's one shared renewal of the sign-in, then is asked for once more.
// Pure parts first (web/tests/tiles.test.mjs).

export const FIRST_DELAY_MS = 500;
export const MAX_DELAY_MS = 30_000;

// Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); null when absent.
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || String(value).trim() === "") return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, (date - now) / 1000);
}

// Milliseconds before attempt `attempt` (0 = the first retry): doubling from FIRST_DELAY_MS up
// to MAX_DELAY_MS, never sooner than the server's Retry-After, plus up to 25% jitter so the
// tiles of one view do not all come back in the same instant.
export function retryDelay(attempt, retryAfterSeconds = null, random = Math.random) {
  const backoff = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt));
  const floor = retryAfterSeconds === null ? 0 : retryAfterSeconds * 1000;
  const base = Math.max(backoff, floor);
  return Math.round(base + base * 0.25 * random());
}

// The tiles of the page that are wanted but not drawn; `listener(count)` on every change.
export function tileHealth(listener = () => {}) {
  const missing = new Set();
  const change = (fn) => (id) => {
    const before = missing.size;
    fn(id);
    if (missing.size !== before) listener(missing.size);
  };
  return {
    failed: change((id) => missing.add(id)),
    settled: change((id) => missing.delete(id)),
    get missing() { return missing.size; },
  };
}

// The HTTP status of a tile that Leaflet.VectorTileLayer (0.15, pinned) failed to load: its
// error reads "<url>: <status>: <statusText>"; null for anything else (network, parse).
export function tileStatus(error) {
  const m = /: (\d{3}):[^:]*$/.exec(String(error && error.message));
  return m ? Number(m[1]) : null;
}

// fetch() options whose headers are read at each request: `auth.headers()` then, not now.
export function liveFetchOptions(auth, fetchOptions = {}) {
  const fixed = fetchOptions.headers || {};
  const live = { ...fetchOptions };
  Object.defineProperty(live, "headers", { enumerable: true, get: () => ({ ...fixed, ...auth.headers() }) });
  return live;
}

// ---- browser side ----

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Ask for `url` until the server serves it (or says it has no such tile), waiting between
// attempts; the answer is then in the HTTP cache (public tiles) or revalidates cheaply (ETag).
async function untilServed(url, fetchOptions, job) {
  let retryAfter = null;
  for (;;) {
    await sleep(retryDelay(job.attempt++, retryAfter));
    if (job.cancelled) return;
    try {
      const r = await fetch(url, fetchOptions);
      await r.arrayBuffer();
      if (r.ok || r.status === 404) return;
      retryAfter = parseRetryAfter(r.headers.get("Retry-After"));
    } catch {
      retryAfter = null; // offline or cut: back off and try again
    }
  }
}

const pageHealth = tileHealth((count) => {
  const banner = document.getElementById("tiles-banner");
  if (banner) banner.hidden = count === 0;
});

// Tiles asked for and not yet drawn (or given up because they left the screen), on the page
// as <body data-tiles-loading="n">: "0" once the map shows all it was asked to.
let loading = 0;
function countLoading(step) {
  loading += step;
  document.body.dataset.tilesLoading = String(loading);
}

// Make `layer` (a VectorTileLayer) retry its failed tiles and report them to the banner. With
// `auth` (client.js's), a tile refused 401 waits for the renewed sign-in and is asked for again
// once, without the banner.
export function retryFailedTiles(layer, fetchOptions = {}, health = pageHealth, auth = null) {
  const create = layer.createTile;
  const jobs = new Map();
  const keyOf = (c) => `${c.x}:${c.y}:${c.z}`;
  const stamp = L.stamp(layer);
  layer.on("tileunload", (e) => {
    const key = keyOf(e.coords);
    const job = jobs.get(key);
    if (!job) return;
    job.cancelled = true; // off screen: no longer needed, no longer missing
    jobs.delete(key);
    countLoading(-1);
    health.settled(`${stamp}:${key}`);
  });
  layer.createTile = function createTile(coords, done) {
    const key = keyOf(coords);
    const id = `${stamp}:${key}`;
    const url = layer.getTileUrl(coords);
    const job = { cancelled: false, attempt: 0 };
    jobs.set(key, job);
    countLoading(1);
    let element = null; // the tile's <svg> in the page; a retry draws into it
    let reauthorised = false;
    const attempt = () => {
      const used = auth ? auth.token : null; // the library sends the request at once, with it
      const fresh = create.call(layer, coords, (err, tile) => {
        if (job.cancelled) {
          try { if (!err && tile) tile.eachFeatureLayer(layer.removeFeatureLayer); } catch { /* layer gone */ }
          return;
        }
        if (!err) {
          jobs.delete(key);
          countLoading(-1);
          health.settled(id);
          done(null, tile);
          return;
        }
        const again = () => { if (!job.cancelled) attempt(); };
        const missing = () => {
          if (job.cancelled) return;
          health.failed(id);
          untilServed(url, fetchOptions, job).then(again);
        };
        if (auth && !reauthorised && tileStatus(err) === 401) {
          reauthorised = true; // the sign-in expired: once more with the renewed token
          auth.afterUnauthorized(used).then(again, missing);
        } else missing();
      });
      // the features are drawn inside the tile's own <svg>: a retry's go into the first one
      if (element === null) element = fresh;
      else element.replaceChildren(...fresh.childNodes);
      return element;
    };
    return attempt();
  };
  return layer;
}

// A VectorTileLayer (the global of leaflet-vector-tile-layer) whose failed tiles are retried;
// `auth` (client.js's): every tile request carries the current token, and a 401 renews it.
export function vectorTiles(url, { auth = null, ...options } = {}) {
  const fetchOptions = auth ? liveFetchOptions(auth, options.fetchOptions) : options.fetchOptions || {};
  return retryFailedTiles(VectorTileLayer(url, { ...options, fetchOptions }), fetchOptions, pageHealth, auth);
}
