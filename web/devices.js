// A room's Devices view: a tile per device with its latest values, when it
// last posted ("12 s ago", kept up to date), a mark when it went quiet, its
// watches and whether they are in alert, and a sparkline of each numeric
// key over the last 2 h; a tile tapped opens a chart of each numeric key
// over 2 h, 48 h or 30 d, with the min/max band and gaps left as gaps.
// Everything shown comes from the broker's device store (GET
// /api/rooms/{room}/devices and .../devices/{name}/series, docs/protocol.md),
// so it is there right after a reload or a restart of the broker; the
// room's live messages keep it current: the values at once, and the store
// is asked again a few seconds later for the rest. The view takes the chat's place
// (the chat stays laid out underneath, so its scrolling is kept); the
// header's Devices button, shown in rooms that have devices, switches.
import { readingsInChat, setReadingsInChat } from "./prefs.js";
import { S } from "./state.js";
import { ago, alertOf, seriesPaths, tickLabel, timeTicks, valueTicks } from "./util.js";
import { button, el, fmt, spark, svg } from "./view.js";

const $ = (id) => document.getElementById(id);
// The store's ranges.
const SPAN = ["2h", "48h", "30d"];
let headers = () => ({});
// The room whose Devices view shows (null: the chat shows); the device
// whose charts show ("": the tiles); the charts' range (kept from one
// device to the next); key -> the store's series of the open device; the
// timer of the next asking of the store.
let view = null, open = "", range = "2h", charts = {}, soon = 0;

const num = (v) => Number.isFinite(v);
const numeric = (d) => Object.keys(d.values).filter((k) => num(d.values[k]));
const spaced = (k) => k.replace(/\D/, " $&");
// Values this far apart are joined by the line: a bucket, or three of the
// device's usual intervals (until then it is not stale: it has not paused).
const paths = (s, d, x, y) => seriesPaths(s.points, (t) => x(t + s.step_ms / 2), y, Math.max(s.step_ms, 3 * d.interval_ms || 0), s.step_ms / 2);

async function get(path) {
  const res = await fetch("/api/rooms/" + path, { headers: headers(), cache: "no-store" });
  if (!res.ok) throw res.status;
  return res.json();
}

// Device names and data keys are of A-Z a-z 0-9 _ - . (docs/protocol.md):
// safe in a URL as they are.
const series = (d, k, span) => get(view.name + "/devices/" + d.name + "/series?key=" + k + "&range=" + span);

// The room's devices as the store has them; with the view shown, each
// numeric key's last 2 h too, and the open device's charts.
export async function loadDevices(r) {
  if (r.dm) return;
  try {
    const b = await get(r.name + "/devices");
    await Promise.all(b.devices.map((d) => {
      d.spark = {};
      return view === r && Promise.all(numeric(d).map((k) => series(d, k, "2h").then((s) => { d.spark[k] = s; }, () => {})));
    }));
    r.devs = new Map(b.devices.map((d) => [d.name, d]));
  } catch (_) { return; }
  changed(r);
  if (view === r && open) loadCharts();
}

// A message of room r: a reading updates its device's values at once (its
// tile, or its charts' captions) and, with the view shown, has the store
// asked again within a few seconds (the sparklines and charts); a live
// alert, or a device going quiet or coming back, has it asked at once (it
// knows the watches and stale marks).
export function deviceMsg(r, m, live) {
  if (alertOf(m)) { if (live) loadDevices(r); return; }
  if (m.kind !== "device" || !m.data) return;
  let d = r.devs.get(m.from);
  if (!d) r.devs.set(m.from, d = { name: m.from, values: {}, watches: [], spark: {} });
  if (m.ts < d.last_seen) return;
  Object.assign(d.values, m.data);
  d.last_seen = m.ts;
  d.stale = false;
  if (view === r && !soon) soon = setTimeout(() => { soon = 0; if (view) loadDevices(view); }, 3000);
  changed(r);
}

// The room's devices changed: the header's button if it is the room shown,
// and its view (the open device's charts; or the tiles, the one with the
// focus keeping it).
function changed(r) {
  if (r.name === S.active) roomShown(r, 1);
  const d = view === r && open && r.devs.get(open);
  if (d) figures(d);
  else if (view === r) render(document.activeElement.dataset.dev);
}

// Room r is shown (app.js): the button is there if it has devices, and an
// open Devices view moves to it (or gives way to the chat). `keep`: the
// view stays as it is.
export function roomShown(r, keep) {
  $("dev-btn").hidden = !(r && r.devs.size);
  if (!keep && view) show(r);
}

// Shows the Devices view of room r, or the chat (r null or without devices).
function show(r) {
  view = r && r.devs.size ? r : null;
  open = "";
  $("devices").hidden = !view;
  document.body.classList.toggle("dv", !!view);
  $("dev-btn").setAttribute("aria-pressed", !!view);
  if (view) { render(); loadDevices(view); }
}

function when(ts) {
  const t = el("time", "", ago(Date.now() - ts));
  t.dataset.ts = ts;
  return t;
}

// The tiles, or the open device's charts; `f`: the device whose tile gets
// the focus.
function render(f) {
  const body = $("dev-body"), d = open && view.devs.get(open);
  $("set-readings").checked = readingsInChat(view.name);
  if (!d) {
    open = "";
    const g = el("div", "devs");
    for (const x of [...view.devs.values()].sort((a, b) => a.name.localeCompare(b.name))) g.append(tile(x));
    body.replaceChildren(g);
    if (f) body.querySelector(`[data-dev="${CSS.escape(f)}"]`)?.focus();
    return;
  }
  const top = el("div", "dev-top"), ranges = el("div", "ranges"), figs = el("div");
  top.append(button("", "‹ All devices", "back"), el("h2", "", d.name), when(d.last_seen));
  for (const k of SPAN) {
    const b = ranges.appendChild(button("", spaced(k), "range", k));
    b.setAttribute("aria-pressed", k === range);
  }
  figs.id = "figs";
  body.replaceChildren(top, ranges, figs);
  figures(d);
}

// A tile: the device's name, when it posted, a stale mark, its values (a
// sparkline by each number), its watches.
function tile(d) {
  const b = button("dev" + (d.watches.some((w) => w.alert) ? " alert" : "") + (d.stale ? " stale" : ""), "", "dev", d.name);
  const head = el("span");
  head.append(el("strong", "", d.name), when(d.last_seen));
  if (d.stale) head.append(el("span", "quiet", "went quiet"));
  b.replaceChildren(head, ...Object.entries(d.values).map(([k, v]) => {
    const row = el("span");
    row.append(el("span", "k", k), el("span", "v", fmt(v)));
    const s = d.spark[k], vs = s && num(v) ? s.points.filter((p) => p[2] !== null) : [];
    if (vs.length) {
      const lo = Math.min(...vs.map((p) => p[1])), hi = Math.max(...vs.map((p) => p[3])), from = s.points[0][0];
      const x = (t) => 1 + ((t - from) / (s.points.length * s.step_ms)) * 94;
      const line = paths(s, d, x, (v) => (hi === lo ? 12 : 1 + ((hi - v) / (hi - lo)) * 22)).line;
      row.append(spark(line, k + " over 2 h: " + fmt(lo) + " to " + fmt(hi), 96, 24));
    }
    return row;
  }), ...d.watches.map((w) => el("span", w.alert ? "w on" : "w",
    (w.alert ? "⚠ alert: " : "watch: ") + (w.key ? w.key + " " + w.op + " " + w.threshold : "silent"))));
  return b;
}

// The open device's charts, one per numeric key (the value axis in round
// steps, the time axis in the viewer's zone and locale), and its other values.
function figures(d) {
  const figs = $("figs"), W = Math.max(240, figs.clientWidth), H = 170, T = 8, B = 24, R = 12;
  $("dev-body").querySelector("time").dataset.ts = d.last_seen;
  figs.replaceChildren(...numeric(d).map((k) => {
    const f = el("figure", "chart"), s = charts[k], p = s ? s.points : [];
    f.append(el("figcaption", "", k + ": " + fmt(d.values[k])));
    const vals = p.filter((q) => q[2] !== null);
    if (!vals.length) { f.append(el("p", "small", s ? "No readings in this range." : "Loading…")); return f; }
    const mn = Math.min(...vals.map((q) => q[1])), mx = Math.max(...vals.map((q) => q[3]));
    const ticks = valueTicks(mn, mx, 4), lo = ticks[0], hi = ticks[ticks.length - 1];
    const L = 10 + 7 * Math.max(...ticks.map((v) => v.toLocaleString().length));
    const from = p[0][0], to = p[p.length - 1][0] + s.step_ms;
    const x = (t) => L + ((t - from) / (to - from)) * (W - L - R);
    const y = (v) => T + ((hi - v) / (hi - lo)) * (H - T - B);
    const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": k + " over " + spaced(range) + ": lowest " + fmt(mn) + ", highest " + fmt(mx) });
    const text = (x, y, s, a) => { g.append(svg("text", { x, y, "text-anchor": a })); g.lastChild.textContent = s; };
    for (const v of ticks) {
      g.append(svg("path", { class: "grid", d: `M${L} ${y(v)}H${W - R}` }));
      text(L - 4, y(v) + 4, v.toLocaleString(), "end");
    }
    const tt = timeTicks(from, to, (W - L) / 64);
    for (const v of tt.ticks) if (x(v) > L + 20 && x(v) < W - 20) text(x(v), H - 6, tickLabel(v, tt.step), "middle");
    const ps = paths(s, d, x, y);
    g.append(svg("path", { class: "band", d: ps.band }), svg("path", { class: "line", d: ps.line }));
    f.append(g);
    return f;
  }), ...Object.entries(d.values).filter(([, v]) => !num(v)).map(([k, v]) => el("p", "", k + ": " + fmt(v))));
}

// The open device's series at `range`, then its charts drawn again.
async function loadCharts() {
  const r = view, d = r.devs.get(open), want = range, got = {};
  await Promise.all(numeric(d).map((k) => series(d, k, want).then((s) => { got[k] = s; }, () => { got[k] = { points: [] }; })));
  if (view === r && open === d.name && range === want) { charts = got; figures(r.devs.get(open)); }
}

// `h()`: the headers of an HTTP request (the access token).
export function wireDevices(h) {
  headers = h;
  $("dev-btn").addEventListener("click", () => show(view ? null : S.rooms.get(S.active)));
  $("devices").addEventListener("click", (e) => {
    const b = e.target.closest("button"), x = b && b.dataset;
    if (!x || !view) return;
    if (x.back !== undefined) { const was = open; open = ""; render(was); return; }
    if (x.dev) open = x.dev;
    if (x.range) range = x.range;
    charts = {};
    render();
    loadCharts();
    $("dev-body").querySelector(x.range ? `[data-range="${range}"]` : "button").focus();
  });
  $("set-readings").addEventListener("change", (e) => {
    setReadingsInChat(view.name, e.target.checked);
    if (e.target.checked) return;
    for (const li of view.ol.querySelectorAll("li.device")) if (li.querySelector(".readings")) { view.keys.delete(li.dataset.key); li.remove(); }
  });
  setInterval(() => {
    if (view && !document.hidden) for (const t of $("devices").querySelectorAll("time")) t.textContent = ago(Date.now() - t.dataset.ts);
  }, 1000);
}
