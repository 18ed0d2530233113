#!/usr/bin/env bash
# Builds in release mode and prints throughput as JSON lines (README, Benchmarks):
#   core: sgemm GFLOP/s (512³ and 128×784×512), paper A's MLP forward+backward at batch 128 as
#   a fraction of sgemm, Björck orthonormalisation, and two conv layers;
#   train: training images/s of the mlp, Lipschitz and conv VAEs;
#   gradients: value + input gradient of the conv encoder and the mlp decoder, trainable vs frozen;
#   attack: paper D's skl attack setting (50 references x 10 restarts, 50 steps) on the conv model;
#   hmc: paper D's HMC defence (500 chains x 100 transitions x 20 leapfrog steps) on the mlp model.
# Run on a quiet machine: another busy process on the 2 cores slows everything 5-7x.
# Usage: bench/run.sh [--threads N] [--seconds S] [--suite core|train|gradients|attack|hmc|all|profile] [--only CASE]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product robustvae-bench >&2
exec .build/release/robustvae-bench "$@"
