#!/usr/bin/env bash
# tests/cli_payload.sh - jcstar payload, ca init --verify-url, and verify
# --payload: the QR text of a label, both forms, and damaged payloads.
# Run by `make test-cli` as JCSTAR=/abs/path/jcstar tests/cli_payload.sh.

. "$(dirname "$0")/lib-cli.sh"

URL=HTTPS://VERIFY.JCSTAR.EXAMPLE/L/

expect_rc 0 "payload --help" "$J" payload --help
expect_out_contains "usage: jcstar payload"
expect_stderr_empty

expect_rc 0 "ca init --verify-url stores the base URL" \
    "$J" ca init --dir ca --name "Example Certification Body" --verify-url "$URL"
expect_true "ca.conf records verify_url" grep -qx "verify_url = $URL" ca/ca.conf

expect_rc 2 "ca init refuses a lower-case verify URL" \
    "$J" ca init --dir ca-bad --name X --verify-url https://verify.example/l/
expect_err_contains "upper-case HTTPS://"
expect_true "no directory may be created" no_file ca-bad

expect_rc 2 "ca init refuses a verify URL without a final slash" \
    "$J" ca init --dir ca-bad --name X --verify-url HTTPS://VERIFY.EXAMPLE/L
expect_err_contains "must end in '/'"

expect_rc 0 "ca init without --verify-url" "$J" ca init --dir ca2 --name Other
"$JS" trust export --ca ca -o trust.pem -q
expect_rc 0 "issue the reference-style label" issue_ref ca ref.der

expect_rc 0 "payload: url form by default, base URL from --ca" \
    "$J" payload --ca ca ref.der
expect_out_contains "$URL"
cp "$W/.out" url.txt
check "url payload: base URL then digits only" \
    grep -qE "^HTTPS://VERIFY\.JCSTAR\.EXAMPLE/L/[0-9]+\$" url.txt

expect_rc 0 "payload --base-url overrides the CA's" \
    "$J" payload --ca ca --base-url HTTPS://OTHER.EXAMPLE/V/ ref.der
expect_out_contains "HTTPS://OTHER.EXAMPLE/V/"

expect_rc 0 "payload --form bare" "$J" payload --form bare ref.der
cp "$W/.out" bare.txt
check "bare payload: JCS1: then Base45" \
    grep -qE '^JCS1:[0-9A-Z $%*+./:-]+$' bare.txt

expect_rc 0 "payload --info prints the QR version and size (url)" \
    "$J" payload --info --ca ca ref.der
expect_err_contains "QR version 11 at level M, 61x61 modules"
expect_rc 0 "payload --info (bare)" "$J" payload --info --form bare ref.der
expect_err_contains "at level M"
expect_rc 0 "payload --json" "$J" payload --json --ca ca ref.der
expect_out_contains '"form":"url"'
expect_out_contains '"qr_ec":"M"'

expect_rc 2 "payload: url form without a base URL" "$J" payload ref.der
expect_err_contains "give --base-url URL or --ca DIR"
expect_rc 2 "payload: CA without a verify URL" "$J" payload --ca ca2 ref.der
expect_err_contains "has no verifier base URL"
expect_rc 2 "payload: bad --form" "$J" payload --form qr ref.der
expect_err_contains "--form must be url or bare"
expect_rc 2 "payload: bad --ec" "$J" payload --ec X --form bare ref.der
expect_err_contains "--ec must be L, M, Q or H"
expect_rc 2 "payload: lower-case --base-url" \
    "$J" payload --base-url https://x.example/ ref.der
expect_err_contains "upper-case HTTPS://"
expect_rc 2 "payload: two label files" "$J" payload --form bare ref.der ref.der
expect_err_contains "exactly one label file"
expect_rc 1 "payload of a malformed label" \
    "$J" payload --form bare url.txt
expect_err_contains "not a jcstar label"

# ---- verify --payload ----
expect_rc 0 "verify --payload (url form)" \
    "$J" verify --trust trust.pem --payload "$(cat url.txt)"
expect_out_contains "VALID: genuine JC-STAR ★1 label"
expect_rc 0 "verify --payload (bare form)" \
    "$J" verify --trust trust.pem --payload "$(cat bare.txt)"
expect_out_contains "VALID"
expect_rc 0 "verify --payload: a lower-case https:// scheme still reads" \
    "$J" verify --trust trust.pem --payload "$(sed 's/^HTTPS/https/' url.txt)"

expect_rc 1 "verify --payload: not a jcstar payload" \
    "$J" verify --trust trust.pem --payload "HELLO WORLD"
expect_err_contains "NOT VALID (not-a-payload): not a jcstar payload"
expect_rc 1 "verify --payload: lower-cased bare payload" \
    "$J" verify --trust trust.pem --payload "$(tr 'A-Z' 'a-z' < bare.txt)"
expect_err_contains "must be upper case 'JCS1:'"
expect_rc 1 "verify --payload: one digit cut from the url form" \
    "$J" verify --trust trust.pem --payload "$(sed 's/.$//' url.txt)"
expect_err_contains "damaged-payload"
expect_rc 1 "verify --payload: a trailing space is a Base45 digit" \
    "$J" verify --trust trust.pem --payload "$(cat bare.txt) "
expect_err_contains "damaged-payload"
U=$(cat url.txt)
D=${U:200:1}
F=${U:0:200}$(( (D + 1) % 10 ))${U:201}
expect_rc 1 "verify --payload: one digit changed in the middle" \
    "$J" verify --trust trust.pem --payload "$F"
expect_output_lacks "VALID: genuine"
expect_err_contains "NOT VALID"

{ cat url.txt; echo; cat bare.txt; echo "HELLO"; printf '%s\r\n' "$(cat bare.txt)"; } > many.txt
STDIN=many.txt expect_rc 1 "verify --payload -: lines 1, 3 and 5 valid, 4 not" \
    "$J" verify --trust trust.pem --payload -
expect_out_contains "line 1: VALID"
expect_out_contains "line 3: VALID"
expect_out_contains "line 4: NOT VALID (not-a-payload)"
expect_out_contains "line 5: VALID"
expect_output_lacks "line 2:"

cat url.txt bare.txt > good.txt
STDIN=good.txt expect_rc 0 "verify --payload - with only valid payloads" \
    "$J" verify --trust trust.pem --json --payload -
expect_out_contains '"file":"line 2","valid":true'

{ printf 'JCS1:'; head -c 9000 /dev/zero | tr '\0' 'A'; echo; cat bare.txt; } > long.txt
STDIN=long.txt expect_rc 2 "verify --payload -: an over-long line is refused, the next still read" \
    "$J" verify --trust trust.pem --payload -
expect_err_contains "line 1: payload is 8193 bytes; at most 8192"
expect_out_contains "line 2: VALID"
expect_rc 1 "several --payload results are numbered" \
    "$J" verify --trust trust.pem --payload "$(cat bare.txt)" --payload HELLO
expect_out_contains "payload 1: VALID"
expect_out_contains "payload 2: NOT VALID (not-a-payload)"

cli_summary
