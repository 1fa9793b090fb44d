#!/usr/bin/env bash
# tests/cli_serve.sh - jcstar serve: the HTTP verify API, /healthz, the
# static verifier page (--web), the caps (body size, payload count, idle
# timeout), 200 concurrent requests, SIGHUP reloads (a new CRL; a corrupt
# bundle keeps the old one), a taken port, and a clean stop; requirements
# (?as, ?min_level, ?importance; --recognition, --policy) decided as
# `jcstar verify --json` decides them.
# Loopback only; every wait is bounded. Needs curl.
# Run by `make test-cli` as JCSTAR=/abs/path/jcstar tests/cli_serve.sh.

. "$(dirname "$0")/lib-cli.sh"

if ! command -v curl >/dev/null 2>&1; then
	echo "cli_serve.sh: curl is needed (apt-get install curl)" >&2
	exit 2
fi

URL=HTTPS://VERIFY.JCSTAR.EXAMPLE/L/
SRV_PID=
SRV_LOG=$W/srv.log
PORT=
BASE=

# stop_server: SIGTERM to the server we started, and wait for it.
# SRV_RC is its exit status.
stop_server() {
	SRV_RC=
	[ -n "$SRV_PID" ] || return 0
	kill -TERM "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_RC=$?
	SRV_PID=
}
trap 'stop_server; rm -rf "$W"' EXIT

CURL=(curl -sS --noproxy '*' --max-time 30)

# start_server [options]: jcstar serve on a random free loopback port
# (retried if taken), waits until it listens and answers /healthz.
start_server() {
	local try i
	for try in 1 2 3 4 5 6; do
		PORT=$((18000 + RANDOM % 1000))
		BASE=http://127.0.0.1:$PORT
		"$J" serve --trust trust.pem --listen "127.0.0.1:$PORT" "$@" \
		    2>"$SRV_LOG" &
		SRV_PID=$!
		for i in $(seq 1 150); do
			if ! kill -0 "$SRV_PID" 2>/dev/null; then
				break # port taken: try another
			fi
			if grep -q "listening on" "$SRV_LOG" &&
			    "${CURL[@]}" -o /dev/null "$BASE/healthz" 2>/dev/null
			then
				return 0
			fi
			sleep 0.1
		done
		stop_server
	done
	return 1
}

# api ARGS...: curl, the body then "HTTP <status>" on stdout.
api() { "${CURL[@]}" -w '\nHTTP %{http_code}\n' "$@"; }
# verdict_of TEXT: the verdict the server gives for one payload.
verdict_of() {
	printf '%s\n' "$1" | "${CURL[@]}" -H 'Content-Type: text/plain' \
	    --data-binary @- "$BASE/api/v1/verify" |
	    grep -o '"verdict":"[^"]*"' | head -n 1 | cut -d'"' -f4
}
# wait_eq WANT CMD...: up to 5 s for CMD's output to be WANT.
wait_eq() {
	local want=$1 i
	shift
	for i in $(seq 1 50); do
		[ "$("$@")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_verdict TEXT WANT: up to 5 s for the server's verdict to be WANT.
wait_verdict() { wait_eq "$2" verdict_of "$1"; }
# wait_log TEXT: up to 5 s for TEXT in the server's log.
wait_log() {
	local i
	for i in $(seq 1 50); do
		grep -qF -e "$1" "$SRV_LOG" && return 0
		sleep 0.1
	done
	return 1
}

# ---- a CA, a label, and payloads ----------------------------------------

"$J" ca init --dir ca --name "Example Certification Body" \
    --verify-url "$URL" >/dev/null 2>&1
"$JS" trust export --ca ca -o trust.pem -q
issue_ref ca ref.der >/dev/null 2>&1
"$JS" payload --ca ca ref.der >valid.txt
cp ref.der forged.der
flip_at forged.der "Example"
"$JS" payload --ca ca forged.der >forged.txt
VALID=$(cat valid.txt)
FORGED=$(cat forged.txt)
DIGITS=${VALID#"$URL"}
check "setup: a url-form payload and a forged twin" \
    test -n "$DIGITS" -a "$VALID" != "$FORGED"

mkdir web
printf '<!doctype html><title>jcstar verifier page</title>\n' >web/index.html
printf 'console.log("app");\n' >web/app.js
printf 'body{}\n' >web/style.css
printf 'self.addEventListener("fetch",()=>{});\n' >web/sw.js
printf '{"trust":"trust.pem"}\n' >web/config.json
cp trust.pem web/trust.pem
mkdir web/sub
printf 'x\n' >web/sub/a.txt
ln -s /etc/passwd web/passwd

# ---- usage ---------------------------------------------------------------

expect_rc 0 "serve --help" "$J" serve --help
expect_out_contains "usage: jcstar serve --trust BUNDLE"
expect_stderr_empty
expect_rc 2 "serve without --trust" "$J" serve
expect_err_contains "--trust BUNDLE is required"
expect_rc 2 "serve with an unknown option" "$J" serve --trust trust.pem --bogus
expect_err_contains "usage: jcstar serve"
expect_rc 2 "serve --listen without a port" \
    "$J" serve --trust trust.pem --listen 127.0.0.1
expect_err_contains "--listen wants ADDR:PORT"
expect_rc 2 "serve --listen with a host name" \
    "$J" serve --trust trust.pem --listen localhost:8080
expect_err_contains "--listen wants ADDR:PORT"
printf 'not a bundle\n' >bad.pem
expect_rc 2 "serve refuses a bad bundle" \
    "$J" serve --trust bad.pem --listen 127.0.0.1:0
expect_err_contains "bad.pem"
expect_rc 2 "serve refuses a missing --web directory" \
    "$J" serve --trust trust.pem --web no-such-dir --listen 127.0.0.1:0
expect_err_contains "no-such-dir"
printf 'accept psti:1 nosuch:1 - x\n' >bad-rec.conf
expect_rc 2 "serve refuses a bad --recognition file, naming its line" \
    "$J" serve --trust trust.pem --recognition bad-rec.conf --listen 127.0.0.1:0
expect_err_contains "bad-rec.conf:1: unknown scheme 'nosuch'"
expect_rc 2 "serve refuses a missing --policy file" \
    "$J" serve --trust trust.pem --policy no-such.conf --listen 127.0.0.1:0
expect_err_contains "no-such.conf"
# libmicrohttpd is loaded only by serve, when it starts
ZLIB=$(ldconfig -p | awk '$1 == "libz.so.1" { print $NF; exit }')
expect_rc 2 "serve without libmicrohttpd: a clear error, no server" \
    with_lib libmicrohttpd.so.12 /dev/null "$J" serve --trust trust.pem \
    --listen 127.0.0.1:0
expect_err_contains "cannot load the HTTP server library"
expect_err_contains "install the package libmicrohttpd12"
expect_rc 2 "serve with a libmicrohttpd that lacks its functions" \
    with_lib libmicrohttpd.so.12 "$ZLIB" "$J" serve --trust trust.pem \
    --listen 127.0.0.1:0
expect_err_contains "libmicrohttpd.so.12 lacks a function jcstar calls"
expect_rc 0 "without libmicrohttpd, serve --help still works" \
    with_lib libmicrohttpd.so.12 /dev/null "$J" serve --help
expect_out_contains "usage: jcstar serve --trust BUNDLE"

# ---- start ---------------------------------------------------------------

check "the server starts on a loopback port and answers /healthz" \
    start_server --web web --timeout 2
BASE=http://127.0.0.1:$PORT

expect_rc 0 "GET /healthz" api "$BASE/healthz"
expect_out_contains "HTTP 200"
expect_out_contains '"status":"ok"'
expect_out_contains '"signers":1'
expect_out_contains '"trust_loaded_at":"'

expect_rc 2 "a second server on the same port: exit 2" \
    "$J" serve --trust trust.pem --listen "127.0.0.1:$PORT"
expect_err_contains "Address already in use"

# ---- the verify API ------------------------------------------------------

expect_rc 0 "text body: a valid payload" \
    api -H 'Content-Type: text/plain' --data-binary @valid.txt \
    "$BASE/api/v1/verify"
expect_out_contains "HTTP 200"
expect_out_contains '"index":0,"line":1,"valid":true,"verdict":"valid","reason":null,"scheme":"jcstar","level":1,"reg_id":"JCS-2025-000123"'
expect_out_contains '"summary":{"total":1,"valid":1,"invalid":0}'

{
	printf '%s\r\n\r\n' "$VALID"
	printf '%s\n' "$FORGED" "hello" "${VALID%?}" "${VALID%?????}"
} >mixed.txt
expect_rc 0 "text body: valid, forged, garbage, damaged, truncated" \
    api -H 'Content-Type: text/plain' --data-binary @mixed.txt \
    "$BASE/api/v1/verify"
expect_out_contains "HTTP 200"
expect_out_contains '"index":0,"line":1,"valid":true,"verdict":"valid"'
expect_out_contains '"index":1,"line":3,"valid":false,"verdict":"bad-signature"'
expect_out_contains '"index":2,"line":4,"valid":false,"verdict":"not-a-payload"'
expect_out_contains '"index":3,"line":5,"valid":false,"verdict":"damaged-payload"'
expect_out_contains '"index":4,"line":6,"valid":false,"verdict":"truncated"'
expect_out_contains '"summary":{"total":5,"valid":1,"invalid":4}'

# the same, as JSON; "\/" and "\u0048" (H) escapes are decoded
ESC=$(printf '%s' "$VALID" | sed 's#^H#\\u0048#; s#/#\\/#g')
printf '[ "%s",\n "%s" , "JCS1:", "\\u00e9\\ud83d\\ude00" ]\n' \
    "$ESC" "$FORGED" >mixed.json
expect_rc 0 "JSON body: escapes decoded, verdict per payload" \
    api -H 'Content-Type: application/json' --data-binary @mixed.json \
    "$BASE/api/v1/verify"
expect_out_contains "HTTP 200"
expect_out_contains '"index":0,"valid":true,"verdict":"valid"'
expect_out_contains '"index":1,"valid":false,"verdict":"bad-signature"'
expect_out_contains '"index":2,"valid":false,"verdict":"damaged-payload"'
expect_out_contains '"index":3,"valid":false,"verdict":"not-a-payload"'
expect_out_contains '"summary":{"total":4,"valid":1,"invalid":3}'

expect_rc 0 "a body starting with [ is JSON whatever its Content-Type" \
    api --data-binary "[\"$VALID\"]" "$BASE/api/v1/verify"
expect_out_contains '"index":0,"valid":true,"verdict":"valid"'
expect_output_lacks '"line":'

expect_rc 0 "an empty JSON array" \
    api -H 'Content-Type: application/json' --data-binary '[]' \
    "$BASE/api/v1/verify"
expect_out_contains '"summary":{"total":0,"valid":0,"invalid":0}'

# malformed JSON: 400 and an error naming the byte
bad_json() {
	expect_rc 0 "malformed JSON: $1" \
	    api -H 'Content-Type: application/json' --data-binary "$2" \
	    "$BASE/api/v1/verify"
	expect_out_contains "HTTP 400"
	expect_out_contains "{\"error\":\"malformed JSON: $3\""
}
bad_json "a trailing comma" '["a",]' "expected a string at byte 5"
bad_json "not an array" '{"a":1}' "expected '[' at byte 0"
bad_json "a number" '["a", 1]' "expected a string at byte 6"
bad_json "unterminated" '["abc' "unterminated string starting at byte 1"
bad_json "no closing bracket" '["a"' "expected ',' or ']' at byte 4"
bad_json "data after the array" '["a"] x' "unexpected data after the array at byte 6"
bad_json "a bad escape" '["a\q"]' "bad escape '\\\\q' at byte 3"
bad_json "a short \\u escape" '["\u12"]' "bad \\\\u escape at byte 2"
bad_json "a lone high surrogate" '["\ud83d"]' "unpaired high surrogate \\\\ud83d at byte 2"
bad_json "a lone low surrogate" '["\ude00x"]' "unpaired low surrogate \\\\ude00 at byte 2"
bad_json "a raw control character" "$(printf '["a\tb"]')" "control character 0x09 in a string at byte 3"
bad_json "invalid UTF-8" "$(printf '["\xc3\x28"]')" "invalid UTF-8 at byte 2"
bad_json "white space only" ' ' "expected '[' at byte 1"

expect_rc 0 "an empty body: 400" \
    api -H 'Content-Type: text/plain' --data-binary '' "$BASE/api/v1/verify"
expect_out_contains "HTTP 400"
expect_out_contains '{"error":"empty body'

# ---- requirements: ?as, ?min_level, ?importance ---------------------------

REC=$TOP/certs/recognition.conf
POL=$TOP/certs/policy.conf
# decision_of FILE: the "decision" object(s) in FILE, one per line
decision_of() { grep -o '"decision":{[^}]*}' "$1"; }

"$J" verify --trust trust.pem --as psti --json --payload "$VALID" >verify-psti.json
expect_rc 0 "?as=psti: a JC-STAR ★1 label meets PSTI through recognition" \
    api -H 'Content-Type: text/plain' --data-binary @valid.txt \
    "$BASE/api/v1/verify?as=psti"
expect_out_contains "HTTP 200"
expect_out_contains '"index":0,"line":1,"valid":true,"verdict":"valid"'
expect_out_contains "\"decision\":{\"met\":true,\"how\":\"accepted\",\"requirement\":\"psti:1\",\"recognition\":\"$REC:23\",\"basis\":\"UK PSTI regulations"
expect_out_contains '"summary":{"total":1,"valid":1,"invalid":0}'
cp "$W/.out" api-psti.json
check "... the same decision as jcstar verify --as psti --json" \
    sh -c 'test -n "$(grep -o "\"decision\":{[^}]*}" verify-psti.json)" &&
        test "$(grep -o "\"decision\":{[^}]*}" verify-psti.json)" = \
        "$(grep -o "\"decision\":{[^}]*}" api-psti.json)"'

"$J" verify --trust trust.pem --importance high --json --payload "$VALID" >verify-high.json
expect_rc 0 "?importance=high: a JC-STAR ★1 label is below policy" \
    api -H 'Content-Type: application/json' --data-binary "[\"$VALID\"]" \
    "$BASE/api/v1/verify?importance=high"
expect_out_contains "HTTP 200"
expect_out_contains '"index":0,"valid":false,"verdict":"below-policy","reason":"label is JC-STAR ★1; JC-STAR ★3 or higher is required (policy '
expect_out_contains "\"decision\":{\"met\":false,\"how\":\"not-met\",\"requirement\":\"jcstar:3\",\"policy\":\"$POL:19\""
expect_out_contains '"summary":{"total":1,"valid":0,"invalid":1}'
cp "$W/.out" api-high.json
check "... the same decision as jcstar verify --importance high --json" \
    sh -c 'test -n "$(grep -o "\"decision\":{[^}]*}" verify-high.json)" &&
        test "$(grep -o "\"decision\":{[^}]*}" verify-high.json)" = \
        "$(grep -o "\"decision\":{[^}]*}" api-high.json)"'

expect_rc 0 "?as=jcstar:3 (the page's form) and ?as=jcstar&min_level=3: below policy" \
    api --data-binary "[\"$VALID\"]" "$BASE/api/v1/verify?as=jcstar:3"
expect_out_contains '"verdict":"below-policy","reason":"label is JC-STAR ★1; JC-STAR ★3 or higher is required"'
expect_out_contains '"decision":{"met":false,"how":"not-met","requirement":"jcstar:3","reason":'
cp "$W/.out" api-colon.json
expect_rc 0 "... the same answer either way" \
    api --data-binary "[\"$VALID\"]" "$BASE/api/v1/verify?as=jcstar&min_level=3"
expect_true "same body" cmp -s "$W/.out" api-colon.json

expect_rc 0 "?as=cls: JC-STAR ★1 is not CLS (a simplified line is no acceptance)" \
    api --data-binary "[\"$VALID\"]" "$BASE/api/v1/verify?as=cls"
expect_out_contains '"verdict":"below-policy"'
expect_out_contains '"decision":{"met":false,"how":"not-met","requirement":"cls:1","reason":'
expect_out_contains "$REC:29 allows only a simplified application on JC-STAR labels, not acceptance"

expect_rc 0 "?as=jcstar&min_level=1: met directly" \
    api --data-binary "[\"$VALID\"]" "$BASE/api/v1/verify?as=jcstar&min_level=1"
expect_out_contains '"valid":true,"verdict":"valid"'
expect_out_contains '"decision":{"met":true,"how":"direct","requirement":"jcstar:1","reason":"JC-STAR ★1 meets JC-STAR ★1 or higher directly"}'

printf '%s\nhello\n%s\n' "$VALID" "$FORGED" >req-mixed.txt
expect_rc 0 "?as=psti on a valid, a garbage and a forged payload: a decision only for the valid one" \
    api -H 'Content-Type: text/plain' --data-binary @req-mixed.txt \
    "$BASE/api/v1/verify?as=psti"
expect_out_contains '"index":0,"line":1,"valid":true,"verdict":"valid"'
expect_out_contains '"index":1,"line":2,"valid":false,"verdict":"not-a-payload"'
expect_out_contains '"index":2,"line":3,"valid":false,"verdict":"bad-signature"'
expect_out_contains '"summary":{"total":3,"valid":1,"invalid":2}'
expect_true "exactly one decision" test "$(decision_of "$W/.out" | wc -l)" = 1

expect_rc 0 "no requirement: no decision" \
    api --data-binary "[\"$VALID\"]" "$BASE/api/v1/verify"
expect_output_lacks '"decision"'

# bad_query QUERY STATUS-MESSAGE: 400 with a JSON error, nothing verified
bad_query() {
	expect_rc 0 "?$1: 400" \
	    api --data-binary "[\"$VALID\"]" "$BASE/api/v1/verify?$1"
	expect_out_contains "HTTP 400"
	expect_out_contains "{\"error\":\"$2"
	expect_out_contains '"status":400}'
	expect_output_lacks '"results"'
}
bad_query "as=bogus" "unknown scheme 'bogus' for as (jcstar, cls, psti, cyber-trust-mark, cra)"
bad_query "as=psti&min_level=2" "min_level for PSTI must be 1, not '2'"
bad_query "as=jcstar&min_level=5" "min_level for JC-STAR must be a level from 1 to 4, not '5'"
bad_query "as=jcstar&min_level=x" "min_level for JC-STAR must be a level from 1 to 4, not 'x'"
bad_query "as=cra:0" "the level in as for CRA must be a level from 1 to 4, not '0'"
bad_query "as=jcstar:3&min_level=3" "give the level once"
bad_query "min_level=0" "min_level for JC-STAR must be a level from 1 to 4, not '0'"
bad_query "importance=high&as=psti" "importance takes its requirement from the policy: do not add as or min_level"
bad_query "importance=high&min_level=3" "importance takes its requirement from the policy"
bad_query "importance=urgent" "importance: $POL defines no importance 'urgent' (known: low medium high)"
bad_query "as=psti&as=cls" "query parameter 'as' is given twice"
bad_query "as=" "query parameter 'as' needs a value"
bad_query "scheme=psti" "unknown query parameter 'scheme' (known: as, min_level, importance)"
bad_query "as=$(printf 'x%.0s' $(seq 1 60))" "unknown scheme 'xxxxxxxx"

# ---- caps ----------------------------------------------------------------

head -c 5000000 /dev/zero | tr '\0' 'A' >big.txt
expect_rc 0 "a 5 MB body: 413 with a JSON error" \
    api -H 'Content-Type: text/plain' --data-binary @big.txt \
    "$BASE/api/v1/verify"
expect_out_contains "HTTP 413"
expect_out_contains '{"error":"request body too large: at most 4194304 bytes"'
expect_rc 0 "a 5 MB chunked body (no length given): 413" \
    api -H 'Content-Type: text/plain' -H 'Transfer-Encoding: chunked' \
    --data-binary @big.txt "$BASE/api/v1/verify"
expect_out_contains "HTTP 413"
expect_out_contains '{"error":"request body too large'

for i in $(seq 1 10000); do echo x; done >10000.txt
expect_rc 0 "10,000 payloads in one request are answered" \
    api -H 'Content-Type: text/plain' --data-binary @10000.txt \
    "$BASE/api/v1/verify"
expect_out_contains "HTTP 200"
expect_out_contains '"summary":{"total":10000,"valid":0,"invalid":10000}'
{ cat 10000.txt; echo x; } >10001.txt
expect_rc 0 "10,001 payloads (text): 413 with a clear error" \
    api -H 'Content-Type: text/plain' --data-binary @10001.txt \
    "$BASE/api/v1/verify"
expect_out_contains "HTTP 413"
expect_out_contains '{"error":"too many payloads: at most 10000 per request"'
{ printf '['; for i in $(seq 1 10000); do printf '"x",'; done; printf '"x"]'; } \
    >10001.json
expect_rc 0 "10,001 payloads (JSON): 413 with a clear error" \
    api -H 'Content-Type: application/json' --data-binary @10001.json \
    "$BASE/api/v1/verify"
expect_out_contains "HTTP 413"
expect_out_contains '{"error":"too many payloads: at most 10000 per request"'

# ---- malformed HTTP (answered by libmicrohttpd) --------------------------

# raw_http TEXT: sends TEXT on a new connection, prints the status line.
raw_http() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf "$1" >&3
	timeout 5 head -n 1 <&3
	exec 3<&-
}
expect_rc 0 "a garbage request line: 400" raw_http 'GARBAGE / FOO/9\r\n\r\n'
expect_out_contains "HTTP/1.1 400"
expect_rc 0 "a negative Content-Length: 400" \
    raw_http 'POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n'
expect_out_contains "HTTP/1.1 400"
expect_rc 0 "bad chunked encoding: 400" \
    raw_http 'POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
expect_out_contains "HTTP/1.1 400"
expect_rc 0 "... and the server still answers" api "$BASE/healthz"
expect_out_contains "HTTP 200"

# ---- methods and paths ---------------------------------------------------

expect_rc 0 "GET /api/v1/verify: 405 naming POST" \
    "${CURL[@]}" -i "$BASE/api/v1/verify"
expect_out_contains "HTTP/1.1 405"
expect_out_contains "Allow: POST"
expect_out_contains '{"error":"method not allowed: use POST"'
expect_rc 0 "DELETE /healthz: 405" \
    "${CURL[@]}" -i -X DELETE "$BASE/healthz"
expect_out_contains "HTTP/1.1 405"
expect_rc 0 "POST to a page address: 405" \
    "${CURL[@]}" -i --data-binary x "$BASE/L/$DIGITS"
expect_out_contains "HTTP/1.1 405"
expect_rc 0 "an unknown path: 404 with a JSON error" \
    "${CURL[@]}" -i "$BASE/no/such/thing"
expect_out_contains "HTTP/1.1 404"
expect_out_contains "Content-Type: application/json"
expect_out_contains '{"error":"not found"'
expect_rc 0 "POST /api/v1/other: 404" \
    "${CURL[@]}" -i --data-binary x "$BASE/api/v1/other"
expect_out_contains "HTTP/1.1 404"

# ---- the page (--web) ----------------------------------------------------

expect_rc 0 "GET /L/<digits>: the page, not cached" \
    "${CURL[@]}" -i "$BASE/L/$DIGITS"
expect_out_contains "HTTP/1.1 200"
expect_out_contains "jcstar verifier page"
expect_out_contains "Content-Type: text/html; charset=utf-8"
expect_out_contains "Cache-Control: no-cache"
expect_out_contains "Referrer-Policy: no-referrer"
expect_rc 0 "GET / : index.html" "${CURL[@]}" -i "$BASE/"
expect_out_contains "jcstar verifier page"
expect_rc 0 "GET /app.js: JavaScript, cacheable" "${CURL[@]}" -i "$BASE/app.js"
expect_out_contains 'console.log("app");'
expect_out_contains "Content-Type: text/javascript; charset=utf-8"
expect_out_contains "Cache-Control: public, max-age=3600"
expect_rc 0 "GET /style.css" "${CURL[@]}" -i "$BASE/style.css"
expect_out_contains "Content-Type: text/css; charset=utf-8"
expect_rc 0 "GET /sw.js: revalidated every time" "${CURL[@]}" -i "$BASE/sw.js"
expect_out_contains "Cache-Control: no-cache"
expect_rc 0 "GET /trust.pem" "${CURL[@]}" -i "$BASE/trust.pem"
expect_out_contains "Content-Type: application/x-pem-file"
expect_out_contains "Cache-Control: no-cache"
expect_out_contains "BEGIN CERTIFICATE"
expect_rc 0 "GET /config.json" "${CURL[@]}" -i "$BASE/config.json"
expect_out_contains "Content-Type: application/json"
expect_rc 0 "GET /sub/a.txt" "${CURL[@]}" -i "$BASE/sub/a.txt"
expect_out_contains "HTTP/1.1 200"
# the page under a base path (/L/<digits>) loads /L/app.js and friends
expect_rc 0 "GET /L/app.js: the page's file under a base path" \
    "${CURL[@]}" -i "$BASE/L/app.js"
expect_out_contains 'console.log("app");'
expect_rc 0 "GET /L/config.json under a base path" \
    "${CURL[@]}" -i "$BASE/L/config.json"
expect_out_contains '"trust":"trust.pem"'
expect_rc 0 "GET /L/: the page" "${CURL[@]}" -i "$BASE/L/"
expect_out_contains "jcstar verifier page"
expect_rc 0 "GET /L/passwd: a link is still refused" "${CURL[@]}" -i "$BASE/L/passwd"
expect_out_contains "HTTP/1.1 404"
expect_output_lacks "root:"

refused() {
	expect_rc 0 "refused: $1" "${CURL[@]}" -i --path-as-is "$BASE$1"
	expect_out_contains "HTTP/1.1 $2"
	expect_output_lacks "root:"
}
refused "/../etc/passwd" 400
refused "/%2e%2e/etc/passwd" 400
refused "/sub/../../etc/passwd" 400
refused "//etc/passwd" 400
refused "/.hidden" 400
refused "/index.html%00.js" 400
refused "/passwd" 404          # a symbolic link out of the directory
refused "/sub" 404             # a directory
refused "/../1234" 400         # looks like a label address, but is not
refused "/nothing.js" 404

# ---- the slow client -----------------------------------------------------

# Headers started and never finished: dropped after --timeout 2 while
# others are served.
slow_client_dropped() {
	local t0 t1 rc
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf 'POST /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\n' >&3
	t0=$(date +%s)
	timeout 10 cat <&3 >/dev/null
	rc=$?
	t1=$(date +%s)
	exec 3<&-
	echo "closed after $((t1 - t0)) s, cat status $rc"
	[ "$rc" -ne 124 ] && [ $((t1 - t0)) -le 6 ]
}
slow_client_dropped >slow.out 2>&1 &
SLOW=$!
sleep 0.5
expect_rc 0 "others are answered while a slow client hangs" \
    curl -sS --noproxy '*' --max-time 1.5 "$BASE/healthz"
expect_out_contains '"status":"ok"'
wait "$SLOW"
SLOW_RC=$?
check "the slow client is dropped after the timeout ($(cat slow.out))" \
    test "$SLOW_RC" = 0

# a slow body: a byte per second, then silence
slow_body_dropped() {
	local t0 t1 rc
	exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
	printf 'POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nJ' >&3
	sleep 1
	printf 'C' >&3
	t0=$(date +%s)
	timeout 10 cat <&3 >/dev/null
	rc=$?
	t1=$(date +%s)
	exec 3<&-
	[ "$rc" -ne 124 ] && [ $((t1 - t0)) -le 6 ]
}
check "a body that stops half way is dropped after the timeout" \
    slow_body_dropped

# ---- 200 concurrent requests ---------------------------------------------

mkdir conc
cat >one.sh <<EOF
#!/bin/sh
# one request: even numbers send the valid payload, odd the forged one
if [ \$((\$1 % 2)) -eq 0 ]; then f=valid.txt want=valid
else f=forged.txt want=bad-signature; fi
curl -sS --noproxy '*' --max-time 60 -H 'Content-Type: text/plain' \
    --data-binary @\$f "$BASE/api/v1/verify" >conc/\$1.json
grep -q "\"verdict\":\"\$want\"" conc/\$1.json && : >conc/\$1.ok
EOF
chmod +x one.sh
seq 1 200 | xargs -P 50 -n 1 ./one.sh 2>/dev/null
check "200 concurrent requests (50 at a time) all answered correctly" \
    test "$(find conc -name '*.ok' | wc -l)" -eq 200

# ---- SIGHUP: a new CRL applies without a restart --------------------------

SERIAL=$("$JS" show --json ref.der | grep -o '"serial":"[^"]*"' | cut -d'"' -f4)
"$JS" revoke --ca ca --serial "$SERIAL" --reason key-compromise -q
"$JS" crl --ca ca -o crl.pem -q
"$JS" trust export --ca ca -o trust.pem -q
check "a new bundle is not used before SIGHUP" \
    test "$(verdict_of "$VALID")" = valid
kill -HUP "$SRV_PID"
check "after SIGHUP the label is revoked, without a restart" \
    wait_verdict "$VALID" revoked
check "the reload is logged" wait_log "reloaded"
expect_rc 0 "healthz shows the new bundle's time" api "$BASE/healthz"
expect_out_contains '"status":"ok"'

printf -- '-----BEGIN CERTIFICATE-----\ngarbage\n' >trust.pem
kill -HUP "$SRV_PID"
check "SIGHUP with a corrupt bundle: the error is logged" \
    wait_log "reload failed, still serving the files loaded at"
check "... naming the option and the file" wait_log ": --trust: trust.pem"
check "... the server still runs" kill -0 "$SRV_PID"
check "... and gives the old bundle's verdicts (revoked)" \
    test "$(verdict_of "$VALID")" = revoked
check "... the forged label is still bad-signature" \
    test "$(verdict_of "$FORGED")" = bad-signature
expect_rc 0 "... /healthz still answers" api "$BASE/healthz"
expect_out_contains "HTTP 200"

# ---- SIGHUP also reloads --recognition and --policy ----------------------

stop_server
"$JS" trust export --ca ca -o trust.pem -q
issue_ref ca hup.der >/dev/null 2>&1
HUP=$("$JS" payload --ca ca hup.der)
cp "$REC" hup-rec.conf
cp "$POL" hup-pol.conf
check "a server with its own recognition and policy files" \
    start_server --recognition hup-rec.conf --policy hup-pol.conf
# decision_for QUERY: "met" or "not-met" for the new label
decision_for() {
	printf '%s\n' "$HUP" | "${CURL[@]}" -H 'Content-Type: text/plain' \
	    --data-binary @- "$BASE/api/v1/verify?$1" |
	    grep -o '"how":"[^"]*"\|"error":"[^"]*"' | head -n 1 | cut -d'"' -f4
}
wait_decision() { wait_eq "$2" decision_for "$1"; }
check "?as=psti: met through the acceptance line" \
    test "$(decision_for as=psti)" = accepted
decision_for importance=critical >hup-crit.txt
check "?importance=critical: not in the policy yet (an error)" \
    grep -q "defines no importance 'critical'" hup-crit.txt
grep -v '^accept *psti:1 *jcstar' "$REC" >hup-rec.conf
echo "critical jcstar:4" >>hup-pol.conf
kill -HUP "$SRV_PID"
check "after SIGHUP the acceptance line is gone" \
    wait_decision as=psti not-met
check "... and the new importance applies" \
    wait_decision importance=critical not-met
check "the reload names what it read" \
    wait_log "recognition lines, 4 importances"
echo "accept psti:1 nosuch:1 - broken" >>hup-rec.conf
echo "critical jcstar:3" >>hup-pol.conf
kill -HUP "$SRV_PID"
check "SIGHUP with a bad recognition file: the error is logged" \
    wait_log ": --recognition: hup-rec.conf:"
check "... nothing of that reload applies (the bad policy neither)" \
    test "$(grep -c 'reload failed' "$SRV_LOG")" = 1
check "... the files loaded before still decide" \
    test "$(decision_for as=psti)" = not-met
check "... including the policy" \
    test "$(decision_for importance=critical)" = not-met

# ---- stop ----------------------------------------------------------------

"${CURL[@]}" -o /dev/null "$BASE/%1b%5b31mred" || true
check "the log has one line per request" \
    grep -q '127.0.0.1 "POST /api/v1/verify" 200 ' "$SRV_LOG"
check "the log does not echo control characters" \
    sh -c "! grep -q \"\$(printf '\\033')\" '$SRV_LOG'"
stop_server
check "SIGTERM stops the server with exit status 0" test "$SRV_RC" = 0
check "no sanitizer report in the server's log" \
    sh -c "! grep -q -e Sanitizer -e 'runtime error:' '$SRV_LOG'"
check "the stop is logged" grep -q "SIGTERM, stopping" "$SRV_LOG"

# ---- serve --recognition FILE --policy FILE -------------------------------

"$JS" trust export --ca ca -o trust.pem -q
issue_ref ca req.der --unit-serial REQ-1 >/dev/null 2>&1
"$J" issue --ca ca --scheme cls --level 2 --reg-id CLS-2025-000002 \
    --vendor "$REF_VENDOR" --product "Home Router" --model HR-1000 \
    -o cls2.der -q
REQ=$("$JS" payload --ca ca req.der)
CLS2=$("$JS" payload --ca ca cls2.der)
cat >own-rec.conf <<'EOF2'
# our own recognition: CLS level 2 and up count as JC-STAR level 1
accept  jcstar:1  cls:2-4  -  test: CLS level 2 or higher is accepted as JC-STAR level 1
EOF2
cat >own-pol.conf <<'EOF2'
# our own policy
any     jcstar:3  psti:1
EOF2
check "a server with --recognition own-rec.conf --policy own-pol.conf" \
    start_server --recognition own-rec.conf --policy own-pol.conf
expect_rc 0 "?as=jcstar: a CLS level 2 label through our own recognition file" \
    api --data-binary "[\"$CLS2\",\"$REQ\"]" "$BASE/api/v1/verify?as=jcstar"
expect_out_contains '"index":0,"valid":true,"verdict":"valid"'
expect_out_contains '"decision":{"met":true,"how":"accepted","requirement":"jcstar:1","recognition":"own-rec.conf:2","basis":"test: CLS level 2 or higher is accepted as JC-STAR level 1"'
expect_out_contains '"index":1,"valid":true,"verdict":"valid"'
expect_out_contains '"decision":{"met":true,"how":"direct","requirement":"jcstar:1"'
expect_rc 0 "?as=psti: the default file's PSTI lines are not in ours" \
    api --data-binary "[\"$REQ\"]" "$BASE/api/v1/verify?as=psti"
expect_out_contains '"verdict":"below-policy"'
expect_out_contains '(no acceptance line in own-rec.conf covers JC-STAR labels)'
expect_rc 0 "?importance=any from our own policy" \
    api --data-binary "[\"$REQ\",\"$CLS2\"]" "$BASE/api/v1/verify?importance=any"
expect_out_contains '"index":0,"valid":false,"verdict":"below-policy"'
expect_out_contains '"decision":{"met":false,"how":"not-met","requirement":"jcstar:3","policy":"own-pol.conf:2","reason":"label is JC-STAR ★1; JC-STAR ★3 or higher is required (policy own-pol.conf:2); and label is JC-STAR ★1; PSTI compliant is required (no acceptance line in own-rec.conf covers JC-STAR labels)"}'
expect_out_contains '"index":1,"valid":false,"verdict":"below-policy"'
bad_query "importance=high" "importance: own-pol.conf defines no importance 'high' (known: any)"
stop_server
check "... stopped cleanly, no sanitizer report" \
    sh -c "test '$SRV_RC' = 0 && ! grep -q -e Sanitizer -e 'runtime error:' '$SRV_LOG'"

# --listen 127.0.0.1:0: the kernel picks the port, the log names it;
# SIGINT stops too (even though the shell starts background jobs with
# SIGINT ignored)
"$JS" trust export --ca ca -o trust-0.pem -q
"$J" serve --trust trust-0.pem --listen 127.0.0.1:0 2>int.log &
SRV_PID=$!
for i in $(seq 1 100); do
	grep -q "listening on" int.log && break
	sleep 0.1
done
PORT0=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\) .*#\1#p' int.log)
expect_rc 0 "port 0: the log names the port chosen" \
    api "http://127.0.0.1:${PORT0:-1}/healthz"
expect_out_contains "HTTP 200"
kill -INT "$SRV_PID"
wait "$SRV_PID"
INT_RC=$?
SRV_PID=
check "SIGINT stops the server with exit status 0" test "$INT_RC" = 0
check "... no sanitizer report" \
    sh -c "! grep -q -e Sanitizer -e 'runtime error:' int.log"

cli_summary
