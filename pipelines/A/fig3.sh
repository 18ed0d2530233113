#!/usr/bin/env bash
# Paper A Figure 3: empirical r-robustness margins (Algorithm 2, by maximum-damage attacks)
# against the encoder standard deviation's norm ‖σ‖₂, a fixed hyperparameter as in Theorem 2,
# for Lipschitz-VAEs with constants 5, 7, 10 and 12 on MNIST; error bars are the standard
# deviation over the test points. The paper's finding: σ has little influence on the margin,
# the Lipschitz constant a large one.
#
#   pipelines/A/fig3.sh OUTDIR          (make -C pipelines/A fig3 writes results/A/fig3/)
#
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   EPOCHS       1 / 50 / 1           TRAIN_LIMIT 20000 / all / 2000 training images
#   CONV_TOL     "" / 1 / ""          vae-train --convergence-tol: FULL trains to convergence, at most EPOCHS
#   N            10 / 25 / 2          test images (stratified over the classes; paper: 25)
#   SEARCH       bisect / linear / bisect     ATTACK_STEPS 20 / 50 / 3   RESTARTS 5 / 5 / 1
#   SAMPLES      40 / 40 / 8          START 10  STEP 0.5  R 8
#   CONSTANTS    "5 7 10 12" (CHECK: "5")
#   SIGMA_NORMS  "0.06 0.13 0.19 0.25" (CHECK: "0.06 0.25"): the paper's ‖σ‖₂, as a fixed σ of
#                ‖σ‖₂/√10 per dimension (the authors' code: 0.02, 0.04, 0.06, 0.08 per dimension)
#   DATA mnist; CHECK=1 uses Fashion-MNIST (the one dataset CI has)
# Models are 10-D fixed-σ Lipschitz-VAEs trained as fig4.sh trains them (models.sh), reused from
# results/A/fig4 where its SIGMA_NORMS sweep (FULL=1) trained them the same way. Writes OUTDIR/fig3.tsv (M, ‖σ‖₂, mean and
# standard deviation of the empirical margin, Theorem 2's certified margin beside it), fig3.png
# (one panel per constant, as the paper's) and the tools' JSON lines.
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist)
. "$(dirname "$0")/sizes.sh"
SIGMA_NORMS=${SIGMA_NORMS:-$(pick "0.06 0.13 0.19 0.25" "0.06 0.13 0.19 0.25" "0.06 0.25")}
mkdir -p "$OUT"
start=$(date +%s)
. "$(dirname "$0")/models.sh"

printf 'M\tsigma_norm\tempirical_mean\tempirical_sd\ttheorem2\n' > "$OUT/fig3.tsv"
for m in $CONSTANTS; do
    for s in $SIGMA_NORMS; do
        name="$DATA-lip$m-sn$s"
        SIGMA=$(python3 -c "import math, sys; print('%.7g' % (float(sys.argv[1]) / math.sqrt(10)))" "$s")
        SIGMA=$SIGMA train_model "$OUT/$name.safetensors" "$m" 1e-4 "$ROOT/results/A/fig4/$name.safetensors"
        "$BIN/vae-certify" lipschitz --model "$OUT/$name.safetensors" --r "$R" > "$OUT/$name-theorem2.jsonl"
        say "empirical margins of $name ($N images, $SEARCH search)…"
        "$BIN/vae-certify" margin --model "$OUT/$name.safetensors" --input "$DATA:test@$N" --r "$R" --start "$START" \
            --step "$STEP" --restarts "$RESTARTS" --samples "$SAMPLES" --attack-steps "$ATTACK_STEPS" --search "$SEARCH" \
            --seed 0 > "$OUT/$name-margin.jsonl"
        python3 - "$m" "$s" "$OUT/$name-margin.jsonl" "$OUT/$name-theorem2.jsonl" >> "$OUT/fig3.tsv" <<'PY'
import json, statistics, sys
m, s, mar, th = sys.argv[1:]
e = [json.loads(l)["margin"] for l in open(mar) if '"index"' in l]
t2 = json.loads(open(th).read())["margin"]
print("%s\t%s\t%.4f\t%.4f\t%.4f" % (m, s, statistics.mean(e), statistics.stdev(e) if len(e) > 1 else float("nan"), t2))
PY
    done
done

if need_gnuplot; then
    np=$(echo $CONSTANTS | wc -w)
    {
        echo "set terminal pngcairo size $((330 * np + 80)),460 font ',10'"
        echo "set output '$OUT/fig3.png'"
        echo "set multiplot layout 1,$np title 'Paper A Figure 3: empirical r-robustness margin (Algorithm 2, r = $R) against the encoder σ norm, $DATA'"
        echo "set datafile separator '\t'"
        echo "set xlabel '||σ||_2 (fixed)'"
        echo "set ylabel 'margin ||δ||_2'"
        echo "set key below"
        echo "set yrange [0:*]"
        echo "set offsets graph 0.08, graph 0.08, graph 0.1, 0"
        for m in $CONSTANTS; do
            echo "set title 'Lipschitz constant $m'"
            echo "plot '$OUT/fig3.tsv' using 2:(\$1 == $m ? \$3 : 1/0):4 with yerrorlines lw 2 pt 7 title 'empirical (± sd over points)', \\"
            echo "     '' using 2:(\$1 == $m ? \$5 : 1/0) with linespoints lw 1 dt 2 pt 6 title 'certified (Theorem 2)'"
        done
        echo "unset multiplot"
    } | gnuplot
    say "wrote $OUT/fig3.png"
fi
column -t -s $'\t' "$OUT/fig3.tsv"
say "$(( $(date +%s) - start )) s"
