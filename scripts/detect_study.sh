#!/usr/bin/env bash
# The detection budget study (issue 21): on the Fashion-MNIST detection set (darknet detset,
# seed 1: 4000 training and 500 valid images) with cfg/fashion-det.cfg, a single network, FGE
# snapshots, Snapshot Ensembles (SSE) and independently trained networks (Ind) at equal
# training budgets. B = the iterations of one normal training run (Darknet's steps policy,
# steps at 0.7B and 0.9B, burn_in 100); budgets 1B and 2B; seeds SEEDS.
#   Single  one network: 1B = the normal run; 2B = one run of 2B iterations (steps scaled)
#   Ind     1B = the normal run (= Single 1B); 2B = the WBF ensemble of two normal runs
#           (seeds s and s + 100)
#   FGE     the first 80 % of the normal run (its weights at 0.8B, -stop_after), then
#           policy=fge_cyclic from them (-clear) for 0.2B (1B) or 1.2B iterations (2B); the 2B
#           run's first 0.2B is the 1B run; cycles of FGE_CYCLE iterations (default 0.1B),
#           learning_rate FGE_LR1 to learning_rate_min FGE_LR2, chosen before the study (not
#           tuned on the valid set); the normal run itself goes on from 0.8B to B (Single 1B)
#   SSE     policy=sgdr from scratch for 2B iterations, cosine cycles of B/2 (sgdr_mult 1)
#           from 0.002 to 0.00001, burn_in 100; 1B = its first 2 snapshots, 2B = all 4
# Ensembles merge their members' boxes by Weighted Boxes Fusion (iou 0.55); every number is
# on the 500 valid images (mAP@0.5 VOC all-point, COCO mAP@[.5:.95]); members keep Darknet's
# running BN statistics (every member here has seen >= 0.5B batches).
# Outputs in $OUT: per run its table and weights, results.tsv (seed, method, budget, mAP50,
# mAP50:95), summary.csv and table.md (mean +- standard error over seeds), study.png.
# Trained files are reused when the script runs again; PHASE=train stops after the trainings.
#   B (500) SEEDS (1 2 3) OUT (results/detect_study) D (./darknet) FGE_CYCLE FGE_LR1 (0.001)
#   FGE_LR2 (0.00005)
set -eu
cd "$(dirname "$0")/.."
B=${B:-500}
SEEDS=${SEEDS:-1 2 3}
OUT=${OUT:-results/detect_study}
D=${D:-./darknet}
C=${FGE_CYCLE:-$(( (B / 10 + 1) / 2 * 2 ))}
LR1=${FGE_LR1:-0.001}
LR2=${FGE_LR2:-0.00005}
say() { echo "detect_study: $*" >&2; }
mkdir -p "$OUT"
start=$(date +%s)
SET=$OUT/set
[ -s "$SET/fashion-det.data" ] || "$D" detset "$SET" -seed 1 > /dev/null
base=cfg/fashion-det.cfg
p() { awk -v b="$B" -v f="$1" 'BEGIN { printf "%d", b * f }'; }   # a fraction of B, in iterations
# the cfgs: the normal run, the 2B run, FGE and SSE (all from cfg/fashion-det.cfg)
sed -e "s/^max_batches=.*/max_batches=$B/" -e "s/^steps=.*/steps=$(p 0.7),$(p 0.9)/" $base > "$OUT/normal.cfg"
sed -e "s/^max_batches=.*/max_batches=$((2 * B))/" -e "s/^steps=.*/steps=$(p 1.4),$(p 1.8)/" $base > "$OUT/long.cfg"
sed -e "s/^policy=steps/policy=fge_cyclic\nlearning_rate_min=$LR2\nfge_cycle=$C/" -e "s/^learning_rate=.*/learning_rate=$LR1/" \
    -e '/^steps=/d' -e '/^scales=/d' -e 's/^burn_in=.*/burn_in=0/' -e "s/^max_batches=.*/max_batches=$(p 1.2)/" $base > "$OUT/fge.cfg"
sed -e "s/^policy=steps/policy=sgdr\nlearning_rate_min=0.00001\nsgdr_cycle=$((B / 2))\nsgdr_mult=1/" \
    -e '/^steps=/d' -e '/^scales=/d' -e "s/^max_batches=.*/max_batches=$((2 * B))/" $base > "$OUT/sse.cfg"
data_for() {   # a .data whose backup= is the run's own folder
    mkdir -p "$1"
    sed "s#^backup=.*#backup=$1#" "$SET/fashion-det.data" > "$1/run.data"
    echo "$1/run.data"
}
run() {   # folder, darknet args... (the table on stdout into folder/table.txt)
    local dir=$1; shift
    [ -e "$dir/done" ] && { say "reusing $dir"; return 0; }
    say "$(basename "$dir") of seed $s: $D $*"
    "$D" "$@" > "$dir/table.txt" 2> "$dir/log.txt"
    touch "$dir/done"
}
map_of() {   # cfg weights -> "mAP50 mAP50:95" (percent)
    "$D" detector map "$SET/fashion-det.data" "$1" "$2" 2>/dev/null | awk '/^mAP@/ { print $3, $7 }'
}
ens_of() {   # cfg weights... -> the WBF ensemble's "mAP50 mAP50:95"
    local cfg=$1; shift
    "$D" ensemble "$SET/fashion-det.data" "$cfg" "$@" -csv "$OUT/.ens.csv" > /dev/null 2>&1
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i } END { print $h["ens_map50"], $h["ens_map5095"] }' "$OUT/.ens.csv"
}
snap_row() {   # table.txt k -> the k-th snapshot row's ensemble "mAP50 mAP50:95"
    awk -v k="$2" '$1 == k && $2 ~ /^[0-9]+$/ { print $7, $8 }' "$1"
}
for s in $SEEDS; do   # the trainings (PHASE=train: only these)
    S=$OUT/seed$s
    run "$S/pre" train "$(data_for "$S/pre")" "$OUT/normal.cfg" -seed "$s" -stop_after "$(p 0.8)"
    run "$S/normal" train "$(data_for "$S/normal")" "$OUT/normal.cfg" "$S/pre/normal_final.weights"
    run "$S/fge" detector train "$(data_for "$S/fge")" "$OUT/fge.cfg" "$S/pre/normal_final.weights" -clear
    run "$S/sse" detector train "$(data_for "$S/sse")" "$OUT/sse.cfg" -seed "$s"
    run "$S/ind2" train "$(data_for "$S/ind2")" "$OUT/normal.cfg" -seed $((s + 100))
    run "$S/long" train "$(data_for "$S/long")" "$OUT/long.cfg" -seed "$s"
    say "seed $s trained ($(( $(date +%s) - start )) s so far)"
done
[ "${PHASE:-all}" = train ] && exit 0
R=$OUT/results.tsv
: > "$R"
for s in $SEEDS; do   # the numbers, all on the 500 valid images
    S=$OUT/seed$s
    one=$(map_of "$OUT/normal.cfg" "$S/normal/normal_final.weights")
    printf '%s\tSingle\t1\t%s\n%s\tInd\t1\t%s\n' "$s" "$one" "$s" "$one" | tr ' ' '\t' >> "$R"
    printf '%s\tSingle\t2\t%s\n' "$s" "$(map_of "$OUT/long.cfg" "$S/long/long_final.weights")" | tr ' ' '\t' >> "$R"
    printf '%s\tInd\t2\t%s\n' "$s" "$(ens_of "$OUT/normal.cfg" "$S/normal/normal_final.weights" "$S/ind2/normal_final.weights")" | tr ' ' '\t' >> "$R"
    k1=$(( $(p 0.2) / C ))   # FGE snapshots within 0.2B
    printf '%s\tFGE\t1\t%s\n' "$s" "$(snap_row "$S/fge/table.txt" "$k1")" | tr ' ' '\t' >> "$R"
    printf '%s\tFGE\t2\t%s\n' "$s" "$(snap_row "$S/fge/table.txt" "$(awk '$2 ~ /^[0-9]+$/ { k = $1 } END { print k }' "$S/fge/table.txt")")" | tr ' ' '\t' >> "$R"
    printf '%s\tSSE\t1\t%s\n%s\tSSE\t2\t%s\n' "$s" "$(snap_row "$S/sse/table.txt" 2)" "$s" "$(snap_row "$S/sse/table.txt" 4)" | tr ' ' '\t' >> "$R"
done
# mean and standard error over seeds, per method and budget
awk -F'\t' '{ k = $2 "\t" $3; n[k]++; a[k] += $4; a2[k] += $4 * $4; b[k] += $5; b2[k] += $5 * $5 }
    END { print "method,budget,map50,map50_se,map5095,map5095_se,seeds"
          for (k in n) { split(k, f, "\t"); m = a[k] / n[k]; q = b[k] / n[k]
              se = n[k] > 1 ? sqrt((a2[k] - n[k] * m * m) / (n[k] - 1) / n[k]) : 0
              sq = n[k] > 1 ? sqrt((b2[k] - n[k] * q * q) / (n[k] - 1) / n[k]) : 0
              printf "%s,%s,%.2f,%.2f,%.2f,%.2f,%d\n", f[1], f[2], m, se, q, sq, n[k] } }' "$R" |
    { IFS= read -r h; echo "$h"; sort -t, -k2,2n -k1,1; } > "$OUT/summary.csv"
{
    echo "| budget | method | mAP@0.5 (%) | mAP@[.5:.95] (%) | seeds |"
    echo "|---|---|---|---|---|"
    awk -F, 'NR > 1 { printf "| %sB | %s | %.2f ± %.2f | %.2f ± %.2f | %d |\n", $2, $1, $3, $4, $5, $6, $7 }' "$OUT/summary.csv"
} > "$OUT/table.md"
"$D" plot "$OUT/summary.csv" -x budget -y map50,map5095 -err map50_se,map5095_se -group method -panels \
    -xlabel "budget (B)" -ylabel "mAP@0.5 (%),mAP@[.5:.95] (%)" \
    -title "detection set: mean ± SE over $(echo $SEEDS | wc -w) seeds,detection set: mean ± SE over $(echo $SEEDS | wc -w) seeds" \
    -png "$OUT/study.png" > /dev/null 2>&1 || say "no picture (a PLOT=0 build?)"
cat "$OUT/table.md"
say "B = $B iterations, seeds $SEEDS, FGE cycle $C lr $LR1 -> $LR2: $(( $(date +%s) - start )) s"
