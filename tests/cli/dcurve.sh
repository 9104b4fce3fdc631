#!/usr/bin/env bash
# Command-line tests of curves between detectors (issue 22) on a 96-image detection set:
# `curve train | eval | line | export` with a detector cfg (a shrunk cfg/fashion-det.cfg), the
# table, CSV and figure, w(0) exported and scored by `detector map` to the eval row's mAP, a
# resumed training equal byte for byte to an uninterrupted one, and the refusals in one line.
. "$(dirname "$0")/../lib/cli.sh" dcurve

$D detset $T/ds -train 96 -valid 32 -seed 3 > /dev/null 2>&1
DATA=$T/ds/fashion-det.data
sed -e 's/^batch=32/batch=8/' -e 's/^max_batches=2000/max_batches=4/' -e 's/^burn_in=100/burn_in=0/' \
    -e 's/^steps=1400,1800/steps=1000,1800/' cfg/fashion-det.cfg > $T/det.cfg
for s in 1 2; do
    $D train $DATA $T/det.cfg -seed $s > /dev/null 2>&1 && mv $T/ds/backup/det_final.weights $T/d$s.weights
done
check "two detectors trained" test -s $T/d1.weights -a -s $T/d2.weights

$D curve train $DATA $T/det.cfg $T/d1.weights $T/d2.weights -epochs 2 -limit 32 -lr 0.001 -out $T/c.curve > $T/tr.txt 2> $T/tr.err
check "train: a row per epoch" test "$(awk '$1 ~ /^[12]$/' $T/tr.txt | wc -l)" -eq 2
check "train: the start line says a detector's curve" grep -q "a detector's bezier, 3 bends" $T/tr.err
$D curve train $DATA $T/det.cfg $T/d1.weights $T/d2.weights -epochs 2 -limit 32 -lr 0.001 -out $T/r.curve -stop_after 1 > /dev/null 2>&1
$D curve train $DATA $T/det.cfg -resume $T/r.curve -limit 32 > /dev/null 2> $T/res.err
check "train: resumed at epoch 1" grep -q "resuming $T/r.curve at epoch 1 of 2" $T/res.err
check "train: resumed = uninterrupted, byte for byte" cmp -s $T/c.curve $T/r.curve

$D curve eval $DATA $T/det.cfg $T/c.curve -points 3 -bn_limit 16 -train_limit 16 -test_limit 16 -line -csv $T/c.csv -png $T/c.png > $T/ev.txt 2> $T/ev.err
check "eval: 3 rows for the curve, 3 for the line" test "$(grep -c '^bezier ' $T/ev.txt) $(grep -c '^line ' $T/ev.txt)" = "3 3"
check "eval: the CSV has a header and 6 rows" test "$(head -1 $T/c.csv)" = "path,t,dl,tr_loss,tr_det,map50,map5095" -a "$(wc -l < $T/c.csv)" -eq 7
check "eval: a summary per path" test "$(grep -c 'mAP@0.5 (%)' $T/ev.txt)" -eq 2
check "eval: the figure" test -s $T/c.png
check "eval: the curve and the line share their end points" bash -c "[ \"\$(awk -F, '\$2 == \"0.000000\" { print \$4, \$6 }' $T/c.csv | uniq | wc -l)\" -eq 1 ]"
$D curve export $DATA $T/det.cfg $T/c.curve -t 0 -bn_limit 16 -out $T/w0.weights > /dev/null 2>&1
$D detector map $DATA $T/det.cfg $T/w0.weights -limit 16 > $T/map.txt 2> /dev/null
m_eval=$(awk '$1 == "bezier" && $2 == "0.000" { print $5 }' $T/ev.txt)
check "export: w(0) with the same BN images scores the eval row's mAP@0.5 ($m_eval)" grep -q "^mAP@0.50 = $m_eval %" $T/map.txt
$D curve line $DATA $T/det.cfg $T/d1.weights $T/d2.weights -points 2 -bn_limit 8 -train_limit 8 -test_limit 8 > $T/line.txt 2>&1
check "line: two rows" test "$(grep -c '^line ' $T/line.txt)" -eq 2

# the plane of the detector curve (issue 22): a 3 x 3 grid of loss and mAP, (0,0) = w(0)
$D plane $DATA $T/det.cfg -curve $T/c.curve -grid 3 -margin 0 -bn_limit 16 -train_limit 16 -test_limit 16 -csv $T/pl.csv -png $T/pl > $T/pl.txt 2> $T/pl.err
check "plane: 9 grid rows in the CSV" test "$(grep -c '^grid,' $T/pl.csv)" -eq 9
check "plane: the CSV names a detector's columns" test "$(head -1 $T/pl.csv)" = "kind,i,j,t,alpha,beta,x,y,tr_loss,tr_det,map50,map5095"
check "plane: the train-loss and mAP@0.5 pictures" test -s $T/pl_train_loss.png -a -s $T/pl_map50.png
p00=$(awk '$1 == "0" && $2 == "0" { print $5, $7 }' $T/pl.txt); e0=$(awk '$1 == "bezier" && $2 == "0.000" { print $3, $5 }' $T/ev.txt)
check "plane: (0,0) is w(0): the eval row's loss and mAP@0.5 ($p00 / $e0)" test -n "$e0" -a "$p00" = "$e0"
$D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -no_test -seed 1 -out $T/k1.weights > /dev/null 2>&1
$D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -no_test -seed 2 -out $T/k2.weights > /dev/null 2>&1
$D curve train cfg/fashion.data cfg/fashion-cnn.cfg $T/k1.weights $T/k2.weights -epochs 1 -limit 256 -out $T/k.curve > /dev/null 2>&1
expect_error "plane: a classifier's curve with a detector cfg" "k.curve: a classifier's curve, but $T/det.cfg is a detector cfg" \
    $D plane $DATA $T/det.cfg -curve $T/k.curve -grid 2 -bn_limit 8 -test_limit 8 -csv $T/no.csv
check "plane: nothing written for it" test ! -e $T/no.csv -a ! -e $T/no.csv.partial

expect_error "a detector's curve with a classifier cfg" "a detector's curve, but cfg/fashion-cnn.cfg is a classifier cfg" \
    $D curve export cfg/fashion.data cfg/fashion-cnn.cfg $T/c.curve -t 0.5 -bn_limit 8 -out $T/x.weights
expect_error "not a weights file as an end point" "fashion-cnn.cfg: not a Darknet .weights file" \
    $D curve line $DATA $T/det.cfg $T/d1.weights cfg/fashion-cnn.cfg
sed '0,/^filters=16/s//filters=8/' $T/det.cfg > $T/narrow.cfg
expect_error "a curve of another detector cfg" "c.curve: bends have 2296810 parameters" $D curve eval $DATA $T/narrow.cfg $T/c.curve -points 2
rm $T/ds/labels/train/000007.txt
expect_error "a missing label file" "000007.txt" $D curve train $DATA $T/det.cfg $T/d1.weights $T/d2.weights -epochs 1
finish
