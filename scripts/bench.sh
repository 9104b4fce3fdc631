#!/usr/bin/env bash
# make bench: images/s of Darknet stock vs the fast kernels (plugins/fast) and vs a PyTorch twin
# of the same network, same batch and thread count. Benchmarks, not tests: the machine may be
# shared, so every ratio to stock is measured in the same process, in interleaved rounds.
#   BENCH_ITERS (10) BENCH_ROUNDS (5) BENCH_THREADS (1,2) BENCH_VGG (1: also VGG16-BN, batch 128)
#   BENCH_RESNET (1: also ResNet-20) BENCH_CIFAR_ROUNDS (3) BENCH_CIFAR_ITERS (1) BENCH_CIFAR_SECS (1: each
#   CIFAR measurement repeats until it has run that long) BENCH_PLANE (1) BENCH_SMALL (1: the
#   small CNN) BENCH_SCALING (0: also scripts/bench_scaling.sh, step time vs batch and width)
#   BENCH_TORCH (1: run scripts/torch_twin.py; installs python3-torch with apt when missing)
#   BENCH_DETECT (1: scripts/bench_detect.sh, detection training vs the system binary)
set -u
cd "$(dirname "$0")/.."
BIN=build/bench/bench_fast
ITERS=${BENCH_ITERS:-10}
ROUNDS=${BENCH_ROUNDS:-5}
THREADS=${BENCH_THREADS:-1,2}
PY=/usr/bin/python3
OUT=$(mktemp -d /tmp/dkbench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# libgomp's default spinning between parallel regions halves throughput on a shared machine
# (see docs/performance.md); both programs use libgomp, both get the same policy.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

if [ ! -x "$BIN" ]; then echo "bench: $BIN missing (run make bench)" >&2; exit 1; fi

FASHION=cfg/fashion-cnn.cfg
if [ ! -r "$FASHION" ]; then   # the network of cfg/fashion-cnn.cfg
    FASHION=$OUT/fashion-cnn.cfg
    {
        printf '[net]\nbatch=128\nwidth=28\nheight=28\nchannels=1\nlearning_rate=0.05\nmomentum=0.9\ndecay=0.0005\n'
        for f in 32 64 128; do
            printf '[convolutional]\nbatch_normalize=1\nfilters=%s\nsize=3\nstride=1\npad=1\nactivation=relu\n' $f
            printf '[maxpool]\nsize=2\nstride=2\n'
            [ $f = 128 ] && printf 'padding=0\n'
        done
        printf '[connected]\noutput=10\nactivation=linear\n[softmax]\n'
    } > "$FASHION"
fi

have_torch() { "$PY" -c 'import torch' 2>/dev/null; }
if [ "${BENCH_TORCH:-1}" = 1 ] && ! have_torch; then
    echo "bench: installing python3-torch (Debian) for the PyTorch twin" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-torch >&2
fi

echo "== OMP_WAIT_POLICY=$OMP_WAIT_POLICY OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# median img/s of "WHAT NAME" in a bench output file
med() { awk -v w="$2" -v n="$3" '$1 == w && ($2 " " $3) == n { for (i = 1; i <= NF; i++) if ($i == "median") print $(i + 1) }' "$1" | head -1; }

compare() {   # $1 darknet output, $2 torch output, $3 label
    [ -s "$2" ] || return 0
    echo "-- $3: Darknet-fast / PyTorch at the same thread count"
    for what in train eval bn; do
        for t in ${THREADS//,/ }; do
            d=$(med "$1" $what "fast ${t}T"); p=$(med "$2" $what "torch ${t}T")
            [ -n "$d" ] && [ -n "$p" ] && awk -v w=$what -v t=$t -v d="$d" -v p="$p" \
                'BEGIN { printf "%-6s %dT  fast %8.1f  torch %8.1f  ratio %5.2fx\n", w, t, d, p, d / p }'
        done
    done
}

if [ "${BENCH_SMALL:-1}" = 1 ]; then
echo "== small Fashion-MNIST CNN ($FASHION), batch 128"
"$BIN" "$FASHION" --iters "$ITERS" --rounds "$ROUNDS" --threads "$THREADS" | tee "$OUT/dk.txt"
if [ "${BENCH_TORCH:-1}" = 1 ] && have_torch; then
    "$PY" scripts/torch_twin.py --iters "$ITERS" --rounds "$ROUNDS" --threads "$THREADS" | tee "$OUT/pt.txt"
fi
compare "$OUT/dk.txt" "$OUT/pt.txt" "environment as given"

# OPENBLAS_CORETYPE in the environment overrides OpenBLAS's own CPU detection (some CI and
# sandbox images set it to Haswell, which keeps AVX-512 CPUs on the AVX2 sgemm kernels): then
# also measure both programs with OpenBLAS's own choice.
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
    echo "== same, without OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE (OpenBLAS picks its kernels itself)"
    env -u OPENBLAS_CORETYPE "$BIN" "$FASHION" --iters "$ITERS" --rounds "$ROUNDS" --threads "$THREADS" --what train | tee "$OUT/dk2.txt"
    if [ -s "$OUT/pt.txt" ]; then
        env -u OPENBLAS_CORETYPE "$PY" scripts/torch_twin.py --iters "$ITERS" --rounds "$ROUNDS" --threads "$THREADS" --what train | tee "$OUT/pt2.txt"
    fi
    compare "$OUT/dk2.txt" "$OUT/pt2.txt" "OpenBLAS's own kernel choice"
fi
fi   # BENCH_SMALL

# the paper's CIFAR networks: training, eval and BN passes against their PyTorch twins, and
# the peak resident memory of both processes (no stock rounds: about a minute per step). The
# two programs alternate, one round each, BENCH_CIFAR_ROUNDS times; medians over the rounds.
mem() { sed -n 's/^peak resident memory \([0-9.]*\) MiB$/\1/p' "$@" | sort -g | tail -1; }
medof() {   # median over files $3... of "WHAT NAME" medians ($1 what, $2 name)
    local w=$1 n=$2; shift 2
    for f in "$@"; do med "$f" "$w" "$n"; done | sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
cifar_row() {   # $1 cfg, $2 torch twin name, $3 label
    [ -r "$1" ] || return 0
    local R=${BENCH_CIFAR_ROUNDS:-3} dk=() pt=()
    echo "== $3 CIFAR-10 ($1), batch 128, train/eval/bn, $R alternating rounds (Darknet-fast, PyTorch) x ${BENCH_CIFAR_ITERS:-1} iteration(s), at least ${BENCH_CIFAR_SECS:-1} s per measurement"
    for r in $(seq 1 "$R"); do
        "$BIN" "$1" --no-stock --iters "${BENCH_CIFAR_ITERS:-1}" --min-secs "${BENCH_CIFAR_SECS:-1}" --rounds 1 --threads "$THREADS" > "$OUT/$2.dk$r" && dk+=("$OUT/$2.dk$r")
        sed 's/^/  darknet round '"$r"': /' "$OUT/$2.dk$r" | grep 'median' || true
        if [ "${BENCH_TORCH:-1}" = 1 ] && have_torch; then
            "$PY" scripts/torch_twin.py --net "$2" --iters "${BENCH_CIFAR_ITERS:-1}" --min-secs "${BENCH_CIFAR_SECS:-1}" --rounds 1 --threads "$THREADS" > "$OUT/$2.pt$r" && pt+=("$OUT/$2.pt$r")
            sed 's/^/  pytorch round '"$r"': /' "$OUT/$2.pt$r" | grep 'median' || true
        fi
    done
    [ ${#dk[@]} -gt 0 ] || return 0
    for what in train eval bn; do
        for t in ${THREADS//,/ }; do
            echo "$what fast ${t}T median $(medof $what "fast ${t}T" "${dk[@]}") img/s"
            [ ${#pt[@]} -gt 0 ] && echo "$what torch ${t}T median $(medof $what "torch ${t}T" "${pt[@]}") img/s"
        done
    done > "$OUT/$2.sum"
    [ ${#pt[@]} -gt 0 ] || { cat "$OUT/$2.sum"; return 0; }
    compare "$OUT/$2.sum" "$OUT/$2.sum" "$3 (medians of the rounds)"
    echo "peak resident memory: Darknet-fast $(mem "${dk[@]}") MiB, PyTorch $(mem "${pt[@]}") MiB"
}
[ "${BENCH_VGG:-1}" = 1 ] && cifar_row cfg/vgg16-bn.cfg vgg16bn VGG16-BN
[ "${BENCH_RESNET:-1}" = 1 ] && cifar_row cfg/resnet20.cfg resnet20 ResNet-20

# the curve trainer's step against a plain training step of the same network (target <= 1.05)
if [ "${BENCH_SMALL:-1}" = 1 ] && [ -x build/bench/bench_curve ]; then
    echo "== curve step vs plain step ($FASHION)"
    build/bench/bench_curve "$FASHION" --iters "$ITERS" --rounds "$ROUNDS"
fi

if [ "${BENCH_SCALING:-0}" = 1 ]; then
    bash scripts/bench_scaling.sh
fi

# grid points per second of "darknet plane" against the reference plane.py's work in PyTorch
if [ "${BENCH_PLANE:-1}" = 1 ]; then
    echo "== darknet plane vs the reference plane.py (PyTorch), points per second"
    bash scripts/bench_plane.sh
fi

# detection training: this binary's detector loop against the system binary's detector train
if [ "${BENCH_DETECT:-1}" = 1 ]; then
    THREADS=$THREADS bash scripts/bench_detect.sh
fi
