#!/usr/bin/env bash
# Paper D Figure 2 (Figure 7 and Appendix C.1): histograms of the log posterior ratio, Eq. 11,
#     log PR(z1, z2) = log p(x^r | z1) + log p(z1) − log p(x^r | z2) − log p(z2),
# between the reference code z1 = z^r and the code of the reference's adversarial point, before
# HMC (z2 = z^a) and after it (z2 = z^a_HMC), on MNIST. As in the authors' attack code
# (attack/trainer.py of AKuzina/defend_vae_mcmc), z^r and z^a are reparameterised samples of
# q(z | x^r) and q(z | x^a), and z^a_HMC the end of an HMC chain that targets p(z | x^a) and starts
# at a sample of q(z | x^a). Lower is better: in the paper the histogram moves left after HMC.
#
#   pipelines/D/fig2.sh OUTDIR        (make -C pipelines/D fig2 writes results/D/fig2/)
#
# Data: binarised MNIST; CHECK=1 uses binarised Fashion-MNIST (lib.sh check_data), DATA=NAME
# overrides both. vae-hmc runs a burn-in of half of T before its T transitions.
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   EPOCHS 3 / 300 / 1 (paper D's conv VAE, Table 6, trained as table2.sh trains it)
#   N references 100 / 1000 / 4    T HMC transitions 100 / 500 on MNIST, 1000 otherwise / 2
#   RADIUS 0.1 (skl attack, paper D's optimiser, one restart per reference)
# HMC starts at η0 0.1 on MNIST, 0.05 otherwise (the authors' run scripts; lib-D.sh hmc_eta).
# Writes OUTDIR/fig2.tsv (per reference: log PR before and after HMC), fig2-summary.tsv (means,
# standard errors, the share of references whose ratio fell), fig2.png and the tools' JSON lines.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-D.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist); EPOCHS=${EPOCHS:-$(pick 3 300 1)}; N=${N:-$(pick 100 1000 4)}; T=${T:-$(pick 100 "$(hmc_paper_steps "$DATA")" 2)}
RADIUS=${RADIUS:-0.1}
mkdir -p "$OUT"
start=$(date +%s)
M="$OUT/vae.safetensors"
prepare_d "$OUT"
"$BIN/vae-attack" skl --model "$M" --input "$OUT/ref.npy" --radius "$RADIUS" --preset paperD --restarts 1 \
    -o "$OUT/adv.npy" --summary-only > "$OUT/attack.json"
"$BIN/vae-eval" encode --model "$M" --input "$OUT/ref.npy" --what sample --seed 1 -o "$OUT/z-ref.npy"
"$BIN/vae-eval" encode --model "$M" --input "$OUT/adv.npy" --what sample --seed 2 -o "$OUT/z-adv.npy"
"$BIN/vae-hmc" --model "$M" --input "$OUT/adv.npy" --steps "$T" --step-size "$(hmc_eta "$DATA")" --seed 3 -o "$OUT/z-hmc.npy" --summary-only > "$OUT/hmc.json"
"$BIN/vae-eval" posterior-ratio --model "$M" --input "$OUT/ref.npy" --z1 "$OUT/z-ref.npy" --z2 "$OUT/z-adv.npy" > "$OUT/ratio-before.jsonl"
"$BIN/vae-eval" posterior-ratio --model "$M" --input "$OUT/ref.npy" --z1 "$OUT/z-ref.npy" --z2 "$OUT/z-hmc.npy" > "$OUT/ratio-after.jsonl"
python3 - "$OUT" <<'PY'
import json, math, sys
out = sys.argv[1]
def items(name):
    rows = [json.loads(l) for l in open("%s/%s" % (out, name))]
    return [r["log_ratio"] for r in rows if "index" in r]
before, after = items("ratio-before.jsonl"), items("ratio-after.jsonl")
assert len(before) == len(after) > 0, (len(before), len(after))
with open(out + "/fig2.tsv", "w") as f:
    f.write("reference\tlog_pr_before_hmc\tlog_pr_after_hmc\n")
    for i, (b, a) in enumerate(zip(before, after)): f.write("%d\t%.4f\t%.4f\n" % (i, b, a))
def mean_se(v):
    m = sum(v) / len(v)
    return m, (math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1) / len(v)) if len(v) > 1 else float("nan"))
with open(out + "/fig2-summary.tsv", "w") as f:
    # share_lower: the share of references whose log PR after HMC is below the one before
    f.write("z2\tn\tmean_log_pr\tse\tmedian_log_pr\tshare_lower\n")
    fell = "%.3f" % (sum(a < b for a, b in zip(after, before)) / len(before))
    for name, v, share in (("adversarial", before, "-"), ("adversarial+hmc", after, fell)):
        s = sorted(v); med = s[len(s) // 2] if len(s) % 2 else 0.5 * (s[len(s) // 2 - 1] + s[len(s) // 2])
        f.write("%s\t%d\t%.3f\t%.3f\t%.3f\t%s\n" % ((name, len(v)) + mean_se(v) + (med, share)))
PY
column -t "$OUT/fig2-summary.tsv" >&2
if need_gnuplot; then
    # bins of a width that gives about 20 over the range of both histograms
    width=$(python3 -c 'import sys; v = [float(l.split()[c]) for l in open(sys.argv[1]).readlines()[1:] for c in (1, 2)]; print("%.6g" % max((max(v) - min(v)) / 20, 1e-6))' "$OUT/fig2.tsv")
    gnuplot <<GP
set terminal pngcairo size 800,520 font ",11"
set output "$OUT/fig2.png"
set title "Paper D Figure 2: log posterior ratio log PR(z^r, z_2) (Eq. 11), lower is better\nours: $DATA, conv VAE $EPOCHS epochs, $N references, skl attack L∞ $RADIUS, HMC T = $T"
set xlabel "log PR(z^r, z_2) = log p(x^r|z^r) + log p(z^r) − log p(x^r|z_2) − log p(z_2)  (nats)"
set ylabel "references"
set style fill transparent solid 0.5 noborder
set key top right
w = $width
bin(x) = w * floor(x / w) + w / 2
set boxwidth w
set offsets 0, 0, graph 0.08, 0
plot "$OUT/fig2.tsv" every ::1 using (bin(\$2)):(1) smooth frequency with boxes lc rgb "#1f77b4" title "z_2 = z^a (before HMC)", \
     "" every ::1 using (bin(\$3)):(1) smooth frequency with boxes lc rgb "#ff7f0e" title "z_2 = z^a_{HMC} (after HMC)"
GP
    say "wrote $OUT/fig2.png"
fi
say "$(( $(date +%s) - start )) s"
