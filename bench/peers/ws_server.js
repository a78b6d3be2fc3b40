'use strict';
// Peer server for the Roost benchmark: the broadcast chat server the Node
// `ws` tutorials write, speaking the subset of docs/protocol.md that the load
// generator uses (hello, join, say, ping). One JSON object per frame both ways.
//
//   node ws_server.js --port N      (0 = any free port)
//
// Prints exactly one line, "listening on port N", when it accepts
// connections. It keeps no history: `joined` reports the room's head and an
// empty range (oldest = head + 1), and nothing is replayed.

const { WebSocketServer, WebSocket } = require('ws');
const { parseArgs, exitOnSignal, EPOCH, BACKLOG } = require('./common');

const SERVER_NAME = 'node-ws';
const NICK_RE = /^[A-Za-z0-9_.-]{1,24}$/;
const ROOM_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const rooms = new Map(); // room name -> Set<ws> of its members
const heads = new Map(); // room name -> last seq given out (outlives the Set)

function send(ws, obj) {
  ws.send(JSON.stringify(obj));
}

function sendError(ws, code, message, ref) {
  const err = { type: 'error', code, message };
  if (ref !== undefined) err.ref = ref;
  send(ws, err);
}

function onHello(ws, state, m) {
  if (typeof m.nick !== 'string' || !NICK_RE.test(m.nick)) {
    sendError(ws, 'bad_request', 'nick: 1..24 of A-Z a-z 0-9 _ - .', 'hello');
    return;
  }
  state.nick = m.nick;
  send(ws, { type: 'welcome', nick: m.nick, server: SERVER_NAME });
}

function onJoin(ws, state, m) {
  const room = typeof m.room === 'string' ? m.room.toLowerCase() : '';
  if (!ROOM_RE.test(room)) {
    sendError(ws, 'bad_request', 'room: 1..32 of a-z 0-9 _ -', 'join');
    return;
  }
  let members = rooms.get(room);
  if (members === undefined) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(ws);
  state.rooms.add(room);
  const head = heads.get(room) || 0;
  send(ws, {
    type: 'joined',
    room,
    epoch: EPOCH,
    head,
    oldest: head + 1,
    members: Array.from(members, (c) => c.state.nick),
    reads: {},
    recovered: false,
  });
}

function onSay(ws, state, m) {
  const room = typeof m.room === 'string' ? m.room.toLowerCase() : '';
  const cid = typeof m.cid === 'string' ? m.cid : undefined;
  const ref = cid === undefined ? 'say' : cid;
  if (typeof m.text !== 'string' || m.text.length === 0) {
    sendError(ws, 'bad_request', 'text: a non-empty string', ref);
    return;
  }
  const members = rooms.get(room);
  if (members === undefined || !members.has(ws)) {
    sendError(ws, 'not_joined', 'join the room first', ref);
    return;
  }
  const seq = (heads.get(room) || 0) + 1;
  heads.set(room, seq);

  const ack = { type: 'ack' };
  if (cid !== undefined) ack.cid = cid;
  ack.room = room;
  ack.seq = seq;
  send(ws, ack);

  const msg = { type: 'msg', room, seq, ts: Date.now(), from: state.nick, kind: 'chat', text: m.text };
  if (cid !== undefined) msg.cid = cid;
  const str = JSON.stringify(msg); // serialized once, sent to every member
  for (const client of members) {
    if (client.readyState === WebSocket.OPEN) client.send(str);
  }
}

function onMessage(ws, data) {
  const state = ws.state;
  let m;
  try {
    m = JSON.parse(data);
  } catch {
    sendError(ws, 'bad_json', 'frame is not JSON');
    return;
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m) || typeof m.type !== 'string') {
    sendError(ws, 'bad_request', 'frame must be an object with a type');
    return;
  }
  if (m.type === 'ping') {
    send(ws, { type: 'pong' });
    return;
  }
  if (state.nick === null && m.type !== 'hello') {
    sendError(ws, 'bad_request', 'hello first', m.type);
    return;
  }
  switch (m.type) {
    case 'hello': onHello(ws, state, m); break;
    case 'join': onJoin(ws, state, m); break;
    case 'say': onSay(ws, state, m); break;
    default: sendError(ws, 'unknown_type', `unknown type ${m.type}`, m.type);
  }
}

function onClose(ws) {
  for (const room of ws.state.rooms) {
    const members = rooms.get(room);
    members.delete(ws);
    if (members.size === 0) rooms.delete(room);
  }
  ws.state.rooms.clear();
}

const { port } = parseArgs(process.argv);
const wss = new WebSocketServer({ host: '127.0.0.1', port, backlog: BACKLOG, perMessageDeflate: false });

wss.on('connection', (ws) => {
  ws.state = { nick: null, rooms: new Set() }; // per-connection state
  ws.on('message', (data) => onMessage(ws, data));
  ws.on('close', () => onClose(ws));
  ws.on('error', () => {}); // a broken peer is closed by ws; nothing to log
});

wss.on('listening', () => {
  process.stdout.write(`listening on port ${wss.address().port}\n`);
});

wss.on('error', (err) => {
  process.stderr.write(`ws_server: ${err.message}\n`);
  process.exit(1);
});

exitOnSignal((done) => {
  for (const client of wss.clients) client.close(1001, 'shutdown');
  wss.close(() => done());
});
