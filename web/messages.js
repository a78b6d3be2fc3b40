// One room's list of messages (r.ol): live messages in order below, older
// history put above with its day lines, the notes that explain the list
// (the start of the history, an empty room, missed messages, readings
// shown elsewhere), the person's own Wordle letters, read receipts, and
// dropping the oldest.
// Messages are keyed by (epoch, seq), so a replay never shows one twice.
import { toBottom } from "./log.js";
import { readingsInChat } from "./prefs.js";
import { S, peer, same } from "./state.js";
import { dayKey, seenBy } from "./util.js";
import { dayItem, el, messageItem, noteItem, tiles } from "./view.js";

// list items kept per room while the reader is at the bottom, oldest dropped first
const KEEP = 500;
// the person's own Wordle rows with letters, from the bot's direct messages
const guesses = [];
const ofEpoch = (r) => `li.msg[data-key^="${CSS.escape(r.epoch + ":")}"]`;

// A device's reading (a device's post with data) that this page shows only
// under Devices (prefs.js). A device's post of text alone stays in the chat.
export const hidden = (r, m) => m.kind === "device" && !!m.data && !readingsInChat(r.name);

// Puts a live message at the bottom; false if it is shown already. A hidden
// reading is not put in the list (the first one leaves a note saying where
// readings are), so readings never push people's messages off the page.
export function place(r, m) {
  const key = m.epoch + ":" + m.seq;
  if (r.keys.has(key)) return false;
  if (m.seq > r.seq) r.seq = m.seq;
  r.ol.querySelector(".empty")?.remove();
  if (hidden(r, m)) {
    if (!r.told) insert(r, noteItem("", "Readings are under Devices (at the top); alerts show here."));
    r.told = 1;
    return true;
  }
  r.keys.add(key);
  if (m.cid) pendingEl(m.room, m.cid)?.remove();
  const d = dayKey(m.ts);
  if (d !== r.day) { insert(r, dayItem(m.ts)); r.day = d; }
  insert(r, item(r, m, r.series));
  if (!r.first) { r.first = m.seq; startMarker(r); }
  return true;
}

// The notes a `joined` brings: missed messages, or what an empty room is.
export function joinedNotes(r, ev) {
  if (ev.gap) insert(r, noteItem("gap", "some messages were missed"));
  if (ev.head || r.ol.querySelector("li.msg:not(.pending), .empty")) return;
  r.ol.prepend(noteItem("empty", r.dm
    ? "Only you and " + peer(r) + " can read what is said here."
    : "# " + r.name + " is empty so far. What is said here stays for everyone who joins: tell people its name " +
      "(they join with /join " + r.name + "). /help lists the commands, games and bots."));
}

// A stored message as a list item; the person's own Wordle rows get their letters.
function item(r, m, series) {
  const li = messageItem(m, S.nick, series);
  li.dataset.key = m.epoch + ":" + m.seq;
  const d = m.data;
  if (!d || !d.tiles) return li;
  if (r.dm && d.guess) {
    guesses.push({ w: d.row + d.tiles, guess: d.guess, ts: m.ts });
    if (guesses.length > 60) guesses.shift();
    for (const x of S.rooms.values()) for (const t of x.ol.querySelectorAll(`li[data-w="${d.row + d.tiles}"]`)) letters(t);
  } else if (!r.dm && same(d.nick || "", S.nick)) {
    li.dataset.w = d.row + d.tiles;
    li.dataset.ts = m.ts;
    letters(li);
  }
  return li;
}

// The bot's direct message and the room's row of one guess are stored at
// the same moment with the same row and tiles: that pairs them.
function letters(li) {
  const g = guesses.find((x) => x.w === li.dataset.w && Math.abs(x.ts - li.dataset.ts) < 5000);
  if (!g || li.dataset.own) return;
  li.dataset.own = "1";
  const w = li.dataset.w;
  li.querySelector(".wordle").replaceWith(tiles({ nick: S.nick, row: +w[0], tiles: w.slice(1), guess: g.guess }, true));
}

// Messages go above the pending ones (those stay at the bottom until stored).
export function insert(r, li) {
  r.ol.insertBefore(li, r.ol.querySelector(".pending"));
}

// The top of this epoch's messages: the first one, or the day line above it.
function top(r) {
  const f = r.ol.querySelector(ofEpoch(r));
  const p = f && f.previousElementSibling;
  return p && p.classList.contains("day") ? p : f;
}

function startMarker(r) {
  if (!r.first || r.first > r.oldest || r.ol.querySelector(".start")) return;
  const what = r.dm ? "your messages with " + peer(r) : "# " + r.name;
  r.ol.insertBefore(noteItem("start", r.oldest > 1 ? what + " keeps only its newest messages: older ones are gone."
    : "This is the start of " + what + "."), top(r));
}

// Drops the oldest items beyond KEEP; only while the reader is at the bottom.
export function trim(r) {
  let n = r.ol.children.length - KEEP;
  if (n <= 0) return;
  while (n-- > 0) {
    const x = r.ol.firstElementChild;
    if (x.dataset.key) r.keys.delete(x.dataset.key);
    x.remove();
  }
  const f = r.ol.querySelector(ofEpoch(r));
  r.first = f ? +f.dataset.seq : 0;
  if (f && f === r.ol.firstElementChild) r.ol.prepend(dayItem(Date.parse(f.querySelector("time").dateTime)));
}

// Older history ({epoch, oldest, messages} from conn.older, asked for the
// seqs after `since`) above the oldest shown; a day line shared with the
// one below is drawn once.
export function prepend(r, b, since) {
  r.oldest = b.oldest;
  const all = b.messages.filter((m) => m.seq < r.first && !r.keys.has(r.epoch + ":" + m.seq));
  const msgs = all.filter((m) => !hidden(r, m));
  r.ol.querySelector(".start")?.remove();
  let at = top(r), day = 0;
  const items = [], series = new Map();
  for (const m of msgs) {
    m.epoch = r.epoch;
    r.keys.add(r.epoch + ":" + m.seq);
    if (dayKey(m.ts) !== day) { day = dayKey(m.ts); items.push(dayItem(m.ts)); }
    items.push(item(r, m, series));
  }
  if (at && at.classList.contains("day") && +at.dataset.day === day) { const next = at.nextElementSibling; at.remove(); at = next; }
  for (const x of items) r.ol.insertBefore(x, at);
  // Hidden readings included, and seqs no longer held (readings that left
  // their ring) passed over: the next page is older than all of them.
  r.first = all.length ? all[0].seq : since + 1;
  startMarker(r);
}

export function renderSeen(r) {
  for (const s of r.ol.querySelectorAll(".seen")) s.remove();
  const shown = new Map();
  for (const li of r.ol.querySelectorAll(ofEpoch(r))) shown.set(+li.dataset.seq, li);
  const list = [...shown].map(([seq, li]) => [seq, li.dataset.from]);
  for (const [seq, nicks] of seenBy(r.reads, list, S.nick)) {
    shown.get(seq).append(el("div", "seen", "seen by " + nicks.join(", ")));
  }
}

// A pending message by cid: in `name` first, else in any room (a command's
// ack may name the room its answer went to).
export function pendingEl(name, cid) {
  const sel = `li.pending[data-cid="${CSS.escape(cid)}"]`;
  const r = S.rooms.get(name);
  const li = r ? r.ol.querySelector(sel) : null;
  if (li) return li;
  for (const x of S.rooms.values()) { const o = x.ol.querySelector(sel); if (o) return o; }
  return null;
}

export function systemLine(name, text) {
  const r = S.rooms.get(name);
  if (!r) return;
  insert(r, noteItem("system", text));
  if (name === S.active) toBottom();
}
