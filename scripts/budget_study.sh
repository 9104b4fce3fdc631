#!/usr/bin/env bash
# The budget study of the paper's slide 9 on Fashion-MNIST with cfg/fashion-cnn.cfg:
# independent networks (Ind), Snapshot Ensembles (SSE, policy=sgdr) and Fast Geometric
# Ensembling (FGE) at equal training budgets. B = the epochs of one normal training run
# (the reference schedule); budgets 1B and 2B.
#   Ind  B epochs per network, seeds 1, 2: 1B = one network, 2B = the ensemble of two
#   SSE  one run of 2B epochs, cosine cycles of B/2 epochs from lr 0.05 to 0 with restarts
#        (sgdr_mult 1), a snapshot at each cycle end: 1B = its first 2 snapshots
#   FGE  as the paper's recipe: the first 80 % of a normal B-epoch run (its checkpoint at
#        0.8B, -stop_after), then FGE cycles (a snapshot at each lr minimum) for 0.2B (1B)
#        or 1.2B epochs (2B); the 2B run's first 0.2B epochs are the 1B run. Three variants
#        from the same checkpoint by default: cycles of 2 epochs from lr 0.05 to 0.0005 (the
#        paper's fge.py defaults with the README's two-epoch cycle), of 1 and of 0.5 epochs
#        from 0.02 to 0.0005
#   Single: one network trained 2B epochs, "a single network with the same budget".
# Every member is evaluated with its stored BN statistics (as the reference's fge.py);
# ensembles average softmax probabilities; the test set is the full 10,000 images.
# Trained files are kept in $OUT and reused when the script runs again. Defaults: B = 10
# epochs on all 60,000 training images, the run in the README: 53 minutes on 2 idle cores
# (AMD EPYC Zen 3). On an H100 with PAR=1 and B = 20, the Ind, single and SSE trainings took
# about 100 s (the FGE part was not run there). B=10 LIMIT=10240 FGE_RUNS=1:0.02:0.0005 is
# the earlier quick setting (about 15 minutes).
# Environment: B, LIMIT (training images, 0 = all), OUT, D (the darknet binary: a GPU build
# runs on GPU 0), DATA, FGE_RUNS (FGE variants, each CYCLE:LR1:LR2; every variant gets its
# own rows), PAR=1 (the five independent trainings at the same time: for a GPU or a
# many-core machine), FGE_EVAL_EVERY (test-set points of the slide-8 figure, every N
# iterations; default 117, four per epoch).
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-results/budget_full10}
B=${B:-10}
LIMIT=${LIMIT:-0}                      # training images (0: all 60000)
D=${D:-./darknet}
FGE_RUNS=${FGE_RUNS:-2:0.05:0.0005 1:0.02:0.0005 0.5:0.02:0.0005}
PAR=${PAR:-0}
FGE_EVAL_EVERY=${FGE_EVAL_EVERY:-117}
DATA=${DATA:-cfg/fashion.data}
CFG=cfg/fashion-cnn.cfg
mkdir -p "$OUT"
L=""; [ "$LIMIT" -gt 0 ] && L="-limit $LIMIT"
start=$(date +%s)
say() { echo "budget: $*" >&2; }
train() {  # out, args...
    local out=$1; shift
    [ -s "$out" ] && { say "reusing $out"; return 0; }
    "$D" "$@" $L -out "$out" > "${out%.weights}.txt"
}
say "B = $B epochs; budgets 1B and 2B; outputs in $OUT"
P=$((B * 8 / 10)); F1=$((B - P)); F2=$((2 * B - P))
fge_name() { echo "fge_c$1_$2"; }   # cycle, lr1 -> the files' stem of a variant
# pictures only from a darknet that draws them (a PLOT=0 build refuses -png up front)
printf 'a,b\n0,0\n1,1\n' > "$OUT/.probe.csv"
DRAWS=0; "$D" plot "$OUT/.probe.csv" -x a -y b -png "$OUT/.probe.png" > /dev/null 2>&1 && DRAWS=1
rm -f "$OUT/.probe.csv" "$OUT/.probe.png"
pics() { if [ $DRAWS = 1 ]; then echo "-png $OUT/$1.png"; fi; }
# the five independent trainings; with PAR=1 at the same time
job_ind() { say "Ind network $1"; train "$OUT/ind$1.weights" train $DATA $CFG -epochs "$B" -schedule reference -seed "$1"; }
job_single() {
    say "single network of 2B epochs"
    train "$OUT/single2b.weights" train $DATA $CFG -epochs $((2 * B)) -schedule reference -seed 3
}
job_sse() {   # policy=sgdr from a cfg, cycles of B/2 epochs
    sed -e 's/^sgdr_cycle_epochs=.*/sgdr_cycle_epochs='"$(awk "BEGIN{print $B/2}")"'/' -e 's/^sgdr_mult=.*/sgdr_mult=1/' \
        -e 's/^learning_rate_min=.*/learning_rate_min=0/' cfg/fashion-cnn-sgdr.cfg > "$OUT/sse.cfg"
    say "SSE, $((2 * B)) epochs"
    [ -s "$OUT/sse.csv" ] || "$D" train $DATA "$OUT/sse.cfg" -epochs $((2 * B)) -seed 1 $L -out "$OUT/sse.weights" -csv "$OUT/sse.csv" > "$OUT/sse.txt"
}
job_fge() {   # the checkpoint at 80 % of a B-epoch run, then each variant's cycles
    say "FGE start: epoch $P of a $B-epoch run"
    train "$OUT/fge_start.weights" train $DATA $CFG -epochs "$B" -stop_after "$P" -schedule reference -seed 1
    local r c l1 l2 n pids=""
    for r in $FGE_RUNS; do
        IFS=: read -r c l1 l2 <<< "$r"
        n=$(fge_name "$c" "$l1")
        say "FGE $n: $F2 epochs of cycles of $c epoch(s), lr $l1 -> $l2"
        if [ ! -s "$OUT/$n.csv" ]; then
            "$D" fge $DATA $CFG "$OUT/fge_start.weights" -epochs "$F2" -cycle "$c" -lr1 "$l1" -lr2 "$l2" \
                -seed 1 $L -out "$OUT/$n.weights" -csv "$OUT/$n.csv" $(pics "$n") -eval_every "$FGE_EVAL_EVERY" > "$OUT/$n.txt" &
            pids="$pids $!"
            [ "$PAR" = 1 ] || { wait $!; pids=""; }
        fi
    done
    for r in $pids; do wait "$r"; done
}
if [ "$PAR" = 1 ]; then
    pids=""
    for j in "job_ind 1" "job_ind 2" job_single job_sse job_fge; do $j & pids="$pids $!"; done
    failed=0
    for p in $pids; do wait "$p" || failed=1; done
    [ $failed = 0 ] || { say "a training failed (its .txt in $OUT)"; exit 1; }
else
    job_ind 1; job_ind 2; job_single; job_sse; job_fge
fi

# ---- the table ----
say "evaluating"
"$D" ensemble $DATA $CFG "$OUT/ind1.weights" "$OUT/ind2.weights" -csv "$OUT/ind.csv" > "$OUT/ind.txt"
"$D" eval $DATA $CFG "$OUT/single2b.weights" > "$OUT/single2b_eval.txt"
# columns of ensemble -csv: index,file,nll,acc,ens_nll,ens_acc (see darknet ensemble -h)
ind_single1=$(awk -F, 'NR==2 {printf "%.2f", $4}' "$OUT/ind.csv"); ind_nll1=$(awk -F, 'NR==2 {printf "%.4f", $3}' "$OUT/ind.csv")
ind_single2=$(awk -F, 'NR>1 {s+=$4; n++} END {printf "%.2f", s/n}' "$OUT/ind.csv")
ind_ens2=$(awk -F, 'NR==3 {printf "%.2f", $6}' "$OUT/ind.csv"); ind_ensnll2=$(awk -F, 'NR==3 {printf "%.4f", $5}' "$OUT/ind.csv")
ind_snll2=$(awk -F, 'NR>1 {s+=$3; n++} END {printf "%.4f", s/n}' "$OUT/ind.csv")
single2b_acc=$(awk '$1=="test" {print $3}' "$OUT/single2b_eval.txt"); single2b_nll=$(awk '$1=="test" {print $2}' "$OUT/single2b_eval.txt")
# snapshot rows of the training CSVs: epoch,iteration,lr,tr_loss,tr_acc,te_nll,te_acc,snapshot,ens_nll,ens_acc,dist,seconds
snaps() {  # csv, max epoch of the budget -> "n best_single mean_single mean_nll ens_nll ens_acc"
    awk -F, -v E="$2" 'NR>1 && $8>0 && $1<=E+1e-9 { n++; a+=$7; l+=$6; if ($7>b) b=$7; en=$9; ea=$10 }
        END { if (!n) { print "0 - - - - -"; exit } printf "%d %.2f %.2f %.4f %.4f %.2f", n, b, a/n, l/n, en, ea }' "$1"
}
read sse1_n sse1_best sse1_mean sse1_mnll sse1_enll sse1_eacc <<< "$(snaps "$OUT/sse.csv" "$B")"
read sse2_n sse2_best sse2_mean sse2_mnll sse2_enll sse2_eacc <<< "$(snaps "$OUT/sse.csv" $((2 * B)))"
nfge=$(echo $FGE_RUNS | wc -w)
fge_rows() {  # budget (1 or 2): one table row per FGE variant
    local r c l1 l2 n E=$F1 label
    [ "$1" = 2 ] && E=$F2
    for r in $FGE_RUNS; do
        IFS=: read -r c l1 l2 <<< "$r"
        n=$(fge_name "$c" "$l1")
        label="FGE"; [ "$nfge" -gt 1 ] && label="FGE (cycle $c, lr $l1 -> $l2)"
        read fn fb fm fl fen fea <<< "$(snaps "$OUT/$n.csv" "$E")"
        echo "| $label | ${1}B | $fn | $fm / $fb | $fl | $fea | $fen |"
    done
}
fge_points() {  # method,budget,acc,nll per FGE variant
    local r c l1 l2 n label b E
    for r in $FGE_RUNS; do
        IFS=: read -r c l1 l2 <<< "$r"
        n=$(fge_name "$c" "$l1")
        label="FGE"; [ "$nfge" -gt 1 ] && label="FGE c$c lr $l1"
        for b in 1 2; do
            E=$F1; [ $b = 2 ] && E=$F2
            read fn fb fm fl fen fea <<< "$(snaps "$OUT/$n.csv" "$E")"
            echo "$label,$b,$fea,$fen"
        done
    done
}
{
echo "| method | budget | members | single acc (mean / best) | single NLL (mean) | ensemble acc | ensemble NLL |"
echo "|---|---|---:|---:|---:|---:|---:|"
echo "| Ind | 1B | 1 | $ind_single1 | $ind_nll1 | $ind_single1 | $ind_nll1 |"
echo "| SSE | 1B | $sse1_n | $sse1_mean / $sse1_best | $sse1_mnll | $sse1_eacc | $sse1_enll |"
fge_rows 1
echo "| single network, 2B epochs | 2B | 1 | $single2b_acc | $single2b_nll | $single2b_acc | $single2b_nll |"
echo "| Ind | 2B | 2 | $ind_single2 | $ind_snll2 | $ind_ens2 | $ind_ensnll2 |"
echo "| SSE | 2B | $sse2_n | $sse2_mean / $sse2_best | $sse2_mnll | $sse2_eacc | $sse2_enll |"
fge_rows 2
} | tee "$OUT/table.md"
# the figures: test accuracy and NLL of the ensembles (and the single network) against the budget
{
echo "method,budget,acc,nll"
echo "Ind,1,$ind_single1,$ind_nll1"; echo "Ind,2,$ind_ens2,$ind_ensnll2"
echo "SSE,1,$sse1_eacc,$sse1_enll"; echo "SSE,2,$sse2_eacc,$sse2_enll"
fge_points
echo "single network,1,$ind_single1,$ind_nll1"; echo "single network,2,$single2b_acc,$single2b_nll"
} > "$OUT/budget.csv"
if [ $DRAWS = 0 ]; then
    say "this darknet draws no pictures (PLOT=0): $OUT/budget.csv holds the figures' data"
    say "done in $(( $(date +%s) - start )) s; $OUT/table.md"
    exit 0
fi
"$D" plot "$OUT/budget.csv" -x budget -y acc -group method -xlabel "training budget (x B = $B epochs)" \
    -ylabel "test accuracy (%)" -title "Fashion-MNIST, ensembles at equal budget" -png "$OUT/budget.png"
"$D" plot "$OUT/budget.csv" -x budget -y nll -group method -xlabel "training budget (x B = $B epochs)" \
    -ylabel "test NLL" -title "Fashion-MNIST, ensembles at equal budget" -png "$OUT/budget_nll.png"
say "done in $(( $(date +%s) - start )) s; $OUT/table.md, $OUT/budget.png, $OUT/budget_nll.png, $OUT/fge_c*.png"
