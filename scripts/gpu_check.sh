#!/bin/bash
# gpu_check.sh: the GPU path, checked on a machine with an NVIDIA GPU and no network.
#
#   bash scripts/gpu_check.sh            build, GPU tests, benchmark (under 8 minutes on an H100)
#   bash scripts/gpu_check.sh build      only the builds (works without a GPU: nvcc suffices)
#   bash scripts/gpu_check.sh test       build + GPU tests, no benchmark
#
# 1. libdarknet from Debian's source package, carried with the tree as the pristine tarballs
#    in third_party/darknet-src/ (Debian's patches applied with `patch`), built GPU=1 CUDNN=0
#    OPENCV=0 with an sm_90 ARCH line (ARCH=... to change it) and the CUDA 13 fix
#    -DcudaThreadSynchronize=cudaDeviceSynchronize, in $WORK/darknet (default build-gpu/).
#    The library is linked without -lcuda (Darknet uses only the runtime API).
# 2. The plugin with GPU=1 against it: $WORK/darknet-plugin (./darknet's GPU twin) and the GPU
#    test program $WORK/tests/test_gpu.
# 3. The GPU tests (tests/gpu/test_gpu.c): in one process, the same network on the GPU and on
#    the CPU path of the same library (gpu_index -1), same weights, same batches: a curve
#    step, BN recompute and a plane point agree within tolerance, and the curve gradient on
#    the GPU passes a finite-difference check.
# 4. The benchmark (scripts/gpu_bench.sh): curve training img/s on the GPU against plain
#    Darknet GPU training (the library's own train_network) and the PyTorch twin, on the small
#    CNN and on VGG16-BN at CIFAR size, synthetic data.
# Environment: CUDA (default /usr/local/cuda), ARCH, WORK (default build-gpu), JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-all}
CUDA=${CUDA:-/usr/local/cuda}
ARCH=${ARCH:--gencode arch=compute_90,code=sm_90}
WORK=${WORK:-build-gpu}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
T0=$(date +%s)
say() { echo "gpu_check [$(( $(date +%s) - T0 ))s]: $*" >&2; }
die() { echo "gpu_check: $*" >&2; exit 1; }
case "$MODE" in all|build|test) ;; *) die "unknown mode '$MODE' (all, build, test)";; esac

[ -x "$CUDA/bin/nvcc" ] || die "$CUDA/bin/nvcc not found (set CUDA=/path/to/the/cuda/toolkit)"
# What the builds need besides CUDA. A lent GPU machine has no package registry, so the few
# Debian packages that such an image may lack travel in third_party/debs/ (bookworm, amd64:
# patch, xz-utils, zlib1g-dev) and are unpacked with dpkg -x into $WORK/sysroot when missing.
# Without PLplot only the GPU tests and benchmark are built (PLOT=0), not ./darknet.
SYS=$WORK/sysroot
DEBS=$ROOT/third_party/debs
unpack_deb() {   # unpack_deb NAME: third_party/debs/NAME_*.deb into $SYS
    local f
    f=$(ls "$DEBS"/"$1"_*.deb 2>/dev/null | head -1)
    [ -n "$f" ] || die "$1 is missing and $DEBS has no $1 package"
    command -v dpkg > /dev/null || die "$1 is missing, and there is no dpkg to unpack $(basename "$f")"
    mkdir -p "$SYS"
    dpkg -x "$f" "$SYS" || die "cannot unpack $f"
    say "using $(basename "$f") from $DEBS (unpacked into $SYS)"
}
for t in gcc make tar nm; do command -v $t > /dev/null || die "'$t' is not installed"; done
command -v patch > /dev/null || { unpack_deb patch; export PATH="$PATH:$SYS/usr/bin"; }
command -v xz > /dev/null || { unpack_deb xz-utils; export PATH="$PATH:$SYS/usr/bin"; }
# (GPU_CHECK_CARRIED_ZLIB=1 takes the carried zlib even where the system has one: to test this path)
if [ "${GPU_CHECK_CARRIED_ZLIB:-0}" = 1 ] || ! echo '#include <zlib.h>' | gcc -E - > /dev/null 2>&1; then
    unpack_deb zlib1g-dev
    rm -f "$SYS"/usr/lib/x86_64-linux-gnu/libz.so   # (a link to the system's path) so -lz takes libz.a
    export CPPFLAGS="${CPPFLAGS:-} -isystem $SYS/usr/include" LDFLAGS="${LDFLAGS:-} -L$SYS/usr/lib/x86_64-linux-gnu"
fi
PLOT=1
if ! command -v pkg-config > /dev/null || ! pkg-config --exists plplot; then
    PLOT=0
    say "no PLplot development files: building the GPU tests and benchmark without the plot and cli modules (no ./darknet)"
fi

# ---- 1. libdarknet, GPU=1 ----
SRC=$ROOT/third_party/darknet-src
ORIG=$(ls "$SRC"/darknet_*.orig.tar.xz 2>/dev/null | head -1)
DEB=$(ls "$SRC"/darknet_*.debian.tar.xz 2>/dev/null | head -1)
[ -n "$ORIG" ] && [ -n "$DEB" ] || die "$SRC: Debian's darknet source tarballs are missing"
DK=$WORK/darknet
STAMP=$DK/.built-$(echo "$ARCH $CUDA" | md5sum | cut -c1-8)
if [ ! -e "$STAMP" ] || [ ! -e "$DK/libdarknet.so" ]; then
    say "unpacking $(basename "$ORIG") and Debian's patches into $DK"
    rm -rf "$DK" "$WORK/unpack"
    mkdir -p "$WORK/unpack"
    tar -C "$WORK/unpack" -xf "$ORIG"
    tar -C "$WORK/unpack" -xf "$DEB"
    mv "$WORK/unpack/darknet" "$DK"
    while read -r p; do
        case "$p" in ''|'#'*) continue;; esac
        patch -s -d "$DK" -p1 < "$WORK/unpack/debian/patches/$p" || die "Debian patch $p does not apply"
    done < "$WORK/unpack/debian/patches/series"
    rm -rf "$WORK/unpack"
    # the CUDA location, and no -lcuda (the driver library; Darknet calls only the runtime)
    sed -i -e "s#/usr/local/cuda#$CUDA#g" -e 's/ -lcuda / /' "$DK/Makefile"
    say "building libdarknet GPU=1 CUDNN=0 OPENCV=0 ($ARCH), $JOBS jobs"
    make -C "$DK" -j"$JOBS" GPU=1 CUDNN=0 OPENCV=0 OPENMP=0 ARCH="$ARCH" NVCC="$CUDA/bin/nvcc" \
        OPTS="-Ofast -DcudaThreadSynchronize=cudaDeviceSynchronize" obj backup results libdarknet.so \
        > "$WORK/darknet-build.log" 2>&1 || { tail -20 "$WORK/darknet-build.log" >&2; die "libdarknet GPU build failed (log: $WORK/darknet-build.log)"; }
    touch "$STAMP"
fi
[ "$(nm -D "$DK/libdarknet.so" | grep -c ' T cuda_push_array$')" = 1 ] || die "$DK/libdarknet.so is not a GPU build"

# ---- 2. the plugin, GPU=1 ----
say "building the plugin GPU=1 against $DK"
PB=$WORK/plugin
TARGETS="$PB/tests/test_gpu $PB/bench/bench_gpu"
[ $PLOT = 1 ] && TARGETS="$PB/darknet $TARGETS"
make --no-print-directory -j"$JOBS" GPU=1 FAST=0 PLOT=$PLOT CUDA="$CUDA" NVCC="$CUDA/bin/nvcc" CUDA_ARCH="$ARCH" \
    DARKNET="$DK" BUILD="$PB" $TARGETS > "$WORK/plugin-build.log" 2>&1 \
    || { tail -20 "$WORK/plugin-build.log" >&2; die "plugin GPU build failed (log: $WORK/plugin-build.log)"; }
say "built $TARGETS"
[ "$MODE" = build ] && { say "build only: done"; exit 0; }

# ---- 3. GPU tests ----
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 \
    || die "no nvidia-smi: this step needs a machine with an NVIDIA GPU"
say "GPU tests"
"$PB/tests/test_gpu" || die "GPU tests failed"
[ "$MODE" = test ] && { say "tests passed"; exit 0; }

# ---- 4. benchmark ----
say "benchmark"
BENCH="$PB/bench/bench_gpu" bash scripts/gpu_bench.sh
say "done in $(( $(date +%s) - T0 )) s"
