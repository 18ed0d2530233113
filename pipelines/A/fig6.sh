#!/usr/bin/env bash
# Paper A Figure 6 (and B.7): the encoders q(z|x) of three VAEs with a 2-D latent space on MNIST,
# one ellipse per test image (encoder mean ± one standard deviation, coloured by digit) over the
# prior's 1, 2, 3σ circles, all three panels on the same axes:
#   (a) a standard VAE (ReLU MLPs, learnt σ(x) with a sigmoid head),
#   (b) a Lipschitz-VAE (M = 5 for all three networks: Björck layers, GroupSort),
#   (c) a Lipschitz β-VAE (M = 5, β = 5, as the authors' script for it).
# The paper's finding: (a) stays clustered about the prior, (b) spreads far beyond it, (c) less so.
#
#   pipelines/A/fig6.sh OUTDIR          (make -C pipelines/A fig6 writes results/A/fig6/)
#
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   EPOCHS 2 / 50 / 1 (paper: "to convergence")   TRAIN_LIMIT 20000 / all / 2000   N 500 / 1000 / 50
#   CONV_TOL "" / 1 / "": vae-train --convergence-tol (FULL trains to convergence, at most EPOCHS)
#   M 5   BETA 5   DATA mnist (CHECK: fashion-mnist unless DATA is set)
#   STD_LR 1e-4: the standard VAE's learning rate. The authors' config uses 1e-3, but with it our
#     standard VAE's σ head saturated at 1 on grey MNIST (every σ = 1.0000, means out to ±20;
#     see REPRODUCTION.md; measured before the continuous Bernoulli was clamped as torch clamps
#     it, not since); at 1e-4, the Lipschitz models' rate, it does not.
#   STD_LIKELIHOOD cbernoulli: the standard VAE's likelihood (the paper's, Appendix F); with
#     bernoulli its means stay within about 2 of the origin, as in the paper's panel (a)
#   RANGE  the half-width of every panel's axes (default: fitted to all three models' ellipses)
#   STD_EPOCHS, STD_CONV_TOL, STD_TRAIN_LIMIT: the standard VAE's own EPOCHS, CONV_TOL and
#     TRAIN_LIMIT (default: the same as the others'); e.g. STD_EPOCHS=50 STD_CONV_TOL=1
#     STD_TRAIN_LIMIT=all trains it to convergence beside the quick Lipschitz models (it is ~4x faster)
# Writes OUTDIR/fig6.tsv (one line per model: test ELBO, spread of the means, σ, and each latent
# dimension's activity, the variance of its mean over the images: at most 0.01 it is unused), latent-NAME.tsv
# (vae-eval latent-plot --tsv: mu1 mu2 sigma1 sigma2 label), fig6.png (three panels), latent-NAME.png
# (vae-eval's own plots at the same range), the models and NAME.options (what each was trained with).
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist)
EPOCHS=${EPOCHS:-$(pick 2 50 1)}; CONV_TOL=${CONV_TOL-$(pick "" 1 "")}   # FULL: to convergence, at most EPOCHS
TRAIN_LIMIT=${TRAIN_LIMIT:-$(pick 20000 all 2000)}
N=${N:-$(pick 500 1000 50)}
M=${M:-5}; BETA=${BETA:-5}; STD_LR=${STD_LR:-1e-4}; STD_LIKELIHOOD=${STD_LIKELIHOOD:-cbernoulli}
STD_EPOCHS=${STD_EPOCHS:-$EPOCHS}; STD_CONV_TOL=${STD_CONV_TOL-$CONV_TOL}; STD_TRAIN_LIMIT=${STD_TRAIN_LIMIT:-$TRAIN_LIMIT}
mkdir -p "$OUT"
start=$(date +%s)
limits() {
    if [ "$CHECK" = 1 ]; then train_limit
    elif [ "$TRAIN_LIMIT" != all ]; then echo "--train-limit $TRAIN_LIMIT"; fi
}
NAMES="standard lipschitz lipschitz-beta"
declare -A OPTS=(
    [standard]="--lr $STD_LR --likelihood $STD_LIKELIHOOD"
    [lipschitz]="--lipschitz $M --lr 1e-4 --likelihood cbernoulli"
    [lipschitz-beta]="--lipschitz $M --beta $BETA --lr 1e-4 --likelihood cbernoulli"
)
declare -A TITLE=(
    [standard]="(a) standard VAE$([ "$STD_LIKELIHOOD" = cbernoulli ] || echo " ($STD_LIKELIHOOD likelihood)")"
    [lipschitz]="(b) Lipschitz-VAE, M = $M"
    [lipschitz-beta]="(c) Lipschitz β-VAE, M = $M, β = $BETA"
)
INPUT="$DATA:test@$N"
for n in $NAMES; do
    model="$OUT/$n.safetensors"
    # a model already there is kept only if it was trained with the same options and vae-train
    # binary (OUTDIR/NAME.options)
    e=$EPOCHS tol=$CONV_TOL lim=$TRAIN_LIMIT
    [ "$n" = standard ] && e=$STD_EPOCHS tol=$STD_CONV_TOL lim=$STD_TRAIN_LIMIT
    opts="--data $DATA --arch mlp --latent 2 ${OPTS[$n]} --epochs $e $(CONV_TOL=$tol convergence) $(TRAIN_LIMIT=$lim limits) --seed 0"
    key="$opts binary=$(bin_digest)"
    [ -f "$model" ] && [ "$(cat "$OUT/$n.options" 2> /dev/null)" = "$key" ] || rm -f "$model"
    if [ ! -f "$model" ]; then
        say "training the $n VAE (latent 2, $e epoch(s)${tol:+, or until an epoch gains less than $tol nats})…"
        "$BIN/vae-train" $opts -o "$model" > "$OUT/$n-train.jsonl"
        echo "$key" > "$OUT/$n.options"
    fi
    # a standard VAE trained otherwise than the Lipschitz models says so in its panel's title
    [ "$n" = standard ] && [ "$e $tol $lim" != "$EPOCHS $CONV_TOL $TRAIN_LIMIT" ] &&
        TITLE[standard]="${TITLE[standard]}, $(field epochs < "$OUT/standard-train.jsonl") epochs on $([ "$lim" = all ] && echo all || echo "$lim") images"
    check_encoder "$model" "$DATA:test@100" "$n VAE"
    # the data once (vae-eval's own picture at its fitted range), to find the common range
    "$BIN/vae-eval" latent-plot --model "$model" --input "$INPUT" --tsv "$OUT/latent-$n.tsv" -o "$OUT/latent-$n.png"
done
# the common range: every ellipse of every model, and the prior's 3σ circle
RANGE=${RANGE:-$(cat $(for n in $NAMES; do echo "$OUT/latent-$n.tsv"; done) | awk -F'\t' '
    $1 ~ /^-?[0-9.eE+-]+$/ { for (k = 1; k <= 2; k++) { v = ($k < 0 ? -$k : $k) + $(k + 2); if (v > m) m = v } }
    END { if (m < 3) m = 3; m *= 1.05; s = (m > 20 ? 5 : 1); printf "%g", s * int(m / s + 0.999) }')}
say "common range ±$RANGE"
# vae-eval's own pictures again at the common range (skipped in CHECK mode: a Lipschitz model takes
# a second or two to load)
[ "$CHECK" = 1 ] || for n in $NAMES; do
    "$BIN/vae-eval" latent-plot --model "$OUT/$n.safetensors" --input "$INPUT" --range "$RANGE" -o "$OUT/latent-$n.png"
done

python3 - "$OUT" $NAMES > "$OUT/fig6.tsv" <<'PY'
import json, math, os, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
print("model\ttest_elbo\tmean_norm_mu\tmax_norm_mu\tshare_mu_in_prior_2sd\tmean_sigma1\tmean_sigma2\tmean_min_sigma\tmax_sigma\tactivity1\tactivity2")
for n in names:
    lines = open(os.path.join(out, "latent-%s.tsv" % n)).read().splitlines()[1:]  # after the header
    rows = [[float(v) for v in l.split("\t")] for l in lines if l]
    norms = [math.hypot(r[0], r[1]) for r in rows]
    tr = os.path.join(out, n + "-train.jsonl")
    elbo = json.loads(open(tr).read().splitlines()[-1])["test_elbo"] if os.path.exists(tr) else float("nan")
    # each dimension's activity (vae-eval encoder-stats' latent_activity): the variance of its mean over the images
    act = [statistics.pvariance([r[k] for r in rows]) for k in (0, 1)]
    print("%s\t%.1f\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4g\t%.4g" % (n, elbo, statistics.mean(norms), max(norms),
          sum(v <= 2 for v in norms) / len(norms), statistics.mean(r[2] for r in rows), statistics.mean(r[3] for r in rows),
          statistics.mean(min(r[2], r[3]) for r in rows), max(max(r[2], r[3]) for r in rows), act[0], act[1]))
PY

if need_gnuplot; then
    COLOURS=('#1f77b4' '#ff7f0e' '#2ca02c' '#d62728' '#9467bd' '#8c564b' '#e377c2' '#7f7f7f' '#bcbd22' '#17becf')
    {
        echo "set terminal pngcairo size 1650,600 font ',11'"
        echo "set output '$OUT/fig6.png'"
        echo "set multiplot layout 1,3 title 'Paper A Figure 6: encoders q(z|x) of 2-D VAEs on $DATA, continuous Bernoulli likelihood unless said ($N test images; ellipse = mean ± 1 sd; black: prior 1, 2, 3 sd)' margins 0.04,0.91,0.1,0.88 spacing 0.045"
        echo "set size ratio -1; set xrange [-$RANGE:$RANGE]; set yrange [-$RANGE:$RANGE]"
        echo "set xlabel 'z_1'; set ylabel 'z_2'; set grid; set style ellipse units xy"
        echo "set style fill transparent solid 0.35 noborder"
        echo "set datafile separator '\t'"
        for r in 1 2 3; do echo "set object $r ellipse center 0,0 size $((2 * r)),$((2 * r)) front fillstyle empty border lc rgb 'black' lw 1.5"; done
        i=0
        for n in $NAMES; do
            i=$((i + 1))
            echo "set title '${TITLE[$n]}'"
            if [ $i = 3 ]; then echo "set key at screen 0.995,0.85 title 'class' box opaque"; else echo "unset key"; fi
            cmd="plot"
            for c in 0 1 2 3 4 5 6 7 8 9; do
                cmd="$cmd '$OUT/latent-$n.tsv' using (\$5==$c ? \$1 : NaN):2:(2*\$3):(2*\$4) with ellipses lc rgb '${COLOURS[$c]}' title '$c',"
            done
            echo "${cmd%,}"
        done
        echo "unset multiplot"
    } > "$OUT/fig6.gp"
    gnuplot "$OUT/fig6.gp"
    say "wrote $OUT/fig6.png"
fi
column -t -s $'\t' "$OUT/fig6.tsv"
say "$(( $(date +%s) - start )) s"
