#!/usr/bin/env bash
# tests/cli_scan.sh - jcstar scan: QR codes of issued labels read back from
# PNG and JPEG images, also after scaling, rotation, noise and JPEG
# compression (ImageMagick), and checked against a second, independent
# decoder (ZXingReader). Run by `make test-cli` as
#
#     JCSTAR=/abs/path/jcstar tests/cli_scan.sh
#
# The QR images come from build/tests/make_qr_png (tests/make_qr_png.c),
# not from 'jcstar render', so that reading is tested on its own.
# Needs: convert (imagemagick), ZXingReader (zxing-cpp-tools).

. "$(dirname "$0")/lib-cli.sh"

URL=HTTPS://VERIFY.JCSTAR.EXAMPLE/L/

MQ=
for c in "$(dirname "$J")/tests/make_qr_png" "$TOP/build/tests/make_qr_png"; do
	if [ -x "$c" ]; then
		MQ=$c
		break
	fi
done
if [ -z "$MQ" ]; then
	echo "cli_scan.sh: build/tests/make_qr_png is missing" \
	    "(make build/tests/make_qr_png)" >&2
	exit 2
fi

# same_text FILE TEXT: FILE holds exactly TEXT and a newline.
same_text() { printf '%s\n' "$2" | cmp -s - "$1"; }
# zxing_reads IMAGE TEXT: ZXingReader decodes exactly TEXT from IMAGE.
zxing_reads() {
	[ "$(ZXingReader -format QRCode -bytes "$1" 2>/dev/null)" = "$2" ]
}
# lines FILE: the number of lines in FILE.
lines() { wc -l < "$1" | tr -d ' '; }

# ---- help and usage ------------------------------------------------------

expect_rc 0 "scan --help exits 0 on stdout" "$J" scan --help
expect_out_contains "usage: jcstar scan [--json] [-q] IMAGE..."
expect_stderr_empty

expect_rc 2 "scan without an image is a usage error" "$J" scan
expect_err_contains "no image file given"
expect_err_contains "Try 'jcstar scan --help'"

expect_rc 2 "scan with an unknown option" "$J" scan --bogus x.png
expect_err_contains "unrecognized option '--bogus'"

# ---- a label, its payloads, their QR codes ---------------------------------

expect_rc 0 "ca init --verify-url" "$J" ca init --dir ca \
    --name "Example Certification Body" --verify-url "$URL"
expect_rc 0 "issue the reference-style label" issue_ref ca ref.der
expect_rc 0 "payload, url form" "$J" payload --ca ca ref.der
URLP=$(cat "$W/.out")
expect_rc 0 "payload, bare form" "$J" payload --form bare ref.der
BAREP=$(cat "$W/.out")
check "the url payload is the base URL and digits" \
    grep -qE "^HTTPS://VERIFY\.JCSTAR\.EXAMPLE/L/[0-9]+\$" <<<"$URLP"
check "the bare payload is JCS1: and Base45" \
    grep -qE '^JCS1:[0-9A-Z $%*+./:-]+$' <<<"$BAREP"

expect_rc 0 "make_qr_png draws the url payload (4 px a module)" \
    "$MQ" url.png "$URLP"
expect_rc 0 "make_qr_png draws the bare payload" "$MQ" bare.png "$BAREP"
expect_rc 0 "make_qr_png draws both in one image" \
    "$MQ" two.png "$URLP" "$BAREP"
expect_rc 0 "make_qr_png draws HELLO" "$MQ" hello.png HELLO
expect_rc 0 "make_qr_png draws HELLO beside the url payload" \
    "$MQ" mixed.png HELLO "$URLP"
# "JCS1:" and 1 Base45 character, and the url form with 4 digits: both
# lengths are impossible
expect_rc 0 "make_qr_png draws damaged payloads" \
    "$MQ" damaged.png "JCS1:A" "${URL}1234"

# ---- reading ---------------------------------------------------------------

expect_rc 0 "scan prints the url payload" "$J" scan url.png
expect_true "stdout is not exactly the url payload" same_text "$W/.out" "$URLP"
expect_stderr_empty

expect_rc 0 "scan prints the bare payload" "$J" scan bare.png
expect_true "stdout is not exactly the bare payload" same_text "$W/.out" "$BAREP"
expect_stderr_empty

expect_rc 0 "scan of two images prints both payloads in order" \
    "$J" scan url.png bare.png
expect_true "stdout is not the two payloads" \
    same_text "$W/.out" "$URLP
$BAREP"

expect_rc 0 "scan of one image with two codes prints both" "$J" scan two.png
expect_out_contains "$URLP"
expect_out_contains "$BAREP"
expect_true "stdout is not two lines" test "$(lines "$W/.out")" = 2

STDIN=url.png expect_rc 0 "scan - reads the image from stdin" "$J" scan -
expect_true "stdout is not exactly the url payload" same_text "$W/.out" "$URLP"

expect_rc 0 "scan -q prints nothing" "$J" scan -q url.png
expect_true "stdout is not empty" test ! -s "$W/.out"
expect_stderr_empty

# ---- no code, other codes, damaged payloads ------------------------------------

convert -size 200x200 xc:white blank.png
expect_rc 1 "scan of an image without a QR code" "$J" scan blank.png
expect_err_contains "no QR code found in blank.png"
expect_true "stdout is not empty" test ! -s "$W/.out"

expect_rc 1 "scan -q of an image without a QR code is silent" \
    "$J" scan -q blank.png
expect_true "stdout is not empty" test ! -s "$W/.out"
expect_stderr_empty

expect_rc 1 "scan of a QR code that is not a jcstar payload" \
    "$J" scan hello.png
expect_err_contains "hello.png: code 1 is not a jcstar payload: \"HELLO\""
expect_err_contains "expected 'JCS1:...' or an HTTPS:// verifier URL"
expect_true "stdout is not empty" test ! -s "$W/.out"

expect_rc 0 "scan of a jcstar payload beside another code" "$J" scan mixed.png
expect_true "stdout is not exactly the url payload" same_text "$W/.out" "$URLP"
expect_err_contains "is not a jcstar payload: \"HELLO\""

expect_rc 1 "scan of damaged jcstar payloads names each" "$J" scan damaged.png
expect_err_contains "is a damaged jcstar payload: \"JCS1:A\""
expect_err_contains "is not a jcstar payload: \"${URL}1234\""
expect_err_contains "the payload was cut or padded"
expect_err_contains "4 digits are too few to hold a label"
expect_true "stdout is not empty" test ! -s "$W/.out"

# ---- not images ----------------------------------------------------------------

printf 'JCS1:NOT AN IMAGE\n' > text.png
expect_rc 2 "scan of a text file" "$J" scan text.png
expect_err_contains "text.png is not a PNG or JPEG image"

: > empty.png
expect_rc 2 "scan of an empty file" "$J" scan empty.png
expect_err_contains "empty.png is empty: not a PNG or JPEG image"

expect_rc 2 "scan of a missing file" "$J" scan missing.png
expect_err_contains "cannot open missing.png: No such file or directory"

mkdir adir
expect_rc 2 "scan of a directory" "$J" scan adir
expect_err_contains "adir is a directory"

head -c 300 url.png > cut.png
expect_rc 2 "scan of a truncated PNG" "$J" scan cut.png
expect_err_contains "cut.png: damaged PNG: the file ends early (truncated)"

expect_rc 2 "an unreadable image outweighs a good one (exit 2)" \
    "$J" scan url.png missing.png
expect_true "stdout is not exactly the url payload" same_text "$W/.out" "$URLP"
expect_err_contains "cannot open missing.png"

expect_rc 1 "an image without a payload outweighs a good one (exit 1)" \
    "$J" scan url.png hello.png
expect_true "stdout is not exactly the url payload" same_text "$W/.out" "$URLP"

# ---- --json ----------------------------------------------------------------------

expect_rc 2 "scan --json: one object per image" \
    "$J" scan --json url.png blank.png hello.png missing.png
expect_out_contains "{\"file\":\"url.png\",\"payloads\":[\"$URLP\"],\"error\":null}"
expect_out_contains '{"file":"blank.png","payloads":[],"error":"no QR code found in blank.png"}'
expect_out_contains '{"file":"hello.png","payloads":[],"error":"code 1 is not a jcstar payload: expected'
expect_out_contains '{"file":"missing.png","payloads":[],"error":"cannot open missing.png: No such file or directory"}'
expect_true "stdout is not 4 lines" test "$(lines "$W/.out")" = 4

expect_rc 0 "scan --json of two codes in one image" "$J" scan --json two.png
expect_out_contains "\"$URLP\""
expect_out_contains "\"$BAREP\""
expect_out_contains '"error":null}'

# ---- degraded copies (ImageMagick) --------------------------------------------
# At 4 px a module, half size leaves 2 px: still readable. Under memcheck
# (tests/lib-cli.sh) the copies of the url form only: the bare form's take
# the same path through jcstar with another text (bare.png itself is
# scanned above).
COPIES="url bare"
[ "$MEMCHECK" = 1 ] && COPIES=url
for f in $COPIES; do
	WANT=$URLP
	[ "$f" = bare ] && WANT=$BAREP
	convert $f.png -resize 50% $f-half.png
	convert $f.png -rotate 90 $f-rot90.png
	convert $f.png -background white -rotate 7 $f-rot7.png
	convert $f.png -attenuate 0.3 +noise Gaussian $f-noise.png
	convert $f.png -blur 0x1 $f-blur.png
	convert $f.png -quality 75 $f.jpg
	convert $f.png -resize 50% -attenuate 0.2 +noise Gaussian \
	    -quality 85 $f-half-noise.jpg
	for d in half rot90 rot7 noise blur; do
		expect_rc 0 "scan reads the $f payload from a $d copy" \
		    "$J" scan $f-$d.png
		expect_true "stdout is not exactly the $f payload" \
		    same_text "$W/.out" "$WANT"
	done
	expect_rc 0 "scan reads the $f payload from a JPEG" "$J" scan $f.jpg
	expect_true "stdout is not exactly the $f payload" \
	    same_text "$W/.out" "$WANT"
	expect_rc 0 "scan reads the $f payload from a half-size noisy JPEG" \
	    "$J" scan $f-half-noise.jpg
	expect_true "stdout is not exactly the $f payload" \
	    same_text "$W/.out" "$WANT"
done

# Too small to read: a quarter size leaves 1 px a module, blurred.
convert url.png -resize 25% url-quarter.png
expect_rc 1 "scan of a code shrunk below 2 px a module finds nothing" \
    "$J" scan url-quarter.png
expect_err_contains "no QR code found in url-quarter.png"

# ---- a second, independent decoder -------------------------------------------------

for f in $COPIES; do
	WANT=$URLP
	[ "$f" = bare ] && WANT=$BAREP
	for img in $f.png $f-half.png $f-rot90.png $f-noise.png $f.jpg; do
		check "ZXingReader reads the $f payload from $img" \
		    zxing_reads "$img" "$WANT"
	done
done
check "ZXingReader reads nothing jcstar cannot: no code in blank.png" \
    test -z "$(ZXingReader -format QRCode -bytes blank.png 2>/dev/null)"

# ---- verify --image --------------------------------------------------------

"$JS" trust export --ca ca -o trust.pem -q
expect_rc 0 "verify --image: the label in a PNG verifies" \
    "$J" verify --trust trust.pem --image url.png
expect_out_contains "url.png#1: VALID: genuine JC-STAR ★1 label"
expect_rc 0 "verify --image: two codes in one image, both valid" \
    "$J" verify --trust trust.pem --image two.png
expect_out_contains "two.png#1: VALID"
expect_out_contains "two.png#2: VALID"
expect_rc 1 "verify --image: a foreign code beside a label is not valid" \
    "$J" verify --trust trust.pem --image mixed.png
expect_out_contains "NOT VALID (not-a-payload)"
expect_out_contains "VALID: genuine"
expect_rc 1 "verify --image: no code in the image" \
    "$J" verify --trust trust.pem --image blank.png
expect_out_contains "NOT VALID (no-code): no QR code found"
expect_rc 1 "verify --image --json: no code" \
    "$J" verify --trust trust.pem --json --image blank.png
expect_out_contains '"verdict":"no-code"'
expect_rc 2 "verify --image: not an image" \
    "$J" verify --trust trust.pem --image trust.pem
expect_err_contains "not a PNG or JPEG"
expect_rc 2 "verify --image: missing file" \
    "$J" verify --trust trust.pem --image no-such.png
expect_err_contains "no-such.png"

# ---- libzbar is loaded only to read an image --------------------------------

ZLIB=$(ldconfig -p | awk '$1 == "libz.so.1" { print $NF; exit }')
expect_rc 2 "scan without libzbar: a clear error" \
    with_lib libzbar.so.0 /dev/null "$J" scan url.png
expect_err_contains "cannot load the QR code reader libzbar"
expect_err_contains "install the package libzbar0"
expect_true "nothing on stdout" test ! -s "$W/.out"
expect_rc 2 "verify --image without libzbar: the same error" \
    with_lib libzbar.so.0 /dev/null "$J" verify --trust trust.pem \
    --image url.png
expect_err_contains "cannot load the QR code reader libzbar"
expect_rc 2 "scan with a libzbar that lacks zbar's functions" \
    with_lib libzbar.so.0 "$ZLIB" "$J" scan url.png
expect_err_contains "libzbar.so.0 lacks a function jcstar calls"
expect_rc 0 "without libzbar, verify of a payload text still works" \
    with_lib libzbar.so.0 /dev/null "$J" verify --trust trust.pem \
    --payload "$URLP"
expect_out_contains "VALID: genuine"

cli_summary
