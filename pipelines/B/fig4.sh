#!/usr/bin/env bash
# Paper B Figure 4: maximum-damage attacks (paper B Eq. 5) propagated to the encoder mean only,
# the encoder standard deviation only, or both (vae-attack max-damage --through mu|sigma|both),
# on 25 test images of a VAE per dataset (MNIST, Fashion-MNIST; the paper's CIFAR-10 is not
# available here), L2 norm capped at 10. The damage of each attacked image is
# E_η ‖g(z) − g(μ(x))‖₂ over fresh draws η (the same draws for every mode), with
#   none:  z = μ(x) + η∘σ(x)            (the encoder's own noise, for scale)
#   mu:    z = μ(x + δ) + η∘σ(x)
#   sigma: z = μ(x) + η∘σ(x + δ)
#   both:  z = μ(x + δ) + η∘σ(x + δ)
# where δ is the attack found for that mode (vae-eval damage, which draws the same η for every
# mode: the draws depend only on its --seed and --samples).
#
#   pipelines/B/fig4.sh OUTDIR        (make -C pipelines/B fig4; FULL=1, CHECK=1 as in lib.sh)
#
# Environment (quick defaults, FULL=1 values in brackets): DATASETS="mnist fashion-mnist"
#   SEEDS="0" VAEs per dataset [0 1 2 3 4]
#   EPOCHS=1 (54,000 training images; test ELBO on 1,000) [50]
#   N=25 test images, stratified (the paper's 25)  RADIUS=10 (L2, the paper's cap)
#   STEPS=50 PGD steps of RADIUS/10 [100]  RESTARTS=3 [10], the best kept  SAMPLES=4 draws of η per
#   attack step [8]  EVAL=64 fresh draws for the damage [256]  ARCH=conv-small (lib-B.sh)
# Writes OUTDIR/fig4.tsv (per dataset, seed and mode), fig4-damage.tsv (per image), fig4.png,
# grid-DATA.png (clean images, the three attacks and their reconstructions) and the JSON lines.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-B.sh"
OUT=$(out_dir "$@")
if [ "$CHECK" = 1 ]; then DATASETS=${DATASETS:-$(check_data fashion-mnist)}; else DATASETS=${DATASETS:-"mnist fashion-mnist"}; fi
SEEDS=${SEEDS:-$(pick "0" "0 1 2 3 4" "0")}
N=${N:-$(pick 25 25 4)}
RADIUS=${RADIUS:-10}
STEPS=${STEPS:-$(pick 50 100 5)}
RESTARTS=${RESTARTS:-$(pick 3 10 1)}
SAMPLES=${SAMPLES:-$(pick 4 8 1)}
EVAL=${EVAL:-$(pick 64 256 8)}
MODES="mu sigma both"
mkdir -p "$OUT"
start=$(date +%s)
printf 'data\tseed\tmode\tn\tdamage_median\tdamage_mean\tdamage_sd\tattack_objective_mean\tdelta_norm_mean\n' > "$OUT/fig4.tsv"
printf 'data\tseed\tmode\tindex\tdamage\n' > "$OUT/fig4-damage.tsv"
for data in $DATASETS; do
    "$BIN/vae-eval" export --input "$data:test@$N" -o "$OUT/ref-$data.npy" 2> /dev/null
    for seed in $SEEDS; do
        t0=$(date +%s)
        tag="$data-s$seed"
        say "$data, seed $seed: training ($ARCH, $EPOCHS epoch(s))…"
        SEED=$seed train_b "$OUT" "vae-$tag" "$data" "$EPOCHS" "$LIMITS"
        M="$OUT/vae-$tag.safetensors"
        check_encoder "$M" "$OUT/ref-$data.npy" "$data, seed $seed"
        # damage ROW-LABEL [--perturbed ADV --through MODE]: per-image rows of fig4-damage.tsv
        damage() {
            local mode=$1; shift
            "$BIN/vae-eval" damage --model "$M" --input "$OUT/ref-$data.npy" --samples "$EVAL" --seed $((seed + 100)) "$@" > "$OUT/damage-$tag-$mode.jsonl"
            python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "index" in r: print("%s\t%s\t%s\t%d\t%.5f" % (sys.argv[2], sys.argv[3], sys.argv[4], r["index"], r["damage"]))' \
                "$OUT/damage-$tag-$mode.jsonl" "$data" "$seed" "$mode" >> "$OUT/fig4-damage.tsv"
        }
        damage none
        "$BIN/vae-eval" recon --model "$M" --input "$OUT/ref-$data.npy" -o "$OUT/rec-$tag-none.npy" 2> /dev/null
        for mode in $MODES; do
            say "$data, seed $seed: max-damage through $mode (L2 ≤ $RADIUS, $STEPS steps, $RESTARTS restarts, $SAMPLES samples)…"
            "$BIN/vae-attack" max-damage --model "$M" --input "$OUT/ref-$data.npy" --through "$mode" --samples "$SAMPLES" \
                --norm l2 --radius "$RADIUS" --steps "$STEPS" --restarts "$RESTARTS" --keep best --seed "$seed" \
                -o "$OUT/adv-$tag-$mode.npy" > "$OUT/attack-$tag-$mode.jsonl" 2> /dev/null
            "$BIN/vae-eval" recon --model "$M" --input "$OUT/adv-$tag-$mode.npy" -o "$OUT/rec-$tag-$mode.npy" 2> /dev/null
            damage "$mode" --perturbed "$OUT/adv-$tag-$mode.npy" --through "$mode"
        done
        $STATS summary4 "$OUT/fig4-damage.tsv" "$data" "$seed" "$OUT/attack-$tag-%s.jsonl" >> "$OUT/fig4.tsv"
        "$BIN/vae-eval" grid "$OUT/ref-$data.npy[0:12]" "$OUT/rec-$tag-none.npy[0:12]" \
            "$OUT/adv-$tag-mu.npy[0:12]" "$OUT/rec-$tag-mu.npy[0:12]" "$OUT/adv-$tag-sigma.npy[0:12]" "$OUT/rec-$tag-sigma.npy[0:12]" \
            "$OUT/adv-$tag-both.npy[0:12]" "$OUT/rec-$tag-both.npy[0:12]" --columns 12 \
            --label clean --label recon --label "attack mu" --label recon --label "attack sigma" --label recon --label "attack both" --label recon \
            -o "$OUT/grid-$tag.png" 2> /dev/null
        say "$data, seed $seed: $(( $(date +%s) - t0 )) s"
    done
done
if need_gnuplot; then
    nd=$(echo $DATASETS | wc -w)
    gnuplot <<GP
set terminal pngcairo size $((520 * nd + 80)),480 font ",10"
set output "$OUT/fig4.png"
set datafile separator "\t"
modes = "none mu sigma both"
names = "\"none (encoder noise)\" \"μ(x)\" \"σ(x)\" \"μ(x), σ(x)\""
set multiplot layout 1,$nd title "Paper B Figure 4 with $ARCH ($EPOCHS epoch(s), seeds $SEEDS)\nmaximum-damage attacks, ‖δ‖_2 ≤ $RADIUS, $N test images"
set style fill solid 0.4 border -1
set style data boxplot
set boxwidth 0.5
set xrange [0.4:4.6]
set xtics ("none" 1, "μ(x)" 2, "σ(x)" 3, "μ(x), σ(x)" 4)
set xlabel "attack propagated through"
set ylabel "damage ‖g(z) − g(μ(x))‖_2"
set yrange [0:*]
do for [d in "$DATASETS"] {
    set title d
    plot for [i=1:4] "$OUT/fig4-damage.tsv" using (i):(strcol(1) eq d && strcol(3) eq word(modes, i) ? \$5 : 1/0) lc i notitle
}
unset multiplot
GP
    say "wrote $OUT/fig4.png"
fi
column -t -s $'\t' "$OUT/fig4.tsv"
say "$(( $(date +%s) - start )) s"
