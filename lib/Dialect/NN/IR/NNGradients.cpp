//===- NNGradients.cpp - Vector-Jacobian products of nn ops --------------===//
//
// GradientOpInterface implementations. Each builds the gradients of an op's
// operands from the gradients of its results, out of other nn ops, so the
// backward pass goes through the same verification, fusion and lowering as
// the forward pass.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace nncc::nn;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

Value nncc::nn::createScalarConstant(OpBuilder &builder, Location loc,
                                     Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  return builder.create<ConstantOp>(
      loc,
      DenseElementsAttr::get(type, builder.getFloatAttr(elementType, value)));
}

Value nncc::nn::createZeroConstant(OpBuilder &builder, Location loc,
                                   RankedTensorType type) {
  Attribute zero = builder.getZeroAttr(type.getElementType());
  return builder.create<ConstantOp>(loc, DenseElementsAttr::get(type, zero));
}

Value nncc::nn::reduceGradientToType(OpBuilder &builder, Location loc,
                                     Value grad, RankedTensorType type) {
  auto gradType = cast<RankedTensorType>(grad.getType());
  if (gradType == type)
    return grad;
  // Broadcasting prepended the leading dimensions and stretched size-1
  // dimensions: sum over exactly those, keeping the rank, then drop the
  // leading ones with a reshape.
  int64_t lead = gradType.getRank() - type.getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < gradType.getRank(); ++i) {
    if (i < lead ||
        (type.getDimSize(i - lead) == 1 && gradType.getDimSize(i) != 1))
      axes.push_back(i);
  }
  Value sum = grad;
  if (!axes.empty())
    sum = builder.create<ReduceSumOp>(loc, grad, axes, /*keep_dims=*/true);
  if (sum.getType() == type)
    return sum;
  return builder.create<ReshapeOp>(loc, sum, type.getShape());
}

static RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// The shape of a reduction of `type` over `axes` with the axes kept as 1s.
static SmallVector<int64_t> keptShape(RankedTensorType type,
                                      ArrayRef<int64_t> axes) {
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t axis : axes)
    shape[axis] = 1;
  return shape;
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  Value dy = resultGrads[0];
  grads.push_back(reduceGradientToType(b, getLoc(), dy, tensorType(getLhs())));
  grads.push_back(reduceGradientToType(b, getLoc(), dy, tensorType(getRhs())));
  return success();
}

LogicalResult SubOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  grads.push_back(reduceGradientToType(b, loc, dy, tensorType(getLhs())));
  Value neg = b.create<NegOp>(loc, dy);
  grads.push_back(reduceGradientToType(b, loc, neg, tensorType(getRhs())));
  return success();
}

LogicalResult MulOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value dl = b.create<MulOp>(loc, dy, getRhs());
  Value dr = b.create<MulOp>(loc, dy, getLhs());
  grads.push_back(reduceGradientToType(b, loc, dl, tensorType(getLhs())));
  grads.push_back(reduceGradientToType(b, loc, dr, tensorType(getRhs())));
  return success();
}

LogicalResult DivOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  // y = l / r:  dl = dy / r,  dr = -dy * l / r^2 = -(dy * y) / r.
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value dl = b.create<DivOp>(loc, dy, getRhs());
  Value dyy = b.create<MulOp>(loc, dy, getResult());
  Value dr = b.create<NegOp>(loc, b.create<DivOp>(loc, dyy, getRhs()));
  grads.push_back(reduceGradientToType(b, loc, dl, tensorType(getLhs())));
  grads.push_back(reduceGradientToType(b, loc, dr, tensorType(getRhs())));
  return success();
}

/// The share of `dy` that `nn.maximum` (or, with the operands swapped,
/// `nn.minimum`) passes to `self`: all of it where `self` is the larger,
/// half where they tie, none below, as PyTorch's maximum backward.
static Value extremumGradient(OpBuilder &b, Location loc, Value dy, Value self,
                              Value other, ComparePredicate wins) {
  Type elem = tensorType(dy).getElementType();
  Value zero = createScalarConstant(b, loc, elem, 0.0);
  Value half = createScalarConstant(b, loc, elem, 0.5);
  Value tie = b.create<SelectOp>(loc, b.create<EqualOp>(loc, self, other),
                                 b.create<MulOp>(loc, dy, half), zero);
  Value share = b.create<SelectOp>(
      loc, b.create<CompareOp>(loc, wins, self, other), dy, tie);
  return reduceGradientToType(b, loc, share, tensorType(self));
}

LogicalResult MaximumOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &grads) {
  Value dy = resultGrads[0];
  grads.push_back(extremumGradient(b, getLoc(), dy, getLhs(), getRhs(),
                                   ComparePredicate::gt));
  grads.push_back(extremumGradient(b, getLoc(), dy, getRhs(), getLhs(),
                                   ComparePredicate::gt));
  return success();
}

LogicalResult MinimumOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &grads) {
  Value dy = resultGrads[0];
  grads.push_back(extremumGradient(b, getLoc(), dy, getLhs(), getRhs(),
                                   ComparePredicate::lt));
  grads.push_back(extremumGradient(b, getLoc(), dy, getRhs(), getLhs(),
                                   ComparePredicate::lt));
  return success();
}

LogicalResult NegOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<NegOp>(getLoc(), resultGrads[0]));
  return success();
}

LogicalResult SqrtOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &grads) {
  // dx = dy / (2 y), as PyTorch's sqrt backward.
  Location loc = getLoc();
  Value y = getResult();
  Value two = createScalarConstant(b, loc, tensorType(y).getElementType(), 2.0);
  grads.push_back(
      b.create<DivOp>(loc, resultGrads[0], b.create<MulOp>(loc, two, y)));
  return success();
}

LogicalResult ExpOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<MulOp>(getLoc(), resultGrads[0], getResult()));
  return success();
}

LogicalResult LogOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<DivOp>(getLoc(), resultGrads[0], getInput()));
  return success();
}

LogicalResult AbsOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  // dx = dy * sign(x): 0 at 0, as PyTorch.
  Location loc = getLoc();
  grads.push_back(
      b.create<MulOp>(loc, resultGrads[0], b.create<SignOp>(loc, getInput())));
  return success();
}

LogicalResult ReciprocalOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                          SmallVectorImpl<Value> &grads) {
  // y = 1/x: dx = -dy * y^2.
  Location loc = getLoc();
  Value y = getResult();
  Value scaled =
      b.create<MulOp>(loc, resultGrads[0], b.create<MulOp>(loc, y, y));
  grads.push_back(b.create<NegOp>(loc, scaled));
  return success();
}

LogicalResult ErfOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  // dx = dy * 2 / sqrt(pi) * exp(-x^2).
  Location loc = getLoc();
  Value x = getInput();
  Type elem = tensorType(x).getElementType();
  Value negSquare = b.create<NegOp>(loc, b.create<MulOp>(loc, x, x));
  Value slope = b.create<MulOp>(
      loc, createScalarConstant(b, loc, elem, 1.1283791670955126),
      b.create<ExpOp>(loc, negSquare));
  grads.push_back(b.create<MulOp>(loc, resultGrads[0], slope));
  return success();
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

LogicalResult TanhOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &grads) {
  // dx = dy * (1 - y^2), from the result as PyTorch's tanh_backward does.
  Location loc = getLoc();
  Value y = getResult();
  Value one = createScalarConstant(b, loc, tensorType(y).getElementType(), 1.0);
  Value ySquared = b.create<MulOp>(loc, y, y);
  Value slope = b.create<SubOp>(loc, one, ySquared);
  grads.push_back(b.create<MulOp>(loc, resultGrads[0], slope));
  return success();
}

LogicalResult SigmoidOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &grads) {
  // dx = dy * y * (1 - y), as PyTorch's sigmoid_backward.
  Location loc = getLoc();
  Value y = getResult();
  Value one = createScalarConstant(b, loc, tensorType(y).getElementType(), 1.0);
  Value slope = b.create<MulOp>(loc, y, b.create<SubOp>(loc, one, y));
  grads.push_back(b.create<MulOp>(loc, resultGrads[0], slope));
  return success();
}

LogicalResult LeakyReluOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                         SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<ActivationGradOp>(
      getLoc(), getInput(), resultGrads[0], b.getStringAttr("leaky_relu"),
      getAlphaAttr()));
  return success();
}

LogicalResult EluOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  grads.push_back(
      b.create<ActivationGradOp>(getLoc(), getInput(), resultGrads[0],
                                 b.getStringAttr("elu"), getAlphaAttr()));
  return success();
}

LogicalResult ClipOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<ClipGradOp>(getLoc(), getInput(), resultGrads[0],
                                       getMinAttr(), getMaxAttr()));
  return success();
}

LogicalResult SoftplusOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                        SmallVectorImpl<Value> &grads) {
  // dx = dy * sigmoid(x): PyTorch's softplus_backward, exp(x) / (exp(x) + 1),
  // which is exactly 1 in float above its threshold of 20.
  Location loc = getLoc();
  grads.push_back(b.create<MulOp>(loc, resultGrads[0],
                                  b.create<SigmoidOp>(loc, getInput())));
  return success();
}

LogicalResult ReluOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &grads) {
  // From the output, as PyTorch's threshold_backward: relu(x) > 0 exactly
  // where x > 0, and the input is then dead after the forward relu, so a
  // fused bias and relu stores one tensor, not two.
  grads.push_back(b.create<ReluGradOp>(getLoc(), getResult(), resultGrads[0]));
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                      SmallVectorImpl<Value> &grads) {
  // Y = op(A) op(B). With G = dY: d op(A) = G op(B)^T and d op(B) = op(A)^T G;
  // a transposed operand takes the transpose of its gradient. Each case is one
  // matmul with the right transposition flags, never an explicit transpose.
  Location loc = getLoc();
  Value a = getLhs(), bv = getRhs(), g = resultGrads[0];
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  Value da = ta ? b.create<MatMulOp>(loc, bv, g, /*transpose_lhs=*/tb,
                                     /*transpose_rhs=*/true)
                : b.create<MatMulOp>(loc, g, bv, /*transpose_lhs=*/false,
                                     /*transpose_rhs=*/!tb);
  Value db = tb ? b.create<MatMulOp>(loc, g, a, /*transpose_lhs=*/true,
                                     /*transpose_rhs=*/ta)
                : b.create<MatMulOp>(loc, a, g, /*transpose_lhs=*/!ta,
                                     /*transpose_rhs=*/false);
  // Batch dimensions that an operand was broadcast along sum back.
  grads.push_back(reduceGradientToType(b, loc, da, tensorType(a)));
  grads.push_back(reduceGradientToType(b, loc, db, tensorType(bv)));
  return success();
}

//===----------------------------------------------------------------------===//
// Shapes and reductions
//===----------------------------------------------------------------------===//

LogicalResult ReduceSumOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                         SmallVectorImpl<Value> &grads) {
  // Every input element contributes once to its sum: broadcast the gradient
  // back, after restoring the reduced axes as size-1 dimensions.
  Location loc = getLoc();
  RankedTensorType inputType = tensorType(getInput());
  SmallVector<int64_t> kept = keptShape(inputType, getAxes());
  Value dy = resultGrads[0];
  if (tensorType(dy).getShape() != ArrayRef<int64_t>(kept))
    dy = b.create<ReshapeOp>(loc, dy, kept);
  grads.push_back(b.create<BroadcastToOp>(loc, dy, inputType.getShape()));
  return success();
}

LogicalResult ReshapeOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<ReshapeOp>(getLoc(), resultGrads[0],
                                      tensorType(getInput()).getShape()));
  return success();
}

LogicalResult TransposeOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                         SmallVectorImpl<Value> &grads) {
  // The gradient goes back through the inverse permutation.
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  grads.push_back(b.create<TransposeOp>(getLoc(), resultGrads[0], inverse));
  return success();
}

LogicalResult BroadcastToOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                           SmallVectorImpl<Value> &grads) {
  grads.push_back(reduceGradientToType(b, getLoc(), resultGrads[0],
                                       tensorType(getInput())));
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

LogicalResult MSELossOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  grads.push_back(b.create<MSELossGradOp>(loc, getInput(), getTarget(),
                                          getCount(), resultGrads[0]));
  // The target is data: PyTorch's MSELoss does not differentiate it either in
  // a training loop, and the count is an integer.
  grads.push_back(Value());
  grads.push_back(Value());
  return success();
}

LogicalResult CrossEntropyLossOp::buildGradient(OpBuilder &b,
                                                ValueRange resultGrads,
                                                SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<CrossEntropyLossGradOp>(
      getLoc(), getInput(), getTarget(), getCount(), resultGrads[0],
      getIgnoreIndexAttr(), getLabelSmoothingAttr()));
  grads.push_back(Value()); // Class indices.
  grads.push_back(Value());
  return success();
}

LogicalResult
BCEWithLogitsLossOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<BCEWithLogitsLossGradOp>(
      getLoc(), getInput(), getTarget(), getCount(), resultGrads[0]));
  grads.push_back(Value()); // Targets are data.
  grads.push_back(Value());
  return success();
}

//===----------------------------------------------------------------------===//
// Power, softmax, max
//===----------------------------------------------------------------------===//

LogicalResult PowOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                   SmallVectorImpl<Value> &grads) {
  // y = l^r: dl = dy * r * l^(r-1), dr = dy * y * log(l).
  Location loc = getLoc();
  Value dy = resultGrads[0], l = getLhs(), r = getRhs();
  Type elem = tensorType(l).getElementType();
  Value rMinusOne =
      b.create<SubOp>(loc, r, createScalarConstant(b, loc, elem, 1.0));
  Value dl = b.create<MulOp>(
      loc, dy, b.create<MulOp>(loc, r, b.create<PowOp>(loc, l, rMinusOne)));
  Value dr = b.create<MulOp>(loc, b.create<MulOp>(loc, dy, getResult()),
                             b.create<LogOp>(loc, l));
  grads.push_back(reduceGradientToType(b, loc, dl, tensorType(l)));
  grads.push_back(reduceGradientToType(b, loc, dr, tensorType(r)));
  return success();
}

LogicalResult SoftmaxOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &grads) {
  // dx = y * (dy - sum(dy * y)) along the axis.
  Location loc = getLoc();
  Value y = getResult(), dy = resultGrads[0];
  Value dot =
      b.create<ReduceSumOp>(loc, b.create<MulOp>(loc, dy, y),
                            ArrayRef<int64_t>{static_cast<int64_t>(getAxis())},
                            /*keep_dims=*/true);
  grads.push_back(b.create<MulOp>(loc, y, b.create<SubOp>(loc, dy, dot)));
  return success();
}

LogicalResult LogSoftmaxOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                          SmallVectorImpl<Value> &grads) {
  // dx = dy - exp(y) * sum(dy) along the axis.
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value sum = b.create<ReduceSumOp>(
      loc, dy, ArrayRef<int64_t>{static_cast<int64_t>(getAxis())},
      /*keep_dims=*/true);
  Value softmax = b.create<ExpOp>(loc, getResult());
  grads.push_back(b.create<SubOp>(loc, dy, b.create<MulOp>(loc, softmax, sum)));
  return success();
}

LogicalResult ReduceMaxOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                         SmallVectorImpl<Value> &grads) {
  // The gradient goes to the maxima, split evenly among ties.
  Location loc = getLoc();
  RankedTensorType inputType = tensorType(getInput());
  SmallVector<int64_t> kept = keptShape(inputType, getAxes());
  Value y = b.createOrFold<ReshapeOp>(loc, getResult(), kept);
  Value dy = b.createOrFold<ReshapeOp>(loc, resultGrads[0], kept);
  Value isMax = b.create<EqualOp>(loc, getInput(), y);
  Value mask = b.create<CastOp>(loc, inputType, isMax);
  Value ties = b.create<ReduceSumOp>(loc, mask, getAxes(), /*keep_dims=*/true);
  grads.push_back(b.create<MulOp>(loc, mask, b.create<DivOp>(loc, dy, ties)));
  return success();
}

//===----------------------------------------------------------------------===//
// Indexing and selection
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                      SmallVectorImpl<Value> &grads) {
  // Each input's gradient is its slice of the result's.
  Location loc = getLoc();
  int64_t axis = getAxis(), offset = 0;
  for (Value input : getInputs()) {
    RankedTensorType type = tensorType(input);
    SmallVector<int64_t> starts(type.getRank(), 0), strides(type.getRank(), 1);
    starts[axis] = offset;
    offset += type.getDimSize(axis);
    if (!isa<FloatType>(type.getElementType())) {
      grads.push_back(Value());
      continue;
    }
    grads.push_back(b.create<SliceOp>(loc, resultGrads[0], starts,
                                      type.getShape(), strides));
  }
  return success();
}

LogicalResult SliceOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                     SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<SliceGradOp>(getLoc(), resultGrads[0],
                                        tensorType(getInput()).getShape(),
                                        getStarts(), getStrides()));
  return success();
}

LogicalResult SliceGradOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                         SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<SliceOp>(getLoc(), resultGrads[0], getStarts(),
                                    tensorType(getGrad()).getShape(),
                                    getStrides()));
  return success();
}

LogicalResult ReverseOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<ReverseOp>(getLoc(), resultGrads[0], getAxes()));
  return success();
}

LogicalResult GatherOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                      SmallVectorImpl<Value> &grads) {
  // Scatter-add: a row read several times sums its gradients.
  grads.push_back(b.create<GatherGradOp>(getLoc(), resultGrads[0], getIndices(),
                                         tensorType(getInput()).getShape(),
                                         getAxis()));
  grads.push_back(Value()); // Indices are integers.
  return success();
}

LogicalResult SelectOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                      SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value zero =
      createScalarConstant(b, loc, tensorType(dy).getElementType(), 0.0);
  Value dt = b.create<SelectOp>(loc, getCondition(), dy, zero);
  Value df = b.create<SelectOp>(loc, getCondition(), zero, dy);
  grads.push_back(Value()); // No gradient to the condition.
  grads.push_back(reduceGradientToType(b, loc, dt, tensorType(getTrueValue())));
  grads.push_back(
      reduceGradientToType(b, loc, df, tensorType(getFalseValue())));
  return success();
}

LogicalResult CastOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &grads) {
  // Only a conversion between floats carries a gradient.
  RankedTensorType inputType = tensorType(getInput());
  if (isa<FloatType>(inputType.getElementType()) &&
      isa<FloatType>(getType().getElementType()))
    grads.push_back(
        b.createOrFold<CastOp>(getLoc(), inputType, resultGrads[0]));
  else
    grads.push_back(Value());
  return success();
}

LogicalResult TriluOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                     SmallVectorImpl<Value> &grads) {
  grads.push_back(
      b.create<TriluOp>(getLoc(), resultGrads[0], getK(), getUpper()));
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &grads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  grads.push_back(b.create<ConvGradInputOp>(
      loc, dy, getWeight(), tensorType(getInput()).getShape(), getStrides(),
      getPads(), getDilations(), getGroups()));
  grads.push_back(b.create<ConvGradWeightOp>(
      loc, getInput(), dy, tensorType(getWeight()).getShape(), getStrides(),
      getPads(), getDilations(), getGroups()));
  return success();
}

LogicalResult PoolOp::buildGradient(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<PoolGradOp>(getLoc(), getKind(), getInput(),
                                       resultGrads[0], getKernel(),
                                       getStrides(), getPads(), getDilations(),
                                       getCeilMode(), getCountIncludePad()));
  return success();
}
