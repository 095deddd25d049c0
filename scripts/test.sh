#!/usr/bin/env bash
# The test command: installs what is missing, builds, then runs every test
# (the lit suite, with end-to-end and PyTorch-golden tests, and the unit tests).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
BUILD_DIR=${NNCC_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -V
