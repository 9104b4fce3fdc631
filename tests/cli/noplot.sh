#!/usr/bin/env bash
# A build without PLplot (make PLOT=0, plugins/plot/plot_none.c; what scripts/gpu_check.sh
# builds on a GPU machine whose image has no PLplot): every command works and writes its
# tables; a picture is refused up front, in one line, before any work and with no file
# written. Builds build-noplot/darknet (about a minute on 2 cores).
. "$(dirname "$0")/../lib/cli.sh" noplot
if ! make --no-print-directory -s PLOT=0 BUILD=build-noplot build-noplot/darknet > $T/build.log 2>&1; then
    bad "make PLOT=0 builds darknet"; tail -5 $T/build.log; finish; exit 1
fi
N=build-noplot/darknet
check "the PLOT=0 darknet does not link PLplot" bash -c "! ldd $N | grep -qi plplot"
$N train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -test_limit 200 -seed 3 -out $T/a.weights -csv $T/a.csv > $T/a.txt 2> /dev/null
check "train works and writes weights and its CSV" test -s $T/a.weights -a -s $T/a.csv
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -test_limit 200 > $T/e_plot.txt 2> /dev/null
$N eval cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -test_limit 200 > $T/e_noplot.txt 2> /dev/null
check "eval: the same numbers as the PLplot build" cmp -s $T/e_plot.txt $T/e_noplot.txt
expect_error "plot -png: refused in one line" "without PLplot" $N plot $T/a.csv -x epoch -y te_acc -png $T/p.png
check "no picture written" test ! -e $T/p.png
expect_error "plot -plane: refused in one line" "without PLplot" $N plot docs/reference-plane.csv -plane -png $T/pl
check "no plane picture written" test ! -e $T/pl_test_error.png
expect_error "train -png: refused before training" "without PLplot" \
    $N train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -test_limit 200 -out $T/b.weights -png $T/b.png
check "no weights written by the refused run" test ! -e $T/b.weights
expect_error "fge -png: refused before training" "without PLplot" \
    $N fge cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -epochs 2 -cycle 1 -limit 256 -out $T/f.weights -png $T/f.svg
check "no snapshot written by the refused run" test ! -e $T/f_snap01.weights
finish
