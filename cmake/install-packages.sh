#!/bin/sh
# install-packages.sh GROUP...: installs the Debian packages a build or test
# needs, only those missing, through sudo when not root, saying what it
# installs. Groups: host, test, browser, bench, node, fuzz, aarch64, armhf,
# riscv64, armv6, deb (making packages), package-test (checking them).
# On a system without apt-get it only reports what is missing.
set -eu

pkgs_for() {
    case "$1" in
    host) echo "build-essential cmake ninja-build patch xz-utils bzip2 curl ca-certificates wamerican" ;;
    test) echo "curl procps python3 python3-websockets zbar-tools mosquitto mosquitto-clients openssl testssl.sh" ;;
    browser) echo "chromium fonts-dejavu-core" ;;
    bench) echo "python3 procps util-linux mosquitto mosquitto-clients" ;;
    node) echo "nodejs npm" ;;
    fuzz) echo "clang libclang-rt-14-dev" ;;
    aarch64) echo "crossbuild-essential-arm64 qemu-user-static" ;;
    armhf) echo "crossbuild-essential-armhf qemu-user-static" ;;
    riscv64) echo "gcc-riscv64-linux-gnu g++-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user-static" ;;
    armv6) echo "crossbuild-essential-armel qemu-user-static" ;;
    deb) echo "binutils" ;;
    package-test) echo "lintian shellcheck systemd util-linux curl openssl python3 python3-websockets python3-seccomp qemu-user-static" ;;
    *) echo "install-packages: unknown group '$1'" >&2; exit 2 ;;
    esac
}

missing=
for group in "$@"; do
    for p in $(pkgs_for "$group"); do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
            case " $missing " in *" $p "*) ;; *) missing="$missing $p" ;; esac
        fi
    done
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-packages: please install:$missing" >&2
    exit 1
fi
echo "install-packages: installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-packages: done"
