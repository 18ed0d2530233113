# Shared by paper B's pipelines (source it after ../lib.sh).
#
# The model: paper B names no architecture (its experimental appendix is not in our copy), so
# every pipeline trains `--arch conv-small` (paper C's small conv VAE: two 4x4 stride-2
# convolutions, linear heads for μ and log σ, latent 50, Bernoulli likelihood on grey levels).
# Its σ head is exp(log σ), so σ varies with the input; `mlp`'s sigmoid head saturates at 1 on
# grey data and would make r-robustness trivial. ARCH overrides it.
ARCH=${ARCH:-conv-small}
B_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATS="python3 $B_DIR/bstats.py"
# Paper B's common training size (quick / FULL=1 / CHECK=1): EPOCHS 1 / 50 / 1, and LIMITS,
# the vae-train image limits (the test ELBO on 1,000 test images in the quick setting)
EPOCHS=${EPOCHS:-$(pick 1 50 1)}
LIMITS=$(pick "--test-limit 1000" "" "$(train_limit)")

# train_b OUT NAME DATA EPOCHS LIMITS [vae-train options...]: OUT/NAME.safetensors and
# OUT/train-NAME.json (vae-train's JSON line), and its log OUT/train-NAME.log; a model already
# trained with the same arguments and binary is reused (lib.sh train_once)
train_b() {
    local out=$1 name=$2 data=$3 epochs=$4 limits=$5; shift 5
    # shellcheck disable=SC2086
    TRAIN_LOG="$out/train-$name.log" train_once "$out/$name.safetensors" "$out/train-$name.json" --data "$data" --arch "$ARCH" \
        --epochs "$epochs" $limits --seed "${SEED:-0}" "$@"
}

# margin_grid OUT TAG MODEL "RS" "RADII" STEPS: paper B Eq. 3 along a grid of L2 attack radii.
# For each radius L a maximum-damage attack through the encoder mean only (vae-attack max-damage
# --through mu on the means, --samples 0: it maximises ‖g(μ(x+δ)) − g(μ(x))‖₂, which is the
# perturbation Eq. 3 and Theorem 1 consider), then for each r in RS p(‖Δ(x, δ)‖₂ ≤ r) with
# Δ = g(μ(x+δ) + η∘σ(x)) − g(μ(x)) (vae-eval r-robustness --perturbed: rrob-TAG-rR-L.jsonl),
# the reconstruction g(μ(x+δ)) (rec-TAG-L.npy, for the image grids), and log p(x | z*) of each
# clean image at z* = μ(x+δ) (loglik: ll-TAG-L.jsonl, below). L = 0 is Eq. 2 on the clean images.
# Needs OUT/ref.npy; the attack's JSON summaries go to attack-TAG.jsonl.
margin_grid() {
    local out=$1 tag=$2 m=$3 rs=$4 radii=$5 steps=$6 L r
    for r in $rs; do
        "$BIN/vae-eval" r-robustness --model "$m" --input "$out/ref.npy" --r "$r" > "$out/rrob-$tag-r$r-0.jsonl"
    done
    "$BIN/vae-eval" recon --model "$m" --input "$out/ref.npy" -o "$out/rec-$tag-0.npy" 2> /dev/null
    loglik "$m" "$out/ref.npy" "$out/ref.npy" "$out/ll-$tag-0.jsonl"
    : > "$out/attack-$tag.jsonl"
    for L in $radii; do
        "$BIN/vae-attack" max-damage --model "$m" --input "$out/ref.npy" --through mu --samples 0 \
            --norm l2 --radius "$L" --steps "$steps" --seed 0 -o "$out/adv-$tag-$L.npy" --summary-only \
            >> "$out/attack-$tag.jsonl" 2> /dev/null
        for r in $rs; do
            "$BIN/vae-eval" r-robustness --model "$m" --input "$out/ref.npy" --perturbed "$out/adv-$tag-$L.npy" \
                --r "$r" > "$out/rrob-$tag-r$r-$L.jsonl"
        done
        "$BIN/vae-eval" recon --model "$m" --input "$out/adv-$tag-$L.npy" -o "$out/rec-$tag-$L.npy" 2> /dev/null
        loglik "$m" "$out/ref.npy" "$out/adv-$tag-$L.npy" "$out/ll-$tag-$L.jsonl"
    done
}
# loglik MODEL REF PERTURBED OUT.jsonl: log p(x | z*) per image of REF, the model's own likelihood
# at z* = μ(x*) of the same row of PERTURBED (vae-eval encode, then vae-eval log-likelihood)
# (the codes go beside OUT as OUT.codes.npy and are removed; OUT appears only when complete)
loglik() {
    "$BIN/vae-eval" encode --model "$1" --input "$3" -o "$4.codes.npy" 2> /dev/null
    "$BIN/vae-eval" log-likelihood --model "$1" --input "$2" --codes "$4.codes.npy" > "$4.part"
    mv "$4.part" "$4"; rm -f "$4.codes.npy"
}
