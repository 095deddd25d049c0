//===- Diagnostics.h - One-line diagnostics for model files -----*- C++ -*-===//

#ifndef NNCC_PIPELINE_DIAGNOSTICS_H
#define NNCC_PIPELINE_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"

namespace nncc {

/// Prints each diagnostic as one line, `FILE: error: node 'NAME': MESSAGE`,
/// naming the model file and the ONNX node of its location (a NameLoc
/// wrapping the file's location), or `FILE:LINE:COL: error: MESSAGE` for
/// locations in text files.
class ModelDiagnosticHandler {
public:
  ModelDiagnosticHandler(mlir::MLIRContext &context, llvm::raw_ostream &os);
  ~ModelDiagnosticHandler();

  /// Formats one diagnostic as the handler prints it.
  static void print(mlir::Diagnostic &diag, llvm::raw_ostream &os);

private:
  mlir::MLIRContext &context;
  mlir::DiagnosticEngine::HandlerID id;
};

} // namespace nncc

#endif // NNCC_PIPELINE_DIAGNOSTICS_H
