//===- ImportMathOps.cpp - ONNX clamps, extrema, masks, tiling ------------===//
//
// Importers of Clip and the activations built on it (HardSigmoid,
// HardSwish), Selu, PRelu, the variadic Max, Min, Sum and Mean, the orderings
// (Less, Greater and their -OrEqual forms) and boolean logic (And, Or, Xor,
// Not), Tile and InstanceNormalization. Those that ONNX defines as a
// composition import as that composition of nn ops, whose gradients are
// PyTorch's.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include <limits>

using namespace mlir;
using namespace nncc;
using namespace nncc::nn;
using namespace nncc::onnx_import;

//===----------------------------------------------------------------------===//
// Clip and the clamped activations
//===----------------------------------------------------------------------===//

/// A clip of `x` to [min, max]; ONNX (and PyTorch) clamp to `max` where the
/// bounds cross.
static Value createClip(OpBuilder &builder, Location loc, Value x, double min,
                        double max) {
  return builder.create<ClipOp>(loc, x, llvm::APFloat(std::min(min, max)),
                                llvm::APFloat(max));
}

LogicalResult Importer::importClip(const onnx::NodeProto &node, Location loc) {
  NodeAttributes attrs(node);
  // Before opset 11 the bounds are attributes, since then optional inputs.
  bool asInputs = opsetVersion >= 11;
  if (failed(checkArity(node, loc, 1, asInputs ? 3 : 1)) ||
      failed(attrs.checkKnown(
          loc, node, asInputs ? ArrayRef<StringRef>{} : ArrayRef<StringRef>{
                                                            "min", "max"})))
    return failure();
  FailureOr<Value> x = floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  double bounds[2] = {-std::numeric_limits<double>::infinity(),
                      std::numeric_limits<double>::infinity()};
  if (!asInputs) {
    FailureOr<float> min = attrs.getFloat(
        loc, "min", std::numeric_limits<float>::lowest());
    FailureOr<float> max =
        attrs.getFloat(loc, "max", std::numeric_limits<float>::max());
    if (failed(min) || failed(max))
      return failure();
    bounds[0] = *min;
    bounds[1] = *max;
  }
  for (int i = 1; asInputs && i <= 2; ++i) {
    if (!hasInput(node, i))
      continue;
    FailureOr<DenseElementsAttr> bound = constantOperand(node, i, loc);
    if (failed(bound))
      return failure();
    if (bound->getNumElements() != 1 ||
        bound->getElementType() != tensorType(*x).getElementType())
      return emitError(loc) << "Clip " << (i == 1 ? "min" : "max") << " ('"
                            << node.input(i) << "') must be one "
                            << tensorType(*x).getElementType()
                            << ", like the input";
    bounds[i - 1] = (*bound->value_begin<APFloat>()).convertToDouble();
  }
  if (std::isnan(bounds[0]) || std::isnan(bounds[1]))
    return emitError(loc) << "Clip bound is NaN";
  return define(node, loc, createClip(builder, loc, *x, bounds[0], bounds[1]));
}

/// `max(0, min(1, alpha * x + beta))`.
static Value createHardSigmoid(OpBuilder &builder, Location loc, Value x,
                               double alpha, double beta) {
  Type elem = tensorType(x).getElementType();
  Value scaled = builder.create<MulOp>(
      loc, x, createScalarConstant(builder, loc, elem, alpha));
  Value shifted = builder.create<AddOp>(
      loc, scaled, createScalarConstant(builder, loc, elem, beta));
  return createClip(builder, loc, shifted, 0.0, 1.0);
}

LogicalResult Importer::importHardSigmoid(const onnx::NodeProto &node,
                                          Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"alpha", "beta"})))
    return failure();
  FailureOr<float> alpha = attrs.getFloat(loc, "alpha", 0.2f);
  FailureOr<float> beta = attrs.getFloat(loc, "beta", 0.5f);
  FailureOr<Value> x = failed(alpha) || failed(beta)
                           ? FailureOr<Value>(failure())
                           : floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  return define(node, loc,
                createHardSigmoid(builder, loc, *x, *alpha, *beta));
}

LogicalResult Importer::importHardSwish(const onnx::NodeProto &node,
                                        Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> x = floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  // x * HardSigmoid(x) with alpha 1/6 and beta 1/2, as ONNX defines it.
  Value gate = createHardSigmoid(builder, loc, *x, 1.0 / 6.0, 0.5);
  return define(node, loc, builder.create<MulOp>(loc, *x, gate));
}

/// `gamma * elu(x, alpha)`, ONNX's defaults those of torch.nn.SELU.
LogicalResult Importer::importSelu(const onnx::NodeProto &node, Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"alpha", "gamma"})))
    return failure();
  FailureOr<float> alpha =
      attrs.getFloat(loc, "alpha", 1.67326319217681884765625f);
  FailureOr<float> gamma =
      attrs.getFloat(loc, "gamma", 1.05070102214813232421875f);
  FailureOr<Value> x = failed(alpha) || failed(gamma)
                           ? FailureOr<Value>(failure())
                           : floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  Value elu = builder.create<EluOp>(loc, *x, llvm::APFloat(double(*alpha)));
  Type elem = tensorType(*x).getElementType();
  return define(node, loc,
                builder.create<MulOp>(
                    loc, elu, createScalarConstant(builder, loc, elem, *gamma)));
}

/// `x > 0 ? x : slope * x`, the slope (a learned initializer, as
/// torch.nn.PReLU exports it) broadcast to x's shape. At 0 the gradient
/// is the slope's side, as PyTorch's.
LogicalResult Importer::importPRelu(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<SmallVector<Value>> operands = floatOperands(node, 2, loc);
  if (failed(operands))
    return failure();
  Value x = (*operands)[0], slope = (*operands)[1];
  ArrayRef<int64_t> shape = tensorType(x).getShape();
  FailureOr<SmallVector<int64_t>> broadcast =
      broadcastShapes(shape, tensorType(slope).getShape());
  if (failed(broadcast) || ArrayRef<int64_t>(*broadcast) != shape)
    return emitError(loc) << "PRelu slope ('" << node.input(1)
                          << "') of shape "
                          << shapeString(tensorType(slope).getShape())
                          << " does not broadcast to the input's "
                          << shapeString(shape);
  Type elem = tensorType(x).getElementType();
  Value positive = builder.create<CompareOp>(
      loc, ComparePredicate::gt, x,
      createScalarConstant(builder, loc, elem, 0.0));
  Value scaled = builder.create<MulOp>(loc, slope, x);
  return define(node, loc,
                builder.create<SelectOp>(loc, positive, x, scaled));
}

//===----------------------------------------------------------------------===//
// Variadic Max, Min, Sum, Mean
//===----------------------------------------------------------------------===//

LogicalResult Importer::importVariadic(const onnx::NodeProto &node,
                                       Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, std::numeric_limits<int>::max())) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  StringRef opType = node.op_type();
  SmallVector<Value> operands;
  for (int i = 0; i < node.input_size(); ++i) {
    FailureOr<Value> v = lookup(node.input(i), loc);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  // Booleans are not numbers here (ONNX does not define these ops on them).
  bool integers = llvm::all_of(operands, [](Value v) {
    Type elem = tensorType(v).getElementType();
    return isa<IntegerType>(elem) && !elem.isInteger(1);
  });
  if (integers && opType == "Mean")
    return emitError(loc) << "Mean of integers is not supported";
  // Shape computations fold, left to right; Sum folds as Add.
  Value result = operands.front();
  for (Value next : llvm::drop_begin(operands)) {
    if (integers) {
      FailureOr<Value> folded = foldIntegerBinary(
          node, loc, opType == "Sum" ? StringRef("Add") : opType, result,
          next);
      if (failed(folded))
        return failure();
      result = *folded;
      continue;
    }
    if (tensorType(next).getElementType() !=
            tensorType(result).getElementType() ||
        !isa<FloatType>(tensorType(next).getElementType()))
      return emitError(loc) << opType << " operands must all be floats of one "
                            << "type (or integer constants)";
    FailureOr<Value> combined = broadcastBinary(
        opType, loc, result, next, [&](Value l, Value r) -> Value {
          if (opType == "Max")
            return builder.create<MaximumOp>(loc, l, r);
          if (opType == "Min")
            return builder.create<MinimumOp>(loc, l, r);
          return builder.create<AddOp>(loc, l, r);
        });
    if (failed(combined))
      return failure();
    result = *combined;
  }
  if (!integers && !isa<FloatType>(tensorType(result).getElementType()))
    return emitError(loc) << opType << " input 0 ('" << node.input(0)
                          << "') has element type "
                          << tensorType(result).getElementType()
                          << "; only float tensors are supported";
  if (opType == "Mean" && operands.size() > 1)
    result = builder.create<MulOp>(
        loc, result,
        createScalarConstant(builder, loc, tensorType(result).getElementType(),
                             1.0 / static_cast<double>(operands.size())));
  return define(node, loc, result);
}

//===----------------------------------------------------------------------===//
// Orderings and boolean logic
//===----------------------------------------------------------------------===//

/// The two operands of a comparison or logic op: of one element type
/// (`i1` when `boolean`), with broadcast-compatible shapes.
static FailureOr<std::pair<Value, Value>>
checkedPair(const onnx::NodeProto &node, Location loc, Value lhs, Value rhs,
            bool boolean) {
  Type l = tensorType(lhs).getElementType(), r = tensorType(rhs).getElementType();
  if (l != r)
    return emitError(loc) << node.op_type() << " operands have different "
                          << "element types " << l << " and " << r;
  if (boolean && !l.isInteger(1))
    return emitError(loc) << node.op_type() << " operands must be BOOL, not "
                          << l;
  if (failed(broadcastShapes(tensorType(lhs).getShape(),
                             tensorType(rhs).getShape())))
    return emitError(loc) << node.op_type() << " operands of shapes "
                          << shapeString(tensorType(lhs).getShape()) << " and "
                          << shapeString(tensorType(rhs).getShape())
                          << " are not broadcast-compatible";
  return std::make_pair(lhs, rhs);
}

LogicalResult Importer::importCompare(const onnx::NodeProto &node,
                                      Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> lhs = lookup(node.input(0), loc);
  FailureOr<Value> rhs =
      failed(lhs) ? FailureOr<Value>(failure()) : lookup(node.input(1), loc);
  if (failed(rhs))
    return failure();
  FailureOr<std::pair<Value, Value>> pair =
      checkedPair(node, loc, *lhs, *rhs, /*boolean=*/false);
  if (failed(pair))
    return failure();
  ComparePredicate predicate =
      llvm::StringSwitch<ComparePredicate>(node.op_type())
          .Case("Less", ComparePredicate::lt)
          .Case("LessOrEqual", ComparePredicate::le)
          .Case("Greater", ComparePredicate::gt)
          .Default(ComparePredicate::ge);
  return define(node, loc,
                builder.createOrFold<CompareOp>(loc, predicate, pair->first,
                                                pair->second));
}

LogicalResult Importer::importLogic(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  bool isNot = node.op_type() == "Not";
  if (failed(checkArity(node, loc, isNot ? 1 : 2, isNot ? 1 : 2)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> lhs = lookup(node.input(0), loc);
  if (failed(lhs))
    return failure();
  if (isNot) {
    if (!tensorType(*lhs).getElementType().isInteger(1))
      return emitError(loc) << "Not input must be BOOL, not "
                            << tensorType(*lhs).getElementType();
    return define(node, loc, builder.createOrFold<NotOp>(loc, *lhs));
  }
  FailureOr<Value> rhs = lookup(node.input(1), loc);
  if (failed(rhs))
    return failure();
  FailureOr<std::pair<Value, Value>> pair =
      checkedPair(node, loc, *lhs, *rhs, /*boolean=*/true);
  if (failed(pair))
    return failure();
  LogicKind kind = llvm::StringSwitch<LogicKind>(node.op_type())
                       .Case("And", LogicKind::And)
                       .Case("Or", LogicKind::Or)
                       .Default(LogicKind::Xor);
  return define(node, loc,
                builder.createOrFold<LogicOp>(loc, kind, pair->first,
                                              pair->second));
}

//===----------------------------------------------------------------------===//
// Tile
//===----------------------------------------------------------------------===//

LogicalResult Importer::importTile(const onnx::NodeProto &node, Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  FailureOr<SmallVector<int64_t>> repeats =
      failed(x) ? FailureOr<SmallVector<int64_t>>(failure())
                : constantInts(node, 1, loc);
  if (failed(repeats))
    return failure();
  ArrayRef<int64_t> shape = tensorType(*x).getShape();
  if (repeats->size() != shape.size() ||
      llvm::any_of(*repeats, [](int64_t r) { return r < 0; }))
    return emitError(loc) << "Tile repeats " << shapeString(*repeats)
                          << " must be one count (0 or more) per dimension of "
                          << shapeString(shape);
  // Each repeated dimension d becomes [r, d] (a new 1 stretched to r), then
  // the pairs merge to r * d: the input's copies follow each other.
  SmallVector<int64_t> split, stretched, result;
  for (auto [d, r] : llvm::zip(shape, *repeats)) {
    if (r != 1) {
      split.push_back(1);
      stretched.push_back(r);
    }
    split.push_back(d);
    stretched.push_back(d);
    int64_t size;
    if (llvm::MulOverflow(d, r, size))
      return emitError(loc) << "Tile result is too large";
    result.push_back(size);
  }
  if (static_cast<int64_t>(stretched.size()) > 2 * options.maxRank ||
      product(result) > options.maxElements)
    return emitError(loc) << "Tile to " << shapeString(result)
                          << " exceeds the size limits";
  Value y = builder.createOrFold<ReshapeOp>(loc, *x, split);
  y = builder.createOrFold<BroadcastToOp>(loc, y, stretched);
  return define(node, loc, builder.createOrFold<ReshapeOp>(loc, y, result));
}

//===----------------------------------------------------------------------===//
// InstanceNormalization
//===----------------------------------------------------------------------===//

LogicalResult Importer::importInstanceNorm(const onnx::NodeProto &node,
                                           Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 3, 3)) ||
      failed(attrs.checkKnown(loc, node, {"epsilon"})))
    return failure();
  FailureOr<float> epsilon = attrs.getFloat(loc, "epsilon", 1e-5f);
  if (failed(epsilon))
    return failure();
  FailureOr<Value> x = floatOperandOfRank(node, 0, loc, 3);
  if (failed(x))
    return failure();
  FailureOr<SmallVector<Value>> affine = floatOperands(node, 3, loc);
  if (failed(affine))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t channels = type.getDimSize(1), rank = type.getRank();
  for (Value v : {(*affine)[1], (*affine)[2]})
    if (tensorType(v).getShape() != ArrayRef<int64_t>{channels} ||
        tensorType(v).getElementType() != type.getElementType())
      return emitError(loc) << "InstanceNormalization scale and bias must be "
                            << "vectors of the " << channels
                            << " channels of " << shapeString(type.getShape());
  // Each sample's channel normalized over its spatial positions, then the
  // per-channel scale and bias, as [C, 1, ...].
  SmallVector<int64_t> spatialAxes, channelShape = {channels};
  for (int64_t i = 2; i < rank; ++i) {
    spatialAxes.push_back(i);
    channelShape.push_back(1);
  }
  Value normalized = normalizeOver(loc, *x, spatialAxes, *epsilon);
  Value scale =
      builder.createOrFold<ReshapeOp>(loc, (*affine)[1], channelShape);
  Value bias = builder.createOrFold<ReshapeOp>(loc, (*affine)[2], channelShape);
  return define(node, loc,
                builder.create<AddOp>(
                    loc, builder.create<MulOp>(loc, normalized, scale), bias));
}
