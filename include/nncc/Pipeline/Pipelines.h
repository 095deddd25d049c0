//===- Pipelines.h - nncc's pass pipelines ----------------------*- C++ -*-===//

#ifndef NNCC_PIPELINE_PIPELINES_H
#define NNCC_PIPELINE_PIPELINES_H

#include "mlir/Support/LogicalResult.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace nncc {

/// Graph-level clean-up of nn functions: canonicalization and CSE.
void buildNNOptimizationPipeline(mlir::OpPassManager &pm);

/// nn on tensors to linalg on memrefs with a planned arena: the stages up to
/// and including nn-plan-memory.
void buildBufferizationPipeline(mlir::OpPassManager &pm);

/// Planned memrefs to the LLVM dialect, with the bare-pointer calling
/// convention that the generated library's packed wrappers use.
void buildLLVMLoweringPipeline(mlir::OpPassManager &pm);

/// Registers the pipelines above with mlir-opt style tools as
/// `nncc-optimize`, `nncc-bufferize` and `nncc-lower-to-llvm`.
void registerPipelines();

} // namespace nncc

#endif // NNCC_PIPELINE_PIPELINES_H
