// The page's link to the broker, as a phone on Wi-Fi lives it.
//
// One WebSocket (`/ws`, subprotocol roost.v1) while it works; when it cannot
// get as far as `welcome` twice in a row but plain HTTP answers, the page
// falls back to Server-Sent Events plus POST (no presence, typing or direct
// messages there) and tries the WebSocket again every minute.
//
// Contract with the page (app.js): Conn calls `on(event)` with the
// protocol's server events ("welcome", "joined", "msg", "presence",
// "typing", "read", "ack", "left", "error"); every `msg` carries the epoch of
// its room's history, so (epoch, seq) names it exactly. `joined` carries
// `gap: true` when a room this page had followed came back with history
// missing (docs/protocol.md: `recovered` false). `status(s)` reports
// {state: connecting | connected | reconnecting | offline | stopped,
// mode: ws | http, retryAt, reason}. Messages go through an outbox: each
// keeps its `cid` and is sent again after every reconnect until the broker
// acks or refuses it (the broker's cid rule makes a retry store nothing).
import { backoff, newCid } from "./util.js";

// Ping every PING_MS when connected; a link silent for DEAD_MS is taken as
// dead and reopened; in the HTTP fallback, try the WebSocket every PROBE_MS.
const PING_MS = 20000;
const DEAD_MS = 45000;
const PROBE_MS = 60000;
const FIRST_BACKLOG = 50;

export class Conn {
  constructor(on, status) {
    this.on = on;
    this.status = status;
    // rooms to be in (plain and direct-message)
    this.rooms = new Set();
    // room -> {epoch, seq}: the newest message seen
    this.pos = new Map();
    // rooms whose `join` with `since` is unanswered
    this.waiting = new Set();
    // {cid, room, to?, text}
    this.outbox = [];
    this.limits = { ring: 256, backlog: 50, max_text: 2048 };
    this.mode = "ws";
    this.state = "stopped";
    this.attempt = 0;
    // WebSockets in a row closed before `welcome`
    this.noWelcome = 0;
    // room -> EventSource (HTTP fallback)
    this.sources = new Map();
    // bumps on every (re)connect: stale callbacks check it
    this.gen = 0;
    addEventListener("online", () => this.state !== "stopped" && this.state !== "connected" && this.reconnectNow());
    addEventListener("offline", () => this.setState("offline"));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.state === "reconnecting") this.reconnectNow();
    });
  }

  start(nick, key, token) {
    Object.assign(this, { nick, key, token });
    this.stop();
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.gen++;
    this.closeAll();
    clearTimeout(this.retryTimer);
    this.setState("stopped");
  }

  reconnectNow() {
    clearTimeout(this.retryTimer);
    this.closeAll();
    this.connect();
  }

  setState(state, extra = {}) {
    this.state = state;
    this.status({ state, mode: this.mode, ...extra });
  }

  connect() {
    const g = ++this.gen;
    if (!navigator.onLine) {
      this.setState("offline");
      this.retry(g);
      return;
    }
    this.setState("connecting");
    if (this.mode === "http") this.httpConnect(g);
    else this.openWs(g, false);
  }

  // Schedules the next attempt with backoff; the status shows when.
  retry(g, reason) {
    if (g !== this.gen) return;
    this.closeAll();
    const delay = backoff(this.attempt++);
    const at = Date.now() + delay;
    if (navigator.onLine) this.setState("reconnecting", { retryAt: at, reason });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => g === this.gen && this.connect(), delay);
  }

  closeAll() {
    this.gathered(new Error("disconnected"));
    clearInterval(this.pingTimer);
    clearTimeout(this.probeTimer);
    for (const ws of [this.ws, this.probe]) {
      if (ws) { ws.onclose = ws.onmessage = ws.onopen = null; try { ws.close(); } catch (_) { /* closing */ } }
    }
    this.ws = this.probe = null;
    for (const es of this.sources.values()) es.close();
    this.sources.clear();
    this.waiting.clear();
  }

  // ---- WebSocket ----
  openWs(g, probe) {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    let ws;
    try { ws = new WebSocket(url, "roost.v1"); } catch (_) { this.wsFailed(g, probe); return; }
    let welcomed = false;
    if (probe) this.probe = ws; else this.ws = ws;
    ws.onopen = () => {
      const hello = { type: "hello", nick: this.nick, key: this.key };
      if (this.token) hello.token = this.token;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (e) => {
      if (g !== this.gen) return;
      this.heard = Date.now();
      let v;
      try { v = JSON.parse(e.data); } catch (_) { return; }
      for (const ev of Array.isArray(v) ? v : [v]) {
        if (ev.type === "welcome") {
          welcomed = true;
          if (probe) this.adopt(ws);
          this.welcome(g, ev);
        } else if (ws === this.ws) {
          this.handle(ev);
        }
      }
    };
    ws.onclose = (e) => {
      if (g !== this.gen) return;
      if (probe) { if (this.probe === ws) this.probe = null; return; }
      if (ws !== this.ws) return;
      this.ws = null;
      if (this.fatal) { this.setState("stopped", { reason: this.fatal }); return; }
      if (!welcomed) { this.wsFailed(g, false); return; }
      // 4008: we fell behind the ring; come straight back and recover.
      if (e.code === 4008) this.attempt = 0;
      this.retry(g, e.code === 1001 ? "the broker is restarting" : "");
    };
  }

  wsFailed(g, probe) {
    if (probe) return;
    if (++this.noWelcome >= 2) {
      // Does plain HTTP pass where the WebSocket does not?
      fetch("/healthz", { cache: "no-store" }).then((r) => {
        if (g !== this.gen) return;
        if (r.ok) { this.mode = "http"; this.attempt = 0; this.connect(); } else this.retry(g);
      }, () => this.retry(g));
      return;
    }
    this.retry(g);
  }

  // The probe WebSocket reached `welcome`: leave the HTTP fallback for it.
  adopt(ws) {
    for (const es of this.sources.values()) es.close();
    this.sources.clear();
    this.probe = null;
    this.ws = ws;
    this.mode = "ws";
  }

  send(obj) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  welcome(g, ev) {
    this.attempt = 0;
    this.noWelcome = 0;
    this.fatal = "";
    this.limits = { ...this.limits, ...ev.limits };
    this.heard = Date.now();
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (g !== this.gen) return;
      if (Date.now() - this.heard > DEAD_MS) { this.retry(g, "no answer from the broker"); return; }
      this.send({ type: "ping" });
    }, PING_MS);
    this.on(ev);
    this.setState("connected");
    // Plain rooms are joined again with `since`; the broker itself joins
    // this nick to its direct-message rooms at hello (see handle()).
    for (const room of this.rooms) if (room[0] !== "@") this.sendJoin(room);
    for (const m of this.outbox) this.sendOut(m);
  }

  sendJoin(room) {
    const p = this.pos.get(room);
    const j = { type: "join", room, backlog: FIRST_BACKLOG };
    if (p && p.epoch) {
      j.since = { epoch: p.epoch, seq: p.seq };
      j.backlog = this.limits.ring;
      this.waiting.add(room);
    }
    this.send(j);
  }

  handle(ev) {
    switch (ev.type) {
      case "joined": {
        if (this.gather && this.gather.room === ev.room) { this.gather.oldest = ev.oldest; this.gather.epoch = ev.epoch; break; }
        const p = this.pos.get(ev.room);
        this.rooms.add(ev.room);
        let gap = false;
        if (this.waiting.delete(ev.room)) {
          gap = !ev.recovered;
        } else if (p && p.epoch) {
          // Joined by the broker (a direct-message room at hello or a new
          // DM): its replay is the newest `backlog` only. If that leaves a
          // hole in the same history, ask for exact recovery.
          const first = Math.max(ev.oldest, ev.head - this.limits.backlog + 1);
          if (p.epoch !== ev.epoch) gap = true;
          else if (first > p.seq + 1) this.sendJoin(ev.room);
        }
        const same = p && p.epoch === ev.epoch;
        this.pos.set(ev.room, { epoch: ev.epoch, seq: same ? p.seq : 0 });
        this.on({ ...ev, gap });
        break;
      }
      case "msg": {
        const g = this.gather;
        if (g && g.room === ev.room && ev.seq < g.before) { g.messages.push(ev); if (ev.seq === g.before - 1) this.gathered(); break; }
        if (g && g.room === ev.room) this.gathered();
        this.seen(ev);
        break;
      }
      case "left": this.rooms.delete(ev.room); this.on(ev); break;
      case "ack": this.done(ev.cid, ev); break;
      case "error":
        if (ev.code === "nick_taken" || ev.code === "unauthorized") this.fatal = ev.code;
        if (ev.ref && this.outbox.some((m) => m.cid === ev.ref)) {
          if (ev.code === "rate_limited") { setTimeout(() => this.resend(ev.ref), 1500); break; }
          this.done(ev.ref, null, ev);
        } else this.on(ev);
        break;
      case "pong": break;
      default: this.on(ev);
    }
  }

  seen(ev) {
    const p = this.pos.get(ev.room) || { epoch: "", seq: 0 };
    if (ev.seq > p.seq) p.seq = ev.seq;
    this.pos.set(ev.room, p);
    this.on({ ...ev, epoch: p.epoch });
  }

  // ---- older history, for reading back ----
  // Resolves to {epoch, oldest, messages} with the stored messages of `room`
  // in `range` (util.js olderRange: seq since+1 .. since+limit), or rejects.
  // Plain rooms ask the HTTP API. Direct-message rooms are never readable
  // over HTTP, so the page joins them again with `since`: the broker replays
  // from there to the newest; what is older than asked for is gathered here,
  // the rest goes on as usual (the page drops what it already shows).
  async older(room, range) {
    if (room[0] !== "@") {
      const p = this.pos.get(room);
      const r = await fetch("/api/rooms/" + room + "/messages?since=" + range.since + "&limit=" + range.limit +
        (p && p.epoch ? "&epoch=" + encodeURIComponent(p.epoch) : ""), { headers: this.headers(), cache: "no-store" });
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }
    const p = this.pos.get(room);
    if (this.gather || !p || !this.send({ type: "join", room, since: { epoch: p.epoch, seq: range.since }, backlog: this.limits.ring })) {
      throw new Error("not now");
    }
    return new Promise((resolve, reject) => {
      const g = { room, before: range.since + range.limit + 1, messages: [], epoch: p.epoch, resolve, reject };
      g.timer = setTimeout(() => this.gathered(new Error("no answer")), 10000);
      this.gather = g;
    });
  }

  gathered(err) {
    const g = this.gather;
    if (!g) return;
    this.gather = null;
    clearTimeout(g.timer);
    if (err) g.reject(err); else g.resolve(g);
  }

  // ---- outbox ----
  // Queues a message for `room` (a direct message when `to` is set) and
  // sends it now if the link is up. Returns its cid.
  say(room, text, to) {
    const m = { cid: newCid(), room, text };
    if (to) m.to = to;
    this.outbox.push(m);
    this.sendOut(m);
    this.on({ type: "outbox" });
    return m.cid;
  }

  sendOut(m) {
    if (this.mode === "http" && !this.ws) { this.post(m); return; }
    if (m.to) this.send({ type: "dm", to: m.to, text: m.text, cid: m.cid });
    else this.send({ type: "say", room: m.room, text: m.text, cid: m.cid });
  }

  resend(cid) {
    const m = this.outbox.find((x) => x.cid === cid);
    if (m) this.sendOut(m);
  }

  done(cid, ack, err) {
    const i = this.outbox.findIndex((m) => m.cid === cid);
    if (i < 0) return;
    const [m] = this.outbox.splice(i, 1);
    this.on({ type: "outbox" });
    this.on(err ? { type: "refused", cid, room: m.room, code: err.code, message: err.message } : ack);
  }

  join(room) {
    this.rooms.add(room);
    if (this.mode === "http" && !this.ws) this.httpJoin(this.gen, room);
    else this.sendJoin(room);
  }

  leave(room) {
    this.rooms.delete(room);
    this.pos.delete(room);
    const es = this.sources.get(room);
    if (es) { es.close(); this.sources.delete(room); this.on({ type: "left", room }); return; }
    if (!this.send({ type: "leave", room })) this.on({ type: "left", room });
  }

  typing(room, on) { this.send({ type: "typing", room, on }); }
  read(room, seq) { this.send({ type: "read", room, seq }); }

  // ---- HTTP fallback: GET for history, SSE for live, POST to send ----
  headers() {
    return this.token ? { Authorization: "Bearer " + this.token } : {};
  }

  httpConnect(g) {
    fetch("/api/rooms", { headers: this.headers(), cache: "no-store" }).then(
      async (r) => {
        if (g !== this.gen) return;
        if (!r.ok) { this.retry(g); return; }
        const body = await r.json();
        this.attempt = 0;
        this.on({ type: "welcome", nick: this.nick, rooms: body.rooms, limits: this.limits, fallback: true });
        this.setState("connected", { reason: "HTTP fallback: no presence, typing or direct messages" });
        for (const room of this.rooms) if (room[0] !== "@") this.httpJoin(g, room);
        for (const m of this.outbox) this.post(m);
        this.probeTimer = setTimeout(() => g === this.gen && !this.probe && this.openWs(g, true), PROBE_MS);
      },
      () => this.retry(g));
  }

  async httpJoin(g, room) {
    if (room[0] === "@") return;
    const p = this.pos.get(room);
    let q = "limit=" + (p && p.epoch ? this.limits.ring : FIRST_BACKLOG);
    if (p && p.epoch) q += "&since=" + p.seq + "&epoch=" + encodeURIComponent(p.epoch);
    let r, body;
    try {
      r = await fetch("/api/rooms/" + room + "/messages?" + q, { headers: this.headers(), cache: "no-store" });
      body = await r.json();
    } catch (_) { this.retry(g); return; }
    if (g !== this.gen || !this.rooms.has(room)) return;
    if (r.status === 404) {
      // Nobody has written there yet; the room exists once someone does.
      this.on({ type: "joined", room, epoch: "", head: 0, oldest: 1, members: [], reads: {}, recovered: false, gap: false });
      setTimeout(() => g === this.gen && this.httpJoin(g, room), 10000);
      return;
    }
    if (!r.ok) { this.on({ type: "error", code: body.error.code, message: body.error.message, ref: room }); return; }
    const same = p && p.epoch === body.epoch;
    this.pos.set(room, { epoch: body.epoch, seq: same ? p.seq : 0 });
    this.on({ type: "joined", room, epoch: body.epoch, head: body.head, oldest: body.oldest,
      members: [], reads: {}, recovered: body.recovered, gap: !!(p && p.epoch) && !body.recovered });
    for (const m of body.messages) this.seen({ type: "msg", ...m });
    const es = new EventSource("/api/rooms/" + room + "/events?since=" + this.pos.get(room).seq);
    this.sources.set(room, es);
    es.addEventListener("msg", (e) => {
      if (g !== this.gen) return;
      try { this.seen({ type: "msg", ...JSON.parse(e.data) }); } catch (_) { /* not JSON: skip */ }
    });
    es.onerror = () => { es.close(); if (this.sources.get(room) === es) this.retry(g, "lost the event stream"); };
  }

  async post(m) {
    // direct messages wait for the WebSocket
    if (m.to) return;
    const g = this.gen;
    let r, body;
    try {
      r = await fetch("/api/rooms/" + m.room + "/messages", {
        method: "POST",
        headers: { ...this.headers(), "Content-Type": "application/json", "Idempotency-Key": m.cid },
        body: JSON.stringify({ text: m.text, from: this.nick, cid: m.cid }),
      });
      body = await r.json();
    // stays queued; sent again after the reconnect
    } catch (_) { return; }
    if (g !== this.gen && r.status >= 500) return;
    if (r.ok) this.done(m.cid, { type: "ack", cid: m.cid, room: m.room, seq: body.seq });
    else if (r.status < 500 && r.status !== 429) this.done(m.cid, null, body.error);
  }
}
