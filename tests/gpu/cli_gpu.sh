#!/usr/bin/env bash
# cli_gpu.sh: the commands themselves on a GPU (run by scripts/gpu_check.sh after test_gpu).
# The same darknet binary (a GPU=1 build) runs each command on GPU 0 (the default) and with
# -nogpu (Darknet's CPU code of the same library), on Fashion-MNIST subsets, and the tables
# must agree: NLL and loss columns within 2e-3 relative, error columns within 0.3 points
# plus 2e-3 relative (a few images of 1,000 may flip between float orders). Then the GPU
# runs train, curve train, fge, ensemble and swa end to end, and a detector: detector train
# with fge_cyclic on Darknet's GPU train_network, detector map GPU vs -nogpu.
#   DKMC_BIN=build-gpu/plugin/darknet FASHION=/dir/with/the/4/idx.gz bash tests/gpu/cli_gpu.sh
. "$(dirname "$0")/../lib/cli.sh" cli_gpu
FASHION=${FASHION:-/usr/share/datasets/fashion-mnist}
[ -s "$FASHION/train-images-idx3-ubyte.gz" ] || { echo "cli_gpu: no Fashion-MNIST in $FASHION (set FASHION)"; exit 1; }
cat > $T/f.data <<EOF
classes=10
format=idx
train=$FASHION/train-images-idx3-ubyte.gz
train_labels=$FASHION/train-labels-idx1-ubyte.gz
valid=$FASHION/t10k-images-idx3-ubyte.gz
valid_labels=$FASHION/t10k-labels-idx1-ubyte.gz
labels=cfg/fashion.names
EOF
DATA=$T/f.data CFG=cfg/fashion-cnn.cfg
# same_csv A B: every numeric field of two CSV files with the same header agrees
same_csv() {
    [ "$(head -1 "$1")" = "$(head -1 "$2")" ] && [ "$(wc -l < "$1")" = "$(wc -l < "$2")" ] || { echo "  (headers or row counts differ)"; return 1; }
    paste -d'\n' "$1" "$2" | awk -F, '
        NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
        NR % 2 == 1 && NR > 2 { for (i = 1; i <= NF; i++) a[i] = $i; next }
        NR % 2 == 0 && NR > 2 {
            for (i = 1; i <= NF; i++) {
                if (a[i] == "" || a[i] !~ /^-?[0-9.e+-]+$/) continue
                d = a[i] - $i; if (d < 0) d = -d
                b = $i < 0 ? -$i : $i
                tol = (h[i] ~ /err|acc/) ? 0.3 + 2e-3 * b : 2e-3 * (b > 1e-2 ? b : 1e-2)
                r = d / (tol > 0 ? tol : 1); if (r > worst) { worst = r; what = h[i] " row " (NR / 2 - 1) ": " a[i] " vs " $i }
                if (d > tol) bad++
            }
        }
        END { printf "  worst field, as a fraction of its tolerance: %.3f (%s)\n", worst, what; exit bad > 0 }'
}
# eval's "test NLL ACC N" row as a CSV that same_csv reads
eval_csv() { awk '$1 == "test" { print "split,nll,acc"; print "test," $2 "," $3 }' "$1"; }
# (the header line is row 1 of both files: paste interleaves it twice; skip the second copy)
# secs OUTFILE CMD...: CMD with its stdout into OUTFILE (stderr dropped); prints the seconds
secs() { local f=$1 t0=$(date +%s%N); shift; "$@" > "$f" 2> /dev/null; echo $(( ($(date +%s%N) - t0) / 1000000000 )); }

# two end points trained on the GPU: 1 epoch of 10,240 images
t=$(secs $T/a.txt $D train $DATA $CFG -epochs 1 -limit 10240 -test_limit 2000 -seed 1 -out $T/a.weights)
check "train on the GPU (1 epoch, 10,240 images, $t s) writes weights" test -s $T/a.weights
$D train $DATA $CFG -epochs 1 -limit 10240 -test_limit 2000 -seed 2 -out $T/b.weights > /dev/null 2>&1
acc=$(awk '$1 == "epoch" { for (i = 1; i <= NF; i++) if ($i == "te_acc") c = i } $1 == "1" && c { print $c }' $T/a.txt | tail -1)
check "the GPU-trained network learns (test accuracy after epoch 1: $acc %)" \
    awk -v a="$acc" 'BEGIN { exit !(a + 0 > 60) }'

# eval: GPU vs -nogpu, stored BN and exact BN
$D eval $DATA $CFG $T/a.weights -test_limit 1000 > $T/eg.txt 2> /dev/null
$D eval $DATA $CFG $T/a.weights -test_limit 1000 -nogpu > $T/ec.txt 2> /dev/null
eval_csv $T/eg.txt > $T/eg.csv
eval_csv $T/ec.txt > $T/ec.csv
check "eval: GPU = -nogpu (test NLL, accuracy)" same_csv $T/eg.csv $T/ec.csv
$D eval $DATA $CFG $T/a.weights -bn_update -bn_limit 1024 -test_limit 1000 > $T/ebg.txt 2> /dev/null
$D eval $DATA $CFG $T/a.weights -bn_update -bn_limit 1024 -test_limit 1000 -nogpu > $T/ebc.txt 2> /dev/null
eval_csv $T/ebg.txt > $T/ebg.csv
eval_csv $T/ebc.txt > $T/ebc.csv
check "eval -bn_update: GPU = -nogpu" same_csv $T/ebg.csv $T/ebc.csv

# a curve trained on the GPU, evaluated on both
t=$(secs $T/ct.txt $D curve train $DATA $CFG $T/a.weights $T/b.weights -epochs 2 -limit 10240 -out $T/run.curve)
check "curve train on the GPU (2 epochs, 10,240 images, $t s) writes the curve" test -s $T/run.curve
$D curve eval $DATA $CFG $T/run.curve -points 3 -line -bn_limit 1024 -train_limit 512 -test_limit 1000 -csv $T/cg.csv > /dev/null 2>&1
$D curve eval $DATA $CFG $T/run.curve -points 3 -line -bn_limit 1024 -train_limit 512 -test_limit 1000 -csv $T/cc.csv -nogpu > /dev/null 2>&1
check "curve eval (3 points, curve and line): GPU = -nogpu" same_csv $T/cg.csv $T/cc.csv
mid=$(awk -F, '$1 == "bezier" && $2 + 0 == 0.5 { print $8 }' $T/cg.csv)
lmid=$(awk -F, '$1 == "line" && $2 + 0 == 0.5 { print $8 }' $T/cg.csv)
echo "  curve midpoint test error $mid %, line midpoint $lmid %"
# a plane grid through the curve's bends
$D plane $DATA $CFG -curve $T/run.curve -grid 3 -bn_limit 512 -no_train -test_limit 500 -csv $T/pg.csv > /dev/null 2>&1
$D plane $DATA $CFG -curve $T/run.curve -grid 3 -bn_limit 512 -no_train -test_limit 500 -csv $T/pc.csv -nogpu > /dev/null 2>&1
check "plane (3 x 3 grid through the bends): GPU = -nogpu" same_csv $T/pg.csv $T/pc.csv

# FGE, ensemble and swa on the GPU
$D fge $DATA $CFG $T/a.weights -epochs 2 -cycle 1 -lr1 0.02 -lr2 0.0005 -limit 10240 -out $T/fge.weights -csv $T/fge.csv > $T/fge.txt 2> /dev/null
check "fge on the GPU writes two snapshots" test -s $T/fge_snap01.weights -a -s $T/fge_snap02.weights
$D ensemble $DATA $CFG $T/fge_snap01.weights $T/fge_snap02.weights -test_limit 1000 -csv $T/eng.csv > /dev/null 2>&1
$D ensemble $DATA $CFG $T/fge_snap01.weights $T/fge_snap02.weights -test_limit 1000 -csv $T/enc.csv -nogpu > /dev/null 2>&1
check "ensemble of the snapshots: GPU = -nogpu" same_csv $T/eng.csv $T/enc.csv
$D swa $DATA $CFG $T/fge_snap01.weights $T/fge_snap02.weights -bn_limit 1024 -out $T/swa.weights > /dev/null 2>&1
check "swa on the GPU writes an ordinary .weights file" test "$(stat -c %s $T/swa.weights 2>/dev/null)" = "$(stat -c %s $T/a.weights)"
# detectors: Darknet's GPU train_network with policy=fge_cyclic (our rate through the
# interposed get_current_rate), then detector map on the GPU and with -nogpu
$D detset $T/ds -train 256 -valid 64 -seed 2 > /dev/null 2>&1
sed -e 's/^fge_cycle=100/fge_cycle=20/' -e 's/^max_batches=400/max_batches=60/' -e 's/^learning_rate=0.002/learning_rate=0.004/' \
    cfg/fashion-det-fge.cfg > $T/dfge.cfg
$D detector train $T/ds/fashion-det.data $T/dfge.cfg -valid_limit 64 -seed 1 > $T/dtr.txt 2> $T/dtr.err
check "detector train on the GPU: three snapshots (cycle 20, 60 iterations)" \
    test "$(awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/' $T/dtr.txt | wc -l)" -eq 3
check "detector train on the GPU: the snapshot's rate is FGE's closed form" awk '$1 == 1 { exit !($3 == 0.000490) }' $T/dtr.txt
# (60 iterations from scratch find few boxes: compare the detections above 0.0001 too, 118 on a CPU)
$D detector map $T/ds/fashion-det.data $T/dfge.cfg $T/ds/backup/dfge_final.weights -thresh 0.0001 > $T/dmg.txt 2> /dev/null
$D detector map $T/ds/fashion-det.data $T/dfge.cfg $T/ds/backup/dfge_final.weights -thresh 0.0001 -nogpu > $T/dmc.txt 2> /dev/null
check "detector map: GPU = -nogpu (mAP within 0.5 points, detections within 5 %)" awk '
    /^mAP@/ { n = $0; sub(/.*boxes, /, "", n); n += 0 }
    FNR == NR && /^mAP@/ { g = $3; gc = $7; gn = n; next }
    /^mAP@/ { d = g - $3; e = gc - $7; f = gn - n; exit !(g != "" && d * d < 0.25 && e * e < 0.25 && n > 0 && f * f <= (0.05 * n) ^ 2) }' $T/dmg.txt $T/dmc.txt
# a build without PLplot refuses pictures up front, in one line
if $D plot 2>&1 | grep -q "x COL"; then
    printf 'a,b\n1,2\n2,3\n' > $T/t.csv
    if $D plot $T/t.csv -x a -y b -png $T/t.png 2> /dev/null; then ok "plot draws a picture (a PLplot build)"
    else expect_error "a PLOT=0 build refuses -png in one line" "without PLplot" $D plot $T/t.csv -x a -y b -png $T/t.png; fi
fi
finish
