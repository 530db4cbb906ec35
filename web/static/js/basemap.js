// The map shell shared by the public map and the workspace: base map, legend, language switch,
// demo banner. Leaflet is the global L (its UMD build, loaded before the modules).
import { el, svg, clear, escapeHtml } from "./dom.js";
import { legendEntries } from "./styles.js";
import { t, LANGUAGES, setLanguage, currentLanguage, onLanguageChange } from "./i18n.js";

export async function loadConfig() {
  const r = await fetch("/map-config.json");
  return r.ok ? r.json() : { basemap: { url: "" }, bounds: null, demo: false, languages: LANGUAGES };
}

// A Leaflet map over a plain background; the base map, when configured, is a layer on top of
// that background, so with no base map reachable every data layer still shows.
export function createMap(node, config) {
  const map = L.map(node, { zoomControl: true, keyboard: true, preferCanvas: false, minZoom: 3, maxZoom: 18 });
  map.attributionControl.setPrefix(false);
  if (config.basemap && config.basemap.url) {
    // Leaflet writes attributions as HTML: the configured one goes in as escaped text
    L.tileLayer(config.basemap.url, { maxZoom: 19, attribution: escapeHtml(config.basemap.attribution || "") }).addTo(map);
  }
  if (config.bounds) map.fitBounds(config.bounds);
  else map.setView([48.5, 31.5], 6);
  window.safeground = { map }; // for the browser console and the browser tests
  return map;
}

// Small SVG swatch: fill with a pattern (hatch, dots) or a line with its dash, as drawn on the map.
function swatch(s) {
  const box = svg("svg", { width: 34, height: 18, viewBox: "0 0 34 18", "aria-hidden": "true", focusable: "false" });
  if (s.fill) {
    box.append(svg("rect", { x: 1, y: 1, width: 32, height: 16, fill: s.fill, "fill-opacity": 0.5, stroke: s.outline, "stroke-width": 2 }));
    if (s.pattern === "hatch") for (let x = -16; x < 34; x += 6) box.append(svg("line", { x1: x, y1: 17, x2: x + 16, y2: 1, stroke: "#7A0000", "stroke-width": 1 }));
    if (s.pattern === "dots") for (let x = 5; x < 34; x += 7) for (let y = 5; y < 17; y += 6) box.append(svg("circle", { cx: x, cy: y, r: 1.2, fill: "#6B4500" }));
  } else {
    box.append(svg("line", { x1: 2, y1: 9, x2: 32, y2: 9, stroke: s.line, "stroke-width": 3, "stroke-dasharray": s.dash || null }));
  }
  return box;
}

export function renderLegend(node, extra = []) {
  clear(node);
  node.append(el("h2", {}, t("legend.title")));
  const list = el("ul", { class: "legend" });
  for (const e of [...legendEntries(), ...extra]) list.append(el("li", {}, swatch(e.swatch), el("span", {}, t(e.key))));
  node.append(list);
}

// A <select> of languages, labelled, switching the whole page.
export function languageSwitch(select, languages = LANGUAGES) {
  clear(select);
  for (const lang of languages) select.append(el("option", { value: lang }, t(`language.${lang}`)));
  select.value = currentLanguage();
  select.addEventListener("change", () => setLanguage(select.value));
  onLanguageChange(() => {
    for (const o of select.options) o.textContent = t(`language.${o.value}`);
    select.value = currentLanguage();
  });
}

export function demoBanner(node, config) {
  node.hidden = !config.demo;
}
