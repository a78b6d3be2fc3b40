#!/usr/bin/env python3
"""The package's life on this machine, for real, as root (CI is root):

    test_install.py ROOST_DEB          (the build machine's architecture)

apt-get installs it; the user, data directory, config permissions and the
enabled unit are checked; the unit's ExecStart is started as systemd would
start it (here by run_unit.py: PID 1 is not systemd in a CI container)
on ports set in /etc/roost/roost.conf as an admin would; two people chat
through it over a WebSocket and a device posts with curl; `roost status`
and `roost qr` read the installed config; SIGTERM stops it cleanly. Then
the same package is installed again (a reinstall), then as an upgrade to a
newer version: the config edit, the user and the history are still there.
Then apt-get remove keeps data, config and user, and apt-get purge removes
them all. Returns 77 (skipped) when not root. Runs under a lock: one
install test at a time on a machine.

The reload check (SIGHUP re-reads tokens and allowed origins without
dropping anyone) is checked too.
Run with Debian's /usr/bin/python3 (python3-websockets).
"""
import asyncio
import fcntl
import grp
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import websockets  # noqa: E402
from roost_harness import Client, check, checks_passed, free_port  # noqa: E402

DEB = os.path.abspath(sys.argv[1])
CONF = "/etc/roost/roost.conf"
UNIT = "/lib/systemd/system/roost.service"
DATA = "/var/lib/roost"
TMP = tempfile.mkdtemp(prefix="roost-install-")
ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def sh(*cmd, ok=True):
    p = subprocess.run(list(cmd), capture_output=True, text=True, env=ENV)
    if ok and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


def dpkg_status():
    p = sh("dpkg-query", "-W", "-f=${Status} ${Version}", "roost", ok=False)
    return p.stdout if p.returncode == 0 else "not known"


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


RUNNING = []  # services to stop if a check fails half-way


class Service:
    """The unit's ExecStart, started the way systemd would (run_unit.py)."""

    def __init__(self):
        self.log = os.path.join(TMP, "journal-%d.log" % time.monotonic_ns())
        self.proc = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "run_unit.py"), UNIT, self.log],
                                     stderr=subprocess.PIPE, text=True)
        RUNNING.append(self.proc)
        deadline = time.time() + 60
        while time.time() < deadline:
            text = self.output()
            m = re.search(r"listening on http port (\d+) and https port (-?\d+)", text)
            if m:
                self.http_port, self.https_port = int(m.group(1)), int(m.group(2))
                self.base = "http://127.0.0.1:%d" % self.http_port
                self.ws_url = "ws://127.0.0.1:%d/ws" % self.http_port
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("the service did not start:\n%s\n%s" % (self.output(), self.proc.stderr.read()))

    def output(self):
        return open(self.log).read() if os.path.exists(self.log) else ""

    def reload(self):
        """ExecReload, with $MAINPID (here: /bin/kill -HUP $MAINPID)."""
        line = [v for v in open(UNIT).read().splitlines() if v.startswith("ExecReload=")][-1]
        cmd = line.split("=", 1)[1].replace("$MAINPID", str(self.proc.pid)).split()
        sh(*cmd)

    def stop(self):
        """systemd's stop: KillSignal (SIGTERM), then wait up to TimeoutStopSec."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after TimeoutStopSec"


def set_conf(key, value):
    """Sets `key = value` in the installed config, as an admin would edit it."""
    text = open(CONF).read()
    line = "%s = %s" % (key, value)
    new, n = re.subn(r"(?m)^#? ?%s = .*$" % key, line, text, count=1)
    if n == 0:
        new = text + "\n" + line + "\n"
    with open(CONF, "w") as f:
        f.write(new)


async def chat(svc, text):
    """Two people in room `family`: one says `text`, the other gets it."""
    a = await Client.connect(svc, "mum")
    b = await Client.connect(svc, "kid")
    for c in (a, b):
        await c.send({"type": "join", "room": "family", "backlog": 0})
        await c.wait("joined", room="family")
    await a.send({"type": "say", "room": "family", "text": text, "cid": "x1"})
    await a.wait("ack", cid="x1")
    m = await b.wait("msg", room="family")
    await a.close()
    await b.close()
    return m["text"] == text and m["from"] == "mum"


def device_post(svc, text, token=None):
    cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: text/plain",
           "--data", text, svc.base + "/api/rooms/sensors/messages?from=thermo"]
    if token:
        cmd[1:1] = ["-H", "Authorization: Bearer " + token]
    return subprocess.run(cmd, capture_output=True, text=True).stdout


async def history(svc, room):
    c = await Client.connect(svc, "gran")
    await c.send({"type": "join", "room": room, "backlog": 50})
    await c.wait("joined", room=room)
    got = [e.get("text") for e in await c.quiet(1.0) if e.get("type") == "msg"]
    await c.close()
    return got


async def reload_check(svc):
    """SIGHUP (systemctl reload) re-reads tokens and origins; nobody is dropped."""
    c = await Client.connect(svc, "stays")
    await c.send({"type": "join", "room": "family", "backlog": 0})
    await c.wait("joined", room="family")
    origin = "http://kitchen.example:8080"
    try:
        ws = await websockets.connect(svc.ws_url, subprotocols=["roost.v1"], origin=origin)
        await ws.close()
        before = True
    except (websockets.InvalidHandshake, OSError):  # refused at the handshake, or the connection closed
        before = False
    secret = "reloadtoken0123456789"
    saved = open(CONF).read()
    set_conf("token", "thermo %s rooms=sensors" % secret)
    set_conf("origins", origin)
    svc.reload()
    time.sleep(1)
    check("reload: the service is still running", svc.proc.poll() is None, svc.output())
    await c.send({"type": "say", "room": "family", "text": "still here", "cid": "r1"})
    check("reload: a connected client is not dropped", (await c.wait("ack", cid="r1"))["seq"] > 0)
    without, with_token = device_post(svc, "x"), device_post(svc, "x", secret)
    check("reload: the new token is required (401 without, 201 with)",
          (without, with_token) == ("401", "201"), (without, with_token, svc.output()[-1500:]))
    ws = await websockets.connect(svc.ws_url, subprotocols=["roost.v1"], origin=origin)
    check("reload: the new allowed origin is let in (refused before: %s)" % (not before), not before)
    await ws.close()
    # The admin takes the token out again: open to everyone after a reload.
    with open(CONF, "w") as f:
        f.write(saved)
    svc.reload()
    time.sleep(1)
    check("reload: the token taken out again, a post needs none (201)", device_post(svc, "x") == "201", svc.output()[-800:])
    await c.close()


async def run_service(phase, http_port, https_port):
    svc = Service()
    check("%s: the unit's ExecStart runs as user roost" % phase,
          os.stat("/proc/%d" % svc.proc.pid).st_uid == pwd.getpwnam("roost").pw_uid)
    check("%s: it listens on the ports set in %s" % (phase, CONF),
          (svc.http_port, svc.https_port) == (http_port, https_port), svc.output())
    check("%s: the log says where the CA is" % phase, "local CA %s/ca.crt" % DATA in svc.output(), svc.output())
    check("%s: the log names the URLs to open" % phase, "roost: open http://" in svc.output())
    return svc


async def main():
    if os.geteuid() != 0:
        print("SKIPPED: the install test needs root (apt-get install)")
        sys.exit(77)
    lock = open("/tmp/roost-package-install.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    if dpkg_status().startswith(("install", "deinstall")):
        sh("apt-get", "purge", "-y", "-qq", "roost")  # an earlier run that stopped half-way
    if user_exists("roost") or os.path.exists(DATA):
        raise SystemExit("a user 'roost' or %s exists without the package: not touching them" % DATA)

    # --- install ---------------------------------------------------------
    p = sh("apt-get", "install", "-y", "--no-install-recommends", DEB)
    check("apt-get install ./%s" % os.path.basename(DEB), dpkg_status().startswith("install ok installed"),
          p.stdout + p.stderr)
    u = pwd.getpwnam("roost")
    check("a system user roost, no login, home %s" % DATA,
          u.pw_uid < 1000 and u.pw_dir == DATA and u.pw_shell.endswith("nologin") and group_exists("roost"))
    st = os.stat(DATA)
    check("%s: roost:roost, mode 0750" % DATA, (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
          == (u.pw_uid, grp.getgrnam("roost").gr_gid, 0o750))
    st = os.stat(CONF)
    check("%s: root:roost, mode 0640 (tokens, MQTT password)" % CONF,
          (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, grp.getgrnam("roost").gr_gid, 0o640))
    check("the config keeps the data in %s" % DATA, "\ndata = /var/lib/roost\n" in open(CONF).read())
    wants = "/etc/systemd/system/multi-user.target.wants/roost.service"
    check("the unit is enabled (multi-user.target wants it)", os.path.islink(wants) and os.readlink(wants) == UNIT)
    check("roost(8) is installed", os.path.exists("/usr/share/man/man8/roost.8.gz"))
    check("the avahi service file is installed", os.path.exists("/etc/avahi/services/roost.service"))

    http_port, https_port = free_port(), free_port()
    set_conf("http_port", http_port)
    set_conf("https_port", https_port)

    # --- run, as systemd would -----------------------------------------
    svc = await run_service("first start", http_port, https_port)
    check("chat through it: a WebSocket message reaches the other person", await chat(svc, "dinner at 7"))
    check("a device posts with curl: 201", device_post(svc, "19.5 C") == "201")
    p = sh("/usr/bin/roost", "status", ok=False)
    check("`roost status` (root) reads %s and says ok" % CONF, p.returncode == 0
          and re.search(r"^address +http://localhost:%d/$" % http_port, p.stdout, re.M)
          and re.search(r"^status +ok$", p.stdout, re.M), p.stdout + p.stderr)
    p = sh("setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "/usr/bin/roost", "status",
           ok=False)
    check("`roost status` as another user: says the config is not readable, uses the defaults",
          "cannot read %s (Permission denied)" % CONF in p.stderr, p.stderr)
    p = sh("/usr/bin/roost", "qr", ok=False)
    check("`roost qr` (root) shows the configured port", p.returncode == 0 and ":%d/ on a phone" % http_port in p.stdout,
          p.stdout + p.stderr)
    await reload_check(svc)
    code = svc.stop()
    check("SIGTERM (systemctl stop): exit 0 before TimeoutStopSec", code == 0, "%s\n%s" % (code, svc.output()))
    owners = {(os.stat(os.path.join(DATA, f)).st_uid) for f in os.listdir(DATA)}
    check("the data (history, CA) is in %s, owned by roost" % DATA, "history.roost" in os.listdir(DATA)
          and "ca.crt" in os.listdir(DATA) and owners == {u.pw_uid}, str(os.listdir(DATA)))

    # --- install again, then upgrade ------------------------------------
    sh("apt-get", "install", "-y", "--reinstall", "--no-install-recommends", DEB)
    check("installed again (--reinstall): still installed, same user",
          dpkg_status().startswith("install ok installed") and pwd.getpwnam("roost").pw_uid == u.pw_uid)
    newer = os.path.join(TMP, "newer")
    sh("dpkg-deb", "-R", DEB, newer)
    control = open(os.path.join(newer, "DEBIAN", "control")).read()
    version = re.search(r"^Version: (\S+)$", control, re.M).group(1)
    with open(os.path.join(newer, "DEBIAN", "control"), "w") as f:
        f.write(control.replace("Version: " + version, "Version: %s+upgrade1" % version))
    newer_deb = os.path.join(TMP, "roost_%s+upgrade1.deb" % version)
    sh("dpkg-deb", "--root-owner-group", "--build", newer, newer_deb)
    sh("apt-get", "install", "-y", "--no-install-recommends", newer_deb)
    check("upgraded to %s+upgrade1" % version, dpkg_status() == "install ok installed %s+upgrade1" % version)
    check("the upgrade kept the edited config", "\nhttp_port = %d\n" % http_port in open(CONF).read())
    check("... and the user", pwd.getpwnam("roost").pw_uid == u.pw_uid)
    svc = await run_service("after the upgrade", http_port, https_port)
    check("the history is still there after the upgrade", "dinner at 7" in await history(svc, "family")
          and "19.5 C" in await history(svc, "sensors"))
    check("... and the server certificate was kept", "server certificate kept" in svc.output(), svc.output())
    check("SIGTERM: exit 0", svc.stop() == 0)

    # --- remove, then purge ---------------------------------------------
    sh("apt-get", "remove", "-y", "roost")
    check("apt-get remove: the package is gone, its config files stay",
          dpkg_status().startswith("deinstall ok config-files") and not os.path.exists("/usr/bin/roost"))
    check("... the data, config and user stay", os.path.exists(os.path.join(DATA, "history.roost"))
          and os.path.exists(CONF) and user_exists("roost"))
    sh("apt-get", "purge", "-y", "roost")
    check("apt-get purge: the package is gone", dpkg_status() == "not known"
          or dpkg_status().startswith("unknown ok not-installed"), dpkg_status())
    check("... its data directory is gone", not os.path.exists(DATA))
    check("... its config is gone", not os.path.exists(CONF) and not os.path.exists("/etc/roost"))
    check("... the avahi service file is gone", not os.path.exists("/etc/avahi/services/roost.service"))
    check("... the user and group are gone", not user_exists("roost") and not group_exists("roost"))
    check("... no unit links are left", not os.path.lexists(wants)
          and not os.path.lexists("/etc/systemd/system/roost.service"))
    check("... no stat override is left", "roost.conf" not in sh("dpkg-statoverride", "--list").stdout)
    shutil.rmtree(TMP, ignore_errors=True)
    print("# %d checks passed" % checks_passed())


try:
    asyncio.run(main())
finally:
    # A failed check leaves nothing behind: no service, no package.
    for proc in RUNNING:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if os.geteuid() == 0 and dpkg_status().startswith(("install", "deinstall")):
        sh("apt-get", "purge", "-y", "-qq", "roost", ok=False)
