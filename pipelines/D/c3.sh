#!/usr/bin/env bash
# Paper D Appendix C.3 (Figures 10-12): what if the attacker knows the defence? The
# unsupervised attack of Eq. 64-66, maximise ‖z̃ᵃ − z̃ʳ‖² over ‖ε‖∞ < δ, run per radius by
# several attackers: `start` (no step at all: the attack's random N(0, 0.2²) start, projected,
# a baseline), `plain` (without MCMC: z̃ as samples of the encoder's q(z|x), t = 0), and through
# MCMC (z̃ after T_ATTACK HMC transitions on p(z|x), vae-attack latent-distance --through-hmc)
# once for each way the gradient passes the chain (vae-attack --hmc-gradient, GRADIENTS):
# straight-through (ours, the identity), detach-accepted (the chain part of the authors' code: no
# gradient through a row whose chain accepted), kuzina (the authors' code as it runs:
# detach-accepted plus the likelihood gradients its sampler's backward passes leak into the
# perturbation's gradient). For each, MS-SSIM (paper D's variant) between reference and
# adversarial point before the forward pass (the images themselves) and after it: the plain
# reconstructions (each decoding a sample of q(z|x), as the authors' eval_attack does), and the
# reconstructions of the HMC-defended model (HMC on both the reference and the adversarial
# point). The paper finds the attack that does not use MCMC successful against the plain model
# and undone by the defence (Figure 10), and the one that does unsuccessful (Figure 11:
# after-forward similarity about the same as before).
#
#   pipelines/D/c3.sh OUTDIR          (make -C pipelines/D c3 writes results/D/c3/)
#
# Data: binarised MNIST; CHECK=1 uses binarised Fashion-MNIST (lib.sh check_data), DATA=NAME
# overrides both. The defence's vae-hmc runs a burn-in of half of T before its T transitions.
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   EPOCHS 3 / 300 / 1 (paper D's conv VAE, Table 6, trained as table2.sh trains it)
#   N references 20 / 50 / 2    RADII "0.1 0.2" / "0.1 0.6 0.8 1.0" / "0.1"
#   T_ATTACK HMC transitions inside the attack 2 / 20 / 1 (plus vae-attack's burn-in of half as
#   many; each runs 20 leapfrog steps at every attack step); T defence transitions 100 / 500 on
#   MNIST, 1000 otherwise / 2; both chains from η0 0.1 on MNIST, 0.05 otherwise (the authors'
#   run scripts, lib-D.sh hmc_eta; their attack's chain takes the same hmc_eps as the defence)
#   The attacks use paper D's optimiser (vae-attack --preset paperD: SGD lr 1) for STEPS 50 / 50 / 3
#   steps, one restart per reference.
#   GRADIENTS "straight-through detach-accepted kuzina" (all sizes)
# Writes OUTDIR/c3.tsv, c3-direction.tsv (which pixels each attack moved, which way, and how many
# of its rows never left their start), c3-floor.tsv (MS-SSIM between two sampled
# reconstructions, and two HMC reconstructions, of the reference itself: what the
# reconstruction columns read when nothing is attacked), c3.png, grid-R.png per radius
# (Figure 12: reference, its reconstruction, then each attacker's adversarial points and their
# reconstructions) and the tools' JSON lines.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-D.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist); EPOCHS=${EPOCHS:-$(pick 3 300 1)}; N=${N:-$(pick 20 50 2)}
RADII=${RADII:-$(pick "0.1 0.2" "0.1 0.6 0.8 1.0" "0.1")}
GRADIENTS=${GRADIENTS:-straight-through detach-accepted kuzina}
T_ATTACK=${T_ATTACK:-$(pick 2 20 1)}; T=${T:-$(pick 100 "$(hmc_paper_steps "$DATA")" 2)}; STEPS=${STEPS:-$(pick 50 50 3)}
mkdir -p "$OUT"
start=$(date +%s)
M="$OUT/vae.safetensors"
prepare_d "$OUT"
: > "$OUT/msssim.jsonl"; : > "$OUT/attack.jsonl"; : > "$OUT/hmc.jsonl"
ms() { "$BIN/vae-eval" msssim "$1" "$2" --variant kuzina --summary-only | tee -a "$OUT/msssim.jsonl" |
       summary_mean_se %.4f; }
defend() { "$BIN/vae-hmc" --model "$M" --input "$1" --steps "$T" --step-size "$(hmc_eta "$DATA")" --seed "${3:-5}" -o "$OUT/z-$2.npy" --decode "$OUT/hmc-$2.npy" --summary-only >> "$OUT/hmc.jsonl"; }
"$BIN/vae-eval" recon --model "$M" --input "$OUT/ref.npy" --sample --seed 1 -o "$OUT/rec-ref.npy"
defend "$OUT/ref.npy" ref
# the floor: the reference against itself, reconstructed from other draws
"$BIN/vae-eval" recon --model "$M" --input "$OUT/ref.npy" --sample --seed 2 -o "$OUT/rec-ref2.npy"
defend "$OUT/ref.npy" ref2 6
printf 'msssim_rec\tse\tmsssim_rec_hmc\tse\n%s\t%s\n' "$(ms "$OUT/rec-ref.npy" "$OUT/rec-ref2.npy")" "$(ms "$OUT/hmc-ref.npy" "$OUT/hmc-ref2.npy")" > "$OUT/c3-floor.tsv"
printf 'radius\tattacker\tmsssim_inputs\tse\tmsssim_rec\tse\tmsssim_rec_hmc\tse\n' > "$OUT/c3.tsv"
printf 'radius\tattacker\tpixels_moved\ttowards_own_decoding\trows_at_start\n' > "$OUT/c3-direction.tsv"
# Which way an attack moved the pixels it moved: the share of pixels with |δ| > 0.01; the share
# of those whose change has the sign of the decoder's logit at the adversarial image's encoder
# mean (towards the model's own decoding of x^a); and the rows that end exactly at the
# attack's random start (`start`), i.e. never moved.
direction() {
    "$BIN/vae-eval" encode --model "$M" --input "$OUT/adv-$1-$2.npy" -o "$OUT/mu-$1-$2.npy" 2> /dev/null
    "$BIN/vae-eval" decode --model "$M" --codes "$OUT/mu-$1-$2.npy" --logits -o "$OUT/logit-$1-$2.npy" 2> /dev/null
    python3 -c "
import numpy as np
a = np.load('$OUT/adv-$1-$2.npy'); n = a.shape[0]
d = a.reshape(-1) - np.load('$OUT/ref.npy').reshape(-1)
l = np.load('$OUT/logit-$1-$2.npy').reshape(-1)
m = np.abs(d) > 0.01
at_start = (np.abs(a.reshape(n, -1) - np.load('$OUT/adv-start-$2.npy').reshape(n, -1)).max(1) == 0).sum()
print('%.4f\t%.4f\t%d/%d' % (m.mean(), (np.sign(d[m]) == np.sign(l[m])).mean() if m.any() else float('nan'), at_start, n))"
}
for r in $RADII; do
    for attacker in start plain $GRADIENTS; do
        tag="$attacker-$r"
        extra=()
        case "$attacker" in
            start) extra=(--steps 0) ;;
            plain) extra=(--steps "$STEPS") ;;
            *) extra=(--steps "$STEPS" --through-hmc "$T_ATTACK" --hmc-step-size "$(hmc_eta "$DATA")" --hmc-gradient "$attacker") ;;
        esac
        say "radius $r, attacker $attacker"
        "$BIN/vae-attack" latent-distance --model "$M" --input "$OUT/ref.npy" --radius "$r" --preset paperD --restarts 1 \
            "${extra[@]}" -o "$OUT/adv-$tag.npy" --summary-only >> "$OUT/attack.jsonl"
        "$BIN/vae-eval" recon --model "$M" --input "$OUT/adv-$tag.npy" --sample --seed 2 -o "$OUT/rec-$tag.npy"
        defend "$OUT/adv-$tag.npy" "$tag"
        line=$(printf '%s\t%s\t%s\t%s\t%s' "$r" "$attacker" "$(ms "$OUT/ref.npy" "$OUT/adv-$tag.npy")" \
            "$(ms "$OUT/rec-ref.npy" "$OUT/rec-$tag.npy")" "$(ms "$OUT/hmc-ref.npy" "$OUT/hmc-$tag.npy")")
        echo "$line" >> "$OUT/c3.tsv"
        moved=$(direction "$attacker" "$r")
        printf '%s\t%s\t%s\n' "$r" "$attacker" "$moved" >> "$OUT/c3-direction.tsv"
    done
done
column -t "$OUT/c3.tsv" >&2
column -t "$OUT/c3-direction.tsv" >&2
column -t "$OUT/c3-floor.tsv" >&2
# Figure 12: adversarial points and their reconstructions, without MCMC and through it
G=$(( N < 10 ? N : 10 ))
for r in $RADII; do
    grid_rows=("$OUT/ref.npy[0:$G]" "$OUT/rec-ref.npy[0:$G]"); labels=(--label reference --label recon)
    for attacker in start plain $GRADIENTS; do
        grid_rows+=("$OUT/adv-$attacker-$r.npy[0:$G]" "$OUT/rec-$attacker-$r.npy[0:$G]")
        labels+=(--label "adv $attacker" --label "recon")
    done
    "$BIN/vae-eval" grid "${grid_rows[@]}" "${labels[@]}" -o "$OUT/grid-$r.png"
done
if need_gnuplot; then
    set -- start plain $GRADIENTS
    cols=$(( $# < 2 ? $# : 2 )); rows=$(( ($# + 1) / 2 ))
    gnuplot <<GP
set terminal pngcairo size $(( 560 * cols )),$(( 470 * rows + 60 )) font ",11"
set output "$OUT/c3.png"
set multiplot layout $rows,$cols title "Paper D Appendix C.3: the attack max ‖z̃^a − z̃^r‖² (Eq. 64) without and through MCMC\nours: $DATA, conv VAE $EPOCHS epochs, $N references; HMC T = $T (defence), $T_ATTACK (inside the attack)"
set datafile separator "\t"
set datafile columnheaders
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.7 border -1
set yrange [0:1.05]
set ylabel "MS-SSIM(reference, adversarial)"
set xlabel "L∞ radius of the attack"
set key outside bottom center horizontal
heading(a) = a eq "start" ? "the attack's random start alone (no step)" : \
             a eq "plain" ? "attacker without MCMC (Figure 10)" : \
             a eq "straight-through" ? "through MCMC, straight-through gradient (ours)" : \
             a eq "detach-accepted" ? "through MCMC, accepted rows detached" : \
             a eq "kuzina" ? "through MCMC, the authors' code's gradient (Figure 11)" : "through MCMC, --hmc-gradient ".a
attackers = "$*"
do for [i = 1:words(attackers)] {
    a = word(attackers, i)
    set title heading(a)
    plot sprintf("< awk -F'\t' -v a=%s 'NR == 1 || \$2 == a' $OUT/c3.tsv", a) using 3:4:xtic(1) title "images (before the forward pass)", \
         "" using 5:6 title "reconstructions", "" using 7:8 title "reconstructions after HMC"
}
unset multiplot
GP
    say "wrote $OUT/c3.png"
fi
say "$(( $(date +%s) - start )) s"
