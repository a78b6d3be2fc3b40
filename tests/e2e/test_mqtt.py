#!/usr/bin/env python3
"""End-to-end tests of the MQTT bridge against Debian's mosquitto (started
here on free loopback ports, plain and TLS) with real Roost binaries and
WebSocket clients: devices publishing with mosquitto_pub, two and three
Roosts sharing a room exactly once and in order, mosquitto stopped and
restarted, bad payloads dropped and counted, TLS, settings refused.

    /usr/bin/python3 tests/e2e/test_mqtt.py ROOST_BINARY
"""
import asyncio
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, Roost, free_port, check, checks_passed, listening  # noqa: E402

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="roost-mqtt-")




def make_certs():
    """A CA and a server certificate for 127.0.0.1, with openssl."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=TMP, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
        "-out", "ca.crt", "-days", "2", "-subj", "/CN=test mqtt ca")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(TMP, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    # A client certificate for Roost, signed by the same CA.
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key",
        "-out", "client.csr", "-subj", "/CN=roost-client")
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "client.crt", "-days", "2")
    subprocess.run(["mosquitto_passwd", "-b", "-c", os.path.join(TMP, "passwd"), "roost", "s3cret"], check=True,
                   capture_output=True)
    # mosquitto started as root drops to its own user: let it read them (test keys only).
    os.chmod(TMP, 0o755)
    for f in ("ca.crt", "server.crt", "server.key", "passwd"):
        os.chmod(os.path.join(TMP, f), 0o644)


class Mosquitto:
    def __init__(self, auth=False):
        self.port, self.tls_port = free_port(), free_port()
        self.cert_port, self.pw_port = free_port(), free_port()  # client certificate required; password required
        self.conf = os.path.join(TMP, "mosquitto-auth.conf" if auth else "mosquitto.conf")
        self.dir = os.path.join(TMP, "mosquitto-db")  # its persistence (sessions survive a restart)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o777)
        with open(self.conf, "w") as f:
            if auth:  # each listener with its own rules
                f.write("per_listener_settings true\n")
                f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
                f.write("listener %d 127.0.0.1\nallow_anonymous true\nrequire_certificate true\n" % self.cert_port)
                f.write("cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n" % (TMP, TMP, TMP))
                f.write("listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s/passwd\n" % (self.pw_port, TMP))
            else:
                f.write("persistence true\npersistence_location %s/\nset_tcp_nodelay true\n" % self.dir)
                f.write("queue_qos0_messages true\n")  # what a Roost misses while its link is down waits for it
                f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
                f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.tls_port)
                f.write("cafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n" % (TMP, TMP, TMP))
        self.proc = None

    def start(self):
        self.log = open(os.path.join(TMP, "mosquitto.log"), "a")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT)
        if listening(self.port):
            return self
        raise RuntimeError("mosquitto did not start: " + open(os.path.join(TMP, "mosquitto.log")).read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def pub(self, topic, payload=None, file=None):
        args = ["mosquitto_pub", "-p", str(self.port), "-q", "1", "-t", topic]
        args += ["-f", file] if file else ["-m", payload]
        subprocess.run(args, check=True, timeout=10)


def roost(mq, name, *extra, tls=False, data=None):  # data: a data directory to reuse
    url = "mqtts://127.0.0.1:%d" % mq.tls_port if tls else "mqtt://127.0.0.1:%d" % mq.port
    args = ["--https-port", "-1", "--mqtt", url, "--mqtt-client-id", name, "--msg-rate", "1000", "--msg-burst", "1000"]
    if tls:
        args += ["--mqtt-ca", os.path.join(TMP, "ca.crt")]
    return Roost(BIN, *args, *extra, data=data).start()


def wait_up(rs, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if rs.http("GET", "/healthz")[2].get("mqtt") == "connected":
            return True
        time.sleep(0.1)
    return False


def metric(rs, name):
    for line in rs.http("GET", "/metrics")[2].splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


async def joined(rs, nick, room="lobby"):
    c = await Client.connect(rs, nick)
    await c.send({"type": "join", "room": room, "backlog": 0})
    await c.wait("joined", room=room)
    return c


async def collect(c, want, timeout=20):
    """Texts of msg events until `want` of them arrived (or the timeout)."""
    got = []
    end = time.time() + timeout
    while len(got) < want and time.time() < end:
        for e in await c.quiet(0.2):
            if e.get("type") == "msg":
                got.append(e)
    for e in await c.quiet(0.5):  # anything doubled would show up here
        if e.get("type") == "msg":
            got.append(e)
    return got


async def devices(mq, a):
    c = await joined(a, "watcher", "sensors")
    mq.pub("roost/sensors/device/kitchen", '{"temp":21.5,"door":"open"}')
    mq.pub("roost/sensors/device/porch", "motion at the door")
    got = await collect(c, 2)
    by = {m["from"]: m for m in got}
    check("mosquitto_pub JSON readings become a device message with data",
          by.get("kitchen", {}).get("kind") == "device" and by["kitchen"].get("data") == {"temp": 21.5, "door": "open"},
          str(got))
    check("mosquitto_pub text becomes a device message with that text",
          by.get("porch", {}).get("text") == "motion at the door" and len(got) == 2, str(got))
    await c.close()


async def shared_room(mq, roosts, per=30):
    names = [r.args[r.args.index("--mqtt-client-id") + 1] for r in roosts]
    clients = [await joined(r, "u%d" % i) for i, r in enumerate(roosts)]
    await asyncio.sleep(0.3)
    for k in range(per):
        for i, c in enumerate(clients):
            await c.send({"type": "say", "room": "lobby", "text": "%s-%d" % (names[i], k)})
    total = per * len(roosts)
    for i, c in enumerate(clients):
        got = await collect(c, total)
        texts = [m["text"] for m in got]
        ok_once = sorted(texts) == sorted("%s-%d" % (n, k) for n in names for k in range(per))
        in_order = all([t for t in texts if t.startswith(n + "-")] == ["%s-%d" % (n, k) for k in range(per)]
                       for n in names)
        if not ok_once:
            for r in roosts:
                print([l for l in r.http("GET", "/metrics")[2].splitlines() if l.startswith("roost_mqtt") and not l.endswith(" 0")])
            from collections import Counter
            print(Counter(t.rsplit("-", 1)[0] for t in texts))
        check("%d Roosts: %s's client sees all %d messages exactly once" % (len(roosts), names[i], total), ok_once,
              "%d texts: %s" % (len(texts), texts[:10]))
        check("%d Roosts: %s's client sees each origin's messages in order" % (len(roosts), names[i]), in_order)
        remote = [m for m in got if not m["text"].startswith(names[i] + "-")]
        check("%d Roosts: messages from elsewhere keep their origin" % len(roosts),
              all(m.get("origin") == m["text"].rsplit("-", 1)[0] for m in remote))
    for c in clients:
        await c.close()


async def outage(mq, a, b):
    ca, cb = await joined(a, "ann", "outage"), await joined(b, "bob", "outage")
    mq.stop()
    deadline = time.time() + 10
    while a.http("GET", "/healthz")[2].get("mqtt") == "connected" and time.time() < deadline:
        time.sleep(0.1)
    check("mosquitto stopped: /healthz says the link is down", a.http("GET", "/healthz")[2]["mqtt"] != "connected")
    for k in range(10):
        await ca.send({"type": "say", "room": "outage", "text": "while down %d" % k})
    await asyncio.sleep(0.5)
    mq.start()
    check("mosquitto back: both Roosts reconnect by themselves", wait_up(a, 40) and wait_up(b, 40))
    got = await collect(cb, 10, timeout=30)
    texts = [m["text"] for m in got]
    check("nothing said during the outage is lost or doubled", texts == ["while down %d" % k for k in range(10)],
          str(texts))
    check("/metrics counts the reconnect", metric(a, "roost_mqtt_connects_total") >= 2)
    await ca.close()
    await cb.close()


async def restart_while_down(mq, a, b):
    """What a Roost stored while its link was down goes out after it restarts
    on its data directory (its publish cursor is kept). The other Roost is
    back on the link first: this is about the restarted Roost's cursor, not
    about the MQTT broker queueing for a client that is away."""
    ca, cb = await joined(a, "ann3", "later"), await joined(b, "bob3", "later")
    mq.stop()
    for k in range(5):
        await ca.send({"type": "say", "room": "later", "text": "before the restart %d" % k})
    await asyncio.sleep(0.5)
    await ca.close()
    check("a Roost stops cleanly with its link down", a.stop() == 0)
    mq.start()
    check("the other Roost reconnects", wait_up(b, 40))
    a2 = roost(mq, "roost-a", data=a.data)
    check("the stopped one comes back on its data directory and reconnects", wait_up(a2, 40))
    got = await collect(cb, 5, timeout=30)
    check("what it stored before the restart reaches the other Roost, once",
          [m["text"] for m in got] == ["before the restart %d" % k for k in range(5)], str([m["text"] for m in got]))
    await cb.close()
    return a2


async def bad_payloads(mq, a):
    c = await joined(a, "eve", "lobby")
    bad = os.path.join(TMP, "bad.bin")
    open(bad, "wb").write(b'{"type":"msg","text":"\xff\xfe"}')
    mq.pub("roost/lobby", file=bad)
    big = os.path.join(TMP, "big.bin")
    open(big, "wb").write(b"x" * (1 << 20 + 1))
    mq.pub("roost/lobby", file=big)
    mq.pub("roost/lobby", "{not json")
    mq.pub("roost/lobby", '{"type":"msg","origin":"x","oepoch":"e","seq":1,"from":"bad nick!","kind":"chat","text":"t"}')
    mq.pub("roost/lobby/device/meter", file=bad)
    mq.pub("roost/Not A Room!", '{"type":"msg"}')
    mq.pub("roost/lobby/device/bad name!", "hi")
    await asyncio.sleep(1.0)
    got = [e for e in await c.quiet(0.5) if e.get("type") == "msg"]
    check("bad payloads store nothing", got == [], str(got))
    check("... bad UTF-8 is dropped and counted (2)", metric(a, "roost_mqtt_dropped_bad_utf8_total") == 2)
    check("... an oversized payload is dropped and counted", metric(a, "roost_mqtt_dropped_too_large_total") == 1)
    check("... bad JSON is dropped and counted", metric(a, "roost_mqtt_dropped_bad_json_total") == 1)
    check("... a bad field is dropped and counted", metric(a, "roost_mqtt_dropped_other_total") == 1)
    check("... bad room and device names in topics are dropped and counted (2)",
          metric(a, "roost_mqtt_dropped_topic_total") == 2)
    check("... and the reasons are logged", "roost: mqtt: dropped a message on roost/lobby" in a.output())
    await c.close()


async def tls(mq, a):
    d = roost(mq, "roost-tls", tls=True)
    check("mqtts:// with the CA: the bridge connects over TLS", wait_up(d))
    cd, ca = await joined(d, "tess"), await joined(a, "ann2")
    await cd.send({"type": "say", "room": "lobby", "text": "over tls"})
    got = await collect(ca, 1)
    check("a message said on the TLS Roost reaches the others", [m["text"] for m in got] == ["over tls"], str(got))
    await cd.close()
    await ca.close()
    check("the TLS Roost exits 0", d.stop() == 0)


def credentials(mq):
    """A client certificate, and a user name with its password."""
    e = Roost(BIN, "--https-port", "-1", "--mqtt", "mqtts://127.0.0.1:%d" % mq.cert_port, "--mqtt-ca",
              os.path.join(TMP, "ca.crt"), "--mqtt-cert", os.path.join(TMP, "client.crt"), "--mqtt-key",
              os.path.join(TMP, "client.key"), "--mqtt-client-id", "roost-cert").start()
    check("a client certificate gets in where the MQTT broker requires one", wait_up(e))
    check("... and that Roost exits 0", e.stop() == 0)
    f = Roost(BIN, "--https-port", "-1", "--mqtt", "mqtt://127.0.0.1:%d" % mq.pw_port, "--mqtt-user", "roost",
              "--mqtt-password", "s3cret", "--mqtt-client-id", "roost-pw").start()
    check("a user name and password get in", wait_up(f))
    f.stop()
    g = Roost(BIN, "--https-port", "-1", "--mqtt", "mqtt://127.0.0.1:%d" % mq.pw_port, "--mqtt-user", "roost",
              "--mqtt-password", "wrong", "--mqtt-client-id", "roost-nopw").start()
    check("a wrong password does not (the link stays down and keeps retrying)", not wait_up(g, 3) and
          g.http("GET", "/healthz")[2]["mqtt"] in ("down", "connecting"))
    g.stop()


def refused_settings():
    for args, why in ((["--mqtt", "http://x"], "is not mqtt://"), (["--mqtt", "mqtt://h:99999"], "is not a port"),
                      (["--mqtt", "mqtts://h"], "needs mqtt_ca"), (["--mqtt", "mqtt://h", "--mqtt-rooms", "a,B d"],
                                                                      "is not a room name"),
                      (["--mqtt", "mqtt://h", "--mqtt-prefix", "a/#"], "mqtt_prefix")):
        p = subprocess.run([BIN, "--http-port", "0", "--https-port", "-1"] + args, capture_output=True, text=True,
                           timeout=30)
        check("refused at start with exit code 2: %s" % " ".join(args), p.returncode == 2 and why in p.stderr, p.stderr)


async def main():
    make_certs()
    mq = Mosquitto().start()
    try:
        a, b = roost(mq, "roost-a"), roost(mq, "roost-b")
        check("two Roosts connect to mosquitto", wait_up(a) and wait_up(b))
        await devices(mq, a)
        await shared_room(mq, [a, b])
        c = roost(mq, "roost-c")
        check("a third Roost connects", wait_up(c))
        await shared_room(mq, [a, b, c])
        await outage(mq, a, b)
        a = await restart_while_down(mq, a, b)
        await bad_payloads(mq, a)
        await tls(mq, a)
        auth = Mosquitto(auth=True).start()
        try:
            credentials(auth)
        finally:
            auth.stop()
        codes = [r.stop() for r in (a, b, c)]
        check("every Roost exits 0 after SIGTERM, links dropped and remade (under ASan: no leak)", codes == [0, 0, 0],
              str(codes))
        refused_settings()
    finally:
        mq.stop()
    print("# %d checks passed" % checks_passed())


asyncio.run(main())
