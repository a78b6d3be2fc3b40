#!/usr/bin/env python3
"""End-to-end tests of `roost qr` and `roost status` (platform/cli.cpp)
against the real binary: the QR code read back by a real scanner (zbarimg),
the /healthz table of a running broker, and every way they refuse or fail
(a stopped broker, something else on the port, a silent one, ports off or 0,
bad flags). Run with Debian's /usr/bin/python3.

    /usr/bin/python3 tests/e2e/test_cli.py ROOST_BINARY
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from roost_harness import Roost, check, checks_passed, free_port  # noqa: E402

BIN = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="roost-cli-")


def run(*args, timeout=30):
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def pbm_of_terminal(text):
    """The QR lines of `text` as a dark terminal shows them: ink (light
    modules) white, blanks and 4 modules of screen around black; P1, 4
    pixels per module. Each character is its upper and lower module."""
    ink = {"\u2588": (1, 1), "\u2580": (1, 0), "\u2584": (0, 1), " ": (0, 0)}
    lines = [ln for ln in text.split("\n") if ln and set(ln) <= set(ink)]
    rows = []
    for ln in lines:
        rows.append([ink[c][0] for c in ln])
        rows.append([ink[c][1] for c in ln])
    width = max(len(r) for r in rows) + 8
    pad = [[0] * width for _ in range(4)]
    grid = pad + [[0] * 4 + r + [0] * (width - 4 - len(r)) for r in rows] + pad
    scale = 4
    out = ["P1", "%d %d" % (width * scale, len(grid) * scale)]
    for r in grid:
        line = " ".join("0" if v else "1" for v in r for _ in range(scale))
        out.extend([line] * scale)
    return "\n".join(out) + "\n"


def scanned(text):
    path = os.path.join(TMP, "qr.pbm")
    with open(path, "w") as f:
        f.write(pbm_of_terminal(text))
    p = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True)
    return p.stdout.strip()


def qr_tests():
    code, out, err = run("qr", "--http-port", "8080", "--https-port", "8443")
    m = re.search(r"Scan to open (\S+) on a phone", out)
    check("roost qr names the URL to open", code == 0 and m is not None, out + err)
    url = m.group(1)
    check("it is a LAN http URL on the given port", re.match(r"http://[^/]+:8080/$", url) and "127.0.0.1" not in url,
          url)
    check("zbarimg reads that URL back from the terminal QR code", scanned(out) == url, scanned(out))
    check("the HTTPS URLs are listed with the page that explains the CA",
          re.search(r"https://\S+:8443/  \(trust the CA first: http://\S+:8080/trust\.html\)", out), out)

    code, out, err = run("qr", "--http-port", "-1", "--https-port", "8443")
    m = re.search(r"Scan to open (\S+) on a phone", out)
    check("with http off the QR code is of the https URL", code == 0 and m and m.group(1).startswith("https://")
          and scanned(out) == m.group(1), out + err)

    code, out, err = run("qr", "--bind", "192.0.2.77", "--http-port", "9000")
    check("a bound address is the one shown", code == 0 and "Scan to open http://192.0.2.77:9000/" in out
          and scanned(out) == "http://192.0.2.77:9000/", out + err)

    code, out, err = run("qr", "--bind", "127.0.0.1")
    check("only loopback: exit 1, nothing to scan", code == 1 and out == "" and "only loopback" in err, out + err)
    code, out, err = run("qr", "--http-port", "0")
    check("port 0 (any free port): exit 2 naming the flag to pass", code == 2 and "--http-port" in err, err)
    code, out, err = run("qr", "--no-such-flag")
    check("a bad flag: exit 2 with the usage", code == 2 and "unknown flag" in err and "usage: roost qr" in err, err)
    code, out, err = run("qr", "--http-port", "70000")
    check("an out-of-range port: exit 2", code == 2 and "out of range" in err, err)
    code, out, err = run("qr", "--help")
    check("roost qr --help: the usage, exit 0", code == 0 and out.startswith("usage: roost qr"), out)
    code, out, err = run("qr", "--config", os.path.join(TMP, "missing.conf"))
    check("a missing --config file: exit 2 naming it", code == 2 and "missing.conf" in err, err)
    conf = os.path.join(TMP, "qr.conf")
    with open(conf, "w") as f:
        f.write("bind = 192.0.2.88\nhttp_port = 9100\n")
    code, out, err = run("qr", "--config", conf)
    check("--config is read like the server reads it", code == 0 and "http://192.0.2.88:9100/" in out, out + err)
    code, out, err = run("qr", "--config", conf, "--http-port", "9200")
    check("flags override the file", code == 0 and "http://192.0.2.88:9200/" in out, out + err)
    code, out, err = run("--help")
    check("roost --help lists the subcommands", code == 0 and "roost qr" in out and "roost status" in out, out)


def status_tests():
    rs = Roost(BIN).start()
    code, out, err = run("status", "--bind", "127.0.0.1", "--http-port", str(rs.http_port))
    rows = dict(re.findall(r"^(\S+) +(.*)$", out, re.M))
    check("roost status prints /healthz as a table, exit 0", code == 0 and rows.get("status") == "ok"
          and rows.get("version", "").startswith("0.") and rows.get("persistence") == "batch"
          and rows.get("mqtt") == "off" and rows.get("connections", "").isdigit(), out + err)
    check("its first row is the address asked",
          out.split("\n")[0].split() == ["address", "http://127.0.0.1:%d/" % rs.http_port], out)
    check("every /healthz field is a row", set(rs.http("GET", "/healthz")[2]) <= set(rows), out)
    rs.stop()
    code, out, err = run("status", "--bind", "127.0.0.1", "--http-port", str(rs.http_port))
    check("a stopped broker: exit 1, 'no broker answers'", code == 1 and out == "" and "no broker answers" in err,
          err)

    # Something else on the port: an HTTP server that is not Roost, one that
    # does not speak HTTP, and one that never answers.
    for name, reply in (("an HTTP 404 page", b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n<h1>no</h1>"),
                        ("a non-HTTP greeting", b"SSH-2.0-OpenSSH_9.2\r\n"),
                        ("a silent server", None)):
        port = free_port()
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port))
        srv.listen(1)

        def serve(srv=srv, reply=reply):
            conn, _ = srv.accept()
            conn.recv(4096)
            if reply is not None:
                conn.sendall(reply)
                conn.close()
            else:
                threading.Event().wait(8)
                conn.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        code, out, err = run("status", "--bind", "127.0.0.1", "--http-port", str(port))
        check("%s on the port: exit 1 and says what it saw" % name, code == 1 and out == "" and err.strip(), err)
        srv.close()

    code, out, err = run("status", "--http-port", "-1")
    check("http off: exit 2, points at HTTPS", code == 2 and "HTTPS" in err, err)
    code, out, err = run("status", "--http-port", "0")
    check("port 0: exit 2 naming the flag to pass", code == 2 and "--http-port" in err, err)
    code, out, err = run("status", "--bogus")
    check("a bad flag: exit 2 with the usage", code == 2 and "usage: roost status" in err, err)


qr_tests()
status_tests()
print("# %d checks passed" % checks_passed())
