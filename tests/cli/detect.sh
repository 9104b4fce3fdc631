#!/usr/bin/env bash
# Command-line tests of the detection commands on a small set made here: `darknet detset` is
# deterministic and writes Darknet's layout; `darknet detector train` with policy=fge_cyclic
# runs Darknet's own loop with our rate, writes a snapshot at each minimum with its mAP, and
# `detector map` on a snapshot file reproduces the table's number; a diverging run stops with
# the iteration named and writes nothing; bad label files get one line naming file and line.
# Ensembles of detectors: a row per member, member 1 as `detector map` measures it, one member
# merged alone is itself, WBF and NMS differ on two, other classes are refused; swa writes a
# file of a member's size whose mAP `detector map` reproduces; ensemble detect draws a PNG.
. "$(dirname "$0")/../lib/cli.sh" detect

$D detset $T/ds -train 96 -valid 32 -seed 3 > /dev/null 2>&1
check "detset: 96 + 32 images" test "$(ls $T/ds/images/train | wc -l) $(ls $T/ds/images/valid | wc -l)" = "96 32"
check "detset: lists hold absolute paths" bash -c "head -1 $T/ds/valid.txt | grep -q '^/.*/images/valid/000000.png$'"
check "detset: every label line is a class in 0..9 and a box inside the image" awk '
    NF != 5 || $1 !~ /^[0-9]$/ || $4 <= 0 || $5 <= 0 || $2 - $4/2 < -1e-6 || $2 + $4/2 > 1 + 1e-6 ||
    $3 - $5/2 < -1e-6 || $3 + $5/2 > 1 + 1e-6 { bad = 1 } END { exit bad || NR < 128 }' $T/ds/labels/*/*.txt
$D detset $T/same -train 96 -valid 32 -seed 3 > /dev/null 2>&1
$D detset $T/other -train 96 -valid 32 -seed 4 > /dev/null 2>&1
check "detset: the same seed gives the same images and labels" bash -c "diff -r $T/ds/images $T/same/images && diff -r $T/ds/labels $T/same/labels"
check "detset: another seed gives other labels" bash -c "! diff -q -r $T/ds/labels $T/other/labels > /dev/null"
expect_error "detset: an existing directory is refused" "exists" $D detset $T/ds
check "detset: nothing half-written is left" bash -c "! ls -d $T/*.partial-* 2>/dev/null"

# a short FGE run: cycle 4, snapshots after iterations 2, 6, 10 (Darknet's batch numbers)
sed -e 's/^batch=32/batch=8/' -e 's/^fge_cycle=100/fge_cycle=4/' -e 's/^max_batches=400/max_batches=10/' \
    cfg/fashion-det-fge.cfg > $T/fge.cfg
$D detector train $T/ds/fashion-det.data $T/fge.cfg -valid_limit 16 > $T/tr.txt 2> $T/tr.err
B=$T/ds/backup
check "train: three snapshot files and the final weights" test "$(ls $B/fge_snap0[123].weights $B/fge_final.weights 2>/dev/null | wc -l)" -eq 4
check "train: a table row per snapshot at iterations 2, 6, 10" bash -c "[ \"\$(awk '\$1 ~ /^[0-9]+$/ { printf \"%s \", \$2 }' $T/tr.txt)\" = '2 6 10 ' ]"
# iteration 2 ran at s = 1/4: 0.002 * 0.5 + 0.0001 * 0.5
check "train: the snapshot's rate is FGE's closed form" awk '$1 == 1 { exit !($3 == 0.001050) }' $T/tr.txt
check "train: progress on stderr" grep -q "^iteration 10/10: loss" $T/tr.err
check "train: snapshots from young BN statistics are said to be untrustworthy" test "$(grep -c 'warning: snapshot . at iteration .*young' $T/tr.err)" -eq 3
check "train: the library's per-layer lines are not on stdout" bash -c "! grep -q Region $T/tr.txt"
$D detector map $T/ds/fashion-det.data $T/fge.cfg $B/fge_snap03.weights -limit 16 > $T/map.txt 2>/dev/null
m_train=$(awk '$1 == 3 { print $5 }' $T/tr.txt)
check "map: a snapshot file evaluates to its row's mAP@0.5 ($m_train)" grep -q "^mAP@0.50 = $m_train %" $T/map.txt
check "map: a row per class" test "$(awk '$1 ~ /^[0-9]$/' $T/map.txt | wc -l)" -eq 10

# divergence: a huge rate makes the loss non-finite; the run names the iteration, no final file
sed -e 's/^learning_rate=0.002/learning_rate=100000/' -e 's/^learning_rate_min=0.0001/learning_rate_min=10000/' \
    -e 's/^fge_cycle=4/fge_cycle=100/' $T/fge.cfg > $T/nan.cfg
expect_error "train: a non-finite loss stops the run naming the iteration" "iteration" $D detector train $T/ds/fashion-det.data $T/nan.cfg -valid_limit 4
check "train: nothing written for the diverged run" bash -c "! ls $B/nan_final.weights 2>/dev/null"

# bad label files and lists: one line naming the file (and line)
bad_label() {   # NAME NEEDLE CONTENT
    rm -rf $T/bad && cp -r $T/ds $T/bad
    sed -i "s#$T/ds/#$T/bad/#" $T/bad/fashion-det.data $T/bad/train.txt $T/bad/valid.txt
    printf "$3" > $T/bad/labels/train/000005.txt
    expect_error "train: $1" "$2" $D detector train $T/bad/fashion-det.data $T/fge.cfg
}
bad_label "malformed label line" "000005.txt:1:" "3 0.5 0.5 0.2\n"
bad_label "class >= classes" "000005.txt:2:" "3 0.5 0.5 0.2 0.2\n10 0.5 0.5 0.2 0.2\n"
bad_label "box outside the image" "000005.txt:1:" "3 0.95 0.5 0.2 0.2\n"
bad_label "non-finite number" "000005.txt:1:" "3 nan 0.5 0.2 0.2\n"
rm $T/bad/labels/train/000005.txt
expect_error "train: a missing label file" "000005.txt" $D detector train $T/bad/fashion-det.data $T/fge.cfg
: > $T/bad/valid.txt
expect_error "map: an empty valid list" "valid.txt" $D detector map $T/bad/fashion-det.data $T/fge.cfg $B/fge_final.weights
expect_error "map: classifier weights for a detector cfg" "fge_final.weights" $D eval cfg/fashion.data cfg/fashion-cnn.cfg $B/fge_final.weights
expect_error "map: a classifier cfg" "[yolo]" $D detector map $T/ds/fashion-det.data cfg/fashion-cnn.cfg $B/fge_final.weights
# Darknet's own policies go to the system binary (its layer table, its own error and exit 0)
$D detector train $T/ds/fashion-det.data cfg/fashion-det.cfg $T/missing.weights > $T/sys.txt 2>&1
check "train: policy=steps goes to the system binary" grep -q "Couldn't open file: $T/missing.weights" $T/sys.txt
# ensembles and SWA of detectors: a run long enough for boxes (200 iterations of 8 images,
# snapshots at 50 and 150); members: its second snapshot and its final weights
sed -e 's/^batch=32/batch=8/' -e 's/^max_batches=400/max_batches=200/' -e 's/^learning_rate_min=0.0001/learning_rate_min=0.0005/' \
    cfg/fashion-det-fge.cfg > $T/mid.cfg
$D detector train $T/ds/fashion-det.data $T/mid.cfg -valid_limit 16 > /dev/null 2>&1
S2=$B/mid_snap02.weights FW=$B/mid_final.weights DS=$T/ds/fashion-det.data
check "ensemble: the run's snapshot and final weights" test -s $S2 -a -s $FW
$D ensemble $DS $T/mid.cfg $S2 $FW -limit 16 -csv $T/wbf.csv > $T/wbf.txt 2>/dev/null
$D ensemble $DS $T/mid.cfg $S2 $FW -limit 16 -merge nms -csv $T/nms.csv > $T/nms.txt 2>/dev/null
$D detector map $DS $T/mid.cfg $S2 -limit 16 > $T/map2.txt 2>/dev/null
check "ensemble: a row per member" test "$(awk '$1 ~ /^[0-9]+$/' $T/wbf.txt | wc -l)" -eq 2
m1=$(awk '$1 == 1 { print $3 }' $T/wbf.txt)
check "ensemble: member 1's mAP@0.5 is detector map's ($m1)" grep -q "^mAP@0.50 = $m1 %" $T/map2.txt
check "ensemble: the members find objects (mAP@0.5 > 0)" awk -F, 'NR == 2 { exit !($3 > 0) }' $T/wbf.csv
check "ensemble: one member merged alone is itself (WBF and NMS)" awk -F, 'FNR == 2 && !($3 == $5 && $4 == $6 && $7 == $8) { bad = 1 } END { exit bad }' $T/wbf.csv $T/nms.csv
check "ensemble: NMS keeps at most the union of the boxes" awk -F, 'NR == 2 { b = $7 } NR == 3 { exit !($8 <= b + $7) }' $T/nms.csv
check "ensemble: WBF and NMS merge two members differently" test "$(sed -n 3p $T/wbf.csv | cut -d, -f5)" != "$(sed -n 3p $T/nms.csv | cut -d, -f5)"
sed -e 's/^classes=10/classes=3/' -e 's/^filters=45/filters=24/' $T/mid.cfg > $T/three.cfg
expect_error "ensemble: a member of other classes is refused naming its cfg" "three.cfg: the last layer has classes=3" \
    $D ensemble $DS $T/mid.cfg $S2 $T/three.cfg:$FW -csv $T/refused.csv
check "ensemble: no CSV for the refused ensemble" test ! -e $T/refused.csv
$D swa $DS $T/mid.cfg $S2 $FW -out $T/swa.weights -limit 16 -bn_limit 48 > $T/swa.txt 2> $T/swa.err
check "swa: a file the size of a member" test "$(stat -c %s $T/swa.weights)" = "$(stat -c %s $S2)"
check "swa: BN statistics from 48 training images" grep -q "BN statistics from 48 training images" $T/swa.err
$D detector map $DS $T/mid.cfg $T/swa.weights -limit 16 > $T/map3.txt 2>/dev/null
ms=$(awk '$1 == "swa" { print $2 }' $T/swa.txt)
check "swa: its mAP@0.5 ($ms) is detector map's of the file" grep -q "^mAP@0.50 = $ms %" $T/map3.txt
img=$(head -1 $T/ds/valid.txt)
$D ensemble detect $DS $T/mid.cfg $S2 $FW $img -thresh 0.01 -out $T/boxes.png > $T/boxes.txt 2> $T/boxes.err
check "ensemble detect: a PNG" bash -c "head -c 8 $T/boxes.png | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$'"
check "ensemble detect: the boxes listed with class names and scores" bash -c "[ \$(grep -c '^[A-Za-z].*: [0-9]*%' $T/boxes.txt) -ge 1 ]"
check "ensemble detect: as many boxes as it says it drew" grep -q ": $(wc -l < $T/boxes.txt) box" $T/boxes.err
expect_error "ensemble detect: an unreadable image" "nothere.png" $D ensemble detect $DS $T/mid.cfg $S2 $T/nothere.png -out $T/b2.png
# darknet fge on a detector: Darknet's detection loop with the triangle from the command line;
# 96 images of 8 = 12 iterations per epoch, cycles of 6: snapshots after iterations 3 and 9
$D fge $DS $T/mid.cfg $FW -epochs 1 -cycle 0.5 -lr1 0.001 -lr2 0.0001 -test_limit 8 > $T/fge.txt 2> $T/fge.err
check "fge on a detector: two snapshots, 3 and 9 iterations after the weights' 200" \
    bash -c "[ \"\$(awk '\$1 ~ /^[0-9]+$/ && \$2 ~ /^[0-9]+$/ { printf \"%s \", \$2 }' $T/fge.txt)\" = '203 209 ' ]"
check "fge on a detector: the triangle's rate at iteration 3 (0.001/3 + 0.0001 2/3)" awk '$1 == 1 { exit !($3 == 0.000400) }' $T/fge.txt
expect_error "fge on a detector: an odd cycle is refused" "must be an even whole number" $D fge $DS $T/mid.cfg $FW -epochs 1 -cycle 0.25
expect_error "fge on a detector: classifier-only options are refused" "a detector: fge takes" $D fge $DS $T/mid.cfg $FW -out $T/x.weights
finish
