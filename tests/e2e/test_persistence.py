#!/usr/bin/env python3
"""End-to-end tests of persistence (crash-safe on-disk history) against
the real binary: kill -9 in the middle of a stream of posts, bit
flips and truncation of the files, a full disk (a small tmpfs, as root),
files the broker must refuse (exit code 2), keys and read marks.

    /usr/bin/python3 tests/e2e/test_persistence.py ROOST_BINARY FAILING_FSYNC_SO
"""
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, Roost, check, checks_passed  # noqa: E402

BIN = sys.argv[1]


FAST = ["--msg-rate", "1000000", "--msg-burst", "1000000", "--addr-rate", "1000000", "--addr-burst", "1000000"]


def history(rs, room):
    """Every message the broker holds in `room`, by seq (HTTP, in pages)."""
    out, since, epoch = {}, 0, None
    while True:
        st, _, body = rs.http("GET", "/api/rooms/%s/messages?since=%d&limit=200" % (room, since))
        assert st == 200, (st, body)
        epoch = body["epoch"]
        for m in body["messages"]:
            out[m["seq"]] = m
        if not body["messages"] or body["messages"][-1]["seq"] >= body["head"]:
            return epoch, body["head"], body["oldest"], out
        since = body["messages"][-1]["seq"]


async def stream(rs, name, room, count, acked, stop_after, killed):
    """Says `count` messages with cids, 32 in flight; records acks."""
    c = await Client.connect(rs, name)
    await c.send({"type": "join", "room": room, "backlog": 0})
    await c.wait("joined")
    sent = 0
    inflight = 0
    try:
        while sent < count or inflight:
            while sent < count and inflight < 32:
                await c.send({"type": "say", "room": room, "text": "%s says %d" % (name, sent), "cid": "%s-%d" % (name, sent)})
                sent += 1
                inflight += 1
            ack = await c.wait("ack", timeout=20)
            acked[ack["cid"]] = ack["seq"]
            inflight -= 1
            if len(acked) >= stop_after and not killed.done():
                killed.set_result(True)
    except Exception:  # the broker was killed under us
        pass


async def kill9_mid_stream(policy):
    rs = Roost(BIN, "--ring-msgs", "16384", "--ring-bytes", str(4 << 20), "--max-rooms", "4", "--fsync", policy,
               *FAST, "--https-port", "-1").start()
    acked = {}
    killed = asyncio.get_running_loop().create_future()
    writers = [asyncio.ensure_future(stream(rs, "w%d" % i, "stream", 2500, acked, 5000, killed)) for i in range(4)]
    await killed
    rs.proc.send_signal(signal.SIGKILL)
    rs.proc.wait()
    await asyncio.gather(*writers)
    check("fsync=%s: kill -9 after %d of 10,000 posts from 4 clients were acknowledged" % (policy, len(acked)),
          5000 <= len(acked) < 10000)
    again = Roost(BIN, "--ring-msgs", "16384", "--ring-bytes", str(4 << 20), "--max-rooms", "4", "--fsync", policy,
                  *FAST, "--https-port", "-1", data=rs.data).start()
    epoch, head, oldest, msgs = history(again, "stream")
    missing = [cid for cid, seq in acked.items() if seq not in msgs or msgs[seq].get("cid") != cid]
    check("fsync=%s: every acknowledged message is there with its seq after the restart" % policy, not missing,
          str(missing[:5]))
    check("fsync=%s: seqs 1..%d are contiguous, no duplicate cid" % (policy, head),
          oldest == 1 and sorted(msgs) == list(range(1, head + 1)) and len({m["cid"] for m in msgs.values()}) == head)
    texts_ok = all(m["text"] == "%s says %s" % tuple(m["cid"].split("-")) for m in msgs.values())
    check("fsync=%s: every restored message is the one that was sent" % policy, texts_ok)
    # The epoch did not change: a client recovers exactly with `since`.
    c = await Client.connect(again, "reader")
    some = sorted(acked.values())[len(acked) // 2]
    await c.send({"type": "join", "room": "stream", "since": {"epoch": epoch, "seq": some}})
    j = await c.wait("joined")
    check("fsync=%s: the epoch survives; join with since recovers (recovered: true)" % policy,
          j["recovered"] is True and j["epoch"] == epoch and j["head"] == head)
    got = [(await c.wait("msg", timeout=10))["seq"] for _ in range(head - some)]
    check("fsync=%s: the replay continues exactly after since" % policy, got == list(range(some + 1, head + 1)))
    st, _, b = again.http("POST", "/api/rooms/stream/messages?from=dev", b"over http", {"Content-Type": "text/plain"})
    check("fsync=%s: an HTTP post is answered 201 with the next seq (after its sync)" % policy,
          st == 201 and b["seq"] == head + 1 and b["epoch"] == epoch, str(b))
    check("fsync=%s: /healthz says so" % policy, again.http("GET", "/healthz")[2]["persistence"] == policy)
    await c.ws.close()
    again.stop()
    return rs.data, epoch


async def keys_and_reads():
    rs = Roost(BIN, "--https-port", "-1").start()
    ann = await Client.connect(rs, None)
    await ann.send({"type": "hello", "nick": "Ann", "key": "ann-secret-key-0123"})
    await ann.wait("welcome")
    await ann.send({"type": "join", "room": "lobby"})
    await ann.wait("joined")
    for i in range(3):
        await ann.send({"type": "say", "room": "lobby", "text": "m%d" % i})
        await ann.wait("ack")
    await ann.send({"type": "read", "room": "lobby", "seq": 2})
    await asyncio.sleep(0.3)
    await ann.ws.close()
    rs.proc.send_signal(signal.SIGKILL)
    rs.proc.wait()
    again = Roost(BIN, "--https-port", "-1", data=rs.data).start()
    thief = await Client.connect(again, None)
    await thief.send({"type": "hello", "nick": "ann", "key": "not-the-key-0123456"})
    e = await thief.wait("error")
    check("a nick's key survives kill -9: another key gets nick_taken", e["code"] == "nick_taken")
    bob = await Client.connect(again, "bob")
    await bob.send({"type": "join", "room": "lobby"})
    j = await bob.wait("joined")
    check("read marks survive kill -9 (joined.reads)", j["reads"].get("Ann") == 2, str(j))
    owner = await Client.connect(again, None)
    await owner.send({"type": "hello", "nick": "ann", "key": "ann-secret-key-0123"})
    check("the key's owner is welcome", (await owner.wait("welcome"))["nick"] == "ann")
    again.stop()


async def say_many(rs, rooms, count):
    """`count` says into each room from one WebSocket client (people's
    history, history.roost): {(room, seq): text}."""
    c = await Client.connect(rs, "writer")
    sent = {}
    for room in rooms:
        await c.send({"type": "join", "room": room, "backlog": 0})
        await c.wait("joined", room=room)
        for i in range(1, count + 1):
            text = "%s %d" % (room, i)
            await c.send({"type": "say", "room": room, "text": text, "cid": "%s-%d" % (room, i)})
            sent[(room, (await c.wait("ack", cid="%s-%d" % (room, i)))["seq"])] = text
    await c.close()
    return sent


async def flip_bits_and_truncate():
    rs = Roost(BIN, "--https-port", "-1", "--max-rooms", "4", *FAST).start()
    sent = await say_many(rs, ("alpha", "beta"), 120)
    _, _, _, before = history(rs, "alpha")
    check("clean shutdown exits 0", rs.stop() == 0)
    path = os.path.join(rs.data, "history.roost")
    data = bytearray(open(path, "rb").read())
    slot = (len(data) - 4096) // 4

    def records(i):  # offsets of the records in slot i (magic F7 52 4D 01 at 32-byte alignment)
        base = 4096 + i * slot
        return [o for o in range(base + 256, base + slot, 32) if data[o:o + 4] == b"\xf7RM\x01"]
    # Slot 0 (alpha): 5 flipped bits, each in a different record (header or text).
    rnd = random.Random(4711)
    flips = [o + rnd.randrange(0, 90) for o in rnd.sample(records(0)[:-1], 5)]
    for off in flips:
        data[off] ^= 1 << rnd.randrange(8)
    # Slot 1 (beta): the file cut in the middle of its 61st record.
    cut = records(1)[60] + 50
    open(path, "wb").write(bytes(data[:cut]))
    again = Roost(BIN, "--https-port", "-1", "--max-rooms", "4", *FAST, data=rs.data).start()
    log = again.output()
    check("start-up reports the damage", "damaged record(s)" in log and "truncated" in log, log)
    epoch, head, oldest, alpha = history(again, "alpha")
    intact = [s for s, m in alpha.items() if m["text"] == sent[("alpha", s)]]
    lost = [s for s, m in alpha.items() if m["kind"] == "system" and "was lost" in m["text"]]
    check("alpha keeps the 115 intact records and marks the 5 damaged ones lost (%s)" % lost,
          len(intact) == 115 and len(lost) == 5 and head == 120 and oldest == 1 and len(alpha) == 120)
    _, bhead, _, beta = history(again, "beta")
    check("beta keeps the 60 records before the cut",
          bhead == 60 and len(beta) == 60 and all(beta[s]["text"] == sent[("beta", s)] for s in beta))
    st, _, b = again.http("POST", "/api/rooms/beta/messages?from=dev", b"after", {"Content-Type": "text/plain"})
    check("beta continues after its last intact record", st == 201 and b["seq"] == bhead + 1, str(b))
    again.stop()


async def readings_damage():
    """readings.roost: a flipped bit in a reading is reported and that reading
    skipped (readings leave no lost-marker: their gaps are by design); the
    people's messages around them come back whole."""
    rs = Roost(BIN, "--https-port", "-1", "--max-rooms", "4", *FAST).start()
    people = await say_many(rs, ("mixed",), 10)
    for i in range(20):
        st, _, b = rs.http("POST", "/api/rooms/mixed/messages?from=probe", json.dumps({"data": {"t": i}}).encode(),
                           {"Content-Type": "application/json"})
        assert st == 201, b
    check("clean shutdown exits 0", rs.stop() == 0)
    path = os.path.join(rs.data, "readings.roost")
    data = bytearray(open(path, "rb").read())
    offs = [o for o in range(4096, len(data), 32) if data[o:o + 4] == b"\xf7RM\x01"]
    check("the 20 readings are records in readings.roost", len(offs) == 20, len(offs))
    data[offs[7] + 60] ^= 0x10
    open(path, "wb").write(bytes(data))
    again = Roost(BIN, "--https-port", "-1", "--max-rooms", "4", *FAST, data=rs.data).start()
    check("start-up reports the damaged reading", "damaged record(s)" in again.output(), again.output())
    _, head, oldest, msgs = history(again, "mixed")
    texts = {m["text"] for m in msgs.values() if m["kind"] == "chat"}
    check("the people's messages are whole and the other 19 readings back (no lost marker)",
          head == 30 and texts == set(people.values()) and
          sum(1 for m in msgs.values() if m["kind"] == "device") == 19 and
          not [m for m in msgs.values() if m["kind"] == "system"], msgs)
    again.stop()


def refused_at_start():
    tmp = tempfile.mkdtemp(prefix="roost-bad-")
    afile = os.path.join(tmp, "afile")
    open(afile, "w").write("x")
    p = subprocess.run([BIN, "--http-port", "0", "--https-port", "-1", "--data", afile], capture_output=True, text=True,
                       timeout=30)
    check("a data directory that is a file: exit code 2 with a message", p.returncode == 2 and "not a directory" in p.stderr,
          p.stderr)
    d = os.path.join(tmp, "future")
    rs = Roost(BIN, "--https-port", "-1", data=d).start()
    rs.stop()
    p = subprocess.run([BIN, "--http-port", "0", "--https-port", "-1", "--data", d, "--max-rooms", "9"],
                       capture_output=True, text=True, timeout=30)
    check("a file made for other sizes: exit code 2", p.returncode == 2 and "other sizes" in p.stderr, p.stderr)
    with open(os.path.join(d, "history.roost"), "r+b") as f:
        for off in (0, 2048):
            f.seek(off)
            h = bytearray(f.read(64))
            h[8:12] = (9).to_bytes(4, "little")
            h[48:52] = crc32c(bytes(h[:48])).to_bytes(4, "little")
            f.seek(off)
            f.write(h)
    p = subprocess.run([BIN, "--http-port", "0", "--https-port", "-1", "--data", d], capture_output=True, text=True,
                       timeout=30)
    check("a file from a newer journal format: exit code 2 naming the format", p.returncode == 2 and "format 9" in p.stderr,
          p.stderr)


def crc32c(b):
    crc = 0xFFFFFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


async def disk_full():
    if os.geteuid() != 0:
        print("SKIPPED: the disk-full test mounts a tmpfs and needs root (CI runs as root)", flush=True)
        return False
    mnt = tempfile.mkdtemp(prefix="roost-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt], check=True)
    try:
        rs = Roost(BIN, "--https-port", "-1", *FAST, data=os.path.join(mnt, "data")).start()
        check("a disk too small to reserve the files: the broker starts and says so",
              "could not reserve" in rs.output(), rs.output())
        st, _, b = rs.http("POST", "/api/rooms/lobby/messages?from=dev", b"before", {"Content-Type": "text/plain"})
        check("posts are stored while there is space", st == 201)
        reader = await Client.connect(rs, "reader")
        await reader.send({"type": "join", "room": "lobby"})
        await reader.wait("joined")
        await reader.wait("msg")
        writer = await Client.connect(rs, "writer")
        await writer.send({"type": "join", "room": "lobby"})
        await writer.wait("joined")
        filler = os.path.join(mnt, "filler")
        subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=64k"], capture_output=True)
        head_before = rs.http("GET", "/api/rooms/lobby/messages?limit=1")[2]["head"]
        refused = 0
        for i in range(60):  # the record area's free pages run out within a few posts
            st, _, b = rs.http("POST", "/api/rooms/lobby/messages?from=dev", ("full %d" % i).encode() * 20,
                               {"Content-Type": "text/plain"})
            refused += st == 507
            if st == 507:
                check("a post on a full disk: 507 with a JSON error", b["error"]["code"] == "server_busy", str(b))
                break
        check("the disk filled up and posts (readings.roost) were refused", refused == 1)
        # People's history is another file (history.roost): say until its
        # free pages run out too.
        e = None
        for i in range(60):
            await writer.send({"type": "say", "room": "lobby", "text": "x" * 1500, "cid": "full-%d" % i})
            ev = await writer.wait_any(("ack", "error"), timeout=10)
            if ev["type"] == "error":
                e = ev
                break
        check("a say on a full disk: error server_busy for its cid",
              e is not None and e["code"] == "server_busy" and e["ref"] == "full-%d" % i, e)
        full_cid = "full-%d" % i
        head_full = rs.http("GET", "/api/rooms/lobby/messages?limit=1")[2]["head"]
        st, _, b = rs.http("POST", "/api/rooms/newroom/messages?from=dev", b"x", {"Content-Type": "text/plain"})
        check("a new room on a full disk: 507, and no room appears",
              st == 507 and rs.http("GET", "/api/rooms/newroom/messages")[0] == 404)
        st, _, b = rs.http("GET", "/api/rooms/lobby/messages?since=0")
        check("reads keep working; nothing refused was stored",
              st == 200 and b["head"] == head_full and all("full" not in m["text"] or m["seq"] <= head_full
                                                            for m in b["messages"]))
        check("the broker is alive and healthy", rs.http("GET", "/healthz")[0] == 200 and rs.proc.poll() is None)
        os.unlink(filler)
        st, _, b = rs.http("POST", "/api/rooms/lobby/messages?from=dev", b"space is back", {"Content-Type": "text/plain"})
        check("space is back: posts are accepted again", st == 201 and b["seq"] == head_full + 1, str(b))
        await writer.send({"type": "say", "room": "lobby", "text": "x" * 1500, "cid": full_cid})
        a = await writer.wait("ack", cid=full_cid)
        check("the refused say, retried with its cid, is stored once", a["seq"] == head_full + 2)
        st, _, m = rs.http("GET", "/metrics")
        check("/metrics counts the refusals", "roost_disk_full_refusals_total 3" in m, m[-600:])
        check("head moved on from %d only by what was accepted" % head_before, head_full >= head_before)
        rs.stop()
    finally:
        subprocess.run(["umount", "-l", mnt])
    return True


async def refused_sync(shim):
    """fsync = always on a disk that refuses fdatasync (an LD_PRELOAD shim
    fails it while a flag file exists): no ack leaves for the unsynced
    message, posts are refused 507, and once the disk syncs again the held
    ack goes out, posts are taken, and the message is on the disk."""
    tmp = tempfile.mkdtemp(prefix="roost-fsync-")
    flag = os.path.join(tmp, "fail")
    opts = os.environ.get("ASAN_OPTIONS", "")
    env = {"LD_PRELOAD": shim, "ROOST_FAIL_FSYNC": flag,
           "ASAN_OPTIONS": (opts + ":" if opts else "") + "verify_asan_link_order=0"}
    data = os.path.join(tmp, "data")
    rs = Roost(BIN, "--fsync", "always", "--https-port", "-1", *FAST, data=data, env=env).start()
    try:
        a = await Client.connect(rs, "ann")
        b = await Client.connect(rs, "bob")
        for c in (a, b):
            await c.send({"type": "join", "room": "lobby"})
            await c.wait("joined")
        await a.send({"type": "say", "room": "lobby", "text": "synced", "cid": "s1"})
        check("with a working disk a say is acked", (await a.wait("ack", cid="s1"))["seq"] == 1)
        await b.wait("msg", seq=1)
        open(flag, "w").close()
        await a.send({"type": "say", "room": "lobby", "text": "held", "cid": "s2"})
        got_a, got_b = await a.quiet(2.5), await b.quiet(0.2)
        check("the disk refuses fdatasync: no ack leaves for the unsynced message",
              not [e for e in got_a if e["type"] == "ack"], got_a)
        check("... and no member sees it before it is on the disk", not [e for e in got_b if e["type"] == "msg"], got_b)
        st, _, body = rs.http("POST", "/api/rooms/lobby/messages?from=dev", b"refused", {"Content-Type": "text/plain"})
        check("a post while the disk refuses: 507 server_busy", st == 507 and body["error"]["code"] == "server_busy",
              (st, body))
        st, _, m = rs.http("GET", "/metrics")
        check("/metrics counts the refused syncs", "roost_journal_sync_failures_total 0" not in m
              and "roost_journal_sync_failures_total" in m, m[-800:])
        check("the refusal is logged once", rs.output().count("the disk refused a sync") == 1, rs.output()[-800:])
        os.unlink(flag)
        ack = await a.wait("ack", cid="s2", timeout=5)
        check("the disk syncs again: the held ack goes out", ack["seq"] == 2)
        await b.wait("msg", seq=2, timeout=5)
        st, _, body = rs.http("POST", "/api/rooms/lobby/messages?from=dev", b"taken", {"Content-Type": "text/plain"})
        check("posts are taken again", st == 201 and body["seq"] == 3, (st, body))
        check("the recovery is logged", "the disk takes writes again" in rs.output())
        await a.close()
        await b.close()
        rs.stop(signal.SIGKILL)
        rs2 = Roost(BIN, "--https-port", "-1", data=data).start()
        _, head, _, msgs = history(rs2, "lobby")
        check("after kill -9 the held message is on the disk, the refused post is not",
              head == 3 and msgs[2]["text"] == "held" and all(m["text"] != "refused" for m in msgs.values()),
              msgs)
        rs2.stop()
    finally:
        rs.stop()


async def main():
    for policy in ("batch", "always"):
        await kill9_mid_stream(policy)
    await keys_and_reads()
    await flip_bits_and_truncate()
    await readings_damage()
    refused_at_start()
    await refused_sync(sys.argv[2])
    ran = await disk_full()
    print("# %d checks passed%s" % (checks_passed(), "" if ran else " (the disk-full part was skipped: not root)"))


asyncio.run(main())
