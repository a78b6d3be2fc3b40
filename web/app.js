// The chat page: what the broker's events do to the rooms this page
// follows, what the person does, and the panels, banner and menus around
// the log. The page's state is state.js; the link to the broker conn.js;
// a room's list of messages messages.js; the log's scrolling log.js;
// settings and notifications prefs.js; DOM builders view.js; a room's
// Devices view devices.js.
import { Conn } from "./conn.js";
import { deviceMsg, loadDevices, roomShown, wireDevices } from "./devices.js";
import { arrived, atBottom, check, keepPlace, toBottom, wireLog } from "./log.js";
import { hidden, joinedNotes, pendingEl, place, prepend, renderSeen, systemLine, trim } from "./messages.js";
import { enterSends, store, tell, titleBadge, wirePrefs } from "./prefs.js";
import { S, label, peer, room, same } from "./state.js";
import { alertOf, counts, dmRoom, mentions, newKey, nickProblem, nickValid, olderRange, roomName, typingLine } from "./util.js";
import { button, el, nickButton, pendingItem, refusedItem } from "./view.js";

const $ = (id) => document.getElementById(id);
// messages asked for per step of reading back
const OLDER = 50;
// a "typing" without a newer word expires after this
const TYPING_SHOW = 8000;

const conn = new Conn(onEvent, onStatus);

// ---- events from the broker ----
function onEvent(ev) {
  switch (ev.type) {
    case "welcome":
      S.nick = ev.nick;
      S.fallback = !!ev.fallback;
      $("me").textContent = S.nick;
      directory(ev.rooms);
      if (conn.rooms.size === 0) join("lobby");
      render();
      break;
    case "joined": joined(ev); break;
    case "msg": message(ev); break;
    case "presence": {
      const r = room(ev.room);
      if (ev.state === "join") r.members.add(ev.nick); else r.members.delete(ev.nick);
      if (ev.state === "leave") clearTyping(r, ev.nick);
      if (ev.room === S.active) renderPeople();
      break;
    }
    case "typing": {
      const r = room(ev.room);
      clearTyping(r, ev.nick);
      if (ev.on) r.typing.set(ev.nick, setTimeout(() => clearTyping(r, ev.nick), TYPING_SHOW));
      if (ev.room === S.active) renderTyping();
      break;
    }
    case "read": {
      const r = room(ev.room);
      r.reads[ev.nick] = Math.max(r.reads[ev.nick] || 0, ev.seq);
      renderSeen(r);
      break;
    }
    case "ack": {
      // A command's answer comes from the bot, without the cid: done here.
      const li = pendingEl(ev.room, ev.cid);
      if (li && li.querySelector(".text").textContent.startsWith("/")) li.remove();
      else if (li) li.querySelector(".note").textContent = "sent";
      break;
    }
    case "refused": {
      const li = pendingEl(ev.room, ev.cid);
      if (li) refusedItem(li, ev.message + " (" + ev.code + ")");
      saveOutbox();
      break;
    }
    case "outbox": saveOutbox(); break;
    case "left": {
      const r = S.rooms.get(ev.room);
      if (r) r.joined = false;
      S.rooms.delete(ev.room);
      saveRooms();
      if (S.active === ev.room) show([...S.rooms.keys()][0] || "");
      render();
      break;
    }
    case "error":
      if (ev.code === "nick_taken") setup("That nick is in use or belongs to another device. Pick another.");
      else if (ev.code === "unauthorized") setup("This Roost needs an access token (" + ev.message + ").");
      else {
        // A refused join: the room is not followed after all.
        const r = S.rooms.get(ev.ref);
        if (r && !r.joined && !r.dm) { conn.rooms.delete(ev.ref); S.rooms.delete(ev.ref); saveRooms(); renderRooms(); }
        systemLine(r && r.joined ? ev.ref : S.active, ev.message + " (" + ev.code + ")");
      }
      break;
  }
}

function joined(ev) {
  const r = room(ev.room);
  r.joined = true;
  r.members = new Set(ev.members);
  r.reads = { ...ev.reads };
  if (r.epoch !== ev.epoch) { r.epoch = ev.epoch; r.seq = 0; r.sentRead = 0; r.first = 0; }
  r.oldest = ev.oldest;
  // A direct-message room is joined by the broker, at hello or when
  // someone starts a conversation: its newest message may be news.
  r.live = ev.recovered ? r.seq : r.dm ? ev.head - 1 : ev.head;
  joinedNotes(r, ev);
  loadDevices(r);
  saveRooms();
  if (!S.active || (S.pendingShow === ev.room)) { S.pendingShow = ""; show(ev.room); }
  render();
}

function message(m) {
  const r = room(m.room);
  const active = m.room === S.active;
  const pinned = active && atBottom();
  if (!place(r, m)) return;
  deviceMsg(r, m, m.seq > r.live);
  if (hidden(r, m)) return;
  clearTyping(r, m.from);
  const seen = S.read[m.room];
  const old = seen && seen.epoch === m.epoch && m.seq <= seen.seq;
  const mine = same(m.from, S.nick);
  if (pinned) trim(r);
  if (pinned && !document.hidden) markRead(r);
  else if (!old && !mine && counts(m, r.dm)) { r.unread++; renderRooms(); }
  if (active) { renderSeen(r); arrived(pinned || mine); }
  if (!old && !mine && m.seq > r.live) news(r, m);
}

// What is for the person: read out to a screen reader (people's messages in
// the room shown; direct messages, mentions and alerts anywhere) and, while
// the page is away, a notification (prefs.js).
function news(r, m) {
  const d = m.data || {};
  const alert = alertOf(m);
  // the bot's private Wordle rows are not news
  const dm = r.dm && !d.tiles;
  const mention = m.kind === "chat" && mentions(m.text, S.nick);
  const where = r.dm ? "" : " in # " + r.name;
  const what = alert ? (alert === "ok" ? "All clear" : "Alert") + where
    : m.from + (r.name === S.active ? "" : r.dm ? " (direct message)" : where);
  if (alert || dm || mention || (m.kind === "chat" && r.name === S.active)) announce(what + ": " + m.text);
  if (alert || dm || mention) tell(alert ? what : m.from + where, m.text, r.name);
}

function announce(text) {
  const a = $("announce");
  a.append(el("p", "", text));
  while (a.children.length > 3) a.firstElementChild.remove();
}

// ---- reading back: older history above the oldest shown ----
let loading = false;
async function older() {
  const r = S.rooms.get(S.active);
  const range = r && r.joined && !(r.dm && S.fallback) && olderRange(r.first, r.oldest, OLDER);
  if (!range || loading) return;
  loading = true;
  let wait = 0;
  try {
    const b = await conn.older(r.name, range);
    if (b.epoch !== r.epoch) throw new Error("another history");
    keepPlace(() => prepend(r, b, range.since));
    renderSeen(r);
  } catch (_) { wait = 3000; }
  setTimeout(() => { loading = false; if (r.name === S.active) check(); }, wait);
}

function clearTyping(r, nick) {
  if (!r.typing.has(nick)) return;
  clearTimeout(r.typing.get(nick));
  r.typing.delete(nick);
  if (r.name === S.active) renderTyping();
}

// ---- read receipts and unread counts ----
let readTimer = 0;
function markRead(r) {
  r.unread = 0;
  if (r.epoch && r.seq) {
    S.read[r.name] = { epoch: r.epoch, seq: r.seq };
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      store.set("read", S.read);
      if (r.epoch && r.seq > (r.sentRead || 0)) { conn.read(r.name, r.seq); r.sentRead = r.seq; }
    }, 300);
  }
  renderRooms();
}

// ---- what the person does ----
function join(name) {
  const r = room(name);
  conn.join(name);
  S.pendingShow = name;
  if (r.joined) show(name);
}

function openDm(nick) {
  if (same(nick, S.nick)) return;
  if (S.fallback) { systemLine(S.active, "direct messages need the live connection"); return; }
  const name = dmRoom(S.nick, nick);
  const r = room(name);
  r.peer = nick;
  if (!r.joined) conn.join(name);
  show(name);
}

// log.js's ResizeObserver: keeps a reader at the bottom there
let pin = null;
function show(name) {
  S.active = name;
  store.set("active", name);
  const r = S.rooms.get(name);
  closeMenu();
  $("log").replaceChildren(...(r ? [r.ol] : []));
  pin.disconnect();
  pin.observe($("log"));
  if (r) pin.observe(r.ol);
  $("title").textContent = r ? label(r) : "Roost";
  $("say-input").placeholder = r ? "Message " + label(r) : "Join a room first";
  toBottom();
  if (r) { markRead(r); renderSeen(r); }
  roomShown(r || null);
  togglePanel("", false);
  render();
  check();
}

const COMMANDS = [
  ["/join ROOM", "join or create a room"],
  ["/leave", "leave this room"],
  ["/dm NICK TEXT", "send a direct message"],
  ["/nick NEWNAME", "change your nick on this device"],
  ["/me ACTION", "say it as an action"],
  ["/help", "this list, then the broker's commands"],
];

function send(text) {
  const r = S.rooms.get(S.active);
  const [cmd, ...rest] = text.split(" ");
  const arg = rest.join(" ").trim();
  if (cmd === "/join") {
    const n = roomName(arg);
    if (n) join(n); else systemLine(S.active, "usage: /join ROOM (1-32 of a-z 0-9 _ -)");
    return;
  }
  if (cmd === "/leave") { if (r) conn.leave(r.name); return; }
  if (cmd === "/nick") {
    if (nickValid(arg)) { start(arg); } else systemLine(S.active, "usage: /nick NEWNAME. " + nickProblem(arg));
    return;
  }
  if (cmd === "/dm" || cmd === "/msg") {
    const [to, ...words] = arg.split(" ");
    if (!nickValid(to || "") || !words.length) { systemLine(S.active, "usage: /dm NICK TEXT"); return; }
    openDm(to);
    queue(S.rooms.get(dmRoom(S.nick, to)), words.join(" "));
    return;
  }
  if (cmd === "/help") {
    systemLine(S.active, "Commands on this page:\n" + COMMANDS.map((c) => c[0] + ": " + c[1]).join("\n"));
    // the broker's own list, answered by its bot
    if (r && !r.dm) queue(r, "/help");
    return;
  }
  if (!r) { systemLine(S.active, "join a room first: /join ROOM"); return; }
  queue(r, text);
}

function queue(r, text) {
  const to = r.dm ? peer(r) : undefined;
  const cid = conn.say(r.name, text, to);
  r.ol.append(pendingItem(text, S.nick, cid));
  if (r.name === S.active) toBottom();
}

function saveOutbox() { store.set("outbox", conn.outbox); }
function saveRooms() { store.set("rooms", [...conn.rooms]); }

// ---- the name menu: message or mention a nick ----
let menuFrom = null, menuAt = 0;
function openMenu(btn) {
  const m = $("nick-menu");
  closeMenu();
  menuFrom = btn;
  m.dataset.nick = btn.dataset.nick;
  m.setAttribute("aria-label", btn.dataset.nick);
  $("menu-dm").textContent = "Message " + btn.dataset.nick;
  $("menu-mention").textContent = "Mention " + btn.dataset.nick;
  $("menu-dm").disabled = S.fallback;
  m.hidden = false;
  const b = btn.getBoundingClientRect();
  m.style.left = Math.max(4, Math.min(b.left, innerWidth - m.offsetWidth - 4)) + "px";
  m.style.top = (b.bottom + m.offsetHeight > innerHeight ? b.top - m.offsetHeight : b.bottom) + "px";
  btn.setAttribute("aria-expanded", "true");
  menuAt = $("log").scrollTop;
  (S.fallback ? $("menu-mention") : $("menu-dm")).focus();
}

function closeMenu(refocus) {
  if (!menuFrom) return;
  $("nick-menu").hidden = true;
  menuFrom.setAttribute("aria-expanded", "false");
  if (refocus && menuFrom.isConnected) menuFrom.focus();
  menuFrom = null;
}

function mention(nick) {
  const input = $("say-input");
  input.value = (input.value.trimEnd() ? input.value.trimEnd() + " " : "") + "@" + nick + " ";
  togglePanel("", false);
  input.focus();
  grow();
}

// ---- rendering ----
function directory(list) {
  S.directory = new Map((list || []).map((x) => [x.room, x]));
}

function render() {
  renderRooms();
  renderPeople();
  renderTyping();
}

function roomButton(r, text, count) {
  const li = el("li");
  const b = button("room" + (r === S.active ? " active" : ""), text, "room", r);
  if (r === S.active) b.setAttribute("aria-current", "true");
  li.append(b);
  if (count) li.append(el("span", "count", count));
  return li;
}

function renderRooms() {
  const mine = [], dms = [], other = [];
  let total = 0;
  for (const r of S.rooms.values()) {
    total += r.unread;
    const badge = r.unread ? r.unread + " unread" : "";
    if (r.dm) dms.push(roomButton(r.name, label(r), badge));
    else {
      const d = S.directory.get(r.name);
      mine.push(roomButton(r.name, label(r), [r.members.size + " here", badge].filter(Boolean).join(" · ")));
      if (d) d.members = r.members.size;
    }
  }
  for (const d of S.directory.values()) {
    if (S.rooms.has(d.room)) continue;
    const seen = S.read[d.room];
    const unread = seen ? Math.max(0, d.head - seen.seq) : 0;
    other.push(roomButton(d.room, "# " + d.room, [d.members + " here", unread ? unread + " unread" : ""].filter(Boolean).join(" · ")));
  }
  $("joined-list").replaceChildren(...mine);
  $("dm-list").replaceChildren(...dms);
  $("other-list").replaceChildren(...other);
  const t = $("unread-total");
  t.hidden = total === 0;
  t.textContent = total;
  titleBadge(total);
}

function renderPeople() {
  const r = S.rooms.get(S.active);
  const people = r ? [...r.members].sort((a, b) => a.localeCompare(b)) : [];
  $("people-list").replaceChildren(...people.map((n) => {
    const li = el("li");
    li.append(nickButton(n, S.nick));
    if (same(n, S.nick)) li.append(el("span", "count", "you"));
    return li;
  }));
  $("count").textContent = r ? r.members.size : "";
  $("leave").hidden = !r;
}

function renderTyping() {
  const r = S.rooms.get(S.active);
  $("typing").textContent = r ? typingLine([...r.typing.keys()]) : "";
}

// The connection as a full-width banner (hidden while connected over
// WebSocket); while not connected, what is shown of others is stale.
let countdown = 0, lastState = "", lost = false;
function onStatus(s) {
  clearInterval(countdown);
  const more = s.reason ? s.reason + ". " : "";
  const text = () => {
    switch (s.state) {
      case "connected": return s.mode === "http" ? "Connected through plain HTTP" : "Connected";
      case "connecting": return "Connecting to Roost…";
      case "offline": return "You are offline.";
      case "reconnecting": return "Cannot reach Roost: trying again in " + Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000)) + " s.";
      default: return "Stopped.";
    }
  };
  const st = $("status");
  st.textContent = text();
  st.dataset.state = s.state;
  $("status-more").textContent = s.state === "connected" ? more
    : s.state === "stopped" ? more : more + "What you send waits here and goes when the link is back.";
  const up = s.state === "connected";
  $("banner").hidden = up && s.mode !== "http";
  $("banner").classList.toggle("info", up);
  document.body.classList.toggle("stale", !up);
  $("retry").hidden = s.state !== "reconnecting" && s.state !== "offline";
  if (s.state === "reconnecting") countdown = setInterval(() => { st.textContent = text(); }, 1000);
  if (!up) {
    for (const r of S.rooms.values()) { for (const t of r.typing.values()) clearTimeout(t); r.typing.clear(); }
    renderTyping();
  }
  if (!up && lastState === "connected") { lost = true; announce("Connection lost."); }
  if (up && lost) { lost = false; announce("Connected again."); }
  lastState = s.state;
}

function togglePanel(id, open) {
  for (const [p, b] of [["rooms", "rooms-btn"], ["people", "people-btn"]]) {
    const on = p === id && open;
    $(p).classList.toggle("open", on);
    $(b).setAttribute("aria-expanded", on);
  }
}

// ---- set-up: the nick, its key and the optional token ----
function setup(error) {
  conn.stop();
  $("setup").hidden = false;
  $("nick-input").value = S.nick;
  $("token-input").value = S.token;
  $("setup-error").textContent = error || "";
  $("nick-input").focus();
}

function start(nick) {
  if (!same(nick, S.nick) || !S.key) S.key = newKey();
  S.nick = nick;
  store.set("nick", nick);
  store.set("key", S.key);
  store.set("token", S.token);
  $("me").textContent = nick;
  $("setup").hidden = true;
  conn.start(S.nick, S.key, S.token);
}

// ---- wiring ----
let typingOn = false, typingSent = 0, typingStop = 0;
function typing(on) {
  const r = S.rooms.get(S.active);
  if (!r || (!on && !typingOn)) return;
  const now = Date.now();
  if (on && typingOn && now - typingSent < 3000) return;
  typingOn = on;
  typingSent = now;
  conn.typing(r.name, on);
}

// The input grows with its text up to its max-height (style.css), then scrolls.
function grow() {
  const input = $("say-input");
  input.style.height = "auto";
  input.style.height = input.scrollHeight + 2 + "px";
}

function wire() {
  $("nick-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const nick = $("nick-input").value.trim();
    const problem = nickProblem(nick);
    $("nick-input").setAttribute("aria-invalid", !!problem);
    if (problem) { $("setup-error").textContent = problem; $("nick-input").focus(); return; }
    S.token = $("token-input").value.trim();
    start(nick);
  });
  $("change-nick").addEventListener("click", () => setup());
  $("join-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = roomName($("join-input").value);
    $("join-error").textContent = n ? "" : "A room name is 1-32 of a-z, 0-9, _ and -, starting with a letter or digit.";
    if (!n) return;
    $("join-input").value = "";
    join(n);
  });
  const input = $("say-input");
  $("say-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    grow();
    clearTimeout(typingStop);
    typing(false);
    send(text);
  });
  // Enter sends on a keyboard (Shift+Enter: a new line); on a touch screen
  // Enter is a new line and the button sends (prefs.js, switchable).
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && enterSends()) { e.preventDefault(); $("say-form").requestSubmit(); }
  });
  input.addEventListener("input", () => {
    grow();
    // commands are not typing
    if (!input.value || input.value[0] === "/") { typing(false); return; }
    typing(true);
    clearTimeout(typingStop);
    typingStop = setTimeout(() => typing(false), 4000);
  });
  document.addEventListener("click", (e) => {
    const t = e.target.closest("button");
    if (!e.target.closest("#nick-menu")) closeMenu();
    if (!t) return;
    if (t.dataset.nick) openMenu(t);
    else if (t.id === "menu-dm") { openDm($("nick-menu").dataset.nick); closeMenu(); }
    else if (t.id === "menu-mention") { mention($("nick-menu").dataset.nick); closeMenu(); }
    else if (t.dataset.dismiss !== undefined) t.closest("li").remove();
    else if (t.dataset.room) { const n = t.dataset.room; if (S.rooms.has(n)) show(n); else join(n); }
  });
  $("rooms-btn").addEventListener("click", () => togglePanel("rooms", !$("rooms").classList.contains("open")));
  $("people-btn").addEventListener("click", () => togglePanel("people", !$("people").classList.contains("open")));
  $("leave").addEventListener("click", () => S.active && conn.leave(S.active));
  $("retry").addEventListener("click", () => conn.reconnectNow());
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { if (menuFrom) closeMenu(true); else togglePanel("", false); }
  });
  const readIfThere = () => { const r = S.rooms.get(S.active); if (r && atBottom()) markRead(r); };
  document.addEventListener("visibilitychange", () => { if (!document.hidden) readIfThere(); });
  pin = wireLog({ bottom: readIfThere, top: older });
  // The menu floats where its name was: it goes when the name scrolls away.
  $("log").addEventListener("scroll", () => { if (Math.abs($("log").scrollTop - menuAt) > 30) closeMenu(); }, { passive: true });
  wirePrefs(renderRooms);
  wireDevices(() => conn.headers());
  // Rooms and member counts of the rooms this page is not in.
  setInterval(() => {
    if (document.hidden || conn.state !== "connected") return;
    fetch("/api/rooms", { headers: conn.headers(), cache: "no-store" })
      .then((r) => (r.ok ? r.json() : null))
      .then((b) => { if (b) { directory(b.rooms); renderRooms(); } }, () => {});
  }, 30000);
  // Installable, and the page's own files while the broker is away (sw.js);
  // a tap on a notification asks for its room.
  const sw = navigator.serviceWorker;
  if (sw) {
    sw.register("/sw.js").catch(() => {});
    sw.addEventListener("message", (e) => { const n = e.data && e.data.room; if (S.rooms.has(n)) show(n); });
  }
}

function boot() {
  wire();
  for (const name of store.get("rooms", [])) { room(name); conn.rooms.add(name); }
  conn.outbox = store.get("outbox", []);
  const active = decodeURIComponent(location.hash.slice(1)) || store.get("active", "");
  for (const m of conn.outbox) {
    const r = room(m.room);
    r.ol.append(pendingItem(m.text, S.nick, m.cid));
  }
  if (S.rooms.has(active)) show(active);
  if (!nickValid(S.nick)) setup();
  else start(S.nick);
}

boot();
