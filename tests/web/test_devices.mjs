// Unit tests of the Devices view's pure parts (web/util.js) under Node's own
// test runner: what counts as unread and as an alert, "12 s ago", the
// store's series drawn as SVG paths with gaps and bands, and the chart axes
// (round values; times in the viewer's zone, DST included). node --test tests/web/test_devices.mjs (ctest web_devices).
import assert from "node:assert/strict";
import { test } from "node:test";

// The time axis is local time: run it in zones that show the difference (a
// 45-minute offset, a DST change). Node reads TZ again when it is set.
process.env.TZ = "Asia/Kathmandu";
const { ago, alertOf, counts, seriesPaths, tickLabel, timeTicks, valueTicks } = await import("../../web/util.js");

const MIN = 60000, H = 3600000, DAY = 86400000;

test("alerts: watch alerts and a device going quiet, and their ends", () => {
  const bot = (data) => ({ kind: "bot", from: "roost", text: "x", data });
  assert.equal(alertOf(bot({ watch: 3, device: "kitchen", key: "temp", value: 31, state: "alert" })), "alert");
  assert.equal(alertOf(bot({ watch: 3, device: "kitchen", key: "temp", value: 29, state: "back" })), "ok");
  assert.equal(alertOf(bot({ bot: "watch", watch: 4, device: "shed", key: null, state: "alert" })), "alert"); // silent
  assert.equal(alertOf(bot({ bot: "watch", alert: "high" })), ""); // the form before per-device watches is gone
  assert.equal(alertOf({ kind: "system", data: { device: "kitchen", state: "stale" } }), "alert");
  assert.equal(alertOf({ kind: "system", data: { device: "kitchen", state: "back" } }), "ok");
  for (const m of [bot(undefined), bot({ tiles: "GY---" }), bot({ state: "weird" }), { kind: "system", text: "lost" },
    { kind: "chat", data: { state: "alert" } }, { kind: "device", data: { state: "alert" } }, { kind: "device" }]) {
    assert.equal(alertOf(m), "", JSON.stringify(m));
  }
});

test("unread: people's messages, alerts and scripts' text count; readings and bots do not", () => {
  assert.ok(counts({ kind: "chat", text: "hi" }, false));
  assert.ok(counts({ kind: "device", text: "backup done" }, false), "a device's post without data is text from a script");
  assert.ok(counts({ kind: "chat", text: "hi" }, true));
  assert.ok(counts({ kind: "bot", data: { watch: 1, state: "alert" } }, false));
  assert.ok(counts({ kind: "system", data: { device: "k", state: "stale" } }, false));
  assert.ok(!counts({ kind: "device", data: { temp: 21 } }, false));
  assert.ok(!counts({ kind: "device", text: "kitchen at 21", data: { temp: 21 } }, false));
  assert.ok(!counts({ kind: "bot", text: "Wordle: 3 guesses" }, false));
  assert.ok(!counts({ kind: "system", text: "some messages were lost" }, false));
  assert.ok(counts({ kind: "bot", text: "reminder: tea" }, true), "a bot's direct message (a reminder) counts");
  assert.ok(!counts({ kind: "bot", data: { tiles: "GY---", guess: "crane" } }, true), "its private Wordle rows do not");
});

test("ago: seconds, minutes, hours, days; a clock ahead says now", () => {
  const cases = [[0, "now"], [999, "now"], [-5000, "now"], [1000, "1 s ago"], [12000, "12 s ago"], [59999, "59 s ago"],
    [MIN, "1 min ago"], [H - 1, "59 min ago"], [H, "1 h ago"], [DAY - 1, "23 h ago"], [DAY, "1 d ago"], [45 * DAY, "45 d ago"]];
  for (const [ms, want] of cases) assert.equal(ago(ms), want, String(ms));
});

// x: ms -> px (one px a minute); y: value -> px (value as is).
const X = (t) => t / MIN, Y = (v) => v;
const pts = (s) => s.split(/[MLZh]/).filter(Boolean).length;

test("series paths: a line through the averages and a band from max to min, broken at gaps", () => {
  const s = [[0, 1, 2, 3], [MIN, 2, 3, 4], [2 * MIN, null, null, null], [3 * MIN, 5, 6, 7], [4 * MIN, 4, 5, 6]];
  const { line, band } = seriesPaths(s, X, Y, MIN, MIN / 2);
  assert.equal(line, "M0.0 2.0L1.0 3.0M3.0 6.0L4.0 5.0");
  assert.equal(band, "M0.0 3.0L1.0 4.0L1.0 2.0L0.0 1.0ZM3.0 7.0L4.0 6.0L4.0 4.0L3.0 5.0Z");
  assert.equal(JSON.stringify(s), JSON.stringify([[0, 1, 2, 3], [MIN, 2, 3, 4], [2 * MIN, null, null, null], [3 * MIN, 5, 6, 7],
    [4 * MIN, 4, 5, 6]]), "the series itself is left as it was");
});

test("series paths: values within `join` are one line across empty buckets; farther apart they break", () => {
  // A device posting every 5 minutes into 1-minute buckets.
  const s = [];
  for (let i = 0; i <= 20; i++) s.push(i % 5 ? [i * MIN, null, null, null] : [i * MIN, i, i, i]);
  assert.equal(seriesPaths(s, X, Y, 15 * MIN, MIN / 2).line, "M0.0 0.0L5.0 5.0L10.0 10.0L15.0 15.0L20.0 20.0");
  assert.equal(seriesPaths(s, X, Y, MIN, MIN / 2).line.split("M").length - 1, 5, "with join of one bucket, five pieces");
  // Quiet for longer than join: a gap even without null buckets in between.
  const q = [[0, 1, 1, 1], [MIN, 1, 1, 1], [30 * MIN, 2, 2, 2], [31 * MIN, 2, 2, 2]];
  assert.equal(seriesPaths(q, X, Y, 15 * MIN, MIN / 2).line, "M0.0 1.0L1.0 1.0M30.0 2.0L31.0 2.0");
});

test("series paths: a value alone between gaps spans its bucket, so it shows", () => {
  const s = [[0, null, null, null], [10 * MIN, 4, 5, 6], [11 * MIN, null, null, null]];
  const { line, band } = seriesPaths(s, X, Y, MIN, MIN / 2);
  assert.equal(line, "M9.5 5.0L10.5 5.0");
  assert.equal(band, "M9.5 6.0L10.5 6.0L10.5 4.0L9.5 4.0Z");
});

test("series paths: nothing to draw", () => {
  assert.deepEqual(seriesPaths([], X, Y, MIN, 1), { line: "", band: "" });
  assert.deepEqual(seriesPaths([[0, null, null, null], [MIN, null, null, null]], X, Y, MIN, 1), { line: "", band: "" });
});

test("value ticks: round steps of 1, 2 or 5 that cover the values", () => {
  assert.deepEqual(valueTicks(14.2, 21.5, 4), [14, 16, 18, 20, 22]);
  assert.deepEqual(valueTicks(0, 100, 4), [0, 50, 100]);
  assert.deepEqual(valueTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(valueTicks(0.1, 0.3, 4), [0.1, 0.15, 0.2, 0.25, 0.3], "no 0.15000000000000002");
  assert.deepEqual(valueTicks(-3, 1000, 4), [-500, 0, 500, 1000]);
  assert.deepEqual(valueTicks(-12.5, -3, 4), [-15, -10, -5, 0]);
  assert.deepEqual(valueTicks(1001, 1004, 3), [1001, 1002, 1003, 1004]);
  for (const [lo, hi] of [[14.2, 21.5], [0, 1e-6], [-1e9, 1e9], [3, 3.0001], [0.5, 99.5], [-7, -6.99]]) {
    const t = valueTicks(lo, hi, 4);
    const step = t[1] - t[0];
    assert.ok(t[0] <= lo && t[t.length - 1] >= hi, `covers ${lo}..${hi}: ${t}`);
    assert.ok(t.length >= 3 && t.length <= 7, `${t.length} ticks for ${lo}..${hi}`);
    const f = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
    assert.ok([1, 2, 5].some((k) => Math.abs(f - k) < 1e-6), `a round step ${step}`);
  }
});

test("value ticks: equal ends are widened; no finite range gives none", () => {
  assert.deepEqual(valueTicks(5, 5, 4), [4.5, 5, 5.5]);
  assert.deepEqual(valueTicks(0, 0, 4), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(valueTicks(-20, -20, 4), [-22, -21, -20, -19, -18]);
  for (const [lo, hi, n] of [[NaN, 1, 4], [0, Infinity, 4], [2, 1, 4], [0, 1, 0], [Infinity, -Infinity, 4]]) {
    assert.deepEqual(valueTicks(lo, hi, n), [], `${lo} ${hi} ${n}`);
  }
});

// Local wall-clock of a time in the zone under test.
const local = (t) => { const d = new Date(t); return [d.getDate(), d.getHours(), d.getMinutes()]; };

test("time ticks: round local times (a zone 5:45 ahead of UTC)", () => {
  const to = Date.UTC(2025, 5, 10, 9, 7);
  const two = timeTicks(to - 2 * H, to, 4);
  assert.equal(two.step, 30);
  assert.ok(two.ticks.length >= 3 && two.ticks.length <= 5, String(two.ticks.length));
  for (const t of two.ticks) {
    assert.ok(t >= to - 2 * H && t <= to);
    assert.equal(local(t)[2] % 30, 0, "on the half hour here");
    assert.equal(new Date(t).getUTCMinutes() % 30, 15, "which in UTC is a quarter past");
  }
  const day2 = timeTicks(to - 48 * H, to, 4);
  assert.equal(day2.step, 720);
  assert.deepEqual(day2.ticks.map((t) => local(t).slice(1)), [[0, 0], [12, 0], [0, 0], [12, 0]]);
  const month = timeTicks(to - 30 * DAY, to, 4);
  assert.equal(month.step, 10080);
  assert.ok(month.ticks.length === 4 && month.ticks.every((t) => local(t)[1] === 0 && local(t)[2] === 0), "weekly, at midnight");
  for (let i = 1; i < month.ticks.length; i++) assert.equal(month.ticks[i] - month.ticks[i - 1], 7 * DAY);
  // Wider on a wide screen: more ticks, finer steps.
  assert.equal(timeTicks(to - 2 * H, to, 12).step, 10);
  assert.equal(timeTicks(to - 48 * H, to, 10).step, 360);
});

test("time ticks: nothing for an empty or reversed range", () => {
  for (const [a, b] of [[5, 5], [10, 5], [NaN, 5], [0, NaN]]) assert.deepEqual(timeTicks(a, b, 4).ticks, [], `${a} ${b}`);
});

test("time ticks keep to local hours across a DST change (Europe/Berlin, 30 March 2025)", () => {
  process.env.TZ = "Europe/Berlin";
  const to = Date.UTC(2025, 2, 30, 20, 0);
  const t = timeTicks(to - 24 * H, to, 4);
  assert.equal(t.step, 360);
  assert.deepEqual(t.ticks.map((x) => local(x).slice(1)), [[0, 0], [6, 0], [12, 0], [18, 0]]);
  assert.equal(t.ticks[1] - t.ticks[0], 5 * H, "the night of the change is an hour short");
  process.env.TZ = "Asia/Kathmandu";
});

test("tick labels: a date a day apart or more, the weekday at midnight, else the time", () => {
  const noon = new Date(2025, 5, 10, 12, 30).getTime(), midnight = new Date(2025, 5, 11).getTime();
  assert.equal(tickLabel(noon, 30), new Date(noon).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }));
  assert.equal(tickLabel(midnight, 720), new Date(midnight).toLocaleDateString(undefined, { weekday: "short" }));
  assert.equal(tickLabel(midnight, 10080), new Date(midnight).toLocaleDateString(undefined, { day: "numeric", month: "short" }));
  assert.match(tickLabel(midnight, 1440), /11/);
});
