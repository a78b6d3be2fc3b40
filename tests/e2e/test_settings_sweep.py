#!/usr/bin/python3
"""Settings at their extremes, against the real roost binary: every numeric
setting at the minimum and at the maximum of its range, and the risky pairs
together, each a start of its own. The list comes from the settings table
itself (`roost --help`, generated from platform/settings_table.cpp), so a
setting added there is covered the day it is added.

Each start either runs, and then hello, join, say, a device post, the room
list, /healthz, /metrics, the history and SSE all answer completely and
validly (or with a documented refusal, retried), and SIGTERM ends it with
exit 0; or it exits 2 at once with a message naming the setting. Never a
crash, a sanitizer report, exit 134, a hang or a cut answer.

usage: test_settings_sweep.py ROOST_BINARY [--jobs N] [--only NAME[,NAME]]"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import roost_harness  # noqa: E402
from roost_harness import RawHttp, RawWs, check, checks_exit  # noqa: E402

roost_harness._keep_going = True  # every case is reported, then the test fails

BIN = sys.argv[1]
JOBS = int(sys.argv[sys.argv.index("--jobs") + 1]) if "--jobs" in sys.argv else 2
ONLY = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None

# The ports: -1 is off (both off exits 2); the highest port may be taken by
# someone else, and then the start fails with exit 1 saying so (a failing
# bind is a runtime failure, not a setting the broker refuses).
PORTS = ("http_port", "https_port")
# Pairs that multiply into the reservation or into one answer.
PAIRS = (("max_rooms", "ring_bytes"), ("max_sessions", "rooms_per_session"), ("reads_per_room", "max_rooms"),
         ("max_text", "max_frame"), ("max_devices", "keys_per_device"), ("max_series", "max_devices"))


def settings_table():
    """{name: (default, lo, hi)} of every numeric setting, from --help."""
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30).stdout
    table = {}
    for line in out.splitlines():
        m = re.match(r"^  --([a-z0-9-]+) \S+ +.*\((?:default (-?\d+); )?range (-?\d+) to (-?\d+)\)$", line)
        if m:
            table[m.group(1).replace("-", "_")] = (int(m.group(2)) if m.group(2) else None, int(m.group(3)),
                                                   int(m.group(4)))
    return table


def flag(name):
    return "--" + name.replace("_", "-")


class Start:
    """One start of the binary: runs (http_port set) or exited (code, stderr)."""

    def __init__(self, args):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="roost-sweep-")
        self.log_path = os.path.join(self.tmp, "roost.log")
        self.err_path = os.path.join(self.tmp, "roost.err")
        cmd = [BIN, "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "-1"] + args
        self.proc = subprocess.Popen(cmd, stdout=open(self.log_path, "w"), stderr=open(self.err_path, "w"))
        self.http_port = None
        deadline = time.time() + 90  # a large reservation under ASan takes a while
        while time.time() < deadline:
            m = re.search(r"listening on http port (\d+)", open(self.log_path).read())
            if m:
                self.http_port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                return
            time.sleep(0.05)
        self.proc.kill()
        self.proc.wait()

    def stderr(self):
        return open(self.err_path, errors="replace").read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return "hung at SIGTERM"
        return self.proc.returncode


def retrying(what, fn, tries=25):
    """fn() -> result or None (refused: closed at accept, or a 503); retried."""
    for _ in range(tries):
        r = fn()
        if r is not None:
            return r
        time.sleep(0.2)
    raise AssertionError("%s: refused %d times" % (what, tries))


def http_once(port, request, head=False):
    c = RawHttp(port, timeout=10)
    try:
        c.send(request)
        r = c.response(timeout=10, head=head)
    finally:
        c.close()
    if r is None or (r[0] == 503 and b"server_busy" in r[2]):
        return None
    return r


def json_answer(r, what):
    status, headers, body = r
    assert headers.get("content-type", "").startswith("application/json"), (what, headers)
    assert int(headers.get("content-length", "-1")) == len(body), (what, "length", headers, len(body))
    doc = json.loads(body)  # the whole body, one document
    if status >= 400:
        assert set(doc) == {"error"} and isinstance(doc["error"].get("code"), str), (what, doc)
    return doc


def ws_events(ws, until, timeout=15):
    """Events from the socket (arrays flattened) up to the first `until` type."""
    ws.sock.settimeout(timeout)
    got = []
    while True:
        op, payload = ws.frame()
        if op == 8:
            raise AssertionError("closed: %r (after %s)" % (payload, got))
        if op != 1:
            continue
        data = json.loads(payload)
        for e in data if isinstance(data, list) else [data]:
            got.append(e)
            if e.get("type") in until:
                return got


def drive(port, limits_seen):
    """hello, join, say over a WebSocket; then a device post, the lists,
    /metrics, the history and SSE over HTTP, one connection at a time (a
    start with one connection allowed serves them all)."""
    ws = retrying("the WebSocket upgrade", lambda: _ws(port))
    try:
        ws.send({"type": "hello", "nick": "ann"})
        ev = ws_events(ws, ("welcome", "error"))
        assert ev[-1]["type"] == "welcome", ev
        limits_seen.update(ev[-1]["limits"])
        ws.send({"type": "join", "room": "r"})
        ev = ws_events(ws, ("joined", "error"))
        assert ev[-1]["type"] == "joined" and ev[-1]["room"] == "r", ev
        # The longest text a frame carries (the say around it takes < 512).
        text = "x" * min(limits_seen["max_text"], limits_seen["max_frame"] - 512)
        ws.send({"type": "say", "room": "r", "text": text, "cid": "c"})
        ev = ws_events(ws, ("ack", "error"))
        assert ev[-1]["type"] == "ack" and ev[-1]["seq"] == 1, ev
    finally:
        ws.sock.close()
    # A device's text of max_text control characters: each is written
    # \u00XX, the largest event the settings allow, through every answer.
    body = b"\x01" * limits_seen["max_text"]
    post = (b"POST /api/rooms/r/messages?from=probe HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body
    r = retrying("the device post", lambda: http_once(port, post))
    doc = json_answer(r, "POST")
    assert r[0] == 201 and doc["seq"] == 2 and doc["room"] == "r", (r[0], doc)
    doc = json_answer(retrying("GET /api/rooms", lambda: http_once(port, b"GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n")),
                      "rooms")
    assert [x["room"] for x in doc["rooms"]] == ["r"] and doc["rooms"][0]["head"] == 2, doc
    doc = json_answer(retrying("GET /healthz", lambda: http_once(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")),
                      "healthz")
    assert doc["status"] == "ok", doc
    r = retrying("GET /metrics", lambda: http_once(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
    text = r[2].decode()
    assert r[0] == 200 and int(r[1]["content-length"]) == len(r[2]) and text.endswith("\n"), (r[0], text[-200:])
    assert 'roost_ring_fill{room="r"}' in text, text[-400:]
    doc = json_answer(retrying("GET history", lambda: http_once(
        port, b"GET /api/rooms/r/messages?since=0 HTTP/1.1\r\nHost: x\r\n\r\n")), "history")
    seqs = [m["seq"] for m in doc["messages"]]
    assert doc["head"] == 2 and seqs == list(range(doc["oldest"], 3)), doc
    assert doc["messages"][-1]["text"] == body.decode(), "the device's text comes back whole"
    sse(port)
    devices(port)


def streamed(port, path):
    """A devices answer, one JSON document: whole with its Content-Length, or
    (larger than a request buffer) without one, up to the close. None when
    refused for load (closed at accept, a 503)."""
    c = RawHttp(port, timeout=30)
    try:
        c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
        deadline = time.time() + 60
        while b"\r\n\r\n" not in c.buf and not c.closed and time.time() < deadline:
            c._fill(deadline)
        if b"\r\n\r\n" not in c.buf:
            return None
        head, body = c.buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ")[1])
        if status == 503:
            return None
        m = re.search(rb"(?im)^content-length: *(\d+)", head)
        while (len(c.buf) - len(head) - 4 < int(m.group(1)) if m else not c.closed) and time.time() < deadline:
            c._fill(deadline)
        body = c.buf.split(b"\r\n\r\n", 1)[1]
    finally:
        c.close()
    assert status == 200 and (m is None or int(m.group(1)) == len(body)), (path, head, len(body))
    return json.loads(body)  # the whole body, one document


def devices(port):
    """A reading (refused only for max_series or max_data_keys = 0, naming
    it), then the
    room's devices, the reading's series at its coarsest and /metrics."""
    post = (b'POST /api/rooms/r/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
            b'Content-Length: %d\r\n\r\n')
    body = b'{"from":"meter","text":"r","data":{"v":20.5}}'
    stored = None
    for _ in range(25):
        r = http_once_raw(port, post % len(body) + body)
        if r is not None and r[0] in (400, 503) and (b"max_series" in r[2] or b"max_data_keys" in r[2]):
            json_answer(r, "refused reading")
            stored = False
            break
        if r is not None and r[0] == 429:
            time.sleep(1.1)  # addr_burst = 1: the first post took it
            continue
        if r is not None and r[0] != 503:
            doc = json_answer(r, "reading")
            assert r[0] == 201, (r[0], doc)
            stored = True
            break
        time.sleep(0.2)
    assert stored is not None, "the reading: refused for load 25 times"
    doc = retrying("GET devices", lambda: streamed(port, b"/api/rooms/r/devices"))
    names = [d["name"] for d in doc["devices"]]
    assert names == (["meter"] if stored else []), doc
    if not stored:
        return
    assert doc["devices"][0]["values"] == {"v": 20.5}, doc
    doc = retrying("GET series", lambda: streamed(port, b"/api/rooms/r/devices/meter/series?key=v&range=30d"))
    full = [p for p in doc["points"] if p[1] is not None]
    assert full == [[full[0][0], 20.5, 20.5, 20.5]] and len(doc["points"]) >= 1, (len(doc["points"]), full)
    r = retrying("GET /metrics", lambda: http_once(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert 'roost_device_value{room="r",device="meter",key="v"} 20.5' in r[2].decode(), r[2][-400:]


def http_once_raw(port, request):
    c = RawHttp(port, timeout=10)
    try:
        c.send(request)
        return c.response(timeout=10)
    finally:
        c.close()


def _ws(port):
    try:
        return RawWs(port)
    except (ConnectionError, OSError):
        return None


def sse(port):
    """The room's events from the start: whole events, ids ascending, up to 2."""
    def once():
        c = RawHttp(port, timeout=10)
        c.send(b"GET /api/rooms/r/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.time() + 10
        while b"\r\n\r\n" not in c.buf and time.time() < deadline and c._fill(deadline):
            pass
        if b"\r\n\r\n" not in c.buf:
            c.close()
            return None
        head, rest = c.buf.split(b"\r\n\r\n", 1)
        if b" 503 " in head.split(b"\r\n")[0]:
            c.close()
            return None
        assert b" 200 " in head.split(b"\r\n")[0] and b"text/event-stream" in head, head
        c.buf = rest
        while b"id: 2\n" not in c.buf or not c.buf.endswith(b"\n\n"):
            if not c._fill(deadline) or time.time() > deadline:
                break
        body = c.buf
        c.close()
        return body
    body = retrying("SSE", once)
    ids = []
    for event in body.decode().split("\n\n"):
        if not event:
            continue
        lines = event.split("\n")
        assert lines[0] == "event: msg" and lines[1].startswith("id: ") and lines[2].startswith("data: "), event
        ids.append(int(lines[1][4:]))
        assert json.loads(lines[2][6:])["seq"] == ids[-1], event
    assert ids and ids[-1] == 2 and ids == list(range(ids[0], 3)), ids


def one_case(what, args, names, results):
    """Starts with `args`: runs and serves, or exits 2 naming one of `names`."""
    s = Start(args)
    outcome = None
    try:
        if s.http_port is None:
            code, err = s.proc.returncode, s.stderr()
            named = any(n in err or flag(n) in err for n in names)
            clean = "Sanitizer" not in err and "runtime error" not in err
            taken = code == 1 and names[0] in PORTS and "port" in err
            ok = ((code == 2 and named) or taken) and clean
            outcome = ("exit 2" if code == 2 else "exit %s" % code, ok, err.strip()[-300:])
        else:
            limits = {}
            try:
                drive(s.http_port, limits)
                served, detail = True, ""
            except Exception as e:  # noqa: BLE001 (any failure of the drive is the finding)
                served, detail = False, repr(e)[:600]
            code = s.stop()
            err = s.stderr()
            clean = "Sanitizer" not in err and "runtime error" not in err
            outcome = ("starts", served and code == 0 and clean,
                       detail or ("exit %s at SIGTERM" % code if code != 0 else "") or err[-400:])
    finally:
        s.stop()
    results.append((what, outcome))


def cases(table):
    out = []
    for name, (default, lo, hi) in sorted(table.items()):
        if ONLY and name not in ONLY:
            continue
        for v in (lo, hi):
            out.append(("%s = %d" % (name, v), [flag(name), str(v)], [name]))
    if not ONLY:
        # The risky pairs at every corner of their ranges.
        for a, b in PAIRS:
            (_, alo, ahi), (_, blo, bhi) = table[a], table[b]
            for va in (alo, ahi):
                for vb in (blo, bhi):
                    out.append(("%s = %d with %s = %d" % (a, va, b, vb), [flag(a), str(va), flag(b), str(vb)], [a, b]))
        # The longest text with what it needs around it (the maximum alone
        # exits 2 asking for these): the largest message there can be.
        t = table["max_text"][2]
        # The device archives (a list, not in the numeric table): the
        # finest and longest one archive may be (100000 buckets), and four.
        for arch in ("1s:100000s", "1s:100000s,10s:1000000s,100s:10000000s,1000s:100000000s"):
            out.append(("device_archives = " + arch, ["--device-archives", arch], ["device_archives"]))
        out.append(("max_text = %d with max_body, max_frame and ring_bytes to carry it" % t,
                    [flag("max_text"), str(t), flag("max_body"), str(t), flag("max_frame"), str(t + 512),
                     flag("ring_bytes"), str(16 * t + 4096)], ["max_text"]))
    return out


def main():
    table = settings_table()
    check("the settings table lists its numeric settings (%d)" % len(table), len(table) >= 30, table)
    todo = cases(table)
    results = []
    lock = threading.Lock()
    queue = list(todo)
    start = time.time()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                what, args, names = queue.pop(0)
            one_case(what, args, names, results)

    threads = [threading.Thread(target=worker) for _ in range(JOBS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts = sum(1 for _, o in results if o[0] == "starts")
    exits = sum(1 for _, o in results if o[0] == "exit 2")
    for what, (kind, ok, detail) in sorted(results):
        check("%s: %s%s" % (what, kind, "" if kind == "starts" else ", naming the setting"), ok, detail)
    singles = sum(1 for what, _ in results if " with " not in what)
    print("settings sweep: %d numeric settings x 2 bounds = %d starts, %d more for the risky pairs and the longest "
          "text; %d started and served everything, %d exited 2 naming the setting; %.0f s"
          % (len([n for n in table if not ONLY or n in ONLY]), singles, len(results) - singles, starts, exits,
             time.time() - start))
    return checks_exit()


if __name__ == "__main__":
    sys.exit(main())
