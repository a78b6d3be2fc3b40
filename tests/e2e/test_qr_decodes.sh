#!/usr/bin/env bash
# End-to-end: the banner's QR code scans. For each URL, qr_pbm_main draws the
# symbol (qr_pbm) and the terminal text as a dark terminal shows it
# (qr_terminal); zbarimg (Debian: zbar-tools) must read the URL back from both.
# usage: test_qr_decodes.sh QR_PBM_MAIN
set -u
MAIN=$1
TMP=$(mktemp -d /tmp/roost-qr-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0

if ! command -v zbarimg >/dev/null 2>&1; then
    echo "FAIL - zbarimg not found (apt-get install zbar-tools)"
    exit 1
fi

long="http://raspberrypi.local:8080/?room=$(printf 'k%.0s' $(seq 1 400))"
for url in "http://192.168.1.23:8080/" \
           "http://[fd00:1234:5678:9abc:def0:1234:5678:9abc]:8080/" \
           "http://10.0.0.7:65535/" \
           "$long"; do
    if ! "$MAIN" "$url" "$TMP/symbol.pbm" "$TMP/terminal.pbm"; then
        echo "FAIL - qr_pbm_main ${url:0:60}"
        fails=$((fails + 1))
        continue
    fi
    for img in symbol terminal; do
        # zbarimg chatters on stderr without a D-Bus: shown only on failure.
        got=$(zbarimg --raw -q "$TMP/$img.pbm" 2>"$TMP/zbar.err")
        if [ "$got" = "$url" ]; then
            echo "ok - $img of ${url:0:60} decodes"
        else
            echo "FAIL - $img of ${url:0:60} decodes to '${got:0:80}'"
            cat "$TMP/zbar.err"
            fails=$((fails + 1))
        fi
    done
done
[ "$fails" -eq 0 ]
