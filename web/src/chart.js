// The per-minute chart: one uPlot line per side, redrawn in place as minutes are added.
import uPlot from "uplot";
import { formatShortClock } from "./times.js";

const axisColor = "#9aa7b8";
const gridColor = "rgba(255, 255, 255, 0.07)";

/** uPlot data: minute starts in Unix seconds, then one count array per query. */
export function toChartData(model) {
  const seconds = new Set();
  for (const q of model.queries) {
    for (const point of q.time_series) {
      seconds.add(Date.parse(point.date) / 1000);
    }
  }
  const xs = [...seconds].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = model.queries.map((q) => {
    const column = new Array(xs.length).fill(0);
    for (const point of q.time_series) {
      column[index.get(Date.parse(point.date) / 1000)] = point.count;
    }
    return column;
  });
  return [xs, ...ys];
}

// Phones scroll, so the chart takes a share of the screen; wider screens (a wall display)
// get what is left under the scoreboard, heading and legend (about 760 px of them), so the page fits unscrolled.
function chartHeight() {
  const h = window.innerHeight;
  const wanted = window.innerWidth < 700 ? h * 0.38 : h - 760;
  return Math.round(Math.min(520, Math.max(200, wanted)));
}

function options(width, queries, colors) {
  const axis = {
    stroke: axisColor,
    grid: { stroke: gridColor, width: 1 },
    ticks: { stroke: gridColor, width: 1 },
    font: "13px system-ui, sans-serif",
  };
  return {
    width,
    height: chartHeight(),
    padding: [8, 40, 0, 0],
    cursor: { drag: { x: false, y: false }, points: { size: 8 } },
    legend: { show: true, live: false },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
    axes: [
      // "10:12 PM" at 13 px is about 60 px wide; uPlot's default 50 px between x ticks let labels run
      // into each other (seen in the dashboard screenshots), so ticks are at least 80 px apart.
      { ...axis, space: 80, values: (_u, ticks) => ticks.map((t) => formatShortClock(new Date(t * 1000))) },
      { ...axis, size: 56, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? t.toLocaleString() : "")) },
    ],
    series: [
      { label: "Minute", value: (_u, t) => (t == null ? "–" : formatShortClock(new Date(t * 1000))) },
      ...queries.map((query, i) => ({
        label: query,
        stroke: colors[i],
        fill: `${colors[i]}14`,
        width: 2.5,
        points: { show: false },
        value: (_u, v) => (v == null ? "–" : v.toLocaleString()),
      })),
    ],
  };
}

/** Owns one uPlot instance inside `container`; rebuilds it when the set of sides changes. */
export class MinuteChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    this.key = "";
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: chartHeight() }))
      .observe(container);
  }

  width() {
    return Math.max(200, this.container.clientWidth);
  }

  render(model, colors) {
    const queries = model.queries.map((q) => q.query);
    const data = toChartData(model);
    const key = JSON.stringify(queries);
    if (this.plot && key === this.key) {
      this.plot.setData(data);
    } else {
      this.plot?.destroy();
      this.container.replaceChildren();
      this.key = key;
      this.plot = new uPlot(options(this.width(), queries, colors), data, this.container);
    }
    // What a test can read without decoding pixels.
    const sum = data.slice(1).reduce((acc, ys) => acc + ys.reduce((a, b) => a + b, 0), 0);
    this.container.dataset.points = String(data[0].length);
    this.container.dataset.sum = String(sum);
    this.container.dataset.version = String(model.version);
  }
}
