//===- GemmWindows.h - A GEMM operand read where im2col read it -*- C++ -*-===//
//
// A convolution's product reads the windows of its input, which
// convert-nn-to-linalg copies into a buffer of their own (im2col, nine
// times the input for a 3x3 kernel). The copy reads the input at a linear
// combination of its loops, so the buffer is a strided view of the input
// with more dimensions than a matrix has: nn-lower-matmul-calls passes the
// GEMM that view instead, as compound matrix dimensions (one index made of
// several, each with its stride), and the GEMM packs its panels of B
// straight from the input. The copy and its buffer go.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_GEMMWINDOWS_H
#define NNCC_DIALECT_NN_TRANSFORMS_GEMMWINDOWS_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <optional>

namespace mlir {
class Operation;
} // namespace mlir

namespace nncc::nn {

/// One part of a compound index: its size and its stride in the source.
struct IndexPart {
  int64_t size, stride;
};

/// The most parts of one matrix dimension that the runtime's GEMM takes
/// (nncc_gemm.c's compound_t: the outermost and three more).
constexpr unsigned kMaxIndexParts = 4;

/// A product's operand that is a copy of windows of `source`: element i of
/// the operand's memref dimension d is at `offset` + the offset of i's
/// parts in `dims[d]` (outermost first; sizes multiply to the dimension's)
/// elements from the start of `source`'s strided view.
struct WindowsOperand {
  mlir::Value source;
  int64_t offset;
  llvm::SmallVector<llvm::SmallVector<IndexPart, kMaxIndexParts>> dims;
  /// What reading the source in place leaves dead: the copy, its buffer
  /// and the view of it that the product reads (or null).
  mlir::Operation *copy, *buffer, *view;
};

/// The memref `value` views (through view ops), or `value` itself.
mlir::Value viewRoot(mlir::Value value);

/// Whether an op after `from` and before `to` in their block, or an op
/// nested in one, has an operand that is `root` or a view of it and that
/// `counts` (taking the operand) accepts.
bool usedBetween(mlir::Value root, mlir::Operation *from, mlir::Operation *to,
                 llvm::function_ref<bool(mlir::OpOperand &)> counts);

/// `operand` of `product` as windows of another buffer, if it is a view
/// (or the whole) of a buffer that one copy writes, earlier in the block,
/// from a source that is read at a linear combination of the copy's loops
/// (static strides) and that nothing writes between the copy and the
/// product, and if nothing else uses the buffer and each dimension has at
/// most kMaxIndexParts parts.
std::optional<WindowsOperand> findWindows(mlir::Value operand,
                                          mlir::Operation *product);

/// Erases the copy, its buffer and the view, once the product that read
/// them is gone.
void eraseWindows(const WindowsOperand &windows);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_TRANSFORMS_GEMMWINDOWS_H
