#!/usr/bin/env bash
# Paper D's attack setting (50 references x 10 restarts, 50 steps of the skl attack at L-inf
# 0.1 on the conv model), RobustVAE and PyTorch back to back on the same host: ROUNDS rounds
# (default 5), each one `robustvae-bench --suite attack` and one
# `bench/pytorch_reference.py --attack` (three attacks each), alternating so that both see
# the same machine speed. Prints every time, then the medians and their ratio as JSON.
#   PYTHON=/path/to/venv/bin/python bench/attack_vs_pytorch.sh   # a Python with torch
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
ROUNDS=${ROUNDS:-5}
"$PYTHON" -c "import torch" 2>/dev/null || { echo "attack_vs_pytorch: $PYTHON has no torch (pip install torch into a scratch venv, set PYTHON)" >&2; exit 1; }
swift build -c release --product robustvae-bench >&2
ours=() theirs=()
for _ in $(seq "$ROUNDS"); do
    while read -r t; do ours+=("$t"); done < <(.build/release/robustvae-bench --suite attack --threads 2 | python3 -c 'import sys, json; [print(json.loads(l)["seconds"]) for l in sys.stdin]')
    while read -r t; do theirs+=("$t"); done < <("$PYTHON" bench/pytorch_reference.py --attack --threads 2 | python3 -c 'import sys, json; [print(json.loads(l)["seconds"]) for l in sys.stdin]')
done
python3 - "${ours[*]}" "${theirs[*]}" <<'PY'
import json, statistics, sys
ours, theirs = [list(map(float, a.split())) for a in sys.argv[1:3]]
print(json.dumps({"robustvae_seconds": ours, "pytorch_seconds": theirs,
                  "robustvae_median": statistics.median(ours), "pytorch_median": statistics.median(theirs),
                  "speedup": statistics.median(theirs) / statistics.median(ours)}))
PY
