#!/usr/bin/env python3
"""Size and idle RSS of each target's release binary, and the size of its
package: the numbers of docs/building.md and the README's table.

    /usr/bin/python3 bench/binary_rss.py BUILD_DIR [NAME=BINARY[:RUNNER...]]...

Without NAME=BINARY arguments it measures BUILD_DIR/<target>/roost for host,
aarch64, armhf, riscv64 and armv6 (as `make deb` leaves them). Each runs
idle with the default settings (both listeners, a data directory, 6.3 MiB
reserved) for 3 s after its banner. The host binary's RSS is its VmRSS.
Another architecture runs under qemu-user with its guest address space
placed at a known window (-B, and -R for 64-bit guests), and its RSS is the resident memory of
the mappings inside that window: the guest's own pages (its binary, its C
library from the glibc 2.31 sysroot, heap, stacks), not qemu's. Qemu
touches the same pages the guest does (it reads code to translate it), so
this is the board's figure to within the pages qemu reads ahead.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1]
GUEST_BASE = 0x200000000000
GUEST_SIZE = 0x8000000000  # 64-bit guests: 512 GiB reserved (-R); 32-bit guests have 4 GiB

QEMU = {
    "aarch64": ["qemu-aarch64-static", "-L", "{build}/sysroots/arm64/usr/aarch64-linux-gnu"],
    "armhf": ["qemu-arm-static", "-L", "{build}/sysroots/armhf/usr/arm-linux-gnueabihf"],
    "riscv64": ["qemu-riscv64-static", "-L", "{build}/sysroots/riscv64/usr/riscv64-linux-gnu"],
    "armv6": ["qemu-arm-static", "-cpu", "arm1176"],
}
DEBARCH = {"host": None, "aarch64": "arm64", "armhf": "armhf", "riscv64": "riscv64", "armv6": "armhf"}


def rss_of(pid, window):
    """(total, anonymous, file-backed) resident KB; only inside `window` if given."""
    total = anon = 0
    inside, name = False, ""
    for line in open("/proc/%d/smaps" % pid):
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$", line)
        if m:
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            inside = window is None or (lo >= window[0] and hi <= window[1])
            name = m.group(3)
        elif line.startswith("Rss:") and inside:
            kb = int(line.split()[1])
            total += kb
            if not name or name.startswith("["):
                anon += kb
    return total, anon, total - anon


def measure(name, command, window):
    tmp = tempfile.mkdtemp(prefix="roost-rss-")
    log = os.path.join(tmp, "log")
    proc = subprocess.Popen(command + ["--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0",
                                       "--data", os.path.join(tmp, "data")],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while "listening on" not in open(log).read():
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("%s did not start:\n%s" % (name, open(log).read()))
            time.sleep(0.1)
        time.sleep(3)
        return rss_of(proc.pid, window)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    specs = sys.argv[2:] or ["%s=%s/%s/roost" % (t, BUILD, t) for t in ("host", "aarch64", "armhf", "riscv64", "armv6")]
    rows = []
    for spec in specs:
        name, rest = spec.split("=", 1)
        parts = rest.split(":")
        binary = parts[0]
        runner = parts[1:] or [a.format(build=BUILD) for a in QEMU.get(name, [])]
        window = None
        if runner and runner[0].startswith("qemu-"):
            if runner[0] == "qemu-arm-static":
                runner = runner[:1] + ["-B", hex(GUEST_BASE)] + runner[1:]
                window = (GUEST_BASE, GUEST_BASE + (1 << 32))
            else:
                runner = runner[:1] + ["-B", hex(GUEST_BASE), "-R", hex(GUEST_SIZE)] + runner[1:]
                window = (GUEST_BASE, GUEST_BASE + GUEST_SIZE)
        total, anon, filed = measure(name, runner + [binary], window)
        deb = None
        if name in DEBARCH:
            arch = DEBARCH[name] or subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                                                   text=True).stdout.strip()
            debs = [f for f in os.listdir(os.path.dirname(binary)) if f.endswith("_%s.deb" % arch)]
            deb = os.path.getsize(os.path.join(os.path.dirname(binary), debs[0])) if debs else None
        rows.append({"target": name, "binary_bytes": os.path.getsize(binary), "deb_bytes": deb,
                     "rss_kb": total, "rss_anon_kb": anon, "rss_file_kb": filed,
                     "under": "native" if window is None else " ".join(runner)})
    print("%-10s %12s %10s %9s %9s %9s" % ("target", "binary KB", "deb KB", "RSS KB", "anon KB", "file KB"))
    for r in rows:
        print("%-10s %12s %10s %9d %9d %9d" % (r["target"], "{:,}".format(r["binary_bytes"] // 1024),
                                               "{:,}".format(r["deb_bytes"] // 1024) if r["deb_bytes"] else "-",
                                               r["rss_kb"], r["rss_anon_kb"], r["rss_file_kb"]))
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "binary_rss.json"), "w") as f:
        json.dump(rows, f, indent=1)


main()
