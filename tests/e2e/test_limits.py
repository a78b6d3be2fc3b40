#!/usr/bin/python3
"""Limits and settings against the real roost binary: answers that stay
whole for large room lists and rooms (welcome, joined, GET /api/rooms,
/metrics), descriptors that run out (a low open-file limit at start, and
one lowered under a running broker), settings that must start or exit 2
naming the setting, a bind that fails, the certificate's lifetime.
usage: test_limits.py ROOST_BINARY"""

import asyncio
import datetime
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, RawHttp, Roost, check, checks_exit  # noqa: E402

BIN = sys.argv[1]
FAST = ["--msg-rate", "1000000", "--msg-burst", "1000000", "--addr-rate", "1000000", "--addr-burst", "1000000"]


def post_many(rs, rooms, per_batch=50):
    """One post into each room, pipelined on keep-alive connections."""
    for i in range(0, len(rooms), per_batch):
        c = RawHttp(rs.http_port, timeout=30)
        batch = rooms[i:i + per_batch]
        c.send(b"".join(("POST /api/rooms/%s/messages HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                         "Content-Length: 2\r\n\r\nhi" % r).encode() for r in batch))
        for _ in batch:
            r = c.response(timeout=30)
            assert r is not None and r[0] == 201, r
        c.close()


def get_whole(rs, path, headers=""):
    c = RawHttp(rs.http_port, timeout=30)
    c.send(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, headers)).encode())
    r = c.response(timeout=30)
    c.close()
    return r


async def large_lists():
    # 1,100 rooms of 32-character names: every list is complete JSON.
    rs = Roost(BIN, "--max-rooms", "1100", *FAST, data=False).start()
    try:
        names = ["r%031d" % i for i in range(1100)]
        post_many(rs, names)
        c = await Client.connect(rs)
        await c.send({"type": "hello", "nick": "late"})
        w = await c.wait("welcome", timeout=20)
        check("welcome with 1,100 rooms of 32 characters is whole", sorted(r["room"] for r in w["rooms"]) == names)
        await c.close()
        r = get_whole(rs, "/api/rooms")
        doc = json.loads(r[2]) if r and r[0] == 200 else {}
        check("GET /api/rooms lists all 1,100 rooms in valid JSON", len(doc.get("rooms", [])) == 1100,
              r and r[:2])
        r = get_whole(rs, "/metrics")
        text = r[2].decode() if r else ""
        check("/metrics is whole: a line per room and the end of the page",
              r is not None and r[0] == 200 and text.count("roost_ring_fill{") == 1100 and text.endswith("\n")
              and int(r[1]["content-length"]) == len(r[2]), text[-300:])
    finally:
        rs.stop()
    # A room of 300 members, each with a read mark: one joined of about 24 KB
    # (more than a batch) is written whole.
    rs = Roost(BIN, "--reads-per-room", "300", "--max-per-address", "1000", "--max-sessions", "400", *FAST,
               data=False).start()
    try:
        members = []
        for i in range(300):
            # max_queue=None: each member takes the 300 read receipts as they
            # come (a member that stops reading is culled, by design).
            m = await Client.connect(rs, "member%03d" % i, max_queue=None)
            await m.send({"type": "join", "room": "big"})
            members.append(m)
        for m in members:
            await m.wait("joined", timeout=20)
        await members[0].send({"type": "say", "room": "big", "text": "read me", "cid": "r"})
        await members[0].wait("ack", cid="r")
        for m in members:
            await m.send({"type": "read", "room": "big", "seq": 1})
        await asyncio.sleep(1)
        n = await Client.connect(rs, "newcomer")
        await n.send({"type": "join", "room": "big"})
        j = await n.wait("joined", timeout=20)
        check("joined with 301 members and 300 read marks is whole",
              len(j["members"]) == 301 and len(j["reads"]) == 300, (len(j["members"]), len(j["reads"])))
        for m in members:
            await m.close()
        await n.close()
    finally:
        rs.stop()


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descriptors():
    # A low limit at start: max_connections is fitted to it, and said so.
    rs = Roost(BIN, "--https-port", "-1", data=False, wrap=["prlimit", "--nofile=200:200"]).start()
    try:
        m = re.search(r"max_connections lowered from 1024 to (\d+): the open-file limit is 200", rs.output())
        check("an open-file limit of 200: max_connections lowered to fit, and said so", m is not None, rs.output())
        held = []
        for _ in range(180):
            try:
                held.append(socket.create_connection(("127.0.0.1", rs.http_port), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        c = socket.create_connection(("127.0.0.1", rs.http_port), timeout=5)
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            first = c.recv(4096).split(b"\r\n")[0]
        except OSError:
            first = b""
        c.close()
        check("past the fitted limit a request is refused (503) or closed, never hangs", first in (
            b"HTTP/1.1 503 Service Unavailable", b""), first)
        # Now the limit drops under the running broker: accept() fails.
        subprocess.run(["prlimit", "--pid", str(rs.proc.pid), "--nofile=40:200"], check=True)  # soft only
        before_cpu, before_log = cpu_seconds(rs.proc.pid), rs.output().count("accept: errno")
        more = []
        for _ in range(30):
            try:
                more.append(socket.create_connection(("127.0.0.1", rs.http_port), timeout=1))
            except OSError:
                pass
        time.sleep(3)
        used = cpu_seconds(rs.proc.pid) - before_cpu
        lines = rs.output().count("accept: errno") - before_log
        check("accept() failing for want of descriptors: no spin (%.2f CPU-s in 3 s)" % used, used < 1.0)
        check("... and a few log lines, not a flood (%d)" % lines, 1 <= lines <= 10, rs.output()[-600:])
        for s in held + more:
            s.close()
        subprocess.run(["prlimit", "--pid", str(rs.proc.pid), "--nofile=200:200"], check=True)
        ok = False
        deadline = time.time() + 10
        while not ok and time.time() < deadline:
            try:
                st, _, body = rs.http("GET", "/healthz")
                ok = st == 200
            except OSError:
                time.sleep(0.3)
        check("once descriptors are back, requests are served again", ok)
    finally:
        code = rs.stop()
    check("the broker exits 0 after running out of descriptors", code == 0, rs.output()[-800:])


def exits_2(args, names, what):
    p = subprocess.run([BIN, "--http-port", "0", "--https-port", "-1"] + args, capture_output=True, text=True,
                       timeout=60)
    check(what + ": exit 2 naming %s" % ", ".join(names), p.returncode == 2 and all(n in p.stderr for n in names),
          (p.returncode, p.stderr[-400:]))


def starts(args, what):
    rs = Roost(BIN, "--https-port", "-1", *args, data=False).start()
    try:
        st, _, body = rs.http("GET", "/healthz")
        c = RawHttp(rs.http_port)
        c.send(b"POST /api/rooms/x/messages HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi")
        r = c.response()
        c.close()
        check(what + ": starts and serves", st == 200 and r is not None and r[0] == 201, r)
    finally:
        rs.stop()


def settings():
    exits_2(["--max-sessions", "65536", "--rooms-per-session", "256", "--control-bytes", "8192"],
            ["max_sessions x rooms_per_session"], "subscriptions past the reservation (once bad_alloc)")
    exits_2(["--max-rooms", "4096", "--ring-bytes", "16777216"], ["max_rooms x ring_bytes"], "rooms x ring bytes")
    exits_2(["--ring-bytes", "4096"], ["ring_bytes", "max_data_keys"], "the smallest ring with the default message")
    starts(["--ring-bytes", "4096", "--max-text", "16", "--max-data-keys", "0", "--max-cid", "16",
            "--control-bytes", "1024", "--max-frame", "1024", "--max-body", "1024"], "every documented minimum")
    starts(["--max-rooms", "4096", "--ring-bytes", "65536", "--max-sessions", "2048", "--rooms-per-session", "256"],
           "4,096 rooms and 256 rooms per session")


def bind():
    for addr, why in (("999.1.1.1", "not an IPv4 or IPv6 address"), ("10.99.99.99", "Cannot assign requested address")):
        p = subprocess.run([BIN, "--bind", addr, "--http-port", "0", "--https-port", "-1"], capture_output=True,
                           text=True, timeout=30)
        check("--bind %s: exit 1 with the reason, no 'listening'" % addr,
              p.returncode == 1 and why in p.stderr and "listening" not in p.stdout, (p.returncode, p.stderr))


def certificate_lifetime():
    rs = Roost(BIN).start()
    try:
        ctx = ssl.create_default_context(cafile=os.path.join(rs.data, "ca.crt"))
        with socket.create_connection(("127.0.0.1", rs.https_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                cert = s.getpeercert()
        fmt = "%b %d %H:%M:%S %Y %Z"
        span = datetime.datetime.strptime(cert["notAfter"], fmt) - datetime.datetime.strptime(cert["notBefore"], fmt)
        check("the served certificate lives 825 days from notBefore (%s)" % span, span == datetime.timedelta(days=825))
    finally:
        rs.stop()


async def reload():
    """SIGHUP re-reads tokens and origins from the config file: nobody
    connected is dropped; a changed other setting waits for a restart and
    says so; a config that does not parse keeps the running settings."""
    import signal
    import tempfile
    conf = os.path.join(tempfile.mkdtemp(prefix="roost-reload-"), "roost.conf")
    open(conf, "w").write("max_text = 2048\n")
    rs = Roost(BIN, "--config", conf, "--https-port", "-1", data=False).start()
    try:
        c = await Client.connect(rs, "stays")
        await c.send({"type": "join", "room": "family"})
        await c.wait("joined")
        secret = "reloadtoken0123456789"
        origin = "http://kitchen.example:8080"
        open(conf, "w").write("max_text = 1024\ntoken = thermo %s rooms=sensors\norigins = %s\n" % (secret, origin))
        rs.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "reloaded" not in rs.output() and time.time() < deadline:
            time.sleep(0.1)
        check("SIGHUP: reloaded, and the changed max_text waits for a restart",
              "reloaded: 1 token(s), 1 allowed origin(s)" in rs.output()
              and "max_text changed; it takes effect at the next restart" in rs.output(), rs.output()[-600:])
        await c.send({"type": "say", "room": "family", "text": "still here", "cid": "r1"})
        check("a session connected before the reload is kept, with its rights", (await c.wait("ack", cid="r1"))["seq"] > 0)
        st, _, _ = rs.http("POST", "/api/rooms/sensors/messages", b"x", {"Content-Type": "text/plain"})
        st2, _, _ = rs.http("POST", "/api/rooms/sensors/messages", b"x",
                            {"Content-Type": "text/plain", "Authorization": "Bearer " + secret})
        check("the new token is required (401 without, 201 with)", (st, st2) == (401, 201), (st, st2))
        from test_ws_edges import upgrade
        check("the new allowed origin is let in", " 101 " in upgrade(rs.http_port, origin, host="kitchen.example:8080"))
        open(conf, "w").write("max_text = nonsense\n")
        rs.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "the running settings are kept" not in rs.output() and time.time() < deadline:
            time.sleep(0.1)
        st, _, _ = rs.http("POST", "/api/rooms/sensors/messages", b"x", {"Content-Type": "text/plain"})
        check("a config that does not parse: said, and the running settings kept (the token still needed)",
              "the running settings are kept" in rs.output() and st == 401 and rs.proc.poll() is None)
        await c.close()
    finally:
        code = rs.stop()
    check("the broker exits 0 after its reloads", code == 0, rs.output()[-600:])


async def main():
    await reload()
    await large_lists()
    descriptors()
    settings()
    bind()
    certificate_lifetime()
    return checks_exit()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
