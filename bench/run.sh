#!/usr/bin/env bash
# Builds in release mode and prints throughput as JSON lines:
#   sgemm GFLOP/s (512³ and 128×784×512), paper A's MLP forward+backward at batch 128 as a
#   fraction of sgemm (target ≥ 0.7), Björck orthonormalisation, and two conv layers.
# Run on a quiet machine: another busy process on the 2 cores slows everything 5-7x.
# Usage: bench/run.sh [--threads N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product robustvae-bench >&2
exec .build/release/robustvae-bench "$@"
