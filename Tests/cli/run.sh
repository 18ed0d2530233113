#!/usr/bin/env bash
# Command-line tests: runs the release binaries as a user would and checks outputs,
# exit statuses, one-line errors and the absence of partial outputs.
# Usage: Tests/cli/run.sh   (after `swift build -c release`)
set -u
cd "$(dirname "$0")/../.."
BIN=.build/release
T=$(mktemp -d); trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
pass=0; fail=0
ok()   { pass=$((pass+1)); echo "ok   $1"; }
bad()  { fail=$((fail+1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

# expect_error NAME PATTERN CMD...: non-zero exit, exactly one stderr line matching PATTERN
expect_error() {
  local name=$1 pat=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ $rc -ne 0 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$pat" "$T/err"; then ok "$name"
  else bad "$name (rc=$rc, stderr: $(cat "$T/err"))"; fi
}

# expect_status NAME STATUS PATTERN CMD...: exit status STATUS, one stderr line matching PATTERN
expect_status() {
  local name=$1 want=$2 pat=$3; shift 3
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ $rc -eq "$want" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "$pat" "$T/err"; then ok "$name"
  else bad "$name (rc=$rc, want $want, stderr: $(cat "$T/err"))"; fi
}

for t in train attack certify hmc eval; do
  check "vae-$t --help" bash -c "$BIN/vae-$t --help | grep -q 'USAGE: vae-$t'"
done

# export: a stratified synthetic selection, loaded back by numpy
check "export synthetic@20" $BIN/vae-eval export --input 'synthetic:test@20/3' -o "$T/x.npy" --labels-out "$T/y.npy"
check "numpy reads the export" python3 -c "
import numpy as np
x = np.load('$T/x.npy'); y = np.load('$T/y.npy')
assert x.shape == (20, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1, x.shape
assert y.dtype == np.int64 and sorted(np.bincount(y).tolist()) == [2]*10, y"
check "export is reproducible" bash -c "$BIN/vae-eval export --input 'synthetic:test@20/3' -o $T/x2.npy && cmp -s $T/x.npy $T/x2.npy"
check "export to stdout, read from stdin" bash -c "$BIN/vae-eval export --input 'synthetic:test[0:5]' -o - | $BIN/vae-eval export --input - -o $T/piped.npy && python3 -c \"import numpy as np; assert np.load('$T/piped.npy').shape == (5,1,28,28)\""
expect_error "an empty stdin named as such" "<stdin>: not a valid .npy file: nothing came in" bash -c "$BIN/vae-eval export --input - -o $T/e-stdin.npy < /dev/null"
check "npy input with range" bash -c "$BIN/vae-eval export --input '$T/x.npy[2:5]' -o $T/r.npy && python3 -c \"import numpy as np; a=np.load('$T/x.npy'); b=np.load('$T/r.npy'); assert (a[2:5]==b).all()\""

# grid: a PNG a person can look at
check "grid" $BIN/vae-eval grid "$T/x.npy" "$T/r.npy" --label clean --label part -o "$T/g.png"
check "grid is a PNG" python3 -c "d=open('$T/g.png','rb').read(); assert d[:8]==b'\x89PNG\r\n\x1a\n'"

# errors: one line naming the problem, non-zero exit, no partial output
expect_error "unknown dataset" "unknown dataset 'nope'" $BIN/vae-eval export --input nope:test -o "$T/e1.npy"
check "no output after error" test ! -e "$T/e1.npy"
expect_error "bad spec" "bad dataset spec" $BIN/vae-eval export --input 'synthetic:test[1:' -o "$T/e2.npy"
expect_error "missing file" "no such file" $BIN/vae-eval export --input "$T/none.npy" -o "$T/e3.npy"
head -c 1000 "$T/x.npy" > "$T/trunc.npy"
expect_error "truncated npy" "trunc.npy: truncated" $BIN/vae-eval grid "$T/trunc.npy" -o "$T/e4.png"
check "no png after error" test ! -e "$T/e4.png"
python3 -c "import numpy as np; a=np.zeros((2,1,4,4),np.float32); a[0,0,0,0]=np.nan; np.save('$T/nan.npy', a)"
expect_error "NaN input" "contains NaN" $BIN/vae-eval export --input "$T/nan.npy" -o "$T/e5.npy"
expect_error "unwritable path" "does not exist" $BIN/vae-eval export --input synthetic:test@10 -o "$T/no/dir/x.npy"
expect_error "an output under a file" "is not a directory" bash -c "$BIN/vae-eval export --input synthetic:test@2 -o $T/afile.npy 2>/dev/null && $BIN/vae-eval export --input synthetic:test@2 -o $T/afile.npy/x.npy"
expect_error "missing mnist" "scripts/prepare-data.sh" env ROBUSTVAE_DATA="$T/empty" $BIN/vae-eval export --input mnist:test -o "$T/e6.npy"
expect_error "labels for a named dataset" "only for .npy" $BIN/vae-eval export --input synthetic:test --labels "$T/y.npy" -o "$T/e7.npy"
check "no temporary files left" bash -c "! ls -a $T | grep -q '\.tmp-'"

# vae-train: a quick run on the built-in data, loaded back by Python's safetensors
check "train mlp" bash -c "$BIN/vae-train --data synthetic --epochs 3 --hidden 32 --latent 4 --keep-checkpoint -o $T/m.safetensors > $T/train.json 2> $T/train.log"
check "train prints one JSON line" python3 -c "
import json; d = json.loads(open('$T/train.json').read())
assert d['epochs'] == 3 and d['test_elbo'] < 0 and 0 < d['test_mse'] < 1, d"
check "train logs progress on stderr" grep -q "epoch 3/3" "$T/train.log"
check "checkpoint written" test -f "$T/m.safetensors.ckpt"
if python3 -c "import safetensors" 2>/dev/null; then
  check "safetensors loads the model and its config" python3 -c "
import json
from safetensors import safe_open
f = safe_open('$T/m.safetensors', 'np'); c = json.loads(f.metadata()['config'])
assert c['architecture'] == 'mlp' and c['latent'] == 4 and c['hidden'] == [32] and c['data'] == 'synthetic', c
assert f.get_tensor('encoder.mean.1.0.weight').shape == (32, 784)"
fi
check "resume a finished run" bash -c "$BIN/vae-train --data synthetic --epochs 3 --hidden 32 --latent 4 -o $T/m.safetensors --resume --keep-checkpoint > /dev/null 2>&1"
expect_status "resume with other options is refused" 2 "other options (--batch 64 (checkpoint: 128))" $BIN/vae-train --data synthetic --epochs 3 --hidden 32 --latent 4 --batch 64 -o "$T/m.safetensors" --resume
check "the model records how it was trained" python3 -c "
import json, struct
f = open('$T/m.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
c = json.loads(json.loads(f.read(n))['__metadata__']['config'])
t = c['training']
assert t['epochs'] == 3 and t['batch'] == 128 and t['trainImages'] == 2000 and t['validationFraction'] > 0.09 and t['tool'].startswith('robustvae'), t"
# a colour classifier scored on a .npy with --labels takes them as colour labels (needs MNIST,
# which Colour MNIST is built from; skipped where it is missing, as in CI)
if $BIN/vae-eval export --input 'mnist:test[0:1]' -o /dev/null >/dev/null 2>&1; then
  check "accuracy: --labels of a colour classifier are colour labels" bash -c "$BIN/vae-train --data color-mnist --epochs 1 --train-limit 700 --test-limit 50 --hidden 16 --latent 2 -o $T/cm.safetensors >/dev/null 2>&1 && $BIN/vae-train classifier --model $T/cm.safetensors --data color-mnist --target color --epochs 2 --train-limit 700 --test-limit 50 -o $T/cmc.safetensors >/dev/null 2>&1 && $BIN/vae-eval export --input 'color-mnist:test[0:40]' -o $T/cm.npy --color-labels-out $T/cmcl.npy 2>/dev/null && a=\$($BIN/vae-eval accuracy --model $T/cm.safetensors --classifier $T/cmc.safetensors --input 'color-mnist:test[0:40]' --summary-only) && b=\$($BIN/vae-eval accuracy --model $T/cm.safetensors --classifier $T/cmc.safetensors --input $T/cm.npy --labels $T/cmcl.npy --summary-only) && python3 -c \"import json,sys; a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2]); assert a['mean'] == b['mean'] and a['n'] == b['n'] == 40, (a, b)\" \"\$a\" \"\$b\""
else
  echo "skip accuracy: --labels of a colour classifier (no MNIST here)"
fi

# --sigma-head: the mlp encoder's σ head (issue 15: a sigmoid σ saturates at 1 on grey data)
check "sigma-head: an mlp with a log-variance head trains and records it" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 300 --hidden 16 --latent 2 --sigma-head log-variance -o $T/lv.safetensors >/dev/null 2>&1 && python3 -c \"
import json, struct
f = open('$T/lv.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
assert json.loads(json.loads(f.read(n))['__metadata__']['config'])['sigmaHead'] == 'logVariance'\" && $BIN/vae-certify weights --model $T/lv.safetensors 2>/dev/null | python3 -c 'import json,sys; d=json.loads(sys.stdin.readlines()[-1]); assert d[\"c\"] is None and d[\"sigma_head\"].startswith(\"exp\"), d'"
# --sigma-max-norm: the paper A authors' clip of ‖σ(x)‖₂ for their Lemma 1.1 models
check "sigma-max-norm: every σ(x) row is within the clip, and Lemma 1.1 reads the clipped σ" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 300 --hidden 16 --latent 4 --lipschitz 5 --sigma-max-norm 0.2 -o $T/clip.safetensors >/dev/null 2>&1 && $BIN/vae-eval encode --what std --model $T/clip.safetensors --input 'synthetic:test[0:20]' -o $T/clip-sd.npy && $BIN/vae-certify lipschitz --model $T/clip.safetensors --r 8 --input 'synthetic:test[0:20]' > $T/clip-l11.jsonl && python3 -c \"
import json, numpy as np
n = np.linalg.norm(np.load('$T/clip-sd.npy'), axis=1)
assert n.shape == (20,) and n.max() <= 0.2 + 1e-6 and n.max() > 0.19, n
rows = [json.loads(l) for l in open('$T/clip-l11.jsonl') if 'index' in l]
assert len(rows) == 20 and np.allclose([r['sigma_norm'] for r in rows], n, atol=1e-6), rows[:2]\""
expect_status "sigma-max-norm: positive" 2 "must be positive" $BIN/vae-train --data synthetic --sigma-max-norm -1 -o "$T/x.safetensors"
check "convergence-tol: a huge tolerance stops after the second epoch, and the record says so" bash -c "$BIN/vae-train --data synthetic --train-limit 300 --hidden 16 --latent 3 --epochs 9 --convergence-tol 1e9 -o $T/cv.safetensors 2>/dev/null | python3 -c \"
import json, struct, sys
d = json.load(sys.stdin); assert d['epochs'] == 2 and d['converged'] is True and d['max_epochs'] == 9, d
f = open('$T/cv.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
t = json.loads(json.loads(f.read(n))['__metadata__']['config'])['training']
assert t['epochsRun'] == 2 and t['converged'] is True and t['convergenceTol'] == 1e9 and t['epochs'] == 9, t\""
expect_status "convergence-tol: not with proVAE" 2 "does not combine with --objective provae" $BIN/vae-train --data synthetic --objective provae --eps-train 0.01 --convergence-tol 1 -o "$T/x.safetensors"
expect_status "convergence-tol: non-negative" 2 "non-negative number of nats" $BIN/vae-train --data synthetic --convergence-tol -1 -o "$T/x.safetensors"
expect_status "sigma-max-norm: one that underflows a float" 2 "normal 32-bit float" $BIN/vae-train --data synthetic --sigma-max-norm 1e-45 -o "$T/x.safetensors"
expect_status "sigma-max-norm: one that overflows a float" 2 "normal 32-bit float" $BIN/vae-train --data synthetic --sigma-max-norm 1e300 -o "$T/x.safetensors"
expect_status "sigma-max-norm: not with a fixed sigma" 2 "excludes --fixed-sigma" $BIN/vae-train --data synthetic --sigma-max-norm 0.2 --fixed-sigma 0.1 -o "$T/x.safetensors"
expect_status "sigma-max-norm: not with an offset" 2 "exclude each other" $BIN/vae-train --data synthetic --sigma-max-norm 0.2 --sigma-offset 0.1 -o "$T/x.safetensors"
expect_status "sigma-max-norm: one-level models" 2 "not --arch hvae" $BIN/vae-train --data synthetic --arch hvae --sigma-max-norm 0.2 -o "$T/x.safetensors"
expect_status "sigma-head: mlp only" 2 "applies to --arch mlp only" $BIN/vae-train --data synthetic --arch conv --sigma-head log-sigma -o "$T/x.safetensors"
expect_status "sigma-head: not with a fixed sigma" 2 "exclude each other" $BIN/vae-train --data synthetic --sigma-head log-sigma --fixed-sigma 0.1 -o "$T/x.safetensors"
expect_status "sigma-head: exp heads are not Lipschitz" 2 "no global Lipschitz constant" $BIN/vae-train --data synthetic --sigma-head log-variance --lipschitz 5 -o "$T/x.safetensors"
expect_error "init: another sigma head is a different network" "sigma head sigmoid (this run: log-variance)" $BIN/vae-train --data synthetic --epochs 1 --hidden 32 --latent 4 --sigma-head log-variance --init "$T/m.safetensors" -o "$T/ft7.safetensors"

check "provae: a resume without --eps-ramp keeps the checkpoint's default ramp as --epochs grows" bash -c "$BIN/vae-train --data synthetic --epochs 2 --train-limit 200 --hidden 16 --latent 2 --objective provae --eps-train 0.05 --keep-checkpoint -o $T/pr.safetensors >/dev/null 2>&1 && $BIN/vae-train --data synthetic --epochs 4 --train-limit 200 --hidden 16 --latent 2 --objective provae --eps-train 0.05 --resume -o $T/pr.safetensors >/dev/null 2>&1 && python3 -c \"
import json, struct
f = open('$T/pr.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
t = json.loads(json.loads(f.read(n))['__metadata__']['config'])['training']
assert t['epochs'] == 4 and t['epsRampEpochs'] == 1, t\""

check "provae --no-pixel-box: the whole ball's bound is the lower, recorded, and checked on resume" bash -c "for b in box nobox; do f=\$([ \$b = nobox ] && echo --no-pixel-box); $BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 16 --latent 2 --likelihood gaussian --objective provae --eps-train 0.1 --eps-ramp 2 --lr 1e-30 --seed 3 --keep-checkpoint \$f -o $T/pb-\$b.safetensors 2>/dev/null > $T/pb-\$b.json || exit 1; done; python3 -c \"
import json, struct
a = json.load(open('$T/pb-box.json')); b = json.load(open('$T/pb-nobox.json'))
assert a['pixel_box'] is True and b['pixel_box'] is False, (a, b)
assert b['test_elbo_bound'] < a['test_elbo_bound'] - 1e-3, (a['test_elbo_bound'], b['test_elbo_bound'])
# the training loss (the bound on the ramp) and the bound at the radius the ramp reached
assert b['train_elbo'] < a['train_elbo'] - 1e-3, (a['train_elbo'], b['train_elbo'])
assert a['eps_reached'] < 0.1 and b['test_elbo_bound_reached'] < a['test_elbo_bound_reached'] - 1e-3, (a, b)
assert a['eps_train'] == 0.1 and a['eps_reached'] == 0.05, (a['eps_train'], a['eps_reached'])  # printed as given, not as 32-bit floats
f = open('$T/pb-nobox.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
t = json.loads(json.loads(f.read(n))['__metadata__']['config'])['training']
assert t['pixelBox'] is False, t
f = open('$T/pb-box.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
assert 'pixelBox' not in json.loads(json.loads(f.read(n))['__metadata__']['config'])['training']
\" && ! $BIN/vae-train --data synthetic --epochs 2 --train-limit 200 --hidden 16 --latent 2 --likelihood gaussian --objective provae --eps-train 0.1 --lr 1e-30 --seed 3 --resume -o $T/pb-nobox.safetensors 2> $T/pb-resume.err && grep -q -- '--no-pixel-box' $T/pb-resume.err"
check "vae-eval's model_training names a proVAE's radius and ball" bash -c "$BIN/vae-eval elbo --model $T/pb-nobox.safetensors --input 'synthetic:test[0:4]' --summary-only | python3 -c \"
import json, sys
t = json.load(sys.stdin)['model_training']
assert t['eps_train'] == 0.1 and t['pixel_box'] is False and t['objective'] == 'provae', t
\""
expect_status "--no-pixel-box trains proVAEs only" 2 "--no-pixel-box applies to --objective provae only" $BIN/vae-train --data synthetic --no-pixel-box -o "$T/u.safetensors"
expect_status "--no-pixel-box needs a radius" 2 "--no-pixel-box needs a positive --eps-train" $BIN/vae-train --data synthetic --objective provae --likelihood gaussian --no-pixel-box -o "$T/u.safetensors"
expect_status "--no-pixel-box names both of its needs at once" 2 "--no-pixel-box needs a positive --eps-train .* and --likelihood gaussian" $BIN/vae-train --data synthetic --objective provae --no-pixel-box -o "$T/u.safetensors"
check "a standard error of one value is null, not 0" bash -c "$BIN/vae-eval elbo --model $T/pb-nobox.safetensors --input 'synthetic:test[0:1]' --summary-only | python3 -c \"
import json, sys
d = json.load(sys.stdin)
assert d['n'] == 1 and d['stderr'] is None and d['kl_stderr'] is None and d['model_training']['objective'] == 'provae', d
\""
expect_status "--no-pixel-box needs a Gaussian likelihood" 2 "--no-pixel-box needs --likelihood gaussian" $BIN/vae-train --data synthetic --objective provae --eps-train 0.1 --likelihood bernoulli --no-pixel-box -o "$T/u.safetensors"

# --init: fine-tuning starts from another model's weights (paper C's proVAEs from a plain VAE)
check "init: a proVAE fine-tuned from a VAE starts at its weights" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 32 --latent 4 --objective provae --eps-train 0.05 --lr 1e-30 --init $T/m.safetensors -o $T/ft.safetensors >/dev/null 2>$T/ft.log && grep -q 'starting from the weights of $T/m.safetensors' $T/ft.log && python3 -c \"
import json, struct, numpy as np
def read(p):
    f = open(p, 'rb'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n)); data = f.read()
    meta = json.loads(h.pop('__metadata__')['config'])
    return meta, {k: np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], np.float32) for k, v in h.items()}
c0, w0 = read('$T/m.safetensors'); c1, w1 = read('$T/ft.safetensors')
assert sorted(w0) == sorted(w1) and all((w0[k] == w1[k]).all() for k in w0), 'weights moved at lr 1e-30'
t = c1['training']
assert c1['objective'] == 'provae' and t['initModel'] == '$T/m.safetensors' and len(t['initDigest']) > 0, t
assert 'initModel' not in c0['training'], c0['training']\""
check "init: it trains from there" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 32 --latent 4 --seed 5 --init $T/m.safetensors -o $T/ft2.safetensors 2>/dev/null > $T/ft2.json && $BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 32 --latent 4 --seed 5 -o $T/ft3.safetensors 2>/dev/null > $T/ft3.json && python3 -c \"
import json; a = json.load(open('$T/ft2.json')); b = json.load(open('$T/ft3.json'))
assert a['test_elbo'] > b['test_elbo'] + 5, (a['test_elbo'], b['test_elbo'])\""
expect_error "init: a different network is refused, naming the difference" "m.safetensors: is a different network.*hidden \[32\] (this run: \[16\])" $BIN/vae-train --data synthetic --epochs 1 --hidden 16 --latent 4 --init "$T/m.safetensors" -o "$T/ft4.safetensors"
check "init: no output after the refusal" test ! -e "$T/ft4.safetensors"
expect_error "init: a missing model file" "none.safetensors" $BIN/vae-train --data synthetic --epochs 1 --init "$T/none.safetensors" -o "$T/ft5.safetensors"
check "init: a checkpoint to resume" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 32 --latent 4 --init $T/m.safetensors --keep-checkpoint -o $T/ft6.safetensors >/dev/null 2>&1"
expect_status "init: resume without the run's --init is refused" 2 "other options (--init - (checkpoint: $T/m.safetensors" $BIN/vae-train --data synthetic --epochs 2 --train-limit 200 --hidden 32 --latent 4 -o "$T/ft6.safetensors" --resume
check "init: resume with it continues" bash -c "$BIN/vae-train --data synthetic --epochs 2 --train-limit 200 --hidden 32 --latent 4 --init $T/m.safetensors -o $T/ft6.safetensors --resume >/dev/null 2>&1"
check "the checkpoint is removed after a successful run" bash -c "$BIN/vae-train --data synthetic --epochs 1 --hidden 8 --latent 2 --train-limit 100 -o $T/nock.safetensors >/dev/null 2>&1 && test -f $T/nock.safetensors && test ! -e $T/nock.safetensors.ckpt"
check "the Björck gradient is recorded" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 100 --hidden 8 --latent 2 --lipschitz 3 --bjorck-gradient identity -o $T/lid.safetensors >/dev/null 2>&1 && python3 -c \"
import json, struct
f = open('$T/lid.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
assert json.loads(json.loads(f.read(n))['__metadata__']['config'])['bjorckGradient'] == 'identity'\""
check "train lipschitz" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 32 --latent 4 --lipschitz 5 --fixed-sigma 0.1 --likelihood cbernoulli -o $T/l.safetensors 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"max_spectral_norm\"] <= 1.001, d'"
check "train classifier" bash -c "$BIN/vae-train classifier --model $T/m.safetensors --data synthetic --epochs 20 -o $T/c.safetensors 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"classes\"] == 10 and d[\"test_accuracy\"] > 0.2, d'"
expect_error "train: unknown dataset" "unknown dataset" $BIN/vae-train --data nope -o "$T/x.safetensors"
expect_error "train: lipschitz conv" "mlp only" $BIN/vae-train --data synthetic --arch conv --lipschitz 2 -o "$T/x.safetensors"
expect_error "train: bad likelihood" "invalid for '--likelihood.*'bernoulli', 'cbernoulli' or 'gaussian'" $BIN/vae-train --data synthetic --likelihood poisson -o "$T/x.safetensors"
expect_error "train: resume without checkpoint" "no checkpoint" $BIN/vae-train --data synthetic --resume -o "$T/none.safetensors"
check "no model after errors" test ! -e "$T/x.safetensors"
expect_error "classifier: not a model" "not a valid .safetensors" $BIN/vae-train classifier --model "$T/x.npy" --data synthetic -o "$T/c2.safetensors"
expect_error "a classifier passed as the model is named as one" "c.safetensors: is a latent classifier (vae-train classifier), not a VAE: pass it as --classifier" $BIN/vae-eval elbo --model "$T/c.safetensors" --input 'synthetic:test[0:2]'

# vae-eval metrics on the model trained above
M="$T/m.safetensors"
check "recon" $BIN/vae-eval recon --model "$M" --input 'synthetic:test@20' -o "$T/rec.npy"
check "msssim prints items and a summary" bash -c "$BIN/vae-eval msssim 'synthetic:test@20' $T/rec.npy > $T/ms.jsonl && python3 -c \"
import json; L = [json.loads(l) for l in open('$T/ms.jsonl')]
assert len(L) == 21 and L[-1]['metric'] == 'msssim' and L[-1]['n'] == 20 and 0 < L[-1]['mean'] <= 1, L[-1]
assert all(0 <= l['msssim'] <= 1 for l in L[:-1])\""
check "msssim of identical images is 1" bash -c "$BIN/vae-eval msssim $T/rec.npy $T/rec.npy --variant kuzina --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert abs(d[\"mean\"] - 1) < 1e-9, d'"
check "nll" bash -c "$BIN/vae-eval nll --model $M --input 'synthetic:test[0:3]' --samples 50 --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"n\"] == 3 and d[\"mean\"] > 0 and d[\"bits_per_dim\"] > 0, d'"
check "elbo below -nll" bash -c "e=\$($BIN/vae-eval elbo --model $M --input 'synthetic:test[0:3]' --summary-only); n=\$($BIN/vae-eval nll --model $M --input 'synthetic:test[0:3]' --samples 200 --summary-only); python3 -c \"import json; e=json.loads('\$e'); n=json.loads('\$n'); assert e['mean'] <= -n['mean'] + 1, (e, n)\""
# --codes: the encoder means written by encode give the same predictions as encoding the images
check "accuracy --codes equals the encoder means" bash -c "$BIN/vae-eval encode --model $M --input 'synthetic:test@10' -o $T/acc-mu.npy && a=\$($BIN/vae-eval accuracy --model $M --classifier $T/c.safetensors --input 'synthetic:test@10') && b=\$($BIN/vae-eval accuracy --model $M --classifier $T/c.safetensors --input 'synthetic:test@10' --codes $T/acc-mu.npy) && [ \"\$a\" = \"\$b\" ] && $BIN/vae-eval export --input 'synthetic:test@10' -o $T/acc-x.npy && python3 -c \"import numpy as np; np.save('$T/acc-zero.npy', np.zeros_like(np.load('$T/acc-mu.npy')))\" && $BIN/vae-eval accuracy --model $M --classifier $T/c.safetensors --input $T/acc-x.npy --reference $T/acc-x.npy --codes $T/acc-zero.npy | python3 -c 'import json,sys; rows=[json.loads(l) for l in sys.stdin][:-1]; assert len(set(r[\"predicted\"] for r in rows)) == 1, rows'"
expect_error "accuracy --codes of the wrong shape" "expected codes of shape" $BIN/vae-eval accuracy --model "$M" --classifier "$T/c.safetensors" --input 'synthetic:test@5' --codes "$T/acc-mu.npy"
check "accuracy with restarts" bash -c "$BIN/vae-eval accuracy --model $M --classifier $T/c.safetensors --input $T/rec.npy --reference 'synthetic:test@10' --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"metric\"] == \"adversarial_accuracy\" and d[\"restarts\"] == 2, d'"
check "encode/decode round trip shapes" bash -c "$BIN/vae-eval encode --model $M --input 'synthetic:test[0:5]' -o $T/z.npy && $BIN/vae-eval decode --model $M --codes $T/z.npy -o $T/d.npy && python3 -c \"import numpy as np; assert np.load('$T/z.npy').shape == (5, 4) and np.load('$T/d.npy').shape == (5, 1, 28, 28)\""
check "posterior-ratio of equal codes is 0" bash -c "$BIN/vae-eval posterior-ratio --model $M --input 'synthetic:test[0:5]' --z1 $T/z.npy --z2 $T/z.npy --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"mean\"] == 0, d'"
check "elbo: each line is log_px − kl, and the summary means them" bash -c "$BIN/vae-eval elbo --model $M --input 'synthetic:test[0:4]' --samples 2 | python3 -c \"
import json, sys
rows = [json.loads(l) for l in sys.stdin]; items, s = rows[:-1], rows[-1]
assert len(items) == 4 and all(abs(r['elbo'] - (r['log_px'] - r['kl'])) < 1e-6 * abs(r['elbo']) and r['kl'] > 0 for r in items), items
assert abs(s['kl'] - sum(r['kl'] for r in items) / 4) < 1e-9 and abs(s['log_px'] - sum(r['log_px'] for r in items) / 4) < 1e-9, s\""
check "log-likelihood: log p(x|z) at given codes is numpy's Bernoulli log-likelihood of the decoded means" bash -c "$BIN/vae-eval encode --model $M --input 'synthetic:test[0:5]' -o $T/ll-z.npy 2>/dev/null && python3 -c \"import numpy as np; z = np.load('$T/ll-z.npy'); np.save('$T/ll-z2.npy', z[::-1].copy())\" && $BIN/vae-eval decode --model $M --codes $T/ll-z2.npy -o $T/ll-mean.npy 2>/dev/null && $BIN/vae-eval export --input 'synthetic:test[0:5]' -o $T/ll-x.npy 2>/dev/null && $BIN/vae-eval log-likelihood --model $M --input 'synthetic:test[0:5]' --codes $T/ll-z2.npy > $T/ll.jsonl && python3 -c \"
import json, numpy as np
x = np.load('$T/ll-x.npy').reshape(5, -1).astype(np.float64); lam = np.clip(np.load('$T/ll-mean.npy').reshape(5, -1).astype(np.float64), 1e-7, 1 - 1e-7)
ref = (x * np.log(lam) + (1 - x) * np.log(1 - lam)).sum(1)
rows = [json.loads(l) for l in open('$T/ll.jsonl')]
got = np.array([r['log_px'] for r in rows if 'index' in r])
assert got.shape == (5,) and np.allclose(got, ref, rtol=1e-4, atol=1e-2), (got, ref)
assert abs(rows[-1]['mean'] - got.mean()) < 1e-6 and rows[-1]['metric'] == 'log_px', rows[-1]\""
check "decode --logits: σ of the logits is the means, and their exact Bernoulli log-likelihood is log-likelihood's" bash -c "$BIN/vae-eval decode --model $M --codes $T/ll-z2.npy --logits -o $T/ll-logits.npy 2>/dev/null && python3 -c \"
import json, numpy as np
l = np.load('$T/ll-logits.npy').astype(np.float64); m = np.load('$T/ll-mean.npy').astype(np.float64)
assert l.shape == m.shape == (5, 1, 28, 28), (l.shape, m.shape)
assert np.allclose(1 / (1 + np.exp(-l)), m, atol=1e-6)
x = np.load('$T/ll-x.npy').reshape(5, -1).astype(np.float64); l = l.reshape(5, -1)
ref = (x * l - np.logaddexp(0, l)).sum(1)
got = np.array([r['log_px'] for r in map(json.loads, open('$T/ll.jsonl')) if 'index' in r])
assert np.allclose(got, ref, rtol=1e-5, atol=1e-3), (got, ref)
\""
expect_error "log-likelihood: one code row per image" "expected codes of shape \[4, " $BIN/vae-eval log-likelihood --model "$M" --input 'synthetic:test[0:4]' --codes "$T/ll-z.npy"
check "summaries say how the model was trained" bash -c "$BIN/vae-eval elbo --model $M --input 'synthetic:test[0:3]' --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); t=d[\"model_training\"]; assert t[\"epochs\"] == 3 and t[\"train_images\"] == 2000, d'"
check "r-robustness" bash -c "$BIN/vae-eval r-robustness --model $M --input 'synthetic:test[0:3]' --r 1000 --samples 20 --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"share_r_robust\"] == 1, d'"
# damage: against numpy's own Monte Carlo estimate from the encoder's μ, σ of clean and perturbed
# images (its own draws, decoded by vae-eval decode), per mode, within 5 standard errors; with the
# images themselves as "perturbed" every mode sees the same draws as no perturbation at all
check "damage: each mode matches numpy's estimate from encode/decode" bash -c "$BIN/vae-eval export --input 'synthetic:test[0:3]' -o $T/dm-x.npy 2>/dev/null && $BIN/vae-eval export --input 'synthetic:test[10:13]' -o $T/dm-p.npy 2>/dev/null && for f in x p; do $BIN/vae-eval encode --model $M --input $T/dm-\$f.npy -o $T/dm-mu-\$f.npy --std-out $T/dm-sd-\$f.npy 2>/dev/null || exit 1; done && $BIN/vae-eval recon --model $M --input $T/dm-x.npy -o $T/dm-g0.npy 2>/dev/null && python3 -c \"
import numpy as np
mu = {f: np.load('$T/dm-mu-%s.npy' % f) for f in 'xp'}; sd = {f: np.load('$T/dm-sd-%s.npy' % f) for f in 'xp'}
eta = np.random.default_rng(5).standard_normal((3, 2000, mu['x'].shape[1]))
src = {'mu': ('p', 'x'), 'sigma': ('x', 'p'), 'both': ('p', 'p')}
np.save('$T/dm-z.npy', np.concatenate([(mu[a][:, None] + eta * sd[b][:, None]).reshape(-1, eta.shape[2]) for a, b in src.values()]).astype(np.float32))\" && $BIN/vae-eval decode --model $M --codes $T/dm-z.npy -o $T/dm-g.npy 2>/dev/null && for m in mu sigma both; do $BIN/vae-eval damage --model $M --input $T/dm-x.npy --perturbed $T/dm-p.npy --through \$m --samples 2000 > $T/dm-\$m.jsonl || exit 1; done && python3 -c \"
import json, numpy as np
g0 = np.load('$T/dm-g0.npy').reshape(3, 1, -1).astype(np.float64)
g = np.load('$T/dm-g.npy').reshape(3, 3, 2000, -1).astype(np.float64)
d = np.sqrt(((g - g0[None]) ** 2).sum(-1))
means = []
for k, m in enumerate(['mu', 'sigma', 'both']):
    rows = [json.loads(l) for l in open('$T/dm-%s.jsonl' % m)]
    got = np.array([r['damage'] for r in rows if 'index' in r]); sds = np.array([r['damage_sd'] for r in rows if 'index' in r])
    se = np.sqrt(sds ** 2 + d[k].std(1) ** 2) / np.sqrt(2000)
    assert got.shape == (3,) and (abs(got - d[k].mean(1)) < 5 * se).all(), (m, got, d[k].mean(1), se)
    assert np.allclose(sds, d[k].std(1), rtol=0.15), (m, sds, d[k].std(1))
    assert rows[-1]['through'] == m and rows[-1]['samples'] == 2000 and rows[-1]['metric'] == 'damage', rows[-1]
    means.append(got)
assert not np.allclose(means[0], means[1], rtol=0.05), means\" && $BIN/vae-eval damage --model $M --input $T/dm-x.npy --samples 50 --summary-only > $T/dm-none.json && for m in mu sigma both; do $BIN/vae-eval damage --model $M --input $T/dm-x.npy --perturbed $T/dm-x.npy --through \$m --samples 50 --summary-only | python3 -c \"
import json, sys
a = json.load(open('$T/dm-none.json')); b = json.load(sys.stdin)
assert a['mean'] == b['mean'] and a['stderr'] == b['stderr'] and not a['perturbed'], (a, b)\" || exit 1; done"
expect_error "damage: --through needs --perturbed" "--through applies with --perturbed only" $BIN/vae-eval damage --model "$M" --input 'synthetic:test[0:3]' --through mu
expect_error "r-robustness: --through, even its default, needs --perturbed" "--through applies with --perturbed only" $BIN/vae-eval r-robustness --model "$M" --input 'synthetic:test[0:3]' --r 1 --through mu
expect_error "r-robustness: one stdin" "only one of --input and --perturbed can come from stdin" $BIN/vae-eval r-robustness --model "$M" --input - --perturbed - --r 1
expect_error "damage: one perturbed image per input" "dm-p.npy: has shape \[3, 1, 28, 28\], the inputs have \[2, 1, 28, 28\]" $BIN/vae-eval damage --model "$M" --input 'synthetic:test[0:2]' --perturbed "$T/dm-p.npy"
check "r-robustness --through both reads σ(x'): with x' = x it is Eq. 2's value" bash -c "a=\$($BIN/vae-eval r-robustness --model $M --input $T/dm-x.npy --r 3 --samples 100 --summary-only) && b=\$($BIN/vae-eval r-robustness --model $M --input $T/dm-x.npy --perturbed $T/dm-x.npy --through both --r 3 --samples 100 --summary-only) && python3 -c \"
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert a['mean'] == b['mean'] and b['through'] == 'both' and 'through' not in a, (a, b)\" \"\$a\" \"\$b\""
check "encoder-stats" bash -c "$BIN/vae-eval encoder-stats --model $M --input 'synthetic:test[0:2]' | python3 -c 'import json,sys; L=[json.loads(l) for l in sys.stdin]; assert len(L) == 3 and L[0][\"jacobian_frobenius\"] > 0'"
# latent activity (Burda et al. 2016): the variance over images of each encoder mean, against numpy on vae-eval encode's means
check "encoder-stats: latent_activity is the variance of the encoder means" bash -c "$BIN/vae-eval encoder-stats --model $M --input 'synthetic:test@40' --summary-only > $T/act.json && $BIN/vae-eval encode --model $M --input 'synthetic:test@40' -o $T/act-mu.npy && python3 -c \"
import json, numpy as np
d = json.load(open('$T/act.json')); v = np.load('$T/act-mu.npy').astype(np.float64).var(axis=0)
assert np.allclose(d['latent_activity'], v, rtol=1e-4, atol=1e-9), (d['latent_activity'], v)
assert d['active_units'] == int((v > 0.01).sum()), d
\""
check "latent-plot" bash -c "$BIN/vae-train --data synthetic --epochs 1 --latent 2 --hidden 16 --train-limit 200 -o $T/m2.safetensors >/dev/null 2>&1 && $BIN/vae-eval latent-plot --model $T/m2.safetensors --input 'synthetic:test@30' -o $T/lat.png --size 300 && python3 -c \"d=open('$T/lat.png','rb').read(); assert d[:4]==b'\\x89PNG'\""
# --tsv holds the encoder's own means and standard deviations (vae-eval encode); --range fixes the view
check "latent-plot --tsv matches encode" bash -c "$BIN/vae-eval latent-plot --model $T/m2.safetensors --input 'synthetic:test@30' -o $T/lat2.png --range 4 --tsv $T/lat.tsv && $BIN/vae-eval encode --model $T/m2.safetensors --input 'synthetic:test@30' -o $T/lat-mu.npy && $BIN/vae-eval encode --what std --model $T/m2.safetensors --input 'synthetic:test@30' -o $T/lat-sd.npy && python3 -c \"
import numpy as np
t = np.loadtxt('$T/lat.tsv', skiprows=1)
assert t.shape == (30, 5), t.shape
assert np.allclose(t[:, 0:2], np.load('$T/lat-mu.npy'), atol=1e-5) and np.allclose(t[:, 2:4], np.load('$T/lat-sd.npy'), atol=1e-5)
assert set(t[:, 4].astype(int)) <= set(range(10))\""
expect_error "latent-plot --range must be positive" "range" $BIN/vae-eval latent-plot --model "$T/m2.safetensors" --input synthetic:test@10 --range -1 -o "$T/x.png"
expect_error "latent-plot needs 2-D codes" "needs 2" $BIN/vae-eval latent-plot --model "$M" --input synthetic:test@10 -o "$T/x.png"
expect_error "msssim count mismatch" "give as many as" $BIN/vae-eval msssim 'synthetic:test[0:3]' 'synthetic:test[0:4]'
check "msssim pairs K images with each reference" bash -c "$BIN/vae-eval export --input 'synthetic:test[0:6]' -o $T/six.npy 2>/dev/null && python3 -c \"import numpy as np; np.save('$T/three.npy', np.load('$T/six.npy')[:3]); np.save('$T/rep.npy', np.repeat(np.load('$T/six.npy')[:3], 2, axis=0))\" && $BIN/vae-eval msssim $T/three.npy $T/six.npy > $T/k.jsonl && $BIN/vae-eval msssim $T/rep.npy $T/six.npy > $T/r.jsonl && python3 -c \"
import json
K = [json.loads(l) for l in open('$T/k.jsonl')]; R = [json.loads(l) for l in open('$T/r.jsonl')]
assert [k['msssim'] for k in K[:-1]] == [r['msssim'] for r in R[:-1]] and len(K) == 7
assert [(k['reference'], k['restart']) for k in K[:-1]] == [(i // 2, i % 2) for i in range(6)], K\""
expect_error "decode wrong code size" "expected codes of shape" $BIN/vae-eval decode --model "$M" --codes "$T/rec.npy" -o "$T/x.npy"
python3 -c "import numpy as np; np.save('$T/small.npy', np.random.default_rng(0).uniform(size=(3, 1, 4, 4)).astype(np.float32))"
expect_error "model for other images" "expects" $BIN/vae-eval recon --model "$M" --input "$T/small.npy" -o "$T/x.npy"
expect_error "pixels outside [0, 1]" "z.npy: pixel values must lie in \[0, 1\]" $BIN/vae-eval recon --model "$M" --input "$T/z.npy" -o "$T/x.npy"

# the command-line conventions every tool shares (the CLI module)
expect_status "usage error: one line, status 2" 2 "^vae-eval: error: Unexpected argument 'nope'$" $BIN/vae-eval nope
expect_status "missing option names the subcommand" 2 "^vae-eval msssim: error: Missing expected argument" $BIN/vae-eval msssim
expect_status "negative value reaches the check" 2 "^vae-eval r-robustness: error: --r must be positive" $BIN/vae-eval r-robustness --model "$M" --input synthetic:test@10 --r -1
expect_status "bad choice lists the choices" 2 "'mean', 'std' or 'sample'" $BIN/vae-eval encode --model "$M" --input synthetic:test@10 --what median -o "$T/u.npy"
expect_status "bad widths" 2 "invalid for '--hidden" $BIN/vae-train --data synthetic --hidden 8,x -o "$T/u.safetensors"
expect_status "cross-option check" 2 "apply to --objective provae only" $BIN/vae-train --data synthetic --eps-train 0.1 -o "$T/u.safetensors"
expect_status "threads checked" 2 "threads must be in" $BIN/vae-eval elbo --model "$M" --input synthetic:test@10 --threads 0
expect_status "data takes a name" 2 "takes a dataset name" $BIN/vae-train classifier --model "$M" --data 'synthetic:train[0:10]' -o "$T/u.safetensors"
expect_status "runtime error: status 1" 1 "^vae-eval recon: error: .*expects" $BIN/vae-eval recon --model "$M" --input "$T/small.npy" -o "$T/u.npy"
expect_status "unknown dataset: status 2" 2 "^vae-train: error: unknown dataset 'nope'" $BIN/vae-train --data nope -o "$T/u.safetensors"
expect_status "bad spec: status 2" 2 "bad dataset spec" $BIN/vae-eval export --input 'synthetic:test[0:x]' -o "$T/u.npy"
expect_status "train refuses -o -" 2 "give a path instead of -" $BIN/vae-train --data synthetic -o -
expect_status "two outputs, one file" 2 "are the same file" $BIN/vae-eval export --input synthetic:test@10 -o "$T/u.npy" --labels-out "$T/u.npy"
expect_status "two outputs, one file, spelt apart" 2 "are the same file" $BIN/vae-eval export --input synthetic:test@10 -o "$T/u.npy" --labels-out "$T/./sub/../u.npy"
expect_status "an output may not overwrite an input" 2 "would overwrite the input" $BIN/vae-train classifier --model "$M" --data synthetic -o "$M"
expect_status "an empty output path" 2 "output path is empty" $BIN/vae-eval export --input synthetic:test@10 -o ''
expect_status "vae-train needs a regular file" 2 "is not a regular file" $BIN/vae-train --data synthetic -o /dev/null
expect_status "resume with fewer epochs than done" 2 "epochs are done already" $BIN/vae-train --data synthetic --epochs 2 --hidden 32 --latent 4 -o "$T/m.safetensors" --resume
check "resuming a finished run reports its last epoch" bash -c "$BIN/vae-train --data synthetic --epochs 3 --hidden 32 --latent 4 -o $T/m.safetensors --resume --keep-checkpoint 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"train_elbo\"] is not None and d[\"validation_elbo\"] is not None, d'"
expect_status "a closed stdout is one error line" 1 "cannot write to stdout" bash -c "$BIN/vae-eval mse synthetic:test[0:3] synthetic:test[0:3] >&-"
expect_status "unwritable second output: nothing written" 1 "l.npy: cannot write" $BIN/vae-eval export --input synthetic:test@10 -o "$T/u.npy" --labels-out "$T/no/dir/l.npy"
check "train checks its output before training" bash -c "$BIN/vae-train --data synthetic --epochs 50 -o $T/no/dir/m.safetensors 2>$T/err; rc=\$?; [ \$rc = 1 ] && grep -q 'm.safetensors: cannot write' $T/err && ! grep -q epoch $T/err"
python3 -c "import numpy as np; np.save('$T/zhuge.npy', np.full((5, 4), 1e30, np.float32))"
check "posterior-ratio pairs K codes with each image" bash -c "python3 -c \"import numpy as np; np.save('$T/z2k.npy', np.repeat(np.load('$T/z.npy'), 2, axis=0))\" && $BIN/vae-eval posterior-ratio --model $M --input 'synthetic:test[0:5]' --z1 $T/z.npy --z2 $T/z2k.npy | python3 -c 'import json,sys; L=[json.loads(l) for l in sys.stdin]; assert L[-1][\"n\"] == 10 and L[-1][\"mean\"] == 0 and [l[\"reference\"] for l in L[:-1]] == [i // 2 for i in range(10)], L'"
expect_status "a non-finite metric is an error naming the item" 1 "5 of 5 log_posterior_ratio values are not finite (the first is item 0" $BIN/vae-eval posterior-ratio --model "$M" --input 'synthetic:test[0:5]' --z1 "$T/zhuge.npy" --z2 "$T/z.npy"
expect_status "classifier of another model" 1 "c.safetensors was trained on the codes of another model" $BIN/vae-eval accuracy --model "$T/l.safetensors" --classifier "$T/c.safetensors" --input synthetic:test@10
expect_status "options that would be ignored are refused" 2 "apply to Lipschitz models" $BIN/vae-train --data synthetic --group-size 4 -o "$T/u.safetensors"
expect_status "schedule options need their schedule" 2 "applies to --lr-schedule plateau only" $BIN/vae-train --data synthetic --patience 3 -o "$T/u.safetensors"
# vae-certify weights
check "certify weights of a Lipschitz-VAE: its claims hold" bash -c "$BIN/vae-certify weights --model $T/l.safetensors > $T/cw.jsonl && python3 -c \"
import json
L = [json.loads(l) for l in open('$T/cw.jsonl')]; s = L[-1]
assert s['matches_claims'] is True and s['loose'] is False and s['c'] == 0 and s['sigma_head'] == 'fixed', s
assert abs(s['a_before_sigmoid'] - 5) < 0.05 and abs(s['a'] - 1.25) < 0.02 and all(l['lower'] <= l['upper'] for l in L[:-1]), s\""
check "certify weights of an unconstrained VAE: loose products" bash -c "$BIN/vae-certify weights --model $M --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"loose\"] is True and d[\"matches_claims\"] is None and d[\"a\"] > 0, d'"
python3 - "$T/l.safetensors" "$T/tampered.safetensors" <<'PY'
import json, struct, sys
raw = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]
head = json.loads(raw[8:8 + n]); cfg = json.loads(head['__metadata__']['config'])
cfg['lipschitzDecoder'] = 2.0  # claims a constant its weights do not satisfy
head['__metadata__']['config'] = json.dumps(cfg)
h = json.dumps(head).encode(); h += b' ' * ((8 - len(h) % 8) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(h)) + h + raw[8 + n:])
PY
# vae-certify theorem1: paper A Theorem 1 (p1, p2, the bound) and Lemma 1.1 (m1, m2) for given
# constants, against the paper's formulas written out in Python
check "certify theorem1 against Theorem 1 and Lemma 1.1 written out in Python" bash -c "$BIN/vae-certify theorem1 --a 5 --b 4 --c 3 --latent 5 --sigma-norm 0.1 --r 5 --deltas 0:0.3:0.01 --threshold 0.4 > $T/th1.jsonl && python3 -c \"
import json, math
rows = [json.loads(l) for l in open('$T/th1.jsonl')]
pts, s = rows[:-1], rows[-1]
a, b, c, d, sg, r = 5.0, 4.0, 3.0, 5, 0.1, 5.0
assert len(pts) == 31 and abs(pts[-1]['delta'] - 0.3) < 1e-12, len(pts)
C = math.exp(0.5 * (d - (d - 1) * math.log(d))) / math.sqrt(math.pi)
def p2(x):
    base = r / a - b * x
    if base < 0: return 1.0
    u = base ** 2 / (c * x + 2 * sg) ** 2
    return min(1.0, C * u ** (d / 2) * math.exp(-u / 2) / (u - d + 2)) if u > d - 2 else 1.0
seen = set()
for p in pts:
    x = p['delta']
    q1 = min(1.0, a * a * (b * b * x * x + (c * x + 2 * sg) ** 2) / r ** 2)
    assert abs(p['p1'] - q1) < 1e-12 and abs(p['p2'] - p2(x)) < 1e-9, (x, p, q1, p2(x))
    assert abs(p['bound'] - (1 - min(q1, p2(x)))) < 1e-9 and abs(p['one_minus_p1'] - (1 - q1)) < 1e-12
    seen.add('p1' if q1 < p2(x) else 'p2' if p2(x) < q1 else 'tie')
assert {'p1', 'p2'} <= seen, ('each bound is the strictly tighter one somewhere on this grid', seen)
assert pts[-1]['p2'] == 1 and r / a - b * pts[-1]['delta'] < 0, 'the grid passes r/(ab), where p2 is 1'
qa, qb, qc = b * b + c * c, 4 * c * sg, 4 * sg * sg - (1 - 0.4) * (r / a) ** 2
assert abs(s['m1'] - (-qb + math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)) < 1e-12, s
assert p2(s['m2'] * (1 - 1e-6)) <= 0.6 < p2(s['m2'] * (1 + 1e-6)), s
assert s['margin'] == max(s['m1'], s['m2'])\""
expect_status "certify theorem1 refuses a bad grid" 2 "deltas must be FROM:TO:STEP" $BIN/vae-certify theorem1 --a 5 --b 5 --c 5 --latent 5 --sigma-norm 0.1 --r 5 --deltas 0:1
expect_status "certify theorem1 refuses a huge grid" 2 "more than 100,000" $BIN/vae-certify theorem1 --a 5 --b 5 --c 5 --latent 5 --sigma-norm 0.1 --r 5 --deltas 0:1:1e-9
expect_status "certify theorem1 refuses a grid too fine to count" 2 "more than 100,000" $BIN/vae-certify theorem1 --a 5 --b 5 --c 5 --latent 5 --sigma-norm 0.1 --r 5 --deltas 0:1:1e-300
check "certify theorem1: one latent dimension has no χ² bound (p2 = 1)" bash -c "$BIN/vae-certify theorem1 --a 5 --b 5 --c 5 --latent 1 --sigma-norm 0.1 --r 5 --deltas 0,0.01 | python3 -c \"import json, sys; rows = [json.loads(l) for l in sys.stdin]; assert all(r['p2'] == 1 for r in rows[:-1]) and rows[-1]['m2'] == 0, rows\""
check "certify lipschitz: Theorem 2 from the measured constants" bash -c "$BIN/vae-certify lipschitz --model $T/l.safetensors --r 8 > $T/t2.json && python3 -c \"
import json, math
d = json.load(open('$T/t2.json'))
assert d['certificate'] == 'Theorem 2 (global)' and d['c'] == 0 and abs(d['sigma_norm'] - 0.2) < 1e-6, d
m1 = math.sqrt(max(0, 0.5 * (8 / d['a'])**2 - 4 * d['sigma_norm']**2)) / d['b']
assert abs(d['m1'] - m1) < 1e-9 and d['margin'] >= m1 > 0, (d, m1)\""
check "certify lipschitz: Lemma 1.1 per input equals Theorem 2 for a fixed σ" bash -c "$BIN/vae-certify lipschitz --model $T/l.safetensors --r 8 --input 'synthetic:test[0:3]' --delta 0.01 > $T/l11.jsonl && python3 -c \"
import json
L = [json.loads(l) for l in open('$T/l11.jsonl')]; g = json.load(open('$T/t2.json'))
assert len(L) == 4 and all(abs(l['margin'] - g['margin']) < 1e-12 and 0 <= l['bound'] <= 1 for l in L[:-1]), L
assert L[-1]['certified_share'] == 1 and L[-1]['constants'].startswith('measured'), L[-1]\""
check "certify lipschitz --assume-config uses the claimed constants" bash -c "$BIN/vae-certify lipschitz --model $T/l.safetensors --r 8 --assume-config | python3 -c 'import json,sys; d=json.load(sys.stdin); assert (d[\"a\"], d[\"b\"], d[\"c\"]) == (5, 5, 0) and d[\"constants\"].startswith(\"configured\"), d'"
expect_status "certify lipschitz: Theorem 2 needs a fixed σ" 2 "Theorem 2 needs a fixed encoder" $BIN/vae-certify lipschitz --model "$M" --r 8
expect_status "certify lipschitz: --delta is per input" 2 "--delta needs --input" $BIN/vae-certify lipschitz --model "$T/l.safetensors" --r 8 --delta 0.1
check "certify jacobian: paper B's margin from its parts" bash -c "$BIN/vae-certify jacobian --model $M --input 'synthetic:test[0:4]' --r 30 --samples 100 > $T/jac.jsonl && $BIN/vae-eval encoder-stats --model $M --input 'synthetic:test[0:4]' > $T/es.jsonl && python3 -c \"
import json
from statistics import NormalDist
L = [json.loads(l) for l in open('$T/jac.jsonl')]; E = [json.loads(l) for l in open('$T/es.jsonl')]
assert len(L) == 5 and L[-1]['samples'] == 100 and L[-1]['n'] == 4, L[-1]
for l, e in zip(L[:-1], E[:-1]):
    assert abs(l['jacobian_frobenius'] - e['jacobian_frobenius']) < 1e-9 * e['jacobian_frobenius'], (l, e)
    assert l['p_low'] <= l['p'] <= l['p_high']
    if 0 < l['p_low'] < 1: assert abs(l['margin_low'] - l['min_sigma'] * NormalDist().inv_cdf(l['p_low']) / l['jacobian_frobenius']) < 1e-9
    if l['margin'] is not None: assert l['margin_low'] <= l['margin']\""
check "certify jacobian: p = 0 and p = 1 kept apart, certified_margin" bash -c "$BIN/vae-certify jacobian --model $M --input 'synthetic:test[0:4]' --r 1e-6 --samples 50 > $T/j0.jsonl && $BIN/vae-certify jacobian --model $M --input 'synthetic:test[0:4]' --r 1e6 --samples 50 > $T/j1.jsonl && python3 -c \"
import json
z = [json.loads(l) for l in open('$T/j0.jsonl')]; o = [json.loads(l) for l in open('$T/j1.jsonl')]
assert all(l['p'] == 0 and l['margin'] is None and l['margin_low'] is None and l['certified_margin'] == 0 for l in z[:4]), z
assert z[4]['not_r_robust'] == 4 and z[4]['infinite_margins'] == 0 and z[4]['mean_certified_margin'] == 0 and z[4]['mean_margin'] is None, z[4]
assert all(l['p'] == 1 and l['margin'] is None and l['certified_margin'] == l['margin_low'] > 0 for l in o[:4]), o
assert o[4]['infinite_margins'] == 4 and o[4]['not_r_robust'] == 0 and o[4]['mean_certified_margin'] > 0, o[4]\""
expect_status "certify jacobian: r must be positive" 2 "--r must be positive" $BIN/vae-certify jacobian --model "$M" --input 'synthetic:test[0:4]' --r 0
check "certify ibp: the bound is the ELBO at ε = 0 and below it beyond" bash -c "$BIN/vae-certify ibp --model $M --input 'synthetic:test[0:4]' --eps 0 --samples 3 > $T/ibp0.jsonl && $BIN/vae-certify ibp --model $M --input 'synthetic:test[0:4]' --eps 0.02 --samples 3 --alpha -1e9 > $T/ibp.jsonl && python3 -c \"
import json
A = [json.loads(l) for l in open('$T/ibp0.jsonl')]; B = [json.loads(l) for l in open('$T/ibp.jsonl')]
assert all(abs(a['bound'] - a['elbo']) < 1e-6 * abs(a['elbo']) for a in A[:-1]), A
assert all(b['bound'] <= b['elbo'] for b in B[:-1]) and B[-1]['samples'] == 3 and B[-1]['eps'] == 0.02 and B[-1]['certified_share'] == 1, B[-1]
assert all(b['bound_stderr'] > 0 for b in B[:-1]), 'a Monte Carlo standard error per image with 3 draws'
\" && $BIN/vae-certify ibp --model $M --input 'synthetic:test[0:4]' --eps 0.02 --samples 1 | python3 -c \"
import json, sys
L = [json.loads(l) for l in sys.stdin][:-1]
assert len(L) == 4 and all('bound_stderr' not in l for l in L), L
\""
# --samples 0 attacks the ELBO at the encoder mean: no draw, so the seed cannot matter (with one draw it does)
check "elbo attack --samples 0 draws no noise" bash -c "for s in 1 2; do for k in 0 1; do $BIN/vae-attack elbo --model $M --input 'synthetic:test[0:4]' --radius 0.05 --steps 5 --init zero --samples \$k --seed \$s -o $T/e\$k-\$s.npy --summary-only >/dev/null 2>&1 || exit 1; done; done && python3 -c \"
import numpy as np
a, b, c, d = (np.load('$T/e%s.npy' % n) for n in ('0-1', '0-2', '1-1', '1-2'))
assert np.array_equal(a, b), 'samples 0 depends on the seed'
assert not np.array_equal(c, d), 'samples 1 should depend on the seed'\""
check "certify ibp: the bound stays below the ELBO the elbo attack reaches" bash -c "$BIN/vae-attack elbo --model $M --input 'synthetic:test[0:4]' --radius 0.02 --steps 10 -o $T/ibpadv.npy --summary-only >/dev/null 2>&1 && $BIN/vae-eval elbo --model $M --input $T/ibpadv.npy --samples 20 --summary-only > $T/ibpadv.json && python3 -c \"
import json
e = json.load(open('$T/ibpadv.json'))['mean']; B = [json.loads(l) for l in open('$T/ibp.jsonl')]
assert B[-1]['mean_bound'] <= e, (B[-1], e)
import statistics
b = [l['bound'] for l in B[:-1]]
assert abs(B[-1]['mean_bound_stderr'] - statistics.stdev(b) / len(b) ** 0.5) < 1e-9 * max(1, abs(B[-1]['mean_bound'])), B[-1]\""
expect_status "certify ibp: eps must be non-negative" 2 "--eps must be non-negative" $BIN/vae-certify ibp --model "$M" --input 'synthetic:test[0:4]' --eps -0.1
check "certify margin: linear and bisect agree, bisect with fewer attacks, every certified margin below the empirical one" bash -c "$BIN/vae-certify margin --model $T/l.safetensors --input 'synthetic:test[0:3]' --r 8 --start 3 --step 0.5 --restarts 2 --samples 20 --attack-steps 5 > $T/mlin.jsonl && $BIN/vae-certify margin --model $T/l.safetensors --input 'synthetic:test[0:3]' --r 8 --start 3 --step 0.5 --restarts 2 --samples 20 --attack-steps 5 --search bisect --summary-only > $T/mbis.json && python3 -c \"
import json
L = [json.loads(l) for l in open('$T/mlin.jsonl')]; a = L[-1]; b = json.load(open('$T/mbis.json'))
C = [json.loads(l) for l in open('$T/l11.jsonl')][:-1]
assert 'not a certificate' in a['estimate'] and a['n'] == 3, a
assert abs(a['mean_margin'] - b['mean_margin']) <= 0.5 and b['attacks'] <= a['attacks'], (a, b)
# the grid resolves margins to one step: a certified margin may exceed an empirical 0 by less than it
assert all(c['margin'] <= e['margin'] + 0.5 for c, e in zip(C, L[:-1])), (C, L)\""
expect_status "certify margin: step within start" 2 "must not exceed --start" $BIN/vae-certify margin --model "$T/l.safetensors" --input 'synthetic:test[0:3]' --start 1 --step 2
python3 - "$T/l.safetensors" "$T/scaled.safetensors" <<'PY'
import json, struct, sys, numpy as np
raw = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', raw[:8])[0]
head = json.loads(raw[8:8 + n]); body = bytearray(raw[8 + n:])
o0, o1 = head['decoder.0.0.weight']['data_offsets']
body[o0:o1] = (np.frombuffer(bytes(body[o0:o1]), np.float32) * 3).astype(np.float32).tobytes()
open(sys.argv[2], 'wb').write(raw[:8 + n] + bytes(body))
PY
expect_status "certify weights catches weights scaled after training" 1 "not 1 as training saves it" $BIN/vae-certify weights --model "$T/scaled.safetensors"
check "an edited claim is what the layers then apply" bash -c "$BIN/vae-certify weights --model $T/tampered.safetensors --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"matches_claims\"] is True and abs(d[\"a_before_sigmoid\"] - 2) < 0.02, d'"
ln -s "$T/linked-target.npy" "$T/link.npy"
check "-o through a symlink writes its target" bash -c "$BIN/vae-eval export --input synthetic:test@10 -o $T/link.npy 2>/dev/null && test -L $T/link.npy && python3 -c \"import numpy as np; assert np.load('$T/linked-target.npy').shape == (10, 1, 28, 28)\""
mkfifo "$T/fifo.npy"
check "-o into a named pipe keeps the pipe" bash -c "(cat $T/fifo.npy > $T/from-fifo.npy &) ; $BIN/vae-eval export --input synthetic:test@10 -o $T/fifo.npy 2>/dev/null && sleep 0.3 && test -p $T/fifo.npy && python3 -c \"import numpy as np; assert np.load('$T/from-fifo.npy').shape == (10, 1, 28, 28)\""
check "-o /dev/null keeps the device" bash -c "$BIN/vae-eval export --input synthetic:test@10 -o /dev/null 2>/dev/null && test -c /dev/null"
check "no output after usage errors" test ! -e "$T/u.safetensors" -a ! -e "$T/u.npy"
check "vae-train --help shows the training options" bash -c "$BIN/vae-train --help | grep -q -- '--lipschitz-decoder' && $BIN/vae-train --help | grep -q 'vae-train classifier --help'"
check "help lists choices and defaults" bash -c "$BIN/vae-train --help | tr -s ' \\n' ' ' | grep -q 'values: mlp, conv, conv-small, hvae; default: mlp'"
check "help says what is off by default" bash -c "$BIN/vae-eval encode --help | grep -q 'std-out.*Off by default' || $BIN/vae-eval encode --help | tr -s ' \n' ' ' | grep -q 'standard deviations here (one-level models). Off by default'"
check "commands list only options they use" bash -c "! $BIN/vae-eval encode --help | grep -q -- '--labels' && ! $BIN/vae-eval nll --help | grep -q -- '--labels' && $BIN/vae-eval accuracy --help | grep -q -- '--labels'"
check "help fits 80 columns apart from usage lines" bash -c "for c in 'vae-train' 'vae-train classifier' 'vae-eval' 'vae-eval accuracy' 'vae-eval msssim' 'vae-attack' 'vae-hmc' 'vae-certify weights' 'vae-certify lipschitz' 'vae-certify jacobian' 'vae-certify ibp' 'vae-certify margin'; do COLUMNS=80 $BIN/\$c --help; done | grep -v '^USAGE' | python3 -c 'import sys; bad = [l for l in sys.stdin if len(l.rstrip(\"\\n\")) > 80]; print(*bad); sys.exit(1 if bad else 0)'"
check "classifier on part of the data, with threads" bash -c "$BIN/vae-train classifier --model $M --data synthetic --train-limit 300 --test-limit 50 --threads 1 --epochs 5 -o $T/c3.safetensors 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"train_images\"] == 300 and d[\"test_images\"] == 50, d'"

# binarised data (paper D)
check "a #bin spec binarises" bash -c "$BIN/vae-eval export --input 'synthetic:test@20#bin/3' -o $T/bin.npy 2>/dev/null && python3 -c \"import numpy as np; x = np.load('$T/bin.npy'); assert set(np.unique(x).tolist()) <= {0.0, 1.0} and x.shape == (20, 1, 28, 28)\""
check "train with dynamic binarisation" bash -c "$BIN/vae-train --data synthetic --epochs 1 --hidden 16 --latent 2 --train-limit 300 --binarize dynamic --keep-checkpoint -o $T/bin.safetensors >/dev/null 2>&1 && python3 -c \"
import json, struct
f = open('$T/bin.safetensors', 'rb'); n = struct.unpack('<Q', f.read(8))[0]
assert json.loads(json.loads(f.read(n))['__metadata__']['config'])['training']['binarize'] == 'dynamic'\""
expect_status "resume without the checkpoint's binarisation" 2 "binarize none (checkpoint: dynamic)" $BIN/vae-train --data synthetic --epochs 2 --hidden 16 --latent 2 --train-limit 300 -o "$T/bin.safetensors" --resume
check "classifier on binarised data" bash -c "$BIN/vae-train classifier --model $T/bin.safetensors --data synthetic --binarize --epochs 2 --train-limit 200 --test-limit 50 -o $T/binclf.safetensors >/dev/null 2>&1"

# vae-attack
check "skl attack: refs × restarts rows, JSON lines, inside the ball and the box" bash -c "$BIN/vae-attack skl --model $M --input 'synthetic:test@10' --restarts 3 --steps 10 -o $T/adv.npy > $T/adv.jsonl 2>/dev/null && $BIN/vae-eval export --input 'synthetic:test@10' -o $T/advref.npy 2>/dev/null && python3 -c \"
import json, numpy as np
L = [json.loads(l) for l in open('$T/adv.jsonl')]
assert len(L) == 31 and L[-1]['attack'] == 'skl' and L[-1]['restarts'] == 3, L[-1]
assert [l['reference'] for l in L[:-1]] == [i // 3 for i in range(30)] and [l['restart'] for l in L[:-1]] == [i % 3 for i in range(30)]
a = np.load('$T/adv.npy'); r = np.repeat(np.load('$T/advref.npy'), 3, axis=0)
assert a.shape == (30, 1, 28, 28) and np.abs(a - r).max() <= 0.1 + 1e-6 and a.min() >= 0 and a.max() <= 1
assert all(l['objective'] > 0 for l in L[:-1])\""
check "--keep best keeps one row per reference" bash -c "$BIN/vae-attack skl --model $M --input 'synthetic:test@10' --restarts 3 --steps 5 --keep best -o $T/advb.npy --summary-only 2>/dev/null >/dev/null && python3 -c \"import numpy as np; assert np.load('$T/advb.npy').shape == (10, 1, 28, 28)\""
check "classifier attack lowers adversarial accuracy" bash -c "$BIN/vae-attack classifier --model $M --classifier $T/c.safetensors --input 'synthetic:test@10' --restarts 2 --steps 20 --radius 0.2 -o $T/advc.npy --summary-only >/dev/null 2>&1 && $BIN/vae-eval accuracy --model $M --classifier $T/c.safetensors --input $T/advc.npy --reference 'synthetic:test@10' --summary-only | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"restarts\"] == 2 and d[\"mean\"] < 0.9, d'"
check "latent attack with an L2 budget" bash -c "$BIN/vae-attack latent --model $M --input 'synthetic:test[0:4]' --target 'synthetic:test[4:5]' --norm l2 --radius 2 --steps 10 -o $T/advl.npy --summary-only >/dev/null 2>&1 && python3 -c \"import numpy as np; a = np.load('$T/advl.npy'); assert a.shape == (4, 1, 28, 28)\""
check "--preset paperD: Table 8's optimiser, explicit options win" bash -c "$BIN/vae-attack skl --preset paperD --model $M --input 'synthetic:test@4' --restarts 2 -o $T/advp.npy --summary-only 2>/dev/null | python3 -c \"
import json, sys, numpy as np
d = json.load(sys.stdin)
assert (d['optimizer'], d['iterate'], d['steps'], d['restarts'], d['norm']) == ('sgd', 'last', 50, 2, 'linf'), d
assert np.load('$T/advp.npy').shape == (8, 1, 28, 28)\""
check "adam optimiser stays in the ball" bash -c "$BIN/vae-attack skl --optimizer adam --model $M --input 'synthetic:test@4' --steps 10 -o $T/adva.npy --summary-only >/dev/null 2>&1 && $BIN/vae-eval export --input 'synthetic:test@4' -o $T/advaref.npy 2>/dev/null && python3 -c \"import numpy as np; a = np.load('$T/adva.npy'); r = np.load('$T/advaref.npy'); assert np.abs(a - r).max() <= 0.1 + 1e-6 and a.min() >= 0 and a.max() <= 1\""
check "--target-index picks targets from the input" bash -c "$BIN/vae-attack latent --model $M --input 'synthetic:test[0:4]' --target-index 3 --steps 5 -o $T/advti.npy --summary-only >/dev/null 2>&1 && $BIN/vae-attack latent --model $M --input 'synthetic:test[0:4]' --target 'synthetic:test[3:4]' --steps 5 -o $T/advt1.npy --summary-only >/dev/null 2>&1 && cmp -s $T/advti.npy $T/advt1.npy"
check "--target-index with one index per reference" bash -c "$BIN/vae-attack output --model $M --input 'synthetic:test[0:2]' --target 'synthetic:test[0:6]' --target-index 5,4 --steps 3 -o $T/advtl.npy --summary-only >/dev/null 2>&1 && $BIN/vae-attack output --model $M --input 'synthetic:test[0:2]' --target 'synthetic:test[4:6]' --target-index 1,0 --steps 3 -o $T/advtm.npy --summary-only >/dev/null 2>&1 && cmp -s $T/advtl.npy $T/advtm.npy"
expect_status "--target-index out of range" 1 "--target-index 9 is out of range" $BIN/vae-attack latent --model "$M" --input 'synthetic:test[0:4]' --target-index 9 -o "$T/u.npy"
expect_status "--target-index must be integers" 2 "non-negative integers" $BIN/vae-attack latent --model "$M" --input 'synthetic:test[0:4]' --target-index 1,x -o "$T/u.npy"
expect_status "--damage-reference is max-damage's" 2 "applies to the max-damage attack only" $BIN/vae-attack skl --model "$M" --input synthetic:test@10 --damage-reference sample -o "$T/u.npy"
check "max-damage from an independent sample (paper A Eq. 4)" bash -c "$BIN/vae-attack max-damage --model $M --input 'synthetic:test@4' --damage-reference sample --samples 2 --steps 5 --norm l2 --radius 1 -o $T/advmd.npy --summary-only 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"mean_best_objective\"] > 0, d'"
check "vae-attack -o - keeps stdout for the images" bash -c "$BIN/vae-attack skl --model $M --input 'synthetic:test[0:3]' --steps 2 -o - 2>$T/pipe.err | $BIN/vae-eval msssim 'synthetic:test[0:3]' - --summary-only > /dev/null && grep -q mean_objective $T/pipe.err"
expect_status "a closed stdout leaves no attack output" 1 "cannot write to stdout" bash -c "$BIN/vae-attack skl --model $M --input 'synthetic:test[0:3]' --steps 2 -o $T/closed.npy >&-"
check "no output file after the closed stdout" test ! -e "$T/closed.npy"
check "latent-distance through HMC (paper D appendix C.3)" bash -c "$BIN/vae-attack latent-distance --model $M --input 'synthetic:test@4' --through-hmc 2 --hmc-leapfrog 3 --steps 3 -o $T/advh.npy --summary-only 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"mean_best_objective\"] > 0 and d[\"attack\"] == \"latent-distance\", d' && python3 -c \"import numpy as np; a = np.load('$T/advh.npy'); assert a.shape == (4, 1, 28, 28) and a.min() >= 0 and a.max() <= 1\""
check "--hmc-gradient: each mode runs, is reported, and moves the attack differently" bash -c "for g in straight-through detach-accepted kuzina; do $BIN/vae-attack latent-distance --model $M --input 'synthetic:test@4' --through-hmc 1 --hmc-leapfrog 3 --steps 3 --hmc-gradient \$g -o $T/advg-\$g.npy --summary-only 2>/dev/null | python3 -c \"import json,sys; d=json.load(sys.stdin); assert d['hmc_gradient'] == '\$g', d\" || exit 1; done; ! cmp -s $T/advg-straight-through.npy $T/advg-kuzina.npy && ! cmp -s $T/advg-detach-accepted.npy $T/advg-kuzina.npy && ! cmp -s $T/advg-straight-through.npy $T/advg-detach-accepted.npy"
expect_status "--hmc-gradient needs --through-hmc" 2 "^vae-attack: error: --hmc-gradient needs --through-hmc of at least 1" $BIN/vae-attack skl --model "$M" --input synthetic:test@4 --hmc-gradient kuzina -o "$T/u.npy"
check "--no-pixel-box: the ball alone bounds the attack, and --any-pixel-range reads the result" bash -c "$BIN/vae-attack elbo --model $M --input 'synthetic:test@8' --radius 0.2 --steps 5 --no-pixel-box -o $T/advnb.npy --summary-only 2>/dev/null | python3 -c \"import json,sys; d=json.load(sys.stdin); assert d['pixel_box'] is False, d\" && $BIN/vae-eval export --input 'synthetic:test@8' -o $T/advnbref.npy 2>/dev/null && python3 -c \"import numpy as np; a = np.load('$T/advnb.npy'); r = np.load('$T/advnbref.npy'); assert np.abs(a - r).max() <= 0.2 + 1e-6 and (a.min() < 0 or a.max() > 1), (a.min(), a.max())\" && $BIN/vae-eval elbo --model $M --input $T/advnb.npy --any-pixel-range --summary-only 2>/dev/null | python3 -c \"import json,sys; d=json.load(sys.stdin); assert d['n'] == 8, d\""
expect_status "vae-attack refuses references outside the box it keeps" 2 "add --no-pixel-box" $BIN/vae-attack elbo --model "$M" --input "$T/advnb.npy" --any-pixel-range -o "$T/u.npy"
expect_error "certify ibp: a diverging bound names the input, the image and the radius" "synthetic:test\[0:3\]: the bound is not finite for image 0 and 2 more of 3 at --eps 1e+30" $BIN/vae-certify ibp --model "$M" --input 'synthetic:test[0:3]' --eps 1e30 --no-pixel-box
check "a proVAE reports its encoder's Jacobian, as vae-eval encoder-stats measures it on the first 20 test images" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 16 --latent 2 --objective provae --eps-train 0.01 -o $T/ej.safetensors 2>/dev/null > $T/ej.json && $BIN/vae-eval encoder-stats --model $T/ej.safetensors --input 'synthetic:test[0:20]' --summary-only > $T/ej-stats.json && python3 -c \"
import json
a = json.load(open('$T/ej.json'))['encoder_jacobian']; b = json.load(open('$T/ej-stats.json'))['jacobian_frobenius_mean']
assert a > 1e-3 and abs(a - b) <= 1e-6 * b, (a, b)
\""
check "a collapsed proVAE gets a warning" bash -c "$BIN/vae-train --data synthetic --epochs 3 --train-limit 500 --hidden 16 --latent 2 --likelihood gaussian --objective provae --eps-train 2 --eps-ramp 0 --lr 1e-2 -o $T/coll.safetensors 2>&1 >/dev/null | grep -q 'warning: the encoder ignores its input'"
check "a proVAE's progress line names the bound it trains on" bash -c "$BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 16 --latent 2 --objective provae --eps-train 0.05 -o $T/pl.safetensors 2>&1 >/dev/null | grep -q 'epoch 1/1: train bound' && $BIN/vae-train --data synthetic --epochs 1 --train-limit 200 --hidden 16 --latent 2 -o $T/pl2.safetensors 2>&1 >/dev/null | grep -q 'epoch 1/1: train ELBO'"
expect_status "vae-certify ibp refuses --any-pixel-range without --no-pixel-box" 2 "add --no-pixel-box to certify the whole ball" $BIN/vae-certify ibp --model "$M" --input "$T/advnb.npy" --any-pixel-range --eps 0.1
expect_status "vae-certify jacobian does not offer --any-pixel-range" 2 "Unknown option '--any-pixel-range'" $BIN/vae-certify jacobian --model "$M" --input "$T/advnb.npy" --any-pixel-range --r 4
expect_error "vae-certify margin reads [0, 1] images only, and says which file" "advnb.npy: pixel values must lie in \[0, 1\]" $BIN/vae-certify margin --model "$M" --input "$T/advnb.npy" --r 4
check "certify ibp --no-pixel-box: the whole ball's bound is below the clipped one and below the ELBO of the unclipped attack" bash -c "$BIN/vae-certify ibp --model $M --input 'synthetic:test@8' --eps 0.2 --samples 3 --no-pixel-box > $T/ibpnb.jsonl && $BIN/vae-certify ibp --model $M --input 'synthetic:test@8' --eps 0.2 --samples 3 > $T/ibpb.jsonl && $BIN/vae-eval elbo --model $M --input $T/advnb.npy --any-pixel-range --samples 20 > $T/advnbelbo.jsonl && python3 -c \"
import json
nb = [json.loads(l) for l in open('$T/ibpnb.jsonl')]; b = [json.loads(l) for l in open('$T/ibpb.jsonl')]; e = [json.loads(l) for l in open('$T/advnbelbo.jsonl')]
assert nb[-1]['pixel_box'] is False and b[-1]['pixel_box'] is True, (nb[-1], b[-1])
assert all(p['bound'] < q['bound'] for p, q in zip(nb[:-1], b[:-1])), 'whole ball not looser'
assert all(p['bound'] <= q['elbo'] for p, q in zip(nb[:-1], e[:-1])), 'bound above an attacked ELBO'
\" && $BIN/vae-certify ibp --model $M --input $T/advnb.npy --any-pixel-range --no-pixel-box --eps 0 --samples 2 > $T/ibpnb0.jsonl && python3 -c \"
import json
L = [json.loads(l) for l in open('$T/ibpnb0.jsonl')][:-1]
assert len(L) == 8 and all(abs(l['bound'] - l['elbo']) < 1e-3 * abs(l['elbo']) for l in L), L
\""
expect_error "images outside the box need --any-pixel-range" "advnb.npy: pixel values must lie in \[0, 1\].*--any-pixel-range" $BIN/vae-eval elbo --model "$M" --input "$T/advnb.npy"
expect_status "--through-hmc is for attacks through the code" 2 "applies to the skl, wasserstein, max-damage, classifier and latent-distance attacks" $BIN/vae-attack elbo --model "$M" --input synthetic:test@4 --through-hmc 2 -o "$T/u.npy"
expect_status "--hmc options need --through-hmc" 2 "error: --hmc-leapfrog, --hmc-adapt need --through-hmc of at least 1" $BIN/vae-attack skl --model "$M" --input synthetic:test@4 --hmc-leapfrog 3 --hmc-adapt none -o "$T/u.npy"
check "max-damage through HMC acts through mu by default and records the sampler's settings" bash -c "$BIN/vae-attack max-damage --model $M --input 'synthetic:test@4' --through-hmc 1 --hmc-leapfrog 3 --steps 2 -o $T/advmdh.npy --summary-only 2>/dev/null | python3 -c \"import json,sys; d=json.load(sys.stdin); assert (d['through_hmc'], d['hmc_leapfrog'], d['hmc_adapt'], d['hmc_samples'], d['hmc_burn_in']) == (1, 3, 'rule', 1, 0.5), d\""
expect_status "max-damage through HMC refuses --through both" 2 "takes --through mu with it" $BIN/vae-attack max-damage --model "$M" --input synthetic:test@4 --through-hmc 1 --through both -o "$T/u.npy"
expect_status "dual averaging through HMC needs a burn-in transition" 2 "give --hmc-burn-in with at least one transition" $BIN/vae-attack skl --model "$M" --input synthetic:test@4 --through-hmc 1 --hmc-adapt dual-averaging -o "$T/u.npy"
expect_status "--lr is for sgd and adam" 2 "apply to --optimizer sgd and adam only" $BIN/vae-attack skl --model "$M" --input synthetic:test@10 --lr 0.5 -o "$T/u.npy"
expect_status "--step is for pgd" 2 "applies to --optimizer pgd only" $BIN/vae-attack skl --optimizer sgd --model "$M" --input synthetic:test@10 --step 0.5 -o "$T/u.npy"
expect_status "latent needs a target" 2 "needs --target" $BIN/vae-attack latent --model "$M" --input synthetic:test@10 -o "$T/u.npy"
expect_status "attack radius must be positive" 2 "radius must be positive" $BIN/vae-attack skl --model "$M" --input synthetic:test@10 --radius -0.1 -o "$T/u.npy"
expect_status "targets must fit the references" 1 "give one target, or one per reference" $BIN/vae-attack output --model "$M" --input 'synthetic:test[0:4]' --target 'synthetic:test[0:3]' -o "$T/u.npy"
expect_status "attack with another model's classifier" 1 "trained on the codes of another model" $BIN/vae-attack classifier --model "$T/l.safetensors" --classifier "$T/c.safetensors" --input synthetic:test@10 -o "$T/u.npy"
expect_status "attack options of other kinds are refused" 2 "applies to the max-damage, elbo, classifier, output and latent-distance attacks only" $BIN/vae-attack skl --model "$M" --input synthetic:test@10 --samples 2 -o "$T/u.npy"
check "no output after attack errors" test ! -e "$T/u.npy"

# vae-hmc
check "vae-hmc: codes, reconstructions, JSON lines" bash -c "$BIN/vae-hmc --model $M --input 'synthetic:test@6' --steps 4 --leapfrog 3 -o $T/zh.npy --decode $T/rh.npy > $T/hmc.jsonl 2>/dev/null && python3 -c \"
import json, numpy as np
L = [json.loads(l) for l in open('$T/hmc.jsonl')]
assert len(L) == 7 and L[-1]['inputs'] == 6 and L[-1]['burn_in'] == 2 and L[-1]['adapt'] == 'rule', L[-1]
assert all(0 <= l['acceptance'] <= 1 for l in L[:-1]) and len({l['step_size'] for l in L[:-1]}) == 1
z = np.load('$T/zh.npy'); r = np.load('$T/rh.npy')
assert z.shape == (6, 4) and np.isfinite(z).all() and r.shape == (6, 1, 28, 28) and r.min() >= 0 and r.max() <= 1\""
check "vae-hmc is reproducible from the seed" bash -c "$BIN/vae-hmc --model $M --input 'synthetic:test@6' --steps 3 --leapfrog 2 --adapt dual-averaging -o $T/zh1.npy --summary-only >/dev/null 2>&1 && $BIN/vae-hmc --model $M --input 'synthetic:test@6' --steps 3 --leapfrog 2 --adapt dual-averaging -o $T/zh2.npy --summary-only >/dev/null 2>&1 && cmp -s $T/zh1.npy $T/zh2.npy"
expect_status "vae-hmc burn-in is bounded" 2 "must be a fraction of --steps in" $BIN/vae-hmc --model "$M" --input synthetic:test@6 --burn-in 1e300 -o "$T/u.npy"
check "vae-hmc --init mean with --adapt none keeps the step size" bash -c "$BIN/vae-hmc --model $M --input 'synthetic:test[0:3]' --steps 2 --leapfrog 2 --adapt none --step-size 0.02 --init mean -o $T/zh3.npy 2>/dev/null | python3 -c 'import json,sys; L=[json.loads(l) for l in sys.stdin]; assert L[-1][\"step_size_min\"] == L[-1][\"step_size_max\"] and abs(L[-1][\"step_size_min\"] - 0.02) < 1e-7, L[-1]'"
expect_status "vae-hmc step size must be positive" 2 "step-size must be positive" $BIN/vae-hmc --model "$M" --input synthetic:test@6 --step-size 0 -o "$T/u.npy"
expect_status "vae-hmc dual averaging needs burn-in" 2 "adapts during burn-in" $BIN/vae-hmc --model "$M" --input synthetic:test@6 --adapt dual-averaging --burn-in 0 -o "$T/u.npy"
python3 -c "import numpy as np; np.save('$T/small.npy', np.zeros((2, 1, 10, 10), np.float32))"
expect_status "vae-hmc images of another shape" 1 "10" $BIN/vae-hmc --model "$M" --input "$T/small.npy" -o "$T/u.npy" --steps 1
check "no output after vae-hmc errors" test ! -e "$T/u.npy"

# hierarchical VAE: train, encode/decode/recon by level, likelihood, HMC over all groups, attack on top groups
H="$T/h.safetensors"
check "vae-train --arch hvae" bash -c "$BIN/vae-train --data synthetic --arch hvae --groups 3 --latent 4 --hidden 8,8,16 --epochs 1 --train-limit 300 --kl-warmup 0.5 -o $H 2>/dev/null | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"test_elbo\"] < 0, d'"
check "python safetensors metadata has the groups" python3 -c "
import json, struct
b = open('$H','rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n])
c = json.loads(h['__metadata__']['config']); assert c['architecture'] == 'hvae' and c['groups'] == 3 and c['training']['klWarmupEpochs'] == 0.5, c"
check "hvae encode by levels, decode, recon" bash -c "$BIN/vae-eval encode --model $H --input 'synthetic:test[0:5]' --levels mean,mean,mean -o $T/hc.npy 2>/dev/null && $BIN/vae-eval decode --model $H --codes $T/hc.npy -o $T/hd.npy 2>/dev/null && $BIN/vae-eval recon --model $H --input 'synthetic:test[0:5]' -o $T/hr.npy 2>/dev/null && python3 -c \"
import numpy as np
c = np.load('$T/hc.npy'); d = np.load('$T/hd.npy'); r = np.load('$T/hr.npy')
assert c.shape == (5, 12) and d.shape == (5, 1, 28, 28) and np.allclose(d, r, atol=1e-5), (c.shape, abs(d - r).max())\""
check "hvae decode from the top group alone" bash -c "python3 -c \"import numpy as np; np.save('$T/htop.npy', np.load('$T/hc.npy')[:, :4])\" && $BIN/vae-eval decode --model $H --codes $T/htop.npy --levels code,mean,sample -o $T/htd.npy 2>/dev/null && python3 -c \"import numpy as np; assert np.load('$T/htd.npy').shape == (5, 1, 28, 28)\""
expect_status "hvae --levels count" 2 "has 2 entries, the model has 3" $BIN/vae-eval encode --model "$H" --input 'synthetic:test[0:5]' --levels mean,sample -o "$T/u.npy"
check "hvae nll at most minus the elbo" bash -c "n=\$($BIN/vae-eval nll --model $H --input 'synthetic:test[0:4]' --samples 50 --summary-only | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[\"mean\"])') && e=\$($BIN/vae-eval elbo --model $H --input 'synthetic:test[0:4]' --samples 50 --summary-only | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[\"mean\"])') && python3 -c \"assert \$n <= -(\$e) + 0.5, (\$n, \$e)\""
check "vae-hmc over all groups" bash -c "$BIN/vae-hmc --model $H --input 'synthetic:test[0:4]' --steps 3 --leapfrog 2 -o $T/hz.npy --decode $T/hzr.npy --summary-only 2>/dev/null | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"inputs\"] == 4' && python3 -c \"import numpy as np; assert np.load('$T/hz.npy').shape == (4, 12)\""
check "vae-attack skl --top-groups" bash -c "$BIN/vae-attack skl --model $H --input 'synthetic:test[0:4]' --radius 0.1 --steps 5 --top-groups 2 -o $T/ha.npy 2>/dev/null | tail -1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"top_groups\"] == 2 and d[\"mean_best_objective\"] > 0, d'"
expect_status "hvae takes skl only" 2 "takes the skl attack" $BIN/vae-attack max-damage --model "$H" --input 'synthetic:test[0:4]' -o "$T/u.npy"
expect_status "--top-groups needs an hvae" 2 "hierarchical models" $BIN/vae-attack skl --model "$M" --input 'synthetic:test[0:4]' --top-groups 1 -o "$T/u.npy"
expect_error "certify does not read an hvae yet" "does not read it yet" $BIN/vae-certify weights --model "$H"
expect_status "decode --codes needs a code group" 2 "give --count instead" $BIN/vae-eval decode --model "$H" --codes "$T/htop.npy" --levels mean,mean,sample -o "$T/u.npy"
check "hvae and plain VAE samples from the prior (--count)" bash -c "$BIN/vae-eval decode --model $H --levels sample,sample,mean --count 6 -o $T/hs.npy 2>/dev/null && $BIN/vae-eval decode --model $M --levels sample --count 4 -o $T/ms.npy 2>/dev/null && python3 -c \"
import numpy as np
a = np.load('$T/hs.npy'); b = np.load('$T/ms.npy')
assert a.shape == (6, 1, 28, 28) and b.shape == (4, 1, 28, 28) and 0 <= a.min() and a.max() <= 1 and b.std() > 0, (a.shape, b.shape)\""
# latent maps (--latent-map): lower groups are C×7×7 maps, codes [z_3 (4), z_2 (49), z_1 (49)]
HM="$T/hm.safetensors"
check "vae-train --arch hvae --latent-map" bash -c "$BIN/vae-train --data synthetic --arch hvae --groups 3 --latent 4 --latent-map 1 --hidden 8,8,16 --epochs 1 --train-limit 300 -o $HM 2>/dev/null | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d[\"test_elbo\"] < 0, d' && python3 -c \"
import json, struct
b = open('$HM','rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n])
c = json.loads(h['__metadata__']['config']); assert c['latentMap'] == 1 and 'step.0.0.weight' in h, (c, sorted(h))\""
check "latent maps: encode, decode by level, hmc, top-group attack" bash -c "$BIN/vae-eval encode --model $HM --input 'synthetic:test[0:5]' --levels mean,mean,mean -o $T/hmc.npy 2>/dev/null && python3 -c \"import numpy as np; c = np.load('$T/hmc.npy'); assert c.shape == (5, 102), c.shape; np.save('$T/hmtop.npy', c[:, :53])\" && $BIN/vae-eval decode --model $HM --codes $T/hmtop.npy --levels code,code,mean -o $T/hmd.npy 2>/dev/null && $BIN/vae-hmc --model $HM --input 'synthetic:test[0:3]' --steps 2 --leapfrog 2 -o $T/hmz.npy 2>/dev/null >/dev/null && $BIN/vae-attack skl --model $HM --input 'synthetic:test[0:3]' --radius 0.1 --steps 3 --top-groups 2 -o $T/hma.npy 2>/dev/null >/dev/null && python3 -c \"import numpy as np; assert np.load('$T/hmd.npy').shape == (5, 1, 28, 28) and np.load('$T/hmz.npy').shape == (3, 102) and np.load('$T/hma.npy').shape == (3, 1, 28, 28)\""
expect_status "decode: codes of the wrong width for latent maps" 1 "53" $BIN/vae-eval decode --model "$HM" --codes "$T/hmtop.npy" --levels code,mean,mean -o "$T/u.npy"
expect_status "--latent-map needs a group below the top" 2 "needs --groups 2 or more" $BIN/vae-train --data synthetic --arch hvae --groups 1 --latent-map 2 --epochs 1 -o "$T/u.safetensors"
expect_status "--latent-map is for hvae" 2 "applies to --arch hvae only" $BIN/vae-train --data synthetic --arch conv --latent-map 2 --epochs 1 -o "$T/u.safetensors"
expect_status "decode needs --codes or --count" 2 "give --codes, or --count" $BIN/vae-eval decode --model "$H" -o "$T/u.npy"
expect_status "decode takes --codes or --count, not both" 2 "exclude each other" $BIN/vae-eval decode --model "$H" --codes "$T/hc.npy" --count 3 -o "$T/u.npy"
python3 -c "import numpy as np; np.save('$T/rows20.npy', np.full((3, 20), 0.5, np.float32))"
expect_status "rows that are no images are named so" 1 "rows of 20 values, not images" $BIN/vae-eval nll --model "$H" --input "$T/rows20.npy" --samples 2
expect_status "a pipeline without its OUTDIR prints its usage" 2 "^usage: pipelines/D/hvae-nll.sh OUTDIR$" pipelines/D/hvae-nll.sh
check "kl warm-up longer than the run is noted" bash -c "$BIN/vae-train --data synthetic --arch hvae --latent 2 --hidden 4,4,8 --epochs 1 --train-limit 100 --kl-warmup 4 -o $T/hw.safetensors 2>&1 >/dev/null | grep -q 'ends near 0.25 of --beta'"
check "hvae checkpoint for resume" bash -c "$BIN/vae-train --data synthetic --arch hvae --groups 2 --latent 2 --hidden 4,4,8 --epochs 1 --train-limit 100 --keep-checkpoint -o $T/hr.safetensors >/dev/null 2>&1"
expect_status "resume with other groups names them" 1 "groups 3 (checkpoint: 2)" $BIN/vae-train --data synthetic --arch hvae --groups 3 --latent 2 --hidden 4,4,8 --epochs 2 --train-limit 100 --resume -o "$T/hr.safetensors"
# a file from before the residual top-down state (no topDown in its config) still loads, and
# computes the plain update; --init refuses it for a new (residual) run
check "hvae: a file without topDown is rewritten" python3 -c "
import json, struct
d = open('$T/hr.safetensors', 'rb').read(); n = struct.unpack('<Q', d[:8])[0]; h = json.loads(d[8:8 + n])
c = json.loads(h['__metadata__']['config']); assert c['topDown'] == 'residual', c; del c['topDown']
h['__metadata__']['config'] = json.dumps(c); b = json.dumps(h).encode(); b += b' ' * (-len(b) % 8)
open('$T/hr-old.safetensors', 'wb').write(struct.pack('<Q', len(b)) + b + d[8 + n:])"
check "hvae: the older file evaluates, differently from the residual one" bash -c "a=\$($BIN/vae-eval elbo --model $T/hr.safetensors --input 'synthetic:test[0:50]' --summary-only | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"mean\"])') && b=\$($BIN/vae-eval elbo --model $T/hr-old.safetensors --input 'synthetic:test[0:50]' --summary-only | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"mean\"])') && python3 -c \"assert abs(\$a - \$b) > 1e-3, (\$a, \$b)\""
expect_error "init: an hvae with the plain update is refused for a residual run" "top-down update plain (this run: residual)" $BIN/vae-train --data synthetic --arch hvae --groups 2 --latent 2 --hidden 4,4,8 --epochs 1 --train-limit 100 --init "$T/hr-old.safetensors" -o "$T/hr-new.safetensors"
check "vae-train with stdout closed leaves no model" bash -c "! $BIN/vae-train --data synthetic --epochs 1 --hidden 8 --latent 2 --train-limit 100 -o $T/closed.safetensors >&- 2>/dev/null; test ! -e $T/closed.safetensors"
check "no output after hvae errors" test ! -e "$T/u.npy"
# the pipelines' degenerate-model check (pipelines/lib.sh check_encoder): a collapsed model (β = 300)
# maps every image to one picture; it stops the pipeline, and in CHECK mode it only warns
check "check_encoder stops on a model whose reconstructions ignore the input" bash -c "$BIN/vae-train --data synthetic --epochs 1 --hidden 8 --latent 2 --beta 300 --train-limit 500 -o $T/coll.safetensors >/dev/null 2>&1 && ! bash -c '. pipelines/lib.sh; check_encoder $T/coll.safetensors synthetic:test@20 collapsed' 2> $T/coll.err && grep -q 'degenerate model .*(collapsed): the reconstructions barely depend on the input' $T/coll.err && CHECK=1 bash -c '. pipelines/lib.sh; check_encoder $T/coll.safetensors synthetic:test@20' 2>&1 | grep -q 'warning (CHECK mode)'"

# a model that passes but leaves latent dimensions unused gets a note naming them: a trained model
# whose first encoder-mean output is zeroed (its row of the last weight and its bias), so that μ₁(x) = 0
check "one image: latent activity and active units are null; model_training names β" bash -c "$BIN/vae-eval encoder-stats --model $T/coll.safetensors --input 'synthetic:test[0:1]' --summary-only | python3 -c \"
import json, sys
d = json.load(sys.stdin)
assert d['latent_activity'] == [None, None] and d['active_units'] is None and d['model_training']['beta'] == 300, d
\""
check "check_encoder notes an unused latent dimension" bash -c "$BIN/vae-train --data synthetic --epochs 3 --hidden 32 --latent 6 --train-limit 1000 --seed 0 -o $T/act6.safetensors >/dev/null 2>&1 && bash -c '. pipelines/lib.sh; check_encoder $T/act6.safetensors synthetic:test@50 all' 2> $T/act6.err && ! grep -q note $T/act6.err && python3 -c \"
import json, struct
f = open('$T/act6.safetensors', 'r+b'); n = struct.unpack('<Q', f.read(8))[0]; h = json.loads(f.read(n))
for name, count in (('encoder.mean.1.2.weight', 32), ('encoder.mean.1.2.bias', 1)):
    f.seek(8 + n + h[name]['data_offsets'][0]); f.write(bytes(4 * count))
\" && bash -c '. pipelines/lib.sh; check_encoder $T/act6.safetensors synthetic:test@50 zeroed' 2> $T/act6.err && grep -q 'note: .*(zeroed) uses 5 of its 6 latent dimensions: inactive z1 (activity, the variance of μ over the images, 0;' $T/act6.err"

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
