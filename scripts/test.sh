#!/usr/bin/env bash
# Builds in release mode (numeric code is 10-100x slower in debug) and runs every test:
# the XCTest suite, then the command-line tests, then the XCTest suite again on a portable
# build (ROBUSTVAE_PORTABLE=1: baseline x86-64, no FMA), whose kernels take other code paths.
# Set SKIP_PORTABLE=1 to leave the last step out. Finally every reproduction pipeline runs at a
# tiny size (make -C pipelines check, on Fashion-MNIST); SKIP_PIPELINES=1 leaves it out.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
swift test -c release --disable-swift-testing
Tests/cli/run.sh
if [ "${SKIP_PORTABLE:-0}" != 1 ] && [ "$(uname -m)" = x86_64 ]; then
    echo "== portable build (ROBUSTVAE_PORTABLE=1)" >&2
    ROBUSTVAE_PORTABLE=1 swift build -c release --build-path .build/portable --build-tests
    ROBUSTVAE_PORTABLE=1 swift test -c release --build-path .build/portable --skip-build --disable-swift-testing
fi
if [ "${SKIP_PIPELINES:-0}" != 1 ]; then
    echo "== reproduction pipelines at a tiny size (make -C pipelines check)" >&2
    make -C pipelines check
fi
