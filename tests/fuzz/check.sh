#!/usr/bin/env bash
# The bounded fuzzing check of `make test`: for each harness, replay every regression input
# (tests/fuzz/regress/<harness>, the inputs of bugs found and fixed) and the seed corpus, then
# fuzz for a few seconds from the seeds (fixed seed, a fresh scratch corpus). Skipped with a
# message when the harnesses are not built (no clang-14). FUZZ_CHECK_TIME: seconds per
# harness (default 6).
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_CHECK_TIME:-6}
harnesses="curve weights idx cifar datacfg cfgcheck list image"
if ! command -v "${FUZZ_CC:-clang-14}" >/dev/null; then
    echo "fuzz check: skipped, clang-14 is not installed (apt-get install clang-14 libclang-rt-14-dev)"
    exit 0
fi
scratch=$(mktemp -d /tmp/dkmc-fuzz-check-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail=0
for h in $harnesses; do
    bin=build-fuzz/fuzz_$h
    if [ ! -x "$bin" ]; then echo "fuzz_$h: not built"; fail=1; continue; fi
    nreg=0
    if [ -d tests/fuzz/regress/$h ]; then
        nreg=$(ls tests/fuzz/regress/$h | wc -l)
        if ! "$bin" -rss_limit_mb=2048 tests/fuzz/regress/$h/* >"$scratch/$h.replay" 2>&1; then
            echo "fuzz_$h: a regression input fails again:"; tail -30 "$scratch/$h.replay"; fail=1; continue
        fi
    fi
    mkdir -p "$scratch/$h"
    dict=""; [ -f tests/fuzz/$h.dict ] && dict="-dict=tests/fuzz/$h.dict"
    if ! "$bin" -seed=1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$scratch/" $dict "$scratch/$h" tests/fuzz/corpus/$h >"$scratch/$h.log" 2>&1; then
        echo "fuzz_$h: FINDING (input kept in build-fuzz/findings/):"
        mkdir -p build-fuzz/findings && cp "$scratch"/crash-* "$scratch"/oom-* "$scratch"/timeout-* "$scratch"/leak-* build-fuzz/findings/ 2>/dev/null
        grep -E -A12 '(==[0-9]+==ERROR|runtime error|^fuzz: )' "$scratch/$h.log" | head -30
        fail=1; continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$h.log" | tail -1)
    echo "fuzz_$h: $nreg regression inputs replayed, $(ls tests/fuzz/corpus/$h | wc -l) seeds, ${runs:-?} executions in $secs s"
done
exit $fail
