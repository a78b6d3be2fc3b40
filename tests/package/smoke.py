#!/usr/bin/env python3
"""Smoke test of one packaged roost binary, run the way it will run on a
board: the page, a WebSocket chat between two clients, HTTPS verified
against the CA the broker made, a device's POST with curl, `roost status`,
and a clean exit on SIGTERM. The binary is taken out of the .deb; for
another architecture it runs under qemu-user (the CPU and the C library to
run it on are given), e.g.

    smoke.py build/armv6/roost_0.1.0_armhf.deb qemu-arm-static -cpu arm1176
    smoke.py build/aarch64/roost_0.1.0_arm64.deb qemu-aarch64-static -L build/sysroots/arm64/usr/aarch64-linux-gnu
    smoke.py build/host/roost_0.1.0_amd64.deb build/sysroots/amd64/.../ld-linux-x86-64.so.2 --library-path ...

Everything after the .deb is the command line the binary is run under.
Run with Debian's /usr/bin/python3 (python3-websockets).
"""
import asyncio
import os
import shlex
import ssl
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from roost_harness import Client, Roost, check, checks_passed  # noqa: E402

DEB = sys.argv[1]
RUNNER = sys.argv[2:]


def packaged_binary():
    """The .deb's /usr/bin/roost behind a script that runs it under RUNNER
    (exec: signals reach the emulated process)."""
    tmp = tempfile.mkdtemp(prefix="roost-smoke-")
    subprocess.run(["dpkg-deb", "-x", DEB, tmp], check=True)
    binary = os.path.join(tmp, "usr", "bin", "roost")
    wrapper = os.path.join(tmp, "roost-under-runner")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s %s \"$@\"\n" % (" ".join(shlex.quote(a) for a in RUNNER), shlex.quote(binary)))
    os.chmod(wrapper, 0o755)
    return wrapper


async def main():
    roost = packaged_binary()
    out = subprocess.run([roost, "--version"], capture_output=True, text=True)
    check("the packaged binary runs: --version", out.returncode == 0 and out.stdout.startswith("roost "),
          out.stdout + out.stderr)

    rs = Roost(roost).start()
    st, hdrs, body = rs.http("GET", "/")
    ctype = {k.lower(): v for k, v in hdrs.items()}.get("content-type", "")
    check("the page is served", st == 200 and ctype.startswith("text/html") and "<html" in body.lower(), ctype)

    a = await Client.connect(rs, "ann")
    b = await Client.connect(rs, "bob")
    for c in (a, b):
        await c.send({"type": "join", "room": "lab", "backlog": 0})
        await c.wait("joined", room="lab")
    await a.send({"type": "say", "room": "lab", "text": "hello from the board", "cid": "s1"})
    ack = await a.wait("ack", cid="s1")
    m = await b.wait("msg", room="lab")
    check("WebSocket chat: ack to the sender, the message to the other",
          ack["seq"] == 1 and m["text"] == "hello from the board" and m["from"] == "ann")

    ctx = ssl.create_default_context(cafile=os.path.join(rs.data, "ca.crt"))
    with urllib.request.urlopen("https://localhost:%d/healthz" % rs.https_port, context=ctx, timeout=20) as r:
        check("HTTPS verifies against the broker's own CA", r.status == 200 and b'"status":"ok"' in r.read())

    await b.send({"type": "join", "room": "sensors", "backlog": 0})
    await b.wait("joined", room="sensors")
    curl = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: text/plain",
                           "--data", "21.5 C", rs.base + "/api/rooms/sensors/messages?from=probe"],
                          capture_output=True, text=True)
    d = await b.wait("msg", room="sensors")
    check("a device's POST (curl) reaches the room", curl.stdout == "201" and d["kind"] == "device"
          and d["from"] == "probe" and d["text"] == "21.5 C", curl.stdout + curl.stderr)

    st = subprocess.run([roost, "status", "--bind", "127.0.0.1", "--http-port", str(rs.http_port)],
                        capture_output=True, text=True)
    check("roost status reads it", st.returncode == 0 and "status       ok" in st.stdout, st.stdout + st.stderr)

    await a.close()
    await b.close()
    code = rs.stop()
    check("SIGTERM: a clean exit, code 0", code == 0, "exit %s\n%s" % (code, rs.output()))
    print("# %d checks passed" % checks_passed())


asyncio.run(main())
