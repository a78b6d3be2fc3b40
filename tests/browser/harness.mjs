// The browser test's harness: numbered checks, the real roost binary on a
// free port, Debian's chromium through playwright-core, pages that pick a
// nick, and the measurements the checks use (tap targets, text contrast,
// gzipped weight). test_page.mjs is the story told with them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const MAX_TEXT = 300;
export const PHONE = { width: 360, height: 640 };
export const LAPTOP = { width: 1280, height: 800 };

if (!existsSync(CHROMIUM)) {
  console.error("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
  console.error("!!! BROWSER TESTS CANNOT RUN: " + CHROMIUM + " is missing.");
  console.error("!!! `make test` installs Debian's chromium; that install failed here.");
  console.error("!!! The chat page is NOT tested. Failing on purpose.");
  console.error("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
  process.exit(1);
}

let checks = 0;
export const checked = () => checks;
export function ok(cond, what) {
  assert.ok(cond, what);
  checks++;
  console.log("ok " + checks + " - " + what);
}

export async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); if (last) { ok(true, what); return last; } } catch (e) { last = e; }
    if (Date.now() > end) throw new Error("timed out waiting for: " + what + " (last: " + last + ")");
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
}

export class Roost {
  // data: a data directory (history survives restarts), or "" for memory only.
  constructor(bin, port, data, extra) { Object.assign(this, { bin, port, data, extra }); }
  start() {
    const args = ["--bind", "127.0.0.1", "--http-port", String(this.port), "--https-port", "-1",
      "--max-text", String(MAX_TEXT), ...(this.data ? ["--data", this.data] : []), ...this.extra];
    this.proc = spawn(this.bin, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1" } });
    this.log = "";
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("roost did not start: " + this.log)), 30000);
      const seen = (d) => {
        this.log += d;
        const m = /listening on http port (\d+)/.exec(this.log);
        if (m) { clearTimeout(t); this.port = +m[1]; this.base = "http://127.0.0.1:" + this.port; resolve(this); }
      };
      this.proc.stdout.on("data", seen);
      this.proc.stderr.on("data", seen);
      this.proc.on("exit", (code) => reject(new Error("roost exited " + code + ": " + this.log)));
    });
  }
  // A broker that is no longer running (killed, or exited) resolves at once
  // (with its exit code): a test's `finally` never waits for an exit that came.
  kill9() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve(this.proc.exitCode);
    return new Promise((resolve) => { this.proc.removeAllListeners("exit"); this.proc.on("exit", resolve); this.proc.kill("SIGKILL"); });
  }
  stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve(this.proc.exitCode);
    return new Promise((resolve) => {
      this.proc.removeAllListeners("exit");
      this.proc.on("exit", (code) => resolve(code));
      this.proc.kill("SIGTERM");
    });
  }
}

// One HTTP request, raw: {status, headers, body (Buffer)}; no decompression.
export function request(base, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    if (body) headers = { ...headers, "Content-Length": Buffer.byteLength(body) };
    const req = http.request(base + path, { method, headers }, (res) => {
      const parts = [];
      res.on("data", (d) => parts.push(d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

export function postJson(base, room, obj) {
  return request(base, "POST", "/api/rooms/" + room + "/messages", JSON.stringify(obj), { "Content-Type": "application/json" });
}

// People's messages (a device's posts are readings, kept apart): `nick`
// says each of `lines` in `room` over a WebSocket of its own, opened from
// `page`'s context, and returns once every one is acked.
export function sayAs(page, nick, room, lines) {
  return page.evaluate(([nick, room, lines]) => new Promise((resolve, reject) => {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws", "roost.v1");
    let acked = 0;
    ws.onerror = () => reject(new Error("sayAs: the WebSocket failed"));
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", nick }));
      ws.send(JSON.stringify({ type: "join", room, backlog: 0 }));
      lines.forEach((text, i) => ws.send(JSON.stringify({ type: "say", room, text, cid: nick + "-" + Date.now() + "-" + i })));
    };
    ws.onmessage = (e) => {
      for (const ev of [].concat(JSON.parse(e.data))) {
        if (ev.type === "error") { ws.close(); reject(new Error("sayAs: " + ev.code + " " + ev.message)); }
        if (ev.type === "ack" && ++acked === lines.length) { ws.close(); resolve(acked); }
      }
    };
  }), [nick, room, lines]);
}

// ---- the browser and its pages ----
// roost.test resolves to the loopback address but is not a secure context
// (plain HTTP to a name), as a phone on the LAN sees the page.
export const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--host-resolver-rules=MAP roost.test 127.0.0.1"],
});
export const pages = [];

// A page in its own context (a device): a phone when narrow (touch, no
// mouse). `nick`: picks it and waits until connected. `notify`: the
// notification permission is granted (the person said yes). `locale`,
// `timezoneId`: the device's language and zone (else the machine's).
export async function openPage(base, nick, { viewport = LAPTOP, route, dark = false, notify = false, locale, timezoneId } = {}) {
  const phone = viewport.width < 500;
  const ctx = await browser.newContext({ viewport, hasTouch: phone, colorScheme: dark ? "dark" : "light", locale, timezoneId });
  if (notify) await ctx.grantPermissions(["notifications"], { origin: base });
  if (route) await ctx.routeWebSocket(/\/ws$/, route);
  const page = await ctx.newPage();
  Object.assign(page, { errors: [], dialogs: 0, requests: [], phone, nick });
  ctx.on("request", (r) => page.requests.push(r.url())); // the page's and its service worker's
  page.on("pageerror", (e) => page.errors.push("pageerror: " + e.message));
  page.on("console", (m) => {
    // A WebSocket or a file that cannot load while the broker is down is expected.
    if (m.type() === "error" && !/WebSocket connection|ERR_CONNECTION_REFUSED|Failed to load resource|Failed to fetch/.test(m.text())) {
      page.errors.push("console: " + m.text());
    }
  });
  page.on("dialog", (d) => { page.dialogs++; d.dismiss(); });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
  });
  await page.goto(base + "/");
  if (nick) {
    await page.fill("#nick-input", nick);
    await page.click("#nick-form button[type=submit]");
    await waitFor(() => page.locator("#status[data-state=connected]").count(), nick + "'s page is connected");
  }
  pages.push(page);
  return page;
}

// Texts of the stored messages shown in the active room, in order.
export const texts = (page) => page.$$eval("#log li.msg:not(.pending) .text", (els) => els.map((e) => e.textContent));
export const count = async (page, text) => (await texts(page)).filter((t) => t === text).length;

// Sends as a person would: Enter on a laptop, the Send button on a phone
// (where Enter makes a new line).
export async function say(page, text) {
  await page.fill("#say-input", text);
  if (page.phone) await page.click("#say-form button[type=submit]");
  else await page.press("#say-input", "Enter");
}

export async function openPanel(page, id) {
  if (page.phone && !(await page.locator("#" + id + ".open").count())) {
    await page.click("#" + id + "-btn");
    await waitFor(() => page.locator("#" + id + ".open").count(), page.nick + "'s " + id + " panel is open");
    await page.waitForTimeout(250); // the slide-in
  }
}

export async function showRoom(page, room) {
  await openPanel(page, "rooms");
  await page.locator(`button.room[data-room="${room}"]`).click({ timeout: 5000 });
  await waitFor(() => page.locator(`button.room.active[data-room="${room}"]`).count(), page.nick + " shows " + room);
}

// Switches "Show readings in the chat too" for the room shown, as a person
// does: in the room's Devices view (the header's button), and back.
export async function readingsInChat(page, on) {
  await page.click("#dev-btn");
  await waitFor(() => page.locator("#devices").isVisible(), page.nick + " opens the room's Devices view");
  await page.setChecked("#set-readings", on);
  await page.click("#dev-btn");
  await waitFor(async () => !(await page.locator("#devices").isVisible()) && await page.locator("#say-input").isVisible(),
    page.nick + " is back in the chat, readings " + (on ? "shown there too" : "under Devices only"));
}

// Interactive elements on screen smaller than 44x44 CSS px. A checkbox is
// measured by its label (the label is the target); links inside a
// message's text are inline targets, which WCAG 2.5.8 exempts.
export function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    for (const e of document.querySelectorAll("button, a, input, textarea, select, summary, [tabindex]")) {
      if (e.closest(".text")) continue;
      const t = e.type === "checkbox" ? e.closest("label") : e;
      const r = t.getBoundingClientRect();
      if (!r.width || !r.height || getComputedStyle(t).visibility === "hidden") continue;
      if (r.right <= 0 || r.left >= innerWidth || r.bottom <= 0 || r.top >= innerHeight) continue;
      if (r.width < 43.5 || r.height < 43.5) {
        out.push(t.tagName.toLowerCase() + (t.id ? "#" + t.id : "") + "." + t.className + " \"" +
          t.textContent.trim().slice(0, 20) + "\" " + r.width.toFixed(1) + "x" + r.height.toFixed(1));
      }
    }
    return out;
  });
}

// Visible text whose colour has less contrast with what is behind it than
// WCAG AA asks (4.5:1; 3:1 for large text), computed from the computed
// styles: backgrounds composited from the root down, opacity included.
// Placeholders count; disabled controls and screen-reader-only text do not.
export function lowContrast(page) {
  return page.evaluate(() => {
    const rgba = (c) => { const m = c.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
    const over = (a, b) => [0, 1, 2].map((i) => a[i] * a[3] + b[i] * (1 - a[3])).concat(1);
    const lum = (c) => c.slice(0, 3).map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const out = [];
    const check = (e, color, what) => {
      let bg = [255, 255, 255, 1], op = 1;
      const chain = [];
      for (let x = e; x; x = x.parentElement) chain.unshift(x);
      for (const x of chain) {
        const s = getComputedStyle(x);
        op *= +s.opacity;
        const c = rgba(s.backgroundColor);
        if (c[3] > 0) bg = over(c, bg);
      }
      const fg = rgba(color);
      fg[3] *= op;
      const s = getComputedStyle(e);
      const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && +s.fontWeight >= 700);
      const r = ratio(over(fg, bg), bg);
      if (r < (large ? 3 : 4.5)) out.push(what + " " + r.toFixed(2) + ":1");
    };
    for (const e of document.querySelectorAll("body *")) {
      const r = e.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1 || getComputedStyle(e).visibility === "hidden" || e.disabled || e.closest(".sr")) continue;
      if (r.right <= 0 || r.left >= innerWidth || r.bottom <= 0 || r.top >= innerHeight) continue;
      const own = [...e.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim()).join(" ");
      const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + e.className;
      if (own) check(e, getComputedStyle(e).color, name + " \"" + own.slice(0, 24) + "\"");
      if (e.placeholder && !e.value) check(e, getComputedStyle(e, "::placeholder").color, name + " placeholder");
    }
    return out;
  });
}

// Gzipped bytes of `paths` as the broker serves them to a browser.
export async function gzipWeight(base, paths) {
  let gz = 0;
  for (const p of paths) {
    const res = await request(base, "GET", p, null, { "Accept-Encoding": "gzip" });
    assert.equal(res.status, 200, p);
    gz += res.body.length;
  }
  return gz;
}
