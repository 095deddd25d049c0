//===- ImportONNX.h - ONNX models to the nn dialect -------------*- C++ -*-===//
//
// Builds a module with `func.func @forward` in the nn dialect from an ONNX
// ModelProto. Errors are diagnostics on the MLIR context, located at the model
// file and, where there is one, at the ONNX node (a NameLoc of its name).
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_IMPORT_ONNX_IMPORTONNX_H
#define NNCC_IMPORT_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include <optional>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace nncc {

struct ImportOptions {
  /// Binds a symbolic dimension 0 of the data inputs (the batch).
  std::optional<int64_t> batchSize;
  /// Limits that keep every size computation in range; a model beyond them
  /// is rejected. The driver can raise them.
  uint64_t maxModelBytes = uint64_t(2) << 30;
  int64_t maxRank = 8;
  int64_t maxElements = int64_t(1) << 32;
  /// --sync-batch-norm: in data-parallel training, batch normalization in
  /// training mode normalizes by the statistics of the global batch.
  bool syncBatchNorm = false;
};

/// Imports an already parsed model. `fileName` only names the model in
/// diagnostics. Returns null after emitting a diagnostic on failure.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXModel(mlir::MLIRContext &context, const onnx::ModelProto &model,
                llvm::StringRef fileName, const ImportOptions &options);

/// Reads, checks and imports the model at `path` (see loadONNXModel for the
/// formats). Returns null after emitting a diagnostic on failure.
mlir::OwningOpRef<mlir::ModuleOp> importONNXFile(mlir::MLIRContext &context,
                                                 llvm::StringRef path,
                                                 const ImportOptions &options);

/// Parses, checks and imports a model file already in memory; `path` names
/// it and gives its format.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXBuffer(mlir::MLIRContext &context, llvm::StringRef path,
                 llvm::StringRef contents, const ImportOptions &options);

} // namespace nncc

#endif // NNCC_IMPORT_ONNX_IMPORTONNX_H
