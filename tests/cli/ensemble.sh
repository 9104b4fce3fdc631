#!/usr/bin/env bash
# Command-line tests of ensemble, ensemble predict and swa on real Fashion-MNIST subsets: two
# tiny networks (and one of a narrower cfg) trained on 1024 images; an ensemble of one is the
# network as eval measures it; members may name their own cfg; swa of one file keeps its
# parameters and gets eval -bn_update's numbers; predict prints top-k class names for a PNG;
# bad input gets a one-line error naming the file, a non-zero exit and no output file.
. "$(dirname "$0")/../lib/cli.sh" ensemble
DATA=cfg/fashion.data
CFG=cfg/fashion-cnn.cfg

check "top-level help lists ensemble and swa" bash -c "$D -h | grep -q 'ensemble predict' && $D -h | grep -q '^  swa'"
for c in "ensemble" "ensemble predict" "swa"; do
    check "help: $c" bash -c "$D $c -h | grep -q usage"
done

# two tiny networks of the same cfg, one of a narrower cfg
for s in 1 2; do
    $D train $DATA $CFG -epochs 1 -limit 1024 -test_limit 500 -seed $s -out $T/n$s.weights > /dev/null 2>&1
done
sed 's/filters=32/filters=16/' $CFG > $T/small.cfg
$D train $DATA $T/small.cfg -epochs 1 -limit 1024 -test_limit 500 -seed 3 -out $T/small.weights > /dev/null 2>&1
check "three networks trained" test -s $T/n1.weights -a -s $T/n2.weights -a -s $T/small.weights

# an ensemble of one network is that network, as eval measures it
$D eval $DATA $CFG $T/n1.weights -test_limit 500 > $T/ev1.txt 2>/dev/null
$D ensemble $DATA $CFG $T/n1.weights -test_limit 500 > $T/e1.txt 2>/dev/null
ev=$(awk '$1=="test"{print $2, $3}' $T/ev1.txt)
e1=$(awk '$1=="1"{print $3, $4}' $T/e1.txt)
e1ens=$(awk '$1=="1"{print $5, $6}' $T/e1.txt)
check "ensemble of one = eval ($ev | $e1 | $e1ens)" test -n "$ev" -a "$ev" = "$e1" -a "$e1" = "$e1ens"
# ... also with BN statistics recomputed
$D eval $DATA $CFG $T/n1.weights -bn_update -bn_limit 512 -test_limit 500 > $T/ev1b.txt 2>/dev/null
$D ensemble $DATA $CFG $T/n1.weights -bn_update -bn_limit 512 -test_limit 500 > $T/e1b.txt 2>/dev/null
evb=$(awk '$1=="test"{print $2, $3}' $T/ev1b.txt)
e1b=$(awk '$1=="1"{print $3, $4}' $T/e1b.txt)
check "ensemble -bn_update of one = eval -bn_update ($evb | $e1b)" test -n "$evb" -a "$evb" = "$e1b"

# two members: a row each, member 2's own numbers = eval's, CSV with a header and two rows
$D ensemble $DATA $CFG $T/n1.weights $T/n2.weights -bn_limit 512 -test_limit 500 -csv $T/e2.csv > $T/e2.txt 2>/dev/null
$D eval $DATA $CFG $T/n2.weights -bn_update -bn_limit 512 -test_limit 500 > $T/ev2b.txt 2>/dev/null
check "ensemble of two: two rows and a summary" test "$(grep -cE '^ +[12] ' $T/e2.txt)" -eq 2 -a "$(grep -c '^ensemble of 2' $T/e2.txt)" -eq 1
check "member 2's row = eval of it" test "$(awk '$1=="2"{print $3, $4}' $T/e2.txt)" = "$(awk '$1=="test"{print $2, $3}' $T/ev2b.txt)"
check "csv: header + 2 rows" test "$(wc -l < $T/e2.csv)" -eq 3
check "csv header" grep -q '^member,file,nll,acc,ens_nll,ens_acc$' $T/e2.csv
# the ensemble NLL is at most the mean of the members' (Jensen); it is printed to 4 decimals
check "ensemble NLL <= mean member NLL" awk '$1=="1"{a=$3} $1=="2"{b=$3; e=$5} END{exit !(e <= (a+b)/2 + 1e-4)}' $T/e2.txt

# cfg:weights members: the same network named with its cfg gives the same row; another cfg works
$D ensemble $DATA $CFG $T/n1.weights $CFG:$T/n2.weights -bn_limit 512 -test_limit 500 > $T/e2c.txt 2>/dev/null
check "cfg:weights = plain weights" test "$(awk '$1=="2"{print $3,$4,$5,$6}' $T/e2c.txt)" = "$(awk '$1=="2"{print $3,$4,$5,$6}' $T/e2.txt)"
$D ensemble $DATA $CFG $T/n1.weights $T/small.cfg:$T/small.weights -test_limit 500 > $T/e2s.txt 2>/dev/null
$D eval $DATA $T/small.cfg $T/small.weights -test_limit 500 > $T/evs.txt 2>/dev/null
check "member of another cfg (= its eval)" test -n "$(awk '$1=="test"{print $2}' $T/evs.txt)" -a "$(awk '$1=="2"{print $3, $4}' $T/e2s.txt)" = "$(awk '$1=="test"{print $2, $3}' $T/evs.txt)"

# swa of one file: the file's parameters, BN recomputed (so eval -bn_update's numbers)
$D swa $DATA $CFG $T/n1.weights -bn_limit 512 -test_limit 500 -out $T/swa1.weights > $T/s1.txt 2>/dev/null
check "swa writes a .weights file" test "$(stat -c %s $T/swa1.weights)" -eq $((20 + 4 * (104426 + 448)))
check "swa of one = eval -bn_update of it" test "$(awk '$1=="swa"{print $2, $3}' $T/s1.txt)" = "$evb"
$D eval $DATA $CFG $T/swa1.weights -test_limit 500 > $T/evs1.txt 2>/dev/null
check "swa output loads in eval, same numbers" test "$(awk '$1=="test"{print $2, $3}' $T/evs1.txt)" = "$evb"
# payload equal except the BN rolling statistics (fashion-cnn: 3 conv+BN layers, then connected)
check "swa of one keeps the parameters bit for bit" python3 - $T/n1.weights $T/swa1.weights <<'EOF'
import sys
a, b = (open(p, 'rb').read()[20:] for p in sys.argv[1:3])
assert len(a) == len(b)
pos, same = 0, True
for n, w in ((32, 32 * 9), (64, 64 * 32 * 9), (128, 128 * 64 * 9)):
    # biases, scales, rolling_mean, rolling_variance, weights
    same &= a[4*pos:4*(pos + 2*n)] == b[4*pos:4*(pos + 2*n)]
    pos += 4 * n
    same &= a[4*pos:4*(pos + w)] == b[4*pos:4*(pos + w)]
    pos += w
same &= a[4*pos:] == b[4*pos:] and len(a[4*pos:]) == 4 * (10 + 10 * 1152)
sys.exit(0 if same else 1)
EOF
$D swa $DATA $CFG $T/n1.weights $T/n2.weights -bn_limit 512 -test_limit 500 -members -out $T/swa2.weights > $T/s2.txt 2>/dev/null
check "swa of two: member rows and the average's" test "$(grep -cE '^(/|swa )' $T/s2.txt)" -eq 3 -a -s $T/swa2.weights
$D swa $DATA $CFG $T/n1.weights $T/n2.weights -bn_limit 256 -no_test -out $T/swa3.weights > $T/s3.txt 2>/dev/null
check "swa -no_test prints no table" test -s $T/swa3.weights -a ! -s $T/s3.txt

# predict: a Fashion-MNIST test image as a PNG, top-k lines with class names
python3 - $T/img.png <<'EOF'
import gzip, struct, sys, zlib
d = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + 784]
raw = b''.join(b'\0' + d[28 * r:28 * r + 28] for r in range(28))
def chunk(t, x): return struct.pack('>I', len(x)) + t + x + struct.pack('>I', zlib.crc32(t + x) & 0xffffffff)
png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 28, 28, 8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
open(sys.argv[1], 'wb').write(png)
EOF
$D ensemble predict $DATA $CFG $T/n1.weights $T/n2.weights $T/img.png -top 3 > $T/p3.txt 2>/dev/null
check "predict -top 3: three lines" test "$(wc -l < $T/p3.txt)" -eq 3
check "predict lines: '%5.2f%%: name'" test "$(grep -cE '^( [0-9]|[0-9]{2}|100)\.[0-9]{2}%: ' $T/p3.txt)" -eq 3 \
    -a "$(sed 's/^[^:]*: //' $T/p3.txt | grep -cxFf cfg/fashion.names)" -eq 3
$D ensemble predict $DATA $CFG $T/n1.weights $CFG:$T/n2.weights $T/small.cfg:$T/small.weights $T/img.png > $T/p5.txt 2>/dev/null
check "predict: 5 lines by default, mixed cfgs" test "$(wc -l < $T/p5.txt)" -eq 5
check "predict: probabilities sum to at most 100" awk '{s += $1} END{exit !(s <= 100.05 && s > 0)}' $T/p5.txt

# bad input
expect_error "weights of another cfg" "n1.weights" $D ensemble $DATA $T/small.cfg $T/n1.weights
expect_error "missing member" "nope.weights" $D ensemble $DATA $CFG $T/n1.weights $T/nope.weights -csv $T/x.csv
check "no csv left behind" test ! -e $T/x.csv
sed 's/output=10/output=5/' $CFG > $T/five.cfg
expect_error "members with different classes" "five.cfg" $D ensemble $DATA $CFG $T/n1.weights $T/five.cfg:$T/n2.weights
expect_error "swa without -out" "-out" $D swa $DATA $CFG $T/n1.weights $T/n2.weights
expect_error "swa member of another cfg" "small.weights" $D swa $DATA $CFG $T/n1.weights $T/small.weights -out $T/y.weights
check "no swa output left behind" test ! -e $T/y.weights
expect_error "swa missing member" "nope.weights" $D swa $DATA $CFG $T/nope.weights -out $T/y.weights
expect_error "unreadable image" "nope.png" $D ensemble predict $DATA $CFG $T/n1.weights $T/nope.png
printf 'not an image\n' > $T/junk.png
expect_error "corrupt image" "junk.png" $D ensemble predict $DATA $CFG $T/n1.weights $T/junk.png
expect_error "predict without an image" "no image" $D ensemble predict $DATA $CFG $T/n1.weights $T/n2.weights

finish
