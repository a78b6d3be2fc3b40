#!/bin/sh
# fetch-sysroot.sh ARCH SOURCES DEST: the glibc 2.31 sysroot of the Debian
# architecture ARCH (amd64, arm64, armhf, riscv64) in DEST, from the .debs
# pinned in cmake/sysroot.lock (kept in SOURCES, each checked against its
# SHA-256). DEST/usr/<triple>/{include,lib} then holds bullseye's glibc
# headers, crt files and libraries, Linux 5.10's headers and gcc 10's
# libgcc_s.so.1 (plus the libgcc_s.so link a linker looks for).
# cross/glibc-floor.cmake compiles and links against it; qemu runs the tests
# with it (-L DEST/usr/<triple>), so they run on glibc 2.31 itself.
# DEST is made again only when its lock lines change (DEST/.lock holds them).
# Nothing fetched here is ever committed: SOURCES and DEST live under build/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
arch=${1:?usage: fetch-sysroot.sh ARCH SOURCES DEST}
sources=${2:?usage: fetch-sysroot.sh ARCH SOURCES DEST}
dest=${3:?usage: fetch-sysroot.sh ARCH SOURCES DEST}

lines=$(awk -v a="$arch" '$1 == a' "$here/sysroot.lock")
if [ -z "$lines" ]; then
    echo "fetch-sysroot: no sysroot for '$arch' in cmake/sysroot.lock" >&2
    exit 2
fi
if [ -f "$dest/.lock" ] && [ "$(cat "$dest/.lock")" = "$lines" ]; then
    exit 0
fi

mkdir -p "$sources"
verify() { # file sha256
    [ -f "$1" ] && echo "$2  $1" | sha256sum -c --status
}

tmp="$dest.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
echo "$lines" | while read -r _ pkg version sha path; do
    file="$sources/${path##*/}"
    if ! verify "$file" "$sha"; then
        echo "fetch-sysroot: downloading $pkg $version (bullseye)"
        curl -fsSL --retry 2 -o "$file.part" "https://deb.debian.org/debian/$path"
        mv -f "$file.part" "$file"
        if ! verify "$file" "$sha"; then
            echo "fetch-sysroot: ERROR: $file does not have sha256 $sha" >&2
            rm -f "$file"
            exit 1
        fi
    fi
    dpkg-deb -x "$file" "$tmp"
done

for lib in "$tmp"/usr/*-linux-gnu*/lib/libgcc_s.so.1; do
    ln -sf libgcc_s.so.1 "${lib%.1}"
done
echo "$lines" >"$tmp/.lock"
rm -rf "$dest"
mv "$tmp" "$dest"
echo "fetch-sysroot: glibc 2.31 sysroot for $arch in $dest"
