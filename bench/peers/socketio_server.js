'use strict';
// Peer server for the Roost benchmark: the chat server the Socket.IO 4.8
// tutorials write (socket.join(room), io.to(room).emit(...)), WebSocket
// transport only. Events are named by the docs/protocol.md `type`: the client
// emits hello {nick}, join {room}, say {room, text, cid?} and ping; the server
// emits welcome, joined, ack, msg, pong and error, each with the same object
// the `ws` peer sends (its `type` field included), so a load generator parses
// one payload shape for both. README.md gives the framing a raw client speaks.
//
//   node socketio_server.js --port N [--ping-interval MS] [--ping-timeout MS]
//
// Prints exactly one line, "listening on port N", when it accepts
// connections. The ping options are Engine.IO's heartbeat (library defaults
// 25000 / 20000); only the self-test changes them.

const http = require('http');
const { Server } = require('socket.io');
const { parseArgs, exitOnSignal, EPOCH, BACKLOG } = require('./common');

const SERVER_NAME = 'socket.io';
const NICK_RE = /^[A-Za-z0-9_.-]{1,24}$/;
const ROOM_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const EVENTS = new Set(['hello', 'join', 'say', 'ping']);

const heads = new Map(); // room name -> last seq given out

const args = parseArgs(process.argv);
const httpServer = http.createServer();
const options = { transports: ['websocket'], perMessageDeflate: false, serveClient: false };
// Only when given: an explicit undefined would replace the library default
// (a 0 ms ping timer).
if (args.pingInterval !== undefined) options.pingInterval = args.pingInterval;
if (args.pingTimeout !== undefined) options.pingTimeout = args.pingTimeout;
const io = new Server(httpServer, options);

function sendError(socket, code, message, ref) {
  const err = { type: 'error', code, message };
  if (ref !== undefined) err.ref = ref;
  socket.emit('error', err);
}

function isObject(p) {
  return p !== null && typeof p === 'object' && !Array.isArray(p);
}

io.on('connection', (socket) => {
  socket.data.nick = null;

  // Runs before the named handlers: refuses unknown events and anything
  // but hello (or ping) before hello.
  socket.onAny((event) => {
    if (!EVENTS.has(event)) {
      sendError(socket, 'unknown_type', `unknown type ${event}`, String(event));
    } else if (socket.data.nick === null && event !== 'hello' && event !== 'ping') {
      sendError(socket, 'bad_request', 'hello first', event);
    }
  });

  socket.on('ping', () => {
    socket.emit('pong', { type: 'pong' });
  });

  socket.on('hello', (m) => {
    if (!isObject(m) || typeof m.nick !== 'string' || !NICK_RE.test(m.nick)) {
      sendError(socket, 'bad_request', 'nick: 1..24 of A-Z a-z 0-9 _ - .', 'hello');
      return;
    }
    socket.data.nick = m.nick;
    socket.emit('welcome', { type: 'welcome', nick: m.nick, server: SERVER_NAME });
  });

  socket.on('join', (m) => {
    if (socket.data.nick === null) return;
    const room = isObject(m) && typeof m.room === 'string' ? m.room.toLowerCase() : '';
    if (!ROOM_RE.test(room)) {
      sendError(socket, 'bad_request', 'room: 1..32 of a-z 0-9 _ -', 'join');
      return;
    }
    socket.join(room);
    const ids = io.sockets.adapter.rooms.get(room);
    const head = heads.get(room) || 0;
    socket.emit('joined', {
      type: 'joined',
      room,
      epoch: EPOCH,
      head,
      oldest: head + 1,
      members: Array.from(ids, (id) => io.sockets.sockets.get(id).data.nick),
      reads: {},
      recovered: false,
    });
  });

  socket.on('say', (m) => {
    if (socket.data.nick === null) return;
    if (!isObject(m)) {
      sendError(socket, 'bad_request', 'say takes an object', 'say');
      return;
    }
    const room = typeof m.room === 'string' ? m.room.toLowerCase() : '';
    const cid = typeof m.cid === 'string' ? m.cid : undefined;
    const ref = cid === undefined ? 'say' : cid;
    if (typeof m.text !== 'string' || m.text.length === 0) {
      sendError(socket, 'bad_request', 'text: a non-empty string', ref);
      return;
    }
    if (!socket.rooms.has(room)) {
      sendError(socket, 'not_joined', 'join the room first', ref);
      return;
    }
    const seq = (heads.get(room) || 0) + 1;
    heads.set(room, seq);

    const ack = { type: 'ack' };
    if (cid !== undefined) ack.cid = cid;
    ack.room = room;
    ack.seq = seq;
    socket.emit('ack', ack);

    const msg = { type: 'msg', room, seq, ts: Date.now(), from: socket.data.nick, kind: 'chat', text: m.text };
    if (cid !== undefined) msg.cid = cid;
    io.to(room).emit('msg', msg); // encoded once by the adapter, sent to every member
  });
});

httpServer.on('error', (err) => {
  process.stderr.write(`socketio_server: ${err.message}\n`);
  process.exit(1);
});

httpServer.listen(args.port, '127.0.0.1', BACKLOG, () => {
  process.stdout.write(`listening on port ${httpServer.address().port}\n`);
});

exitOnSignal((done) => {
  io.close(() => done());
});
