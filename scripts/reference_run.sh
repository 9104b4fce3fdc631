#!/usr/bin/env bash
# The full recipe of the reference run (the authors' PyTorch code on this data and network),
# in Darknet: end points 5 epochs each
# (lr 0.05, momentum 0.9, decay 5e-4, the reference schedule, seeds 1 and 2), a Bezier curve
# with 3 bends and fixed ends trained 5 epochs, then 61 points along the curve and the line
# with BN statistics recomputed on the full training set and train/test metrics on the full
# sets; then plane.py's 21 x 21 grid over the plane of the curve's bends, BN statistics and
# train/test metrics on the full sets at each of the 441 points. About an hour on 2 cores for
# the curve, and 3 to 4 hours more for the plane; POINTS=11, PLANE_GRID=11 make it shorter.
# An interrupted plane continues where it stopped when the script is run again.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-results/reference}
POINTS=${POINTS:-61}
PLANE_GRID=${PLANE_GRID:-21}
mkdir -p "$OUT"
D=${D:-./darknet}
start=$(date +%s)
for seed in 1 2; do
    [ -s "$OUT/end$seed.weights" ] || $D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 5 -schedule reference \
        -seed "$seed" -out "$OUT/end$seed.weights" | tee "$OUT/train$seed.txt"
done
[ -s "$OUT/bezier.curve" ] || $D curve train cfg/fashion.data cfg/fashion-cnn.cfg "$OUT/end1.weights" "$OUT/end2.weights" \
    -curve bezier -bends 3 -epochs 5 -out "$OUT/bezier.curve" | tee "$OUT/curve_train.txt"
$D curve eval cfg/fashion.data cfg/fashion-cnn.cfg "$OUT/bezier.curve" -line -points "$POINTS" \
    -csv "$OUT/curve.csv" -png "$OUT/curve.png" | tee "$OUT/curve_eval.txt"
if [ -s "$OUT/plane.csv.partial" ]; then resume=(-resume "$OUT/plane.csv.partial"); else resume=(); fi
[ -s "$OUT/plane.csv" ] || $D plane cfg/fashion.data cfg/fashion-cnn.cfg -curve "$OUT/bezier.curve" -grid "$PLANE_GRID" \
    -csv "$OUT/plane.csv" -png "$OUT/plane" "${resume[@]}" | tee "$OUT/plane.txt"
echo "reference run: $(( $(date +%s) - start )) s" | tee "$OUT/time.txt"
