'use strict';
// What the two peer servers share and that is not chat logic: the command
// line, the one "listening on port N" line a bench script reads, and a
// clean exit on SIGTERM/SIGINT.

// --port N (0 = any free port, the default). Exits 2 on a bad argument.
// --ping-interval MS / --ping-timeout MS are read too; only the Socket.IO
// peer uses them (Engine.IO heartbeat), and only the self-test sets them.
function parseArgs(argv) {
  const out = { port: 0, pingInterval: undefined, pingTimeout: undefined };
  const names = { '--port': 'port', '--ping-interval': 'pingInterval', '--ping-timeout': 'pingTimeout' };
  for (let i = 2; i < argv.length; i += 1) {
    const key = names[argv[i]];
    const value = Number(argv[i + 1]);
    if (key === undefined || !Number.isInteger(value) || value < 0 || (key === 'port' && value > 65535)) {
      process.stderr.write(`usage: ${argv[1]} [--port N] [--ping-interval MS] [--ping-timeout MS]\n`);
      process.exit(2);
    }
    out[key] = value;
    i += 1;
  }
  return out;
}

// Calls close(done) on the first SIGTERM or SIGINT; exits 0 when done is
// called, or after graceMs if a peer does not finish its close handshake.
function exitOnSignal(close, graceMs = 1000) {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), graceMs).unref();
    close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// A short name for one unbroken history: these peers keep no history across
// restarts, so every start is a new epoch.
const EPOCH = Date.now().toString(36);

// Pending connections the kernel may queue (capped by net.core.somaxconn);
// Node's default of 511 drops SYNs when a load generator opens 10,000
// connections at once.
const BACKLOG = 4096;

module.exports = { parseArgs, exitOnSignal, EPOCH, BACKLOG };
