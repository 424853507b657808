// The live battle page: scoreboard, share bar, chart, last update and connection state.
import { MinuteChart } from "./chart.js";
import { connectToEvent } from "./connection.js";
import { formatClock, formatDateTime } from "./times.js";

// Distinct on the dark background (each at least 7:1 against #0b0f17) and for common
// colour-vision deficiencies when paired in order: blue/orange first.
const palette = ["#4cc2ff", "#ff8f4c", "#6ee7a8", "#ff6b9a", "#ffd166", "#c4a7ff"];
const numbers = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const stateLabels = { live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function startBattle(root) {
  const eventId = root.dataset.eventId;
  const chart = new MinuteChart($("chart"));
  const sides = new Map();
  let sidesKey = "";
  let shown = null;

  function buildSides(model) {
    const list = $("sides");
    const bar = $("sharebar");
    list.replaceChildren();
    bar.replaceChildren();
    sides.clear();
    model.queries.forEach((q, i) => {
      const color = palette[i % palette.length];
      const item = el("li", "side");
      item.style.setProperty("--side", color);
      const name = el("h3", "side-name", q.query);
      const count = el("p", "count", "0");
      count.dataset.query = q.query;
      const share = el("p", "share");
      item.append(name, count, share);
      list.append(item);
      const segment = el("span", "segment");
      segment.style.background = color;
      bar.append(segment);
      sides.set(q.query, { item, count, share, segment, color });
    });
    sidesKey = JSON.stringify(model.queries.map((q) => q.query));
  }

  function render(model) {
    if (JSON.stringify(model.queries.map((q) => q.query)) !== sidesKey) {
      buildSides(model);
    }
    const sum = model.queries.reduce((acc, q) => acc + q.count, 0);
    const top = Math.max(...model.queries.map((q) => q.count));
    const labels = [];
    for (const q of model.queries) {
      const side = sides.get(q.query);
      const fraction = sum === 0 ? 1 / model.queries.length : q.count / sum;
      side.count.textContent = numbers.format(q.count);
      side.count.dataset.value = String(q.count);
      side.share.textContent = sum === 0 ? "–" : percent.format(fraction);
      side.item.classList.toggle("leading", sum > 0 && q.count === top);
      side.segment.style.flexGrow = String(fraction);
      labels.push(`${q.query} ${percent.format(fraction)}`);
    }
    $("sharebar").setAttribute("aria-label", `Share of tweets: ${labels.join(", ")}`);
    const total = $("total");
    total.textContent = numbers.format(model.total);
    total.dataset.value = String(model.total);
    const updated = $("updated");
    updated.dateTime = model.computed_at;
    updated.textContent = formatClock(new Date(model.computed_at));
    root.dataset.version = String(model.version);
    chart.render(model, model.queries.map((q) => sides.get(q.query).color));
    document.title = `${model.queries.map((q) => `${q.query} ${numbers.format(q.count)}`).join(" · ")} — ${model.name}`;
    shown = model;
    renderWindow();
    renderAge();
  }

  function renderWindow() {
    if (!shown) return;
    const now = Date.now();
    const start = new Date(shown.start_at);
    const end = new Date(shown.end_at);
    const text = now < start ? `Starts ${formatDateTime(start)}`
      : now < end ? `Running until ${formatDateTime(end)}`
      : `Ended ${formatDateTime(end)}`;
    $("window").textContent = text;
  }

  function renderAge() {
    if (!shown) return;
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(shown.computed_at)) / 1000));
    $("age").textContent = seconds < 5 ? "just now"
      : seconds < 90 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
  }

  connectToEvent(eventId, {
    // A join reply is taken whatever its version: versions start at 1 in each server
    // process, so after a restart (or on another node) a smaller number is newer.
    onSnapshot: (model) => {
      $("notice").hidden = true;
      if (model) render(model);
    },
    onUpdate: (model) => {
      if (!shown || model.version > shown.version) render(model);
    },
    onState: (state) => {
      const indicator = $("connection");
      indicator.dataset.state = state;
      indicator.querySelector(".connection-label").textContent = stateLabels[state];
    },
    onJoinError: (reason) => {
      const notice = $("notice");
      notice.textContent = reason === "not found" ? "This battle does not exist (any more)." : `Cannot join: ${reason}`;
      notice.hidden = false;
    },
  });
  setInterval(renderAge, 1000);
  setInterval(renderWindow, 30_000);
}
