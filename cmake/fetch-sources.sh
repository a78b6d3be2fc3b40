#!/bin/sh
# fetch-sources.sh DEST [NAME...]: put every file named in cmake/sources.lock
# into DEST, each checked against its pinned SHA-256; a line marked
# `optional` only when its library is one of the NAMEs (libuv for
# ROOST_WITH_LIBUV=ON). A file already in DEST with the right checksum is
# kept, so this costs nothing after the first run.
#
# On Debian the files come from the archive with `apt-get source
# --download-only` (trixie's source suite, added when missing); elsewhere, or
# when the archive no longer lists the pinned version, from Debian's pool
# (which keeps the file) and then from the upstream URL.
# Nothing fetched here is ever committed: DEST lives under build/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
lock="$here/sources.lock"
dest=${1:?usage: fetch-sources.sh DEST [NAME...]}
shift
wanted=" $* "
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

verify() { # file sha256
    [ -f "$1" ] && echo "$2  $1" | sha256sum -c --status
}

# Make sure apt knows the trixie sources (Debian only, once).
apt_ready=
ensure_trixie_sources() {
    [ -n "$apt_ready" ] && return 0
    apt_ready=1
    command -v apt-get >/dev/null 2>&1 || return 1
    if ! grep -rqsE '^(deb-src .*trixie|Suites:.*trixie)' /etc/apt/sources.list /etc/apt/sources.list.d/ ||
       ! grep -rqsE 'deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "fetch-sources: adding a deb-src entry for Debian trixie (/etc/apt/sources.list.d/roost-trixie-src.sources)"
        printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' 'Suites: trixie' \
            'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
            as_root tee /etc/apt/sources.list.d/roost-trixie-src.sources >/dev/null
        as_root apt-get update -qq || true
    fi
    return 0
}

fetched_pkgs=
from_debian() { # pkg=version
    case " $fetched_pkgs " in *" $1 "*) return 0 ;; esac
    fetched_pkgs="$fetched_pkgs $1"
    ensure_trixie_sources || return 1
    if ! apt-get source --download-only --print-uris "$1" >/dev/null 2>&1; then
        as_root apt-get update -qq || true
    fi
    tmp=$(mktemp -d)
    # The .dsc (or another file) may 404 while the tarballs download: keep
    # whatever arrived and let the checksums decide.
    (cd "$tmp" && apt-get source --download-only "$1" >"$tmp.log" 2>&1) ||
        echo "fetch-sources: apt-get source $1 reported errors (checking what arrived)"
    for f in "$tmp"/*; do [ -f "$f" ] && mv -f "$f" "$dest/"; done
    rm -rf "$tmp" "$tmp.log"
}

# Debian's pool keeps a file after its version has left the index (a newer
# security upload replaced it, so `apt-get source pkg=version` finds nothing):
# ask the pool for the pinned file itself.
from_pool() { # pkg=version file
    src=${1%%=*}
    case "$src" in lib?*) pool_dir=$(printf %s "$src" | cut -c1-4) ;; *) pool_dir=$(printf %s "$src" | cut -c1) ;; esac
    echo "fetch-sources: downloading $2 from Debian's pool"
    curl -fsSL --retry 2 -o "$dest/$2.part" "https://deb.debian.org/debian/pool/main/$pool_dir/$src/$2" &&
        mv -f "$dest/$2.part" "$dest/$2"
}

from_upstream() { # url file
    echo "fetch-sources: downloading $1"
    curl -fsSL --retry 2 -o "$dest/$2.part" "$1" && mv -f "$dest/$2.part" "$dest/$2"
}

failed=0
while read -r name version file sha deb url flag; do
    case "$name" in '' | \#*) continue ;; esac
    if [ "$flag" = optional ]; then
        case "$wanted" in *" $name "*) ;; *) continue ;; esac
    fi
    verify "$dest/$file" "$sha" && continue
    if command -v apt-get >/dev/null 2>&1; then
        from_debian "$deb" || true
    fi
    if ! verify "$dest/$file" "$sha"; then
        rm -f "$dest/$file"
        from_pool "$deb" "$file" || true
    fi
    if ! verify "$dest/$file" "$sha"; then
        rm -f "$dest/$file"
        from_upstream "$url" "$file" || true
    fi
    if verify "$dest/$file" "$sha"; then
        echo "fetch-sources: $file ok ($name $version)"
    else
        echo "fetch-sources: ERROR: could not obtain $file with sha256 $sha" >&2
        rm -f "$dest/$file"
        failed=1
    fi
done <"$lock"
exit $failed
