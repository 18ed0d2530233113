#!/usr/bin/env bash
# Sets up a fresh machine and runs the demo: installs the system packages, builds the
# tools, then runs `make demo` (pipelines/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
make demo
