"""Shared helpers for Roost's end-to-end tests: start the real binary on
free loopback ports, talk to it with real clients (python3-websockets,
urllib, curl), and count results.  Run with Debian's /usr/bin/python3."""

import asyncio
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import websockets


def free_port():
    """A loopback TCP port free right now (for servers the tests start)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def listening(port, timeout=10):
    """Whether something accepts on loopback `port` within `timeout` s (a
    server the test started, e.g. mosquitto)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


_checks = 0
_failed = []
# ROOST_E2E_KEEP_GOING=1: a failed check is printed and counted instead of
# raised, so one run shows every failure (checks_exit() then fails the test).
_keep_going = os.environ.get("ROOST_E2E_KEEP_GOING") == "1"


def check(what, cond, detail=""):
    """One numbered check: prints `ok N - what`, or raises with the detail."""
    global _checks
    if not cond:
        if not _keep_going:
            raise AssertionError("FAILED: %s %s" % (what, detail))
        _failed.append(what)
        print("FAILED: %s %s" % (what, str(detail)[:600]), flush=True)
        return
    _checks += 1
    print("ok %d - %s" % (_checks, what), flush=True)


def checks_passed():
    return _checks


def checks_exit():
    """The test's exit code: 0 when every check passed."""
    print("%d checks passed, %d failed" % (_checks, len(_failed)))
    return 1 if _failed else 0


class Roost:
    """One running roost process."""

    def __init__(self, binary, *args, data=None, bind="127.0.0.1", env=None, wrap=None):
        self.binary = binary
        self.wrap = list(wrap or [])  # a command that execs roost (prlimit ...)
        self.env = env
        self.tmp = tempfile.mkdtemp(prefix="roost-e2e-")
        # data=False: no data directory (history in memory only).
        self.data = None if data is False else (data or os.path.join(self.tmp, "data"))
        self.log_path = os.path.join(self.tmp, "roost.log")
        self.args = (["--bind", bind] if bind else []) + list(args)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "w")
        cmd = self.wrap + [self.binary, "--http-port", "0", "--https-port", "0"] + \
            (["--data", self.data] if self.data else []) + self.args
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            text = open(self.log_path).read()
            m = re.search(r"listening on http port (\d+) and https port (-?\d+)", text)
            if m:
                self.http_port, self.https_port = int(m.group(1)), int(m.group(2))
                self.base = "http://127.0.0.1:%d" % self.http_port
                self.ws_url = "ws://127.0.0.1:%d/ws" % self.http_port
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("roost did not start:\n" + open(self.log_path).read())

    def output(self):
        return open(self.log_path).read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def rss_kb(self):
        for line in open("/proc/%d/status" % self.proc.pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.data, "ca.crt"))
        return ctx

    # --- HTTP -------------------------------------------------------------
    def http(self, method, path, body=None, headers=None):
        """Returns (status, headers, parsed JSON or text)."""
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, hdrs, raw = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, raw = e.code, dict(e.headers), e.read()
        ctype = hdrs.get("Content-Type", hdrs.get("content-type", ""))
        if "json" in ctype:
            return status, hdrs, json.loads(raw)
        return status, hdrs, raw.decode("utf-8", "replace")


class Client:
    """A WebSocket client that flattens batched frames into events."""

    def __init__(self, ws):
        self.ws = ws
        self.events = []

    @classmethod
    async def connect(cls, roost, nick=None, subprotocols=("roost.v1",), **kw):
        ws = await websockets.connect(roost.ws_url, subprotocols=list(subprotocols) if subprotocols else None,
                                      max_size=None, ping_interval=None, **kw)
        c = cls(ws)
        if nick is not None:
            await c.send({"type": "hello", "nick": nick})
            await c.wait("welcome")
        return c

    async def send(self, obj):
        await self.ws.send(obj if isinstance(obj, (str, bytes)) else json.dumps(obj))

    async def _read(self, timeout):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        data = json.loads(raw)
        self.events.extend(data if isinstance(data, list) else [data])

    async def wait(self, type_, timeout=5, **match):
        """The first unconsumed event of `type_` matching `match`; consumes it."""
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("type") == type_ and all(e.get(k) == v for k, v in match.items()):
                    return self.events.pop(i)
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no %s %s within %ss; have %s" % (type_, match, timeout, self.events[-5:]))
            await self._read(left)

    async def quiet(self, timeout=0.3):
        """Reads for `timeout` seconds; returns what arrived."""
        try:
            while True:
                await self._read(timeout)
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            pass
        got, self.events = self.events, []
        return got

    async def wait_any(self, types, timeout=5):
        """The first unconsumed event whose type is one of `types`; consumes it."""
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("type") in types:
                    return self.events.pop(i)
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("no %s within %ss; have %s" % (types, timeout, self.events[-5:]))
            await self._read(left)

    async def error(self, frame, timeout=5):
        await self.send(frame)
        return (await self.wait("error", timeout))["code"]

    async def close(self):
        await self.ws.close()


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok - %s" % what, flush=True)
        else:
            self.failed += 1
            print("FAIL - %s %s" % (what, detail), flush=True)

    async def run(self, name, coro):
        try:
            await coro
        except Exception as e:  # a test that raises counts as one failure
            self.check(name, False, "raised %r" % (e,))

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


class RawWs:
    """A WebSocket client on a plain blocking socket, for tests that must
    control reading exactly (a client that stops reading, then drains)."""

    def __init__(self, port, rcvbuf=None):
        import base64
        import socket
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Protocol: roost.v1\r\n\r\n" % (port, key)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                self.sock.close()
                raise ConnectionError("closed during the handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            self.sock.close()
            raise ConnectionError(head.decode("latin-1"))

    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else
                                  bytes([0x80 | 126]) + n.to_bytes(2, "big") if n < 65536 else
                                  bytes([0x80 | 127]) + n.to_bytes(8, "big"))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError()
            self.buf += chunk

    def frame(self):
        """(opcode, payload) of the next frame; EOFError at end of stream."""
        self._need(2)
        op, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        at = 2
        if n == 126:
            self._need(4)
            n, at = int.from_bytes(self.buf[2:4], "big"), 4
        elif n == 127:
            self._need(10)
            n, at = int.from_bytes(self.buf[2:10], "big"), 10
        self._need(at + n)
        payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
        return op, payload

    def close_code(self, timeout=10):
        """Reads to the close frame; its status code, or None at EOF/timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                op, payload = self.frame()
                if op == 8:
                    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
        except (EOFError, OSError):
            return None


class RawHttp:
    """An HTTP/1.1 client on a plain socket that sends exactly the bytes it
    is given (pipelined requests, odd headers, slow bodies) and parses every
    response that comes back, so tests can check there is exactly one
    complete answer per request and whether the server closed."""

    def __init__(self, port, host="127.0.0.1", timeout=5):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.closed = False

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.time()))
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True
            return False
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def response(self, timeout=5, head=False):
        """The next complete response as (status, headers dict with lower-case
        names, body bytes), or None when none arrives (closed or timed out).
        `head`: the request was HEAD (no body follows whatever the length)."""
        deadline = time.time() + timeout
        while b"\r\n\r\n" not in self.buf:
            if self.closed or time.time() > deadline or not self._fill(deadline):
                if self.closed or time.time() > deadline:
                    return None
        head_bytes, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head or status in (204, 304) else int(headers.get("content-length", "0"))
        while len(rest) < length:
            self.buf = head_bytes + b"\r\n\r\n" + rest
            if self.closed or time.time() > deadline or not self._fill(deadline):
                return None
            head_bytes, rest = self.buf.split(b"\r\n\r\n", 1)
        body, self.buf = rest[:length], rest[length:]
        return status, headers, body

    def extra(self, timeout=0.5):
        """Bytes that arrive after the responses read so far (should be none)."""
        deadline = time.time() + timeout
        while time.time() < deadline and self._fill(deadline):
            pass
        extra, self.buf = self.buf, b""
        return extra

    def wait_closed(self, timeout=5):
        """True once the server has closed the connection (EOF or reset)."""
        deadline = time.time() + timeout
        while not self.closed and time.time() < deadline:
            self._fill(deadline)
        return self.closed

    def close(self):
        self.sock.close()


def closed_by_server(sock, timeout):
    """True when the server closes `sock` (EOF or reset) within `timeout` s."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except OSError:
        return False


def json_error(resp):
    """The (status, code) of a documented JSON error response, or None when
    the response is not one: content type application/json and a body that
    is exactly {"error":{"code":..., "message":...}}."""
    if resp is None:
        return None
    status, headers, body = resp
    if not headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    err = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(err, dict) or set(doc) != {"error"} or not isinstance(err.get("code"), str) \
            or not isinstance(err.get("message"), str):
        return None
    return status, err["code"]
