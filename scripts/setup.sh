#!/usr/bin/env bash
# Installs every Debian package that nncc's build, tests and demo need.
# Idempotent and quiet when everything is already there. Run as root (or via sudo).
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build ccache g++ pkg-config
  # LLVM / MLIR 19, lit, FileCheck, clang and llvm-link for the runtime
  # bitcode, lld as a library
  llvm-19 llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 liblld-19-dev lld-19
  # sanitizer and libFuzzer runtimes
  libclang-rt-19-dev
  # ONNX
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  # unit tests
  libgtest-dev
  # --distributed=mpi (mpi.h, libmpi) and the data-parallel tests (mpirun)
  libopenmpi-dev openmpi-bin
  # examples/digits reads its gzip-compressed data with zlib
  zlib1g-dev
  # examples/text trains on Debian's word lists
  wamerican wngerman wfrench wspanish witalian
  # reference numbers (goldens are committed; tests do not need torch)
  python3 python3-numpy python3-onnx
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
