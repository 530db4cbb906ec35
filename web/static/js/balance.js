// The land-release balance of a hazard as a small horizontal bar chart (SVG built from the DOM).
import { svg } from "./dom.js";

export const BALANCE_PARTS = [
  ["cancelled_area_m2", "#7FBF3F", "balance.cancelled"],
  ["reduced_area_m2", "#B5E61D", "balance.reduced"],
  ["cleared_area_m2", "#3F7F00", "balance.cleared"],
  ["remaining_area_m2", "#C00000", "balance.remaining"],
];

// Bar widths (0..width) for each part of the baseline; pure (web/tests/balance.test.mjs).
export function balanceBars(lr, width = 200) {
  const base = Number(lr?.baseline_area_m2 || 0);
  return BALANCE_PARTS.map(([key, colour, label]) => {
    const value = Number(lr?.[key] || 0);
    return { key, colour, label, value, width: base > 0 ? (width * value) / base : 0 };
  });
}

export function balanceChart(lr, t, formatArea) {
  const bars = balanceBars(lr, 150);
  const chart = svg("svg", { class: "balance", width: 320, height: 22 * bars.length + 26, role: "img", "aria-label": t("balance.title") });
  chart.append(svg("text", { x: 0, y: 12 }, `${t("balance.baseline")}: ${formatArea(lr?.baseline_area_m2)}`));
  bars.forEach((b, i) => {
    const y = 20 + i * 22;
    chart.append(
      svg("text", { x: 0, y: y + 13 }, t(b.label)),
      svg("rect", { x: 80, y, width: Math.max(b.width, b.value > 0 ? 1 : 0), height: 16, fill: b.colour, stroke: "#333", "stroke-width": 0.5 }),
      svg("text", { x: 84 + 150, y: y + 13 }, formatArea(b.value)),
    );
  });
  return chart;
}
