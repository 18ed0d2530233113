#!/usr/bin/env bash
# Installs the system packages RobustVAE builds and tests against (Debian/Ubuntu):
# OpenBLAS, libpng, zlib, pkg-config, the Fashion-MNIST data package, numpy, make and gnuplot
# (the pipelines' figures), and the
# Python safetensors package (used by the tests to cross-check our files).
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq libopenblas-dev libpng-dev zlib1g-dev pkg-config dataset-fashion-mnist python3 python3-numpy make gnuplot-nox bsdextrautils >/dev/null
python3 -c "import numpy" 2>/dev/null || python3 -m pip install -q numpy
python3 -c "import safetensors" 2>/dev/null || python3 -m pip install -q safetensors \
  || echo "warning: could not install the Python safetensors package; its cross-check tests will be skipped" >&2
