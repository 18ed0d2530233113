#!/usr/bin/env bash
# The first thing to run (`make demo`): paper D's conv VAE on binarised Fashion-MNIST, trained
# for one epoch, then the whole chain on 50 test images:
#   attack   vae-attack skl at L∞ 0.1 (paper D's symmetric-KL attack, 50 steps);
#   defend   vae-hmc from the attacked posterior (paper D Algorithm 1, T = 100, L = 20);
#   measure  MS-SSIM (paper D's variant) of each reconstruction to its clean image;
#   certify  vae-certify jacobian, paper B Theorem 1's margin for r = 8 (per-image, first order).
# Prints a short table and the path of a picture (clean, reconstruction, attacked, its
# reconstruction, after HMC).  pipelines/demo.sh OUTDIR   (CHECK=1: a tiny run)
. "$(dirname "$0")/lib.sh"
OUT=$(out_dir "$@")
N=$(pick 50 50 8); T=$(pick 100 100 2); EPOCHS=$(pick 1 1 1)
mkdir -p "$OUT"
start=$(date +%s)
M="$OUT/vae.safetensors"
say "training the conv VAE (1 epoch of binarised Fashion-MNIST)…"
"$BIN/vae-train" --data fashion-mnist --arch conv --binarize dynamic --epochs "$EPOCHS" $(train_limit) --seed 0 -o "$M" > "$OUT/train.json"
"$BIN/vae-eval" export --input "fashion-mnist:test@$N#bin" -o "$OUT/clean.npy"
"$BIN/vae-eval" recon --model "$M" --input "$OUT/clean.npy" -o "$OUT/rec.npy"
say "attacking $N images (skl, L∞ 0.1)…"
"$BIN/vae-attack" skl --model "$M" --input "$OUT/clean.npy" --radius 0.1 -o "$OUT/adv.npy" --summary-only > "$OUT/attack.json"
"$BIN/vae-eval" recon --model "$M" --input "$OUT/adv.npy" -o "$OUT/rec-adv.npy"
say "defending with HMC (T = $T)…"
"$BIN/vae-hmc" --model "$M" --input "$OUT/adv.npy" --steps "$T" --decode "$OUT/hmc.npy" -o "$OUT/z-hmc.npy" --summary-only > "$OUT/hmc.json"
say "certifying (paper B Theorem 1, r = 8)…"
"$BIN/vae-certify" jacobian --model "$M" --input "$OUT/clean.npy" --r 8 > "$OUT/certify.jsonl"
ms() { "$BIN/vae-eval" msssim "$OUT/clean.npy" "$1" --variant kuzina --summary-only | summary_mean_se %.3f ' ± '; }
"$BIN/vae-eval" grid "$OUT/clean.npy[0:12]" "$OUT/rec.npy[0:12]" "$OUT/adv.npy[0:12]" "$OUT/rec-adv.npy[0:12]" "$OUT/hmc.npy[0:12]" \
    --label clean --label recon --label "attacked" --label "its recon" --label "after HMC" -o "$OUT/demo.png"
{
    printf 'what\tvalue\n'
    printf 'test ELBO after training (nats)\t%s\n' "$(field test_elbo < "$OUT/train.json")"
    printf 'MS-SSIM, clean reconstruction\t%s\n' "$(ms "$OUT/rec.npy")"
    printf 'MS-SSIM, attacked reconstruction\t%s\n' "$(ms "$OUT/rec-adv.npy")"
    printf 'MS-SSIM, attacked, after HMC\t%s\n' "$(ms "$OUT/hmc.npy")"
    python3 - "$OUT/certify.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"index"' in l]
m = [r["margin_low"] for r in rows if r.get("margin_low") is not None]
print("certified margin (paper B, r = 8), median over %d images\t%s" % (len(rows), ("%.4f" % statistics.median(m)) if m else "none"))
PY
} > "$OUT/demo.tsv"
column -t -s $'\t' "$OUT/demo.tsv"
echo "picture: $OUT/demo.png"
say "$(( $(date +%s) - start )) s"
