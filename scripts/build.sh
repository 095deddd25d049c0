#!/usr/bin/env bash
# Configures (once) and builds nncc in build/ (or $NNCC_BUILD_DIR, with extra
# CMake options in $NNCC_CMAKE_ARGS) with Ninja, clang 19 and ccache. The
# ccache cache lives outside the repository (~/.cache/ccache by default).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${NNCC_BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-19/lib/cmake/mlir \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    ${NNCC_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$BUILD_DIR"
