#!/usr/bin/env python3
"""End-to-end tests of device monitoring with the real binary: three devices
posting readings over HTTP (as curl does) and one over MQTT through a real
mosquitto; GET /api/rooms/{room}/devices and .../series at each range, with
gaps and from/to; every bad request answering one whole JSON error and
changing nothing; the device store's full tables refusing a reading
(HTTP and MQTT) and changing nothing; stale and back system messages
(once each); 2,000 readings leaving people's messages in the history;
the /metrics lines, with tokens too.

    /usr/bin/python3 tests/e2e/test_devices.py ROOST_BINARY
"""
import asyncio
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, Roost, free_port, check, checks_exit, listening  # noqa: E402

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="roost-devices-")


class Mosquitto:
    """Debian's mosquitto on a free loopback port (anonymous, no persistence)."""

    def __init__(self):
        self.port = free_port()
        self.conf = os.path.join(TMP, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
        self.log = open(os.path.join(TMP, "mosquitto.log"), "a")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT)
        if not listening(self.port):
            raise RuntimeError("mosquitto did not start")

    def pub(self, topic, payload):
        subprocess.run(["mosquitto_pub", "-p", str(self.port), "-q", "1", "-t", topic, "-m", payload],
                       check=True, timeout=10)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def start(*args, mq=None):
    extra = ["--addr-rate", "100000", "--addr-burst", "100000", "--msg-rate", "1000", "--msg-burst", "1000"]
    if mq is not None:
        extra += ["--mqtt", "mqtt://127.0.0.1:%d" % mq.port, "--mqtt-client-id", "dev%d" % mq.port]
    return Roost(BIN, "--https-port", "-1", *extra, *args).start()


def raw(rs, method, path, body=None, headers=None):
    """(status, headers, body bytes) over one connection, as curl sees it."""
    c = http.client.HTTPConnection("127.0.0.1", rs.http_port, timeout=20)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, data


def get(rs, path, headers=None):
    status, hdrs, data = raw(rs, "GET", path, headers=headers)
    return status, hdrs, json.loads(data) if data else None


def post(rs, room, obj, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    status, _, data = raw(rs, "POST", "/api/rooms/%s/messages" % room, json.dumps(obj).encode(), h)
    return status, json.loads(data)


def reading(rs, room, name, data, text="reading", headers=None):
    return post(rs, room, {"from": name, "text": text, "data": data}, headers)


def one_error(status, data, want_status, want_code):
    """The body is one whole JSON error object with that code."""
    try:
        body = json.loads(data)
    except ValueError:
        return False
    return status == want_status and list(body) == ["error"] and body["error"].get("code") == want_code and \
        isinstance(body["error"].get("message"), str)


def series(rs, room, dev, query):
    return get(rs, "/api/rooms/%s/devices/%s/series?%s" % (room, dev, query))


def state(rs, room="sensors"):
    """What a refused request must not change: the devices, the history's head, the rooms."""
    devices = get(rs, "/api/rooms/%s/devices" % room)[2]
    for d in devices.get("devices", []):
        d.pop("stale")  # turns with time alone
    head = get(rs, "/api/rooms/%s/messages" % room)[2].get("head")
    rooms = get(rs, "/api/rooms")[2]
    return json.dumps([devices, head, rooms], sort_keys=True)


def metric_lines(rs, prefix, headers=None):
    status, _, data = raw(rs, "GET", "/metrics", headers=headers)
    return [l for l in data.decode().splitlines() if l.startswith(prefix)]


def listing_and_series(a, mq):
    t0 = time.time()
    for v in (20.5, 21.0, 21.5):
        check("kitchen reading posted (201)", reading(a, "sensors", "kitchen", {"temp": v, "door": "open", "on": True})[0] == 201)
    check("garage reading posted", reading(a, "sensors", "Garage", {"temp": 14.25, "hum": 80})[0] == 201)
    check("shed reading posted", reading(a, "sensors", "shed", {"temp": 36.5})[0] == 201)
    check("probe reading posted", reading(a, "sensors", "probe", {"v": 9.1})[0] == 201)
    mq.pub("roost/sensors/device/attic", '{"temp":17.75,"fan":false}')
    deadline = time.time() + 20
    devs = []
    while time.time() < deadline:
        devs = get(a, "/api/rooms/sensors/devices")[2]["devices"]
        if any(d["name"] == "attic" for d in devs):
            break
        time.sleep(0.1)
    names = [d["name"] for d in devs]
    check("GET devices lists every device by name (case-insensitive order), MQTT's attic too",
          names == ["attic", "Garage", "kitchen", "probe", "shed"], names)
    by = {d["name"]: d for d in devs}
    k = by["kitchen"]
    check("kitchen: its latest values (number, string, boolean)", k["values"] == {"temp": 21.5, "door": "open", "on": True}, k)
    check("kitchen: interval_ms after several posts, watches []",
          k["interval_ms"] > 0 and isinstance(k["stale"], bool) and k["watches"] == [], k)
    check("last_seen is ms since the epoch of the newest reading", abs(k["last_seen"] / 1000 - time.time()) < 60, k)
    check("one reading so far: interval_ms 0, not stale", by["shed"]["interval_ms"] == 0 and by["shed"]["stale"] is False,
          by["shed"])
    check("attic over MQTT: values", by["attic"]["values"] == {"temp": 17.75, "fan": False}, by["attic"])
    check("every device has exactly the contract's fields",
          all(sorted(d) == ["interval_ms", "last_seen", "name", "stale", "values", "watches"] for d in devs), devs)
    st, hdrs, body = raw(a, "GET", "/api/rooms/sensors/devices")
    check("an answer that fits a request buffer comes whole: Content-Length, the connection kept",
          st == 200 and int(hdrs.get("content-length", -1)) == len(body) and hdrs.get("connection") != "close", hdrs)
    st, hdrs, _ = raw(a, "HEAD", "/api/rooms/sensors/devices")
    check("HEAD devices: 200, JSON, the GET's length, no body", st == 200 and
          hdrs.get("content-type") == "application/json" and int(hdrs.get("content-length", -1)) == len(body))
    check("a room without devices lists []", post(a, "empty", {"from": "alice", "text": "hi"})[0] == 201 and
          get(a, "/api/rooms/empty/devices")[2] == {"room": "empty", "devices": []})

    for rng, step, count in (("2h", 60000, 120), ("48h", 900000, 192), ("30d", 3600000, 720)):
        st, _, s = series(a, "sensors", "KITCHEN", "key=temp&range=" + rng)
        pts = s["points"]
        full = [p for p in pts if p[1] is not None]
        check("series %s: %d points of step %d, oldest first, contiguous" % (rng, count, step),
              st == 200 and s["step_ms"] == step and len(pts) == count and
              all(pts[i + 1][0] - pts[i][0] == step for i in range(len(pts) - 1)) and
              s["from"] == pts[0][0] and s["to"] == pts[-1][0] + step, (st, s.get("step_ms"), len(pts)))
        check("series %s: the readings' bucket holds min/avg/max 20.5/21/21.5, the rest are gaps" % rng,
              len(full) in (1, 2) and min(p[1] for p in full) == 20.5 and max(p[3] for p in full) == 21.5 and
              all(p[1:] == [None, None, None] for p in pts if p[1] is None), full)
        check("series %s: the device and key named as asked, the device as it posted" % rng,
              s["device"] == "kitchen" and s["key"] == "temp" and s["room"] == "sensors")
    for dev, key, v in (("shed", "temp", 36.5), ("probe", "v", 9.1), ("Garage", "temp", 14.25), ("attic", "temp", 17.75)):
        pts = [p for p in series(a, "sensors", dev, "key=%s&range=2h" % key)[2]["points"] if p[1] is not None]
        check("%s %s: %s reads back exactly (min, avg, max)" % (dev, key, v), pts and pts[-1][1:] == [v, v, v], pts)
    now = int(time.time() * 1000)
    st, _, s = series(a, "sensors", "kitchen", "key=temp&from=%d&to=%d" % (int(t0 * 1000) - 1, now))
    full = [p for p in s["points"] if p[1] is not None]
    check("from/to: the 1-minute archive, the readings in it", st == 200 and s["step_ms"] == 60000 and full and
          len(s["points"]) <= 3, s)
    st, _, s = series(a, "sensors", "kitchen", "key=temp&from=%d&to=%d" % (now - 86400000 * 20, now - 86400000 * 19))
    check("from/to 20 days ago: the hourly archive, 25 gaps",
          st == 200 and s["step_ms"] == 3600000 and len(s["points"]) == 25 and
          all(p[1:] == [None, None, None] for p in s["points"]), (st, s.get("step_ms"), len(s.get("points", []))))
    st, _, s = series(a, "sensors", "kitchen", "key=temp&from=0&to=%d" % now)
    check("from=0: at most the longest archive's count (720)", st == 200 and len(s["points"]) == 720, len(s["points"]))


def bad_requests(a):
    before = state(a)
    cases = [
        ("GET", "/api/rooms/sensors/devices/kitchen/series?range=2h", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=&range=2h", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=" + "t" * 25 + "&range=2h", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=" + "t" * 5000 + "&range=2h", 414, "uri_too_long"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=%ff%fe&range=2h", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=door&range=2h", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=nosuch&range=2h", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&range=", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&range=1h", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&range=2h&from=1&to=2", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&from=5&to=4", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&from=5", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&from=x&to=9", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&from=-1&to=9", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/kitchen/series?key=temp&from=1&to=99999999999999999999", 400, "bad_request"),
        ("GET", "/api/rooms/sensors/devices/nobody/series?key=temp&range=2h", 404, "no_such_device"),
        ("GET", "/api/rooms/sensors/devices/" + "k" * 30 + "/series?key=temp&range=2h", 404, "no_such_device"),
        ("GET", "/api/rooms/sensors/devices/kitchen/other", 404, "not_found"),
        ("GET", "/api/rooms/sensors/devices/kitchen", 404, "not_found"),
        ("GET", "/api/rooms/nowhere/devices", 404, "no_such_room"),
        ("GET", "/api/rooms/nowhere/devices/kitchen/series?key=temp&range=2h", 404, "no_such_room"),
        ("GET", "/api/rooms/@alice+bob/devices", 403, "forbidden"),
        ("POST", "/api/rooms/sensors/devices", 405, "method_not_allowed"),
        ("DELETE", "/api/rooms/sensors/devices/kitchen/series?key=temp", 405, "method_not_allowed"),
    ]
    for method, path, want, code in cases:
        st, hdrs, data = raw(a, method, path, body=b"{}" if method == "POST" else None,
                             headers={"Content-Type": "application/json"} if method == "POST" else None)
        check("%s %s: %d %s, one JSON error" % (method, path[:90], want, code), one_error(st, data, want, code),
              (st, data[:200]))
        if want == 405:
            check("405 names GET, HEAD in Allow", hdrs.get("allow") == "GET, HEAD", hdrs)
    check("the bad requests changed nothing", state(a) == before)


def refusals(mq):
    b = start("--max-devices", "2", "--max-series", "2", "--keys-per-device", "2", mq=mq)
    try:
        check("small tables: d1 posted", reading(b, "sensors", "d1", {"a": 1})[0] == 201)
        check("small tables: d2 posted", reading(b, "sensors", "d2", {"a": 2})[0] == 201)
        before = state(b)
        for name, data, why in (("d3", {"a": 3}, "max_devices"), ("d1", {"a": 1, "b": "x", "c": "y"}, "keys_per_device"),
                                ("d1", {"b": 5}, "max_series")):
            st, body = reading(b, "sensors", name, data)
            check("%s %s refused: 503 server_busy naming %s" % (name, json.dumps(data), why),
                  st == 503 and body["error"]["code"] == "server_busy" and why in body["error"]["message"], body)
            check("... and nothing changed (devices, history, rooms)", state(b) == before)
        st, body = reading(b, "newroom", "d3", {"a": 3})
        check("a refused reading in a new room: 503, and no room is created",
              st == 503 and "newroom" not in json.dumps(get(b, "/api/rooms")[2]), (st, body))
        st, body = post(b, "sensors", {"from": "d1", "text": "x", "data": {"a": {"nested": 1}}})
        check("nested data: 400, nothing changed", st == 400 and state(b) == before, body)
        check("a string value (no series) still fits: d1 {b: 'x'}", reading(b, "sensors", "d1", {"b": "x"})[0] == 201)
        before = state(b)
        dropped = [l for l in metric_lines(b, "roost_mqtt_dropped_other_total")]
        deadline = time.time() + 20
        while time.time() < deadline and b.http("GET", "/healthz")[2].get("mqtt") != "connected":
            time.sleep(0.1)
        mq.pub("roost/sensors/device/d9", '{"a":9}')
        deadline = time.time() + 20
        after = dropped
        while time.time() < deadline and after == dropped:
            time.sleep(0.2)
            after = metric_lines(b, "roost_mqtt_dropped_other_total")
        check("MQTT reading of a third device: counted once as dropped",
              dropped == ["roost_mqtt_dropped_other_total 0"] and after == ["roost_mqtt_dropped_other_total 1"],
              (dropped, after))
        check("... logged with the setting's name", "max_devices" in b.output(), b.output()[-500:])
        check("... and nothing changed", state(b) == before)
    finally:
        b.stop()


def large_series():
    """100000 points (the most an archive holds): streamed without a length,
    whole, up to the close; HEAD says no length either."""
    b = start("--device-archives", "1s:100000s")
    try:
        check("large archive: a reading", reading(b, "sensors", "k", {"t": 9.1})[0] == 201)
        st, hdrs, data = raw(b, "GET", "/api/rooms/sensors/devices/k/series?key=t&range=30d")
        s = json.loads(data)
        full = [p for p in s["points"] if p[1] is not None]
        check("large archive: 100000 points of 1 s, whole, without Content-Length, then the close",
              st == 200 and "content-length" not in hdrs and hdrs.get("connection") == "close" and
              len(s["points"]) == 100000 and s["step_ms"] == 1000 and len(full) == 1 and full[0][1:] == [9.1, 9.1, 9.1],
              (st, hdrs, len(s.get("points", [])), full))
        st, hdrs, data = raw(b, "HEAD", "/api/rooms/sensors/devices/k/series?key=t&range=30d")
        check("large archive: HEAD, the headers alone", st == 200 and data == b"" and "content-length" not in hdrs, hdrs)
    finally:
        b.stop()


def history_messages(rs, room):
    return get(rs, "/api/rooms/%s/messages?limit=100000" % room)[2]["messages"]


async def stale_and_back():
    c = start("--device-stale-s", "1")
    try:
        check("shed posts once", reading(c, "yard", "shed", {"temp": 5})[0] == 201)
        quiet = []
        deadline = time.time() + 30
        while time.time() < deadline and not quiet:
            time.sleep(0.2)
            quiet = [m for m in history_messages(c, "yard") if m.get("kind") == "system"]
        time.sleep(2.5)  # a second sweep must not say it again
        sys_msgs = [m for m in history_messages(c, "yard") if m.get("kind") == "system"]
        check("quiet for device_stale_s: one system message 'shed went quiet (last seen HH:MM)'",
              len(sys_msgs) == 1 and sys_msgs[0]["text"].startswith("shed went quiet (last seen ") and
              sys_msgs[0]["from"] == "roost" and sys_msgs[0]["data"] == {"device": "shed", "state": "stale"}, sys_msgs)
        d = get(c, "/api/rooms/yard/devices")[2]["devices"][0]
        check("GET devices: stale true", d["stale"] is True, d)
        check("shed posts again", reading(c, "yard", "SHED", {"temp": 6})[0] == 201)
        sys_msgs = [m for m in history_messages(c, "yard") if m.get("kind") == "system"]
        check("back: one system message 'shed is back', after the quiet one",
              [m["text"] for m in sys_msgs][:2] == [sys_msgs[0]["text"], "shed is back"] and
              sys_msgs[1]["data"] == {"device": "shed", "state": "back"} and
              len([m for m in sys_msgs if m["text"] == "shed is back"]) == 1, sys_msgs)

        # 2,000 readings and people's messages side by side.
        alice = await Client.connect(c, "alice")
        await alice.send({"type": "join", "room": "yard"})
        await alice.wait("joined")
        for i in range(5):
            await alice.send({"type": "say", "room": "yard", "text": "people %d" % i, "cid": "p%d" % i})
            await alice.wait("ack")
        conn = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=20)
        ok = 0
        for i in range(2000):
            conn.request("POST", "/api/rooms/yard/messages",
                         body=json.dumps({"from": "dev%d" % (i % 3), "text": "r", "data": {"n": i}}),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            ok += r.status == 201
        conn.close()
        await alice.close()
        check("2,000 readings posted", ok == 2000, ok)
        msgs = history_messages(c, "yard")
        people = [m["text"] for m in msgs if m.get("from") == "alice"]
        check("after 2,000 readings people's messages are all still in the history",
              people == ["people %d" % i for i in range(5)], people)
        check("... with the system messages, and readings of the device ring too",
              any(m.get("kind") == "system" for m in msgs) and any(m.get("kind") == "device" for m in msgs))
        seqs = [m["seq"] for m in msgs]
        check("... in seq order", seqs == sorted(seqs))
    finally:
        c.stop()


def metrics_and_tokens(a):
    lines = metric_lines(a, "roost_device_value{")
    check("metrics: roost_device_value for numeric keys",
          'roost_device_value{room="sensors",device="kitchen",key="temp"} 21.5' in lines and
          'roost_device_value{room="sensors",device="shed",key="temp"} 36.5' in lines and
          not any('key="door"' in l for l in lines), lines)
    seen = metric_lines(a, "roost_device_last_seen_seconds{")
    check("metrics: roost_device_last_seen_seconds per device (5)", len(seen) == 5 and
          all(abs(float(l.split()[1]) - time.time()) < 120 for l in seen), seen)

    t = start("--token", "dev s3cret-dev-0123456789 rooms=sensors", "--token", "other s3cret-other-0123456789 rooms=lobby")
    try:
        dev = {"Authorization": "Bearer s3cret-dev-0123456789"}
        other = {"Authorization": "Bearer s3cret-other-0123456789"}
        check("tokens: a reading with the room's token", reading(t, "sensors", "kitchen", {"temp": 1.5}, headers=dev)[0] == 201)
        for path in ("/api/rooms/sensors/devices", "/api/rooms/sensors/devices/kitchen/series?key=temp&range=2h"):
            st, _, data = raw(t, "GET", path)
            check("tokens: %s without a token: 401" % path, one_error(st, data, 401, "unauthorized"), data)
            st, _, data = raw(t, "GET", path, headers={"Authorization": "Bearer wrong"})
            check("tokens: %s with a wrong token: 401" % path, one_error(st, data, 401, "unauthorized"), data)
            st, _, data = raw(t, "GET", path, headers=other)
            check("tokens: %s with another room's token: 403" % path, one_error(st, data, 403, "forbidden"), data)
            st, _, data = raw(t, "GET", path, headers=dev)
            check("tokens: %s with the room's token: 200" % path, st == 200 and json.loads(data)["room"] == "sensors")
        check("tokens: metrics without a token show no device",
              metric_lines(t, "roost_device_") == [])
        check("tokens: metrics with another room's token show no device",
              metric_lines(t, "roost_device_", other) == [])
        check("tokens: metrics with the room's token show its device",
              'roost_device_value{room="sensors",device="kitchen",key="temp"} 1.5' in metric_lines(t, "roost_device_", dev))
    finally:
        t.stop()


async def main():
    mq = Mosquitto()
    a = start(mq=mq)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and a.http("GET", "/healthz")[2].get("mqtt") != "connected":
            time.sleep(0.1)
        listing_and_series(a, mq)
        bad_requests(a)
        metrics_and_tokens(a)
        refusals(mq)
        large_series()
        await stale_and_back()
        check("the broker ran without errors", a.stop() == 0, a.output()[-2000:])
    finally:
        a.stop()
        mq.stop()
    return checks_exit()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
