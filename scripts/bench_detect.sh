#!/usr/bin/env bash
# Detection training speed: images/s of this binary's detector loop (`darknet train` on a
# detector cfg: Darknet's own loader and train_network with plugins/fast interposed) against
# the system binary's `darknet detector train` (Debian's darknet, the same library without
# our kernels), on the same cfg (cfg/fashion-det.cfg, 128 x 128, batch 32), the same data (a
# detset made here) and the same thread count. Each program's rate is the difference of two
# runs of different lengths (startup, label reading and the final save cancel out), the two
# programs alternating, BENCH_DET_ROUNDS rounds; the median per program and the ratio are
# printed. A benchmark, not a test: name the machine beside its numbers.
#   BENCH_THREADS (1,2) BENCH_DET_ROUNDS (2) BENCH_DET_SYS (2 6: the system binary's two run
#   lengths in iterations) BENCH_DET_OURS (10 50)
set -u
cd "$(dirname "$0")/.."
D=${D:-./darknet}
SYS=${SYS_DARKNET:-/usr/bin/darknet}
THREADS=${BENCH_THREADS:-1,2}
ROUNDS=${BENCH_DET_ROUNDS:-2}
read -r S1 S2 <<< "${BENCH_DET_SYS:-2 6}"
read -r O1 O2 <<< "${BENCH_DET_OURS:-10 50}"
OUT=$(mktemp -d /tmp/dkbenchdet.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
"$D" detset "$OUT/ds" -train 640 -valid 8 > /dev/null 2>&1 || { echo "bench_detect: detset failed" >&2; exit 1; }
sed -e 's/^burn_in=.*/burn_in=0/' cfg/fashion-det.cfg > "$OUT/det.cfg"
now() { date +%s.%N; }
sys_run() {   # iterations threads -> seconds
    sed -i "s/^max_batches=.*/max_batches=$1/" "$OUT/det.cfg"
    local t0; t0=$(now)
    (cd "$OUT" && OMP_NUM_THREADS=$2 OPENBLAS_NUM_THREADS=$2 "$SYS" detector train ds/fashion-det.data det.cfg > sys.log 2>&1)
    awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }'
}
our_run() {
    sed -i "s/^max_batches=.*/max_batches=100000/" "$OUT/det.cfg"
    local t0; t0=$(now)
    DKTHREADS=$2 OMP_NUM_THREADS=$2 "$D" train "$OUT/ds/fashion-det.data" "$OUT/det.cfg" -stop_after "$1" -seed 1 > /dev/null 2>&1
    awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "== detection training, cfg/fashion-det.cfg (128x128, batch 32), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %12s %12s %8s\n' threads "system img/s" "ours img/s" ratio
for t in ${THREADS//,/ }; do
    : > "$OUT/s.txt"; : > "$OUT/o.txt"
    for r in $(seq "$ROUNDS"); do
        a=$(sys_run "$S1" "$t"); b=$(sys_run "$S2" "$t")
        awk -v a="$a" -v b="$b" -v n=$((S2 - S1)) 'BEGIN { print 32 * n / (b - a) }' >> "$OUT/s.txt"
        a=$(our_run "$O1" "$t"); b=$(our_run "$O2" "$t")
        awk -v a="$a" -v b="$b" -v n=$((O2 - O1)) 'BEGIN { print 32 * n / (b - a) }' >> "$OUT/o.txt"
    done
    s=$(median < "$OUT/s.txt"); o=$(median < "$OUT/o.txt")
    printf '%-8s %12.1f %12.1f %7.2fx\n' "$t" "$s" "$o" "$(awk -v o="$o" -v s="$s" 'BEGIN { print o / s }')"
done
