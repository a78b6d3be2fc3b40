#!/usr/bin/python3
"""Self-test of the benchmark's peer servers (ws_server.js, socketio_server.js).

Run with Debian's interpreter, which has python3-websockets:

    /usr/bin/python3 bench/peers/selftest.py

For each server: start it on a free port, read its "listening on port N"
line, connect three raw WebSocket clients (for Socket.IO, the Engine.IO v4 /
Socket.IO v5 framing written by hand, exactly as README.md documents it),
hello / join / say, and check that every member gets each `msg` exactly once
with the right fields and each sender its `ack`. Then the error answers,
ping/pong, the Engine.IO heartbeat, and a clean exit on SIGTERM. Prints one
ok/FAIL line per check and "N passed, N failed"; exits 1 on any failure.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = shutil.which("node") or "node"
NICKS = ("alice", "bob", "carol")
ROOM = "lobby"
MSG_KEYS = {"type", "room", "seq", "ts", "from", "kind", "text", "cid"}
SIO_PING_MS = 300  # Engine.IO heartbeat for the test, so it is seen in a short run

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))
    return cond


class Server:
    """A peer server in a child process; port is read from its one line."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen([NODE, os.path.join(HERE, script), "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on port "):
            self.proc.kill()
            raise RuntimeError(f"{script} did not start: {line!r} {self.proc.stderr.read()!r}")
        self.port = int(line.split()[-1])
        self.first_line = line

    def stop(self, timeout=5.0):
        """SIGTERM; returns the exit code, or None if it had to be killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


class Client:
    """One raw WebSocket connection; a reader task collects the events."""

    def __init__(self, name):
        self.name = name
        self.events = []  # decoded event objects, in arrival order
        self.problems = []  # framing errors seen by the reader
        self.changed = asyncio.Event()
        self.ws = None
        self.reader = None

    async def _start_reader(self):
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for frame in self.ws:
                if not isinstance(frame, str):
                    self.problems.append(f"binary frame {frame!r}")
                    continue
                self.on_frame(frame)
                self.changed.set()
        except websockets.ConnectionClosed:
            pass
        self.changed.set()

    async def wait_for(self, pred, timeout=3.0):
        """Events matching pred once at least one has arrived, or [] at timeout."""
        deadline = time.monotonic() + timeout
        while True:
            got = [e for e in self.events if pred(e)]
            left = deadline - time.monotonic()
            if got or left <= 0 or self.ws.closed:
                return got
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def take(self, pred):
        """Removes and returns the collected events that match pred."""
        got = [e for e in self.events if pred(e)]
        self.events = [e for e in self.events if not pred(e)]
        return got

    async def close(self):
        await self.ws.close()
        await self.reader


class WsClient(Client):
    """docs/protocol.md over WebSocket: one JSON object per frame (or an array)."""

    async def connect(self, port, subprotocols=None):
        self.ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws", subprotocols=subprotocols,
                                           ping_interval=None, compression=None)
        await self._start_reader()

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    def on_frame(self, frame):
        try:
            value = json.loads(frame)
        except ValueError:
            self.problems.append(f"not JSON: {frame!r}")
            return
        self.events.extend(value if isinstance(value, list) else [value])


class SioClient(Client):
    """Socket.IO v5 over Engine.IO v4, WebSocket transport, framed by hand.

    Every Engine.IO packet is one text frame: a digit (0 open, 1 close,
    2 ping, 3 pong, 4 message), then its data. A Socket.IO packet rides in a
    message: "4" + Socket.IO type digit (0 CONNECT, 2 EVENT, ...) + JSON.
    """

    def __init__(self, name, answer_pings=True):
        super().__init__(name)
        self.answer_pings = answer_pings
        self.open = None  # the server's Engine.IO open packet
        self.connected = None  # the CONNECT reply's data ({"sid": ...})
        self.pings = 0

    async def connect(self, port):
        self.ws = await websockets.connect(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
                                           ping_interval=None, compression=None)
        first = await asyncio.wait_for(self.ws.recv(), 3)
        if not (isinstance(first, str) and first.startswith("0{")):
            raise RuntimeError(f"expected the Engine.IO open packet, got {first!r}")
        self.open = json.loads(first[1:])
        await self.ws.send("40")  # Socket.IO CONNECT to the main namespace "/"
        reply = await asyncio.wait_for(self.ws.recv(), 3)
        if not (isinstance(reply, str) and reply.startswith("40{")):
            raise RuntimeError(f"expected 40{{...}}, got {reply!r}")
        self.connected = json.loads(reply[2:])
        await self._start_reader()

    async def send(self, obj):
        """Emits obj as the event named by its type; the rest is the argument."""
        args = {k: v for k, v in obj.items() if k != "type"}
        packet = [obj["type"], args] if args else [obj["type"]]
        await self.ws.send("42" + json.dumps(packet, separators=(",", ":")))

    async def _pong(self):
        try:
            await self.ws.send("3")
        except websockets.ConnectionClosed:
            pass

    def on_frame(self, frame):
        if frame == "2":  # Engine.IO ping from the server: answer pong "3"
            self.pings += 1
            if self.answer_pings:
                asyncio.ensure_future(self._pong())
            return
        if not frame.startswith("42"):
            self.problems.append(f"unexpected packet {frame!r}")
            return
        try:
            name, payload = json.loads(frame[2:])
        except ValueError:
            self.problems.append(f"bad event packet {frame!r}")
            return
        if not isinstance(payload, dict) or payload.get("type") != name:
            self.problems.append(f"event {name!r} carries {payload!r}")
            return
        self.events.append(payload)


def of_type(t):
    return lambda e: e.get("type") == t


async def chat_checks(tag, clients, server_name):
    """hello, join, one say per client; every msg exactly once, every ack."""
    for c, nick in zip(clients, NICKS):
        await c.send({"type": "hello", "nick": nick})
        got = await c.wait_for(of_type("welcome"))
        check(f"{tag}: {nick} welcome", got == [{"type": "welcome", "nick": nick, "server": server_name}], got)
        c.take(of_type("welcome"))

    for i, c in enumerate(clients):
        await c.send({"type": "join", "room": ROOM.upper() if i == 1 else ROOM})
        got = await c.wait_for(of_type("joined"))
        want_members = sorted(NICKS[: i + 1])
        ok = (len(got) == 1 and got[0].get("room") == ROOM and isinstance(got[0].get("epoch"), str)
              and got[0].get("head") == 0 and got[0].get("oldest") == 1
              and sorted(got[0].get("members", [])) == want_members
              and got[0].get("reads") == {} and got[0].get("recovered") is False)
        check(f"{tag}: {NICKS[i]} joined {ROOM} with members {want_members}", ok, got)
        c.take(of_type("joined"))

    t0 = time.time() * 1000
    for i, c in enumerate(clients):
        await c.send({"type": "say", "room": ROOM, "text": f"hi from {NICKS[i]} \u00e9\u2603", "cid": f"c{i}"})
        # wait for the ack so seq follows the order of the says
        await c.wait_for(of_type("ack"))
    for c in clients:
        deadline = time.monotonic() + 3
        while len([e for e in c.events if e.get("type") == "msg"]) < 3 and time.monotonic() < deadline:
            await c.wait_for(lambda e: False, 0.05)
    await asyncio.sleep(0.3)  # room for a duplicate to show up
    t1 = time.time() * 1000

    for i, c in enumerate(clients):
        acks = c.take(of_type("ack"))
        check(f"{tag}: {NICKS[i]} got its ack once", acks == [{"type": "ack", "cid": f"c{i}", "room": ROOM, "seq": i + 1}], acks)
        msgs = c.take(of_type("msg"))
        check(f"{tag}: {NICKS[i]} got 3 msg, seq 1..3 in order", [m.get("seq") for m in msgs] == [1, 2, 3], msgs)
        for m in msgs:
            j = m.get("seq", 0) - 1
            ok = (set(m) == MSG_KEYS and 0 <= j < 3 and m["room"] == ROOM and m["from"] == NICKS[j]
                  and m["kind"] == "chat" and m["text"] == f"hi from {NICKS[j]} \u00e9\u2603"
                  and m["cid"] == f"c{j}" and isinstance(m["ts"], int) and t0 - 1000 <= m["ts"] <= t1 + 1000)
            check(f"{tag}: {NICKS[i]} msg seq {m.get('seq')} fields", ok, m)
        check(f"{tag}: {NICKS[i]} nothing else arrived", c.events == [] and c.problems == [], (c.events, c.problems))


async def error_checks(tag, c, bad_json):
    await c.send({"type": "ping"})
    got = await c.wait_for(of_type("pong"))
    check(f"{tag}: ping -> pong", got == [{"type": "pong"}], got)
    c.take(of_type("pong"))

    await c.send({"type": "frobnicate", "x": 1})
    got = await c.wait_for(of_type("error"))
    check(f"{tag}: unknown type -> error unknown_type", len(got) == 1 and got[0].get("code") == "unknown_type", got)
    c.take(of_type("error"))

    await c.send({"type": "say", "room": "elsewhere", "text": "x", "cid": "n1"})
    got = await c.wait_for(of_type("error"))
    check(f"{tag}: say to a room not joined -> error not_joined",
          len(got) == 1 and got[0].get("code") == "not_joined" and got[0].get("ref") == "n1", got)
    c.take(of_type("error"))

    if bad_json:
        await c.ws.send("{not json")
        got = await c.wait_for(of_type("error"))
        check(f"{tag}: bad JSON -> error bad_json", len(got) == 1 and got[0].get("code") == "bad_json", got)
        c.take(of_type("error"))
        await c.ws.send("[1,2]")
        got = await c.wait_for(of_type("error"))
        check(f"{tag}: JSON that is not an object -> error bad_request",
              len(got) == 1 and got[0].get("code") == "bad_request", got)
        c.take(of_type("error"))
    check(f"{tag}: still connected after client errors", not c.ws.closed)


async def late_hello_check(tag, make_client, port):
    c = make_client("early")
    await c.connect(port)
    await c.send({"type": "join", "room": ROOM})
    got = await c.wait_for(of_type("error"))
    check(f"{tag}: join before hello -> error bad_request", len(got) == 1 and got[0].get("code") == "bad_request", got)
    await c.close()


async def sigterm_check(tag, server, clients):
    rc = await asyncio.get_running_loop().run_in_executor(None, server.stop)
    check(f"{tag}: exits 0 on SIGTERM with clients connected", rc == 0, f"rc={rc}")
    for c in clients:
        try:
            await asyncio.wait_for(c.reader, 3)
        except asyncio.TimeoutError:
            pass
    closed = [c.ws.close_code for c in clients]
    check(f"{tag}: clients closed by the server", all(code is not None for code in closed), closed)


async def test_ws():
    tag = "ws"
    server = Server("ws_server.js")
    try:
        check(f"{tag}: prints 'listening on port N' (N={server.port})", server.first_line == f"listening on port {server.port}\n")
        clients = [WsClient(n) for n in NICKS]
        for i, c in enumerate(clients):
            await c.connect(server.port, subprotocols=["roost.v1"] if i == 0 else None)
        check(f"{tag}: subprotocol roost.v1 accepted when offered", clients[0].ws.subprotocol == "roost.v1")
        await chat_checks(tag, clients, "node-ws")
        await error_checks(tag, clients[0], bad_json=True)
        await late_hello_check(tag, WsClient, server.port)
        await sigterm_check(tag, server, clients)
    finally:
        server.stop()


async def test_socketio_defaults():
    """Without the ping options the library's heartbeat (25 s / 20 s) is kept."""
    tag = "socket.io"
    server = Server("socketio_server.js")
    try:
        c = SioClient("plain")
        await c.connect(server.port)
        await asyncio.sleep(0.3)
        check(f"{tag}: default open packet has pingInterval 25000, pingTimeout 20000 and no early ping",
              c.open.get("pingInterval") == 25000 and c.open.get("pingTimeout") == 20000 and c.pings == 0
              and not c.ws.closed, (c.open, c.pings))
        await c.close()
    finally:
        server.stop()


async def test_socketio():
    tag = "socket.io"
    server = Server("socketio_server.js", "--ping-interval", str(SIO_PING_MS), "--ping-timeout", str(SIO_PING_MS))
    try:
        check(f"{tag}: prints 'listening on port N' (N={server.port})", server.first_line == f"listening on port {server.port}\n")
        clients = [SioClient(n) for n in NICKS]
        for c in clients:
            await c.connect(server.port)
        o = clients[0].open
        check(f"{tag}: open packet 0{{sid, upgrades:[], pingInterval, pingTimeout, maxPayload}}",
              isinstance(o.get("sid"), str) and o.get("upgrades") == [] and o.get("pingInterval") == SIO_PING_MS
              and o.get("pingTimeout") == SIO_PING_MS and isinstance(o.get("maxPayload"), int), o)
        check(f"{tag}: '40' answered by 40{{\"sid\": ...}}", isinstance(clients[0].connected.get("sid"), str), clients[0].connected)
        await chat_checks(tag, clients, "socket.io")
        await error_checks(tag, clients[0], bad_json=False)
        await late_hello_check(tag, SioClient, server.port)

        # Heartbeat: a client that answers "2" with "3" stays; one that does
        # not is closed after pingInterval + pingTimeout.
        mute = SioClient("mute", answer_pings=False)
        await mute.connect(server.port)
        await asyncio.sleep(4 * SIO_PING_MS / 1000)
        await clients[1].send({"type": "ping"})
        got = await clients[1].wait_for(of_type("pong"))
        check(f"{tag}: a client answering ping '2' with '3' stays connected ({clients[1].pings} pings)",
              clients[1].pings >= 2 and got == [{"type": "pong"}] and not clients[1].ws.closed, (clients[1].pings, got))
        clients[1].take(of_type("pong"))
        try:
            await asyncio.wait_for(mute.reader, 3)
        except asyncio.TimeoutError:
            pass
        check(f"{tag}: a client that never answers '2' is closed", mute.ws.closed and mute.pings >= 1, mute.pings)
        await sigterm_check(tag, server, clients)
    finally:
        server.stop()


async def main():
    for test in (test_ws, test_socketio_defaults, test_socketio):
        try:
            await test()
        except Exception as exc:  # a crash is one failure, the other server still runs
            check(f"{test.__name__} ran to the end", False, repr(exc))


if __name__ == "__main__":
    asyncio.run(main())
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
