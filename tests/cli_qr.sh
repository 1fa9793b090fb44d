#!/usr/bin/env bash
# tests/cli_qr.sh - the printed label, end to end through the command line:
# issue -> render (every template) -> degraded copies, as a phone camera or
# a worn box gives them -> scan (libzbar) and ZXingReader -> verify --image.
# Run by `make test-cli` as JCSTAR=/abs/path/jcstar tests/cli_qr.sh.
# Needs: convert (imagemagick), ZXingReader (zxing-cpp-tools).

. "$(dirname "$0")/lib-cli.sh"

URL=HTTPS://VERIFY.JCSTAR.EXAMPLE/L/
zxing_reads() {
	[ "$(ZXingReader -format QRCode -bytes "$1" 2>/dev/null)" = "$2" ]
}

"$J" ca init --dir ca --name "Example Certification Body" \
    --verify-url "$URL" -q
"$JS" trust export --ca ca -o trust.pem -q
expect_rc 0 "issue a star-1 label" issue_ref ca l1.der
expect_rc 0 "issue a star-3 label (lab named)" \
    "$J" issue --ca ca "${P[@]}" --reg-id JCS-2025-000993 --level 3 \
    --lab "Japan Test Lab" -o l3.der
expect_rc 0 "issue a star-4 label with a unit serial" \
    "$J" issue --ca ca "${P[@]}" --reg-id JCS-2025-000994 --level 4 \
    --lab "Japan Test Lab" --unit-serial SN-000042 -o l4.der

label_for() {
	case $1 in
	jcstar-3) echo l3.der ;;
	jcstar-4) echo l4.der ;;
	*) echo l1.der ;;
	esac
}

# Under memcheck (tests/lib-cli.sh) jcstar-1 takes the full path; every
# other template the url form only and no degraded copies (the same
# decoding paths through jcstar again, on another picture), and after its
# scheme's first template (light) its label is issued by $JS.
for tmpl in "$TOP"/templates/*.tmpl; do
	name=$(basename "$tmpl" .tmpl)
	IJ=$J
	light "$tmpl" && IJ=$JS
	# another scheme's template draws a label of that scheme
	if [ "$(tmpl_scheme "$tmpl")" = jcstar ]; then
		lab=$(label_for "$name")
	else
		lab=$name.der
		expect_rc 0 "$name: issue a label of its scheme" \
		    with_jcstar "$IJ" issue_for_template ca "$tmpl" "$lab"
	fi
	forms="url bare"
	is_light=0
	if [ "$MEMCHECK" = 1 ] && [ "$name" != jcstar-1 ]; then
		forms=url
		is_light=1
	fi
	for form in $forms; do
		"$JS" payload --ca ca --form "$form" "$lab" > "$name-$form.txt"
		want=$(cat "$name-$form.txt")
		expect_rc 0 "$name ($form form): render at 300 dpi" \
		    "$J" render "$lab" --template "$name" --ca ca --form "$form" \
		    --dpi 300 -o "$name-$form.png"
		expect_rc 0 "$name ($form form): scan reads the payload back" \
		    "$J" scan "$name-$form.png"
		expect_true "scan output is exactly the payload" \
		    test "$(cat "$W/.out")" = "$want"
		expect_rc 0 "$name ($form form): verify --image" \
		    "$J" verify --trust trust.pem --image "$name-$form.png"
		expect_out_contains "$name-$form.png#1: VALID: genuine"
	done
	[ "$is_light" = 1 ] && continue
	# degraded copies of the url-form artwork (the printed default)
	f=$name-url
	want=$(cat "$f.txt")
	convert "$f.png" -resize 50% "$f-half.png"
	convert "$f.png" -rotate 90 "$f-rot90.png"
	convert "$f.png" -background white -rotate 5 "$f-rot5.png"
	convert "$f.png" -attenuate 0.25 +noise Gaussian "$f-noise.png"
	convert "$f.png" -quality 80 "$f.jpg"
	for copy in half rot90 rot5 noise; do
		expect_rc 0 "$name: a copy ($copy) still scans to the payload" \
		    "$J" scan "$f-$copy.png"
		expect_true "scan output is exactly the payload" \
		    test "$(cat "$W/.out")" = "$want"
		check "$name: ZXingReader also reads the $copy copy" \
		    zxing_reads "$f-$copy.png" "$want"
	done
	expect_rc 0 "$name: a JPEG photo of it verifies" \
	    "$J" verify --trust trust.pem --image "$f.jpg"
	expect_out_contains "VALID: genuine"
done

# a 600 dpi rendering scaled to a quarter of its pixels is a phone snap
expect_rc 0 "render at 600 dpi" "$J" render l1.der --template jcstar-1 \
    --ca ca --dpi 600 -o big.png
convert big.png -resize 25% snap.png
expect_rc 0 "a 600 dpi rendering scaled to 25% still verifies" \
    "$J" verify --trust trust.pem --image snap.png
expect_out_contains "VALID: genuine"

# too small to read: 300 dpi scaled to 20% leaves under one pixel a module
convert jcstar-1-url.png -resize 20% tiny.png
expect_rc 1 "a copy too small to read gives no-code, not a wrong verdict" \
    "$J" verify --trust trust.pem --image tiny.png
expect_out_contains "no-code"

# a label of another CA, photographed: readable, not trusted
"$JS" ca init --dir other --name "Other Body" --verify-url "$URL" -q
expect_rc 0 "issue with another CA" issue_ref other o.der
expect_rc 0 "render it" "$J" render o.der --template jcstar-1 --ca other \
    -o other.png
expect_rc 1 "its photo does not verify against our bundle" \
    "$J" verify --trust trust.pem --image other.png
expect_out_contains "NOT VALID (unknown-issuer)"

cli_summary
