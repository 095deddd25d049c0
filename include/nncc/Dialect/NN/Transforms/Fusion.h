//===- Fusion.h - Fusion groups of nn-fuse and the lowering ----*- C++ -*-===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_FUSION_H
#define NNCC_DIALECT_NN_TRANSFORMS_FUSION_H

#include "llvm/ADT/StringRef.h"

namespace mlir {
class Operation;
class Type;
} // namespace mlir

namespace nncc::nn {

/// The fusion group of an nn op (set by nn-fuse) and of the linalg ops it
/// lowers to: ops with the same number run as one kernel.
constexpr llvm::StringLiteral kFusionGroupAttr = "nn.fusion_group";

/// Marks the linalg.generic of a matrix product that nn-lower-matmul-calls
/// turns into a call of the runtime's GEMM (set by convert-nn-to-linalg on
/// products large enough to gain from it).
constexpr llvm::StringLiteral kMatmulKernelAttr = "nn.matmul";

/// On the declaration of a GEMM call's dispatcher (nn-lower-matmul-calls),
/// the function the GEMM calls on each final block of its product: the
/// product's reader, run as its epilogue. nn-lower-parallel-dispatch
/// defines the dispatcher once the module is in the LLVM dialect.
constexpr llvm::StringLiteral kGemmEpilogueAttr = "nn.gemm_epilogue";
/// Marks such an epilogue function: it works on its arguments' memory
/// only, so nn-plan-memory gives it no arena.
constexpr llvm::StringLiteral kGemmTileAttr = "nn.gemm_tile";

/// Whether a function generated for the library (a loop nest outlined for
/// the threads, a GEMM's epilogue) can take a memref of `type` as an
/// argument: a bare pointer in the library's calling convention, so a
/// statically shaped memref of identity layout in the default space.
bool isPassableMemRef(mlir::Type type);

/// Whether `op`, at the top of a bufferized function, is a kernel: a
/// structured op, a loop nest, a copy or a call (of the runtime's GEMM).
/// `nncc --stats` counts them, `nncc --profile` times them.
bool isKernel(mlir::Operation *op);

/// Whether `op` is an nn op computed element by element (with numpy
/// broadcasting of its operands), so that it lowers to one parallel loop.
bool isElementwise(mlir::Operation *op);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_TRANSFORMS_FUSION_H
