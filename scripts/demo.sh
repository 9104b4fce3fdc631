#!/usr/bin/env bash
# The main job, shortened to fit ~15 minutes on a 2-core machine: two end points trained on
# Fashion-MNIST with different seeds, a Bezier curve between them, and loss/error along the
# curve and the straight line (BN recomputed at every point), with a summary and a plot; then
# the loss surface over the plane of the curve's three bends on a coarse 11 x 11 grid (BN,
# train and test metrics on the first 2,000 images of each set at every grid point) instead
# of the reference's 21 x 21 grid on the full sets. The full recipe of the reference
# comparison is scripts/reference_run.sh.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-results/demo}
EPOCHS=${EPOCHS:-3}          # end points
CURVE_EPOCHS=${CURVE_EPOCHS:-3}
POINTS=${POINTS:-21}
BN_LIMIT=${BN_LIMIT:-10000}  # BN statistics from the first N training images at each point
TRAIN_LIMIT=${TRAIN_LIMIT:-10000}
PLANE_GRID=${PLANE_GRID:-11}
PLANE_LIMIT=${PLANE_LIMIT:-2000}  # BN, train and test images at each grid point
mkdir -p "$OUT"
D=${D:-./darknet}
start=$(date +%s)
echo "demo: end points $EPOCHS epochs each, curve $CURVE_EPOCHS epochs, $POINTS points," \
     "BN and train metrics on the first $BN_LIMIT/$TRAIN_LIMIT training images, full test set,"  \
     "then a ${PLANE_GRID}x${PLANE_GRID} plane with BN, train and test metrics on $PLANE_LIMIT images of each set" \
     "(scripts/reference_run.sh runs the full recipe: 5 + 5 epochs, 61 points, a 21x21 plane, full sets)" >&2
for seed in 1 2; do
    echo "== end point $seed" >&2
    $D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs "$EPOCHS" -schedule reference -seed "$seed" -out "$OUT/end$seed.weights"
done
echo "== Bezier curve" >&2
$D curve train cfg/fashion.data cfg/fashion-cnn.cfg "$OUT/end1.weights" "$OUT/end2.weights" \
    -curve bezier -bends 3 -epochs "$CURVE_EPOCHS" -out "$OUT/bezier.curve"
echo "== evaluation along the curve and the line" >&2
$D curve eval cfg/fashion.data cfg/fashion-cnn.cfg "$OUT/bezier.curve" -line -points "$POINTS" \
    -bn_limit "$BN_LIMIT" -train_limit "$TRAIN_LIMIT" -csv "$OUT/curve.csv" -png "$OUT/curve.png"
echo "== loss surface in the plane of the curve's bends" >&2
$D plane cfg/fashion.data cfg/fashion-cnn.cfg -curve "$OUT/bezier.curve" -grid "$PLANE_GRID" \
    -bn_limit "$PLANE_LIMIT" -train_limit "$PLANE_LIMIT" -test_limit "$PLANE_LIMIT" \
    -csv "$OUT/plane.csv" -png "$OUT/plane"
echo "demo: done in $(( $(date +%s) - start )) s; table $OUT/curve.csv, plot $OUT/curve.png;" \
     "plane $OUT/plane.csv, $OUT/plane_train_loss.png, $OUT/plane_test_error.png" >&2
