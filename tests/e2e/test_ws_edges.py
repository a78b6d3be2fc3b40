#!/usr/bin/python3
"""WebSocket edges against the real roost binary: every frame answered once
under randomized bursts (backpressure instead of lost acks), hello within
handshake_timeout_s, Origin checked against this machine's own names (DNS
rebinding), RFC 6455 failures closed with 1002, welcome's limits and its
room list under tokens.  usage: test_ws_edges.py ROOST_BINARY [ITERATIONS]"""

import asyncio
import base64
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, RawWs, Roost, check, checks_exit  # noqa: E402

BIN = sys.argv[1]
ITERATIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
TOKEN = "kitchensecret0123456789"
ALL = "everythingsecret0123456789"


def events_of(payload):
    data = json.loads(payload)
    return data if isinstance(data, list) else [data]


def burst_answers(port, seed, iterations):
    """Randomized bursts on one connection whose reader is slow and small:
    says with and without cid, malformed frames, pings, typing. Every say
    and every bad frame must get exactly one ack or error, every ping one
    pong, whatever the interleaving."""
    rng = random.Random(seed)
    ws = RawWs(port, rcvbuf=4096)
    ws.send({"type": "hello", "nick": "burst"})
    ws.send({"type": "join", "room": "burst"})
    ws.sock.settimeout(20)
    n_frames = n_answers = 0
    problems = []
    for it in range(iterations):
        expect = {}  # cid -> answers seen
        pings = 0
        uncid = 0
        size = rng.choice((1, 2, 8, 32, 128, 128, 200))
        for _ in range(size):
            r = rng.random()
            if r < 0.6:
                cid = "i%d-%d" % (it, len(expect))
                expect[cid] = 0
                ws.send({"type": "say", "room": "burst", "cid": cid, "text": "x" * rng.randint(1, 400)})
            elif r < 0.7:
                uncid += 1
                ws.send({"type": "say", "room": "burst", "text": "no cid"})
            elif r < 0.8:
                cid = "e%d-%d" % (it, len(expect))
                expect[cid] = 0
                ws.send({"type": "say", "room": "nowhere", "cid": cid, "text": "not joined"})
            elif r < 0.9:
                pings += 1
                ws.send({"type": "ping"})
            else:
                ws.send({"type": "typing", "room": "burst", "on": True})
        n_frames += size
        # Read until everything is answered; slowly now and then.
        got_pongs = got_uncid = 0
        deadline = time.time() + 20
        while (any(v == 0 for v in expect.values()) or got_pongs < pings or got_uncid < uncid) \
                and time.time() < deadline:
            if rng.random() < 0.05:
                time.sleep(0.01)
            try:
                op, payload = ws.frame()
            except (OSError, EOFError):
                break
            if op != 1:
                problems.append("iteration %d: opcode %d" % (it, op))
                break
            for e in events_of(payload):
                t = e.get("type")
                if t in ("ack", "error"):
                    key = e.get("cid") or e.get("ref")
                    if key in expect:
                        expect[key] += 1
                        n_answers += 1
                    elif t == "ack" and "cid" not in e:
                        got_uncid += 1
                        n_answers += 1
                    else:
                        problems.append("iteration %d: unexpected %s" % (it, e))
                elif t == "pong":
                    got_pongs += 1
                elif t == "bye":
                    problems.append("iteration %d: bye %s" % (it, e))
        missing = [k for k, v in expect.items() if v == 0]
        doubled = [k for k, v in expect.items() if v > 1]
        if missing or doubled or got_pongs != pings or got_uncid != uncid:
            problems.append("iteration %d (seed %d): %d unanswered, %d doubled, pongs %d/%d, acks without cid %d/%d"
                            % (it, seed, len(missing), len(doubled), got_pongs, pings, got_uncid, uncid))
        if problems:
            break
    ws.sock.close()
    return n_frames, n_answers, problems


async def hello_deadline():
    rs = Roost(BIN, "--handshake-timeout-s", "2", "--max-sessions", "4", "--token", "t %s rooms=*" % ALL,
               data=False).start()
    try:
        silent = [RawWs(rs.http_port) for _ in range(4)]
        start = time.time()
        codes = [s.close_code(timeout=10) for s in silent]
        took = time.time() - start
        check("4 sockets that never say hello are closed 1008 (%.1f s)" % took, codes == [1008] * 4, codes)
        for s in silent:
            s.sock.close()
        await asyncio.sleep(0.5)  # the broker sees the sockets go
        c = await Client.connect(rs)
        await c.send({"type": "hello", "nick": "late", "token": ALL})
        w = await c.wait("welcome")
        check("then a client with a valid token gets welcome", w["nick"] == "late")
        await asyncio.sleep(3)
        await c.send({"type": "ping"})
        await c.wait("pong")
        check("a session that said hello is not closed by the hello deadline", True)
        await c.close()
    finally:
        rs.stop()


def upgrade(port, origin=None, host=None):
    """The status line of a WebSocket upgrade with the given Origin/Host."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (host or "127.0.0.1:%d" % port, key))
    if origin:
        req += "Origin: %s\r\n" % origin
    s.sendall((req + "\r\n").encode())
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    return data.split(b"\r\n")[0].decode("latin-1")


def origins():
    rs = Roost(BIN, data=False).start()
    port = rs.http_port
    try:
        line = upgrade(port, origin="http://evil.example:%d" % port, host="evil.example:%d" % port)
        check("DNS rebinding: Host and Origin evil.example are refused", " 101 " not in line, line)
        check("an Origin of this machine (127.0.0.1) is taken", " 101 " in upgrade(port, "http://127.0.0.1:%d" % port))
        check("an Origin of this machine (localhost) is taken", " 101 " in upgrade(port, "http://localhost:%d" % port))
        check("no Origin (a device, a script) is taken", " 101 " in upgrade(port))
        check("this machine on another port is refused", " 101 " not in upgrade(port, "http://127.0.0.1:1"))
        check("https:// on the http port is refused", " 101 " not in upgrade(port, "https://127.0.0.1:%d" % port))
        check("Origin: null is refused", " 101 " not in upgrade(port, "null"))
    finally:
        rs.stop()
    check("a refused Origin is logged with how to allow it", "add it to the origins setting" in rs.output())
    rs = Roost(BIN, "--origins", "http://chat.example:8080", data=False).start()
    try:
        check("an Origin named in origins is taken",
              " 101 " in upgrade(rs.http_port, "http://chat.example:8080", host="chat.example:8080"))
    finally:
        rs.stop()


def rfc6455(port):
    # An unmasked text frame, and one with RSV1 set (no extension agreed).
    for what, frame in (("an unmasked client frame", bytes([0x81, 0x02]) + b"{}"),
                        ("RSV1 without an extension", bytes([0xC1, 0x82]) + b"\0\0\0\0{}")):
        ws = RawWs(port)
        ws.sock.sendall(frame)
        check(what + " fails the connection with 1002", ws.close_code() == 1002)
        ws.sock.close()


async def welcome_and_tokens():
    rs = Roost(BIN, "--rooms-per-session", "3", "--token", "kitchen %s rooms=kitchen" % TOKEN,
               "--token", "all %s rooms=*" % ALL, data=False).start()
    try:
        a = await Client.connect(rs)
        await a.send({"type": "hello", "nick": "ann", "token": ALL})
        w = await a.wait("welcome")
        check("welcome.limits has rooms_per_session", w["limits"].get("rooms_per_session") == 3, w["limits"])
        for room in ("kitchen", "private", "third"):
            await a.send({"type": "join", "room": room})
            await a.wait("joined", room=room)
        await a.send({"type": "join", "room": "fourth"})
        e = await a.wait("error")
        check("rooms_per_session + 1 joins answer too_many_rooms", e["code"] == "too_many_rooms", e)
        b = await Client.connect(rs)
        await b.send({"type": "hello", "nick": "bob", "token": TOKEN})
        w = await b.wait("welcome")
        check("welcome.rooms lists only the rooms the token may read",
              [r["room"] for r in w["rooms"]] == ["kitchen"], w["rooms"])
        await a.close()
        await b.close()
    finally:
        rs.stop()


async def main():
    rs = Roost(BIN, "--msg-rate", "1000000", "--msg-burst", "1000000", "--control-bytes", "1024",
               "--error-limit", "10000", data=False).start()
    try:
        seed = int(os.environ.get("ROOST_BURST_SEED", random.randrange(1 << 30)))
        start = time.time()
        frames, answers, problems = burst_answers(rs.http_port, seed, ITERATIONS)
        check("%d randomized bursts (%d frames, seed %d): every say and bad frame answered exactly once, every "
              "ping ponged, in %.0f s" % (ITERATIONS, frames, seed, time.time() - start), not problems, problems[:3])
        rfc6455(rs.http_port)
    finally:
        code = rs.stop()
    check("roost exits 0 after the bursts", code == 0, rs.output()[-2000:])
    await hello_deadline()
    origins()
    await welcome_and_tokens()
    return checks_exit()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
