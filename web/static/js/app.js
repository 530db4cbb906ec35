// The coordinator workspace (/app): priorities beside the map, a hazard panel, filters, file import
// with a dry-run preview, drawing and editing hazards and releases. Operational data: sign-in needed.
import { $, el, clear, closeOnEscape } from "./dom.js";
import { hazardStyle, releaseStyle, adminStyle, contextStyle, clusterRadius } from "./styles.js";
import { tileTemplate, api, bboxParam } from "./urls.js";
import { gridCluster } from "./cluster.js";
import { balanceChart } from "./balance.js";
import {
  t, setLanguage, initialLanguage, onLanguageChange, currentLanguage,
  formatArea as fmtArea, formatDate, formatNumber, vocabLabel, fieldLabel, adminPath,
} from "./i18n.js";
import { loadConfig, createMap, renderLegend, languageSwitch, demoBanner } from "./basemap.js";
import { call, login, auth, ApiError } from "./client.js";
import { vectorTiles } from "./tiles.js";
import { setupEore } from "./eore.js";
import { setupImport } from "./imports.js";

const S = {
  map: null, me: null, vocab: {}, filters: {}, layers: {}, current: null, highlight: null,
  findsGroup: null,
};
const area = (m2) => fmtArea(m2, currentLanguage(), t);
const label = (vocabulary, code) => vocabLabel(t, vocabulary, code);
const today = () => new Date().toISOString().slice(0, 10);

// ---------- sign-in ----------

// The signed-in user; a request without a valid sign-in asks for one (client.js).
async function whoAmI() {
  return (await call(api("auth/me"))).data;
}

// The sign-in dialog, over the page: when the sign-in has ended (`expired`), whatever the user
// was doing (forms, a drawn or edited outline) stays as it is, and the requests waiting for the
// sign-in are sent once it succeeds. Resolves once signed in.
function askLogin({ expired = false } = {}) {
  return new Promise((resolve) => {
    const dialog = $("#login-dialog");
    const form = $("#login-form");
    $("#login-error").textContent = "";
    $("#login-expired").hidden = !expired;
    if (expired && S.me) form.username.value = S.me.name;
    form.password.value = "";
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      try {
        await login(form.username.value, form.password.value);
        dialog.close();
        resolve();
      } catch (err) {
        $("#login-error").textContent = err.message || t("auth.failed");
      }
    };
    dialog.oncancel = (e) => e.preventDefault(); // the workspace needs a sign-in
    if (!dialog.open) dialog.showModal();
    (expired && S.me ? $("#login-password") : $("#login-user")).focus();
  });
}

async function signIn(info) {
  await askLogin(info);
  if (S.me) whoAmI().then((me) => { S.me = me; showWho(); }).catch(() => {}); // perhaps another user
}

// ---------- layers ----------

// tile requests carry the tab's current token (renewed as it expires), not today's
const tileOptions = (style, extra = {}) => ({ style, auth, maxDetailZoom: 16, ...extra });

function passesFilters(props) {
  const f = S.filters;
  if (f.status && props.status !== f.status) return false;
  if (f.hazard_type && props.hazard_type !== f.hazard_type) return false;
  if (f.classification && props.classification !== f.classification) return false;
  if (f.organisation && props.organisation !== f.organisation) return false;
  if (f.admin && !String(props.admin || "").split(",").includes(f.admin)) return false;
  return true;
}

function buildLayers() {
  const map = S.map;
  S.layers.admin = vectorTiles(tileTemplate("admin-areas"), tileOptions((f) => adminStyle(f.properties)));
  S.layers.releases = vectorTiles(tileTemplate("releases"), tileOptions((f) => releaseStyle(f.properties)));
  // each hazard's paths carry its id as a class (hz-<id>), so a test or a style can find it
  const hazardPaths = (f) => {
    const s = hazardStyle(f.properties);
    return { ...s, className: `${s.className} hz-${f.properties.id}` };
  };
  S.layers.hazards = vectorTiles(tileTemplate("hazards"), tileOptions(
    hazardPaths, { filter: (f) => passesFilters(f.properties) }));
  S.layers.hazards.on("click", (e) => openHazard(e.layer.properties.id, false));
  S.layers.releases.on("click", (e) => openHazard(e.layer.properties.hazard_id, false));
  // context layers, off until asked for (under the hazards)
  for (const kind of ["land-use", "roads", "settlements", "facilities"]) {
    S.layers[`context-${kind}`] = vectorTiles(tileTemplate(`context-${kind}`), tileOptions((f, layerName) => contextStyle(layerName, f.properties)));
  }
  S.findsGroup = L.layerGroup();
  for (const key of ["admin", "releases", "hazards"]) S.layers[key].addTo(map);
  const seesFinds = ["admin", "coordinator"].includes(S.me.role);
  if (seesFinds) {
    S.layers.finds = S.findsGroup;
    S.findsGroup.addTo(map);
    map.on("moveend", loadFinds);
    loadFinds();
  }
  renderLayerToggles();
}

function refreshTiles() {
  // tiles revalidate with their ETag: only those a change touched are rebuilt
  for (const key of ["hazards", "releases"]) S.layers[key]?.redraw();
}

let findsRequest = 0;
async function loadFinds() {
  const map = S.map;
  if (!map.hasLayer(S.findsGroup)) return;
  const b = map.getBounds();
  const mine = ++findsRequest;
  const { data } = await call(api("eo-finds", {
    bbox: bboxParam({ west: b.getWest(), south: b.getSouth(), east: b.getEast(), north: b.getNorth() }), limit: 5000,
  }));
  if (mine !== findsRequest) return;
  const points = (data.features || []).filter((f) => f.geometry).map((f) => {
    const [lon, lat] = f.geometry.coordinates;
    const p = map.latLngToLayerPoint([lat, lon]);
    return { x: p.x, y: p.y, lat, lon, props: f.properties };
  });
  S.findsGroup.clearLayers();
  // never drop finds silently: say when the view holds more than one request brings
  const shown = (data.features || []).length;
  const note = $("#finds-note");
  if (note) {
    note.hidden = !(data.numberMatched > shown);
    note.textContent = t("finds.truncated", { shown: formatNumber(shown, currentLanguage()), total: formatNumber(data.numberMatched, currentLanguage()) });
  }
  for (const c of gridCluster(points, map.getZoom() >= 15 ? 1 : 60)) {
    const ll = map.layerPointToLatLng([c.x, c.y]);
    const size = Math.round(2 * clusterRadius(c.count));
    const text = c.count === 1 ? label("contamination", c.members[0].props.eo_category) : t("finds.cluster", { count: formatNumber(c.count, currentLanguage()) });
    const marker = L.marker(ll, {
      icon: L.divIcon({ className: "find-cluster", html: "", iconSize: [size, size] }),
      title: text, alt: text, keyboard: true,
    });
    marker.on("add", () => { const n = marker.getElement(); if (n) n.textContent = c.count > 1 ? String(c.count) : "•"; });
    marker.on("click", () => (c.count > 1 && map.getZoom() < 18 ? map.setView(ll, map.getZoom() + 2) : null));
    S.findsGroup.addLayer(marker);
  }
}

function renderLayerToggles() {
  const box = clear($("#layer-toggles"));
  const names = {
    admin: "layer.admin", releases: "layer.releases", hazards: "layer.hazards", finds: "layer.finds",
    "context-settlements": "layer.settlements", "context-facilities": "layer.facilities",
    "context-roads": "layer.roads", "context-land-use": "layer.land_use",
  };
  for (const [key, layer] of Object.entries(S.layers)) {
    if (!names[key]) continue;
    const id = `toggle-${key}`;
    const input = el("input", { type: "checkbox", id, checked: S.map.hasLayer(layer) });
    input.addEventListener("change", () => (input.checked ? layer.addTo(S.map) : S.map.removeLayer(layer)));
    box.append(el("p", {}, input, " ", el("label", { for: id }, t(names[key]))));
  }
}

// ---------- vocabularies and filters ----------

async function loadVocab() {
  const { data } = await call(api("vocabularies", { lang: currentLanguage() }));
  S.vocab = data.vocabularies;
}

function vocabOptions(select, vocabulary, { any = true, value = "" } = {}) {
  clear(select);
  if (any) select.append(el("option", { value: "" }, t("filters.any")));
  for (const item of S.vocab[vocabulary] || []) select.append(el("option", { value: item.code }, item.label));
  select.value = value;
}

async function setupFilters() {
  const form = $("#filters");
  for (const sel of form.querySelectorAll("select[data-vocab]")) vocabOptions(sel, sel.dataset.vocab, { value: S.filters[sel.name] || "" });
  const orgs = (await call(api("organisations"))).data.organisations || [];
  const o = clear($("#f-organisation"));
  o.append(el("option", { value: "" }, t("filters.any")), ...orgs.map((x) => el("option", { value: x.code }, `${x.code} – ${x.name}`)));
  o.value = S.filters.organisation || "";
  const admins = (await call(api("admin-areas", { limit: 1000 }))).data.features || [];
  const a = clear($("#f-admin"));
  a.append(el("option", { value: "" }, t("filters.any")));
  admins.sort((x, y) => String(x.properties.pcode).localeCompare(String(y.properties.pcode)));
  // admin areas by name, the code on hover (the hazard panel and the priorities use the names too)
  S.adminNames = Object.fromEntries(admins.map((f) => [f.properties.pcode, f.properties.name]));
  for (const f of admins) a.append(el("option", { value: f.properties.pcode, title: f.properties.pcode }, `${"— ".repeat(Math.max(0, (f.properties.level || 1) - 1))}${f.properties.name || f.properties.pcode}`));
  a.value = S.filters.admin || "";
  S.adminFeatures = Object.fromEntries(admins.map((f) => [f.properties.pcode, f]));
  form.onchange = () => applyFilters({ moveToArea: true });
  filterChip();
}

// Apply the filter form: list and map; a newly chosen admin area brings the map to it.
function applyFilters({ moveToArea = false } = {}) {
  const before = S.filters.admin;
  S.filters = Object.fromEntries([...new FormData($("#filters")).entries()].filter(([, v]) => v));
  S.layers.hazards.redraw();
  loadPriorities();
  filterChip();
  const area = S.adminFeatures?.[S.filters.admin];
  if (moveToArea && area?.geometry && S.filters.admin !== before) {
    S.map.fitBounds(L.geoJSON(area).getBounds(), { animate: false });
  }
}

// "Filtered: …" with a × that clears every filter: a filtered map never passes for the whole one.
function filterChip() {
  const chip = $("#filter-chip");
  const chosen = [...$("#filters").querySelectorAll("select")].filter((s) => s.value);
  chip.hidden = !chosen.length;
  clear(chip);
  if (!chosen.length) return;
  const text = chosen.map((s) => s.selectedOptions[0].textContent.replace(/^(— )+/, "")).join(", ");
  chip.append(
    el("span", {}, t("filters.active", { filters: text })),
    el("button", {
      type: "button", class: "close", "aria-label": t("filters.clear"), title: t("filters.clear"),
      onclick: () => {
        for (const s of $("#filters").querySelectorAll("select")) s.value = "";
        applyFilters();
      },
    }, "×"),
  );
}

// ---------- priorities ----------

// the model the system made is "Default" in the API: shown in the reader's language
const modelName = (model) => (model?.name === "Default" ? t("priorities.default_model") : model?.name || "");

async function loadPriorities() {
  const box = $("#priority-list");
  const f = S.filters;
  try {
    const { data } = await call(api("priorities", {
      limit: 50, admin: f.admin, organisation: f.organisation, status: f.status, hazard_type: f.hazard_type,
    }));
    const rows = data.items.filter((it) => !f.classification || it.classification === f.classification);
    const table = el("table", { class: "list" },
      el("caption", { class: "small" }, t("priorities.caption", { model: modelName(data.model), version: data.model?.version ?? "", count: formatNumber(data.numberMatched, currentLanguage()) })),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "#"), el("th", { scope: "col" }, t("field.name")),
        el("th", { scope: "col" }, t("priorities.score")), el("th", { scope: "col" }, t("field.area")))),
      el("tbody", {}, rows.map((it) => el("tr", { class: "clickable" },
        el("td", {}, String(it.rank)),
        el("td", {}, el("button", { type: "button", class: "link", onclick: () => openHazard(it.hazard_id, true) }, it.name || it.external_id || it.hazard_id),
          el("div", { class: "small" }, `${label("classification", it.classification)} · ${label("hazard_status", it.status)}`),
          it.admin?.length ? el("div", { class: "small admin-path", title: adminPath(it.admin).title }, adminPath(it.admin, S.adminNames).text) : null),
        el("td", {}, `${formatNumber(it.score, currentLanguage(), 1)} (${t(`band.${it.band}`)})`),
        el("td", {}, area(it.area_m2))))));
    clear(box).append(table);
  } catch (err) {
    clear(box).append(el("p", { class: "msg-error" }, err.message));
  }
}

// ---------- hazard panel ----------

function prop(dl, name, value) {
  dl.append(el("dt", {}, name), el("dd", {}, value === null || value === undefined || value === "" ? "–" : value));
}

async function openHazard(id, zoom) {
  if (!id) return;
  const [{ data: h, etag }, history, acts] = await Promise.all([
    call(api(`hazards/${id}`)),
    call(api(`hazards/${id}/history`)).then((r) => r.data).catch(() => ({ versions: [] })),
    call(api("activities", { hazard: id, limit: 100 })).then((r) => r.data).catch(() => ({ activities: [] })),
  ]);
  S.current = { id, etag, feature: h };
  showHighlight(h, zoom);
  renderHazard(h, history, acts);
}

function showHighlight(feature, zoom) {
  if (S.highlight) S.map.removeLayer(S.highlight);
  S.highlight = L.geoJSON(feature, { style: { color: "#0b4f9c", weight: 4, fill: false, dashArray: null } }).addTo(S.map);
  if (zoom) S.map.fitBounds(S.highlight.getBounds(), { maxZoom: 16, padding: [30, 30] });
}

function renderHazard(h, history, acts) {
  const p = h.properties;
  $("#hazard-title").textContent = p.name || p.external_id || p.id;
  const body = clear($("#hazard-body"));
  const dl = el("dl", { class: "props" });
  prop(dl, t("field.external_id"), p.external_id);
  prop(dl, t("field.classification"), label("classification", p.classification));
  prop(dl, t("field.hazard_type"), label("hazard_type", p.hazard_type));
  prop(dl, t("field.status"), label("hazard_status", p.status));
  prop(dl, t("field.contamination"), (p.contamination || []).map((c) => label("contamination", c)).join(", "));
  prop(dl, t("field.organisation"), p.organisation);
  const admin = adminPath(p.admin, S.adminNames);
  prop(dl, t("field.admin"), el("span", { class: "admin-path", title: admin.title }, admin.text));
  prop(dl, t("field.date_of_information"), formatDate(p.date_of_information, currentLanguage()));
  prop(dl, t("field.area"), area(p.area_m2));
  prop(dl, t("field.version"), String(p.version));
  if (p.notes) prop(dl, t("field.notes"), p.notes);
  body.append(dl);
  body.append(el("h3", {}, t("balance.title")), balanceChart(p.land_release, t, area));
  const actions = el("p", {});
  if (canWrite(p)) {
    actions.append(
      el("button", { type: "button", id: "edit-geometry", onclick: editGeometry }, t("edit.geometry")), " ",
      el("button", { type: "button", id: "record-release", onclick: recordRelease }, t("release.record")));
  }
  body.append(actions, el("div", { id: "edit-message", "aria-live": "polite" }));
  body.append(el("h3", {}, t("activities.title")));
  const list = acts.activities || [];
  body.append(list.length ? el("ul", {}, list.map((a) => el("li", {},
    `${label("activity_type", a.activity_type)} · ${label("activity_status", a.status)} · ${formatDate(a.start_date, currentLanguage())}${a.end_date ? " – " + formatDate(a.end_date, currentLanguage()) : ""}`,
    a.releases?.features?.length ? el("div", { class: "small" }, a.releases.features.map((r) => `${label("release_outcome", r.properties.outcome)} ${formatDate(r.properties.date, currentLanguage())}`).join("; ")) : null)))
    : el("p", { class: "small" }, t("activities.none")));
  body.append(el("h3", {}, t("history.title")));
  body.append(el("ol", { class: "timeline" }, (history.versions || []).slice().reverse().map((v) => el("li", {},
    el("strong", {}, `v${v.version} · ${t(`history.kind.${v.kind}`)}`), " ",
    el("span", { class: "small" }, `${formatDate(v.date_of_information, currentLanguage())} · ${v.author || "–"}${v.applied === false ? " · " + t("history.not_applied") : ""}`),
    v.changes ? el("div", { class: "small changes" }, Object.keys(v.changes).map((k) => fieldLabel(t, k)).join(", ")) : null))));
  const panel = $("#hazard-panel");
  panel.hidden = false;
  panel.focus();
}

function canWrite(p) {
  return S.me && (S.me.role === "admin" || (S.me.role === "coordinator" && S.me.organisation === p.organisation));
}

function closeHazard() {
  $("#hazard-panel").hidden = true;
  if (S.highlight) { S.map.pm.disableGlobalEditMode?.(); S.map.removeLayer(S.highlight); S.highlight = null; }
  S.current = null;
}

function editMessage(text, cls = "") {
  const box = $("#edit-message");
  if (box) clear(box).append(el("p", { class: cls }, text));
}

function editGeometry() {
  const layer = S.highlight;
  if (!layer) return;
  layer.eachLayer((l) => l.pm.enable({ allowSelfIntersection: false }));
  const box = clear($("#edit-message"));
  box.append(el("p", {}, t("edit.hint")),
    el("button", { type: "button", class: "primary", id: "save-geometry", onclick: saveGeometry }, t("action.save")), " ",
    el("button", { type: "button", onclick: () => openHazard(S.current.id, false) }, t("action.cancel")));
}

async function saveGeometry() {
  const geometry = S.highlight.toGeoJSON().features[0].geometry;
  try {
    const r = await call(api(`hazards/${S.current.id}`), {
      method: "PATCH", headers: { "If-Match": S.current.etag },
      json: { type: "Feature", geometry, properties: { date_of_information: today() } },
    });
    S.current.etag = r.etag;
    refreshTiles();
    loadPriorities();
    await openHazard(S.current.id, false);
    editMessage(t("edit.saved"), "msg-ok");
  } catch (err) {
    if (err.status === 412) {
      const box = clear($("#edit-message"));
      box.append(el("p", { class: "msg-error", role: "alert" }, t("edit.conflict")),
        el("button", { type: "button", onclick: () => openHazard(S.current.id, false) }, t("edit.reload")));
    } else editMessage(err.message, "msg-error");
  }
}

// ---------- drawing ----------

function field(form, name, labelKey, input) {
  input.id = `ff-${name}`;
  input.name = name;
  form.append(el("label", { for: input.id }, t(labelKey)), input);
  return input;
}

function vocabSelect(vocabulary, value) {
  const s = el("select", {});
  vocabOptions(s, vocabulary, { any: false, value });
  return s;
}

// A modal form; resolves with its values, or null when cancelled.
function featureDialog(titleKey, build, submit) {
  const dialog = $("#feature-dialog");
  const form = clear($("#feature-form"));
  form.append(el("h2", { id: "feature-title", class: "span" }, t(titleKey)));
  build(form);
  const error = el("p", { class: "msg-error span", role: "alert" });
  form.append(error, el("p", { class: "span" },
    el("button", { type: "submit", class: "primary" }, t("action.save")), " ",
    el("button", { type: "button", onclick: () => dialog.close("cancel") }, t("action.cancel"))));
  return new Promise((resolve) => {
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      try { resolve(await submit(new FormData(form))); dialog.close("ok"); } catch (err) { error.textContent = err.message; }
    };
    dialog.onclose = () => resolve(null);
    dialog.showModal();
  });
}

function drawPolygon() {
  return new Promise((resolve) => {
    S.map.pm.enableDraw("Polygon", { allowSelfIntersection: false });
    S.map.once("pm:create", (e) => { S.map.pm.disableDraw(); resolve(e.layer); });
  });
}

async function drawHazard() {
  const layer = await drawPolygon();
  const geometry = layer.toGeoJSON().geometry;
  const created = await featureDialog("draw.hazard", (form) => {
    field(form, "external_id", "field.external_id", el("input", { maxlength: 200, autocomplete: "off" }));
    field(form, "name", "field.name", el("input", { required: true, maxlength: 500 }));
    field(form, "classification", "field.classification", vocabSelect("classification", "SHA"));
    const status = vocabSelect("hazard_status", "");
    status.prepend(el("option", { value: "" }, t("draw.status_derived")));
    status.value = "";
    field(form, "status", "field.status", status);
    field(form, "hazard_type", "field.hazard_type", vocabSelect("hazard_type", "minefield"));
    field(form, "contamination", "field.contamination", vocabSelect("contamination", "ap_mine"));
    field(form, "date_of_information", "field.date_of_information", el("input", { type: "date", required: true, value: today() }));
  }, async (fd) => {
    const props = Object.fromEntries([...fd.entries()].filter(([, v]) => v !== ""));
    props.contamination = [props.contamination];
    return (await call(api("hazards"), { method: "POST", json: { type: "Feature", geometry, properties: props } })).data;
  });
  S.map.removeLayer(layer);
  if (created) {
    refreshTiles();
    loadPriorities();
    openHazard(created.id || created.properties.id, false);
  }
}

async function recordRelease() {
  const hazardId = S.current.id;
  const layer = await drawPolygon();
  const geometry = layer.toGeoJSON().geometry;
  const done = await featureDialog("release.record", (form) => {
    field(form, "activity_type", "field.activity_type", vocabSelect("activity_type", "technical_survey"));
    field(form, "outcome", "field.outcome", vocabSelect("release_outcome", "reduced"));
    field(form, "end_date", "field.completed_on", el("input", { type: "date", required: true, value: today() }));
  }, async (fd) => {
    const v = Object.fromEntries(fd.entries());
    return (await call(api("activities"), { method: "POST", json: {
      activity_type: v.activity_type, hazard_ids: [hazardId], status: "completed", start_date: v.end_date, end_date: v.end_date,
      releases: { type: "FeatureCollection", features: [{ type: "Feature", geometry, properties: { outcome: v.outcome, date: v.end_date } }] },
    } })).data;
  });
  S.map.removeLayer(layer);
  if (done) {
    refreshTiles();
    loadPriorities();
    openHazard(hazardId, false);
  }
}

// ---------- tabs ----------

function setupTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]:not([hidden])")];
  const select = (tab) => {
    for (const x of tabs) {
      const on = x === tab;
      x.setAttribute("aria-selected", String(on));
      x.tabIndex = on ? 0 : -1;
      $(`#${x.getAttribute("aria-controls")}`).hidden = !on;
    }
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (step) { const next = tabs[(i + step + tabs.length) % tabs.length]; select(next); next.focus(); }
    });
  });
  select(tabs[0]);
  return select;
}

// ---------- start ----------

function showWho() {
  $("#who").textContent = `${S.me.name} · ${label("role", S.me.role)}${S.me.organisation ? " · " + S.me.organisation : ""}`;
}

async function main() {
  await setLanguage(initialLanguage());
  const config = await loadConfig();
  demoBanner($("#demo-banner"), config);
  languageSwitch($("#language"), config.languages);
  auth.onSignInNeeded(signIn);
  auth.onPending((count) => { document.body.dataset.requestsPending = String(count); });
  auth.keepAlive();
  S.me = await whoAmI(); // not signed in (or the sign-in has ended): the dialog first
  showWho();
  // risk education: the eore role's home; coordinators and admins have the tab too
  const eoreTab = ["eore", "coordinator", "admin"].includes(S.me.role);
  $("#import-kind optgroup").hidden = !["coordinator", "admin"].includes(S.me.role); // context layers
  $("#tab-eore").hidden = !eoreTab;
  const selectTab = setupTabs();
  if (S.me.role === "eore") selectTab($("#tab-eore"));
  $("#logout").hidden = false;
  $("#logout").addEventListener("click", () => { auth.clear(); location.reload(); });
  await loadVocab();
  S.map = createMap($("#map"), config);
  buildLayers();
  await setupFilters();
  renderLegend($("#pane-legend"));
  setupImport({ map: S.map, onCommitted: () => { refreshTiles(); loadPriorities(); } });
  $("#draw-hazard").hidden = !["admin", "coordinator"].includes(S.me.role);
  $("#draw-hazard").addEventListener("click", drawHazard);
  $("#hazard-close").addEventListener("click", closeHazard);
  closeOnEscape($("#hazard-panel"), closeHazard);
  await loadPriorities();
  if (eoreTab) await setupEore({ map: S.map, me: S.me, adminNames: S.adminNames });
  // a link to one hazard: /app#hazard=<id>
  const openLinked = () => {
    const m = /^#hazard=([0-9a-f-]{36})$/i.exec(location.hash);
    if (m) openHazard(m[1], true);
  };
  window.addEventListener("hashchange", openLinked);
  openLinked();
  onLanguageChange(async () => {
    await loadVocab();
    await setupFilters();
    renderLegend($("#pane-legend"));
    renderLayerToggles();
    showWho();
    loadPriorities();
    if (S.current) openHazard(S.current.id, false);
  });
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  const msg = err instanceof ApiError ? err.message : String(err);
  document.body.append(el("p", { class: "msg-error", role: "alert" }, msg));
});
