#!/usr/bin/env bash
# Grid points per second of "darknet plane" against the reference plane.py's per-point work in
# PyTorch (scripts/torch_plane.py: update_bn with the cumulative momentum, then train and test
# evaluation) on the same network (cfg/fashion-cnn.cfg and its PyTorch twin), the same grid
# and the same Fashion-MNIST subsets, measured in the same run in interleaved rounds (the
# machine may be shared). Darknet's number is its own "s per point" (the grid loop only, as
# for PyTorch; data loading excluded from both).
#   BENCH_PLANE_GRID (4)  BENCH_PLANE_LIMIT (1000: BN, train and test images per point)
#   BENCH_PLANE_ROUNDS (3)  BENCH_PLANE_THREADS (2)
set -u
cd "$(dirname "$0")/.."
G=${BENCH_PLANE_GRID:-4}
L=${BENCH_PLANE_LIMIT:-1000}
R=${BENCH_PLANE_ROUNDS:-3}
TH=${BENCH_PLANE_THREADS:-2}
PY=/usr/bin/python3
D=./darknet
T=$(mktemp -d /tmp/dkbench_plane.XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
[ -x "$D" ] || { echo "bench_plane: ./darknet missing (run make)" >&2; exit 1; }
have_torch() { "$PY" -c 'import torch' 2>/dev/null; }
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ${G}x${G} grid, BN on $L training images, train metrics on $L, test on $L, batch 128, $TH threads, $R rounds"
for s in 1 2 3; do   # three networks to span the plane (the cost does not depend on their values)
    $D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -no_test -seed $s -out $T/w$s.weights > /dev/null 2>&1 \
        || { echo "bench_plane: training the networks failed" >&2; exit 1; }
done
ours=() theirs=()
for r in $(seq 1 "$R"); do
    s=$(OMP_NUM_THREADS=$TH $D plane cfg/fashion.data cfg/fashion-cnn.cfg $T/w1.weights $T/w2.weights $T/w3.weights \
        -grid "$G" -bn_limit "$L" -train_limit "$L" -test_limit "$L" 2>/dev/null | sed -n 's/.* \([0-9.]*\) s per point$/\1/p')
    [ -n "$s" ] && ours+=("$s") && echo "round $r: darknet plane  $s s per point"
    if have_torch; then
        p=$("$PY" scripts/torch_plane.py --grid "$G" --bn_limit "$L" --train_limit "$L" --test_limit "$L" --threads "$TH" \
            | sed -n 's/.* \([0-9.]*\) points\/s$/\1/p')
        [ -n "$p" ] && t=$(awk -v p="$p" 'BEGIN { printf "%.3f", 1 / p }') && theirs+=("$t") && echo "round $r: PyTorch plane.py $t s per point"
    fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
[ ${#ours[@]} -gt 0 ] || { echo "bench_plane: darknet plane gave no timing" >&2; exit 1; }
mo=$(median "${ours[@]}")
if [ ${#theirs[@]} -gt 0 ]; then
    mt=$(median "${theirs[@]}")
    awk -v o="$mo" -v t="$mt" 'BEGIN { printf "median: darknet plane %.3f points/s, PyTorch plane.py %.3f points/s, ratio %.2fx\n", 1 / o, 1 / t, t / o }'
else
    awk -v o="$mo" 'BEGIN { printf "median: darknet plane %.3f points/s (no PyTorch: install python3-torch for the comparison)\n", 1 / o }'
fi
