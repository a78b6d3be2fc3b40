"""loop_bench.py: what an event-loop pass costs Roost with many idle
connections, for each build given (name=binary, e.g. poll=... libuv=...).

For each count N of idle WebSockets (completed upgrade to /ws, hello,
welcome; then silent), a fresh release roost is started, N idle connections
are opened, and one more client measures PINGS round trips of
{"type":"ping"} -> pong, one at a time: p50/p99 in microseconds, the
server's CPU time per round trip (utime+stime from /proc/<pid>/stat, and the
finer /proc/<pid>/schedstat), its RSS, the seconds it took to open the N
connections and the server's CPU while all of them are idle.

Run with Debian's /usr/bin/python3 (standard library only):
  /usr/bin/python3 bench/loop_bench.py --out build/bench/loop.json \\
      poll=build/bench-loop-poll/roost libuv=build/bench-loop/roost
The builds are run in turn for each N and each repeat, and the median over
the repeats is reported. Timings on a shared machine are noisy: compare the
backends within one run, never against another machine's numbers."""

import argparse
import base64
import json
import os
import platform
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def masked_text_frame(obj):
    """A client text frame (masked, as RFC 6455 requires) carrying obj as JSON."""
    data = json.dumps(obj).encode()
    mask = os.urandom(4)
    assert len(data) < 126
    return bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


HELLO = masked_text_frame({"type": "hello", "nick": "idle"})
PING = masked_text_frame({"type": "ping"})


class Conn:
    """One WebSocket client on a blocking socket; frames are read whole."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send_upgrade(self, port):
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: roost.v1\r\n\r\n" % (port, key)).encode())

    def read_upgrade(self):
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError(head.decode("latin-1"))

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("closed by the server")
        self.buf += chunk

    def frame(self):
        """The payload of the next server frame (servers do not mask)."""
        while len(self.buf) < 2:
            self._more()
        n, at = self.buf[1] & 0x7F, 2
        if n == 126:
            while len(self.buf) < 4:
                self._more()
            n, at = int.from_bytes(self.buf[2:4], "big"), 4
        elif n == 127:
            while len(self.buf) < 10:
                self._more()
            n, at = int.from_bytes(self.buf[2:10], "big"), 10
        while len(self.buf) < at + n:
            self._more()
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return payload


def open_idle(port, n, batch=250):
    """n WebSockets past hello/welcome, opened batch by batch (each step is
    pipelined over the batch so setup does not take a round trip each)."""
    conns = []
    while len(conns) < n:
        group = [Conn(port) for _ in range(min(batch, n - len(conns)))]
        for c in group:
            c.send_upgrade(port)
        for c in group:
            c.read_upgrade()
            c.sock.sendall(HELLO)
        for c in group:
            if b'"welcome"' not in c.frame():
                raise RuntimeError("no welcome")
        conns.extend(group)
    return conns


def cpu_ticks(pid):
    # Fields after the ")" of the command name: utime and stime are the
    # 12th and 13th (14th and 15th of the whole line).
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_ns(pid):
    try:
        return int(open("/proc/%d/schedstat" % pid).read().split()[0])
    except OSError:
        return None


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_roost(binary, n, log):
    cmd = [binary, "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "-1",
           "--log-level", "error",
           "--max-connections", str(n + 64), "--max-sessions", str(n + 16),
           "--max-per-address", str(n + 64), "--idle-timeout-s", "3600"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while time.time() < deadline:
        m = re.search(r"listening on http port (\d+)", open(log.name).read())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("roost did not start:\n" + open(log.name).read())


def pct(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def run_one(binary, n, pings, idle_seconds):
    with tempfile.NamedTemporaryFile("w+", prefix="roost-loop-bench-", suffix=".log") as log:
        proc, port = start_roost(binary, n, log)
        conns = []
        try:
            t = time.perf_counter()
            conns = open_idle(port, n)
            setup_s = time.perf_counter() - t

            # Idle: no traffic at all; the server should sleep.
            c0, s0 = cpu_ticks(proc.pid), cpu_ns(proc.pid)
            time.sleep(idle_seconds)
            c1, s1 = cpu_ticks(proc.pid), cpu_ns(proc.pid)
            idle_ms_per_s = ((s1 - s0) / 1e6 if s0 is not None else (c1 - c0) * 1000 / CLK_TCK) / idle_seconds

            active = open_idle(port, 1)[0]
            for _ in range(min(200, pings)):  # warm-up
                active.sock.sendall(PING)
                active.frame()
            rtts = []
            c0, s0 = cpu_ticks(proc.pid), cpu_ns(proc.pid)
            for _ in range(pings):
                t = time.perf_counter_ns()
                active.sock.sendall(PING)
                payload = active.frame()
                rtts.append((time.perf_counter_ns() - t) / 1000)
                if b'"pong"' not in payload:
                    raise RuntimeError("expected pong, got %r" % payload[:80])
            c1, s1 = cpu_ticks(proc.pid), cpu_ns(proc.pid)
            rtts.sort()
            result = {
                "idle_connections": n,
                "p50_us": round(pct(rtts, 50), 1),
                "p99_us": round(pct(rtts, 99), 1),
                "mean_us": round(statistics.fmean(rtts), 1),
                "cpu_us_per_rt": round((c1 - c0) * 1e6 / CLK_TCK / pings, 1),
                "cpu_us_per_rt_schedstat": round((s1 - s0) / 1e3 / pings, 1) if s0 is not None else None,
                "rss_kb": rss_kb(proc.pid),
                "setup_s": round(setup_s, 2),
                "idle_cpu_ms_per_s": round(idle_ms_per_s, 2),
            }
            conns.append(active)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for c in conns:
                c.sock.close()
        if proc.returncode != 0:
            raise RuntimeError("roost exited %d:\n%s" % (proc.returncode, open(log.name).read()[-2000:]))
        return result


def median_of(runs):
    out = {"idle_connections": runs[0]["idle_connections"], "repeats": len(runs)}
    for k in runs[0]:
        if k == "idle_connections":
            continue
        values = [r[k] for r in runs if r[k] is not None]
        out[k] = round(statistics.median(values), 2) if values else None
    return out


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # inherited by roost
    if want < need:
        sys.exit("loop_bench: needs %d file descriptors, the hard limit is %d (ulimit -Hn)" % (need, hard))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("builds", nargs="+", help="NAME=BINARY, e.g. poll=build/bench-loop/roost")
    ap.add_argument("--counts", default="0,1000,3000,9000", help="idle connection counts (default %(default)s)")
    ap.add_argument("--pings", type=int, default=2000, help="measured round trips (default %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per build and count; medians reported (default %(default)s)")
    ap.add_argument("--idle-seconds", type=float, default=2.0, help="idle CPU measured over (default %(default)s)")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    builds = []
    for b in args.builds:
        name, _, path = b.partition("=")
        if not path or not os.access(path, os.X_OK):
            sys.exit("loop_bench: %r is not NAME=EXECUTABLE" % b)
        builds.append((name, path))
    counts = [int(c) for c in args.counts.split(",")]
    raise_fd_limit(max(counts) + 256)

    runs = {(name, n): [] for name, _ in builds for n in counts}
    for rep in range(args.repeat):
        for n in counts:
            for name, path in builds:  # interleaved: drift in the machine's load hits both
                r = run_one(path, n, args.pings, args.idle_seconds)
                runs[(name, n)].append(r)
                print("run %d  %-6s N=%-5d p50 %7.1f us  p99 %7.1f us  cpu %6.1f us/rt  rss %6d KB  setup %5.2f s"
                      % (rep + 1, name, n, r["p50_us"], r["p99_us"], r["cpu_us_per_rt_schedstat"] or r["cpu_us_per_rt"],
                         r["rss_kb"], r["setup_s"]), flush=True)

    results = []
    for name, path in builds:
        for n in counts:
            m = median_of(runs[(name, n)])
            m["backend"] = name
            m["runs"] = runs[(name, n)]
            results.append(m)
    print("\nmedian of %d: backend, idle connections -> ping round trip and server cost" % args.repeat)
    print("%-7s %6s %9s %9s %11s %15s %9s %8s %12s" % ("backend", "N", "p50 us", "p99 us", "cpu us/rt",
                                                      "cpu us/rt (ss)", "RSS KB", "setup s", "idle ms/s"))
    for m in results:
        print("%-7s %6d %9.1f %9.1f %11.1f %15s %9d %8.2f %12.2f" % (
            m["backend"], m["idle_connections"], m["p50_us"], m["p99_us"], m["cpu_us_per_rt"],
            "%.1f" % m["cpu_us_per_rt_schedstat"] if m["cpu_us_per_rt_schedstat"] is not None else "-",
            m["rss_kb"], m["setup_s"], m["idle_cpu_ms_per_s"]))
    if args.out:
        doc = {
            "what": "Roost event loop: ping round trips with N idle WebSockets (bench/loop_bench.py)",
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
                        "loadavg_at_end": os.getloadavg()},
            "builds": {name: {"binary": path, "size_bytes": os.path.getsize(path)} for name, path in builds},
            "params": {"counts": counts, "pings": args.pings, "repeat": args.repeat,
                       "idle_seconds": args.idle_seconds},
            "results": results,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
        print("wrote %s" % args.out)


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


if __name__ == "__main__":
    main()
