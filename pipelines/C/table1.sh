#!/usr/bin/env bash
# Paper C Table 1 (MNIST): for proVAEs trained at ε_train ∈ {0, 0.01, 0.02, 0.05, 0.1}, the
# certified lower bound on the ELBO (Eq. 21, vae-certify ibp at radius ε_train) on training
# and test images, and the test ELBO (vae-eval elbo), next to the paper's numbers.
#
#   pipelines/C/table1.sh OUTDIR     (make -C pipelines/C table1 → results/C/table1)
#
# Models: trained by train.sh into $MODELS (default OUTDIR/models; the Makefile shares
# results/C/models with fig3) unless already there, trained alike (train.sh; sizes: settings.sh).
# Environment (quick / FULL=1 / CHECK=1): NTRAIN=1000/60000/100 training and NTEST=1000/10000/100
# test images evaluated, SAMPLES=4/10/2 reparameterisation draws per image; PIXEL_BOX
# (settings.sh: 0 certifies the whole ball).
# Also the bound of a model that ignores its input (KL 0, the mean training image as output),
# the best a degenerate model can certify (column mean_image_bound+c).
# Writes OUTDIR/table1.tsv, certify-train.jsonl, certify-test.jsonl, elbo-test.jsonl,
# train.jsonl (vae-train's lines), table1.png. Rows of degenerate models are marked
# (column degenerate) and make the script fail at the end unless ALLOW_DEGENERATE=1.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/settings.sh"
OUT=$(out_dir "$@")
MODELS=${MODELS:-$OUT/models}
NTRAIN=${NTRAIN:-$(pick 1000 60000 100)}; NTEST=${NTEST:-$(pick 1000 10000 100)}; SAMPLES=${SAMPLES:-$(pick 4 10 2)}
mkdir -p "$OUT"
start=$(date +%s)
for e in $EPS_LIST; do "$(dirname "$0")/train.sh" "$MODELS" "$e"; done
: > "$OUT/certify-train.jsonl"; : > "$OUT/certify-test.jsonl"; : > "$OUT/elbo-test.jsonl"; : > "$OUT/train.jsonl"
for e in $EPS_LIST; do
    M="$MODELS/eps-$e.safetensors"
    say "ε_train = $e: bounds on $NTRAIN training and $NTEST test images, test ELBO…"
    "$BIN/vae-certify" ibp --model "$M" --input "$DATA:train[0:$NTRAIN]" --eps "$e" "${box_attack[@]}" --samples "$SAMPLES" --summary-only >> "$OUT/certify-train.jsonl"
    "$BIN/vae-certify" ibp --model "$M" --input "$DATA:test[0:$NTEST]" --eps "$e" "${box_attack[@]}" --samples "$SAMPLES" --summary-only >> "$OUT/certify-test.jsonl"
    "$BIN/vae-eval" elbo --model "$M" --input "$DATA:test[0:$NTEST]" --samples "$SAMPLES" --summary-only >> "$OUT/elbo-test.jsonl"
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["eps_train_arg"] = sys.argv[2]; print(json.dumps(d))' \
        "$MODELS/eps-$e.train.json" "$e" >> "$OUT/train.jsonl"
done
# the reference a degenerate model reaches at best: Eq. 21 for a model that ignores its input
# (KL = 0, decoder output the training images' mean image), on the same test images
"$BIN/vae-eval" export --input "$DATA:train[0:$(pick 10000 60000 2000)]" -o "$OUT/train-images.npy" 2> /dev/null
"$BIN/vae-eval" export --input "$DATA:test[0:$NTEST]" -o "$OUT/test-images.npy" 2> /dev/null
python3 - "$OUT" "$MODELS" "$C_OFFSET" "$EPS_LIST" "$SIGMA0" "$PIXEL_BOX" > "$OUT/table1.tsv" <<'PY'
import json, sys
import numpy as np
out, models, c, eps_list, s0 = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4].split(), float(sys.argv[5])
box = sys.argv[6] == "1"
mean = np.load(out + "/train-images.npy").reshape(-1, 784).mean(0)
xt = np.load(out + "/test-images.npy").reshape(-1, 784)
def mean_image_bound(e):
    # the ball's ends, clipped to [0, 1] as the certificates are (PIXEL_BOX=1) or not
    hi, lo = (np.minimum(xt + e, 1), np.maximum(xt - e, 0)) if box else (xt + e, xt - e)
    return -(np.maximum((hi - mean) ** 2, (lo - mean) ** 2).sum(1) / (2 * s0 * s0)).mean()
# paper C Table 1, MNIST: ε_train → (bound train, bound test, ELBO test), nats without the Gaussian constant
paper = {"0": (-28.54, -28.36, -28.36), "0.01": (-36.44, -36.06, -32.35), "0.02": (-39.69, -39.21, -33.97),
         "0.05": (-44.79, -44.39, -36.78), "0.1": (-54.49, -54.49, -43.41)}
rd = lambda name: [json.loads(l) for l in open("%s/%s" % (out, name))]
tr, te, el, tj = rd("certify-train.jsonl"), rd("certify-test.jsonl"), rd("elbo-test.jsonl"), rd("train.jsonl")
print("\t".join(["eps_train", "bound_train", "bound_test", "elbo_test", "elbo_test_se",
                 "bound_train+c", "bound_test+c", "elbo_test+c", "paper_bound_train", "paper_bound_test", "paper_elbo_test",
                 "mean_image_bound+c", "test_mse", "enc_jacobian", "degenerate", "train_s"]))
for e, a, b, d, t in zip(eps_list, tr, te, el, tj):
    enc = json.load(open("%s/eps-%s.encoder.json" % (models, e)))
    p = paper.get(e, ("", "", ""))
    try: open("%s/eps-%s.degenerate" % (models, e)); degenerate = "YES"
    except OSError: degenerate = "no"
    print("\t".join([e, "%.2f" % a["mean_bound"], "%.2f" % b["mean_bound"], "%.2f" % d["mean"], "nan" if d["stderr"] is None else "%.2f" % d["stderr"],
                     "%.2f" % (a["mean_bound"] + c), "%.2f" % (b["mean_bound"] + c), "%.2f" % (d["mean"] + c)]
                    + [str(v) for v in p] + ["%.2f" % mean_image_bound(float(e)), "%.4f" % t["test_mse"], "%.3g" % enc["jacobian_frobenius_mean"], degenerate, "%.0f" % t["seconds"]]))
PY
rm -f "$OUT/train-images.npy" "$OUT/test-images.npy"
if need_gnuplot; then
    # the paper's numbers are drawn when ours are on their scale (σ0² = 1/2)
    paper=""
    [ "$PAPER_SCALE" = 1 ] && paper=', "" using 1:9 every ::1 with linespoints lw 1 dt 2 pt 6 lc rgb "#1f77b4" title "paper: bound, train",
     "" using 1:10 every ::1 with linespoints lw 1 dt 2 pt 4 lc rgb "#d62728" title "paper: bound, test",
     "" using 1:11 every ::1 with linespoints lw 1 dt 2 pt 8 lc rgb "#2ca02c" title "paper: ELBO, test"'
    paper=${paper//$'\n'/ }
    gnuplot <<GP
set terminal pngcairo size 900,560 font ",11"
set output "$OUT/table1.png"
set title "Paper C Table 1: certified ELBO bound (at ε_{train}) and ELBO against ε_{train}\\nours: $DATA, ε_{train} = 0 trained $EPOCHS epochs, the others $FT_EPOCHS more from it\\nσ_0 = $SIGMA0, $NTEST test images; paper: MNIST"
set xlabel "ε_{train} (L∞ radius trained for)"
set ylabel "nats per image (Eq. 9 without the constant c)"
set key outside right top
set rmargin at screen 0.70
set grid
set datafile separator "\t"
set xrange [-0.005:0.105]
plot "$OUT/table1.tsv" using 1:6 every ::1 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "ours: bound, train", \\
     "" using 1:7 every ::1 with linespoints lw 2 pt 5 lc rgb "#d62728" title "ours: bound, test", \\
     "" using 1:8 every ::1 with linespoints lw 2 pt 9 lc rgb "#2ca02c" title "ours: ELBO, test", \\
     "" using 1:12 every ::1 with lines lw 2 dt 3 lc rgb "#7f7f7f" title "bound of a model ignoring its input" $paper
GP
    say "wrote $OUT/table1.png"
fi
column -t -s $'\t' "$OUT/table1.tsv"
say "$(( $(date +%s) - start )) s"
degenerate_gate
