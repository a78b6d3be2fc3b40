#!/usr/bin/env python3
"""Names of the MQTT broker, resolved where the OS resolves them, for each
packaged binary: a name from /etc/hosts, and NAME.local through a real
avahi-daemon and nss-mdns (the Debian packages, unpacked here, not
installed), as on Raspberry Pi OS. As root, in a mount namespace of its own
(unshare -m: /etc/hosts, /etc/nsswitch.conf and /run/avahi-daemon are
private to the test; nothing on the machine changes):

    test_resolve.py WORK_DIR NAME=DEB[:RUNNER...] ...

e.g. host=build/host/roost_0.1.0_amd64.deb
     armv6=build/armv6/roost_0.1.0_armhf.deb:qemu-arm-static:-cpu:arm1176

A dynamic binary resolves through the C library's NSS modules (nss-mdns
among them); the static armv6 one through its own request to
avahi-daemon (platform/local_names.h). A name that is nowhere, and a .local
name avahi does not know, must not connect. Returns 77 when not root.
Run with Debian's /usr/bin/python3.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from roost_harness import check, checks_passed, free_port  # noqa: E402

HOSTS_NAME = "mqtt-broker.roost-test"
AVAHI_PKGS = ["avahi-daemon", "libavahi-core7", "libavahi-common3", "libavahi-common-data", "libdaemon0",
              "libnss-mdns"]


def unpack_avahi(work):
    """avahi-daemon and nss-mdns from the Debian archive, unpacked in WORK."""
    root = os.path.join(work, "avahi-root")
    if not os.path.exists(os.path.join(root, "usr", "sbin", "avahi-daemon")):
        debs = os.path.join(work, "avahi-debs")
        os.makedirs(debs, exist_ok=True)
        subprocess.run(["apt-get", "download"] + AVAHI_PKGS, cwd=debs, check=True, capture_output=True)
        for deb in sorted(os.listdir(debs)):
            subprocess.run(["dpkg-deb", "-x", os.path.join(debs, deb), root], check=True)
    return root


def private_etc(work):
    """The files bound over /etc in the namespace."""
    files = {}
    files["/etc/hosts"] = "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 %s\n" % HOSTS_NAME
    # Raspberry Pi OS's hosts line.
    files["/etc/nsswitch.conf"] = ("passwd: files\ngroup: files\nshadow: files\n"
                                   "hosts: files mdns4_minimal [NOTFOUND=return] dns\n")
    files["/etc/passwd"] = open("/etc/passwd").read() + "avahi:x:64999:64999:avahi:/run/avahi-daemon:/bin/false\n"
    files["/etc/group"] = open("/etc/group").read() + "avahi:x:64999:\n"
    paths = {}
    for target, text in files.items():
        path = os.path.join(work, "etc-" + os.path.basename(target))
        with open(path, "w") as f:
            f.write(text)
        paths[target] = path
    conf = os.path.join(work, "avahi-daemon.conf")
    with open(conf, "w") as f:
        f.write("[server]\nuse-ipv4=yes\nuse-ipv6=no\nenable-dbus=no\n[wide-area]\nenable-wide-area=no\n"
                "[publish]\npublish-addresses=yes\npublish-hinfo=no\npublish-workstation=no\n")
    return paths, conf


def wait_connected(base, seconds):
    """True once /healthz says the MQTT link is up."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                if json.loads(r.read()).get("mqtt") == "connected":
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def run_roost(command, url, env, seconds):
    """Starts roost bridged to `url`; whether its link came up within `seconds`."""
    port = free_port()
    log = open(os.path.join(WORK, "roost-resolve.log"), "w")
    proc = subprocess.Popen(command + ["--bind", "127.0.0.1", "--http-port", str(port), "--https-port", "-1",
                                       "--mqtt", url], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        return wait_connected("http://127.0.0.1:%d" % port, seconds)
    finally:
        proc.terminate()
        proc.wait(10)


def inside(targets):
    avahi_root = unpack_avahi(WORK)
    libs = ":".join(os.path.join(avahi_root, d) for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu",
                                                           "usr/lib", "lib"))
    paths, conf = private_etc(WORK)
    # A private /run for avahi-daemon's socket (the path nss-mdns asks).
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/avahi-daemon")
    for target, path in paths.items():
        subprocess.run(["mount", "--bind", path, target], check=True)
    avahi_env = dict(os.environ, LD_LIBRARY_PATH=libs)
    avahi = subprocess.Popen([os.path.join(avahi_root, "usr/sbin/avahi-daemon"), "-f", conf, "--no-drop-root",
                              "--no-chroot", "--no-rlimits", "--no-proc-title"], env=avahi_env,
                             stdout=open(os.path.join(WORK, "avahi.log"), "w"), stderr=subprocess.STDOUT)
    mqtt_port = free_port()
    mconf = os.path.join(WORK, "mosquitto.conf")
    with open(mconf, "w") as f:
        f.write("listener %d\nallow_anonymous true\n" % mqtt_port)
    mosquitto = subprocess.Popen(["mosquitto", "-c", mconf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = socket.gethostname().split(".")[0] + ".local"
        deadline = time.time() + 20
        seen = ""
        while time.time() < deadline and not seen:
            seen = subprocess.run(["getent", "hosts", local], env=avahi_env, capture_output=True, text=True).stdout
            time.sleep(0.3)
        check("the OS resolves %s through nss-mdns and avahi-daemon: %s" % (local, seen.split()[:1]), seen != "",
              open(os.path.join(WORK, "avahi.log")).read())
        for name, command in targets:
            # The C library finds nss-mdns where the OS keeps it (unpacked
            # here, so through LD_LIBRARY_PATH, as for getent above).
            env = dict(os.environ, LD_LIBRARY_PATH=libs)
            for host, what in ((HOSTS_NAME, "/etc/hosts"), (local, "avahi-daemon")):
                check("%s: the MQTT broker named %s (%s) is reached" % (name, host, what),
                      run_roost(command, "mqtt://%s:%d" % (host, mqtt_port), env, 30),
                      open(os.path.join(WORK, "roost-resolve.log")).read())
            for host in ("nowhere.roost-test", "nosuch-roost-test.local"):
                check("%s: a broker named %s (nowhere) is not reached" % (name, host),
                      not run_roost(command, "mqtt://%s:%d" % (host, mqtt_port), env, 4))
    finally:
        mosquitto.terminate()
        avahi.terminate()
        mosquitto.wait(10)
        avahi.wait(10)
    print("# %d checks passed" % checks_passed())


def binary_of(spec):
    """NAME=DEB[:RUNNER...] -> (NAME, command), the binary unpacked from DEB."""
    name, rest = spec.split("=", 1)
    parts = rest.split(":")
    root = os.path.join(WORK, "pkg-" + name)
    subprocess.run(["dpkg-deb", "-x", parts[0], root], check=True)
    return name, parts[1:] + [os.path.join(root, "usr", "bin", "roost")]


if os.geteuid() != 0:
    print("SKIPPED: the name resolution test needs root (mount namespace)")
    sys.exit(77)
WORK = os.path.abspath(sys.argv[1] if sys.argv[1] != "--inside" else sys.argv[2])
if sys.argv[1] != "--inside":
    os.makedirs(WORK, exist_ok=True)
    os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__),
                          "--inside"] + sys.argv[1:])
inside([binary_of(spec) for spec in sys.argv[3:]])
