// End-to-end test of a room's Devices view in Debian's chromium against the
// real roost binary (ctest e2e_browser_devices):
//   node tests/browser/test_devices.mjs ROOST_BINARY SCREENSHOT_DIR
// Three devices post into # sensors over HTTP: their readings stay out of
// the chat unless the person asks (a setting kept on the device), while
// alerts always show there; tiles update live (values, "12 s ago", the
// stale mark, watch alerts) with a sparkline per device and key; a tile
// opens charts at 2 h / 48 h / 30 d; readings and bot posts are not unread;
// a device's name offers no direct message. After a restart of the broker
// on its data directory, a new page (a phone in German, in a zone 5:45
// ahead of UTC, dark) draws tiles and charts from the broker's store, with
// the axes in its own language and zone. Phone and laptop, light and dark:
// tap targets and contrast; screenshots devices-phone, devices-chart-phone,
// devices-desktop (and -dark) in SCREENSHOT_DIR.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LAPTOP, PHONE, Roost, browser, checked, lowContrast, ok, openPage, pages, postJson, readingsInChat, say, sayAs, showRoom,
  smallTargets, texts, waitFor,
} from "./harness.mjs";

const [BIN, SHOTS] = process.argv.slice(2);
mkdirSync(SHOTS, { recursive: true });
const shot = (page, name) => page.screenshot({ path: SHOTS + "/" + name + ".png" });
// Until the restart no device goes stale (the unread counts are exact);
// after it, a device is stale after STALE_S s without a reading.
const STALE_S = 3;
const EXTRA = ["--addr-rate", "1000", "--addr-burst", "1000", "--msg-rate", "1000", "--msg-burst", "1000"];
const NEVER_STALE = [...EXTRA, "--device-stale-s", "86400"], SOON_STALE = [...EXTRA, "--device-stale-s", String(STALE_S)];

async function checkPage(page, state) {
  const small = await smallTargets(page);
  ok(small.length === 0, `${page.nick}, ${state}: every tap target is at least 44x44 px ` + JSON.stringify(small));
  const low = await lowContrast(page);
  ok(low.length === 0, `${page.nick}, ${state}: all text meets WCAG AA contrast ` + JSON.stringify(low));
}

const post = async (from, data, room = "sensors") => {
  const r = await postJson(roost.base, room, { from, text: from + " reports", data });
  assert.equal(r.status, 201, r.body.toString());
};
const tile = (page, name) => page.locator(`#devices .dev[data-dev="${name}"]`);
const row = (page, name, key) => tile(page, name).locator("span", { has: page.locator(`.k:text-is("${key}")`) });
// Read at once (never waiting for the element): a tile's value of a key, and its sparkline's description.
const value = (page, name, key) => row(page, name, key).locator(".v").evaluateAll((e) => e.map((x) => x.textContent).join());
const sparkLabel = (page, name, key) => row(page, name, key).locator("svg.spark").evaluateAll((e) => e.map((x) => x.getAttribute("aria-label")).join());
const unread = (page, room) => page.locator("#joined-list li", { hasText: room }).locator(".count").textContent();
const readingCards = (page) => page.locator("#log li.msg.device .readings").count();

async function openDevices(page) {
  if (!(await page.locator("#devices").isVisible())) await page.click("#dev-btn");
  await waitFor(() => page.locator("#devices .devs").isVisible(), page.nick + "'s page shows the room's Devices view");
}

const DATA = mkdtempSync(join(tmpdir(), "roost-devices-"));
const roost = await new Roost(BIN, 0, DATA, NEVER_STALE).start();
try {
  const ann = await openPage(roost.base, "ann", { viewport: LAPTOP });
  const bob = await openPage(roost.base, "bob", { viewport: PHONE });
  for (const p of [ann, bob]) {
    await say(p, "/join sensors");
    await waitFor(async () => (await p.textContent("#title")) === "# sensors", p.nick + " opens # sensors");
  }
  ok(!(await bob.locator("#dev-btn").isVisible()), "a room without devices offers no Devices view");

  // ---- readings: under Devices only, by default; tiles update live ----
  await post("kitchen", { temp: 20.5, humidity: 41, door: "open" });
  await post("garage", { temp: 14.2 });
  await post("shed", { temp: 9.1 });
  await waitFor(() => bob.locator("#dev-btn").isVisible(), "once devices post, the header offers the room's Devices");
  await waitFor(() => bob.locator("#log .note-line", { hasText: "Readings are under Devices" }).count(),
    "the chat says where the readings are");
  ok(await readingCards(bob) === 0 && await readingCards(ann) === 0, "and shows none of them");
  await openDevices(bob);
  await waitFor(async () => (await bob.$$eval("#devices .dev", (t) => t.map((x) => x.dataset.dev))).join() === "garage,kitchen,shed",
    "a tile per device, by name");
  ok(await value(bob, "kitchen", "temp") === "20.5" && await value(bob, "kitchen", "door") === "open",
    "the kitchen's tile shows its values");
  ok(await bob.locator("#chat").evaluate((e) => getComputedStyle(e).visibility === "hidden"), "the view takes the chat's place");
  await post("kitchen", { temp: 21 });
  await waitFor(async () => (await value(bob, "kitchen", "temp")) === "21", "a new reading updates the tile live");
  ok(await value(bob, "kitchen", "door") === "open", "keeping the values it did not send again");
  await waitFor(async () => /^[2-9] s ago$/.test(await tile(bob, "garage").locator("time").textContent()),
    "\"N s ago\" is kept up to date");

  // ---- a sparkline per device and key (never mixing devices) ----
  for (let i = 0; i < 3; i++) {
    await post("kitchen", { temp: 22 + i });
    await post("garage", { temp: 15 + i });
  }
  await waitFor(async () => (await value(bob, "garage", "temp")) === "17", "the garage's tile follows too");
  await waitFor(async () => (await sparkLabel(bob, "kitchen", "temp")) === "temp over 2 h: 20.5 to 24", "the kitchen's temp sparkline spans its own values");
  ok(await sparkLabel(bob, "garage", "temp") === "temp over 2 h: 14.2 to 17", "and the garage's its own");
  await checkPage(bob, "the Devices view on a phone");

  // ---- readings in the chat, when asked: per device sparklines; device names are not people ----
  await readingsInChat(ann, true);
  for (let i = 0; i < 3; i++) {
    await post("kitchen", { temp: 30 - i });
    await post("garage", { temp: 10 + i });
  }
  const card = (from) => ann.locator("#log li.msg.device", { hasText: from }).last();
  await waitFor(async () => (await card("garage").locator("dd").first().textContent()).startsWith("12"), "asked, the chat shows readings cards");
  ok(await card("kitchen").locator("svg.spark").getAttribute("aria-label") === "recent values: 30, 29, 28",
    "a card's sparkline has its own device's values only");
  ok(await card("garage").locator("svg.spark").getAttribute("aria-label") === "recent values: 10, 11, 12", "the garage's too");
  ok(await ann.locator("#log li.msg.device button.nick").count() === 0 && await ann.locator("#log li.msg.device span.nick", { hasText: "kitchen" }).count() > 0,
    "a device's name in the chat is not a button");
  await card("kitchen").locator(".nick").click();
  ok(!(await ann.locator("#nick-menu").isVisible()), "tapping it offers no direct message");
  ok(!(await ann.$$eval("#people-list .nick", (e) => e.map((x) => x.textContent))).includes("kitchen"), "nor is a device among the people here");
  ok(await bob.locator("#devices button.nick").count() === 0, "nor in the Devices view");
  await ann.reload();
  await waitFor(() => ann.locator("#status[data-state=connected]").count(), "ann reloads her page");
  await waitFor(() => ann.locator("#log li.msg.device .readings").count(), "her chat shows the readings it replays");
  await post("kitchen", { temp: 27 });
  await waitFor(async () => (await card("kitchen").locator("dd").first().textContent()).startsWith("27"), "the setting is kept on the device");
  ok(await readingCards(bob) === 0, "and is this page's own: bob's chat still shows no readings");

  // ---- unread: readings and bot posts do not count; people and alerts do ----
  // Messages arrive in order: once bob's word is counted, everything before it was seen.
  await showRoom(ann, "lobby");
  for (let i = 0; i < 5; i++) await post("kitchen", { temp: 26 + i / 10 });
  await post("garage", { temp: 11 });
  await bob.click("#dev-btn");
  await say(bob, "/watch sensors kitchen temp > 35");
  await waitFor(() => bob.locator("#log li.msg.bot", { hasText: "Watch" }).count(), "bob sets a watch on the kitchen's temp (the bot answers in # sensors)");
  await say(bob, "the kitchen is warm");
  await waitFor(async () => /(^| )1 unread/.test(await unread(ann, "sensors")),
    "six readings, the bot's answer and bob's word later, ann's # sensors counts 1 unread");
  ok((await ann.title()) === "(1) Roost", "and so does the title");

  // ---- watches: the alert shows on the tile, and always in the chat ----
  await openDevices(bob);
  await waitFor(async () => (await tile(bob, "kitchen").locator(".w").textContent()) === "watch: temp > 35", "the kitchen's tile shows its watch");
  await post("kitchen", { temp: 36.5 });
  await waitFor(() => tile(bob, "kitchen").locator(".w.on", { hasText: "⚠ alert: temp > 35" }).count(), "in alert, the tile says so");
  ok(await tile(bob, "kitchen").evaluate((e) => e.classList.contains("alert")), "and is marked");
  await waitFor(async () => /(^| )2 unread/.test(await unread(ann, "sensors")), "an alert counts as unread");
  await shot(bob, "devices-phone");
  await checkPage(bob, "a tile in alert");
  await bob.click("#dev-btn");
  await waitFor(() => bob.locator("#log li.msg.bot.alert", { hasText: "kitchen" }).count(), "the alert is in bob's chat, readings hidden or not");
  await post("kitchen", { temp: 30 });
  await waitFor(() => bob.locator("#log li.msg.bot.alert-ok", { hasText: "kitchen" }).count(), "and so is its end");
  await openDevices(bob);
  await waitFor(async () => (await tile(bob, "kitchen").locator(".w.on").count()) === 0, "the tile's alert goes");

  // ---- a tile opens charts: 2 h, 48 h, 30 d ----
  await tile(bob, "kitchen").click();
  const fig = (page, key) => page.locator("#figs figure", { has: page.locator(`figcaption:text-matches("^${key}:")`) });
  await waitFor(() => fig(bob, "temp").locator("svg path.line").count(), "tapping the kitchen's tile opens its charts");
  ok(await bob.locator("#figs figure").count() === 2 && await bob.locator("#figs p", { hasText: "door: open" }).count() === 1,
    "one chart per numeric key (temp, humidity), the other values as text");
  for (const range of ["48h", "30d", "2h"]) {
    await bob.click(`[data-range="${range}"]`);
    const label = "temp over " + range.replace(/\D/, " $&");
    await waitFor(async () => (await fig(bob, "temp").locator("svg").getAttribute("aria-label") || "").startsWith(label + ": lowest 20.5, highest 36.5"),
      `the ${range} chart spans every temp the kitchen sent`);
    ok(await bob.locator(`[data-range="${range}"]`).getAttribute("aria-pressed") === "true", "its range is pressed");
  }
  await bob.click("#devices [data-back]");
  await waitFor(() => tile(bob, "kitchen").evaluate((e) => e === document.activeElement), "back at the tiles, the kitchen's has the focus");

  // ---- reading back past readings that left their ring: people's messages, all of them ----
  const people = (from, n) => Array.from({ length: n }, (_, i) => "m " + (from + i));
  assert.equal(await sayAs(ann, "logger", "mixed", people(1, 60)), 60);
  for (let i = 0; i < 150; i++) await post("meter", { watts: i }, "mixed");
  assert.equal(await sayAs(ann, "logger", "mixed", people(61, 60)), 60);
  await say(ann, "/join mixed");
  await waitFor(async () => (await texts(ann)).at(-1) === "m 120", "ann opens # mixed: 60 messages, 150 readings, 60 messages");
  for (let i = 0; i < 12 && !(await ann.locator("#log .start").count()); i++) {
    await ann.evaluate(() => { document.getElementById("log").scrollTop = 0; });
    await ann.waitForTimeout(400);
  }
  await waitFor(async () => (await ann.locator("#log .start").textContent()) === "This is the start of # mixed.",
    "scrolling up reads back past the readings the broker no longer holds, to the start");
  ok((await texts(ann)).join() === people(1, 120).join(), "every person's message, once, in order (readings under Devices)");

  // ---- the broker restarts on its data directory: the store keeps it all ----
  roost.exitCode = await roost.stop();
  ok(roost.exitCode === 0, "the broker stops cleanly");
  await new Roost(BIN, roost.port, DATA, SOON_STALE).start().then((r) => Object.assign(roost, r));
  const cy = await openPage(roost.base, "cy", { viewport: PHONE, dark: true, locale: "de-DE", timezoneId: "Asia/Kathmandu" });
  await say(cy, "/join sensors");
  await waitFor(async () => (await cy.textContent("#title")) === "# sensors", "cy (a phone in German) opens # sensors after the restart");
  await waitFor(() => cy.locator("#dev-btn").isVisible(), "the room's Devices are there, from the store");
  await openDevices(cy);
  await waitFor(async () => (await value(cy, "kitchen", "temp")) === "30", "each tile has its device's latest values");
  ok(await value(cy, "shed", "temp") === "9,1", "numbers in the phone's language (9,1)");
  await waitFor(async () => (await sparkLabel(cy, "kitchen", "temp")) === "temp over 2 h: 20,5 to 36,5", "the sparkline is the store's last 2 h");
  await checkPage(cy, "Devices, dark, after a restart");
  await shot(cy, "devices-phone-dark");
  await tile(cy, "kitchen").click();
  await waitFor(async () => /lowest 20,5, highest 36,5$/.test(await fig(cy, "temp").locator("svg").getAttribute("aria-label") || ""),
    "the kitchen's chart after the restart comes from the store");
  const axis = await fig(cy, "temp").locator("svg text").evaluateAll((ts) => ts.map((t) => ({ text: t.textContent, anchor: t.getAttribute("text-anchor") })));
  const times = axis.filter((a) => a.anchor === "middle").map((a) => a.text), values = axis.filter((a) => a.anchor === "end").map((a) => a.text);
  ok(times.length >= 2 && times.every((t) => /^\d\d:(00|30)$/.test(t)),
    "the time axis is in the phone's zone and 24-hour clock (round half hours 5:45 ahead of UTC): " + times);
  ok(values.length >= 3 && values.every((v) => /^-?\d+(,\d+)?$/.test(v)), "the value axis is round numbers in its language: " + values);
  await checkPage(cy, "a chart, dark");
  await shot(cy, "devices-chart-phone-dark");
  await bob.reload();
  await waitFor(() => bob.locator("#status[data-state=connected]").count(), "bob's page reloads after the restart");
  await showRoom(bob, "sensors");
  await openDevices(bob);
  // ---- restarted with a short device_stale_s: a device goes quiet, and comes back ----
  await waitFor(() => tile(bob, "shed").locator(".quiet", { hasText: "went quiet" }).count(),
    `quiet for more than ${STALE_S} s, the shed's tile is marked`, (STALE_S + 10) * 1000);
  ok(await tile(bob, "shed").evaluate((e) => e.classList.contains("stale")), "its tile is dashed");
  await bob.click("#dev-btn");
  await waitFor(() => bob.locator("#log li.msg.system", { hasText: "shed went quiet" }).count(), "the chat says the shed went quiet");
  await post("shed", { temp: 9.4 });
  await waitFor(() => bob.locator("#log li.msg.system", { hasText: "shed is back" }).count(), "and that it is back");
  await openDevices(bob);
  await waitFor(async () => (await tile(bob, "shed").locator(".quiet").count()) === 0, "the mark goes");

  await tile(bob, "kitchen").click();
  await waitFor(() => fig(bob, "temp").locator("svg path.band").getAttribute("d").then((d) => d.length > 0), "bob's chart too, with its min/max band");
  await checkPage(bob, "a chart, light");
  await shot(bob, "devices-chart-phone");
  await showRoom(ann, "sensors");
  await openDevices(ann);
  await waitFor(async () => (await value(ann, "kitchen", "temp")) === "30", "ann's laptop shows the tiles");
  await checkPage(ann, "the Devices view on a laptop");
  await shot(ann, "devices-desktop");
  await ann.emulateMedia({ colorScheme: "dark" });
  await checkPage(ann, "the Devices view on a laptop, dark");
  await shot(ann, "devices-desktop-dark");
  await ann.click("#dev-btn");
  await waitFor(async () => (await ann.locator("#log li.msg.device .readings").count()) > 0, "ann is back in the chat with her readings");

  for (const p of pages) {
    ok((await p.evaluate(() => window.__csp)).length === 0, p.nick + ": no Content-Security-Policy violation");
    ok(p.errors.length === 0, p.nick + ": no script error " + JSON.stringify(p.errors));
  }
  console.log("# screenshots in " + SHOTS);
} finally {
  await browser.close();
  roost.exitCode = await roost.stop();
  rmSync(DATA, { recursive: true, force: true });
}
ok(roost.exitCode === 0, "the broker exits 0 after SIGTERM (under ASan: no leak or error report)");
console.log(`# ${checked()} checks passed`);
