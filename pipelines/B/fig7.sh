#!/usr/bin/env bash
# Paper B Figure 7 (ablation of Theorem 1 by an encoder-σ offset τ): VAEs trained on MNIST with
# σ(x) + τ, τ ∈ {0, 0.1, 0.5, 1} (vae-train --sigma-offset τ), then for each
#   [left]   p(‖Δ(x, δ)‖₂ ≤ r), r = 4 (paper B Eq. 3), as a function of the L2 size of δ, where δ
#            is a maximum-damage attack through the encoder mean at each size (vae-attack
#            max-damage --through mu; the perturbation of Eq. 3), and the empirical margin
#            R(x): the size at which p first drops to 0.5 (interpolated on the grid of sizes);
#   [centre] log p(x | z*) of the clean image given z* = μ(x*), x* = clip(x + N(0, σ_ε²), 0, 1)
#            (paper B Figure 7 centre), against σ_ε;
#   [right]  log p(x | z*) of the clean image given the attacked mean code z* = μ(x + δ)
#            (paper B Figure 7 right; our attack is the one of [left], see REPRODUCTION.md);
#   [4th]    against τ: the mean empirical margin, Theorem 1's first-order bound
#            min σ · Φ⁻¹(p) / ‖∂μ/∂x‖_F (vae-certify jacobian, at the Wilson lower end of p), and
#            the share of test images that are r-robust unperturbed (Eq. 2).
#
#   pipelines/B/fig7.sh OUTDIR        (make -C pipelines/B fig7; FULL=1, CHECK=1 as in lib.sh)
#
# Environment (quick defaults, FULL=1 values in brackets): DATA=mnist  TAUS="0 0.1 0.5 1"
#   EPOCHS=1 (54,000 training images; test ELBO on 1,000) [50]
#   NCERT=300 test images certified [10000]
#   NATT=50 attacked test images, stratified [1000]  RADII="1 2 2.5 3 3.5 4 5 6" L2 attack sizes
#   [0.5 to 10 in 14 steps]  STEPS=50 PGD steps [100]  R=4 (the paper's r)  NOISE="0.05 0.1 0.2 0.3 0.5" (σ_ε)
#   ARCH=conv-small (lib-B.sh)
# Writes OUTDIR/fig7.tsv (per τ), fig7-grid.tsv (per τ and attack size), fig7-noise.tsv (per τ
# and σ_ε), fig7.png, the tools' JSON lines (train-*.json, certify-*.jsonl, rrob-*.jsonl,
# attack-*.jsonl, ll-*.jsonl: log p(x | z*) per image) and R-*-rR.tsv (the empirical margin of
# each attacked image).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-B.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist)
TAUS=${TAUS:-$(pick "0 0.1 0.5 1" "0 0.1 0.5 1" "0 1")}
NCERT=${NCERT:-$(pick 300 10000 8)}
NATT=${NATT:-$(pick 50 1000 4)}
RADII=${RADII:-$(pick "1 2 2.5 3 3.5 4 5 6" "0.5 1 1.5 2 2.5 3 3.5 4 4.5 5 6 7 8 10" "2 4")}
NOISE=${NOISE:-$(pick "0.05 0.1 0.2 0.3 0.5" "0.05 0.1 0.2 0.3 0.4 0.5 0.7 1" "0.2")}
STEPS=${STEPS:-$(pick 50 100 5)}
R=${R:-4}
mkdir -p "$OUT"
start=$(date +%s)
"$BIN/vae-eval" export --input "$DATA:test@$NATT" -o "$OUT/ref.npy" 2> /dev/null
printf 'tau\ttest_elbo\ttrain_s\trms_sigma\tmin_sigma\tjacobian_frobenius\tn_certified\tshare_r_robust\tbound_median\tbound_mean\tbound_sd\tinfinite_margins\tn_attacked\tR_empirical_mean\tR_empirical_sd\tR_censored\tshare_bound_below_R\tbound_over_R\n' > "$OUT/fig7.tsv"
printf 'tau\tradius\tn\tp_mean\tp_sd\tshare_r_robust\tloglik_mean\tloglik_sd\n' > "$OUT/fig7-grid.tsv"
printf 'tau\tsigma_eps\tloglik_mean\tloglik_sd\n' > "$OUT/fig7-noise.tsv"
for s in $NOISE; do $STATS noisy "$OUT/ref.npy" "$s" 7 "$OUT/noisy-$s.npy"; done
for tau in $TAUS; do
    t0=$(date +%s)
    say "τ = $tau: training ($ARCH, $EPOCHS epoch(s) of $DATA)…"
    train_b "$OUT" "tau$tau" "$DATA" "$EPOCHS" "$LIMITS" --sigma-offset "$tau"
    M="$OUT/tau$tau.safetensors"
    check_encoder "$M" "$OUT/ref.npy" "τ = $tau" "$tau"
    "$BIN/vae-eval" encoder-stats --model "$M" --input "$OUT/ref.npy" > "$OUT/stats-tau$tau.jsonl"
    latent=$(python3 -c 'import json, struct, sys; f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]; print(json.loads(json.loads(f.read(n))["__metadata__"]["config"])["latent"])' "$M")
    rms=$(python3 -c 'import json, math, sys; r = [json.loads(l) for l in open(sys.argv[1]) if "\"index\"" in l]; print("%.4f" % math.sqrt(sum(x["sigma_norm"] ** 2 for x in r) / len(r) / int(sys.argv[2])))' "$OUT/stats-tau$tau.jsonl" "$latent")
    say "τ = $tau: certifying $NCERT test images (Theorem 1, r = $R), attacking $NATT at $(echo $RADII | wc -w) radii…"
    "$BIN/vae-certify" jacobian --model "$M" --input "$DATA:test[0:$NCERT]" --r "$R" > "$OUT/certify-tau$tau.jsonl"
    "$BIN/vae-certify" jacobian --model "$M" --input "$OUT/ref.npy" --r "$R" > "$OUT/certify-tau$tau-ref.jsonl"
    margin_grid "$OUT" "tau$tau" "$M" "$R" "$RADII" "$STEPS"
    $STATS grid "$OUT" "tau$tau" "$R" "$RADII" | sed "s/^tau//" | cut -f1,3- >> "$OUT/fig7-grid.tsv"
    emp=$(awk -F'\t' 'NR>1 {n++; s+=$2; ss+=$2*$2; c+=$3} END {m=s/n; v=ss/n-m*m; printf "%d\t%.4f\t%.4f\t%d", n, m, (v>0?sqrt(v):0), c}' "$OUT/R-tau$tau-r$R.tsv")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tau" "$(field test_elbo < "$OUT/train-tau$tau.json")" \
        "$(field seconds < "$OUT/train-tau$tau.json")" "$rms" \
        "$($STATS certify "$OUT/certify-tau$tau.jsonl" | awk -F'\t' -v OFS='\t' '{print $7, $8, $1, $2, $3, $4, $5, $6}')" \
        "$emp" "$($STATS compare "$OUT/certify-tau$tau-ref.jsonl" "$OUT/R-tau$tau-r$R.tsv")" >> "$OUT/fig7.tsv"
    for s in 0 $NOISE; do
        if [ "$s" = 0 ]; then ll="$OUT/ll-tau$tau-0.jsonl"; else
            ll="$OUT/ll-tau$tau-noisy-$s.jsonl"
            loglik "$M" "$OUT/ref.npy" "$OUT/noisy-$s.npy" "$ll"
        fi
        printf '%s\t%s\t%s\n' "$tau" "$s" "$($STATS loglik "$ll")" >> "$OUT/fig7-noise.tsv"
    done
    rm -f "$OUT"/adv-tau"$tau"-*.npy "$OUT"/rec-tau"$tau"-*.npy
    say "τ = $tau: $(( $(date +%s) - t0 )) s"
done
rm -f "$OUT"/noisy-*.npy
if need_gnuplot; then
    gnuplot <<GP
set terminal pngcairo size 1300,950 font ",10"
set output "$OUT/fig7.png"
set datafile separator "\t"
set multiplot layout 2,2 title "Paper B Figure 7 with $ARCH on $DATA ($EPOCHS epoch(s)); $NATT attacked test images, $NCERT certified; r = $R"
set key top right
set xlabel "‖δ_x‖_2 (maximum-damage attack through μ)"
set ylabel "p(‖Δ(x, δ_x)‖_2 ≤ $R)"
set yrange [-0.05:1.05]
set title "[left] r-robustness under attack (mean ± sd over images)"
plot for [t in "$TAUS"] "$OUT/fig7-grid.tsv" using (\$1==t+0 ? \$2 : 1/0):4:5 with yerrorlines title "τ = ".t, \
     0.5 with lines dt 2 lc rgb "grey" notitle
set autoscale y
set key bottom left
set title "[centre] log-likelihood of the clean image given z* = μ(x + noise)"
set xlabel "noise σ_ε (x* = clip(x + N(0, σ_ε^2), 0, 1))"
set ylabel "log p(x | z*) (nats)"
plot for [t in "$TAUS"] "$OUT/fig7-noise.tsv" using (\$1==t+0 ? \$2 : 1/0):3:4 with yerrorlines title "τ = ".t
set title "[right] log-likelihood of the clean image given z* = μ(x + δ_x)"
set xlabel "attack size L = ‖δ_x‖_2 (maximum damage through μ)"
plot for [t in "$TAUS"] "$OUT/fig7-grid.tsv" using (\$1==t+0 ? \$2 : 1/0):7:8 with yerrorlines title "τ = ".t
set title "margin against the σ offset (mean ± sd over images)"
set xlabel "σ offset τ"
set ylabel "margin R^r_X(x) (L2, input space)"
set y2label "share r-robust unperturbed (Eq. 2)"
set yrange [0:*]
set y2range [0:1.05]
set y2tics
set ytics nomirror
set xrange [-0.1:1.1]
set key right center
plot "$OUT/fig7.tsv" using 1:14:15 with yerrorlines lw 2 title "empirical margin (attack grid)", \
     "$OUT/fig7.tsv" using 1:10:11 with yerrorlines lw 2 title "Theorem 1 bound", \
     "$OUT/fig7.tsv" using 1:8 axes x1y2 with linespoints dt 3 title "share r-robust (right axis)"
unset multiplot
GP
    say "wrote $OUT/fig7.png"
fi
column -t -s $'\t' "$OUT/fig7.tsv"
echo
column -t -s $'\t' "$OUT/fig7-grid.tsv"
echo
column -t -s $'\t' "$OUT/fig7-noise.tsv"
say "$(( $(date +%s) - start )) s"
