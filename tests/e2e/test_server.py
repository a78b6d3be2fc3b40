#!/usr/bin/python3
"""End-to-end tests of the protocol on one running server (the real roost
binary, default settings): chat over WebSocket (python3-websockets), errors,
frame limits, receive buffers, Origin, recovery; the HTTP API, SSE and page
headers (urllib, curl); TLS. What needs a server of its own (shutdown,
tokens, limits, timeouts, IPv6) is test_server_policies.py.
usage: test_server.py ROOST_BINARY"""

import asyncio
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, Results, Roost, closed_by_server  # noqa: E402

BIN = sys.argv[1]
R = Results()
check = R.check


async def chat_basics(rs):
    a = await Client.connect(rs, "ann")
    check("subprotocol roost.v1 is accepted", a.ws.subprotocol == "roost.v1")
    b = await Client.connect(rs, "bob", subprotocols=None)
    check("a client offering no subprotocol is served", b.ws.subprotocol is None)
    await a.send({"type": "join", "room": "Lab"})
    j = await a.wait("joined", room="lab")
    check("joined: head 0, oldest 1, epoch, members", j["head"] == 0 and j["oldest"] == 1 and len(j["epoch"]) > 0
          and j["members"] == ["ann"] and j["recovered"] is False)
    await b.send({"type": "join", "room": "lab"})
    await b.wait("joined", room="lab")
    p = await a.wait("presence", nick="bob")
    check("presence join reaches the others", p["state"] == "join")
    await a.send({"type": "say", "room": "lab", "text": "hello <b>", "cid": "c1"})
    ack = await a.wait("ack", cid="c1")
    m = await b.wait("msg", room="lab")
    check("say: ack to the sender, msg to members", ack["seq"] == 1 and m["text"] == "hello <b>"
          and m["from"] == "ann" and m["kind"] == "chat" and m["seq"] == 1)
    await a.wait("msg", seq=1)
    await a.send({"type": "say", "room": "lab", "text": "hello <b>", "cid": "c1"})
    ack2 = await a.wait("ack", cid="c1")
    extra = await b.quiet(0.3)
    check("a retry with the same cid stores nothing", ack2["seq"] == 1 and not [e for e in extra if e["type"] == "msg"])
    await a.send({"type": "typing", "room": "lab", "on": True})
    t = await b.wait("typing")
    check("typing is relayed", t["nick"] == "ann" and t["on"] is True)
    await b.send({"type": "read", "room": "lab", "seq": 1})
    r = await a.wait("read")
    check("read receipts are relayed", r["nick"] == "bob" and r["seq"] == 1)
    await b.send({"type": "ping"})
    await b.wait("pong")
    check("ping answers pong", True)
    await b.send({"type": "leave", "room": "lab"})
    await b.wait("left", room="lab")
    p = await a.wait("presence", nick="bob")
    check("leave: left, and presence leave to the others", p["state"] == "leave")
    await a.close()
    await b.close()


async def dms(rs):
    a = await Client.connect(rs, "dora")
    b = await Client.connect(rs, "eve")
    c = await Client.connect(rs, "finn")
    await a.send({"type": "dm", "to": "Eve", "text": "psst", "cid": "d"})
    await a.wait("joined", room="@dora+eve")
    await b.wait("joined", room="@dora+eve")
    m = await b.wait("msg", room="@dora+eve")
    check("a direct message reaches its party", m["text"] == "psst")
    others = await c.quiet(0.3)
    check("a direct message reaches no one else", not [e for e in others if e["type"] == "msg"])
    code = await c.error({"type": "join", "room": "@dora+eve"})
    check("someone else joining a DM room is forbidden", code == "forbidden")
    st, _, body = rs.http("GET", "/api/rooms/@dora+eve/messages")
    check("DM rooms are not readable over HTTP (403)", st == 403, str(body))
    st, _, body = rs.http("GET", "/api/rooms")
    check("GET /api/rooms leaves DM rooms out", st == 200 and all(not r["room"].startswith("@") for r in body["rooms"]))
    for x in (a, b, c):
        await x.close()


async def error_codes(rs):
    c = await Client.connect(rs)
    check("anything before hello is bad_request", await c.error({"type": "join", "room": "x"}) == "bad_request")
    await c.send({"type": "hello", "nick": "gus", "key": "k" * 20})
    await c.wait("welcome")
    cases = [
        ("not json", "bad_json"),
        ("[1,2]", "bad_request"),
        ({"type": "fly"}, "unknown_type"),
        ({"type": "say", "room": "nowhere", "text": "x"}, "not_joined"),
        ({"type": "read", "room": "nowhere", "seq": 1}, "no_such_room"),
        ({"type": "say", "room": "nowhere", "text": "x" * 3000}, "text_too_long"),
        (b'{"type":"say","room":"x","text":"\xc0\xaf"}', "bad_utf8"),
        ('{"type":"say","room":"x","text":"\\ud800"}', "bad_utf8"),
        ({"type": "join", "room": "@a+b"}, "forbidden"),
    ]
    for frame, want in cases:
        got = await c.error(frame)
        check("error %s for %s" % (want, str(frame)[:40]), got == want, "got %s" % got)
    d = await Client.connect(rs)
    check("a nick owned by a key: nick_taken", await d.error({"type": "hello", "nick": "GUS"}) == "nick_taken")
    # A single error never closes the socket.
    await c.send({"type": "ping"})
    await c.wait("pong")
    check("errors do not close the socket", True)
    await c.send({"type": "join", "room": "flood"})
    await c.wait("joined")
    codes = []
    for i in range(30):
        await c.send({"type": "say", "room": "flood", "text": "x%d" % i})
    got = await c.quiet(1.0)
    codes = [e["code"] for e in got if e["type"] == "error"]
    check("flooding gets rate_limited", "rate_limited" in codes)
    await c.close()
    await d.close()


async def repeated_errors_close(rs):
    c = await Client.connect(rs, "hal")
    try:
        for _ in range(25):
            await c.send("garbage")
    except websockets.ConnectionClosed:
        pass  # closed before the last ones were sent
    try:
        await asyncio.wait_for(c.ws.wait_closed(), 5)
    except asyncio.TimeoutError:
        pass
    check("repeated errors close with 1008", c.ws.close_code == 1008, "code %s" % c.ws.close_code)


async def frame_too_large(rs):
    c = await Client.connect(rs, "ivy")
    await c.send("x" * 70000)
    try:
        await asyncio.wait_for(c.ws.wait_closed(), 5)
    except asyncio.TimeoutError:
        pass
    check("a frame over max_frame closes with 1009", c.ws.close_code == 1009, "code %s" % c.ws.close_code)


def ws_receive_buffers(rs):
    text = rs.http("GET", "/metrics")[2]
    return int(re.search(r"^roost_ws_receive_buffers (\d+)", text, re.M).group(1))


async def receive_buffers(rs):
    # lws's per-WebSocket receive buffers come from Roost's arena: one per
    # open WebSocket, written by control frames and long frames, given back
    # at close.
    before = ws_receive_buffers(rs)
    a, b, c = [await Client.connect(rs, n) for n in ("rb1", "rb2", "rb3")]
    check("one receive buffer per open WebSocket", ws_receive_buffers(rs) == before + 3,
          "%d -> %d" % (before, ws_receive_buffers(rs)))
    pong = await a.ws.ping(b"p" * 100)
    await asyncio.wait_for(pong, 5)
    check("a ping with a payload is answered", True)
    await a.send({"type": "join", "room": "long"})
    await b.send({"type": "join", "room": "long"})
    await a.wait("joined")
    await b.wait("joined")
    # 2,000 characters written as JSON escapes: a 12 KB frame, three times
    # the receive buffer, so lws hands it over in pieces.
    long_text = "".join(chr(0x41 + i % 26) for i in range(2000))
    frame = '{"type":"say","room":"long","text":"%s"}' % "".join("\\u%04x" % ord(ch) for ch in long_text)
    await a.send(frame)
    m = await b.wait("msg", room="long")
    check("a frame longer than the receive buffer (%d bytes) arrives whole" % len(frame), m["text"] == long_text)
    for x in (a, b, c):
        await x.close()
    deadline = time.time() + 5
    while ws_receive_buffers(rs) != before and time.time() < deadline:
        await asyncio.sleep(0.05)
    check("the buffers are given back at close", ws_receive_buffers(rs) == before, "%d" % ws_receive_buffers(rs))


async def origin_checked(rs):
    try:
        ws = await websockets.connect(rs.ws_url, origin="http://evil.example", subprotocols=["roost.v1"])
        await ws.close()
        check("a foreign Origin is refused", False)
    except Exception:
        check("a foreign Origin is refused", True)
    ws = await websockets.connect(rs.ws_url, origin="http://127.0.0.1:%d" % rs.http_port, subprotocols=["roost.v1"])
    check("the page's own Origin is accepted", ws.open)
    await ws.close()


async def recovery(rs):
    a = await Client.connect(rs, "jo")
    await a.send({"type": "join", "room": "rec"})
    j = await a.wait("joined", room="rec")
    for i in range(3):
        await a.send({"type": "say", "room": "rec", "text": "m%d" % i})
    for i in range(3):
        await a.wait("msg", seq=i + 1)
    await a.close()
    b = await Client.connect(rs, "kim")
    await b.send({"type": "join", "room": "rec"})
    await b.wait("joined", room="rec")
    for i in range(3, 7):
        await b.send({"type": "say", "room": "rec", "text": "m%d" % i})
    await b.quiet(0.3)
    a = await Client.connect(rs, "jo")
    await a.send({"type": "join", "room": "rec", "since": {"epoch": j["epoch"], "seq": 3}})
    j2 = await a.wait("joined", room="rec")
    msgs = [await a.wait("msg", room="rec") for _ in range(4)]
    extra = [e for e in await a.quiet(0.3) if e["type"] == "msg"]
    check("reconnect with since: recovered, exactly the missed messages",
          j2["recovered"] is True and [m["seq"] for m in msgs] == [4, 5, 6, 7] and not extra)
    await a.close()
    await b.close()


def http_api(rs):
    st, _, body = rs.http("POST", "/api/rooms/Sensors/messages?from=probe", b"21.5 C",
                          {"Content-Type": "text/plain"})
    check("POST text/plain: 201 with room, seq, epoch, ts", st == 201 and body["room"] == "sensors"
          and body["seq"] == 1 and "epoch" in body and "ts" in body, str(body))
    st, _, body = rs.http("POST", "/api/rooms/sensors/messages",
                          json.dumps({"data": {"temp": 21.5, "ok": True}, "from": "kitchen"}).encode(),
                          {"Content-Type": "application/json"})
    check("POST JSON with data and empty text: 201", st == 201 and body["seq"] == 2, str(body))
    h = {"Content-Type": "text/plain", "Idempotency-Key": "once-123"}
    st1, _, b1 = rs.http("POST", "/api/rooms/sensors/messages", b"alarm", h)
    st2, _, b2 = rs.http("POST", "/api/rooms/sensors/messages", b"alarm", h)
    check("Idempotency-Key: 201 then 200 with the first body", st1 == 201 and st2 == 200 and b1 == b2, "%s %s" % (b1, b2))
    st, _, body = rs.http("GET", "/api/rooms/sensors/messages")
    msgs = body["messages"]
    check("GET history: ascending, kinds and senders", st == 200 and [m["seq"] for m in msgs] == [1, 2, 3]
          and msgs[0]["kind"] == "device" and msgs[0]["from"] == "probe" and msgs[1]["from"] == "kitchen"
          and msgs[1]["data"] == {"temp": 21.5, "ok": True})
    st, _, body = rs.http("GET", "/api/rooms/sensors/messages?since=1&limit=1")
    check("GET history since/limit", [m["seq"] for m in body["messages"]] == [2] and body["recovered"] is True)
    st, _, body = rs.http("GET", "/api/rooms/sensors/messages?since=1&epoch=" + body["epoch"])
    check("GET history since with the right epoch: recovered", body["recovered"] is True
          and [m["seq"] for m in body["messages"]] == [2, 3])
    st, _, body = rs.http("GET", "/api/rooms/sensors/messages?since=1&limit=1&epoch=zzzzzzzz")
    check("GET history since with another epoch: not recovered, the newest instead", body["recovered"] is False
          and [m["seq"] for m in body["messages"]] == [3])
    st, _, body = rs.http("GET", "/api/rooms")
    check("GET /api/rooms lists the room with head and oldest",
          any(r["room"] == "sensors" and r["head"] == 3 and r["oldest"] == 1 for r in body["rooms"]))
    st, h, body = rs.http("GET", "/ca.crt")
    check("/ca.crt: the CA as application/x-x509-ca-cert", st == 200 and "BEGIN CERTIFICATE" in body
          and {k.lower(): v for k, v in h.items()}.get("content-type") == "application/x-x509-ca-cert")
    st, _, body = rs.http("GET", "/trust.html")
    check("/trust.html tells Android and iOS users how to trust it", st == 200 and 'href="/ca.crt"' in body
          and "Android" in body and "iPhone" in body)
    st, _, body = rs.http("GET", "/healthz")
    check("/healthz is 200 ok", st == 200 and body["status"] == "ok")
    st, _, text = rs.http("GET", "/metrics")
    check("/metrics is Prometheus text", st == 200 and "roost_connections" in text and "roost_ring_fill{room=\"sensors\"} 3" in text)
    errors = [
        ("GET", "/api/rooms/nope/messages", None, {}, 404, "no_such_room"),
        ("GET", "/api/rooms/Bad!Name/messages", None, {}, 400, "bad_request"),
        ("GET", "/no/such/page", None, {}, 404, "not_found"),
        ("DELETE", "/api/rooms/sensors/messages", None, {}, 405, "method_not_allowed"),
        ("POST", "/api/rooms/sensors/messages", b"x", {"Content-Type": "image/png"}, 415, "unsupported_type"),
        ("POST", "/api/rooms/sensors/messages", b"x" * 20000, {"Content-Type": "text/plain"}, 413, "too_large"),
        ("POST", "/api/rooms/sensors/messages", b"{nope", {"Content-Type": "application/json"}, 400, "bad_json"),
        ("POST", "/api/rooms/sensors/messages", b"\xc0\xaf", {"Content-Type": "text/plain"}, 400, "bad_utf8"),
        ("POST", "/api/rooms/sensors/messages", b"x" * 3000, {"Content-Type": "text/plain"}, 400, "text_too_long"),
        ("POST", "/api/rooms/sensors/messages", json.dumps({"data": {"a": {"b": 1}}}).encode(),
         {"Content-Type": "application/json"}, 400, "bad_request"),
    ]
    for method, path, body, hdrs, want_st, want_code in errors:
        st, _, got = rs.http(method, path, body, hdrs)
        code = got.get("error", {}).get("code") if isinstance(got, dict) else None
        check("%s %s -> %d %s" % (method, path[:40], want_st, want_code), st == want_st and code == want_code,
              "got %s %s" % (st, got))
    st, _, body = rs.http("GET", "/api/rooms/sensors/messages")
    check("bad input changed no stored state", body["head"] == 3)
    # Every request above lent a scratch entry and gave it back at its end.
    text = rs.http("GET", "/metrics")[2]
    m = re.search(r"^roost_http_scratch_in_use (\d+)", text, re.M)
    check("no request's scratch outlives it", m is not None and m.group(1) == "0", m.group(0) if m else text[:80])


def page_headers(rs):
    st, h, body = rs.http("GET", "/", None, {"Accept-Encoding": "gzip"})
    h = {k.lower(): v for k, v in h.items()}
    import gzip as gz
    index = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web", "index.html"), "rb").read()
    check("the page is served gzip-precompressed", h.get("content-encoding") == "gzip")
    check("with an ETag and Cache-Control", "etag" in h and "cache-control" in h)
    check("CSP forbids inline script; nosniff; no-referrer",
          "script-src 'self'" in h.get("content-security-policy", "") and "unsafe-inline" not in
          h.get("content-security-policy", "").split("script-src")[1].split(";")[0]
          and h.get("x-content-type-options") == "nosniff" and h.get("referrer-policy") == "no-referrer", str(h))
    st2, _, _ = rs.http("GET", "/", None, {"If-None-Match": h.get("etag", "")})
    check("If-None-Match with the ETag: 304", st2 == 304)
    raw = subprocess.run(["curl", "-s", "-H", "Accept-Encoding: gzip", rs.base + "/"], capture_output=True).stdout
    check("the gzip body decompresses to web/index.html", gz.decompress(raw) == index)


def sse(rs):
    # History from Last-Event-ID, then a live message, through curl.
    p = subprocess.Popen(["curl", "-sN", "-H", "Last-Event-ID: 1", rs.base + "/api/rooms/sensors/events"],
                         stdout=subprocess.PIPE)
    time.sleep(0.5)
    rs.http("POST", "/api/rooms/sensors/messages", b"live one", {"Content-Type": "text/plain"})
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    out = p.communicate()[0].decode()
    ids = [int(l[4:]) for l in out.splitlines() if l.startswith("id: ")]
    check("SSE: events from Last-Event-ID, then live", ids == [2, 3, 4], out[:300])
    check("SSE: event: msg with the JSON in data:", "event: msg" in out and '"text":"live one"' in out)


async def tls(rs):
    ctx = rs.ssl_context()
    ws = await websockets.connect("wss://localhost:%d/ws" % rs.https_port, ssl=ctx, subprotocols=["roost.v1"])
    c = Client(ws)
    await c.send({"type": "hello", "nick": "tls"})
    w = await c.wait("welcome")
    check("wss verifies against the generated CA and serves the protocol", w["nick"] == "tls")

    def record_buffers():
        text = rs.http("GET", "/metrics")[2]
        return int(re.search(r"^roost_tls_record_buffers (\d+)", text, re.M).group(1))
    # mbedTLS's record buffers come from Roost's page slots: a connection's
    # two are lent while it lives (a 12 KB message crosses them whole) and
    # given back at close.
    check("a TLS connection holds its record buffers in the slots", record_buffers() >= 2, str(record_buffers()))
    await c.send({"type": "join", "room": "tlsroom"})
    await c.wait("joined")
    big = "".join(chr(0x61 + i % 26) for i in range(2000))
    await c.send('{"type":"say","room":"tlsroom","cid":"big","text":"%s"}' % "".join("\\u%04x" % ord(ch) for ch in big))
    m = await c.wait("msg", room="tlsroom")
    check("a 12 KB frame over TLS arrives whole", m["text"] == big)
    await c.close()
    deadline = time.time() + 5
    while record_buffers() != 0 and time.time() < deadline:
        await asyncio.sleep(0.05)
    check("the record buffers are given back at close", record_buffers() == 0, str(record_buffers()))
    out = subprocess.run(["curl", "-sS", "--cacert", os.path.join(rs.data, "ca.crt"),
                          "https://localhost:%d/api/rooms" % rs.https_port], capture_output=True, text=True)
    check("the HTTP API over HTTPS", '"rooms"' in out.stdout, out.stderr)
    with socket.create_connection(("127.0.0.1", rs.https_port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as t:
            name, version, _ = t.cipher()
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            t.recv(100)
    check("TLS 1.2 with an AEAD suite (%s %s)" % (version, name), version == "TLSv1.2"
          and ("GCM" in name or "CHACHA20" in name))

    def failures():
        text = rs.http("GET", "/metrics")[2]
        return int(text.split("\nroost_tls_handshake_failures_total ")[1].split()[0])
    before = failures()
    # A CBC-only client: no suite in common.
    cbc = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cbc.load_verify_locations(os.path.join(rs.data, "ca.crt"))
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA256:AES128-SHA")
    try:
        with socket.create_connection(("127.0.0.1", rs.https_port)) as raw:
            cbc.wrap_socket(raw, server_hostname="localhost").close()
        refused = False
    except (ssl.SSLError, OSError):
        refused = True
    check("a client offering only CBC suites is refused", refused)
    # A client that does not trust the certificate hangs up mid-handshake;
    # plain HTTP sent to the TLS port fails it too.
    try:
        with socket.create_connection(("127.0.0.1", rs.https_port)) as raw:
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost").close()
    except (ssl.SSLError, OSError):
        pass
    with socket.create_connection(("127.0.0.1", rs.https_port)) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        closed_by_server(raw, 5)
    deadline = time.time() + 5
    while failures() < before + 3 and time.time() < deadline:
        time.sleep(0.1)
    check("TLS handshake failures are counted", failures() == before + 3, "%d -> %d" % (before, failures()))
    check("... and logged with the peer address", "TLS handshake failed or timed out: 127.0.0.1" in rs.output())

async def main():
    rs = Roost(BIN).start()
    try:
        await R.run("chat basics", chat_basics(rs))
        await R.run("direct messages", dms(rs))
        await R.run("error codes", error_codes(rs))
        await R.run("repeated errors", repeated_errors_close(rs))
        await R.run("frame too large", frame_too_large(rs))
        await R.run("receive buffers", receive_buffers(rs))
        await R.run("origin", origin_checked(rs))
        await R.run("recovery", recovery(rs))
        try:
            http_api(rs)
            sse(rs)
            page_headers(rs)
        except Exception as e:
            check("http api", False, repr(e))
        await R.run("tls", tls(rs))
    finally:
        rs.stop()


asyncio.run(main())
sys.exit(R.finish())
