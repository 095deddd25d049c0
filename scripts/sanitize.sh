#!/usr/bin/env bash
# Builds nncc with AddressSanitizer + UndefinedBehaviorSanitizer (and the
# libFuzzer harnesses) in build-asan/, runs the whole lit suite with it, then
# a smoke run of each fuzzer. Called by scripts/test.sh; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${NNCC_ASAN_BUILD_DIR:-build-asan}
FUZZ_SECONDS=${NNCC_FUZZ_SECONDS:-60}
NNCC_BUILD_DIR="$BUILD_DIR" \
  NNCC_CMAKE_ARGS="-DNNCC_SANITIZE=ON -DNNCC_ENABLE_FUZZERS=ON" \
  bash scripts/build.sh

echo "== the lit suite with AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv "$BUILD_DIR/test"

echo "== fuzzing, $FUZZ_SECONDS s per harness"
bash scripts/fuzz.sh "$BUILD_DIR" "$FUZZ_SECONDS"
