#!/usr/bin/env bash
# Command-line tests of the Open MPI build (./darknet-mpi, make MPI=1) with
# mpirun --oversubscribe on this machine: a plane grid and curve evaluation spread over 2
# and 3 ranks equal one process byte for byte (CSV, table, partial file with %.17g values,
# picture); a rank killed mid-grid makes mpirun fail and leaves a partial grid that resumes
# with another number of ranks to the same CSV; data-parallel train and curve train on 2
# and 3 ranks, and a 1-process curve checkpoint resumed on 2 ranks, match one process
# within the stated tolerance (no-BN network: max |dw| <= 1e-5; measured about 2e-7); with
# BN (shard statistics) the curve's loss stays within 2 %; an error every rank meets is
# printed once. Skipped when mpirun or darknet-mpi is missing.
. "$(dirname "$0")/../lib/cli.sh" mpi
M=${DKMC_MPI_BIN:-./darknet-mpi}
if ! command -v mpirun > /dev/null || [ ! -x "$M" ]; then
    skip "the MPI tests" "$(command -v mpirun > /dev/null && echo "no $M: make MPI=1" || echo "no mpirun: apt-get install openmpi-bin libopenmpi-dev")"
    exit 0
fi
# root in CI containers; shared memory between ranks without ptrace (CMA) permissions;
# one thread per rank, and one thread for the one-process runs they are compared with
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none DKTHREADS=1
mpi() { local n=$1; shift; mpirun --oversubscribe -np "$n" "$M" "$@"; }

# the collectives themselves (tests/unit/test_dist.c, its MPI build): sums, differs,
# broadcast and batch split over 3 ranks against sums written out in the test
TD=${DKMC_MPI_TEST_DIST:-build-mpi/tests/test_dist}
if [ -x "$TD" ]; then
    check "test_dist on 3 ranks: the collectives pass" sh -c "mpirun --oversubscribe -np 3 '$TD' > '$T/td.log' 2>&1 && grep -q '^\[       OK \] test_collectives' '$T/td.log'"
else
    skip "test_dist on 3 ranks" "no $TD: make MPI=1 $TD"
fi
DATA=cfg/fashion.data CFG=cfg/fashion-cnn.cfg NOBN=tests/lib/fashion-nobn.cfg
LIM="-bn_limit 128 -train_limit 128 -test_limit 128"
# max |a - b| over two .weights files' floats (after the 20-byte header)
wdiff() { paste <(od -An -v -tf4 -j 20 "$1" | tr -s ' ' '\n' | grep .) <(od -An -v -tf4 -j 20 "$2" | tr -s ' ' '\n' | grep .) |
          awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; n++ } END { if (n < 1000) print "nan"; else printf "%.3g\n", m }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "nan" && a + 0 <= b + 0) }'; }

for s in 1 2 3; do
    ./darknet train $DATA $CFG -epochs 1 -limit 512 -no_test -seed $s -out $T/w$s.weights > /dev/null 2>&1
done
check "three networks trained" test -s $T/w1.weights -a -s $T/w2.weights -a -s $T/w3.weights
P="$DATA $CFG $T/w1.weights $T/w2.weights $T/w3.weights -grid 3 $LIM"

# plane: 1 process, 2 ranks, 3 ranks (9 points: rounds of 2 and of 3)
./darknet plane $P -csv $T/p1.csv -png $T/p1 > $T/p1.txt 2> /dev/null
mpi 2 plane $P -csv $T/p2.csv -png $T/p2 > $T/p2.txt 2> $T/p2.err
check "plane on 2 ranks: exit 0 and a CSV" test -s $T/p2.csv
check "plane on 2 ranks: CSV equals one process's" cmp -s $T/p1.csv $T/p2.csv
check "plane on 2 ranks: picture equals one process's" cmp -s $T/p1_test_error.png $T/p2_test_error.png
check "plane on 2 ranks: the same table rows" test "$(awk 'NF == 9 && $1 ~ /^[0-9]+$/' $T/p1.txt)" = "$(awk 'NF == 9 && $1 ~ /^[0-9]+$/' $T/p2.txt)"
check "plane on 2 ranks: one table, wall time per point stated" grep -q "(wall time, 2 ranks)" $T/p2.txt
check "plane on 2 ranks: rank 0 alone reports (one 'wrote' line per file)" test "$(grep -c "^wrote $T/p2.csv" $T/p2.err)" -eq 1
mpi 3 plane $P -csv $T/p3.csv > /dev/null 2>&1
check "plane on 3 ranks: CSV equals one process's" cmp -s $T/p1.csv $T/p3.csv
# the partial file holds every value to the last bit (%.17g): equal after 5 points
./darknet plane $P -csv $T/s1.csv -stop_after 5 > /dev/null 2>&1
mpi 2 plane $P -csv $T/s2.csv -stop_after 5 > /dev/null 2>&1
check "5 points on 2 ranks: partial file (%.17g) equals one process's" cmp -s $T/s1.csv.partial $T/s2.csv.partial
mpi 3 plane $P -resume $T/s1.csv.partial > $T/sr.txt 2>&1
check "a 1-process partial grid resumed on 3 ranks: the same CSV" cmp -s $T/p1.csv $T/s1.csv
check "resumed on 3 ranks: 4 evaluated now, 5 from the file" grep -q "(4 evaluated now, 5 from" $T/sr.txt

# a rank that dies: mpirun fails and says so; the partial grid resumes with another N
DKMC_DIST_DIE=1:3 timeout 120 mpirun --oversubscribe -np 2 "$M" plane $P -csv $T/d.csv > /dev/null 2> $T/d.err; rc=$?
check "rank 1 killed: mpirun fails (rc=$rc)" test $rc -ne 0 -a $rc -ne 124
check "rank 1 killed: mpirun names the rank and the signal" grep -q "rank 1 .*exited on signal 9" $T/d.err
check "rank 1 killed: no CSV, a partial grid of the 4 finished points" \
    test ! -e $T/d.csv -a "$(grep -vc '^#' $T/d.csv.partial 2> /dev/null)" = 4
./darknet plane $P -resume $T/d.csv.partial > /dev/null 2>&1
check "the killed run's partial grid resumed by one process: the same CSV" cmp -s $T/p1.csv $T/d.csv

# curve evaluation (and the straight line) on 2 ranks, the line alone on 3 (5 points)
./darknet curve train $DATA $CFG $T/w1.weights $T/w2.weights -epochs 1 -limit 256 -out $T/c.curve > /dev/null 2>&1
E="-points 5 $LIM"
./darknet curve eval $DATA $CFG $T/c.curve $E -line -csv $T/e1.csv -png $T/e1.png > $T/e1.txt 2> /dev/null
mpi 2 curve eval $DATA $CFG $T/c.curve $E -line -csv $T/e2.csv -png $T/e2.png > $T/e2.txt 2> /dev/null
check "curve eval on 2 ranks: CSV equals one process's" cmp -s $T/e1.csv $T/e2.csv
check "curve eval on 2 ranks: table and summary equal one process's" cmp -s $T/e1.txt $T/e2.txt
check "curve eval on 2 ranks: picture equals one process's" cmp -s $T/e1.png $T/e2.png
./darknet curve line $DATA $CFG $T/w1.weights $T/w3.weights $E -csv $T/l1.csv > /dev/null 2>&1
mpi 3 curve line $DATA $CFG $T/w1.weights $T/w3.weights $E -csv $T/l3.csv > /dev/null 2>&1
check "curve line on 3 ranks: CSV equals one process's" cmp -s $T/l1.csv $T/l3.csv

# data-parallel training without BN: equal up to the order of float sums
TR="-epochs 2 -limit 512 -test_limit 256 -seed 1"
./darknet train $DATA $NOBN $TR -out $T/t1.weights > $T/t1.txt 2> /dev/null
mpi 2 train $DATA $NOBN $TR -out $T/t2.weights > $T/t2.txt 2> /dev/null
mpi 3 train $DATA $NOBN $TR -out $T/t3.weights > /dev/null 2>&1   # batch 32 = 11 + 11 + 10
d2=$(wdiff $T/t1.weights $T/t2.weights); d3=$(wdiff $T/t1.weights $T/t3.weights)
check "train on 2 ranks = 1 rank: max |dw| $d2 <= 1e-5" le "$d2" 1e-5
check "train on 3 ranks (uneven shards) = 1 rank: max |dw| $d3 <= 1e-5" le "$d3" 1e-5
check "train on 2 ranks: the same loss column" test "$(awk '$1 ~ /^[0-9]+$/ {print $3}' $T/t1.txt)" = "$(awk '$1 ~ /^[0-9]+$/ {print $3}' $T/t2.txt)"
./darknet curve train $DATA $NOBN $T/t1.weights $T/t3.weights -epochs 2 -limit 512 -out $T/n1.curve > /dev/null 2>&1
mpi 2 curve train $DATA $NOBN $T/t1.weights $T/t3.weights -epochs 2 -limit 512 -out $T/n2.curve > /dev/null 2>&1
for c in n1 n2; do ./darknet curve export $DATA $NOBN $T/$c.curve -t 0.5 -bn_limit 32 -out $T/$c.mid.weights > /dev/null 2>&1; done
dc=$(wdiff $T/n1.mid.weights $T/n2.mid.weights)
check "curve train on 2 ranks = 1 rank: w(0.5) max |dw| $dc <= 1e-5" le "$dc" 1e-5
# a curve checkpoint of one process resumed on 2 ranks: the same bends as 2 epochs in one go
./darknet curve train $DATA $NOBN $T/t1.weights $T/t3.weights -epochs 2 -limit 512 -stop_after 1 -out $T/h.curve > /dev/null 2>&1
mpi 2 curve train $DATA $NOBN -resume $T/h.curve -limit 512 > /dev/null 2>&1
./darknet curve export $DATA $NOBN $T/h.curve -t 0.5 -bn_limit 32 -out $T/h.mid.weights > /dev/null 2>&1
dh=$(wdiff $T/n1.mid.weights $T/h.mid.weights)
check "curve checkpoint of 1 process resumed on 2 ranks: w(0.5) max |dw| $dh <= 1e-5" le "$dh" 1e-5
# with BN each rank normalises its shard: close to, not equal to, one process
./darknet curve train $DATA $CFG $T/w1.weights $T/w2.weights -epochs 1 -limit 512 -out $T/b1.curve > $T/b1.txt 2> /dev/null
mpi 2 curve train $DATA $CFG $T/w1.weights $T/w2.weights -epochs 1 -limit 512 -out $T/b2.curve > $T/b2.txt 2> /dev/null
l1=$(awk '$1 == "1" {print $3}' $T/b1.txt); l2=$(awk '$1 == "1" {print $3}' $T/b2.txt)
check "curve train with BN on 2 ranks: train loss $l2 within 2 % of one process's $l1" \
    awk -v a="$l1" -v b="$l2" 'BEGIN { d = (a - b) / a; exit !(a > 0 && b > 0 && d < 0.02 && d > -0.02) }'

# an error every rank meets: printed once, mpirun fails
out=$(mpi 2 plane $DATA $CFG $T/w1.weights $T/w2.weights $T/nothere.weights -grid 3 -csv $T/x.csv 2>&1 > /dev/null); rc=$?
check "bad input on 2 ranks: mpirun fails (rc=$rc)" test $rc -ne 0
check "bad input on 2 ranks: one 'darknet:' line naming the file" test "$(printf '%s\n' "$out" | grep -c 'darknet.*nothere.weights')" -eq 1
check "bad input on 2 ranks: no CSV" test ! -e $T/x.csv
finish
