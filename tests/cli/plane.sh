#!/usr/bin/env bash
# Command-line tests of "darknet plane" on real Fashion-MNIST subsets: three tiny networks
# and a 1-epoch curve between two of them, then small grids: the plane of the curve (CSV,
# pictures), of three networks (the (0,0) corner equals "eval -bn_update" of the first),
# of random directions; an interrupted grid resumed equals a full run byte for byte; a
# resume with other settings, a degenerate plane and an unwritable output get a one-line
# error and leave no file.
. "$(dirname "$0")/../lib/cli.sh" plane
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
DATA=cfg/fashion.data CFG=cfg/fashion-cnn.cfg
LIM="-bn_limit 256 -train_limit 256 -test_limit 256"

check "help: plane" bash -c "$D plane -h | grep -q usage"
check "top-level help lists plane" bash -c "$D -h | grep -q 'plane '"

for s in 1 2 3; do
    $D train $DATA $CFG -epochs 1 -limit 1024 -no_test -seed $s -out $T/w$s.weights > /dev/null 2>&1
done
check "three networks trained" test -s $T/w1.weights -a -s $T/w2.weights -a -s $T/w3.weights
$D curve train $DATA $CFG $T/w1.weights $T/w2.weights -epochs 1 -limit 1024 -out $T/run.curve > /dev/null 2>&1
check "curve trained" test -s $T/run.curve

# the plane of the curve: table, CSV (3 bends + 61 curve points + 9 grid points), two PNGs
$D plane $DATA $CFG -curve $T/run.curve -grid 3 $LIM -csv $T/c.csv -png $T/c > $T/c.txt 2> $T/c.err
check "curve plane: 9 table rows" test "$(awk '$1 ~ /^[0-9]+$/ && NF == 9' $T/c.txt | wc -l)" -eq 9
check "curve plane: CSV header" test "$(head -1 $T/c.csv)" = "kind,i,j,t,alpha,beta,x,y,tr_loss,tr_nll,tr_err,te_nll,te_err"
check "curve plane: CSV rows" test "$(grep -c '^bend,' $T/c.csv) $(grep -c '^curve,' $T/c.csv) $(grep -c '^grid,' $T/c.csv)" = "3 61 9"
check "curve plane: bend 0 at the origin, bend 2 on the x axis" \
    awk -F, '$1=="bend" && $2==0 { o = ($7==0 && $8==0) } $1=="bend" && $2==2 { x = ($6+0 < 1e-3 && $6+0 > -1e-3 && $5 == "1.000000") } END { exit !(o && x) }' $T/c.csv
check "curve plane: the curve lies in the plane" grep -q "the curve lies in it" $T/c.err
check "curve plane: l2 convention stated" grep -q "un-squared" $T/c.err
check "curve plane: summary" grep -q "s per point" $T/c.txt
check "curve plane: train-loss PNG" is_png $T/c_train_loss.png
check "curve plane: test-error PNG" is_png $T/c_test_error.png
check "curve plane: no partial file left" test ! -e $T/c.csv.partial
# the pictures drawn again from the CSV alone
$D plot $T/c.csv -plane -png $T/again > /dev/null 2>&1
check "plot -plane: the train-loss picture from the CSV" is_png $T/again_train_loss.png
check "plot -plane: the test-error picture from the CSV" is_png $T/again_test_error.png
$D plot docs/reference-plane.csv -plane -png $T/ref > /dev/null 2>&1   # the README's figures
check "plot -plane: the README's reference plane" bash -c "[ -s $T/ref_train_loss.png ] && [ -s $T/ref_test_error.png ]"
expect_error "plot -plane: another CSV refused" "not a CSV of darknet plane" $D plot $T/c.txt -plane -png $T/none
head -c 5000 docs/reference-plane.csv > $T/cut.csv
expect_error "plot -plane: a truncated CSV refused" "fields, not 13" $D plot $T/cut.csv -plane -png $T/none
sed '0,/^grid,0,1,/s//grid,0,0,/' docs/reference-plane.csv > $T/dup.csv
expect_error "plot -plane: a grid point given twice refused" "given twice" $D plot $T/dup.csv -plane -png $T/none
check "plot -plane: nothing written for it" test ! -e $T/none_test_error.png -a ! -e $T/none_train_loss.png

# three networks, no margin: the (0,0) corner is w1, with BN recomputed on the same images
$D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 2 -margin 0 $LIM -csv $T/p.csv > $T/p.txt 2>/dev/null
$D eval $DATA $CFG $T/w1.weights -bn_update -bn_limit 256 -train -train_limit 256 -test_limit 256 > $T/e.txt 2>/dev/null
pl=$(awk '$1=="0" && $2=="0" {print $6, $8}' $T/p.txt)
ev=$(awk '$1=="train" {t=$2} $1=="test" {print t, $2}' $T/e.txt)
check "corner (0,0) = eval -bn_update of the first network (train/test nll: $pl vs $ev)" test -n "$ev" -a "$pl" = "$ev"
perr=$(awk '$1=="0" && $2=="0" {print $9}' $T/p.txt); eacc=$(awk '$1=="test" {print $3}' $T/e.txt)
check "corner (0,0) test error = 100 - eval accuracy ($perr, $eacc)" awk -v e="$perr" -v a="$eacc" 'BEGIN { d = e + a - 100; exit !(d < 0.011 && d > -0.011) }'
check "three networks: point rows in the CSV" test "$(grep -c '^point,' $T/p.csv)" -eq 3

# resume: an interrupted grid continued equals a full run, byte for byte
$D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 3 $LIM -csv $T/full.csv > /dev/null 2>&1
$D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 3 $LIM -csv $T/part.csv -stop_after 4 > /dev/null 2> $T/stop.err
check "interrupted: partial file, no CSV yet" test -s $T/part.csv.partial -a ! -e $T/part.csv
check "interrupted: 4 points in the partial file" test "$(grep -vc '^#' $T/part.csv.partial)" -eq 4
check "interrupted: says how to continue" grep -q -- "-resume $T/part.csv.partial" $T/stop.err
$D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 3 $LIM -resume $T/part.csv.partial > $T/res.txt 2> $T/res.err
check "resumed: CSV equals the full run's" cmp -s $T/full.csv $T/part.csv
check "resumed: 5 points evaluated, 4 from the file" grep -q "(5 evaluated now, 4 from" $T/res.txt
check "resumed: partial file removed" test ! -e $T/part.csv.partial
$D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 3 $LIM -csv $T/q.csv -stop_after 2 > /dev/null 2>&1
expect_error "resume with another grid refused" "other settings (it has grid=3, this run has grid=4)" \
    $D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 4 $LIM -resume $T/q.csv.partial
expect_error "resume with other data limits refused" "other settings" \
    $D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 3 -bn_limit 128 -train_limit 256 -test_limit 256 -resume $T/q.csv.partial
expect_error "resume with other networks refused" "basis=" \
    $D plane $DATA $CFG $T/w1.weights $T/w3.weights $T/w2.weights -grid 3 $LIM -resume $T/q.csv.partial
check "refused resumes wrote no CSV" test ! -e $T/q.csv

# random filter-normalised directions around one network
$D plane $DATA $CFG $T/w1.weights -random -seed 3 -grid 2 -bn_limit 128 -no_train -test_limit 128 -csv $T/r.csv -png $T/r.png > $T/r.txt 2> $T/r.err
check "random: grid rows" test "$(grep -c '^grid,' $T/r.csv)" -eq 4
check "random: centre row at (0,0)" grep -q '^center,0,,,0.000000,0.000000,0.000000,0.000000' $T/r.csv
check "random: alpha from -1 to 1" awk -F, '$1=="grid" && $2==1 && $3==1 { exit !($5 == "1.000000" && $6 == "1.000000") }' $T/r.csv
check "random: test-error PNG, no train-loss PNG with -no_train" bash -c "[ -s $T/r_test_error.png ] && [ ! -e $T/r_train_loss.png ]"
check "random: says not orthogonalised" grep -q "not orthogonalised" $T/r.err
$D plot $T/r.csv -plane -png $T/r2 > /dev/null 2>&1
check "plot -plane of a -no_train CSV: the test-error picture only" bash -c "[ -s $T/r2_test_error.png ] && [ ! -e $T/r2_train_loss.png ]"

# a curve of 4 bends: the plane of three of them, the curve projected
$D curve train $DATA $CFG $T/w1.weights $T/w2.weights -bends 4 -epochs 1 -limit 512 -out $T/k4.curve > /dev/null 2>&1
$D plane $DATA $CFG -curve $T/k4.curve -bends 0,1,3 -grid 2 -bn_limit 128 -no_train -test_limit 128 -csv $T/k4.csv > /dev/null 2> $T/k4.err
check "4 bends: projection stated" grep -q "PROJECTED" $T/k4.err
check "4 bends: all bends in the CSV" test "$(grep -c '^bend,' $T/k4.csv)" -eq 4

# bad input: one line, non-zero exit, nothing written
expect_error "degenerate plane (a a b)" "degenerate plane" \
    $D plane $DATA $CFG $T/w1.weights $T/w1.weights $T/w2.weights -grid 2 $LIM -csv $T/deg.csv -png $T/deg
check "degenerate: no files left" bash -c "! ls $T/deg* >/dev/null 2>&1"
expect_error "unwritable CSV" "/nonexistent-dir/p.csv" \
    $D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 2 -csv /nonexistent-dir/p.csv
expect_error "unwritable picture" "/nonexistent-dir/pic_test_error.png" \
    $D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 2 -no_train -png /nonexistent-dir/pic
head -c 1000 $T/w3.weights > $T/short.weights
expect_error "truncated weights" "short.weights" \
    $D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/short.weights -grid 2 $LIM
expect_error "bad -bends" "-bends" $D plane $DATA $CFG -curve $T/k4.curve -bends 0,0,3 -grid 2
expect_error "-grid 1" "-grid" $D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 1
printf 'not a partial\n' > $T/bogus.csv.partial
expect_error "bogus partial file" "bogus.csv.partial" \
    $D plane $DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 2 $LIM -resume $T/bogus.csv.partial

finish
