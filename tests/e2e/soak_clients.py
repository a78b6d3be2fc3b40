"""Raw asyncio clients for the chaos soak (test_soak.py): a WebSocket and an
HTTP/1.1 connection on plain streams, so the soak controls every byte it
sends (pipelined bursts, malformed frames and requests, reading slowly or
not at all, dropping without a close) and sees every byte that comes back
(each response parsed whole, each frame with its close code)."""

import asyncio
import base64
import json
import os
import socket
import struct


class Closed(Exception):
    """The connection ended: `code` is the WebSocket close code, or None when
    it ended without a close frame (EOF or reset)."""

    def __init__(self, code=None, reason=""):
        super().__init__("closed %s %s" % (code, reason))
        self.code = code


async def open_stream(port, timeout=10):
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, limit=1 << 22), timeout)


def abort(writer):
    """Drops the connection without a close: a reset (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def frame(payload, opcode=1, mask=True, rsv=0):
    """One client frame (masked unless told otherwise)."""
    n = len(payload)
    head = bytes([0x80 | rsv << 4 | opcode])
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([m | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Ws:
    """A WebSocket client: send(obj or bytes), events() -> the next frame's
    events (batched arrays flattened)."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.queue = []  # events of frames read, not yet taken

    @classmethod
    async def connect(cls, port, timeout=10):
        reader, writer = await open_stream(port, timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: roost.v1\r\n\r\n"
                      % (port, key)).encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if b" 101 " not in head.split(b"\r\n")[0]:
            writer.close()
            raise Closed(None, head.split(b"\r\n")[0].decode("latin-1"))
        return cls(reader, writer)

    async def send(self, obj):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.writer.write(frame(data))
        await self.writer.drain()

    async def send_raw(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def _frame(self):
        try:
            b0, b1 = await self.reader.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(await self.reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.reader.readexactly(8), "big")
            return b0 & 0x0F, await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError) as e:
            raise Closed(None, repr(e))

    async def events(self, timeout=None):
        """The events of the next text frame; Closed at a close frame or EOF."""
        while True:
            op, payload = await (asyncio.wait_for(self._frame(), timeout) if timeout else self._frame())
            if op == 8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            if op == 9:  # ping: answer it
                self.writer.write(frame(payload, opcode=10))
                continue
            if op not in (1, 2):
                continue
            data = json.loads(payload)  # a frame that is not whole JSON raises: the soak counts it
            return data if isinstance(data, list) else [data]

    async def event(self, timeout=None):
        """The next event, one at a time (a batched frame gives several)."""
        if not self.queue:
            self.queue = await self.events(timeout)
        return self.queue.pop(0)

    async def close(self):
        try:
            self.writer.write(frame(b"\x03\xe8", opcode=8))
            await self.writer.drain()
            await asyncio.wait_for(self.reader.read(), 2)
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        self.writer.close()

    def drop(self):
        abort(self.writer)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class BadResponse(Exception):
    pass


class Http:
    """An HTTP/1.1 connection: send(bytes), then response() per request."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port, timeout=10):
        reader, writer = await open_stream(port, timeout)
        return cls(reader, writer)

    async def send(self, data):
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, timeout=15):
        """Status and headers (names lower case) of the next response;
        None when the connection ends first."""
        try:
            raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise BadResponse("status line %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            if line:
                name, sep, value = line.partition(":")
                if not sep:
                    raise BadResponse("header line %r" % line)
                headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    async def response(self, head_request=False, timeout=15):
        """The next whole response, or None when the connection ends before
        one starts. A response cut short raises BadResponse."""
        h = await self.head(timeout)
        if h is None:
            return None
        status, headers = h
        if "content-length" not in headers and not (head_request or status in (204, 304)):
            raise BadResponse("no Content-Length: %d %r" % (status, headers))
        n = 0 if head_request or status in (204, 304) else int(headers["content-length"])
        try:
            body = await asyncio.wait_for(self.reader.readexactly(n), timeout)
        except asyncio.IncompleteReadError as e:
            raise BadResponse("body cut at %d of %d bytes" % (len(e.partial), n))
        r = Response(status, headers, body)
        if headers.get("content-type", "").startswith("application/json"):
            try:
                doc = r.json()
            except ValueError:
                raise BadResponse("not one JSON document: %r" % body[:200])
            if status >= 400 and not (isinstance(doc, dict) and set(doc) == {"error"} and
                                      isinstance(doc["error"].get("code"), str)):
                raise BadResponse("error without its shape: %r" % body[:200])
        return r

    async def extra(self, timeout=0.3):
        """Bytes after the last response (there must be none)."""
        try:
            return await asyncio.wait_for(self.reader.read(65536), timeout)
        except (asyncio.TimeoutError, ConnectionError):
            return b""

    def close(self):
        self.writer.close()

    def drop(self):
        abort(self.writer)


def post_request(room, body, ctype="text/plain", key=None, extra=""):
    body = body if isinstance(body, bytes) else body.encode()
    return (("POST /api/rooms/%s/messages HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%s\r\n"
             % (room, ctype, len(body), "Idempotency-Key: %s\r\n" % key if key else "", extra)).encode() + body)


def get_request(path, extra="", method="GET"):
    return ("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (method, path, extra)).encode()
