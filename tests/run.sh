#!/usr/bin/env bash
# Runs every unit-test binary given on the command line and every tests/cli/*.sh script,
# counts the tests inside each (cmocka's per-test results; a script's "ok", "FAIL" and "skip"
# lines), and ends with the runner's summary: "tests: N passed, N failed, N skipped", the
# skipped tests named with why, and the failed ones named. A file that fails without a
# failed test of its own (a crash, a sanitizer report) counts as one failed test.
set -u
cd "$(dirname "$0")/.."
cli=1 san_bin=""
if [ "${1:-}" = "--no-cli" ]; then cli=0; shift; fi
# --san-cli BIN: the command-line scripts named in $SAN_CLI_SCRIPTS (names without .sh, or
# "all"; default all) run a second time on BIN (a sanitizer build); a script fails there if
# it fails or if AddressSanitizer/UBSan/LeakSanitizer report anything
if [ "${1:-}" = "--san-cli" ]; then san_bin=$2; shift 2; fi
pass=0 fail=0 skip=0 files=0
failed="" skipped=""
log=$(mktemp /tmp/dkmc_run.XXXXXX)
trap 'rm -f "$log"' EXIT
# the tests that make Darknet's parser abort on purpose leak what it had built: their own
# suppressions (tests/lsan-abort.supp); every other test runs with tests/lsan.supp
lsan_for() { case "$1" in *cfgs*) echo "${LSAN_OPTIONS:-}" | sed 's#tests/lsan.supp#tests/lsan-abort.supp#' ;; *) echo "${LSAN_OPTIONS:-}" ;; esac; }

# count LABEL RC: add the tests of the output in $log (exit status RC) to the totals
count() {
    local label=$1 rc=$2 p f s names
    if grep -q '^\[==========\]' "$log"; then   # cmocka: the result line after each RUN
        read -r p f s < <(awk '
            /^\[ RUN      \] / { cur = $4; next }
            cur != "" && /^\[       OK \] / && $4 == cur { p++; cur = ""; next }
            cur != "" && /^\[  FAILED  \] / && $4 == cur { f++; cur = ""; next }
            cur != "" && /^\[  SKIPPED \] / && $4 == cur { s++; cur = ""; next }
            END { print p + 0, f + 0, s + 0 }' "$log")
        names=$(awk '/^\[ RUN      \] / { cur = $4 } /^\[  SKIPPED \] / && $4 == cur { printf "%s ", cur; cur = "" }' "$log")
    elif grep -qE '^(ok|FAIL|skip) ' "$log"; then   # a command-line script (tests/lib/cli.sh)
        p=$(grep -c '^ok ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^skip ' "$log")
        names=$(sed -n 's/^skip  *//p' "$log" | tr '\n' ';')
    else   # one test: passed, failed, or skipped with a line that says so
        p=0 f=0 s=0 names=""
        if [ "$rc" -eq 0 ] && grep -qiE '(^|: )skip(ped)?\b' "$log"; then
            s=1; names=$(grep -iE '(^|: )skip(ped)?\b' "$log" | head -1)
        elif [ "$rc" -eq 0 ]; then p=1
        else f=1
        fi
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s)); files=$((files + 1))
    [ "$f" -gt 0 ] && failed="$failed $label($f)"
    [ "$s" -gt 0 ] && skipped="$skipped
  $label: $names"
    return 0
}

for t in "$@"; do
    echo "=== $t"
    LSAN_OPTIONS=$(lsan_for "$t") "$t" > "$log" 2>&1; rc=$?
    cat "$log"
    count "$t" $rc
done
for s in $( [ $cli = 1 ] && ls tests/cli/*.sh 2>/dev/null ); do
    [ -e "$s" ] || continue
    echo "=== $s"
    bash "$s" > "$log" 2>&1; rc=$?
    cat "$log"
    count "$s" $rc
done
if [ $cli = 1 ] && [ -n "$san_bin" ]; then
    for s in $(ls tests/cli/*.sh 2>/dev/null); do
        case " ${SAN_CLI_SCRIPTS:-all} " in *" all "*|*" $(basename "$s" .sh) "*) ;; *) continue ;; esac
        echo "=== $s (on $san_bin)"
        logs=$(mktemp -d /tmp/dkmc_san.XXXXXX)
        DKMC_BIN=$san_bin LSAN_OPTIONS=$(lsan_for "$s") ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$logs/asan" \
            UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$logs/ubsan" bash "$s" > "$log" 2>&1; rc=$?
        cat "$log"
        if [ -n "$(ls -A "$logs")" ]; then
            for f in "$logs"/*; do echo "--- sanitizer report $f"; head -60 "$f"; done
            echo "FAIL sanitizer report" >> "$log"
            rc=1
        fi
        rm -rf "$logs"
        count "$s(san)" $rc
    done
fi
[ -n "$skipped" ] && echo "skipped:$skipped"
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed, $skip skipped ($files files)"
[ "$fail" -eq 0 ]
