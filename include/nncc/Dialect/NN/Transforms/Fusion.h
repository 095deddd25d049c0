//===- Fusion.h - Fusion groups of nn-fuse and the lowering ----*- C++ -*-===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_FUSION_H
#define NNCC_DIALECT_NN_TRANSFORMS_FUSION_H

#include "llvm/ADT/StringRef.h"

namespace mlir {
class Operation;
} // namespace mlir

namespace nncc::nn {

/// The fusion group of an nn op (set by nn-fuse) and of the linalg ops it
/// lowers to: ops with the same number run as one kernel.
constexpr llvm::StringLiteral kFusionGroupAttr = "nn.fusion_group";

/// Marks the linalg.generic of a matrix product that nn-lower-matmul-calls
/// turns into a call of the runtime's GEMM (set by convert-nn-to-linalg on
/// products large enough to gain from it).
constexpr llvm::StringLiteral kMatmulKernelAttr = "nn.matmul";

/// Whether `op` is an nn op computed element by element (with numpy
/// broadcasting of its operands), so that it lowers to one parallel loop.
bool isElementwise(mlir::Operation *op);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_TRANSFORMS_FUSION_H
