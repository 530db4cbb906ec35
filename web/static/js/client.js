// Talking to the API: bearer token, JSON, and RFC 9457 problems turned into readable messages.

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

const KEY = "sg.token";
export const session = {
  get token() { try { return sessionStorage.getItem(KEY); } catch { return null; } },
  set token(v) { try { v ? sessionStorage.setItem(KEY, v) : sessionStorage.removeItem(KEY); } catch { /* private */ } },
};

export function authHeaders() {
  const tok = session.token;
  return tok ? { Authorization: `Bearer ${tok}` } : {};
}

// fetch() a URL; JSON bodies are sent as JSON, FormData as is. Resolves to {data, etag, response}.
export async function call(url, { method = "GET", json, form, headers = {}, lang } = {}) {
  const h = { Accept: "application/json, application/geo+json, application/problem+json", ...authHeaders(), ...headers };
  if (lang) h["Accept-Language"] = lang;
  let body;
  if (json !== undefined) { h["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  const response = await fetch(url, { method, headers: h, body });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : { detail: String(data).slice(0, 200) });
  return { data, etag: response.headers.get("etag"), response };
}

export async function login(username, password) {
  const form = new URLSearchParams({ username, password });
  const r = await fetch("/api/v1/auth/token", {
    method: "POST", body: form, headers: { Accept: "application/json" },
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data);
  session.token = data.access_token;
  return data;
}
