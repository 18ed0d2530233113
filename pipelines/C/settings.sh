# Sizes and training settings shared by paper C's pipelines (sourced after ../lib.sh).
# Every value can be overridden from the environment; pick QUICK FULL CHECK.
DATA=$(check_data mnist)
EPS_LIST=${EPS_LIST:-$(pick "0 0.01 0.02 0.05 0.1" "0 0.01 0.02 0.05 0.1" "0 0.1")}   # paper C Table 1's ε_train
# Training (paper C gives no epochs, batch, learning rate or σ0; see REPRODUCTION.md).
EPOCHS=${EPOCHS:-$(pick 3 100 1)}                  # the ε_train = 0 model (a plain VAE)
FT_EPOCHS=${FT_EPOCHS:-$(pick 6 100 1)}            # each ε_train > 0 model, on the bound, from it
RAMP=${RAMP:-$(pick "$FT_EPOCHS" 50 1)}             # epochs of the linear ε ramp from 0 in those
BATCH=${BATCH:-$(pick 32 128 32)}
LR=${LR:-1e-3}
# σ0² = 1/2: the Gaussian likelihood whose ELBO, without its constant, is −(‖x − g(z)‖² + KL),
# the scale of paper C's numbers (REPRODUCTION.md, "which σ0")
SIGMA0=${SIGMA0:-0.70710678}
SEED=${SEED:-0}
# PIXEL_BOX=1: every L∞ ball is clipped to the pixel range [0, 1] (the tools' default), in the
# proVAEs' training bound, the certificates and the attacks. PIXEL_BOX=0: the whole ball, x ± ε,
# everywhere (vae-train, vae-certify ibp and vae-attack --no-pixel-box; attacked images read back
# with --any-pixel-range): paper C section 3.2 states its bound for x ± ε, and does not say its
# attacks clip. TRAIN_PIXEL_BOX (default: PIXEL_BOX) sets the training alone, so that
# PIXEL_BOX=0 TRAIN_PIXEL_BOX=1 attacks and certifies proVAEs trained within the box on the whole
# ball. The two trainings give different proVAEs: give them different MODELS folders.
PIXEL_BOX=${PIXEL_BOX:-1}; TRAIN_PIXEL_BOX=${TRAIN_PIXEL_BOX:-$PIXEL_BOX}
for v in PIXEL_BOX TRAIN_PIXEL_BOX; do
    case "${!v}" in 0|1) ;; *) echo "$(basename "$0"): $v must be 0 or 1, got '${!v}'" >&2; exit 2 ;; esac
done
box_train=(); box_attack=(); box_read=()
[ "$TRAIN_PIXEL_BOX" = 0 ] && box_train=(--no-pixel-box)
[ "$PIXEL_BOX" = 0 ] && { box_attack=(--no-pixel-box); box_read=(--any-pixel-range); }
THREADS=${THREADS:-2}
TRAIN_ARGS=${TRAIN_ARGS:-$(pick "--train-limit 10000 --test-limit 1000" "" "$(train_limit)")}
# the constant −(M/2) log(2π σ0²) of the Gaussian log-density that paper C's Eq. 9 drops
# ("+ c"): our ELBOs + C_OFFSET are on the paper's scale (M = 784 pixels)
C_OFFSET=$(python3 -c "import math; print('%.4f' % (0.5 * 784 * math.log(2 * math.pi * $SIGMA0 ** 2)))")
# 1 when σ0² = 1/2, the scale of paper C's numbers (the figures draw the paper's values only then)
PAPER_SCALE=$(python3 -c "print(1 if abs($SIGMA0 ** 2 - 0.5) < 1e-6 else 0)")
# ε_train values whose model train.sh marked degenerate (MODELDIR/eps-E.degenerate)
degenerate_list() { local e; for e in $EPS_LIST; do [ -f "$MODELS/eps-$e.degenerate" ] && printf '%s ' "$e"; done; true; }
# the end of a pipeline: loud, and a failure, when a model is degenerate (ALLOW_DEGENERATE=1 or
# CHECK=1: a warning only)
degenerate_gate() {
    local bad; bad=$(degenerate_list)
    [ -z "$bad" ] && return 0
    say "WARNING: degenerate models for ε_train = ${bad% } (see $MODELS/eps-*.degenerate); their rows are marked"
    if [ "$CHECK" != 1 ] && [ "${ALLOW_DEGENERATE:-0}" != 1 ]; then
        say "failing: degenerate models do not reproduce the paper (ALLOW_DEGENERATE=1 keeps the outputs and exits 0)"
        exit 1
    fi
}
