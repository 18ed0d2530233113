#!/usr/bin/env bash
# The form of paper D Table 5: vae-hmc's inference time in seconds per point for
# T = 0, 100, 500 and 1000 transitions (L = 20, burn-in 0.5 T as vae-hmc's default), as a TSV
# on stdout. T = 0 is the encoder alone.
#   bench/hmc_table5.sh MODEL INPUT     e.g. bench/hmc_table5.sh vae.safetensors 'fashion-mnist:test[0:100]'
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: bench/hmc_table5.sh MODEL INPUT" >&2; exit 2; }
swift build -c release --product vae-hmc >&2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'T\tseconds_per_point\tmean_acceptance\n'
for t in 0 100 500 1000; do
    .build/release/vae-hmc --model "$1" --input "$2" --steps "$t" --burn-in 0.5 -o "$tmp/z.npy" --summary-only 2>/dev/null |
        python3 -c "import json, sys; d = json.load(sys.stdin); print(f\"$t\t{d['seconds_per_point']:.4f}\t{d['mean_acceptance']:.3f}\")"
done
