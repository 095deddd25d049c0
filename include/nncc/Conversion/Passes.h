//===- Passes.h - Conversions out of the nn dialect -------------*- C++ -*-===//

#ifndef NNCC_CONVERSION_PASSES_H
#define NNCC_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;
} // namespace mlir

namespace nncc {

#define GEN_PASS_DECL
#include "nncc/Conversion/Passes.h.inc"

/// Adds the patterns that lower every nn op to linalg, tensor and arith ops.
void populateNNToLinalgPatterns(mlir::RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "nncc/Conversion/Passes.h.inc"

} // namespace nncc

#endif // NNCC_CONVERSION_PASSES_H
