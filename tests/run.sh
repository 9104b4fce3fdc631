#!/usr/bin/env bash
# Runs every unit-test binary given on the command line and every tests/cli/*.sh script,
# then prints one summary line "N passed, N failed" (the runner's closing line).
set -u
cd "$(dirname "$0")/.."
cli=1
if [ "${1:-}" = "--no-cli" ]; then cli=0; shift; fi
pass=0; fail=0; failed=""
for t in "$@"; do
    echo "=== $t"
    if "$t"; then pass=$((pass+1)); else fail=$((fail+1)); failed="$failed $t"; fi
done
for s in $( [ $cli = 1 ] && ls tests/cli/*.sh 2>/dev/null ); do
    [ -e "$s" ] || continue
    echo "=== $s"
    if bash "$s"; then pass=$((pass+1)); else fail=$((fail+1)); failed="$failed $s"; fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
