#!/usr/bin/env bash
# Command-line tests of FGE and SGDR on real Fashion-MNIST subsets: `darknet fge` writes a
# snapshot at each minimum and grows their ensemble; a cfg with policy=fge_cyclic or sgdr
# does the same under `darknet train` and under Darknet's `classifier train`; missing or
# invalid keys get a one-line error naming the cfg and leave nothing behind.
. "$(dirname "$0")/../lib/cli.sh" fge
S="-limit 1024 -test_limit 500"   # 8 iterations per epoch

check "help: fge" bash -c "$D fge -h | grep -q usage"
$D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 $S -out $T/base.weights > /dev/null 2>&1
check "base network" test -s $T/base.weights

# fge: cycle of half an epoch = 4 iterations, snapshots after iterations 2, 6, 10, 14
$D fge cfg/fashion.data cfg/fashion-cnn.cfg $T/base.weights -epochs 2 -cycle 0.5 -lr1 0.02 -lr2 0.001 $S \
    -out $T/f.weights -csv $T/f.csv -png $T/f.png -baseline $T/base.weights > $T/f.txt 2> $T/f.err
check "fge: four snapshot files" test "$(ls $T/f_snap*.weights 2>/dev/null | wc -l)" -eq 4
check "fge: final weights" test -s $T/f.weights
check "fge: summary line" grep -q "^4 snapshots" $T/f.txt
check "fge: snapshots inside epochs get rows (epoch 0.25)" grep -q "^  0.25 " $T/f.txt
check "fge: csv has 4 snapshot rows" test "$(awk -F, 'NR>1 && $8>0' $T/f.csv | wc -l)" -eq 4
check "fge: one-member ensemble equals the snapshot" awk -F, 'NR>1 && $8==1 { exit !($6==$9 && $7==$10) }' $T/f.csv
# iteration i (1-based in the csv) ran at lr1 (1 - 2s) + lr2 2s, s = ((i-1) mod 4)/4 = 1/4
check "fge: snapshots after the iteration before the minimum" \
    awk -F, 'NR>1 && $8>0 { n++; if (($2-1)%4 != 1 || ($3-0.0105)^2 > 1e-12) bad=1 } END { exit bad || n!=4 }' $T/f.csv
check "fge: distance from the start grows from 0" awk -F, 'NR==2 { exit !($11 > 0) }' $T/f.csv
check "fge: picture is a PNG" bash -c "head -c 8 $T/f.png | od -An -c | grep -q 'P   N   G'"
# the figure's iteration 0 is the pretrained network, and its baseline here the same file:
# both errors equal 100 - the accuracy 'darknet eval' gives that file
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/base.weights -test_limit 500 > $T/e0.txt 2>/dev/null
base_err=$(awk '$1=="test" { printf "%.2f", 100 - $3 }' $T/e0.txt)
check "fge: the figure's iteration 0 is the pretrained network ($base_err %)" \
    grep -q "^fge: iteration 0 ($T/base.weights): test error $base_err %" $T/f.err
check "fge: the figure's baseline is its files' error ($base_err %)" grep -q "^fge: baseline $T/base.weights: test error $base_err %" $T/f.err
check "fge: snapshot is an ordinary .weights file" test "$(stat -c %s $T/f_snap01.weights)" -eq $((20 + 4 * (104426 + 448)))
# the snapshot files reproduce the ensemble's numbers: evaluating snapshot 1 with its stored BN
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/f_snap01.weights -test_limit 500 > $T/e1.txt 2>/dev/null
snap_nll=$(awk -F, 'NR>1 && $8==1 { printf "%.4f", $6 }' $T/f.csv)
check "fge: snapshot file evaluates to its row ($snap_nll)" grep -q "^test .* $snap_nll " $T/e1.txt

# darknet ensemble of the snapshot files reproduces the run's own ensemble, member by member
$D ensemble cfg/fashion.data cfg/fashion-cnn.cfg $T/f_snap01.weights $T/f_snap02.weights $T/f_snap03.weights \
    $T/f_snap04.weights -test_limit 500 -csv $T/ens.csv > /dev/null 2>&1
check "ensemble command = the run's ensemble after each snapshot" bash -c \
    "[ \"\$(awk -F, 'NR>1 && \$8>0 { printf \"%.4f %.2f\\n\", \$9, \$10 }' $T/f.csv)\" = \"\$(awk -F, 'NR>1 { printf \"%.4f %.2f\\n\", \$5, \$6 }' $T/ens.csv)\" ]"

# -bn_update: each snapshot is saved with exact BN statistics (from the first 512 images):
# evaluating it as stored equals recomputing them again
$D fge cfg/fashion.data cfg/fashion-cnn.cfg $T/base.weights -epochs 1 -cycle 0.5 -lr1 0.02 -lr2 0.001 $S \
    -bn_update -bn_limit 512 -out $T/b.weights -csv $T/b.csv > /dev/null 2>&1
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/b_snap01.weights -test_limit 500 2>/dev/null | awk '$1=="test"' > $T/b1.txt
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/b_snap01.weights -test_limit 500 -bn_update -bn_limit 512 2>/dev/null | awk '$1=="test"' > $T/b2.txt
check "fge -bn_update: snapshot stored with exact BN" cmp -s $T/b1.txt $T/b2.txt
bn_nll=$(awk -F, 'NR>1 && $8==1 { printf "%.4f", $6 }' $T/b.csv)
check "fge -bn_update: the row reports the snapshot as saved ($bn_nll)" grep -q " $bn_nll " $T/b1.txt
# without -bn_update too while the running statistics are young (the base network has seen
# 8 batches: 92 % of its statistics is still Darknet's initial zero, and 8 + 291 = 299 batches
# leave 5 %): snapshot 1 of the first run was saved with exact statistics from its 1024
# training images
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/f_snap01.weights -test_limit 500 -bn_update -bn_limit 1024 2>/dev/null | awk '$1=="test"' > $T/e1x.txt
check "fge: a snapshot of young running statistics is stored with exact ones" bash -c \
    "grep -q 'for the next 291 batches (through epoch 37) the test numbers, snapshots and saved weights use exact statistics from 1024' $T/f.err && [ \"\$(awk '\$1==\"test\"' $T/e1.txt)\" = \"\$(cat $T/e1x.txt)\" ]"

# darknet plot draws any of these tables
$D plot $T/f.csv -x iteration -y te_acc,ens_acc -png $T/p.png 2>/dev/null
check "plot: a PNG from the fge table" bash -c "head -c 8 $T/p.png | od -An -c | grep -q 'P   N   G'"
$D plot $T/f.csv -x iteration -y te_acc,ens_acc,lr -panels -png $T/p3.png 2>/dev/null
check "plot -panels: one 600-pixel panel per -y column (1800 wide)" \
    bash -c "[ \$(od -An -tu1 -j16 -N4 $T/p3.png | awk '{print \$1*16777216+\$2*65536+\$3*256+\$4}') = 1800 ]"
expect_error "plot: -group takes one column without -panels" "-group takes one -y column" \
    $D plot $T/f.csv -x iteration -y te_acc,lr -group snapshot -png $T/q.png
expect_error "plot: unknown column" "no column 'nosuch'" $D plot $T/f.csv -x iteration -y nosuch -png $T/q.png
check "plot: nothing written on error" test ! -e $T/q.png
expect_error "plot: unknown picture format" "unknown picture format '.gif'" $D plot $T/f.csv -x iteration -y te_acc -png $T/q.gif
expect_error "fge: unknown picture format, before any training" "unknown picture format '.jpg'" \
    $D fge cfg/fashion.data cfg/fashion-cnn.cfg $T/base.weights -epochs 1 $S -out $T/z.weights -png $T/z.jpg
check "fge: nothing written for a bad picture name" test ! -e $T/z.weights -a ! -e $T/q.gif

# the same through a cfg: policy=fge_cyclic with fge_cycle_epochs=2 (16 iterations)
sed 's/^fge_cycle_epochs=2/fge_cycle_epochs=2/' cfg/fashion-cnn-fge.cfg > $T/fge.cfg
$D train cfg/fashion.data $T/fge.cfg $T/base.weights -epochs 4 $S -out $T/c.weights > $T/c.txt 2>$T/c.err
check "train with policy=fge_cyclic: two snapshots" test "$(ls $T/c_snap*.weights 2>/dev/null | wc -l)" -eq 2
check "train with policy=fge_cyclic: ensemble columns" grep -q "ens_acc" $T/c.txt
check "no 'going with constant' from the library" bash -c "! grep -qi 'going with constant' $T/c.err"
# Darknet's classifier command would train this cfg at a constant rate: ours takes it
$D classifier train cfg/fashion.data $T/fge.cfg $T/base.weights -epochs 2 $S -out $T/k.weights > $T/k.txt 2>$T/k.err
check "classifier train with our policy runs our loop" grep -q "training with 'darknet train' instead" $T/k.err
check "classifier train: snapshot written" test -s $T/k_snap01.weights
# sgdr: cycles of 1 and 2 epochs -> snapshots after epochs 1 and 3
$D train cfg/fashion.data cfg/fashion-cnn-sgdr.cfg $T/base.weights -epochs 3 $S -out $T/s.weights > $T/s.txt 2>&1
check "train with policy=sgdr: two snapshots" test "$(ls $T/s_snap*.weights 2>/dev/null | wc -l)" -eq 2
check "sgdr: the lr restarts after the first snapshot" awk '$1=="1" { a=$2 } $1=="2" { b=$2 } END { exit !(a < 0.003 && b > 10*a) }' $T/s.txt

# bad input: one line naming the cfg and the key, nothing written
grep -v '^learning_rate_min' cfg/fashion-cnn-fge.cfg > $T/nomin.cfg
expect_error "fge_cyclic without learning_rate_min" "learning_rate_min" $D train cfg/fashion.data $T/nomin.cfg -epochs 1 $S -out $T/x.weights
sed 's/^fge_cycle_epochs=2/fge_cycle=7/' cfg/fashion-cnn-fge.cfg > $T/odd.cfg
expect_error "odd fge_cycle" "even" $D train cfg/fashion.data $T/odd.cfg -epochs 1 $S -out $T/x.weights
check "nothing written on a bad cfg" test ! -e $T/x.weights -a ! -e $T/x_snap01.weights
expect_error "fge: odd cycle in iterations" "even number of iterations" $D fge cfg/fashion.data cfg/fashion-cnn.cfg $T/base.weights -cycle 0.125 $S -out $T/y.weights
expect_error "fge: missing start weights" "nosuch.weights" $D fge cfg/fashion.data cfg/fashion-cnn.cfg $T/nosuch.weights $S -out $T/y.weights
check "nothing written by failed fge runs" test ! -e $T/y.weights

finish
