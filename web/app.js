// The chat page: state of the rooms this page follows, and what the person
// sees of it. The link to the broker is conn.js; DOM builders are view.js.
import { Conn } from "./conn.js";
import { dayKey, dmPeer, dmRoom, newKey, nickValid, roomName, seenBy, typingLine } from "./util.js";
import { dayItem, el, messageItem, nickButton, noteItem, pendingItem } from "./view.js";

const $ = (id) => document.getElementById(id);
const KEEP = 500;          // messages kept on the page per room, oldest dropped first
const TYPING_SHOW = 8000;  // a "typing" without a newer word expires after this
const store = {
  get(k, d) { try { const v = localStorage.getItem("roost." + k); return v === null ? d : JSON.parse(v); } catch (_) { return d; } },
  set(k, v) { try { localStorage.setItem("roost." + k, JSON.stringify(v)); } catch (_) { /* private mode */ } },
};

const S = {
  nick: store.get("nick", ""),
  key: store.get("key", ""),
  token: store.get("token", ""),
  rooms: new Map(),      // room -> R (rooms this page follows)
  directory: new Map(),  // room -> {members, head}: every plain room the broker has
  read: store.get("read", {}), // room -> {epoch, seq}: last seen here, for unread counts
  active: "",
  fallback: false,
};

// Per-room state: its own <ol> of messages, kept while another room shows.
function room(name) {
  let r = S.rooms.get(name);
  if (!r) {
    r = { name, dm: name[0] === "@", ol: el("ol", "messages"), keys: new Set(), members: new Set(),
      reads: {}, typing: new Map(), unread: 0, day: 0, epoch: "", seq: 0, series: new Map(), joined: false };
    S.rooms.set(name, r);
  }
  return r;
}

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
      if (li) {
        li.classList.replace("pending", "failed");
        li.querySelector(".note").textContent = "not sent: " + ev.message + " (" + ev.code + ")";
      }
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
  if (ev.gap) insert(r, noteItem("gap", "some messages were missed"));
  if (r.epoch !== ev.epoch) { r.epoch = ev.epoch; r.seq = 0; r.sentRead = 0; }
  saveRooms();
  if (!S.active || (S.pendingShow === ev.room)) { S.pendingShow = ""; show(ev.room); }
  render();
}

function message(m) {
  const r = room(m.room);
  const key = m.epoch + ":" + m.seq;
  if (r.keys.has(key)) return; // a replay overlapping what is shown
  r.keys.add(key);
  if (m.seq > r.seq) r.seq = m.seq;
  if (m.cid) pendingEl(m.room, m.cid)?.remove();
  const d = dayKey(m.ts);
  if (d !== r.day) { insert(r, dayItem(m.ts)); r.day = d; }
  const li = messageItem(m, S.nick, r.series);
  li.dataset.key = key;
  insert(r, li);
  while (r.ol.children.length > KEEP) {
    const first = r.ol.firstElementChild;
    if (first.dataset.key) r.keys.delete(first.dataset.key);
    first.remove();
  }
  clearTyping(r, m.from);
  const seen = S.read[m.room];
  const old = seen && seen.epoch === m.epoch && m.seq <= seen.seq;
  const mine = m.from.toLowerCase() === S.nick.toLowerCase();
  if (m.room === S.active && !document.hidden) markRead(r);
  else if (!old && !mine) { r.unread++; renderRooms(); }
  if (m.room === S.active) { renderSeen(r); scrollDown(); }
}

// Messages go above the pending ones (those stay at the bottom until stored).
function insert(r, li) {
  r.ol.insertBefore(li, r.ol.querySelector(".pending"));
}

// A pending message by cid: in `name` first, else in any room (a command's
// ack may name the room its answer went to).
function pendingEl(name, cid) {
  const sel = `li.pending[data-cid="${CSS.escape(cid)}"]`;
  const r = S.rooms.get(name);
  const li = r ? r.ol.querySelector(sel) : null;
  if (li) return li;
  for (const x of S.rooms.values()) { const o = x.ol.querySelector(sel); if (o) return o; }
  return null;
}

function systemLine(name, text) {
  const r = S.rooms.get(name);
  if (!r) return;
  insert(r, noteItem("system", text));
  if (name === S.active) scrollDown();
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

function renderSeen(r) {
  for (const s of r.ol.querySelectorAll(".seen")) s.remove();
  const shown = new Map();
  for (const li of r.ol.querySelectorAll(`li.msg[data-key^="${CSS.escape(r.epoch)}:"]`)) shown.set(+li.dataset.seq, li);
  for (const [seq, nicks] of seenBy(r.reads, shown.keys(), S.nick)) {
    shown.get(seq).append(el("div", "seen", "seen by " + nicks.join(", ")));
  }
}

// ---- what the person does ----
function join(name) {
  const r = room(name);
  conn.join(name);
  S.pendingShow = name;
  if (r.joined) show(name);
}

function openDm(nick) {
  if (nick.toLowerCase() === S.nick.toLowerCase()) return;
  if (S.fallback) { systemLine(S.active, "direct messages need the live connection"); return; }
  const name = dmRoom(S.nick, nick);
  const r = room(name);
  r.peer = nick;
  if (!r.joined) conn.join(name);
  show(name);
}

function show(name) {
  S.active = name;
  store.set("active", name);
  const r = S.rooms.get(name);
  $("log").replaceChildren(...(r ? [r.ol] : []));
  $("title").textContent = !r ? "Roost" : r.dm ? "@ " + (r.peer || dmPeer(name, S.nick)) : "# " + name;
  $("say-input").placeholder = r ? "Message " + $("title").textContent : "Join a room first";
  if (r) { markRead(r); renderSeen(r); }
  togglePanel("", false);
  render();
  scrollDown();
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
    if (nickValid(arg)) { start(arg); } else systemLine(S.active, "usage: /nick NEWNAME (1-24 of A-Z a-z 0-9 _ - .)");
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
    if (r && !r.dm) queue(r, "/help"); // the broker's own list, answered by its bot
    return;
  }
  if (!r) { systemLine(S.active, "join a room first: /join ROOM"); return; }
  queue(r, text);
}

function queue(r, text) {
  const to = r.dm ? r.peer || dmPeer(r.name, S.nick) : undefined;
  const cid = conn.say(r.name, text, to);
  r.ol.append(pendingItem(text, S.nick, cid));
  if (r.name === S.active) scrollDown();
}

function saveOutbox() { store.set("outbox", conn.outbox); }
function saveRooms() { store.set("rooms", [...conn.rooms]); }

// ---- rendering ----
function directory(list) {
  S.directory = new Map((list || []).map((x) => [x.room, x]));
}

function render() {
  renderRooms();
  renderPeople();
  renderTyping();
}

function roomButton(r, label, count) {
  const li = el("li");
  const b = el("button", "room" + (r === S.active ? " active" : ""), label);
  b.type = "button";
  b.dataset.room = r;
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
    if (r.dm) dms.push(roomButton(r.name, "@ " + (r.peer || dmPeer(r.name, S.nick)), badge));
    else {
      const d = S.directory.get(r.name);
      mine.push(roomButton(r.name, "# " + r.name, [r.members.size + " here", badge].filter(Boolean).join(" · ")));
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
  document.title = (total ? "(" + total + ") " : "") + "Roost";
}

function renderPeople() {
  const r = S.rooms.get(S.active);
  const people = r ? [...r.members].sort((a, b) => a.localeCompare(b)) : [];
  $("people-list").replaceChildren(...people.map((n) => {
    const li = el("li");
    li.append(nickButton(n, S.nick));
    if (n.toLowerCase() === S.nick.toLowerCase()) li.append(el("span", "count", "you"));
    return li;
  }));
  $("count").textContent = r ? r.members.size : "";
  $("leave").hidden = !r;
}

function renderTyping() {
  const r = S.rooms.get(S.active);
  $("typing").textContent = r ? typingLine([...r.typing.keys()]) : "";
}

function scrollDown() {
  const log = $("log");
  log.scrollTop = log.scrollHeight;
}

let countdown = 0;
function onStatus(s) {
  clearInterval(countdown);
  const text = () => {
    switch (s.state) {
      case "connected": return s.mode === "http" ? "connected (HTTP fallback)" : "connected";
      case "connecting": return "connecting…";
      case "offline": return "offline";
      case "reconnecting": return "reconnecting in " + Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000)) + " s";
      default: return s.reason ? "stopped: " + s.reason : "stopped";
    }
  };
  const st = $("status");
  st.textContent = text();
  st.title = s.reason || "";
  st.dataset.state = s.state;
  $("retry").hidden = s.state !== "reconnecting" && s.state !== "offline";
  if (s.state === "reconnecting") countdown = setInterval(() => { st.textContent = text(); }, 1000);
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
  if (nick.toLowerCase() !== S.nick.toLowerCase() || !S.key) S.key = newKey();
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

function wire() {
  $("nick-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const nick = $("nick-input").value.trim();
    if (!nickValid(nick)) { $("setup-error").textContent = "1-24 of A-Z a-z 0-9 _ - ."; return; }
    S.token = $("token-input").value.trim();
    start(nick);
  });
  $("change-nick").addEventListener("click", () => setup());
  $("join-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const n = roomName($("join-input").value);
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
    clearTimeout(typingStop);
    typing(false);
    send(text);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("say-form").requestSubmit(); }
  });
  input.addEventListener("input", () => {
    if (!input.value || input.value[0] === "/") { typing(false); return; } // commands are not typing
    typing(true);
    clearTimeout(typingStop);
    typingStop = setTimeout(() => typing(false), 4000);
  });
  document.addEventListener("click", (e) => {
    const t = e.target.closest("button");
    if (!t) return;
    if (t.dataset.nick) openDm(t.dataset.nick);
    else if (t.dataset.room) { const n = t.dataset.room; if (S.rooms.has(n)) show(n); else join(n); }
  });
  $("rooms-btn").addEventListener("click", () => togglePanel("rooms", !$("rooms").classList.contains("open")));
  $("people-btn").addEventListener("click", () => togglePanel("people", !$("people").classList.contains("open")));
  $("leave").addEventListener("click", () => S.active && conn.leave(S.active));
  $("retry").addEventListener("click", () => conn.reconnectNow());
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") togglePanel("", false); });
  document.addEventListener("visibilitychange", () => {
    const r = S.rooms.get(S.active);
    if (!document.hidden && r) markRead(r);
  });
  // Rooms and member counts of the rooms this page is not in.
  setInterval(() => {
    if (document.hidden || conn.state !== "connected") return;
    fetch("/api/rooms", { headers: conn.headers(), cache: "no-store" })
      .then((r) => (r.ok ? r.json() : null))
      .then((b) => { if (b) { directory(b.rooms); renderRooms(); } }, () => {});
  }, 30000);
}

function boot() {
  wire();
  for (const name of store.get("rooms", [])) { room(name); conn.rooms.add(name); }
  conn.outbox = store.get("outbox", []);
  const active = store.get("active", "");
  for (const m of conn.outbox) {
    const r = room(m.room);
    r.ol.append(pendingItem(m.text, S.nick, m.cid));
  }
  if (S.rooms.has(active)) show(active);
  if (!nickValid(S.nick)) setup();
  else start(S.nick);
}

boot();
