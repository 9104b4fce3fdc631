#!/usr/bin/env bash
# Runs every unit-test binary given on the command line and every tests/cli/*.sh script,
# then prints one summary line "N passed, N failed" (the runner's closing line).
set -u
cd "$(dirname "$0")/.."
cli=1 san_bin=""
if [ "${1:-}" = "--no-cli" ]; then cli=0; shift; fi
# --san-cli BIN: the command-line scripts named in $SAN_CLI_SCRIPTS (names without .sh, or
# "all"; default all) run a second time on BIN (a sanitizer build); a script fails there if
# it fails or if AddressSanitizer/UBSan/LeakSanitizer report anything
if [ "${1:-}" = "--san-cli" ]; then san_bin=$2; shift 2; fi
pass=0; fail=0; failed=""
# the tests that make Darknet's parser abort on purpose leak what it had built: their own
# suppressions (tests/lsan-abort.supp); every other test runs with tests/lsan.supp
lsan_for() { case "$1" in *cfgs*) echo "${LSAN_OPTIONS:-}" | sed 's#tests/lsan.supp#tests/lsan-abort.supp#' ;; *) echo "${LSAN_OPTIONS:-}" ;; esac; }
for t in "$@"; do
    echo "=== $t"
    if LSAN_OPTIONS=$(lsan_for "$t") "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed="$failed $t"; fi
done
for s in $( [ $cli = 1 ] && ls tests/cli/*.sh 2>/dev/null ); do
    [ -e "$s" ] || continue
    echo "=== $s"
    if bash "$s"; then pass=$((pass+1)); else fail=$((fail+1)); failed="$failed $s"; fi
done
if [ $cli = 1 ] && [ -n "$san_bin" ]; then
    for s in $(ls tests/cli/*.sh 2>/dev/null); do
        case " ${SAN_CLI_SCRIPTS:-all} " in *" all "*|*" $(basename "$s" .sh) "*) ;; *) continue ;; esac
        echo "=== $s (on $san_bin)"
        logs=$(mktemp -d /tmp/dkmc_san.XXXXXX)
        if DKMC_BIN=$san_bin LSAN_OPTIONS=$(lsan_for "$s") ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$logs/asan" \
           UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$logs/ubsan" bash "$s" && [ -z "$(ls -A "$logs")" ]; then
            pass=$((pass+1))
        else
            for f in "$logs"/*; do [ -e "$f" ] && { echo "--- sanitizer report $f"; head -60 "$f"; }; done
            fail=$((fail+1)); failed="$failed $s(san)"
        fi
        rm -rf "$logs"
    done
fi
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
