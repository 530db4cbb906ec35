// Languages, catalogues and locale-aware formatting.
// Pure functions first (tested in web/tests/i18n.test.mjs); load() and apply() touch the network and the DOM.

export const LANGUAGES = ["en", "uk"];
export const DEFAULT_LANGUAGE = "en";

// The language to use: one saved by the user, else the first of the browser's languages we have.
export function pickLanguage(saved, browserLanguages = [], available = LANGUAGES) {
  if (saved && available.includes(saved)) return saved;
  for (const tag of browserLanguages) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (available.includes(base)) return base;
  }
  return available.includes(DEFAULT_LANGUAGE) ? DEFAULT_LANGUAGE : available[0];
}

// A translate function over a catalogue; `{name}` placeholders are filled from vars.
// A missing key falls back to the fallback catalogue, then to the key itself (visible, never blank).
export function translator(catalogue, fallback = {}) {
  return (key, vars = {}) => {
    const text = catalogue[key] ?? fallback[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  };
}

const LOCALES = { en: "en-GB", uk: "uk-UA" };
export const localeOf = (lang) => LOCALES[lang] || lang;

export function formatNumber(value, lang, maxDigits = 0) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return new Intl.NumberFormat(localeOf(lang), { maximumFractionDigits: maxDigits }).format(Number(value));
}

// Areas in the unit a reader expects: m² below 1 ha, ha below 1 km², km² above.
export function formatArea(m2, lang, t) {
  if (m2 === null || m2 === undefined) return "–";
  const v = Number(m2);
  if (Math.abs(v) < 10_000) return `${formatNumber(v, lang, 0)} ${t("unit.m2")}`;
  if (Math.abs(v) < 1_000_000) return `${formatNumber(v / 10_000, lang, 2)} ${t("unit.ha")}`;
  return `${formatNumber(v / 1_000_000, lang, 2)} ${t("unit.km2")}`;
}

// "2025-09-12" -> "12 Sept 2025" / "12 вер. 2025 р."; a date-time keeps its time.
export function formatDate(iso, lang) {
  if (!iso) return "–";
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(iso);
  const d = new Date(dateOnly ? `${iso}T00:00:00Z` : iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const opts = dateOnly
    ? { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }
    : { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(localeOf(lang), opts).format(d);
}

export function formatDistance(metres, lang, t) {
  if (metres === null || metres === undefined) return "–";
  const v = Number(metres);
  if (v < 1000) return `${formatNumber(v, lang, 0)} ${t("unit.m")}`;
  return `${formatNumber(v / 1000, lang, 1)} ${t("unit.km")}`;
}

// A code's label from the vocabulary keys ("vocab.hazard_status.open"), else the code itself.
export function vocabLabel(t, vocabulary, code) {
  if (code === null || code === undefined || code === "") return "–";
  const key = `vocab.${vocabulary}.${code}`;
  const label = t(key);
  return label === key ? String(code) : label;
}

// A field's label ("field.<name>" in the catalogue), else the name with spaces: never a raw key.
export function fieldLabel(t, name) {
  const key = `field.${name}`;
  const label = t(key);
  return label === key ? String(name).replace(/_/g, " ") : label;
}

// Admin areas by name, their codes on hover: {text: "Ambervale › Birch district", title: "ZZ04 › ZZ0403"}.
// `names` maps a code to its name; a code without a name shows as the code.
export function adminPath(codes, names = {}) {
  const list = (codes || []).filter((c) => c !== null && c !== undefined && c !== "");
  if (!list.length) return { text: "–", title: "" };
  return { text: list.map((c) => names[c] || String(c)).join(" › "), title: list.join(" › ") };
}

// ---- browser side ----

const state = { lang: DEFAULT_LANGUAGE, t: translator({}), listeners: [] };

export const t = (key, vars) => state.t(key, vars);
export const currentLanguage = () => state.lang;
export const onLanguageChange = (fn) => state.listeners.push(fn);

async function fetchCatalogue(lang) {
  const r = await fetch(`/i18n/${encodeURIComponent(lang)}.json`);
  if (!r.ok) throw new Error(`no catalogue for ${lang}`);
  return r.json();
}

// Load a language, translate the page and tell every listener.
export async function setLanguage(lang) {
  const catalogue = await fetchCatalogue(lang);
  const fallback = lang === DEFAULT_LANGUAGE ? {} : await fetchCatalogue(DEFAULT_LANGUAGE).catch(() => ({}));
  state.lang = lang;
  state.t = translator(catalogue, fallback);
  try { localStorage.setItem("sg.lang", lang); } catch { /* private mode */ }
  apply(document);
  for (const fn of state.listeners) fn(lang);
}

export function initialLanguage() {
  let saved = null;
  try { saved = localStorage.getItem("sg.lang"); } catch { /* private mode */ }
  return pickLanguage(saved, navigator.languages || [navigator.language]);
}

// Translate every element marked data-i18n (text) or data-i18n-<attribute> (an attribute);
// the page's <title data-i18n> too, so document.title follows the language.
export function apply(root) {
  document.documentElement.lang = state.lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  const title = document.querySelector("head > title[data-i18n]");
  if (title) document.title = t(title.dataset.i18n);
  for (const attr of ["aria-label", "title", "placeholder", "alt", "label"]) {
    const data = "i18n" + attr.replace(/(^|-)(\w)/g, (m, d, c) => c.toUpperCase());
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
}
