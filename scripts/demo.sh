#!/usr/bin/env bash
# Sets up a fresh machine and runs the demo: installs the system packages, builds the
# tools, then runs the pipelines' demo (see pipelines/Makefile).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
make -C pipelines demo
