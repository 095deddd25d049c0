//===- NNToLinalg.cpp - Lower nn ops to linalg on tensors ----------------===//
//
// Implements convert-nn-to-linalg. Each nn op becomes linalg.generic ops (or
// a tensor.reshape) in destination-passing style. Broadcasting reads operands
// through indexing maps that send stretched dimensions to 0, so no broadcast
// tensor is ever materialized.
//
//===----------------------------------------------------------------------===//

#include "nncc/Conversion/Passes.h"

#include "LoweringUtils.h"
#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Fusion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace nncc {
#define GEN_PASS_DEF_CONVERTNNTOLINALG
#include "nncc/Conversion/Passes.h.inc"
} // namespace nncc

using namespace mlir;
using namespace nncc::nn;
using namespace nncc::lowering;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

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

/// `i < count` for the batch index `batchIndex` (an index), or by default
/// that of the current iteration of a generic.
static Value isRealSample(OpBuilder &b, Location loc, Value count,
                          Value batchIndex = {}) {
  if (!batchIndex)
    batchIndex = b.create<linalg::IndexOp>(loc, 0);
  Value index = b.create<arith::IndexCastOp>(loc, b.getI64Type(), batchIndex);
  return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, index, count);
}

/// The sum, as a rank-0 tensor of `elem`, of `term` computed from each
/// element of `inputs` (all of one shape), added in row-major order from
/// the first term (no filled accumulator).
static Value sumOfTerms(OpBuilder &b, Location loc, ValueRange inputs,
                        Type elem, BodyBuilder term) {
  int64_t rank = tensorType(inputs.front()).getRank();
  return reduce(
      b, loc, inputs, llvm::to_vector(llvm::seq<int64_t>(0, rank)),
      /*keepDims=*/false, term,
      [](OpBuilder &nb, Location l, Value sum, Value value) -> Value {
        return nb.create<arith::AddFOp>(l, sum, value);
      },
      elem);
}

/// The mean of `term` over the elements of the samples before `count` (the
/// rest is padding of a partial batch and adds exactly 0: a select, so NaNs
/// there stay out). `term` is computed per element from `inputs`, each of
/// `inputType`; the result is a rank-0 tensor.
static Value meanOverRealSamples(OpBuilder &rewriter, Location loc,
                                 ValueRange inputs, Value countTensor,
                                 RankedTensorType inputType, BodyBuilder term) {
  auto scalarType = RankedTensorType::get({}, inputType.getElementType());
  Value count =
      rewriter.create<tensor::ExtractOp>(loc, countTensor, ValueRange());
  Value sum =
      sumOfTerms(rewriter, loc, inputs, inputType.getElementType(),
                 [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                   Value value = term(b, l, args);
                   Value zero = floatConstant(b, l, value.getType(), 0.0);
                   return b.create<arith::SelectOp>(
                       l, isRealSample(b, l, count), value, zero);
                 });
  Value denominator = lossDenominator(rewriter, loc, countTensor, inputType);
  return buildElementwise(rewriter, loc, scalarType, sum,
                          [&](OpBuilder &b, Location l, ValueRange args) {
                            return b.create<arith::DivFOp>(l, args[0],
                                                           denominator);
                          });
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

bool nncc::lowering::useGemm(Type elementType, int64_t m, int64_t n,
                             int64_t k) {
  return elementType.isF32() && n >= 8 && m * n * k >= 4096;
}

Value nncc::lowering::permuted(OpBuilder &b, Location loc, Value value,
                               ArrayRef<int64_t> perm) {
  RankedTensorType type = tensorType(value);
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> inputExprs(rank);
  for (auto [i, from] : llvm::enumerate(perm)) {
    shape.push_back(type.getDimSize(from));
    inputExprs[from] = b.getAffineDimExpr(i);
  }
  auto resultType = RankedTensorType::get(shape, type.getElementType());
  return b
      .create<linalg::GenericOp>(
          loc, resultType, value, emptyTensor(b, loc, resultType),
          SmallVector<AffineMap>{
              AffineMap::get(rank, 0, inputExprs, b.getContext()),
              b.getMultiDimIdentityMap(rank)},
          SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [](OpBuilder &nb, Location l, ValueRange args) {
            nb.create<linalg::YieldOp>(l, args[0]);
          })
      .getResult(0);
}

Value nncc::lowering::buildMatmul(OpBuilder &rewriter, Location loc, Value lhs,
                                  Value rhs, bool transposeLhs,
                                  bool transposeRhs, RankedTensorType type) {
  MLIRContext *ctx = rewriter.getContext();
  // Loops: the result's batch dimensions, then m, n and the reduction k.
  int64_t batch = type.getRank() - 2, loops = batch + 3;
  AffineExpr m = getAffineDimExpr(batch, ctx);
  AffineExpr n = getAffineDimExpr(batch + 1, ctx);
  AffineExpr k = getAffineDimExpr(batch + 2, ctx);
  auto operandMap = [&](Value operand, AffineExpr row, AffineExpr column) {
    // Batch dimensions broadcast as in numpy, aligned at the right.
    RankedTensorType operandType = tensorType(operand);
    int64_t operandBatch = operandType.getRank() - 2;
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < operandBatch; ++i) {
      int64_t loop = i + batch - operandBatch;
      bool stretched =
          operandType.getDimSize(i) == 1 && type.getDimSize(loop) != 1;
      exprs.push_back(stretched ? getAffineConstantExpr(0, ctx)
                                : getAffineDimExpr(loop, ctx));
    }
    exprs.append({row, column});
    return AffineMap::get(loops, 0, exprs, ctx);
  };
  SmallVector<AffineExpr> resultExprs;
  for (int64_t i = 0; i < batch + 2; ++i)
    resultExprs.push_back(getAffineDimExpr(i, ctx));
  SmallVector<AffineMap> maps = {
      transposeLhs ? operandMap(lhs, k, m) : operandMap(lhs, m, k),
      transposeRhs ? operandMap(rhs, n, k) : operandMap(rhs, k, n),
      AffineMap::get(loops, 0, resultExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  iterators.back() = utils::IteratorType::reduction;
  auto generic = rewriter.create<linalg::GenericOp>(
      loc, type, ValueRange{lhs, rhs}, emptyTensor(rewriter, loc, type), maps,
      iterators, [&](OpBuilder &b, Location l, ValueRange args) {
        Value product = b.create<arith::MulFOp>(l, args[0], args[1]);
        b.create<linalg::YieldOp>(
            l, firstOr(b, l, iterators, product,
                       b.create<arith::AddFOp>(l, args[2], product)));
      });
  RankedTensorType lhsType = tensorType(lhs);
  int64_t reduced = lhsType.getDimSize(transposeLhs ? lhsType.getRank() - 2
                                                    : lhsType.getRank() - 1);
  if (useGemm(type.getElementType(), type.getDimSize(batch),
              type.getDimSize(batch + 1), reduced))
    generic->setAttr(kMatmulKernelAttr, rewriter.getUnitAttr());
  return generic.getResult(0);
}

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
    Value result =
        buildElementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
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
    rewriter.replaceOp(op, buildMatmul(rewriter, op.getLoc(), op.getLhs(),
                                       op.getRhs(), op.getTransposeLhs(),
                                       op.getTransposeRhs(),
                                       tensorType(op.getResult())));
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
    rewriter.replaceOp(
        op, permuted(rewriter, op.getLoc(), op.getInput(), op.getPerm()));
    return success();
  }
};

struct BroadcastToLowering : public OpRewritePattern<BroadcastToOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BroadcastToOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op,
        buildElementwise(
            rewriter, op.getLoc(), tensorType(op.getResult()), op.getInput(),
            [](OpBuilder &, Location, ValueRange args) { return args[0]; }));
    return success();
  }
};

struct MSELossLowering : public OpRewritePattern<MSELossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MSELossOp op,
                                PatternRewriter &rewriter) const override {
    Value mean = meanOverRealSamples(
        rewriter, op.getLoc(), ValueRange{op.getInput(), op.getTarget()},
        op.getCount(), tensorType(op.getInput()),
        [](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value diff = b.create<arith::SubFOp>(l, args[0], args[1]);
          return b.create<arith::MulFOp>(l, diff, diff);
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
    Value count =
        rewriter.create<tensor::ExtractOp>(loc, op.getCount(), ValueRange());
    // As PyTorch's mse_loss_backward: (input - target) * (2 / n * grad).
    Value grad =
        rewriter.create<tensor::ExtractOp>(loc, op.getGrad(), ValueRange());
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

/// Reads slot `slot` of the hyperparameter vector.
static Value hyperParameter(OpBuilder &b, Location loc, Value hyper,
                            HyperSlot slot) {
  Value index = b.create<arith::ConstantIndexOp>(loc, slot);
  return b.create<tensor::ExtractOp>(loc, hyper, index);
}

using UpdateBody = function_ref<SmallVector<Value>(
    OpBuilder &, Location, Value param, Value grad, ValueRange state)>;

/// One elementwise generic that reads a parameter, its gradient and its
/// state and writes the new parameter and the new state: the whole update
/// of a parameter is one loop. Replaces `op`, whose results are these.
static LogicalResult lowerUpdate(Operation *op, PatternRewriter &rewriter,
                                 Value param, Value grad, ValueRange state,
                                 UpdateBody body) {
  Location loc = op->getLoc();
  RankedTensorType type = tensorType(param);
  SmallVector<Value> inputs = {param, grad};
  llvm::append_range(inputs, state);
  SmallVector<Value> inits;
  for (Value result : op->getResults())
    inits.push_back(emptyTensor(rewriter, loc, tensorType(result)));
  SmallVector<AffineMap> maps(inputs.size() + inits.size(),
                              rewriter.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto generic = rewriter.create<linalg::GenericOp>(
      loc, op->getResultTypes(), inputs, inits, maps, iterators,
      [&](OpBuilder &b, Location l, ValueRange args) {
        b.create<linalg::YieldOp>(
            l, body(b, l, args[0], args[1], args.slice(2, state.size())));
      });
  rewriter.replaceOp(op, generic.getResults());
  return success();
}

/// `a + alpha * b`, the order of torch's `a.add(b, alpha=alpha)`.
static Value addScaled(OpBuilder &b, Location loc, Value a, Value alpha,
                       Value x) {
  return b.create<arith::AddFOp>(loc, a,
                                 b.create<arith::MulFOp>(loc, alpha, x));
}

struct SGDUpdateLowering : public OpRewritePattern<SGDUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SGDUpdateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elem = tensorType(op.getParam()).getElementType();
    Value hyper = op.getHyper();
    Value negLr = rewriter.create<arith::NegFOp>(
        loc, hyperParameter(rewriter, loc, hyper, kHyperLearningRate));
    Value step = hyperParameter(rewriter, loc, hyper, kHyperStep);
    double momentum = op.getMomentum().convertToDouble();
    double dampening = op.getDampening().convertToDouble();
    double weightDecay = op.getWeightDecay().convertToDouble();
    bool nesterov = op.getNesterov();
    // torch.optim.SGD (1.13), step by step.
    return lowerUpdate(
        op, rewriter, op.getParam(), op.getGrad(), op.getState(),
        [&](OpBuilder &b, Location l, Value p, Value g, ValueRange state) {
          Value d = g;
          if (weightDecay != 0.0)
            d = addScaled(b, l, d, floatConstant(b, l, elem, weightDecay), p);
          SmallVector<Value> results;
          if (momentum != 0.0) {
            // The buffer starts as a copy of the first step's gradient.
            Value m = floatConstant(b, l, elem, momentum);
            Value later =
                addScaled(b, l, b.create<arith::MulFOp>(l, state[0], m),
                          floatConstant(b, l, elem, 1.0 - dampening), d);
            Value first =
                b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, step,
                                        floatConstant(b, l, elem, 1.0));
            Value buf = b.create<arith::SelectOp>(l, first, d, later);
            d = nesterov ? addScaled(b, l, d, m, buf) : buf;
            results.push_back(buf);
          }
          results.insert(results.begin(), addScaled(b, l, p, negLr, d));
          return results;
        });
  }
};

struct AdamUpdateLowering : public OpRewritePattern<AdamUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AdamUpdateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elem = tensorType(op.getParam()).getElementType();
    Value hyper = op.getHyper();
    Value negStepSize = rewriter.create<arith::NegFOp>(
        loc, hyperParameter(rewriter, loc, hyper, kHyperAdamStepSize));
    Value bias2Sqrt = hyperParameter(rewriter, loc, hyper, kHyperAdamBias2Sqrt);
    Value decay = hyperParameter(rewriter, loc, hyper, kHyperDecayFactor);
    double beta1 = op.getBeta1().convertToDouble();
    double beta2 = op.getBeta2().convertToDouble();
    double eps = op.getEps().convertToDouble();
    double weightDecay = op.getWeightDecay().convertToDouble();
    bool decoupled = op.getDecoupled(), amsgrad = op.getAmsgrad();
    // torch.optim.Adam and AdamW (1.13, single-tensor), step by step.
    return lowerUpdate(
        op, rewriter, op.getParam(), op.getGrad(), op.getState(),
        [&](OpBuilder &b, Location l, Value p, Value g, ValueRange state) {
          if (weightDecay != 0.0 && decoupled)
            p = b.create<arith::MulFOp>(l, p, decay);
          else if (weightDecay != 0.0)
            g = addScaled(b, l, g, floatConstant(b, l, elem, weightDecay), p);
          Value m =
              addScaled(b, l,
                        b.create<arith::MulFOp>(
                            l, state[0], floatConstant(b, l, elem, beta1)),
                        floatConstant(b, l, elem, 1.0 - beta1), g);
          Value scaledG = b.create<arith::MulFOp>(
              l, floatConstant(b, l, elem, 1.0 - beta2), g);
          Value v = b.create<arith::AddFOp>(
              l,
              b.create<arith::MulFOp>(l, state[1],
                                      floatConstant(b, l, elem, beta2)),
              b.create<arith::MulFOp>(l, scaledG, g));
          SmallVector<Value> results = {Value(), m, v};
          Value second = v;
          if (amsgrad) {
            second = b.create<arith::MaximumFOp>(l, state[2], v);
            results.push_back(second);
          }
          Value denom = b.create<arith::AddFOp>(
              l,
              b.create<arith::DivFOp>(l, b.create<math::SqrtOp>(l, second),
                                      bias2Sqrt),
              floatConstant(b, l, elem, eps));
          Value stepValue = b.create<arith::DivFOp>(
              l, b.create<arith::MulFOp>(l, negStepSize, m), denom);
          results[0] = b.create<arith::AddFOp>(l, p, stepValue);
          return results;
        });
  }
};

struct AdagradUpdateLowering : public OpRewritePattern<AdagradUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AdagradUpdateOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elem = tensorType(op.getParam()).getElementType();
    Value negClr = rewriter.create<arith::NegFOp>(
        loc, hyperParameter(rewriter, loc, op.getHyper(), kHyperAdagradLR));
    double eps = op.getEps().convertToDouble();
    double weightDecay = op.getWeightDecay().convertToDouble();
    // torch.optim.Adagrad (1.13, single-tensor), step by step.
    return lowerUpdate(
        op, rewriter, op.getParam(), op.getGrad(), op.getState(),
        [&](OpBuilder &b, Location l, Value p, Value g, ValueRange state) {
          if (weightDecay != 0.0)
            g = addScaled(b, l, g, floatConstant(b, l, elem, weightDecay), p);
          Value sum = b.create<arith::AddFOp>(l, state[0],
                                              b.create<arith::MulFOp>(l, g, g));
          Value std = b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, sum),
                                              floatConstant(b, l, elem, eps));
          Value stepValue = b.create<arith::DivFOp>(
              l, b.create<arith::MulFOp>(l, negClr, g), std);
          return SmallVector<Value>{b.create<arith::AddFOp>(l, p, stepValue),
                                    sum};
        });
  }
};

//===----------------------------------------------------------------------===//
// ONNX training operators
//===----------------------------------------------------------------------===//

/// `norm_coefficient * x + g`, the regularized gradient of the ONNX
/// training operators.
static Value regularized(OpBuilder &b, Location loc, double normCoefficient,
                         Value x, Value g) {
  if (normCoefficient == 0.0)
    return g;
  Value c = floatConstant(b, loc, x.getType(), normCoefficient);
  return b.create<arith::AddFOp>(loc, b.create<arith::MulFOp>(loc, c, x), g);
}

/// The scalar inputs of an ONNX training operator: R, and T as a float of
/// R's type and as a double.
struct RateAndStep {
  Value r, t, t64;
};
static RateAndStep rateAndStep(OpBuilder &b, Location loc, Value r, Value t) {
  Type elem = cast<RankedTensorType>(r.getType()).getElementType();
  Value rs = b.create<tensor::ExtractOp>(loc, r, ValueRange());
  Value ts = b.create<tensor::ExtractOp>(loc, t, ValueRange());
  return {rs, b.create<arith::SIToFPOp>(loc, elem, ts),
          b.create<arith::SIToFPOp>(loc, b.getF64Type(), ts)};
}

struct ONNXAdagradLowering : public OpRewritePattern<ONNXAdagradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXAdagradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elem = tensorType(op.getX()).getElementType();
    RateAndStep s = rateAndStep(rewriter, loc, op.getR(), op.getT());
    // r = R / (1 + T * decay_factor)
    Value r = rewriter.create<arith::DivFOp>(
        loc, s.r,
        rewriter.create<arith::AddFOp>(
            loc, floatConstant(rewriter, loc, elem, 1.0),
            rewriter.create<arith::MulFOp>(
                loc, s.t,
                floatConstant(rewriter, loc, elem,
                              op.getDecayFactor().convertToDouble()))));
    double nc = op.getNormCoefficient().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    // X plays the parameter's part.
    return lowerUpdate(
        op, rewriter, op.getX(), op.getGrad(), op.getState(),
        [&](OpBuilder &b, Location l, Value x, Value g, ValueRange state) {
          Value gr = regularized(b, l, nc, x, g);
          Value h = b.create<arith::AddFOp>(l, state[0],
                                            b.create<arith::MulFOp>(l, gr, gr));
          Value adaptive = b.create<arith::AddFOp>(
              l, b.create<math::SqrtOp>(l, h), floatConstant(b, l, elem, eps));
          Value step = b.create<arith::DivFOp>(
              l, b.create<arith::MulFOp>(l, r, gr), adaptive);
          return SmallVector<Value>{b.create<arith::SubFOp>(l, x, step), h};
        });
  }
};

struct ONNXMomentumLowering : public OpRewritePattern<ONNXMomentumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXMomentumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elem = tensorType(op.getX()).getElementType();
    RateAndStep s = rateAndStep(rewriter, loc, op.getR(), op.getT());
    // The first step (T == 0) takes the whole gradient.
    Value later =
        rewriter.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, s.t,
                                       floatConstant(rewriter, loc, elem, 0.0));
    Value beta = rewriter.create<arith::SelectOp>(
        loc, later,
        floatConstant(rewriter, loc, elem, op.getBeta().convertToDouble()),
        floatConstant(rewriter, loc, elem, 1.0));
    double alpha = op.getAlpha().convertToDouble();
    double nc = op.getNormCoefficient().convertToDouble();
    bool nesterov = op.getNesterov();
    // X plays the parameter's part.
    return lowerUpdate(
        op, rewriter, op.getX(), op.getGrad(), op.getState(),
        [&](OpBuilder &b, Location l, Value x, Value g, ValueRange state) {
          Value a = floatConstant(b, l, elem, alpha);
          Value gr = regularized(b, l, nc, x, g);
          Value v = b.create<arith::AddFOp>(
              l, b.create<arith::MulFOp>(l, a, state[0]),
              b.create<arith::MulFOp>(l, beta, gr));
          Value direction = nesterov
                                ? b.create<arith::AddFOp>(
                                       l, gr, b.create<arith::MulFOp>(l, a, v))
                                      .getResult()
                                : v;
          Value xNew = b.create<arith::SubFOp>(
              l, x, b.create<arith::MulFOp>(l, s.r, direction));
          return SmallVector<Value>{xNew, v};
        });
  }
};

struct ONNXAdamLowering : public OpRewritePattern<ONNXAdamOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ONNXAdamOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elem = tensorType(op.getX()).getElementType();
    Type f64 = rewriter.getF64Type();
    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    RateAndStep s = rateAndStep(rewriter, loc, op.getR(), op.getT());
    // r = T > 0 ? R * sqrt(1 - beta^T) / (1 - alpha^T) : R, in double as the
    // reference computes its Python scalars.
    auto one = floatConstant(rewriter, loc, f64, 1.0);
    Value betaT = rewriter.create<math::PowFOp>(
        loc, floatConstant(rewriter, loc, f64, beta), s.t64);
    Value alphaT = rewriter.create<math::PowFOp>(
        loc, floatConstant(rewriter, loc, f64, alpha), s.t64);
    Value r64 = rewriter.create<arith::ExtFOp>(loc, f64, s.r);
    Value adjusted = rewriter.create<arith::DivFOp>(
        loc,
        rewriter.create<arith::MulFOp>(
            loc, r64,
            rewriter.create<math::SqrtOp>(
                loc, rewriter.create<arith::SubFOp>(loc, one, betaT))),
        rewriter.create<arith::SubFOp>(loc, one, alphaT));
    Value later =
        rewriter.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, s.t64,
                                       floatConstant(rewriter, loc, f64, 0.0));
    Value r = rewriter.create<arith::TruncFOp>(
        loc, elem, rewriter.create<arith::SelectOp>(loc, later, adjusted, r64));
    double nc = op.getNormCoefficient().convertToDouble();
    double post = op.getNormCoefficientPost().convertToDouble();
    double eps = op.getEpsilon().convertToDouble();
    // X plays the parameter's part.
    return lowerUpdate(
        op, rewriter, op.getX(), op.getGrad(), op.getState(),
        [&](OpBuilder &b, Location l, Value x, Value g, ValueRange state) {
          Value gr = regularized(b, l, nc, x, g);
          Value v = b.create<arith::AddFOp>(
              l,
              b.create<arith::MulFOp>(l, floatConstant(b, l, elem, alpha),
                                      state[0]),
              b.create<arith::MulFOp>(l, floatConstant(b, l, elem, 1.0 - alpha),
                                      gr));
          Value h = b.create<arith::AddFOp>(
              l,
              b.create<arith::MulFOp>(l, floatConstant(b, l, elem, beta),
                                      state[1]),
              b.create<arith::MulFOp>(l, floatConstant(b, l, elem, 1.0 - beta),
                                      b.create<arith::MulFOp>(l, gr, gr)));
          Value hSqrt = b.create<arith::AddFOp>(l, b.create<math::SqrtOp>(l, h),
                                                floatConstant(b, l, elem, eps));
          Value xNew = b.create<arith::SubFOp>(
              l, x,
              b.create<arith::MulFOp>(l, r,
                                      b.create<arith::DivFOp>(l, v, hSqrt)));
          if (post != 0.0)
            xNew = b.create<arith::MulFOp>(
                l, floatConstant(b, l, elem, 1.0 - post), xNew);
          return SmallVector<Value>{xNew, v, h};
        });
  }
};

//===----------------------------------------------------------------------===//
// Classification losses
//===----------------------------------------------------------------------===//

/// Per-position statistics of logits `x` with classes on the last axis,
/// each of the shape of `x` without its last axis, in one pass over `x`.
struct ClassStatistics {
  Value max;    // max over the classes
  Value sumExp; // sum of exp(x - max)
  Value sumX;   // sum of x, when asked for (label smoothing needs it)
};

/// One step of the online maximum and sum of exponentials: the running sum
/// is rescaled whenever the running maximum grows, so each element costs
/// one exponential, exp(-|v - max|), and the result is as stable as the
/// maximum first, then the sum. Returns the new maximum and sum.
static std::pair<Value, Value>
onlineSoftmaxStep(OpBuilder &b, Location l, Value v, Value max, Value sum) {
  Type elem = v.getType();
  Value one = floatConstant(b, l, elem, 1.0);
  // exp(-|v - max|), 1 when both are the same infinity.
  Value e = b.create<math::ExpOp>(
      l, b.create<arith::NegFOp>(
             l, b.create<math::AbsFOp>(l, b.create<arith::SubFOp>(l, v, max))));
  e = b.create<arith::SelectOp>(
      l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, v, max), one, e);
  Value grows = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v, max);
  Value newMax = b.create<arith::SelectOp>(l, grows, v, max);
  Value newSum = b.create<arith::SelectOp>(
      l, grows,
      b.create<arith::AddFOp>(l, b.create<arith::MulFOp>(l, sum, e), one),
      b.create<arith::AddFOp>(l, sum, e));
  return {newMax, newSum};
}

/// Computes ClassStatistics as one online reduction (onlineSoftmaxStep).
static ClassStatistics classStatistics(OpBuilder &b, Location loc, Value x,
                                       bool withSumX) {
  RankedTensorType type = tensorType(x);
  int64_t rank = type.getRank();
  Type elem = type.getElementType();
  auto leadType = RankedTensorType::get(type.getShape().drop_back(), elem);
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> lead;
  for (int64_t i = 0; i + 1 < rank; ++i)
    lead.push_back(getAffineDimExpr(i, ctx));
  AffineMap full = b.getMultiDimIdentityMap(rank);
  AffineMap leadMap = AffineMap::get(rank, 0, lead, ctx);
  SmallVector<utils::IteratorType> iterators(rank - 1,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);

  int64_t outputs = withSumX ? 3 : 2;
  SmallVector<Value> inits;
  for (int64_t i = 0; i < outputs; ++i)
    inits.push_back(emptyTensor(b, loc, leadType));
  SmallVector<AffineMap> maps = {full};
  maps.append(outputs, leadMap);
  auto stats = b.create<linalg::GenericOp>(
      loc, SmallVector<Type>(outputs, leadType), x, inits, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value v = args[0];
        auto [newMax, newSum] = onlineSoftmaxStep(nb, l, v, args[1], args[2]);
        SmallVector<Value> results = {
            firstOr(nb, l, iterators, v, newMax),
            firstOr(nb, l, iterators, floatConstant(nb, l, elem, 1.0), newSum)};
        if (withSumX)
          results.push_back(firstOr(nb, l, iterators, v,
                                    nb.create<arith::AddFOp>(l, args[3], v)));
        nb.create<linalg::YieldOp>(l, results);
      });
  return {stats.getResult(0), stats.getResult(1),
          withSumX ? stats.getResult(2) : Value()};
}

/// Whether a position counts in a classification loss: its sample is real
/// (that of batch index `batchIndex`, by default the current iteration's of
/// a generic), its target is not ignored and is a class.
static Value countsInLoss(OpBuilder &b, Location loc, Value count, Value target,
                          int64_t ignoreIndex, int64_t classes,
                          Value batchIndex = {}) {
  Value real = isRealSample(b, loc, count, batchIndex);
  Value notIgnored = b.create<arith::CmpIOp>(
      loc, arith::CmpIPredicate::ne, target,
      b.create<arith::ConstantIntOp>(loc, ignoreIndex, 64));
  Value nonNegative =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, target,
                              b.create<arith::ConstantIntOp>(loc, 0, 64));
  Value belowC =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, target,
                              b.create<arith::ConstantIntOp>(loc, classes, 64));
  Value inRange = b.create<arith::AndIOp>(loc, nonNegative, belowC);
  return b.create<arith::AndIOp>(
      loc, real, b.create<arith::AndIOp>(loc, notIgnored, inRange));
}

/// The class index of a target, clamped into range so that reading the
/// logit at it is always in bounds (positions out of range do not count).
static Value clampedClass(OpBuilder &b, Location loc, Value target,
                          int64_t classes) {
  Value zero = b.create<arith::ConstantIntOp>(loc, 0, 64);
  Value last = b.create<arith::ConstantIntOp>(loc, classes - 1, 64);
  Value clamped = b.create<arith::MinSIOp>(
      loc, b.create<arith::MaxSIOp>(loc, target, zero), last);
  return b.create<arith::IndexCastOp>(loc, b.getIndexType(), clamped);
}

/// The loss of one position whose logits have maximum `max`, sum of
/// exponentials `sumExp` and, with label smoothing, sum `sumX`:
/// -log_softmax(x)[t] from the target's logit `xt`, and with smoothing
/// (1 - s) times that plus s / C times -sum(log_softmax(x)).
static Value positionLoss(OpBuilder &b, Location l, Value max, Value sumExp,
                          Value sumX, Value xt, int64_t classes,
                          double smoothing) {
  Type elem = max.getType();
  Value lse = b.create<arith::AddFOp>(l, max, b.create<math::LogOp>(l, sumExp));
  Value loss = b.create<arith::SubFOp>(l, lse, xt);
  if (!sumX)
    return loss;
  Value smooth = b.create<arith::SubFOp>(
      l, b.create<arith::MulFOp>(l, floatConstant(b, l, elem, classes), lse),
      sumX);
  return b.create<arith::AddFOp>(
      l,
      b.create<arith::MulFOp>(l, floatConstant(b, l, elem, 1.0 - smoothing),
                              loss),
      b.create<arith::MulFOp>(l, floatConstant(b, l, elem, smoothing / classes),
                              smooth));
}

/// The number of positions that count in a classification loss over
/// `target`, as a float scalar tensor, in one reduction.
static Value countedPositions(OpBuilder &b, Location loc, Value target,
                              Value count, int64_t ignore, int64_t classes,
                              Type elem) {
  return sumOfTerms(
      b, loc, target, elem,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        return nb.create<arith::SelectOp>(
            l, countsInLoss(nb, l, count, args[0], ignore, classes),
            floatConstant(nb, l, elem, 1.0), floatConstant(nb, l, elem, 0.0));
      });
}

/// `sum / counted`, two rank-0 tensors: the mean loss over the positions
/// that count.
static Value meanLoss(OpBuilder &b, Location loc, Value sum, Value counted) {
  return buildElementwise(b, loc, tensorType(sum), ValueRange{sum, counted},
                          [](OpBuilder &nb, Location l, ValueRange args) {
                            return nb.create<arith::DivFOp>(l, args[0],
                                                            args[1]);
                          });
}

/// Softmax and cross-entropy with its gradient, in one kernel over the
/// positions (the logits' leading dimensions, all parallel): each position
/// reads its row of logits once for the online maximum and sum of
/// exponentials (onlineSoftmaxStep), then again, still in cache, to write
/// its row of the gradient, softmax(x) - onehot(t) (with smoothing,
/// minus s / C), times dL / counted; nothing per row goes through memory.
/// `counted` is the number of positions that count (a float rank-0
/// tensor), which must be known before the first row: so the caller counts
/// them first, from the targets alone. Returns the gradient and, when
/// `withLoss`, the loss of each position (0 where it does not count), of
/// the targets' shape.
static std::pair<Value, Value> fusedCrossEntropy(OpBuilder &b,
                                                 CrossEntropyLossGradOp op,
                                                 Value count, Value counted,
                                                 bool withLoss) {
  Location loc = op.getLoc();
  Value x = op.getInput(), target = op.getTarget();
  RankedTensorType type = tensorType(x);
  Type elem = type.getElementType();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t classes = shape.back();
  int64_t leadRank = type.getRank() - 1;
  double smoothing = op.getLabelSmoothing().convertToDouble();
  int64_t ignore = op.getIgnoreIndex();
  Value n = b.create<tensor::ExtractOp>(loc, counted, ValueRange());
  Value dl = b.create<tensor::ExtractOp>(loc, op.getGrad(), ValueRange());
  Value scale = b.create<arith::DivFOp>(loc, dl, n);

  SmallVector<Value> outputs = {emptyTensor(b, loc, type)};
  if (withLoss)
    outputs.push_back(
        emptyTensor(b, loc, RankedTensorType::get(shape.drop_back(), elem)));
  SmallVector<OpFoldResult> bounds;
  for (int64_t size : shape.drop_back())
    bounds.push_back(b.getIndexAttr(size));
  auto forall =
      b.create<scf::ForallOp>(loc, bounds, outputs, /*mapping=*/std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  SmallVector<Value> position = forall.getInductionVars();

  // The row's statistics, the first logit starting them.
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  auto at = [&](Value c) {
    SmallVector<Value> indices(position);
    indices.push_back(c);
    return indices;
  };
  Value first = b.create<tensor::ExtractOp>(loc, x, at(zero));
  SmallVector<Value> inits = {first, floatConstant(b, loc, elem, 1.0)};
  if (smoothing != 0.0)
    inits.push_back(first);
  auto stats = b.create<scf::ForOp>(
      loc, one, b.create<arith::ConstantIndexOp>(loc, classes), one, inits,
      [&](OpBuilder &nb, Location l, Value c, ValueRange acc) {
        Value v = nb.create<tensor::ExtractOp>(l, x, at(c));
        auto [max, sum] = onlineSoftmaxStep(nb, l, v, acc[0], acc[1]);
        SmallVector<Value> next = {max, sum};
        if (acc.size() == 3)
          next.push_back(nb.create<arith::AddFOp>(l, acc[2], v));
        nb.create<scf::YieldOp>(l, next);
      });
  Value max = stats.getResult(0), sumExp = stats.getResult(1);
  Value t = b.create<tensor::ExtractOp>(loc, target, position);
  Value counts =
      countsInLoss(b, loc, count, t, ignore, classes, position.front());
  Value zeroF = floatConstant(b, loc, elem, 0.0);

  // The row of the gradient.
  SmallVector<OpFoldResult> offsets(position.begin(), position.end());
  offsets.push_back(b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes(leadRank, b.getIndexAttr(1));
  sizes.push_back(b.getIndexAttr(classes));
  SmallVector<OpFoldResult> strides(leadRank + 1, b.getIndexAttr(1));
  auto rowType = RankedTensorType::get({classes}, elem);
  Value xRow = b.create<tensor::ExtractSliceOp>(loc, rowType, x, offsets, sizes,
                                                strides);
  Value gradOut = forall.getRegionIterArgs()[0];
  Value gradRow = b.create<tensor::ExtractSliceOp>(loc, rowType, gradOut,
                                                   offsets, sizes, strides);
  AffineMap id = b.getMultiDimIdentityMap(1);
  Value newGradRow =
      b.create<linalg::GenericOp>(
           loc, rowType, xRow, gradRow, ArrayRef<AffineMap>{id, id},
           utils::IteratorType::parallel,
           [&](OpBuilder &nb, Location l, ValueRange args) {
             Value softmax = nb.create<arith::DivFOp>(
                 l,
                 nb.create<math::ExpOp>(
                     l, nb.create<arith::SubFOp>(l, args[0], max)),
                 sumExp);
             Value c = nb.create<arith::IndexCastOp>(
                 l, nb.getI64Type(), nb.create<linalg::IndexOp>(l, 0));
             Value isTarget =
                 nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, t);
             Value hit = nb.create<arith::SelectOp>(
                 l, isTarget, floatConstant(nb, l, elem, 1.0 - smoothing),
                 zeroF);
             Value value = nb.create<arith::SubFOp>(
                 l, nb.create<arith::SubFOp>(l, softmax, hit),
                 floatConstant(nb, l, elem, smoothing / classes));
             nb.create<linalg::YieldOp>(
                 l, ValueRange{nb.create<arith::SelectOp>(
                        l, counts, nb.create<arith::MulFOp>(l, value, scale),
                        zeroF)});
           })
          .getResult(0);

  // The row's loss.
  Value newLoss;
  SmallVector<OpFoldResult> lossOffsets(position.begin(), position.end());
  SmallVector<OpFoldResult> ones(leadRank, b.getIndexAttr(1));
  if (withLoss) {
    Value xt = b.create<tensor::ExtractOp>(
        loc, x, at(clampedClass(b, loc, t, classes)));
    Value loss = positionLoss(b, loc, max, sumExp,
                              smoothing != 0.0 ? stats.getResult(2) : Value(),
                              xt, classes, smoothing);
    Value lossOut = forall.getRegionIterArgs()[1];
    Value lossAt = b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({}, elem), lossOut, lossOffsets, ones, ones);
    newLoss = b.create<tensor::InsertOp>(
        loc, b.create<arith::SelectOp>(loc, counts, loss, zeroF), lossAt,
        ValueRange());
  }

  b.setInsertionPointToStart(forall.getTerminator().getBody());
  b.create<tensor::ParallelInsertSliceOp>(loc, newGradRow, gradOut, offsets,
                                          sizes, strides);
  if (withLoss)
    b.create<tensor::ParallelInsertSliceOp>(
        loc, newLoss, forall.getRegionIterArgs()[1], lossOffsets, ones, ones);
  return {forall.getResult(0), withLoss ? forall.getResult(1) : Value()};
}

/// The gradient of `loss` later in its block that one fused kernel can
/// compute with it (an nn.cross_entropy_loss_grad of the same operands and
/// attributes), and where that kernel goes: at the gradient, when nothing
/// uses the loss before it, else at the loss, when the gradient's dL/dloss
/// is defined before the loss. Null when there is none.
static std::pair<CrossEntropyLossGradOp, Operation *>
fusibleGradient(CrossEntropyLossOp loss) {
  Block *block = loss->getBlock();
  for (Operation *user : loss.getInput().getUsers()) {
    auto grad = dyn_cast<CrossEntropyLossGradOp>(user);
    if (!grad || grad->getBlock() != block || !loss->isBeforeInBlock(grad) ||
        grad.getInput() != loss.getInput() ||
        grad.getTarget() != loss.getTarget() ||
        grad.getCount() != loss.getCount() ||
        grad.getIgnoreIndex() != loss.getIgnoreIndex() ||
        grad.getLabelSmoothing() != loss.getLabelSmoothing())
      continue;
    if (llvm::all_of(loss->getUsers(), [&](Operation *lossUser) {
          Operation *top = block->findAncestorOpInBlock(*lossUser);
          return top && grad->isBeforeInBlock(top);
        }))
      return {grad, grad};
    Value dl = grad.getGrad();
    Operation *def = dl.getDefiningOp();
    bool before =
        def ? def->getBlock() == block && def->isBeforeInBlock(loss)
            : dl.getParentBlock() == block ||
                  dl.getParentRegion()->isProperAncestor(block->getParent());
    if (before)
      return {grad, loss};
  }
  return {};
}

/// Lowers a cross-entropy loss. With its gradient (fusibleGradient): the
/// count of positions that count (from the targets), the fused softmax,
/// loss and gradient kernel (fusedCrossEntropy), and the sum of its
/// per-position losses. Alone: the statistics of its logits (one online
/// pass), then one reduction over the positions, which reads each target's
/// logit and counts the positions that count.
struct CrossEntropyLossLowering : public OpRewritePattern<CrossEntropyLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyLossOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    RankedTensorType type = tensorType(x);
    Type elem = type.getElementType();
    int64_t classes = type.getShape().back();
    int64_t leadRank = type.getRank() - 1;
    double smoothing = op.getLabelSmoothing().convertToDouble();
    int64_t ignore = op.getIgnoreIndex();

    if (auto [grad, where] = fusibleGradient(op); grad) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(where);
      Value count =
          rewriter.create<tensor::ExtractOp>(loc, op.getCount(), ValueRange());
      Value counted = countedPositions(rewriter, loc, op.getTarget(), count,
                                       ignore, classes, elem);
      auto [gradient, losses] =
          fusedCrossEntropy(rewriter, grad, count, counted, /*withLoss=*/true);
      Value mean = meanLoss(rewriter, loc,
                            sumOfTerms(rewriter, loc, losses, elem,
                                       [](OpBuilder &, Location,
                                          ValueRange args) { return args[0]; }),
                            counted);
      rewriter.replaceOp(grad, gradient);
      rewriter.replaceOp(op, mean);
      return success();
    }

    Value count =
        rewriter.create<tensor::ExtractOp>(loc, op.getCount(), ValueRange());
    ClassStatistics stats = classStatistics(rewriter, loc, x, smoothing != 0.0);
    // Sum the loss of each position that counts, and count them.
    auto scalarType = RankedTensorType::get({}, elem);
    AffineMap id = rewriter.getMultiDimIdentityMap(leadRank);
    AffineMap scalar = AffineMap::get(leadRank, 0, {}, op.getContext());
    SmallVector<utils::IteratorType> iterators(leadRank,
                                               utils::IteratorType::reduction);
    SmallVector<Value> inputs = {op.getTarget(), stats.max, stats.sumExp};
    if (stats.sumX)
      inputs.push_back(stats.sumX);
    SmallVector<AffineMap> maps(inputs.size(), id);
    maps.append({scalar, scalar});
    auto sums = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{scalarType, scalarType}, inputs,
        ValueRange{emptyTensor(rewriter, loc, scalarType),
                   emptyTensor(rewriter, loc, scalarType)},
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value t = args[0];
          SmallVector<Value> indices;
          for (int64_t i = 0; i < leadRank; ++i)
            indices.push_back(b.create<linalg::IndexOp>(l, i));
          indices.push_back(clampedClass(b, l, t, classes));
          Value xt = b.create<tensor::ExtractOp>(l, x, indices);
          Value loss = positionLoss(b, l, args[1], args[2],
                                    stats.sumX ? args[3] : Value(), xt, classes,
                                    smoothing);
          Value counts = countsInLoss(b, l, count, t, ignore, classes);
          Value zero = floatConstant(b, l, elem, 0.0);
          Value one = floatConstant(b, l, elem, 1.0);
          Value lossTerm = b.create<arith::SelectOp>(l, counts, loss, zero);
          Value countTerm = b.create<arith::SelectOp>(l, counts, one, zero);
          Value lossSum = args[args.size() - 2], countSum = args.back();
          b.create<linalg::YieldOp>(
              l, ValueRange{
                     firstOr(b, l, iterators, lossTerm,
                             b.create<arith::AddFOp>(l, lossSum, lossTerm)),
                     firstOr(b, l, iterators, countTerm,
                             b.create<arith::AddFOp>(l, countSum, countTerm))});
        });
    rewriter.replaceOp(
        op, meanLoss(rewriter, loc, sums.getResult(0), sums.getResult(1)));
    return success();
  }
};

/// A cross-entropy gradient that the loss's lowering does not compute with
/// the loss: the count of the positions that count, then the fused kernel.
struct CrossEntropyLossGradLowering
    : public OpRewritePattern<CrossEntropyLossGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyLossGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getInput());
    Value count =
        rewriter.create<tensor::ExtractOp>(loc, op.getCount(), ValueRange());
    Value counted = countedPositions(
        rewriter, loc, op.getTarget(), count, op.getIgnoreIndex(),
        type.getShape().back(), type.getElementType());
    rewriter.replaceOp(op, fusedCrossEntropy(rewriter, op, count, counted,
                                             /*withLoss=*/false)
                               .first);
    return success();
  }
};

struct BCEWithLogitsLossLowering
    : public OpRewritePattern<BCEWithLogitsLossOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BCEWithLogitsLossOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType inputType = tensorType(op.getInput());
    Type elem = inputType.getElementType();
    // torch 1.13: (1 - t) * x + m + log(exp(-m) + exp(-x - m)), m = max(-x, 0).
    Value mean = meanOverRealSamples(
        rewriter, op.getLoc(), ValueRange{op.getInput(), op.getTarget()},
        op.getCount(), inputType,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value x = args[0], t = args[1];
          Value one = floatConstant(b, l, elem, 1.0);
          Value negX = b.create<arith::NegFOp>(l, x);
          Value m = b.create<arith::MaximumFOp>(l, negX,
                                                floatConstant(b, l, elem, 0.0));
          Value e = b.create<arith::AddFOp>(
              l, b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, m)),
              b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, negX, m)));
          Value linear =
              b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, one, t), x);
          return b.create<arith::AddFOp>(l,
                                         b.create<arith::AddFOp>(l, linear, m),
                                         b.create<math::LogOp>(l, e));
        });
    rewriter.replaceOp(op, mean);
    return success();
  }
};

struct BCEWithLogitsLossGradLowering
    : public OpRewritePattern<BCEWithLogitsLossGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BCEWithLogitsLossGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType inputType = tensorType(op.getInput());
    Type elem = inputType.getElementType();
    Value count =
        rewriter.create<tensor::ExtractOp>(loc, op.getCount(), ValueRange());
    Value grad =
        rewriter.create<tensor::ExtractOp>(loc, op.getGrad(), ValueRange());
    Value scale = rewriter.create<arith::DivFOp>(
        loc, grad, lossDenominator(rewriter, loc, op.getCount(), inputType));
    Value result = buildElementwise(
        rewriter, loc, inputType, ValueRange{op.getInput(), op.getTarget()},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value one = floatConstant(b, l, elem, 1.0);
          Value e =
              b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, args[0]));
          Value sigmoid = b.create<arith::DivFOp>(
              l, one, b.create<arith::AddFOp>(l, one, e));
          Value value = b.create<arith::MulFOp>(
              l, b.create<arith::SubFOp>(l, sigmoid, args[1]), scale);
          return b.create<arith::SelectOp>(l, isRealSample(b, l, count), value,
                                           floatConstant(b, l, elem, 0.0));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Lowers an op whose elementwise body needs the op itself (its attributes).
template <typename Op>
struct AttributedElementwiseLowering : public OpRewritePattern<Op> {
  using Body = std::function<Value(Op, OpBuilder &, Location, ValueRange)>;
  AttributedElementwiseLowering(MLIRContext *ctx, Body f)
      : OpRewritePattern<Op>(ctx), body(std::move(f)) {}
  LogicalResult matchAndRewrite(Op op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, buildElementwise(rewriter, op.getLoc(), tensorType(op.getResult()),
                             op->getOperands(),
                             [&](OpBuilder &b, Location l, ValueRange args) {
                               return body(op, b, l, args);
                             }));
    return success();
  }
  Body body;
};

struct ConvertNNToLinalg
    : public nncc::impl::ConvertNNToLinalgBase<ConvertNNToLinalg> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<NNDialect>();
    // Bufferization turns these into calls of the runtime.
    target.addLegalOp<AllReduceSumOp, GradientReadyOp, GradientWaitOp>();
    target.addLegalDialect<arith::ArithDialect, linalg::LinalgDialect,
                           math::MathDialect, scf::SCFDialect,
                           tensor::TensorDialect>();
    RewritePatternSet patternList(ctx);
    nncc::populateNNToLinalgPatterns(patternList);
    FrozenRewritePatternSet patterns(std::move(patternList));
    // An op of a fusion group (nn-fuse) is converted alone, so that the
    // linalg.generic ops it becomes, inserted where it was, carry its group
    // to nn-fuse-kernels.
    SmallVector<Operation *> grouped;
    getOperation()->walk([&](Operation *op) {
      if (op->hasAttr(kFusionGroupAttr))
        grouped.push_back(op);
    });
    for (Operation *op : grouped) {
      Attribute group = op->getAttr(kFusionGroupAttr);
      Block *block = op->getBlock();
      Operation *before = op->getPrevNode(), *after = op->getNextNode();
      if (failed(applyPartialConversion(op, target, patterns)))
        return signalPassFailure();
      auto first = before ? std::next(before->getIterator()) : block->begin();
      auto last = after ? after->getIterator() : block->end();
      for (Operation &created : llvm::make_range(first, last))
        if (isa<linalg::GenericOp>(created))
          created.setAttr(kFusionGroupAttr, group);
    }
    if (failed(applyPartialConversion(getOperation(), target, patterns)))
      signalPassFailure();
  }
};

} // namespace

void nncc::populateNNToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  populateTensorOpLoweringPatterns(patterns);
  populateWindowOpLoweringPatterns(patterns);
  using Args = ValueRange;
  patterns
      .add<ConstantLowering, MatMulLowering, ReshapeLowering, TransposeLowering,
           BroadcastToLowering, MSELossLowering, MSELossGradLowering,
           SGDUpdateLowering, AdamUpdateLowering, AdagradUpdateLowering,
           CrossEntropyLossLowering, CrossEntropyLossGradLowering,
           BCEWithLogitsLossLowering, BCEWithLogitsLossGradLowering,
           ONNXAdagradLowering, ONNXMomentumLowering, ONNXAdamLowering>(ctx);
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
  patterns.add<ElementwiseLowering<PowOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<math::PowFOp>(l, a[0], a[1]);
      });
  patterns.add<ElementwiseLowering<MaximumOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::MaximumFOp>(l, a[0], a[1]); // NaN wins
      });
  patterns.add<ElementwiseLowering<MinimumOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::MinimumFOp>(l, a[0], a[1]);
      });
  patterns.add<ElementwiseLowering<NegOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::NegFOp>(l, a[0]);
      });
  patterns.add<AttributedElementwiseLowering<LeakyReluOp>>(
      ctx, [](LeakyReluOp op, OpBuilder &b, Location l, Args a) -> Value {
        Type type = a[0].getType();
        Value scaled = b.create<arith::MulFOp>(
            l, floatConstant(b, l, type, op.getAlpha().convertToDouble()),
            a[0]);
        Value negative = b.create<arith::CmpFOp>(
            l, arith::CmpFPredicate::OLT, a[0], floatConstant(b, l, type, 0.0));
        return b.create<arith::SelectOp>(l, negative, scaled, a[0]);
      });
  patterns.add<AttributedElementwiseLowering<EluOp>>(
      ctx, [](EluOp op, OpBuilder &b, Location l, Args a) -> Value {
        Type type = a[0].getType();
        Value one = floatConstant(b, l, type, 1.0);
        Value below = b.create<arith::MulFOp>(
            l, floatConstant(b, l, type, op.getAlpha().convertToDouble()),
            b.create<arith::SubFOp>(l, b.create<math::ExpOp>(l, a[0]), one));
        Value positive = b.create<arith::CmpFOp>(
            l, arith::CmpFPredicate::OGT, a[0], floatConstant(b, l, type, 0.0));
        return b.create<arith::SelectOp>(l, positive, a[0], below);
      });
  patterns.add<AttributedElementwiseLowering<ActivationGradOp>>(
      ctx, [](ActivationGradOp op, OpBuilder &b, Location l, Args a) -> Value {
        Type type = a[0].getType();
        Value alpha =
            floatConstant(b, l, type, op.getAlpha().convertToDouble());
        Value slope = op.getKind() == "elu"
                          ? b.create<arith::MulFOp>(
                                 l, alpha, b.create<math::ExpOp>(l, a[0]))
                                .getResult()
                          : alpha;
        Value positive = b.create<arith::CmpFOp>(
            l, arith::CmpFPredicate::OGT, a[0], floatConstant(b, l, type, 0.0));
        return b.create<arith::SelectOp>(
            l, positive, a[1], b.create<arith::MulFOp>(l, a[1], slope));
      });
  patterns.add<AttributedElementwiseLowering<ClipOp>>(
      ctx, [](ClipOp op, OpBuilder &b, Location l, Args a) -> Value {
        // Ordered compares: NaN passes through, as PyTorch's clamp.
        Type type = a[0].getType();
        Value min = floatConstant(b, l, type, op.getMin().convertToDouble());
        Value max = floatConstant(b, l, type, op.getMax().convertToDouble());
        Value below =
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, a[0], min);
        Value above =
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0], max);
        return b.create<arith::SelectOp>(
            l, below, min, b.create<arith::SelectOp>(l, above, max, a[0]));
      });
  patterns.add<AttributedElementwiseLowering<ClipGradOp>>(
      ctx, [](ClipGradOp op, OpBuilder &b, Location l, Args a) -> Value {
        Type type = a[0].getType();
        Value min = floatConstant(b, l, type, op.getMin().convertToDouble());
        Value max = floatConstant(b, l, type, op.getMax().convertToDouble());
        Value inside = b.create<arith::AndIOp>(
            l, b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0], min),
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, a[0], max));
        return b.create<arith::SelectOp>(l, inside, a[1],
                                         floatConstant(b, l, type, 0.0));
      });
  patterns.add<ElementwiseLowering<SoftplusOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        // PyTorch's threshold: x itself above 20, where log1p(exp(x)) is x
        // in float anyway and exp would soon overflow.
        Value linear = b.create<arith::CmpFOp>(
            l, arith::CmpFPredicate::OGT, a[0],
            floatConstant(b, l, a[0].getType(), 20.0));
        Value soft =
            b.create<math::Log1pOp>(l, b.create<math::ExpOp>(l, a[0]));
        return b.create<arith::SelectOp>(l, linear, a[0], soft);
      });
  patterns.add<ElementwiseLowering<SqrtOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<math::SqrtOp>(l, a[0]);
      });
  patterns.add<ElementwiseLowering<ExpOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<math::ExpOp>(l, a[0]);
      });
  patterns.add<ElementwiseLowering<LogOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<math::LogOp>(l, a[0]);
      });
  patterns.add<ElementwiseLowering<AbsOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<math::AbsFOp>(l, a[0]);
      });
  patterns.add<ElementwiseLowering<ReciprocalOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<arith::DivFOp>(
            l, floatConstant(b, l, a[0].getType(), 1.0), a[0]);
      });
  patterns.add<ElementwiseLowering<ErfOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        return b.create<math::ErfOp>(l, a[0]);
      });
  patterns.add<ElementwiseLowering<SignOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        // PyTorch's sign: -1, 0 or 1 (and NaN for NaN).
        Type type = a[0].getType();
        Value zero = floatConstant(b, l, type, 0.0);
        Value positive = b.create<arith::SelectOp>(
            l,
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0], zero),
            floatConstant(b, l, type, 1.0), zero);
        Value negative = b.create<arith::SelectOp>(
            l,
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, a[0], zero),
            floatConstant(b, l, type, -1.0), positive);
        Value isNaN =
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, a[0], a[0]);
        return b.create<arith::SelectOp>(l, isNaN, a[0], negative);
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
        Value keep =
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UGT, a[0], zero);
        return b.create<arith::SelectOp>(l, keep, a[0], zero);
      });
  patterns.add<ElementwiseLowering<ReluGradOp>>(
      ctx, [](OpBuilder &b, Location l, Args a) -> Value {
        // PyTorch's threshold_backward: the gradient at exactly 0 is 0.
        Value zero = floatConstant(b, l, a[0].getType(), 0.0);
        Value pass =
            b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0], zero);
        return b.create<arith::SelectOp>(l, pass, a[1], zero);
      });
}
