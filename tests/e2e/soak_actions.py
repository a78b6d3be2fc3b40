"""The chaos soak's clients (test_soak.py): each action is one thing a
client of the broker may do, at random, and says what it saw: counts in the
ledger's actions, what held in its checks, what did not as a violation (or
as interrupted, when a kill -9 came in between)."""

import asyncio
import collections
import json
import time

from soak_clients import BadResponse, Closed, Http, Ws, frame, get_request, post_request

ROOMS = ["lobby"] + ["r%d" % i for i in range(1, 10)]
RING = 256  # the broker's --ring-msgs
DEVICE_RING = 64  # its --device-ring-msgs: readings are kept apart from people's messages


def words(rng, n):
    pool = ["hi", "ok", "caf\u00e9", "\U0001F600", "quote\"", "back\\slash", "tab\t", "line\nbreak", "\u0001ctl",
            "<b>", "&amp;", "long" * 20, "\u00fc\u00df", "\u4e2d\u6587"]
    return " ".join(rng.choice(pool) for _ in range(n))


class Actions:
    """The actions, mixed into the soak: they use self.server (gen, up,
    port), self.ledger, self.nicks and self.stop."""

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
