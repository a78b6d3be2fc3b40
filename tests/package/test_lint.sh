#!/bin/sh
# test_lint.sh DEB...: what can be checked of a package without installing
# it, for each .deb given:
#   - lintian: no error and no warning (the ones overridden carry their
#     reason in packaging/lintian-overrides);
#   - its maintainer scripts parse (sh -n) and pass shellcheck;
#   - its systemd unit loads without a warning and `systemd-analyze security
#     --offline=yes` rates its exposure at most 2.0;
#   - its contents: the files docs/packaging.md lists, the conffiles, the
#     config's data directory.
# One ok/FAIL line per check; exits 1 on any failure.
set -u
fails=0
ok() { echo "ok - $1"; }
bad() {
    echo "FAIL - $1"
    fails=$((fails + 1))
}
tmp=$(mktemp -d /tmp/roost-lint-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

n=0
for deb in "$@"; do
    n=$((n + 1))
    name=$(basename "$deb")
    case "$deb" in */armv6/*) name="$name (armv6)" ;; esac
    # lintian 2.116 warns when run as root (CI is root); that line is not a finding.
    if lintian --fail-on error,warning "$deb" >"$tmp/lintian" 2>&1; then
        ok "$name: lintian finds no error or warning"
    else
        bad "$name: lintian:"
        grep -v 'running with root privileges' "$tmp/lintian" | sed 's/^/    /'
    fi

    # Two packages may share a name (armhf and armv6 are both _armhf.deb).
    root="$tmp/$n"
    if ! dpkg-deb -R "$deb" "$root"; then
        bad "$name: dpkg-deb cannot unpack it"
        continue
    fi
    for script in postinst prerm postrm; do
        f="$root/DEBIAN/$script"
        if [ ! -x "$f" ]; then
            bad "$name: no executable $script"
            continue
        fi
        if sh -n "$f"; then ok "$name: $script parses (sh -n)"; else bad "$name: $script does not parse"; fi
        if shellcheck -s sh "$f"; then ok "$name: $script passes shellcheck"; else bad "$name: shellcheck $script"; fi
    done

    if systemd-analyze security --offline=yes --root="$root" roost.service >"$tmp/security" 2>"$tmp/security.err"; then :; fi
    score=$(sed -n 's/.*Overall exposure level for roost.service: \([0-9.]*\).*/\1/p' "$tmp/security")
    if [ -z "$score" ]; then
        bad "$name: no exposure level from systemd-analyze security"
        cat "$tmp/security" "$tmp/security.err"
    elif awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        ok "$name: systemd-analyze security: exposure $score (at most 2.0)"
    else
        bad "$name: systemd-analyze security: exposure $score, above 2.0"
        grep '✗' "$tmp/security"
    fi
    if [ -s "$tmp/security.err" ]; then
        bad "$name: the unit loads with warnings:"
        cat "$tmp/security.err"
    else
        ok "$name: the unit loads without a warning"
    fi

    for path in usr/bin/roost lib/systemd/system/roost.service etc/roost/roost.conf \
        etc/avahi/services/roost.service usr/share/man/man8/roost.8.gz usr/share/doc/roost/copyright \
        usr/share/doc/roost/changelog.gz; do
        if [ -f "$root/$path" ]; then ok "$name: has /$path"; else bad "$name: no /$path"; fi
    done
    if [ "$(cat "$root/DEBIAN/conffiles")" = "$(printf '/etc/roost/roost.conf\n/etc/avahi/services/roost.service')" ]; then
        ok "$name: conffiles are the config and the avahi service"
    else
        bad "$name: conffiles: $(cat "$root/DEBIAN/conffiles")"
    fi
    if grep -qx 'data = /var/lib/roost' "$root/etc/roost/roost.conf"; then
        ok "$name: roost.conf keeps the data in /var/lib/roost"
    else
        bad "$name: roost.conf does not set data = /var/lib/roost"
    fi
    for svc in _http._tcp _https._tcp; do
        if grep -q "<type>$svc</type>" "$root/etc/avahi/services/roost.service"; then
            ok "$name: avahi announces $svc"
        else
            bad "$name: avahi service lacks $svc"
        fi
    done
done
[ "$fails" -eq 0 ]
