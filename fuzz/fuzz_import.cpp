//===- fuzz_import.cpp - Fuzz ONNX import up to verified nn IR -----------===//
//
// Parses arbitrary bytes as a binary ONNX model and, when the loader accepts
// it, imports it into the nn dialect, which ends with the IR verifier. Every
// rejection must be a diagnostic; a crash, an assertion, a leak or a hang is
// a bug.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Import/ONNX/ImportONNX.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *ctx = new mlir::MLIRContext();
    ctx->loadDialect<nncc::nn::NNDialect, mlir::func::FuncDialect>();
    // Diagnostics are expected; keep them off the fuzzer's output.
    ctx->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
    return ctx;
  }();
  nncc::ImportOptions options;
  options.batchSize = 2;
  llvm::StringRef contents(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      nncc::importONNXBuffer(*context, "fuzz.onnx", contents, options);
  return 0;
}
