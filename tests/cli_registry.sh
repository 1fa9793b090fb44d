#!/usr/bin/env bash
# tests/cli_registry.sh - the certification body's registry through the
# command line: register, issue from registrations, list, show, revoke,
# the audit chain (and tampering with it), batch issuance (bad files,
# resuming after kill -9), concurrent issuers, and faults (foreign or newer
# registry, read-only CA directory, full disk).
# Run by `make test-cli` as JCSTAR=/abs/path/jcstar tests/cli_registry.sh.
# Needs: sqlite3 (to tamper with the registry), mount (tmpfs, read-only
# bind mounts: run as root).

. "$(dirname "$0")/lib-cli.sh"

REG=(--scheme jcstar --level 2 --vendor "Example Electronics Co., Ltd."
    --product "Home Router" --model HR-1000 --support-until 2030-03-31)
count_lines() { grep -c . "$1" || true; }

"$JS" ca init --dir ca --name "Example Certification Body" -q
expect_true "ca init creates the registry" test -s ca/registry.db

expect_rc 0 "register --help" "$J" register --help
expect_out_contains "usage: jcstar register"
expect_rc 0 "register a product" \
    "$J" register --ca ca --reg-id JCS-2025-000200 "${REG[@]}"
expect_err_contains "registered JCS-2025-000200"
expect_rc 2 "register the same id again" \
    "$J" register --ca ca --reg-id JCS-2025-000200 "${REG[@]}"
expect_err_contains "registration JCS-2025-000200 already exists"
expect_rc 2 "register star 3 without a lab" \
    "$J" register --ca ca --reg-id JCS-3 --scheme jcstar --level 3 \
    --vendor V --product P --model M
expect_err_contains "JC-STAR ★3 needs a third-party assessment naming the lab"
expect_rc 2 "register level 5" "$J" register --ca ca --reg-id JCS-5 \
    --scheme jcstar --level 5 --vendor V --product P --model M
expect_err_contains "level 5 is not defined"
expect_rc 2 "register without the product" "$J" register --ca ca --reg-id X
expect_err_contains "are required"

expect_rc 0 "issue from the registration" \
    "$J" issue --ca ca --reg-id JCS-2025-000200 -o p.der
expect_rc 0 "issue for a unit" \
    "$J" issue --ca ca --reg-id JCS-2025-000200 --unit-serial SN0001 -o u1.der
expect_rc 2 "issue the same unit twice" \
    "$J" issue --ca ca --reg-id JCS-2025-000200 --unit-serial SN0001 -o u1b.der
expect_err_contains "unit SN0001 of registration JCS-2025-000200 already has label"
expect_true "no file for the refused label" no_file u1b.der
expect_rc 2 "issue for an unknown registration" \
    "$J" issue --ca ca --reg-id JCS-NOPE -o n.der
expect_err_contains "no registration JCS-NOPE"
expect_true "no file written" no_file n.der
expect_rc 2 "issue with fields that contradict the registration" \
    "$J" issue --ca ca --reg-id JCS-2025-000200 --scheme jcstar --level 4 \
    --lab Lab --vendor V --product P --model M -o x.der
expect_err_contains "exists with other fields"
expect_rc 0 "issue with all fields makes the registration" issue_ref ca r.der
expect_rc 0 "show reads the unit label" "$J" show u1.der
expect_out_contains "unit serial       SN0001"
expect_out_contains "JC-STAR ★2"

S1=$("$JS" show --json u1.der | grep -o '"serial":"[0-9a-f]*"' | cut -d'"' -f4)
expect_rc 0 "list shows every label" "$J" list --ca ca
expect_err_contains "3 labels"
expect_out_contains "$S1  valid"
expect_rc 0 "list --reg-id --json" "$J" list --ca ca --reg-id JCS-2025-000200 --json
check "two labels of that registration" test "$(count_lines "$W/.out")" = 2
expect_rc 0 "show --ca --serial" "$J" show --ca ca --serial "$S1"
expect_out_contains "SN0001"
expect_out_contains "issued"
expect_rc 2 "show --ca --serial of an unknown serial" \
    "$J" show --ca ca --serial 0123456789abcdef01
expect_err_contains "no label with serial 0123456789abcdef01"

# ---- revocation ----
"$JS" trust export --ca ca -o trust.pem -q
expect_rc 0 "revoke one label" \
    "$J" revoke --ca ca --serial "$S1" --reason key-compromise
expect_err_contains "revoked label $S1 (key-compromise)"
expect_rc 0 "revoking it again changes nothing" \
    "$J" revoke --ca ca --serial "$S1" --reason superseded
expect_err_contains "already revoked"
expect_rc 2 "revoke an unknown serial" \
    "$J" revoke --ca ca --serial 0123456789abcdef01 --reason superseded
expect_err_contains "no label with serial"
expect_rc 2 "revoke without a reason" "$J" revoke --ca ca --serial "$S1"
expect_err_contains "--reason is required"
expect_rc 2 "revoke with an unknown reason" \
    "$J" revoke --ca ca --serial "$S1" --reason bored
expect_err_contains "unknown --reason 'bored'"
expect_rc 2 "revoke both a serial and a registration" \
    "$J" revoke --ca ca --serial "$S1" --reg-id JCS-2025-000200 --reason superseded
expect_err_contains "one of them"
expect_rc 0 "list --status revoked" "$J" list --ca ca --status revoked
expect_out_contains "$S1  revoked"
expect_out_contains "key-compromise"
expect_rc 0 "withdraw the registration" \
    "$J" revoke --ca ca --reg-id JCS-2025-000200 --reason privilege-withdrawn
expect_err_contains "1 label revoked"
expect_rc 2 "no new label from a withdrawn registration" \
    "$J" issue --ca ca --reg-id JCS-2025-000200 -o w.der
expect_err_contains "was withdrawn on"
expect_rc 0 "list --status valid leaves the withdrawn ones out" \
    "$J" list --ca ca --status valid
expect_err_contains "1 label"

# ---- CRLs, revoked labels and signers ----
expect_rc 0 "crl writes a signed CRL" "$J" crl --ca ca -o crl1.pem
expect_true "a copy is kept in the CA" test -s ca/labels.crl
expect_rc 0 "openssl reads the CRL" openssl crl -in crl1.pem -noout -text
expect_out_contains "X509v3 CRL Number"
expect_out_contains "Key Compromise"
expect_out_contains "$(echo "$S1" | tr a-f A-F)"
N1=$(openssl crl -in crl1.pem -noout -crlnumber | cut -d= -f2)
expect_rc 0 "a second CRL" "$J" crl --ca ca -o crl2.pem --next-update-days 30
N2=$(openssl crl -in crl2.pem -noout -crlnumber | cut -d= -f2)
check "CRL numbers increase ($N1 < $N2)" test $((N1)) -lt $((N2))
expect_rc 2 "crl --next-update-days 0" "$J" crl --ca ca -o x.pem --next-update-days 0
expect_err_contains "--next-update-days must be 1 to 366"
expect_rc 2 "crl without -o" "$J" crl --ca ca
expect_err_contains "-o FILE is required"
expect_rc 0 "trust export includes the CRL" "$J" trust export --ca ca -o trust-crl.pem
expect_true "the bundle holds an X509 CRL" grep -q "BEGIN X509 CRL" trust-crl.pem
expect_rc 1 "verify rejects the revoked label" "$J" verify --trust trust-crl.pem u1.der
expect_out_contains "NOT VALID (revoked)"
expect_out_contains "was revoked on $(date -u +%Y-%m-%d): key-compromise"
expect_rc 0 "the old bundle (no CRL) still says valid: publish bundles" \
    "$J" verify --trust trust.pem r.der
expect_rc 0 "--require-fresh-crl with a fresh CRL" \
    "$J" verify --trust trust-crl.pem --require-fresh-crl r.der
expect_rc 1 "--require-fresh-crl past the CRL's next update" \
    "$J" verify --trust trust-crl.pem --require-fresh-crl --at "$(utc_in_days 60)" r.der
expect_out_contains "stale-crl"
expect_rc 1 "--require-fresh-crl without any CRL" \
    "$J" verify --trust trust.pem --require-fresh-crl r.der
expect_out_contains "has no label CRL"

# a compromised signer: rotate, then revoke the old one
OLD=$("$JS" show --json r.der | grep -o '"issuer_key_id":"[0-9a-f]*"' | cut -d'"' -f4)
expect_rc 2 "revoke-signer refuses the current signer" \
    "$J" ca revoke-signer --dir ca --key-id "$OLD" --reason key-compromise
expect_err_contains "is the current one"
"$JS" ca rotate --dir ca -q
expect_rc 0 "revoke-signer after a rotation" \
    "$J" ca revoke-signer --dir ca --key-id "$OLD" --reason key-compromise
expect_true "signers.crl written" test -s ca/signers.crl
expect_rc 2 "revoke-signer of an unknown key id" \
    "$J" ca revoke-signer --dir ca --key-id 0011223344556677 --reason superseded
expect_err_contains "no signer with key id 0011223344556677"
"$JS" trust export --ca ca -o trust-rs.pem -q
expect_rc 1 "labels of the revoked signer fail" "$J" verify --trust trust-rs.pem r.der
expect_out_contains "signer $OLD"
expect_out_contains "was revoked on"
expect_out_contains "key-compromise"
expect_rc 0 "labels of the new signer verify" issue_ref ca r2.der
expect_rc 0 "a label of the new signer is valid" "$J" verify --trust trust-rs.pem r2.der

# ---- audit log ----
expect_rc 0 "audit verify: intact" "$J" audit verify --ca ca
expect_out_contains "audit log intact"
N=$(sqlite3 ca/registry.db "SELECT count(*) FROM audit")
check "every operation was audited ($N entries)" test "$N" -ge 7
cp ca/registry.db reg.bak
sqlite3 ca/registry.db "UPDATE audit SET subject='JCS-EVIL' WHERE seq=2"
expect_rc 1 "audit verify: an edited entry" "$J" audit verify --ca ca
expect_err_contains "entry 2: its contents were changed"
cp reg.bak ca/registry.db
sqlite3 ca/registry.db "DELETE FROM audit WHERE seq=3"
expect_rc 1 "audit verify: a deleted entry" "$J" audit verify --ca ca
expect_err_contains "entry 3: it is missing"
cp reg.bak ca/registry.db
sqlite3 ca/registry.db "UPDATE audit SET seq=-seq WHERE seq IN (3,4);
    UPDATE audit SET seq=4 WHERE seq=-3; UPDATE audit SET seq=3 WHERE seq=-4"
expect_rc 1 "audit verify: two entries swapped" "$J" audit verify --ca ca
expect_err_contains "broken at entry 3"
cp reg.bak ca/registry.db
sqlite3 ca/registry.db "DELETE FROM audit WHERE seq=(SELECT max(seq) FROM audit)"
expect_rc 1 "audit verify: the last entry removed" "$J" audit verify --ca ca
expect_err_contains "the last ones were removed"
cp reg.bak ca/registry.db
expect_rc 0 "audit verify after restoring" "$J" audit verify --ca ca
check "the registry passes PRAGMA integrity_check" \
    test "$(sqlite3 ca/registry.db 'PRAGMA integrity_check')" = ok

# ---- batch issuance ----
"$J" register --ca ca --reg-id JCS-B --scheme jcstar --level 1 --vendor V \
    --product Camera --model C-1 -q
# The batches' sizes are sized FULL LIGHT (tests/lib-cli.sh): smaller under
# memcheck, where each label costs milliseconds, large enough for what each
# case needs (said at each one).
NU=$(sized 600 150)
{ echo unit_serial; for i in $(seq 1 "$NU"); do echo "SN-$i"; done; } > units.csv
mkdir out
expect_rc 0 "batch: $NU units" \
    "$J" issue --ca ca --reg-id JCS-B --batch units.csv --out-dir out
expect_err_contains "$NU units; $NU issued now, 0 issued before; $NU files"
check "$NU label files" test "$(ls out | wc -l)" = "$NU"
expect_rc 0 "batch again: nothing to do" \
    "$J" issue --ca ca --reg-id JCS-B --batch units.csv --out-dir out
expect_err_contains "0 issued now, $NU issued before; 0 files"
rm out/SN-17.der
expect_rc 0 "batch again rewrites a missing file" \
    "$J" issue --ca ca --reg-id JCS-B --batch units.csv --out-dir out
expect_err_contains "1 files written"
expect_rc 0 "a batch label verifies" "$J" verify --trust trust-rs.pem out/SN-17.der
expect_out_contains "unit SN-17"

printf 'unit_serial\n"SN-A\nSN-B"\n"SN-C"junk\nSN B\nSN,C\nSN-D\nSN-D\n%s\n\nSN-E\n' \
    "$(printf 'X%.0s' $(seq 40))" > bad.csv
mkdir out-bad
expect_rc 2 "batch: every bad line is reported, nothing issued" \
    "$J" issue --ca ca --reg-id JCS-B --batch bad.csv --out-dir out-bad
expect_err_contains "bad lines; nothing was issued"
expect_err_contains "line 2: unterminated quote"
expect_err_contains "line 3: a quote inside an unquoted field"
expect_err_contains "line 4: text after the closing quote"
expect_err_contains "line 5: unit serial may hold only"
expect_err_contains "line 6: more than one field"
expect_err_contains "line 8: unit serial SN-D is already on line 7"
expect_err_contains "line 9: unit serial is"
expect_err_contains "line 10: empty unit serial"
check "nothing written" test -z "$(ls out-bad)"
printf 'serial\nSN-1\n' > nohead.csv
expect_rc 2 "batch: a missing header" \
    "$J" issue --ca ca --reg-id JCS-B --batch nohead.csv --out-dir out-bad
expect_err_contains "expected the header line 'unit_serial'"
printf 'unit_serial\n' > empty.csv
expect_rc 2 "batch: no rows" \
    "$J" issue --ca ca --reg-id JCS-B --batch empty.csv --out-dir out-bad
expect_err_contains "no unit serials"
expect_rc 2 "batch: output directory missing" \
    "$J" issue --ca ca --reg-id JCS-B --batch units.csv --out-dir nowhere
expect_err_contains "output directory nowhere does not exist"
expect_rc 2 "batch: withdrawn registration" \
    "$J" issue --ca ca --reg-id JCS-2025-000200 --batch units.csv --out-dir out-bad
expect_err_contains "was withdrawn"

# kill -9 in the middle, then resume (a chunk's files appear once it is
# committed; under memcheck 1500 units, chunks of 128, 1024, 220 and 128:
# the 300th file comes with the second, and more is left to issue)
"$J" register --ca ca --reg-id JCS-K --scheme jcstar --level 1 --vendor V \
    --product Sensor --model S-1 -q
NK=$(sized 4000 1500)
{ echo unit_serial; for i in $(seq 1 "$NK"); do echo "K$i"; done; } > k.csv
mkdir out-k
"$J" issue --ca ca --reg-id JCS-K --batch k.csv --out-dir out-k -q &
pid=$!
for _ in $(seq 1 600); do
	[ "$(ls out-k | wc -l)" -ge 300 ] && break
	sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
BEFORE=$(ls out-k | wc -l)
check "the batch was killed part-way ($BEFORE files)" \
    test "$BEFORE" -gt 0 -a "$BEFORE" -lt "$NK"
expect_rc 0 "re-running the killed batch finishes it" \
    "$J" issue --ca ca --reg-id JCS-K --batch k.csv --out-dir out-k
expect_err_contains "$NK units"
check "$NK files" test "$(ls out-k | wc -l)" = "$NK"
check "$NK labels recorded for JCS-K, each unit once" test \
    "$(sqlite3 ca/registry.db "SELECT count(*), count(DISTINCT unit_serial) FROM labels WHERE reg_id='JCS-K'")" = "$NK|$NK"
check "no temporary files left" test -z "$(ls out-k | grep -v '\.der$')"
check "the registry is consistent after the kill" \
    test "$(sqlite3 ca/registry.db 'PRAGMA integrity_check')" = ok
expect_rc 0 "the audit chain is intact after the kill" "$J" audit verify --ca ca

# --jobs: validated; two jobs issue what one job would
for bad in 0 100000 abc 2x -1; do
	expect_rc 2 "batch: --jobs $bad is refused" \
	    "$J" issue --ca ca --reg-id JCS-B --batch units.csv --out-dir out \
	    --jobs "$bad"
	expect_err_contains "--jobs must be a number from 1 to"
done
expect_rc 2 "--jobs without --batch" \
    "$J" issue --ca ca --reg-id JCS-B --unit-serial X1 -o x1.der --jobs 2
expect_err_contains "--jobs goes with --batch"
expect_true "no label issued" no_file x1.der
"$J" register --ca ca --reg-id JCS-J --scheme jcstar --level 1 --vendor V \
    --product Jobs --model J-1 -q
{ echo unit_serial; for i in $(seq 1 1200); do echo "J$(( (i * 37) % 1200 ))"; done; } > j.csv
mkdir out-j
expect_rc 0 "batch with --jobs 2" \
    "$J" issue --ca ca --reg-id JCS-J --batch j.csv --out-dir out-j --jobs 2
expect_err_contains "1200 units; 1200 issued now, 0 issued before; 1200 files"
check "1200 label files" test "$(ls out-j | grep -c '\.der$')" = 1200
check "1200 labels recorded for JCS-J, each unit once" test \
    "$(sqlite3 ca/registry.db "SELECT count(*), count(DISTINCT unit_serial) FROM labels WHERE reg_id='JCS-J'")" = "1200|1200"
# the audit log lists the units in the order of the file, as with one job
sqlite3 ca/registry.db "SELECT subject FROM audit WHERE op='issue' AND subject LIKE '% reg=JCS-J %' ORDER BY seq" |
    sed 's/.* unit=//' > j-order.txt
check "the registry holds the units in file order" \
    cmp -s j-order.txt <(tail -n +2 j.csv)
expect_rc 0 "a --jobs 2 label verifies" "$J" verify --trust trust-rs.pem out-j/J37.der
expect_out_contains "unit J37"
expect_rc 0 "the audit chain is intact after --jobs 2" "$J" audit verify --ca ca
expect_rc 0 "re-running with --jobs 1: nothing to do" \
    "$J" issue --ca ca --reg-id JCS-J --batch j.csv --out-dir out-j --jobs 1
expect_err_contains "0 issued now, 1200 issued before; 0 files"
# artwork on two jobs: each thread renders with its own copy of the template
{ echo unit_serial; for i in $(seq 1 12); do echo "A$i"; done; } > a.csv
mkdir out-a
expect_rc 0 "batch with --template and --jobs 2" \
    "$J" issue --ca ca --reg-id JCS-J --batch a.csv --out-dir out-a \
    --template jcstar-1 --form bare --jobs 2
expect_err_contains "12 units; 12 issued now, 0 issued before; 24 files"
expect_rc 0 "the artwork of a --jobs 2 batch scans" \
    "$J" scan out-a/A1.png out-a/A12.png
"$J" scan out-a/A7.png > a7.txt 2>/dev/null
STDIN=a7.txt expect_rc 0 "its payload is the unit's label" \
    "$J" verify --trust trust-rs.pem --payload -
expect_out_contains "unit A7"

# SIGTERM (and SIGINT) in the middle: a clear message, a consistent
# registry, every recorded label written; the same command resumes.
# Each signal comes while a chunk's files are written and the next chunk
# is committed: after the second 4224 units are recorded (chunks of 128,
# then 1024), so under memcheck the batch has 5000.
"$J" register --ca ca --reg-id JCS-T --scheme jcstar --level 1 --vendor V \
    --product Term --model T-1 -q
NT=$(sized 8000 5000)
{ echo unit_serial; for i in $(seq 1 "$NT"); do echo "T$i"; done; } > t.csv
mkdir out-t
# A non-interactive shell starts background jobs with SIGINT ignored, and
# jcstar leaves a signal ignored at start alone (as nohup wants): give the
# batch SIGINT's default action back with env, whether or not a terminal
# (job control) is there.
for sig in TERM INT; do
	env --default-signal=INT "$J" issue --ca ca --reg-id JCS-T \
	    --batch t.csv --out-dir out-t --jobs 2 -q 2> sig.err &
	pid=$!
	have=$(ls out-t | wc -l)
	for _ in $(seq 1 600); do
		[ "$(ls out-t | wc -l)" -ge $((have + 300)) ] && break
		sleep 0.05
	done
	kill -"$sig" "$pid" 2>/dev/null
	wait "$pid"
	src=$?
	want=$([ "$sig" = TERM ] && echo 143 || echo 130)
	check "SIG$sig: the batch stops with status $want (got $src)" \
	    test "$src" = "$want"
	check "SIG$sig: the message says how far and how to resume" \
	    grep -Eq "issue --batch: interrupted after [0-9]+ of $NT labels; run the same command again to resume" sig.err
	REC=$(sqlite3 ca/registry.db "SELECT count(*) FROM labels WHERE reg_id='JCS-T'")
	FILES=$(ls out-t | grep -c '\.der$')
	check "SIG$sig: stopped part-way, every recorded label written ($FILES files, $REC records)" \
	    test "$FILES" = "$REC" -a "$REC" -gt 0 -a "$REC" -lt "$NT"
	check "SIG$sig: the registry passes PRAGMA integrity_check" \
	    test "$(sqlite3 ca/registry.db 'PRAGMA integrity_check')" = ok
	check "SIG$sig: no temporary files left" \
	    test -z "$(ls out-t | grep -v '\.der$')"
done
expect_rc 0 "the interrupted batch resumes" \
    "$J" issue --ca ca --reg-id JCS-T --batch t.csv --out-dir out-t --jobs 2
expect_err_contains "$NT units"
check "$NT files after resuming" test "$(ls out-t | grep -c '\.der$')" = "$NT"
check "$NT labels recorded for JCS-T, each unit once" test \
    "$(sqlite3 ca/registry.db "SELECT count(*), count(DISTINCT unit_serial) FROM labels WHERE reg_id='JCS-T'")" = "$NT|$NT"
check "the registry is consistent after the signals" \
    test "$(sqlite3 ca/registry.db 'PRAGMA integrity_check')" = ok
expect_rc 0 "the audit chain is intact after the signals" "$J" audit verify --ca ca

# two batches into one output directory: the second is refused, clearly
# (under memcheck 1100 units: a second chunk is left when it is stopped)
"$J" register --ca ca --reg-id JCS-L --scheme jcstar --level 1 --vendor V \
    --product Lock --model L-1 -q
NL=$(sized 3000 1100)
{ echo unit_serial; for i in $(seq 1 "$NL"); do echo "L$i"; done; } > l.csv
mkdir out-l
"$J" issue --ca ca --reg-id JCS-L --batch l.csv --out-dir out-l -q &
pid=$!
for _ in $(seq 1 600); do
	[ "$(ls out-l | wc -l)" -ge 100 ] && break
	sleep 0.05
done
# paused while it holds the directory, however fast or slow it runs
kill -STOP "$pid" 2>/dev/null
expect_rc 2 "a second batch into the same output directory is refused" \
    "$J" issue --ca ca --reg-id JCS-L --batch l.csv --out-dir out-l
expect_err_contains "another batch is writing to out-l"
kill -CONT "$pid" 2>/dev/null
wait "$pid"
check "the first batch finished ($NL files)" test "$(ls out-l | wc -l)" = "$NL"

# ---- the label list: issue --batch --out-list ----
# one CSV file for variable-data printing: its lines are the units' labels
# (as the registry holds them), in file order, the same with --jobs 2; an
# interrupted batch leaves no list and resumes to a whole one
"$J" register --ca ca --reg-id JCS-V1 --scheme jcstar --level 1 --vendor V \
    --product List --model V-1 -q
"$J" register --ca ca --reg-id JCS-V2 --scheme jcstar --level 1 --vendor V \
    --product List --model V-2 -q
# under memcheck 1100 units: chunks of 128, 844 and 128, three blocks of
# 512 for verify --batch --jobs 2
NV=$(sized 2500 1100)
{ echo unit_serial; for i in $(seq 1 "$NV"); do echo "V$(( (i * 7919) % NV ))"; done; } > v.csv
tail -n +2 v.csv > v-units.txt
BASE=HTTPS://VERIFY.EXAMPLE/L/
expect_rc 0 "list: $NV units with --jobs 1" \
    "$J" issue --ca ca --reg-id JCS-V1 --batch v.csv --out-list v1.csv \
    --base-url "$BASE" --jobs 1
expect_err_contains "$NV lines written to v1.csv"
expect_rc 0 "list: the same units with --jobs 2" \
    "$J" issue --ca ca --reg-id JCS-V2 --batch v.csv --out-list v2.csv \
    --base-url "$BASE" --jobs 2
check "list: the header line" \
    test "$(head -n 1 v1.csv)" = "unit_serial,serial,not_after,payload"
check "list --jobs 1: one line per unit, in the units file's order" \
    cmp -s <(tail -n +2 v1.csv | cut -d, -f1) v-units.txt
check "list --jobs 2: the same units in the same order" \
    cmp -s <(tail -n +2 v2.csv | cut -d, -f1) v-units.txt
check "list: the serials are the registry's, unit for unit" \
    cmp -s <(tail -n +2 v1.csv | cut -d, -f1,2 | sort) \
    <(sqlite3 -separator , ca/registry.db "SELECT unit_serial, serial FROM labels WHERE reg_id='JCS-V1'" | sort)
check "list: every payload is in the url form of --base-url" \
    test "$(tail -n +2 v1.csv | cut -d, -f4 | grep -c "^$BASE[0-9]*\$")" = "$NV"
check "list: no temporary file is left" no_file v1.csv.jcstar-tmp
sed -n 2p v1.csv | cut -d, -f4 > v1-first.txt
U1=$(sed -n 2p v1.csv | cut -d, -f1)
S1=$(sed -n 2p v1.csv | cut -d, -f2)
STDIN=v1-first.txt expect_rc 0 "list: a line's payload verifies with jcstar verify" \
    "$J" verify --trust trust-rs.pem --payload -
expect_out_contains "unit $U1"
STDIN=v1-first.txt expect_rc 0 "list: its label's serial is the line's" \
    "$J" verify --trust trust-rs.pem --payload - --json
expect_out_contains "\"serial\":\"$S1\""
expect_rc 0 "verify --batch takes the list itself (--jobs 2)" \
    "$J" verify --trust trust-rs.pem --batch v2.csv --report v2-report.csv --jobs 2
expect_err_contains "$NV labels checked: $NV valid, 0 not valid, 0 duplicates"
check "verify --batch: the report's rows keep the list's line numbers" \
    test "$(sed -n 2p v2-report.csv | cut -d, -f1)" = 2
check "verify --batch: the report's units are the list's" \
    cmp -s <(tail -n +2 v2-report.csv | cut -d, -f9) v-units.txt
# a copied line and a damaged one are found
{ head -n 3 v1.csv; sed -n 2p v1.csv; sed -n 4p v1.csv | sed 's/,\(.*\)....$/,\1/'; } > v-bad.csv
expect_rc 1 "verify --batch of a list with a copied and a damaged line" \
    "$J" verify --trust trust-rs.pem --batch v-bad.csv
expect_out_contains "line 4: DUPLICATE of line 2"
expect_out_contains "line 5: NOT VALID"
# the bare form
"$J" register --ca ca --reg-id JCS-V3 --scheme jcstar --level 1 --vendor V \
    --product List --model V-3 -q
{ echo unit_serial; for i in $(seq 1 50); do echo "W$i"; done; } > w.csv
expect_rc 0 "list: --form bare" \
    "$J" issue --ca ca --reg-id JCS-V3 --batch w.csv --out-list w.csv.out --form bare -q
check "list --form bare: bare payloads" \
    test "$(tail -n +2 w.csv.out | cut -d, -f4 | grep -c '^JCS1:')" = 50
expect_rc 0 "list --form bare: verify --batch takes it" \
    "$J" verify --trust trust-rs.pem --batch w.csv.out -q
# re-running a finished batch: nothing issued, the same list
cp v1.csv v1-before.csv
expect_rc 0 "list: the same batch again" \
    "$J" issue --ca ca --reg-id JCS-V1 --batch v.csv --out-list v1.csv --base-url "$BASE"
expect_err_contains "0 issued now, $NV issued before; $NV lines written"
check "list: the same list, byte for byte" cmp -s v1.csv v1-before.csv
# bad input: a clear error, nothing issued, nothing overwritten
"$J" register --ca ca --reg-id JCS-V4 --scheme jcstar --level 1 --vendor V \
    --product List --model V-4 -q
expect_rc 2 "list: another batch's list is not overwritten" \
    "$J" issue --ca ca --reg-id JCS-V4 --batch v.csv --out-list v1.csv --base-url "$BASE"
expect_err_contains "v1.csv exists and is not the list of this batch"
check "list: it is unchanged" cmp -s v1.csv v1-before.csv
echo "some other file" > other.csv
expect_rc 2 "list: some other file is not overwritten" \
    "$J" issue --ca ca --reg-id JCS-V4 --batch v.csv --out-list other.csv --base-url "$BASE"
expect_err_contains "other.csv exists and is not the list of this batch"
check "list: that file is unchanged" test "$(cat other.csv)" = "some other file"
expect_rc 2 "list: a missing directory" \
    "$J" issue --ca ca --reg-id JCS-V4 --batch v.csv --out-list nowhere/l.csv --base-url "$BASE"
expect_err_contains "the directory of the list nowhere/l.csv does not exist"
expect_rc 2 "list: not standard output" \
    "$J" issue --ca ca --reg-id JCS-V4 --batch v.csv --out-list - --base-url "$BASE"
expect_err_contains "must be a file"
expect_rc 2 "list: --pem needs --out-dir" \
    "$J" issue --ca ca --reg-id JCS-V4 --batch v.csv --out-list v4.csv --pem
expect_err_contains "--pem writes files into --out-dir"
expect_rc 2 "list: the url form needs a base URL" \
    "$J" issue --ca ca --reg-id JCS-V4 --batch v.csv --out-list v4.csv
expect_err_contains "the url form needs a base URL"
check "list: nothing was issued by the refused runs" \
    test "$(sqlite3 ca/registry.db "SELECT count(*) FROM labels WHERE reg_id='JCS-V4'")" = 0
# SIGTERM in the middle: no list, no temporary; the same command resumes
# to a whole list (the lines of the units issued before rebuilt from the
# registry), each unit once. The signal comes once 2048 units are recorded
# (2176 or 3200: chunks of 128, then 1024); under memcheck the batch has
# 5200, so that the resumed run still reuses its pipeline's four slots and
# their lines' buffers.
NX=$(sized 8000 5200)
{ echo unit_serial; for i in $(seq 1 "$NX"); do echo "X$i"; done; } > x.csv
seq -f "X%g" 1 "$NX" > x-units.txt
"$J" register --ca ca --reg-id JCS-X --scheme jcstar --level 1 --vendor V \
    --product List --model X-1 -q
env --default-signal=INT "$J" issue --ca ca --reg-id JCS-X --batch x.csv \
    --out-list x.list --base-url "$BASE" --jobs 2 -q 2> xsig.err &
pid=$!
for _ in $(seq 1 600); do
	n=$(sqlite3 ca/registry.db "SELECT count(*) FROM labels WHERE reg_id='JCS-X'" 2>/dev/null || echo 0)
	[ "${n:-0}" -ge 2048 ] && break
	sleep 0.05
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
src=$?
check "list SIGTERM: the batch stops with status 143 (got $src)" test "$src" = 143
check "list SIGTERM: it says how to resume" \
    grep -q "run the same command again to resume" xsig.err
REC=$(sqlite3 ca/registry.db "SELECT count(*) FROM labels WHERE reg_id='JCS-X'")
check "list SIGTERM: stopped part-way ($REC of $NX)" test "$REC" -gt 0 -a "$REC" -lt "$NX"
check "list SIGTERM: no list under its name" no_file x.list
check "list SIGTERM: no temporary left" no_file x.list.jcstar-tmp
expect_rc 0 "list: the interrupted batch resumes" \
    "$J" issue --ca ca --reg-id JCS-X --batch x.csv --out-list x.list \
    --base-url "$BASE" --jobs 2
expect_err_contains "$NX lines written to x.list"
check "list after resuming: every unit once, in order" \
    cmp -s <(tail -n +2 x.list | cut -d, -f1) x-units.txt
check "list after resuming: $NX distinct serials, the registry's" \
    test "$(tail -n +2 x.list | cut -d, -f2 | sort -u | wc -l)" = "$NX" -a \
    "$(sqlite3 ca/registry.db "SELECT count(*), count(DISTINCT unit_serial) FROM labels WHERE reg_id='JCS-X'")" = "$NX|$NX"
check "list after resuming: its serials are the registry's" \
    cmp -s <(tail -n +2 x.list | cut -d, -f1,2 | sort) \
    <(sqlite3 -separator , ca/registry.db "SELECT unit_serial, serial FROM labels WHERE reg_id='JCS-X'" | sort)
# under memcheck its first 600 lines (two blocks of 512): each line takes
# the path the lines of v2.csv took above
NXV=$(sized "$NX" 600)
head -n $((NXV + 1)) x.list > x-check.list
expect_rc 0 "list after resuming: $NXV of $NX lines verify" \
    "$J" verify --trust trust-rs.pem --batch x-check.list --jobs 2 -q
# a list and label files together
mkdir out-v5
"$J" register --ca ca --reg-id JCS-V5 --scheme jcstar --level 1 --vendor V \
    --product List --model V-5 -q
expect_rc 0 "list: --out-list with --out-dir" \
    "$J" issue --ca ca --reg-id JCS-V5 --batch w.csv --out-list v5.csv \
    --out-dir out-v5 --base-url "$BASE" -q
check "list with --out-dir: 50 files and 50 lines" \
    test "$(ls out-v5 | grep -c '\.der$')" = 50 -a "$(tail -n +2 v5.csv | wc -l)" = 50
expect_rc 0 "list with --out-dir: a file's label is its line's" \
    "$J" verify --trust trust-rs.pem --json out-v5/W7.der
expect_out_contains "\"serial\":\"$(grep '^W7,' v5.csv | cut -d, -f2)\""
expect_rc 0 "audit chain intact after the lists" "$J" audit verify --ca ca

# two issuers at once on one CA, and single issues at the same time (under
# memcheck five, not twenty: each is a process of its own there)
"$J" register --ca ca --reg-id JCS-P1 --scheme jcstar --level 1 --vendor V \
    --product A --model A -q
"$J" register --ca ca --reg-id JCS-P2 --scheme jcstar --level 1 --vendor V \
    --product B --model B -q
{ echo unit_serial; for i in $(seq 1 500); do echo "P$i"; done; } > p.csv
mkdir out-p1 out-p2
NQ=$(sized 20 5)
"$J" issue --ca ca --reg-id JCS-P1 --batch p.csv --out-dir out-p1 -q & a=$!
"$J" issue --ca ca --reg-id JCS-P2 --batch p.csv --out-dir out-p2 -q & b=$!
for i in $(seq 1 "$NQ"); do
	"$J" issue --ca ca --reg-id JCS-P1 --unit-serial "Q$i" -o "q$i.der" -q &
done
wait "$a"; ra=$?
wait "$b"; rb=$?
wait
check "both concurrent batches succeeded ($ra, $rb)" test "$ra$rb" = 00
check "$NQ concurrent single issues succeeded" \
    test "$(ls q*.der | wc -l)" = "$NQ"
NP=$((1000 + NQ))
check "$NP labels for the two registrations, serials unique" test \
    "$(sqlite3 ca/registry.db "SELECT count(*), count(DISTINCT serial) FROM labels WHERE reg_id IN ('JCS-P1','JCS-P2')")" = "$NP|$NP"
expect_rc 0 "audit chain intact after concurrent writers" "$J" audit verify --ca ca

# ---- faults ----
"$JS" ca init --dir ca2 --name "Other" -q
cp ca2/registry.db good.db
echo "this is not a database" > ca2/registry.db
expect_rc 2 "a registry that is not a database" "$J" list --ca ca2
expect_err_contains "is not a jcstar registry (not an SQLite database)"
rm -f ca2/registry.db*
sqlite3 ca2/registry.db "CREATE TABLE t(a)"
expect_rc 2 "an SQLite file of another application" "$J" list --ca ca2
expect_err_contains "an SQLite database of another application"
rm -f ca2/registry.db*
cp good.db ca2/registry.db
sqlite3 ca2/registry.db "PRAGMA user_version=99"
expect_rc 2 "a registry from a newer jcstar" "$J" list --ca ca2
expect_err_contains "is from a newer jcstar (registry format 99"
rm -f ca2/registry.db*
cp good.db ca2/registry.db

mkdir ro
mount --bind ca2 ro && mount -o remount,ro,bind ro
expect_rc 2 "issue in a read-only CA directory" issue_ref ro ro.der
expect_err_contains "is not writable"
expect_true "no label file" no_file ro.der
umount ro

mkdir small
mount -t tmpfs -o size=2m tmpfs small
"$JS" ca init --dir small/ca --name "Small" -q
"$J" register --ca small/ca --reg-id JCS-F --scheme jcstar --level 1 \
    --vendor V --product P --model M -q
# (the files of the first two chunks, 128 and 1024, fill 2m: under
# memcheck 1500)
NF=$(sized 5000 1500)
{ echo unit_serial; for i in $(seq 1 "$NF"); do echo "F$i"; done; } > f.csv
mkdir small/out
expect_rc 2 "a batch on a full disk stops with a clear error" \
    "$J" issue --ca small/ca --reg-id JCS-F --batch f.csv --out-dir small/out
expect_true "the message says the disk is full" \
    grep -Eq "No space left on device|the disk is full" "$W/.err"
check "the registry is consistent on the full disk" \
    test "$(sqlite3 small/ca/registry.db 'PRAGMA integrity_check')" = ok
REC=$(sqlite3 small/ca/registry.db "SELECT count(*) FROM labels")
FILES=$(ls small/out | grep -c '\.der$' || true)
check "every written file is recorded ($FILES files, $REC records)" \
    test "$FILES" -le "$REC"
expect_rc 0 "the audit chain is intact on the full disk" \
    "$J" audit verify --ca small/ca
umount small

cli_summary
