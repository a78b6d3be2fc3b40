// End-to-end test of the chat page as an app on a device, in Debian's
// chromium against the real roost binary (ctest e2e_browser_app):
//   node tests/browser/test_app.mjs ROOST_BINARY SCREENSHOT_DIR
// Notifications for a direct message, a mention and a watch alert while the
// page is away (and none for ordinary messages), the title badge, sound and
// vibration, settings kept on the device, what plain HTTP says, the web app
// manifest, icons and service worker (chromium's own installability check),
// the page opening from its service worker while the broker is down, and
// the weight of everything the page loads. test_page.mjs tests the chat.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import {
  CHROMIUM, PHONE, Roost, browser, checked, count, gzipWeight, lowContrast, ok, openPage, openPanel, pages, postJson, request,
  say, showRoom, smallTargets, waitFor,
} from "./harness.mjs";

const [BIN, SHOTS] = process.argv.slice(2);
mkdirSync(SHOTS, { recursive: true });
const PAGE_BUDGET = 28 * 1024; // gzipped bytes of everything the page loads (the page's size budget)
const shot = (page, name) => page.screenshot({ path: SHOTS + "/" + name + ".png" });

// Notifications the page raised through its service worker, still shown.
const notes = (page) => page.evaluate(async () =>
  (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })));

// Puts `page` in the background as a laptop does when another window comes
// to the front: it loses focus. (Headless chromium never reports a page as
// hidden: a known playwright limitation; the page treats "hidden or not focused" as
// away, prefs.js.) Returns a function that brings it back.
async function sendAway(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: false });
  const front = await page.context().newPage();
  await front.bringToFront();
  await waitFor(() => page.evaluate(() => !document.hasFocus()), page.nick + "'s page is in the background (not focused)");
  return async () => {
    await front.close();
    await page.bringToFront();
    await cdp.send("Emulation.setFocusEmulationEnabled", { enabled: true });
  };
}

// The page's own files among the URLs a page asked for (not the API).
const own = (base, u) => u.startsWith(base) && !/^\/(api|ws|healthz)\b/.test(new URL(u).pathname);

const DATA = mkdtempSync(join(tmpdir(), "roost-app-"));
const roost = await new Roost(BIN, 0, DATA, []).start();
try {
  const ann = await openPage(roost.base, "ann", { notify: true });
  const bob = await openPage(roost.base, "bob", { viewport: PHONE });

  // ---- notifications: a direct message, a mention and an alert, while away ----
  await ann.click("#settings summary");
  await ann.check("#set-notify");
  await waitFor(() => ann.evaluate(() => Notification.permission === "granted" && document.getElementById("set-notify").checked),
    "ann turns notifications on (the browser's permission granted)");
  await waitFor(() => ann.evaluate(async () => !!(await navigator.serviceWorker.ready).active && !!navigator.serviceWorker.controller),
    "ann's page is controlled by its service worker");
  await say(ann, "/join quiet");
  await waitFor(async () => (await ann.textContent("#title")) === "# quiet", "ann joins # quiet");
  await say(ann, "/join alerts");
  await waitFor(async () => (await ann.textContent("#title")) === "# alerts", "ann opens # alerts");
  await say(ann, "/watch sensors temp > 30");
  await waitFor(() => ann.locator("#log li.msg.bot", { hasText: "Watch 1" }).count(), "ann sets a watch that alerts in # alerts");
  await showRoom(ann, "lobby");
  const back = await sendAway(ann);
  await say(bob, "/dm ann ping for the notification");
  await waitFor(async () => (await count(bob, "ping for the notification")) === 1, "bob sends ann a direct message");
  await showRoom(bob, "lobby");
  await say(bob, "look @ann, this is for you");
  assert.equal((await postJson(roost.base, "sensors", { from: "kitchen", data: { temp: 31.5 } })).status, 201);
  const want = [{ tag: "@ann+bob", title: "bob", body: "ping for the notification" },
    { tag: "lobby", title: "bob in # lobby", body: "look @ann, this is for you" }, { tag: "alerts", title: "Alert in # alerts" }];
  await waitFor(async () => {
    const n = await notes(ann);
    return want.every((w) => n.some((x) => x.tag === w.tag && x.title === w.title && (!w.body || x.body === w.body)));
  }, "ann gets a notification for the direct message, the mention and the watch alert");
  ok((await notes(ann)).find((x) => x.tag === "alerts").body.includes("kitchen temp is 31.5"), "the alert's says what crossed");
  await say(bob, "an ordinary word in the lobby");
  assert.equal((await postJson(roost.base, "quiet", { from: "logger", text: "an ordinary line" })).status, 201);
  await waitFor(async () => (await count(ann, "an ordinary word in the lobby")) === 1, "ann's page shows bob's ordinary message");
  await waitFor(() => ann.locator("#joined-list li", { hasText: "quiet" }).locator(".count", { hasText: "unread" }).count(),
    "and counts the ordinary line in # quiet");
  const n = await notes(ann);
  ok(n.length === 3 && n.find((x) => x.tag === "lobby").body === "look @ann, this is for you" && !n.some((x) => x.tag === "quiet"),
    "ordinary messages raise no notification " + JSON.stringify(n));
  ok(/^\(\d+\) Roost$/.test(await ann.title()), "the title badge counts the unread: " + await ann.title());
  ok((await ann.$$eval("#announce p", (ps) => ps.map((p) => p.textContent))).some((t) => t.startsWith("Alert in # alerts")),
    "the alert is read out too");
  await ann.uncheck("#set-badge");
  await waitFor(async () => (await ann.title()) === "Roost", "the title badge can be switched off");
  await ann.check("#set-badge");
  await back();
  await ann.evaluate(async () => { for (const x of await (await navigator.serviceWorker.ready).getNotifications()) x.close(); });

  // ---- settings stay on the device; sound and vibration ----
  const fay = await openPage(roost.base, "fay", { viewport: PHONE, dark: true });
  await fay.addInitScript(() => {
    window.__tones = 0;
    window.__buzz = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...a) { window.__tones++; return start.apply(this, a); };
    navigator.vibrate = () => { window.__buzz++; return true; };
  });
  await fay.reload();
  await waitFor(() => fay.locator("#status[data-state=connected]").count(), "fay's page is connected (reloaded)");
  await openPanel(fay, "rooms");
  await fay.click("#settings summary");
  ok(!(await fay.isChecked("#set-notify")) && !(await fay.isChecked("#set-sound")) && (await fay.isChecked("#set-badge")) &&
    !(await fay.isChecked("#set-enter")), "on a phone: no notifications or sound until asked, the badge on, Enter makes new lines");
  await fay.check("#set-sound");
  await fay.check("#set-vibrate");
  const small = await smallTargets(fay);
  ok(small.length === 0, "every tap target of the settings panel is at least 44x44 px " + JSON.stringify(small));
  const low = await lowContrast(fay);
  ok(low.length === 0, "the settings panel in dark meets WCAG AA contrast " + JSON.stringify(low));
  await shot(fay, "settings-phone-dark");
  await fay.reload();
  await waitFor(() => fay.locator("#status[data-state=connected]").count(), "fay's page is connected again");
  ok((await fay.isChecked("#set-sound")) && (await fay.isChecked("#set-vibrate")), "the settings are remembered on the device");
  const fayBack = await sendAway(fay);
  await say(bob, "/dm fay a tone for fay");
  await waitFor(() => fay.evaluate(() => window.__tones === 1 && window.__buzz === 1), "away, a direct message plays a tone and vibrates");
  await fayBack();
  await showRoom(bob, "lobby");

  // ---- plain HTTP to a name: notifications need HTTPS, and the page says so ----
  const hal = await openPage("http://roost.test:" + roost.port, "hal", { viewport: PHONE });
  ok(await hal.evaluate(() => !window.isSecureContext && !navigator.serviceWorker), "hal's page (http://roost.test) is not a secure context");
  await openPanel(hal, "rooms");
  await hal.click("#settings summary");
  await waitFor(async () => (await hal.textContent("#notify-note")).startsWith("Notifications need HTTPS"), "the settings say notifications need HTTPS");
  ok(await hal.locator("#notify-note a[href='/trust.html']").count() === 1 && await hal.isDisabled("#set-notify"),
    "link the page that makes HTTPS trusted, and the switch is off");
  await hal.locator("#notify-note").scrollIntoViewIfNeeded();
  const halSmall = await smallTargets(hal);
  ok(halSmall.length === 0, "every tap target there is at least 44x44 px " + JSON.stringify(halSmall));
  await shot(hal, "settings-http-phone");

  // ---- installable: manifest, icons, service worker, favicon ----
  const man = await request(roost.base, "GET", "/manifest.webmanifest");
  ok(man.status === 200 && man.headers["content-type"] === "application/manifest+json", "the web app manifest is served as such");
  const manifest = JSON.parse(man.body.toString());
  ok(manifest.display === "standalone" && manifest.start_url === "/", "it opens the page as an app");
  for (const icon of manifest.icons) {
    const res = await request(roost.base, "GET", icon.src);
    ok(res.status === 200 && res.headers["content-type"] === icon.type, "icon " + icon.src + " is served as " + icon.type);
    if (icon.type === "image/png") {
      ok(res.body.readUInt32BE(16) + "x" + res.body.readUInt32BE(20) === icon.sizes, "and is " + icon.sizes);
    }
  }
  const fav = await request(roost.base, "GET", "/favicon.ico");
  ok(fav.status === 200 && fav.headers["content-type"] === "image/x-icon" && fav.body.readUInt16LE(2) === 1, "/favicon.ico is an icon");
  ok((await request(roost.base, "GET", "/trust.html")).body.toString().includes('rel="icon"'), "trust.html names its icon");
  const csp = (await request(roost.base, "GET", "/")).headers["content-security-policy"];
  ok(/manifest-src 'self'/.test(csp) && /worker-src 'self'/.test(csp) && /script-src 'self';/.test(csp) && !/unsafe/.test(csp),
    "the CSP lets in the page's own manifest and service worker, and still no inline script");
  // Installability is judged in a profile of its own (never in an incognito one, as test contexts are).
  const profile = mkdtempSync(join(tmpdir(), "roost-profile-"));
  const installed = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  const app = installed.pages()[0] || await installed.newPage();
  await app.goto(roost.base + "/");
  await waitFor(() => app.evaluate(async () => !!(await navigator.serviceWorker.ready).active), "a browser with a profile installs the service worker");
  const cdp = await installed.newCDPSession(app);
  const inst = await cdp.send("Page.getInstallabilityErrors");
  ok(inst.installabilityErrors.length === 0, "chromium finds the page installable " + JSON.stringify(inst.installabilityErrors));
  const am = await cdp.send("Page.getAppManifest");
  ok(am.errors.length === 0 && am.url.endsWith("/manifest.webmanifest"), "and its manifest without error " + JSON.stringify(am.errors));
  await installed.close();
  rmSync(profile, { recursive: true, force: true });

  // ---- the broker is down: the page still opens, from its service worker ----
  await say(fay, "fay was here");
  await waitFor(async () => (await count(fay, "fay was here")) === 1, "fay's page has all its files");
  const loaded = [...new Set(fay.requests.filter((u) => own(roost.base, u)).map((u) => new URL(u).pathname))].filter((p) => p !== "/sw.js");
  await waitFor(() => fay.evaluate(async (files) => {
    const have = (await (await caches.open("roost-shell")).keys()).map((r) => new URL(r.url).pathname);
    return !!navigator.serviceWorker.controller && files.every((p) => have.includes(p));
  }, loaded), "fay's service worker keeps every file the page loaded: " + loaded.join(" "));
  await roost.kill9();
  await waitFor(async () => /Cannot reach Roost|Connecting/.test(await fay.textContent("#status")), "fay's page sees the broker go");
  await say(fay, "queued on the offline page");
  await fay.reload();
  await waitFor(() => fay.locator("#banner #status", { hasText: /Cannot reach Roost|Connecting/ }).isVisible(),
    "with the broker down, fay's page still opens (from its service worker) and says so", 20000);
  ok(await fay.locator("#log li.pending", { hasText: "queued on the offline page" }).count() === 1 && !(await fay.locator("#setup").isVisible()),
    "showing what waits to be sent");
  ok(await fay.evaluate(() => fetch("/api/rooms").then(() => false, () => true)), "the API is never answered from the service worker");
  ok(await fay.evaluate(async () => (await (await caches.open("roost-shell")).keys()).every((r) => !new URL(r.url).pathname.startsWith("/api"))),
    "nor kept by it");
  await shot(fay, "offline-page-phone-dark");
  await new Roost(BIN, roost.port, DATA, []).start().then((r) => Object.assign(roost, r));
  await waitFor(async () => (await count(bob, "queued on the offline page")) === 1, "back up, what fay queued reaches bob once", 30000);
  await waitFor(async () => (await count(fay, "queued on the offline page")) === 1, "and fay's own page", 30000);

  // ---- weight of everything the page loads (with its service worker), CSP, errors ----
  const urls = [...new Set(ann.requests.filter((u) => own(roost.base, u)).map((u) => new URL(u).pathname))].sort();
  ok(urls.includes("/sw.js") && urls.includes("/manifest.webmanifest") && urls.includes("/app.js"),
    "the page's requests include its service worker and manifest: " + urls.join(" "));
  const gz = await gzipWeight(roost.base, urls);
  ok(gz <= PAGE_BUDGET, `the page (${urls.length} files) weighs ${gz} bytes gzipped, at most ${PAGE_BUDGET}`);
  console.log("# page weight: " + gz + " bytes gzipped in " + urls.length + " files: " + urls.join(" "));
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
