//===- LoweringUtils.h - Helpers of the nn-to-linalg lowering ---*- C++ -*-===//
//
// Builders shared by the patterns of convert-nn-to-linalg.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_LIB_CONVERSION_NNTOLINALG_LOWERINGUTILS_H
#define NNCC_LIB_CONVERSION_NNTOLINALG_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace nncc::lowering {

using namespace mlir;

using BodyBuilder =
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The map from the iteration space of `resultType` to the elements of an
/// operand of `operandType` broadcast to it (numpy rules).
inline AffineMap broadcastMap(RankedTensorType operandType,
                              RankedTensorType resultType) {
  MLIRContext *ctx = resultType.getContext();
  int64_t lead = resultType.getRank() - operandType.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operandType.getRank(); ++i) {
    bool stretched = operandType.getDimSize(i) == 1 &&
                     resultType.getDimSize(i + lead) != 1;
    exprs.push_back(stretched ? getAffineConstantExpr(0, ctx)
                              : getAffineDimExpr(i + lead, ctx));
  }
  return AffineMap::get(resultType.getRank(), 0, exprs, ctx);
}

inline Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(),
                                   type.getElementType());
}

inline Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type) {
  Value zero = b.create<arith::ConstantOp>(
      loc, b.getZeroAttr(type.getElementType()));
  return b.create<linalg::FillOp>(loc, zero, emptyTensor(b, loc, type))
      .getResult(0);
}

/// A linalg.generic computing `body` elementwise over `inputs`, each broadcast
/// to `resultType`.
inline Value buildElementwise(OpBuilder &b, Location loc,
                              RankedTensorType resultType, ValueRange inputs,
                              BodyBuilder body) {
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(tensorType(input), resultType));
  maps.push_back(b.getMultiDimIdentityMap(resultType.getRank()));
  SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, resultType, inputs, emptyTensor(b, loc, resultType), maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(nloc,
                                   body(nb, nloc, args.drop_back()));
      });
  return generic.getResult(0);
}

/// The element of a reduction that reads its first input as it is.
inline Value identity(OpBuilder &, Location, ValueRange args) {
  return args[0];
}

/// Combinations of a reduction's accumulator with an element.
inline Value sumOf(OpBuilder &b, Location l, Value acc, Value x) {
  return b.create<arith::AddFOp>(l, acc, x);
}
inline Value maxOf(OpBuilder &b, Location l, Value acc, Value x) {
  // NaN propagates, as in torch.amax.
  return b.create<arith::MaximumFOp>(l, acc, x);
}

/// Reduces `element(inputs)` over `axes` of the first input with `combine`
/// (which gets the accumulator, then the element), into a tensor that keeps
/// the reduced axes as size 1 when `keepDims`, of element type
/// `resultElement` (by default the first input's). The other inputs
/// broadcast to the first. The accumulator starts from the first element
/// (firstOr), not from a filled buffer.
Value reduce(OpBuilder &b, Location loc, ValueRange inputs,
             ArrayRef<int64_t> axes, bool keepDims, BodyBuilder element,
             function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
             Type resultElement = {});

/// Whether an m x k by k x n product is large enough for the runtime's
/// packed GEMM to beat the loop nest LLVM makes of the generic: float32, at
/// least 4096 multiply-adds, and columns enough to fill most of its 16-wide
/// register tiles.
/// `value` with its dimensions permuted: the result's dimension i is the
/// input's dimension perm[i] (a copy, as nn.transpose).
Value permuted(OpBuilder &b, Location loc, Value value, ArrayRef<int64_t> perm);

bool useGemm(Type elementType, int64_t m, int64_t n, int64_t k);

/// The product of `lhs` and `rhs` (each transposed in its last two
/// dimensions when asked), with numpy broadcasting of the batch dimensions,
/// as one linalg.generic of `type`. Products large enough are marked for
/// nn-lower-matmul-calls, which calls the runtime's GEMM for them.
Value buildMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs,
                  bool transposeLhs, bool transposeRhs, RankedTensorType type);

/// The accumulator of a reduction in a linalg.generic whose output starts
/// uninitialized (an empty tensor, not a filled one): `value` at the first
/// iteration of the reduction loops (every reduction index 0), `combined`
/// (which reads the accumulator) after. This spares the loop nest that would
/// otherwise fill the output before the reduction.
inline Value firstOr(OpBuilder &b, Location loc,
                     ArrayRef<utils::IteratorType> iterators, Value value,
                     Value combined) {
  Value first;
  for (auto [dim, iterator] : llvm::enumerate(iterators)) {
    if (iterator != utils::IteratorType::reduction)
      continue;
    Value atStart = b.create<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, b.create<linalg::IndexOp>(loc, dim),
        b.create<arith::ConstantIndexOp>(loc, 0));
    first = first ? b.create<arith::AndIOp>(loc, first, atStart) : atStart;
  }
  // Without reduction loops every iteration is the first of its element.
  return first ? b.create<arith::SelectOp>(loc, first, value, combined)
               : value;
}

inline Value floatConstant(OpBuilder &b, Location loc, Type type,
                           double value) {
  return b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, value));
}

/// -inf of a float type: the identity of a maximum.
inline Value negativeInfinity(OpBuilder &b, Location loc, Type type) {
  auto floatType = cast<FloatType>(type);
  return b.create<arith::ConstantOp>(
      loc, b.getFloatAttr(floatType,
                          APFloat::getInf(floatType.getFloatSemantics(),
                                          /*Negative=*/true)));
}

} // namespace nncc::lowering

namespace nncc {
/// Patterns of the ops that move, pick or compare elements, and softmax.
void populateTensorOpLoweringPatterns(mlir::RewritePatternSet &patterns);
/// Patterns of convolution and pooling and their gradients.
void populateWindowOpLoweringPatterns(mlir::RewritePatternSet &patterns);
} // namespace nncc

#endif // NNCC_LIB_CONVERSION_NNTOLINALG_LOWERINGUTILS_H
