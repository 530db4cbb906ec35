// The workspace's file import (/app, tab "Import"): a dry run shows everything the gate decided
// for each row before anything is written (rejections, repairs, flags), in a table and on the
// map, then the commit. The pure parts at the top are tested in web/tests/imports.test.mjs.
import { $, el, clear, svg } from "./dom.js";
import { COLOURS } from "./styles.js";
import { api } from "./urls.js";
import { t, fieldLabel, onLanguageChange, currentLanguage, formatNumber } from "./i18n.js";
import { call } from "./client.js";
import { loadConfig } from "./basemap.js";

// ---------- pure ----------

// How the map draws a reported row: a refused row, a repair (the repaired shape over the
// submitted one), a row outside the programme at its corrected position, a row to review.
export const REVIEW_STYLES = {
  rejected: { color: COLOURS.rejected, weight: 3, dashArray: "4 3", fillColor: COLOURS.rejected, fillOpacity: 0.1 },
  // wide and dotted: it shows beside the repaired outline where the two coincide
  submitted: { color: "#4a4a4a", weight: 7, opacity: 0.55, dashArray: "1 9", lineCap: "round", fill: false },
  repaired: { color: "#8a5300", weight: 3, dashArray: null, fillColor: "#F4A718", fillOpacity: 0.35 },
  corrected: { color: "#6A1B9A", weight: 3, dashArray: "8 4", fillColor: "#6A1B9A", fillOpacity: 0.15 },
  flagged: { color: "#8a5300", weight: 2, dashArray: "1 4", fillColor: "#8a5300", fillOpacity: 0.05 },
};

export function reviewStyle(kind) {
  return { ...REVIEW_STYLES[kind], className: `sg-import sg-import-${kind}` };
}

const SEVERITY_ORDER = { error: 0, warning: 1, flag: 2 };
const OTHERWISE = { error: "rejected", warning: "adjusted", flag: "review" };
const hasRow = (line) => line.row !== null && line.row !== undefined;

// Every line of a report with its severity and rule, rows in file order (lines of the whole
// file, without a row, first).
export function reportLines(result) {
  const lines = [];
  for (const [severity, list] of [["error", result.errors], ["warning", result.warnings], ["flag", result.flags]]) {
    (list || []).forEach((line, index) => lines.push({ ...line, severity, rule: line.rule || OTHERWISE[severity], index }));
  }
  return lines.sort((a, b) => (hasRow(a) ? a.row : -1) - (hasRow(b) ? b.row : -1)
    || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

// What the summary says (and its colour): "rejected" when a row was refused or the import
// failed, "review" when rows were repaired, adjusted or flagged, else "clean".
export function summaryState(result) {
  const c = result.counts || {};
  if (result.status === "failed" || (c.rejected || 0) > 0 || (result.errors || []).some(hasRow)) return "rejected";
  if ((c.flagged || 0) > 0 || (result.flags || []).length || (result.warnings || []).some(hasRow)) return "review";
  return "clean";
}

// How many rows were repaired or adjusted, and how many flagged.
export function reviewCounts(result) {
  const rows = (list) => new Set((list || []).filter(hasRow).map((l) => l.row)).size;
  return { repaired: rows(result.warnings), flagged: rows(result.flags) };
}

const intersects = (a, b) => !(a[1][0] < b[0][0] || a[0][0] > b[1][0] || a[1][1] < b[0][1] || a[0][1] > b[1][1]);
const union = (list) => [
  [Math.min(...list.map((b) => b[0][0])), Math.min(...list.map((b) => b[0][1]))],
  [Math.max(...list.map((b) => b[1][0])), Math.max(...list.map((b) => b[1][1]))],
];

// Where the map goes after a check: the drawn rows that lie in the programme's area, else the
// programme's area itself (never a far-away row on an empty map); without a programme area,
// every drawn row. Bounds are [[south, west], [north, east]]; null: stay where it is.
export function fitTarget(rowBounds, programme) {
  if (!programme) return rowBounds.length ? union(rowBounds) : null;
  const inside = rowBounds.filter((b) => intersects(b, programme));
  return inside.length ? union(inside) : programme;
}

// ---------- the import tab ----------

// the map's check layer, its legend, the drawn layers by row, each layer's tooltip entry
const I = { map: null, layer: null, legend: null, kinds: new Set(), rows: new Map(), entries: new Map(), config: null, last: null };

// The import's report once it has run, its messages in the page's language.
async function waitForImport(url) {
  for (let i = 0; i < 600; i++) {
    const { data } = await call(url, { lang: currentLanguage() });
    if (["succeeded", "failed"].includes(data.status)) return data;
    showProgress(data);
    await new Promise((r) => setTimeout(r, i < 10 ? 300 : 1000));
  }
  throw new Error(t("import.timeout"));
}

// While it runs: the import's stage and rows done of rows total (the file's count, when its
// format gives it in advance).
export function progressText(data, lang = currentLanguage(), tr = t) {
  const n = (v) => formatNumber(v ?? 0, lang);
  if (!data.stage) return tr("import.running");
  const rows = data.rows_total
    ? tr("import.rows_of", { done: n(data.rows_done), total: n(data.rows_total) })
    : tr("import.rows", { done: n(data.rows_done) });
  return `${tr(`import.stage.${data.stage}`)}: ${rows}`;
}

function showProgress(data) {
  const line = $("#import-progress");
  if (line) line.textContent = progressText(data);
}

async function runImport(mode) {
  const file = $("#import-file").files[0];
  const report = clear($("#import-report"));
  if (!file) { report.append(el("p", { class: "msg-error" }, t("import.no_file"))); return null; }
  report.append(el("p", { id: "import-progress", role: "status" }, t("import.running")));
  const form = new FormData();
  form.append("file", file);
  // a context layer is chosen as "context:<layer>" (settlements, roads, facilities, land use)
  const [kind, contextLayer] = $("#import-kind").value.split(":");
  form.append("kind", kind);
  if (contextLayer) form.append("context", contextLayer);
  form.append("mode", mode);
  form.append("refuse_repairs", $("#import-refuse-repairs")?.checked ? "true" : "false");
  try {
    const r = await call(api("imports"), { method: "POST", form });
    const url = r.response.headers.get("location") || api(`imports/${r.data.id}`);
    const result = await waitForImport(url);
    if (mode === "dry_run") await showRejected(file, result);
    else clearReview();
    I.last = { result, mode, url };
    renderReport(result, mode);
    return result;
  } catch (err) {
    clear(report).append(el("p", { class: "msg-error", role: "alert" }, err.message));
    return null;
  }
}

function ruleText(line) {
  const rule = t(`import.rule.${line.rule}`);
  return line.correction ? `${rule} (${t(`import.correction.${line.correction}`)})` : rule;
}

function renderReport(result, mode) {
  const box = clear($("#import-report"));
  const c = result.counts || {};
  const state = summaryState(result);
  const { repaired, flagged } = reviewCounts(result);
  const n = (v) => formatNumber(v ?? 0, currentLanguage());
  box.append(el("p", { id: "import-summary", class: `import-summary import-${state}`, role: "status", "data-state": state },
    el("strong", {}, t(`import.state.${state}`)), " ",
    t(mode === "dry_run" ? "import.previewed" : "import.done", {
      read: n(c.read), created: n(c.created), updated: n(c.updated), unchanged: n(c.unchanged), rejected: n(c.rejected),
    }),
    repaired || flagged ? " " + t("import.reviewed", { repaired: n(repaired), flagged: n(flagged) }) : null));
  if (result.failure) box.append(el("p", { class: "msg-error" }, result.failure));
  if (result.left_out) box.append(el("p", { id: "import-left-out" }, t("import.left_out", { n: n(result.left_out) })));
  const lines = reportLines(result);
  const notes = lines.filter((l) => !hasRow(l));
  if (notes.length) {
    box.append(el("p", { class: "small" }, t("import.notes")),
      el("ul", { class: "small" }, notes.map((l) => el("li", { class: l.severity === "error" ? "msg-error" : "" }, l.message || ""))));
  }
  const rows = lines.filter(hasRow);
  if (rows.length) {
    box.append(el("div", { class: "table-scroll" }, el("table", { class: "list import-lines", id: "import-errors" },
      el("caption", {}, t("import.problems")),
      el("thead", {}, el("tr", {}, ["import.row", "import.reference", "import.rule", "import.message", "import.field"]
        .map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, rows.map((l) => {
        const drawn = I.rows.has(l.row);
        return el("tr", {
          class: `import-line import-${l.severity}${drawn ? " clickable" : ""}`,
          dataset: { row: String(l.row), rule: l.rule, severity: l.severity },
          onclick: drawn ? () => zoomToRow(l.row) : null,
        },
        el("td", {}, drawn
          ? el("button", { type: "button", class: "link", "aria-label": t("import.zoom_row", { row: l.row }) }, String(l.row))
          : String(l.row)),
        el("td", { class: "import-ref" }, l.reference || l.name || "–",
          l.reference && l.name ? el("div", { class: "small" }, l.name) : null),
        el("td", {}, ruleText(l)),
        el("td", {}, l.message || ""),
        el("td", {}, l.field ? fieldLabel(t, l.field) : "–"));
      })))));
  }
  $("#import-commit").disabled = !(mode === "dry_run" && result.status === "succeeded" && (c.created || c.updated));
}

// ---------- the map ----------

function clearReview() {
  if (I.layer) I.map.removeLayer(I.layer);
  if (I.legend) I.legend.remove();
  I.layer = null;
  I.legend = null;
  I.kinds = new Set();
  I.rows = new Map();
  I.entries = new Map();
}

async function fileFeatures(file) {
  if (!/\.(geo)?json$/i.test(file.name)) return [];
  try { return JSON.parse(await file.text()).features || []; } catch { return []; } // the report says why
}

// A report line's words for its tooltip, as a DOM node: the server's text in a string given to
// Leaflet would be parsed as HTML. `note(e)` makes the words in the current language.
const tip = (e) => el("span", {}, e.note ? e.note(e) : t("import.rejected_row", { row: e.row, message: e.message || "" }));

// Rows the check reported, on the map before the commit: refused rows (their shape from a
// GeoJSON file, else a marker at the point the server reports), repairs as the repaired shape
// over the submitted one, rows outside the programme at the position a swap would give them
// (with a note), rows to review. The view stays on the programme's area.
async function showRejected(file, result) {
  clearReview();
  const lines = reportLines(result).filter(hasRow);
  if (!lines.length) return;
  I.config ||= await loadConfig();
  const features = await fileFeatures(file);
  const group = L.featureGroup();
  const placed = new Set();
  const repairedLayers = [];
  const add = (line, geometry, kind, note = null) => {
    let layer;
    try {
      layer = L.geoJSON(geometry, { style: reviewStyle(kind), pointToLayer: (_, ll) => L.circleMarker(ll, { ...reviewStyle(kind), radius: 9 }) });
    } catch { return null; } // a geometry Leaflet cannot draw: the table still lists it
    const entry = { row: line.row, message: line.message, note, severity: line.severity, index: line.index };
    layer.bindTooltip(tip(entry), kind === "corrected"
      ? { permanent: true, direction: "top", className: "import-tip import-note" } : { className: "import-tip" });
    layer.addTo(group);
    I.entries.set(layer, entry);
    I.kinds.add(kind);
    if (!I.rows.has(line.row)) I.rows.set(line.row, []);
    I.rows.get(line.row).push(layer);
    return layer;
  };
  for (const line of lines) {
    const row = line.row;
    if (line.corrected_geometry) {
      add(line, line.corrected_geometry, "corrected",
        () => t("import.corrected_note", { row, correction: t(`import.correction.${line.correction}`) }));
      placed.add(row);
    } else if (line.repaired_geometry && line.submitted_geometry) {
      if (line.severity === "error") {
        add(line, line.submitted_geometry, "rejected");
      } else {
        add(line, line.submitted_geometry, "submitted", () => t("import.submitted_row", { row }));
        const layer = add(line, line.repaired_geometry, "repaired", (e) => t("import.repaired_row", { row, message: e.message || "" }));
        if (layer) repairedLayers.push(layer);
      }
      placed.add(row);
    }
  }
  for (const line of lines) {
    if (placed.has(line.row) || line.severity === "warning") continue;
    const kind = line.severity === "error" ? "rejected" : "flagged";
    const note = kind === "flagged" ? (e) => t("import.flagged_row", { row: e.row, message: e.message || "" }) : null;
    const f = features[line.row - 1];
    if ((f && f.geometry && add(line, f.geometry, kind, note))
      || (line.location && add(line, { type: "Point", coordinates: line.location }, kind, note))) placed.add(line.row);
  }
  for (const layer of repairedLayers) layer.bringToFront(); // the repaired shape over the submitted one
  if (!placed.size) return;
  I.layer = group.addTo(I.map);
  I.legend = reviewLegend(I.kinds).addTo(I.map);
  const rowBounds = [...I.rows.values()].map(boundsOf).map((b) => [[b.getSouth(), b.getWest()], [b.getNorth(), b.getEast()]]);
  const target = fitTarget(rowBounds, I.config.bounds);
  if (target) I.map.fitBounds(target, { maxZoom: 15, padding: [30, 30] });
}

function boundsOf(layers) {
  const b = L.latLngBounds([]);
  for (const layer of layers) b.extend(layer.getBounds());
  return b;
}

function zoomToRow(row) {
  const layers = I.rows.get(row);
  if (!layers || !layers.length) return;
  I.map.fitBounds(boundsOf(layers), { maxZoom: 17, padding: [40, 40] });
  for (const layer of layers) layer.openTooltip();
}

// The legend of the drawn kinds, on the map while the check is shown.
function reviewLegend(kinds) {
  const control = L.control({ position: "bottomleft" });
  control.onAdd = () => {
    const node = el("div", { class: "import-legend", id: "import-legend" }, el("strong", {}, t("import.legend.title")));
    const list = el("ul", { class: "legend" });
    for (const kind of ["rejected", "submitted", "repaired", "corrected", "flagged"]) {
      if (!kinds.has(kind)) continue;
      const s = REVIEW_STYLES[kind];
      const sw = svg("svg", { width: 34, height: 18, viewBox: "0 0 34 18", "aria-hidden": "true", focusable: "false" },
        svg("rect", { x: 2, y: 2, width: 30, height: 14, fill: s.fill === false ? "none" : s.fillColor, "fill-opacity": s.fillOpacity ?? 0,
          stroke: s.color, "stroke-width": Math.min(s.weight, 4), "stroke-opacity": s.opacity ?? 1,
          "stroke-linecap": s.lineCap || null, "stroke-dasharray": s.dashArray || null }));
      list.append(el("li", { dataset: { kind } }, sw, el("span", {}, t(`import.legend.${kind}`))));
    }
    node.append(list);
    L.DomEvent.disableClickPropagation(node);
    return node;
  };
  return control;
}

// The import tab: `map` is the workspace's Leaflet map, `onCommitted` runs after a commit
// (the workspace redraws its tiles and priorities).
export function setupImport({ map, onCommitted = () => {} }) {
  I.map = map;
  $("#import-preview").addEventListener("click", () => runImport("dry_run"));
  const stale = () => { $("#import-commit").disabled = true; };
  $("#import-file").addEventListener("change", stale);
  $("#import-refuse-repairs")?.addEventListener("change", stale); // check again with the option
  $("#import-commit").addEventListener("click", async () => {
    $("#import-commit").disabled = true;
    const result = await runImport("commit");
    if (result) onCommitted(result);
  });
  // a new language: the report asked again in it, the table, legend and notes redrawn in it
  // (the map stays where it is)
  onLanguageChange(async () => {
    if (!I.last) return;
    const asked = I.last;
    try {
      const { data } = await call(asked.url, { lang: currentLanguage() });
      if (I.last !== asked) return; // another check ran meanwhile
      asked.result = data;
    } catch { /* the report as it was: shown again with the new page words */ }
    renderReport(asked.result, asked.mode);
    if (!I.legend) return;
    I.legend.remove();
    I.legend = reviewLegend(I.kinds).addTo(I.map);
    const lists = { error: asked.result.errors, warning: asked.result.warnings, flag: asked.result.flags };
    for (const [layer, entry] of I.entries) {
      entry.message = lists[entry.severity]?.[entry.index]?.message ?? entry.message;
      layer.setTooltipContent(tip(entry));
    }
  });
}
