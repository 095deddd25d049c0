#!/bin/sh
# What the benchmarks (and the goldens' generators) need beyond the tests:
# Debian's PyTorch, torchvision and ONNX as the
# reference, and OpenBLAS, so that PyTorch does not run on the reference
# netlib BLAS (12x slower on an MLP step, which would make every ratio wrong).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3-torch python3-torchvision python3-onnx \
    python3-numpy libopenblas0-pthread
update-alternatives --display libblas.so.3-x86_64-linux-gnu | head -3
