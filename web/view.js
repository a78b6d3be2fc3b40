// DOM builders of the page. Every string that came from the network goes
// into the page through textContent or an attribute set by name, never as
// markup, so a message is always text (the CSP allows no inline script).
import { alertOf, dayKey, dayLabel, sparkPath, splitLinks, timeLabel } from "./util.js";

const SVG = "http://www.w3.org/2000/svg";
// values kept per device and key per room
const SPARK_KEEP = 30;

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// A button that is not a form's submit, with one data- attribute.
export function button(cls, text, key, value = "") {
  const b = el("button", cls, text);
  b.type = "button";
  if (key) b.dataset[key] = value;
  return b;
}

// Text with its http(s) links made clickable, everything else as text.
export function richText(text) {
  const p = el("div", "text");
  for (const part of splitLinks(text)) {
    if (part.href) {
      const a = el("a", "", part.text);
      a.href = part.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      p.append(a);
    } else {
      p.append(part.text);
    }
  }
  return p;
}

// A nick in a message or the people list: another's opens the name menu
// (message, mention); one's own is plain text.
export function nickButton(nick, me) {
  if (nick.toLowerCase() === me.toLowerCase()) return el("span", "nick", nick);
  const b = button("nick", nick, "nick", nick);
  b.setAttribute("aria-controls", "nick-menu");
  b.setAttribute("aria-expanded", "false");
  return b;
}

// An SVG element with its attributes.
export function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

// A small chart w x h px described by `label`, drawing path `d`.
export function spark(d, label, w = 64, h = 18) {
  const s = svg("svg", { class: "spark", viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", "aria-label": label });
  s.append(svg("path", { class: "line", d }));
  return s;
}

// A reading's value as shown: yes/no, numbers in the viewer's locale.
export const fmt = (v) => (typeof v === "boolean" ? (v ? "yes" : "no") : typeof v === "number" ? v.toLocaleString() : String(v));

// A device's readings as a card; numeric keys get a sparkline of that
// device's recent values of that key in the room (`series`: Map "device
// key" -> values, updated here).
function readings(from, data, series) {
  const dl = el("dl", "readings");
  for (const [k, v] of Object.entries(data)) {
    const row = el("div", "reading");
    row.append(el("dt", "", k));
    const dd = el("dd", "", fmt(v));
    if (typeof v === "number" && Number.isFinite(v)) {
      const vals = series.get(from + " " + k) || [];
      vals.push(v);
      if (vals.length > SPARK_KEEP) vals.shift();
      series.set(from + " " + k, vals);
      if (vals.length > 1) dd.append(spark(sparkPath(vals, 64, 18), "recent values: " + vals.join(", ")));
    }
    row.append(dd);
    dl.append(row);
  }
  return dl;
}

// One stored message. `me` sets own messages apart; `series` feeds sparklines.
// A device's name is plain text: it is not a person to message or mention.
export function messageItem(m, me, series) {
  const own = m.from.toLowerCase() === me.toLowerCase() && m.kind === "chat";
  const li = el("li", "msg " + m.kind + (own ? " own" : ""));
  li.dataset.seq = m.seq;
  li.dataset.from = m.from;
  const meta = el("div", "meta");
  meta.append(m.kind === "device" ? el("span", "nick", m.from) : nickButton(m.from, me));
  const t = el("time", "", timeLabel(m.ts));
  t.dateTime = new Date(m.ts).toISOString();
  meta.append(t);
  li.append(meta);
  const d = m.data && typeof m.data === "object" ? m.data : null;
  if (m.kind === "bot" && d && d.tiles) {
    // A Wordle row: tiles drawn from data (letters only on the player's own board).
    li.append(tiles(d, false));
    const rest = m.text.split("\n").slice(1).join("\n");
    if (rest) li.append(richText(rest));
  } else if (m.text) {
    li.append(richText(m.text));
  }
  const a = alertOf(m);
  if (a) li.classList.add(a === "ok" ? "alert-ok" : "alert");
  if (m.kind === "device" && d) li.append(readings(m.from, d, series));
  return li;
}

// A Wordle row's tiles; `mine`: the letters come from the player's own
// direct messages and are shown on this page only.
export function tiles(d, mine) {
  const row = el("div", "tiles");
  row.setAttribute("role", "img");
  const names = { G: "right place", Y: "elsewhere in the word", "-": "not in the word" };
  const letters = typeof d.guess === "string" ? d.guess : "";
  const said = [];
  for (let i = 0; i < 5; i++) {
    const t = String(d.tiles)[i] || "-";
    row.append(el("span", "tile " + (t === "G" ? "g" : t === "Y" ? "y" : "x"), letters[i] || ""));
    said.push((letters[i] || "letter " + (i + 1)) + ": " + (names[t] || names["-"]));
  }
  const who = el("span", "tile-who", (d.nick ? d.nick + " " : "") + (d.row ? d.row + "/6" : "") +
    (mine ? " · your letters, only you see them" : ""));
  row.setAttribute("aria-label", said.join(", "));
  const wrap = el("div", "wordle");
  wrap.append(row, who);
  return wrap;
}

// A message typed here and not yet stored by the broker.
export function pendingItem(text, me, cid) {
  const li = el("li", "msg chat own pending");
  li.dataset.cid = cid;
  const meta = el("div", "meta");
  meta.append(el("span", "nick", me), el("span", "note", "sending…"));
  li.append(meta, richText(text));
  return li;
}

// A pending message the broker refused: says why, and can be dismissed.
export function refusedItem(li, why) {
  li.classList.replace("pending", "failed");
  li.querySelector(".note").textContent = "not sent: " + why;
  li.querySelector(".meta").append(button("link", "Dismiss", "dismiss"));
}

export function dayItem(ts) {
  const li = el("li", "day", dayLabel(ts));
  li.setAttribute("role", "separator");
  li.dataset.day = dayKey(ts);
  return li;
}

export function noteItem(cls, text) {
  return el("li", "note-line " + cls, text);
}
