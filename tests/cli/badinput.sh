#!/usr/bin/env bash
# The bad-input suite: every row of tests/cli/badinput.tsv is a hostile input to one command
# (command line, .data, cfg, .weights, .curve, idx/CIFAR/image-list data, every subcommand).
# Each case must end with exactly one line on stderr that matches the row's pattern (and so
# names the file and the problem), a non-zero exit that is not a signal, and nothing left in
# the output folder $O (no partial or temporary file) nor a temporary file beside the inputs.
# The fixtures are tiny (4x4 grey images, 3 classes, a 125-float network), so the whole suite
# runs in seconds, also under the sanitizer build (DKMC_BIN).
. "$(dirname "$0")/../lib/cli.sh" badinput
W=$T/w O=$T/o
mkdir -p $W $O

# ---- fixtures ----
be32() { local v=$1; printf "\\x$(printf %02x $(((v>>24)&255)))\\x$(printf %02x $(((v>>16)&255)))\\x$(printf %02x $(((v>>8)&255)))\\x$(printf %02x $((v&255)))"; }
bytes() { local n=$1 b=$2; head -c "$n" /dev/zero | tr '\0' "\\$(printf %03o "$b")"; }
mkidx() { { be32 ${3:-2051}; be32 $2; be32 4; be32 4; bytes $(($2 * 16)) 100; } > $1; }   # file n [magic]
mklab() { { be32 2049; be32 $2; local i=0; while [ $i -lt $2 ]; do printf "\\x$(printf %02x $(( ${4:-0} ? ${4:-0} : i % $3 )))"; i=$((i+1)); done; } > $1; }
patch() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }   # file offset bytes
crc32le() { gzip -c "$1" | tail -c 8 | head -c 4; }   # gzip's trailer holds the CRC-32 zlib computes
recrc() { head -c -4 "$1" > "$1.body"; { cat "$1.body"; crc32le "$1.body"; } > "$1"; rm -f "$1.body"; }
mkdata() { # name train-images train-labels [valid-images valid-labels [classes]]
    printf 'classes=%s\nformat=idx\ntrain=%s\ntrain_labels=%s\nvalid=%s\nvalid_labels=%s\nlabels=%s\n' \
        "${6:-3}" "$2" "$3" "${4:-$W/te-idx3-ubyte}" "${5:-$W/te-idx1-ubyte}" "$W/names" > $W/$1; }

mkidx $W/tr-idx3-ubyte 32; mklab $W/tr-idx1-ubyte 32 3
mkidx $W/te-idx3-ubyte 8;  mklab $W/te-idx1-ubyte 8 3
printf 'a\nb\nc\n' > $W/names
mkdata tiny.data $W/tr-idx3-ubyte $W/tr-idx1-ubyte
cat > $W/tiny.cfg <<CFG
[net]
batch=4
width=4
height=4
channels=1
learning_rate=0.01
momentum=0.9
decay=0.0005

[convolutional]
batch_normalize=1
filters=2
size=3
stride=1
pad=1
activation=relu

[connected]
output=3
activation=linear

[softmax]
CFG
sed 's/filters=2/filters=3/' $W/tiny.cfg > $W/other.cfg
# .data files
grep -v '^train=' $W/tiny.data > $W/notrain.data
grep -v '^train_labels=' $W/tiny.data > $W/nolabels.data
sed 's/^classes=3/classes=0/' $W/tiny.data > $W/zero.data
sed 's/^format=idx/format=hdf5/' $W/tiny.data > $W/badfmt.data
{ grep -v '^valid' $W/tiny.data; echo "holdout=32"; echo "valid=holdout"; } > $W/holdall.data
{ grep -v '^valid' $W/tiny.data; echo "valid=holdout"; } > $W/holdnone.data
{ echo "classes=3"; echo "this line has no equals sign"; } > $W/garbage.data
mkdata four.data $W/tr-idx3-ubyte $W/tr-idx1-ubyte "" "" 4
mkidx $W/te0-idx3-ubyte 0; mklab $W/te0-idx1-ubyte 0 3
mkdata emptytest.data $W/tr-idx3-ubyte $W/tr-idx1-ubyte $W/te0-idx3-ubyte $W/te0-idx1-ubyte
# idx
mkdata idxmissing.data $W/nothere-idx3-ubyte $W/tr-idx1-ubyte
mkidx $W/badmagic-idx3-ubyte 32 2052; mkdata idxmagic.data $W/badmagic-idx3-ubyte $W/tr-idx1-ubyte
head -c 300 $W/tr-idx3-ubyte > $W/short-idx3-ubyte; mkdata idxshort.data $W/short-idx3-ubyte $W/tr-idx1-ubyte
mklab $W/tr10-idx1-ubyte 10 3; mkdata idxcount.data $W/tr-idx3-ubyte $W/tr10-idx1-ubyte
mklab $W/big-idx1-ubyte 32 3 7; mkdata idxrange.data $W/tr-idx3-ubyte $W/big-idx1-ubyte
gzip -c $W/tr-idx3-ubyte | head -c -8 > $W/notrailer-idx3-ubyte.gz; mkdata idxnotrailer.data $W/notrailer-idx3-ubyte.gz $W/tr-idx1-ubyte
{ gzip -c $W/tr-idx3-ubyte | head -c 12; bytes 40 7; } > $W/bad-idx3-ubyte.gz; mkdata idxgz.data $W/bad-idx3-ubyte.gz $W/tr-idx1-ubyte
# CIFAR-10: 3073-byte records (label, 3072 pixels) for a 32x32x3 network
sed 's/width=4/width=32/; s/height=4/height=32/; s/channels=1/channels=3/; s/output=3/output=10/' $W/tiny.cfg > $W/cifar.cfg
for i in 0 1 2 3 4 5 6 7; do printf "\\x0$i"; bytes 3072 50; done > $W/good.bin
head -c 5000 $W/good.bin > $W/short.bin
{ cat $W/good.bin; printf '\x0c'; bytes 3072 50; } > $W/badlabel.bin
mkcifar() { printf 'classes=10\nformat=cifar10\ntrain=%s\nvalid=%s\n' "$2" "$W/good.bin" > $W/$1; }
mkcifar cifarmissing.data $W/nothere.bin; mkcifar cifarshort.data $W/short.bin; mkcifar cifarlabel.data $W/badlabel.bin
# image lists (class names chosen so that the random temp path cannot contain one)
printf 'zero_cls\none_cls\ntwo_cls\n' > $W/listnames
pgm() { { printf 'P5\n4 4\n255\n'; bytes 16 ${2:-90}; } > $1; }
pgm $W/img_zero_cls.pgm; pgm $W/img_one_cls.pgm 150
printf 't,v\n1,2\n2,3\n' > $W/line.csv; $D plot $W/line.csv -x t -y v -png $W/pic.png 2>/dev/null
head -c 300 $W/pic.png > $W/corrupt_one_cls.png; rm -f $W/line.csv $W/pic.png
mklist() { printf "%b" "$2" > $W/$1.txt; printf 'classes=3\nformat=list\ntrain=%s\nvalid=%s\nlabels=%s\n' "$W/$1.txt" "$W/$1.txt" "${3:-$W/listnames}" > $W/$1.data; }
mklist list-missing "$W/img_zero_cls.pgm\n$W/nothere_zero_cls.pgm\n"
mklist list-corrupt "$W/img_zero_cls.pgm\n$W/corrupt_one_cls.png\n"
printf 'dog_cls\ncat_cls\nbird_cls\n' > $W/animals
mklist list-nolabel "$W/img_zero_cls.pgm\n$W/img_zero_cls.pgm\n$W/img_zero_cls.pgm\n$W/img_zero_cls.pgm\n" $W/animals
mklist list-empty ""
mklist list-nonames "$W/img_zero_cls.pgm\n" $W/nonames
# cfgs
sed 's/^filters=2/filterz=2/' $W/tiny.cfg > $W/typo.cfg
sed 's/^activation=relu/activation=relux/' $W/tiny.cfg > $W/act.cfg
sed 's/^\[connected\]/[lstm]/' $W/tiny.cfg > $W/lstm.cfg
printf '[net]\nbatch=4\nwidth=4\nheight=4\nchannels=1\n[batchnorm]\n[connected]\noutput=3\n[softmax]\n' > $W/bn.cfg
sed '/^\[softmax\]/d' $W/tiny.cfg > $W/nosoftmax.cfg
sed 's/^decay=0.0005/decay=0.0005\npolicy=steps/' $W/tiny.cfg > $W/steps.cfg
sed 's/^batch=4/batch=100000/; s/^width=4/width=4000/; s/^height=4/height=4000/; s/^filters=2/filters=1024/' $W/tiny.cfg > $W/huge.cfg
sed 's/^width=4/width=8/; s/^height=4/height=8/' $W/tiny.cfg > $W/wide.cfg
sed 's/^decay=0.0005/decay=0.0005\npolicy=fge_cyclic\nfge_cycle=4/' $W/tiny.cfg > $W/nomin.cfg
# weights and a curve
for s in 1 2 3; do $D train $W/tiny.data $W/tiny.cfg -epochs 1 -no_test -seed $s -out $W/w$s.weights > /dev/null 2>&1; done
mv $W/w1.weights $W/a.weights; mv $W/w2.weights $W/b.weights; mv $W/w3.weights $W/c.weights
$D train $W/tiny.data $W/other.cfg -epochs 1 -no_test -out $W/o.weights > /dev/null 2>&1
$D curve train $W/tiny.data $W/tiny.cfg $W/a.weights $W/b.weights -epochs 1 -out $W/run.curve > /dev/null 2>&1
check "fixtures: networks and a curve" test -s $W/a.weights -a -s $W/b.weights -a -s $W/c.weights -a -s $W/o.weights -a -s $W/run.curve
head -c 8 $W/a.weights > $W/hdr.weights
head -c 420 $W/a.weights > $W/short.weights
{ cat $W/a.weights; printf '\0\0'; } > $W/odd.weights
cp $W/a.weights $W/version.weights; patch $W/version.weights 0 '\xff\xff\xff\xff'
cp $W/a.weights $W/nan.weights; patch $W/nan.weights 100 '\x00\x00\xc0\x7f'
cp $W/run.curve $W/magic.curve; patch $W/magic.curve 0 'X'
cp $W/run.curve $W/version.curve; patch $W/version.curve 8 '\x07'
head -c 200 $W/run.curve > $W/trunc.curve
{ head -c -4 $W/run.curve; bytes 8 0; printf '\0\0\0\0'; } > $W/big.curve; recrc $W/big.curve
cp $W/run.curve $W/crc.curve; patch $W/crc.curve 300 '\x55'
np=$(( ($(stat -c %s $W/a.weights) - 20) / 4 - 4 ))   # trainable floats: the payload less 4 BN statistics
cp $W/run.curve $W/nan.curve; patch $W/nan.curve $((112 + np * 4 + 8)) '\x00\x00\xc0\x7f'; recrc $W/nan.curve
printf 't,v\n1,2\n3\n' > $W/ragged.csv
: > $W/afile
# a detector: a small detection set, a one-layer [yolo] network of 10 classes with zero weights
# (header 0.2.0, seen 0, then 45 x 3 weights and 45 biases), one of 3 classes
$D detset $W/dset -train 2 -valid 2 -size 32 -min 10 -max 20 > /dev/null 2>&1
printf '[net]\nbatch=1\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nfilters=45\nsize=1\nstride=1\npad=0\nactivation=linear\n[yolo]\nmask=0,1,2\nanchors=4,4, 8,8, 12,12\nclasses=10\nnum=3\n' > $W/det.cfg
sed 's/^filters=45/filters=24/; s/^classes=10/classes=3/' $W/det.cfg > $W/det3.cfg
{ printf '\0\0\0\0\2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0'; bytes 720 0; } > $W/det.weights
head -c 300 $W/det.weights > $W/detshort.weights
check "fixtures: a detection set and a detector" test -s $W/dset/valid.txt -a -s $W/det.weights
ls $W > $T/fixtures.list

# ---- the cases ----
ncase=0
while IFS=$'\t' read -r name pattern cmd; do
    case "$name" in ''|'#'*) continue ;; esac
    ncase=$((ncase + 1))
    rm -rf $O; mkdir $O
    t0=$(date +%s.%N)
    err=$(eval "timeout 120 env $cmd" 2>&1 >/dev/null); rc=$?
    [ -n "${BADINPUT_TIMES:-}" ] && echo "$(echo "$(date +%s.%N) - $t0" | bc) $name" >&2
    why=""
    if [ $rc -eq 0 ]; then why="exit 0"
    elif [ $rc -ge 124 ]; then why="exit $rc (signal or timeout)"
    elif [ "$(printf '%s\n' "$err" | grep -c .)" -ne 1 ]; then why="$(printf '%s\n' "$err" | grep -c .) lines on stderr"
    elif ! printf '%s\n' "$err" | grep -qE -- "$pattern"; then why="message does not match /$pattern/"
    elif [ -n "$(ls -A $O)" ]; then why="left in the output folder: $(ls -A $O | tr '\n' ' ')"
    elif ! ls $W | cmp -s - $T/fixtures.list; then why="left beside the inputs: $(ls $W | comm -13 $T/fixtures.list - | tr '\n' ' ')"
    fi
    if [ -z "$why" ]; then ok "$name"; else bad "$name: $why (rc=$rc, stderr: $err)"; fi
done < tests/cli/badinput.tsv
check "at least 40 cases ($ncase)" test $ncase -ge 40

finish
