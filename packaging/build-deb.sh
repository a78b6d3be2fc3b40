#!/bin/sh
# build-deb.sh BINARY DEBARCH VERSION OUT_DIR: the Debian package of one
# roost binary, OUT_DIR/roost_VERSION_DEBARCH.deb, built from a staged tree
# with dpkg-deb --root-owner-group (no root, no fakeroot needed). Called by
# `make deb TARGET=...`; the layout, scripts and checks: docs/packaging.md.
#
# A static BINARY (the armv6 build) depends on no C library; a dynamic one
# on glibc 2.31 or later and libgcc_s (the floor it was built for,
# cross/glibc-floor.cmake). File times are the last commit's time
# (SOURCE_DATE_EPOCH), so that the same tree gives the same package.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
binary=${1:?usage: build-deb.sh BINARY DEBARCH VERSION OUT_DIR}
arch=${2:?usage: build-deb.sh BINARY DEBARCH VERSION OUT_DIR}
version=${3:?usage: build-deb.sh BINARY DEBARCH VERSION OUT_DIR}
out=${4:?usage: build-deb.sh BINARY DEBARCH VERSION OUT_DIR}

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

if readelf -d "$binary" 2>/dev/null | grep -q NEEDED; then
    depends="libc6 (>= 2.31), libgcc-s1 (>= 4.2), adduser"
    static=
else
    depends="adduser"
    static=1
fi

mkdir -p "$out"
stage=$(mktemp -d "$out/deb-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
doc="$root/usr/share/doc/roost"

install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/roost" \
    "$root/etc/avahi/services" "$root/usr/share/man/man8" "$doc" "$root/usr/share/lintian/overrides"
install -m 0755 "$binary" "$root/usr/bin/roost"
install -m 0644 "$here/roost.service" "$root/lib/systemd/system/roost.service"
install -m 0644 "$here/roost.avahi-service" "$root/etc/avahi/services/roost.service"
install -m 0644 "$here/copyright" "$doc/copyright"
install -m 0644 "$here/README.Debian" "$doc/README.Debian"
if [ -n "$static" ]; then
    cat "$here/lintian-overrides" "$here/lintian-overrides.static" >"$root/usr/share/lintian/overrides/roost"
else
    cat "$here/lintian-overrides" >"$root/usr/share/lintian/overrides/roost"
fi
chmod 0644 "$root/usr/share/lintian/overrides/roost"
gzip -9n <"$here/changelog" >"$doc/changelog.gz"
sed "s/@VERSION@/$version/g" "$here/roost.8" | gzip -9n >"$root/usr/share/man/man8/roost.8.gz"
chmod 0644 "$doc/changelog.gz" "$root/usr/share/man/man8/roost.8.gz"

# The commented sample, with the package's data directory switched on.
sed 's|^# data = /var/lib/roost$|data = /var/lib/roost|' "$top/roost.conf" >"$root/etc/roost/roost.conf"
if ! grep -qx 'data = /var/lib/roost' "$root/etc/roost/roost.conf"; then
    echo "build-deb: roost.conf has no '# data = /var/lib/roost' line to switch on" >&2
    exit 1
fi
chmod 0644 "$root/etc/roost/roost.conf"

for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$root/DEBIAN/$script"
done
printf '%s\n' /etc/roost/roost.conf /etc/avahi/services/roost.service >"$root/DEBIAN/conffiles"
chmod 0644 "$root/DEBIAN/conffiles"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
    "$here/control.in" >"$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort |
    xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb="$out/roost_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "built $deb ($(du -k "$deb" | cut -f1) KB)"
