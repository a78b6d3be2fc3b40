// End-to-end test of the chat page in a real browser: Debian's chromium,
// driven by playwright-core, against the real roost binary on free loopback
// ports, at phone and laptop sizes, light and dark. Run by `make test`
// (ctest e2e_browser):
//   node tests/browser/test_page.mjs ROOST_BINARY SCREENSHOT_DIR
// Every check names what it waited for; the first failure ends the run. A
// screenshot of each state goes to SCREENSHOT_DIR (build/asan/screenshots).
// The page as an app (notifications, settings, service worker, manifest,
// weight) is test_app.mjs; the harness both use is harness.mjs.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  LAPTOP, MAX_TEXT, PHONE, Roost, browser, checked, count, freePort, lowContrast, ok, openPage, openPanel,
  pages, postJson, readingsInChat, request, say, sayAs, showRoom, smallTargets, texts, waitFor,
} from "./harness.mjs";

const [BIN, SHOTS] = process.argv.slice(2);
mkdirSync(SHOTS, { recursive: true });
const shot = (page, name) => page.screenshot({ path: SHOTS + "/" + name + ".png" });

async function tapTargets(page, state) {
  const small = await smallTargets(page);
  ok(small.length === 0, `${page.nick} (${page.phone ? "phone" : "laptop"}), ${state}: every tap target is at least 44x44 px ` +
    JSON.stringify(small));
}

async function contrast(page, state) {
  const low = await lowContrast(page);
  ok(low.length === 0, `${page.nick}, ${state}: all text meets WCAG AA contrast ` + JSON.stringify(low));
}


// Scrolls the log so that the message with `text` is at its top.
const scrollTo = (page, text) => page.evaluate((t) => {
  const li = [...document.querySelectorAll("#log li.msg")].find((x) => x.querySelector(".text")?.textContent === t);
  const log = document.getElementById("log");
  log.scrollTop += li.getBoundingClientRect().top - log.getBoundingClientRect().top;
}, text);
const screenY = (page, text) => page.evaluate((t) =>
  [...document.querySelectorAll("#log li.msg")].find((x) => x.querySelector(".text")?.textContent === t).getBoundingClientRect().top, text);
const atBottom = (page) => page.evaluate(() => { const l = document.getElementById("log"); return l.scrollHeight - l.scrollTop - l.clientHeight < 2; });

// ---- the broker, and mosquitto for the MQTT bridge ----
const MQTT_PORT = await freePort();
const mqttConf = join(mkdtempSync(join(tmpdir(), "roost-mosq-")), "m.conf");
writeFileSync(mqttConf, `listener ${MQTT_PORT} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n`);
const mosquitto = spawn("mosquitto", ["-c", mqttConf], { stdio: "ignore" });
// Rate limits raised: the test posts a room's 200 messages in one go.
const EXTRA = ["--mqtt", `mqtt://127.0.0.1:${MQTT_PORT}`, "--mqtt-client-id", "roost-browser-test",
  "--addr-rate", "1000", "--addr-burst", "1000", "--msg-rate", "1000", "--msg-burst", "1000"];
const DATA = mkdtempSync(join(tmpdir(), "roost-browser-"));
const roost = await new Roost(BIN, 0, DATA, EXTRA).start();
const carlLink = []; // carl's proxied WebSocket, to cut it
try {
  // ---- two people in a room: messages, presence, typing, receipts ----
  const ann = await openPage(roost.base, "ann", { notify: true });
  const bob = await openPage(roost.base, "bob", { viewport: PHONE });
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
  ok(!(await ann.locator("#hint").isVisible()), "the /help hint makes way for the typing line");
  await say(bob, "hi ann");
  await waitFor(async () => (await ann.textContent("#typing")) === "", "the typing line clears when bob sends");
  await waitFor(() => ann.locator("#hint", { hasText: "/help" }).isVisible(), "and the /help hint is back, with a room open");
  await waitFor(async () => (await count(ann, "hi ann")) === 1, "ann sees bob's answer");
  await waitFor(() => ann.locator("#log li.msg", { hasText: "hello bob" }).locator(".seen", { hasText: "seen by bob" }).count(),
    "ann sees bob's read receipt under her message (bob read past it)");
  ok(await ann.locator("#log li.msg", { hasText: "hi ann" }).locator(".seen").count() === 0,
    "and no \"seen by bob\" under bob's own message");
  await waitFor(() => bob.locator("#log li.msg", { hasText: "hi ann" }).locator(".seen", { hasText: "seen by ann" }).count(),
    "bob sees ann's read receipt");

  // ---- typing: Enter per device, an input that grows ----
  ok(await bob.getAttribute("#say-input", "enterkeyhint") === "enter" && await ann.getAttribute("#say-input", "enterkeyhint") === "send",
    "the keyboard's Enter key says \"enter\" on the phone and \"send\" on the laptop");
  await bob.fill("#say-input", "");
  const oneLine = await bob.$eval("#say-input", (e) => e.offsetHeight);
  for (let i = 1; i <= 6; i++) {
    await bob.type("#say-input", "line " + i);
    if (i < 6) await bob.press("#say-input", "Enter");
  }
  ok((await bob.inputValue("#say-input")) === "line 1\nline 2\nline 3\nline 4\nline 5\nline 6", "on the phone Enter makes a new line");
  const grown = await bob.$eval("#say-input", (e) => ({ h: e.clientHeight, line: parseFloat(getComputedStyle(e).lineHeight), scroll: e.scrollHeight }));
  ok(grown.h >= 6 * grown.line && grown.scroll <= grown.h + 1, `the input grows to show all six lines (${grown.h} px, no scrolling)`);
  await shot(bob, "input-grown-phone");
  await bob.click("#say-form button[type=submit]");
  await waitFor(async () => (await count(ann, "line 1\nline 2\nline 3\nline 4\nline 5\nline 6")) === 1, "the Send button sends all six lines");
  ok(await bob.$eval("#say-input", (e) => e.offsetHeight) === oneLine, "and the input is one line again");
  ok(await bob.$eval("meta[name=viewport]", (m) => m.content.includes("interactive-widget=resizes-content")),
    "an on-screen keyboard resizes the page rather than covering it");
  await waitFor(() => atBottom(bob), "bob's log is at its newest message");
  await bob.setViewportSize({ width: PHONE.width, height: 360 }); // as when the keyboard opens
  await waitFor(() => atBottom(bob), "when the keyboard takes the lower half, the newest message stays in view");
  await bob.setViewportSize(PHONE);
  await ann.type("#say-input", "two");
  await ann.press("#say-input", "Shift+Enter");
  await ann.type("#say-input", "lines");
  await ann.press("#say-input", "Enter");
  await waitFor(async () => (await count(bob, "two\nlines")) === 1, "on the laptop Shift+Enter makes a new line and Enter sends");

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

  // ---- refused messages say why, can be dismissed; /help ----
  await say(ann, "x".repeat(MAX_TEXT + 1));
  await waitFor(async () => /not sent: .*text_too_long/.test(await ann.locator("#log li.failed .note").textContent()),
    "a refused message shows why (text_too_long)");
  await say(bob, "y".repeat(MAX_TEXT + 1));
  const failed = bob.locator("#log li.failed");
  await waitFor(() => failed.locator(".note", { hasText: "not sent" }).count(), "bob's refused message too, on the phone");
  ok(await failed.locator(".nick").evaluate((e) => e.getClientRects().length === 1 && e.getBoundingClientRect().height < 30 &&
    e.textContent === "bob"), "the nick in a refused bubble stays on one line");
  await tapTargets(bob, "a refused message");
  await shot(bob, "refused-phone");
  await failed.locator("button", { hasText: "Dismiss" }).click();
  await waitFor(async () => (await bob.locator("#log li.failed").count()) === 0, "Dismiss takes the refused bubble away");
  await ann.locator("#log li.failed button", { hasText: "Dismiss" }).click();
  await waitFor(async () => (await ann.locator("#log li.failed").count()) === 0, "on the laptop too");
  await say(ann, "/help");
  await waitFor(async () => (await ann.locator("#log li.system").last().textContent()).includes("/dm NICK TEXT"), "/help lists the page's commands");
  await waitFor(async () => ann.locator("#log li.msg.bot", { hasText: "/me ACTION" }).count(), "/help shows the broker's commands from its bot");

  // ---- a device post through the HTTP API: by default under Devices only; in the chat, a readings card ----
  assert.equal((await postJson(roost.base, "lobby", { from: "kitchen", text: "kitchen at 20", data: { temp: 20, door: "open" } })).status, 201);
  await waitFor(() => bob.locator("#log .note-line", { hasText: "Readings are under Devices" }).count(),
    "a reading is not put in the chat: a note says where readings are");
  ok(await bob.locator("#log li.msg.device").count() === 0 && await bob.locator("#dev-btn").isVisible(),
    "no readings card, and the header offers the room's Devices");
  await readingsInChat(bob, true);
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

  // ---- a screen reader hears people, not devices ----
  ok(await ann.$eval("#log", (e) => !e.hasAttribute("aria-live") && e.getAttribute("role") !== "log") &&
    await ann.$eval("#typing", (e) => !e.closest("[aria-live]")), "neither the log nor the typing line is a live region");
  const heard = () => ann.$$eval("#announce p", (ps) => ps.map((p) => p.textContent));
  ok((await heard()).every((t) => !t.includes("kitchen")), "device readings are not read out " + JSON.stringify(await heard()));
  await say(bob, "a word for the room");
  await waitFor(async () => (await heard()).includes("bob: a word for the room"), "a person's message is read out");

  // ---- a name opens a small menu: message or mention ----
  const carl = await openPage(roost.base, "carl", {
    // carl's WebSocket runs through a proxy in the test, so it can be cut.
    route: (ws) => { const server = ws.connectToServer(); carlLink.push({ ws, server }); },
  });
  await waitFor(async () => (await ann.$$eval("#people-list .nick", (e) => e.length)) === 3, "ann sees carl arrive");
  ok(await ann.locator("#people-list span.nick", { hasText: "ann" }).count() === 1, "one's own name is not a button");
  await ann.locator("#people-list .nick", { hasText: "bob" }).click();
  await waitFor(() => ann.locator("#nick-menu").isVisible(), "tapping a name opens its menu, not a direct message");
  ok((await ann.textContent("#title")) === "# lobby", "the room stays as it was");
  await ann.click("#menu-dm");
  await waitFor(async () => (await ann.textContent("#title")) === "@ bob", "\"Message bob\" opens a direct message");
  await bob.locator("#log li.msg", { hasText: "hello bob" }).locator("button.nick").click();
  await waitFor(() => bob.locator("#nick-menu").isVisible(), "on the phone, a name in a message header opens the menu");
  ok(await bob.textContent("#menu-mention") === "Mention ann" && await bob.textContent("#menu-dm") === "Message ann", "with both choices");
  await tapTargets(bob, "the name menu");
  await shot(bob, "name-menu-phone");
  await bob.click("#menu-mention");
  ok((await bob.inputValue("#say-input")) === "@ann " && !(await bob.locator("#nick-menu").isVisible()), "\"Mention ann\" puts @ann in the input");
  await bob.fill("#say-input", "");

  // ---- direct messages reach only their two parties ----
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

  // ---- an empty room says what it is; unread counts and leaving ----
  await say(bob, "/join garden");
  await waitFor(async () => (await bob.textContent("#title")) === "# garden", "/join opens # garden");
  await waitFor(async () => /garden is empty so far.*\/join garden/.test(await bob.locator("#log .empty").textContent()),
    "an empty room says what it is and how others join");
  await shot(bob, "empty-room-phone");
  await say(bob, "roses are out");
  await say(bob, "and the tulips");
  await waitFor(async () => (await count(bob, "and the tulips")) === 1, "bob's garden messages are stored");
  ok(await bob.locator("#log .empty").count() === 0, "the empty-room note goes with the first message");
  await showRoom(bob, "lobby");
  await ann.fill("#join-input", "not a room!");
  await ann.press("#join-input", "Enter");
  await waitFor(async () => (await ann.textContent("#join-error")).includes("1-32 of a-z, 0-9, _ and -"), "a bad room name says what is allowed");
  await ann.fill("#join-input", "Garden");
  await ann.press("#join-input", "Enter");
  await waitFor(async () => (await count(ann, "and the tulips")) === 1, "ann joins garden (typed Garden) and sees its backlog");
  ok(await ann.locator("#log .start", { hasText: "This is the start of # garden." }).count() === 1, "headed by the start of its history");
  await showRoom(ann, "lobby");
  await say(carl, "/join garden");
  await waitFor(async () => (await carl.textContent("#title")) === "# garden", "carl joins garden");
  await say(carl, "one");
  await say(carl, "two");
  await waitFor(async () => (await ann.locator("#joined-list li", { hasText: "garden" }).textContent()).includes("2 unread"),
    "ann's room list counts 2 unread in garden");
  await waitFor(async () => (await ann.locator("#joined-list li", { hasText: "garden" }).textContent()).includes("3 here"), "and 3 people there");
  await waitFor(async () => (await ann.title()) === "(2) Roost", "and the title counts them: (2) Roost");
  await showRoom(ann, "garden");
  await waitFor(async () => !(await ann.locator("#joined-list li", { hasText: "garden" }).textContent()).includes("unread"), "opening garden clears it");
  await waitFor(async () => (await ann.title()) === "Roost", "and the title");
  await ann.click("#leave");
  await waitFor(async () => (await ann.locator("#joined-list li", { hasText: "garden" }).count()) === 0, "ann leaves garden");
  await waitFor(async () => (await carl.textContent("#count")) === "2", "carl sees ann leave garden (presence)");
  await showRoom(carl, "lobby");

  // ---- a nick is owned by its device's key; a refused nick says why ----
  const thief = await openPage(roost.base, "", { viewport: PHONE });
  thief.nick = "a new phone";
  await thief.fill("#nick-input", "Alice Smith");
  await thief.click("#nick-form button[type=submit]");
  await waitFor(async () => /Not allowed: space\. A nick is letters A-Z a-z, digits, _ - and \. only/.test(await thief.textContent("#setup-error")),
    "a nick with a space is refused with the characters allowed");
  ok(await thief.getAttribute("#nick-input", "aria-invalid") === "true", "and the field is marked invalid");
  await tapTargets(thief, "the nick form");
  await shot(thief, "nick-refused-phone");
  await thief.fill("#nick-input", "ANN");
  await thief.click("#nick-form button[type=submit]");
  await waitFor(async () => (await thief.textContent("#setup-error")).includes("belongs to another device"),
    "another device cannot take ann's nick: the page asks for another");
  ok(await thief.locator("#setup").isVisible(), "and shows the nick form again");
  await thief.context().close();
  pages.splice(pages.indexOf(thief), 1);

  // ---- reading back: a room of 200 messages, older history on scroll-up ----
  assert.equal(await sayAs(bob, "logger", "history", Array.from({ length: 200 }, (_, i) => "h " + (i + 1))), 200);
  await ann.fill("#join-input", "history");
  await ann.press("#join-input", "Enter");
  await waitFor(async () => (await texts(ann)).at(-1) === "h 200", "ann opens # history at its newest message");
  ok((await texts(ann)).length === 50 && (await texts(ann))[0] === "h 151", "the page starts with the newest 50");
  ok(await atBottom(ann), "at the bottom");
  await ann.evaluate(() => { document.getElementById("log").scrollTop = 0; });
  const y151 = await screenY(ann, "h 151");
  await waitFor(async () => (await texts(ann))[0] === "h 101", "scrolled to the top, the 50 before load above");
  ok(Math.abs((await screenY(ann, "h 151")) - y151) < 2, "and what the reader saw stays where it was on screen");
  for (let i = 0; i < 6 && !(await ann.locator("#log .start").count()); i++) {
    await ann.evaluate(() => { document.getElementById("log").scrollTop = 0; });
    await ann.waitForTimeout(300);
  }
  await waitFor(async () => (await ann.locator("#log .start").textContent()) === "This is the start of # history.", "down to its start, marked");
  const all = await texts(ann);
  ok(all.length === 200 && all.every((t, i) => t === "h " + (i + 1)), "all 200, once each, in order");
  ok(await ann.locator("#log li.day").count() === 1 && await ann.$eval("#log li", (e) => e.classList.contains("start")),
    "one day line, under the start marker");
  await ann.evaluate(() => { document.getElementById("log").scrollTop = 0; });
  await shot(ann, "history-start-laptop");

  // ---- a reader scrolled up is not moved; a pill says what is new ----
  await scrollTo(ann, "h 100");
  const before = await ann.$eval("#log", (e) => e.scrollTop);
  assert.equal(await sayAs(bob, "logger", "history", ["late 1", "late 2", "late 3"]), 3);
  await waitFor(async () => (await ann.textContent("#pill")) === "3 new ↓", "the reader scrolled up gets a \"3 new\" pill");
  ok(Math.abs((await ann.$eval("#log", (e) => e.scrollTop)) - before) < 1 && Math.abs(await screenY(ann, "h 100") -
    (await ann.$eval("#log", (e) => e.getBoundingClientRect().top))) < 12, "and stays where they were reading");
  await shot(ann, "pill-laptop");
  await ann.click("#pill");
  await waitFor(async () => (await atBottom(ann)) && !(await ann.locator("#pill").isVisible()), "the pill jumps to the bottom and goes");
  assert.equal(await sayAs(bob, "logger", "history", ["late 4"]), 1);
  await waitFor(async () => (await count(ann, "late 4")) === 1, "the next message arrives");
  await waitFor(() => atBottom(ann), "and a reader at the bottom stays pinned to it");
  await say(bob, "/join history");
  await waitFor(async () => (await texts(bob)).at(-1) === "late 4", "bob opens # history on his phone");
  await scrollTo(bob, (await texts(bob))[5]);
  assert.equal(await sayAs(ann, "logger", "history", ["late 5"]), 1);
  await waitFor(async () => (await bob.textContent("#pill")) === "1 new ↓", "on the phone too");
  await tapTargets(bob, "the new-messages pill");
  await shot(bob, "pill-phone");
  await bob.click("#pill");
  await showRoom(bob, "lobby");
  await showRoom(ann, "lobby");

  // ---- reading back a direct message (never readable over HTTP) ----
  const dan = await (await browser.newContext()).newPage();
  await dan.goto(roost.base + "/healthz");
  const sent = await dan.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket("ws://" + location.host + "/ws", "roost.v1");
    let acks = 0;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", nick: "dan" }));
      for (let i = 1; i <= 60; i++) ws.send(JSON.stringify({ type: "dm", to: "gus", text: "d " + i, cid: "d" + i }));
    };
    ws.onmessage = (e) => {
      for (const ev of [].concat(JSON.parse(e.data))) {
        if (ev.type === "ack" && ++acks === 60) { ws.close(); resolve(acks); }
        if (ev.type === "error") reject(new Error(JSON.stringify(ev)));
      }
    };
  }));
  ok(sent === 60, "dan sends gus 60 direct messages while gus is away");
  await dan.context().close();
  const gus = await openPage(roost.base, "gus", { viewport: LAPTOP, dark: true });
  await showRoom(gus, "@dan+gus");
  await waitFor(async () => (await texts(gus)).at(-1) === "d 60", "gus opens his direct messages with dan");
  await gus.evaluate(() => { document.getElementById("log").scrollTop = 0; });
  await waitFor(async () => (await gus.locator("#log .start").count()) === 1, "scrolled up, the older ones load (by joining again)");
  ok((await gus.textContent("#log .start")) === "This is the start of your messages with dan." &&
    (await texts(gus)).join() === Array.from({ length: 60 }, (_, i) => "d " + (i + 1)).join(), "all 60, in order, to the start");
  await shot(gus, "dm-start-laptop-dark");
  await contrast(gus, "a direct message, dark");

  // ---- the phone loses its network, then gets it back ----
  await bob.context().setOffline(true);
  await waitFor(async () => (await bob.textContent("#status")) === "You are offline.", "bob's page says offline when the network goes");
  ok(await bob.locator("#banner").isVisible(), "in the banner");
  await shot(bob, "offline-phone");
  await say(ann, "while bob was offline");
  await bob.context().setOffline(false);
  await waitFor(async () => (await bob.getAttribute("#status", "data-state")) === "connected" && !(await bob.locator("#banner").isVisible()),
    "and the banner goes when it is back");
  await waitFor(async () => (await count(bob, "while bob was offline")) === 1, "bob recovers the message he missed");

  // ---- a network blip: carl's socket is cut; he recovers exactly ----
  for (const l of carlLink.splice(0)) l.ws.close({ code: 1006 }).catch(() => {});
  await say(ann, "while carl was away 1");
  await say(ann, "while carl was away 2");
  await waitFor(async () => (await count(carl, "while carl was away 2")) === 1, "carl reconnects and recovers what he missed", 20000);
  ok(await count(carl, "while carl was away 1") === 1, "each missed message shows once");
  ok(await count(carl, "hello bob") === 1, "nothing he had is doubled");
  ok(await carl.locator("#log li.gap").count() === 0, "no 'missed' marker: recovery was exact");

  // ---- the broker is killed and restarted: a banner, stale lists ----
  const before2 = { ann: await texts(ann), bob: await texts(bob) };
  await roost.kill9();
  for (const p of [ann, bob]) {
    await waitFor(async () => /Cannot reach Roost: trying again in \d+ s\.|Connecting/.test(await p.textContent("#status")),
      p.nick + "'s page says it cannot reach Roost");
    const box = await p.locator("#banner").boundingBox();
    ok(box && Math.abs(box.width - p.viewportSize().width) < 1 && box.y < 80, p.nick + ": in a full-width banner under the header");
    ok(await p.evaluate(() => document.body.classList.contains("stale") &&
      getComputedStyle(document.querySelector("#people-list .nick")).fontStyle === "italic"), p.nick + ": who is here is greyed as stale");
  }
  ok((await bob.locator("#title").boundingBox()).width > 150, "the room title keeps its room on the phone");
  await waitFor(() => bob.locator("#retry").isVisible(), "the banner offers to retry now");
  await tapTargets(bob, "the disconnected banner");
  await contrast(bob, "the disconnected banner");
  await shot(bob, "banner-phone");
  await shot(ann, "banner-laptop");
  await say(ann, "typed while the broker was down");
  await waitFor(() => ann.locator("#log li.pending", { hasText: "typed while the broker was down" }).count(), "it is shown as pending");
  await new Roost(BIN, roost.port, DATA, EXTRA).start().then((r) => Object.assign(roost, r));
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
    ok(!(await p.evaluate(() => document.body.classList.contains("stale"))), p.nick + ": nothing is greyed once connected");
  }
  await say(bob, "after the restart");
  await waitFor(async () => bob.locator("#log li.msg", { hasText: "after the restart" }).locator(".seen", { hasText: "seen by ann" }).count(),
    "read receipts work again after the restart");
  for (const p of [ann, bob]) {
    await waitFor(async () => (await count(p, "after the restart")) === 1, p.nick + " sees new messages after the restart");
    const now = await texts(p);
    const seen = new Map();
    for (const t of now) seen.set(t, (seen.get(t) || 0) + 1);
    const doubled = [...seen].filter(([, k]) => k > 1);
    ok(doubled.length === 0, p.nick + ": no message shown twice " + JSON.stringify(doubled));
    const lost = before2[p.nick].filter((t) => !now.includes(t));
    ok(lost.length === 0, p.nick + ": nothing shown before the restart went missing " + JSON.stringify(lost));
  }

  // ---- where WebSocket cannot pass: SSE plus POST ----
  const dave = await openPage(roost.base, "dave", { route: (ws) => ws.close({ code: 1006 }) });
  ok((await dave.textContent("#status")) === "Connected through plain HTTP", "dave's page falls back to HTTP when WebSocket fails");
  ok(/no presence, typing or direct messages/.test(await dave.textContent("#status-more")), "and says what that leaves out");
  await waitFor(async () => (await count(dave, "after the restart")) === 1, "dave reads the room's history over HTTP");
  await say(ann, "live to dave");
  await waitFor(async () => (await count(dave, "live to dave")) === 1, "dave gets live messages over Server-Sent Events");
  await say(dave, "dave posts over HTTP");
  await waitFor(async () => (await count(ann, "dave posts over HTTP")) === 1, "dave's message, POSTed, reaches ann");
  await waitFor(async () => (await count(dave, "dave posts over HTTP")) === 1, "and dave's own page, once");

  // ---- a restart that loses history (no data directory): marked, then live again ----
  await roost.kill9();
  await new Roost(BIN, roost.port, "", EXTRA).start().then((r) => Object.assign(roost, r));
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
  const rows = (p) => p.$$eval("#log .tiles", (rs) => rs.map((r) => r.textContent || "-"));
  await waitFor(async () => (await rows(bob)).join() === "-,SLATE,-", "bob's page shows his own row's letters, ann's rows as colours only");
  await waitFor(async () => (await rows(ann)).join() === "CRANE,-,PIOUS", "ann's page shows her letters in the game room, bob's row as colours");
  ok((await ann.locator("#log .tile-who").first().textContent()).includes("only you see them"), "marked as seen by her only");
  ok((await bob.locator("#log .tiles").first().getAttribute("aria-label")).includes("letter 1:") &&
    (await ann.locator("#log .tiles").first().getAttribute("aria-label")).startsWith("C: "), "tiles carry a text alternative");
  await showRoom(ann, "@ann+roost");
  await waitFor(async () => (await rows(ann)).join(" ") === "CRANE PIOUS", "ann's own board (her DM room with the bot) shows her letters");
  await showRoom(ann, "games");
  await shot(bob, "wordle-phone");
  await shot(ann, "wordle-laptop");
  await contrast(ann, "# games with Wordle tiles, light");
  await contrast(bob, "# games with Wordle tiles, light");
  for (const p of [ann, bob]) await p.emulateMedia({ colorScheme: "dark" });
  await contrast(ann, "# games with Wordle tiles, dark");
  await contrast(bob, "# games with Wordle tiles, dark");
  await shot(ann, "wordle-laptop-dark");
  await shot(bob, "wordle-phone-dark");
  for (const p of [ann, bob]) await p.emulateMedia({ colorScheme: "light" });
  await say(ann, "/hangman start animals");
  await waitFor(async () => (await bob.locator("#log li.msg.bot", { hasText: "+---+" }).count()) === 1, "Hangman's gallows reach bob");
  ok(/mono/i.test(await bob.locator("#log li.msg.bot", { hasText: "+---+" }).evaluate((e) => getComputedStyle(e).fontFamily)),
    "the gallows are drawn in a monospace font");
  await say(ann, "/watch sensors temp > 30");
  await waitFor(() => ann.locator("#log li.msg.bot", { hasText: "Watch 1" }).count(), "ann sets a watch");
  assert.equal((await postJson(roost.base, "sensors", { from: "kitchen", data: { temp: 31.5 } })).status, 201);
  await waitFor(() => ann.locator("#log li.msg.bot.alert", { hasText: "kitchen temp is 31.5" }).count(),
    "a watch alert shows in the alert style");
  await contrast(ann, "a watch alert, light");

  // ---- every tap target at phone size; contrast everywhere ----
  await tapTargets(bob, "a room with messages, cards and games");
  await openPanel(bob, "rooms");
  await bob.click("#settings summary");
  await tapTargets(bob, "the room list and settings");
  await contrast(bob, "the room list and settings, light");
  await shot(bob, "rooms-phone");
  await bob.keyboard.press("Escape");
  await openPanel(bob, "people");
  await tapTargets(bob, "the people here");
  await shot(bob, "people-phone");
  await bob.keyboard.press("Escape");
  await openPanel(ann, "rooms");
  await tapTargets(ann, "everything at once");
  await contrast(ann, "everything at once, light");

  // ---- no CSP violation, no script error, no receipt under one's own message ----
  for (const p of pages) {
    ok((await p.evaluate(() => window.__csp)).length === 0, p.nick + ": no Content-Security-Policy violation");
    ok(p.errors.length === 0, p.nick + ": no script error " + JSON.stringify(p.errors));
    ok(await p.$$eval("#log li.msg", (lis) => lis.every((li) => {
      const s = li.querySelector(".seen");
      return !s || !s.textContent.slice(8).split(", ").some((x) => x.toLowerCase() === li.dataset.from.toLowerCase());
    })), p.nick + ": no \"seen by\" under the reader's own message");
  }

  // ---- screenshots for people to look at ----
  await shot(bob, "page-phone");
  await shot(ann, "page-laptop");
  const erin = await openPage(roost.base, "erin", { viewport: PHONE, dark: true });
  await waitFor(async () => (await count(erin, "a new history begins")) === 1, "a dark-mode phone page shows the lobby");
  await contrast(erin, "the lobby, dark phone");
  await shot(erin, "page-phone-dark");
  console.log("# screenshots in " + SHOTS);
} finally {
  await browser.close();
  roost.exitCode = await roost.stop();
  mosquitto.kill();
  rmSync(DATA, { recursive: true, force: true });
  rmSync(dirname(mqttConf), { recursive: true, force: true });
}
ok(roost.exitCode === 0, "the broker exits 0 after SIGTERM (under ASan: no leak or error report)");
console.log(`# ${checked()} checks passed`);
