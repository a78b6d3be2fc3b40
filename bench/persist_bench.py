#!/usr/bin/env python3
"""Persistence benchmark: posts per second and bytes written per message for
each fsync policy (always, batch, never), next to Roost without a data
directory. Release build, data directory on the build's own disk (not a
tmpfs), one WebSocket publisher with 128 messages in flight that is also the
room's one member (roost-bench fanout, --members 1): a message counts when it
comes back, which under fsync=always is after its sync.

Bytes are read from the server's /proc/PID/io: `wchar` is what Roost handed
to write() (records, padding, headers), `write_bytes` what the kernel sent
or will send to the disk for it (counted per 4 KiB page when the page is
dirtied: a page rewritten before it was written back costs nothing more,
which is how the batch window saves an SD card).

    /usr/bin/python3 bench/persist_bench.py BUILD_DIR [--seconds 5] [--out build/bench/persist.json]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request


def proc_io(pid):
    out = {}
    for line in open("/proc/%d/io" % pid):
        k, v = line.split(":")
        out[k] = int(v)
    return out


def metric(port, name):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    return int(m.group(1)) if m else 0


def run(build, policy, seconds, scratch, rate=0):
    data = tempfile.mkdtemp(prefix="persist-", dir=scratch) if policy != "memory" else None
    cmd = [os.path.join(build, "roost"), "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "-1",
           "--msg-rate", "1000000", "--msg-burst", "1000000"]
    if data:
        cmd += ["--data", data, "--fsync", policy]
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=log, stderr=subprocess.STDOUT)
    port = None
    for _ in range(200):
        log.seek(0)
        m = re.search(r"listening on http port (\d+)", log.read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.05)
    if port is None:
        raise RuntimeError("roost did not start")
    before = proc_io(proc.pid)
    records_before = metric(port, "roost_journal_records_total")
    out = subprocess.run(["taskset", "-c", "1", os.path.join(build, "bench", "roost-bench"), "--scenario", "fanout",
                          "--members", "1", "--seconds", str(seconds), "--port", str(port), "--rate", str(rate),
                          "--server-pid", str(proc.pid)], capture_output=True, text=True, check=True).stdout
    time.sleep(0.3)  # the last batch window
    after = proc_io(proc.pid)
    r = json.loads(out)
    records = metric(port, "roost_journal_records_total") - records_before
    syncs = metric(port, "roost_journal_syncs_total")
    proc.terminate()
    proc.wait(10)
    if data:
        shutil.rmtree(data, ignore_errors=True)
    msgs = r["delivered"]
    return {
        "policy": policy,
        "messages": msgs,
        "posts_per_s": round(r["deliveries_per_s"]),
        "posts_per_server_cpu_s": round(r["deliveries_per_server_cpu_s"]),
        "p99_us": r["p99_us"],
        "journal_records": records,
        "syncs": syncs,
        "wchar_per_msg": round((after["wchar"] - before["wchar"]) / msgs, 1) if msgs else 0,
        "disk_bytes_per_msg": round((after["write_bytes"] - before["write_bytes"]) / msgs, 1) if msgs else 0,
        "generator_saturated": r["generator_saturated"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--out", default="build/bench/persist.json")
    a = ap.parse_args()
    scratch = os.path.join(os.path.dirname(os.path.abspath(a.out)), "persist-scratch")
    os.makedirs(scratch, exist_ok=True)
    policies = ("memory", "never", "batch", "always")
    rows = [run(a.build, p, a.seconds, scratch) for p in policies]
    # A Pi's usual day: a few posts a second. What each costs the SD card then.
    slow = {p: run(a.build, p, a.seconds, scratch, rate=20) for p in policies[1:]}
    for r in rows:
        if r["policy"] in slow:
            r["disk_bytes_per_msg_at_20_per_s"] = slow[r["policy"]]["disk_bytes_per_msg"]
    lines = ["| fsync | posts/s | posts per server CPU-s | p99 µs | syncs | bytes to write() per message | "
             "bytes to disk per message | ... at 20 posts/s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        name = "no data directory" if r["policy"] == "memory" else r["policy"]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, format(r["posts_per_s"], ","), format(r["posts_per_server_cpu_s"], ","), format(r["p99_us"], ","),
            format(r["syncs"], ","), r["wchar_per_msg"], r["disk_bytes_per_msg"],
            r.get("disk_bytes_per_msg_at_20_per_s", "-")))
    table = "\n".join(lines)
    print("\nPersistence (one publisher, 128 in flight, %.0f s each; server on core 0, generator on core 1):\n" % a.seconds)
    print(table)
    with open(a.out, "w") as f:
        json.dump(rows, f, indent=1)
    with open(a.out.replace(".json", ".md"), "w") as f:
        f.write(table + "\n")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
