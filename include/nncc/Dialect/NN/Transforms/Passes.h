//===- Passes.h - Transformations of the nn dialect -------------*- C++ -*-===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_PASSES_H
#define NNCC_DIALECT_NN_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace arith {
class ArithDialect;
} // namespace arith
namespace bufferization {
class BufferizationDialect;
} // namespace bufferization
namespace func {
class FuncDialect;
class FuncOp;
} // namespace func
namespace memref {
class MemRefDialect;
} // namespace memref
} // namespace mlir

namespace nncc::nn {

#define GEN_PASS_DECL
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_TRANSFORMS_PASSES_H
