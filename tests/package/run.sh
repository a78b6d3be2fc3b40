#!/bin/sh
# run.sh BUILD_DIR VERSION TARGET=DEB...: the package tests of `make
# package-test`, on the packages `make deb` built for every target (the
# Makefile runs the armv6 and aarch64 unit tests under qemu before this):
#   1. each package's binary runs where it says: the glibc 2.31 ceiling of
#      the dynamic ones, ARMv6 without Thumb-2 for armv6 (check_binary.sh);
#   2. lintian, maintainer scripts, the unit's sandbox score (test_lint.sh);
#   3. the armv6 and aarch64 packages' binaries end to end under qemu (the
#      ARM1176 CPU; glibc 2.31), and the host's on glibc 2.31 (smoke.py);
#   4. a real install, run, upgrade, remove and purge on this machine
#      (test_install.py; root);
#   5. the MQTT broker's name from /etc/hosts and as NAME.local through
#      avahi-daemon, for the host and armv6 binaries (test_resolve.py; root).
# Steps 4 and 5 say SKIPPED without root. Exits 1 if any step fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$1
shift 2
fails=0
skipped=
py=/usr/bin/python3

deb_of() { # TARGET: its .deb from the arguments
    for arg in $ARGS; do
        case "$arg" in "$1="*) echo "${arg#*=}" ;; esac
    done
}
ARGS="$*"

step() { # NAME COMMAND...: runs a step, counts it
    name=$1
    shift
    echo "=== $name"
    "$@"
    rc=$?
    if [ "$rc" -eq 77 ]; then
        skipped="$skipped $name"
    elif [ "$rc" -ne 0 ]; then
        echo "=== FAILED: $name"
        fails=$((fails + 1))
    fi
}

tmp=$(mktemp -d /tmp/roost-package-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
debs=
for arg in "$@"; do
    target=${arg%%=*}
    deb=${arg#*=}
    debs="$debs $deb"
    dpkg-deb -x "$deb" "$tmp/$target"
    case "$target" in
    armv6) step "binary: $target" "$here/check_binary.sh" "$tmp/$target/usr/bin/roost" armv6 arm-linux-gnueabi-readelf ;;
    aarch64) step "binary: $target" "$here/check_binary.sh" "$tmp/$target/usr/bin/roost" floor \
        aarch64-linux-gnu-readelf aarch64-linux-gnu-objdump ;;
    armhf) step "binary: $target" "$here/check_binary.sh" "$tmp/$target/usr/bin/roost" floor \
        arm-linux-gnueabihf-readelf arm-linux-gnueabihf-objdump ;;
    riscv64) step "binary: $target" "$here/check_binary.sh" "$tmp/$target/usr/bin/roost" floor \
        riscv64-linux-gnu-readelf riscv64-linux-gnu-objdump ;;
    *) step "binary: $target" "$here/check_binary.sh" "$tmp/$target/usr/bin/roost" floor ;;
    esac
done

# shellcheck disable=SC2086 # one argument per package
step "lint" "$here/test_lint.sh" $debs

sysroot_lib() { # DEBARCH TRIPLE: the glibc 2.31 libraries
    echo "$build/sysroots/$1/usr/$2"
}
step "smoke: armv6 on an ARM1176" $py "$here/smoke.py" "$(deb_of armv6)" qemu-arm-static -cpu arm1176
step "smoke: aarch64 on glibc 2.31" $py "$here/smoke.py" "$(deb_of aarch64)" \
    qemu-aarch64-static -L "$(sysroot_lib arm64 aarch64-linux-gnu)"
host_lib=$(sysroot_lib "$(dpkg --print-architecture)" "$(gcc -print-multiarch)")/lib
loader=$(find "$host_lib" -maxdepth 1 -name 'ld-linux*.so.*' 2>/dev/null | head -1)
if [ -n "$loader" ]; then
    step "smoke: host on glibc 2.31" $py "$here/smoke.py" "$(deb_of host)" "$loader" --library-path "$host_lib"
fi
step "install" $py "$here/test_install.py" "$(deb_of host)"
step "names" $py "$here/test_resolve.py" "$build/package-test" "host=$(deb_of host)" \
    "armv6=$(deb_of armv6):qemu-arm-static:-cpu:arm1176"

[ -n "$skipped" ] && echo "package tests SKIPPED (need root):$skipped"
if [ "$fails" -ne 0 ]; then
    echo "package tests: $fails step(s) FAILED"
    exit 1
fi
echo "package tests: all passed"
