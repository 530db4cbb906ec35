// Risk education in the workspace (the `eore` role's home; coordinators and admins have it too):
// where sessions are due (the planning list, as a table and on the map, with a CSV), recording a
// session (a point on the map, or "not safe to record" and an area), the organisation's past
// sessions, and the community risk sheet of a settlement in either language.
import { $, el, clear, closeOnEscape } from "./dom.js";
import { api } from "./urls.js";
import { call, auth, ApiError } from "./client.js";
import { t, currentLanguage, formatDate, formatNumber, formatDistance, vocabLabel, onLanguageChange } from "./i18n.js";

const E = { map: null, me: null, adminNames: {}, rows: [], layer: null, markers: new Map(), picking: null, next: null };

// The beneficiary grid: each age band × disability row, a count per sex (the API's cells).
export const BENEFICIARY_ROWS = [
  ["age_5_12", "without_disability"], ["age_13_17", "without_disability"], ["age_18_plus", "without_disability"],
  ["age_5_12", "with_disability"], ["age_13_17", "with_disability"], ["age_18_plus", "with_disability"],
];
export const BENEFICIARY_SEXES = ["female", "male"];

// The cells of the grid's inputs ({name: "b.<sex>.<age>.<disability>", value}) worth sending:
// positive whole numbers only; pure (web/tests/eore.test.mjs).
export function beneficiaryCells(entries) {
  const cells = [];
  for (const [name, raw] of entries) {
    const m = /^b\.(\w+)\.(\w+)\.(\w+)$/.exec(name);
    const count = Number(raw);
    if (!m || raw === "" || !Number.isInteger(count) || count <= 0) continue;
    cells.push({ sex: m[1], age_band: m[2], disability: m[3], count });
  }
  return cells;
}

// The session's Feature from the form's values; pure (web/tests/eore.test.mjs).
export function sessionFeature(values, { point = null, settlementId = null } = {}) {
  const safe = values.location !== "not_safe";
  const props = {
    session_date: values.session_date,
    delivery_method: values.delivery_method,
    audience: values.audience,
    messages_covered: values.messages_covered || [],
    beneficiaries: values.beneficiaries || [],
    hazard_ids: values.hazard_ids || [],
    location_safe_to_record: safe,
  };
  if (settlementId) props.settlement_id = settlementId;
  if (!safe) props.admin = values.admin;
  if (values.notes) props.notes = values.notes;
  return {
    type: "Feature",
    geometry: safe && point ? { type: "Point", coordinates: [point.lng, point.lat] } : null,
    properties: props,
  };
}

// The form field a problem's JSON pointer names ("/properties/session_date" → "session_date",
// "/properties/beneficiaries/0/count" → "beneficiaries", "/geometry" → "location"); pure.
export function fieldForPointer(pointer) {
  const parts = String(pointer || "").split("/").filter(Boolean);
  if (parts[0] === "geometry" || parts[1] === "location_safe_to_record") return "location";
  if (parts[0] === "properties" && parts[1]) return parts[1] === "settlement_id" ? "location" : parts[1];
  return null;
}

const label = (vocabulary, code) => vocabLabel(t, vocabulary, code);
const adminName = (code) => (code ? E.adminNames[code] || code : "–");

// ---------- planning ----------

function planningParams() {
  const params = {};
  const admin = $("#eore-admin").value;
  const minPop = $("#eore-min-pop").value;
  if (admin) params.admin = admin;
  if (minPop) params.min_population = minPop;
  return params;
}

async function loadPlanning() {
  const box = $("#eore-planning");
  try {
    const { data } = await call(api("eore-sessions/planning", { ...planningParams(), limit: 100 }));
    E.rows = data.items || [];
    renderPlanning();
  } catch (err) {
    clear(box).append(el("p", { class: "msg-error", role: "alert" }, err.message));
  }
}

function highlight(id, { pan = false } = {}) {
  for (const tr of document.querySelectorAll("#eore-planning tr[data-id]")) tr.classList.toggle("selected", tr.dataset.id === id);
  for (const [key, marker] of E.markers) {
    marker.setStyle(key === id ? { color: "#ffbf47", weight: 4 } : { color: "#0b4f9c", weight: 2 });
    if (key === id && pan) E.map.panTo(marker.getLatLng());
  }
}

function renderPlanning() {
  const box = clear($("#eore-planning"));
  E.layer.clearLayers();
  E.markers.clear();
  if (!E.rows.length) {
    box.append(el("p", {}, t("eore.planning_empty")));
    return;
  }
  const lang = currentLanguage();
  const rows = E.rows.map((r) => {
    const marker = L.circleMarker([r.lat, r.lon], {
      radius: 6 + Math.min(8, Math.log10(Math.max(10, r.population || 10))), color: "#0b4f9c", weight: 2,
      fillColor: "#5b9bd5", fillOpacity: 0.7, className: "sg-eore-settlement",
    }).bindTooltip(el("span", {}, `${r.rank}. ${r.name || ""}`)).on("click", () => highlight(r.id));
    marker.addTo(E.layer);
    E.markers.set(r.id, marker);
    const sheet = (l) => el("button", { type: "button", class: "link", "data-sheet": l, onclick: () => openSheet(r.id, l) }, t(`eore.sheet_${l}`));
    return el("tr", { "data-id": r.id, class: "clickable", onclick: (e) => { if (e.target.tagName !== "BUTTON") highlight(r.id, { pan: true }); } },
      el("td", {}, String(r.rank)),
      el("td", {}, el("span", { title: r.admin || "" }, r.name || "–"), el("br"), el("span", { class: "small", title: r.admin || "" }, adminName(r.admin))),
      el("td", {}, r.population === null || r.population === undefined ? "–" : formatNumber(r.population, lang)),
      el("td", {}, String(r.open_hazards ?? 0), r.nearest_hazard_m !== null && r.nearest_hazard_m !== undefined ? el("span", { class: "small" }, ` (${formatDistance(r.nearest_hazard_m, lang, t)})`) : ""),
      el("td", {}, r.last_session_on ? formatDate(r.last_session_on, lang) : t("eore.never")),
      el("td", {}, sheet("uk"), " ", sheet("en"), el("br"),
        el("button", { type: "button", class: "link", "data-record": r.id, onclick: () => recordSession(r) }, t("eore.record_here"))),
    );
  });
  box.append(el("table", { class: "list" },
    el("thead", {}, el("tr", {}, ["#", t("eore.settlement"), t("eore.population"), t("eore.open_hazards"), t("eore.last_session"), ""].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)));
}

// The planning list as a spreadsheet: fetched with the tab's sign-in, saved as a file.
async function downloadCsv() {
  const r = await auth.fetch(api("eore-sessions/planning", { ...planningParams(), f: "csv" }), { headers: { Accept: "text/csv", "Accept-Language": currentLanguage() } });
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
  const url = URL.createObjectURL(await r.blob());
  const a = el("a", { href: url, download: "eore-planning.csv", hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// The community risk sheet (HTML, printable) in a new tab, asked with the tab's sign-in.
async function openSheet(settlementId, lang) {
  const { data } = await call(api("eore-sessions/community-sheet", { settlement: settlementId, lang }), { headers: { Accept: "text/html" }, lang });
  const url = URL.createObjectURL(new Blob([data], { type: "text/html" }));
  window.open(url, "_blank");
  setTimeout(() => URL.revokeObjectURL(url), 120_000);
}

// ---------- recording a session ----------

function vocabSelect(name, vocabulary, codes, value) {
  return el("select", { id: `eore-f-${name}`, name }, codes.map((c) => el("option", { value: c, selected: c === value }, label(vocabulary, c))));
}

function row(form, id, text, input) {
  form.append(el("label", { for: id }, text), input);
}

async function nearbyHazards(lon, lat) {
  const d = 0.05;
  try {
    const { data } = await call(api("hazards", { bbox: `${lon - d},${lat - d},${lon + d},${lat + d}`, limit: 20 }));
    return data.features || [];
  } catch { return []; }
}

async function recordSession(planningRow = null) {
  const vocab = (await call(api("vocabularies"))).data.vocabularies || {};
  const codes = (name) => (vocab[name] || []).map((x) => x.code);
  const dialog = $("#eore-dialog");
  const form = clear($("#eore-form"));
  let point = planningRow ? L.latLng(planningRow.lat, planningRow.lon) : null;
  const where = el("output", { id: "eore-point", class: "small" });
  const showPoint = () => { where.textContent = point ? `${point.lat.toFixed(5)}, ${point.lng.toFixed(5)}` : t("eore.no_point"); };
  showPoint();
  form.append(el("h2", { id: "eore-dialog-title", class: "span" }, t("eore.record_title")));
  if (planningRow) form.append(el("p", { class: "span" }, t("eore.for_settlement", { name: planningRow.name || "" })));
  row(form, "eore-f-date", t("eore.session_date"), el("input", { id: "eore-f-date", name: "session_date", type: "date", required: true, value: new Date().toISOString().slice(0, 10) }));
  row(form, "eore-f-delivery_method", t("field.delivery_method"), vocabSelect("delivery_method", "eore_delivery_method", codes("eore_delivery_method"), "interpersonal"));
  row(form, "eore-f-audience", t("field.audience"), vocabSelect("audience", "eore_audience", codes("eore_audience"), "general_community"));
  // where: a point on the map, or "not safe to record" and the area
  const safe = el("input", { type: "radio", name: "location", value: "point", id: "eore-loc-point", checked: true });
  const notSafe = el("input", { type: "radio", name: "location", value: "not_safe", id: "eore-loc-not-safe" });
  const admin = el("select", { id: "eore-f-admin", name: "admin", disabled: true },
    el("option", { value: "" }, "–"), Object.entries(E.adminNames).map(([code, name]) => el("option", { value: code, title: code, selected: code === planningRow?.admin }, name || code)));
  const pick = el("button", { type: "button", id: "eore-pick" }, t("eore.pick_on_map"));
  form.append(el("fieldset", { class: "span" }, el("legend", {}, t("eore.where")),
    el("label", {}, safe, " ", t("eore.at_point")), " ", where, " ", pick, el("br"),
    el("label", {}, notSafe, " ", t("eore.not_safe")), " ", el("label", { for: "eore-f-admin", class: "small" }, t("field.admin")), " ", admin));
  const toggle = () => { admin.disabled = !notSafe.checked; admin.required = notSafe.checked; pick.disabled = notSafe.checked; };
  safe.addEventListener("change", toggle);
  notSafe.addEventListener("change", toggle);
  pick.addEventListener("click", () => {
    dialog.close("pick");
    document.body.dataset.eorePicking = "true";
    E.map.getContainer().style.cursor = "crosshair";
    E.map.once("click", (e) => {
      point = e.latlng;
      showPoint();
      E.map.getContainer().style.cursor = "";
      delete document.body.dataset.eorePicking;
      dialog.showModal();
    });
  });
  // beneficiaries by sex × age band × disability
  const grid = el("table", { class: "list span beneficiaries" },
    el("caption", {}, t("eore.beneficiaries")),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("field.age_band")), el("th", { scope: "col" }, t("field.disability")),
      BENEFICIARY_SEXES.map((s) => el("th", { scope: "col" }, label("sex", s))))),
    el("tbody", {}, BENEFICIARY_ROWS.map(([age, dis]) => el("tr", {},
      el("th", { scope: "row" }, label("eore_age_band", age)), el("td", {}, label("eore_disability", dis)),
      BENEFICIARY_SEXES.map((s) => el("td", {}, el("input", {
        type: "number", min: 0, max: 1000000, step: 1, name: `b.${s}.${age}.${dis}`, id: `eore-b-${s}-${age}-${dis}`,
        "aria-label": `${label("sex", s)}, ${label("eore_age_band", age)}, ${label("eore_disability", dis)}`, inputmode: "numeric",
      })))))));
  form.append(grid);
  form.append(el("fieldset", { class: "span" }, el("legend", {}, t("field.messages_covered")),
    codes("eore_message").map((c) => el("label", { class: "check-row" }, el("input", { type: "checkbox", name: "messages_covered", value: c, checked: c !== "risk_taking" }), " ", label("eore_message", c)))));
  const hazardsBox = el("fieldset", { class: "span", id: "eore-hazards" }, el("legend", {}, t("eore.linked_hazards")));
  form.append(hazardsBox);
  if (point) {
    for (const h of await nearbyHazards(point.lng, point.lat)) {
      const p = h.properties || {};
      hazardsBox.append(el("label", { class: "check-row" }, el("input", { type: "checkbox", name: "hazard_ids", value: h.id || p.id }), " ", p.name || p.external_id || h.id));
    }
  }
  if (hazardsBox.children.length === 1) hazardsBox.append(el("p", { class: "small" }, t("eore.no_nearby_hazards")));
  row(form, "eore-f-notes", t("field.notes"), el("textarea", { id: "eore-f-notes", name: "notes", rows: 2, maxlength: 10000 }));
  const error = el("p", { class: "msg-error span", role: "alert", id: "eore-error" });
  form.append(error, el("p", { class: "span" },
    el("button", { type: "submit", class: "primary" }, t("action.save")), " ",
    el("button", { type: "button", onclick: () => dialog.close("cancel") }, t("action.cancel"))));
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    const fd = new FormData(form);
    const values = {
      session_date: fd.get("session_date"), delivery_method: fd.get("delivery_method"), audience: fd.get("audience"),
      location: fd.get("location"), admin: fd.get("admin"), notes: fd.get("notes"),
      messages_covered: fd.getAll("messages_covered"), hazard_ids: fd.getAll("hazard_ids"),
      beneficiaries: beneficiaryCells([...fd.entries()]),
    };
    if (values.location !== "not_safe" && !point) { error.textContent = t("eore.no_point"); return; }
    try {
      await call(api("eore-sessions"), { method: "POST", json: sessionFeature(values, { point, settlementId: planningRow?.id }) });
      dialog.close("ok");
      $("#eore-status").textContent = t("eore.recorded");
      await Promise.all([loadPlanning(), loadSessions()]);
    } catch (err) {
      error.textContent = err.message;
      showFieldErrors(form, err.problem);
    }
  };
  dialog.showModal();
}

// The API's problem messages beside the fields they name (422), each announced with its field.
function showFieldErrors(form, problem) {
  const anchors = {
    location: "#eore-loc-not-safe", beneficiaries: "table.beneficiaries", messages_covered: "input[name=messages_covered]",
    hazard_ids: "#eore-hazards legend",
  };
  for (const e of (problem && problem.errors) || []) {
    const name = fieldForPointer(e.pointer);
    if (!name) continue;
    const target = form.querySelector(anchors[name] || `[name="${CSS.escape(name)}"]`);
    if (!target) continue;
    const note = el("span", { class: "field-error msg-error small", "data-field": name, role: "alert" }, e.message || "");
    if (target.tagName === "TABLE") target.before(note);
    else (target.closest("label") || target).after(note);
  }
}

// ---------- past sessions ----------

async function loadSessions({ more = false } = {}) {
  const list = $("#eore-sessions");
  const url = more && E.next ? E.next : api("eore-sessions", { organisation: E.me.organisation || undefined, limit: 20 });
  try {
    const { data } = await call(url);
    if (!more) clear(list);
    const lang = currentLanguage();
    for (const f of data.features || []) {
      const p = f.properties || {};
      const people = (p.beneficiaries || []).reduce((n, c) => n + (c.count || 0), 0);
      const place = f.geometry ? t("eore.at_point") : t("eore.not_safe");
      list.append(el("li", {},
        el("strong", {}, formatDate(p.session_date, lang)), " · ", label("eore_delivery_method", p.delivery_method),
        " · ", label("eore_audience", p.audience), " · ", t("eore.people", { count: formatNumber(people, lang) }),
        el("br"), el("span", { class: "small", title: p.admin ? [].concat(p.admin).join(" › ") : "" }, place, p.admin ? ` · ${[].concat(p.admin).map(adminName).join(" › ")}` : "")));
    }
    if (!list.children.length) list.append(el("li", {}, t("eore.no_sessions")));
    E.next = (data.links || []).find((l) => l.rel === "next")?.href || null;
    $("#eore-more").hidden = !E.next;
  } catch (err) {
    clear(list).append(el("li", { class: "msg-error", role: "alert" }, err.message));
  }
}

// ---------- set-up ----------

export async function setupEore({ map, me, adminNames }) {
  Object.assign(E, { map, me, adminNames: adminNames || {} });
  E.layer = L.layerGroup().addTo(map);
  const adminSelect = $("#eore-admin");
  const fillAdmins = () => {
    const chosen = adminSelect.value;
    clear(adminSelect).append(el("option", { value: "" }, t("filters.any")),
      Object.entries(E.adminNames).map(([code, name]) => el("option", { value: code, title: code }, name || code)));
    adminSelect.value = chosen;
  };
  fillAdmins();
  $("#eore-filters").addEventListener("submit", (e) => { e.preventDefault(); loadPlanning(); });
  adminSelect.addEventListener("change", loadPlanning);
  $("#eore-min-pop").addEventListener("change", loadPlanning);
  $("#eore-csv").addEventListener("click", () => downloadCsv().catch((err) => { $("#eore-status").textContent = err.message; }));
  $("#eore-record").addEventListener("click", () => recordSession());
  $("#eore-more").addEventListener("click", () => loadSessions({ more: true }));
  closeOnEscape($("#eore-dialog"), () => $("#eore-dialog").close("cancel"));
  onLanguageChange(() => { fillAdmins(); renderPlanning(); loadSessions(); });
  await Promise.all([loadPlanning(), loadSessions()]);
}
