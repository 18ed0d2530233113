#!/usr/bin/env bash
# Trains one proVAE (paper C Algorithm 1: the certified ELBO bound of Eq. 21, maximised by
# Adam) for one ε_train, unless MODELDIR already holds one trained with the same arguments and
# vae-train binary (lib.sh train_once; for ε_train > 0 also from the same ε_train = 0 model).
#   pipelines/C/train.sh MODELDIR EPS      → MODELDIR/eps-EPS.safetensors, .train.json, .train.log,
#                                            .encoder.json (vae-eval encoder-stats), .safetensors.stamp
# ε_train = 0 is the plain VAE (the bound at radius 0 is the ELBO), trained for EPOCHS. Every
# ε_train > 0 starts from it (vae-train --init, trained first if missing) and trains FT_EPOCHS
# more on the bound (over the ball clipped to [0, 1], or the whole ball with TRAIN_PIXEL_BOX=0) with ε
# ramped up from 0 over RAMP: the ε = 0 phase of the standard IBP
# recipe (Gowal et al. 2018); from a random start the bound's training kills the encoder
# (REPRODUCTION.md). Sizes: settings.sh.
# A degenerate model (lib.sh check_encoder: the encoder ignores its input, or σ saturates) is
# kept but marked: MODELDIR/eps-EPS.degenerate holds the reason, a warning goes to stderr, and
# table1.sh and fig3.sh flag its rows and fail at the end (unless ALLOW_DEGENERATE=1 or CHECK=1).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/settings.sh"
if [ $# -ne 2 ]; then echo "usage: $0 MODELDIR EPS" >&2; exit 2; fi
DIR=$1; EPS=$2
mkdir -p "$DIR"
M="$DIR/eps-$EPS.safetensors"
init=(); epochs=$EPOCHS; extra=
if [ "$EPS" != 0 ]; then
    "$0" "$DIR" 0 || exit 1
    init=(--init "$DIR/eps-0.safetensors"); epochs=$FT_EPOCHS
    # a retrained ε = 0 model retrains this one too
    extra="init=$(md5sum < "$DIR/eps-0.safetensors" | cut -c1-16)"
fi
# ε_train = 0: the ELBO itself (the same objective, without the interval passes: twice as fast)
if [ "$EPS" = 0 ]; then
    objective=(--objective elbo); what="$EPOCHS epochs"
else
    objective=(--objective provae --eps-train "$EPS" --eps-ramp "$RAMP" "${box_train[@]}")
    what="$FT_EPOCHS epochs from ε_train = 0's model, ramp $RAMP"
    [ "$TRAIN_PIXEL_BOX" = 1 ] || what="$what, the whole ball"
fi
start=$(date +%s)
say "ε_train = $EPS ($what, batch $BATCH, σ0 $SIGMA0, $DATA ${TRAIN_ARGS:-all images}): training unless trained alike…"
# shellcheck disable=SC2086
STAMP_EXTRA=$extra TRAIN_LOG="$DIR/eps-$EPS.train.log" train_once "$M" "$DIR/eps-$EPS.train.json" --data "$DATA" \
    --arch conv-small "${objective[@]}" --likelihood gaussian --sigma0 "$SIGMA0" --epochs "$epochs" --batch "$BATCH" \
    --lr "$LR" --seed "$SEED" --threads "$THREADS" "${init[@]}" $TRAIN_ARGS || exit 1
"$BIN/vae-eval" encoder-stats --model "$M" --input "$DATA:test[0:100]" --summary-only > "$DIR/eps-$EPS.encoder.json"
say "ε_train = $EPS ready in $(( $(date +%s) - start )) s"
if msg=$(CHECK=0 check_encoder "$M" "$DATA:test[0:100]" "proVAE ε_train = $EPS" 2>&1); then
    rm -f "$DIR/eps-$EPS.degenerate"
else
    echo "$msg" > "$DIR/eps-$EPS.degenerate"
    say "WARNING: $msg"
fi
