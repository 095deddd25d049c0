//===- TensorOpsLowering.cpp - Lower indexing, selection, softmax --------===//
//
// Part of convert-nn-to-linalg: softmax, reductions by sum and maximum,
// comparison, selection, conversion and the training-step masks become
// linalg.generic ops; concat and slices
// become tensor slice insertions and extractions; gather reads through
// tensor.extract in a generic, and its gradient is an scf.for scatter-add.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/SmallBitVector.h"

#include <cmath>

using namespace mlir;
using namespace nncc::nn;
using namespace nncc::lowering;

/// The generic that reduces `element(inputs)` over the dimensions of
/// `reduced` of a loop nest whose inputs are read through `maps`, into
/// `resultType` through `outMap`. The last `bounds` inputs are not read:
/// they only give loops their sizes.
static Value
reductionNest(OpBuilder &b, Location loc, ValueRange inputs,
              ArrayRef<AffineMap> maps, const llvm::SmallBitVector &reduced,
              AffineMap outMap, RankedTensorType resultType,
              BodyBuilder element,
              function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
              unsigned bounds = 0) {
  SmallVector<utils::IteratorType> iterators;
  for (unsigned i = 0; i < reduced.size(); ++i)
    iterators.push_back(reduced.test(i) ? utils::IteratorType::reduction
                                        : utils::IteratorType::parallel);
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(outMap);
  return b
      .create<linalg::GenericOp>(
          loc, resultType, inputs, emptyTensor(b, loc, resultType), allMaps,
          iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value value = element(nb, l, args.drop_back(1 + bounds));
            nb.create<linalg::YieldOp>(
                l, firstOr(nb, l, iterators, value,
                           combine(nb, l, args.back(), value)));
          })
      .getResult(0);
}

/// Lanes of a split reduction: as many as a 512-bit vector holds floats.
static constexpr int64_t kReductionLanes = 16;

// A softmax's sum reads `exp(x - max)` with the row maximum broadcast, in
// one loop nest; a loss's sum of per-sample terms is a reduction over every
// axis to a float (NNToLinalg.cpp's sumOfTerms).
//
// A reduction over the last, contiguous axis would be a chain of scalar
// operations, one per element, each waiting for the one before: the
// vectorizer may not reorder a float sum. When that axis is long and a
// multiple of 16, it is split instead: element i goes to lane i mod 16,
// the lanes are reduced in the nest over the other axes (one vector
// operation per 16 elements), and then the 16 lanes in order. The order is
// fixed by the shapes alone, so the result is the same on any number of
// threads.
Value nncc::lowering::reduce(
    OpBuilder &b, Location loc, ValueRange inputs, ArrayRef<int64_t> axes,
    bool keepDims, BodyBuilder element,
    function_ref<Value(OpBuilder &, Location, Value, Value)> combine,
    Type resultElement) {
  MLIRContext *ctx = b.getContext();
  RankedTensorType inputType = tensorType(inputs.front());
  int64_t rank = inputType.getRank();
  Type elem = resultElement ? resultElement : inputType.getElementType();
  llvm::SmallBitVector reduced(rank);
  for (int64_t axis : axes)
    reduced.set(axis);
  SmallVector<AffineExpr> outExprs, keptExprs;
  SmallVector<int64_t> shape, keptShape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced.test(i)) {
      outExprs.push_back(getAffineDimExpr(i, ctx));
      shape.push_back(inputType.getDimSize(i));
      keptExprs.push_back(getAffineDimExpr(i, ctx));
      keptShape.push_back(inputType.getDimSize(i));
    } else if (keepDims) {
      outExprs.push_back(getAffineConstantExpr(0, ctx));
      shape.push_back(1);
    }
  }
  auto resultType = RankedTensorType::get(shape, elem);
  SmallVector<AffineMap> maps;
  for (Value input : inputs)
    maps.push_back(broadcastMap(tensorType(input), inputType));
  int64_t last = rank == 0 ? 0 : inputType.getDimSize(rank - 1);
  if (rank == 0 || !reduced.test(rank - 1) || last % kReductionLanes != 0 ||
      last < 2 * kReductionLanes)
    return reductionNest(b, loc, inputs, maps, reduced,
                         AffineMap::get(rank, 0, outExprs, ctx), resultType,
                         element, combine);

  // The lanes: the last axis i as (i / 16, i mod 16), a new parallel
  // dimension `rank` for the lane.
  AffineExpr lane = getAffineDimExpr(rank, ctx);
  AffineExpr split = getAffineDimExpr(rank - 1, ctx) * kReductionLanes + lane;
  SmallVector<AffineMap> laneMaps;
  for (AffineMap map : maps)
    laneMaps.push_back(
        map.replace(getAffineDimExpr(rank - 1, ctx), split, rank + 1, 0));
  llvm::SmallBitVector laneReduced(reduced);
  laneReduced.resize(rank + 1);
  keptExprs.push_back(lane);
  keptShape.push_back(kReductionLanes);
  // The loop over blocks of 16 takes its size from a tensor of that many
  // elements that is never read (no map of the inputs gives it alone). A
  // reshape of the inputs instead would stand between the reduction and
  // the elementwise kernels that nn-fuse-kernels merges into it.
  SmallVector<Value> laneInputs(inputs);
  laneInputs.push_back(emptyTensor(
      b, loc, RankedTensorType::get({last / kReductionLanes}, elem)));
  laneMaps.push_back(
      AffineMap::get(rank + 1, 0, getAffineDimExpr(rank - 1, ctx)));
  Value lanes =
      reductionNest(b, loc, laneInputs, laneMaps, laneReduced,
                    AffineMap::get(rank + 1, 0, keptExprs, ctx),
                    RankedTensorType::get(keptShape, elem), element, combine,
                    /*bounds=*/1);
  // Then the lanes, into the result's shape.
  int64_t kept = keptShape.size();
  llvm::SmallBitVector lastOnly(kept);
  lastOnly.set(kept - 1);
  SmallVector<AffineExpr> finalExprs;
  for (int64_t i = 0, k = 0; i < rank; ++i) {
    if (!reduced.test(i))
      finalExprs.push_back(getAffineDimExpr(k++, ctx));
    else if (keepDims)
      finalExprs.push_back(getAffineConstantExpr(0, ctx));
  }
  return reductionNest(b, loc, lanes, b.getMultiDimIdentityMap(kept), lastOnly,
                       AffineMap::get(kept, 0, finalExprs, ctx), resultType,
                       identity, combine);
}

namespace {

//===----------------------------------------------------------------------===//
// Softmax and reduce_max
//===----------------------------------------------------------------------===//

template <typename Op, bool isLog>
struct SoftmaxLowering : public OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    // max, then sum(exp(x - max)), then the quotient (or its logarithm):
    // never exp of a large number.
    Location loc = op.getLoc();
    Value x = op.getInput();
    RankedTensorType type = tensorType(x);
    int64_t axis = static_cast<int64_t>(op.getAxis());
    // Three loop nests: the row maximum; the sum of exp(x - max); the
    // result, which computes exp(x - max) again rather than storing it.
    Value max = reduce(rewriter, loc, x, axis, /*keepDims=*/true, identity,
                       maxOf);
    Value sum = reduce(
        rewriter, loc, ValueRange{x, max}, axis, /*keepDims=*/true,
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return b.create<math::ExpOp>(l,
                                       b.create<arith::SubFOp>(l, a[0], a[1]));
        },
        sumOf);
    Value result = buildElementwise(
        rewriter, loc, type, ValueRange{x, max, sum},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value shifted = b.create<arith::SubFOp>(l, a[0], a[1]);
          if (isLog)
            return b.create<arith::SubFOp>(l, shifted,
                                           b.create<math::LogOp>(l, a[2]));
          return b.create<arith::DivFOp>(
              l, b.create<math::ExpOp>(l, shifted), a[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ReduceSumLowering : public OpRewritePattern<ReduceSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceSumOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, reduce(rewriter, op.getLoc(), op.getInput(),
                                  op.getAxes(), op.getKeepDims(), identity,
                                  sumOf));
    return success();
  }
};

struct ReduceMaxLowering : public OpRewritePattern<ReduceMaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceMaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    rewriter.replaceOp(op, reduce(rewriter, loc, op.getInput(), op.getAxes(),
                                  op.getKeepDims(), identity, maxOf));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Equal, select, cast, trilu
//===----------------------------------------------------------------------===//

struct EqualLowering : public OpRewritePattern<EqualOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EqualOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), tensorType(op.getResult()),
                op->getOperands(),
                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                  if (isa<FloatType>(a[0].getType()))
                    return b.create<arith::CmpFOp>(
                        l, arith::CmpFPredicate::OEQ, a[0], a[1]);
                  return b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                                 a[0], a[1]);
                }));
    return success();
  }
};

struct CompareLowering : public OpRewritePattern<CompareOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CompareOp op,
                                PatternRewriter &rewriter) const override {
    ComparePredicate predicate = op.getPredicate();
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), tensorType(op.getResult()),
                op->getOperands(),
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  // Ordered float predicates: false for NaN.
                  static constexpr arith::CmpFPredicate floats[] = {
                      arith::CmpFPredicate::OLT, arith::CmpFPredicate::OLE,
                      arith::CmpFPredicate::OGT, arith::CmpFPredicate::OGE};
                  static constexpr arith::CmpIPredicate ints[] = {
                      arith::CmpIPredicate::slt, arith::CmpIPredicate::sle,
                      arith::CmpIPredicate::sgt, arith::CmpIPredicate::sge};
                  auto index = static_cast<size_t>(predicate);
                  if (isa<FloatType>(a[0].getType()))
                    return b.create<arith::CmpFOp>(l, floats[index], a[0],
                                                   a[1]);
                  return b.create<arith::CmpIOp>(l, ints[index], a[0], a[1]);
                }));
    return success();
  }
};

struct LogicLowering : public OpRewritePattern<LogicOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogicOp op,
                                PatternRewriter &rewriter) const override {
    LogicKind kind = op.getKind();
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), tensorType(op.getResult()),
                op->getOperands(),
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  switch (kind) {
                  case LogicKind::And:
                    return b.create<arith::AndIOp>(l, a[0], a[1]);
                  case LogicKind::Or:
                    return b.create<arith::OrIOp>(l, a[0], a[1]);
                  case LogicKind::Xor:
                    return b.create<arith::XOrIOp>(l, a[0], a[1]);
                  }
                  llvm_unreachable("unknown logic kind");
                }));
    return success();
  }
};

struct NotLowering : public OpRewritePattern<NotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NotOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), tensorType(op.getResult()),
                op->getOperands(),
                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                  Value yes = b.create<arith::ConstantOp>(l, b.getBoolAttr(true));
                  return b.create<arith::XOrIOp>(l, a[0], yes);
                }));
    return success();
  }
};

struct SelectLowering : public OpRewritePattern<SelectOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SelectOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), tensorType(op.getResult()),
                op->getOperands(),
                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                  return b.create<arith::SelectOp>(l, a[0], a[1], a[2]);
                }));
    return success();
  }
};

Value castScalar(OpBuilder &b, Location l, Value x, Type to) {
  Type from = x.getType();
  if (from == to)
    return x;
  if (to.isInteger(1)) {
    if (isa<FloatType>(from))
      return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE, x,
                                     floatConstant(b, l, from, 0.0));
    return b.create<arith::CmpIOp>(
        l, arith::CmpIPredicate::ne, x,
        b.create<arith::ConstantOp>(l, b.getIntegerAttr(from, 0)));
  }
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    if (auto fromFloat = dyn_cast<FloatType>(from))
      return fromFloat.getWidth() < toFloat.getWidth()
                 ? b.create<arith::ExtFOp>(l, to, x).getResult()
                 : b.create<arith::TruncFOp>(l, to, x).getResult();
    if (from.isInteger(1))
      return b.create<arith::UIToFPOp>(l, to, x);
    return b.create<arith::SIToFPOp>(l, to, x);
  }
  if (isa<FloatType>(from))
    return b.create<arith::FPToSIOp>(l, to, x);
  if (from.isInteger(1))
    return b.create<arith::ExtUIOp>(l, to, x);
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return b.create<arith::ExtSIOp>(l, to, x);
  return b.create<arith::TruncIOp>(l, to, x);
}

struct CastLowering : public OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = tensorType(op.getResult());
    rewriter.replaceOp(
        op, buildElementwise(rewriter, op.getLoc(), type, op.getInput(),
                             [&](OpBuilder &b, Location l, ValueRange a) {
                               return castScalar(b, l, a[0],
                                                 type.getElementType());
                             }));
    return success();
  }
};

struct TriluLowering : public OpRewritePattern<TriluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TriluOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = tensorType(op.getResult());
    int64_t rank = type.getRank();
    auto k = static_cast<int64_t>(op.getK());
    bool upper = op.getUpper();
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, op.getLoc(), type, op.getInput(),
                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                  // Keep where column - row >= k (upper) or <= k (lower).
                  Value row = b.create<linalg::IndexOp>(l, rank - 2);
                  Value column = b.create<linalg::IndexOp>(l, rank - 1);
                  Value diagonal = b.create<arith::SubIOp>(
                      l, b.create<arith::IndexCastOp>(l, b.getI64Type(), column),
                      b.create<arith::IndexCastOp>(l, b.getI64Type(), row));
                  Value keep = b.create<arith::CmpIOp>(
                      l,
                      upper ? arith::CmpIPredicate::sge
                            : arith::CmpIPredicate::sle,
                      diagonal,
                      b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(k)));
                  Value zero = b.create<arith::ConstantOp>(
                      l, b.getZeroAttr(a[0].getType()));
                  return b.create<arith::SelectOp>(l, keep, a[0], zero);
                }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Training-step masks
//===----------------------------------------------------------------------===//

Value i64Constant(OpBuilder &b, Location loc, uint64_t value) {
  return b.create<arith::ConstantOp>(
      loc, b.getI64IntegerAttr(static_cast<int64_t>(value)));
}

/// SplitMix64's finalizer: a bijection of 64-bit integers whose outputs look
/// independent for consecutive inputs.
Value mix64(OpBuilder &b, Location loc, Value z) {
  auto xorShift = [&](Value v, uint64_t shift) -> Value {
    return b.create<arith::XOrIOp>(
        loc, v, b.create<arith::ShRUIOp>(loc, v, i64Constant(b, loc, shift)));
  };
  z = b.create<arith::MulIOp>(loc, xorShift(z, 30),
                              i64Constant(b, loc, 0xBF58476D1CE4E5B9ull));
  z = b.create<arith::MulIOp>(loc, xorShift(z, 27),
                              i64Constant(b, loc, 0x94D049BB133111EBull));
  return xorShift(z, 31);
}

/// The index of the element at the current linalg.generic iteration of a
/// row-major `shape`, as i64.
Value linearIndex(OpBuilder &b, Location loc, ArrayRef<int64_t> shape) {
  Value linear = i64Constant(b, loc, 0);
  for (auto [dim, size] : llvm::enumerate(shape)) {
    Value index = b.create<arith::IndexCastOp>(
        loc, b.getI64Type(), b.create<linalg::IndexOp>(loc, dim));
    linear = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, linear, i64Constant(b, loc, size)),
        index);
  }
  return linear;
}

/// Element i of step t keeps its value when the top 24 bits of
/// mix64(mix64(seed * K + t) + i * K') are at least ratio * 2^24. The index
/// is the element's in the global batch: in data-parallel training, this
/// process's samples start at the hyperparameter kHyperSampleBase, and a
/// tensor whose leading dimensions carry the batch holds numel / batch
/// elements per sample (other layouts get masks of their own, not one
/// process's).
struct DropoutMaskLowering : public OpRewritePattern<DropoutMaskOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DropoutMaskOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getHyper())
      return rewriter.notifyMatchFailure(
          op, "a dropout mask outside a training step has no step number");
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    // The step number, exactly, from its two 24-bit halves.
    auto slot = [&](int64_t index) -> Value {
      Value position = rewriter.create<arith::ConstantIndexOp>(loc, index);
      Value value =
          rewriter.create<tensor::ExtractOp>(loc, op.getHyper(), position);
      return rewriter.create<arith::FPToUIOp>(loc, rewriter.getI64Type(),
                                              value);
    };
    Value step = rewriter.create<arith::OrIOp>(
        loc,
        rewriter.create<arith::ShLIOp>(loc, slot(kHyperStepHigh),
                                       i64Constant(rewriter, loc, 24)),
        slot(kHyperStepLow));
    auto seed = static_cast<uint64_t>(op.getSeed());
    Value stream = mix64(
        rewriter, loc,
        rewriter.create<arith::AddIOp>(
            loc, i64Constant(rewriter, loc, seed * 0x9E3779B97F4A7C15ull),
            step));
    int64_t batch = 1;
    if (auto module = op->getParentOfType<ModuleOp>())
      if (auto attr = module->getAttrOfType<IntegerAttr>(kBatchSizeAttr))
        batch = std::max<int64_t>(1, attr.getInt());
    Value first = rewriter.create<arith::MulIOp>(
        loc, slot(kHyperSampleBase),
        i64Constant(rewriter, loc, type.getNumElements() / batch));
    double ratio = op.getRatio().convertToDouble();
    auto threshold = static_cast<uint64_t>(std::ceil(ratio * (1 << 24)));
    Type elem = type.getElementType();
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, loc, type, {},
                [&](OpBuilder &b, Location l, ValueRange) -> Value {
                  Value element = b.create<arith::MulIOp>(
                      l,
                      b.create<arith::AddIOp>(
                          l, first, linearIndex(b, l, type.getShape())),
                      i64Constant(b, l, 0xD1B54A32D192ED03ull));
                  Value bits = b.create<arith::ShRUIOp>(
                      l,
                      mix64(b, l, b.create<arith::AddIOp>(l, stream, element)),
                      i64Constant(b, l, 40));
                  Value keep = b.create<arith::CmpIOp>(
                      l, arith::CmpIPredicate::uge, bits,
                      i64Constant(b, l, threshold));
                  return b.create<arith::SelectOp>(
                      l, keep, floatConstant(b, l, elem, 1.0 / (1.0 - ratio)),
                      floatConstant(b, l, elem, 0.0));
                }));
    return success();
  }
};

struct SampleMaskLowering : public OpRewritePattern<SampleMaskOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SampleMaskOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    Type elem = type.getElementType();
    Value count =
        op.getCount()
            ? rewriter.create<tensor::ExtractOp>(loc, op.getCount()).getResult()
            : i64Constant(rewriter, loc, type.getDimSize(0));
    rewriter.replaceOp(
        op, buildElementwise(
                rewriter, loc, type, {},
                [&](OpBuilder &b, Location l, ValueRange) -> Value {
                  Value sample = b.create<arith::IndexCastOp>(
                      l, b.getI64Type(), b.create<linalg::IndexOp>(l, 0));
                  Value real = b.create<arith::CmpIOp>(
                      l, arith::CmpIPredicate::slt, sample, count);
                  return b.create<arith::SelectOp>(
                      l, real, floatConstant(b, l, elem, 1.0),
                      floatConstant(b, l, elem, 0.0));
                }));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Concat, slices, reverse
//===----------------------------------------------------------------------===//

struct ConcatLowering : public OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    Value result = emptyTensor(rewriter, loc, type);
    int64_t offset = 0;
    for (Value input : op.getInputs()) {
      RankedTensorType inputType = tensorType(input);
      SmallVector<int64_t> offsets(type.getRank(), 0), strides(type.getRank(), 1);
      offsets[axis] = offset;
      offset += inputType.getDimSize(axis);
      result = rewriter.create<tensor::InsertSliceOp>(
          loc, input, result, ValueRange(), ValueRange(), ValueRange(),
          offsets, inputType.getShape(), strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SliceLowering : public OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, tensorType(op.getResult()), op.getInput(), ValueRange(),
        ValueRange(), ValueRange(), op.getStarts(), op.getSizes(),
        op.getStrides());
    return success();
  }
};

struct SliceGradLowering : public OpRewritePattern<SliceGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value zeros = zeroFilled(rewriter, loc, tensorType(op.getResult()));
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        op, op.getGrad(), zeros, ValueRange(), ValueRange(), ValueRange(),
        op.getStarts(), tensorType(op.getGrad()).getShape(), op.getStrides());
    return success();
  }
};

/// The slice of the accumulator read, the gradient added to it in place
/// (the generic's output is the slice, so that it bufferizes into the
/// accumulator's buffer), and the sum inserted back.
struct SliceAddLowering : public OpRewritePattern<SliceAddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceAddOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType gradType = tensorType(op.getGrad());
    SmallVector<int64_t> sizes(gradType.getShape());
    Value part = rewriter.create<tensor::ExtractSliceOp>(
        loc, gradType, op.getAccumulator(), ValueRange(), ValueRange(),
        ValueRange(), op.getStarts(), sizes, op.getStrides());
    int64_t rank = gradType.getRank();
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    Value sum =
        rewriter
            .create<linalg::GenericOp>(
                loc, gradType, op.getGrad(), part,
                SmallVector<AffineMap>{identity, identity},
                SmallVector<utils::IteratorType>(
                    rank, utils::IteratorType::parallel),
                [](OpBuilder &b, Location l, ValueRange args) {
                  b.create<linalg::YieldOp>(
                      l, b.create<arith::AddFOp>(l, args[1], args[0])
                             .getResult());
                })
            .getResult(0);
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        op, sum, op.getAccumulator(), ValueRange(), ValueRange(),
        ValueRange(), op.getStarts(), sizes, op.getStrides());
    return success();
  }
};

struct ReverseLowering : public OpRewritePattern<ReverseOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReverseOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    RankedTensorType type = tensorType(op.getResult());
    int64_t rank = type.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < rank; ++i) {
      AffineExpr d = getAffineDimExpr(i, ctx);
      exprs.push_back(llvm::is_contained(op.getAxes(), i)
                          ? type.getDimSize(i) - 1 - d
                          : d);
    }
    SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, exprs, ctx),
                                   rewriter.getMultiDimIdentityMap(rank)};
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, op.getInput(), emptyTensor(rewriter, loc, type), maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Gather and its scatter-add gradient
//===----------------------------------------------------------------------===//

/// The slice that index `id` (an i64) selects in a dimension of size `dim`,
/// as an index: negative ids count from the end, and ids out of `[-dim, dim)`
/// select 0 so that no kernel ever reads or writes out of bounds.
Value sliceIndex(OpBuilder &b, Location l, Value id, int64_t dim) {
  Type i64 = b.getI64Type();
  Value size = b.create<arith::ConstantOp>(l, b.getIntegerAttr(i64, dim));
  Value zero = b.create<arith::ConstantOp>(l, b.getIntegerAttr(i64, 0));
  Value negative =
      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, id, zero);
  Value wrapped = b.create<arith::SelectOp>(
      l, negative, b.create<arith::AddIOp>(l, id, size), id);
  Value inRange = b.create<arith::AndIOp>(
      l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, wrapped, zero),
      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, wrapped, size));
  Value safe = b.create<arith::SelectOp>(l, inRange, wrapped, zero);
  return b.create<arith::IndexCastOp>(l, b.getIndexType(), safe);
}

struct GatherLowering : public OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    RankedTensorType type = tensorType(op.getResult());
    RankedTensorType inputType = tensorType(op.getInput());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    int64_t indexRank = tensorType(op.getIndices()).getRank();
    int64_t rank = type.getRank();
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indexRank; ++i)
      indexExprs.push_back(getAffineDimExpr(axis + i, ctx));
    SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, indexExprs, ctx),
                                   rewriter.getMultiDimIdentityMap(rank)};
    Value input = op.getInput();
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, op.getIndices(), emptyTensor(rewriter, loc, type), maps,
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < axis; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          at.push_back(
              sliceIndex(b, l, args[0], inputType.getDimSize(axis)));
          for (int64_t i = axis + 1; i < inputType.getRank(); ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i - 1 + indexRank));
          b.create<linalg::YieldOp>(
              l, b.create<tensor::ExtractOp>(l, input, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct GatherGradLowering : public OpRewritePattern<GatherGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherGradOp op,
                                PatternRewriter &rewriter) const override {
    // for every element of the gradient: result[.., id, ..] += grad[..].
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    RankedTensorType gradType = tensorType(op.getGrad());
    int64_t axis = static_cast<int64_t>(op.getAxis());
    int64_t indexRank = tensorType(op.getIndices()).getRank();
    Value grad = op.getGrad(), indices = op.getIndices();
    SmallVector<Value> lbs, ubs, steps;
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    for (int64_t d : gradType.getShape()) {
      lbs.push_back(zero);
      ubs.push_back(rewriter.create<arith::ConstantIndexOp>(loc, d));
      steps.push_back(one);
    }
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps,
        ValueRange{zeroFilled(rewriter, loc, type)},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange acc) -> scf::ValueVector {
          Value id = b.create<tensor::ExtractOp>(
              l, indices, ivs.slice(axis, indexRank));
          SmallVector<Value> at(ivs.take_front(axis));
          at.push_back(sliceIndex(b, l, id, type.getDimSize(axis)));
          llvm::append_range(at, ivs.drop_front(axis + indexRank));
          Value g = b.create<tensor::ExtractOp>(l, grad, ivs);
          Value old = b.create<tensor::ExtractOp>(l, acc[0], at);
          Value sum = b.create<arith::AddFOp>(l, old, g);
          return {b.create<tensor::InsertOp>(l, sum, acc[0], at)};
        });
    rewriter.replaceOp(op, nest.results[0]);
    return success();
  }
};

} // namespace

void nncc::populateTensorOpLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SoftmaxLowering<SoftmaxOp, false>,
               SoftmaxLowering<LogSoftmaxOp, true>, ReduceSumLowering,
               ReduceMaxLowering,
               EqualLowering, CompareLowering, LogicLowering, NotLowering,
               SelectLowering, CastLowering, TriluLowering,
               ConcatLowering, SliceLowering, SliceGradLowering,
               SliceAddLowering, ReverseLowering, GatherLowering,
               GatherGradLowering,
               DropoutMaskLowering, SampleMaskLowering>(
      patterns.getContext());
}
