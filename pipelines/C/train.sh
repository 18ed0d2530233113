#!/usr/bin/env bash
# Trains one proVAE (paper C Algorithm 1: the certified ELBO bound of Eq. 21, maximised by
# Adam) for one ε_train, unless MODELDIR already holds one trained with the same settings.
#   pipelines/C/train.sh MODELDIR EPS      → MODELDIR/eps-EPS.safetensors, .train.json, .train.log,
#                                            .encoder.json (vae-eval encoder-stats), .settings
# ε_train = 0 is the plain VAE (the bound at radius 0 is the ELBO), trained for EPOCHS. Every
# ε_train > 0 starts from it (vae-train --init, trained first if missing) and trains FT_EPOCHS
# more on the bound with ε ramped up from 0 over RAMP: the ε = 0 phase of the standard IBP
# recipe (Gowal et al. 2018); from a random start the bound's training kills the encoder
# (REPRODUCTION.md). Sizes: settings.sh.
# A degenerate model (lib.sh check_encoder: the encoder ignores its input, or σ saturates) is
# kept but marked: MODELDIR/eps-EPS.degenerate holds the reason, a warning goes to stderr, and
# table1.sh and fig3.sh flag its rows and fail at the end (unless ALLOW_DEGENERATE=1 or CHECK=1).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/settings.sh"
DIR=${1:?usage: train.sh MODELDIR EPS}; EPS=${2:?usage: train.sh MODELDIR EPS}
mkdir -p "$DIR"
M="$DIR/eps-$EPS.safetensors"
settings="v3 data=$DATA eps=$EPS epochs=$EPOCHS batch=$BATCH lr=$LR sigma0=$SIGMA0 seed=$SEED args=$TRAIN_ARGS"
init=(); epochs=$EPOCHS
if [ "$EPS" != 0 ]; then
    epochs=$FT_EPOCHS
    settings="$settings fine-tune=$FT_EPOCHS ramp=$RAMP"
    "$0" "$DIR" 0 || exit 1
    init=(--init "$DIR/eps-0.safetensors")
    # a retrained ε = 0 model retrains this one too
    settings="$settings init=$(md5sum < "$DIR/eps-0.safetensors" | cut -c1-16)"
fi
# one training per model, also under make -j2 (the lock lives outside the results)
exec 9> "${TMPDIR:-/tmp}/robustvae-C-$(cd "$DIR" && pwd | md5sum | cut -c1-12)-eps-$EPS.lock"; flock 9
if [ -f "$M" ] && [ "$(cat "$DIR/eps-$EPS.settings" 2> /dev/null)" = "$settings" ]; then
    say "reusing $M"
else
    start=$(date +%s)
    rm -f "$DIR/eps-$EPS.settings"
    if [ "$EPS" = 0 ]; then what="$EPOCHS epochs"; else what="$FT_EPOCHS epochs from ε_train = 0's model, ramp $RAMP"; fi
    say "training ε_train = $EPS ($what, batch $BATCH, σ0 $SIGMA0, $DATA ${TRAIN_ARGS:-all images})…"
    # ε_train = 0: the ELBO itself (the same objective, without the interval passes: twice as fast)
    if [ "$EPS" = 0 ]; then objective=(--objective elbo); else objective=(--objective provae --eps-train "$EPS" --eps-ramp "$RAMP"); fi
    # shellcheck disable=SC2086
    "$BIN/vae-train" --data "$DATA" --arch conv-small "${objective[@]}" \
        --likelihood gaussian --sigma0 "$SIGMA0" --epochs "$epochs" --batch "$BATCH" --lr "$LR" --seed "$SEED" \
        --threads "$THREADS" "${init[@]}" $TRAIN_ARGS -o "$M" > "$DIR/eps-$EPS.train.json" 2> "$DIR/eps-$EPS.train.log" ||
        { tail -3 "$DIR/eps-$EPS.train.log" >&2; exit 1; }
    "$BIN/vae-eval" encoder-stats --model "$M" --input "$DATA:test[0:100]" --summary-only > "$DIR/eps-$EPS.encoder.json"
    echo "$settings" > "$DIR/eps-$EPS.settings"
    say "ε_train = $EPS trained in $(( $(date +%s) - start )) s"
fi
if msg=$(CHECK=0 check_encoder "$M" "$DATA:test[0:100]" "proVAE ε_train = $EPS" 2>&1); then
    rm -f "$DIR/eps-$EPS.degenerate"
else
    echo "$msg" > "$DIR/eps-$EPS.degenerate"
    say "WARNING: $msg"
fi
