#!/usr/bin/env bash
# Darknet's device flags on our commands (issue 11), in a CPU build: -nogpu changes nothing,
# -gpu i is refused in one line (no GPU support compiled in), a malformed -gpu too.
. "$(dirname "$0")/../lib/cli.sh" gpu_flags
if [ -n "$(nm -D "$D" 2>/dev/null | grep ' U cuda_push_array')" ] || ldd "$D" 2>/dev/null | grep -q libcudart; then
    skip "the CPU build's device flags" "$D is a GPU build"; exit 0
fi
$D train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -test_limit 100 -seed 3 -out $T/a.weights > /dev/null 2>&1
check "a tiny network to evaluate" test -s $T/a.weights
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -test_limit 200 > $T/plain.txt 2> /dev/null
$D eval -nogpu cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -test_limit 200 > $T/nogpu.txt 2> /dev/null
$D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -test_limit 200 -nogpu > $T/nogpu2.txt 2> /dev/null
check "eval prints its row" grep -q "^test " $T/plain.txt
check "-nogpu (first or last) gives the same output" bash -c "cmp -s $T/plain.txt $T/nogpu.txt && cmp -s $T/plain.txt $T/nogpu2.txt"
expect_error "-gpu 0 in a CPU build: one line" "-gpu 0: this darknet was built without GPU support" \
    $D eval cfg/fashion.data cfg/fashion-cnn.cfg $T/a.weights -gpu 0
expect_error "-gpu without a number" "-gpu needs a device number" $D curve train -gpu
expect_error "-gpu with a non-number" "-gpu needs a device number" $D plane cfg/fashion.data -gpu x
finish
