// Map symbology after IMAS TN 07.11/01 (domain.md §2.3): fill by classification, outline by status.
// Pure: each function maps a feature's properties to Leaflet path options (web/tests/styles.test.mjs).

export const COLOURS = {
  CHA: "#FF0000", // confirmed hazardous area: red fill, 50 % transparent
  SHA: "#F4A718", // suspected hazardous area: orange fill, 50 % transparent
  open: "#C00000", // open: red continuous outline
  worked_on: "#B86E00", // worked on: orange patterned (dashed) outline
  suspended: "#5A5A5A", // suspended: grey dotted outline (not an IMAS symbol: kept apart from worked on)
  closed: "#3F7F00", // closed / handed over: green outline (IMAS CMYK 40/0/100/0, darkened for contrast)
  released: "#99FF00", // released land: IMAS green (CMYK 40/0/100/0)
  releasedOutline: "#3F7F00",
  admin: "#3B3B8F",
  find: "#6A1B9A",
  rejected: "#0050D0",
};

const OUTLINES = {
  open: { color: COLOURS.open, dashArray: null },
  worked_on: { color: COLOURS.worked_on, dashArray: "8 5" },
  suspended: { color: COLOURS.suspended, dashArray: "2 5" },
  closed: { color: COLOURS.closed, dashArray: null },
  handed_over: { color: COLOURS.closed, dashArray: null },
};

// A hazard area (operational or public layer). Unknown values draw as the most dangerous case
// (CHA fill, open outline): a map must never make a hazard look safer than it is.
export function hazardStyle(props = {}) {
  const cls = props.classification === "SHA" ? "SHA" : "CHA";
  const outline = OUTLINES[props.status] || OUTLINES.open;
  return {
    fill: true,
    fillColor: COLOURS[cls],
    fillOpacity: 0.5,
    color: outline.color,
    dashArray: outline.dashArray,
    weight: 2.5,
    opacity: 1,
    interactive: true,
    className: `sg-hazard sg-${cls.toLowerCase()}`,
  };
}

// Released land: green, its outline telling how it was released.
const RELEASE_DASH = { cleared: null, reduced: "6 4", cancelled: "1 5" };
export function releaseStyle(props = {}) {
  return {
    fill: true,
    fillColor: COLOURS.released,
    fillOpacity: 0.45,
    color: COLOURS.releasedOutline,
    dashArray: RELEASE_DASH[props.outcome] ?? null,
    weight: 2,
    opacity: 1,
    interactive: true,
    className: `sg-release sg-${props.outcome || "released"}`,
  };
}

export function adminStyle(props = {}) {
  const top = Number(props.level ?? 1) <= 1;
  return { fill: false, color: COLOURS.admin, weight: top ? 2 : 1, opacity: 0.8, dashArray: top ? null : "4 4", interactive: false };
}

// Context layers (what coordinators weigh when planning): quiet colours under the hazards.
export function contextStyle(layerName, props = {}) {
  switch (layerName) {
    case "context-settlements":
      return { radius: 3 + Math.min(6, Math.log10(Math.max(1, Number(props.population) || 1))), color: "#333", weight: 1, fillColor: "#ffffff", fillOpacity: 0.9, interactive: false };
    case "context-facilities":
      return { radius: 4, color: "#0b4f9c", weight: 2, fillColor: "#0b4f9c", fillOpacity: 0.6, interactive: false };
    case "context-roads":
      return { color: "#6b6b6b", weight: 1.5, opacity: 0.9, fill: false, interactive: false };
    default: // land use
      return { color: "#5f7f3f", weight: 1, dashArray: "2 3", fill: true, fillColor: "#a8c686", fillOpacity: 0.15, interactive: false };
  }
}

// A cluster of EO finds: the radius grows with the count (log scale, 6..22 px).
export function clusterRadius(count) {
  return Math.min(22, 6 + 4 * Math.log10(Math.max(1, count)) * 2);
}

// Legend entries: each has a pattern or label besides its colour (never colour alone).
export function legendEntries() {
  return [
    { key: "legend.cha", swatch: { fill: COLOURS.CHA, pattern: "hatch", outline: COLOURS.open } },
    { key: "legend.sha", swatch: { fill: COLOURS.SHA, pattern: "dots", outline: COLOURS.open } },
    { key: "legend.open", swatch: { line: OUTLINES.open.color, dash: null } },
    { key: "legend.worked_on", swatch: { line: OUTLINES.worked_on.color, dash: OUTLINES.worked_on.dashArray } },
    { key: "legend.suspended", swatch: { line: OUTLINES.suspended.color, dash: OUTLINES.suspended.dashArray } },
    { key: "legend.closed", swatch: { line: OUTLINES.closed.color, dash: null } },
    { key: "legend.released", swatch: { fill: COLOURS.released, pattern: "none", outline: COLOURS.releasedOutline } },
  ];
}
