#!/bin/bash
# gpu_bench.sh: training img/s on GPU 0, curve training against plain Darknet GPU training and
# against the PyTorch twin, on the small CNN (cfg/fashion-cnn.cfg, 28x28x1) and on VGG16-BN at
# CIFAR size (cfg/vgg16-bn.cfg, 32x32x3); batch 128 (the cfgs'), synthetic data, everything in
# one run on the same GPU. Called by scripts/gpu_check.sh, which builds $BENCH.
#   BENCH=build-gpu/plugin/bench/bench_gpu bash scripts/gpu_bench.sh
# Environment: ITERS (10), ROUNDS (5), PYTHON (python3), TORCH (1; 0: no PyTorch column),
# LABEL (the build, for the table's title), TORCH_CACHE (a folder: the PyTorch twin's results
# are kept there, and a later call with TORCH=cache reuses them: one PyTorch run serves the
# tables of both builds in one gpu_check run); no PyTorch with CUDA: its column says n/a.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-build-gpu/plugin/bench/bench_gpu}
ITERS=${ITERS:-10}
ROUNDS=${ROUNDS:-5}
PYTHON=${PYTHON:-python3}
TORCH=${TORCH:-1}
LABEL=${LABEL:-}
[ -x "$BENCH" ] || { echo "gpu_bench: $BENCH not built (bash scripts/gpu_check.sh build)" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
command -v nvidia-smi > /dev/null && echo "GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
rows=()
for net in fashion vgg16bn; do
    cfg=cfg/fashion-cnn.cfg; [ $net = vgg16bn ] && cfg=cfg/vgg16-bn.cfg
    echo "gpu_bench: $cfg, darknet / sgd / curve" >&2
    "$BENCH" "$cfg" --iters "$ITERS" --rounds "$ROUNDS" | tee "$OUT/$net.dk"
    torch="n/a"
    if [ "$TORCH" = cache ] && [ -s "${TORCH_CACHE:-/nonexistent}/$net.pt" ]; then
        cp "$TORCH_CACHE/$net.pt" "$OUT/$net.pt"
        echo "gpu_bench: PyTorch twin $net: the result of this run's first table" >&2
        torch=$(awk '/^train/ { print $5 }' "$OUT/$net.pt")
    elif [ "$TORCH" = 1 ] && "$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null; then
        echo "gpu_bench: PyTorch twin $net on cuda" >&2
        "$PYTHON" scripts/torch_twin.py --net $net --device cuda --what train --threads 1 \
            --iters "$ITERS" --rounds "$ROUNDS" | tee "$OUT/$net.pt"
        torch=$(awk '/^train/ { print $5 }' "$OUT/$net.pt")
        [ -n "${TORCH_CACHE:-}" ] && mkdir -p "$TORCH_CACHE" && cp "$OUT/$net.pt" "$TORCH_CACHE/$net.pt"
    else
        [ "$TORCH" = 1 ] && echo "gpu_bench: no PyTorch with CUDA under $PYTHON: no PyTorch column" >&2
    fi
    dk=$(awk '$1 == "darknet" { print $2 }' "$OUT/$net.dk")
    sgd=$(awk '$1 == "sgd" { print $2 }' "$OUT/$net.dk")
    cv=$(awk '$1 == "curve" { print $2 }' "$OUT/$net.dk")
    rows+=("$net $dk $sgd $cv $torch")
done
echo
echo "training img/s on the GPU${LABEL:+ ($LABEL)}, batch 128, median of $ROUNDS rounds x $ITERS iterations (one run)"
printf "%-9s %12s %12s %12s %12s %14s %14s\n" net darknet ours_sgd ours_curve pytorch curve/darknet curve/pytorch
for r in "${rows[@]}"; do
    set -- $r
    awk -v n="$1" -v d="$2" -v s="$3" -v c="$4" -v t="$5" 'BEGIN {
        cd = c / d; ct = (t == "n/a") ? "n/a" : sprintf("%.3f", c / t);
        printf "%-9s %12.1f %12.1f %12.1f %12s %14.3f %14s\n", n, d, s, c, t, cd, ct }'
done
