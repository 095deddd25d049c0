#!/usr/bin/env bash
# Builds nncc with AddressSanitizer + UndefinedBehaviorSanitizer (and the
# libFuzzer harnesses) in build-asan/, runs the whole lit suite with it, then
# a smoke run of each fuzzer. Called by scripts/test.sh; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${NNCC_ASAN_BUILD_DIR:-build-asan}
FUZZ_SECONDS=${NNCC_FUZZ_SECONDS:-60}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DNNCC_SANITIZE=ON -DNNCC_ENABLE_FUZZERS=ON >/dev/null
fi
cmake --build "$BUILD_DIR"

echo "== the lit suite with AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv "$BUILD_DIR/test"

echo "== fuzzing, $FUZZ_SECONDS s per harness"
bash scripts/fuzz.sh "$BUILD_DIR" "$FUZZ_SECONDS"
