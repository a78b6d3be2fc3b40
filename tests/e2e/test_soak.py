#!/usr/bin/python3
"""The chaos soak: the real (ASan) roost binary with a data directory, under
random clients for SOAK_S seconds, killed with SIGKILL and restarted on the
same data directory every couple of minutes (at least once), stopped with
SIGTERM at the end. What the clients do: chat (say, dm, pipelined bursts),
join and leave many rooms, read slowly or stop reading, drop without
closing, stay silent after the upgrade, send malformed frames and malformed
HTTP, post as devices (with retries), read lists, history and /metrics,
follow SSE. What is checked all along:
  - every acknowledged message of a person (say, dm) is in its room's
    history once, at its seq, in its epoch, in the order it was acked;
  - every say is answered exactly once on its connection (or the connection
    closes first), and a retry answers the first seq;
  - every acknowledged device post has a seq no other message has, and a
    valid answer (a retry answers the same seq);
  - every HTTP request is answered once with a well-formed response;
  - no sanitizer report, in any run;
  - RSS within the reserved budget, and flat once the load stops;
  - descriptors back to their count at start once the clients are gone;
  - SIGTERM ends the broker with exit 0.
It prints what it did (counts per action) and what it checked; a violation
fails it with the seed that replays the same choices (--seed, SOAK_SEED).

usage: test_soak.py ROOST_BINARY [--seconds N] [--seed N] [--kill-every S] [--actors N]"""

import argparse
import asyncio
import collections
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import free_port  # noqa: E402
from soak_clients import BadResponse, Closed, Http, Ws, frame, get_request, post_request  # noqa: E402

ROOMS = ["lobby"] + ["r%d" % i for i in range(1, 10)]
RING = 256  # --ring-msgs
SETTINGS = ["--ring-msgs", str(RING), "--msg-rate", "100000", "--msg-burst", "100000", "--addr-rate", "100000",
            "--addr-burst", "100000", "--max-per-address", "4096", "--handshake-timeout-s", "4",
            "--error-limit", "10000", "--max-rooms", "256"]
SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehavior")


class Violation(Exception):
    pass


class Server:
    """The broker under test: one data directory and port for every run."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.data = os.path.join(workdir, "data")
        self.workdir = workdir
        self.port = free_port()
        self.proc = None
        self.runs = 0
        self.gen = 0  # bumped at every kill: what was under way then is not judged
        self.up = asyncio.Event()
        self.rss_start = self.rss_max = self.fds_start = 0
        self.reserved = 0

    def log(self, run=None):
        return os.path.join(self.workdir, "run%d.log" % (self.runs if run is None else run))

    async def start(self):
        self.runs += 1
        env = dict(os.environ)
        # quarantine 0: freed memory goes back at once, so RSS means what
        # the broker holds (as e2e_server measures it).
        env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0") if x)
        self.proc = subprocess.Popen([self.binary, "--bind", "127.0.0.1", "--http-port", str(self.port),
                                      "--https-port", "-1", "--data", self.data] + SETTINGS,
                                     stdout=open(self.log(), "w"), stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            text = open(self.log()).read()
            if "listening on http port" in text:
                break
            if self.proc.poll() is not None:
                raise Violation("run %d did not start (exit %s):\n%s" % (self.runs, self.proc.returncode, text[-2000:]))
            await asyncio.sleep(0.05)
        else:
            raise Violation("run %d did not start within 60 s" % self.runs)
        m = re.search(r"reserved ([\d.]+) MiB", open(self.log()).read())
        self.reserved = int(float(m.group(1)) * 1024) if m else 0
        self.rss_start = self.rss_max = self.rss()
        self.fds_start = self.fds()
        self.up.set()

    def rss(self):
        try:
            for line in open("/proc/%d/status" % self.proc.pid):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        except OSError:
            return 0

    def kill9(self):
        self.up.clear()
        self.gen += 1
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "hung"


class Ledger:
    """What the broker acknowledged, and every check made."""

    def __init__(self):
        self.acked = {}  # (room, epoch) -> {seq: (what, nick, cid, text)}
        self.person = []  # (room, epoch, seq, nick, cid, text) in ack order per connection
        self.actions = collections.Counter()
        self.checks = collections.Counter()
        self.violations = []

    def fail(self, what):
        self.violations.append(what)
        print("VIOLATION: %s" % what, flush=True)

    def ack(self, room, epoch, seq, what, nick, cid, text=None):
        if not isinstance(seq, int) or seq < 1 or seq >= 2 ** 53 or not epoch:
            self.fail("%s acked with seq %r epoch %r in %s" % (what, seq, epoch, room))
            return
        held = self.acked.setdefault((room, epoch), {})
        if seq in held and held[seq][:3] != (what, nick, cid):
            self.fail("seq %d of %s/%s acknowledged twice: %r and %r" % (seq, room, epoch, held[seq], (what, nick, cid)))
            return
        self.checks["acknowledged seqs unique per room and epoch"] += 1
        held[seq] = (what, nick, cid, text)


def words(rng, n):
    pool = ["hi", "ok", "caf\u00e9", "\U0001F600", "quote\"", "back\\slash", "tab\t", "line\nbreak", "\u0001ctl",
            "<b>", "&amp;", "long" * 20, "\u00fc\u00df", "\u4e2d\u6587"]
    return " ".join(rng.choice(pool) for _ in range(n))


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.workdir = tempfile.mkdtemp(prefix="roost-soak-")
        self.server = Server(args.binary, self.workdir)
        self.ledger = Ledger()
        self.stop = False
        self.nicks = []  # nicks seen online, for DMs

    # --- helpers ----------------------------------------------------------
    def judged(self, gen, what, detail):
        """A failure during an action: a violation unless a kill interrupted it."""
        if gen != self.server.gen or not self.server.up.is_set():
            self.ledger.actions["interrupted by a kill"] += 1
        else:
            self.ledger.fail("%s: %s" % (what, detail))

    async def ws(self):
        await self.server.up.wait()
        return await Ws.connect(self.server.port)

    async def http(self):
        await self.server.up.wait()
        return await Http.connect(self.server.port)

    async def until(self, ws, pred, state, timeout=20):
        """Events until pred(event); every event goes through note()."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise asyncio.TimeoutError()
            e = await ws.event(timeout=left)
            self.note(e, state)
            if pred(e):
                return e

    def note(self, e, state):
        """Every event a chat session sees: epochs from joined, answers to says."""
        t = e.get("type")
        if t == "joined":
            state["epochs"][e["room"]] = e["epoch"]
        elif t in ("ack", "error") and e.get("cid", e.get("ref")) in state["pending"]:
            cid = e.get("cid", e.get("ref"))
            room, text = state["pending"].pop(cid)
            state["answered"][cid] += 1
            if t == "ack":
                epoch = state["epochs"].get(e["room"])
                if e["room"] != room and not e["room"].startswith("@"):
                    self.ledger.fail("ack for %s names room %s" % (room, e["room"]))
                self.ledger.ack(e["room"], epoch, e["seq"], "person", state["nick"], cid, text)
                self.ledger.person.append((e["room"], epoch, e["seq"], state["nick"], cid, text, state["conn"]))
                first = state["first_seq"].setdefault(cid, e["seq"])
                state["first_room"].setdefault(cid, e["room"])
                # A retry is recognised while the first is in the ring.
                if first != e["seq"] and e["seq"] < first + RING:
                    self.ledger.fail("a retry of %s answered seq %d, first %d" % (cid, e["seq"], first))
        elif t in ("ack", "error") and "cid" in e and e["cid"] in state["answered"]:
            self.ledger.fail("say %s answered twice on one connection: %r" % (e["cid"], e))

    # --- actions ----------------------------------------------------------
    async def chat(self, rng, actor, pipelined):
        """hello, join 1-3 rooms, say (one at a time or in a burst), a dm."""
        gen = self.server.gen
        nick = "a%d_%d" % (actor, rng.randrange(1000))
        state = {"nick": nick, "epochs": {}, "pending": {}, "answered": collections.Counter(), "first_seq": {},
                 "first_room": {}, "conn": (actor, rng.random())}
        ws = None
        try:
            ws = await self.ws()
            await ws.send({"type": "hello", "nick": nick})
            await self.until(ws, lambda e: e["type"] in ("welcome", "error"), state)
            self.nicks.append(nick)
            rooms = rng.sample(ROOMS, rng.randint(1, 3))
            for room in rooms:
                await ws.send({"type": "join", "room": room, "backlog": 0})
                await self.until(ws, lambda e, r=room: e["type"] == "joined" and e["room"] == r, state)
            n = rng.choice((1, 5, 20, 80)) if pipelined else rng.randint(1, 4)
            cids = []
            for i in range(n):
                cid = "%s-%d-%d" % (nick, i, rng.randrange(10 ** 9))
                room, text = rng.choice(rooms), words(rng, rng.randint(1, 6))
                state["pending"][cid] = (room, text)
                cids.append(cid)
                await ws.send({"type": "say", "room": room, "text": text, "cid": cid})
                if not pipelined:
                    await self.until(ws, lambda e, c=cid: c not in state["pending"], state)
            if pipelined:
                await self.until(ws, lambda e: not state["pending"], state)
            if rng.random() < 0.3 and len(self.nicks) > 1:
                to = rng.choice(self.nicks[-20:])
                if to.lower() != nick.lower():
                    cid = "%s-dm-%d" % (nick, rng.randrange(10 ** 9))
                    text = words(rng, 2)
                    state["pending"][cid] = ("@", text)
                    await ws.send({"type": "dm", "to": to, "text": text, "cid": cid})
                    await self.until(ws, lambda e: cid not in state["pending"], state)
                    cids.append(cid)
            if rng.random() < 0.2:  # a retry of the first say, in its room: its first answer again
                cid = cids[0]
                if state["first_seq"].get(cid):
                    room, text = state["first_room"][cid], "retry"
                    state["answered"][cid] = 0
                    state["pending"][cid] = (room, text)
                    await ws.send({"type": "say", "room": room, "text": text, "cid": cid})
                    await self.until(ws, lambda e: cid not in state["pending"], state)
                    self.ledger.actions["say retried"] += 1
            for cid, count in state["answered"].items():
                if count != 1:
                    self.ledger.fail("say %s answered %d times" % (cid, count))
            self.ledger.checks["says answered exactly once"] += len(state["answered"])
            self.ledger.actions["say"] += n
            if rng.random() < 0.5:
                await ws.close()
            else:
                ws.drop()
                self.ledger.actions["dropped without closing"] += 1
        except Closed as e:
            # 4008 (fell behind) is a legitimate end; pending says are unknown.
            if e.code != 4008:
                self.judged(gen, "chat session %s" % nick, "closed %s with %d says pending" % (e.code, len(state["pending"])))
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "chat session %s" % nick, repr(e))
        finally:
            if ws is not None:
                ws.drop()

    async def hop(self, rng, actor):
        """Join every room a session may hold and one more (too_many_rooms), leave them."""
        gen = self.server.gen
        nick = "h%d_%d" % (actor, rng.randrange(1000))
        state = {"nick": nick, "epochs": {}, "pending": {}, "answered": collections.Counter(), "first_seq": {},
                 "first_room": {}, "conn": None}
        ws = None
        try:
            ws = await self.ws()
            await ws.send({"type": "hello", "nick": nick})
            await self.until(ws, lambda e: e["type"] == "welcome", state)
            names = ["hop%d" % i for i in range(17)]
            for room in names:
                await ws.send({"type": "join", "room": room, "backlog": 0})
            got = collections.Counter()
            while sum(got.values()) < 17:
                e = await self.until(ws, lambda e: e["type"] in ("joined", "error"), state)
                got[e["type"] if e["type"] == "joined" else e["code"]] += 1
            if got != {"joined": 16, "too_many_rooms": 1}:
                self.ledger.fail("joining 17 rooms with rooms_per_session 16 answered %r" % dict(got))
            self.ledger.checks["a 17th room refused, 16 joined"] += 1
            for room in names[:16]:
                await ws.send({"type": "leave", "room": room})
            for _ in range(16):
                await self.until(ws, lambda e: e["type"] in ("left", "error"), state)
            self.ledger.actions["join and leave 16 rooms"] += 1
            await ws.close()
        except Closed as e:
            self.judged(gen, "room hopper", "closed %s" % e.code)
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "room hopper", repr(e))
        finally:
            if ws is not None:
                ws.drop()

    async def slow_reader(self, rng, actor):
        """Joins the busy room, then reads slowly or not at all."""
        gen = self.server.gen
        ws = None
        try:
            ws = await self.ws()
            await ws.send({"type": "hello", "nick": "s%d_%d" % (actor, rng.randrange(1000))})
            await ws.send({"type": "join", "room": "lobby"})
            stop_reading = rng.random() < 0.5
            end = time.time() + rng.uniform(2, 6)
            while time.time() < end and not self.stop:
                if stop_reading:
                    await asyncio.sleep(0.5)
                    continue
                await ws.events(timeout=10)
                await asyncio.sleep(0.3)
            self.ledger.actions["read slowly" if not stop_reading else "stopped reading"] += 1
        except Closed as e:
            if e.code != 4008:
                self.judged(gen, "slow reader", "closed %s" % e.code)
            else:
                self.ledger.actions["slow reader closed 4008"] += 1
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "slow reader", repr(e))
        finally:
            if ws is not None:
                ws.drop()

    BAD_FRAMES = [  # (bytes or frame, the error code or the close code expected)
        (b"{not json", "bad_json"), (b"[1,2]", "bad_request"), (b'{"type":"fly"}', "unknown_type"),
        (b'{"type":"say","room":"nowhere","text":"x"}', "not_joined"), (b"\xff\xfe", "bad_utf8"),
        (b'{"type":"say","room":"lobby","text":"\\ud800"}', "bad_utf8"), (b'{"type":"join","room":null}', "bad_request"),
        (b'{"type":"join","room":"a b"}', "bad_request"),
    ]

    async def ws_malformed(self, rng, actor):
        gen = self.server.gen
        ws = None
        try:
            ws = await self.ws()
            await ws.send({"type": "hello", "nick": "m%d_%d" % (actor, rng.randrange(1000))})
            await ws.event(timeout=20)  # welcome
            kind = rng.random()
            if kind < 0.15:  # past max_frame: close 1009
                await ws.send(b'{"type":"say","room":"lobby","text":"' + b"x" * 20000 + b'"}')
                expect = 1009
            elif kind < 0.25:  # unmasked: 1002
                await ws.send_raw(frame(b'{"type":"ping"}', mask=False))
                expect = 1002
            else:
                for data, code in rng.sample(self.BAD_FRAMES, rng.randint(1, 4)):
                    await ws.send(data)
                    e = await ws.event(timeout=20)
                    if e.get("type") != "error" or e.get("code") != code:
                        self.ledger.fail("malformed frame %r answered %r, not %s" % (data[:40], e, code))
                    self.ledger.checks["malformed frames answered with their error"] += 1
                self.ledger.actions["malformed frames"] += 1
                await ws.close()
                return
            try:
                while True:
                    e = await ws.event(timeout=20)
                    if e.get("type") != "bye":
                        self.ledger.fail("a frame that must close (%d) was answered %r" % (expect, e))
                        break
            except Closed as e:
                if e.code != expect:
                    self.judged(gen, "a frame that must close %d" % expect, "closed %s" % e.code)
                self.ledger.checks["protocol failures closed with their code"] += 1
            self.ledger.actions["frames that close"] += 1
        except Closed as e:
            self.judged(gen, "malformed frames", "closed %s" % e.code)
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "malformed frames", repr(e))
        finally:
            if ws is not None:
                ws.drop()

    async def silent(self, rng, actor):
        """Upgrades and says nothing: bye, then closed 1008 at handshake_timeout_s."""
        gen = self.server.gen
        ws = None
        try:
            ws = await self.ws()
            try:
                while True:
                    e = await ws.event(timeout=15)
                    if e.get("type") != "bye":
                        self.ledger.fail("a silent socket got %r" % e)
                        break
            except Closed as e:
                if e.code != 1008:
                    self.judged(gen, "a silent socket", "closed %s, not 1008" % e.code)
                self.ledger.checks["silent sockets closed 1008"] += 1
            self.ledger.actions["silent socket"] += 1
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "a silent socket", repr(e))
        finally:
            if ws is not None:
                ws.drop()

    async def device(self, rng, actor):
        """Pipelined posts on one connection, text or JSON readings, with keys; a retry."""
        gen = self.server.gen
        c = None
        try:
            c = await self.http()
            reqs = []
            for i in range(rng.randint(1, 5)):
                room, key = rng.choice(ROOMS), "k%d-%d" % (actor, rng.randrange(10 ** 9))
                if rng.random() < 0.5:
                    body, ctype = words(rng, 3), "text/plain; charset=utf-8"
                else:
                    body, ctype = json.dumps({"text": "", "data": {"t": rng.uniform(-20, 40), "on": True}}), "application/json"
                reqs.append((room, key))
                await c.send(post_request(room, body, ctype, key))
            first = {}
            for room, key in reqs:
                r = await c.response()
                if r is None:
                    raise ConnectionError("no answer to a post")
                self.check_post(r, room, key, first)
            if rng.random() < 0.3:  # a retry answers the first seq
                room, key = reqs[0]
                await c.send(post_request(room, "again", "text/plain", key))
                r = await c.response()
                if r is None:
                    raise ConnectionError("no answer to a retry")
                self.check_post(r, room, key, first)
                self.ledger.actions["device post retried"] += 1
            self.ledger.actions["device post"] += len(reqs)
        except BadResponse as e:
            self.judged(gen, "device post", "a response not whole: %s" % e)
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "device post", repr(e))
        finally:
            if c is not None:
                c.close()

    def check_post(self, r, room, key, first):
        self.ledger.checks["HTTP responses whole and well-formed"] += 1
        if r.status not in (200, 201):
            self.ledger.fail("a device post to %s answered %d %r" % (room, r.status, r.body[:200]))
            return
        doc = r.json()
        if doc.get("room") != room or not isinstance(doc.get("ts"), int):
            self.ledger.fail("a post's answer %r" % doc)
            return
        if key in first:
            if r.status != 200 or doc["seq"] != first[key]:
                self.ledger.fail("a retried post answered %d seq %s, first %s" % (r.status, doc["seq"], first[key]))
            self.ledger.checks["retried posts answer the first seq"] += 1
            return
        first[key] = doc["seq"]
        self.ledger.ack(room, doc["epoch"], doc["seq"], "device", "device", key)

    async def half_and_drop(self, rng, actor):
        """Half a request or half a frame, then the connection drops."""
        gen = self.server.gen
        try:
            if rng.random() < 0.5:
                c = await self.http()
                whole = post_request(rng.choice(ROOMS), "never finished " * 10, "text/plain", "h%d" % rng.randrange(10 ** 9))
                await c.send(whole[:rng.randrange(1, len(whole))])
                await asyncio.sleep(rng.uniform(0, 0.3))
                c.drop()
            else:
                ws = await self.ws()
                await ws.send({"type": "hello", "nick": "d%d_%d" % (actor, rng.randrange(1000))})
                whole = frame(json.dumps({"type": "join", "room": rng.choice(ROOMS)}).encode())
                await ws.send_raw(whole[:rng.randrange(1, len(whole))])
                await asyncio.sleep(rng.uniform(0, 0.3))
                ws.drop()
            self.ledger.actions["half a request or frame, then dropped"] += 1
        except (asyncio.TimeoutError, ConnectionError, OSError, Closed) as e:
            self.judged(gen, "half and drop", repr(e))

    BAD_HTTP = [
        b"HELLO\r\n\r\n", b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 6000 + b"\r\n\r\n",
        b"POST /api/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n\r\n",
        b"POST /api/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nhi",
        b"POST /api/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{bad}",
        b"POST /api/rooms/lobby/messages HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 99999999\r\n\r\n",
        b"GET /api/rooms/lobby/messages?since=-1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b"DELETE /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/rooms/@a+b/messages HTTP/1.1\r\nHost: x\r\n\r\n",
    ]

    async def http_malformed(self, rng, actor):
        gen = self.server.gen
        data = rng.choice(self.BAD_HTTP)
        c = None
        try:
            c = await self.http()
            await c.send(data)
            r = await c.response()
            if r is None:
                self.judged(gen, "malformed HTTP %r" % data[:40], "no answer")
            elif r.status < 400:
                self.ledger.fail("malformed HTTP %r answered %d" % (data[:40], r.status))
            else:
                extra = await c.extra()
                if extra:
                    self.ledger.fail("malformed HTTP %r: bytes after the answer: %r" % (data[:40], extra[:100]))
                self.ledger.checks["malformed requests answered once, as JSON errors"] += 1
            self.ledger.actions["malformed HTTP"] += 1
        except BadResponse as e:
            self.judged(gen, "malformed HTTP %r" % data[:40], "a response not whole: %s" % e)
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "malformed HTTP %r" % data[:40], repr(e))
        finally:
            if c is not None:
                c.close()

    async def reads(self, rng, actor):
        """Lists, health, metrics, history and HEAD, pipelined on one connection."""
        gen = self.server.gen
        paths = [("GET", "/api/rooms"), ("GET", "/healthz"), ("GET", "/metrics"), ("HEAD", "/"),
                 ("GET", "/api/rooms/%s/messages?limit=%d" % (rng.choice(ROOMS), rng.randint(1, RING)))]
        todo = rng.sample(paths, rng.randint(1, len(paths)))
        c = None
        try:
            c = await self.http()
            await c.send(b"".join(get_request(p, method=m) for m, p in todo))
            for m, p in todo:
                r = await c.response(head_request=m == "HEAD")
                if r is None:
                    raise ConnectionError("no answer to %s %s" % (m, p))
                self.ledger.checks["HTTP responses whole and well-formed"] += 1
                if r.status not in (200, 404):
                    self.ledger.fail("%s %s answered %d" % (m, p, r.status))
                if p == "/metrics" and not r.body.endswith(b"\n"):
                    self.ledger.fail("/metrics cut: %r" % r.body[-100:])
            self.ledger.actions["reads (lists, health, metrics, history, HEAD)"] += len(todo)
        except BadResponse as e:
            self.judged(gen, "reads", "a response not whole: %s" % e)
        except (asyncio.TimeoutError, ConnectionError, OSError) as e:
            self.judged(gen, "reads", repr(e))
        finally:
            if c is not None:
                c.close()

    async def sse(self, rng, actor):
        """Follows a room's events for a while: whole events, ids ascending by one."""
        gen = self.server.gen
        room = rng.choice(ROOMS)
        c = None
        try:
            c = await self.http()
            await c.send(get_request("/api/rooms/%s/events?since=0" % room))
            h = await c.head()
            if h is None:
                raise ConnectionError("no answer to SSE")
            if h[0] == 404:  # no such room yet: a whole JSON error
                body = await c.reader.readexactly(int(h[1].get("content-length", "0")))
                if json.loads(body)["error"]["code"] != "no_such_room":
                    self.ledger.fail("SSE of a missing room answered %r" % body)
                c.close()
                return
            if h[0] != 200 or not h[1].get("content-type", "").startswith("text/event-stream"):
                self.ledger.fail("SSE answered %r" % (h,))
                return
            buf, prev, end = b"", None, time.time() + rng.uniform(1, 4)
            while time.time() < end and not self.stop:
                try:
                    chunk = await asyncio.wait_for(c.reader.read(65536), max(0.05, end - time.time()))
                except asyncio.TimeoutError:
                    break
                if not chunk:
                    break  # the room's history went (recycled) or the broker: reconnect
                buf += chunk
                while b"\n\n" in buf:
                    event, buf = buf.split(b"\n\n", 1)
                    lines = event.decode().split("\n")
                    if len(lines) != 3 or lines[0] != "event: msg" or not lines[1].startswith("id: "):
                        self.ledger.fail("an SSE event not whole: %r" % event[:200])
                        break
                    seq = int(lines[1][4:])
                    if json.loads(lines[2][6:])["seq"] != seq or (prev is not None and seq != prev + 1):
                        self.ledger.fail("SSE event %d after %s" % (seq, prev))
                    prev = seq
                    self.ledger.checks["SSE events whole, ids ascending"] += 1
            self.ledger.actions["followed SSE"] += 1
            if rng.random() < 0.5:
                c.close()
        except (asyncio.TimeoutError, ConnectionError, OSError, ValueError, BadResponse) as e:
            self.judged(gen, "SSE", repr(e))
        finally:
            if c is not None:
                c.drop()

    # --- the run ----------------------------------------------------------
    async def actor(self, actor):
        rng = random.Random(self.args.seed * 1000 + actor)
        table = [(self.chat, 30), (self.device, 20), (self.reads, 10), (self.http_malformed, 8), (self.ws_malformed, 8),
                 (self.sse, 6), (self.slow_reader, 4), (self.hop, 4), (self.half_and_drop, 4), (self.silent, 1)]
        total = sum(w for _, w in table)
        while not self.stop:
            pick = rng.uniform(0, total)
            for fn, w in table:
                pick -= w
                if pick <= 0:
                    break
            if fn == self.chat:
                await fn(rng, actor, rng.random() < 0.4)
            else:
                await fn(rng, actor)
            await asyncio.sleep(rng.uniform(0, 0.05))

    async def watch_memory(self):
        while not self.stop:
            if self.server.up.is_set():
                self.server.rss_max = max(self.server.rss_max, self.server.rss())
            await asyncio.sleep(0.5)

    def check_run(self, run):
        log = open(self.server.log(run), errors="replace").read()
        m = SANITIZER.search(log)
        if m:
            self.ledger.fail("run %d: a sanitizer report: %s" % (run, log[m.start():m.start() + 1500]))
        self.ledger.checks["runs free of sanitizer reports"] += 1

    def check_memory(self):
        s = self.server
        budget = s.reserved + 24 * 1024  # the core's reservation, plus the platform's buffers and lws
        if s.rss_max - s.rss_start > budget:
            self.ledger.fail("RSS rose %d KiB in run %d, more than the budget %d KiB" % (s.rss_max - s.rss_start, s.runs, budget))
        self.ledger.checks["RSS within the reserved budget (per run)"] += 1
        print("run %d: RSS %d KiB at start, at most %d KiB (budget %d KiB more)" % (s.runs, s.rss_start, s.rss_max, budget),
              flush=True)

    async def history_check(self, first=0, dms=True):
        """Every acked person message from person[first:] that is still
        held: in its room, at its seq, once, in ack order per connection.
        Returns where the next check may start."""
        upto = len(self.ledger.person)
        by_room = collections.defaultdict(list)
        for room, epoch, seq, nick, cid, text, conn in self.ledger.person[first:upto]:
            if dms or not room.startswith("@"):
                by_room[room].append((epoch, seq, nick, cid, text, conn))
        for room, acked in by_room.items():
            if room.startswith("@"):
                held = await self.ws_history(room, acked[0][2])
            else:
                c = await self.http()
                await c.send(get_request("/api/rooms/%s/messages?limit=%d" % (room, RING)))
                r = await c.response()
                c.close()
                held = r.json() if r is not None and r.status == 200 else None
            if held is None:
                raise ConnectionError("the history of %s cannot be read" % room)
            msgs = {m["seq"]: m for m in held["messages"]}
            by_cid = collections.Counter((m.get("from", "").lower(), m.get("cid")) for m in held["messages"])
            for epoch, seq, nick, cid, text, conn in acked:
                if epoch != held["epoch"] or seq < held["oldest"]:
                    continue  # another history (the room was recycled), or pushed out of the ring
                m = msgs.get(seq)
                if m is None or m.get("cid") != cid or m.get("from") != nick or (text != "retry" and m.get("text") != text):
                    self.ledger.fail("acked %s seq %d (%s from %s) is not in the history: %r" % (room, seq, cid, nick, m))
                elif by_cid[(nick.lower(), cid)] != 1:
                    self.ledger.fail("acked %s seq %d (%s) is in the history %d times" % (room, seq, cid, by_cid[(nick.lower(), cid)]))
                else:
                    self.ledger.checks["acked person messages found in the history once, at their seq"] += 1
            order = collections.defaultdict(list)
            for epoch, seq, nick, cid, text, conn in acked:
                if epoch == held["epoch"]:
                    order[conn].append(seq)
            for conn, seqs in order.items():
                firsts = [s for i, s in enumerate(seqs) if s not in seqs[:i]]
                if firsts != sorted(firsts):
                    self.ledger.fail("acks on one connection out of order in %s: %r" % (room, seqs))
            self.ledger.checks["acks in order per connection and room"] += 1
        return upto

    async def watch_history(self):
        """While the load runs: what was acked since the last look, every 3 s
        (before busy rooms push it out of their rings)."""
        first = 0
        while not self.stop:
            await asyncio.sleep(3)
            gen = self.server.gen
            try:
                first = await self.history_check(first, dms=False)
            except (asyncio.TimeoutError, ConnectionError, OSError, BadResponse) as e:
                self.judged(gen, "reading the history", repr(e))

    async def ws_history(self, room, nick):
        """A direct-message room's history, read by one of its parties."""
        ws = await self.ws()
        try:
            await ws.send({"type": "hello", "nick": nick})
            await ws.send({"type": "join", "room": room, "backlog": RING})
            joined, msgs = None, []
            while joined is None or len(msgs) < joined["head"] - joined["oldest"] + 1:
                for e in await ws.events(timeout=20):
                    if e["type"] == "joined" and e["room"] == room:
                        joined = e
                    elif e["type"] == "msg" and e["room"] == room and joined is not None:
                        msgs.append(e)
            return {"epoch": joined["epoch"], "oldest": joined["oldest"], "messages": msgs}
        finally:
            await ws.close()

    async def quiet_checks(self):
        """Load stopped: descriptors back to where they were, RSS flat."""
        s = self.server
        deadline = time.time() + 20
        while s.fds() > s.fds_start and time.time() < deadline:
            await asyncio.sleep(0.25)
        if s.fds() != s.fds_start:
            self.ledger.fail("descriptors: %d at start, %d after the clients left" % (s.fds_start, s.fds()))
        self.ledger.checks["descriptors back to their count at start"] += 1
        r1 = s.rss()
        await asyncio.sleep(5)
        r2 = s.rss()
        if r2 - r1 > 512:
            self.ledger.fail("RSS still rising after the load stopped: %d -> %d KiB" % (r1, r2))
        self.ledger.checks["RSS flat once the load stopped"] += 1
        print("quiet: %d descriptors (%d at start), RSS %d -> %d KiB over 5 s" % (s.fds(), s.fds_start, r1, r2), flush=True)

    async def run(self):
        a = self.args
        print("soak: seed %d, %d s, %d actors, a kill -9 every %d s; data in %s" % (a.seed, a.seconds, a.actors,
              a.kill_every, self.workdir), flush=True)
        await self.server.start()
        start = time.time()
        kills = [k for k in range(a.kill_every, a.seconds, a.kill_every)] or [max(5, int(a.seconds * 0.4))]
        tasks = [asyncio.ensure_future(self.actor(i)) for i in range(a.actors)]
        tasks.append(asyncio.ensure_future(self.watch_memory()))
        tasks.append(asyncio.ensure_future(self.watch_history()))
        for at in kills:
            await asyncio.sleep(max(0, start + at - time.time()))
            self.check_memory()
            self.server.kill9()
            self.ledger.actions["kill -9 and restart"] += 1
            self.check_run(self.server.runs)
            print("%.0f s: kill -9, restarting on %s" % (time.time() - start, self.server.data), flush=True)
            await self.server.start()
            await self.history_check()
        await asyncio.sleep(max(0, start + a.seconds - time.time()))
        self.stop = True
        done, pending = await asyncio.wait(tasks, timeout=60)
        for t in pending:
            t.cancel()
            self.ledger.fail("an actor did not finish within 60 s of the end")
        for t in done:
            if t.exception() is not None:
                self.ledger.fail("an actor failed: %r" % t.exception())
        self.check_memory()
        await self.history_check()
        await self.quiet_checks()
        code = self.server.term()
        if code != 0:
            self.ledger.fail("SIGTERM: exit %s" % code)
        self.ledger.checks["SIGTERM ends it with exit 0"] += 1
        self.check_run(self.server.runs)

    def report(self):
        print("\nwhat the soak did:")
        for what, n in sorted(self.ledger.actions.items()):
            print("  %7d  %s" % (n, what))
        print("what it checked:")
        for what, n in sorted(self.ledger.checks.items()):
            print("  %7d  %s" % (n, what))
        if self.ledger.violations:
            print("\nFAILED: %d violations; replay with --seed %d (SOAK_SEED=%d make soak); data and logs in %s"
                  % (len(self.ledger.violations), self.args.seed, self.args.seed, self.workdir))
            return 1
        print("\nsoak passed (seed %d)" % self.args.seed)
        shutil.rmtree(self.workdir, ignore_errors=True)
        return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_S", "600")))
    p.add_argument("--seed", type=int, default=int(os.environ.get("SOAK_SEED", "0")) or random.randrange(1, 10 ** 6))
    p.add_argument("--kill-every", type=int, default=120)
    p.add_argument("--actors", type=int, default=24)
    soak = Soak(p.parse_args())
    try:
        asyncio.run(soak.run())
    except Violation as e:
        soak.ledger.fail(str(e))
    return soak.report()


if __name__ == "__main__":
    sys.exit(main())
