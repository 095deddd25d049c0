//===- NNTensorOps.cpp - Indexing, selection and softmax ops -------------===//
//
// Type inference, verifiers and constant folders of the ops that move,
// pick or compare elements: concat, slice, reverse, gather, select, equal,
// cast, trilu, and of the softmax family and reduce_max.
//
// The folders evaluate the shape subgraphs that PyTorch exports (Shape,
// Gather, Unsqueeze, Concat feeding Reshape; Trilu and Equal building a
// causal mask) once shapes are static, so that those become constants.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace nncc::nn;

//===----------------------------------------------------------------------===//
// Folding helpers
//===----------------------------------------------------------------------===//

/// Folding materializes every element: only small tensors (shapes, masks,
/// index vectors) are worth it.
static constexpr int64_t kMaxFoldedElements = 1 << 16;

static SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Calls `fn` with every multi-index of `shape` in row-major order.
static void forEachIndex(ArrayRef<int64_t> shape,
                         function_ref<void(ArrayRef<int64_t>)> fn) {
  for (int64_t d : shape)
    if (d == 0)
      return;
  SmallVector<int64_t> index(shape.size(), 0);
  while (true) {
    fn(index);
    int64_t i = static_cast<int64_t>(shape.size()) - 1;
    for (; i >= 0; --i) {
      if (++index[i] < shape[i])
        break;
      index[i] = 0;
    }
    if (i < 0)
      return;
  }
}

/// A constant of `type` whose element at each index is `source`'s element
/// at the linear position `pick(index)`.
static Attribute pickElements(Attribute sourceAttr, Type resultType,
                              function_ref<int64_t(ArrayRef<int64_t>)> pick) {
  auto source = dyn_cast_or_null<DenseElementsAttr>(sourceAttr);
  auto type = dyn_cast<RankedTensorType>(resultType);
  if (!source || !type || !type.hasStaticShape() ||
      type.getNumElements() > kMaxFoldedElements)
    return {};
  SmallVector<Attribute> values(source.getValues<Attribute>());
  SmallVector<Attribute> result;
  result.reserve(type.getNumElements());
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> index) {
    result.push_back(values[pick(index)]);
  });
  return DenseElementsAttr::get(type, result);
}

/// The linear position in `operandShape` of the element that a broadcast to
/// the result reads at `index`.
static int64_t broadcastPosition(ArrayRef<int64_t> operandShape,
                                 ArrayRef<int64_t> index) {
  int64_t lead = index.size() - operandShape.size();
  SmallVector<int64_t> strides = rowMajorStrides(operandShape);
  int64_t position = 0;
  for (size_t i = 0; i < operandShape.size(); ++i)
    if (operandShape[i] != 1)
      position += index[i + lead] * strides[i];
  return position;
}

static RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

static LogicalResult checkAxes(std::optional<Location> loc,
                               ArrayRef<int64_t> axes, int64_t rank,
                               llvm::SmallBitVector &marked) {
  marked.resize(rank);
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= rank)
      return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                               rank);
    if (marked.test(axis))
      return emitOptionalError(loc, "axis ", axis, " is repeated");
    marked.set(axis);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp folding
//===----------------------------------------------------------------------===//

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return input.reshape(getType());
  return {};
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  ArrayRef<int64_t> inputShape = tensorType(getInput()).getShape();
  return pickElements(adaptor.getInput(), getType(),
                      [&](ArrayRef<int64_t> index) {
                        return broadcastPosition(inputShape, index);
                      });
}

//===----------------------------------------------------------------------===//
// ReduceMaxOp
//===----------------------------------------------------------------------===//

LogicalResult ReduceMaxOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  FailureOr<RankedTensorType> type = inferReducedType(
      loc, cast<RankedTensorType>(adaptor.getInput().getType()),
      adaptor.getAxes(), adaptor.getKeepDims());
  if (failed(type))
    return failure();
  types.push_back(*type);
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

static LogicalResult verifySoftmaxAxis(Operation *op, int64_t axis,
                                       RankedTensorType type) {
  if (axis < 0 || axis >= type.getRank())
    return op->emitOpError("axis ")
           << axis << " is out of range for rank " << type.getRank();
  return success();
}

LogicalResult SoftmaxOp::verify() {
  return verifySoftmaxAxis(*this, static_cast<int64_t>(getAxis()), getType());
}

LogicalResult LogSoftmaxOp::verify() {
  return verifySoftmaxAxis(*this, static_cast<int64_t>(getAxis()), getType());
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "needs at least one input");
  RankedTensorType first = tensorType(inputs[0]);
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             first.getRank());
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value input : inputs) {
    RankedTensorType type = tensorType(input);
    if (type.getElementType() != first.getElementType())
      return emitOptionalError(loc, "inputs have different element types");
    bool compatible = type.getRank() == first.getRank();
    for (int64_t i = 0; compatible && i < type.getRank(); ++i)
      compatible = i == axis || type.getDimSize(i) == first.getDimSize(i);
    if (!compatible)
      return emitOptionalError(loc, "cannot concatenate ",
                               formatShape(first.getShape()), " and ",
                               formatShape(type.getShape()), " along axis ",
                               axis);
    shape[axis] += type.getDimSize(axis);
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return getInputs()[0];
  RankedTensorType type = getType();
  if (type.getNumElements() > kMaxFoldedElements)
    return {};
  SmallVector<SmallVector<Attribute>> values;
  for (Attribute attr : adaptor.getInputs()) {
    auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
    if (!dense)
      return {};
    values.emplace_back(dense.getValues<Attribute>());
  }
  int64_t axis = getAxis();
  SmallVector<Attribute> result;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> index) {
    int64_t offset = index[axis];
    for (auto [input, inputValues] : llvm::zip(getInputs(), values)) {
      ArrayRef<int64_t> shape = tensorType(input).getShape();
      if (offset >= shape[axis]) {
        offset -= shape[axis];
        continue;
      }
      SmallVector<int64_t> at(index);
      at[axis] = offset;
      SmallVector<int64_t> strides = rowMajorStrides(shape);
      int64_t position = 0;
      for (size_t i = 0; i < at.size(); ++i)
        position += at[i] * strides[i];
      result.push_back(inputValues[position]);
      return;
    }
  });
  return DenseElementsAttr::get(type, result);
}

//===----------------------------------------------------------------------===//
// SliceOp, SliceGradOp and SliceAddOp
//===----------------------------------------------------------------------===//

static LogicalResult checkSlice(std::optional<Location> loc,
                                ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> starts,
                                ArrayRef<int64_t> sizes,
                                ArrayRef<int64_t> strides) {
  size_t rank = shape.size();
  if (starts.size() != rank || sizes.size() != rank || strides.size() != rank)
    return emitOptionalError(loc, "starts, sizes and strides need one entry "
                                  "per dimension (",
                             rank, ")");
  for (size_t i = 0; i < rank; ++i) {
    if (strides[i] < 1)
      return emitOptionalError(loc, "stride ", strides[i], " of dimension ", i,
                               " is not positive");
    if (sizes[i] < 0 || starts[i] < 0 ||
        (sizes[i] > 0 &&
         starts[i] + (sizes[i] - 1) * strides[i] >= shape[i]))
      return emitOptionalError(loc, "dimension ", i, ": ", sizes[i],
                               " elements from ", starts[i], " by ",
                               strides[i], " do not fit in size ", shape[i]);
  }
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  if (failed(checkSlice(loc, inputType.getShape(), adaptor.getStarts(),
                        adaptor.getSizes(), adaptor.getStrides())))
    return failure();
  types.push_back(
      RankedTensorType::get(adaptor.getSizes(), inputType.getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  SmallVector<int64_t> strides = rowMajorStrides(getInput().getType().getShape());
  return pickElements(adaptor.getInput(), getType(),
                      [&](ArrayRef<int64_t> index) {
                        int64_t position = 0;
                        for (size_t i = 0; i < index.size(); ++i)
                          position += (getStarts()[i] +
                                       index[i] * getStrides()[i]) *
                                      strides[i];
                        return position;
                      });
}

LogicalResult SliceGradOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto gradType = cast<RankedTensorType>(adaptor.getGrad().getType());
  if (failed(checkSlice(loc, adaptor.getShape(), adaptor.getStarts(),
                        gradType.getShape(), adaptor.getStrides())))
    return failure();
  types.push_back(
      RankedTensorType::get(adaptor.getShape(), gradType.getElementType()));
  return success();
}

LogicalResult SliceAddOp::verify() {
  auto type = cast<RankedTensorType>(getAccumulator().getType());
  auto gradType = cast<RankedTensorType>(getGrad().getType());
  if (type.getElementType() != gradType.getElementType())
    return emitOpError("accumulator and grad have different element types");
  return checkSlice(getLoc(), type.getShape(), getStarts(),
                    gradType.getShape(), getStrides());
}

//===----------------------------------------------------------------------===//
// ReverseOp
//===----------------------------------------------------------------------===//

LogicalResult ReverseOp::verify() {
  llvm::SmallBitVector marked;
  return checkAxes(getLoc(), getAxes(),
                   cast<RankedTensorType>(getType()).getRank(), marked);
}

OpFoldResult ReverseOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(getType()).getShape();
  SmallVector<int64_t> strides = rowMajorStrides(shape);
  return pickElements(adaptor.getInput(), getType(),
                      [&](ArrayRef<int64_t> index) {
                        int64_t position = 0;
                        for (size_t i = 0; i < index.size(); ++i) {
                          int64_t at = index[i];
                          if (llvm::is_contained(getAxes(), int64_t(i)))
                            at = shape[i] - 1 - at;
                          position += at * strides[i];
                        }
                        return position;
                      });
}

//===----------------------------------------------------------------------===//
// GatherOp and GatherGradOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indicesType = cast<RankedTensorType>(adaptor.getIndices().getType());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= inputType.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             inputType.getRank());
  SmallVector<int64_t> shape(inputType.getShape().take_front(axis));
  llvm::append_range(shape, indicesType.getShape());
  llvm::append_range(shape, inputType.getShape().drop_front(axis + 1));
  types.push_back(RankedTensorType::get(shape, inputType.getElementType()));
  return success();
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  auto indices = dyn_cast_or_null<DenseIntElementsAttr>(adaptor.getIndices());
  if (!indices)
    return {};
  SmallVector<int64_t> ids;
  for (const APInt &v : indices.getValues<APInt>())
    ids.push_back(v.getSExtValue());
  ArrayRef<int64_t> inputShape = getInput().getType().getShape();
  int64_t axis = getAxis(), dim = inputShape[axis];
  for (int64_t id : ids)
    if (id < -dim || id >= dim)
      return {}; // Left to the kernel, which does not read out of bounds.
  SmallVector<int64_t> inputStrides = rowMajorStrides(inputShape);
  SmallVector<int64_t> indexStrides =
      rowMajorStrides(getIndices().getType().getShape());
  int64_t indexRank = getIndices().getType().getRank();
  return pickElements(
      adaptor.getInput(), getType(), [&](ArrayRef<int64_t> index) {
        int64_t idPosition = 0;
        for (int64_t i = 0; i < indexRank; ++i)
          idPosition += index[axis + i] * indexStrides[i];
        int64_t id = ids[idPosition];
        if (id < 0)
          id += dim;
        int64_t position = id * inputStrides[axis];
        for (int64_t i = 0; i < axis; ++i)
          position += index[i] * inputStrides[i];
        for (int64_t i = axis + 1; i < static_cast<int64_t>(inputShape.size());
             ++i)
          position += index[i - 1 + indexRank] * inputStrides[i];
        return position;
      });
}

LogicalResult GatherGradOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location>,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  auto gradType = cast<RankedTensorType>(adaptor.getGrad().getType());
  types.push_back(
      RankedTensorType::get(adaptor.getShape(), gradType.getElementType()));
  return success();
}

LogicalResult GatherGradOp::verify() {
  ArrayRef<int64_t> shape = getShape();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= static_cast<int64_t>(shape.size()))
    return emitOpError("axis ") << axis << " is out of range for rank "
                                << shape.size();
  SmallVector<int64_t> expected(shape.take_front(axis));
  llvm::append_range(expected, getIndices().getType().getShape());
  llvm::append_range(expected, shape.drop_front(axis + 1));
  if (ArrayRef<int64_t>(expected) != getGrad().getType().getShape())
    return emitOpError("gradient of shape ")
           << formatShape(getGrad().getType().getShape())
           << " is not that of a gather from " << formatShape(shape)
           << ", which is " << formatShape(expected);
  return success();
}

//===----------------------------------------------------------------------===//
// EqualOp, SelectOp, CastOp
//===----------------------------------------------------------------------===//

/// The boolean result of an elementwise comparison or logic op: the
/// operands' broadcast shape, of i1.
static LogicalResult inferBooleanResult(MLIRContext *context,
                                        std::optional<Location> loc,
                                        Type lhs, Type rhs,
                                        SmallVectorImpl<Type> &types) {
  auto lhsType = cast<RankedTensorType>(lhs);
  auto rhsType = cast<RankedTensorType>(rhs);
  if (lhsType.getElementType() != rhsType.getElementType())
    return emitOptionalError(loc, "operands have different element types");
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(lhsType.getShape(), rhsType.getShape());
  if (failed(shape))
    return emitOptionalError(loc, "operand shapes ",
                             formatShape(lhsType.getShape()), " and ",
                             formatShape(rhsType.getShape()),
                             " are not broadcast-compatible");
  types.push_back(RankedTensorType::get(*shape, IntegerType::get(context, 1)));
  return success();
}

/// Folds a boolean-valued elementwise op of two constants, `test` deciding
/// each element from the operands' elements.
static OpFoldResult
foldBooleanBinary(Attribute lhsAttr, Attribute rhsAttr, Value lhsValue,
                  Value rhsValue, Type resultType,
                  function_ref<bool(Attribute, Attribute)> test) {
  auto lhs = dyn_cast_or_null<DenseElementsAttr>(lhsAttr);
  auto rhs = dyn_cast_or_null<DenseElementsAttr>(rhsAttr);
  auto type = cast<RankedTensorType>(resultType);
  if (!lhs || !rhs || type.getNumElements() > kMaxFoldedElements)
    return {};
  SmallVector<Attribute> l(lhs.getValues<Attribute>());
  SmallVector<Attribute> r(rhs.getValues<Attribute>());
  ArrayRef<int64_t> lShape = tensorType(lhsValue).getShape();
  ArrayRef<int64_t> rShape = tensorType(rhsValue).getShape();
  SmallVector<bool> result;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> index) {
    result.push_back(test(l[broadcastPosition(lShape, index)],
                          r[broadcastPosition(rShape, index)]));
  });
  return DenseElementsAttr::get(type, ArrayRef<bool>(result));
}

LogicalResult EqualOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  return inferBooleanResult(context, loc, adaptor.getLhs().getType(),
                            adaptor.getRhs().getType(), types);
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldBooleanBinary(adaptor.getLhs(), adaptor.getRhs(), getLhs(),
                           getRhs(), getType(),
                           [](Attribute l, Attribute r) {
                             // IEEE equality, as the lowering's cmpf oeq:
                             // NaN is equal to nothing, -0 equals 0.
                             if (auto lf = dyn_cast<FloatAttr>(l))
                               return lf.getValue().compare(
                                          cast<FloatAttr>(r).getValue()) ==
                                      APFloat::cmpEqual;
                             return l == r;
                           });
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferBooleanResult(context, loc, adaptor.getLhs().getType(),
                            adaptor.getRhs().getType(), types);
}

OpFoldResult CompareOp::fold(FoldAdaptor adaptor) {
  ComparePredicate predicate = getPredicate();
  return foldBooleanBinary(
      adaptor.getLhs(), adaptor.getRhs(), getLhs(), getRhs(), getType(),
      [&](Attribute l, Attribute r) {
        // -1, 0 or 1; NaN (unordered) makes every predicate false.
        int order;
        if (auto li = dyn_cast<IntegerAttr>(l)) {
          const APInt &a = li.getValue(), &b = cast<IntegerAttr>(r).getValue();
          order = a.slt(b) ? -1 : a.sgt(b) ? 1 : 0;
        } else {
          APFloat::cmpResult c = cast<FloatAttr>(l).getValue().compare(
              cast<FloatAttr>(r).getValue());
          if (c == APFloat::cmpUnordered)
            return false;
          order = c == APFloat::cmpLessThan      ? -1
                  : c == APFloat::cmpGreaterThan ? 1
                                                 : 0;
        }
        switch (predicate) {
        case ComparePredicate::lt:
          return order < 0;
        case ComparePredicate::le:
          return order <= 0;
        case ComparePredicate::gt:
          return order > 0;
        case ComparePredicate::ge:
          return order >= 0;
        }
        llvm_unreachable("unknown predicate");
      });
}

LogicalResult LogicOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  return inferBooleanResult(context, loc, adaptor.getLhs().getType(),
                            adaptor.getRhs().getType(), types);
}

OpFoldResult LogicOp::fold(FoldAdaptor adaptor) {
  LogicKind kind = getKind();
  return foldBooleanBinary(
      adaptor.getLhs(), adaptor.getRhs(), getLhs(), getRhs(), getType(),
      [&](Attribute l, Attribute r) {
        bool a = cast<IntegerAttr>(l).getValue().getBoolValue();
        bool b = cast<IntegerAttr>(r).getValue().getBoolValue();
        switch (kind) {
        case LogicKind::And:
          return a && b;
        case LogicKind::Or:
          return a || b;
        case LogicKind::Xor:
          return a != b;
        }
        llvm_unreachable("unknown logic kind");
      });
}

OpFoldResult NotOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (!input || getType().getNumElements() > kMaxFoldedElements)
    return {};
  SmallVector<bool> result;
  for (bool v : input.getValues<bool>())
    result.push_back(!v);
  return DenseElementsAttr::get(getType(), ArrayRef<bool>(result));
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto c = cast<RankedTensorType>(adaptor.getCondition().getType());
  auto t = cast<RankedTensorType>(adaptor.getTrueValue().getType());
  auto f = cast<RankedTensorType>(adaptor.getFalseValue().getType());
  if (t.getElementType() != f.getElementType())
    return emitOptionalError(loc, "values have different element types");
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(t.getShape(), f.getShape());
  if (succeeded(shape))
    shape = broadcastShapes(c.getShape(), *shape);
  if (failed(shape))
    return emitOptionalError(loc, "shapes ", formatShape(c.getShape()), ", ",
                             formatShape(t.getShape()), " and ",
                             formatShape(f.getShape()),
                             " are not broadcast-compatible");
  types.push_back(RankedTensorType::get(*shape, t.getElementType()));
  return success();
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  auto condition = dyn_cast_or_null<DenseElementsAttr>(adaptor.getCondition());
  if (!condition)
    return {};
  // A uniform condition picks one operand, when that has the result's type.
  if (condition.isSplat()) {
    Value picked = condition.getSplatValue<bool>() ? getTrueValue()
                                                   : getFalseValue();
    if (picked.getType() == getType())
      return picked;
  }
  auto t = dyn_cast_or_null<DenseElementsAttr>(adaptor.getTrueValue());
  auto f = dyn_cast_or_null<DenseElementsAttr>(adaptor.getFalseValue());
  RankedTensorType type = getType();
  if (!t || !f || type.getNumElements() > kMaxFoldedElements)
    return {};
  SmallVector<bool> c(condition.getValues<bool>());
  SmallVector<Attribute> tv(t.getValues<Attribute>());
  SmallVector<Attribute> fv(f.getValues<Attribute>());
  SmallVector<Attribute> result;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> index) {
    bool pick = c[broadcastPosition(getCondition().getType().getShape(), index)];
    result.push_back(
        pick ? tv[broadcastPosition(getTrueValue().getType().getShape(), index)]
             : fv[broadcastPosition(getFalseValue().getType().getShape(),
                                    index)]);
  });
  return DenseElementsAttr::get(type, result);
}

static bool isCastable(Type type) {
  return isa<FloatType>(type) || type.isInteger(64) || type.isInteger(32) ||
         type.isInteger(1);
}

LogicalResult CastOp::verify() {
  RankedTensorType in = getInput().getType(), out = getType();
  if (in.getShape() != out.getShape())
    return emitOpError("cannot change the shape ")
           << formatShape(in.getShape()) << " to "
           << formatShape(out.getShape());
  if (!isCastable(in.getElementType()) || !isCastable(out.getElementType()))
    return emitOpError("casts only between floats, i64, i32 and i1, not ")
           << in.getElementType() << " to " << out.getElementType();
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  RankedTensorType type = getType();
  if (!input || type.getNumElements() > kMaxFoldedElements)
    return {};
  Type from = input.getElementType(), to = type.getElementType();
  SmallVector<Attribute> result;
  for (Attribute value : input.getValues<Attribute>()) {
    // Through double, exact for the integers of shapes and masks.
    double x = isa<FloatType>(from)
                   ? cast<FloatAttr>(value).getValueAsDouble()
                   : static_cast<double>(
                         from.isInteger(1)
                             ? cast<IntegerAttr>(value).getValue().getZExtValue()
                             : cast<IntegerAttr>(value).getInt());
    if (auto floatType = dyn_cast<FloatType>(to))
      result.push_back(FloatAttr::get(floatType, x));
    else if (to.isInteger(1))
      result.push_back(IntegerAttr::get(to, APInt(1, x != 0.0)));
    else if (std::isfinite(x) && std::fabs(x) < 9.2e18)
      result.push_back(IntegerAttr::get(to, static_cast<int64_t>(x)));
    else
      return {};
  }
  return DenseElementsAttr::get(type, result);
}

//===----------------------------------------------------------------------===//
// TriluOp
//===----------------------------------------------------------------------===//

LogicalResult TriluOp::verify() {
  if (cast<RankedTensorType>(getType()).getRank() < 2)
    return emitOpError("input must have rank 2 or more");
  return success();
}

bool nncc::nn::keepsTriangleElement(int64_t row, int64_t column, int64_t k,
                                    bool upper) {
  return upper ? column - row >= k : column - row <= k;
}

OpFoldResult TriluOp::fold(FoldAdaptor adaptor) {
  auto input = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  auto type = cast<RankedTensorType>(getType());
  if (!input || type.getNumElements() > kMaxFoldedElements)
    return {};
  SmallVector<Attribute> values(input.getValues<Attribute>());
  Attribute zero = Builder(getContext()).getZeroAttr(type.getElementType());
  int64_t rank = type.getRank(), position = 0;
  SmallVector<Attribute> result;
  forEachIndex(type.getShape(), [&](ArrayRef<int64_t> index) {
    bool keep = keepsTriangleElement(index[rank - 2], index[rank - 1],
                                     static_cast<int64_t>(getK()), getUpper());
    result.push_back(keep ? values[position] : zero);
    ++position;
  });
  return DenseElementsAttr::get(type, result);
}
