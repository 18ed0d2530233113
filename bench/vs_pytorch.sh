#!/usr/bin/env bash
# RobustVAE and PyTorch back to back on the same host, in alternating rounds so that both see
# the same machine speed:
#   attack: paper D's attack setting (50 references x 10 restarts, 50 steps of the skl attack at
#           L-inf 0.1 on the conv model): `robustvae-bench --suite attack` against
#           `bench/pytorch_reference.py --attack`;
#   hmc:    paper D's defence (500 chains x 100 transitions x 20 leapfrog steps on the mlp model):
#           `robustvae-bench --suite hmc` against `bench/pytorch_reference.py --hmc`;
#   train-conv: one epoch of paper D's conv VAE on Fashion-MNIST (54,000 images, batch 128):
#           `vae-train --arch conv --epochs 1` against `bench/pytorch_reference.py --arch conv
#           --epochs 1`, each one run per round; the times are 54,000 / images per second of
#           the training loop (validation and testing left out on both sides).
# ROUNDS rounds (default 5) of three runs each; prints every time, then the medians and their
# ratio as JSON.
#   PYTHON=/path/to/venv/bin/python bench/vs_pytorch.sh attack|hmc   # a Python with torch
set -euo pipefail
cd "$(dirname "$0")/.."
SUITE=${1:-attack}
case "$SUITE" in attack|hmc|train-conv) ;; *) echo "usage: bench/vs_pytorch.sh attack|hmc|train-conv" >&2; exit 2 ;; esac
PYTHON=${PYTHON:-python3}
ROUNDS=${ROUNDS:-5}
"$PYTHON" -c "import torch" 2>/dev/null || { echo "vs_pytorch: $PYTHON has no torch (pip install torch into a scratch venv, set PYTHON)" >&2; exit 1; }
swift build -c release --product robustvae-bench >&2
swift build -c release --product vae-train >&2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ours=() theirs=()
for _ in $(seq "$ROUNDS"); do
    if [ "$SUITE" = train-conv ]; then
        ours+=("$(.build/release/vae-train --data fashion-mnist --arch conv --epochs 1 --threads 2 -o "$tmp/m.safetensors" 2>/dev/null |
                  python3 -c 'import sys, json; print(54000 / json.loads(sys.stdin.read())["images_per_second"])')")
        theirs+=("$("$PYTHON" bench/pytorch_reference.py --arch conv --epochs 1 --threads 2 |
                    python3 -c 'import sys, json; print(54000 / json.loads(sys.stdin.read())["images_per_s"])')")
        continue
    fi
    while read -r t; do ours+=("$t"); done < <(.build/release/robustvae-bench --suite "$SUITE" --threads 2 | python3 -c 'import sys, json; [print(json.loads(l)["seconds"]) for l in sys.stdin]')
    while read -r t; do theirs+=("$t"); done < <("$PYTHON" bench/pytorch_reference.py "--$SUITE" --threads 2 | python3 -c 'import sys, json; [print(json.loads(l)["seconds"]) for l in sys.stdin]')
done
python3 - "$SUITE" "${ours[*]}" "${theirs[*]}" <<'PY'
import json, statistics, sys
suite = sys.argv[1]
ours, theirs = [list(map(float, a.split())) for a in sys.argv[2:4]]
print(json.dumps({"suite": suite, "robustvae_seconds": ours, "pytorch_seconds": theirs,
                  "robustvae_median": statistics.median(ours), "pytorch_median": statistics.median(theirs),
                  "speedup": statistics.median(theirs) / statistics.median(ours)}))
PY
