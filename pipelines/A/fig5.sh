#!/usr/bin/env bash
# Paper A Figure 5:
#   left   empirical r-robustness margins (Algorithm 2, vae-certify margin; r = 8, ‖σ‖₂ = 0.1) of
#          Lipschitz-VAEs with constants 5, 7, 10, 12 and of a standard VAE, on the same test images;
#   right  each model's mean reconstruction log-likelihood, the ELBO's term log p(x | z) with
#          z ~ q(z|x) (continuous Bernoulli; vae-eval elbo's log_px), on the test set, against its
#          mean margin.
# The paper's finding: every Lipschitz-VAE has larger margins than the standard VAE, the margin
# grows as M shrinks, and the log-likelihood falls as the margin grows.
#
#   pipelines/A/fig5.sh OUTDIR          (make -C pipelines/A fig5 writes results/A/fig5/)
#
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   EPOCHS 1 / 50 / 1 (paper: "to convergence")   TRAIN_LIMIT 20000 / all / 2000
#   CONV_TOL "" / 1 / "": vae-train --convergence-tol (FULL trains to convergence, at most EPOCHS)
#   N 10 / 25 / 2 margin images (stratified)       LL_N 1000 / 10000 / 200 test images for the likelihood
#   SEARCH bisect / linear / bisect   ATTACK_STEPS 20 / 50 / 3   RESTARTS 5 / 5 / 1   SAMPLES 40 / 40 / 8
#   START 10   STEP 0.25 (the paper's grid is 0.5, coarse for margins near 1, such as M = 12's)
#   CONSTANTS "5 7 10 12" (CHECK: "5")   SIGMA 0.0316228 (‖σ‖₂ = 0.1 in 10 dimensions)   DATA mnist
#   STD_LR 1e-3 (the authors' standard-VAE rate; the Lipschitz-VAEs use 1e-4)
#   STD_EPOCHS 5 / 50 / 1: the standard VAE's epochs. After one epoch (at 1e-3 or 1e-4) it decodes
#     every code to nearly the same blob (it has not yet learnt to use z), and such a model is
#     trivially "robust": Algorithm 2 then finds margins up to the top of the grid. It trains ~4x
#     faster than a Lipschitz-VAE, so five epochs cost less than one of those.
# The models are the same as fig4's for the same settings (same options and seed): with
# REUSE=DIR (default: fig4's output beside OUTDIR, e.g. results/A/fig4; REUSE= for none) a model
# DIR/DATA-lipM-sn0.1.safetensors (fig4's Theorem 2 model at ‖σ‖₂ = 0.1) or DIR/DATA-lipM.safetensors is
# copied instead of trained when its recorded training matches.
# Writes OUTDIR/fig5.tsv (one line per model and image), fig5-summary.tsv (one per model),
# (recon_loglik: vae-eval elbo's log_px and its standard error; recon_mse: vae-eval mse of
# decode(z), z ~ q(z|x)), fig5.png (two panels), the tools' JSON lines (*.jsonl) and the models.
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist)
STEP=${STEP:-0.25}
. "$(dirname "$0")/sizes.sh"
LL_N=${LL_N:-$(pick 1000 10000 200)}
SIGMA=${SIGMA:-0.0316228}; STD_LR=${STD_LR:-1e-3}; STD_EPOCHS=${STD_EPOCHS:-$(pick 5 50 1)}
REUSE=${REUSE-$(dirname "$OUT")/fig4}
mkdir -p "$OUT"
start=$(date +%s)
. "$(dirname "$0")/models.sh"
: > "$OUT/models.txt"
for m in $CONSTANTS; do
    train_model "$OUT/lip$m.safetensors" "$m" 1e-4 ${REUSE:+"$REUSE/$DATA-lip$m-sn0.1.safetensors" "$REUSE/$DATA-lip$m.safetensors"}
    echo "lip$m M=$m" >> "$OUT/models.txt"
done
EPOCHS=$STD_EPOCHS train_model "$OUT/standard.safetensors" 0 "$STD_LR" ${REUSE:+"$REUSE/standard.safetensors"}
echo "standard standard" >> "$OUT/models.txt"

"$BIN/vae-eval" export --input "$DATA:test[0:$LL_N]" -o "$OUT/ll-inputs.npy" 2> /dev/null
while read -r name label; do
    model="$OUT/$name.safetensors"
    check_encoder "$model" "$DATA:test@100" "$label"
    say "empirical margins of $label ($N images, $SEARCH search)…"
    "$BIN/vae-certify" margin --model "$model" --input "$DATA:test@$N" --r "$R" --start "$START" --step "$STEP" \
        --restarts "$RESTARTS" --samples "$SAMPLES" --attack-steps "$ATTACK_STEPS" --search "$SEARCH" --seed 0 \
        > "$OUT/$name-margin.jsonl"
    # the ELBO and its likelihood term log p(x | z), z ~ q(z|x) (the right panel's y); the
    # reconstruction error of decode(z), z ~ q(z|x)
    "$BIN/vae-eval" elbo --model "$model" --input "$OUT/ll-inputs.npy" --summary-only --seed 0 > "$OUT/$name-elbo.jsonl"
    "$BIN/vae-eval" recon --model "$model" --input "$OUT/ll-inputs.npy" --sample --seed 0 -o "$OUT/$name-recon.npy" 2> /dev/null
    "$BIN/vae-eval" mse "$OUT/ll-inputs.npy" "$OUT/$name-recon.npy" --summary-only > "$OUT/$name-mse.jsonl"
    rm -f "$OUT/$name-recon.npy"
done < "$OUT/models.txt"

python3 - "$OUT" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
def summary(name, what):
    return json.loads(open(os.path.join(out, "%s-%s.jsonl" % (name, what))).read())
rows, summ = [], []
for spec in open(os.path.join(out, "models.txt")):
    name, label = spec.split()
    mar = [json.loads(l) for l in open(os.path.join(out, name + "-margin.jsonl")) if l.strip()]
    per = [r for r in mar if "index" in r]
    for r in per: rows.append((label, r["index"], r["margin"], r["attacks"]))
    elbo, mse = summary(name, "elbo"), summary(name, "mse")
    ms = [r["margin"] for r in per]
    # the spread of one value is undefined: nan (vae-eval prints a null standard error)
    summ.append((label, "%.3f" % statistics.mean(ms), "%.3f" % (statistics.stdev(ms) if len(ms) > 1 else float("nan")),
                 "%.3f" % min(ms), "%.3f" % max(ms), "%.1f" % elbo["log_px"],
                 "nan" if elbo["log_px_stderr"] is None else "%.1f" % elbo["log_px_stderr"],
                 "%.1f" % elbo["mean"], "%.4f" % mse["mean"], str(elbo["n"])))
with open(os.path.join(out, "fig5.tsv"), "w") as f:
    f.write("model\tindex\tmargin\tattacks\n")
    for r in rows: f.write("%s\t%d\t%g\t%d\n" % r)
with open(os.path.join(out, "fig5-summary.tsv"), "w") as f:
    f.write("model\tmargin_mean\tmargin_sd\tmargin_min\tmargin_max\trecon_loglik_mean\trecon_loglik_stderr\telbo_mean\trecon_mse\tll_images\n")
    for r in summ: f.write("\t".join(r) + "\n")
PY

if need_gnuplot; then
    P="$OUT/plot"; mkdir -p "$P"
    # per-model x positions for the left panel
    awk -F'\t' 'NR>1 {print NR-2, $1, $2, $3, $6, $7}' "$OUT/fig5-summary.tsv" > "$P/summary.dat"
    awk 'NR==FNR {pos[$2] = $1; next} FNR>1 {print pos[$1], $3}' "$P/summary.dat" FS='\t' "$OUT/fig5.tsv" > "$P/points.dat"
    nm=$(wc -l < "$P/summary.dat")
    cat > "$P/fig5.gp" <<GP
set terminal pngcairo size 1300,540 font ',11'
set output '$OUT/fig5.png'
set multiplot layout 1,2 title 'Paper A Figure 5 on $DATA: r = $R, fixed ‖σ‖_2 = 0.1, Algorithm 2 margins on $N test images'
set title 'r-robustness margins (Algorithm 2)'
set xrange [-0.6:$nm - 0.4]; set yrange [0:*]
set xtics ($(awk '{printf "%s\"%s\" %d", (NR > 1 ? ", " : ""), $2, $1}' "$P/summary.dat"))
set xlabel 'model'; set ylabel 'estimated margin R^{r}(x)'; set grid ytics
set key top right box opaque
plot '$P/points.dat' using (\$1 + 0.12 * (rand(0) - 0.5)):2 with points pt 7 ps 0.8 lc rgb '#7f7f7f' title 'one image', \
     '$P/summary.dat' using 1:3:4 with yerrorbars pt 5 ps 1.6 lw 2 lc rgb '#d62728' title 'mean ± sd'
set title 'reconstruction vs robustness'
set autoscale x; set autoscale y; set xtics auto
set xlabel 'mean estimated margin R^{r}(x)'; set ylabel 'mean CB log-likelihood of reconstructions (nats)'
set grid
set offsets graph 0.12, graph 0.12, graph 0.1, graph 0.1
unset key
plot '$P/summary.dat' using 3:5:6 with yerrorbars pt 7 ps 1.6 lc rgb '#1f77b4', \
     '$P/summary.dat' using 3:5:(sprintf('(%s)', stringcolumn(2))) with labels offset 0,1.3
unset multiplot
GP
    gnuplot "$P/fig5.gp"
    say "wrote $OUT/fig5.png"
fi
column -t -s $'\t' "$OUT/fig5-summary.tsv"
say "$(( $(date +%s) - start )) s"
