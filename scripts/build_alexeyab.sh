#!/usr/bin/env bash
# Build AlexeyAB's Darknet (the pristine snapshot in third_party/alexeyab/) as a CPU
# libdarknet.so, the library of the second host (make HOST=alexeyab DARKNET=build-alexeyab/darknet).
#
#   scripts/build_alexeyab.sh [DIR]     DIR: default build-alexeyab (ignored by git)
#
# Cached: DIR/darknet/.built-<key> records the tarball's checksum and the flags; when it is
# there with libdarknet.so, nothing is unpacked or built (prints the folder and exits 0).
# Otherwise the tarball is unpacked afresh into DIR/darknet and the library's own Makefile
# builds libdarknet.so with LIBSO=1 GPU=0 CUDNN=0 OPENCV=0 OPENMP=1 AVX=0 and
# OPTS="-Ofast -fsemantic-interposition" (its sources are not modified). Prints the build folder on stdout as its last line; messages go to stderr.
# JOBS (default 2) and NICE (default 10) as the environment says.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build-alexeyab}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
TARBALL=$(ls "$ROOT"/third_party/alexeyab/darknet-*.tar.xz 2>/dev/null | head -1)
JOBS=${JOBS:-2}
NICE=${NICE:-10}
say() { echo "build_alexeyab: $*" >&2; }
[ -n "$TARBALL" ] || { say "third_party/alexeyab/darknet-*.tar.xz is missing"; exit 1; }

# OPTS: the library's own -Ofast, plus -fsemantic-interposition, which -Ofast turns off in
# gcc (>= 10): without it update_network calls get_current_rate, and the parser get_policy,
# directly, and the definitions of the second host (plugins/host_alexeyab/host_policy.c) are
# never asked; with it they go through the PLT as in pjreddie's library.
FLAGS="LIBSO=1 GPU=0 CUDNN=0 OPENCV=0 OPENMP=1 AVX=0"
OPTS="-Ofast -fsemantic-interposition"
KEY=$( { sha256sum < "$TARBALL"; echo "$FLAGS $OPTS"; gcc --version | head -1; } | sha256sum | cut -c1-12)
DK=$OUT/darknet
STAMP=$DK/.built-$KEY
if [ -e "$STAMP" ] && [ -e "$DK/libdarknet.so" ]; then
    say "up to date: $DK/libdarknet.so"
    echo "$DK"
    exit 0
fi

say "unpacking $(basename "$TARBALL") into $DK"
rm -rf "$DK" "$OUT/unpack"
mkdir -p "$OUT/unpack"
tar -C "$OUT/unpack" -xf "$TARBALL"
mv "$OUT/unpack"/darknet-* "$DK"
rmdir "$OUT/unpack"

say "make $FLAGS OPTS=\"$OPTS\" libdarknet.so (-j$JOBS, nice $NICE)"
t0=$(date +%s.%N)
if ! (cd "$DK" && nice -n "$NICE" make -j"$JOBS" $FLAGS OPTS="$OPTS" libdarknet.so > "$OUT/build.log" 2>&1); then
    tail -20 "$OUT/build.log" >&2
    say "the build failed (whole log: $OUT/build.log)"
    exit 1
fi
t1=$(date +%s.%N)
say "built $DK/libdarknet.so in $(echo "$t1 - $t0" | bc) s (log: $OUT/build.log)"
touch "$STAMP"
echo "$DK"
