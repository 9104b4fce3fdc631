#!/usr/bin/env bash
# Mode connectivity between two detectors (issue 22): on the Fashion-MNIST detection set
# (darknet detset, seed 1, NTRAIN training and NVALID valid images) two cfg/fashion-det.cfg
# detectors (seeds 1 and 2, Darknet's steps policy shortened to MAXB iterations: steps at
# 0.7 and 0.9 MAXB, burn_in MAXB/10), a Bezier curve with 3 bends and fixed ends between them
# (EPOCHS epochs on the library's detection batches, lr 0.001, the reference schedule), then
# POINTS points along the curve and the straight line: BN statistics recomputed on BN_LIMIT
# un-augmented training images, the training loss on the same images, mAP@0.5 and
# mAP@[.5:.95] on the first TEST_LIMIT valid images.
# The defaults fit under 30 minutes on 2 cores: MAXB 500, NTRAIN 4000, NVALID 500, EPOCHS 4,
# POINTS 11, BN_LIMIT 512, TEST_LIMIT 500, GRID 7. Measured with them: 1041 s on 2 shared
# Zen 4 cores with a make test running beside it (docs/detect-curve.md, its times.txt).
# Then the plane through the curve's three bends on a GRID x GRID grid (default 7; GRID=0
# skips it), with the same image limits: plane.csv, plane_train_loss.png, plane_map50.png.
# Outputs in $OUT: the end points, curve.curve, curve.csv, curve.png, table.md, times.txt.
set -eu
cd "$(dirname "$0")/.."
MAXB=${MAXB:-500}; NTRAIN=${NTRAIN:-4000}; NVALID=${NVALID:-500}; EPOCHS=${EPOCHS:-4}
POINTS=${POINTS:-11}; BN_LIMIT=${BN_LIMIT:-512}; TEST_LIMIT=${TEST_LIMIT:-500}; GRID=${GRID:-7}
OUT=${OUT:-results/detect_curve}
D=${D:-./darknet}
say() { echo "detect_curve: $*" >&2; }
mkdir -p "$OUT"
t0=$(date +%s)
lap() { echo "$1 $(( $(date +%s) - t0 )) s" >> "$OUT/times.txt"; say "$1 after $(( $(date +%s) - t0 )) s"; }
: > "$OUT/times.txt"
SET=$OUT/set
[ -s "$SET/fashion-det.data" ] || "$D" detset "$SET" -seed 1 -train "$NTRAIN" -valid "$NVALID" > /dev/null
DATA=$SET/fashion-det.data
awk -v m="$MAXB" '/^max_batches=/ { print "max_batches=" m; next }
    /^steps=/ { printf "steps=%d,%d\n", 0.7 * m, 0.9 * m; next }
    /^burn_in=/ { printf "burn_in=%d\n", m / 10; next } { print }' cfg/fashion-det.cfg > "$OUT/det.cfg"
for s in 1 2; do
    if [ ! -s "$OUT/det$s.weights" ]; then
        "$D" train "$DATA" "$OUT/det.cfg" -seed "$s" -clear > "$OUT/train$s.txt" 2>&1
        mv "$SET/backup/det_final.weights" "$OUT/det$s.weights"
    fi
    lap "end point $s"
done
[ -s "$OUT/curve.curve" ] || "$D" curve train "$DATA" "$OUT/det.cfg" "$OUT/det1.weights" "$OUT/det2.weights" \
    -curve bezier -bends 3 -epochs "$EPOCHS" -lr 0.001 -seed 1 -out "$OUT/curve.curve" > "$OUT/curve_train.txt"
lap "curve training"
"$D" curve eval "$DATA" "$OUT/det.cfg" "$OUT/curve.curve" -points "$POINTS" -bn_limit "$BN_LIMIT" \
    -train_limit "$BN_LIMIT" -test_limit "$TEST_LIMIT" -line -csv "$OUT/curve.csv" -png "$OUT/curve.png" > "$OUT/eval.txt"
lap "evaluation"
awk -F, 'NR > 1 { k = $1 SUBSEP $2; v[k] = $0; if (!($2 in seen)) { seen[$2] = 1; ts[++n] = $2 } }
    END { print "| t | curve mAP@0.5 | line mAP@0.5 | curve train loss | line train loss |"; print "|---|---|---|---|---|"
          for (i = 1; i <= n; i++) { split(v["bezier" SUBSEP ts[i]], c, ","); split(v["line" SUBSEP ts[i]], l, ",")
              printf "| %.2f | %.2f | %.2f | %.3f | %.3f |\n", ts[i], 100 * c[6], 100 * l[6], c[4], l[4] } }' \
    "$OUT/curve.csv" > "$OUT/table.md"
cat "$OUT/table.md"
# the plane through the curve's three bends, both maps (train loss, 100 - mAP@0.5)
if [ "$GRID" -gt 1 ]; then
    "$D" plane "$DATA" "$OUT/det.cfg" -curve "$OUT/curve.curve" -grid "$GRID" -bn_limit "$BN_LIMIT" \
        -train_limit "$BN_LIMIT" -test_limit "$TEST_LIMIT" -csv "$OUT/plane.csv" -png "$OUT/plane" > "$OUT/plane.txt"
    lap "plane"
fi
say "done in $(( $(date +%s) - t0 )) s; $OUT/curve.png"
