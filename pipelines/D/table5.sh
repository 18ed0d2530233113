#!/usr/bin/env bash
# Paper D Table 5: inference wall-clock seconds per test point of the conv VAE for HMC budgets
# T = 0 (the encoder's sample alone), 100, 500 and 1000 transitions (L = 20 leapfrog steps,
# vae-hmc's default burn-in of 0.5 T, all points as one batch of chains), by vae-hmc's own
# clock (seconds_per_point). Paper D timed on a GPU; ours run on this machine's CPU cores.
#
#   pipelines/D/table5.sh OUTDIR      (make -C pipelines/D table5 writes results/D/table5/)
#
# Sizes (quick / FULL=1 / CHECK=1): EPOCHS 1 / 300 / 1 (the time does not depend on training),
# N points 20 / 1000 / 2, TS "0 100 500 1000" / same / "0 2".
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist); EPOCHS=${EPOCHS:-$(pick 1 300 1)}; N=${N:-$(pick 20 1000 2)}; TS=${TS:-$(pick "0 100 500 1000" "0 100 500 1000" "0 2")}
mkdir -p "$OUT"
start=$(date +%s)
M="$OUT/vae.safetensors"
train_once "$M" "$OUT/train.json" --data "$DATA" --arch conv --binarize dynamic --epochs "$EPOCHS" $(train_limit) --seed 0
"$BIN/vae-eval" export --input "$DATA:test@$N#bin" -o "$OUT/x.npy"
paper() { case "$1" in 0) echo 0.0001;; 100) echo 0.0099;; 500) echo 0.0505;; 1000) echo 0.1011;; *) echo -;; esac; }
printf 'T\tseconds_per_point\tpaper_mnist_gpu\n' > "$OUT/table5.tsv"
: > "$OUT/hmc.jsonl"
for t in $TS; do
    s=$("$BIN/vae-hmc" --model "$M" --input "$OUT/x.npy" --steps "$t" -o "$OUT/z-$t.npy" --summary-only | tee -a "$OUT/hmc.jsonl")
    printf '%s\t%s\t%s\n' "$t" "$(echo "$s" | field seconds_per_point)" "$(paper "$t")" >> "$OUT/table5.tsv"
done
if need_gnuplot; then
    gnuplot <<GP
set terminal pngcairo size 700,460
set output "$OUT/table5.png"
set title "Paper D Table 5: HMC inference time per point (conv VAE, $DATA, $N points)"
set xlabel "HMC transitions T"
set ylabel "seconds per point"
set logscale y
set key top left
set datafile separator "\t"
plot "$OUT/table5.tsv" using 1:2 with linespoints lw 2 pt 7 title "RobustVAE, this CPU (2 cores)", \
     "" using 1:3 with linespoints lw 2 pt 5 title "paper D (GPU)"
GP
    say "wrote $OUT/table5.png"
fi
column -t -s $'\t' "$OUT/table5.tsv"
say "$(( $(date +%s) - start )) s"
