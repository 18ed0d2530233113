#!/usr/bin/env bash
# Paper A Figure 1 and Figure E.8 as image grids, for a standard VAE and a Lipschitz-VAE (M = 5),
# both with a fixed encoder σ (‖σ‖₂ = 0.1, the models of Figure 5; SIGMA=learned for a learned σ(x)):
#   Figure 1   a maximum-damage attack (Eq. 4: vae-attack max-damage --damage-reference sample,
#              L2, ‖δ‖₂ ≤ 3): rows clean, its reconstruction, attacked, its reconstruction;
#   Figure E.8 a latent-space attack (Eq. 3: vae-attack latent, minimise KL(q(z|x+δ) ‖ q(z|x_t))
#              under ‖δ‖₂ ≤ R) of test image 0 (a 7 in MNIST) towards test image 1 (a 2), for
#              growing R: per row, for each model, the original, its reconstruction, the
#              reconstruction under the attack, and the target.
# The paper's finding: the Lipschitz-VAE's reconstructions barely move under either attack,
# the standard VAE's do.
#
#   pipelines/A/grids.sh OUTDIR          (make -C pipelines/A grids writes results/A/grids/)
#
# Sizes (quick / FULL=1 / CHECK=1; each can be overridden by its variable):
#   CONV_TOL "" / 1 / "": vae-train --convergence-tol (FULL: to convergence, at most the epochs below)
#   STD_EPOCHS 5 / 50 / 1 (the standard VAE, as fig5)   LIP_EPOCHS 3 / 50 / 1 (the Lipschitz-VAE: after
#   fig4's single epoch it still decodes most digits to a blurred 0, 8 or 9)   TRAIN_LIMIT 20000 / all / 2000   N 8 / 16 / 4 images attacked (Figure 1)
#   STEPS 100 / 200 / 5 attack steps   RESTARTS 5 / 10 / 1   SAMPLES 4 / 8 / 1 (max-damage)
#   RADIUS 3 (Figure 1)   RADII "1 2 3 5" (CHECK: 3) (Figure E.8)   DATA mnist
#   SIGMA  the fixed encoder σ per dimension of both models (default 0.0316228, ‖σ‖₂ = 0.1), or
#          learned: σ(x) learned by a sigmoid head in both, as the authors' code trains the models
#          of these figures (STD_LR then applies to that head too)
#   REUSE  where to look for fig5/ and fig4/'s models (default: OUTDIR's parent, i.e. the other
#          pipelines' outputs of the same size), copied when trained exactly as here; REUSE= for none
# Writes OUTDIR/fig1.png, fig1-standard.png, fig1-lipschitz.png, figE8.png, grids.tsv (the
# reconstructions' L2 displacement under each attack), grids-pairs.tsv (Figure E.8's attack on N
# pairs: the share of the source-target gap closed, in pixel and latent space) and the tools'
# JSON lines.
. "$(dirname "$0")/../lib.sh"
OUT=$(out_dir "$@")
DATA=$(check_data mnist)
TRAIN_LIMIT=${TRAIN_LIMIT:-$(pick 20000 all 2000)}
N=${N:-$(pick 8 16 4)}
STEPS=${STEPS:-$(pick 100 200 5)}; RESTARTS=${RESTARTS:-$(pick 5 10 1)}; SAMPLES=${SAMPLES:-$(pick 4 8 1)}
RADIUS=${RADIUS:-3}; RADII=${RADII:-$(pick "1 2 3 5" "1 2 3 5" "3")}
SIGMA=${SIGMA:-0.0316228}; M=${M:-5}; STD_LR=${STD_LR:-1e-3}; STD_EPOCHS=${STD_EPOCHS:-$(pick 5 50 1)}
LIP_EPOCHS=${LIP_EPOCHS:-$(pick 3 50 1)}; CONV_TOL=${CONV_TOL-$(pick "" 1 "")}   # FULL: to convergence (sizes.sh)
REUSE=${REUSE-$(dirname "$OUT")}
mkdir -p "$OUT"
start=$(date +%s)
. "$(dirname "$0")/models.sh"
if [ "$SIGMA" = learned ]; then
    # the authors' models of Figures 1 and E.8: σ(x) learned by a sigmoid head in both
    say "training the standard and the Lipschitz-VAE with a learned σ(x)…"
    train_once "$OUT/standard.safetensors" "$OUT/standard-train.jsonl" --data "$DATA" --arch mlp --likelihood cbernoulli \
        --lr "$STD_LR" --epochs "$STD_EPOCHS" $(convergence) $(limits) --seed 0
    train_once "$OUT/lipschitz.safetensors" "$OUT/lipschitz-train.jsonl" --data "$DATA" --arch mlp --lipschitz "$M" \
        --likelihood cbernoulli --lr 1e-4 --epochs "$LIP_EPOCHS" $(convergence) $(limits) --seed 0
else
    EPOCHS=$STD_EPOCHS train_model "$OUT/standard.safetensors" 0 "$STD_LR" ${REUSE:+"$REUSE/fig5/standard.safetensors"}
    EPOCHS=$LIP_EPOCHS train_model "$OUT/lipschitz.safetensors" "$M" 1e-4 ${REUSE:+"$REUSE/fig5/lip$M.safetensors" "$REUSE/fig4/$DATA-lip$M-sn0.1.safetensors" "$REUSE/fig4/$DATA-lip$M.safetensors"}
fi

"$BIN/vae-eval" export --input "$DATA:test@$N" -o "$OUT/clean.npy" 2> /dev/null
"$BIN/vae-eval" export --input "$DATA:test[0:2]" -o "$OUT/pair.npy" 2> /dev/null   # source (0) and target (1)
python3 -c 'import numpy as np, sys; np.save(sys.argv[3], np.concatenate([np.load(sys.argv[1]), np.load(sys.argv[2])]))' \
    "$OUT/clean.npy" "$OUT/pair.npy" "$OUT/inputs.npy"
printf 'attack\tmodel\tradius\tdisplacement_mean\tdisplacement_sd\tdelta_norm_mean\tto_target_clean\tto_target_attacked\n' > "$OUT/grids.tsv"
for v in standard lipschitz; do
    model="$OUT/$v.safetensors"
    check_encoder "$model" "$DATA:test@100" "$v VAE"
    # every reconstruction in one call per model (a Lipschitz model takes a second or two to load)
    "$BIN/vae-eval" recon --model "$model" --input "$OUT/inputs.npy" -o "$OUT/$v-rec-inputs.npy" 2> /dev/null
    say "maximum-damage attack on the $v VAE (‖δ‖₂ ≤ $RADIUS, $RESTARTS restarts × $STEPS steps)…"
    "$BIN/vae-attack" max-damage --model "$model" --input "$OUT/clean.npy" --norm l2 --radius "$RADIUS" \
        --steps "$STEPS" --restarts "$RESTARTS" --samples "$SAMPLES" --damage-reference sample --keep best --seed 0 \
        -o "$OUT/$v-maxdamage.npy" > "$OUT/$v-maxdamage.jsonl"
    advs="$OUT/$v-maxdamage.npy"
    for r in $RADII; do
        "$BIN/vae-attack" latent --model "$model" --input "$OUT/pair.npy[0:1]" --target "$OUT/pair.npy[1:2]" --norm l2 \
            --radius "$r" --steps "$STEPS" --restarts "$RESTARTS" --keep best --seed 0 \
            -o "$OUT/$v-latent-$r.npy" > "$OUT/$v-latent-$r.jsonl"
        advs="$advs $OUT/$v-latent-$r.npy"
    done
    python3 -c 'import numpy as np, sys; np.save(sys.argv[1], np.concatenate([np.load(p) for p in sys.argv[2:]]))' "$OUT/$v-advs.npy" $advs
    "$BIN/vae-eval" recon --model "$model" --input "$OUT/$v-advs.npy" -o "$OUT/$v-rec-advs.npy" 2> /dev/null
    # split the reconstructions back into files
    python3 - "$OUT" "$v" "$N" $RADII <<'PY'
import os, sys
import numpy as np
out, v, n, radii = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
ri = np.load(os.path.join(out, v + "-rec-inputs.npy")); ra = np.load(os.path.join(out, v + "-rec-advs.npy"))
np.save(os.path.join(out, v + "-rec.npy"), ri[:n]); np.save(os.path.join(out, v + "-source-rec.npy"), ri[n:n + 1])
np.save(os.path.join(out, v + "-target-rec.npy"), ri[n + 1:n + 2])
np.save(os.path.join(out, v + "-maxdamage-rec.npy"), ra[:n])
for k, r in enumerate(radii): np.save(os.path.join(out, v + "-latent-" + r + "-rec.npy"), ra[n + k:n + k + 1])
PY
    "$BIN/vae-eval" grid "$OUT/clean.npy" "$OUT/$v-rec.npy" "$OUT/$v-maxdamage.npy" "$OUT/$v-maxdamage-rec.npy" \
        --label clean --label recon --label "attacked" --label "its recon" -o "$OUT/fig1-$v.png" 2> /dev/null
done
# the displacement of the reconstructions (L2, pixel space) and the rows of Figure E.8
python3 - "$OUT" "$RADIUS" $RADII >> "$OUT/grids.tsv" <<'PY'
import os, sys
import numpy as np
out, radius, radii = sys.argv[1], sys.argv[2], sys.argv[3:]
L = lambda n: np.load(os.path.join(out, n + ".npy")).astype(np.float64)
flat = lambda a: a.reshape(len(a), -1)
clean = L("clean"); src = L("pair")[0:1]; tgt = L("pair")[1:2]
for v in ("standard", "lipschitz"):
    d = np.linalg.norm(flat(L(v + "-maxdamage-rec")) - flat(L(v + "-rec")), axis=1)
    dn = np.linalg.norm(flat(L(v + "-maxdamage")) - flat(clean), axis=1)
    print("max-damage\t%s\t%s\t%.3f\t%.3f\t%.3f\t\t" % (v, radius, d.mean(), d.std(ddof=1) if len(d) > 1 else float("nan"), dn.mean()))
for v in ("standard", "lipschitz"):
    rec0 = flat(L(v + "-source-rec")); trec = flat(L(v + "-target-rec"))
    for r in radii:
        adv = L(v + "-latent-" + r); arec = flat(L(v + "-latent-" + r + "-rec"))
        print("latent\t%s\t%s\t%.3f\t\t%.3f\t%.3f\t%.3f" % (v, r, np.linalg.norm(arec - rec0), np.linalg.norm(flat(adv) - flat(src)),
              np.linalg.norm(rec0 - trec), np.linalg.norm(arec - trec)))
# one .npy per row of Figure E.8: standard (original, recon, attacked recon, target), then Lipschitz
for r in radii:
    row = []
    for v in ("standard", "lipschitz"):
        row += [src[0], L(v + "-source-rec")[0], L(v + "-latent-" + r + "-rec")[0], tgt[0]]
    np.save(os.path.join(out, "figE8-row-%s.npy" % r), np.stack(row).astype(np.float32))
PY
rows=""; labels=()
for r in $RADII; do rows="$rows $OUT/figE8-row-$r.npy"; labels+=(--label "norm $r"); done
"$BIN/vae-eval" grid $rows "${labels[@]}" --columns 8 --scale 4 -o "$OUT/figE8.png" 2> /dev/null
# Figure E.8 over more than one pair: each of the N Figure 1 images towards the next one (the
# last towards the first; stratified, so mostly another class), the same latent attack and radii.
# Per pair, the share of the gap the attack closes, in pixel space
# 1 − ‖g(μ(x+δ)) − g(μ(x_t))‖ / ‖g(μ(x)) − g(μ(x_t))‖ and in latent space with μ for g(μ(·)):
# grids-pairs.tsv, its mean and standard error per model and radius.
python3 -c 'import numpy as np, sys; np.save(sys.argv[2], np.roll(np.load(sys.argv[1]), -1, axis=0))' "$OUT/clean.npy" "$OUT/targets.npy"
# latent_per_input: ‖μ(x) − μ(x_t)‖ / ‖x − x_t‖, the encoder's gain between the pair's images;
# latent_per_delta: ‖μ(x + δ) − μ(x)‖ / ‖δ‖, its gain along the attack (both means over the pairs)
printf 'model\tradius\tpairs\tpixel_share_closed\tse\tlatent_share_closed\tse\tto_target_clean_mean\tlatent_per_input\tlatent_per_delta\n' > "$OUT/grids-pairs.tsv"
for v in standard lipschitz; do
    model="$OUT/$v.safetensors"
    say "latent attacks on the $v VAE, $N pairs, ‖δ‖₂ in $RADII…"
    advs=""
    for r in $RADII; do
        "$BIN/vae-attack" latent --model "$model" --input "$OUT/clean.npy" --target "$OUT/targets.npy" --norm l2 \
            --radius "$r" --steps "$STEPS" --restarts "$RESTARTS" --keep best --seed 0 \
            -o "$OUT/$v-pairs-$r.npy" --summary-only > "$OUT/$v-pairs-$r.json"
        advs="$advs $OUT/$v-pairs-$r.npy"
    done
    # clean, targets, then every radius's attacked images: their means μ, and g(μ) decoded from them
    python3 -c 'import numpy as np, sys; np.save(sys.argv[1], np.concatenate([np.load(p) for p in sys.argv[2:]]))' \
        "$OUT/$v-pairs-all.npy" "$OUT/clean.npy" "$OUT/targets.npy" $advs
    "$BIN/vae-eval" encode --model "$model" --input "$OUT/$v-pairs-all.npy" -o "$OUT/$v-pairs-mu.npy" 2> /dev/null
    "$BIN/vae-eval" decode --model "$model" --codes "$OUT/$v-pairs-mu.npy" -o "$OUT/$v-pairs-rec.npy" 2> /dev/null
    python3 - "$OUT" "$v" "$N" $RADII >> "$OUT/grids-pairs.tsv" <<'PY'
import os, sys
import numpy as np
out, v, n, radii = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def blocks(name):
    a = np.load(os.path.join(out, "%s-pairs-%s.npy" % (v, name))).astype(np.float64)
    a = a.reshape(len(a), -1)
    return [a[k * n:(k + 1) * n] for k in range(len(a) // n)]
dist = lambda a, b: np.linalg.norm(a - b, axis=1)
def share(b, k):
    src, tgt, adv = b[0], b[1], b[2 + k]
    s = 1 - dist(adv, tgt) / dist(src, tgt)
    return s.mean(), (s.std(ddof=1) / np.sqrt(len(s)) if len(s) > 1 else float("nan"))
rec, mu, x = blocks("rec"), blocks("mu"), blocks("all")
gap = dist(rec[0], rec[1]).mean()
# the encoder's gain: between source and target, and along the attack
separation = (dist(mu[0], mu[1]) / dist(x[0], x[1])).mean()
for k, r in enumerate(radii):
    moved = (dist(mu[2 + k], mu[0]) / dist(x[2 + k], x[0])).mean()
    print("%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f" % ((v, r, n) + share(rec, k) + share(mu, k) + (gap, separation, moved)))
PY
    rm -f "$OUT/$v-pairs-all.npy" "$OUT/$v-pairs-rec.npy" "$OUT/$v-pairs-mu.npy"
done
"$BIN/vae-eval" grid "$OUT/clean.npy" "$OUT/standard-rec.npy" "$OUT/standard-maxdamage.npy" "$OUT/standard-maxdamage-rec.npy" \
    "$OUT/lipschitz-rec.npy" "$OUT/lipschitz-maxdamage.npy" "$OUT/lipschitz-maxdamage-rec.npy" \
    --label clean --label "std recon" --label "std attacked" --label "std its recon" \
    --label "lip recon" --label "lip attacked" --label "lip its recon" -o "$OUT/fig1.png" 2> /dev/null
say "wrote $OUT/fig1.png (rows: clean; standard VAE: recon, attacked, its recon; Lipschitz-VAE M = $M: the same)"
say "wrote $OUT/figE8.png (a row per ‖δ‖₂ in $RADII; columns: standard VAE original, recon, attacked recon, target; then the Lipschitz-VAE's)"
column -t -s $'\t' "$OUT/grids.tsv"; column -t -s $'\t' "$OUT/grids-pairs.tsv"
say "$(( $(date +%s) - start )) s"
