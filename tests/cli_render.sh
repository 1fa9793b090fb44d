#!/usr/bin/env bash
# tests/cli_render.sh - jcstar render: every template, with a label of its
# scheme, to PNG and SVG at 300 and 600 dpi in both payload forms; the
# template the scheme profile names when --template is not given; all
# checked from the outside (PNG
# signature with od, size and resolution with ImageMagick's identify, the
# QR code decoded by ZXingReader and compared with 'jcstar payload'), and
# the errors a user meets. Run by `make test-cli` as
# JCSTAR=/abs/path/jcstar tests/cli_render.sh.

. "$(dirname "$0")/lib-cli.sh"

export JCSTAR_TEMPLATES="$TOP/templates"
URL=HTTPS://VERIFY.JCSTAR.EXAMPLE/L/
PNG_SIG="89 50 4e 47 0d 0a 1a 0a"

png_sig() { od -An -tx1 -N8 "$1" | sed 's/^ *//; s/ *$//'; }
# tmpl_mm FILE SECTION KEY: a number from a template, as the format says.
tmpl_mm() {
	awk -v s="[$2]" -v k="$3" '
	    /^\[/ { sect = $0 }
	    sect == s && $1 == k && $2 == "=" { print $3 }' "$1"
}
# near A B: |A - B| <= 1
near() { [ $(($1 - $2)) -le 1 ] && [ $(($2 - $1)) -le 1 ]; }
# mm_px MM DPI: rounded pixels
mm_px() { awk -v m="$1" -v d="$2" 'BEGIN { printf "%d", m * d / 25.4 + 0.5 }'; }
# size_ok PNG TEMPLATE DPI: identify's size and resolution match
size_ok() {
	local got w h
	# pHYs holds whole pixels per metre: 72 dpi is stored as 2835, which
	# identify shows as 72.009; round it
	got=$(identify -units PixelsPerInch -format '%w %h %x %y' "$1" |
	    awk '{ printf "%d %d %.0f %.0f", $1, $2, $3, $4 }') || return 1
	read -r w h x y <<<"$got"
	near "$w" "$(mm_px "$(tmpl_mm "$2" label width)" "$3")" &&
	    near "$h" "$(mm_px "$(tmpl_mm "$2" label height)" "$3")" &&
	    [ "$x" = "$3" ] && [ "$y" = "$3" ]
}
# decodes_to PNG TEXTFILE: ZXingReader reads exactly the payload
decodes_to() {
	ZXingReader -format QRCode -bytes "$1" >"$1.qr" 2>/dev/null &&
	    printf '%s' "$(cat "$2")" | cmp -s - "$1.qr"
}
# svg_ok SVG TEMPLATE: an SVG of the template's size, one path for the QR
# code, and the display name of the template's scheme as a whole text
svg_ok() {
	head -n 1 "$1" | grep -qx '<?xml version="1.0" encoding="UTF-8"?>' &&
	    grep -q "width=\"$(tmpl_mm "$2" label width)mm\"" "$1" &&
	    [ "$(grep -o '<path' "$1" | wc -l)" = 1 ] &&
	    grep -qF ">$(scheme_key "$(tmpl_scheme "$2")" display)</text>" "$1" &&
	    tail -n 1 "$1" | grep -qx '</svg>'
}

# ---- help and usage -------------------------------------------------------

expect_rc 0 "render --help" "$J" render --help
expect_out_contains "usage: jcstar render LABEL [--template NAME|PATH] -o OUT.png|OUT.svg"
expect_out_contains "default: the template the label's"
expect_out_contains "--dpi N"
expect_stderr_empty
if grep -q "unknown command 'render'" "$W/.err"; then
	fail_why "this jcstar has no render command (its dispatch in cli/main.c)"
	cli_summary
	exit 1
fi

expect_rc 2 "render without a label" "$J" render --template jcstar-1 -o x.png
expect_err_contains "give exactly one label file"

# ---- a CA and labels ------------------------------------------------------

"$J" ca init --dir ca --name "Example Certification Body" \
    --verify-url "$URL" >/dev/null 2>&1
"$J" ca init --dir ca-nourl --name "Other Body" >/dev/null 2>&1
check "a CA with a verifier URL" test -s ca/ca.conf
expect_rc 0 "issue the reference-style label" issue_ref ca ref.der
expect_rc 0 "issue a ★3 label with a lab, Japanese fields, a unit serial" \
    "$J" issue --ca ca --scheme jcstar --level 3 --lab "Japan Test Lab" \
    --reg-id JCS-2025-004711 --vendor "株式会社サンプル電機" \
    --product "ネットワークカメラ" --model NC-300 --unit-serial SN-42 -o l3.der
"$JS" payload --ca ca ref.der >url.txt
"$JS" payload --form bare ref.der >bare.txt
"$JS" payload --ca ca l3.der >l3-url.txt
check "payloads for the checks" test -s url.txt -a -s bare.txt -a -s l3-url.txt

expect_rc 2 "render with neither --base-url nor --ca" \
    "$J" render ref.der --template jcstar-1 -o nourl.png
expect_err_contains "the url form needs the verifier's base URL: give --base-url URL or --ca DIR"
expect_true "no file may be written" no_file nourl.png

# ---- every template, PNG and SVG, 300 and 600 dpi, both forms ------------

# JC-STAR templates draw the reference-style label and the ★3 label with
# Japanese text; the others a label of their own scheme at the level their
# profile names them for, and one at the scheme's first third-party level
# (else its highest) with Japanese text, the lab and a unit serial.
# Under memcheck (tests/lib-cli.sh): 600 dpi in the url form only (the bare
# form draws the same way, another text in the code), and after its
# scheme's first template (light) 300 dpi and the url form only (600 draws
# the same way on four times the pixels), with its labels issued by $JS
# (the scheme's first template had them issued by $J).
NT=0
for tp in "$TOP"/templates/*.tmpl; do
	t=$(basename "$tp" .tmpl)
	s=$(tmpl_scheme "$tp")
	NT=$((NT + 1))
	lt=0 IJ=$J
	light "$tp" && lt=1 IJ=$JS
	if [ "$s" = jcstar ]; then
		lbl=ref.der url=url.txt bare=bare.txt
		big=l3.der big_url=l3-url.txt
	else
		lbl=$t.der url=$t-url.txt bare=$t-bare.txt
		big=$t-jp.der big_url=$t-jp-url.txt
		lv=$(scheme_key "$s" third_party_from)
		case $lv in
		[0-9]*) ;;
		*) lv=$(scheme_key "$s" levels); lv=${lv##*-} ;;
		esac
		expect_rc 0 "$t: issue a $s label at the level its profile names it for" \
		    with_jcstar "$IJ" issue_for_template ca "$tp" "$lbl"
		expect_rc 0 "$t: issue a $s level $lv label with Japanese text" \
		    with_jcstar "$IJ" issue_for_template ca "$tp" "$big" "$lv" \
		    --vendor "株式会社サンプル電機" --product "ネットワークカメラ" \
		    --model NC-300 --unit-serial SN-42
		"$JS" payload --ca ca "$lbl" >"$url"
		"$JS" payload --form bare "$lbl" >"$bare"
		"$JS" payload --ca ca "$big" >"$big_url"
		check "$t: payloads for the checks" test -s "$url" -a -s "$bare" -a -s "$big_url"
	fi
	dpis="300 600"
	[ "$lt" = 1 ] && dpis=300
	for dpi in $dpis; do
		out=$t-$dpi.png
		expect_rc 0 "$t: PNG at $dpi dpi (url form, base URL from --ca)" \
		    "$J" render "$lbl" --template "$t" --dpi "$dpi" --ca ca -o "$out"
		expect_err_contains "wrote $out: $t label"
		expect_err_contains "at $dpi dpi); QR version "
		expect_true "PNG signature" test "$(png_sig "$out")" = "$PNG_SIG"
		expect_true "identify: size and resolution for $dpi dpi" \
		    size_ok "$out" "$tp" "$dpi"
		expect_true "ZXingReader does not read the url payload" \
		    decodes_to "$out" "$url"

		[ "$lt" = 1 ] && continue
		[ "$MEMCHECK" = 1 ] && [ "$dpi" = 600 ] && continue
		out=$t-$dpi-bare.png
		expect_rc 0 "$t: PNG at $dpi dpi, bare form" \
		    "$J" render "$lbl" --template "$t" --dpi "$dpi" --form bare -o "$out"
		expect_true "PNG signature" test "$(png_sig "$out")" = "$PNG_SIG"
		expect_true "identify: size and resolution" size_ok "$out" "$tp" "$dpi"
		expect_true "ZXingReader does not read the bare payload" \
		    decodes_to "$out" "$bare"
	done
	expect_rc 0 "$t: SVG (url form, --base-url)" \
	    "$J" render "$lbl" --template "$t" --base-url "$URL" -o "$t.svg"
	expect_err_contains "wrote $t.svg: $t label"
	expect_err_contains "(vector); QR version "
	expect_true "not the expected SVG" svg_ok "$t.svg" "$tp"
	if [ "$lt" = 0 ]; then
		expect_rc 0 "$t: SVG, bare form" \
		    "$J" render "$lbl" --template "$t" --form bare -o "$t-bare.svg"
		expect_true "not the expected SVG" svg_ok "$t-bare.svg" "$tp"
	fi
	expect_rc 0 "$t: a third-party label with Japanese text" \
	    "$J" render "$big" --template "$t" --ca ca -o "$t-l3.png" -q
	expect_stderr_empty
	expect_true "ZXingReader does not read the label" decodes_to "$t-l3.png" "$big_url"
done
check "at least twelve templates (jcstar-1 to 4, jcstar-ja, cls-1 to 4, psti, cyber-trust-mark, cra); found $NT" test "$NT" -ge 12

expect_rc 0 "a template by path" \
    "$J" render ref.der --template "$TOP/templates/jcstar-2.tmpl" --ca ca -o path.png -q
expect_true "PNG signature" test "$(png_sig path.png)" = "$PNG_SIG"
expect_true "the same artwork as by name" cmp -s path.png jcstar-2-300.png

for dpi in 72 2400; do
	expect_rc 0 "--dpi $dpi, an end of the range" \
	    "$J" render ref.der --template jcstar-1 --dpi $dpi --ca ca -o d$dpi.png
	expect_true "identify: size and resolution at $dpi dpi" \
	    size_ok d$dpi.png "$TOP/templates/jcstar-1.tmpl" $dpi
done

# ---- without --template: the one the label's scheme profile names ---------

# each case: label, the template its profile names, its payload, and the
# artwork rendered above with --template (same label, --ca ca, 300 dpi)
for c in "ref.der jcstar-1 url.txt jcstar-1-300.png" \
    "cls-3.der cls-3 cls-3-url.txt cls-3-300.png" \
    "cra-jp.der cra cra-jp-url.txt cra-l3.png" \
    "psti.der psti psti-url.txt psti-300.png" \
    "cyber-trust-mark.der cyber-trust-mark cyber-trust-mark-url.txt cyber-trust-mark-300.png"; do
	read -r lbl want pay same <<<"$c"
	expect_rc 0 "$lbl without --template: the profile's template, $want" \
	    "$J" render "$lbl" --ca ca -o "auto-$want.png"
	expect_err_contains "wrote auto-$want.png: $want label"
	expect_true "ZXingReader does not read the payload" \
	    decodes_to "auto-$want.png" "$pay"
	expect_true "not the same artwork as with --template $want ($same)" \
	    cmp -s "auto-$want.png" "$same"
done

expect_rc 0 "an SVG without --template" \
    "$J" render cls-3.der --base-url "$URL" -o auto-cls-3.svg
expect_err_contains "wrote auto-cls-3.svg: cls-3 label"
expect_true "not the expected SVG" svg_ok auto-cls-3.svg "$TOP/templates/cls-3.tmpl"
expect_true "not the cls-3 SVG" cmp -s auto-cls-3.svg cls-3.svg

# the names come from the profile files ($JCSTAR_SCHEMES), not the code
mkdir alt-schemes
cp "$TOP"/certs/schemes/*.scheme alt-schemes/
sed -i 's/^template = cra$/template = cra-v2/' alt-schemes/cra.scheme
sed -i 's/^template\.3 = cls-3$/template.3 = jcstar-3/' alt-schemes/cls.scheme
expect_rc 2 "a profile naming a template that does not exist" \
    env JCSTAR_SCHEMES="$W/alt-schemes" "$J" render cra-jp.der --ca ca -o alt.png
expect_err_contains "unknown template 'cra-v2' in $TOP/templates (available: cls-1,"
expect_true "no file may be written" no_file alt.png
expect_rc 2 "a profile naming another scheme's template" \
    env JCSTAR_SCHEMES="$W/alt-schemes" "$J" render cls-3.der --ca ca -o alt.png
expect_err_contains "render: template jcstar-3 is for JC-STAR labels; this label is CLS"
expect_true "no file may be written" no_file alt.png

# ---- errors ----------------------------------------------------------------

expect_rc 2 "a template of another scheme than the label's" \
    "$J" render ref.der --template cls-1 --ca ca -o other.png
expect_err_contains "render: template cls-1 is for CLS labels; this label is JC-STAR"
expect_true "no file may be written" no_file other.png
expect_rc 2 "a JC-STAR template for a CRA label" \
    "$J" render cra-jp.der --template jcstar-1 --form bare -o other.svg
expect_err_contains "render: template jcstar-1 is for JC-STAR labels; this label is CRA"
expect_true "no file may be written" no_file other.svg

expect_rc 2 "an unknown template name lists the available ones" \
    "$J" render ref.der --template nope --ca ca -o nope.png
expect_err_contains "unknown template 'nope' in $TOP/templates (available: cls-1, cls-2, cls-3, cls-4, cra, cyber-trust-mark, jcstar-1, jcstar-2, jcstar-3, jcstar-4, jcstar-ja, psti)"
expect_true "no file may be written" no_file nope.png

for bad in 0 71 2401 100000 abc 300dpi ""; do
	expect_rc 2 "--dpi '$bad' is rejected" \
	    "$J" render ref.der --template jcstar-1 --dpi "$bad" --ca ca -o dpi.png
	expect_err_contains "--dpi must be a whole number from 72 to 2400 (e.g. 300 or 600), not '$bad'"
	expect_true "no file may be written" no_file dpi.png
done

expect_rc 2 "--form bogus" "$J" render ref.der --template jcstar-1 --form bogus --ca ca -o f.png
expect_err_contains "--form must be url or bare, not 'bogus'"

expect_rc 2 "--ca of a CA without a verifier URL" \
    "$J" render ref.der --template jcstar-1 --ca ca-nourl -o f.png
expect_err_contains "CA ca-nourl has no verifier base URL"
expect_true "no file may be written" no_file f.png

expect_rc 2 "a lower-case --base-url" \
    "$J" render ref.der --template jcstar-1 --base-url https://verify.example/l/ -o f.png
expect_err_contains "must start with upper-case HTTPS://"
expect_true "no file may be written" no_file f.png

expect_rc 2 "-o with another extension" \
    "$J" render ref.der --template jcstar-1 --ca ca -o label.jpg
expect_err_contains "-o label.jpg: the output is NAME.png or NAME.svg"
expect_true "no file may be written" no_file label.jpg

expect_rc 2 "missing -o" "$J" render ref.der
expect_err_contains "render: -o is required"

expect_rc 2 "unwritable output: a missing directory" \
    "$J" render ref.der --template jcstar-1 --ca ca -o no-dir/out.png
expect_err_contains "cannot create no-dir/out.png"
expect_true "no file may be written" no_file no-dir

if [ "$(id -u)" != 0 ]; then
	# (root writes into a read-only directory anyway)
	mkdir ro
	chmod 0555 ro
	expect_rc 2 "unwritable output: a read-only directory" \
	    "$J" render ref.der --template jcstar-1 --ca ca -o ro/out.png
	expect_err_contains "cannot create ro/out.png"
	expect_true "no file may be written" no_file ro/out.png
fi
mkdir -p taken.png
expect_rc 2 "unwritable output: a directory where the file goes" \
    "$J" render ref.der --template jcstar-1 --ca ca -o taken.png
expect_err_contains "cannot write taken.png"
expect_true "no temporary file may be left" test -z "$(ls -A taken.png; ls -d taken.png.tmp-* 2>/dev/null)"

expect_rc 2 "a missing label file" "$J" render none.der --template jcstar-1 --ca ca -o x.png
expect_err_contains "cannot open none.der"
expect_true "no file may be written" no_file x.png

printf '[label]\nwidth = 70\nheight = 30\ncolour = #000000\n' >bad-key.tmpl
expect_rc 2 "a template with an unknown key: FILE:LINE" \
    "$J" render ref.der --template ./bad-key.tmpl --ca ca -o bad.png
expect_err_contains "./bad-key.tmpl:4: unknown key 'colour' in [label]"
expect_true "no file may be written" no_file bad.png

{
	printf '[label]\nwidth = 70\nheight = 30\n'
	printf '[qr]\nx = 1\ny = 1\nsize = 28\nmodule = 0.33\nquiet = 3\n'
} >quiet3.tmpl
expect_rc 2 "a quiet zone of 3 modules is refused" \
    "$J" render ref.der --template quiet3.tmpl --ca ca -o bad.png
expect_err_contains "quiet3.tmpl:9: quiet: a quiet zone of 3 modules is too small; at least 4"

{
	printf '[label]\nwidth = 70\nheight = 30\n'
	printf '[qr]\nx = 1\ny = 1\nsize = 14\nmodule = 0.33\n'
} >small.tmpl
expect_rc 2 "a QR box too small for the code" \
    "$J" render ref.der --template small.tmpl --ca ca -o bad.png
expect_err_contains "small.tmpl:7: the QR code (version 11, 61 modules, with a 4-module quiet zone on each side) needs 69 x 4 px = 276 px (23.37 mm) at 300 dpi; the [qr] box is 14.00 mm"
expect_true "no file may be written" no_file bad.png

{
	printf '[label]\nwidth = 70\nheight = 30\n'
	printf '[qr]\nx = 1\ny = 1\nsize = 28\nmodule = 0.33\n'
	printf '[text]\nx = 30\ny = 2\nwidth = 12\nheight = 4\nsize = 7pt\ntext = {vendor}\n'
} >narrow.tmpl
expect_rc 2 "text wider than its box" \
    "$J" render ref.der --template narrow.tmpl --ca ca -o bad.svg
expect_err_contains "narrow.tmpl:15: text 'Example Electronics Co., Ltd.' is "
expect_err_contains " mm wide; its box is 12.0 mm"
expect_true "no file may be written" no_file bad.svg

cp jcstar-1-300.png keep.png
expect_rc 2 "a failed render leaves an existing file alone" \
    "$J" render ref.der --template narrow.tmpl --ca ca -o keep.png
expect_true "keep.png changed" cmp -s keep.png jcstar-1-300.png

cli_summary
