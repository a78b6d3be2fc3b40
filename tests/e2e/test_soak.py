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
from soak_actions import DEVICE_RING, RING, Actions  # noqa: E402
from soak_clients import BadResponse, get_request  # noqa: E402

MAX_ROOMS = 256
SETTINGS = ["--ring-msgs", str(RING), "--device-ring-msgs", str(DEVICE_RING), "--msg-rate", "100000", "--msg-burst", "100000", "--addr-rate", "100000",
            "--addr-burst", "100000", "--max-per-address", "4096", "--handshake-timeout-s", "4",
            "--error-limit", "10000", "--max-rooms", str(MAX_ROOMS)]
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
        # the broker holds (as e2e_server_policies measures it).
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


class Soak(Actions):
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.workdir = tempfile.mkdtemp(prefix="roost-soak-")
        self.server = Server(args.binary, self.workdir)
        self.ledger = Ledger()
        self.stop = False
        self.nicks = []  # nicks seen online, for DMs

    # --- helpers ----------------------------------------------------------
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
                # Every message held: people's and the readings between them.
                # The load fills the connection and request tables at times:
                # a 503 (server_busy) is a right answer then, so try again.
                held, got = None, None
                for _ in range(20):
                    c = await self.http()
                    await c.send(get_request("/api/rooms/%s/messages?limit=%d" % (room, RING + DEVICE_RING)))
                    r = await c.response()
                    c.close()
                    got = r.status if r is not None else "no answer"
                    if r is not None and r.status == 200:
                        held = r.json()
                        break
                    if r is not None and r.status != 503:
                        break
                    await asyncio.sleep(0.25)
            if held is None and got == 404 and await self.rooms_in_use() >= MAX_ROOMS:
                # Every room slot taken: an idle room is recycled for a new
                # name, its history with it (the contract: docs/protocol.md).
                self.ledger.actions["history gone with its recycled room (every slot taken)"] += 1
                continue
            if held is None:
                raise ConnectionError("the history of %s cannot be read (%s)" % (room, got))
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
                if epoch == held["epoch"] and text != "retry":  # a retry answers an earlier seq again
                    order[conn].append(seq)
            for conn, seqs in order.items():
                if seqs != sorted(seqs):
                    self.ledger.fail("acks on one connection out of order in %s: %r" % (room, seqs))
            self.ledger.checks["acks in order per connection and room"] += 1
        return upto

    async def rooms_in_use(self):
        """roost_rooms from /metrics (0 when it cannot be read)."""
        c = await self.http()
        await c.send(get_request("/metrics"))
        r = await c.response()
        c.close()
        if r is None or r.status != 200:
            return 0
        m = re.search(rb"^roost_rooms (\d+)$", r.body, re.M)
        return int(m.group(1)) if m else 0

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
            with open(os.path.join(self.workdir, "violations.txt"), "w") as f:
                f.write("\n".join(self.ledger.violations) + "\n")
            print("\nthe violations (all in %s/violations.txt):" % self.workdir)
            for v in self.ledger.violations[:20]:
                print("  " + v[:1000])
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
