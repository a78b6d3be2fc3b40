# debian-archive.sh: sourced by fetch-sources.sh and check-debian-updates.sh.
# Where Roost's pinned Debian sources live, and how apt is told about them.
#
# Debian publishes a stable release's source packages in two archives:
#  - the main archive (suite trixie; point releases land there), and
#  - the security archive (suite trixie-security, pool `updates/main`),
#    where a security upload appears first and, for some packages, only.
# A pin may name a version from either, so both are asked: apt through
# deb-src entries for both suites, the pools directly when apt cannot help.

# apt's entries use http (apt checks the archive's signatures itself); the
# pool downloads use https (the lock's sha256 checks each file).
APT_MAIN_URI=http://deb.debian.org/debian
APT_SECURITY_URI=http://security.debian.org/debian-security
DEBIAN_MAIN_URI=https://deb.debian.org/debian
DEBIAN_SECURITY_URI=https://security.debian.org/debian-security
DEBIAN_SUITES="trixie trixie-security"
ROOST_APT_SOURCES=/etc/apt/sources.list.d/roost-trixie-src.sources

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The deb-src suites apt knows, from its own view of its sources (both the
# one-line and the deb822 formats), leaving out Roost's own file.
apt_src_suites_elsewhere() {
    apt-get indextargets 'Created-By: Sources' --format '$(RELEASE) $(SOURCESENTRY)' 2>/dev/null |
        grep -v " $ROOST_APT_SOURCES:" | cut -d' ' -f1 | sort -u
}

# Makes sure apt has deb-src entries for trixie and trixie-security: the
# suites no other sources file provides go into Roost's own file (rewritten
# only when its content changes), then apt's lists are refreshed. Returns 1
# without apt-get. $1 = "update" refreshes the lists even when nothing changed.
apt_ready=
ensure_debian_sources() {
    command -v apt-get >/dev/null 2>&1 || return 1
    [ -n "$apt_ready" ] && [ "${1:-}" != update ] && return 0
    apt_ready=1
    elsewhere=$(apt_src_suites_elsewhere)
    want=
    for suite in $DEBIAN_SUITES; do
        printf '%s\n' "$elsewhere" | grep -qx "$suite" || want="$want $suite"
    done
    content=
    for suite in $want; do
        case "$suite" in *-security) uri=$APT_SECURITY_URI ;; *) uri=$APT_MAIN_URI ;; esac
        content="${content:+$content
}Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"
    done
    changed=
    if [ -z "$content" ]; then
        [ -f "$ROOST_APT_SOURCES" ] && { as_root rm -f "$ROOST_APT_SOURCES"; changed=1; }
    elif [ ! -f "$ROOST_APT_SOURCES" ] || [ "$(cat "$ROOST_APT_SOURCES")" != "$(printf %s "$content")" ]; then
        echo "debian-archive: deb-src entries for:$want ($ROOST_APT_SOURCES)"
        printf %s "$content" | as_root tee "$ROOST_APT_SOURCES" >/dev/null
        changed=1
    fi
    if [ -n "$changed" ] || [ "${1:-}" = update ]; then
        as_root apt-get update -qq || true
    fi
    return 0
}

# pool_dir SOURCE: Debian's pool directory letter(s) for a source package.
pool_dir() {
    case "$1" in lib?*) printf %s "$1" | cut -c1-4 ;; *) printf %s "$1" | cut -c1 ;; esac
}

# pool_urls SOURCE FILE: where FILE of SOURCE may be, security archive first
# (a security upload is there before the main archive has it).
pool_urls() {
    d=$(pool_dir "$1")
    echo "$DEBIAN_SECURITY_URI/pool/updates/main/$d/$1/$2"
    echo "$DEBIAN_MAIN_URI/pool/main/$d/$1/$2"
}
