// Talking to the API: bearer token, JSON, and RFC 9457 problems turned into readable messages.
import { currentLanguage } from "./i18n.js";

// One line for a problem+json body: its detail, and each invalid field with where it is.
export function problemMessage(problem, fallback = "") {
  if (!problem || typeof problem !== "object") return fallback;
  const parts = [problem.detail || problem.title || fallback];
  for (const e of problem.errors || problem["invalid-params"] || []) {
    const where = e.pointer || e.field || e.name || (Array.isArray(e.loc) ? e.loc.join(".") : "");
    const msg = e.detail || e.message || e.msg || e.reason || "";
    if (where || msg) parts.push(`${where}: ${msg}`);
  }
  return parts.filter(Boolean).join(" · ");
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemMessage(problem, `HTTP ${status}`));
    this.status = status;
    this.problem = problem;
  }
}

// ---- the sign-in of this tab ----
//
// A sign-in lasts a working day: the access token is short (15 minutes by default) and the
// refresh token renews it, a little before it expires and once after any 401. The server rotates
// refresh tokens and takes a spent one sent again for a stolen copy (it revokes the whole
// sign-in), so a tab renews through ONE request at a time: every expiry and every 401 that
// arrives meanwhile (a screen of tiles) waits for the same promise. When the server refuses the
// refresh (expired, revoked), the page asks the user to sign in again over what they were doing,
// and the requests waiting are sent again once they have. The tokens live in sessionStorage:
// this browser tab only.

const KEYS = { access: "sg.token", refresh: "sg.refresh", expires: "sg.expires", renew: "sg.renew" };
export const RENEW_MARGIN_MS = 60_000;
export const EXPIRY_SLACK_MS = 5_000;
export const RETRY_RENEW_MS = 15_000;

// Milliseconds before expiry at which a token living `lifetimeMs` is renewed: a minute, or a
// quarter of a shorter lifetime.
export function renewMargin(lifetimeMs) {
  return Math.min(RENEW_MARGIN_MS, Math.max(0, lifetimeMs) / 4);
}

// The sign-in kept in `storage` (sessionStorage in the page), talking to the API with `fetchFn`.
export function createAuth({ storage, fetchFn, now = () => Date.now(), setTimer = setTimeout, clearTimer = clearTimeout } = {}) {
  const read = (k) => { try { return storage.getItem(k); } catch { return null; } };
  const write = (k, v) => {
    try { v === null || v === undefined ? storage.removeItem(k) : storage.setItem(k, String(v)); } catch { /* private mode */ }
  };
  const instant = (k) => { const v = Number(read(k)); return v > 0 ? v : null; };
  let inflight = null; // the one renewal under way (sign-in again included)
  let pending = 0; // auth.fetch() calls not yet answered, a renewal and the 401 retry included
  const pendingListeners = [];
  const countPending = (step) => { pending += step; for (const fn of pendingListeners) fn(pending); };
  let askSignIn = null; // (info) => Promise, resolved once the user has signed in again
  let alive = false;
  let timer = null;

  const schedule = () => {
    if (timer !== null) clearTimer(timer);
    timer = null;
    const at = instant(KEYS.renew);
    if (!alive || at === null || !read(KEYS.refresh)) return;
    timer = setTimer(() => {
      timer = null;
      // a renewal cut off (offline, server restarting) is tried again; a refused one has
      // already asked the user to sign in
      auth.renew().catch(() => { timer = setTimer(() => { timer = null; schedule(); }, RETRY_RENEW_MS); });
    }, Math.max(0, at - now()));
  };

  const exchange = async () => {
    const refreshToken = read(KEYS.refresh);
    let problem = { status: 401, detail: "sign in" };
    if (refreshToken) {
      const r = await fetchFn("/api/v1/auth/refresh", {
        method: "POST",
        headers: { Accept: "application/json, application/problem+json" },
        body: new URLSearchParams({ refresh_token: refreshToken }),
      });
      const data = await r.json().catch(() => null);
      if (r.ok) { auth.save(data); return; }
      if (r.status !== 401) throw new ApiError(r.status, data); // throttled or down: not a refusal
      problem = data || problem;
    }
    const hadSession = Boolean(refreshToken);
    auth.clear();
    if (!askSignIn) throw new ApiError(401, problem);
    await askSignIn({ expired: hadSession });
  };

  const auth = {
    get token() { return read(KEYS.access); },
    get refreshToken() { return read(KEYS.refresh); },
    get expiresAt() { return instant(KEYS.expires); },
    headers() {
      const tok = auth.token;
      return tok ? { Authorization: `Bearer ${tok}` } : {};
    },
    // Keep a token response ({access_token, expires_in, refresh_token}) and plan its renewal.
    save(pair) {
      const lifetime = Number(pair.expires_in) * 1000 || 0;
      const t0 = now();
      write(KEYS.access, pair.access_token);
      write(KEYS.refresh, pair.refresh_token || null);
      write(KEYS.expires, lifetime ? t0 + lifetime : null);
      write(KEYS.renew, lifetime ? t0 + lifetime - renewMargin(lifetime) : null);
      schedule();
    },
    clear() {
      for (const k of Object.values(KEYS)) write(k, null);
      schedule();
    },
    // `handler(info)` asks the user to sign in again ({expired}: there was a session) and
    // resolves once they have; without one, a refused refresh is an ApiError 401.
    onSignInNeeded(handler) { askSignIn = handler; },
    // Renew the access token before it expires, for as long as the page is open.
    keepAlive() { alive = true; schedule(); },
    // Renew now, or join the renewal under way: at most one /auth/refresh at a time.
    renew() {
      if (!inflight) inflight = exchange().finally(() => { inflight = null; });
      return inflight;
    },
    // After a 401 to a request sent with `usedToken`: renew, unless another request has already
    // brought a newer token (then simply send again).
    afterUnauthorized(usedToken) {
      const current = auth.token;
      if (current && current !== usedToken && !inflight) return Promise.resolve();
      return auth.renew();
    },
    // Requests of auth.fetch() not yet answered: a request refused 401 counts until the answer
    // to its second sending (the page shows it as <body data-requests-pending>, which the
    // browser tests wait for); `listener(count)` on every change.
    get pending() { return pending; },
    onPending(listener) { pendingListeners.push(listener); },
    // fetch() with the bearer token; renewed first when it is about to expire, and once more
    // after a 401.
    async fetch(url, init = {}) {
      countPending(1);
      try {
        const expires = auth.expiresAt;
        if (auth.refreshToken && expires !== null && now() >= expires - EXPIRY_SLACK_MS) await auth.renew();
        const send = () => fetchFn(url, { ...init, headers: { ...(init.headers || {}), ...auth.headers() } });
        const used = auth.token;
        const response = await send();
        if (response.status !== 401) return response;
        await auth.afterUnauthorized(used);
        return await send();
      } finally {
        countPending(-1);
      }
    },
  };
  return auth;
}

const tabStorage = (() => { try { return globalThis.sessionStorage; } catch { return undefined; } })();
// The sign-in of this browser tab.
export const auth = createAuth({ storage: tabStorage, fetchFn: (...args) => fetch(...args) });

export function authHeaders() {
  return auth.headers();
}

// fetch() a URL; JSON bodies are sent as JSON, FormData as is. Resolves to {data, etag, response}.
// Asks for the page's language, so that problems and import messages come in it.
export async function call(url, { method = "GET", json, form, headers = {}, lang = currentLanguage() } = {}) {
  const h = { Accept: "application/json, application/geo+json, application/problem+json", ...headers };
  if (lang) h["Accept-Language"] = lang;
  let body;
  if (json !== undefined) { h["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  const response = await auth.fetch(url, { method, headers: h, body });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : { detail: String(data).slice(0, 200) });
  return { data, etag: response.headers.get("etag"), response };
}

// Sign in with a user name and password; the tokens are kept for this tab.
export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const r = await fetch("/api/v1/auth/token", {
    method: "POST", body: form, headers: { Accept: "application/json" },
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data);
  auth.save(data);
  return data;
}
