# Shared by paper A's pipelines (source it after ../lib.sh): the 10-D models of Figures 1, 4 and 5,
# trained once and reused across pipelines when their training matches exactly.
#   DATA EPOCHS TRAIN_LIMIT SIGMA    must be set by the caller
# limits: the --train-limit options of this size (CHECK: lib.sh's train_limit)
limits() {
    if [ "$CHECK" = 1 ]; then train_limit
    elif [ "$TRAIN_LIMIT" != all ]; then echo "--train-limit $TRAIN_LIMIT"; fi
}
# whether MODEL was trained as train_model would train it now: MODEL M(0: standard) LR. Its
# stamp (MODEL.stamp) must name the current vae-train binary, so that a model trained before a
# change of the tools (a likelihood's definition, say) is never reused; then its recorded
# training must match.
matches() {
    grep -qs "binary=$(bin_digest)" "$1.stamp" || return 1
    python3 - "$1" "$2" "$3" "$DATA" "$SIGMA" "$EPOCHS" "$(limits | awk '{print $2}')" "${CONV_TOL:-}" <<'PY'
import json, struct, sys
path, m, lr, data, sigma, epochs, limit, tol = sys.argv[1:]
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]; c = json.loads(json.loads(f.read(n))["__metadata__"]["config"])
t = c.get("training", {})
ok = (c.get("data") == data and c.get("likelihood") == "cbernoulli" and c.get("latent") == 10 and c.get("seed") == 0
      and abs(c.get("fixedSigma", -1) - float(sigma)) < 1e-6 and float(c.get("lipschitzDecoder", 0)) == float(m)
      and t.get("epochs") == int(epochs) and abs(t.get("learningRate", 0) - float(lr)) < 1e-12
      and str(t.get("trainLimit", "")) == limit and t.get("convergenceTol") == (float(tol) if tol else None))
sys.exit(0 if ok else 1)
PY
}
# train_model OUTFILE M(0: a standard VAE) LR [REUSE_FILE...]: an mlp VAE with latent 10, fixed σ
# SIGMA, continuous Bernoulli likelihood, seed 0; kept if OUTFILE is already such a model (by the
# same vae-train binary), else
# copied from the first REUSE_FILE that was trained the same way, else trained. Its training line goes to OUTFILE without .safetensors + -train.jsonl.
train_model() {
    local model=$1 m=$2 lr=$3; shift 3
    local log=${model%.safetensors}-train.jsonl src
    if [ -f "$model" ]; then
        matches "$model" "$m" "$lr" && return 0
        say "$(basename "$model") was trained otherwise (other settings, or another vae-train build): training it again"
        rm -f "$model" "$model.stamp"
    fi
    for src in "$@"; do
        if [ -f "$src" ] && matches "$src" "$m" "$lr"; then
            say "reusing $src"
            cp "$src" "$model"; cp "$src.stamp" "$model.stamp"
            [ -f "${src%.safetensors}-train.jsonl" ] && cp "${src%.safetensors}-train.jsonl" "$log"
            return 0
        fi
    done
    local lip=""; [ "$m" = 0 ] || lip="--lipschitz $m"
    say "training $(basename "$model" .safetensors) (M = ${m/#0/none}, $EPOCHS epoch(s))…"
    "$BIN/vae-train" --data "$DATA" --arch mlp $lip --fixed-sigma "$SIGMA" --likelihood cbernoulli --lr "$lr" \
        --epochs "$EPOCHS" $(convergence) $(limits) --seed 0 -o "$model" > "$log"
    echo "binary=$(bin_digest)" > "$model.stamp"
}
