#!/usr/bin/env bash
# How the training step time grows with the batch size and with the network's width, Darknet's
# fast path (with its oneDNN convolutions) against the PyTorch twin, on the small Fashion-MNIST
# CNN (widths 32/64/128 times W). The two programs alternate per point (the machine may be
# shared); each number is a median of BENCH_SCALE_ROUNDS (3) rounds x BENCH_SCALE_ITERS (3) steps.
#   BENCH_SCALE_THREADS (1)  BENCH_SCALE_BATCHES (32 64 128 256)  BENCH_SCALE_WIDTHS (0.5 1 2 4)
set -u
cd "$(dirname "$0")/.."
BIN=build/bench/bench_fast
PY=/usr/bin/python3
T=${BENCH_SCALE_THREADS:-1}
R=${BENCH_SCALE_ROUNDS:-3}
I=${BENCH_SCALE_ITERS:-3}
OUT=$(mktemp -d /tmp/dkscale.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
[ -x "$BIN" ] || { echo "bench_scaling: $BIN missing (run make bench)" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || { echo "bench_scaling: no PyTorch (python3-torch)" >&2; exit 1; }
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(grep -o -m1 -w 'avx512f' /proc/cpuinfo || echo 'no AVX-512'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== training step, $T thread(s), ms per step (median); ratio = PyTorch time / Darknet time"
printf '%-6s %-6s %12s %12s %7s\n' batch width darknet_ms pytorch_ms ratio
point() {   # $1 batch, $2 width
    local cfg=$OUT/b$1w$2.cfg
    # the batch goes into the cfg: Darknet sizes its buffers when it parses the cfg
    awk -v w="$2" -v b="$1" '/^filters=/ { split($0, a, "="); printf "filters=%d\n", a[2] * w + 0.5; next }
        /^batch=/ { printf "batch=%d\n", b; next } { print }' cfg/fashion-cnn.cfg > "$cfg"
    "$BIN" "$cfg" --batch "$1" --no-stock --iters "$I" --rounds "$R" --threads "$T" --what train > "$OUT/dk" 2>&1
    "$PY" scripts/torch_twin.py --width "$2" --batch "$1" --iters "$I" --rounds "$R" --threads "$T" --what train > "$OUT/pt" 2>&1
    local d p
    d=$(awk '$1 == "train" && $2 == "fast" { print $5 }' "$OUT/dk" | head -1)
    p=$(awk '$1 == "train" && $2 == "torch" { print $5 }' "$OUT/pt" | head -1)
    [ -n "$d" ] && [ -n "$p" ] || { echo "bench_scaling: no timing for batch $1 width $2" >&2; return; }
    awk -v b="$1" -v w="$2" -v d="$d" -v p="$p" 'BEGIN { printf "%-6s %-6s %12.1f %12.1f %6.2fx\n", b, w, 1000 * b / d, 1000 * b / p, d / p }'
}
for b in ${BENCH_SCALE_BATCHES:-32 64 128 256}; do point "$b" 1; done
for w in ${BENCH_SCALE_WIDTHS:-0.5 2 4}; do point 128 "$w"; done
