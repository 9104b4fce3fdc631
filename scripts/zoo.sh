#!/usr/bin/env bash
# zoo.sh: run every cfg of a folder (pjreddie's or AlexeyAB's cfg/, say) through the whole
# chain on a tiny synthetic data set, the way a new user would try them. Classifiers: train
# (1 epoch, two seeds) -> curve train (1 epoch) -> curve line (3 points). Detectors (a
# [yolo], [region], [detection] or [Gaussian_yolo] section anywhere): train (DET_ITERS
# iterations, two seeds; `darknet train <data> <detector cfg>` runs any policy in this
# binary, where `detector train` would hand Darknet's own policies to the system binary)
# -> detector map (the first seed's weights) -> ensemble (WBF of the two).
#
#   bash scripts/zoo.sh <cfg-folder> [more folders...]
#   env: D=./darknet (the binary), SIZE=32 (width/height), BATCH=8, IMAGES=16 (per split),
#        DET_SIZE=128 (a detector's width/height, a multiple of 32), DET_BATCH=2,
#        DET_ITERS=2 (max_batches), DET_IMAGES=8 (per split),
#        TIMEOUT=300 (seconds per command), KEEP=1 (keep the work dir)
#
# Each cfg is shrunk: [net] width/height -> SIZE (when it has them), batch -> BATCH,
# subdivisions -> 1, channels as given. A classifier's class count is the output= of the last
# [connected] or the filters= of the last [convolutional] before the first [softmax]
# (2 when there is none). A detector's [net] gets width/height -> DET_SIZE, batch ->
# DET_BATCH, subdivisions -> 1, max_batches -> DET_ITERS, and mosaic/mixup/cutmix -> 0 when
# set (loader options of an OpenCV build; the CPU hosts refuse them in one line); its class
# count is the classes= of its last head, and its images (RGB, DET_SIZE x DET_SIZE, noise
# with one or two flat rectangles) have boxes of classes 0..min(classes,4)-1 in labels/.
# The table has one row per cfg: the outcome is "ok", or the
# stage that failed and the last stderr line (the error; "+N lines" when there were more), or
# "SIGNAL n" when a command died of a signal. The cfg files themselves are not changed.
set -u
D=${D:-./darknet}
SIZE=${SIZE:-32}
BATCH=${BATCH:-8}
IMAGES=${IMAGES:-16}
DET_SIZE=${DET_SIZE:-128}
DET_BATCH=${DET_BATCH:-2}
DET_ITERS=${DET_ITERS:-2}
DET_IMAGES=${DET_IMAGES:-8}
TIMEOUT=${TIMEOUT:-300}
[ $# -ge 1 ] || { echo "usage: bash scripts/zoo.sh <cfg-folder> [...]" >&2; exit 2; }
case $D in /*) ;; *) D=$(cd "$(dirname "$D")" && pwd)/$(basename "$D") ;; esac
W=$(mktemp -d /tmp/dkmc_zoo.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT

# tiny synthetic data sets, written by one Python program (mode cls or det):
#   cls: PNGs (RGB, SIZE x SIZE) with labels k0x, k1x, ... in their names, labels.txt
#   det: images/{train,valid}NNN.png (DET_SIZE x DET_SIZE) with boxes of classes
#        0..min(k,4)-1 in labels/NNN.txt (Darknet's "class cx cy w h", relative), names.txt
synth() { # mode dir classes n size
    python3 - "$@" <<'EOF'
import os, random, struct, sys, zlib
mode, d, k, n, s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def png(path, w, h, rgb):
    raw = b"".join(b"\0" + bytes(rgb[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    def chunk(t, data):
        c = t + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
det = mode == "det"
for sub in (("images", "labels") if det else ("",)):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
with open(os.path.join(d, "names.txt" if det else "labels.txt"), "w") as f:
    f.write("".join(("k%d\n" if det else "k%dx\n") % i for i in range(k)))
for split in ("train", "valid"):
    r = random.Random(split)
    with open(os.path.join(d, split + ".txt"), "w") as lst:
        for i in range(n):
            if not det:
                c = i % min(k, 4)
                px = [min(255, max(0, int(r.gauss(60 * c + 40, 40)))) for _ in range(s * s * 3)]
                p = os.path.join(d, "%s%03d_k%dx.png" % (split, i, c))
                png(p, s, s, px)
                lst.write(p + "\n")
                continue
            px = [r.randrange(0, 64) for _ in range(s * s * 3)]
            boxes = []
            for j in range(1 + i % 2):
                c = (i + j) % min(k, 4)
                bw, bh = r.randint(s // 5, s // 2), r.randint(s // 5, s // 2)
                x0, y0 = r.randint(0, s - bw), r.randint(0, s - bh)
                col = (255 - 60 * c, 80 + 50 * c, 40 + 90 * (c % 2))
                for y in range(y0, y0 + bh):
                    for x in range(x0, x0 + bw):
                        px[(y * s + x) * 3:(y * s + x) * 3 + 3] = col
                boxes.append("%d %.6f %.6f %.6f %.6f\n" % (c, (x0 + bw / 2) / s, (y0 + bh / 2) / s, bw / s, bh / s))
            p = os.path.join(d, "images", "%s%03d.png" % (split, i))
            png(p, s, s, px)
            with open(os.path.join(d, "labels", "%s%03d.txt" % (split, i)), "w") as f:
                f.write("".join(boxes))
            lst.write(p + "\n")
EOF
}

# CFG's [net] shrunk into OUT: width/height -> SIZE, batch -> BATCH, subdivisions -> 1; for a
# detector (ITERS given) also max_batches -> ITERS and mosaic/mixup/cutmix -> 0
shrink_net() { # cfg out size batch [iters]
    awk -v size="$3" -v batch="$4" -v iters="${5:-}" '
        function key() { k = $0; sub(/[ \t]*=.*/, "", k); gsub(/[ \t]/, "", k); return k }
        function flush_net() { if (innet) { if (!sb) print "batch=" batch; if (!ss) print "subdivisions=1"
                                            if (iters != "" && !sm) print "max_batches=" iters; innet = 0 } }
        /^[ \t]*\[/ { t = tolower($0); gsub(/[ \t]/, "", t); flush_net()
                      if (t == "[net]" || t == "[network]") { innet = 1; sb = ss = sm = 0 }
                      print; next }
        innet && /^[ \t]*(width|height)[ \t]*=/ { print key() "=" size; next }
        innet && /^[ \t]*batch[ \t]*=/ { print "batch=" batch; sb = 1; next }
        innet && /^[ \t]*subdivisions[ \t]*=/ { print "subdivisions=1"; ss = 1; next }
        iters != "" && innet && /^[ \t]*max_batches[ \t]*=/ { print "max_batches=" iters; sm = 1; next }
        iters != "" && innet && /^[ \t]*(mosaic|mixup|cutmix)[ \t]*=/ { print key() "=0"; next }
        { print }
        END { flush_net() }' "$1" > "$2"
}

# a detector's CFG shrunk into OUT; print its class count (the classes= of its last head)
shrink_det() {
    shrink_net "$1" "$2" "$DET_SIZE" "$DET_BATCH" "$DET_ITERS"
    awk '
        /^[ \t]*\[/ { t = tolower($0); gsub(/[ \t]/, "", t); head = (t ~ /^\[(yolo|region|detection|gaussian_yolo)\]$/); next }
        head && /^[ \t]*classes[ \t]*=/ { v = $0; sub(/^[^=]*=/, "", v); k = v + 0 }
        END { print (k > 0 ? k : 1) }' "$2"
}

# a classifier's CFG shrunk into OUT; print its class count
shrink() {
    shrink_net "$1" "$2" "$SIZE" "$BATCH"
    awk '
        /^[ \t]*\[/ { t = tolower($0); gsub(/[ \t]/, "", t); sec = t; if (t ~ /^\[soft(max)?\]$/ && !done) done = 1; next }
        done { next }
        sec ~ /^\[conn(ected)?\]$/ && /^[ \t]*output[ \t]*=/ { v = $0; sub(/^[^=]*=/, "", v); k = v + 0 }
        sec ~ /^\[conv(olutional)?\]$/ && /^[ \t]*filters[ \t]*=/ { v = $0; sub(/^[^=]*=/, "", v); k = v + 0 }
        END { print (k > 0 ? k : 2) }' "$2"
}

# run STAGE CMD...: 0 when it succeeded; else sets $outcome
run() {
    local stage=$1; shift
    timeout "$TIMEOUT" nice -n 10 "$@" > "$W/out.txt" 2> "$W/err.txt"
    local rc=$?
    [ $rc -eq 0 ] && return 0
    local msg n
    msg=$(grep . "$W/err.txt" | tail -1 | sed "s#$W/##g" | cut -c1-200)
    n=$(grep -c . "$W/err.txt")
    if [ $rc -eq 124 ]; then outcome="$stage: TIMEOUT ${TIMEOUT}s"
    elif [ $rc -ge 128 ]; then outcome="$stage: SIGNAL $((rc - 128)) ($(grep -v '^ *[0-9]\+ ' "$W/err.txt" | tail -1 | cut -c1-80))"
    else outcome="$stage: $msg$( [ "$n" -gt 1 ] && echo " (+$((n - 1)) lines)")"; fi
    return 1
}

# the final weights of a detector's training run as $W/NAME.weights; else sets $outcome
final() { # stem name
    mv "$W/backup/$1_final.weights" "$W/$2.weights" 2> /dev/null && return 0
    outcome="train: no $1_final.weights written"; return 1
}

printf '%-34s %s\n' "cfg" "outcome"
for dir in "$@"; do
    for cfg in "$dir"/*.cfg; do
        [ -e "$cfg" ] || continue
        name=$(basename "$cfg")
        c="$W/$name"
        if grep -qiE '^[[:space:]]*\[(yolo|region|detection|gaussian_yolo)\]' "$cfg"; then
            k=$(shrink_det "$cfg" "$c")
            img="$W/det_$k"
            [ -d "$img" ] || synth det "$img" "$k" "$DET_IMAGES" "$DET_SIZE"
            printf 'classes=%d\ntrain=%s/train.txt\nvalid=%s/valid.txt\nnames=%s/names.txt\nbackup=%s/backup\n' \
                "$k" "$img" "$img" "$img" "$W" > "$W/d.data"
            stem=${name%.*}
            rm -rf "$W"/backup "$W"/a.weights "$W"/b.weights
            outcome=ok
            run train "$D" train "$W/d.data" "$c" -seed 1 &&
            final "$stem" a &&
            run train "$D" train "$W/d.data" "$c" -seed 2 &&
            final "$stem" b &&
            run "detector map" "$D" detector map "$W/d.data" "$c" "$W/a.weights" &&
            run ensemble "$D" ensemble "$W/d.data" "$c" "$W/a.weights" "$W/b.weights"
            printf '%-34s %s\n' "$(basename "$dir")/$name" "$outcome"
            continue
        fi
        k=$(shrink "$cfg" "$c")
        img="$W/img_$k"
        [ -d "$img" ] || synth cls "$img" "$k" "$IMAGES" "$SIZE"
        printf 'classes=%d\nformat=list\ntrain=%s/train.txt\nvalid=%s/valid.txt\nlabels=%s/labels.txt\n' \
            "$k" "$img" "$img" "$img" > "$W/z.data"
        rm -f "$W"/a.weights "$W"/b.weights "$W"/run.curve
        outcome=ok
        run train "$D" train "$W/z.data" "$c" -epochs 1 -seed 1 -out "$W/a.weights" &&
        run train "$D" train "$W/z.data" "$c" -epochs 1 -seed 2 -out "$W/b.weights" &&
        run "curve train" "$D" curve train "$W/z.data" "$c" "$W/a.weights" "$W/b.weights" -epochs 1 -out "$W/run.curve" &&
        run "curve line" "$D" curve line "$W/z.data" "$c" "$W/a.weights" "$W/b.weights" -points 3 \
            -bn_limit "$IMAGES" -train_limit "$IMAGES" -test_limit "$IMAGES"
        printf '%-34s %s\n' "$(basename "$dir")/$name" "$outcome"
    done
done
