#!/usr/bin/env python3
"""End-to-end tests of the bots through the real binary with WebSocket
clients (python3-websockets) and curl-like HTTP posts: reminders (also across
a restart on the data directory), Hangman, multiplayer Wordle, device
watches, bad commands and rate limits.

    /usr/bin/python3 tests/e2e/test_bots.py ROOST_BINARY
"""
import asyncio
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, Roost, check, checks_passed  # noqa: E402

BIN = sys.argv[1]


async def joined(rs, nick, room="lobby"):
    c = await Client.connect(rs, nick)
    await c.send({"type": "join", "room": room, "backlog": 0})
    await c.wait("joined", room=room)
    return c


async def say(c, text, room="lobby", cid="c"):
    await c.send({"type": "say", "room": room, "text": text, "cid": cid})


async def bot_msg(c, pattern, room=None, timeout=5):
    """The next bot message (in `room`) whose text matches `pattern`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        m = await c.wait("msg", timeout=max(0.1, end - loop.time()))
        if m["kind"] == "bot" and (room is None or m["room"] == room) and re.search(pattern, m["text"]):
            return m


async def reminders(rs):
    ann = await joined(rs, "ann")
    await say(ann, "/remind in 2s stretch your legs")
    m = await bot_msg(ann, r"Reminder \d+ set for", room="@ann+roost")
    check("/remind in 2s: confirmed privately in ann's room with the bot", "stretch your legs" in m["text"])
    ack = await ann.wait("ack")
    check("... and the say is acked", ack["cid"] == "c")
    await say(ann, "/remind in 1h buy milk")
    await bot_msg(ann, "buy milk", room="@ann+roost")
    bob = await joined(rs, "bob")
    await ann.close()  # the author goes offline
    m = await bot_msg(bob, r"⏰ Reminder for ann: stretch your legs", room="lobby", timeout=6)
    check("the reminder fires as a bot message in the room", m["from"] == "roost")
    ann = await Client.connect(rs, "ann")
    j = await ann.wait("joined", room="@ann+roost")
    got = [await ann.wait("msg", room="@ann+roost") for _ in range(3)]
    check("an offline author finds it in the DM room at the next hello",
          any("⏰ Reminder (set in #lobby): stretch your legs" in m["text"] for m in got), str(got))
    await ann.send({"type": "join", "room": "lobby", "backlog": 0})
    await ann.wait("joined", room="lobby")
    await say(ann, "/remind sometime x")
    e = await ann.wait("error")
    check("a bad /remind answers with its usage", e["code"] == "bad_request" and "usage: /remind" in e["message"])
    await ann.close()
    await bob.close()


async def reminders_survive_restart(rs):
    again = Roost(BIN, "--https-port", "-1", data=rs.data).start()
    ann = await joined(again, "ann")
    await say(ann, "/remind list")
    m = await bot_msg(ann, "Your reminders", room="@ann+roost")
    check("after a restart the pending reminder is still listed", "buy milk" in m["text"]
          and "stretch" not in m["text"], m["text"])
    await ann.close()
    again.stop()


async def hangman(rs):
    ann = await joined(rs, "ann")
    bob = await joined(rs, "bob")
    await say(ann, "/hangman start animals")
    m = await bot_msg(bob, r"Hangman \(animals\)")
    check("Hangman starts in the room for everyone, with the gallows", "+---+" in m["text"] and "_ " in m["text"])
    word_len = int(re.search(r"(\d+) letters", m["text"]).group(1))
    await say(bob, "/guess q")
    m = await bot_msg(ann, r"bob: (yes|no)\.")
    check("a guess shows the board to the room", "wrong" in m["text"])
    await say(bob, "/guess 7")
    e = await bob.wait("error")
    check("a bad guess answers with the usage", "usage: /guess" in e["message"])
    await say(bob, "/hangman stop")
    m = await bot_msg(ann, "Hangman stopped by bob; the word was")
    word = re.search(r"the word was (\w+)", m["text"]).group(1)
    check("/hangman stop reveals the word", len(word) == word_len)
    await ann.close()
    await bob.close()


async def wordle(rs):
    ann = await joined(rs, "ann", "games")
    bob = await joined(rs, "bob", "games")
    await say(ann, "/wordle", room="games")
    await bot_msg(bob, "A Wordle is on", room="games")
    await say(ann, "/w qwert", room="games")
    e = await ann.wait("error")
    check("a word not in the list does not count", "not in the word list" in e["message"])
    await say(ann, "/w crane", room="games")
    room_row = await bot_msg(bob, r"^ann ", room="games")
    mine = await bot_msg(ann, "CRANE", room="@ann+roost")
    check("the room sees ann's tiles without letters", "CRANE" not in room_row["text"] and
          re.fullmatch(r"[GY-]{5}", room_row["data"]["tiles"]) is not None, str(room_row))
    check("ann sees her row with its letters, privately", mine["data"]["guess"] == "CRANE"
          and mine["data"]["tiles"] == room_row["data"]["tiles"])
    await say(bob, "/wordle end", room="games")
    over = await bot_msg(ann, r"Wordle over \(ended\): the word was (\w+)", room="games")
    check("/wordle end: the word and the leaderboard", "1. ann X/6" in over["text"], over["text"])
    await ann.close()
    await bob.close()


async def watches(rs):
    ann = await joined(rs, "ann", "alerts")
    await say(ann, "/watch sensors temp > 30", room="alerts")
    m = await bot_msg(ann, "Watch 1: #sensors temp > 30", room="alerts")
    check("/watch sets a threshold watch, said in the room", m["data"]["bot"] == "watch")
    for t in (25, 31.5):
        st, _, _ = rs.http("POST", "/api/rooms/sensors/messages",
                           json.dumps({"from": "kitchen", "data": {"temp": t}}).encode(), {"Content-Type": "application/json"})
        assert st == 201
    m = await bot_msg(ann, "kitchen temp is 31.5", room="alerts")
    check("a device post over the threshold alerts (alert style in data)", m["data"].get("alert") == "high", str(m))
    await say(ann, "/watch sensors silent 10s", room="alerts")
    await bot_msg(ann, "silent for 10 s", room="alerts")
    m = await bot_msg(ann, "no device has posted for 10 s", room="alerts", timeout=15)
    check("a silent device raises the silent watch", m["data"].get("alert") == "high")
    await say(ann, "/watch cancel 1", room="alerts")
    await bot_msg(ann, "Watch 1 cancelled", room="alerts")
    await ann.close()


async def limits(rs):
    spammer = await joined(rs, "spam", "noise")
    for i in range(30):
        await say(spammer, "/hangman scores", room="noise", cid="s%d" % i)
    codes = []
    for _ in range(30):
        e = await spammer.wait_any(("ack", "error"))
        codes.append(e.get("code", "ok"))
    check("commands are rate-limited like any say (%d of 30 refused)" % codes.count("rate_limited"),
          codes.count("rate_limited") >= 5)
    await spammer.close()


async def main():
    rs = Roost(BIN, "--https-port", "-1").start()
    await reminders(rs)
    await hangman(rs)
    await wordle(rs)
    await watches(rs)
    await limits(rs)
    rs.stop()
    await reminders_survive_restart(rs)
    print("# %d checks passed" % checks_passed())


asyncio.run(main())
