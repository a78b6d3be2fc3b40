#!/usr/bin/python3
"""HTTP edges against the real roost binary, on raw sockets: refused posts
change nothing and answer one complete JSON error; bytes after a body,
pipelined requests and HEAD; ambiguous lengths and media types; errors lws
itself answers; SSE `since`; the default history limit; slow bodies; tokens
and the room list; cross-site posts.  usage: test_http_edges.py ROOST_BINARY"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import RawHttp, Roost, check, checks_exit, json_error  # noqa: E402

BIN = sys.argv[1]
TOKEN = "kitchensecret0123456789"
ALL = "everythingsecret0123456789"


def post(path, body, ctype="text/plain", extra="", length=None):
    body = body.encode() if isinstance(body, str) else body
    n = len(body) if length is None else length
    return ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %s\r\n%s\r\n"
            % (path, ctype, n, extra)).encode() + body


def get(path, extra="", method="GET"):
    return ("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (method, path, extra)).encode()


def head_of(rs, room):
    c = RawHttp(rs.http_port)
    c.send(get("/api/rooms/%s/messages?limit=1" % room))
    r = c.response()
    c.close()
    if r is None or r[0] == 404:
        return 0
    return json.loads(r[2])["head"]


def one_answer(rs, data, what, status, code=None, closes=None, room="tt", stored=False):
    """Sends `data` on a fresh connection: exactly one complete JSON error
    with `status` (and `code`), nothing after it, the room unchanged, and
    (when `closes` is given) the connection closed or kept as said."""
    before = head_of(rs, room)
    c = RawHttp(rs.http_port)
    c.send(data)
    r = c.response()
    err = json_error(r)
    check(what + ": answers %d %s" % (status, code or ""), err is not None and err[0] == status
          and (code is None or err[1] == code), "got %r" % (r,))
    check(what + ": one answer, nothing after it", c.extra(0.5) == b"")
    if closes is not None:
        check(what + (": the connection is closed" if closes else ": the connection stays open"),
              c.wait_closed(3) == closes)
        if closes:
            check(what + ": says Connection: close", r is not None and r[1].get("connection", "").lower() == "close")
    c.close()
    after = head_of(rs, room)
    check(what + (": stored" if stored else ": nothing stored"), (after == before + 1) if stored else after == before)
    return r


def refused_posts(rs):
    # 1: refused before the body is read: nothing stored, one JSON error.
    one_answer(rs, post("/api/rooms/tt/messages?from=bad%20name", "x"), "bad ?from=", 400, "bad_request")
    one_answer(rs, post("/api/rooms/tt/messages", "x", extra="Idempotency-Key: %s\r\n" % ("k" * 65)),
               "a 65-character Idempotency-Key", 400, "bad_request")
    one_answer(rs, post("/api/rooms/tt/messages", "x", extra="Idempotency-Key: a\x01b\r\n"),
               "an Idempotency-Key with a control character", 400, "bad_request")
    one_answer(rs, post("/api/rooms/tt/messages", "x", extra="Idempotency-Key: \r\n"),
               "an empty Idempotency-Key", 400, "bad_request")
    c = RawHttp(rs.http_port)
    c.send(post("/api/rooms/tt/messages", "x", extra="Idempotency-Key: %s\r\n" % ("k" * 64)))
    r = c.response()
    check("a 64-character Idempotency-Key is taken", r is not None and r[0] == 201)
    c.close()
    # A refused request keeps the connection usable: the next request is answered.
    c = RawHttp(rs.http_port)
    c.send(post("/api/rooms/tt/messages?from=bad%20name", "hello") + get("/healthz"))
    first, second = c.response(), c.response()
    check("after a refused post, the next request on the connection is answered",
          json_error(first) == (400, "bad_request") and second is not None and second[0] == 200)
    c.close()


def trailing_bytes(rs):
    # 2: Arduino's client.println(body): the body, then CRLF, in one segment.
    before = head_of(rs, "tt")
    c = RawHttp(rs.http_port)
    c.send(post("/api/rooms/tt/messages?from=esp", "21.5 C") + b"\r\n")
    r = c.response()
    check("a body followed by CRLF is answered 201", r is not None and r[0] == 201, "got %r" % (r,))
    check("... and stored once", head_of(rs, "tt") == before + 1)
    c.send(get("/healthz"))
    r2 = c.response()
    check("... and the connection still serves the next request", r2 is not None and r2[0] == 200)
    c.close()
    # Three pipelined GETs: three answers, in order.
    c = RawHttp(rs.http_port)
    c.send(get("/healthz") + get("/api/rooms") + get("/nope"))
    rs_ = [c.response(), c.response(), c.response()]
    check("three pipelined GETs get three answers in order",
          rs_[0] is not None and rs_[0][0] == 200 and rs_[1] is not None and rs_[1][0] == 200
          and json_error(rs_[2]) == (404, "not_found"), "got %r" % ([x and x[0] for x in rs_],))
    c.close()
    # Pipelined posts: each stored once, answered in order.
    before = head_of(rs, "tt")
    c = RawHttp(rs.http_port)
    c.send(post("/api/rooms/tt/messages", "p1") + post("/api/rooms/tt/messages", "p2")
           + post("/api/rooms/tt/messages", "p3"))
    seqs = [c.response() for _ in range(3)]
    check("three pipelined posts: three 201s with ascending seqs",
          all(s is not None and s[0] == 201 for s in seqs)
          and [json.loads(s[2])["seq"] for s in seqs] == [before + 1, before + 2, before + 3])
    c.close()
    # HEAD never carries a body; HEAD then GET on one connection.
    c = RawHttp(rs.http_port)
    c.send(get("/healthz", method="HEAD") + get("/healthz"))
    h = c.response(head=True)
    g = c.response()
    check("HEAD /healthz: headers with the GET's length, no body",
          h is not None and h[0] == 200 and int(h[1].get("content-length", "-1")) == len(g[2] if g else b"x"))
    check("HEAD then GET: the GET is answered with its body", g is not None and g[0] == 200
          and json.loads(g[2])["status"] == "ok")
    check("HEAD then GET: nothing else", c.extra(0.3) == b"")
    c.close()
    c = RawHttp(rs.http_port)
    c.send(get("/", method="HEAD"))
    h = c.response(head=True)
    check("HEAD /: no body bytes", h is not None and h[0] == 200 and c.extra(0.3) == b"")
    c.close()


def leniency(rs):
    # 3: ambiguous lengths are refused and the connection closed.
    tt = "/api/rooms/tt/messages"
    dup = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nContent-Length: %s\r\n\r\n"
    one_answer(rs, (dup % (tt, 2, 5)).encode() + b"hello", "Content-Length 2 then 5", 400, "bad_request", closes=True)
    one_answer(rs, (dup % (tt, 5, 2)).encode() + b"hello", "Content-Length 5 then 2", 400, "bad_request", closes=True)
    one_answer(rs, (dup % (tt, 5, 5)).encode() + b"hello", "Content-Length 5 twice", 400, "bad_request", closes=True)
    for bad in ("2abc", "+2", "-1", "0x2", "2,2", "99999999999999999999999"):
        one_answer(rs, post(tt, "hi", length=bad), "Content-Length %r" % bad, 400, "bad_request", closes=True)
    # An empty value is no length at all.
    one_answer(rs, post(tt, "hi", length=" "), "an empty Content-Length", 411, closes=True)
    one_answer(rs, ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "2\r\nhi\r\n0\r\n\r\n" % tt).encode(), "a chunked body", 411, closes=True)
    one_answer(rs, ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\r\nhi" % tt).encode(),
               "no Content-Length", 411, closes=True)
    one_answer(rs, post(tt, "x" * 10, length=1 << 20), "a declared body over max_body", 413, "too_large", closes=True)
    for ctype in ("text/plainfoo", "application/jsonx", "text/plain-x", "image/png", ""):
        one_answer(rs, post(tt, "hi", ctype=ctype), "Content-Type %r" % ctype, 415, "unsupported_type")
    for ctype, body in (("TEXT/PLAIN", "hi"), ("Text/Plain; charset=utf-8", "hi"), ("text/plain;charset=UTF-8", "hi"),
                        ("APPLICATION/JSON", '{"text":"hi"}'), ("application/json ; charset=utf-8", '{"text":"hi"}')):
        one_answer_ok(rs, post(tt, body, ctype=ctype), "Content-Type %r is taken" % ctype)
    one_answer(rs, post(tt, "hi", ctype="text/plain; charset=latin-1"), "text/plain in another charset", 415,
               "unsupported_type")


def one_answer_ok(rs, data, what):
    before = head_of(rs, "tt")
    c = RawHttp(rs.http_port)
    c.send(data)
    r = c.response()
    check(what, r is not None and r[0] == 201 and head_of(rs, "tt") == before + 1, "got %r" % (r,))
    c.close()


def lws_errors(rs):
    # 4: errors that lws answers are JSON too, and the connection closes.
    for raw, what, status in ((b"HELLO\r\n\r\n", "a garbage request line", 400),
                              (b"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", "a bad % escape", 400),
                              (b"GET /" + b"a" * 8192 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "an 8 KB URI", 414),
                              (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 16384 + b"\r\n\r\n",
                               "a 16 KB header", 431)):
        c = RawHttp(rs.http_port)
        try:
            c.send(raw)
        except OSError:
            pass
        r = c.response()
        err = json_error(r)
        check(what + ": a JSON error %d" % status, err is not None and err[0] == status, "got %r" % (r,))
        check(what + ": then the connection closes", c.wait_closed(3))
        c.close()
    c = RawHttp(rs.http_port)
    c.send(b"DELETE /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n")
    r = c.response()
    check("an unknown method: a JSON error", json_error(r) is not None and json_error(r)[0] in (400, 405, 501),
          "got %r" % (r,))
    c.close()
    for path, allow in (("/api/rooms", "GET"), ("/api/rooms/tt/messages", "GET, POST"),
                        ("/api/rooms/tt/events", "GET"), ("/healthz", "GET, HEAD")):
        c = RawHttp(rs.http_port)
        c.send(post(path, "x").replace(b"POST ", b"PUT ", 1))
        r = c.response()
        check("405 on %s says Allow: %s" % (path, allow), json_error(r) == (405, "method_not_allowed")
              and r[1].get("allow") == allow, "got %r" % (r,))
        c.close()


def sse_since(rs):
    # 5: SSE validates since / Last-Event-ID like GET /messages.
    for bad in ("abc", "-1", "18446744073709551615", "1e3", ""):
        c = RawHttp(rs.http_port)
        c.send(get("/api/rooms/tt/events?since=" + bad))
        r = c.response()
        check("SSE ?since=%r: 400" % bad, json_error(r) == (400, "bad_request"), "got %r" % (r,))
        c.close()
        c = RawHttp(rs.http_port)
        c.send(get("/api/rooms/tt/messages?since=" + bad))
        r = c.response()
        check("GET messages ?since=%r: 400 as well" % bad, json_error(r) == (400, "bad_request"), "got %r" % (r,))
        c.close()
        if bad:
            c = RawHttp(rs.http_port)
            c.send(get("/api/rooms/tt/events", extra="Last-Event-ID: %s\r\n" % bad))
            r = c.response()
            check("SSE Last-Event-ID %r: 400" % bad, json_error(r) == (400, "bad_request"), "got %r" % (r,))
            c.close()
    head = head_of(rs, "tt")
    c = RawHttp(rs.http_port)
    c.send(get("/api/rooms/tt/events?since=%d" % (head - 1)))
    c.sock.settimeout(3)
    got = b""
    deadline = time.time() + 3
    while b"id: %d\n" % head not in got and time.time() < deadline:
        try:
            got += c.sock.recv(65536)
        except OSError:
            break
    check("SSE ?since=head-1 replays exactly the newest message",
          b"id: %d\n" % head in got and b"id: %d\n" % (head - 1) not in got)
    c.close()


def epoch_after_long_argument(rs):
    # A URL argument longer than an epoch before `epoch=` must not hide it
    # (lws's look-up stopped at the first argument too long for the buffer,
    # so a wrong epoch read as absent and a lost history as recovered).
    head = head_of(rs, "tt")
    c = RawHttp(rs.http_port)
    c.send(get("/api/rooms/tt/messages?limit=1"))
    epoch = json.loads(c.response()[2])["epoch"]
    c.close()
    pad = "pad=" + "p" * 40
    for given, recovered in (("zzzzzzzz", False), (epoch, True)):
        c = RawHttp(rs.http_port)
        c.send(get("/api/rooms/tt/messages?since=%d&%s&epoch=%s" % (head - 1, pad, given)))
        r = c.response()
        c.close()
        doc = json.loads(r[2]) if r and r[0] == 200 else {}
        check("epoch=%s after a 44-character argument: recovered is %s" % (given, recovered),
              doc.get("recovered") is recovered, "got %r" % (r,))


def rooms_full_of_members():
    # Found by fuzz_http: a post to a new room while every room slot holds a
    # room with members answers 503 too_many_rooms (now documented), whole,
    # and stores nothing.
    import asyncio
    from roost_harness import Client

    async def run():
        rs = Roost(BIN, "--max-rooms", "1", data=False).start()
        try:
            c = await Client.connect(rs, "ann")
            await c.send({"type": "join", "room": "held"})
            await c.wait("joined")
            one_answer(rs, post("/api/rooms/other/messages", "hi"), "a post to a new room, every slot held by members",
                       503, "too_many_rooms", room="other")
            r = RawHttp(rs.http_port)
            r.send(get("/api/rooms"))
            rooms = json.loads(r.response()[2])["rooms"]
            r.close()
            check("... and the room list still holds only the members' room", [x["room"] for x in rooms] == ["held"])
            await c.close()
        finally:
            rs.stop()
    asyncio.run(run())


def default_limit():
    # 6: without `limit` the history answers the newest 50, whatever backlog is.
    rs = Roost(BIN, "--backlog", "0", "--addr-rate", "1000", "--addr-burst", "1000", data=False).start()
    try:
        for i in range(60):
            c = RawHttp(rs.http_port)
            c.send(post("/api/rooms/bk/messages", "m%d" % i))
            c.response()
            c.close()
        c = RawHttp(rs.http_port)
        c.send(get("/api/rooms/bk/messages"))
        r = c.response()
        c.close()
        msgs = json.loads(r[2])["messages"] if r and r[0] == 200 else None
        check("--backlog 0: GET messages without limit answers the newest 50",
              msgs is not None and len(msgs) == 50 and msgs[-1]["seq"] == 60, "got %r" % (r and r[:2],))
    finally:
        rs.stop()


def slow_body():
    # 10: a body trickled one byte every 2 s is cut at handshake_timeout_s.
    rs = Roost(BIN, "--handshake-timeout-s", "3", data=False).start()
    try:
        c = RawHttp(rs.http_port, timeout=20)
        c.send(post("/api/rooms/tt/messages", "x" * 40)[:-40])
        start = time.time()
        answered = None
        for _ in range(20):
            try:
                c.send(b"x")
            except OSError:
                break
            r = c.response(timeout=2)
            if r is not None or c.closed:
                answered = r
                break
        took = time.time() - start
        check("a trickled body is cut within the request time (%.1f s)" % took, took < 12)
        check("... with a JSON 408 (or a close)", answered is None or json_error(answered) == (408, "request_timeout"),
              "got %r" % (answered,))
        check("... and nothing was stored", head_of(rs, "tt") == 0)
        c.close()
    finally:
        rs.stop()


def tokens_and_room_list():
    # 15: the room list needs a token and shows only what it may read.
    rs = Roost(BIN, "--token", "kitchen %s rooms=kitchen" % TOKEN, "--token", "all %s rooms=*" % ALL,
               data=False).start()
    try:
        for room in ("kitchen", "private"):
            c = RawHttp(rs.http_port)
            c.send(post("/api/rooms/%s/messages" % room, "hi", extra="Authorization: Bearer %s\r\n" % ALL))
            check("a post into %s with the all-rooms token" % room, c.response()[0] == 201)
            c.close()
        for auth, what, status in (("", "no token", 401), ("Authorization: Bearer wrongwrongwrongwrong\r\n",
                                                            "a wrong token", 401)):
            c = RawHttp(rs.http_port)
            c.send(get("/api/rooms", extra=auth))
            r = c.response()
            check("GET /api/rooms with %s: %d" % (what, status), json_error(r) is not None and r[0] == status,
                  "got %r" % (r,))
            c.close()
        c = RawHttp(rs.http_port)
        c.send(get("/api/rooms", extra="Authorization: Bearer %s\r\n" % TOKEN))
        r = c.response()
        names = [x["room"] for x in json.loads(r[2])["rooms"]] if r and r[0] == 200 else None
        check("GET /api/rooms with the kitchen token lists only kitchen", names == ["kitchen"], "got %r" % (r,))
        c.close()
        c = RawHttp(rs.http_port)
        c.send(get("/api/rooms", extra="Authorization: Bearer %s\r\n" % ALL))
        r = c.response()
        names = sorted(x["room"] for x in json.loads(r[2])["rooms"]) if r and r[0] == 200 else None
        check("GET /api/rooms with the all-rooms token lists both", names == ["kitchen", "private"], "got %r" % (r,))
        c.close()
        c = RawHttp(rs.http_port)
        c.send(get("/metrics"))
        r = c.response()
        text = r[2].decode() if r else ""
        check("/metrics without a token: served, without room names",
              r is not None and r[0] == 200 and "roost_rooms" in text and "private" not in text
              and "kitchen" not in text, text[-500:])
        c.close()
        c = RawHttp(rs.http_port)
        c.send(get("/metrics", extra="Authorization: Bearer %s\r\n" % TOKEN))
        r = c.response()
        text = r[2].decode() if r else ""
        check("/metrics with the kitchen token names kitchen only",
              'room="kitchen"' in text and "private" not in text, text[-500:])
        c.close()
    finally:
        rs.stop()


def cross_site_posts(rs):
    # 17: a browser post from a foreign page is refused; devices and the page itself are not.
    tt = "/api/rooms/tt/messages"
    one_answer(rs, post(tt, "hi", extra="Origin: http://evil.example\r\n"), "a post with a foreign Origin", 403,
               "forbidden")
    one_answer(rs, post(tt, "hi", extra="Origin: null\r\n"), "a post with Origin: null", 403, "forbidden")
    one_answer(rs, post(tt, "hi", extra="Sec-Fetch-Site: cross-site\r\n"), "a post with Sec-Fetch-Site: cross-site",
               403, "forbidden")
    one_answer_ok(rs, post(tt, "hi"), "a post with no Origin (curl, a device) is taken")
    one_answer_ok(rs, post(tt, "hi", extra="Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n"
                           % rs.http_port), "a post from the page's own origin is taken")
    one_answer_ok(rs, post(tt, "hi", extra="Origin: http://localhost:%d\r\n" % rs.http_port),
                  "a post from localhost (a name of this machine) is taken")


def main():
    rs = Roost(BIN, "--max-body", "1024", "--max-text", "16", "--ring-bytes", "8192", "--max-data-keys", "4",
               "--addr-rate", "1000", "--addr-burst", "1000", data=False).start()
    try:
        refused_posts(rs)
        trailing_bytes(rs)
        leniency(rs)
        lws_errors(rs)
        sse_since(rs)
        epoch_after_long_argument(rs)
        cross_site_posts(rs)
    finally:
        code = rs.stop()
    check("roost exits 0 after the HTTP edges", code == 0, rs.output()[-2000:])
    default_limit()
    rooms_full_of_members()
    slow_body()
    tokens_and_room_list()
    return checks_exit()


if __name__ == "__main__":
    sys.exit(main())
