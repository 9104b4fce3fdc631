#!/usr/bin/env bash
# Long fuzzing runs (make fuzz): each harness for SECONDS, one after the other, on a working
# corpus in build-fuzz/corpus/<harness> seeded from tests/fuzz/corpus and tests/fuzz/regress.
# A finding is written to build-fuzz/findings/ and reported at the end; the run goes on with
# the next harness. Usage: run.sh SECONDS harness...
set -u
cd "$(dirname "$0")/../.."
secs=$1; shift
root=$PWD/build-fuzz
mkdir -p "$root/findings"
bad=""
for h in "$@"; do
    bin=$root/fuzz_$h
    [ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz-build)" >&2; exit 1; }
    mkdir -p "$root/corpus/$h"
    dirs="$root/corpus/$h tests/fuzz/corpus/$h"
    [ -d tests/fuzz/regress/$h ] && dirs="$dirs tests/fuzz/regress/$h"
    dict=""; [ -f tests/fuzz/$h.dict ] && dict="-dict=tests/fuzz/$h.dict"
    log=$root/fuzz_$h.log
    echo "fuzz: $h for $secs s (log $log)" >&2
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$root/findings/$h-" $dict $dirs >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        bad="$bad $h"
        echo "fuzz_$h: FINDING after ${runs:-?} executions: $(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: )' "$log")"
    else
        echo "fuzz_$h: ${runs:-?} executions in $secs s, ${cov:-cov: ?}, corpus $(ls "$root/corpus/$h" | wc -l) new inputs, no finding"
    fi
done
[ -z "$bad" ] || { echo "fuzz: findings in:$bad (inputs in $root/findings/)"; exit 1; }
