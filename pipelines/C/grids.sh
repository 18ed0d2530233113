#!/usr/bin/env bash
# Paper C Figures 1, 2 and 4 (MNIST) as image grids, for the VAE (ε_train = 0) and the proVAEs
# with ε_train = 0.01 and 0.1:
#   Figure 1  test images and their PGD attacks on the ELBO at ε_attack = 0.1 (vae-attack elbo)
#   Figure 2  reconstructions (decoder of the encoder mean) of the clean and the attacked images,
#             with each model's mean ELBO on both (the paper prints one per row)
#   Figure 4  samples g(ε), ε ~ N(0, I), from each model (vae-eval decode --levels sample)
#
#   pipelines/C/grids.sh OUTDIR       (make -C pipelines/C grids → results/C/grids)
#
# Models: train.sh into $MODELS (default OUTDIR/models; the Makefile shares results/C/models
# with table1 and fig3), trained only where missing (settings.sh).
# Environment (quick / FULL=1 / CHECK=1): N=12 test images (the first N), RADIUS=0.1,
# STEPS=50/100/5 PGD steps (as fig3.sh), SAMPLES=10/10/2 draws for the ELBO, COUNT=12 prior
# samples, GRID_EPS="0 0.01 0.1" (CHECK: "0 0.1"); PIXEL_BOX (settings.sh).
# Writes OUTDIR/fig1.png, fig2.png, fig4.png, grids.tsv (ε_train, mean ELBO of the clean and the
# attacked images, on the paper's scale: + c) and the tools' JSON lines.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/settings.sh"
OUT=$(out_dir "$@")
MODELS=${MODELS:-$OUT/models}
N=${N:-12}; RADIUS=${RADIUS:-0.1}; STEPS=${STEPS:-$(pick 50 100 5)}; SAMPLES=${SAMPLES:-$(pick 10 10 2)}
COUNT=${COUNT:-12}; GRID_EPS=${GRID_EPS:-$(pick "0 0.01 0.1" "0 0.01 0.1" "0 0.1")}
mkdir -p "$OUT"
start=$(date +%s)
for e in $GRID_EPS; do "$(dirname "$0")/train.sh" "$MODELS" "$e"; done
"$BIN/vae-eval" export --input "$DATA:test[0:$N]" -o "$OUT/clean.npy" 2> /dev/null
fig1=("$OUT/clean.npy"); l1=(--label "test images")
fig2=("$OUT/clean.npy"); l2=(--label "test images")
fig4=(); l4=()
: > "$OUT/attack.jsonl"; : > "$OUT/elbo.jsonl"
printf 'eps_train\telbo_clean+c\telbo_attacked+c\n' > "$OUT/grids.tsv"
for e in $GRID_EPS; do
    M="$MODELS/eps-$e.safetensors"; name=$([ "$e" = 0 ] && echo VAE || echo "proVAE $e")
    # a degenerate model's rows say so (degenerate_gate below fails the run for it)
    [ -f "$MODELS/eps-$e.degenerate" ] && name="$name (degenerate)"
    say "$name: PGD attack on the ELBO at ε_attack = $RADIUS ($N images), reconstructions, $COUNT samples…"
    "$BIN/vae-attack" elbo --model "$M" --input "$OUT/clean.npy" --radius "$RADIUS" --steps "$STEPS" --seed "$SEED" "${box_attack[@]}" \
        -o "$OUT/adv-$e.npy" --summary-only >> "$OUT/attack.jsonl" 2> /dev/null
    "$BIN/vae-eval" recon --model "$M" --input "$OUT/clean.npy" -o "$OUT/rec-$e.npy" 2> /dev/null
    "$BIN/vae-eval" recon --model "$M" --input "$OUT/adv-$e.npy" "${box_read[@]}" -o "$OUT/rec-adv-$e.npy" 2> /dev/null
    "$BIN/vae-eval" decode --model "$M" --levels sample --count "$COUNT" --seed "$SEED" -o "$OUT/samples-$e.npy" 2> /dev/null
    el=()
    for x in clean.npy "adv-$e.npy"; do
        s=$("$BIN/vae-eval" elbo --model "$M" --input "$OUT/$x" "${box_read[@]}" --samples "$SAMPLES" --seed 1 --summary-only)
        echo "$s" >> "$OUT/elbo.jsonl"
        el+=("$(echo "$s" | python3 -c 'import json, sys; print("%.2f" % (json.loads(sys.stdin.read())["mean"] + float(sys.argv[1])))' "$C_OFFSET")")
    done
    printf '%s\t%s\t%s\n' "$e" "${el[0]}" "${el[1]}" >> "$OUT/grids.tsv"
    fig1+=("$OUT/adv-$e.npy"); l1+=(--label "attack on $name")
    fig2+=("$OUT/rec-$e.npy" "$OUT/rec-adv-$e.npy")
    l2+=(--label "$name recon (ELBO ${el[0]})" --label "$name, attacked (${el[1]})")
    fig4+=("$OUT/samples-$e.npy"); l4+=(--label "$name samples")
done
"$BIN/vae-eval" grid "${fig1[@]}" "${l1[@]}" -o "$OUT/fig1.png" 2> /dev/null
"$BIN/vae-eval" grid "${fig2[@]}" "${l2[@]}" -o "$OUT/fig2.png" 2> /dev/null
"$BIN/vae-eval" grid "${fig4[@]}" "${l4[@]}" -o "$OUT/fig4.png" 2> /dev/null
column -t -s $'\t' "$OUT/grids.tsv"
say "wrote $OUT/fig1.png, fig2.png, fig4.png ($(( $(date +%s) - start )) s)"
EPS_LIST=$GRID_EPS degenerate_gate
