#!/usr/bin/env bash
# Command-line tests on real Fashion-MNIST subsets: train two tiny end points, a curve
# between them, evaluate, export; help texts; pass-through; bad input gets a one-line error
# naming the file, a non-zero exit and no output file.
. "$(dirname "$0")/../lib/cli.sh" commands

# help texts
check "top-level help" bash -c "$D -h | grep -q 'curve train'"
for c in "train" "eval" "curve" "curve train" "curve eval" "curve line" "curve export"; do
    check "help: $c" bash -c "$D $c -h | grep -q usage"
done
# pass-through to the system darknet
check "pass-through" bash -c "$D detector 2>&1 | grep -q 'usage: .*detector'"
expect_error "unknown command: one line, non-zero" "unknown command 'plnae'" $D plnae cfg/fashion.data

# two tiny end points (different seeds) on 1024 images
$D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 1024 -test_limit 500 -seed 1 -out $T/a.weights > $T/a.txt 2>$T/a.err
check "train A writes weights" test -s $T/a.weights
check "train prints the epoch table" grep -q "^    1 " $T/a.txt
$D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 1024 -test_limit 500 -seed 2 -out $T/b.weights > /dev/null 2>&1
check "train B writes weights" test -s $T/b.weights
check "different seeds give different end points" bash -c "! cmp -s $T/a.weights $T/b.weights"
# the file is an ordinary Darknet .weights: same size as save_weights writes (20-byte header + payload)
check "weights size" test "$(stat -c %s $T/a.weights)" -eq $((20 + 4 * (104426 + 448)))

$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -test_limit 300 > $T/eval.txt 2>/dev/null
check "eval prints test row" grep -q "^test " $T/eval.txt

# curve: 1 epoch on 1024 images, then eval 3 points with the line, CSV and PNG, then export
$D curve train cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights $T/b.weights -epochs 1 -limit 1024 -out $T/run.curve > $T/ct.txt 2>/dev/null
check "curve train writes the curve" test -s $T/run.curve
check "curve train prints the table" grep -q "^    1 " $T/ct.txt
$D curve eval cfg/fashion.data cfg/fashion-cnn.cfg $T/run.curve -points 3 -bn_limit 512 -train_limit 256 -test_limit 256 -line -csv $T/c.csv -png $T/c.png > $T/ce.txt 2>/dev/null
check "curve eval: csv has 6 rows + header" test "$(wc -l < $T/c.csv)" -eq 7
check "curve eval: png written" bash -c "head -c 8 $T/c.png | od -An -c | grep -q 'P   N   G'"
check "curve eval: summary" grep -q "test error (%)" $T/ce.txt
check "curve eval: length line" grep -q "length" $T/ce.txt
$D curve export cfg/fashion.data cfg/fashion-cnn.cfg $T/run.curve -t 0.5 -bn_limit 512 -out $T/mid.weights > /dev/null 2>&1
check "export writes weights" test "$(stat -c %s $T/mid.weights)" -eq $((20 + 4 * (104426 + 448)))
$D curve line cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights $T/b.weights -points 2 -bn_limit 256 -no_train -test_limit 200 > $T/line.txt 2>/dev/null
check "curve line prints" grep -q "^line " $T/line.txt
# t = 0 of the line is end point A with BN recomputed on the same images: same test NLL as eval -bn_update
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -bn_update -bn_limit 256 -test_limit 200 > $T/evbn.txt 2>/dev/null
nll_eval=$(awk '$1=="test"{print $2}' $T/evbn.txt)
nll_line=$(awk '$1=="line" && $2=="0.000"{print $6}' $T/line.txt)
check "line at t=0 = end point with exact BN ($nll_eval vs $nll_line)" test -n "$nll_eval" -a "$nll_eval" = "$nll_line"
# resume continues a finished 1-epoch run to 2 epochs
$D curve train cfg/fashion.data cfg/fashion-cnn.cfg -resume $T/run.curve -epochs 2 -limit 1024 -out $T/run2.curve > /dev/null 2>&1
check "resume writes the continued run" test -s $T/run2.curve

# bad input
expect_error "missing cfg" "nope.cfg" $D train cfg/fashion.data nope.cfg
expect_error "missing data file" "nope.data" $D train nope.data cfg/fashion-cnn.cfg
printf 'classes=10\nformat=idx\n' > $T/bad.data
expect_error ".data without train" "missing key" $D train $T/bad.data cfg/fashion-cnn.cfg
head -c 1000 $T/a.weights > $T/short.weights
expect_error "truncated weights" "short.weights" $D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/short.weights
sed 's/filters=32/filters=16/' cfg/fashion-cnn.cfg > $T/small.cfg
expect_error "end points of another cfg" "a.weights" $D curve train cfg/fashion.data $T/small.cfg $T/a.weights $T/b.weights -out $T/x.curve
check "no curve left behind" test ! -e $T/x.curve
head -c 5000 $T/run.curve > $T/trunc.curve
expect_error "truncated curve" "trunc.curve" $D curve eval cfg/fashion.data cfg/fashion-cnn.cfg $T/trunc.curve
expect_error "curve of another cfg" "run.curve" $D curve eval cfg/fashion.data $T/small.cfg $T/run.curve -points 2
expect_error "unknown option" "-bogus" $D curve train cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights $T/b.weights -bogus 3
expect_error "export t out of range" "-t must be" $D curve export cfg/fashion.data cfg/fashion-cnn.cfg $T/run.curve -t 2 -out $T/y.weights
check "no export left behind" test ! -e $T/y.weights
expect_error "unwritable output" "/nonexistent-dir/o.weights" $D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -no_test -out /nonexistent-dir/o.weights
printf '[net]\nbatch=4\nwidth=28\nheight=28\nchannels=1\n[batchnorm]\n[connected]\noutput=10\n[softmax]\n' > $T/bn.cfg
expect_error "standalone batchnorm refused" "layer 0 (batchnorm)" $D eval cfg/fashion.data $T/bn.cfg $T/a.weights

# divergence: the run stops naming the iteration; nothing is written
out=$($D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 2 -limit 1024 -no_test -lr 1e30 -out $T/div.weights 2>&1 >/dev/null); rc=$?
check "divergence: non-zero exit, no signal" test $rc -ne 0 -a $rc -lt 128
check "divergence: message names epoch and iteration" bash -c "printf '%s' \"\$1\" | tail -1 | grep -q 'diverged at epoch 1, iteration'" _ "$out"
check "divergence: no weights file" test ! -e $T/div.weights
out=$($D curve train cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights $T/b.weights -epochs 1 -limit 1024 -lr 1e30 -out $T/div.curve 2>&1 >/dev/null); rc=$?
check "curve divergence: error naming the iteration, no curve file" bash -c "[ $rc -ne 0 ] && [ $rc -lt 128 ] && printf '%s' \"\$1\" | tail -1 | grep -q 'diverged at epoch 1, iteration' && [ ! -e $T/div.curve ]" _ "$out"

finish
