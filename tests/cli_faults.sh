#!/usr/bin/env bash
# tests/cli_faults.sh - issuance when things go wrong underneath: the
# registry locked by another process for longer than the timeout, the disk
# filling up in the middle of a batch, the HSM token disappearing in the
# middle of a batch. Each must end with a clear error and exit status 2, a
# consistent registry (integrity check, audit chain, every written label
# recorded) and a batch that resumes to completion once the fault is gone.
# Run by `make test-cli` as JCSTAR=/abs/path/jcstar tests/cli_faults.sh.
# Needs: sqlite3, mount (tmpfs: run as root), softhsm2, opensc.

. "$(dirname "$0")/lib-cli.sh"

REG=(--scheme jcstar --level 1 --vendor V --product P --model M)
units() { # FILE FROM TO
	{ echo unit_serial; seq -f "U%06g" "$2" "$3"; } > "$1"
}
count() { sqlite3 "$1/registry.db" "SELECT count(*) FROM labels"; }
# The batches below are sized FULL LIGHT (tests/lib-cli.sh): smaller under
# memcheck, where each label costs milliseconds, yet each still stops on
# its fault part of the way (said at each), and a list is verified in part
# there (each line takes the path of the one before it).
consistent() { # CA OUTDIR: the registry is whole and every file recorded
	local ca=$1 out=$2 rec files
	check "$ca: integrity_check ok" \
	    test "$(sqlite3 "$ca/registry.db" 'PRAGMA integrity_check')" = ok
	expect_rc 0 "$ca: the audit chain is intact" "$J" audit verify --ca "$ca"
	rec=$(count "$ca")
	files=$(find "$out" -name '*.der' -size +0 | wc -l)
	check "$ca: every label file is recorded ($files files, $rec rows)" \
	    test "$files" -le "$rec"
	check "$ca: no temporary files are left" \
	    test "$(find "$out" -name '*.tmp*' | wc -l)" -eq 0
}

# ---- the registry locked beyond the timeout --------------------------------

"$JS" ca init --dir ca --name "Fault Body" -q
"$JS" register --ca ca --reg-id R-1 "${REG[@]}" -q
# another process holds the write lock until it is killed below (however
# slowly jcstar runs, e.g. under valgrind)
mkfifo hold
sqlite3 ca/registry.db < hold &
HOLDER=$!
exec 9> hold
echo "BEGIN IMMEDIATE; INSERT INTO meta VALUES ('held', 'x');" >&9
for _ in $(seq 1 100); do
	sqlite3 ca/registry.db "BEGIN IMMEDIATE; ROLLBACK;" 2>/dev/null ||
	    break
	sleep 0.05
done
expect_rc 2 "issue waits JCSTAR_LOCK_TIMEOUT, then stops" \
    env JCSTAR_LOCK_TIMEOUT=1 "$J" issue --ca ca --reg-id R-1 \
    --unit-serial A1 -o a1.der
expect_err_contains "the registry is locked by another process (waited 1 s"
expect_true "no label file was written" no_file a1.der
units u1.csv 1 300
mkdir out1
expect_rc 2 "a batch under the lock stops too" \
    env JCSTAR_LOCK_TIMEOUT=1 "$J" issue --ca ca --reg-id R-1 \
    --batch u1.csv --out-dir out1
expect_err_contains "locked by another process"
echo "ROLLBACK;" >&9
exec 9>&-
wait "$HOLDER"
expect_rc 0 "with the lock released, the same issue succeeds" \
    "$J" issue --ca ca --reg-id R-1 --unit-serial A1 -o a1.der
expect_rc 0 "and the batch runs" \
    "$J" issue --ca ca --reg-id R-1 --batch u1.csv --out-dir out1 -q
check "300 units and 1 more issued" test "$(count ca)" -eq 301
consistent ca out1

# ---- the disk fills up in the middle of a batch, then grows --------------

mkdir small
mount -t tmpfs -o size=700k tmpfs small
"$JS" ca init --dir small/ca --name "Small Body" -q
"$JS" register --ca small/ca --reg-id R-2 "${REG[@]}" -q
# the second chunk (128 units, then 1024) meets the full disk; under
# memcheck 1500 units (128, 1024, 220, 128), so that the batch that meets
# the fault still has a chunk to sign when its commit or write fails, and
# the one that resumes reads four chunks (its pipeline has four slots)
# and then the end of the file
N2=$(sized 4000 1500)
units u2.csv 1 "$N2"
mkdir small/out
expect_rc 2 "a batch on a full disk stops with a clear error" \
    "$J" issue --ca small/ca --reg-id R-2 --batch u2.csv --out-dir small/out
# the registry's commit or a label file's write meets it first
check "saying the disk is full" \
    grep -qE "the disk is full|No space left on device" "$W/.err"
BEFORE=$(count small/ca)
check "it stopped part of the way ($BEFORE of $N2)" test "$BEFORE" -lt "$N2"
consistent small/ca small/out
mount -o remount,size=64m small
expect_rc 0 "with room again, the same batch resumes" \
    "$J" issue --ca small/ca --reg-id R-2 --batch u2.csv --out-dir small/out
check "every unit issued exactly once" test "$(count small/ca)" -eq "$N2"
check "one file per unit" \
    test "$(find small/out -name '*.der' -size +0 | wc -l)" -eq "$N2"
consistent small/ca small/out
umount small

# ---- the disk holding the label list fills up, then grows ------------------

"$JS" register --ca ca --reg-id R-4 "${REG[@]}" -q
"$JS" trust export --ca ca -o ca-trust.pem -q
# a line is about 450 bytes: the first chunk's 128 lines fit in 256k, the
# second's 1024 do not, and it stops with the third chunk recorded (2176
# units); under memcheck 3300 units (128, 1024, 1024, 996, 128), so that
# the run that resumes still reuses its pipeline's four slots and their
# lines' buffers
N4=$(sized 4000 3300)
units u4.csv 1 "$N4"
mkdir small-list
mount -t tmpfs -o size=256k tmpfs small-list
expect_rc 2 "a batch whose list fills the disk stops with a clear error" \
    "$J" issue --ca ca --reg-id R-4 --batch u4.csv \
    --out-list small-list/labels.csv --base-url HTTPS://V.EXAMPLE/L/
expect_err_contains "cannot write small-list/labels.csv.jcstar-tmp: No space left on device"
expect_err_contains "run the same command again to finish"
MIDL=$(sqlite3 ca/registry.db "SELECT count(*) FROM labels WHERE reg_id='R-4'")
check "it stopped part of the way ($MIDL of $N4 recorded)" \
    test "$MIDL" -gt 0 -a "$MIDL" -lt "$N4"
check "no list appears under its name" no_file small-list/labels.csv
check "no temporary list is left" no_file small-list/labels.csv.jcstar-tmp
check "ca: integrity_check ok" \
    test "$(sqlite3 ca/registry.db 'PRAGMA integrity_check')" = ok
mount -o remount,size=64m small-list
expect_rc 0 "with room again, the same batch resumes" \
    "$J" issue --ca ca --reg-id R-4 --batch u4.csv \
    --out-list small-list/labels.csv --base-url HTTPS://V.EXAMPLE/L/
expect_err_contains "$N4 lines written"
check "every unit issued exactly once" test "$(sqlite3 ca/registry.db \
    "SELECT count(*), count(DISTINCT unit_serial) FROM labels WHERE reg_id='R-4'")" = "$N4|$N4"
check "the list has every unit once, in order" \
    cmp -s <(tail -n +2 small-list/labels.csv | cut -d, -f1) <(seq -f "U%06g" 1 "$N4")
check "its serials are the registry's" \
    cmp -s <(tail -n +2 small-list/labels.csv | cut -d, -f1,2 | sort) \
    <(sqlite3 -separator , ca/registry.db "SELECT unit_serial, serial FROM labels WHERE reg_id='R-4'" | sort)
NV4=$(sized "$N4" 300)
head -n $((NV4 + 1)) small-list/labels.csv > check4.csv
expect_rc 0 "$NV4 of the list's $N4 lines verify" \
    "$J" verify --trust ca-trust.pem --batch check4.csv -q
expect_rc 0 "the audit chain is intact" "$J" audit verify --ca ca
umount small-list

# ---- the HSM token disappears in the middle of a batch ------------------

MODULE=/usr/lib/softhsm/libsofthsm2.so
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$W" > softhsm2.conf
export SOFTHSM2_CONF=$W/softhsm2.conf
check "a SoftHSM2 token" softhsm2-util --init-token --free \
    --label fault-test --so-pin 1234 --pin 5678
check "a P-256 key in it" pkcs11-tool --module "$MODULE" \
    --token-label fault-test --login --pin 5678 --keypairgen \
    --key-type EC:prime256v1 --label signer --id 01
printf '5678\n' > pin
URI="pkcs11:token=fault-test;object=signer;type=private?module-path=$MODULE&pin-source=$W/pin"
"$JS" ca init --dir hsm --name "HSM Body" -q
expect_rc 0 "the CA signs with the HSM key" "$J" ca rotate --dir hsm --key "$URI"
"$JS" register --ca hsm --reg-id R-3 "${REG[@]}" -q
# the token goes once 300 labels are recorded, with the second chunk (128,
# then 1024): under memcheck 2100 units leave a chunk of 820 to sign
N3=$(sized 3000 2100)
units u3.csv 1 "$N3"
mkdir out3
"$J" issue --ca hsm --reg-id R-3 --batch u3.csv --out-dir out3 \
    > batch3.out 2> batch3.err &
BATCH=$!
# take the token away once some labels are recorded
for _ in $(seq 1 600); do
	n=$(count hsm 2>/dev/null || echo 0)
	[ "${n:-0}" -ge 300 ] && break
	kill -0 "$BATCH" 2>/dev/null || break
	sleep 0.05
done
mv tokens tokens.away
wait "$BATCH"
RC=$?
check "the batch stops with exit status 2 (got $RC)" test "$RC" -eq 2
check "saying why: $(head -n 1 batch3.err | cut -c1-200)" \
    grep -qiE "sign|token|pkcs11|key" batch3.err
MID=$(count hsm)
check "part of the batch was issued ($MID of $N3)" test "$MID" -lt "$N3"
consistent hsm out3
mv tokens.away tokens
expect_rc 0 "with the token back, the same batch resumes" \
    "$J" issue --ca hsm --reg-id R-3 --batch u3.csv --out-dir out3
check "every unit issued exactly once" test "$(count hsm)" -eq "$N3"
consistent hsm out3
"$JS" trust export --ca hsm -o hsm-trust.pem -q
expect_rc 0 "a label signed before the fault verifies" \
    "$J" verify --trust hsm-trust.pem out3/U000001.der
expect_rc 0 "a label signed after it verifies" \
    "$J" verify --trust hsm-trust.pem "out3/$(printf 'U%06d' "$N3").der"
# a label list signed by the HSM key, with two jobs
"$JS" register --ca hsm --reg-id R-5 "${REG[@]}" -q
# (under memcheck 1100 units: still three chunks, 128, 844, 128)
N5=$(sized 1500 1100)
units u5.csv 1 "$N5"
expect_rc 0 "an HSM batch into a label list (--jobs 2)" \
    "$J" issue --ca hsm --reg-id R-5 --batch u5.csv --out-list hsm-list.csv \
    --form bare --jobs 2
expect_err_contains "$N5 issued now"
NV5=$(sized "$N5" 300)
head -n $((NV5 + 1)) hsm-list.csv > check5.csv
expect_rc 0 "$NV5 of the HSM list's $N5 lines verify" \
    "$J" verify --trust hsm-trust.pem --batch check5.csv -q
check "the HSM list has every unit once, in order" \
    cmp -s <(tail -n +2 hsm-list.csv | cut -d, -f1) <(seq -f "U%06g" 1 "$N5")
check "the HSM list's serials are the registry's" \
    cmp -s <(tail -n +2 hsm-list.csv | cut -d, -f1,2 | sort) \
    <(sqlite3 -separator , hsm/registry.db "SELECT unit_serial, serial FROM labels WHERE reg_id='R-5'" | sort)

# ---- the HSM token directory made unreadable in the middle of a batch ----
# Root reads any file, so the batch runs without the capabilities that
# let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH): mode 000 then stops it
# as it stops any other user.
NODAC=(setpriv --bounding-set -dac_override,-dac_read_search)
"$JS" register --ca hsm --reg-id R-4 "${REG[@]}" -q
N6=$(sized 3000 2100) # as for out3
units u4.csv 1 "$N6"
mkdir out4
"${NODAC[@]}" "$J" issue --ca hsm --reg-id R-4 --batch u4.csv \
    --out-dir out4 > batch4.out 2> batch4.err &
BATCH=$!
BASE4=$(count hsm)
for _ in $(seq 1 600); do
	n=$(count hsm 2>/dev/null || echo 0)
	[ "${n:-0}" -ge $((BASE4 + 300)) ] && break
	kill -0 "$BATCH" 2>/dev/null || break
	sleep 0.05
done
chmod 000 tokens
wait "$BATCH"
RC=$?
chmod 700 tokens
check "the batch stops with exit status 2 (got $RC)" test "$RC" -eq 2
check "saying why: $(head -n 1 batch4.err | cut -c1-200)" \
    grep -qiE "sign|token|pkcs11|key" batch4.err
MID=$(($(count hsm) - BASE4))
check "part of the batch was issued ($MID of $N6)" test "$MID" -lt "$N6"
consistent hsm out4
expect_rc 0 "with the directory readable again, the batch resumes" \
    "${NODAC[@]}" "$J" issue --ca hsm --reg-id R-4 --batch u4.csv \
    --out-dir out4
check "every unit issued exactly once" \
    test "$(($(count hsm) - BASE4))" -eq "$N6"
consistent hsm out4
expect_rc 0 "a label signed after the fault verifies" \
    "$J" verify --trust hsm-trust.pem "out4/$(printf 'U%06d' "$N6").der"

cli_summary
