#!/usr/bin/env bash
# tests/cli_schemes.sh - every scheme through the command line: jcstar
# schemes, profiles read at run time (edited and broken ones), issuance
# under each profile's rules, verify --as and --importance decisions over
# the recognition and policy files (and broken ones), and simplified
# applications (register --basis).
# Run by `make test-cli` as JCSTAR=/abs/path/jcstar tests/cli_schemes.sh.

. "$(dirname "$0")/lib-cli.sh"

REC="$TOP/certs/recognition.conf"
line_of() { grep -n -e "$1" "$REC" | head -n 1 | cut -d: -f1; }
L_PSTI_JCSTAR=$(line_of '^accept *psti:1 *jcstar:1-4')
L_PSTI_CLS=$(line_of '^accept *psti:1 *cls:1-4')
L_JCSTAR_CLS=$(line_of '^simplified *jcstar:1 *cls:1')
L_JCSTAR_PSTI=$(line_of '^simplified *jcstar:1 *psti:1')
PROD=(--vendor "Vendor" --product "Camera" --model CM-1)

# ---- jcstar schemes ---------------------------------------------------------

expect_rc 0 "schemes --help" "$J" schemes --help
expect_out_contains "usage: jcstar schemes"
expect_rc 0 "schemes lists the profiles" "$J" schemes
for s in jcstar cls psti cyber-trust-mark cra; do
	expect_out_contains "$TOP/certs/schemes/$s.scheme"
done
expect_out_contains "levels 3 and up name the lab or body"
expect_out_contains "recognition.conf:$L_PSTI_JCSTAR  accept"
expect_out_contains "policy.conf:"
expect_rc 0 "schemes --json" "$J" schemes --json
expect_true "five schemes in the JSON" \
    test "$(grep -o '"min_level":' .out | wc -l)" -ge 5
expect_out_contains '"kind":"accept","scheme":"psti","level":1,"label_scheme":"jcstar","label_min":1,"label_max":4,"from":"2025-12-01"'
expect_out_contains '"importance":"high"'
expect_rc 2 "schemes with an argument" "$J" schemes extra
expect_err_contains "unexpected argument 'extra'"

# ---- profiles read at run time -------------------------------------------------

mkdir edited broken
cp "$TOP"/certs/schemes/*.scheme edited/
sed -i 's/^max_validity = 2 years/max_validity = 1 years/' edited/jcstar.scheme
"$JS" ca init --dir ca --name "Example Certification Body" -q
"$JS" trust export --ca ca -o trust.pem -q
expect_rc 2 "an edited profile applies without a rebuild" \
    env JCSTAR_SCHEMES="$W/edited" "$J" issue --ca ca "${P[@]}" --level 1 \
    --valid-days 400 -o e.der
expect_err_contains "exceeds the JC-STAR maximum of 1 year"
expect_err_contains "edited/jcstar.scheme"
expect_true "and nothing was written" no_file e.der
expect_rc 0 "the shipped profile allows 400 days" \
    "$J" issue --ca ca "${P[@]}" --level 1 --valid-days 400 -o e.der

cp "$TOP"/certs/schemes/*.scheme broken/
printf 'levels = 1-9\n' >> broken/cls.scheme
expect_rc 2 "a broken profile stops every command" \
    env JCSTAR_SCHEMES="$W/broken" "$J" verify --trust trust.pem e.der
expect_err_contains "broken/cls.scheme:"
expect_err_contains "levels is given twice"
cp "$TOP"/certs/schemes/*.scheme broken/
sed -i 's/^scheme = cra/scheme = eu-cra/' broken/cra.scheme
expect_rc 2 "a profile of an unknown scheme" \
    env JCSTAR_SCHEMES="$W/broken" "$J" schemes
expect_err_contains "cra.scheme:"
expect_err_contains "unknown scheme 'eu-cra'"
cp "$TOP"/certs/schemes/jcstar.scheme broken/cra.scheme
expect_rc 2 "two profiles for one scheme" \
    env JCSTAR_SCHEMES="$W/broken" "$J" schemes
expect_err_contains "a second profile for jcstar"
expect_rc 2 "a missing profile directory" \
    env JCSTAR_SCHEMES="$W/nowhere" "$J" schemes
expect_err_contains "cannot read scheme profiles in $W/nowhere"

# ---- issuance under each profile -------------------------------------------

iss() { local id=$1; shift; "$J" issue --ca ca --reg-id "$id" "${PROD[@]}" "$@"; }
expect_rc 2 "CLS level 3 needs a lab" iss C3 --scheme cls --level 3 -o c3.der
expect_err_contains "CLS level 3 needs a third-party assessment"
expect_err_contains "cls.scheme: third_party_from = 3"
expect_rc 0 "CLS level 3 with a lab" iss C3 --scheme cls --level 3 \
    --lab "Lab SG" -o c3.der
expect_rc 0 "CLS level 1" iss C1 --scheme cls --level 1 -o c1.der
expect_rc 2 "CLS validity past the support period" iss C1b --scheme cls \
    --level 1 --support-until "$(date -u -d '+100 days' +%F)" \
    --valid-days 200 -o x.der
expect_err_contains "runs past the support period"
expect_rc 2 "PSTI needs the support period" iss P1 --scheme psti --level 1 \
    -o p1.der
expect_err_contains "PSTI labels state the end of the support period"
expect_rc 0 "PSTI with the support period" iss P1 --scheme psti --level 1 \
    --support-until 2029-12-31 -o p1.der
expect_rc 0 "a PSTI label ends with the support period" \
    "$J" show --json p1.der
expect_out_contains '"not_after":"2030-01-01T00:00:00Z"'
expect_rc 2 "PSTI has one level" iss P2 --scheme psti --level 2 \
    --support-until 2029-12-31 -o p2.der
expect_err_contains "only level 1"
expect_rc 2 "Cyber Trust Mark names the lab" iss T1 \
    --scheme cyber-trust-mark --level 1 --support-until 2029-12-31 -o t1.der
expect_err_contains "Cyber Trust Mark needs a third-party assessment"
expect_rc 0 "Cyber Trust Mark" iss T1 --scheme cyber-trust-mark --level 1 \
    --lab "CyberLAB A" --support-until 2029-12-31 -o t1.der
expect_rc 2 "CRA important I names the body" iss E2 --scheme cra --level 2 \
    -o e2.der
expect_err_contains "CRA important I needs a third-party assessment"
expect_rc 0 "CRA important I" iss E2 --scheme cra --level 2 \
    --lab "Notified Body 1234" -o e2.der
expect_rc 0 "CRA default, self-assessed" iss E1 --scheme cra --level 1 -o e1.der
expect_rc 0 "show names the class" "$J" show e2.der
expect_out_contains "CRA important I"
# the labels the checks below read: J3 and JX take the paths of the cases
# above, so $JS issues them (the plain jcstar under memcheck)
iss J1 --scheme jcstar --level 1 -o j1.der -q
with_jcstar "$JS" iss J3 --scheme jcstar --level 3 --lab "Lab JP" -o j3.der -q
with_jcstar "$JS" iss JX --scheme jcstar --level 1 --valid-days 1 -o jx.der -q
"$JS" trust export --ca ca -o trust.pem -q

# ---- verify --as: direct, through acceptance, not met ----------------------

V=("$J" verify --trust trust.pem)
expect_rc 0 "JC-STAR 1 satisfies PSTI through acceptance" \
    "${V[@]}" --as psti j1.der
expect_out_contains "requirement met: JC-STAR ★1 meets PSTI compliant through an acceptance, $REC:$L_PSTI_JCSTAR: UK PSTI"
expect_rc 0 "CLS 1 satisfies PSTI through acceptance" \
    "${V[@]}" --as psti --json c1.der
expect_out_contains "\"decision\":{\"met\":true,\"how\":\"accepted\",\"requirement\":\"psti:1\",\"recognition\":\"$REC:$L_PSTI_CLS\""
printf 'garbage' > garbage.der
expect_rc 1 "a label that cannot be read gets no decision of the one before" \
    "${V[@]}" --as psti --json j1.der garbage.der
expect_true "one decision for two labels" \
    test "$(grep -c '"decision"' .out)" = 1
expect_rc 0 "PSTI satisfies PSTI directly" "${V[@]}" --as psti --json p1.der
expect_out_contains '"how":"direct"'
expect_rc 1 "CLS 1 does not satisfy JC-STAR at verification" \
    "${V[@]}" --as jcstar c1.der
expect_out_contains "NOT VALID (below-policy): label is CLS level 1; JC-STAR ★1 or higher is required ($REC:$L_JCSTAR_CLS allows only a simplified application on CLS labels, not acceptance)"
expect_rc 1 "PSTI does not satisfy JC-STAR at verification" \
    "${V[@]}" --as jcstar --json p1.der
expect_out_contains '"verdict":"below-policy"'
expect_out_contains '"how":"not-met"'
expect_rc 1 "an expired JC-STAR label does not satisfy PSTI" \
    "${V[@]}" --as psti --at "$(utc_in_days 3)" jx.der
expect_out_contains "NOT VALID (expired)"
expect_rc 1 "CRA does not satisfy PSTI" "${V[@]}" --as psti e2.der
expect_out_contains "no acceptance line in $REC covers CRA labels"
expect_rc 0 "CRA important I at --min-level 2" \
    "${V[@]}" --as cra --min-level 2 e2.der
expect_rc 1 "CRA default below --min-level 2" \
    "${V[@]}" --as cra --min-level 2 e1.der
expect_out_contains "label is CRA default; CRA important I or higher is required"
expect_rc 0 "--min-level alone means JC-STAR" "${V[@]}" --min-level 3 j3.der
expect_rc 1 "... and a CLS 3 label does not qualify" \
    "${V[@]}" --min-level 3 c3.der
expect_rc 2 "--as an unknown scheme" "${V[@]}" --as jpstar j1.der
expect_err_contains "unknown scheme 'jpstar'"
expect_rc 2 "--min-level out of the scheme's range" \
    "${V[@]}" --as psti --min-level 2 p1.der
expect_err_contains "--min-level for PSTI must be 1"
expect_rc 0 "--as SCHEME:N gives the level with the scheme" \
    "${V[@]}" --as jcstar:3 j3.der
expect_rc 1 "... and is a requirement like --min-level" \
    "${V[@]}" --as jcstar:3 j1.der
expect_rc 2 "--as SCHEME:N and --min-level together" \
    "${V[@]}" --as jcstar:3 --min-level 3 j3.der
expect_err_contains "give the level once"
expect_rc 2 "--as with a level the scheme lacks" "${V[@]}" --as cra:5 j3.der
expect_err_contains "the level in --as for CRA must be a level from 1 to 4, not '5'"

# a recognition file of one's own
cp "$REC" rec.conf
echo "accept jcstar:1 cls:1 - our own rule: CLS 1 counts as JC-STAR 1" >> rec.conf
N=$(wc -l < rec.conf)
expect_rc 0 "--recognition: an added acceptance line" \
    "${V[@]}" --as jcstar --recognition rec.conf c1.der
expect_out_contains "rec.conf:$N: our own rule"
echo "accept jcstar:1 cls:1 - the same again" >> rec.conf
expect_rc 2 "--recognition: a duplicate line" \
    "${V[@]}" --as jcstar --recognition rec.conf c1.der
expect_err_contains "rec.conf:$((N + 1)): duplicate: line $N already says"
echo "accept psti:1 cra:1-5 - x" > bad.conf
expect_rc 2 "--recognition: level out of range" \
    "${V[@]}" --as psti --recognition bad.conf e1.der
expect_err_contains "bad.conf:1: label 'cra:1-5': level out of range"
expect_rc 2 "--recognition without a requirement" \
    "${V[@]}" --recognition rec.conf c1.der
expect_err_contains "--recognition goes with --as or --importance"
expect_rc 2 "--recognition that does not exist" \
    "${V[@]}" --as psti --recognition nope.conf c1.der

# ---- procurement policy ----------------------------------------------------

expect_rc 0 "--importance low: JC-STAR 1" "${V[@]}" --importance low j1.der
expect_rc 1 "--importance high: JC-STAR 1 is not enough" \
    "${V[@]}" --importance high j1.der
expect_out_contains "JC-STAR ★3 or higher is required (policy $TOP/certs/policy.conf:"
expect_rc 0 "--importance high: JC-STAR 3" "${V[@]}" --importance high j3.der
expect_rc 2 "--importance unknown" "${V[@]}" --importance urgent j1.der
expect_err_contains "defines no importance 'urgent' (known: low medium high)"
expect_rc 2 "--importance with --as" "${V[@]}" --importance low --as psti j1.der
expect_rc 2 "--policy without --importance" "${V[@]}" --policy x.conf j1.der
printf '# ours\noffice jcstar:1 psti:1\nplant jcstar:3 cls:3\n' > org.conf
expect_rc 0 "--policy: CLS 1 meets office through PSTI acceptance" \
    "${V[@]}" --policy org.conf --importance office --json c1.der
expect_out_contains '"how":"accepted","requirement":"psti:1","policy":"org.conf:2"'
expect_rc 1 "--policy: CLS 1 is not enough for plant" \
    "${V[@]}" --policy org.conf --importance plant c1.der
expect_out_contains "CLS level 3 or higher is required"
expect_rc 0 "--policy: CLS 3 meets plant directly" \
    "${V[@]}" --policy org.conf --importance plant c3.der
printf 'office jcstar:1\noffice cls:1\n' > dup.conf
expect_rc 2 "--policy: a duplicate importance" \
    "${V[@]}" --policy dup.conf --importance office c1.der
expect_err_contains "dup.conf:2: duplicate: importance 'office'"
expect_rc 1 "batch checks apply the requirement too" \
    "$J" verify --trust trust.pem --as psti --batch <(printf '%s\n%s\n' \
    "$("$JS" payload --form bare j1.der)" "$("$JS" payload --form bare e2.der)")
expect_out_contains "NOT VALID (below-policy)"

# ---- simplified applications ------------------------------------------------

"$JS" ca init --dir sg --name "Singapore Body" -q
"$JS" trust export --ca sg -o sg.pem -q
"$JS" issue --ca sg --reg-id SG-1 --scheme cls --level 1 "${PROD[@]}" -o sg1.der -q
"$JS" issue --ca sg --reg-id SG-2 --scheme cls --level 2 "${PROD[@]}" -o sg2.der -q
R=("$J" register --ca ca --scheme jcstar --level 1 "${PROD[@]}")
expect_rc 0 "register on a CLS level 1 label" \
    "${R[@]}" --reg-id JP-1 --basis sg1.der --basis-trust sg.pem
expect_err_contains "simplified application on CLS level 1 label"
expect_rc 0 "... given as its QR text" \
    "${R[@]}" --reg-id JP-2 --basis "$("$JS" payload --form bare sg1.der)" \
    --basis-trust sg.pem
expect_rc 0 "register on a PSTI statement of compliance" \
    "${R[@]}" --reg-id JP-3 --basis "PSTI statement of compliance SoC-7" \
    --basis-scheme psti
expect_true "the bases are recorded with their recognition line" \
    test "$(sqlite3 ca/registry.db "SELECT count(*) FROM bases WHERE recognition LIKE '%recognition.conf:$L_JCSTAR_CLS:%'")" = 2
expect_true "... and the statement's" \
    test "$(sqlite3 ca/registry.db "SELECT recognition FROM bases WHERE reg_id = 'JP-3'" | cut -d: -f2)" = "$L_JCSTAR_PSTI"
expect_rc 0 "issue from a simplified registration" \
    "$J" issue --ca ca --reg-id JP-1 -o jp1.der
expect_rc 2 "no line allows JC-STAR 2 on CLS 1" \
    "$J" register --ca ca --scheme jcstar --level 2 "${PROD[@]}" \
    --reg-id JP-4 --basis sg1.der --basis-trust sg.pem
expect_err_contains "no simplified-application line in $REC allows JC-STAR ★2 on the strength of CLS level 1"
expect_rc 2 "CLS 2 is no basis for JC-STAR 1" \
    "${R[@]}" --reg-id JP-5 --basis sg2.der --basis-trust sg.pem
expect_rc 1 "a basis that does not verify" \
    "${R[@]}" --reg-id JP-6 --basis sg1.der --basis-trust trust.pem
expect_err_contains "basis label does not verify"
expect_rc 2 "a basis for another model" \
    "$J" register --ca ca --scheme jcstar --level 1 --vendor V \
    --product P --model OTHER --reg-id JP-7 --basis sg1.der \
    --basis-trust sg.pem
expect_err_contains "the basis label is for model 'CM-1'"
expect_rc 2 "a basis without --basis-trust or --basis-scheme" \
    "${R[@]}" --reg-id JP-8 --basis sg1.der
expect_err_contains "one of them"
expect_rc 2 "--basis-trust without --basis" \
    "${R[@]}" --reg-id JP-9 --basis-trust sg.pem
expect_rc 2 "a directory as the basis" \
    "${R[@]}" --reg-id JP-10 --basis "$W" --basis-scheme psti
expect_err_contains "is not a regular file"
head -c 70000 /dev/zero > big.bin
expect_rc 2 "an oversized basis file" \
    "${R[@]}" --reg-id JP-11 --basis big.bin --basis-scheme psti
expect_err_contains "at most 65536"
expect_rc 2 "a statement for a level the scheme lacks" \
    "${R[@]}" --reg-id JP-12 --basis "x" --basis-scheme psti:2
expect_err_contains "the level in --basis-scheme for PSTI must be 1, not '2'"
expect_rc 2 "a statement of an unknown scheme" \
    "${R[@]}" --reg-id JP-12 --basis "x" --basis-scheme jpstar:1
expect_err_contains "unknown scheme 'jpstar' for --basis-scheme"
# like verify: what is not a label is a verdict on the input (exit 1)
expect_rc 1 "a basis that is garbage for --basis-trust" \
    "${R[@]}" --reg-id JP-13 --basis "hello" --basis-trust sg.pem
expect_err_contains "basis label:"
expect_rc 0 "show --reg-id: a registration on a label basis" \
    "$J" show --ca ca --reg-id JP-1
expect_out_contains "registration JP-1: JC-STAR ★1, active"
expect_out_contains "application       simplified, on a CLS level 1 label"
expect_out_contains "basis label       serial $("$JS" show --json sg1.der | grep -o '"serial":"[^"]*"' | cut -d'"' -f4)"
expect_out_contains "allowed by        $REC:$L_JCSTAR_CLS:"
expect_out_contains "labels            1 issued, 0 revoked"
expect_rc 0 "... its JSON" "$J" show --ca ca --reg-id JP-1 --json
expect_out_contains '"basis":{"kind":"label","scheme":"cls","level":1,'
check "... which is one valid JSON document" \
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/.out"
printf 'Statement of compliance\nline two\n' > soc.txt
expect_rc 0 "a statement of two lines" \
    "${R[@]}" --reg-id ST-1 --basis soc.txt --basis-scheme psti
printf 'x \033[31mred\n' > esc.txt
expect_rc 2 "a statement with an escape character is refused" \
    "${R[@]}" --reg-id ST-2 --basis esc.txt --basis-scheme psti
expect_err_contains "not UTF-8 text"
expect_rc 0 "show --reg-id: a registration on a statement" \
    "$J" show --ca ca --reg-id ST-1
expect_out_contains "application       simplified, on a PSTI compliant statement"
expect_out_contains "statement         Statement of compliance"
expect_out_contains "                    line two"
sqlite3 ca/registry.db "UPDATE bases SET content = CAST(X'6c696e65201b5b33316d726564' AS TEXT) WHERE reg_id = 'ST-1'"
expect_rc 0 "show --reg-id: an escape put into the registry behind its back" \
    "$J" show --ca ca --reg-id ST-1
expect_out_contains "statement         line ?[31mred"
check "... does not reach the terminal" \
    sh -c "! grep -q \"\$(printf '\\033')\" '$W/.out'"
expect_rc 0 "show --reg-id: a full application" \
    "$J" show --ca ca --reg-id C3 --json
expect_out_contains '"basis":null'
expect_rc 2 "show --reg-id of an unknown registration" \
    "$J" show --ca ca --reg-id NOPE
expect_err_contains "no registration 'NOPE' in this CA's registry"
expect_rc 2 "show with both --serial and --reg-id" \
    "$J" show --ca ca --reg-id JP-1 --serial 01
expect_err_contains "--serial S or --reg-id ID (one of them)"
expect_true "refused applications left no registration" \
    test "$(sqlite3 ca/registry.db "SELECT count(*) FROM registrations WHERE reg_id LIKE 'JP-%'")" = 3

# ---- a format-1 registry is upgraded when opened ----------------------------

"$JS" ca init --dir old --name "Old Body" -q
sqlite3 old/registry.db "DROP TABLE bases; PRAGMA user_version=1"
expect_rc 0 "a format-1 registry opens" \
    "$J" register --ca old --reg-id O-1 --scheme jcstar --level 1 "${PROD[@]}"
expect_true "and is format 2 afterwards" \
    test "$(sqlite3 old/registry.db "PRAGMA user_version")" = 2
expect_rc 0 "and takes simplified applications" \
    "$J" register --ca old --reg-id O-2 --scheme jcstar --level 1 \
    "${PROD[@]}" --basis "statement" --basis-scheme psti

cli_summary
