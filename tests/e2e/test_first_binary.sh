#!/usr/bin/env bash
# End-to-end: the real roost binary on free loopback ports, fetched with curl
# over HTTP and HTTPS (the chain verified against the CA the broker made),
# plus the command-line contract: --version, --help, bad flags, a busy port,
# clean exit on SIGTERM, certificates kept across restarts.
# usage: test_first_binary.sh ROOST_BINARY WEB_DIR
set -u
ROOST=$1
WEB=$2
TMP=$(mktemp -d /tmp/roost-e2e-XXXXXX)
PID=
fails=0
passes=0

cleanup() {
    [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

ok() { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "FAIL - $1"; }
check() { # description command...
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# start_roost LOG ARGS...: starts roost, waits for its banner, sets PID,
# HTTP_PORT and HTTPS_PORT. Returns 1 if it did not come up.
start_roost() {
    local log=$1
    shift
    "$ROOST" "$@" >"$log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        if grep -q "listening on http port" "$log"; then
            HTTP_PORT=$(sed -n 's/.*listening on http port \([0-9-]*\) and https port \([0-9-]*\).*/\1/p' "$log")
            HTTPS_PORT=$(sed -n 's/.*listening on http port \([0-9-]*\) and https port \([0-9-]*\).*/\2/p' "$log")
            return 0
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "--- roost output:"
    cat "$log"
    return 1
}

# stop_roost: SIGTERM, expect a clean exit (code 0) within 10 s.
stop_roost() {
    kill -TERM "$PID"
    for _ in $(seq 1 100); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    wait "$PID"
    local rc=$?
    PID=
    return $rc
}

# --- command line -----------------------------------------------------------
out=$("$ROOST" --version)
check "--version names roost, libwebsockets 4.3.5 and mbedTLS 3.6.6" \
    bash -c '[[ "$0" == *"roost 0."* && "$0" == *"libwebsockets 4.3.5"* && "$0" == *"mbedTLS 3.6.6"* ]]' "$out"
"$ROOST" --help >"$TMP/help" 2>&1
check "--help exits 0 and lists the flags" bash -c "[ $? -eq 0 ] && grep -q -- '--https-port' '$TMP/help'"
"$ROOST" --no-such-flag >"$TMP/o" 2>"$TMP/e"
rc=$?
check "unknown flag exits 2" [ "$rc" -eq 2 ]
check "unknown flag is named on stderr" grep -q "unknown flag '--no-such-flag'" "$TMP/e"
"$ROOST" --http-port 70000 >"$TMP/o" 2>"$TMP/e"
rc=$?
check "out-of-range port exits 2 with a message" bash -c "[ $rc -eq 2 ] && grep -q 'out of range' '$TMP/e'"

# --- serving the page -------------------------------------------------------
if ! start_roost "$TMP/run1.log" --bind 127.0.0.1 --http-port 0 --https-port 0 --data "$TMP/data"; then
    bad "roost starts and prints its ports"
    echo "0 passed, $((fails)) failed"
    exit 1
fi
ok "roost starts on free ports (http $HTTP_PORT, https $HTTPS_PORT)"
check "first start issues a certificate into the data directory" grep -q "server certificate issued now" "$TMP/run1.log"

# JavaScript is served without its whole-line comments, blank lines and
# indentation (cmake/pack-web.cmake); everything else byte for byte.
for f in "$WEB"/*; do
    name=$(basename "$f")
    [ "$name" = CMakeLists.txt ] && continue
    curl -sS -f -o "$TMP/got" "http://127.0.0.1:$HTTP_PORT/$name"
    case "$name" in
    *.js)
        awk '{ sub(/^[ \t]+/, "") } $0 != "" && substr($0, 1, 2) != "//"' "$f" >"$TMP/want"
        check "HTTP /$name is web/$name without its comment lines and indentation" cmp -s "$TMP/got" "$TMP/want" ;;
    *) check "HTTP /$name is byte-identical to web/$name" cmp -s "$TMP/got" "$f" ;;
    esac
done
curl -sS -f -o "$TMP/got" "http://127.0.0.1:$HTTP_PORT/"
check "HTTP / serves web/index.html" cmp -s "$TMP/got" "$WEB/index.html"
ctype=$(curl -sS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$HTTP_PORT/")
check "the page is text/html; charset=utf-8 (got '$ctype')" [ "$ctype" = "text/html; charset=utf-8" ]
curl -sS -D "$TMP/h" -o /dev/null "http://127.0.0.1:$HTTP_PORT/"
check "the page carries a Content-Security-Policy" grep -qi '^content-security-policy:' "$TMP/h"
check "the page carries X-Content-Type-Options: nosniff" grep -qi '^x-content-type-options: *nosniff' "$TMP/h"

code=$(curl -sS -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/no/such/page")
check "unknown path is 404 (got $code)" [ "$code" = 404 ]
check "404 has a JSON error body" grep -q '"error":{"code":"not_found"' "$TMP/body"

curl -sS -f -o "$TMP/ca.crt" "http://127.0.0.1:$HTTP_PORT/ca.crt"
check "/ca.crt is the CA kept in the data directory" cmp -s "$TMP/ca.crt" "$TMP/data/ca.crt"

for host in localhost 127.0.0.1; do
    curl -sS -f --cacert "$TMP/ca.crt" -o "$TMP/got" "https://$host:$HTTPS_PORT/" 2>"$TMP/curl.err"
    check "HTTPS https://$host/ verifies against the CA and serves web/index.html" cmp -s "$TMP/got" "$WEB/index.html"
done
curl -sS -v --cacert "$TMP/ca.crt" -o /dev/null "https://localhost:$HTTPS_PORT/style.css" 2>"$TMP/v"
check "TLS is 1.2 with an AEAD suite" grep -qE 'SSL connection using TLSv1\.2 / .*(GCM|CHACHA20)' "$TMP/v"
curl -sS --cacert "$TMP/ca.crt" --tls-max 1.1 -o /dev/null "https://localhost:$HTTPS_PORT/" 2>/dev/null
check "TLS 1.1 is refused" [ $? -ne 0 ]
curl -sS -o /dev/null "https://localhost:$HTTPS_PORT/" 2>/dev/null
check "an unverified client (no CA) is refused by curl" [ $? -ne 0 ]

# --- a busy port --------------------------------------------------------------
timeout 20 "$ROOST" --bind 127.0.0.1 --http-port "$HTTP_PORT" --https-port -1 >"$TMP/busy.out" 2>"$TMP/busy.err"
rc=$?
check "a busy port exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "a busy port says 'Address already in use' with the port" \
    grep -q "cannot listen on 127.0.0.1:$HTTP_PORT (http): Address already in use" "$TMP/busy.err"

# --- clean shutdown, restart keeps certificates ---------------------------------
stop_roost
check "SIGTERM exits 0" [ $? -eq 0 ]
cp "$TMP/data/server.crt" "$TMP/server.crt.1"
if start_roost "$TMP/run2.log" --bind 127.0.0.1 --http-port 0 --https-port 0 --data "$TMP/data"; then
    check "a restart keeps the server certificate" grep -q "server certificate kept" "$TMP/run2.log"
    check "the kept certificate is unchanged" cmp -s "$TMP/server.crt.1" "$TMP/data/server.crt"
    curl -sS -f --cacert "$TMP/ca.crt" -o "$TMP/got" "https://localhost:$HTTPS_PORT/"
    check "HTTPS still verifies after a restart" cmp -s "$TMP/got" "$WEB/index.html"
    kill -INT "$PID"
    wait "$PID"
    check "SIGINT exits 0" [ $? -eq 0 ]
    PID=
else
    bad "roost restarts with the same data directory"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
