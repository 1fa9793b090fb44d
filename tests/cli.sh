#!/usr/bin/env bash
# tests/cli.sh - end-to-end tests of the jcstar command line, as a new user
# would run it. Run by `make test-cli` (also with the ASan+UBSan build):
#
#     JCSTAR=/abs/path/to/jcstar tests/cli.sh
#
# Every case checks the exit status (0 ok/valid, 1 not valid, 2 usage or
# I/O error) and, for every failure, the specific message. One line per case
# ("ok - ..." / "FAIL - ..." with the command's output), then the summary
# line "N passed, M failed"; the exit status is non-zero if any case failed.
# Needs: the jcstar binary, openssl(1), coreutils, GNU grep. No network, no
# wall-clock limits; runs in a throw-away directory.

. "$(dirname "$0")/lib-cli.sh"

# ---- help and usage ---------------------------------------------------

expect_rc 0 "jcstar --help exits 0 and lists the commands" "$J" --help
expect_out_contains "usage: jcstar <command>"
expect_out_contains "trust export"
expect_stderr_empty

for c in "ca init" "ca rotate" "trust export" issue show verify; do
	# shellcheck disable=SC2086
	expect_rc 0 "jcstar $c --help exits 0 on stdout" "$J" $c --help
	expect_out_contains "usage: jcstar ${c%% *}"
	expect_stderr_empty
done
expect_out_contains "--importance"

expect_rc 0 "jcstar version prints the version" "$J" version
expect_out_contains "jcstar "

expect_rc 2 "no command is a usage error" "$J"
expect_err_contains "usage: jcstar"

expect_rc 2 "unknown command is a usage error" "$J" frobnicate
expect_err_contains "unknown command 'frobnicate'"

expect_rc 2 "unknown ca subcommand" "$J" ca frob
expect_err_contains "unknown subcommand 'frob'"

expect_rc 2 "unknown option" "$J" verify --bogus
expect_err_contains "unrecognized option '--bogus'"

expect_rc 2 "ca init without --dir" "$J" ca init --name X
expect_err_contains "--dir is required"

expect_rc 2 "ca init without --name" "$J" ca init --dir nameless
expect_err_contains "--name is required"
expect_true "no directory may be created" no_file nameless

expect_rc 2 "ca init --alg rsa is rejected" "$J" ca init --dir c-rsa --name X --alg rsa
expect_err_contains "unknown --alg 'rsa'"
expect_true "no directory may be created" no_file c-rsa

expect_rc 2 "ca init with a 65-byte name is rejected" \
    "$J" ca init --dir c-long --name "$(printf 'N%.0s' $(seq 65))"
expect_err_contains "at most 64"
expect_true "no directory may be created" no_file c-long

expect_rc 2 "trust export without -o" "$J" trust export --ca ca
expect_err_contains "--ca and -o are required"

expect_rc 2 "issue without the product fields" "$J" issue --ca ca --level 1 -o x.der
expect_err_contains "missing --reg-id, --scheme, --vendor, --product, --model"

expect_rc 2 "show without a file" "$J" show
expect_err_contains "no label file"

expect_rc 2 "verify without --trust" "$J" verify label.der
expect_err_contains "--trust BUNDLE is required"

expect_rc 2 "verify without a label file" "$J" verify --trust trust.pem
expect_err_contains "no label file"

# ---- ca init ------------------------------------------------------------

expect_rc 0 "ca init creates a CA (ECDSA P-256 by default)" \
    "$J" ca init --dir ca --name "Test Certification Body"
expect_err_contains "ECDSA P-256"
for f in ca/ca.conf ca/root.crt ca/root.key ca/signers/0001.crt ca/signers/0001.key; do
	expect_true "$f missing" test -s "$f"
done

check "ca init: root key is mode 0600" test "$(mode_of ca/root.key)" = 600
check "ca init: signer key is mode 0600" test "$(mode_of ca/signers/0001.key)" = 600
check "ca init: keys are unencrypted PEM without a passphrase" \
    test "$(first_line ca/signers/0001.key)" = "-----BEGIN PRIVATE KEY-----"

cp -p ca/root.key root.key.before
expect_rc 2 "ca init refuses an existing CA directory" \
    "$J" ca init --dir ca --name "Other"
expect_err_contains "already exists"
expect_true "the existing root key must be untouched" cmp -s ca/root.key root.key.before

mkdir empty-dir
expect_rc 2 "ca init refuses an existing empty directory" \
    "$J" ca init --dir empty-dir --name "Other"
expect_err_contains "already exists"

expect_rc 2 "ca init with a missing profiles directory" \
    "$J" ca init --dir c-noprof --name X --profiles "$W/no-profiles"
expect_err_contains "cannot open $W/no-profiles/root.profile"
expect_true "no directory may be created" no_file c-noprof

expect_rc 0 "ca init --alg ed25519" "$J" ca init --dir ca-ed --name "Ed CB" --alg ed25519
expect_err_contains "Ed25519"
expect_true "ed25519 signer key missing" test -s ca-ed/signers/0001.key

printf 'correct horse battery\n' > pass.txt
printf 'wrong\n' > wrong-pass.txt
: > empty-pass.txt
# jcstar encrypts keys with 200,000 rounds of PBKDF2, which cost memcheck
# about 8 s each time (a wrong passphrase: twice). Under memcheck the
# cases that write encrypted keys stay (ca init --passphrase-file here,
# ca rotate below), the second CA (ca-env) is made with $JS, and both
# CAs' keys are then encrypted again with fewer rounds (fewer_rounds) for
# the cases that only read them.
# fewer_rounds KEYFILE PASSPHRASE: KEYFILE again as jcstar writes it
# (PKCS#8, PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) but with 2048 rounds,
# by openssl(1), in place (mode kept); jcstar reads it with the same calls.
fewer_rounds() {
	openssl pkcs8 -topk8 -in "$1" -passin pass:"$2" -v2 aes-256-cbc \
	    -v2prf hmacWithSHA256 -iter 2048 -passout pass:"$2" -out "$1.new" &&
	    cat "$1.new" > "$1" && rm -f "$1.new"
}
expect_rc 0 "ca init --passphrase-file encrypts the keys" \
    "$J" ca init --dir ca-pw --name "PW CB" --passphrase-file pass.txt
expect_err_contains "keys encrypted"
check "passphrase-file: root key is ENCRYPTED PRIVATE KEY" \
    test "$(first_line ca-pw/root.key)" = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
check "passphrase-file: signer key is ENCRYPTED PRIVATE KEY" \
    test "$(first_line ca-pw/signers/0001.key)" = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
check "passphrase-file: encrypted keys are mode 0600" \
    test "$(mode_of ca-pw/signers/0001.key)" = 600

JE=$J
[ "$MEMCHECK" = 1 ] && JE=$JS
JCSTAR_PASSPHRASE="env secret" expect_rc 0 "ca init with JCSTAR_PASSPHRASE encrypts the keys" \
    "$JE" ca init --dir ca-env --name "Env CB"
check "JCSTAR_PASSPHRASE: signer key is ENCRYPTED PRIVATE KEY" \
    test "$(first_line ca-env/signers/0001.key)" = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
if [ "$MEMCHECK" = 1 ]; then
	for f in ca-pw/root.key ca-pw/signers/0001.key; do
		check "memcheck: $f again with 2048 rounds" \
		    fewer_rounds "$f" "correct horse battery"
	done
	for f in ca-env/root.key ca-env/signers/0001.key; do
		check "memcheck: $f again with 2048 rounds" \
		    fewer_rounds "$f" "env secret"
	done
	check "memcheck: the keys are still encrypted, mode 0600" \
	    test "$(first_line ca-pw/root.key)" = "-----BEGIN ENCRYPTED PRIVATE KEY-----" \
	    -a "$(mode_of ca-pw/root.key)" = 600
fi

expect_rc 2 "ca init with an empty passphrase file" \
    "$J" ca init --dir ca-emptypw --name X --passphrase-file empty-pass.txt
expect_err_contains "is empty"
expect_true "no directory may be created" no_file ca-emptypw

expect_rc 2 "ca init with a missing passphrase file" \
    "$J" ca init --dir ca-nopw --name X --passphrase-file no-such-pass.txt
expect_err_contains "cannot open passphrase file no-such-pass.txt"
expect_true "no directory may be created" no_file ca-nopw

# ---- trust export -------------------------------------------------------

expect_rc 0 "trust export to a file" "$J" trust export --ca ca -o trust.pem
expect_err_contains "1 root, 1 signer"
check "trust bundle holds the root and the signer" test "$(count_certs trust.pem)" = 2

expect_rc 0 "trust export to stdout (-o -)" "$J" trust export --ca ca -o -
expect_out_contains "-----BEGIN CERTIFICATE-----"
expect_true "stdout bundle differs from the file bundle" cmp -s "$W/.out" trust.pem

expect_rc 2 "trust export of a directory that is not a CA" \
    "$J" trust export --ca no-such-ca -o t.pem
expect_err_contains "no-such-ca is not a jcstar CA directory"
expect_err_contains "No such file or directory"
expect_output_lacks "not a jcstar CA directory: no-such-ca is not"
expect_true "no bundle may be written" no_file t.pem

expect_rc 2 "trust export into a missing directory" \
    "$J" trust export --ca ca -o no-dir/t.pem
expect_err_contains "cannot create no-dir/t.pem"

"$JS" trust export --ca ca-ed -o trust-ed.pem -q
"$JS" trust export --ca ca-pw -o trust-pw.pem -q

# ---- issue ----------------------------------------------------------------

expect_rc 0 "issue the reference label (.der -> DER)" issue_ref ca ref.der
expect_err_contains "issued JC-STAR ★1 label"
check "issue: .der output is DER (first byte 0x30)" test "$(first_byte_hex ref.der)" = 30
REF_SIZE=$(wc -c < ref.der)
check "reference label is <= 220 bytes (it is $REF_SIZE)" test "$REF_SIZE" -le 220

expect_rc 0 "issue to .pem writes PEM" issue_ref ca ref.pem
check "issue: .pem output starts with -----BEGIN JCSTAR LABEL-----" \
    test "$(first_line ref.pem)" = "-----BEGIN JCSTAR LABEL-----"
check "issue: .pem output ends with -----END JCSTAR LABEL-----" \
    test "$(tail -n 1 ref.pem)" = "-----END JCSTAR LABEL-----"

expect_rc 0 "issue -o - writes DER to stdout" "$J" issue --ca ca --level 1 "${P[@]}" -o -
expect_true "stdout is not DER" test "$(first_byte_hex "$W/.out")" = 30

expect_rc 0 "issue --json prints the fields" issue_ref ca json.der --json
expect_out_contains '"reg_id":"JCS-2025-000123"'
expect_out_contains '"level":1'
expect_out_contains '"support_until":"2030-03-31"'
expect_true "label file json.der missing" test -s json.der

expect_rc 2 "issue --json with -o - is refused" issue_ref ca - --json
expect_err_contains "--json prints to stdout"

expect_rc 2 "issue --level 0 is rejected" "$J" issue --ca ca --level 0 "${P[@]}" -o l0.der
expect_err_contains "level 0 is not defined for JC-STAR"
expect_true "no label may be written" no_file l0.der

expect_rc 2 "issue --level 5 is rejected" "$J" issue --ca ca --level 5 "${P[@]}" -o l5.der
expect_err_contains "level 5 is not defined for JC-STAR"
expect_true "no label may be written" no_file l5.der

expect_rc 2 "issue --level x is rejected" "$J" issue --ca ca --level x "${P[@]}" -o lx.der
expect_err_contains "--level must be a number"

expect_rc 2 "issue --level 3 without --lab is rejected" \
    "$J" issue --ca ca --level 3 "${P[@]}" -o l3nolab.der
expect_err_contains "(--lab)"
expect_err_contains "third-party"
expect_true "no label may be written" no_file l3nolab.der

expect_rc 0 "issue --level 3 with --lab" \
    "$J" issue --ca ca --level 3 --lab "Japan Test Lab" "${P[@]}" \
    --reg-id JCS-2025-000993 -o l3.der
expect_err_contains "★3"

expect_rc 0 "issue --level 4 with --lab" \
    "$J" issue --ca ca --level 4 --lab "Japan Test Lab" "${P[@]}" \
    --reg-id JCS-2025-000994 -o l4.der

expect_rc 2 "issue --valid-days 800 (over 2 years) is rejected" \
    "$J" issue --ca ca --level 1 --valid-days 800 "${P[@]}" -o v800.der
expect_err_contains "exceeds the JC-STAR maximum of 2 years"
expect_true "no label may be written" no_file v800.der

expect_rc 2 "issue --valid-days 0 is rejected" \
    "$J" issue --ca ca --level 1 --valid-days 0 "${P[@]}" -o v0.der
expect_err_contains "--valid-days must be a number of days from 1"

expect_rc 0 "issue --valid-days 365" \
    "$J" issue --ca ca --level 1 --valid-days 365 "${P[@]}" -o v365.der

expect_rc 0 "issue --unit-serial" \
    "$J" issue --ca ca --level 1 --unit-serial SN0001 "${P[@]}" -o unit.der

expect_rc 2 "issue --unit-serial with a space is rejected" \
    "$J" issue --ca ca --level 1 --unit-serial "SN 1" "${P[@]}" -o unitbad.der
expect_err_contains "unit serial may hold only ASCII letters"

expect_rc 2 "issue --support-until 2030-13-01 is rejected" \
    "$J" issue --ca ca --level 1 --support-until 2030-13-01 "${P[@]}" -o su.der
expect_err_contains "'2030-13-01' is not a date (YYYY-MM-DD)"
expect_true "no label may be written" no_file su.der

expect_rc 2 "issue --support-until 2030-02-30 is rejected" \
    "$J" issue --ca ca --level 1 --support-until 2030-02-30 "${P[@]}" -o su.der
expect_err_contains "'2030-02-30' is not a date"

expect_rc 2 "issue with bad UTF-8 in --vendor is rejected" \
    "$J" issue --ca ca --level 1 --scheme jcstar --reg-id R-1 \
    --vendor "$(printf 'Bad\377Vendor')" --product P --model M -o utf.der
expect_err_contains "vendor is not valid UTF-8"
expect_true "no label may be written" no_file utf.der

expect_rc 0 "issue with UTF-8 (Japanese) vendor" \
    "$J" issue --ca ca --level 1 --scheme jcstar --reg-id R-1 \
    --vendor "株式会社サンプル" --product P --model M -o jp.der

expect_rc 2 "issue with a 33-byte --model is rejected" \
    "$J" issue --ca ca --level 1 --scheme jcstar --reg-id R-1 --vendor V \
    --product P --model "$(printf 'M%.0s' $(seq 33))" -o longmodel.der
expect_err_contains "model is 33 bytes long; at most 32"
expect_true "no label may be written" no_file longmodel.der

expect_rc 2 "issue with a space in --reg-id is rejected" \
    "$J" issue --ca ca --level 1 --scheme jcstar --reg-id "JCS 1" --vendor V \
    --product P --model M -o regid.der
expect_err_contains "registration id may hold only ASCII letters"

expect_rc 2 "issue --scheme cls level 3 follows the CLS profile" \
    "$J" issue --ca ca --level 3 --scheme cls --reg-id R-CLS --vendor V \
    --product P --model M -o cls.der
expect_err_contains "CLS level 3 needs a third-party assessment"

expect_rc 2 "issue --scheme bogus is rejected" \
    "$J" issue --ca ca --level 1 --scheme bogus --reg-id R-1 --vendor V \
    --product P --model M -o bogus.der
expect_err_contains "unknown --scheme 'bogus'"

expect_rc 2 "issue from a directory that is not a CA" \
    "$J" issue --ca no-such-ca --level 1 "${P[@]}" -o x.der
expect_err_contains "no-such-ca is not a jcstar CA directory"
expect_err_contains "No such file or directory"

expect_rc 2 "issue --not-before bogus is rejected" \
    "$J" issue --ca ca --level 1 --not-before bogus "${P[@]}" -o nb.der
expect_err_contains "--not-before: 'bogus' is not a date"

SIGNER_END_YEAR=$(openssl x509 -in ca/signers/0001.crt -noout -enddate | awk '{print $4}')
expect_rc 2 "issue --not-before before the signer exists is rejected" \
    "$J" issue --ca ca --level 1 --not-before 2020-01-01 "${P[@]}" -o nb.der
expect_err_contains "is not valid at 2020-01-01"
expect_err_contains " to $SIGNER_END_YEAR-"

expect_rc 0 "issue with Ed25519 CA" "$J" issue --ca ca-ed --level 1 "${P[@]}" -o ed.der

# passphrases
expect_rc 2 "issue with a wrong passphrase fails" \
    "$J" issue --ca ca-pw --level 1 "${P[@]}" --passphrase-file wrong-pass.txt -o pw.der
expect_err_contains "wrong passphrase"
expect_true "no label may be written" no_file pw.der

expect_rc 2 "issue with no passphrase for encrypted keys fails" \
    "$J" issue --ca ca-pw --level 1 "${P[@]}" -o pw.der
expect_err_contains "passphrase"
expect_err_contains "--passphrase-file or JCSTAR_PASSPHRASE"

expect_rc 0 "issue with the right --passphrase-file" \
    "$J" issue --ca ca-pw --level 1 "${P[@]}" --passphrase-file pass.txt -o pw.der

JCSTAR_PASSPHRASE=wrong expect_rc 2 "issue with a wrong JCSTAR_PASSPHRASE fails" \
    "$J" issue --ca ca-env --level 1 "${P[@]}" -o env.der
expect_err_contains "wrong passphrase"

JCSTAR_PASSPHRASE="env secret" expect_rc 0 "issue with the right JCSTAR_PASSPHRASE" \
    "$J" issue --ca ca-env --level 1 "${P[@]}" -o env.der

# ---- show ----------------------------------------------------------------

expect_rc 0 "show prints the reference label's fields" "$J" show ref.der
expect_out_contains "not verified"
expect_out_contains "JC-STAR ★1"
expect_out_contains "JCS-2025-000123"
expect_out_contains "$REF_VENDOR"
expect_out_contains "Home Router"
expect_out_contains "HR-1000"
expect_out_contains "2030-03-31"
expect_out_contains "self-declared"
expect_out_contains "$REF_SIZE bytes (DER)"

expect_rc 0 "show --json" "$J" show --json ref.der
expect_out_contains "\"der_size\":$REF_SIZE"
expect_out_contains '"scheme":"jcstar"'
expect_out_contains "\"vendor\":\"$REF_VENDOR\""
expect_out_contains '"model":"HR-1000"'

expect_rc 0 "show a PEM label" "$J" show ref.pem
expect_out_contains "JCS-2025-000123"

STDIN=ref.der expect_rc 0 "show - reads stdin" "$J" show -
expect_out_contains "JCS-2025-000123"

expect_rc 0 "show --json of two labels prints two lines" "$J" show --json ref.der unit.der
expect_true "not two lines of JSON" test "$(wc -l < "$W/.out")" = 2
expect_out_contains '"unit_serial":"SN0001"'

expect_rc 0 "show a level 3 label names the lab" "$J" show l3.der
expect_out_contains "third-party, lab: Japan Test Lab"

expect_rc 0 "show an Ed25519 label" "$J" show ed.der

expect_rc 1 "show a certificate instead of a label" "$J" show trust.pem
expect_err_contains "expected 'JCSTAR LABEL'"

printf 'hello, world\n' > text.txt
expect_rc 1 "show a text file" "$J" show text.txt
expect_err_contains "not a jcstar label"

expect_rc 2 "show a missing file" "$J" show missing.der
expect_err_contains "cannot open missing.der"

# ---- verify ---------------------------------------------------------------

expect_rc 0 "verify a valid label" "$J" verify --trust trust.pem ref.der
expect_out_contains "VALID"
expect_out_contains "genuine JC-STAR ★1 label"
expect_output_lacks "NOT VALID"

expect_rc 0 "verify a PEM label" "$J" verify --trust trust.pem ref.pem
expect_out_contains "VALID"

expect_rc 0 "verify --json" "$J" verify --trust trust.pem --json ref.der
expect_out_contains '"valid":true'
expect_out_contains '"verdict":"valid"'

expect_rc 0 "verify -q prints nothing" "$J" verify -q --trust trust.pem ref.der
expect_true "stdout not empty" test ! -s "$W/.out"

STDIN=ref.der expect_rc 0 "verify - reads stdin" "$J" verify --trust trust.pem -
expect_out_contains "VALID"

expect_rc 0 "verify an Ed25519 label" "$J" verify --trust trust-ed.pem ed.der
expect_out_contains "VALID"

expect_rc 0 "verify a label of an encrypted-key CA" "$J" verify --trust trust-pw.pem pw.der

AFTER_LABEL=$(utc_in_days 800)
expect_rc 1 "verify --at after the label's end (signer still valid)" \
    "$J" verify --trust trust.pem --at "$AFTER_LABEL" ref.der
expect_err_contains "NOT VALID (expired)"
expect_err_contains "label expired on"

expect_rc 1 "verify --at far in the future" \
    "$J" verify --trust trust.pem --at 2099-01-01T00:00:00Z ref.der
expect_err_contains "expired"

expect_rc 1 "verify --json of an expired label" \
    "$J" verify --trust trust.pem --json --at "$AFTER_LABEL" ref.der
expect_out_contains '"valid":false'
expect_out_contains '"verdict":"expired"'

expect_rc 1 "verify --at before issuance" \
    "$J" verify --trust trust.pem --at 2020-01-01 ref.der
expect_err_contains "not-yet-valid"

expect_rc 0 "issue a label that starts in 30 days (--not-before)" \
    "$J" issue --ca ca --level 1 "${P[@]}" --not-before "$(utc_in_days 30)" -o future.der
expect_rc 1 "verify a label before its not-before" \
    "$J" verify --trust trust.pem future.der
expect_err_contains "NOT VALID (not-yet-valid)"
expect_err_contains "label is not valid until"
expect_rc 0 "verify --at inside a future label's validity" \
    "$J" verify --trust trust.pem --at "$(utc_in_days 31)" future.der

expect_rc 2 "verify --at yesterday is a usage error" \
    "$J" verify --trust trust.pem --at yesterday ref.der
expect_err_contains "--at: 'yesterday' is not a date"

expect_rc 1 "verify --min-level 2 on a level-1 label" \
    "$J" verify --trust trust.pem --min-level 2 ref.der
expect_err_contains "below-policy"
expect_err_contains "label is JC-STAR ★1; JC-STAR ★2 or higher is required"

expect_rc 0 "verify --min-level 1 on a level-1 label" \
    "$J" verify --trust trust.pem --min-level 1 ref.der

expect_rc 2 "verify --min-level x is a usage error" \
    "$J" verify --trust trust.pem --min-level x ref.der
expect_err_contains "--min-level for JC-STAR must be a level from 1 to 4, not 'x'"

expect_rc 2 "verify --min-level 5 is beyond every scheme's levels" \
    "$J" verify --trust trust.pem --min-level 5 ref.der
expect_err_contains "from 1 to 4, not '5'"

expect_rc 0 "verify --importance low accepts level 1" \
    "$J" verify --trust trust.pem --importance low ref.der
expect_out_contains "VALID"

expect_rc 1 "verify --importance medium rejects level 1" \
    "$J" verify --trust trust.pem --importance medium ref.der
expect_err_contains "below-policy"
expect_err_contains "JC-STAR ★3 or higher is required"

expect_rc 1 "verify --importance high rejects level 1" \
    "$J" verify --trust trust.pem --importance high ref.der
expect_err_contains "below-policy"

expect_rc 0 "verify --importance high accepts level 3" \
    "$J" verify --trust trust.pem --importance high l3.der

expect_rc 2 "verify --importance extreme is a usage error" \
    "$J" verify --trust trust.pem --importance extreme ref.der
expect_err_contains "defines no importance 'extreme' (known: low medium high)"

expect_rc 1 "verify a label of another CA" "$J" verify --trust trust.pem ed.der
expect_err_contains "unknown-issuer"
expect_err_contains "no signer in the trust bundle has key id"

expect_rc 1 "verify against another CA's trust bundle" \
    "$J" verify --trust trust-ed.pem ref.der
expect_err_contains "unknown-issuer"

cat ca-ed/root.crt ca/signers/0001.crt > mixed.pem
expect_rc 1 "verify with the signer but another CA's root" \
    "$J" verify --trust mixed.pem ref.der
expect_err_contains "untrusted"
expect_err_contains "does not chain to a root"

cp ref.der tampered.der
flip_at tampered.der "Home Router"
check "tampered copy differs from the label" sh -c '! cmp -s ref.der tampered.der'
expect_rc 1 "verify a label with one byte changed in the product name" \
    "$J" verify --trust trust.pem tampered.der
expect_err_contains "bad-signature"
expect_err_contains "altered or forged"

expect_rc 0 "show still decodes the tampered label (show does not verify)" \
    "$J" show tampered.der
expect_out_contains "Xome Router"

head -c 100 ref.der > truncated.der
expect_rc 1 "verify a truncated label" "$J" verify --trust trust.pem truncated.der
expect_err_contains "truncated"

expect_rc 1 "show a truncated label" "$J" show truncated.der
expect_err_contains "truncated"

{ cat ref.der; printf 'x'; } > trailing.der
expect_rc 1 "verify a label with a trailing byte" "$J" verify --trust trust.pem trailing.der
expect_err_contains "trailing"

: > empty.der
expect_rc 1 "verify an empty file" "$J" verify --trust trust.pem empty.der
expect_err_contains "label is empty"

dd if=/dev/zero of=big.der bs=1048576 count=10 2>/dev/null
expect_rc 2 "verify a 10 MB file" "$J" verify --trust trust.pem big.der
expect_err_contains "10485760 bytes; at most 8192 bytes are accepted"

STDIN=big.der expect_rc 2 "verify 10 MB on stdin" "$J" verify --trust trust.pem -
expect_err_contains "at most 8192 bytes are accepted"

sed 's/JCSTAR LABEL/CERTIFICATE/' ref.pem > wrong-header.pem
expect_rc 1 "verify a PEM with a CERTIFICATE header" \
    "$J" verify --trust trust.pem wrong-header.pem
expect_err_contains "expected 'JCSTAR LABEL'"

expect_rc 2 "verify a missing file" "$J" verify --trust trust.pem missing.der
expect_err_contains "cannot open missing.der"

expect_rc 2 "verify with a missing trust bundle" "$J" verify --trust no-trust.pem ref.der
expect_err_contains "cannot open no-trust.pem"

expect_rc 2 "verify with a trust bundle that is not PEM" \
    "$J" verify --trust ref.der ref.der
expect_err_contains "trust bundle"

expect_rc 1 "verify several labels, one bad" \
    "$J" verify --trust trust.pem ref.der unit.der tampered.der l3.der
expect_err_contains "ref.der: VALID"
expect_err_contains "tampered.der: NOT VALID (bad-signature)"
expect_err_contains "l3.der: VALID"

expect_rc 0 "verify several labels, all good" \
    "$J" verify --trust trust.pem ref.der ref.pem unit.der l3.der l4.der jp.der
expect_output_lacks "NOT VALID"

expect_rc 1 "verify --json of several labels, one bad" \
    "$J" verify --trust trust.pem --json ref.der tampered.der
expect_true "not two lines of JSON" test "$(wc -l < "$W/.out")" = 2
expect_out_contains '"verdict":"bad-signature"'

# ---- ca rotate -------------------------------------------------------

cp ref.der old-signer.der
OLD_KID=$("$J" show --json old-signer.der > old.json && json_field old.json issuer_key_id)
expect_rc 0 "ca rotate adds a signer" "$J" ca rotate --dir ca
expect_err_contains "re-export the trust bundle"
expect_true "ca/signers/0002.crt missing" test -s ca/signers/0002.crt
check "ca rotate: new signer key is mode 0600" test "$(mode_of ca/signers/0002.key)" = 600

expect_rc 0 "trust export after rotation has two signers" \
    "$J" trust export --ca ca -o trust2.pem
expect_err_contains "1 root, 2 signers"
check "rotated bundle holds 3 certificates" test "$(count_certs trust2.pem)" = 3

expect_rc 0 "issue after rotation" issue_ref ca new-signer.der
expect_rc 0 "the old signer's label verifies with the new bundle" \
    "$J" verify --trust trust2.pem old-signer.der
expect_out_contains "Label Signer 0001"
expect_rc 0 "the new signer's label verifies with the new bundle" \
    "$J" verify --trust trust2.pem new-signer.der
expect_out_contains "Label Signer 0002"
expect_rc 1 "the new signer's label is unknown to the old bundle" \
    "$J" verify --trust trust.pem new-signer.der
expect_err_contains "unknown-issuer"

NEW_KID=$("$J" show --json new-signer.der > new.json && json_field new.json issuer_key_id)
check "show reports a different issuer key id after rotation ($OLD_KID vs $NEW_KID)" \
    test -n "$OLD_KID" -a -n "$NEW_KID" -a "$OLD_KID" != "$NEW_KID"
expect_rc 0 "show prints the new issuer key id" "$J" show new-signer.der
expect_out_contains "issuer key id     $NEW_KID"

expect_rc 2 "ca rotate of encrypted CA without a passphrase" "$J" ca rotate --dir ca-pw
expect_err_contains "are encrypted: give the passphrase"
expect_true "no signer may be added" no_file ca-pw/signers/0002.crt

expect_rc 2 "ca rotate with a wrong passphrase" \
    "$J" ca rotate --dir ca-pw --passphrase-file wrong-pass.txt
expect_err_contains "wrong passphrase"
expect_true "no signer may be added" no_file ca-pw/signers/0002.crt

expect_rc 0 "ca rotate with the right passphrase" \
    "$J" ca rotate --dir ca-pw --passphrase-file pass.txt
check "rotated encrypted signer key is ENCRYPTED PRIVATE KEY" \
    test "$(first_line ca-pw/signers/0002.key)" = "-----BEGIN ENCRYPTED PRIVATE KEY-----"

expect_rc 2 "ca rotate of a directory that is not a CA" "$J" ca rotate --dir no-such-ca
expect_err_contains "no-such-ca is not a jcstar CA directory"

# ---- generic tools: openssl on the outer layer ----------------------------

# d=1 lines of the outer SEQUENCE: tbsLabel, signatureAlgorithm, signature.
outer_offsets() {
	openssl asn1parse -inform DER -in "$1" | awk -F: '/:d=1 / {print $1+0}'
}
# extract LABEL TBS SIG: the tbsLabel (full DER) and the raw signature.
extract() {
	local offs tbs_off sig_off
	offs=$(outer_offsets "$1") || return 1
	tbs_off=$(echo "$offs" | sed -n 1p)
	sig_off=$(echo "$offs" | sed -n 3p)
	[ -n "$tbs_off" ] && [ -n "$sig_off" ] || return 1
	openssl asn1parse -inform DER -in "$1" -strparse "$tbs_off" -noout -out "$2" &&
	    openssl asn1parse -inform DER -in "$1" -strparse "$sig_off" -noout -out "$3"
}

expect_rc 0 "openssl asn1parse reads the label" openssl asn1parse -inform DER -in old-signer.der
expect_out_contains "ecdsa-with-SHA256"
expect_out_contains "BIT STRING"
expect_out_contains ":HR-1000"

check "openssl asn1parse extracts the tbsLabel and the signature" \
    extract old-signer.der tbs.bin sig.bin
check "tbsLabel bytes are those of the label" \
    sh -c "grep -qF 'Home Router' tbs.bin && test \$(wc -c < tbs.bin) -lt \$(wc -c < old-signer.der)"
openssl x509 -in ca/signers/0001.crt -pubkey -noout > signer1.pub.pem 2>/dev/null
expect_rc 0 "openssl dgst -sha256 -verify checks the label's signature" \
    openssl dgst -sha256 -verify signer1.pub.pem -signature sig.bin tbs.bin
expect_out_contains "Verified OK"

cp tbs.bin tbs-tampered.bin
flip_at tbs-tampered.bin "HR-1000"
expect_rc 1 "openssl dgst -verify fails for a tampered tbsLabel" \
    openssl dgst -sha256 -verify signer1.pub.pem -signature sig.bin tbs-tampered.bin
expect_err_contains "Verification failure"

openssl x509 -in ca/signers/0002.crt -pubkey -noout > signer2.pub.pem 2>/dev/null
expect_rc 1 "openssl dgst -verify fails with the other signer's key" \
    openssl dgst -sha256 -verify signer2.pub.pem -signature sig.bin tbs.bin
expect_err_contains "Verification failure"

check "openssl extracts the Ed25519 label's tbsLabel and signature" \
    extract ed.der ed-tbs.bin ed-sig.bin
openssl x509 -in ca-ed/signers/0001.crt -pubkey -noout > ed.pub.pem 2>/dev/null
expect_rc 0 "openssl pkeyutl -rawin verifies the Ed25519 label" \
    openssl pkeyutl -verify -pubin -inkey ed.pub.pem -rawin -in ed-tbs.bin -sigfile ed-sig.bin
expect_out_contains "Signature Verified Successfully"

expect_rc 0 "signer certificate carries the label-signing EKU" \
    openssl x509 -in ca/signers/0001.crt -noout -text
expect_out_contains "2.25.184176058496225790952593353622520209578.2.1"
expect_out_contains "CA:FALSE"
expect_out_contains "Digital Signature"

expect_rc 0 "root certificate is a CA" openssl x509 -in ca/root.crt -noout -text
expect_out_contains "CA:TRUE"
expect_out_contains "Certificate Sign"
expect_output_lacks "2.25.184176058496225790952593353622520209578.2.1"

expect_rc 0 "openssl verifies the signer chains to the root (purpose any)" \
    openssl verify -CAfile ca/root.crt ca/signers/0001.crt
expect_out_contains "OK"

# ---- review fixes ----------------------------------------------------------

expect_rc 2 "issue --pem with a file name is refused before signing" \
    issue_ref ca pem-named.der --pem
expect_err_contains "--pem is for -o -"
expect_true "nothing may be written" no_file pem-named.der

expect_rc 0 "issue --pem -o - writes PEM to stdout" issue_ref ca - --pem
expect_out_contains "-----BEGIN JCSTAR LABEL-----"

expect_rc 2 "ca rotate refuses --name (it belongs to ca init)" \
    "$J" ca rotate --dir ca --name Other
expect_err_contains "--name, --alg and --verify-url belong to ca init"
expect_rc 2 "ca rotate refuses --alg" "$J" ca rotate --dir ca --alg ed25519
expect_err_contains "belong to ca init"

expect_rc 2 "a usage error points to the command's own help" \
    "$J" verify --bogus
expect_err_contains "jcstar verify: unrecognized option"
expect_err_contains "Try 'jcstar verify --help'"

expect_rc 2 "verify --json still reports an unreadable file" \
    "$J" verify --trust trust2.pem --json new-signer.der no-such-file.der
expect_out_contains '"file":"no-such-file.der","valid":false,"verdict":"io-error"'
expect_out_contains '"file":"new-signer.der","valid":true'

# ---- summary --------------------------------------------------------------

cli_summary
