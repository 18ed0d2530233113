#!/usr/bin/env bash
# The hierarchical VAE's quality against our `conv` VAE (paper D Table 6) at a comparable
# training time (the hvae issue's criterion): both trained on binarised MNIST (`--binarize
# dynamic`, as paper D), one after the other, then the importance-sampled test NLL of each on
# the same binarised test images, and the paired difference per image.
#
#   pipelines/D/hvae-nll.sh OUTDIR        (make -C pipelines/D hvae-nll writes results/D/hvae-nll/)
#
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   CONV_EPOCHS 6 / 30 / 1   HVAE_EPOCHS 16 / 80 / 1 (an epoch of the default hvae, --hidden 16,32,256, takes
#   about 0.4 of the conv's on a Zen 5 host, one with 32,64,256 about 0.7, with LATENT_MAP about 1.1)
#   N test images 500 / 10000 / 20   SAMPLES importance samples 200 / 1000 / 5
#   K=2 latent groups of 16, LR=2e-3 for both, SEED=0; LATENT_MAP=C makes the lower groups
#   C×7×7 latent maps (vae-train --latent-map; default off); HVAE_HIDDEN=C1,C2,W the hvae's two
#   channel counts and top-down width (vae-train --hidden; default its own, 16,32,256);
#   HVAE_BATCH the hvae's minibatch (default 128, the conv's)
#   DATA mnist; CHECK=1 uses Fashion-MNIST (the one dataset CI has), so its NLLs are not MNIST's
# Writes OUTDIR/hvae-nll.tsv (data, model, epochs, training seconds, test ELBO, mean NLL, its standard
# error, and the mean and standard error of the per-image NLL difference from the conv VAE),
# the per-image NLL lines (nll-*.jsonl) and the training records (train-*.jsonl).
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist)
CONV_EPOCHS=${CONV_EPOCHS:-$(pick 6 30 1)}; HVAE_EPOCHS=${HVAE_EPOCHS:-$(pick 16 80 1)}
N=${N:-$(pick 500 10000 20)}; SAMPLES=${SAMPLES:-$(pick 200 1000 5)}
K=${K:-2}; LR=${LR:-2e-3}; SEED=${SEED:-0}; LATENT_MAP=${LATENT_MAP:-}; HVAE_HIDDEN=${HVAE_HIDDEN:-}; HVAE_BATCH=${HVAE_BATCH:-128}
mkdir -p "$OUT"
start=$(date +%s)
say "data $DATA, $N test images, K = $SAMPLES importance samples"
train_once "$OUT/conv.safetensors" "$OUT/train-conv.jsonl" --data "$DATA" --arch conv --binarize dynamic \
    --epochs "$CONV_EPOCHS" --lr "$LR" $(train_limit) --seed "$SEED"
train_once "$OUT/hvae.safetensors" "$OUT/train-hvae.jsonl" --data "$DATA" --arch hvae --groups "$K" --binarize dynamic \
    --epochs "$HVAE_EPOCHS" --lr "$LR" --batch "$HVAE_BATCH" $(train_limit) --seed "$SEED" ${LATENT_MAP:+--latent-map "$LATENT_MAP"} ${HVAE_HIDDEN:+--hidden "$HVAE_HIDDEN"}
for m in conv hvae; do
    "$BIN/vae-eval" nll --model "$OUT/$m.safetensors" --input "$DATA:test[0:$N]#bin" --samples "$SAMPLES" \
        --seed "$SEED" > "$OUT/nll-$m.jsonl"
done
python3 - "$OUT" "$CONV_EPOCHS" "$HVAE_EPOCHS" "$K" "$DATA" <<'PY' > "$OUT/hvae-nll.tsv"
import json, math, sys
out, epochs = sys.argv[1], {"conv": sys.argv[2], "hvae": sys.argv[3]}
def per_image(m):
    rows = [json.loads(l) for l in open(f"{out}/nll-{m}.jsonl")]
    return [r["nll"] for r in rows if "index" in r]
nll = {m: per_image(m) for m in ("conv", "hvae")}
print("data\tmodel\tepochs\ttrain_seconds\ttest_elbo\tnll\tnll_stderr\tdiff_vs_conv\tdiff_stderr")
for m, name in (("conv", "conv"), ("hvae", f"hvae ({sys.argv[4]} groups)")):
    t = json.loads(open(f"{out}/train-{m}.jsonl").read())
    x, n = nll[m], len(nll[m])
    mean = sum(x) / n
    se = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1) / n) if n > 1 else float("nan")
    d = [a - b for a, b in zip(x, nll["conv"])]
    dm = sum(d) / n
    dse = math.sqrt(sum((v - dm) ** 2 for v in d) / (n - 1) / n) if n > 1 else float("nan")
    print(f"{sys.argv[5]}\t{name}\t{epochs[m]}\t{t['seconds']:.1f}\t{t['test_elbo']:.2f}\t{mean:.2f}\t{se:.2f}\t{dm:.2f}\t{dse:.2f}")
PY
column -t -s $'\t' "$OUT/hvae-nll.tsv"
say "$(( $(date +%s) - start )) s"
