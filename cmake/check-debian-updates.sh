#!/bin/sh
# check-debian-updates.sh [--write]: for every Debian source package pinned
# in cmake/sources.lock, the newest version that trixie or trixie-security
# offers (apt-cache madison, after refreshing apt's lists), and, when it is
# newer than the pin, the lock lines that would pin it, with the SHA-256 of
# each file as Debian's index gives it. Also `fetch-sources.sh --check-updates`.
#
#   (no flag)  prints the old and new lines; exits 1 when a pin is behind
#   --write    rewrites those lines in cmake/sources.lock (review the diff,
#              read the new revision's changelog, then run `make test`)
#
# Debian only: it asks apt (adding deb-src entries for both suites as
# fetch-sources.sh does, which needs root or sudo).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/debian-archive.sh"
lock="$here/sources.lock"
write=
case "${1:-}" in
'') ;;
--write) write=1 ;;
*) echo "usage: check-debian-updates.sh [--write]" >&2; exit 2 ;;
esac

if ! ensure_debian_sources update; then
    echo "check-debian-updates: needs apt-get (a Debian system)" >&2
    exit 2
fi

# newest_in_suites PKG: "VERSION SUITE" of the newest source version in one
# of DEBIAN_SUITES, or nothing.
newest_in_suites() {
    best='' best_suite=''
    # madison: " pkg | version | http://host/debian trixie/main Sources"
    apt-cache madison "$1" 2>/dev/null | awk -F'|' '$3 ~ /Sources/ {
        gsub(/ /, "", $2); split($3, w, " "); sub(/\/.*/, "", w[2]); print $2, w[2] }' >"$tmp/madison"
    while read -r v suite; do
        case " $DEBIAN_SUITES " in *" $suite "*) ;; *) continue ;; esac
        # the same version in both archives: the security archive's copy
        if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best" ||
           { [ "$v" = "$best" ] && case "$suite" in *-security) true ;; *) false ;; esac; }; then
            best=$v best_suite=$suite
        fi
    done <"$tmp/madison"
    [ -n "$best" ] && echo "$best $best_suite"
    return 0
}

# stanza PKG VERSION SUITE: that version's apt-cache showsrc record, the
# one from SUITE's archive (the security archive's pool is pool/updates/).
stanza() {
    case "$3" in *-security) sec=1 ;; *) sec=0 ;; esac
    apt-cache showsrc "$1" 2>/dev/null | awk -v v="$2" -v sec="$sec" '
        function done_stanza() { if (ver == v && upd == sec) { printf "%s", buf; found = 1; exit } }
        /^Package: / { buf = ""; ver = ""; upd = 0 }
        /^Version: / { ver = $2 }
        /^Directory: pool\/updates\// { upd = 1 }
        { buf = buf $0 "\n" }
        /^$/ { done_stanza() }
        END { if (!found) done_stanza() }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$lock" "$tmp/lock.new"
behind=0
for pin in $(awk '!/^#/ && NF >= 6 { print $5 }' "$lock" | sort -u); do
    pkg=${pin%%=*}
    cur=${pin#*=}
    # shellcheck disable=SC2046 # "VERSION SUITE", split on purpose
    set -- $(newest_in_suites "$pkg")
    if [ $# -lt 2 ]; then
        echo "$pkg: not found in $DEBIAN_SUITES (pinned $cur)"
        continue
    fi
    new=$1 suite=$2
    if ! dpkg --compare-versions "$new" gt "$cur"; then
        echo "$pkg: $cur is the newest in $DEBIAN_SUITES"
        continue
    fi
    behind=1
    echo "$pkg: pinned $cur, $suite has $new"
    stanza "$pkg" "$new" "$suite" >"$tmp/stanza"
    dir=$(sed -n 's/^Directory: //p' "$tmp/stanza")
    case "$dir" in pool/updates/*) base=$DEBIAN_SECURITY_URI ;; *) base=$DEBIAN_MAIN_URI ;; esac
    # Checksums-Sha256 lines: " sha size file"
    sed -n '/^Checksums-Sha256:/,/^[^ ]/ s/^ \([0-9a-f]\{64\}\) [0-9]* \(.*\)$/\1 \2/p' "$tmp/stanza" >"$tmp/sums"
    upstream=$(printf %s "$new" | sed 's/^[0-9]*://; s/-[^-]*$//')
    grep -v '^#' "$lock" | awk -v p="$pin" '$5 == p' | while read -r name version file _sha _deb url flag; do
        case "$file" in
        *.debian.tar.*) kind='\.debian\.tar\.' ;;
        *.orig.tar.*) kind='\.orig\.tar\.' ;;
        *) echo "  $file: not a Debian tarball, left as is"; continue ;;
        esac
        # shellcheck disable=SC2046 # "SHA256 FILE", split on purpose
        set -- $(grep "$kind" "$tmp/sums" | head -n1)
        if [ $# -lt 2 ]; then
            echo "  $file: $new has no such file (its Checksums-Sha256 lists: $(cut -d' ' -f2 "$tmp/sums" | tr '\n' ' '))"
            continue
        fi
        nsha=$1 nfile=$2
        case "$nfile" in
        *.debian.tar.*) nurl="$base/$dir/$nfile" ;;
        *) if [ "$nfile" = "$file" ]; then nurl=$url; else nurl=$(printf %s "$url" | sed "s/$version/$upstream/g"); fi ;;
        esac
        old=$(grep -v '^#' "$lock" | awk -v p="$pin" -v f="$file" '$5 == p && $3 == f')
        line=$(printf '%-15s%-7s%-51s%s  %-32s%s%s' "$name" "$upstream" "$nfile" "$nsha" "$pkg=$new" "$nurl" "${flag:+ $flag}")
        echo "  - $old"
        echo "  + $line"
        OLD=$old NEW=$line awk '$0 == ENVIRON["OLD"] { print ENVIRON["NEW"]; next } { print }' \
            "$tmp/lock.new" >"$tmp/lock.tmp"
        mv "$tmp/lock.tmp" "$tmp/lock.new"
    done
    if ! grep -v '^#' "$lock" | awk -v p="$pin" '$5 == p' | grep -q '\.debian\.tar\.'; then
        echo "  note: no .debian tarball is pinned for $pkg, so Debian's patches for it are not applied: read $new's changelog"
    fi
done

if [ "$behind" -eq 0 ]; then
    echo "check-debian-updates: every pin is the newest in $DEBIAN_SUITES"
    exit 0
fi
if [ -n "$write" ]; then
    cp "$tmp/lock.new" "$lock"
    echo "check-debian-updates: rewrote $lock (review it with git diff; then make test)"
    exit 0
fi
echo "check-debian-updates: some pins are behind (--write rewrites those lines in $lock)"
exit 1
