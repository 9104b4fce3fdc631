#!/usr/bin/env bash
# Interruptions and failures of long runs, on small Fashion-MNIST subsets:
#  - kill -9 during "curve train" after its first checkpoint, then -resume: the final curve
#    equals an uninterrupted run's byte for byte; the same for a "plane" grid and its CSV;
#  - a failed write (ulimit -f: "disk full") keeps the previous checkpoint intact and
#    loadable, with the error as the last line, and leaves no temp file (with SIGXFSZ ignored:
#    the write fails; with its default action: the process dies and its temp file is removed);
#  - divergence (NaN/Inf) in train, curve train and fge stops with the iteration named, and
#    the last good file under that name stays as it was;
#  - written files get the mode of the umask (0666 & ~umask), not the temp file's 0600.
. "$(dirname "$0")/../lib/cli.sh" killresume
DATA=cfg/fashion.data CFG=cfg/fashion-cnn.cfg
S="-limit 512"
no_tmp() { ! ls "$1".tmp.* >/dev/null 2>&1; }

$D train $DATA $CFG -epochs 1 $S -no_test -seed 1 -out $T/a.weights > /dev/null 2>&1
$D train $DATA $CFG -epochs 1 $S -no_test -seed 2 -out $T/b.weights > /dev/null 2>&1
check "two end points" test -s $T/a.weights -a -s $T/b.weights

# ---- kill -9 during curve training, then resume ----
$D curve train $DATA $CFG $T/a.weights $T/b.weights -epochs 4 $S -out $T/full.curve > /dev/null 2>&1
$D curve train $DATA $CFG $T/a.weights $T/b.weights -epochs 4 $S -out $T/part.curve > /dev/null 2>&1 &
pid=$!
while [ ! -e $T/part.curve ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
kill -9 $pid 2>/dev/null; wait $pid; rc=$?
check "curve train killed by SIGKILL after its first checkpoint (rc $rc)" test $rc -eq 137 -a -s $T/part.curve
rm -f $T/part.curve.tmp.*     # kill -9 leaves the temp file of a checkpoint being written
$D curve train $DATA $CFG -resume $T/part.curve $S > /dev/null 2> $T/resume.err
check "resume says where it continues" grep -q "resuming $T/part.curve at epoch" $T/resume.err
check "resumed curve = uninterrupted curve (cmp)" cmp -s $T/full.curve $T/part.curve

# ---- kill -9 during a plane grid, then resume ----
LIM="-bn_limit 128 -train_limit 128 -test_limit 128"
$D plane $DATA $CFG -curve $T/full.curve -grid 4 $LIM -csv $T/full.csv > /dev/null 2>&1
$D plane $DATA $CFG -curve $T/full.curve -grid 4 $LIM -csv $T/part.csv > /dev/null 2>&1 &
pid=$!
while ! { [ -e $T/part.csv.partial ] && [ "$(grep -vc '^#' $T/part.csv.partial 2>/dev/null)" -ge 2 ]; } && kill -0 $pid 2>/dev/null; do sleep 0.02; done
kill -9 $pid 2>/dev/null; wait $pid; rc=$?
check "plane killed by SIGKILL with points in its partial file (rc $rc)" test $rc -eq 137 -a ! -e $T/part.csv
rm -f $T/part.csv.partial.tmp.*
$D plane $DATA $CFG -curve $T/full.curve -grid 4 $LIM -resume $T/part.csv.partial > $T/pres.txt 2>/dev/null
check "resumed plane CSV = uninterrupted (cmp)" cmp -s $T/full.csv $T/part.csv
check "resumed plane took points from the partial file" grep -q "from" $T/pres.txt

# ---- a failed write keeps the previous checkpoint ----
cp $T/full.curve $T/ck.curve; cp $T/full.curve $T/ck.orig
( trap '' XFSZ; ulimit -f 64; exec $D curve train $DATA $CFG -resume $T/ck.curve -epochs 5 $S ) > /dev/null 2> $T/full.err; rc=$?
check "disk full: non-zero exit, no signal (rc $rc)" test $rc -ne 0 -a $rc -lt 128
check "disk full: the last line names the file and the error" bash -c "tail -1 $T/full.err | grep -q '$T/ck.curve: write failed: File too large'"
check "disk full: previous checkpoint unchanged" cmp -s $T/ck.curve $T/ck.orig
check "disk full: no temp file left" no_tmp $T/ck.curve
$D curve export $DATA $CFG $T/ck.curve -t 0.5 -bn_limit 128 -out $T/mid.weights > /dev/null 2>&1
check "disk full: the kept checkpoint still loads (export)" test -s $T/mid.weights
( ulimit -f 64; exec $D curve train $DATA $CFG -resume $T/ck.curve -epochs 5 $S ) > /dev/null 2>&1; rc=$?
check "SIGXFSZ (default action): killed by the signal (rc $rc)" test $rc -eq $((128 + 25))
check "SIGXFSZ: no temp file left, checkpoint unchanged" bash -c "! ls $T/ck.curve.tmp.* >/dev/null 2>&1 && cmp -s $T/ck.curve $T/ck.orig"

# ---- divergence: the iteration named, the last good file under that name stays ----
cp $T/a.weights $T/keep.weights; cp $T/a.weights $T/keep.orig
out=$($D train $DATA $CFG $T/keep.weights -epochs 1 $S -no_test -lr 1e30 -out $T/keep.weights 2>&1 >/dev/null); rc=$?
check "train divergence: exit 1, iteration named" bash -c "[ $rc -eq 1 ] && printf '%s' \"\$1\" | tail -1 | grep -q 'diverged at epoch 1, iteration'" _ "$out"
check "train divergence: the weights file under -out is unchanged" cmp -s $T/keep.weights $T/keep.orig
cp $T/full.curve $T/kc.curve
out=$($D curve train $DATA $CFG $T/a.weights $T/b.weights -epochs 1 $S -lr 1e30 -out $T/kc.curve 2>&1 >/dev/null); rc=$?
check "curve divergence: exit 1, iteration named" bash -c "[ $rc -eq 1 ] && printf '%s' \"\$1\" | tail -1 | grep -q 'diverged at epoch 1, iteration'" _ "$out"
check "curve divergence: the curve file under -out is unchanged" cmp -s $T/kc.curve $T/full.curve
out=$($D fge $DATA $CFG $T/a.weights -epochs 1 -cycle 0.5 -lr1 1e30 -lr2 1e29 $S -test_limit 100 -out $T/f.weights 2>&1 >/dev/null); rc=$?
check "fge divergence: exit 1, iteration named" bash -c "[ $rc -eq 1 ] && printf '%s' \"\$1\" | tail -1 | grep -q 'diverged at epoch 1, iteration'" _ "$out"
check "fge divergence: no final weights, no snapshot" bash -c "[ ! -e $T/f.weights ] && ! compgen -G '$T/f_snap*.weights' >/dev/null"

# ---- modes: 0666 & ~umask ----
for um in 022 077 002; do
    want=$(printf '%o' $(( 0666 & ~0$um )))
    rm -rf $T/m; mkdir $T/m
    ( umask $um
      $D train $DATA $CFG -epochs 1 -limit 256 -test_limit 100 -out $T/m/w.weights -csv $T/m/t.csv -png $T/m/t.png
      $D curve train $DATA $CFG $T/a.weights $T/b.weights -epochs 1 -limit 256 -out $T/m/c.curve ) > /dev/null 2>&1
    modes=$(stat -c %a $T/m/w.weights $T/m/t.csv $T/m/t.png $T/m/c.curve 2>&1 | tr '\n' ' ')
    check "umask $um: .weights, CSV, PNG, .curve get $want ($modes)" test "$modes" = "$want $want $want $want "
done

finish
