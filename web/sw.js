// The page's service worker: it makes the page installable and keeps the
// page's own files (SHELL) for when the broker cannot be reached, so the
// page still opens, shows what it keeps on the device (pending messages)
// and says it is not connected. Network first: while the broker answers,
// every file comes from it (and refreshes the copy), so an update of Roost
// is seen at once. Nothing else is ever answered from here: the HTTP API,
// Server-Sent Events, /ca.crt and the WebSocket go to the network untouched.
// A tap on a notification (prefs.js) opens its room.
const CACHE = "roost-shell";
const SHELL = ["/", "/style.css", "/app.js", "/conn.js", "/devices.js", "/log.js", "/messages.js", "/prefs.js", "/state.js",
  "/util.js", "/view.js", "/icon.svg", "/manifest.webmanifest"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || !SHELL.includes(url.pathname)) return;
  e.respondWith(fetch(e.request).then((res) => {
    if (res.ok) { const copy = res.clone(); caches.open(CACHE).then((c) => c.put(url.pathname, copy)); }
    return res;
  }, () => caches.match(url.pathname).then((hit) => hit || Response.error())));
});

self.addEventListener("notificationclick", (e) => {
  e.notification.close();
  const room = e.notification.data || "";
  e.waitUntil(self.clients.matchAll({ type: "window" }).then((list) => {
    if (!list.length) return self.clients.openWindow("/#" + encodeURIComponent(room));
    list[0].postMessage({ room });
    return list[0].focus();
  }));
});
