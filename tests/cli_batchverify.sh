#!/usr/bin/env bash
# tests/cli_batchverify.sh - retailers' bulk checks: jcstar verify --batch
# with payload lines and image paths, duplicates (a copied label), mixed
# verdicts, unreadable lines, CSV and JSON reports.
# Run by `make test-cli` as JCSTAR=/abs/path/jcstar tests/cli_batchverify.sh.

. "$(dirname "$0")/lib-cli.sh"

URL=HTTPS://VERIFY.JCSTAR.EXAMPLE/L/
"$JS" ca init --dir ca --name "Example Certification Body" --verify-url "$URL" -q
"$JS" ca init --dir ca2 --name "Second Body" --verify-url "$URL" -q
"$J" register --ca ca --reg-id JCS-R --scheme jcstar --level 2 --vendor V \
    --product Router --model R-1 -q
"$J" register --ca ca2 --reg-id JCS-R --scheme jcstar --level 2 --vendor V \
    --product Router --model R-1 -q
for u in U1 U2 U3; do
	"$JS" issue --ca ca --reg-id JCS-R --unit-serial "$u" -o "$u.der" -q
	"$JS" payload --ca ca "$u.der" > "$u.txt"
done
# the same unit labelled by a second trusted body: two labels, one unit
"$JS" issue --ca ca2 --reg-id JCS-R --unit-serial U1 -o U1-other.der -q
"$JS" payload --ca ca2 U1-other.der > U1-other.txt
"$JS" trust export --ca ca -o t1.pem -q
"$JS" trust export --ca ca2 -o t2.pem -q
cat t1.pem t2.pem > both.pem
"$J" render U3.der --template jcstar-2 --ca ca -o U3.png -q

{
	cat U1.txt
	cat U2.txt
	echo "HELLO WORLD"
	cat U1.txt                       # the same label again: a copy
	echo "U3.png"                    # a photo
	echo "no-such-photo.png"         # unreadable
	cat U1-other.txt                 # another label for unit U1
	sed 's/.$//' U2.txt              # damaged
} > stock.txt

expect_rc 1 "a mixed batch: exit 1" \
    "$J" verify --trust both.pem --batch stock.txt --report report.csv
expect_out_contains "line 1: VALID: JCS-R"
expect_out_contains "line 2: VALID"
expect_out_contains "line 3: NOT VALID (not-a-payload)"
expect_out_contains "line 4: DUPLICATE of line 1, possibly a copied label"
expect_out_contains "line 5#1: VALID"
expect_out_contains "line 6: NOT VALID (io-error)"
expect_out_contains "line 7: DUPLICATE of line 1"
expect_out_contains "line 8: NOT VALID (damaged-payload)"
expect_err_contains "8 labels checked: 3 valid, 3 not valid, 2 duplicates"
check "the CSV report has a header and 8 rows" test "$(wc -l < report.csv)" = 9
check "the CSV header" grep -qx "line,code,input,verdict,reason,scheme,level,reg_id,unit_serial,serial,duplicate_of" report.csv
check "a duplicate row names its first line" grep -q '^4,0,.*,duplicate,.*,1$' report.csv
check "the photo row has its code number" grep -q '^5,1,U3.png,valid,,jcstar,2,JCS-R,U3,' report.csv

expect_rc 1 "a JSON report" \
    "$J" verify --trust both.pem --batch stock.txt --report report.json -q
check "JSON summary" grep -q '"summary":{"lines":8,"labels":8,"valid":3,"invalid":3,"duplicates":2}' report.json
check "JSON rows flag the copy" grep -q '"line":4,"code":0,.*"verdict":"duplicate"' report.json

# --jobs: the same rows, in the same order, the same report
for n in 2 3; do
	expect_rc 1 "the mixed batch with --jobs $n" \
	    "$J" verify --trust both.pem --batch stock.txt --report "report-j$n.csv" \
	    --jobs "$n"
	expect_err_contains "8 labels checked: 3 valid, 3 not valid, 2 duplicates"
	expect_out_contains "line 4: DUPLICATE of line 1, possibly a copied label"
	expect_out_contains "line 5#1: VALID"
	check "--jobs $n: the same report as one job" cmp -s report.csv "report-j$n.csv"
done
"$J" verify --trust both.pem --batch stock.txt > rows-j1.txt 2>/dev/null
"$J" verify --trust both.pem --batch stock.txt --jobs 2 > rows-j2.txt 2>/dev/null
check "--jobs 2: the same rows on stdout" cmp -s rows-j1.txt rows-j2.txt
# over blocks of queued lines (512 each), copies far apart: 2100 lines, or
# under memcheck (tests/lib-cli.sh) 600, still two blocks
NM=$(sized 700 200)
for i in $(seq 1 "$NM"); do cat U1.txt U2.txt; echo "junk $i"; done > many.txt
"$J" verify --trust both.pem --batch many.txt --report many-j1.json -q
expect_rc 1 "$((3 * NM)) lines with --jobs 2" \
    "$J" verify --trust both.pem --batch many.txt --report many-j2.json --jobs 2
expect_err_contains "$((3 * NM)) labels checked: 2 valid, $NM not valid, $((2 * NM - 2)) duplicates"
expect_out_contains "line $((3 * NM - 1)): DUPLICATE of line 2, possibly a copied label"
check "--jobs 2: the same JSON report over $((3 * NM)) lines" cmp -s many-j1.json many-j2.json
for bad in 0 100000 abc 1.5; do
	expect_rc 2 "verify --batch --jobs $bad is refused" \
	    "$J" verify --trust t1.pem --batch stock.txt --jobs "$bad"
	expect_err_contains "--jobs must be a number from 1 to"
done
expect_rc 2 "--jobs without --batch" \
    "$J" verify --trust t1.pem --jobs 2 U1.der
expect_err_contains "--jobs goes with --batch"

cat U1.txt U2.txt U3.txt > good.txt
expect_rc 0 "every line valid and unique: exit 0" \
    "$J" verify --trust t1.pem --batch good.txt
expect_err_contains "3 labels checked: 3 valid, 0 not valid, 0 duplicates"
STDIN=good.txt expect_rc 0 "--batch - reads stdin" \
    "$J" verify --trust t1.pem --batch - --json
expect_out_contains '"valid":3'
expect_rc 1 "a label of an unknown body" \
    "$J" verify --trust t1.pem --batch stock.txt -q
expect_rc 2 "--batch of a missing file" \
    "$J" verify --trust t1.pem --batch nothing.txt
expect_err_contains "cannot open nothing.txt"
expect_rc 2 "--report without --batch" \
    "$J" verify --trust t1.pem --report r.csv U1.der
expect_err_contains "--report goes with --batch"
expect_rc 2 "--report with another extension" \
    "$J" verify --trust t1.pem --batch good.txt --report r.txt
expect_err_contains "name it .csv or .json"
expect_true "no report written" no_file r.txt
: > empty.txt
expect_rc 1 "an empty batch is not a pass" \
    "$J" verify --trust t1.pem --batch empty.txt
expect_err_contains "0 labels checked"

cli_summary
