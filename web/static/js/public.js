// The public hazard map (/): the latest published, generalised public layer only.
import { $, el, clear, closeOnEscape } from "./dom.js";
import { hazardStyle, releaseStyle } from "./styles.js";
import { tileTemplate, api } from "./urls.js";
import { t, setLanguage, initialLanguage, onLanguageChange, currentLanguage, formatDate, formatDistance, vocabLabel } from "./i18n.js";
import { loadConfig, createMap, renderLegend, languageSwitch, demoBanner } from "./basemap.js";
import { call } from "./client.js";
import { vectorTiles } from "./tiles.js";

const PUBLIC_LAYERS = ["public-released", "public-hazards"];

function styleFor(feature, layerName) {
  return layerName === "public-released" ? releaseStyle(feature.properties) : hazardStyle(feature.properties);
}

// The public layer's own codes (marking, "mixed" hazard types) first, then the code lists.
function publicLabel(name, code, vocabulary) {
  const key = `public.${name}.${code}`;
  const own = t(key);
  if (own !== key) return own;
  return vocabulary ? vocabLabel(t, vocabulary, code) : String(code ?? "–");
}

function row(label, value) {
  return [el("dt", {}, label), el("dd", {}, value)];
}

// Details of a clicked public feature, every value as text; drawn again in a new language.
let detailsShown = null;
function showDetails(props, layerName, { focus = true } = {}) {
  detailsShown = { props, layerName };
  const body = clear($("#details-body"));
  const dl = el("dl", { class: "props" });
  if (layerName === "public-released") {
    dl.append(...row(t("field.outcome"), vocabLabel(t, "release_outcome", props.outcome)),
      ...row(t("field.completed_on"), formatDate(props.completed_on, currentLanguage())));
    // the residual-risk note in the reader's language (the tile carries English only)
    body.append(el("h3", {}, t("details.released")), dl, el("p", { class: "small" }, t("details.residual_risk")));
  } else {
    dl.append(...row(t("field.classification"), vocabLabel(t, "classification", props.classification)),
      ...row(t("field.hazard_type"), publicLabel("hazard_type", props.hazard_type, "hazard_type")),
      ...row(t("field.status"), vocabLabel(t, "hazard_status", props.status)),
      ...row(t("field.marking"), publicLabel("marking", props.marking || "not_recorded")),
      ...row(t("field.last_update"), formatDate(props.last_update, currentLanguage())));
    body.append(el("h3", {}, t("details.hazard")), dl, el("p", { class: "warn-text" }, t("details.keep_out")));
  }
  const panel = $("#details");
  panel.hidden = false;
  if (focus) panel.focus();
}

function hideDetails() {
  $("#details").hidden = true;
  $("#map").focus();
}

// On a phone the side panel lies below the map: the verdict is also shown over the map, in a
// live region of its own (the side panel's stops announcing, so it is read once), and the map
// is scrolled into view, so nobody has to look for it below the fold.
const PHONE = "(max-width: 720px)";
const onPhone = () => window.matchMedia(PHONE).matches;

function showVerdictOverMap(map, lines) {
  const box = $("#map-verdict");
  box.hidden = !onPhone();
  $("#check-result").setAttribute("aria-live", box.hidden ? "polite" : "off");
  if (box.hidden) return;
  clear(box).append(
    ...lines,
    el("button", { type: "button", class: "close", "aria-label": t("action.close"), onclick: () => { box.hidden = true; } }, "×"),
  );
  map.getContainer().scrollIntoView({ block: "start" });
}

let lastCheck = null; // asked again in a new language, so the verdict follows the page
async function check(map, lon, lat, marker) {
  lastCheck = [map, lon, lat, marker];
  const out = clear($("#check-result"));
  out.append(el("p", {}, t("check.checking")));
  try {
    const { data } = await call(api("public/check", { lon: lon.toFixed(6), lat: lat.toFixed(6) }), { lang: currentLanguage() });
    clear(out);
    const verdict = () => el("p", { class: `status-${data.status}` }, t(`check.status.${data.status}`));
    const nearest = () => el("p", {}, t("check.nearest", { distance: formatDistance(data.nearest_m, currentLanguage(), t) }));
    const hasNearest = data.nearest_m !== null && data.nearest_m !== undefined && data.status !== "inside";
    out.append(verdict());
    if (hasNearest) out.append(nearest());
    showVerdictOverMap(map, hasNearest ? [verdict(), nearest()] : [verdict()]);
    const advice = data.advice || {};
    for (const [key, items] of [["check.do", advice.do], ["check.dont", advice.dont]]) {
      if (items && items.length) out.append(el("h3", {}, t(key)), el("ul", {}, items.map((x) => el("li", {}, x))));
    }
    if (advice.hotline) out.append(el("p", {}, t("check.hotline", { hotline: advice.hotline })));
    marker.setLatLng([lat, lon]).addTo(map);
  } catch (err) {
    clear(out).append(el("p", { class: "msg-error" }, t("check.failed"), " ", err.message));
  }
}

async function main() {
  await setLanguage(initialLanguage());
  const config = await loadConfig();
  demoBanner($("#demo-banner"), config);
  languageSwitch($("#language"), config.languages);
  const map = createMap($("#map"), config);
  // the point "Check the map centre" asks about, always marked (it never takes a click)
  map.getContainer().append(
    el("div", { id: "crosshair", class: "crosshair", "aria-hidden": "true" }),
    el("div", { id: "map-verdict", class: "map-verdict", role: "status", hidden: "" }),
  );
  // released land under the hazards; tiles above z15 reuse z15's (public detail is capped);
  // asked for with the publication's version, the browser keeps them (immutable)
  const version = config.public_tiles ? { v: config.public_tiles } : undefined;
  for (const name of PUBLIC_LAYERS) {
    vectorTiles(tileTemplate(name, version), { style: styleFor, maxDetailZoom: 15 })
      .on("click", (e) => showDetails(e.layer.properties || {}, e.layer.layerName || name))
      .addTo(map);
  }
  renderLegend($("#legend"));
  onLanguageChange(() => renderLegend($("#legend")));
  onLanguageChange(() => {
    if (detailsShown && !$("#details").hidden) showDetails(detailsShown.props, detailsShown.layerName, { focus: false });
    if (lastCheck) check(...lastCheck);
  });
  $("#details-close").addEventListener("click", hideDetails);
  closeOnEscape($("#details"), hideDetails);
  const marker = L.circleMarker([0, 0], { radius: 8, color: "#0b4f9c", weight: 3, fillOpacity: 0.3 });
  $("#check-centre").addEventListener("click", () => {
    const c = map.getCenter();
    check(map, c.lng, c.lat, marker);
  });
  $("#check-me").addEventListener("click", () => {
    if (!navigator.geolocation) {
      clear($("#check-result")).append(el("p", { class: "msg-error" }, t("check.no_geolocation")));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => { map.setView([pos.coords.latitude, pos.coords.longitude], 14); check(map, pos.coords.longitude, pos.coords.latitude, marker); },
      () => clear($("#check-result")).append(el("p", { class: "msg-error" }, t("check.no_geolocation"))),
      { enableHighAccuracy: true, timeout: 15000 },
    );
  });
  document.body.dataset.ready = "true";
}

main();
