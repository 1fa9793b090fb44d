# tests/lib-cli.sh - what the CLI test scripts (tests/cli*.sh) share: the
# throw-away directory, the jcstar binary ($JCSTAR), and the case helpers.
# Source it first; finish a script with `cli_summary`.
#
# Every case checks the exit status (0 ok/valid, 1 not valid, 2 usage or
# I/O error) and, for every failure, the specific message. One line per case
# ("ok - ..." / "FAIL - ..." with the command's output), then the summary
# line "N passed, M failed"; the exit status is non-zero if any case failed.

set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
J=${JCSTAR:-$TOP/build/jcstar}
case $J in /*) ;; *) J=$(pwd)/$J ;; esac
if [ ! -x "$J" ]; then
	echo "$(basename "$0"): $J is not an executable jcstar (set JCSTAR)" >&2
	exit 2
fi
# JS: the jcstar that prepares a case's inputs (a CA, a bundle, a label to
# check, a payload's text): the same as J, except under memcheck, where
# scripts/test-valgrind sets JCSTAR_SETUP to the plain build, so that
# valgrind's start-up cost is paid for the cases, not their set-up (every
# command the set-up runs is a case of its own somewhere)
JS=${JCSTAR_SETUP:-$J}
export JCSTAR_PROFILES="$TOP/certs"

# Under valgrind memcheck (scripts/test-valgrind sets JCSTAR_MEMCHECK=1) a
# start of jcstar costs one to two CPU seconds, each label a batch issues or
# verifies milliseconds, and each use of a key encrypted with 200,000
# rounds of PBKDF2 about eight seconds. There the scripts take lighter
# inputs where they repeat one code path, and keep at least one case of
# each path: smaller batches and fewer repeats (sized), the full path over
# the templates for the first of each scheme (light) or for one only, and
# a lighter one for the others, keys encrypted again with fewer rounds for
# the cases that only read them (tests/cli.sh); each says why where it
# does so. The plain and ASan runs always do everything.
MEMCHECK=${JCSTAR_MEMCHECK:-0}
LIGHT_SEEN=" "
# light TEMPLATE_FILE: true if, under memcheck, this template may take the
# lighter path (an earlier template of its scheme had the full one)
light() {
	local s
	[ "$MEMCHECK" = 1 ] || return 1
	s=$(sed -n 's/^scheme *= *//p' "$1" | head -n 1)
	s=${s:-jcstar}
	case $LIGHT_SEEN in
	*" $s "*) return 0 ;;
	esac
	LIGHT_SEEN="$LIGHT_SEEN$s "
	return 1
}
# sized FULL LIGHT: FULL, or LIGHT under memcheck. For the size of a batch
# (or of the part of a list a case verifies) and for how often a case
# repeats one command: each unit takes the path of the one before it, and
# memcheck spends about 3 ms on each label a batch issues and 7 ms on each
# it verifies. LIGHT keeps what the case needs (enough units for the
# chunks a case needs: a batch issues the first and the last 128 units in
# chunks of their own and the others 1024 at a time, libjcstar/batch.c;
# a batch still running when it is killed); the scripts say why at each
# use.
sized() {
	if [ "$MEMCHECK" = 1 ]; then echo "$2"; else echo "$1"; fi
}
unset JCSTAR_PASSPHRASE
export LC_ALL=C

W=$(mktemp -d "${TMPDIR:-/tmp}/jcstar-cli.XXXXXX") || exit 2
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
cd "$W" || exit 2

PASS=0
FAILED=0
CASE_OPEN=0
CASE_DESC=
CASE_WHY=
LAST_CMD=
RC=

# ---- helpers ---------------------------------------------------------

# with_lib SONAME FILE cmd args...
# Runs cmd in a mount namespace of its own where the shared library SONAME,
# as the dynamic linker finds it, is FILE instead (/dev/null: a library
# that cannot be loaded; another library: one without the functions
# wanted). For the libraries jcstar loads only when a command needs them.
# Needs root, as the fault tests' mounts do.
with_lib() {
	local so=$1 file=$2 path
	shift 2
	path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	if [ -z "$path" ]; then
		echo "with_lib: no $so in the linker's cache" >&2
		return 125
	fi
	unshare --mount --propagation private sh -c \
	    'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
	    "$file" "$path" "$@"
}

# Prints the result line of the open case, if any.
finish() {
	[ "$CASE_OPEN" = 1 ] || return 0
	CASE_OPEN=0
	if [ -z "$CASE_WHY" ]; then
		PASS=$((PASS + 1))
		echo "ok - $CASE_DESC"
		return 0
	fi
	FAILED=$((FAILED + 1))
	echo "FAIL - $CASE_DESC"
	printf '%s' "$CASE_WHY" | sed 's/^/    # /'
	if [ -n "$LAST_CMD" ]; then
		echo "    # command: $LAST_CMD"
		echo "    # exit status: $RC"
		echo "    # stdout:"
		head -c 3000 "$W/.out" | sed 's/^/    #   /'
		echo "    # stderr:"
		head -c 3000 "$W/.err" | sed 's/^/    #   /'
	fi
}

fail_why() { CASE_WHY="$CASE_WHY$1
"; }

# expect_rc WANT "description" cmd args...
# Runs cmd (stdin from $STDIN, else /dev/null), keeping stdout and stderr,
# and opens a case that fails unless the exit status is WANT. Further
# expect_* calls add checks on the same run to the same case.
expect_rc() {
	local want=$1 desc=$2
	shift 2
	finish
	CASE_OPEN=1
	CASE_DESC=$desc
	CASE_WHY=
	LAST_CMD="$*"
	"$@" <"${STDIN:-/dev/null}" >"$W/.out" 2>"$W/.err"
	RC=$?
	[ "$RC" = "$want" ] || fail_why "exit status $RC, expected $want"
	# An ASan/UBSan report may exit 1, the same as a verdict: catch it.
	if grep -q -e 'Sanitizer' -e 'runtime error:' "$W/.err"; then
		fail_why "sanitizer report on stderr"
	fi
}

# expect_err_contains TEXT: stdout or stderr of the last run holds TEXT.
expect_err_contains() {
	grep -qF -e "$1" "$W/.out" "$W/.err" ||
	    fail_why "output lacks: $1"
}

# expect_out_contains TEXT: stdout of the last run holds TEXT.
expect_out_contains() {
	grep -qF -e "$1" "$W/.out" || fail_why "stdout lacks: $1"
}

# expect_output_lacks TEXT: neither stdout nor stderr holds TEXT.
expect_output_lacks() {
	if grep -qF -e "$1" "$W/.out" "$W/.err"; then
		fail_why "output should not contain: $1"
	fi
}

# expect_stderr_empty: nothing on stderr (e.g. --help goes to stdout).
expect_stderr_empty() {
	[ ! -s "$W/.err" ] || fail_why "stderr is not empty"
}

# expect_true "why" cmd args...: a further condition on the open case.
expect_true() {
	local why=$1
	shift
	"$@" >/dev/null 2>&1 || fail_why "$why"
}

# check "description" cmd args...: a case that is just a condition.
check() {
	local desc=$1
	shift
	finish
	CASE_OPEN=1
	CASE_DESC=$desc
	CASE_WHY=
	LAST_CMD=
	"$@" >/dev/null 2>&1 || fail_why "condition failed: $*"
}

mode_of() { stat -c %a "$1"; }
first_line() { head -n 1 "$1"; }
first_byte_hex() { od -An -tx1 -N1 "$1" | tr -d ' \n'; }
count_certs() { grep -c -e '-----BEGIN CERTIFICATE-----' "$1"; }
no_file() { [ ! -e "$1" ]; }
# json_field FILE NAME: the string value of "NAME":"..." in FILE.
json_field() {
	grep -o "\"$2\":\"[^\"]*\"" "$1" | head -n 1 | sed 's/.*:"\(.*\)"$/\1/'
}
# flip_at FILE TEXT: overwrite the first byte of TEXT in FILE with a
# different ASCII letter (X, or Y if TEXT starts with X), in place.
flip_at() {
	local off c
	off=$(grep -obUaF -e "$2" "$1" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	c=X
	case $2 in X*) c=Y ;; esac
	printf '%s' "$c" | dd of="$1" bs=1 seek="$off" conv=notrunc 2>/dev/null
}
# utc_in_days N: now + N days as YYYY-MM-DDTHH:MM:SSZ (GNU date).
utc_in_days() {
	date -u -d "@$(($(date -u +%s) + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ
}

REF_VENDOR="Example Electronics Co., Ltd."
# issue_ref CA OUT [extra options]: the reference-style label.
issue_ref() {
	local ca=$1 out=$2
	shift 2
	"$J" issue --ca "$ca" --scheme jcstar --level 1 \
	    --reg-id JCS-2025-000123 --vendor "$REF_VENDOR" \
	    --product "Home Router" --model HR-1000 \
	    --support-until 2030-03-31 "$@" -o "$out"
}
# tmpl_scheme TEMPLATE_FILE: the scheme a template renders, its [label]
# scheme key (jcstar if it has none).
tmpl_scheme() {
	local s
	s=$(awk '/^\[/ { sect = $0 }
	    sect == "[label]" && $1 == "scheme" && $2 == "=" { print $3 }' "$1")
	echo "${s:-jcstar}"
}
# scheme_key SCHEME KEY: a value of certs/schemes/SCHEME.scheme.
scheme_key() {
	awk -v k="$2" '$1 == k && $2 == "=" { sub(/^[^=]*= */, ""); print; exit }' \
	    "$TOP/certs/schemes/$1.scheme"
}
# tmpl_level SCHEME NAME: the lowest level for which SCHEME's profile names
# template NAME (template.N = NAME), else the scheme's lowest level.
tmpl_level() {
	local lv
	lv=$(awk -v t="$2" '$2 == "=" && $3 == t && $1 ~ /^template\.[0-9]+$/ {
	    l = substr($1, 10) + 0; if (best == "" || l < best) best = l }
	    END { print best }' "$TOP/certs/schemes/$1.scheme")
	[ -n "$lv" ] || { lv=$(scheme_key "$1" levels); lv=${lv%%-*}; }
	echo "$lv"
}
# issue_for_template CA TEMPLATE_FILE OUT [LEVEL [extra options]]: a label
# of the template's scheme with the reference label's product fields and
# support period, at LEVEL (default: tmpl_level), naming a test lab when
# the profile's third_party_from asks for one at that level. The
# registration id is REG- and OUT's name without its extension (a CA
# keeps one set of fields per id).
issue_for_template() {
	local ca=$1 tp=$2 out=$3 s lv tpf
	local -a lab=()
	shift 3
	s=$(tmpl_scheme "$tp")
	lv=${1:-$(tmpl_level "$s" "$(basename "$tp" .tmpl)")}
	[ $# -gt 0 ] && shift
	tpf=$(scheme_key "$s" third_party_from)
	case $tpf in
	[0-9]*) [ "$lv" -ge "$tpf" ] && lab=(--lab "Test Lab $s") ;;
	esac
	"$J" issue --ca "$ca" --scheme "$s" --level "$lv" ${lab[@]+"${lab[@]}"} \
	    --reg-id "REG-$(basename "${out%.*}")" --vendor "$REF_VENDOR" \
	    --product "Home Router" --model HR-1000 \
	    --support-until 2030-03-31 "$@" -o "$out"
}
# with_jcstar JCSTAR CMD [ARG...]: CMD, a helper that runs "$J" (such as
# issue_ref, issue_for_template), with JCSTAR as J: a script passes $JS to
# prepare an input, or under memcheck where it repeats an earlier case.
with_jcstar() {
	local J=$1
	shift
	"$@"
}
# Minimal product fields for issue cases.
P=(--scheme jcstar --reg-id JCS-2025-000999 --vendor "Vendor" --product "Camera" --model CM-1)


# cli_summary: closes the last case, prints the summary, sets the status.
cli_summary() {
	finish
	echo "$PASS passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
