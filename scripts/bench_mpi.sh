#!/usr/bin/env bash
# Open MPI on this machine: plane grid points per second and curve-training images per
# second of ./darknet-mpi at 1 and 2 ranks, with the threads per rank set so that the cores
# are not oversubscribed (1 rank x DKTHREADS=2 against 2 ranks x DKTHREADS=1 on 2 cores;
# and 1 rank x 1 thread, what one core gives). All configurations run in the same session in
# interleaved rounds (the machine may be shared); the ratios are to the 1 rank x 2 threads
# baseline of the same run. Numbers: the grid loop's own "s per point" (wall time on rank 0,
# data loading excluded) and the curve epoch's wall time (the table's time column); for 2
# ranks also the time rank 0 spent in the gradient all-reduce (waiting for the other rank
# included).
#   BENCH_MPI_GRID (4)  BENCH_MPI_LIMIT (1000: BN, train and test images per grid point)
#   BENCH_MPI_TRAIN (4096: curve-training images, batch 128)  BENCH_MPI_ROUNDS (3)
set -u
cd "$(dirname "$0")/.."
G=${BENCH_MPI_GRID:-4}
L=${BENCH_MPI_LIMIT:-1000}
N=${BENCH_MPI_TRAIN:-4096}
R=${BENCH_MPI_ROUNDS:-3}
M=./darknet-mpi
T=$(mktemp -d /tmp/dkbench_mpi.XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
command -v mpirun > /dev/null || { echo "bench_mpi: no mpirun (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
[ -x "$M" ] || { echo "bench_mpi: $M missing (run make MPI=1)" >&2; exit 1; }
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== plane: ${G}x${G} grid, $L BN/train/test images per point; curve train: $N images, batch 128, cfg/fashion-cnn.cfg; $R rounds"
for s in 1 2 3; do
    DKTHREADS=2 $M train cfg/fashion.data cfg/fashion-cnn.cfg -epochs 1 -limit 256 -no_test -seed $s -out $T/w$s.weights > /dev/null 2>&1 \
        || { echo "bench_mpi: training the networks failed" >&2; exit 1; }
done
# configurations: name, ranks, threads per rank
CONF=("1x2 1 2" "2x1 2 1" "1x1 1 1")
declare -A plane curve
run() {   # ranks threads command...: through mpirun, --bind-to none (threads move freely)
    local np=$1 th=$2; shift 2
    DKTHREADS=$th mpirun --oversubscribe --bind-to none -np "$np" -x DKTHREADS -x OMP_WAIT_POLICY "$M" "$@"
}
for r in $(seq 1 "$R"); do
    for c in "${CONF[@]}"; do
        set -- $c
        s=$(run "$2" "$3" plane cfg/fashion.data cfg/fashion-cnn.cfg $T/w1.weights $T/w2.weights $T/w3.weights \
            -grid "$G" -bn_limit "$L" -train_limit "$L" -test_limit "$L" 2> /dev/null | sed -n 's/.* \([0-9.]*\) s per point.*$/\1/p')
        if [ -n "$s" ]; then plane[$1]="${plane[$1]:-} $s"; echo "round $r: plane       $1 (ranks x threads): $s s per point"
        else echo "round $r: plane       $1: no timing (the run failed)"; fi
        e=$(run "$2" "$3" curve train cfg/fashion.data cfg/fashion-cnn.cfg $T/w1.weights $T/w2.weights -epochs 1 -limit "$N" \
            -out $T/c$1.curve 2> $T/err | awk '$1 == "1" { print $NF }')
        ar=$(sed -n 's/.*all-reduce \(.*\)$/; all-reduce \1/p' $T/err)
        if [ -n "$e" ]; then curve[$1]="${curve[$1]:-} $e"; echo "round $r: curve train $1 (ranks x threads): $e s per epoch of $N images$ar"
        else echo "round $r: curve train $1: no timing (the run failed)"; fi
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
[ -n "${plane[1x2]:-}" ] && [ -n "${curve[1x2]:-}" ] || { echo "bench_mpi: the baseline gave no timing" >&2; exit 1; }
bp=$(median ${plane[1x2]}); bc=$(median ${curve[1x2]})
echo "== medians (ratio: throughput against 1 rank x 2 threads, measured in this run)"
for c in "${CONF[@]}"; do
    set -- $c
    [ -n "${plane[$1]:-}" ] && [ -n "${curve[$1]:-}" ] || { echo "$1: no timing"; continue; }
    p=$(median ${plane[$1]}); e=$(median ${curve[$1]})
    awk -v n="$1" -v p="$p" -v e="$e" -v bp="$bp" -v bc="$bc" -v N="$N" 'BEGIN {
        printf "%s (ranks x threads): plane %.3f points/s (%.2fx), curve train %.0f img/s (%.2fx)\n", n, 1 / p, bp / p, N / e, bc / e }'
done
