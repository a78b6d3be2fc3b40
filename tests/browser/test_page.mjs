// End-to-end test of the chat page in a real browser: Debian's chromium,
// driven by playwright-core, against the real roost binary on free loopback
// ports. Run by `make test` (ctest e2e_browser):
//   node tests/browser/test_page.mjs ROOST_BINARY SCREENSHOT_DIR
// Every check names what it waited for; the first failure ends the run.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import http from "node:http";
import { chromium } from "playwright-core";

const [BIN, SHOTS] = process.argv.slice(2);
mkdirSync(SHOTS, { recursive: true });
const CHROMIUM = "/usr/bin/chromium";
const MAX_TEXT = 300;
const PAGE_BUDGET = 24 * 1024; // gzipped bytes of everything the page loads

if (!existsSync(CHROMIUM)) {
  console.error("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
  console.error("!!! BROWSER TESTS CANNOT RUN: " + CHROMIUM + " is missing.");
  console.error("!!! `make test` installs Debian's chromium; that install failed here.");
  console.error("!!! The chat page is NOT tested. Failing on purpose.");
  console.error("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
  process.exit(1);
}

let checks = 0;
function ok(cond, what) {
  assert.ok(cond, what);
  checks++;
  console.log("ok " + checks + " - " + what);
}

async function waitFor(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try { last = await fn(); if (last) { ok(true, what); return last; } } catch (e) { last = e; }
    if (Date.now() > end) throw new Error("timed out waiting for: " + what + " (last: " + last + ")");
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- the broker ----
// Debian's mosquitto for the MQTT bridge (a device publishing with mosquitto_pub).
const MQTT_PORT = await new Promise((resolve) => {
  const srv = net.createServer().listen(0, "127.0.0.1", () => { const p = srv.address().port; srv.close(() => resolve(p)); });
});
const mqttConf = join(mkdtempSync(join(tmpdir(), "roost-mosq-")), "m.conf");
writeFileSync(mqttConf, `listener ${MQTT_PORT} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n`);
const mosquitto = spawn("mosquitto", ["-c", mqttConf], { stdio: "ignore" });

class Roost {
  // data: a data directory (history survives restarts), or "" for memory only.
  constructor(port = 0, data = "") { this.port = port; this.data = data; }
  start() {
    const args = ["--bind", "127.0.0.1", "--http-port", String(this.port), "--https-port", "-1",
      "--max-text", String(MAX_TEXT), ...(this.data ? ["--data", this.data] : []),
      "--mqtt", `mqtt://127.0.0.1:${MQTT_PORT}`, "--mqtt-client-id", "roost-browser-test"];
    this.proc = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1" } });
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
  kill9() {
    return new Promise((resolve) => { this.proc.removeAllListeners("exit"); this.proc.on("exit", resolve); this.proc.kill("SIGKILL"); });
  }
  stop() {
    return new Promise((resolve) => {
      this.proc.removeAllListeners("exit");
      this.proc.on("exit", (code) => resolve(code));
      this.proc.kill("SIGTERM");
    });
  }
}

// One HTTP request, raw: {status, headers, body (Buffer)}; no decompression.
function request(base, method, path, body, headers = {}) {
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

function postJson(base, room, obj) {
  return request(base, "POST", "/api/rooms/" + room + "/messages", JSON.stringify(obj), { "Content-Type": "application/json" });
}

// ---- pages ----
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
const pages = [];

async function openPage(roost, nick, { viewport = { width: 1280, height: 800 }, route } = {}) {
  const ctx = await browser.newContext({ viewport, hasTouch: viewport.width < 500 });
  if (route) await ctx.routeWebSocket(/\/ws$/, route);
  const page = await ctx.newPage();
  page.errors = [];
  page.dialogs = 0;
  page.requests = [];
  page.on("pageerror", (e) => page.errors.push("pageerror: " + e.message));
  page.on("console", (m) => {
    // A WebSocket that cannot connect while the broker is down is expected.
    if (m.type() === "error" && !/WebSocket connection|ERR_CONNECTION_REFUSED|Failed to load resource/.test(m.text())) {
      page.errors.push("console: " + m.text());
    }
  });
  page.on("dialog", (d) => { page.dialogs++; d.dismiss(); });
  page.on("request", (r) => page.requests.push(r.url()));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
  });
  await page.goto(roost.base + "/");
  await page.fill("#nick-input", nick);
  await page.click("#nick-form button[type=submit]");
  await waitFor(() => page.locator("#status[data-state=connected]").count(), nick + "'s page is connected");
  page.nick = nick;
  pages.push(page);
  return page;
}

// Texts of the stored messages shown in the active room, in order.
const texts = (page) => page.$$eval("#log li.msg:not(.pending) .text", (els) => els.map((e) => e.textContent));
const count = async (page, text) => (await texts(page)).filter((t) => t === text).length;

async function say(page, text) {
  await page.fill("#say-input", text);
  await page.press("#say-input", "Enter");
}

async function showRoom(page, room) {
  const btn = page.locator(`button.room[data-room="${room}"]`);
  // On a phone the room list is a panel that slides in from the left.
  if ((await page.locator("#rooms-btn").isVisible()) && !(await page.locator("#rooms.open").count())) await page.click("#rooms-btn");
  await btn.click({ timeout: 5000 }).catch(async (e) => { await page.screenshot({ path: "/tmp/smoke/fail.png" }); console.log(await page.evaluate(() => document.getElementById("rooms").className + " " + JSON.stringify(document.getElementById("rooms").getBoundingClientRect()))); throw e; });
  await waitFor(() => page.locator(`button.room.active[data-room="${room}"]`).count(), page.nick + " shows " + room);
}

const DATA = mkdtempSync(join(tmpdir(), "roost-browser-"));
const roost = await new Roost(0, DATA).start();
const carlLink = []; // carl's proxied WebSocket, to cut it
try {
  // ---- two people in a room: messages, presence, typing, receipts ----
  const ann = await openPage(roost, "ann");
  const bob = await openPage(roost, "bob", { viewport: { width: 360, height: 640 } });
  await waitFor(async () => (await ann.textContent("#title")) === "# lobby", "a new page starts in # lobby");

  await say(ann, "hello bob");
  await waitFor(async () => (await count(bob, "hello bob")) === 1, "bob sees ann's message once");
  ok(await ann.locator("#log li.msg.own .text", { hasText: "hello bob" }).count() === 1, "ann's own message is set apart");
  ok(await ann.locator("#log li.day").count() >= 1, "a day separator heads the messages");
  ok(/\d{1,2}:\d{2}/.test(await ann.locator("#log li.msg time").first().textContent()), "messages show their time");
  await waitFor(async () => (await ann.$$eval("#people-list .nick", (e) => e.map((x) => x.textContent))).join() === "ann,bob",
    "ann sees who is here: ann, bob");
  await waitFor(async () => (await bob.textContent("#count")) === "2", "bob's header counts 2 here");

  await bob.fill("#say-input", "");
  await bob.type("#say-input", "typing a", { delay: 20 });
  await waitFor(async () => (await ann.textContent("#typing")) === "bob is typing…", "ann sees \"bob is typing…\"");
  await say(bob, "hi ann");
  await waitFor(async () => (await ann.textContent("#typing")) === "", "the typing line clears when bob sends");
  await waitFor(async () => (await count(ann, "hi ann")) === 1, "ann sees bob's answer");
  await waitFor(async () => ann.locator("#log li.msg", { hasText: "hi ann" }).locator(".seen", { hasText: "seen by bob" }).count(),
    "ann sees bob's read receipt on the newest message");
  await waitFor(async () => bob.locator("#log li.msg", { hasText: "hi ann" }).locator(".seen", { hasText: "seen by ann" }).count(),
    "bob sees ann's read receipt");

  // ---- hostile text stays text; links are links ----
  const evil = "<img src=x onerror=alert(1)> <script>alert(2)</script> see https://example.org/a?b=1.";
  await say(ann, evil);
  await waitFor(async () => (await count(bob, evil)) === 1, "bob sees the markup as plain text");
  ok(await bob.locator("#log img, #log script").count() === 0, "no element was made from the message's markup");
  const link = bob.locator("#log li.msg a", { hasText: "https://example.org/a?b=1" });
  ok(await link.count() === 1, "the http(s) URL is a link, without the trailing full stop");
  ok((await link.getAttribute("rel")) === "noopener noreferrer", "links carry rel=noopener noreferrer");
  await say(ann, "javascript:alert(3) and ftp://x.example stay text");
  await waitFor(async () => (await count(bob, "javascript:alert(3) and ftp://x.example stay text")) === 1, "bob sees ann's other text");
  ok(await bob.locator("#log li.msg", { hasText: "javascript:alert(3)" }).locator("a").count() === 0, "only http and https become links");
  ok(ann.dialogs + bob.dialogs === 0, "nothing ran: no alert dialog opened");

  // ---- refused messages say why; /help ----
  await say(ann, "x".repeat(MAX_TEXT + 1));
  await waitFor(async () => /not sent: .*text_too_long/.test(await ann.locator("#log li.failed .note").textContent()),
    "a refused message shows why (text_too_long)");
  await say(ann, "/help");
  await waitFor(async () => (await ann.locator("#log li.system").last().textContent()).includes("/dm NICK TEXT"), "/help lists the page's commands");
  await waitFor(async () => ann.locator("#log li.msg.bot", { hasText: "/me ACTION" }).count(), "/help shows the broker's commands from its bot");

  // ---- a device post through the HTTP API: a readings card and sparklines ----
  for (const [t, h] of [[20.5, 41], [21.0, 43], [22.5, 40], [21.5, 44]]) {
    const r = await postJson(roost.base, "lobby", { from: "kitchen", text: "kitchen at " + t, data: { temp: t, humidity: h, door: "open" } });
    assert.equal(r.status, 201, r.body.toString());
  }
  const card = bob.locator("#log li.msg.device").last();
  await waitFor(() => card.locator(".readings dt", { hasText: "temp" }).count(), "a device post shows a readings card");
  // The four posts arrive one by one: the newest card is the last to appear.
  await waitFor(async () => (await card.locator(".reading", { hasText: "temp" }).locator("dd").textContent()).startsWith("21.5"),
    "the card shows the newest temp");
  ok((await card.locator(".reading", { hasText: "door" }).locator("dd").textContent()) === "open", "string readings show as text");
  const d = await card.locator(".reading", { hasText: "temp" }).locator("svg.spark path").getAttribute("d");
  ok((d.match(/[ML]/g) || []).length === 4, "the temp sparkline draws the room's 4 temp values: " + d);
  ok(await card.locator(".reading", { hasText: "door" }).locator("svg").count() === 0, "no sparkline for a string reading");
  // A device that speaks MQTT: mosquitto_pub into the bridge.
  await waitFor(async () => (await request(roost.base, "GET", "/healthz")).body.toString().includes('"mqtt":"connected"'),
    "the broker's MQTT bridge is connected to mosquitto");
  const mp = spawnSync("mosquitto_pub", ["-p", String(MQTT_PORT), "-q", "1", "-t", "roost/lobby/device/greenhouse",
    "-m", JSON.stringify({ humidity: 61, fan: true })]);
  assert.equal(mp.status, 0, String(mp.stderr));
  await waitFor(() => bob.locator("#log li.msg.device", { hasText: "greenhouse" }).locator(".readings dt", { hasText: "humidity" }).count(),
    "a device publishing with mosquitto_pub shows up in the page as a readings card");

  // ---- direct messages reach only their two parties ----
  const carl = await openPage(roost, "carl", {
    // carl's WebSocket runs through a proxy in the test, so it can be cut.
    route: (ws) => { const server = ws.connectToServer(); carlLink.push({ ws, server }); },
  });
  await waitFor(async () => (await ann.$$eval("#people-list .nick", (e) => e.length)) === 3, "ann sees carl arrive");
  await ann.locator("#people-list .nick", { hasText: "bob" }).click();
  await waitFor(async () => (await ann.textContent("#title")) === "@ bob", "clicking bob's nick opens a direct message");
  await say(ann, "just for bob");
  await waitFor(async () => (await count(ann, "just for bob")) === 1, "ann sees her direct message");
  await waitFor(() => bob.locator("#dm-list button", { hasText: "ann" }).count(), "bob gets a direct-message room with ann");
  await waitFor(async () => (await bob.locator("#dm-list li", { hasText: "ann" }).textContent()).includes("1 unread"), "it shows 1 unread");
  await showRoom(bob, "@ann+bob");
  await waitFor(async () => (await count(bob, "just for bob")) === 1, "bob reads ann's direct message");
  await waitFor(async () => (await bob.locator("#dm-list li", { hasText: "ann" }).textContent()).includes("unread") === false, "bob's unread count clears");
  await carl.waitForTimeout(300);
  ok(!(await carl.content()).includes("just for bob"), "carl's page never sees the direct message");
  ok(await carl.locator("#dm-list li").count() === 0, "carl has no direct-message room");
  ok((await request(roost.base, "GET", "/api/rooms/@ann+bob/messages")).status === 403, "nor can it be read over HTTP");
  await showRoom(ann, "lobby");
  await showRoom(bob, "lobby");

  // ---- unread counts and leaving ----
  await say(bob, "/join garden");
  await waitFor(async () => (await bob.textContent("#title")) === "# garden", "/join opens # garden");
  await say(bob, "roses are out");
  await say(bob, "and the tulips");
  await waitFor(async () => (await count(bob, "and the tulips")) === 1, "bob's garden messages are stored");
  await showRoom(bob, "lobby");
  await ann.fill("#join-input", "Garden");
  await ann.press("#join-input", "Enter");
  await waitFor(async () => (await count(ann, "and the tulips")) === 1, "ann joins garden (typed Garden) and sees its backlog");
  await showRoom(ann, "lobby");
  await say(carl, "/join garden");
  await waitFor(async () => (await carl.textContent("#title")) === "# garden", "carl joins garden");
  await say(carl, "one");
  await say(carl, "two");
  await waitFor(async () => (await ann.locator("#joined-list li", { hasText: "garden" }).textContent()).includes("2 unread"),
    "ann's room list counts 2 unread in garden");
  await waitFor(async () => (await ann.locator("#joined-list li", { hasText: "garden" }).textContent()).includes("3 here"), "and 3 people there");
  await showRoom(ann, "garden");
  await waitFor(async () => !(await ann.locator("#joined-list li", { hasText: "garden" }).textContent()).includes("unread"), "opening garden clears it");
  await ann.click("#leave");
  await waitFor(async () => (await ann.locator("#joined-list li", { hasText: "garden" }).count()) === 0, "ann leaves garden");
  await waitFor(async () => (await carl.textContent("#count")) === "2", "carl sees ann leave garden (presence)");
  await showRoom(carl, "lobby");

  // ---- a nick is owned by its device's key ----
  const thief = await (await browser.newContext()).newPage();
  await thief.goto(roost.base + "/");
  await thief.fill("#nick-input", "ANN");
  await thief.click("#nick-form button[type=submit]");
  await waitFor(async () => (await thief.textContent("#setup-error")).includes("belongs to another device"),
    "another device cannot take ann's nick: the page asks for another");
  ok(await thief.locator("#setup").isVisible(), "and shows the nick form again");
  await thief.context().close();

  // ---- the phone loses its network, then gets it back ----
  await bob.context().setOffline(true);
  await waitFor(async () => (await bob.textContent("#status")) === "offline", "bob's page says offline when the network goes");
  await say(ann, "while bob was offline");
  await bob.context().setOffline(false);
  await waitFor(async () => (await bob.textContent("#status")) === "connected", "and connected when it is back");
  await waitFor(async () => (await count(bob, "while bob was offline")) === 1, "bob recovers the message he missed");

  // ---- a network blip: carl's socket is cut; he recovers exactly ----
  for (const l of carlLink.splice(0)) l.ws.close({ code: 1006 }).catch(() => {});
  await say(ann, "while carl was away 1");
  await say(ann, "while carl was away 2");
  await waitFor(async () => (await count(carl, "while carl was away 2")) === 1, "carl reconnects and recovers what he missed", 20000);
  ok(await count(carl, "while carl was away 1") === 1, "each missed message shows once");
  ok(await count(carl, "hello bob") === 1, "nothing he had is doubled");
  ok(await carl.locator("#log li.gap").count() === 0, "no 'missed' marker: recovery was exact");

  // ---- the broker is killed and restarted ----
  const before = { ann: await texts(ann), bob: await texts(bob) };
  await roost.kill9();
  await waitFor(async () => /reconnecting in \d+ s|connecting/.test(await ann.textContent("#status")), "ann's page shows it is reconnecting");
  await waitFor(async () => /reconnecting in \d+ s|connecting/.test(await bob.textContent("#status")), "bob's page shows it is reconnecting");
  await say(ann, "typed while the broker was down");
  await waitFor(() => ann.locator("#log li.pending", { hasText: "typed while the broker was down" }).count(), "it is shown as pending");
  await new Roost(roost.port, DATA).start().then((r) => Object.assign(roost, r));
  const r2 = await postJson(roost.base, "lobby", { from: "kitchen", text: "posted right after the restart" });
  assert.equal(r2.status, 201);
  await waitFor(async () => (await count(bob, "typed while the broker was down")) === 1, "bob gets the queued message once", 30000);
  for (const p of [ann, bob]) {
    await waitFor(() => p.locator("#status[data-state=connected]").count(), p.nick + " reconnects by itself", 30000);
    await waitFor(async () => (await count(p, "posted right after the restart")) === 1, p.nick + " sees what was posted while it was away", 30000);
    await waitFor(async () => (await count(p, "typed while the broker was down")) === 1, p.nick + " sees the queued message once");
    ok(await p.locator("#log li.pending").count() === 0, p.nick + " has nothing left pending");
    ok(await p.locator("#log li.gap").count() === 0,
      p.nick + " recovered exactly: the broker kept its history and epoch (no 'missed' marker)");
  }
  await say(bob, "after the restart");
  await waitFor(async () => bob.locator("#log li.msg", { hasText: "after the restart" }).locator(".seen", { hasText: "seen by ann" }).count(),
    "read receipts work again after the restart");
  for (const p of [ann, bob]) {
    await waitFor(async () => (await count(p, "after the restart")) === 1, p.nick + " sees new messages after the restart");
    const now = await texts(p);
    const seen = new Map();
    for (const t of now) seen.set(t, (seen.get(t) || 0) + 1);
    const doubled = [...seen].filter(([, n]) => n > 1);
    ok(doubled.length === 0, p.nick + ": no message shown twice " + JSON.stringify(doubled));
    const lost = before[p.nick].filter((t) => !now.includes(t));
    ok(lost.length === 0, p.nick + ": nothing shown before the restart went missing " + JSON.stringify(lost));
  }

  // ---- where WebSocket cannot pass: SSE plus POST ----
  const dave = await openPage(roost, "dave", { route: (ws) => ws.close({ code: 1006 }) });
  ok((await dave.textContent("#status")) === "connected (HTTP fallback)", "dave's page falls back to HTTP when WebSocket fails");
  await waitFor(async () => (await count(dave, "after the restart")) === 1, "dave reads the room's history over HTTP");
  await say(ann, "live to dave");
  await waitFor(async () => (await count(dave, "live to dave")) === 1, "dave gets live messages over Server-Sent Events");
  await say(dave, "dave posts over HTTP");
  await waitFor(async () => (await count(ann, "dave posts over HTTP")) === 1, "dave's message, POSTed, reaches ann");
  await waitFor(async () => (await count(dave, "dave posts over HTTP")) === 1, "and dave's own page, once");

  // ---- a restart that loses history (no data directory): marked, then live again ----
  await roost.kill9();
  await new Roost(roost.port, "").start().then((r) => Object.assign(roost, r));
  for (const p of [ann, bob]) {
    await waitFor(() => p.locator("#log li.gap", { hasText: "some messages were missed" }).count(),
      p.nick + " marks the broken history when the broker comes back without its data", 30000);
    await waitFor(() => p.locator("#status[data-state=connected]").count(), p.nick + " is connected again", 30000);
  }
  await say(ann, "a new history begins");
  await waitFor(async () => (await count(bob, "a new history begins")) === 1, "bob sees ann's first message of the new history");
  ok(await count(bob, "after the restart") === 1, "what bob saw before stays on his page, once");

  // ---- games and alerts: a Wordle in progress, Hangman's gallows, a watch alert ----
  await say(ann, "/join games");
  await waitFor(async () => (await ann.textContent("#title")) === "# games", "ann opens # games");
  await say(bob, "/join games");
  await waitFor(async () => (await bob.textContent("#title")) === "# games", "bob opens # games");
  await say(ann, "/wordle");
  await waitFor(() => bob.locator("#log li.msg.bot", { hasText: "A Wordle is on" }).count(), "bob sees the Wordle start");
  for (const [p, w] of [[ann, "crane"], [bob, "slate"], [ann, "pious"]]) {
    await say(p, "/w " + w);
    await p.waitForTimeout(150);
  }
  await waitFor(async () => (await bob.locator("#log .tiles").count()) === 3, "three rows of tiles in the room");
  const roomLetters = await bob.$$eval("#log .tiles .tile", (ts) => ts.map((t) => t.textContent).join(""));
  ok(roomLetters === "", "the room's rows show colours only, no letters");
  ok((await bob.locator("#log .tiles").first().getAttribute("aria-label")).includes("letter 1:"), "tiles carry a text alternative");
  await showRoom(ann, "@ann+roost");
  await waitFor(async () => (await ann.$$eval("#log .tiles", (rows) => rows.map((r) => r.textContent).join(" "))) === "CRANE PIOUS",
    "ann's own board (her DM room with the bot) shows her letters");
  await bob.screenshot({ path: SHOTS + "/wordle-phone.png" });
  await ann.screenshot({ path: SHOTS + "/wordle-desktop.png" });
  await showRoom(ann, "games");
  await say(ann, "/hangman start animals");
  await waitFor(async () => (await bob.locator("#log li.msg.bot", { hasText: "+---+" }).count()) === 1, "Hangman's gallows reach bob");
  ok(/mono/i.test(await bob.locator("#log li.msg.bot", { hasText: "+---+" }).evaluate((e) => getComputedStyle(e).fontFamily)),
    "the gallows are drawn in a monospace font");
  await say(ann, "/watch sensors temp > 30");
  await waitFor(() => ann.locator("#log li.msg.bot", { hasText: "Watch 1" }).count(), "ann sets a watch");
  assert.equal((await postJson(roost.base, "sensors", { from: "kitchen", data: { temp: 31.5 } })).status, 201);
  await waitFor(() => ann.locator("#log li.msg.bot.alert", { hasText: "kitchen temp is 31.5" }).count(),
    "a watch alert shows in the alert style");

  // ---- weight, requests, CSP, errors ----
  const urls = [...new Set(ann.requests.filter((u) => u.startsWith(roost.base) && !u.includes("/api/")))];
  let gz = 0;
  for (const u of urls) {
    const res = await request(roost.base, "GET", u.slice(roost.base.length), null, { "Accept-Encoding": "gzip" });
    assert.equal(res.status, 200, u);
    gz += res.body.length;
  }
  ok(urls.length >= 5 && gz <= PAGE_BUDGET, `the page (${urls.length} files) weighs ${gz} bytes gzipped, at most ${PAGE_BUDGET}`);
  console.log("# page weight: " + gz + " bytes gzipped in " + urls.length + " files");
  for (const p of pages) {
    ok((await p.evaluate(() => window.__csp)).length === 0, p.nick + ": no Content-Security-Policy violation");
    ok(p.errors.length === 0, p.nick + ": no script error " + JSON.stringify(p.errors));
  }

  // ---- screenshots for people to look at ----
  await bob.screenshot({ path: SHOTS + "/page-phone.png" });
  await ann.screenshot({ path: SHOTS + "/page-desktop.png" });
  const dark = await browser.newContext({ viewport: { width: 360, height: 640 }, colorScheme: "dark" });
  const dp = await dark.newPage();
  await dp.goto(roost.base + "/");
  await dp.fill("#nick-input", "erin");
  await dp.click("#nick-form button[type=submit]");
  await waitFor(async () => (await count(dp, "a new history begins")) === 1, "a dark-mode phone page shows the lobby");
  await dp.screenshot({ path: SHOTS + "/page-phone-dark.png" });
  console.log("# screenshots: " + SHOTS + "/page-{phone,desktop,phone-dark}.png, wordle-{phone,desktop}.png");
} finally {
  await browser.close();
  roost.exitCode = await roost.stop();
  mosquitto.kill();
  rmSync(DATA, { recursive: true, force: true });
}
ok(roost.exitCode === 0, "the broker exits 0 after SIGTERM (under ASan: no leak or error report)");
console.log(`# ${checks} checks passed`);
