#!/usr/bin/env bash
# Issue 19, part 4: a first run from scratch that reported 50 % where the network was at
# 100 %. Darknet's BN running statistics start at zero and move 1 % per batch, so after the
# 32 batches of this run 72 % of them is still that zero. The run of the issue, as a new user
# would make it: a two-class image folder (256 training and 64 test PNGs, the class in the
# file name), cfg/fashion-cnn-fge.cfg with channels=3, output=2, batch=32, then
# `darknet classifier train my.data my-fge.cfg -epochs 4`. Every number it reports must be
# the true one: equal to what `darknet eval -bn_update` / `darknet ensemble -bn_update`
# (exact statistics, recomputed from the saved weights) say. Commands that evaluate stored
# statistics of a young file say so in one line.
. "$(dirname "$0")/../lib/cli.sh" bn_young

# ---- the data: stripes across (stripes_h) or down (stripes_v), faint on a bright noisy
# background; RGB PNGs 28 x 28 written with zlib (python3 without extra modules) ----
python3 - $T <<'EOF'
import os, random, struct, sys, zlib
out = sys.argv[1]
rnd = random.Random(1)
def chunk(t, x): return struct.pack('>I', len(x)) + t + x + struct.pack('>I', zlib.crc32(t + x) & 0xffffffff)
names = ['stripes_h', 'stripes_v']
for split, n in (('train', 256), ('test', 64)):
    os.makedirs(f'{out}/{split}')
    paths = []
    for i in range(n):
        c = i % 2
        period, phase = rnd.randint(3, 7), rnd.randint(0, 6)
        base = [rnd.randint(120, 200) for _ in range(3)]
        rows = []
        for y in range(28):
            row = bytearray(b'\0')
            for x in range(28):
                on = ((y if c == 0 else x) + phase) % period < period / 2
                for k in range(3):
                    row.append(max(0, min(255, base[k] + (20 if on else -20) + rnd.randint(-30, 30))))
            rows.append(bytes(row))
        png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 28, 28, 8, 2, 0, 0, 0))
               + chunk(b'IDAT', zlib.compress(b''.join(rows))) + chunk(b'IEND', b''))
        path = f'{out}/{split}/{i:04d}_{names[c]}.png'
        open(path, 'wb').write(png)
        paths.append(path)
    open(f'{out}/{split}.list', 'w').write('\n'.join(paths) + '\n')
open(f'{out}/names', 'w').write('\n'.join(names) + '\n')
open(f'{out}/my.data', 'w').write(f'classes=2\ntrain={out}/train.list\nvalid={out}/test.list\nlabels={out}/names\nbackup={out}/backup\n')
EOF
check "fixtures: 256 + 64 PNGs" test "$(ls $T/train | wc -l) $(ls $T/test | wc -l)" = "256 64"
sed -e 's/^channels=1$/channels=3/' -e 's/^batch=128$/batch=32/' -e 's/^output=10$/output=2/' cfg/fashion-cnn-fge.cfg > $T/my-fge.cfg
check "fixtures: the cfg of the issue" test "$(grep -cE '^(channels=3|batch=32|output=2)$' $T/my-fge.cfg)" -eq 3

# ---- the run of the issue ----
$D classifier train $T/my.data $T/my-fge.cfg -epochs 4 > $T/run.txt 2> $T/run.err
B=$T/backup/my-fge
check "run: four rows, two snapshots, final weights" bash -c \
    "[ \$(grep -cE '^ +[1-4] ' $T/run.txt) -eq 4 ] && [ -s ${B}_snap01.weights ] && [ -s ${B}_snap02.weights ] && [ -s $B.weights ]"
check "run: one line says the numbers use exact statistics, and why" bash -c \
    "[ \$(grep -c 'BN running statistics start at zero and move 1 % per batch.*exact statistics from 256 training images' $T/run.err) -eq 1 ]"
check "run: the final weights are saved with exact statistics" grep -q "^saved $B.weights (BN statistics recomputed" $T/run.err
row() { awk -v e=$1 '$1 == e { print $5, $6 }' $T/run.txt; }   # test nll and acc of an epoch's row
test_of() { awk '$1 == "test" { print $2, $3 }' $1; }
$D eval $T/my.data $T/my-fge.cfg $B.weights -bn_update > $T/exact.txt 2>/dev/null
check "run: epoch 4 reports the true test numbers ($(row 4) = eval -bn_update: $(test_of $T/exact.txt))" \
    test "$(row 4)" = "$(test_of $T/exact.txt)" -a -n "$(row 4)"
check "run: the true accuracy is high (the issue's run read 50 %)" awk -v a="$(row 4 | cut -d' ' -f2)" 'BEGIN { exit !(a >= 90) }'
# the snapshots (epochs 1 and 3) and their ensemble against the same files with exact statistics
$D ensemble $T/my.data $T/my-fge.cfg ${B}_snap01.weights ${B}_snap02.weights -bn_update -csv $T/ens.csv > /dev/null 2>&1
snaps_run=$(awk '$7 == 1 || $7 == 2 { print $5, $6, $8, $9 }' $T/run.txt)
snaps_exact=$(awk -F, 'NR > 1 { printf "%.4f %.2f %.4f %.2f\n", $3, $4, $5, $6 }' $T/ens.csv)
check "run: snapshots and their ensemble report the true numbers" test "$snaps_run" = "$snaps_exact" -a -n "$snaps_run"

# ---- commands on the files: stored statistics ----
$D eval $T/my.data $T/my-fge.cfg $B.weights -train > $T/stored.txt 2> $T/stored.err
check "eval: the saved file holds the exact statistics (same numbers without -bn_update)" \
    test "$(test_of $T/stored.txt)" = "$(test_of $T/exact.txt)"
check "eval: one warning line: a file that has seen 32 batches may hold young statistics" bash -c \
    "[ \$(wc -l < $T/stored.err) -eq 1 ] && grep -q 'my-fge.weights: its network has seen 1024 images (32 batches of 32).*72 %.*-bn_update' $T/stored.err"
$D eval $T/my.data $T/my-fge.cfg $B.weights -bn_update > /dev/null 2> $T/exact.err
check "eval -bn_update: no warning" test ! -s $T/exact.err
$D ensemble $T/my.data $T/my-fge.cfg ${B}_snap01.weights ${B}_snap02.weights > /dev/null 2> $T/ens.err
check "ensemble: one warning line for the two young members" bash -c \
    "[ \$(grep -c warning $T/ens.err) -eq 1 ] && grep -q 'snap01.weights: .*(1 more member alike); -bn_update' $T/ens.err"
$D ensemble predict $T/my.data $T/my-fge.cfg $B.weights $T/test/0000_stripes_h.png > $T/pred.txt 2> $T/pred.err
check "ensemble predict: two classes and one warning line" bash -c \
    "[ \$(wc -l < $T/pred.txt) -eq 2 ] && [ \$(grep -c warning $T/pred.err) -eq 1 ]"
# the threshold: 5 % of the initial zero left, i.e. 299 batches (seen is the 8 bytes at offset 12)
setseen() { cp $B.weights $2; python3 -c "import struct,sys; f=open(sys.argv[1],'r+b'); f.seek(12); f.write(struct.pack('<Q', int(sys.argv[2])))" $2 $1; }
setseen $((32 * 298)) $T/s298.weights; setseen $((32 * 299)) $T/s299.weights
$D eval $T/my.data $T/my-fge.cfg $T/s298.weights > /dev/null 2> $T/s298.err
$D eval $T/my.data $T/my-fge.cfg $T/s299.weights > /dev/null 2> $T/s299.err
check "eval: 298 batches still warn, 299 do not" bash -c "grep -q '298 batches of 32' $T/s298.err && [ ! -s $T/s299.err ]"

# ---- darknet train with -bn_limit: the exact statistics come from its first N images ----
$D train $T/my.data $T/my-fge.cfg -epochs 2 -bn_limit 64 -out $T/lim.weights > $T/lim.txt 2> $T/lim.err
$D eval $T/my.data $T/my-fge.cfg $T/lim.weights -bn_update -bn_limit 64 > $T/lim_exact.txt 2>/dev/null
check "train -bn_limit 64: said, and the last row = eval -bn_update -bn_limit 64" bash -c \
    "grep -q 'exact statistics from 64 training images' $T/lim.err && [ \"\$(awk '\$1 == 2 { print \$5, \$6 }' $T/lim.txt)\" = \"\$(awk '\$1 == \"test\" { print \$2, \$3 }' $T/lim_exact.txt)\" ]"

# ---- the young batches end: 299 batches from scratch (8 per epoch here) ----
sed 's/^policy=fge_cyclic$/policy=constant/' $T/my-fge.cfg > $T/plain.cfg
$D train $T/my.data $T/plain.cfg -epochs 37 -no_test -out $T/e37.weights > /dev/null 2> $T/e37.err
$D train $T/my.data $T/plain.cfg -epochs 38 -no_test -out $T/e38.weights > /dev/null 2> $T/e38.err
check "train: saved after 296 batches with exact statistics (said), after 304 with the running ones (nothing said)" bash -c \
    "grep -q 'for the next 299 batches' $T/e37.err && grep -q '^saved $T/e37.weights (BN statistics recomputed' $T/e37.err &&
     ! grep -q 'BN running statistics' $T/e38.err && grep -qx 'saved $T/e38.weights' $T/e38.err"

finish
