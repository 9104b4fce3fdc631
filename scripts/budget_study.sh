#!/usr/bin/env bash
# The budget study of the paper's slide 9 (Table 2's comparison) on Fashion-MNIST with
# cfg/fashion-cnn.cfg: independent networks (Ind), Snapshot Ensembles (SSE, policy=sgdr) and
# Fast Geometric Ensembling (FGE) at equal training budgets, over several seeds, the FGE
# variant chosen on a validation split held out of the training set.
# B = the epochs of one normal training run (the reference schedule); budgets 1B and 2B.
#   data  the first 50,000 training images are trained on; the last HOLDOUT (10,000) are the
#         validation split (a .data with holdout=, valid=holdout): every training reports on it,
#         never on the test set; the test set (all 10,000) is read only by the final tables
#   Ind   B epochs per network: seed s uses networks 2s-1 and 2s; 1B = the first alone,
#         2B = the ensemble of the two
#   SSE   one run of 2B epochs, cosine cycles of B/2 epochs from lr 0.05 to 0 with restarts
#         (sgdr_mult 1), a snapshot at each cycle end: 1B = its first 2 snapshots, 2B = all 4
#   FGE   as the paper budgets it: the first 80 % of a normal B-epoch run (a checkpoint at 0.8B,
#         -stop_after; the same network as Ind's first up to there), then FGE cycles (a snapshot
#         at each lr minimum) for 0.2B (1B) or 1.2B epochs (2B). The variants of FGE_RUNS
#         (CYCLE:LR1:LR2) are all run on the first seed; the one whose 2B ensemble has the best
#         validation accuracy (then NLL) is run on the other seeds and reported on the test set
#         (selection.md holds the validation numbers of every variant). A cycle must be an even
#         number of iterations: 0.6 epochs of 390 iterations is 234
# BN statistics: every member is evaluated with its stored statistics, Darknet's running
# averages from training (as the reference's fge.py); issue 19's rule applies: while more than
# 5 % of them are still their initial value, exact ones are swapped in (no member of this
# study is that young: FGE starts from 0.8B epochs).
# Diversity (the paper's explanation of FGE): `darknet ensemble -pairs` gives, for every pair
# of members, the % of test images on which their predictions differ and ||w_a - w_b||.
# Outputs in $OUT: per-seed tables (seed*/), results.tsv (a row per seed, method, budget),
# summary.csv and table.md (mean ± SE over seeds), pairs.md, selection.md, budget.png.
# Trained files are reused when the script runs again.
# Environment: B (10), SEEDS ("1 2 3"), HOLDOUT (10000), FGE_RUNS, OUT, D (the darknet
# binary), DATA (the .data with the test split), FGE_EVAL_EVERY (validation points of the
# first seed's FGE figures, every N iterations; 0: none); LIMIT / TEST_LIMIT (the first N
# training / test images, 0 = all: a quick check of the script, e.g. B=2 LIMIT=2000
# HOLDOUT=1000 TEST_LIMIT=1000 SEEDS="1 2" FGE_RUNS="1:0.02:0.0005 0.5:0.02:0.0005").
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-results/budget}
B=${B:-10}
SEEDS=${SEEDS:-1 2 3}
HOLDOUT=${HOLDOUT:-10000}
D=${D:-./darknet}
FGE_RUNS=${FGE_RUNS:-2:0.05:0.0005 1:0.02:0.0005 0.6:0.02:0.0005}
FGE_EVAL_EVERY=${FGE_EVAL_EVERY:-98}
DATA=${DATA:-cfg/fashion.data}
LIMIT=${LIMIT:-0}; TEST_LIMIT=${TEST_LIMIT:-0}
L=""; [ "$LIMIT" -gt 0 ] && L="-limit $LIMIT"
TL=""; [ "$TEST_LIMIT" -gt 0 ] && TL="-test_limit $TEST_LIMIT"
CFG=cfg/fashion-cnn.cfg
mkdir -p "$OUT"
start=$(date +%s)
say() { echo "budget: $*" >&2; }
# the validation .data: the test files dropped, the last HOLDOUT training images held out
VAL=$OUT/val.data
grep -v -E '^[[:space:]]*(valid|valid_labels|holdout)[[:space:]]*=' "$DATA" > "$VAL.tmp"
printf 'holdout=%s\nvalid=holdout\n' "$HOLDOUT" >> "$VAL.tmp"
mv "$VAL.tmp" "$VAL"
P=$((B * 8 / 10)); F1=$((B - P)); F2=$((2 * B - P))
first=${SEEDS%% *}
say "B = $B epochs, seeds $SEEDS, validation: the last $HOLDOUT training images; outputs in $OUT"
train() {  # out, args...: a network unless it is there
    local out=$1; shift
    [ -s "$out" ] && { say "reusing $out"; return 0; }
    "$D" "$@" $L -out "$out" > "${out%.weights}.txt"
}
fge_name() { echo "fge_c$1_$2"; }
fge_run() {  # seed, variant -> $OUT/seed$s/<name>.csv and snapshots
    local s=$1 c l1 l2 n S=$OUT/seed$1 pics=""
    IFS=: read -r c l1 l2 <<< "$2"
    n=$(fge_name "$c" "$l1")
    [ -s "$S/$n.csv" ] && { say "reusing $S/$n.csv"; return 0; }
    say "seed $s: FGE $n, $F2 epochs of cycles of $c epoch(s), lr $l1 -> $l2"
    if [ "$s" = "$first" ] && [ "$FGE_EVAL_EVERY" -gt 0 ]; then pics="-png $S/$n.png -eval_every $FGE_EVAL_EVERY"; fi
    # shellcheck disable=SC2086
    "$D" fge "$VAL" $CFG "$S/fge_start.weights" -epochs "$F2" -cycle "$c" -lr1 "$l1" -lr2 "$l2" -seed "$s" $L \
        -out "$S/$n.weights" -csv "$S/$n.csv" $pics > "$S/$n.txt"
}
# training CSV columns: epoch,iteration,lr,tr_loss,tr_acc,te_nll,te_acc,snapshot,ens_nll,ens_acc,dist,seconds
snaps_upto() { awk -F, -v E="$2" 'NR > 1 && $8 > 0 && $1 <= E + 1e-9 { n++ } END { print n + 0 }' "$1"; }
val_ens() { awk -F, -v E="$2" 'NR > 1 && $8 > 0 && $1 <= E + 1e-9 { a = $10; l = $9 } END { printf "%.2f %.4f", a, l }' "$1"; }

# ---- training: everything on the validation .data ----
sed -e 's/^sgdr_cycle_epochs=.*/sgdr_cycle_epochs='"$(awk "BEGIN{print $B/2}")"'/' -e 's/^sgdr_mult=.*/sgdr_mult=1/' \
    -e 's/^learning_rate_min=.*/learning_rate_min=0/' cfg/fashion-cnn-sgdr.cfg > "$OUT/sse.cfg"
for s in $SEEDS; do
    S=$OUT/seed$s; mkdir -p "$S"
    for k in $((2 * s - 1)) $((2 * s)); do
        say "seed $s: Ind network $k ($B epochs)"
        train "$S/ind$k.weights" train "$VAL" $CFG -epochs "$B" -schedule reference -seed "$k"
    done
    say "seed $s: SSE, $((2 * B)) epochs"
    [ -s "$S/sse.csv" ] || "$D" train "$VAL" "$OUT/sse.cfg" -epochs $((2 * B)) -seed "$s" $L -out "$S/sse.weights" \
        -csv "$S/sse.csv" > "$S/sse.txt"
    say "seed $s: FGE start, epoch $P of a $B-epoch run"
    train "$S/fge_start.weights" train "$VAL" $CFG -epochs "$B" -stop_after "$P" -schedule reference -seed $((2 * s - 1))
    if [ "$s" = "$first" ]; then for r in $FGE_RUNS; do fge_run "$s" "$r"; done; fi
done

# ---- the FGE variant, chosen on the validation split of the first seed ----
{
echo "| FGE variant (cycle epochs, lr1 -> lr2) | 1B: snapshots, val acc, val NLL | 2B: snapshots, val acc, val NLL |"
echo "|---|---|---|"
best=""; best_acc=-1; best_nll=1e9
for r in $FGE_RUNS; do
    IFS=: read -r c l1 l2 <<< "$r"
    f=$OUT/seed$first/$(fge_name "$c" "$l1").csv
    read a1 n1 <<< "$(val_ens "$f" "$F1")"; read a2 n2 <<< "$(val_ens "$f" "$F2")"
    echo "| $c, $l1 -> $l2 | $(snaps_upto "$f" "$F1"), $a1 %, $n1 | $(snaps_upto "$f" "$F2"), $a2 %, $n2 |"
    if awk -v a="$a2" -v l="$n2" -v ba="$best_acc" -v bl="$best_nll" 'BEGIN { exit !(a > ba || (a == ba && l < bl)) }'; then
        best=$r; best_acc=$a2; best_nll=$n2
    fi
done
echo
echo "Chosen (best 2B validation accuracy, then NLL): cycle ${best%%:*} epochs, lr $(echo "$best" | cut -d: -f2) -> $(echo "$best" | cut -d: -f3)."
} > "$OUT/selection.md"
cat "$OUT/selection.md" >&2
for s in $SEEDS; do fge_run "$s" "$best"; done
IFS=: read -r C L1 L2 <<< "$best"
FGE=$(fge_name "$C" "$L1")

# ---- the test set: every ensemble, its members in training order ----
say "evaluating on the test set"
ens() {  # name, members... -> $S/test_<name>.csv and test_<name>_pairs.csv
    local name=$1; shift
    "$D" ensemble "$DATA" "$@" $TL -csv "$S/test_$name.csv" -pairs "$S/test_${name}_pairs.csv" > "$S/test_$name.txt"
}
row() { awk -F, -v k="$2" 'NR == k + 1 { printf "%s\t%s", $6, $5 }' "$1"; }   # ensemble of the first k: acc, nll
R=$OUT/results.tsv; Q=$OUT/pairs.tsv
: > "$R"; : > "$Q"
for s in $SEEDS; do
    S=$OUT/seed$s
    ens ind $CFG "$S/ind$((2 * s - 1)).weights" "$S/ind$((2 * s)).weights"
    ens sse "$OUT/sse.cfg" "$S"/sse_snap*.weights
    ens fge $CFG "$S/${FGE}"_snap*.weights
    k1=$(snaps_upto "$S/$FGE.csv" "$F1"); k2=$(snaps_upto "$S/$FGE.csv" "$F2")
    n_sse1=$(snaps_upto "$S/sse.csv" "$B"); n_sse2=$(snaps_upto "$S/sse.csv" $((2 * B)))
    printf '%s\tInd\t1\t%s\t1\n%s\tInd\t2\t%s\t2\n' "$s" "$(row "$S/test_ind.csv" 1)" "$s" "$(row "$S/test_ind.csv" 2)" >> "$R"
    printf '%s\tSSE\t1\t%s\t%s\n%s\tSSE\t2\t%s\t%s\n' "$s" "$(row "$S/test_sse.csv" "$n_sse1")" "$n_sse1" "$s" "$(row "$S/test_sse.csv" "$n_sse2")" "$n_sse2" >> "$R"
    printf '%s\tFGE\t1\t%s\t%s\n%s\tFGE\t2\t%s\t%s\n' "$s" "$(row "$S/test_fge.csv" "$k1")" "$k1" "$s" "$(row "$S/test_fge.csv" "$k2")" "$k2" >> "$R"
    # diversity: mean over all pairs and over consecutive ones; each member's own accuracy
    for m in ind sse fge; do
        awk -F, -v s="$s" -v m="$m" 'FNR == 1 { next } FILENAME ~ /_pairs/ { n++; d += $5; w += $6; if ($2 == $1 + 1) { nc++; dc += $5; wc += $6 } next }
            { na++; acc += $4 }
            END { printf "%s\t%s\t%d\t%.2f\t%.2f\t%.4g\t%.2f\t%.4g\n", s, m, na, acc / na, d / n, w / n, dc / nc, wc / nc }' \
            "$S/test_$m.csv" "$S/test_${m}_pairs.csv" >> "$Q"
    done
done
# mean and standard error over seeds, per method and budget
awk -F'\t' '{ k = $2 "\t" $3; n[k]++; a[k] += $4; a2[k] += $4 * $4; b[k] += $5; b2[k] += $5 * $5; m[k] = $6 }
    END { print "method,budget,acc,acc_se,nll,nll_se,members,seeds"
          for (k in n) { split(k, f, "\t"); x = a[k] / n[k]; y = b[k] / n[k]
              sa = n[k] > 1 ? sqrt((a2[k] - n[k] * x * x) / (n[k] - 1) / n[k]) : 0
              sb = n[k] > 1 ? sqrt((b2[k] - n[k] * y * y) / (n[k] - 1) / n[k]) : 0
              printf "%s,%s,%.2f,%.2f,%.4f,%.4f,%s,%d\n", f[1], f[2], x, sa, y, sb, m[k], n[k] } }' "$R" |
    { IFS= read -r h; echo "$h"; sort -t, -k2,2n -k1,1; } > "$OUT/summary.csv"
{
    echo "| budget | method | members | test accuracy (%) | test NLL | seeds |"
    echo "|---|---|---:|---|---|---:|"
    awk -F, 'NR > 1 { printf "| %sB | %s | %s | %.2f ± %.2f | %.4f ± %.4f | %d |\n", $2, $1, $7, $3, $4, $5, $6, $8 }' "$OUT/summary.csv"
} > "$OUT/table.md"
{
    echo "| seed | members of | n | member acc (mean, %) | disagreement, all pairs (%) | distance, all pairs | disagreement, consecutive (%) | distance, consecutive |"
    echo "|---:|---|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, ($2 == "ind" ? "Ind (2B)" : $2 == "sse" ? "SSE (2B)" : "FGE (2B)"), $3, $4, $5, $6, $7, $8 }' "$Q"
} > "$OUT/pairs.md"
if "$D" plot "$OUT/summary.csv" -x budget -y acc,nll -err acc_se,nll_se -group method -panels \
    -xlabel "training budget (x B = $B epochs)" -ylabel "test accuracy (%),test NLL" \
    -title "Fashion-MNIST fashion-cnn: mean ± SE over $(echo $SEEDS | wc -w) seeds,Fashion-MNIST fashion-cnn: mean ± SE over $(echo $SEEDS | wc -w) seeds" \
    -png "$OUT/budget.png" > /dev/null 2>&1; then :; else say "no picture (a PLOT=0 build?)"; fi
cat "$OUT/table.md" "$OUT/pairs.md"
say "done in $(( $(date +%s) - start )) s (B = $B, seeds $SEEDS, FGE cycle $C lr $L1 -> $L2)"
