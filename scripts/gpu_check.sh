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
#    The library is linked without -lcuda (Darknet uses only the runtime API). Where cuDNN is
#    found (CUDA tree, /usr, PyTorch's nvidia-cudnn wheel, CUDNN_HOME), a second variant
#    GPU=1 CUDNN=1 is built too, with our scripts/gpu/cudnn9_compat.h force-included: it
#    supplies the algorithm queries that cuDNN 8 removed (CUDNN=0 skips it, CUDNN=1 requires it).
# 2. The plugin with GPU=1 against it: $WORK/darknet-plugin (./darknet's GPU twin) and the GPU
#    test program $WORK/tests/test_gpu.
# 3. The GPU tests (tests/gpu/test_gpu.c): in one process, the same network on the GPU and on
#    the CPU path of the same library (gpu_index -1), same weights, same batches: a curve
#    step, BN recompute and a plane point agree within tolerance, and the curve gradient on
#    the GPU passes a finite-difference check.
#    Then tests/gpu/cli_gpu.sh: the commands (train, eval, curve train/eval, plane, fge,
#    detector train with fge_cyclic and detector map,
#    ensemble, swa) on the GPU and with -nogpu, tables compared, where Fashion-MNIST's four
#    idx files are found (FASHION=dir, Debian's dataset-fashion-mnist, or .fashion/ carried
#    with the tree).
# 4. The benchmark (scripts/gpu_bench.sh): curve training img/s on the GPU against plain
#    Darknet GPU training (the library's own train_network) and the PyTorch twin, on the small
#    CNN and on VGG16-BN at CIFAR size, synthetic data.
# Environment: CUDA (default /usr/local/cuda), ARCH, WORK (default build-gpu), JOBS (default nproc),
# CUDNN (auto|0|1), CUDNN_HOME. Exit status 0 only if every variant built passed.
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
rm -rf "$WORK/torch-bench"   # this run's PyTorch results only
T0=$(date +%s)
say() { echo "gpu_check [$(( $(date +%s) - T0 ))s]: $*" >&2; }
die() { echo "gpu_check: $*" >&2; exit 1; }
case "$MODE" in all|build|test) ;; *) die "unknown mode '$MODE' (all, build, test)";; esac

[ -x "$CUDA/bin/nvcc" ] || die "$CUDA/bin/nvcc not found (set CUDA=/path/to/the/cuda/toolkit)"
# What the builds need besides CUDA. A lent GPU machine has no package registry, so the few
# Debian packages that such an image may lack travel in third_party/debs/ (bookworm, amd64:
# patch, xz-utils, zlib1g-dev, libstb-dev) and are unpacked with dpkg -x into $WORK/sysroot when missing.
# Without PLplot, darknet is built with PLOT=0: every command, no pictures.
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
# stb_image 2.27 (header only; data/data_list.c's pre-checks are written for that version)
if [ "${GPU_CHECK_CARRIED_STB:-0}" = 1 ] || ! echo '#include <stb/stb_image.h>' | gcc -E - > /dev/null 2>&1; then
    unpack_deb libstb-dev
    export CPPFLAGS="${CPPFLAGS:-} -isystem $SYS/usr/include"
fi
PLOT=1
if ! command -v pkg-config > /dev/null || ! pkg-config --exists plplot; then
    PLOT=0
    say "no PLplot development files: darknet built with PLOT=0 (every command, no pictures)"
fi

# ---- cuDNN (for the second variant): CUDNN=0 skips it, CUDNN=1 requires it, default: if found ----
CUDNN=${CUDNN:-auto}
CUDNN_INC= CUDNN_LIB=
find_cudnn() {
    local d py
    py=$(python3 -c 'import nvidia.cudnn as c; print(list(c.__path__)[0])' 2> /dev/null || true)
    for d in ${CUDNN_HOME:-} "$CUDA" /usr $py; do
        [ -n "$d" ] || continue
        local inc="" lib="" i l
        for i in "$d/include" "$d/include/x86_64-linux-gnu"; do [ -e "$i/cudnn.h" ] && { inc=$i; break; }; done
        for l in "$d/lib64" "$d/lib" "$d/lib/x86_64-linux-gnu"; do ls "$l"/libcudnn.so* > /dev/null 2>&1 && { lib=$l; break; }; done
        if [ -n "$inc" ] && [ -n "$lib" ]; then CUDNN_INC=$inc; CUDNN_LIB=$lib; return 0; fi
    done
    return 1
}
VARIANTS="gpu"
if [ "$CUDNN" != 0 ]; then
    if find_cudnn; then
        VARIANTS="gpu cudnn"
        # a wheel's cuDNN has only libcudnn.so.9: a link named libcudnn.so for the linker
        if [ ! -e "$CUDNN_LIB/libcudnn.so" ]; then
            mkdir -p "$WORK/cudnn-lib"
            ln -sf "$(ls "$CUDNN_LIB"/libcudnn.so.* | head -1)" "$WORK/cudnn-lib/libcudnn.so"
            CUDNN_LINK="-L$WORK/cudnn-lib -L$CUDNN_LIB"
        else
            CUDNN_LINK="-L$CUDNN_LIB"
        fi
        say "cuDNN: $CUDNN_INC/cudnn.h, $CUDNN_LIB: the CUDNN=1 variant too (CUDNN=0 to skip it)"
    else
        [ "$CUDNN" = 1 ] && die "CUDNN=1: no cudnn.h and libcudnn found (set CUDNN_HOME)"
        say "no cuDNN found: only the GPU=1 CUDNN=0 variant"
    fi
fi

SRC=$ROOT/third_party/darknet-src
ORIG=$(ls "$SRC"/darknet_*.orig.tar.xz 2>/dev/null | head -1)
DEB=$(ls "$SRC"/darknet_*.debian.tar.xz 2>/dev/null | head -1)
[ -n "$ORIG" ] && [ -n "$DEB" ] || die "$SRC: Debian's darknet source tarballs are missing"

# Darknet's 2018 C against a newer gcc (14 makes these errors): warnings, as with gcc 12
OLD_C_OK="-Wno-error=implicit-function-declaration -Wno-error=incompatible-pointer-types -Wno-error=int-conversion"
# ---- 1. libdarknet, GPU=1 (and CUDNN=1 with our cuDNN 9 shim, scripts/gpu/cudnn9_compat.h) ----
# build_darknet VARIANT: into $WORK/darknet (gpu) or $WORK/darknet-cudnn; 0 or 1
build_darknet() {
    local v=$1 dk=$WORK/darknet cudnn=0
    [ "$v" = cudnn ] && { dk=$WORK/darknet-cudnn; cudnn=1; }
    local key="$ARCH $CUDA"
    [ $cudnn = 1 ] && key="$key $CUDNN_INC $CUDNN_LIB"
    local stamp=$dk/.built-$(echo "$key" | md5sum | cut -c1-8)
    if [ ! -e "$stamp" ] || [ ! -e "$dk/libdarknet.so" ]; then
        say "unpacking $(basename "$ORIG") and Debian's patches into $dk"
        rm -rf "$dk" "$WORK/unpack"
        mkdir -p "$WORK/unpack"
        tar -C "$WORK/unpack" -xf "$ORIG" && tar -C "$WORK/unpack" -xf "$DEB" || { say "cannot unpack the source"; return 1; }
        mv "$WORK/unpack/darknet" "$dk"
        while read -r p; do
            case "$p" in ''|'#'*) continue;; esac
            patch -s -d "$dk" -p1 < "$WORK/unpack/debian/patches/$p" || { say "Debian patch $p does not apply"; return 1; }
        done < "$WORK/unpack/debian/patches/series"
        rm -rf "$WORK/unpack"
        # the CUDA location, and no -lcuda (the driver library; Darknet calls only the runtime)
        sed -i -e "s#/usr/local/cuda#$CUDA#g" -e 's/ -lcuda / /' "$dk/Makefile"
        if [ $cudnn = 1 ]; then
            sed -i -e "s#^COMMON= -Iinclude/ -Isrc/#COMMON= -Iinclude/ -Isrc/ -include $ROOT/scripts/gpu/cudnn9_compat.h -I$CUDNN_INC#" \
                   -e "s#^LDFLAGS+= -lcudnn#LDFLAGS+= $CUDNN_LINK -lcudnn#" "$dk/Makefile"
        fi
        say "building libdarknet GPU=1 CUDNN=$cudnn OPENCV=0 ($ARCH), $JOBS jobs"
        make -C "$dk" -j"$JOBS" GPU=1 CUDNN=$cudnn OPENCV=0 OPENMP=0 ARCH="$ARCH" NVCC="$CUDA/bin/nvcc" \
            OPTS="-Ofast -DcudaThreadSynchronize=cudaDeviceSynchronize $OLD_C_OK" obj backup results libdarknet.so \
            > "$WORK/darknet-$v-build.log" 2>&1 \
            || { tail -20 "$WORK/darknet-$v-build.log" >&2; say "libdarknet $v build failed (log: $WORK/darknet-$v-build.log)"; return 1; }
        touch "$stamp"
    fi
    [ "$(nm -D "$dk/libdarknet.so" | grep -c ' T cuda_push_array$')" = 1 ] || { say "$dk/libdarknet.so is not a GPU build"; return 1; }
}

# ---- 2. the plugin with the same flags: $WORK/plugin or $WORK/plugin-cudnn ----
build_plugin() {
    local v=$1 dk=$WORK/darknet pb=$WORK/plugin flags="CUDNN=0"
    [ "$v" = cudnn ] && { dk=$WORK/darknet-cudnn; pb=$WORK/plugin-cudnn; flags="CUDNN=1 CUDNN_INC=$CUDNN_INC CUDNN_LIB=$CUDNN_LIB"; }
    say "building the plugin GPU=1 $flags against $dk"
    local targets="$pb/darknet $pb/tests/test_gpu $pb/bench/bench_gpu"
    LIBRARY_PATH="$WORK/cudnn-lib:${LIBRARY_PATH:-}" make --no-print-directory -j"$JOBS" GPU=1 $flags FAST=0 WERROR= PLOT=$PLOT \
        CUDA="$CUDA" NVCC="$CUDA/bin/nvcc" CUDA_ARCH="$ARCH" DARKNET="$dk" BUILD="$pb" $targets \
        > "$WORK/plugin-$v-build.log" 2>&1 \
        || { tail -20 "$WORK/plugin-$v-build.log" >&2; say "plugin $v build failed (log: $WORK/plugin-$v-build.log)"; return 1; }
    say "built $targets"
}

# ---- 3. GPU tests, 4. benchmark, per variant; the supported variant (gpu) first ----
FAILED=""
if [ "$MODE" != build ]; then
    command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 \
        || die "no nvidia-smi: the tests need a machine with an NVIDIA GPU ('build' builds without one)"
fi
# what this machine is, for the log
{ echo "host: $(uname -srm), $(nproc) cores; $(gcc --version | head -1)"
  "$CUDA/bin/nvcc" --version | tail -1
  python3 -c 'import torch; print("python3 torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>/dev/null \
      || echo "python3: no torch"; } >&2
for v in $VARIANTS; do
    pb=$WORK/plugin; [ "$v" = cudnn ] && pb=$WORK/plugin-cudnn
    build_darknet $v && build_plugin $v || { FAILED="$FAILED $v:build"; [ $v = gpu ] && die "the GPU=1 CUDNN=0 build failed"; continue; }
    [ "$MODE" = build ] && continue
    say "GPU tests ($v)"
    # full FP32 in cuBLAS/cuDNN (no TF32), so that GPU and CPU compare at float precision
    if ! NVIDIA_TF32_OVERRIDE=0 LD_LIBRARY_PATH="$CUDNN_LIB:${LD_LIBRARY_PATH:-}" "$pb/tests/test_gpu"; then
        FAILED="$FAILED $v:tests"; continue
    fi
    # the commands themselves, GPU against -nogpu, where Fashion-MNIST is at hand
    fm=""
    for d in ${FASHION:-} /usr/share/datasets/fashion-mnist "$ROOT/.fashion"; do
        [ -s "$d/train-images-idx3-ubyte.gz" ] && { fm=$d; break; }
    done
    if [ -n "$fm" ]; then
        say "the commands on the GPU and with -nogpu ($v; Fashion-MNIST from $fm)"
        NVIDIA_TF32_OVERRIDE=0 LD_LIBRARY_PATH="$CUDNN_LIB:${LD_LIBRARY_PATH:-}" DKMC_BIN="$pb/darknet" FASHION="$fm" \
            bash tests/gpu/cli_gpu.sh || FAILED="$FAILED $v:cli"
    else
        say "no Fashion-MNIST (FASHION=dir, /usr/share/datasets/fashion-mnist or .fashion/): the command tests are skipped"
    fi
    [ "$MODE" = test ] && continue
    say "benchmark ($v)"
    torch=1; [ "$v" = cudnn ] && torch=cache   # the PyTorch twin once: the second table reuses it
    cd_=0; [ "$v" = cudnn ] && cd_=1
    LD_LIBRARY_PATH="$CUDNN_LIB:${LD_LIBRARY_PATH:-}" TORCH=$torch TORCH_CACHE="$WORK/torch-bench" LABEL="GPU=1 CUDNN=$cd_" \
        BENCH="$pb/bench/bench_gpu" bash scripts/gpu_bench.sh || FAILED="$FAILED $v:bench"
done
[ -n "$FAILED" ] && die "failed:$FAILED ($(( $(date +%s) - T0 )) s)"
say "$MODE: all passed for variant(s) $VARIANTS in $(( $(date +%s) - T0 )) s"
