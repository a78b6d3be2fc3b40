#!/usr/bin/python3
"""End-to-end tests that start the real roost binary with the settings
they exercise, one server (or a few) each: SIGTERM and the epoch across
restarts, a slow consumer against a small ring, tokens, full tables,
connection limits, timeouts, IPv6 and the HTTP rate limit. The protocol on
one server with default settings is test_server.py.
usage: test_server_policies.py ROOST_BINARY"""

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, RawWs, Results, Roost, closed_by_server  # noqa: E402

BIN = sys.argv[1]
R = Results()
check = R.check
TOKEN = "sensorsecret0123456789"


async def shutdown_and_epoch(rs_args):
    rs = Roost(BIN, *rs_args).start()
    c = await Client.connect(rs, "zed")
    await c.send({"type": "join", "room": "ep"})
    j = await c.wait("joined")
    rs.proc.send_signal(signal.SIGTERM)
    bye = await c.wait("bye", timeout=5)
    try:
        await asyncio.wait_for(c.ws.wait_closed(), 5)
    except asyncio.TimeoutError:
        pass
    check("graceful shutdown: bye 1001, close 1001", bye["code"] == 1001 and c.ws.close_code == 1001)
    check("clean exit 0 after SIGTERM", rs.proc.wait(10) == 0)
    rs2 = Roost(BIN, *rs_args, data=rs.data).start()
    c2 = await Client.connect(rs2, "zed")
    await c2.send({"type": "join", "room": "ep", "since": {"epoch": j["epoch"], "seq": 0}})
    j2 = await c2.wait("joined")
    check("a restart with a data directory keeps the epoch (recovered: true)",
          j2["epoch"] == j["epoch"] and j2["recovered"] is True)
    await c2.close()
    rs2.stop()
    # Without a data directory history lives in memory: a restart starts a new one.
    mem = Roost(BIN, *rs_args, data=False).start()
    c3 = await Client.connect(mem, "zed")
    await c3.send({"type": "join", "room": "ep"})
    j3 = await c3.wait("joined")
    mem.stop()
    mem2 = Roost(BIN, *rs_args, data=False).start()
    c4 = await Client.connect(mem2, "zed")
    await c4.send({"type": "join", "room": "ep", "since": {"epoch": j3["epoch"], "seq": 0}})
    j4 = await c4.wait("joined")
    check("a restart without persistence changes the epoch", j4["epoch"] != j3["epoch"] and j4["recovered"] is False)
    check("... and says so at start", "history lives in memory only" in mem2.output())
    await c4.close()
    mem2.stop()


async def slow_consumer():
    # A small ring and no rate limit, so one test can overflow it quickly.
    # Under ASan, freed memory sits in a quarantine (256 MB by default) and
    # RSS would grow with every allocation lws makes and frees; without the
    # quarantine, RSS shows what the broker really holds.
    asan = dict(os.environ).get("ASAN_OPTIONS", "")
    rs = Roost(BIN, "--ring-msgs", "32", "--msg-rate", "100000", "--msg-burst", "100000",
               env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=0"}).start()
    fast = await Client.connect(rs, "fast")
    # The slow client: a plain socket with a small receive buffer that
    # joins and then stops reading.
    slow = RawWs(rs.http_port, rcvbuf=4096)
    slow.send({"type": "hello", "nick": "slow"})
    slow.send({"type": "join", "room": "firehose"})
    await fast.send({"type": "join", "room": "firehose"})
    await fast.wait("joined")
    pub = await Client.connect(rs, "pub")
    await pub.send({"type": "join", "room": "firehose"})
    await pub.wait("joined")
    text = "y" * 2000
    _, _, metrics = rs.http("GET", "/metrics")
    reserved_kb = int(re.search(r"^roost_memory_reserved_bytes (\d+)", metrics, re.M).group(1)) // 1024
    rss0 = rs.rss_kb()
    sent = 0
    culled_at = 0
    rss_culled = rss_max = rss0
    # Flood until the slow consumer is culled, then as much again: the core's
    # tables are reserved at start but their pages become resident as they
    # are first written, so RSS may rise by at most the reserved budget, and
    # must not rise at all once the ring has wrapped and the cull is done.
    while sent < 8000 and (not culled_at or sent < 2 * culled_at):
        for _ in range(8):
            await pub.send({"type": "say", "room": "firehose", "text": text})
        sent += 8
        await fast.wait("msg", room="firehose", seq=sent, timeout=10)
        await pub.wait("msg", room="firehose", seq=sent, timeout=10)  # the publisher reads its copies too
        fast.events = []
        pub.events = []
        if sent % 400 == 0:
            rss_max = max(rss_max, rs.rss_kb())
            if not culled_at:
                _, _, metrics = rs.http("GET", "/metrics")
                if "roost_culled_slow_total 1" in metrics:
                    culled_at, rss_culled = sent, rs.rss_kb()
    rss1 = rs.rss_kb()
    rss_max = max(rss_max, rss1)
    check("a slow consumer is culled while the others' messages keep flowing (%d sent)" % culled_at, culled_at > 0)
    check("RSS stays within the reserved budget during the flood (%d -> max %d KiB, %d KiB reserved)"
          % (rss0, rss_max, reserved_kb), rss_max - rss0 <= reserved_kb)
    check("RSS stays flat after the cull (%d -> %d KiB over %d more messages)" % (rss_culled, rss1, sent - culled_at),
          culled_at > 0 and rss1 - rss_culled < 1024)
    code = await asyncio.get_running_loop().run_in_executor(None, slow.close_code)
    check("the slow consumer is closed with 4008", code == 4008, "code %s" % code)
    await fast.close()
    await pub.close()
    rs.stop()

async def tokens():
    rs = Roost(BIN, "--token", "sensor %s rooms=sensors" % TOKEN).start()
    st, _, body = rs.http("POST", "/api/rooms/sensors/messages", b"x", {"Content-Type": "text/plain"})
    check("tokens configured: no token is 401", st == 401 and body["error"]["code"] == "unauthorized")
    st, _, body = rs.http("POST", "/api/rooms/sensors/messages", b"x",
                          {"Content-Type": "text/plain", "Authorization": "Bearer " + TOKEN})
    check("the token's room: 201, from the token's name", st == 201)
    st, _, body = rs.http("POST", "/api/rooms/other/messages", b"x",
                          {"Content-Type": "text/plain", "Authorization": "Bearer " + TOKEN})
    check("another room: 403", st == 403 and body["error"]["code"] == "forbidden")
    st, _, body = rs.http("GET", "/api/rooms/sensors/messages", None, {"Authorization": "Bearer " + TOKEN})
    check("reading with the token", st == 200 and body["messages"][0]["from"] == "sensor")
    st, _, _ = rs.http("GET", "/healthz")
    check("/healthz needs no token", st == 200)
    c = await Client.connect(rs)
    code = await c.error({"type": "hello", "nick": "x"})
    try:
        await asyncio.wait_for(c.ws.wait_closed(), 5)
    except asyncio.TimeoutError:
        pass
    check("hello without a token: unauthorized, then close 1008", code == "unauthorized" and c.ws.close_code == 1008)
    c = await Client.connect(rs)
    code = await c.error({"type": "hello", "nick": "x", "token": "wrong" + TOKEN})
    check("hello with a wrong token: unauthorized", code == "unauthorized")
    d = await Client.connect(rs)
    await d.send({"type": "hello", "nick": "probe", "token": TOKEN})
    await d.wait("welcome")
    check("hello with the token: welcome; other rooms are forbidden",
          await d.error({"type": "join", "room": "attic"}) == "forbidden")
    await d.send({"type": "join", "room": "sensors"})
    await d.wait("joined", room="sensors")
    await d.send({"type": "say", "room": "sensors", "text": "22.0", "cid": "t1"})
    ack = await d.wait("ack", cid="t1")
    check("the token's room over WebSocket: joined and ack", ack["seq"] == 2)
    await d.close()
    rs.stop()


async def tables_full():
    rs = Roost(BIN, "--max-rooms", "2", "--max-sessions", "2").start()
    a = await Client.connect(rs, "a1")
    for r in ("r1", "r2"):
        await a.send({"type": "join", "room": r})
        await a.wait("joined")
    check("a full room table: too_many_rooms", await a.error({"type": "join", "room": "r3"}) == "too_many_rooms")
    b = await Client.connect(rs, "b1")
    try:
        c = await Client.connect(rs, "c1")
        code = await c.error({"type": "ping"})
        check("a full session table refuses the connection", False, code)
    except Exception:
        check("a full session table refuses the connection", True)
    await a.close()
    await b.close()
    rs.stop()


def tcp(port, source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


async def connection_limits():
    # Total: beyond max_connections HTTP gets 503 and an upgrade is refused.
    rs = Roost(BIN, "--max-connections", "3").start()
    held = [RawWs(rs.http_port) for _ in range(3)]
    st, _, body = rs.http("GET", "/healthz")
    check("beyond max_connections: HTTP 503 server_busy", st == 503 and body["error"]["code"] == "server_busy",
          "%s %s" % (st, body))
    try:
        RawWs(rs.http_port)
        refused = False
    except (ConnectionError, OSError) as e:
        refused = "101" not in str(e)
    check("beyond max_connections: the WebSocket upgrade is refused", refused)
    held.pop().sock.close()
    time.sleep(0.3)
    st, _, _ = rs.http("GET", "/healthz")
    check("a freed connection is usable again", st == 200)
    for h in held:
        h.sock.close()
    rs.stop()
    # Per source address: the connection beyond max_per_address is closed at
    # once; another address still gets in.
    rs = Roost(BIN, "--max-per-address", "2").start()
    a, b = tcp(rs.http_port), tcp(rs.http_port)
    time.sleep(0.2)
    c = tcp(rs.http_port)
    check("beyond max_per_address: closed at accept", closed_by_server(c, 3))
    d = tcp(rs.http_port, source="127.0.0.2")
    d.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    d.settimeout(5)
    check("another source address is still served", d.recv(100).startswith(b"HTTP/1.1 200"))
    for x in (a, b, c, d):
        x.close()
    time.sleep(0.3)
    _, _, metrics = rs.http("GET", "/metrics")
    check("refusals are counted", 'roost_connections_refused_total{reason="per_address"} ' in metrics
          and 'roost_connections_refused_total{reason="per_address"} 0' not in metrics)
    rs.stop()


async def timeouts():
    # Slowloris: headers that never end, and a connection that says
    # nothing, are closed after handshake_timeout_s; a silent WebSocket that
    # never answers pings is closed at idle_timeout_s, while a client that
    # answers pings stays.
    rs = Roost(BIN, "--handshake-timeout-s", "2", "--idle-timeout-s", "10").start()
    slow = tcp(rs.http_port)
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ")
    mute = tcp(rs.http_port)
    t0 = time.time()
    check("unfinished headers are closed after the handshake timeout", closed_by_server(slow, 8))
    check("a silent connection is closed after the handshake timeout", closed_by_server(mute, 8))
    check("... within 2-8 s", 1.5 < time.time() - t0 < 8, "%.1f s" % (time.time() - t0))
    silent = RawWs(rs.http_port)
    silent.send({"type": "hello", "nick": "silent"})
    live = await Client.connect(rs, "live")
    t0 = time.time()
    loop = asyncio.get_running_loop()
    ops = []

    def drain_silent():
        silent.sock.settimeout(20)
        try:
            while True:
                ops.append(silent.frame()[0])
        except (EOFError, OSError):
            return time.time() - t0
    gone_after = await loop.run_in_executor(None, drain_silent)
    check("a WebSocket that never answers pings is pinged, then closed at the idle timeout",
          9 in ops and 8 <= gone_after <= 16, "ops %s after %.1f s" % (ops, gone_after))
    await live.send({"type": "ping"})
    await live.wait("pong")
    check("a client that answers pings stays connected", True)
    await live.close()
    rs.stop()


async def ipv6():
    # No bind address: every IPv4 and IPv6 address, both listeners.
    rs = Roost(BIN, bind=None).start()
    for url in ("http://127.0.0.1:%d/healthz" % rs.http_port, "http://[::1]:%d/healthz" % rs.http_port):
        out = subprocess.run(["curl", "-sS", url], capture_output=True, text=True)
        check("listening on every address: %s" % url, '"status":"ok"' in out.stdout, out.stderr)
    out = subprocess.run(["curl", "-sS", "--cacert", os.path.join(rs.data, "ca.crt"),
                          "https://localhost:%d/healthz" % rs.https_port, "--resolve",
                          "localhost:%d:[::1]" % rs.https_port], capture_output=True, text=True)
    check("HTTPS over IPv6 verifies (the certificate names ::1 too)", '"status":"ok"' in out.stdout, out.stderr)
    ws = await websockets.connect("ws://[::1]:%d/ws" % rs.http_port, subprotocols=["roost.v1"])
    c = Client(ws)
    await c.send({"type": "hello", "nick": "six"})
    check("WebSocket over IPv6", (await c.wait("welcome"))["nick"] == "six")
    await c.close()
    rs.stop()


def http_rate_limit():
    rs = Roost(BIN, "--addr-rate", "1", "--addr-burst", "2").start()
    h = {"Content-Type": "text/plain"}
    got = [rs.http("POST", "/api/rooms/meter/messages", b"tick", h) for _ in range(3)]
    st, hdrs, body = got[2]
    hdrs = {k.lower(): v for k, v in hdrs.items()}
    check("HTTP posts beyond the per-address rate: 429 rate_limited with Retry-After",
          [g[0] for g in got] == [201, 201, 429] and body["error"]["code"] == "rate_limited"
          and hdrs.get("retry-after", "").isdigit(), "%s %s" % ([g[0] for g in got], hdrs))
    st, _, body = rs.http("GET", "/api/rooms/meter/messages")
    check("a refused post stores nothing", body["head"] == 2)
    time.sleep(1.1)
    st, _, _ = rs.http("POST", "/api/rooms/meter/messages", b"tock", h)
    check("after Retry-After the address may post again", st == 201)
    rs.stop()

async def main():
    await R.run("shutdown and epoch", shutdown_and_epoch(()))
    await R.run("slow consumer", slow_consumer())
    await R.run("tokens", tokens())
    await R.run("tables full", tables_full())
    await R.run("connection limits", connection_limits())
    await R.run("timeouts", timeouts())
    await R.run("ipv6", ipv6())
    try:
        http_rate_limit()
    except Exception as e:
        check("http rate limit", False, repr(e))


asyncio.run(main())
sys.exit(R.finish())
