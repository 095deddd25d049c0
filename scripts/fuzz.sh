#!/usr/bin/env bash
# Runs each libFuzzer harness of BUILD_DIR for SECONDS, seeded with the
# conformance models, the examples, the bad-model corpus and the inputs
# that once crashed a harness (fuzz/regressions). Fails on any
# crash, leak or timeout (libFuzzer's exit status).
#   scripts/fuzz.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build-asan}
SECONDS_PER_HARNESS=${2:-60}

seeds="$BUILD_DIR/fuzz-seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
i=0
for model in /usr/share/libonnx-testdata/data/node/test_{gemm,matmul,add,tanh,relu,transpose,reduce_sum,adam}*/model.onnx \
             fuzz/regressions/* test/corpus/bad/* test/e2e/models/*.onnx examples/*/*.onnx; do
  [ -f "$model" ] || continue
  cp "$model" "$seeds/seed$i" && i=$((i + 1))
done

for harness in load import; do
  corpus="$BUILD_DIR/fuzz-corpus-$harness"
  mkdir -p "$corpus"
  echo "== nncc-fuzz-$harness: ${SECONDS_PER_HARNESS}s from $i seeds"
  log="$BUILD_DIR/fuzz-$harness.log"
  status=0
  "$BUILD_DIR/bin/nncc-fuzz-$harness" -max_total_time="$SECONDS_PER_HARNESS" \
    -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    "$corpus" "$seeds" >"$log" 2>&1 || status=$?
  grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)|Done [0-9]+ runs|ERROR|SUMMARY" "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "nncc-fuzz-$harness failed (exit status $status); the log is $log:"
    tail -40 "$log"
    exit 1
  fi
done
echo "fuzzers: no crash, leak or timeout"
