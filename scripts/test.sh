#!/usr/bin/env bash
# The test command: installs what is missing, builds, then runs every test:
# the lit suite (end-to-end, PyTorch goldens, ONNX conformance, bad-model
# corpus) and the unit tests, plus the suite under sanitizers and the fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# The sanitizer build runs the lit suite under ASan + UBSan, then the
# fuzzers' smoke runs (NNCC_SKIP_SANITIZERS=1 skips this stage).
if [ "${NNCC_SKIP_SANITIZERS:-0}" != 1 ]; then
  bash scripts/sanitize.sh
fi

# Last, so that its summary closes the output: every test, normal build.
bash scripts/build.sh
BUILD_DIR=${NNCC_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -V
