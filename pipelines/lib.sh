# Shared by every pipeline script (source it: `. "$(dirname "$0")/../lib.sh"`).
#
# Three sizes, chosen by the environment:
#   (default)  the quick setting: minutes on a 2-core machine, fewer epochs and points;
#   FULL=1     the paper's own settings (hours);
#   CHECK=1    a smoke test of the pipeline itself (one epoch on a few thousand images, a few
#              points): `make -C pipelines check` runs every pipeline so, and CI runs that.
# `pick QUICK FULL CHECK` prints the value for the current size.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-$ROOT/.build/release}
FULL=${FULL:-0}; CHECK=${CHECK:-0}
pick() { if [ "$CHECK" = 1 ]; then echo "$3"; elif [ "$FULL" = 1 ]; then echo "$2"; else echo "$1"; fi; }
# in CHECK mode every pipeline trains on Fashion-MNIST (the one dataset a fresh machine has
# from apt alone) unless the pipeline's DATA is set explicitly
check_data() { if [ "$CHECK" = 1 ]; then echo "${DATA:-fashion-mnist}"; else echo "${DATA:-$1}"; fi; }
# training images in CHECK mode (all of them otherwise)
train_limit() { if [ "$CHECK" = 1 ]; then echo "--train-limit 2000 --test-limit 500"; fi; }
say() { echo "$(basename "$0" .sh): $*" >&2; }
# the output folder, a pipeline script's one argument: `OUT=$(out_dir "$@")` (a usage line and
# exit 2 without it)
out_dir() { if [ $# -ne 1 ] || [ -z "$1" ]; then echo "usage: $0 OUTDIR" >&2; exit 2; fi; echo "$1"; }
# the value of FIELD in a one-line JSON object on stdin
field() { python3 -c 'import json, sys; v = json.loads(sys.stdin.read())[sys.argv[1]]; print("nan" if v is None else ("%.6g" % v) if isinstance(v, float) else v)' "$1"; }
# summary_mean_se [FORMAT [SEPARATOR]]: the mean and standard error of the JSON summary line on
# stdin (default %.3f, tab-separated); a null standard error (fewer than two items) prints as nan
summary_mean_se() {
    python3 -c 'import json, sys
d = json.loads(sys.stdin.read())
print(sys.argv[2].join("nan" if v is None else sys.argv[1] % v for v in (d["mean"], d["stderr"])))' "${1:-%.3f}" "${2:-$'\t'}"
}
# fails loudly when a trained model is degenerate for what the pipeline reproduces: an
# encoder σ saturated at its ceiling (every image's min σ within 1e-3 of 1), or an encoder
# that ignores its input (mean Jacobian Frobenius norm below 1e-3). MODEL INPUT [WHAT] [TAU]
# For a model trained with --sigma-offset TAU, σ(x) = σ_net(x) + τ is at least τ by
# construction, so the saturation test applies to the learned part, min σ − τ (exact: the
# offset is added to every dimension), and τ = 1 is not mistaken for a saturated σ.
# A third test looks at the whole model: the reconstructions g(μ(x)) of the inputs must spread
# (mean pairwise L2 distance) at least 5% as much as the inputs do, or the model maps every
# image to nearly one picture (a decoder that ignores its code passes both encoder tests).
# In CHECK mode (one epoch on 2,000 images) it only warns: the check tests the pipeline.
# A model that passes but leaves latent dimensions inactive (encoder-stats' active_units) gets a
# note on stderr, not a failure, since a large β may switch dimensions off.
check_encoder() {
    local s rec
    s=$("$BIN/vae-eval" encoder-stats --model "$1" --input "$2" --summary-only)
    rec=$(mktemp "${TMPDIR:-/tmp}/robustvae-check-XXXXXX.npy")
    "$BIN/vae-eval" export --input "$2" -o "$rec.x.npy" 2> /dev/null
    "$BIN/vae-eval" recon --model "$1" --input "$rec.x.npy" -o "$rec" 2> /dev/null
    python3 - "$1" "$s" "${3:-}" "${4:-0}" "$rec.x.npy" "$rec" <<'PY' || { rm -f "$rec" "$rec.x.npy"; return 1; }
import json, os, sys
import numpy as np
path, s, what, tau = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], float(sys.argv[4])
def spread(f):
    a = np.load(f)
    a = a.reshape(len(a), -1).astype(np.float64)
    sq = (a * a).sum(1)
    return np.sqrt(np.maximum(sq[:, None] + sq[None] - 2 * a @ a.T, 0)).mean()
bad = []
sx, sr = spread(sys.argv[5]), spread(sys.argv[6])
if s["n"] > 1 and sx > 0 and sr < 0.05 * sx:  # one image has no pairwise spread to compare
    bad.append("the reconstructions barely depend on the input (their mean pairwise distance is %.3f of the inputs', below 0.05: the model maps every image to about one picture; too large a β or too little training?)" % (sr / sx))
if tau == 0 and s["min_sigma_mean"] > 0.999:
    bad.append("every encoder σ is at least 1, no narrower than the prior (σ saturated or the posterior collapsed; min σ mean %.4f)" % s["min_sigma_mean"])
if tau != 0 and s["min_sigma_mean"] - tau > 0.999:
    bad.append("every learned encoder σ (σ − τ) is at least 1 (min σ − τ mean %.4f)" % (s["min_sigma_mean"] - tau))
if s["jacobian_frobenius_mean"] < 1e-3: bad.append("the encoder ignores its input (‖∂μ/∂x‖_F mean %.2e)" % s["jacobian_frobenius_mean"])
# a note, not a failure: a model may leave some latent dimensions unused (a large β may switch them off)
act = s.get("latent_activity") or []
label = (" (" + what + ")") if what else ""
if not bad and None not in act and s.get("active_units", len(act)) < len(act):
    off = [(u, a) for u, a in enumerate(act, 1) if a <= 0.01]
    print("note: %s%s uses %d of its %d latent dimensions: inactive %s (activity, the variance of μ over the images, %s; active above 0.01)"
          % (path, label, s["active_units"], len(act), ", ".join("z%d" % u for u, _ in off), ", ".join("%.3g" % a for _, a in off)), file=sys.stderr)
if bad and os.environ.get("CHECK") == "1":
    print("warning (CHECK mode): degenerate model %s%s: %s" % (path, label, "; ".join(bad)), file=sys.stderr)
elif bad:
    sys.exit("degenerate model %s%s: %s" % (path, label, "; ".join(bad)))
PY
    rm -f "$rec" "$rec.x.npy"
}
# gnuplot is needed for the figures; the tables are written without it
need_gnuplot() { command -v gnuplot > /dev/null || { say "gnuplot is not installed (apt-get install gnuplot-nox); tables only"; return 1; }; }
# train_once MODEL JSON [vae-train arguments...]: runs `vae-train ARGUMENTS -o MODEL > JSON`
# unless MODEL and JSON exist from a run with the same arguments, the same vae-train binary and
# the same STAMP_EXTRA (a caller's extra key, e.g. a digest of an --init model): all three are
# recorded in MODEL.stamp. Anything else (other arguments, a rebuilt binary, a missing stamp)
# trains afresh, so a pipeline never reads a model that its current settings would not make.
# Concurrent calls for one MODEL (make -j2) train it once: a lock in TMPDIR, keyed on its path.
# vae-train's stderr goes to the caller's stderr, or with TRAIN_LOG=FILE to FILE, written only
# when it trains (a reused model keeps the log of the run that made it); on a failure the last
# lines of FILE go to stderr.
# convergence: vae-train's --convergence-tol option for CONV_TOL (a pipeline's own variable;
# nothing when it is empty or unset)
convergence() { if [ -n "${CONV_TOL:-}" ]; then echo "--convergence-tol $CONV_TOL"; fi; }
# bin_digest: the digest of the vae-train binary that a model stamp records
bin_digest() { md5sum < "$BIN/vae-train" | cut -c1-16; }
train_once() {
    local model=$1 json=$2; shift 2
    local stamp lock fd rc=0
    stamp="args=$(printf '%q ' "$@")binary=$(bin_digest) extra=${STAMP_EXTRA:-}"
    lock="${TMPDIR:-/tmp}/robustvae-train-$(realpath -m "$model" | md5sum | cut -c1-16).lock"
    exec {fd}> "$lock"; flock "$fd"
    if [ -f "$model" ] && [ -f "$json" ] && [ "$(cat "$model.stamp" 2> /dev/null)" = "$stamp" ]; then
        say "reusing $model (trained with the same arguments and vae-train binary)"
    else
        rm -f "$model.stamp"
        if [ -n "${TRAIN_LOG:-}" ]; then
            if "$BIN/vae-train" "$@" -o "$model" > "$json" 2> "$TRAIN_LOG"; then echo "$stamp" > "$model.stamp"; else rc=1; tail -3 "$TRAIN_LOG" >&2; fi
        elif "$BIN/vae-train" "$@" -o "$model" > "$json"; then echo "$stamp" > "$model.stamp"; else rc=1; fi
    fi
    exec {fd}>&-
    return $rc
}
