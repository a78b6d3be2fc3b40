#!/bin/sh
# fetch-sources.sh DEST [NAME...]: put every file named in cmake/sources.lock
# into DEST, each checked against its pinned SHA-256; a line marked
# `optional` only when its library is one of the NAMEs (libuv for
# ROOST_WITH_LIBUV=ON). A file already in DEST with the right checksum is
# kept, so this costs nothing after the first run.
# fetch-sources.sh --check-updates [--write]: see check-debian-updates.sh
# (newer Debian revisions of the pinned packages, in both archives).
#
# On Debian the files come from the archive with `apt-get source
# --download-only`, from trixie's and trixie-security's source suites (added
# when missing, see debian-archive.sh); elsewhere, or when the archive no
# longer lists the pinned version, from Debian's pools, security archive
# first (they keep the file), and then from the upstream URL.
# Nothing fetched here is ever committed: DEST lives under build/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = --check-updates ]; then
    shift
    exec "$here/check-debian-updates.sh" "$@"
fi
. "$here/debian-archive.sh"
lock="$here/sources.lock"
dest=${1:?usage: fetch-sources.sh DEST [NAME...] | --check-updates [--write]}
shift
wanted=" $* "
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

verify() { # file sha256
    [ -f "$1" ] && echo "$2  $1" | sha256sum -c --status
}

fetched_pkgs=
from_debian() { # pkg=version
    case " $fetched_pkgs " in *" $1 "*) return 0 ;; esac
    fetched_pkgs="$fetched_pkgs $1"
    ensure_debian_sources || return 1
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

# Debian's pools keep a file after its version has left the index (a newer
# upload replaced it, so `apt-get source pkg=version` finds nothing): ask
# the security archive's pool, then the main archive's, for the file itself.
from_pool() { # pkg=version file
    for u in $(pool_urls "${1%%=*}" "$2"); do
        echo "fetch-sources: downloading $u"
        if curl -fsSL --retry 2 -o "$dest/$2.part" "$u"; then
            mv -f "$dest/$2.part" "$dest/$2"
            return 0
        fi
        rm -f "$dest/$2.part"
    done
    return 1
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
