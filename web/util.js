// Pure helpers of the page: no DOM, no network, so Node runs them in
// tests/web/test_util.mjs and test_devices.mjs. Names and limits follow
// docs/protocol.md.

const ROOM = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const NICK = /^[A-Za-z0-9_.-]{1,24}$/;

// A room name as the broker stores it (upper case folded), or "" if invalid.
export function roomName(s) {
  const r = String(s).trim().toLowerCase();
  return ROOM.test(r) ? r : "";
}

export function nickValid(s) {
  return NICK.test(s);
}

// What is wrong with a nick as typed, said to the person; "" when it is valid.
export function nickProblem(s) {
  if (!s) return "Pick a nick.";
  if (s.length > 24) return "At most 24 characters (this has " + s.length + ").";
  const bad = [...new Set(s.replace(/[\w.-]/g, ""))];
  if (!bad.length) return "";
  return "Not allowed: " + bad.map((c) => (c === " " ? "space" : "“" + c + "”")).join(", ") +
    ". A nick is letters A-Z a-z, digits, _ - and . only.";
}

// Whether `text` names `nick` as a word ("@ann", "ann:", "hi Ann."), in any case.
export function mentions(text, nick) {
  if (!nick) return false;
  const n = nick.replace(/[.-]/g, "\\$&");
  return new RegExp("(^|[^\\w.-])@?" + n + "(?![\\w-]|\\.[\\w-])", "i").test(text);
}

// The direct-message room of two nicks: "@" + both lower-cased, sorted
// bytewise, joined by "+".
export function dmRoom(a, b) {
  const x = [a.toLowerCase(), b.toLowerCase()].sort();
  return "@" + x[0] + "+" + x[1];
}

// The other party of a direct-message room, as written in its name.
export function dmPeer(room, me) {
  const [a, b] = room.slice(1).split("+");
  return a === me.toLowerCase() ? b : a;
}

// Text cut into plain runs and links: [{text}] and [{href, text}]. Only
// http: and https: URLs become links; trailing punctuation stays text.
export function splitLinks(text) {
  const out = [];
  const re = /\bhttps?:\/\/[^\s<>"]+/gi;
  let last = 0;
  for (let m; (m = re.exec(text));) {
    let url = m[0];
    const trail = /[.,;:!?'")\]]+$/.exec(url);
    if (trail) url = url.slice(0, -trail[0].length);
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    out.push({ href: url, text: url });
    last = m.index + url.length;
    re.lastIndex = last;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

// Reconnect delay in ms for the n-th attempt (0-based): exponential from
// 500 ms, capped at 30 s, with jitter (half to all of the step), so phones
// that lost the same Wi-Fi do not all come back in the same millisecond.
export function backoff(n, rnd = Math.random) {
  const step = Math.min(30000, 500 * 2 ** Math.min(n, 16));
  return Math.round(step / 2 + (rnd() * step) / 2);
}

// The SVG path of a sparkline of values in a w x h box (1 px margin).
export function sparkPath(values, w, h) {
  if (values.length === 0) return "";
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || 1;
  const dx = values.length > 1 ? (w - 2) / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const x = 1 + i * dx;
      const y = hi === lo ? h / 2 : 1 + ((hi - v) / span) * (h - 2);
      return (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
    })
    .join("");
}

// A client id for a message (1-64 printable ASCII, docs/protocol.md's `cid`).
export function newCid() {
  const b = new Uint8Array(9);
  crypto.getRandomValues(b);
  return "c" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// A nick's key: 32 random hex digits, kept in localStorage on the device.
export function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// "ann is typing...", "ann and bob are typing...", "3 people are typing...".
export function typingLine(nicks) {
  if (nicks.length === 0) return "";
  if (nicks.length === 1) return nicks[0] + " is typing…";
  if (nicks.length === 2) return nicks[0] + " and " + nicks[1] + " are typing…";
  return nicks.length + " people are typing…";
}

// Receipts of a room: each other nick's read seq goes under the newest
// shown message at or below it that the nick did not write (their own
// message says nothing about what they read). `shown`: [[seq, from]...].
// Returns Map(seq -> [nick...]) in the order of `reads`.
export function seenBy(reads, shown, me) {
  const out = new Map();
  const msgs = [...shown].sort((a, b) => a[0] - b[0]);
  for (const [nick, seq] of Object.entries(reads)) {
    const who = nick.toLowerCase();
    if (who === me.toLowerCase()) continue;
    let lo = 0, hi = msgs.length - 1, at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (msgs[mid][0] <= seq) { at = mid; lo = mid + 1; } else hi = mid - 1;
    }
    while (at >= 0 && msgs[at][1].toLowerCase() === who) at--;
    if (at < 0) continue;
    const s = msgs[at][0];
    if (!out.has(s)) out.set(s, []);
    out.get(s).push(nick);
  }
  return out;
}

// The page of older history to ask for when the oldest message shown is
// `first` and the room holds from `oldest`: the `n` messages just before
// `first`, as the API's {since, limit} (messages since+1 .. first-1), or
// null when `first` is already the oldest held.
export function olderRange(first, oldest, n) {
  if (!(first > oldest) || n < 1) return null;
  const since = Math.max(oldest, first - n) - 1;
  return { since, limit: first - 1 - since };
}

// Day label of a timestamp in the viewer's zone: "Today", "Yesterday", or a date.
export function dayLabel(ts, now = Date.now()) {
  const d = new Date(ts);
  const key = (x) => x.getFullYear() + "-" + x.getMonth() + "-" + x.getDate();
  const today = new Date(now);
  if (key(d) === key(today)) return "Today";
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (key(d) === key(y)) return "Yesterday";
  return d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
}

export function dayKey(ts) {
  const d = new Date(ts);
  return d.getFullYear() * 10000 + d.getMonth() * 100 + d.getDate();
}

export function timeLabel(ts) {
  return new Date(ts).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

// ---- devices: what a message is to a reader, and the charts' geometry ----

// A message that is an alert: "alert" (a /watch crossed, a device went
// quiet) or "ok" (that is over), else "". Watch alerts are the bot's
// messages with data.state "alert"/"back"; a device going quiet and coming
// back are the broker's system messages with data.state "stale"/"back".
export function alertOf(m) {
  const d = m.data || {}, s = d.state;
  if (m.kind === "bot" || m.kind === "system") return s === "alert" || s === "stale" ? "alert" : s === "back" ? "ok" : "";
  return "";
}

// Whether a new message counts as unread: people's messages, alerts, and
// the text a script posts (a device's post without data) do; readings (a
// device's post with data) and the bots' posts do not, except a bot's
// direct message (a reminder; not the private rows of a Wordle).
export function counts(m, dm) {
  const d = m.data;
  return m.kind === "chat" || (m.kind === "device" && !d) || !!alertOf(m) || (dm && m.kind === "bot" && !(d && d.tiles));
}

// "12 s ago" for an age in ms (a clock ahead of the broker's says "now").
export function ago(ms) {
  const s = Math.floor(ms / 1000);
  return s < 1 ? "now" : s < 60 ? s + " s ago" : s < 3600 ? Math.floor(s / 60) + " min ago"
    : s < 86400 ? Math.floor(s / 3600) + " h ago" : Math.floor(s / 86400) + " d ago";
}

// The SVG paths of a series [[ts, min, avg, max]...] drawn by x(ts) and
// y(v): `line` through the averages, `band` between the minima and maxima.
// Both break where the next value is more than `join` ms later, so a gap
// stays a gap; a value alone between gaps is drawn `half` ms either side
// of its time (across its bucket), so it shows.
export function seriesPaths(points, x, y, join, half) {
  let line = "", band = "", run = [];
  const xy = (p, k) => x(p[0]).toFixed(1) + " " + y(p[k]).toFixed(1);
  const flush = () => {
    if (run.length === 1) run = [-half, half].map((h) => [run[0][0] + h, ...run[0].slice(1)]);
    if (run.length) {
      line += "M" + run.map((p) => xy(p, 2)).join("L");
      band += "M" + run.map((p) => xy(p, 3)).join("L") + "L" + run.reverse().map((p) => xy(p, 1)).join("L") + "Z";
    }
    run = [];
  };
  for (const p of points) {
    if (p[2] === null || p[2] === undefined) continue;
    if (run.length && p[0] - run[run.length - 1][0] > join) flush();
    run.push(p);
  }
  flush();
  return { line, band };
}

// About n+1 round values (steps of 1, 2 or 5 times a power of ten) from at
// or below `lo` to at or above `hi`: a chart's value axis. Equal ends are
// widened around their value; no finite range, no ticks.
export function valueTicks(lo, hi, n) {
  if (!(n >= 1 && hi - lo >= 0 && hi - lo < Infinity)) return [];
  if (hi === lo) { const d = Math.abs(lo) / 10 || 1; lo -= d; hi += d; }
  const raw = (hi - lo) / n, p = 10 ** Math.floor(Math.log10(raw)), f = raw / p;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  const dec = Math.max(0, -Math.floor(Math.log10(step)));
  const out = [];
  for (let k = Math.floor(lo / step); k <= Math.ceil(hi / step); k++) out.push(+(k * step).toFixed(dec));
  return out;
}

const TICK_MIN = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080];

// Times for a chart's time axis from `from` to `to` (ms): at most about n,
// at round times of the viewer's own zone (every 30 min, every 6 h from
// midnight, every day at midnight ...). Returns {step (minutes), ticks}.
export function timeTicks(from, to, n) {
  const step = TICK_MIN.find((s) => (to - from) / 60000 / s <= n) || TICK_MIN[TICK_MIN.length - 1];
  const ticks = [];
  if (!(to > from)) return { step, ticks };
  const day = new Date(from);
  day.setHours(0, 0, 0, 0);
  for (let k = 0; ; k++) {
    const d = new Date(day);
    if (step < 1440) d.setHours(0, k * step); else d.setDate(d.getDate() + (k * step) / 1440);
    const t = d.getTime();
    if (t > to) break;
    if (t >= from && !(t <= ticks[ticks.length - 1])) ticks.push(t);
  }
  return { step, ticks };
}

// A time axis label in the viewer's locale and zone: a date for ticks a day
// or more apart, the weekday at midnight, else the time.
export function tickLabel(ts, step) {
  const d = new Date(ts);
  if (step >= 1440) return d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  if (!d.getHours() && !d.getMinutes()) return d.toLocaleDateString(undefined, { weekday: "short" });
  return timeLabel(ts);
}
