#!/usr/bin/env python3
"""MQTT bridge throughput: messages per second bridged out (said on Roost A,
arriving on Roost B's WebSocket client through mosquitto) and bridged in
(a device's lines from mosquitto_pub -l, arriving on A's WebSocket client).
Release build, Debian's mosquitto with set_tcp_nodelay true, QoS 1 publishes
(one in flight, as lws's MQTT client allows), everything on loopback.

    /usr/bin/python3 bench/mqtt_bench.py BUILD_DIR [--count 5000] [--out build/bench/mqtt.json]
"""
import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from roost_harness import Client, Roost, free_port  # noqa: E402



async def count_msgs(c, want, timeout):
    n, end = 0, time.time() + timeout
    while n < want and time.time() < end:
        try:
            await c._read(max(0.05, end - time.time()))
        except asyncio.TimeoutError:
            break
        n += sum(1 for e in c.events if e.get("type") == "msg")
        c.events.clear()
    return n


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--out", default="build/bench/mqtt.json")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mqtt-bench-")
    port = free_port()
    conf = os.path.join(tmp, "m.conf")
    open(conf, "w").write("listener %d 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n" % port)
    mq = subprocess.Popen(["mosquitto", "-c", conf], stdout=open(os.path.join(tmp, "m.log"), "w"), stderr=subprocess.STDOUT)
    time.sleep(0.3)
    binary = os.path.join(a.build, "roost")
    common = ["--https-port", "-1", "--mqtt", "mqtt://127.0.0.1:%d" % port, "--msg-rate", "1000000",
              "--msg-burst", "1000000", "--ring-msgs", "16384", "--ring-bytes", str(8 << 20)]
    ra = Roost(binary, *common, "--mqtt-client-id", "bench-a", data=False).start()
    rb = Roost(binary, *common, "--mqtt-client-id", "bench-b", data=False).start()
    for r in (ra, rb):
        while r.http("GET", "/healthz")[2].get("mqtt") != "connected":
            time.sleep(0.05)
    results = {}
    # Out: said on A, counted on B.
    ca, cb = await Client.connect(ra, "sender"), await Client.connect(rb, "receiver")
    for c in (ca, cb):
        await c.send({"type": "join", "room": "bench", "backlog": 0})
        await c.wait("joined")
    t0 = time.time()
    counter = asyncio.ensure_future(count_msgs(cb, a.count, int(os.environ.get("MQTT_BENCH_WAIT", "120"))))
    for i in range(a.count):
        await ca.send({"type": "say", "room": "bench", "text": "message %d of the bridge benchmark" % i})
    got = await counter
    dt = time.time() - t0
    if os.environ.get("MQTT_BENCH_DEBUG") and got < a.count:
        print(rb.output()[-1500:])
        print(open(os.path.join(tmp, "m.log")).read()[-1500:])
    if os.environ.get("MQTT_BENCH_DEBUG"):
        for r in (ra, rb):
            print([l for l in r.http("GET", "/metrics")[2].splitlines() if l.startswith("roost_mqtt") and not l.endswith(" 0")])
    results["out_messages"] = got
    results["out_per_s"] = round(got / dt)
    # In: a device's lines through mosquitto_pub -l, counted on A.
    ca.events.clear()
    lines = "".join('{"temp":%d.5,"n":%d}\n' % (i % 40, i) for i in range(a.count))
    t0 = time.time()
    counter = asyncio.ensure_future(count_msgs(ca, a.count, 120))
    pub = await asyncio.create_subprocess_exec("mosquitto_pub", "-p", str(port), "-q", "1", "-l", "-t",
                                               "roost/bench/device/meter", stdin=asyncio.subprocess.PIPE)
    await pub.communicate(lines.encode())
    got = await counter
    dt = time.time() - t0
    results["in_messages"] = got
    results["in_per_s"] = round(got / dt)
    for r in (ra, rb):
        r.stop()
    mq.terminate()
    table = ("| MQTT bridge (loopback, mosquitto 2.0, QoS 1 out) | messages | messages/s |\n|---|---|---|\n"
             "| out: said on Roost A, delivered on Roost B | %s | %s |\n"
             "| in: device lines (mosquitto_pub -l) into Roost A | %s | %s |" % (
                 format(results["out_messages"], ","), format(results["out_per_s"], ","),
                 format(results["in_messages"], ","), format(results["in_per_s"], ",")))
    print("\n" + table)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    json.dump(results, open(a.out, "w"), indent=1)
    open(a.out.replace(".json", ".md"), "w").write(table + "\n")


asyncio.run(main())
