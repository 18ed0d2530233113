#!/usr/bin/env bash
# Builds in release mode (numeric code is 10-100x slower in debug) and runs every test:
# the XCTest suite, then the command-line tests.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release
swift test -c release --disable-swift-testing
Tests/cli/run.sh
