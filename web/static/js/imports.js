// The workspace's file import (/app, tab "Import"): a dry run shows what the gate decided for
// each row before anything is written, then the commit.
import { $, el, clear } from "./dom.js";
import { COLOURS } from "./styles.js";
import { api } from "./urls.js";
import { t } from "./i18n.js";
import { call } from "./client.js";

const I = { map: null, rejectedLayer: null };

async function waitForImport(url) {
  for (let i = 0; i < 600; i++) {
    const { data } = await call(url);
    if (["succeeded", "failed"].includes(data.status)) return data;
    await new Promise((r) => setTimeout(r, i < 10 ? 300 : 1000));
  }
  throw new Error(t("import.timeout"));
}

async function runImport(mode) {
  const file = $("#import-file").files[0];
  const report = clear($("#import-report"));
  if (!file) { report.append(el("p", { class: "msg-error" }, t("import.no_file"))); return null; }
  report.append(el("p", {}, t("import.running")));
  const form = new FormData();
  form.append("file", file);
  form.append("kind", $("#import-kind").value);
  form.append("mode", mode);
  try {
    const r = await call(api("imports"), { method: "POST", form });
    const result = await waitForImport(r.response.headers.get("location") || api(`imports/${r.data.id}`));
    renderReport(result, mode);
    if (mode === "dry_run") await showRejected(file, result);
    return result;
  } catch (err) {
    clear(report).append(el("p", { class: "msg-error", role: "alert" }, err.message));
    return null;
  }
}

function renderReport(result, mode) {
  const box = clear($("#import-report"));
  const c = result.counts || {};
  box.append(el("p", { class: result.status === "succeeded" ? "msg-ok" : "msg-error" },
    t(mode === "dry_run" ? "import.previewed" : "import.done", {
      read: c.read ?? 0, created: c.created ?? 0, updated: c.updated ?? 0, unchanged: c.unchanged ?? 0, rejected: c.rejected ?? 0,
    })));
  if (result.failure) box.append(el("p", { class: "msg-error" }, result.failure));
  const problems = [...(result.errors || []).map((e) => ({ ...e, level: "error" })), ...(result.flags || []).map((e) => ({ ...e, level: "flag" }))];
  if (problems.length) {
    box.append(el("table", { class: "list", id: "import-errors" },
      el("caption", {}, t("import.problems")),
      el("thead", {}, el("tr", {}, ["import.row", "import.field", "import.message"].map((k) => el("th", { scope: "col" }, t(k))))),
      el("tbody", {}, problems.map((e) => el("tr", { class: e.level === "error" ? "msg-error" : "" },
        el("td", {}, String(e.row ?? "–")), el("td", {}, e.field || "–"), el("td", {}, e.message || ""))))));
  }
  $("#import-commit").disabled = !(mode === "dry_run" && result.status === "succeeded" && (c.created || c.updated));
}

// Rows the dry run refused, on the map before the commit: a marker at the point the server
// reports for each (any format with geometries), and for a GeoJSON file the row's own shape.
async function showRejected(file, result) {
  if (I.rejectedLayer) I.map.removeLayer(I.rejectedLayer);
  I.rejectedLayer = null;
  const errors = (result.errors || []).filter((e) => e.row !== null && e.row !== undefined);
  if (!errors.length) return;
  const group = L.featureGroup();
  const style = { color: COLOURS.rejected, weight: 3, dashArray: "4 3", fillOpacity: 0.1 };
  // the server's message as text in a node: a string given to Leaflet would be parsed as HTML
  const tip = (e) => el("span", {}, t("import.rejected_row", { row: e.row, message: e.message || "" }));
  const placed = new Set();
  if (/\.(geo)?json$/i.test(file.name)) {
    let collection = null;
    try { collection = JSON.parse(await file.text()); } catch { /* the report says why */ }
    const features = (collection && collection.features) || [];
    for (const e of errors) {
      const f = features[e.row - 1];
      if (!f || !f.geometry || placed.has(e.row)) continue;
      try {
        L.geoJSON(f, { style, pointToLayer: (_, ll) => L.circleMarker(ll, style) }).bindTooltip(tip(e)).addTo(group);
        placed.add(e.row);
      } catch { /* a geometry Leaflet cannot draw: its marker below */ }
    }
  }
  for (const e of errors) {
    if (placed.has(e.row) || !e.location) continue;
    L.circleMarker([e.location[1], e.location[0]], { ...style, radius: 9 }).bindTooltip(tip(e)).addTo(group);
    placed.add(e.row);
  }
  if (!placed.size) return;
  I.rejectedLayer = group.addTo(I.map);
  I.map.fitBounds(group.getBounds(), { maxZoom: 15, padding: [30, 30] });
}

// The import tab: `map` is the workspace's Leaflet map, `onCommitted` runs after a commit
// (the workspace redraws its tiles and priorities).
export function setupImport({ map, onCommitted = () => {} }) {
  I.map = map;
  $("#import-preview").addEventListener("click", () => runImport("dry_run"));
  $("#import-file").addEventListener("change", () => { $("#import-commit").disabled = true; });
  $("#import-commit").addEventListener("click", async () => {
    $("#import-commit").disabled = true;
    const result = await runImport("commit");
    if (result) {
      if (I.rejectedLayer) { I.map.removeLayer(I.rejectedLayer); I.rejectedLayer = null; }
      onCommitted(result);
    }
  });
}
