#!/usr/bin/env python3
"""End-to-end test of the device store kept in devices.roost, against the
real binary: devices post readings over HTTP, the broker is killed with
SIGKILL and started again on the same data directory, and the devices are
back: the start-up report counts them, the devices endpoint lists the same
devices with the same latest values and last_seen, every series answers the
same buckets over 2 h, 48 h and 30 d, each device goes quiet exactly once
(its stale flag and its usual interval came back, or it would be announced
again or never), and each that posts again is back exactly once. A changed max_devices
sets devices.roost aside (devices.roost.old) and the broker starts.

    /usr/bin/python3 tests/e2e/test_device_persistence.py ROOST_BINARY
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Roost, check, checks_exit  # noqa: E402

BIN = sys.argv[1]
FAST = ["--msg-rate", "1000000", "--msg-burst", "1000000", "--addr-rate", "1000000", "--addr-burst", "1000000"]
DEVICES = ("kitchen", "garage", "attic")


def post(rs, device, data):
    st, _, b = rs.http("POST", "/api/rooms/sensors/messages?from=" + device, json.dumps({"data": data}).encode(),
                       {"Content-Type": "application/json"})
    assert st == 201, (st, b)
    return b


SERIES = [(d, k, r) for d in DEVICES for k in ("temp", "hum") for r in ("2h", "48h", "30d")]


def filled(rs, device, key, rng):
    """The buckets holding readings of a series over a range, [ts, min, avg, max]
    each (the range's window moves with the clock; its gaps are not compared)."""
    st, _, body = rs.http("GET", "/api/rooms/sensors/devices/%s/series?key=%s&range=%s" % (device, key, rng))
    assert st == 200, (st, body)
    return [p for p in body["points"] if p[1] is not None]


def system_states(rs):
    """(device, state) of every stale/back system message in #sensors."""
    out, since = [], 0
    while True:
        st, _, body = rs.http("GET", "/api/rooms/sensors/messages?since=%d&limit=200" % since)
        assert st == 200, (st, body)
        for m in body["messages"]:
            d = m.get("data") or {}
            if m.get("kind") == "system" and "device" in d:
                out.append((d["device"], d["state"]))
        if not body["messages"] or body["messages"][-1]["seq"] >= body["head"]:
            return out
        since = body["messages"][-1]["seq"]


def wait_for(cond, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    return cond()


def main():
    args = FAST + ["--device-stale-s", "4"]
    rs = Roost(BIN, *args).start()
    sent = {}
    for i in range(4):
        for n, name in enumerate(DEVICES):
            data = {"temp": 20 + n + i / 4, "hum": 40 + i, "door": "open" if i % 2 else "shut", "ok": i % 2 == 0}
            post(rs, name, data)
            sent[name] = data
    st, _, body = rs.http("GET", "/api/rooms/sensors/devices")
    check("the devices endpoint answers before the kill", st == 200, (st, body))
    before = {d["name"]: d for d in body["devices"]}
    series_before = {q: filled(rs, *q) for q in SERIES}
    check("every series has its readings before the kill",
          all(len(v) >= 1 for v in series_before.values()), series_before)
    rs.stop(signal.SIGKILL)

    again = Roost(BIN, *args, data=rs.data).start()
    out = again.output()
    check("the restart reports the devices restored",
          "devices.roost: restored 3 device(s), 6 series" in out, out[-2000:])
    st, _, body = again.http("GET", "/api/rooms/sensors/devices")
    after = {d["name"]: d for d in body["devices"]}
    check("the devices endpoint lists the same devices after kill -9", set(after) == set(before),
          (sorted(after), sorted(before)))
    for name in DEVICES:
        check("%s: the same latest values and last_seen" % name,
              after[name]["values"] == sent[name] and after[name]["last_seen"] == before[name]["last_seen"],
              (after.get(name), sent[name]))
    for q in SERIES:
        got = filled(again, *q)
        check("%s %s over %s: the same buckets after kill -9" % q, got == series_before[q], (got, series_before[q]))
    # Quiet for more than device_stale_s: each device is said to be quiet
    # exactly once in all (before the kill or after it, never both).
    quiet = wait_for(lambda: (lambda s: s if all((d, "stale") in s for d in DEVICES) else None)(system_states(again)))
    check("every restored device goes quiet", quiet is not None, system_states(again))
    time.sleep(2)
    states = system_states(again)
    for name in DEVICES:
        check("%s went quiet exactly once" % name, states.count((name, "stale")) == 1, states)
    post(again, "kitchen", {"temp": 30})
    states = wait_for(lambda: (lambda s: s if ("kitchen", "back") in s else None)(system_states(again)))
    check("kitchen is back after its reading, once", states is not None and states.count(("kitchen", "back")) == 1,
          system_states(again))
    check("the others are not back", ("garage", "back") not in system_states(again))
    check("clean shutdown exits 0", again.stop() == 0)

    # Another max_devices: the file is set aside, the broker starts, the
    # room's messages stay.
    third = Roost(BIN, *(args + ["--max-devices", "40"]), data=rs.data).start()
    out = third.output()
    check("another max_devices sets devices.roost aside", "set aside as" in out and
          os.path.exists(os.path.join(rs.data, "devices.roost.old")), out[-2000:])
    check("the history is untouched", len(system_states(third)) >= 4)
    check("clean shutdown exits 0 (third start)", third.stop() == 0)


if __name__ == "__main__":
    main()
    sys.exit(checks_exit())
