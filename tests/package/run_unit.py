#!/usr/bin/env python3
"""Runs a systemd service's ExecStart the way systemd would, on a machine
whose PID 1 is not systemd (a CI container): this process becomes the
service's main process, inside the parts of the unit's sandbox that can be
built by hand. As root:

    run_unit.py UNIT_FILE LOG_FILE

Applied from the unit: User=, Group= (with the user's groups), WorkingDirectory=,
UMask=, StateDirectory= (+Mode), ProtectSystem=strict (every mount read-only
but /proc, /sys, /dev and the state directory), ProtectHome=yes (/home,
/root, /run/user empty and closed), PrivateTmp=yes, PrivateDevices=yes
(/dev with null, zero, full, random, urandom, tty only), NoNewPrivileges=,
CapabilityBoundingSet= and AmbientCapabilities= (empty: every capability
dropped), SystemCallFilter= (systemd's own groups, `systemd-analyze
syscall-filter`) with SystemCallErrorNumber=, RestrictAddressFamilies= and
MemoryDenyWriteExecute= (seccomp, python3-seccomp), the environment systemd
gives a service. stdout and stderr go to LOG_FILE (the journal's place).
Every other setting of the unit is named on stderr as not applied. Runs in
a mount namespace of its own (unshare -m), so the host is not changed.
"""
import ctypes
import errno
import grp
import os
import pwd
import re
import shlex
import socket
import subprocess
import sys
import tempfile

APPLIED = {
    "Type", "User", "Group", "ExecStart", "WorkingDirectory", "UMask", "StateDirectory", "StateDirectoryMode",
    "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "NoNewPrivileges", "CapabilityBoundingSet",
    "AmbientCapabilities", "SystemCallFilter", "SystemCallErrorNumber", "RestrictAddressFamilies",
    "MemoryDenyWriteExecute",
    # Not part of starting the process; the caller acts on them.
    "ExecReload", "Restart", "RestartSec", "KillSignal", "TimeoutStopSec",
}


def parse_unit(path):
    """The [Service] section: key -> list of values in order (an empty
    value resets the list, as systemd does)."""
    service, section = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            key, _, value = line.partition("=")
            if section == "[Service]":
                if value.strip() == "":
                    service[key.strip()] = [""]
                else:
                    service.setdefault(key.strip(), []).append(value.strip())
    return service


def one(service, key, default=None):
    values = [v for v in service.get(key, []) if v != ""]
    return values[-1] if values else default


def mount(*args):
    subprocess.run(["mount"] + list(args), check=True)


def build_filesystem(service, state_dir):
    mounts = subprocess.run(["findmnt", "-rno", "TARGET"], capture_output=True, text=True, check=True)
    if one(service, "ProtectSystem") == "strict":
        for target in sorted(set(mounts.stdout.split())):
            target = target.encode().decode("unicode_escape")
            if re.match(r"^/(proc|sys|dev)(/|$)", target):
                continue
            subprocess.run(["mount", "-o", "remount,bind,ro", target], capture_output=True)
        if state_dir:
            mount("--bind", state_dir, state_dir)
            mount("-o", "remount,bind,rw", state_dir)
    if one(service, "ProtectHome") == "yes":
        for d in ("/home", "/root", "/run/user"):
            if os.path.isdir(d):
                mount("-t", "tmpfs", "-o", "mode=000,nosuid,nodev", "tmpfs", d)
    if one(service, "PrivateTmp") == "yes":
        for d in ("/tmp", "/var/tmp"):
            mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", d)
    if one(service, "PrivateDevices") == "yes":
        # The devices to keep are reached through a bind of the old /dev in
        # a scratch directory of the private /tmp.
        old = tempfile.mkdtemp(prefix=".old-dev-", dir="/tmp")
        mount("--bind", "/dev", old)
        mount("-t", "tmpfs", "-o", "mode=755,nosuid,noexec", "tmpfs", "/dev")
        for dev in ("null", "zero", "full", "random", "urandom", "tty"):
            open("/dev/" + dev, "w").close()
            mount("--bind", os.path.join(old, dev), "/dev/" + dev)
        os.makedirs("/dev/shm")
        mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", "/dev/shm")
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                             ("stderr", "/proc/self/fd/2")):
            os.symlink(target, "/dev/" + name)
        subprocess.run(["umount", "-l", old], check=True)
        os.rmdir(old)


def syscall_groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n not in seen:
                seen.add(n)
                out |= expand(groups.get(n, []), groups, seen)
        else:
            out.add(n)
    return out


def seccomp_filter(service):
    import seccomp  # python3-seccomp

    groups = syscall_groups()
    allow, deny = set(), set()
    for value in service.get("SystemCallFilter", []):
        if value.startswith("~"):
            deny |= expand(value[1:].split(), groups)
        else:
            allow |= expand(value.split(), groups)
    allow -= deny
    err = getattr(errno, one(service, "SystemCallErrorNumber", "EPERM"))
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(err) if allow else seccomp.ALLOW)
    if not allow:
        for name in deny:
            try:
                f.add_rule(seccomp.ERRNO(err), name)
            except (RuntimeError, ValueError):
                pass
    families = one(service, "RestrictAddressFamilies")
    mdwe = one(service, "MemoryDenyWriteExecute") == "yes"
    special = {"socket"} if families else set()
    if mdwe:
        special |= {"mmap", "mmap2", "mprotect", "pkey_mprotect"}
    for name in sorted(allow - special):
        try:
            f.add_rule(seccomp.ALLOW, name)
        except (RuntimeError, ValueError):
            pass  # not a system call of this architecture: systemd skips it too
    if families:
        # Other families get the filter's errno (systemd answers EAFNOSUPPORT).
        for fam in families.split():
            f.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, getattr(socket, fam)))
    if mdwe:
        wx = 0x2 | 0x4  # PROT_WRITE | PROT_EXEC
        for name in ("mmap", "mmap2"):
            if name in allow:
                try:
                    f.add_rule(seccomp.ALLOW, name, seccomp.Arg(2, seccomp.MASKED_EQ, wx, 0x0))
                    f.add_rule(seccomp.ALLOW, name, seccomp.Arg(2, seccomp.MASKED_EQ, wx, 0x2))
                    f.add_rule(seccomp.ALLOW, name, seccomp.Arg(2, seccomp.MASKED_EQ, wx, 0x4))
                except (RuntimeError, ValueError):
                    pass
        for name in ("mprotect", "pkey_mprotect"):
            if name in allow:
                try:
                    f.add_rule(seccomp.ALLOW, name, seccomp.Arg(2, seccomp.MASKED_EQ, 0x4, 0x0))
                except (RuntimeError, ValueError):
                    pass
    return f


def drop_bounding_set():
    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop = 24
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        libc.prctl(pr_capbset_drop, cap, 0, 0, 0)


def no_new_privs():
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs = 38
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")


def main():
    if len(sys.argv) == 3:
        # Into a mount namespace of our own, same PID (unshare execs).
        os.execvp("unshare", ["unshare", "-m", "--propagation", "private", sys.executable, os.path.abspath(__file__),
                              "--inside", sys.argv[1], sys.argv[2]])
    unit_file, log_file = sys.argv[2], sys.argv[3]
    service = parse_unit(unit_file)
    skipped = sorted(k for k in service if k not in APPLIED)
    if skipped:
        print("run_unit: not applied here (needs systemd): " + ", ".join(skipped), file=sys.stderr)

    user = pwd.getpwnam(one(service, "User", "root"))
    group = grp.getgrnam(one(service, "Group", grp.getgrgid(user.pw_gid).gr_name))
    state_dir = None
    if one(service, "StateDirectory"):
        state_dir = "/var/lib/" + one(service, "StateDirectory")
        if not os.path.isdir(state_dir):
            os.makedirs(state_dir)
        os.chown(state_dir, user.pw_uid, group.gr_gid)
        os.chmod(state_dir, int(one(service, "StateDirectoryMode", "0755"), 8))
    # The log is opened before /tmp and the rest change under us.
    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    build_filesystem(service, state_dir)

    argv = shlex.split(one(service, "ExecStart"))
    if argv[0][0] in "-@+!:":
        raise SystemExit("run_unit: ExecStart prefixes are not supported: " + argv[0])
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": user.pw_dir,
           "USER": user.pw_name, "LOGNAME": user.pw_name, "SHELL": user.pw_shell}
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(one(service, "WorkingDirectory", "/"))
    os.umask(int(one(service, "UMask", "0022"), 8))
    filt = seccomp_filter(service)
    if one(service, "CapabilityBoundingSet", "") == "" and "CapabilityBoundingSet" in service:
        drop_bounding_set()
    os.initgroups(user.pw_name, group.gr_gid)
    os.setgid(group.gr_gid)
    os.setuid(user.pw_uid)
    if one(service, "NoNewPrivileges") == "yes":
        no_new_privs()
    filt.load()
    os.execve(argv[0], argv, env)


main()
