#!/usr/bin/env python3
"""libwebsockets security fixes, shown through the real Roost binary (see
docs/dependencies.md for the list and which ones Roost's build needs):

- ZDI-CAN-31039 (upstream c9e8e1834, cmake/patches/libwebsockets/1003-...):
  a PUBACK with MQTT v5 properties sent lws 4.3.5's MQTT client back to
  reading packet-id bytes, past its 4-byte buffer and into the next packet.
  A broker, written here, answers Roost's QoS 1 PUBLISHes with such PUBACKs
  followed at once by a device message: with the fix the device message
  arrives, the link stays up and Roost publishes its next message.
- NN-2025-0102 / CVE-2025-11677 (upstream ccb67db8c, in Debian's patch
  series): an unknown Upgrade header freed the request's headers and then
  read them. Refused with 403 and nothing read after it (under ASan: no
  report), also with `h2c` (which our build, without HTTP/2, treats as
  plain HTTP).

    /usr/bin/python3 tests/e2e/test_lws_fixes.py ROOST_BINARY
"""
import asyncio
import os
import socket
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Client, Roost, free_port, check, checks_passed  # noqa: E402

BIN = sys.argv[1]


def vbi(n):
    """MQTT's variable byte integer."""
    out = bytearray()
    while True:
        n, b = n >> 7, n & 0x7F
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_qos0(topic, payload):
    body = len(topic).to_bytes(2, "big") + topic.encode() + payload.encode()
    return b"\x30" + vbi(len(body)) + body


def puback_with_properties(pid, props):
    """MQTT v5's PUBACK: packet id, reason code 0, properties."""
    body = pid + b"\x00" + vbi(len(props)) + props
    return b"\x40" + vbi(len(body)) + body


class Broker:
    """Just enough of an MQTT 3.1.1 broker for one Roost bridge: CONNACK,
    SUBACK, PINGRESP; each PUBLISH from Roost goes to `published` and the
    test answers it."""

    def __init__(self):
        self.port = free_port()
        self.published = asyncio.Queue()  # (packet id bytes, topic, payload)
        self.connects = 0
        self.writer = None

    async def start(self):
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", self.port)
        return self

    async def serve(self, reader, writer):
        self.connects += 1
        self.writer = writer
        try:
            while True:
                first = (await reader.readexactly(1))[0]
                n, shift = 0, 0
                while True:
                    b = (await reader.readexactly(1))[0]
                    n |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        break
                body = await reader.readexactly(n)
                kind = first >> 4
                if kind == 1:  # CONNECT
                    writer.write(b"\x20\x02\x00\x00")
                elif kind == 8:  # SUBSCRIBE: one granted QoS 0 per topic filter
                    filters, at = 0, 2
                    while at < len(body):
                        at += 2 + int.from_bytes(body[at:at + 2], "big") + 1
                        filters += 1
                    writer.write(bytes([0x90, 2 + filters]) + body[:2] + b"\x00" * filters)
                elif kind == 3:  # PUBLISH
                    tl = int.from_bytes(body[:2], "big")
                    rest = body[2 + tl:]
                    pid = rest[:2] if (first >> 1) & 3 else None
                    await self.published.put((pid, body[2:2 + tl].decode(), rest[2:] if pid else rest))
                elif kind == 12:  # PINGREQ
                    writer.write(b"\xd0\x00")
                elif kind == 14:  # DISCONNECT
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def next_publish(self, timeout=15):
        return await asyncio.wait_for(self.published.get(), timeout)


async def wait_mqtt_up(rs, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if rs.http("GET", "/healthz")[2].get("mqtt") == "connected":
            return True
        await asyncio.sleep(0.1)
    return False


async def msg_from(c, nick, timeout=10):
    try:
        return await c.wait("msg", timeout, **{"from": nick})
    except (AssertionError, asyncio.TimeoutError, websockets.ConnectionClosed):
        return None


async def puback_properties():
    broker = await Broker().start()
    rs = Roost(BIN, "--https-port", "-1", "--mqtt", "mqtt://127.0.0.1:%d" % broker.port,
               "--mqtt-client-id", "roost-fix").start()
    try:
        check("the bridge connects to the test's broker", await wait_mqtt_up(rs))
        c = await Client.connect(rs, "ann")
        await c.send({"type": "join", "room": "lobby", "backlog": 0})
        await c.wait("joined", room="lobby")
        # 1 byte of properties: the unfixed parser ate the next packet's
        # first byte; 200 bytes: it wrote them past its 4-byte buffer.
        for i, props in enumerate((b"\x1f", b"\x00" * 200)):
            await c.send({"type": "say", "room": "lobby", "text": "before %d" % i})
            pid, topic, payload = await broker.next_publish()
            check("Roost publishes a said message with QoS 1 (%s)" % topic,
                  pid is not None and topic == "roost/lobby" and b"before %d" % i in payload, repr(payload))
            broker.writer.write(puback_with_properties(pid, props) +
                                publish_qos0("roost/lobby/device/meter%d" % i, '{"n":%d}' % i))
            await broker.writer.drain()
            m = await msg_from(c, "meter%d" % i)
            check("after a PUBACK with %d bytes of properties, the device message behind it arrives" % len(props),
                  m is not None and m.get("data") == {"n": i},
                  "got %r; broker connections %d; Roost said:\n%s" % (m, broker.connects, rs.output()[-2000:]))
            await c.send({"type": "say", "room": "lobby", "text": "after %d" % i})
            pid, topic, payload = await broker.next_publish()
            check("... and that PUBACK acknowledged the publish: the next message goes out",
                  b"after %d" % i in payload, repr(payload))
            broker.writer.write(b"\x40\x02" + pid)
            await broker.writer.drain()
        check("the link never dropped (one connection)", broker.connects == 1 and await wait_mqtt_up(rs, 2),
              "connects: %d" % broker.connects)
        await c.close()
    finally:
        code = rs.stop()
        broker.server.close()
    check("Roost exits 0 (under ASan: no report)", code == 0 and "AddressSanitizer" not in rs.output(),
          rs.output()[-3000:])


def raw_request(port, data, timeout=5):
    """Sends `data` on a fresh connection; what came back until the close."""
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    s.close()
    return out


def unknown_upgrade():
    rs = Roost(BIN, "--https-port", "-1").start()
    try:
        head = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n"
        for path in ("/", "/ws", "/api/rooms"):
            got = raw_request(rs.http_port, (head % (path, "foo")).encode())
            check("Upgrade: foo on %s is refused with 403" % path, got.split(b"\r\n", 1)[0].endswith(b" 403 Forbidden"),
                  repr(got[:200]))
        got = raw_request(rs.http_port, (head % ("/healthz", "h2c")).encode(), timeout=2)
        check("Upgrade: h2c (no HTTP/2 in this build) is answered as plain HTTP",
              got.startswith(b"HTTP/1.1 200 ") and b'"status":"ok"' in got, repr(got[:200]))
        check("Roost still serves after them", rs.http("GET", "/healthz")[0] == 200)
    finally:
        code = rs.stop()
    check("Roost exits 0 (under ASan: no report)", code == 0 and "AddressSanitizer" not in rs.output(),
          rs.output()[-3000:])


async def main():
    await puback_properties()
    unknown_upgrade()
    print("# %d checks passed" % checks_passed())


asyncio.run(main())
