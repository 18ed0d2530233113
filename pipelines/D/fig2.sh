#!/usr/bin/env bash
# Paper D Figure 2 (Figure 7 and Appendix C.1): histograms of the log posterior ratio, Eq. 11,
#     log PR(z1, z2) = log p(x^r | z1) + log p(z1) − log p(x^r | z2) − log p(z2),
# between the reference code z1 = z^r and the code of the reference's adversarial point, before
# HMC (z2 = z^a) and after it (z2 = z^a_HMC), on MNIST. As in the authors' attack code
# (attack/trainer.py of AKuzina/defend_vae_mcmc), z^r and z^a are reparameterised samples of
# q(z | x^r) and q(z | x^a), and z^a_HMC the end of an HMC chain that targets p(z | x^a) and starts
# at a sample of q(z | x^a). Lower is better: in the paper the histogram moves left after HMC.
# The same two ratios under the adversarial image's posterior, log p(z^r | x^a) − log p(z_2 | x^a)
# (Eq. 11 with x^a for x^r), say whether HMC, which samples p(z | x^a), could reach the reference's
# code at all: paper D's Lemma 1 has p(z | x^a) close to p(z | x^r) for small radii, and Lemma 2's
# bound needs it; a strongly negative value means p(z | x^a) puts its mass elsewhere.
#
#   pipelines/D/fig2.sh OUTDIR        (make -C pipelines/D fig2 writes results/D/fig2/)
#
# Data: binarised MNIST; CHECK=1 uses binarised Fashion-MNIST (lib.sh check_data), DATA=NAME
# overrides both. vae-hmc runs a burn-in of half of T before its T transitions.
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   EPOCHS 3 / 300 / 1 (paper D's conv VAE, Table 6, trained as table2.sh trains it)
#   N references 100 / 1000 / 4    T HMC transitions 100 / 500 on MNIST, 1000 otherwise / 2
#   RADIUS 0.1 (skl attack, paper D's optimiser, one restart per reference)
#   MODEL_ARGS: vae-train options for the model (lib-D.sh prepare_d), e.g. "--beta 2" for a β-VAE
# HMC starts at η0 0.1 on MNIST, 0.05 otherwise (the authors' run scripts; lib-D.sh hmc_eta).
# Writes OUTDIR/fig2.tsv (per reference: log PR before and after HMC, under x^r and under x^a),
# fig2-summary.tsv (means, standard errors, the share of references whose ratio fell), fig2.png
# (left: paper D's histograms; right: the same under x^a), fig2-attack.tsv (the share of the
# references' background pixels the attack raised, and raised to the full radius; the share of
# foreground pixels it lowered), fig2-pixels.tsv (each code's log p(x^a | z) on the background, on
# the foreground pixels and in all) and the tools' JSON lines.
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
"$BIN/vae-eval" posterior-ratio --model "$M" --input "$OUT/adv.npy" --z1 "$OUT/z-ref.npy" --z2 "$OUT/z-adv.npy" > "$OUT/ratio-adv-before.jsonl"
"$BIN/vae-eval" posterior-ratio --model "$M" --input "$OUT/adv.npy" --z1 "$OUT/z-ref.npy" --z2 "$OUT/z-hmc.npy" > "$OUT/ratio-adv-after.jsonl"
python3 - "$OUT" <<'PY'
import json, math, sys
out = sys.argv[1]
def items(name):
    rows = [json.loads(l) for l in open("%s/%s" % (out, name))]
    return [r["log_ratio"] for r in rows if "index" in r]
before, after = items("ratio-before.jsonl"), items("ratio-after.jsonl")
adv_before, adv_after = items("ratio-adv-before.jsonl"), items("ratio-adv-after.jsonl")
assert len(before) == len(after) == len(adv_before) == len(adv_after) > 0, (len(before), len(after), len(adv_before), len(adv_after))
with open(out + "/fig2.tsv", "w") as f:
    # log_pr_*: Eq. 11 under the reference x^r; xa_log_pr_*: the same codes under x^a
    f.write("reference\tlog_pr_before_hmc\tlog_pr_after_hmc\txa_log_pr_before_hmc\txa_log_pr_after_hmc\n")
    for i, row in enumerate(zip(before, after, adv_before, adv_after)): f.write(("%d" + "\t%.4f" * 4 + "\n") % ((i,) + row))
def mean_se(v):
    m = sum(v) / len(v)
    return m, (math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1) / len(v)) if len(v) > 1 else float("nan"))
with open(out + "/fig2-summary.tsv", "w") as f:
    # posterior: the image whose posterior the ratio compares (x^r: paper D's Figure 2; x^a: the
    # adversarial image's); share_lower: the share of references whose log PR after HMC is below
    # the one before
    f.write("posterior\tz2\tn\tmean_log_pr\tse\tmedian_log_pr\tshare_lower\n")
    for post, b, a in (("x^r", before, after), ("x^a", adv_before, adv_after)):
        fell = "%.3f" % (sum(y < x for x, y in zip(b, a)) / len(b))
        for name, v, share in (("adversarial", b, "-"), ("adversarial+hmc", a, fell)):
            s = sorted(v); med = s[len(s) // 2] if len(s) % 2 else 0.5 * (s[len(s) // 2 - 1] + s[len(s) // 2])
            f.write("%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%s\n" % ((post, name, len(v)) + mean_se(v) + (med, share)))
PY
# what the attack did to the pixels: the share of background pixels (0 in the binarised
# reference) that it raised, and raised to the full radius, and the foreground pixels it lowered;
# and where the codes' likelihood of x^a differs: log p(x^a | z) summed over the reference's
# background and foreground pixels, exactly from the decoder's logits l (vae-eval decode
# --logits: x·l − log(1 + eˡ) per pixel), their total (checked against vae-eval
# log-likelihood's), and the median decoded probability σ(l) of a background pixel
for c in ref adv hmc; do
    "$BIN/vae-eval" decode --model "$M" --codes "$OUT/z-$c.npy" --logits -o "$OUT/dec-$c.npy" 2> /dev/null
    "$BIN/vae-eval" log-likelihood --model "$M" --input "$OUT/adv.npy" --codes "$OUT/z-$c.npy" > "$OUT/dec-$c.jsonl"
done
python3 - "$OUT" "$RADIUS" <<'PY'
import json, sys
import numpy as np
out, radius = sys.argv[1], float(sys.argv[2])
ref, adv = np.load(out + "/ref.npy"), np.load(out + "/adv.npy")
ref, adv = ref.reshape(len(ref), -1), adv.reshape(len(ref), -1)
bg, d = ref == 0, adv - ref
with open(out + "/fig2-attack.tsv", "w") as f:
    f.write("radius\tbackground_share\tbackground_raised\tbackground_at_radius\tbackground_mean\tforeground_lowered\n")
    f.write("%g\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n" % (radius, bg.mean(), (d[bg] > 0.01).mean(), (d[bg] > radius - 1e-3).mean(),
                                                 adv[bg].mean(), (d[~bg] < -0.01).mean()))
with open(out + "/fig2-pixels.tsv", "w") as f:
    f.write("code\tlog_p_xa_background\tlog_p_xa_foreground\tlog_p_xa\tmedian_background_probability\n")
    for c, name in (("ref", "z^r"), ("adv", "z^a"), ("hmc", "z^a_HMC")):
        l = np.load("%s/dec-%s.npy" % (out, c)).reshape(len(ref), -1).astype(np.float64)
        ll = adv * l - np.logaddexp(0, l)
        total = np.array([r["log_px"] for r in map(json.loads, open("%s/dec-%s.jsonl" % (out, c))) if "index" in r])
        # the split must add up to the tool's own log p(x^a | z)
        assert np.allclose(ll.sum(1), total, rtol=1e-4, atol=0.05), (name, ll.sum(1)[:4], total[:4])
        f.write("%s\t%.2f\t%.2f\t%.2f\t%.3g\n" % (name, (ll * bg).sum(1).mean(), (ll * ~bg).sum(1).mean(), total.mean(),
                                                np.median(1 / (1 + np.exp(-l[bg])))))
PY
rm -f "$OUT"/dec-*.npy "$OUT"/dec-*.jsonl
column -t "$OUT/fig2-summary.tsv" >&2; column -t "$OUT/fig2-attack.tsv" >&2; column -t "$OUT/fig2-pixels.tsv" >&2
if need_gnuplot; then
    # bins of a width that gives about 20 over the range of a panel's two histograms (columns C1, C2)
    width() { python3 -c 'import sys; v = [float(l.split()[c]) for l in open(sys.argv[1]).readlines()[1:] for c in (int(sys.argv[2]), int(sys.argv[3]))]; print("%.6g" % max((max(v) - min(v)) / 20, 1e-6))' "$OUT/fig2.tsv" "$1" "$2"; }
    # panel BEFORE AFTER X TITLE: the gnuplot lines of one panel, fig2.tsv's (1-based) columns
    # BEFORE and AFTER as the histograms before and after HMC, under the posterior of image X
    panel() {
        cat <<P
w = $(width $(( $1 - 1 )) $(( $2 - 1 )))
set boxwidth w
set title "$4"
set xlabel "log p($3|z^r) + log p(z^r) − log p($3|z_2) − log p(z_2)  (nats)"
plot "$OUT/fig2.tsv" every ::1 using (bin(\$$1, w)):(1) smooth frequency with boxes lc rgb "#1f77b4" title "z_2 = z^a (before HMC)", \\
     "" every ::1 using (bin(\$$2, w)):(1) smooth frequency with boxes lc rgb "#ff7f0e" title "z_2 = z^a_{HMC} (after HMC)"
P
    }
    gnuplot <<GP
set terminal pngcairo size 1400,520 font ",11"
set output "$OUT/fig2.png"
set multiplot layout 1,2 title "Paper D Figure 2 (ours: $DATA, conv VAE${MODEL_ARGS:+ ($MODEL_ARGS)} $EPOCHS epochs, $N references, skl attack L∞ $RADIUS, HMC T = $T)"
set style fill transparent solid 0.5 noborder
set key top right
set ylabel "references"
set offsets 0, 0, graph 0.08, 0
bin(x, w) = w * floor(x / w) + w / 2
$(panel 2 3 x^r "paper D's: under the reference's posterior (Eq. 11), lower is better")
$(panel 4 5 x^a "the same codes under the adversarial image's posterior, which HMC samples\\n(below 0: p(z|x^a) prefers z_2 to the reference's code z^r)")
unset multiplot
GP
    say "wrote $OUT/fig2.png"
fi
say "$(( $(date +%s) - start )) s"
