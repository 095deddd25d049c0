//===- NNDialect.cpp - The nn dialect and its ops' invariants ------------===//
//
// Registration of the nn dialect, result type inference, verifiers and folds
// of its ops. Gradients are in NNGradients.cpp.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"

#include <cmath>

using namespace mlir;
using namespace nncc::nn;

#include "nncc/Dialect/NN/IR/NNOpsDialect.cpp.inc"

#include "nncc/Dialect/NN/IR/NNInterfaces.cpp.inc"

#include "nncc/Dialect/NN/IR/NNEnums.cpp.inc"

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "nncc/Dialect/NN/IR/NNOps.cpp.inc"
      >();
}

Operation *NNDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>>
nncc::nn::broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align at the right: missing leading dimensions act as 1.
    int64_t l = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t r = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (l != r && l != 1 && r != 1)
      return failure();
    result[i] = l == 1 ? r : l;
  }
  return result;
}

std::string nncc::nn::formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, ",");
  os << "]";
  return s;
}

static int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto value = dyn_cast_or_null<ElementsAttr>(adaptor.getValueAttr());
  if (!value)
    return failure();
  types.push_back(value.getType());
  return success();
}

LogicalResult ConstantOp::verify() {
  auto type = dyn_cast<RankedTensorType>(getValue().getType());
  if (!type || !type.hasStaticShape())
    return emitOpError("value must be a statically shaped tensor");
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValueAttr(); }

//===----------------------------------------------------------------------===//
// Broadcasting binary ops
//===----------------------------------------------------------------------===//

static LogicalResult inferBroadcastType(std::optional<Location> loc,
                                        Value lhs, Value rhs,
                                        SmallVectorImpl<Type> &types) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  if (lhsType.getElementType() != rhsType.getElementType())
    return emitOptionalError(loc, "operands have different element types ",
                             lhsType.getElementType(), " and ",
                             rhsType.getElementType());
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(lhsType.getShape(), rhsType.getShape());
  if (failed(shape))
    return emitOptionalError(loc, "operand shapes ",
                             formatShape(lhsType.getShape()), " and ",
                             formatShape(rhsType.getShape()),
                             " are not broadcast-compatible");
  types.push_back(RankedTensorType::get(*shape, lhsType.getElementType()));
  return success();
}

#define NN_BROADCAST_INFER(OP)                                                 \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    return inferBroadcastType(loc, adaptor.getLhs(), adaptor.getRhs(), types); \
  }
NN_BROADCAST_INFER(AddOp)
NN_BROADCAST_INFER(SubOp)
NN_BROADCAST_INFER(MulOp)
NN_BROADCAST_INFER(DivOp)
NN_BROADCAST_INFER(PowOp)
NN_BROADCAST_INFER(MaximumOp)
NN_BROADCAST_INFER(MinimumOp)
#undef NN_BROADCAST_INFER

//===----------------------------------------------------------------------===//
// MatMulOp
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto lhsType = cast<RankedTensorType>(adaptor.getLhs().getType());
  auto rhsType = cast<RankedTensorType>(adaptor.getRhs().getType());
  int64_t lr = lhsType.getRank(), rr = rhsType.getRank();
  if (lr < 2 || rr < 2)
    return emitOptionalError(loc, "operands must have rank 2 or more, got ",
                             formatShape(lhsType.getShape()), " and ",
                             formatShape(rhsType.getShape()));
  if (lhsType.getElementType() != rhsType.getElementType())
    return emitOptionalError(loc, "operands have different element types");
  FailureOr<SmallVector<int64_t>> batch =
      broadcastShapes(lhsType.getShape().drop_back(2),
                      rhsType.getShape().drop_back(2));
  if (failed(batch))
    return emitOptionalError(loc, "batch dimensions of ",
                             formatShape(lhsType.getShape()), " and ",
                             formatShape(rhsType.getShape()),
                             " are not broadcast-compatible");
  bool tl = adaptor.getTransposeLhs(), tr = adaptor.getTransposeRhs();
  int64_t m = lhsType.getDimSize(lr - (tl ? 1 : 2));
  int64_t kl = lhsType.getDimSize(lr - (tl ? 2 : 1));
  int64_t kr = rhsType.getDimSize(rr - (tr ? 1 : 2));
  int64_t n = rhsType.getDimSize(rr - (tr ? 2 : 1));
  if (kl != kr)
    return emitOptionalError(loc, "inner dimensions differ: ",
                             formatShape(lhsType.getShape()),
                             tl ? " (transposed)" : "", " times ",
                             formatShape(rhsType.getShape()),
                             tr ? " (transposed)" : "");
  SmallVector<int64_t> shape(*batch);
  shape.append({m, n});
  types.push_back(RankedTensorType::get(shape, lhsType.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// ActivationGradOp
//===----------------------------------------------------------------------===//

LogicalResult ActivationGradOp::verify() {
  if (getKind() != "leaky_relu" && getKind() != "elu")
    return emitOpError("kind must be 'leaky_relu' or 'elu', got '")
           << getKind() << "'";
  return success();
}

//===----------------------------------------------------------------------===//
// ClipOp
//===----------------------------------------------------------------------===//

/// clip's and clip_grad's bounds: an interval, NaN in neither.
static LogicalResult verifyClipBounds(Operation *op, APFloat minAttr,
                                      APFloat maxAttr) {
  double min = minAttr.convertToDouble(), max = maxAttr.convertToDouble();
  if (std::isnan(min) || std::isnan(max) || min > max)
    return op->emitOpError("bounds [")
           << min << ", " << max << "] are not an interval";
  return success();
}

LogicalResult ClipOp::verify() {
  return verifyClipBounds(*this, getMin(), getMax());
}

LogicalResult ClipGradOp::verify() {
  return verifyClipBounds(*this, getMin(), getMax());
}

//===----------------------------------------------------------------------===//
// ReduceSumOp
//===----------------------------------------------------------------------===//

FailureOr<RankedTensorType>
nncc::nn::inferReducedType(std::optional<Location> loc,
                           RankedTensorType inputType, ArrayRef<int64_t> axes,
                           bool keepDims) {
  int64_t rank = inputType.getRank();
  llvm::SmallBitVector reduced(rank);
  for (int64_t axis : axes) {
    if (axis < 0 || axis >= rank)
      return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                               rank);
    if (reduced.test(axis))
      return emitOptionalError(loc, "axis ", axis, " is repeated");
    reduced.set(axis);
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced.test(i))
      shape.push_back(inputType.getDimSize(i));
    else if (keepDims)
      shape.push_back(1);
  }
  return RankedTensorType::get(shape, inputType.getElementType());
}

LogicalResult ReduceSumOp::inferReturnTypes(MLIRContext *,
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
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> shape = adaptor.getShape();
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return emitOptionalError(loc, "shape ", formatShape(shape),
                             " has a negative dimension");
  if (!inputType.hasStaticShape() ||
      numElements(shape) != inputType.getNumElements())
    return emitOptionalError(loc, "cannot reshape ",
                             formatShape(inputType.getShape()), " to ",
                             formatShape(shape),
                             ": the element counts differ");
  types.push_back(RankedTensorType::get(shape, inputType.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  int64_t rank = inputType.getRank();
  llvm::SmallBitVector seen(rank);
  bool valid = static_cast<int64_t>(perm.size()) == rank;
  for (int64_t p : perm) {
    if (!valid || p < 0 || p >= rank || seen.test(p)) {
      valid = false;
      break;
    }
    seen.set(p);
  }
  if (!valid)
    return emitOptionalError(loc, "perm ", formatShape(perm),
                             " is not a permutation of the ", rank,
                             " dimensions");
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(inputType.getDimSize(p));
  types.push_back(RankedTensorType::get(shape, inputType.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// BroadcastToOp
//===----------------------------------------------------------------------===//

LogicalResult BroadcastToOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> shape = adaptor.getShape();
  FailureOr<SmallVector<int64_t>> result =
      broadcastShapes(inputType.getShape(), shape);
  if (failed(result) || ArrayRef<int64_t>(*result) != shape)
    return emitOptionalError(loc, "cannot broadcast ",
                             formatShape(inputType.getShape()), " to ",
                             formatShape(shape));
  types.push_back(RankedTensorType::get(shape, inputType.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

static LogicalResult verifyLossInput(Operation *op, Type input) {
  if (cast<RankedTensorType>(input).getRank() == 0)
    return op->emitOpError("input must have a batch dimension");
  return success();
}

LogicalResult MSELossOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  types.push_back(RankedTensorType::get({}, inputType.getElementType()));
  return success();
}

LogicalResult MSELossOp::verify() {
  return verifyLossInput(*this, getInput().getType());
}

LogicalResult MSELossGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location>,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult MSELossGradOp::verify() {
  if (failed(verifyLossInput(*this, getInput().getType())))
    return failure();
  if (getGrad().getType().getElementType() !=
      getInput().getType().getElementType())
    return emitOpError("grad element type differs from the input's");
  return success();
}

LogicalResult CrossEntropyLossOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  types.push_back(RankedTensorType::get({}, inputType.getElementType()));
  return success();
}

/// Classes along the last axis of `input`; `target` has the other axes.
static LogicalResult verifyClassTarget(Operation *op, RankedTensorType input,
                                       RankedTensorType target,
                                       double labelSmoothing) {
  if (input.getRank() < 2)
    return op->emitOpError("input must have a batch and a class dimension");
  if (target.getShape() != input.getShape().drop_back())
    return op->emitOpError("target shape [")
           << target.getShape() << "] must be the input shape ["
           << input.getShape() << "] without its class dimension";
  if (!(labelSmoothing >= 0.0 && labelSmoothing <= 1.0))
    return op->emitOpError("label smoothing ")
           << labelSmoothing << " is not in [0, 1]";
  return success();
}

LogicalResult CrossEntropyLossOp::verify() {
  return verifyClassTarget(*this, getInput().getType(), getTarget().getType(),
                           getLabelSmoothing().convertToDouble());
}

LogicalResult CrossEntropyLossGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult CrossEntropyLossGradOp::verify() {
  if (getGrad().getType().getElementType() !=
      getInput().getType().getElementType())
    return emitOpError("grad element type differs from the input's");
  return verifyClassTarget(*this, getInput().getType(), getTarget().getType(),
                           getLabelSmoothing().convertToDouble());
}

LogicalResult BCEWithLogitsLossOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  types.push_back(RankedTensorType::get({}, inputType.getElementType()));
  return success();
}

LogicalResult BCEWithLogitsLossOp::verify() {
  return verifyLossInput(*this, getInput().getType());
}

LogicalResult BCEWithLogitsLossGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult BCEWithLogitsLossGradOp::verify() {
  if (getGrad().getType().getElementType() !=
      getInput().getType().getElementType())
    return emitOpError("grad element type differs from the input's");
  return verifyLossInput(*this, getInput().getType());
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

template <typename OpT>
static LogicalResult inferUpdateTypes(typename OpT::Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getParam().getType());
  for (Value state : adaptor.getState())
    types.push_back(state.getType());
  return success();
}

template <typename OpT>
static LogicalResult verifyUpdate(OpT op) {
  Type paramType = op.getParam().getType();
  for (Value state : op.getState())
    if (state.getType() != paramType)
      return op.emitOpError("state type ")
             << state.getType() << " differs from parameter type " << paramType;
  if (op.getState().size() != op.getNumStateTensors())
    return op.emitOpError("expects ")
           << op.getNumStateTensors() << " state tensors, got "
           << op.getState().size();
  if (op.getHyper().getType().getDimSize(0) != kNumHyperSlots)
    return op.emitOpError("hyperparameters must be tensor<")
           << static_cast<int64_t>(kNumHyperSlots) << "xf32>";
  return success();
}

#define NN_UPDATE_OP(OP)                                                       \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location>,  \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    return inferUpdateTypes<OP>(adaptor, types);                               \
  }                                                                            \
  LogicalResult OP::verify() { return verifyUpdate(*this); }
NN_UPDATE_OP(SGDUpdateOp)
NN_UPDATE_OP(AdamUpdateOp)
NN_UPDATE_OP(AdagradUpdateOp)
#undef NN_UPDATE_OP

template <typename OpT>
static LogicalResult verifyONNXUpdate(OpT op) {
  Type type = op.getX().getType();
  for (Value state : op.getState())
    if (state.getType() != type)
      return op.emitOpError("state type ")
             << state.getType() << " differs from the tensor's type " << type;
  if (op.getState().size() != op.getNumStateTensors())
    return op.emitOpError("expects ")
           << op.getNumStateTensors() << " state tensors, got "
           << op.getState().size();
  if (op.getR().getType().getElementType() !=
      cast<RankedTensorType>(type).getElementType())
    return op.emitOpError("learning rate element type differs from the "
                          "tensor's");
  return success();
}

#define NN_ONNX_UPDATE_OP(OP)                                                  \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location>,  \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    types.push_back(adaptor.getX().getType());                                 \
    for (Value state : adaptor.getState())                                     \
      types.push_back(state.getType());                                        \
    return success();                                                          \
  }                                                                            \
  LogicalResult OP::verify() { return verifyONNXUpdate(*this); }
NN_ONNX_UPDATE_OP(ONNXAdagradOp)
NN_ONNX_UPDATE_OP(ONNXMomentumOp)
NN_ONNX_UPDATE_OP(ONNXAdamOp)
#undef NN_ONNX_UPDATE_OP

//===----------------------------------------------------------------------===//
// Training-mode behaviour
//===----------------------------------------------------------------------===//

LogicalResult DropoutMaskOp::verify() {
  double ratio = getRatio().convertToDouble();
  if (!(ratio >= 0.0 && ratio < 1.0))
    return emitOpError("ratio must be in [0, 1), got ") << ratio;
  if (getHyper() && getHyper().getType().getDimSize(0) != kNumHyperSlots)
    return emitOpError("hyperparameters must be tensor<")
           << static_cast<int64_t>(kNumHyperSlots) << "xf32>";
  return success();
}

LogicalResult SampleMaskOp::verify() {
  auto type = cast<RankedTensorType>(getType());
  if (type.getRank() == 0 ||
      llvm::any_of(type.getShape().drop_front(), [](int64_t d) { return d != 1; }))
    return emitOpError("result must have shape [N, 1, ...], got ")
           << formatShape(type.getShape());
  return success();
}

OpFoldResult SampleMaskOp::fold(FoldAdaptor) {
  if (getCount()) // Known only when the step runs.
    return {};
  auto type = cast<RankedTensorType>(getType());
  return DenseElementsAttr::get(
      type, FloatAttr::get(type.getElementType(), 1.0));
}

LogicalResult RunningUpdateOp::verify() {
  auto arg = dyn_cast<BlockArgument>(getParam());
  auto func = arg ? dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp())
                  : FunctionOpInterface();
  if (!func || !func.getArgAttr(arg.getArgNumber(), kParamAttr))
    return emitOpError("updates a value that is not a parameter argument of "
                       "the function");
  return success();
}

unsigned SGDUpdateOp::getNumStateTensors() {
  return getMomentum().convertToDouble() != 0.0 ? 1 : 0;
}
unsigned AdamUpdateOp::getNumStateTensors() { return getAmsgrad() ? 3 : 2; }
unsigned AdagradUpdateOp::getNumStateTensors() { return 1; }

#define GET_OP_CLASSES
#include "nncc/Dialect/NN/IR/NNOps.cpp.inc"
