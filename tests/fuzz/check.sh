#!/usr/bin/env bash
# The bounded fuzzing check of `make test`: for each harness, replay every regression input
# (tests/fuzz/regress/<harness>, the inputs of bugs found and fixed) and the seed corpus, then
# fuzz from the seeds for a fixed number of executions with a fixed seed and a fresh scratch
# corpus, so that the check explores the same inputs on every machine (a time bound made it
# depend on the machine's speed: a faster CI machine once reached an input no local run
# had). Skipped with a message when the harnesses are not built (no clang-14).
# FUZZ_CHECK_RUNS: executions per harness (default 60000, about 5 s each on 2 cores).
set -u
cd "$(dirname "$0")/../.."
runs_max=${FUZZ_CHECK_RUNS:-60000}
harnesses="curve weights idx cifar datacfg cfgcheck list image labels"
# libFuzzer's exploration is not exactly repeatable (the same seed and run count reached
# different coverage in two runs here), so a new finding in the exploration phase of the
# harnesses that decode images through stb_image 2.27 (known-buggy third-party decoders) is
# reported loudly but does not fail the check; in our own readers it does. Replaying the
# regression inputs and seeds fails the check for every harness.
advisory="image list"
if ! command -v "${FUZZ_CC:-clang-14}" >/dev/null; then
    echo "skip the fuzz check: clang-14 is not installed (apt-get install clang-14 libclang-rt-14-dev)"
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
    if ! "$bin" -seed=1 -runs="$runs_max" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$scratch/" $dict "$scratch/$h" tests/fuzz/corpus/$h >"$scratch/$h.log" 2>&1; then
        echo "fuzz_$h: FINDING (input kept in build-fuzz/findings/):"
        mkdir -p build-fuzz/findings && cp "$scratch"/crash-* "$scratch"/oom-* "$scratch"/timeout-* "$scratch"/leak-* build-fuzz/findings/ 2>/dev/null
        grep -E -A12 '(==[0-9]+==ERROR|runtime error|^fuzz: )' "$scratch/$h.log" | head -30
        case " $advisory " in
        *" $h "*) echo "fuzz_$h: (advisory: this harness runs Debian's stb_image 2.27, whose decoders still hold bugs; a new finding is reported, not failed; replayed regressions do fail)" ;;
        *) fail=1 ;;
        esac
        continue
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$h.log" | tail -1)
    echo "fuzz_$h: $nreg regression inputs replayed, $(ls tests/fuzz/corpus/$h | wc -l) seeds, ${runs:-?} executions (seed 1)"
done
exit $fail
