// The person's settings on this device (localStorage) and what they switch:
// telling the person about a direct message, a mention of their nick or a
// watch alert while the page is in the background (a browser notification,
// a short sound, a vibration), the unread count in the tab's title, whether
// Enter sends, and which rooms show device readings in the chat. The
// settings panel is #settings in index.html; the readings switch is in a
// room's Devices view (devices.js).
//
// Notifications need a secure context (HTTPS, or the loopback address): on
// plain HTTP the panel says so and links trust.html. They go through the
// service worker's registration where there is one (Chrome on Android has
// no `new Notification`); a tap on one opens its room (sw.js).

const $ = (id) => document.getElementById(id);
// a touch screen, no mouse
const coarse = matchMedia("(pointer: coarse)").matches;

export const store = {
  get(k, d) { try { const v = localStorage.getItem("roost." + k); return v === null ? d : JSON.parse(v); } catch (_) { return d; } },
  set(k, v) { try { localStorage.setItem("roost." + k, JSON.stringify(v)); } catch (_) { /* private mode */ } },
};

// notify, sound, vibrate: off until the person turns them on; enter: by
// device (Enter sends on a keyboard, makes a new line on a touch screen).
// chat: the rooms whose device readings also show in the chat (by default
// they show only under Devices).
const prefs = { notify: false, sound: false, vibrate: false, badge: true, enter: !coarse, chat: [], ...store.get("prefs", {}) };
const canNotify = () => window.isSecureContext && "Notification" in window;
let audio = null;

export const enterSends = () => prefs.enter;
export const readingsInChat = (room) => prefs.chat.includes(room);
export function setReadingsInChat(room, on) {
  prefs.chat = prefs.chat.filter((x) => x !== room).concat(on ? [room] : []);
  store.set("prefs", prefs);
}

// The page is "away" when hidden (another tab, the phone's home screen) or
// without focus (a laptop window behind another one).
export const away = () => document.hidden || !document.hasFocus();

export function titleBadge(total) {
  document.title = (prefs.badge && total ? "(" + total + ") " : "") + "Roost";
}

// Tells the person about something that is for them, if they are away: a
// notification (with the system's sound and vibration as set), else the
// page's own tone and vibration.
export function tell(title, body, room) {
  if (!away()) return;
  const shown = prefs.notify && canNotify() && Notification.permission === "granted";
  if (shown) {
    // A silent notification may not vibrate: vibration alone brings the sound.
    const opts = { body: body.slice(0, 300), tag: room, renotify: true, data: room, icon: "/icon-192.png",
      silent: !prefs.sound && !prefs.vibrate };
    if (prefs.vibrate) opts.vibrate = [150];
    const sw = navigator.serviceWorker;
    (sw && sw.controller ? sw.ready.then((r) => r.showNotification(title, opts)) : Promise.reject()).catch(() => {
      try { new Notification(title, opts); } catch (_) { /* no way to show it here */ }
    });
    return;
  }
  if (prefs.sound) beep();
  if (prefs.vibrate && navigator.vibrate) navigator.vibrate(150);
}

// A short soft tone (Web Audio: no file to load).
function beep() {
  try {
    audio = audio || new AudioContext();
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.08;
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.15);
  } catch (_) { /* no audio here */ }
}

function explain() {
  const note = $("notify-note");
  note.replaceChildren();
  const box = $("set-notify");
  box.disabled = !canNotify();
  if (!canNotify()) {
    const a = document.createElement("a");
    a.href = "/trust.html";
    a.className = "tap";
    a.textContent = "Trust this Roost once, then open it with https://";
    note.append("Notifications need HTTPS.", a);
  } else if (Notification.permission === "denied") {
    note.append("This browser blocks notifications from this Roost: allow them in its site settings.");
  }
  box.checked = prefs.notify && canNotify() && Notification.permission === "granted";
}

// Wires the settings panel; `badgeChanged` redraws the title.
export function wirePrefs(badgeChanged) {
  for (const k of ["notify", "sound", "vibrate", "badge", "enter"]) {
    const box = $("set-" + k);
    box.checked = prefs[k];
    box.addEventListener("change", async () => {
      prefs[k] = box.checked;
      if (k === "notify" && box.checked && Notification.permission !== "granted") {
        prefs.notify = (await Notification.requestPermission()) === "granted";
      }
      // a sample, and a user gesture for the audio
      if (k === "sound" && box.checked) beep();
      store.set("prefs", prefs);
      explain();
      $("say-input").enterKeyHint = prefs.enter ? "send" : "enter";
      badgeChanged();
    });
  }
  $("vibrate-row").hidden = !navigator.vibrate;
  $("say-input").enterKeyHint = prefs.enter ? "send" : "enter";
  explain();
}
