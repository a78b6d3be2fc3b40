#!/usr/bin/python3
"""Roost side by side with the stacks people start chat apps from.

Starts each server pinned to one core (taskset), drives it with roost-bench
pinned to the other, and prints one table: deliveries/s, deliveries per
server CPU-second, p50/p99 at half the maximum rate, idle RSS and RSS per
idle connection, with the ratios Roost/peer. Results go to
build/bench/compare.json.

usage: compare.py BUILD_DIR [--full]
  BUILD_DIR holds roost and bench/roost-bench (a Release build).
Peers: bench/peers (npm ci --prefix bench/peers), mosquitto (Debian).
"""

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(HERE, "..", "build", "bench-host")
FULL = "--full" in sys.argv
GEN = os.path.join(BUILD, "bench", "roost-bench")
ROOST = os.path.join(BUILD, "roost")
OUT = os.path.join(HERE, "..", "build", "bench")
CORES = os.cpu_count() or 1
SERVER_CORE, GEN_CORE = "0", "1" if CORES > 1 else "0"
COMMON_LOAD = 50000.0  # deliveries/s every server carries, for latency at equal load

# 10,000 idle connections need more descriptors than many defaults allow:
# raise the limit for this script and what it starts (as root, past the hard
# limit too).
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, 65536), max(hard, 65536)))
except (ValueError, OSError):
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pinned(core, cmd):
    return (["taskset", "-c", core] if shutil.which("taskset") else []) + cmd


class Server:
    def __init__(self, name, cmd, dialect="roost", port_re=r"listening on (?:http )?port (\d+)", port=None):
        self.name, self.cmd, self.dialect, self.port_re, self.fixed_port = name, cmd, dialect, port_re, port
        self.proc = None
        self.tls_port = None

    def start(self):
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-%s-" % self.name, delete=False)
        self.proc = subprocess.Popen(pinned(SERVER_CORE, self.cmd), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.fixed_port:
                self.port = self.fixed_port
                time.sleep(0.5)
                return self
            text = open(self.log.name).read()
            m = re.search(self.port_re, text)
            if m:
                self.port = int(m.group(1))
                t = re.search(r"https port (\d+)", text)
                self.tls_port = int(t.group(1)) if t else None
                time.sleep(0.2)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("%s did not start: %s" % (self.name, open(self.log.name).read()[-2000:]))

    def rss_kb(self, field="VmRSS:"):
        for line in open("/proc/%d/status" % self.proc.pid):
            if line.startswith(field):
                return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_gen(server, *args, tls=False):
    port = server.tls_port if tls else server.port
    cmd = pinned(GEN_CORE, [GEN, "--port", str(port), "--tls", "1" if tls else "0", "--dialect", server.dialect, "--server-pid",
                            str(server.proc.pid), "--label", server.name] + [str(a) for a in args])
    print("  %s: %s" % (server.name, " ".join(str(a) for a in args)), file=sys.stderr, flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    line = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if not line.startswith("{"):
        return {"error": (r.stderr or "no output")[-300:]}
    res = json.loads(line)
    if r.returncode != 0:
        res["error"] = (r.stderr or "exit %d" % r.returncode)[-300:]
    return res


def servers():
    max_n = 12000
    roost_flags = ["--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0",
                   "--data", tempfile.mkdtemp(prefix="bench-roost-"),
                   "--max-connections", str(max_n), "--max-per-address", str(max_n), "--max-sessions", str(max_n),
                   "--max-nicks", str(max_n), "--msg-rate", "1000000", "--msg-burst", "1000000",
                   "--log-level", "error"]
    out = [Server("roost", [ROOST] + roost_flags)]
    node = shutil.which("node")
    peers = os.path.join(HERE, "peers")
    if node and os.path.isdir(os.path.join(peers, "node_modules")):
        out.append(Server("node-ws", [node, os.path.join(peers, "ws_server.js"), "--port", "0"]))
        out.append(Server("socket.io", [node, os.path.join(peers, "socketio_server.js"), "--port", "0"],
                          dialect="socketio"))
    mosq = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if os.path.exists(mosq):
        conf = os.path.join(tempfile.mkdtemp(prefix="bench-mosq-"), "mosquitto.conf")
        port = free_port()
        open(conf, "w").write("listener %d 127.0.0.1\nallow_anonymous true\nmax_connections -1\n"
                              "max_queued_messages 100000\nset_tcp_nodelay true\n" % port)
        out.append(Server("mosquitto", [mosq, "-c", conf], dialect="mqtt", port=port))
    out.append(Server("null-server", [GEN, "serve", "--port", "0"]))
    return out


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def median_run(server, runs, *args, **kw):
    """Latency on a shared VM is noisy: the run with the median p99 of `runs`."""
    out = sorted((run_gen(server, *args, **kw) for _ in range(runs)), key=lambda r: r.get("p99_us") or 0)
    return out[len(out) // 2]


def suite(server):
    secs = 10 if FULL else 3
    rooms = [10, 100, 1000] if FULL else [100]
    repeats = 3
    res = {"name": server.name}
    # Memory on a fresh process: idle RSS, then the idle connections.
    server.start()
    try:
        res["idle_rss_kb"] = server.rss_kb()
        res["idle_anon_kb"] = server.rss_kb("RssAnon:")
        if server.name == "roost":
            import urllib.request
            text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % server.port, timeout=5).read().decode()
            res["reserved_kb"] = int(re.search(r"^roost_memory_reserved_bytes (\d+)", text, re.M).group(1)) // 1024
        res["idle"] = run_gen(server, "--scenario", "idle", "--conns", 10000 if FULL else 2000)
    finally:
        server.stop()
    if getattr(server, "tls_port", None):
        server.start()
        try:
            res["tls_idle"] = run_gen(server, "--scenario", "idle", "--conns", 2000 if FULL else 500, tls=True)
        finally:
            server.stop()
    server.start()
    try:
        for n in rooms:
            cl = run_gen(server, "--scenario", "fanout", "--members", n, "--seconds", secs)
            res["fanout_%d" % n] = cl
            if "error" in cl or not cl.get("deliveries_per_s"):
                continue
            # Open loop at half the closed-loop maximum: latency.
            rate = max(1.0, cl["deliveries_per_s"] / 2 / n)
            res["latency_%d" % n] = median_run(server, repeats, "--scenario", "fanout", "--members", n,
                                               "--rate", "%.1f" % rate, "--seconds", secs)
            # The same offered load for every server: 50,000 deliveries/s.
            res["common_%d" % n] = median_run(server, repeats, "--scenario", "fanout", "--members", n,
                                              "--rate", "%.1f" % (COMMON_LOAD / n), "--seconds", secs)
        res["all2all"] = run_gen(server, "--scenario", "all2all", "--members", 20, "--seconds", secs)
        if server.name == "roost":
            base = res.get("common_100", {})
            if base.get("rate"):
                res["slow"] = median_run(server, repeats, "--scenario", "fanout", "--members", 100, "--slow", 5,
                                         "--rate", "%.1f" % base["rate"], "--seconds", secs)
        if getattr(server, "tls_port", None):
            res["tls_fanout_%d" % rooms[-1]] = run_gen(server, "--scenario", "fanout", "--members", rooms[-1],
                                                       "--seconds", secs, tls=True)
    finally:
        server.stop()
    return res


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float) and v >= 100 or isinstance(v, int):
        return "{:,}{}".format(int(v), unit)
    return "{:.2f}{}".format(v, unit)


def main():
    if not os.path.exists(GEN) or not os.path.exists(ROOST):
        sys.exit("compare.py: build %s first (make bench)" % BUILD)
    os.makedirs(OUT, exist_ok=True)
    results = [suite(s) for s in servers()]
    rooms = [10, 100, 1000] if FULL else [100]
    n = rooms[-1]

    def get(key, field):
        return lambda r: r.get(key, {}).get(field)

    rows = []
    for m in rooms:
        rows += [("room of %d: fan-out deliveries/s" % m, get("fanout_%d" % m, "deliveries_per_s"), True),
                 ("room of %d: deliveries per server CPU-s" % m, get("fanout_%d" % m, "deliveries_per_server_cpu_s"),
                  True),
                 ("room of %d: p50 us at half its max rate" % m, get("latency_%d" % m, "p50_us"), False),
                 ("room of %d: p99 us at half its max rate" % m, get("latency_%d" % m, "p99_us"), False),
                 ("room of %d: p50 us at 50k deliveries/s" % m, get("common_%d" % m, "p50_us"), False),
                 ("room of %d: p99 us at 50k deliveries/s" % m, get("common_%d" % m, "p99_us"), False),
                 ("room of %d: p99.9 us at 50k deliveries/s" % m, get("common_%d" % m, "p999_us"), False)]
    rows += [("all-to-all rounds/s (20 clients)", get("all2all", "iterations_per_s"), True),
             ("idle RSS KB", lambda r: r.get("idle_rss_kb"), False),
             ("idle private (anonymous) RSS KB", lambda r: r.get("idle_anon_kb"), False),
             ("RSS per idle connection, bytes (%s)" % ("10,000" if FULL else "2,000"),
              get("idle", "rss_per_conn_bytes"), False),
             ("TLS, room of %d: fan-out deliveries/s" % n, get("tls_fanout_%d" % n, "deliveries_per_s"), True),
             ("TLS: RSS per idle connection, bytes", get("tls_idle", "rss_per_conn_bytes"), False)]
    names = [r["name"] for r in results]
    roost = results[0]
    table = [["metric"] + names]
    for label, get, higher_better in rows:
        line = [label]
        for r in results:
            v = get(r)
            cell = fmt(v)
            if r is not roost and v and get(roost):
                cell += " (%.1fx)" % (get(roost) / v)
            line.append(cell)
        table.append(line)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    print()
    for row in table:
        print(row[0].ljust(widths[0]) + "".join("  " + c.rjust(w) for c, w in zip(row[1:], widths[1:])))
    with open(os.path.join(OUT, "compare-full.md" if FULL else "compare.md"), "w") as md:
        md.write("| " + " | ".join(table[0]) + " |\n|" + "---|" * len(table[0]) + "\n")
        for row in table[1:]:
            md.write("| " + " | ".join(row) + " |\n")
    print("(ratio in brackets: Roost / peer; null-server: roost-bench's own do-nothing server, one send() per delivery)")
    for r in results:
        for k, v in r.items():
            if isinstance(v, dict) and v.get("generator_saturated"):
                print("note: %s %s: the generator's core was saturated; compare per server CPU-second" % (r["name"], k))
            if isinstance(v, dict) and v.get("error"):
                print("note: %s %s: %s" % (r["name"], k, v["error"].strip().splitlines()[-1]))
    if "slow" in roost:
        s, b = roost["slow"], roost.get("common_100", {})
        print("slow consumer (5 of 100 stop reading, at 50k deliveries/s): p99 %s us vs %s us without; server RSS %s KB before, "
              "%s KB at most (idle %s KB + reserved %s KB = %s KB budget)"
              % (s.get("p99_us"), b.get("p99_us"), s.get("server_rss_before_kb"), s.get("server_rss_max_kb"),
                 roost.get("idle_rss_kb"), roost.get("reserved_kb"),
                 (roost.get("idle_rss_kb") or 0) + (roost.get("reserved_kb") or 0)))
    path = os.path.join(OUT, "compare-full.json" if FULL else "compare.json")
    json.dump(results, open(path, "w"), indent=1)
    print("results: %s" % os.path.relpath(path))


main()
