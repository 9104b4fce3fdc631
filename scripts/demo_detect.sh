#!/usr/bin/env bash
# The detection demo (make demo-detect), about 12 minutes on 2 cores: the Fashion-MNIST
# detection set, a YOLOv3-tiny-shaped detector trained with Darknet's steps policy in this
# binary (cfg/fashion-det.cfg, 2000 iterations), then FGE from its weights inside Darknet's
# detection loop (cfg/fashion-det-fge.cfg: 400 iterations, a snapshot every 100, each with
# its mAP and the growing ensemble's), the final detector's per-class AP, and one image's
# fused boxes of the snapshots drawn as Darknet's detector test draws them.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-results/demo-detect}
D=${D:-./darknet}
start=$(date +%s)
mkdir -p "$OUT"
[ -s "$OUT/set/fashion-det.data" ] || $D detset "$OUT/set" -seed 1
DATA=$OUT/set/fashion-det.data
B=$OUT/set/backup
echo "== the detector: cfg/fashion-det.cfg, 2000 iterations" >&2
[ -s "$B/fashion-det_final.weights" ] || $D train "$DATA" cfg/fashion-det.cfg -seed 1 > "$OUT/train.txt"
$D detector map "$DATA" cfg/fashion-det.cfg "$B/fashion-det_final.weights" | tee "$OUT/map.txt"
echo "== FGE from it: cfg/fashion-det-fge.cfg, 400 iterations, cycles of 100" >&2
$D detector train "$DATA" cfg/fashion-det-fge.cfg "$B/fashion-det_final.weights" -clear | tee "$OUT/fge.txt"
$D ensemble detect "$DATA" cfg/fashion-det.cfg "$B"/fashion-det-fge_snap0[1-4].weights \
    "$OUT/set/images/valid/000000.png" -out "$OUT/boxes.png"
echo "demo-detect: $(( $(date +%s) - start )) s; tables and boxes.png in $OUT" >&2
