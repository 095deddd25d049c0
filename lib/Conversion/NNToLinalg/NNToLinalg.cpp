//===- NNToLinalg.cpp - Lower nn ops to linalg on tensors ----------------===//
//
// Implements convert-nn-to-linalg. Each nn op becomes linalg.generic ops (or
// a tensor.reshape) in destination-passing style. Broadcasting reads operands
// through indexing maps that send stretched dimensions to 0, so no broadcast
// tensor is ever materialized.
//
//===----------------------------------------------------------------------===//

#include "nncc/Conversion/Passes.h"

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace nncc {
#define GEN_PASS_DEF_CONVERTNNTOLINALG
#include "nncc/Conversion/Passes.h.inc"
} // namespace nncc

using namespace mlir;
using namespace nncc::nn;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

using BodyBuilder =
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

static RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The map from the iteration space of `resultType` to the elements of an
/// operand of `operandType` broadcast to it (numpy rules).
static AffineMap broadcastMap(RankedTensorType operandType,
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

static Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type) {
  return b.create<tensor::EmptyOp>(loc, type.getShape(),
                                   type.getElementType());
}

static Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type) {
  Value zero = b.create<arith::ConstantOp>(
      loc, b.getZeroAttr(type.getElementType()));
  return b.create<linalg::FillOp>(loc, zero, emptyTensor(b, loc, type))
      .getResult(0);
}

/// A linalg.generic computing `body` elementwise over `inputs`, each broadcast
/// to `resultType`.
static Value buildElementwise(OpBuilder &b, Location loc,
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

static Value floatConstant(OpBuilder &b, Location loc, Type type,
                           double value) {
  return b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, value));
}

/// `count * sampleSize` as a float: the number of elements a loss over the
/// first `count` samples averages.
static Value lossDenominator(OpBuilder &b, Location loc, Value count,
                             RankedTensorType inputType) {
  Type elementType = inputType.getElementType();
  Value n = b.create<tensor::ExtractOp>(loc, count, ValueRange());
  Value samples = b.create<arith::SIToFPOp>(loc, elementType, n);
  int64_t sampleSize = inputType.getNumElements() / inputType.getDimSize(0);
  return b.create<arith::MulFOp>(
      loc, samples, floatConstant(b, loc, elementType, sampleSize));
}

/// `i < count` for the batch index of the current iteration of a generic.
static Value isRealSample(OpBuilder &b, Location loc, Value count) {
  Value batchIndex = b.create<linalg::IndexOp>(loc, 0);
  Value index = b.create<arith::IndexCastOp>(loc, b.getI64Type(), batchIndex);
  return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, index, count);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

struct ConstantLowering : public OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOp op,
                                PatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value)
      return rewriter.notifyMatchFailure(op, "value is not a typed attribute");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

/// An op whose lowering is one elementwise generic over all its operands.
template <typename Op>
struct ElementwiseLowering : public OpRewritePattern<Op> {
  ElementwiseLowering(MLIRContext *ctx,
                      std::function<Value(OpBuilder &, Location, ValueRange)> f)
      : OpRewritePattern<Op>(ctx), body(std::move(f)) {}
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    Value result = buildElementwise(rewriter, op.getLoc(),
                                    tensorType(op.getResult()),
                                    op->getOperands(), body);
    rewriter.replaceOp(op, result);
    return success();
  }
  std::function<Value(OpBuilder &, Location, ValueRange)> body;
};

struct MatMulLowering : public OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    AffineExpr m, n, k;
    bindDims(ctx, m, n, k);
    auto map = [&](AffineExpr a, AffineExpr b) {
      return AffineMap::get(3, 0, {a, b}, ctx);
    };
    SmallVector<AffineMap> maps = {
        op.getTransposeLhs() ? map(k, m) : map(m, k),
        op.getTransposeRhs() ? map(n, k) : map(k, n), map(m, n)};
    SmallVector<utils::IteratorType> iterators = {
        utils::IteratorType::parallel, utils::IteratorType::parallel,
        utils::IteratorType::reduction};
    RankedTensorType type = tensorType(op.getResult());
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, ValueRange{op.getLhs(), op.getRhs()},
        zeroFilled(rewriter, loc, type), maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value product = b.create<arith::MulFOp>(l, args[0], args[1]);
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::AddFOp>(l, args[2], product)});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ReduceSumLowering : public OpRewritePattern<ReduceSumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReduceSumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    RankedTensorType inputType = tensorType(op.getInput());
    RankedTensorType resultType = tensorType(op.getResult());
    int64_t rank = inputType.getRank();
    llvm::SmallBitVector reduced(rank);
    for (int64_t axis : op.getAxes())
      reduced.set(axis);
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t i = 0; i < rank; ++i) {
      iterators.push_back(reduced.test(i) ? utils::IteratorType::reduction
                                          : utils::IteratorType::parallel);
      if (!reduced.test(i))
        outExprs.push_back(getAffineDimExpr(i, ctx));
      else if (op.getKeepDims())
        outExprs.push_back(getAffineConstantExpr(0, ctx));
    }
    SmallVector<AffineMap> maps = {
        rewriter.getMultiDimIdentityMap(rank),
        AffineMap::get(rank, 0, outExprs, ctx)};
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultType, op.getInput(), zeroFilled(rewriter, loc, resultType),
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::AddFOp>(l, args[1], args[0])});
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ReshapeLowering : public OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = tensorType(op.getResult());
    if (type == op.getInput().getType()) {
      rewriter.replaceOp(op, op.getInput());
      return success();
    }
    auto shapeType = RankedTensorType::get(
        {static_cast<int64_t>(type.getRank())}, rewriter.getI64Type());
    Value shape = rewriter.create<arith::ConstantOp>(
        op.getLoc(), DenseIntElementsAttr::get(shapeType, type.getShape()));
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, type, op.getInput(),
                                                   shape);
    return success();
  }
};

struct TransposeLowering : public OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    // result[i0, ..., in] = input[i(inverse(0)), ...]: read the input
    // through the permutation that puts result dims in input order.
    ArrayRef<int64_t> perm = op.getPerm();
    SmallVector<AffineExpr> exprs(perm.size());
    for (auto [i, p] : llvm::enumerate(perm))
      exprs[p] = getAffineDimExpr(i, op.getContext());
    SmallVector<AffineMap> maps = {
        AffineMap::get(type.getRank(), 0, exprs, op.getContext()),
        rewriter.getMultiDimIdentityMap(type.getRank())};
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, type, op.getInput(), emptyTensor(rewriter, loc, type), maps,
        iterators, [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct BroadcastToLowering : public OpRewritePattern<BroadcastToOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BroadcastToOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildElementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                             op.getInput(),
                             [](OpBuilder &, Location, ValueRange args) {
                               return args[0];
                             }));
    return success();
  }
};

struct MSELossLowering : public OpRewritePattern<MSELossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MSELossOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType inputType = tensorType(op.getInput());
    RankedTensorType scalarType = tensorType(op.getResult());
    int64_t rank = inputType.getRank();
    Value count = rewriter.create<tensor::ExtractOp>(loc, op.getCount(),
                                                     ValueRange());
    SmallVector<AffineMap> maps = {
        rewriter.getMultiDimIdentityMap(rank),
        rewriter.getMultiDimIdentityMap(rank),
        AffineMap::get(rank, 0, {}, op.getContext())};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::reduction);
    // Sum of squared differences over the real samples; padding samples of
    // a partial batch add exactly 0 (a select, so NaNs there stay out).
    auto sum = rewriter.create<linalg::GenericOp>(
        loc, scalarType, ValueRange{op.getInput(), op.getTarget()},
        zeroFilled(rewriter, loc, scalarType), maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value diff = b.create<arith::SubFOp>(l, args[0], args[1]);
          Value square = b.create<arith::MulFOp>(l, diff, diff);
          Value zero = floatConstant(b, l, square.getType(), 0.0);
          Value term = b.create<arith::SelectOp>(
              l, isRealSample(b, l, count), square, zero);
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::AddFOp>(l, args[2], term)});
        });
    Value denominator =
        lossDenominator(rewriter, loc, op.getCount(), inputType);
    Value mean = buildElementwise(
        rewriter, loc, scalarType, sum.getResult(0),
        [&](OpBuilder &b, Location l, ValueRange args) {
          return b.create<arith::DivFOp>(l, args[0], denominator);
        });
    rewriter.replaceOp(op, mean);
    return success();
  }
};

struct MSELossGradLowering : public OpRewritePattern<MSELossGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MSELossGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType inputType = tensorType(op.getInput());
    Type elementType = inputType.getElementType();
    Value count = rewriter.create<tensor::ExtractOp>(loc, op.getCount(),
                                                     ValueRange());
    // As PyTorch's mse_loss_backward: (input - target) * (2 / n * grad).
    Value grad = rewriter.create<tensor::ExtractOp>(loc, op.getGrad(),
                                                    ValueRange());
    Value norm = rewriter.create<arith::DivFOp>(
        loc, floatConstant(rewriter, loc, elementType, 2.0),
        lossDenominator(rewriter, loc, op.getCount(), inputType));
    Value scale = rewriter.create<arith::MulFOp>(loc, norm, grad);
    Value result = buildElementwise(
        rewriter, loc, inputType, ValueRange{op.getInput(), op.getTarget()},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value diff = b.create<arith::SubFOp>(l, args[0], args[1]);
          Value value = b.create<arith::MulFOp>(l, diff, scale);
          return b.create<arith::SelectOp>(l, isRealSample(b, l, count), value,
                                           floatConstant(b, l, elementType, 0));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SGDUpdateLowering : public OpRewritePattern<SGDUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SGDUpdateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lr = rewriter.create<tensor::ExtractOp>(loc, op.getLr(), ValueRange());
    // torch.optim.SGD: param.add_(grad, alpha=-lr).
    Value negLr = rewriter.create<arith::NegFOp>(loc, lr);
    Value result = buildElementwise(
        rewriter, loc, tensorType(op.getResult()),
        ValueRange{op.getParam(), op.getGrad()},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value step = b.create<arith::MulFOp>(l, negLr, args[1]);
          return b.create<arith::AddFOp>(l, args[0], step);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConvertNNToLinalg
    : public nncc::impl::ConvertNNToLinalgBase<ConvertNNToLinalg> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<NNDialect>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, tensor::TensorDialect>();
    RewritePatternSet patterns(ctx);
    nncc::populateNNToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void nncc::populateNNToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  using Args = ValueRange;
  patterns.add<ConstantLowering, MatMulLowering, ReduceSumLowering,
               ReshapeLowering, TransposeLowering, BroadcastToLowering, MSELossLowering,
               MSELossGradLowering, SGDUpdateLowering>(ctx);
  patterns.add<ElementwiseLowering<AddOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::AddFOp>(l, a[0], a[1]);
      });
  patterns.add<ElementwiseLowering<SubOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::SubFOp>(l, a[0], a[1]);
      });
  patterns.add<ElementwiseLowering<MulOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::MulFOp>(l, a[0], a[1]);
      });
  patterns.add<ElementwiseLowering<DivOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::DivFOp>(l, a[0], a[1]);
      });
  patterns.add<ElementwiseLowering<NegOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::NegFOp>(l, a[0]);
      });
  patterns.add<ElementwiseLowering<TanhOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<math::TanhOp>(l, a[0]);
      });
  patterns.add<ElementwiseLowering<SigmoidOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        // 1 / (1 + exp(-x)): exp overflows to inf for very negative x and
        // the quotient is then exactly 0, as it should be.
        Value one = floatConstant(b, l, a[0].getType(), 1.0);
        Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, a[0]));
        return b.create<arith::DivFOp>(l, one,
                                       b.create<arith::AddFOp>(l, one, e));
      });
  patterns.add<ElementwiseLowering<ReluOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        // Unordered compare: relu(NaN) is NaN, as in PyTorch.
        Value zero = floatConstant(b, l, a[0].getType(), 0.0);
        Value keep = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UGT,
                                             a[0], zero);
        return b.create<arith::SelectOp>(l, keep, a[0], zero);
      });
  patterns.add<ElementwiseLowering<ReluGradOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        // PyTorch's threshold_backward: the gradient at exactly 0 is 0.
        Value zero = floatConstant(b, l, a[0].getType(), 0.0);
        Value pass = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT,
                                             a[0], zero);
        return b.create<arith::SelectOp>(l, pass, a[1], zero);
      });
}
