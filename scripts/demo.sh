#!/usr/bin/env bash
# The demo: installs what is missing, builds nncc, compiles examples/xor into
# a training library and trains it, printing the loss and the predictions.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
BUILD_DIR=${NNCC_BUILD_DIR:-build}
OUT="$BUILD_DIR/demo"
mkdir -p "$OUT"

echo "== nncc examples/xor/xor.onnx -o $OUT/xor.so --batch=4 --lr=0.1"
"$BUILD_DIR/bin/nncc" examples/xor/xor.onnx -o "$OUT/xor.so" --batch=4 --lr=0.1
echo "== ldd $OUT/xor.so"
ldd "$OUT/xor.so"
cc -O2 -std=c11 -Wall -I"$OUT" examples/xor/train_xor.c "$OUT/xor.so" \
  -Wl,-rpath,"$(cd "$OUT" && pwd)" -o "$OUT/train_xor"
echo "== training (1000 SGD steps on the 4 XOR samples)"
"$OUT/train_xor"
