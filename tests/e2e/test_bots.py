#!/usr/bin/env python3
"""End-to-end tests of the bots through the real binary with WebSocket
clients (python3-websockets) and curl-like HTTP posts: reminders (also across
a restart on the data directory), Hangman, multiplayer Wordle, device
watches per device (also across the restart), bad commands and rate limits.

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
    await watches_survive_restart(again)
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


def reading(rs, device, data, room="sensors"):
    st, _, _ = rs.http("POST", "/api/rooms/%s/messages" % room,
                       json.dumps({"from": device, "data": data}).encode(), {"Content-Type": "application/json"})
    assert st == 201, st


async def bot_msgs_until(c, pattern, room, timeout=5):
    """Every bot message in `room` up to and with the first whose text
    matches `pattern`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    got = []
    while True:
        m = await c.wait("msg", timeout=max(0.1, end - loop.time()))
        if m["kind"] == "bot" and m["room"] == room:
            got.append(m)
            if re.search(pattern, m["text"]):
                return got


async def watches(rs):
    """Per-device watches with two devices posting over HTTP: each alerts
    and comes back on its own, with the alert's data; a watch naming one
    device; silence per device."""
    ann = await joined(rs, "ann", "alerts")
    await say(ann, "/watch sensors temp > 30 hyst 1", room="alerts")
    m = await bot_msg(ann, "Watch 1: #sensors temp > 30", room="alerts")
    check("/watch sets a threshold watch, said in the room", m["data"]["bot"] == "watch")
    await say(ann, "/watch sensors GARAGE temp < 5", room="alerts")
    await bot_msg(ann, "Watch 2: #sensors GARAGE temp < 5", room="alerts")
    reading(rs, "kitchen", {"temp": 25})
    reading(rs, "garage", {"temp": 14})
    reading(rs, "kitchen", {"temp": 31.5})
    got = await bot_msgs_until(ann, "temp is 31.5", "alerts")
    check("the kitchen over the threshold alerts, with the watch, device, key, value and state in data",
          got[-1]["text"] == "⚠️ #sensors: kitchen temp is 31.5 (> 30)" and got[-1]["data"] ==
          {"bot": "watch", "watch": 1, "device": "kitchen", "key": "temp", "value": 31.5, "state": "alert"},
          str(got))
    check("... and nothing before it", len(got) == 1, str(got))
    reading(rs, "garage", {"temp": 14})  # steady below: the kitchen is not "back"
    reading(rs, "garage", {"temp": 35})
    got = await bot_msgs_until(ann, "garage temp is 35", "alerts")
    check("the garage alerts on its own while the kitchen stays in alert (no flapping)",
          len(got) == 1 and got[0]["data"]["device"] == "garage" and got[0]["data"]["state"] == "alert", str(got))
    reading(rs, "kitchen", {"temp": 29})
    got = await bot_msgs_until(ann, "is back to", "alerts")
    check("the kitchen comes back alone: 'kitchen temp is back to 29'",
          len(got) == 1 and got[0]["text"] == "✅ #sensors: kitchen temp is back to 29" and got[0]["data"] ==
          {"bot": "watch", "watch": 1, "device": "kitchen", "key": "temp", "value": 29, "state": "back"}, str(got))
    reading(rs, "garage", {"temp": 3})
    got = await bot_msgs_until(ann, r"garage temp is 3 \(", "alerts")  # watch 1's "back" comes first
    check("the garage back for watch 1", [m["text"] for m in got if m["data"].get("watch") == 1] ==
          ["✅ #sensors: garage temp is back to 3"], str(got))
    named = [m for m in got if m["data"].get("watch") == 2]
    check("a watch naming a device (any case) alerts for it only, spelled as the device posts",
          len(named) == 1 and named[0]["text"] == "⚠️ #sensors: garage temp is 3 (< 5)" and
          named[0]["data"]["device"] == "garage", str(got))
    reading(rs, "kitchen", {"temp": 2})  # not the named device's
    m = await watch_list(ann)
    check("/watch list names the devices in alert per watch",
          "1. #sensors temp > 30 (hysteresis 1) by ann, alerts in #alerts\n" in m["text"] and
          "2. #sensors GARAGE temp < 5 (hysteresis 0.25) by ann, alerts in #alerts; in alert: garage" in m["text"],
          m["text"])
    # Silence per device: the kitchen keeps posting, the garage goes quiet.
    await say(ann, "/watch sensors silent 10s", room="alerts")
    await bot_msg(ann, "Watch 3: #sensors silent for 10 s", room="alerts")
    got = []
    for _ in range(8):
        reading(rs, "kitchen", {"hum": 50})
        try:
            got += await bot_msgs_until(ann, "garage has not posted", "alerts", timeout=2)
            break
        except (AssertionError, asyncio.TimeoutError):  # not yet
            pass
    silent = [m for m in got if m["data"].get("watch") == 3]
    check("a silent watch of every device alerts for the quiet one only, key null and no value",
          len(silent) == 1 and silent[0]["text"] == "⚠️ #sensors: garage has not posted for 10 s." and
          silent[0]["data"] == {"bot": "watch", "watch": 3, "device": "garage", "key": None, "state": "alert"},
          str(got))
    reading(rs, "garage", {"hum": 40})
    m = await bot_msg(ann, "garage is posting again", room="alerts")
    check("... and says so when it posts again", m["data"] == {"bot": "watch", "watch": 3, "device": "garage",
                                                              "key": None, "state": "back"}, str(m))
    # Both quiet now: each alerts once (kept for the restart below).
    got = await bot_msgs_until(ann, "kitchen has not posted", "alerts", timeout=15)
    got += await bot_msgs_until(ann, "garage has not posted", "alerts", timeout=15)
    check("two quiet devices: one silence alert each",
          sorted(m["data"]["device"] for m in got if m["data"].get("watch") == 3) == ["garage", "kitchen"], str(got))
    await ann.close()


async def watch_list(c):
    """The answer to this `/watch list` (not one replayed from before)."""
    await say(c, "/watch list", room="alerts", cid="list")
    ack = await c.wait("ack", cid="list")
    return await c.wait("msg", room=ack["room"], seq=ack["seq"])


async def watches_survive_restart(rs):
    """After a restart on the data directory the silent watch still has
    both devices in alert: the garage posting ends its alert, once."""
    ann = await joined(rs, "ann", "alerts")
    m = await watch_list(ann)
    check("after a restart a watch keeps its devices' alerts",
          "3. #sensors silent for 10 s by ann, alerts in #alerts; in alert: kitchen, garage" in m["text"], m["text"])
    reading(rs, "garage", {"hum": 1})
    got = await bot_msgs_until(ann, "garage is posting again", "alerts")
    check("... so the garage posting again is said once, and nothing else",
          [(m["data"]["watch"], m["data"]["state"]) for m in got] == [(3, "back")], str(got))
    m = await watch_list(ann)
    check("... and the kitchen is still in alert", "in alert: kitchen\n" in m["text"] + "\n", m["text"])
    await say(ann, "/watch cancel 3", room="alerts")
    await bot_msg(ann, "Watch 3 cancelled", room="alerts")
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
