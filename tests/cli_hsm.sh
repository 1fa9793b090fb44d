#!/usr/bin/env bash
# tests/cli_hsm.sh - a certification body whose label signer lives in an HSM,
# as a user would set it up: a SoftHSM2 token in a throw-away directory, an
# ECDSA P-256 key pair generated inside it, `jcstar ca rotate --key URI`,
# then issue, revoke, CRL, trust export and verify with the key never
# leaving the token. Run by `make test-cli` (also with the ASan+UBSan
# build):
#
#     JCSTAR=/abs/path/to/jcstar tests/cli_hsm.sh
#
# Needs softhsm2 (softhsm2-util, libsofthsm2.so), opensc (pkcs11-tool),
# libengine-pkcs11-openssl and openssl(1) (scripts/install-deps). Without
# them it fails, naming what is missing: it never skips.

. "$(dirname "$0")/lib-cli.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
missing=
command -v softhsm2-util >/dev/null 2>&1 || missing="$missing softhsm2-util(softhsm2)"
[ -f "$MODULE" ] || missing="$missing $MODULE(softhsm2)"
command -v pkcs11-tool >/dev/null 2>&1 || missing="$missing pkcs11-tool(opensc)"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
	echo "FAIL - HSM tools are missing:$missing" >&2
	echo "    # install them with scripts/install-deps (softhsm2, opensc," >&2
	echo "    # libengine-pkcs11-openssl); these tests do not skip" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

unset JCSTAR_PKCS11_PIN JCSTAR_PKCS11_MODULE
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$W" >softhsm2.conf
export SOFTHSM2_CONF=$W/softhsm2.conf
P11() { pkcs11-tool --module "$MODULE" --token-label jcstar-test "$@"; }

# ---- the token -------------------------------------------------------

check "a SoftHSM2 token is initialised" \
    softhsm2-util --init-token --free --label jcstar-test --so-pin 1234 --pin 5678
check "an ECDSA P-256 key pair is generated inside the token" \
    P11 --login --pin 5678 --keypairgen --key-type EC:prime256v1 \
    --label signer --id 01
check "its public key can be read from the token" \
    P11 --read-object --type pubkey --id 01 -o pub.der
# the key id jcstar must show: SHA-256 of the DER SubjectPublicKeyInfo
WANT_ID=$(openssl pkey -pubin -inform DER -in pub.der -outform DER 2>/dev/null |
    openssl dgst -sha256 -r | cut -c1-16)
check "the public key's id is computed independently" test ${#WANT_ID} -eq 16
printf '5678\n' >pin
chmod 600 pin
printf '9999\n' >badpin

URI="pkcs11:token=jcstar-test;object=signer;type=private?module-path=$MODULE"

# ---- a CA, rotated onto the HSM key ----------------------------------

expect_rc 0 "ca init creates a CA with a file signer" \
    "$J" ca init --dir ca --name "HSM Certification Body"
expect_rc 0 "the first trust bundle is exported" \
    "$J" trust export --ca ca -o trust-before.pem

# Wrong PINs first (see tests/test_pkcs11.c: a process logged in once
# stays logged in; here every command is a new process anyway).
expect_rc 2 "ca rotate --key with a wrong PIN fails" \
    env JCSTAR_PKCS11_PIN=1111 "$J" ca rotate --dir ca --key "$URI"
expect_err_contains "wrong PIN for token 'jcstar-test'"
expect_output_lacks "1111"
expect_true "no signer is added" no_file ca/signers/0002.key
expect_true "no certificate is added" no_file ca/signers/0002.crt

expect_rc 2 "ca rotate --key with a wrong pin-source file fails" \
    "$J" ca rotate --dir ca --key "$URI&pin-source=$W/badpin"
expect_err_contains "wrong PIN for token 'jcstar-test'"

expect_rc 2 "ca rotate --key without any PIN fails" \
    "$J" ca rotate --dir ca --key "$URI"
expect_err_contains "no PIN for token 'jcstar-test'"
expect_err_contains "JCSTAR_PKCS11_PIN"
expect_true "no signer is added" no_file ca/signers/0002.key

expect_rc 2 "a PIN in the URI (pin-value) is refused" \
    "$J" ca rotate --dir ca --key "$URI&pin-value=5678"
expect_err_contains "pin-value in a URI is not accepted"
expect_true "no signer is added" no_file ca/signers/0002.key

expect_rc 2 "there is no option to give a PIN on the command line" \
    "$J" ca rotate --dir ca --key "$URI" --pin 5678
expect_err_contains "unrecognized option '--pin'"
expect_rc 0 "no PIN option in the help either" "$J" ca rotate --help
expect_output_lacks "--pin"
expect_out_contains "JCSTAR_PKCS11_PIN"

expect_rc 2 "a wrong object label is reported" \
    env JCSTAR_PKCS11_PIN=5678 "$J" ca rotate --dir ca \
    --key "pkcs11:token=jcstar-test;object=nosuch;type=private?module-path=$MODULE"
expect_err_contains "no private key matches URI pkcs11:token=jcstar-test;object=nosuch"

expect_rc 2 "a module that does not exist is reported" \
    env JCSTAR_PKCS11_PIN=5678 "$J" ca rotate --dir ca \
    --key "pkcs11:token=jcstar-test;object=signer?module-path=/nonexistent/p11.so"
expect_err_contains "cannot load PKCS#11 module /nonexistent/p11.so"

expect_rc 2 "--key needs a pkcs11: URI" "$J" ca rotate --dir ca --key signer.pem
expect_err_contains "--key takes a pkcs11: URI"

expect_rc 2 "--key belongs to ca rotate" \
    "$J" ca init --dir ca2 --name X --key "$URI"
expect_err_contains "--key belongs to ca rotate"
expect_true "no directory may be created" no_file ca2

expect_rc 0 "ca rotate --key moves the signer into the HSM" \
    env JCSTAR_PKCS11_PIN=5678 "$J" ca rotate --dir ca --key "$URI"
expect_err_contains "new label signer $WANT_ID"
expect_err_contains "key in the HSM"
check "signers/0002.key holds the URI" \
    grep -qxF "$URI" ca/signers/0002.key
check "signers/0002.key holds nothing but the URI" \
    test "$(cat ca/signers/0002.key)" = "$URI"
check "signers/0002.key holds no private key" \
    sh -c '! grep -q "PRIVATE KEY" ca/signers/0002.key'
check "signers/0002.key is mode 0600" test "$(mode_of ca/signers/0002.key)" = 600
check "the new certificate is for the token's key" \
    sh -c 'openssl x509 -in ca/signers/0002.crt -noout -pubkey |
        openssl pkey -pubin -outform DER | cmp -s - pub.der'

# ---- issue inside the HSM --------------------------------------------

expect_rc 0 "an assessed product is registered" \
    "$J" register --ca ca "${P[@]}" --level 2
REG=(--ca ca --reg-id JCS-2025-000999)

expect_rc 2 "issue without the PIN fails, naming the key file" \
    "$J" issue "${REG[@]}" -o nopin.der
expect_err_contains "ca/signers/0002.key"
expect_err_contains "no PIN for token 'jcstar-test'"
expect_true "no label is written" no_file nopin.der

expect_rc 2 "issue with a wrong PIN fails" \
    env JCSTAR_PKCS11_PIN=0000 "$J" issue "${REG[@]}" -o badpin.der
expect_err_contains "wrong PIN for token 'jcstar-test'"
expect_true "no label is written" no_file badpin.der

export JCSTAR_PKCS11_PIN=5678
expect_rc 0 "issue signs inside the HSM" \
    "$J" issue "${REG[@]}" --unit-serial U-1 -o hsm.der --json
expect_out_contains "\"issuer_key_id\":\"$WANT_ID\""
expect_rc 0 "a second label for another unit" \
    "$J" issue "${REG[@]}" --unit-serial U-2 -o hsm2.der
expect_rc 0 "show names the HSM key as issuer" "$J" show --json hsm.der
expect_out_contains "\"issuer_key_id\":\"$WANT_ID\""

expect_rc 0 "trust export includes the HSM signer" \
    "$J" trust export --ca ca -o trust.pem
check "the bundle holds the root and two signers" \
    test "$(count_certs trust.pem)" -eq 3
expect_rc 0 "verify: the HSM-signed label is VALID" \
    "$J" verify --trust trust.pem hsm.der
expect_out_contains "VALID"

# a batch with two jobs: the engine signs one label at a time
{ echo unit_serial; for i in $(seq 1 300); do echo "B-$i"; done; } > hsm-units.csv
mkdir hsm-out
expect_rc 0 "a batch signed in the HSM with --jobs 2" \
    "$J" issue "${REG[@]}" --batch hsm-units.csv --out-dir hsm-out --jobs 2
expect_err_contains "300 units; 300 issued now, 0 issued before; 300 files"
expect_rc 0 "batch labels signed in the HSM verify" \
    "$J" verify --trust trust.pem hsm-out/B-1.der hsm-out/B-300.der
expect_out_contains "unit B-300"
expect_rc 0 "show names the HSM key as the batch labels' issuer" \
    "$J" show --json hsm-out/B-150.der
expect_out_contains "\"issuer_key_id\":\"$WANT_ID\""
expect_rc 1 "verify with the bundle from before the rotation fails" \
    "$J" verify --trust trust-before.pem hsm.der
expect_err_contains "$WANT_ID"

cp hsm.der forged.der
flip_at forged.der CM-1
expect_rc 1 "a label altered after signing in the HSM fails" \
    "$J" verify --trust trust.pem forged.der
expect_err_contains "signature does not verify"

# ---- revocation: the CRL is signed inside the HSM ----------------------

"$JS" show --json hsm2.der >show2.json 2>/dev/null
SERIAL2=$(json_field show2.json serial)
check "the label serials are known" test -n "$SERIAL2"
expect_rc 0 "revoke one of the labels" \
    "$J" revoke --ca ca --serial "$SERIAL2" --reason key-compromise
expect_rc 0 "crl is signed by the HSM signer" \
    "$J" crl --ca ca -o crl.pem
check "openssl reads the CRL and checks its signature with the HSM key" \
    openssl crl -in crl.pem -noout -CAfile ca/signers/0002.crt
check "the CRL names the HSM signer as issuer" \
    sh -c 'openssl crl -in crl.pem -noout -issuer |
        grep -q "Label Signer 0002"'
expect_rc 0 "trust export includes the CRL" \
    "$J" trust export --ca ca -o trust-crl.pem
expect_rc 1 "verify: the revoked label fails" \
    "$J" verify --trust trust-crl.pem hsm2.der
expect_err_contains "revoked"
expect_rc 0 "verify: the other label is still VALID" \
    "$J" verify --trust trust-crl.pem hsm.der
expect_out_contains "VALID"

# ---- the PIN from a file, the module from the environment ---------------

unset JCSTAR_PKCS11_PIN
ln -s "$MODULE" mod.so
printf 'pkcs11:token=jcstar-test;object=signer;type=private?pin-source=file:%s/pin\n' \
    "$W" >ca/signers/0002.key
expect_rc 0 "a key file with pin-source and \$JCSTAR_PKCS11_MODULE" \
    env JCSTAR_PKCS11_MODULE="$W/mod.so" "$J" issue "${REG[@]}" \
    --unit-serial U-3 -o hsm3.der
expect_rc 0 "that label verifies too" "$J" verify --trust trust.pem hsm3.der
expect_out_contains "VALID"

printf '%s\n-----BEGIN PRIVATE KEY-----\n' "$URI" >ca/signers/0002.key
expect_rc 2 "a key file with more than the URI is refused" \
    env JCSTAR_PKCS11_PIN=5678 "$J" issue "${REG[@]}" --unit-serial U-4 \
    -o x.der
expect_err_contains "it must hold the URI alone"

cli_summary
