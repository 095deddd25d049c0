//===- ImportTensorOps.cpp - ONNX indexing, selection, softmax -----------===//
//
// Importers of the ONNX ops that reduce, normalize, reshape, pick and
// compare: ReduceSum/Mean/Max, Softmax, LogSoftmax, LayerNormalization,
// Squeeze, Unsqueeze, Expand, Concat, Split, Slice, Gather, Where, Equal,
// Cast, Shape, ConstantOfShape, Range, Trilu and Dropout.
//
// Ops on constants fold as they are built (OpBuilder::createOrFold), so the
// shape subgraphs that PyTorch exports (Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape) become constants once the batch is bound.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MathExtras.h"

#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace nncc;
using namespace nncc::nn;
using namespace nncc::onnx_import;

static SmallVector<int64_t> intsOf(DenseElementsAttr attr) {
  SmallVector<int64_t> ints;
  bool isBool = attr.getElementType().isInteger(1);
  for (const APInt &v : attr.getValues<APInt>())
    ints.push_back(isBool ? v.getZExtValue() : v.getSExtValue());
  return ints;
}

/// The linear position in `shape` of the element that a broadcast to a
/// tensor of rank `index.size()` reads at `index`.
static int64_t broadcastPosition(ArrayRef<int64_t> shape,
                                 ArrayRef<int64_t> index) {
  int64_t lead = index.size() - shape.size(), position = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    position = position * shape[i] + (shape[i] == 1 ? 0 : index[i + lead]);
  return position;
}

FailureOr<Value> Importer::foldIntegerBinary(const onnx::NodeProto &node,
                                             Location loc, StringRef opType,
                                             Value lhs, Value rhs) {
  auto lhsConst = lhs.getDefiningOp<ConstantOp>();
  auto rhsConst = rhs.getDefiningOp<ConstantOp>();
  if (!lhsConst || !rhsConst)
    return emitError(loc) << opType << " of integers computed at run "
                          << "time is not supported (only shape arithmetic "
                             "on constants)";
  RankedTensorType lt = tensorType(lhs), rt = tensorType(rhs);
  if (lt.getElementType() != rt.getElementType())
    return emitError(loc) << opType << " operands have different "
                          << "element types " << lt.getElementType() << " and "
                          << rt.getElementType();
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(lt.getShape(), rt.getShape());
  if (failed(shape))
    return emitError(loc) << opType << " operands of shapes "
                          << shapeString(lt.getShape()) << " and "
                          << shapeString(rt.getShape())
                          << " are not broadcast-compatible";
  if (product(*shape) > options.maxElements)
    return emitError(loc) << opType << " result is too large";
  SmallVector<int64_t> l = intsOf(cast<DenseElementsAttr>(lhsConst.getValue()));
  SmallVector<int64_t> r = intsOf(cast<DenseElementsAttr>(rhsConst.getValue()));
  SmallVector<int64_t> result, index(shape->size(), 0);
  for (int64_t i = 0, n = product(*shape); i < n; ++i) {
    int64_t rest = i;
    for (int64_t d = shape->size() - 1; d >= 0; --d) {
      index[d] = rest % (*shape)[d];
      rest /= (*shape)[d];
    }
    int64_t a = l[broadcastPosition(lt.getShape(), index)];
    int64_t b = r[broadcastPosition(rt.getShape(), index)];
    int64_t value = 0;
    bool overflow = false;
    if (opType == "Add")
      overflow = llvm::AddOverflow(a, b, value);
    else if (opType == "Sub")
      overflow = llvm::SubOverflow(a, b, value);
    else if (opType == "Mul")
      overflow = llvm::MulOverflow(a, b, value);
    else if (opType == "Max")
      value = std::max(a, b);
    else if (opType == "Min")
      value = std::min(a, b);
    else if (b == 0 || (a == INT64_MIN && b == -1))
      return emitError(loc) << "integer division of " << a << " by " << b;
    else
      value = a / b; // ONNX's integer Div truncates, as C does.
    if (overflow)
      return emitError(loc) << "integer " << opType << " of " << a
                            << " and " << b << " overflows";
    result.push_back(value);
  }
  auto type = RankedTensorType::get(*shape, lt.getElementType());
  SmallVector<APInt> values;
  for (int64_t v : result)
    values.push_back(APInt(lt.getElementType().getIntOrFloatBitWidth(), v,
                           /*isSigned=*/true));
  return builder
      .create<ConstantOp>(loc, DenseElementsAttr::get(type, values))
      .getResult();
}

//===----------------------------------------------------------------------===//
// Reductions, softmax, layer normalization
//===----------------------------------------------------------------------===//

LogicalResult Importer::importReduce(const onnx::NodeProto &node,
                                     Location loc) {
  NodeAttributes attrs(node);
  StringRef opType = node.op_type();
  // Opset 13 moved ReduceSum's axes from an attribute to an optional input
  // (the others move at opset 18).
  bool axesInput = opType == "ReduceSum" && opsetVersion >= 13;
  if (failed(checkArity(node, loc, 1, axesInput ? 2 : 1)) ||
      failed(attrs.checkKnown(
          loc, node,
          axesInput ? ArrayRef<StringRef>{"keepdims", "noop_with_empty_axes"}
                    : ArrayRef<StringRef>{"keepdims", "axes"})))
    return failure();
  FailureOr<bool> keepDims = attrs.getFlag(loc, "keepdims");
  if (!attrs.lookup("keepdims"))
    keepDims = true; // ONNX's default.
  FailureOr<bool> noop = attrs.getFlag(loc, "noop_with_empty_axes");
  if (failed(keepDims) || failed(noop))
    return failure();
  FailureOr<Value> x = floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  FailureOr<SmallVector<int64_t>> axesOrNone =
      intsFromInputOrAttr(node, attrs, loc, axesInput, 1, "axes");
  if (failed(axesOrNone))
    return failure();
  SmallVector<int64_t> axes = std::move(*axesOrNone);
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank();
  if (axes.empty()) {
    if (*noop)
      return define(node, loc, *x);
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  FailureOr<SmallVector<int64_t>> normalized =
      normalizeAxes(loc, opType, axes, rank);
  if (failed(normalized))
    return failure();
  Value y;
  if (opType == "ReduceMax") {
    y = builder.create<ReduceMaxOp>(loc, *x, *normalized, *keepDims);
  } else {
    y = builder.create<ReduceSumOp>(loc, *x, *normalized, *keepDims);
    if (opType == "ReduceMean") {
      int64_t count = 1;
      for (int64_t axis : *normalized)
        count *= type.getDimSize(axis);
      y = builder.create<MulOp>(
          loc, y,
          createScalarConstant(builder, loc, type.getElementType(),
                               1.0 / static_cast<double>(count)));
    }
  }
  return define(node, loc, y);
}

LogicalResult Importer::importSoftmax(const onnx::NodeProto &node,
                                      Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"axis"})))
    return failure();
  // Opset 13 made the axis one dimension (default -1); before, the input was
  // coerced to 2-D at the axis (default 1).
  bool singleAxis = opsetVersion >= 13;
  FailureOr<int64_t> axis = attrs.getInt(loc, "axis", singleAxis ? -1 : 1);
  FailureOr<Value> x =
      failed(axis) ? FailureOr<Value>(failure()) : floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank();
  if (rank == 0 || *axis < -rank || *axis >= rank)
    return emitError(loc) << node.op_type() << " axis " << *axis
                          << " is out of range for rank " << rank;
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  bool isLog = node.op_type() == "LogSoftmax";
  auto create = [&](Value input, int64_t at) -> Value {
    if (isLog)
      return builder.create<LogSoftmaxOp>(loc, input, at);
    return builder.create<SoftmaxOp>(loc, input, at);
  };
  if (singleAxis || a == rank - 1)
    return define(node, loc, create(*x, a));
  int64_t outer = product(type.getShape().take_front(a));
  int64_t inner = product(type.getShape().drop_front(a));
  Value flat = builder.create<ReshapeOp>(loc, *x,
                                         ArrayRef<int64_t>{outer, inner});
  return define(node, loc,
                builder.create<ReshapeOp>(loc, create(flat, 1),
                                          type.getShape()));
}

Value Importer::normalizeOver(Location loc, Value x, ArrayRef<int64_t> axes,
                              float epsilon, Value *meanOut,
                              Value *inverseStdOut) {
  // (x - mean) / sqrt(var + epsilon), the biased variance, as PyTorch's
  // layer, instance and group norms.
  RankedTensorType type = tensorType(x);
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= type.getDimSize(axis);
  Type elem = type.getElementType();
  Value inverseCount =
      createScalarConstant(builder, loc, elem, 1.0 / static_cast<double>(count));
  Value mean = builder.create<MulOp>(
      loc, builder.create<ReduceSumOp>(loc, x, axes, true), inverseCount);
  Value centered = builder.create<SubOp>(loc, x, mean);
  Value variance = builder.create<MulOp>(
      loc,
      builder.create<ReduceSumOp>(
          loc, builder.create<MulOp>(loc, centered, centered), axes, true),
      inverseCount);
  Value inverseStd = builder.create<ReciprocalOp>(
      loc, builder.create<SqrtOp>(
               loc, builder.create<AddOp>(
                        loc, variance,
                        createScalarConstant(builder, loc, elem, epsilon))));
  if (meanOut)
    *meanOut = mean;
  if (inverseStdOut)
    *inverseStdOut = inverseStd;
  return builder.create<MulOp>(loc, centered, inverseStd);
}

LogicalResult Importer::importLayerNorm(const onnx::NodeProto &node,
                                        Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 3, 1, 3)) ||
      failed(attrs.checkKnown(loc, node, {"axis", "epsilon", "stash_type"})))
    return failure();
  FailureOr<int64_t> axis = attrs.getInt(loc, "axis", -1);
  FailureOr<float> epsilon = attrs.getFloat(loc, "epsilon", 1e-5f);
  if (failed(axis) || failed(epsilon))
    return failure();
  FailureOr<Value> x = floatOperand(node, 0, loc);
  FailureOr<Value> scale =
      failed(x) ? FailureOr<Value>(failure()) : floatOperand(node, 1, loc);
  if (failed(scale))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank();
  if (*axis < -rank || *axis >= rank)
    return emitError(loc) << "LayerNormalization axis " << *axis
                          << " is out of range for rank " << rank;
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  Value bias;
  if (hasInput(node, 2)) {
    FailureOr<Value> b = floatOperand(node, 2, loc);
    if (failed(b))
      return failure();
    bias = *b;
  }
  for (Value v : {*scale, bias}) {
    if (!v)
      continue;
    FailureOr<SmallVector<int64_t>> shape =
        broadcastShapes(type.getShape(), tensorType(v).getShape());
    if (failed(shape) || ArrayRef<int64_t>(*shape) != type.getShape() ||
        tensorType(v).getRank() > rank - a)
      return emitError(loc) << "LayerNormalization scale or bias of shape "
                            << shapeString(tensorType(v).getShape())
                            << " does not broadcast to the normalized "
                               "dimensions of "
                            << shapeString(type.getShape());
  }
  // y = (x - mean) / sqrt(var + epsilon) * scale + bias over axes [a, rank).
  SmallVector<int64_t> axes;
  for (int64_t i = a; i < rank; ++i)
    axes.push_back(i);
  Value mean, inverseStd;
  Value y = builder.create<MulOp>(
      loc, normalizeOver(loc, *x, axes, *epsilon, &mean, &inverseStd), *scale);
  if (bias)
    y = builder.create<AddOp>(loc, y, bias);
  // The optional Mean and InvStdDev outputs keep the normalized axes as 1s.
  return defineOutputs(node, loc, {y, mean, inverseStd});
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

LogicalResult Importer::importSqueeze(const onnx::NodeProto &node,
                                      Location loc) {
  NodeAttributes attrs(node);
  bool axesInput = opsetVersion >= 13;
  if (failed(checkArity(node, loc, 1, axesInput ? 2 : 1)) ||
      failed(attrs.checkKnown(loc, node,
                              axesInput ? ArrayRef<StringRef>{}
                                        : ArrayRef<StringRef>{"axes"})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  // An attribute before opset 13, an input from then on.
  FailureOr<SmallVector<int64_t>> axes =
      intsFromInputOrAttr(node, attrs, loc, axesInput, 1, "axes");
  if (failed(axes))
    return failure();
  RankedTensorType type = tensorType(*x);
  FailureOr<SmallVector<int64_t>> normalized =
      normalizeAxes(loc, "Squeeze", *axes, type.getRank());
  if (failed(normalized))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    bool listed = llvm::is_contained(*normalized, i);
    if (listed && type.getDimSize(i) != 1)
      return emitError(loc) << "Squeeze axis " << i << " has size "
                            << type.getDimSize(i) << ", not 1";
    if (!(listed || (axes->empty() && type.getDimSize(i) == 1)))
      shape.push_back(type.getDimSize(i));
  }
  return define(node, loc, builder.createOrFold<ReshapeOp>(loc, *x, shape));
}

LogicalResult Importer::importUnsqueeze(const onnx::NodeProto &node,
                                        Location loc) {
  NodeAttributes attrs(node);
  bool axesInput = opsetVersion >= 13;
  if (failed(checkArity(node, loc, axesInput ? 2 : 1, axesInput ? 2 : 1)) ||
      failed(attrs.checkKnown(loc, node,
                              axesInput ? ArrayRef<StringRef>{}
                                        : ArrayRef<StringRef>{"axes"})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  // An attribute before opset 13, an input from then on.
  FailureOr<SmallVector<int64_t>> axes =
      intsFromInputOrAttr(node, attrs, loc, axesInput, 1, "axes");
  if (failed(axes))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank() + axes->size();
  FailureOr<SmallVector<int64_t>> normalized =
      normalizeAxes(loc, "Unsqueeze", *axes, rank);
  if (failed(normalized))
    return failure();
  if (normalized->empty())
    return emitError(loc) << "Unsqueeze needs at least one axis";
  if (rank > options.maxRank)
    return emitError(loc) << "Unsqueeze to rank " << rank
                          << ", more than the limit of " << options.maxRank;
  SmallVector<int64_t> shape;
  int64_t next = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(llvm::is_contained(*normalized, i)
                        ? 1
                        : type.getDimSize(next++));
  return define(node, loc, builder.createOrFold<ReshapeOp>(loc, *x, shape));
}

LogicalResult Importer::importExpand(const onnx::NodeProto &node,
                                     Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  FailureOr<SmallVector<int64_t>> shape =
      failed(x) ? FailureOr<SmallVector<int64_t>>(failure())
                : constantInts(node, 1, loc);
  if (failed(shape))
    return failure();
  ArrayRef<int64_t> inputShape = tensorType(*x).getShape();
  // Expand broadcasts both ways: a 1 in the shape keeps the input's size.
  FailureOr<SmallVector<int64_t>> result = broadcastShapes(inputShape, *shape);
  if (failed(result) || llvm::any_of(*shape, [](int64_t d) { return d < 0; }))
    return emitError(loc) << "cannot expand " << shapeString(inputShape)
                          << " to " << shapeString(*shape);
  if (static_cast<int64_t>(result->size()) > options.maxRank ||
      product(*result) > options.maxElements)
    return emitError(loc) << "Expand to " << shapeString(*result)
                          << " exceeds the size limits";
  return define(node, loc,
                builder.createOrFold<BroadcastToOp>(loc, *x, *result));
}

LogicalResult Importer::importConcat(const onnx::NodeProto &node,
                                     Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, std::numeric_limits<int>::max())) ||
      failed(attrs.checkKnown(loc, node, {"axis"})))
    return failure();
  FailureOr<int64_t> axis = attrs.getInt(loc, "axis", 0);
  if (failed(axis))
    return failure();
  SmallVector<Value> inputs;
  for (int i = 0; i < node.input_size(); ++i) {
    FailureOr<Value> v = lookup(node.input(i), loc);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  RankedTensorType first = tensorType(inputs[0]);
  int64_t rank = first.getRank();
  if (*axis < -rank || *axis >= rank)
    return emitError(loc) << "Concat axis " << *axis
                          << " is out of range for rank " << rank;
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  for (Value v : inputs) {
    RankedTensorType type = tensorType(v);
    bool compatible = type.getRank() == rank &&
                      type.getElementType() == first.getElementType();
    for (int64_t i = 0; compatible && i < rank; ++i)
      compatible = i == a || type.getDimSize(i) == first.getDimSize(i);
    if (!compatible)
      return emitError(loc) << "Concat inputs " << shapeString(first.getShape())
                            << " and " << shapeString(type.getShape())
                            << " differ outside axis " << a
                            << " or in element type";
  }
  return define(node, loc, builder.createOrFold<ConcatOp>(loc, inputs, a));
}

LogicalResult Importer::importSplit(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  bool splitInput = opsetVersion >= 13;
  if (failed(checkArity(node, loc, 1, splitInput ? 2 : 1, 1,
                        std::numeric_limits<int>::max())) ||
      failed(attrs.checkKnown(loc, node,
                              splitInput ? ArrayRef<StringRef>{"axis"}
                                         : ArrayRef<StringRef>{"axis",
                                                               "split"})))
    return failure();
  FailureOr<int64_t> axis = attrs.getInt(loc, "axis", 0);
  FailureOr<Value> x =
      failed(axis) ? FailureOr<Value>(failure()) : lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank();
  if (*axis < -rank || *axis >= rank)
    return emitError(loc) << "Split axis " << *axis
                          << " is out of range for rank " << rank;
  int64_t a = *axis < 0 ? *axis + rank : *axis, dim = type.getDimSize(a);
  FailureOr<SmallVector<int64_t>> sizesOrNone =
      intsFromInputOrAttr(node, attrs, loc, splitInput, 1, "split");
  if (failed(sizesOrNone))
    return failure();
  SmallVector<int64_t> sizes = std::move(*sizesOrNone);
  int64_t parts = node.output_size();
  if (sizes.empty()) {
    if (dim % parts != 0)
      return emitError(loc) << "Split of size " << dim << " into " << parts
                            << " equal parts";
    sizes.assign(parts, dim / parts);
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return emitError(loc) << "Split sizes " << shapeString(sizes)
                            << " must not be negative";
    total += s;
  }
  if (static_cast<int64_t>(sizes.size()) != parts || total != dim)
    return emitError(loc) << "Split sizes " << shapeString(sizes)
                          << " do not divide size " << dim << " into "
                          << parts << " outputs";
  int64_t offset = 0;
  for (int64_t i = 0; i < parts; ++i) {
    SmallVector<int64_t> starts(rank, 0), shape(type.getShape()),
        strides(rank, 1);
    starts[a] = offset;
    shape[a] = sizes[i];
    offset += sizes[i];
    if (node.output(i).empty())
      continue;
    // An empty part is refused where it is used, not here: a model may
    // split off nothing and never read it.
    if (sizes[i] == 0) {
      if (failed(defineUnavailable(
              node, i, loc,
              "node '" + nodeLabel(node, loc) +
                  "' (Split) gives it size 0 along axis " +
                  Twine(a) +
                  ", and nncc's tensors have no dimension of size 0")))
        return failure();
      continue;
    }
    if (failed(defineOutput(
            node, i, loc,
            builder.createOrFold<SliceOp>(loc, *x, starts, shape, strides))))
      return failure();
  }
  return success();
}

LogicalResult Importer::importSlice(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  // Opset 10 moved starts, ends and axes from attributes to inputs.
  bool asInputs = opsetVersion >= 10;
  if (failed(checkArity(node, loc, asInputs ? 3 : 1, asInputs ? 5 : 1)) ||
      failed(attrs.checkKnown(loc, node,
                              asInputs ? ArrayRef<StringRef>{}
                                       : ArrayRef<StringRef>{"starts", "ends",
                                                             "axes"})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank();
  SmallVector<int64_t> starts, ends, axes, steps;
  auto fetch = [&](int index, StringRef name,
                   SmallVector<int64_t> &into) -> LogicalResult {
    FailureOr<SmallVector<int64_t>> ints =
        intsFromInputOrAttr(node, attrs, loc, asInputs, index, name);
    if (failed(ints))
      return failure();
    into = std::move(*ints);
    return success();
  };
  if (failed(fetch(1, "starts", starts)) || failed(fetch(2, "ends", ends)) ||
      failed(fetch(3, "axes", axes)) || failed(fetch(4, "steps", steps)))
    return failure();
  if (axes.empty())
    for (int64_t i = 0; i < static_cast<int64_t>(starts.size()); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return emitError(loc) << "Slice starts, ends, axes and steps differ in "
                             "length";
  SmallVector<int64_t> sliceStarts(rank, 0), sizes(type.getShape()),
      strides(rank, 1), reversed, seen;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t axis = axes[i];
    if (axis < -rank || axis >= rank)
      return emitError(loc) << "Slice axis " << axis
                            << " is out of range for rank " << rank;
    if (axis < 0)
      axis += rank;
    if (llvm::is_contained(seen, axis))
      return emitError(loc) << "Slice axis " << axis << " is repeated";
    seen.push_back(axis);
    int64_t dim = type.getDimSize(axis), step = steps[i];
    if (step == 0)
      return emitError(loc) << "Slice step of axis " << axis << " is 0";
    // ONNX: negative positions count from the end, then clamp.
    int64_t start = starts[i], end = ends[i];
    if (start < 0)
      start = start < -dim ? -1 : start + dim;
    if (end < 0)
      end = end < -dim ? -1 : end + dim;
    int64_t count;
    // Written so that no step (even INT64_MIN) overflows.
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      int64_t stride = step == INT64_MIN ? INT64_MAX : -step;
      count = start > end ? (start - end - 1) / stride + 1 : 0;
    }
    if (count == 0)
      return emitError(loc) << "Slice of axis " << axis
                            << " is empty; empty tensors are not supported";
    sizes[axis] = count;
    // One element needs no stride; a huge one must not reach the kernels.
    strides[axis] = count == 1 ? 1 : (step > 0 ? step : -step);
    // A negative step reads the same elements as a positive one from the
    // lowest, then reverses them.
    sliceStarts[axis] = step > 0 ? start : start + (count - 1) * step;
    if (step < 0)
      reversed.push_back(axis);
  }
  Value y = builder.createOrFold<SliceOp>(loc, *x, sliceStarts, sizes, strides);
  if (!reversed.empty()) {
    llvm::sort(reversed);
    y = builder.createOrFold<ReverseOp>(loc, y, reversed);
  }
  return define(node, loc, y);
}

//===----------------------------------------------------------------------===//
// Indexing and selection
//===----------------------------------------------------------------------===//

LogicalResult Importer::importGather(const onnx::NodeProto &node,
                                     Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {"axis"})))
    return failure();
  FailureOr<int64_t> axis = attrs.getInt(loc, "axis", 0);
  FailureOr<Value> data =
      failed(axis) ? FailureOr<Value>(failure()) : lookup(node.input(0), loc);
  FailureOr<Value> indices =
      failed(data) ? FailureOr<Value>(failure()) : lookup(node.input(1), loc);
  if (failed(indices))
    return failure();
  RankedTensorType type = tensorType(*data);
  int64_t rank = type.getRank();
  if (*axis < -rank || *axis >= rank)
    return emitError(loc) << "Gather axis " << *axis
                          << " is out of range for rank " << rank;
  int64_t a = *axis < 0 ? *axis + rank : *axis;
  RankedTensorType indexType = tensorType(*indices);
  Type indexElem = indexType.getElementType();
  if (!indexElem.isInteger(64) && !indexElem.isInteger(32))
    return emitError(loc) << "Gather indices ('" << node.input(1)
                          << "') must be INT64 or INT32, got " << indexElem;
  Value ids = *indices;
  if (indexElem.isInteger(32))
    ids = builder.createOrFold<CastOp>(
        loc, RankedTensorType::get(indexType.getShape(), builder.getI64Type()),
        ids);
  if (auto constant = ids.getDefiningOp<ConstantOp>()) {
    int64_t dim = type.getDimSize(a);
    for (int64_t id : intsOf(cast<DenseElementsAttr>(constant.getValue())))
      if (id < -dim || id >= dim)
        return emitError(loc) << "Gather index " << id
                              << " is out of range for size " << dim;
  }
  if (static_cast<int64_t>(rank - 1 + indexType.getRank()) > options.maxRank)
    return emitError(loc) << "Gather result has a rank above the limit";
  return define(node, loc, builder.createOrFold<GatherOp>(loc, *data, ids, a));
}

LogicalResult Importer::importWhere(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 3, 3)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  SmallVector<Value> operands;
  for (int i = 0; i < 3; ++i) {
    FailureOr<Value> v = lookup(node.input(i), loc);
    if (failed(v))
      return failure();
    operands.push_back(*v);
  }
  if (!tensorType(operands[0]).getElementType().isInteger(1))
    return emitError(loc) << "Where condition ('" << node.input(0)
                          << "') must be BOOL";
  if (tensorType(operands[1]).getElementType() !=
      tensorType(operands[2]).getElementType())
    return emitError(loc) << "Where values have different element types";
  FailureOr<SmallVector<int64_t>> shape = broadcastShapes(
      tensorType(operands[1]).getShape(), tensorType(operands[2]).getShape());
  if (succeeded(shape))
    shape = broadcastShapes(tensorType(operands[0]).getShape(), *shape);
  if (failed(shape))
    return emitError(loc) << "Where operands of shapes "
                          << shapeString(tensorType(operands[0]).getShape())
                          << ", "
                          << shapeString(tensorType(operands[1]).getShape())
                          << " and "
                          << shapeString(tensorType(operands[2]).getShape())
                          << " are not broadcast-compatible";
  return define(node, loc,
                builder.createOrFold<SelectOp>(loc, operands[0], operands[1],
                                               operands[2]));
}

LogicalResult Importer::importEqual(const onnx::NodeProto &node,
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
  if (tensorType(*lhs).getElementType() != tensorType(*rhs).getElementType())
    return emitError(loc) << "Equal operands have different element types";
  if (failed(broadcastShapes(tensorType(*lhs).getShape(),
                             tensorType(*rhs).getShape())))
    return emitError(loc) << "Equal operands of shapes "
                          << shapeString(tensorType(*lhs).getShape()) << " and "
                          << shapeString(tensorType(*rhs).getShape())
                          << " are not broadcast-compatible";
  return define(node, loc, builder.createOrFold<EqualOp>(loc, *lhs, *rhs));
}

LogicalResult Importer::importCast(const onnx::NodeProto &node,
                                   Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"to", "saturate"})))
    return failure();
  FailureOr<int64_t> to = attrs.getInt(loc, "to", 0);
  FailureOr<Value> x =
      failed(to) ? FailureOr<Value>(failure()) : lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  FailureOr<Type> elem =
      elementType(static_cast<int32_t>(*to), loc, "Cast's 'to'");
  if (failed(elem))
    return failure();
  auto type = RankedTensorType::get(tensorType(*x).getShape(), *elem);
  return define(node, loc, builder.createOrFold<CastOp>(loc, type, *x));
}

LogicalResult Importer::importShape(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"start", "end"})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = tensorType(*x).getShape();
  int64_t rank = shape.size();
  FailureOr<int64_t> start = attrs.getInt(loc, "start", 0);
  FailureOr<int64_t> end = attrs.getInt(loc, "end", rank);
  if (failed(start) || failed(end))
    return failure();
  // Shapes are static: the result is a constant (start and end, from opset
  // 15, count from the end when negative and clamp to [0, rank]).
  auto clampIndex = [&](int64_t i) {
    return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank);
  };
  int64_t first = clampIndex(*start), last = clampIndex(*end);
  SmallVector<int64_t> dims(shape.begin() + first,
                            shape.begin() + std::max(first, last));
  auto type = RankedTensorType::get({static_cast<int64_t>(dims.size())},
                                    builder.getI64Type());
  return define(node, loc,
                builder.create<ConstantOp>(
                    loc, DenseElementsAttr::get(type, ArrayRef<int64_t>(dims))));
}

LogicalResult Importer::importConstantOfShape(const onnx::NodeProto &node,
                                              Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"value"})))
    return failure();
  FailureOr<SmallVector<int64_t>> shape = constantInts(node, 0, loc);
  if (failed(shape))
    return failure();
  int64_t count = 1;
  for (int64_t d : *shape)
    if (d <= 0 || llvm::MulOverflow(count, d, count) ||
        count > options.maxElements)
      return emitError(loc) << "ConstantOfShape shape " << shapeString(*shape)
                            << " is empty, negative or too large";
  if (static_cast<int64_t>(shape->size()) > options.maxRank)
    return emitError(loc) << "ConstantOfShape rank exceeds the limit";
  Attribute value = builder.getF32FloatAttr(0.0f);
  Type elem = builder.getF32Type();
  if (const onnx::AttributeProto *attr = attrs.lookup("value")) {
    if (attr->type() != onnx::AttributeProto::TENSOR)
      return emitError(loc) << "attribute 'value' must be a tensor";
    FailureOr<DenseElementsAttr> tensor = tensorAttr(attr->t(), loc);
    if (failed(tensor))
      return failure();
    if (tensor->getNumElements() != 1)
      return emitError(loc) << "ConstantOfShape value must have one element";
    value = *tensor->getValues<Attribute>().begin();
    elem = tensor->getElementType();
  }
  auto type = RankedTensorType::get(*shape, elem);
  return define(node, loc,
                builder.create<ConstantOp>(loc,
                                           DenseElementsAttr::get(type, value)));
}

/// The value of a one-element constant (float, integer or boolean).
static double scalarValue(DenseElementsAttr v) {
  if (isa<FloatType>(v.getElementType()))
    return (*v.getValues<APFloat>().begin()).convertToDouble();
  APInt i = *v.getValues<APInt>().begin();
  if (v.getElementType().isInteger(1))
    return static_cast<double>(i.getZExtValue());
  return static_cast<double>(i.getSExtValue());
}

LogicalResult Importer::importRange(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 3, 3)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  SmallVector<DenseElementsAttr> scalars;
  for (int i = 0; i < 3; ++i) {
    FailureOr<DenseElementsAttr> v = constantOperand(node, i, loc);
    if (failed(v))
      return failure();
    if (v->getNumElements() != 1)
      return emitError(loc) << "Range input " << i << " must be a scalar";
    scalars.push_back(*v);
  }
  Type elem = scalars[0].getElementType();
  for (DenseElementsAttr v : scalars)
    if (v.getElementType() != elem)
      return emitError(loc) << "Range inputs have different element types";
  double start = scalarValue(scalars[0]), limit = scalarValue(scalars[1]),
         delta = scalarValue(scalars[2]);
  if (delta == 0)
    return emitError(loc) << "Range delta is 0";
  double steps = std::ceil((limit - start) / delta);
  if (!(steps >= 1) || steps > static_cast<double>(options.maxElements))
    return emitError(loc) << "Range from " << start << " to " << limit
                          << " by " << delta
                          << " is empty or too large";
  auto n = static_cast<int64_t>(steps);
  auto type = RankedTensorType::get({n}, elem);
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < n; ++i) {
    if (isa<FloatType>(elem))
      values.push_back(FloatAttr::get(elem, start + i * delta));
    else
      values.push_back(IntegerAttr::get(
          elem, static_cast<int64_t>(start) + i * static_cast<int64_t>(delta)));
  }
  return define(node, loc,
                builder.create<ConstantOp>(
                    loc, DenseElementsAttr::get(type, values)));
}

LogicalResult Importer::importTrilu(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 2)) ||
      failed(attrs.checkKnown(loc, node, {"upper"})))
    return failure();
  FailureOr<bool> upper = attrs.getFlag(loc, "upper");
  if (!attrs.lookup("upper"))
    upper = true; // ONNX's default.
  FailureOr<Value> x =
      failed(upper) ? FailureOr<Value>(failure()) : lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  if (tensorType(*x).getRank() < 2)
    return emitError(loc) << "Trilu input must have rank 2 or more";
  int64_t k = 0;
  if (hasInput(node, 1)) {
    FailureOr<SmallVector<int64_t>> ints = constantInts(node, 1, loc);
    if (failed(ints))
      return failure();
    if (ints->size() != 1)
      return emitError(loc) << "Trilu k must be a scalar";
    k = (*ints)[0];
  }
  return define(node, loc, builder.createOrFold<TriluOp>(loc, *x, k, *upper));
}

LogicalResult Importer::importPad(const onnx::NodeProto &node, Location loc) {
  NodeAttributes attrs(node);
  // Opset 11 moved the pads and the value to inputs.
  bool asInputs = opsetVersion >= 11;
  if (failed(checkArity(node, loc, 1, asInputs ? 3 : 1, 1, 1)) ||
      failed(attrs.checkKnown(loc, node,
                              asInputs ? ArrayRef<StringRef>{"mode"}
                                       : ArrayRef<StringRef>{"mode", "pads",
                                                             "value"})))
    return failure();
  FailureOr<std::string> mode = attrs.getString(loc, "mode", "constant");
  if (failed(mode))
    return failure();
  if (*mode != "constant")
    return emitError(loc) << "Pad mode '" << *mode
                          << "' is not supported (only 'constant')";
  FailureOr<Value> x = lookup(node.input(0), loc);
  FailureOr<SmallVector<int64_t>> pads =
      intsFromInputOrAttr(node, attrs, loc, asInputs, 1, "pads");
  if (failed(x) || failed(pads))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(pads->size()) != 2 * rank)
    return emitError(loc) << "Pad has " << pads->size() << " pads for rank "
                          << rank << " (expected " << 2 * rank << ")";
  double value = 0.0;
  if (!asInputs) {
    FailureOr<float> attr = attrs.getFloat(loc, "value", 0.0f);
    if (failed(attr))
      return failure();
    value = *attr;
  } else if (hasInput(node, 2)) {
    FailureOr<DenseElementsAttr> constant = constantOperand(node, 2, loc);
    if (failed(constant))
      return failure();
    if (constant->getNumElements() != 1)
      return emitError(loc) << "Pad constant_value must be a scalar";
    value = scalarValue(*constant);
  }
  // Negative pads crop; positive ones pad.
  SmallVector<int64_t> starts, sizes, padded, offsets, ones(rank, 1);
  bool crops = false, grows = false;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t begin = (*pads)[i], end = (*pads)[rank + i];
    int64_t dim = type.getDimSize(i), size = 0, total = 0;
    // Each pad is within the element limit, so no sum below overflows.
    auto outOfRange = [&](int64_t pad) {
      return pad > options.maxElements || pad < -options.maxElements;
    };
    if (outOfRange(begin) || outOfRange(end))
      return emitError(loc) << "Pad pads " << shapeString(*pads)
                            << " are too large";
    size = dim + std::min<int64_t>(begin, 0) + std::min<int64_t>(end, 0);
    if (size < 1)
      return emitError(loc) << "Pad crops dimension " << i << " of "
                            << shapeString(type.getShape())
                            << " to nothing";
    total = size + std::max<int64_t>(begin, 0) + std::max<int64_t>(end, 0);
    starts.push_back(std::max<int64_t>(-begin, 0));
    sizes.push_back(size);
    offsets.push_back(std::max<int64_t>(begin, 0));
    padded.push_back(total);
    crops |= begin < 0 || end < 0;
    grows |= begin > 0 || end > 0;
  }
  int64_t elements = 1;
  for (int64_t d : padded)
    if (llvm::MulOverflow(elements, d, elements) ||
        elements > options.maxElements)
      return emitError(loc) << "Pad result " << shapeString(padded)
                            << " is too large";
  Value y = *x;
  if (crops)
    y = builder.createOrFold<SliceOp>(loc, y, starts, sizes, ones);
  if (grows) {
    if (!isa<FloatType>(type.getElementType()))
      return emitError(loc) << "Pad of " << type.getElementType()
                            << " tensors is not supported (only float)";
    y = builder.create<SliceGradOp>(loc, y, padded, offsets, ones);
    if (value != 0.0) {
      // value where nothing was placed: value * (1 - placed ones), which
      // leaves the input's elements exact.
      Type elem = type.getElementType();
      auto sizedType = RankedTensorType::get(sizes, elem);
      Value placed = builder.create<SliceGradOp>(
          loc,
          builder.create<ConstantOp>(
              loc, DenseElementsAttr::get(sizedType,
                                          builder.getFloatAttr(elem, 1.0))),
          padded, offsets, ones);
      Value outside = builder.create<SubOp>(
          loc, createScalarConstant(builder, loc, elem, 1.0), placed);
      y = builder.create<AddOp>(
          loc, y,
          builder.create<MulOp>(
              loc, outside, createScalarConstant(builder, loc, elem, value)));
    }
  }
  return define(node, loc, y);
}

/// The shortest decimal that reads back as `value` (0.1 for the float
/// nearest 0.1), as a double: what the exporter's user wrote.
static double shortestDecimal(float value) {
  for (int digits = 1; digits < 9; ++digits) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.*g", digits, value);
    double decimal = std::strtod(text, nullptr);
    if (static_cast<float>(decimal) == value)
      return decimal;
  }
  return value;
}

LogicalResult Importer::importDropout(const onnx::NodeProto &node,
                                      Location loc) {
  NodeAttributes attrs(node);
  // Opset 12 moved the ratio to an input and added training_mode; before,
  // whether dropout applies was the runtime's mode: training steps apply it.
  bool asInputs = opsetVersion >= 12;
  if (failed(checkArity(node, loc, 1, asInputs ? 3 : 1, 1, 2)) ||
      failed(attrs.checkKnown(loc, node,
                              asInputs ? ArrayRef<StringRef>{"seed"}
                                       : ArrayRef<StringRef>{"ratio", "seed"})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  int64_t index = dropoutNodes++;
  FailureOr<int64_t> seed = attrs.getInt(loc, "seed", index);
  if (failed(seed))
    return failure();
  bool training = !asInputs;
  if (hasInput(node, 2)) {
    FailureOr<DenseElementsAttr> mode = constantOperand(node, 2, loc);
    if (failed(mode))
      return failure();
    if (!mode->getElementType().isInteger(1) || mode->getNumElements() != 1)
      return emitError(loc) << "Dropout training_mode must be a BOOL scalar";
    training = *mode->getValues<bool>().begin();
  }
  auto type = tensorType(*x);
  auto maskType = RankedTensorType::get(type.getShape(), builder.getI1Type());
  auto identity = [&]() -> LogicalResult {
    // The identity, and a mask of all true.
    if (failed(define(node, loc, *x)))
      return failure();
    if (node.output_size() < 2 || node.output(1).empty())
      return success();
    return defineOutput(
        node, 1, loc,
        builder.create<ConstantOp>(
            loc, DenseElementsAttr::get(maskType, builder.getBoolAttr(true))));
  };
  if (!training) // The ratio does not matter.
    return identity();

  double ratio = 0.5;
  bool single = true; // Given in float32.
  if (!asInputs) {
    FailureOr<float> attr = attrs.getFloat(loc, "ratio", 0.5f);
    if (failed(attr))
      return failure();
    ratio = *attr;
  } else if (hasInput(node, 1)) {
    FailureOr<DenseElementsAttr> value = constantOperand(node, 1, loc);
    if (failed(value))
      return failure();
    if (!isa<FloatType>(value->getElementType()) ||
        value->getNumElements() != 1)
      return emitError(loc) << "Dropout ratio must be a float scalar";
    ratio = scalarValue(*value);
    single = value->getElementType().isF32();
  }
  if (!(ratio >= 0.0 && ratio < 1.0)) {
    SmallString<16> text;
    APFloat(ratio).toString(text);
    return emitError(loc) << "Dropout ratio " << text << " is outside [0, 1)";
  }
  if (single)
    ratio = shortestDecimal(static_cast<float>(ratio));

  if (ratio == 0.0)
    return identity();
  if (!isa<FloatType>(type.getElementType()))
    return emitError(loc) << "Dropout in training mode needs a float input, "
                             "got "
                          << type.getElementType();
  // A training step scales the kept elements by 1 / (1 - ratio); inference
  // is the identity.
  Value mask = builder.create<DropoutMaskOp>(
      loc, type, /*hyper=*/Value(), builder.getF64FloatAttr(ratio),
      builder.getI64IntegerAttr(*seed));
  Value dropped = builder.create<MulOp>(loc, *x, mask);
  if (failed(define(node, loc,
                    builder.create<TrainingSelectOp>(loc, dropped, *x))))
    return failure();
  if (node.output_size() < 2 || node.output(1).empty())
    return success();
  Value allTrue = builder.create<ConstantOp>(
      loc, DenseElementsAttr::get(maskType, builder.getBoolAttr(true)));
  return defineOutput(
      node, 1, loc,
      builder.create<TrainingSelectOp>(
          loc, builder.create<CastOp>(loc, maskType, mask), allTrue));
}
