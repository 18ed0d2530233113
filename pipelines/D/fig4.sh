#!/usr/bin/env bash
# The form of paper D Figure 4 with our own small hierarchical VAE (paper D used NVAE's
# pretrained weights, which cannot be downloaded here): MS-SSIM between the reconstructions of
# the reference and of its adversarial point, MSSSIM[x̃ʳ, x̃ᵃ] (paper D section 4.3), for two L∞
# attack radii, without and with HMC over all latent groups (HMC on the adversarial point only).
# As in the authors' code (the NVAE wrapper's eval_attack in AKuzina/defend_vae_mcmc), each
# reconstruction decodes sampled latents (vae-eval recon --sample, every group drawn from its
# posterior given the draws above); their NVAE wrapper also draws the pixels, we keep the
# decoder's means. The reference row compares x̃ʳ with a second, independent reconstruction of
# the reference (what sampling alone costs) and, with HMC, with HMC's reconstruction of it.
#
#   pipelines/D/fig4.sh OUTDIR        (make -C pipelines/D fig4 writes results/D/fig4/)
#
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   EPOCHS 5 / 30 / 1 (NVAE: pretrained; 5 epochs of the default hvae, --hidden 16,32,256, cost about
#   what 3 of the earlier default 32,64,256 did)   N references 50 / 1000 / 4   T HMC transitions 100 / 1000 / 2
#   K=3 latent groups, RADII="0.1 0.2", TOP=1 attacked top groups, STEPS=50 attack steps
# Writes OUTDIR/fig4.tsv (radius, points, hmc, mean MS-SSIM, standard error), fig4.png (a bar
# chart), grid-R.png per radius (reference, its reconstruction, adversarial point, its
# reconstruction, after HMC) and the tools' JSON lines (*.jsonl).
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist); EPOCHS=${EPOCHS:-$(pick 5 30 1)}; K=${K:-3}; N=${N:-$(pick 50 1000 4)}
RADII=${RADII:-"0.1 0.2"}; TOP=${TOP:-1}; STEPS=${STEPS:-$(pick 50 50 3)}; T=${T:-$(pick 100 1000 2)}
mkdir -p "$OUT"
start=$(date +%s)
G=$(( N < 10 ? N : 10 ))
M="$OUT/hvae.safetensors"
train_once "$M" "$OUT/train.jsonl" --data "$DATA" --arch hvae --groups "$K" --binarize dynamic --epochs "$EPOCHS" \
    --kl-warmup 1 $(train_limit) --seed 0
"$BIN/vae-eval" export --input "$DATA:test@$N#bin" -o "$OUT/ref.npy"
# the references' reconstructions (two independent ones), without and with HMC
"$BIN/vae-eval" recon --model "$M" --input "$OUT/ref.npy" --sample --seed 1 -o "$OUT/rec-ref.npy"
"$BIN/vae-eval" recon --model "$M" --input "$OUT/ref.npy" --sample --seed 3 -o "$OUT/rec-ref-2.npy"
"$BIN/vae-hmc" --model "$M" --input "$OUT/ref.npy" --steps "$T" --decode "$OUT/hmc-ref.npy" -o "$OUT/z-ref.npy" \
    --summary-only > "$OUT/hmc-ref.jsonl"
msssim() { "$BIN/vae-eval" msssim "$1" "$2" --variant kuzina --summary-only | tee -a "$OUT/msssim.jsonl" |
           summary_mean_se %.4f; }
: > "$OUT/msssim.jsonl"
printf 'radius\tpoints\thmc\tmsssim\tstderr\n' > "$OUT/fig4.tsv"
printf '0\treference\tno\t%s\n' "$(msssim "$OUT/rec-ref.npy" "$OUT/rec-ref-2.npy")" >> "$OUT/fig4.tsv"
printf '0\treference\tyes\t%s\n' "$(msssim "$OUT/rec-ref.npy" "$OUT/hmc-ref.npy")" >> "$OUT/fig4.tsv"
for r in $RADII; do
    "$BIN/vae-attack" skl --model "$M" --input "$OUT/ref.npy" --radius "$r" --steps "$STEPS" --top-groups "$TOP" \
        -o "$OUT/adv-$r.npy" --summary-only > "$OUT/attack-$r.jsonl"
    "$BIN/vae-eval" recon --model "$M" --input "$OUT/adv-$r.npy" --sample --seed 2 -o "$OUT/rec-adv-$r.npy"
    "$BIN/vae-hmc" --model "$M" --input "$OUT/adv-$r.npy" --steps "$T" --decode "$OUT/hmc-adv-$r.npy" -o "$OUT/z-adv-$r.npy" \
        --summary-only > "$OUT/hmc-adv-$r.jsonl"
    printf '%s\tadversarial\tno\t%s\n' "$r" "$(msssim "$OUT/rec-ref.npy" "$OUT/rec-adv-$r.npy")" >> "$OUT/fig4.tsv"
    printf '%s\tadversarial\tyes\t%s\n' "$r" "$(msssim "$OUT/rec-ref.npy" "$OUT/hmc-adv-$r.npy")" >> "$OUT/fig4.tsv"
    "$BIN/vae-eval" grid "$OUT/ref.npy[0:$G]" "$OUT/rec-ref.npy[0:$G]" "$OUT/adv-$r.npy[0:$G]" "$OUT/rec-adv-$r.npy[0:$G]" \
        "$OUT/hmc-adv-$r.npy[0:$G]" --label reference --label recon --label "adv $r" --label "adv recon" --label "after HMC" \
        -o "$OUT/grid-$r.png"
done
if need_gnuplot; then
    gnuplot <<GP
set terminal pngcairo size 800,480
set output "$OUT/fig4.png"
set title "MS-SSIM between reconstructions of reference and adversarial points\nhvae on $DATA ($K groups; skl attack on the top $TOP)"
set ylabel "MS-SSIM(rec. of reference, rec. of adversarial)"
set xlabel "points"
set yrange [0:1]
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set key top right
set datafile separator "\t"
plot "< awk -F'\t' 'NR>1 && \$3==\"no\" {print (\$1==0 ? \"reference\" : \"adv r=\" \$1) \"\t\" \$4 \"\t\" \$5}' $OUT/fig4.tsv" using 2:3:xtic(1) title "without HMC", \
     "< awk -F'\t' 'NR>1 && \$3==\"yes\" {print (\$1==0 ? \"reference\" : \"adv r=\" \$1) \"\t\" \$4 \"\t\" \$5}' $OUT/fig4.tsv" using 2:3 title "with HMC (T = $T)"
GP
    say "wrote $OUT/fig4.png"
fi
column -t -s $'\t' "$OUT/fig4.tsv"
say "$(( $(date +%s) - start )) s"
