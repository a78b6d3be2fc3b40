#!/usr/bin/python3
"""Resident memory of a peer server, idle and with N connected+joined clients.

    /usr/bin/python3 bench/peers/rss_probe.py [--clients 1000] [--rooms 10] [ws|socketio ...]

For each server named (both by default): start it on a free port, read VmRSS
from /proc/PID/status once it is listening, open --clients WebSocket clients
that each say hello and join one of --rooms rooms, wait for the memory to
settle, read VmRSS again and print KB per connection. Then one member of each
room says one line, and every client must receive exactly one msg: the check
that the server really serves that many connections. Prints the numbers; it
writes no file.
"""

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import time

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = {"ws": "ws_server.js", "socketio": "socketio_server.js"}
BATCH = 200  # connections opened at once


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Peer:
    """One client; counts msg events, answers Engine.IO pings."""

    def __init__(self, kind, port, nick, room):
        self.kind, self.port, self.nick, self.room = kind, port, nick, room
        self.msgs = 0
        self.ready = asyncio.Event()
        self.ws = None

    def frame(self, obj):
        if self.kind == "ws":
            return json.dumps(obj)
        args = {k: v for k, v in obj.items() if k != "type"}
        return "42" + json.dumps([obj["type"], args])

    async def run(self):
        if self.kind == "ws":
            self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/ws", ping_interval=None,
                                               compression=None, open_timeout=60)
        else:
            self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket",
                                               ping_interval=None, compression=None, open_timeout=60)
            await self.ws.recv()  # 0{...} open packet
            await self.ws.send("40")
            await self.ws.recv()  # 40{"sid":...}
        await self.ws.send(self.frame({"type": "hello", "nick": self.nick}))
        await self.ws.send(self.frame({"type": "join", "room": self.room}))
        asyncio.ensure_future(self.read())

    async def read(self):
        try:
            async for m in self.ws:
                if m == "2":
                    await self.ws.send("3")
                elif '"joined"' in m:
                    self.ready.set()
                elif '"type":"msg"' in m:
                    self.msgs += 1
        except websockets.ConnectionClosed:
            pass


async def probe(kind, clients, rooms):
    proc = subprocess.Popen(["node", os.path.join(HERE, SCRIPTS[kind]), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline().split()[-1])
        await asyncio.sleep(1.0)
        idle = rss_kb(proc.pid)

        peers = [Peer(kind, port, f"u{i}", f"room{i % rooms}") for i in range(clients)]
        t0 = time.monotonic()
        for i in range(0, clients, BATCH):
            await asyncio.gather(*(p.run() for p in peers[i:i + BATCH]))
        await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in peers)), 60)
        t_open = time.monotonic() - t0
        await asyncio.sleep(3.0)
        loaded = rss_kb(proc.pid)

        speakers = peers[:rooms]
        for p in speakers:
            await p.ws.send(p.frame({"type": "say", "room": p.room, "text": "hello room"}))
        deadline = time.monotonic() + 30
        while sum(p.msgs for p in peers) < clients and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        counts = [p.msgs for p in peers]
        delivered_once = all(c == 1 for c in counts)
        per_conn = (loaded - idle) / clients
        print(f"{kind:8s} idle {idle} KB; {clients} joined clients in {rooms} rooms: {loaded} KB "
              f"(+{loaded - idle} KB, {per_conn:.1f} KB/connection); opened in {t_open:.1f} s; "
              f"one say per room delivered exactly once to every client: {'yes' if delivered_once else 'NO'} "
              f"(min {min(counts)}, max {max(counts)})", flush=True)
        for p in peers:
            await p.ws.close()
        return delivered_once
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--rooms", type=int, default=10)
    ap.add_argument("servers", nargs="*", help="ws, socketio (default: both)")
    a = ap.parse_args()
    for kind in a.servers:
        if kind not in SCRIPTS:
            ap.error(f"unknown server {kind!r}: choose from {', '.join(SCRIPTS)}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.clients + 1024) if hard != resource.RLIM_INFINITY else a.clients + 1024
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    ok = True
    for kind in a.servers or list(SCRIPTS):
        ok = asyncio.run(probe(kind, a.clients, a.rooms)) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
