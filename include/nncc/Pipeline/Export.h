//===- Export.h - A trained checkpoint back into the ONNX model -*- C++ -*-===//
//
// What `nncc-export MODEL CHECKPOINT -o OUTPUT` does: the ONNX model, with
// every initializer that the library trains (and every batch-norm running
// statistic) replaced by the checkpoint's value, and nothing else changed.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_PIPELINE_EXPORT_H
#define NNCC_PIPELINE_EXPORT_H

#include "nncc/Pipeline/Compiler.h"

namespace nncc {

/// Writes `output`: `compile.input` with the parameters of `checkpoint`, a
/// checkpoint of the library that `compile` describes (the options nncc
/// was given). Refuses, with a diagnostic and no output file, a file that
/// is not such a checkpoint (another model, other options, truncated,
/// extended, corrupted) and a model whose parameters are not its
/// initializers. The result passes onnx::checker.
/// With `evalForm`, the model is also put in the form that serving wants:
/// each Dropout becomes an Identity and each BatchNormalization uses its
/// running statistics (training_mode 0, without the outputs that training
/// mode adds); a use of what those outputs were is refused.
mlir::LogicalResult exportTrainedModel(mlir::MLIRContext &context,
                                       const CompilerOptions &compile,
                                       llvm::StringRef checkpoint,
                                       llvm::StringRef output,
                                       bool evalForm = false);

} // namespace nncc

#endif // NNCC_PIPELINE_EXPORT_H
