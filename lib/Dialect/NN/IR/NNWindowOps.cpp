//===- NNWindowOps.cpp - Convolution and pooling ops ---------------------===//
//
// Window geometry, type inference and verifiers of nn.conv, nn.pool and
// their gradients.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace nncc::nn;

FailureOr<WindowGeometry>
nncc::nn::computeWindow(std::optional<Location> loc,
                        ArrayRef<int64_t> inputSpatial,
                        ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                        ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                        bool ceilMode) {
  size_t rank = inputSpatial.size();
  if (rank == 0)
    return emitOptionalError(loc, "input needs at least one spatial "
                                  "dimension after [N, C]");
  if (kernel.size() != rank || strides.size() != rank ||
      dilations.size() != rank || pads.size() != 2 * rank)
    return emitOptionalError(
        loc, "kernel, strides and dilations need one entry per spatial "
             "dimension (",
        rank, ") and pads two (beginnings, then ends)");
  WindowGeometry window;
  window.input.assign(inputSpatial.begin(), inputSpatial.end());
  window.kernel.assign(kernel.begin(), kernel.end());
  window.strides.assign(strides.begin(), strides.end());
  window.dilations.assign(dilations.begin(), dilations.end());
  window.padBegin.assign(pads.begin(), pads.begin() + rank);
  window.padEnd.assign(pads.begin() + rank, pads.end());
  for (size_t i = 0; i < rank; ++i) {
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return emitOptionalError(loc, "kernel size, stride and dilation must be "
                                    "positive, got ",
                               kernel[i], ", ", strides[i], ", ", dilations[i],
                               " in spatial dimension ", i);
    if (window.padBegin[i] < 0 || window.padEnd[i] < 0)
      return emitOptionalError(loc, "pads must not be negative");
    int64_t span = inputSpatial[i] + window.padBegin[i] + window.padEnd[i] -
                   window.extent(i);
    if (span < 0)
      return emitOptionalError(loc, "the window (extent ", window.extent(i),
                               ") is larger than the padded input (",
                               inputSpatial[i] + window.padBegin[i] +
                                   window.padEnd[i],
                               ") in spatial dimension ", i);
    int64_t out = span / strides[i] + 1;
    if (ceilMode && span % strides[i] != 0) {
      ++out;
      // The last window must start inside the input or its front padding.
      if ((out - 1) * strides[i] >= inputSpatial[i] + window.padBegin[i])
        --out;
    }
    window.output.push_back(out);
  }
  return window;
}

SmallVector<float> nncc::nn::averagePoolDivisors(const WindowGeometry &window,
                                                 bool countIncludePad) {
  // Per dimension, how many positions of each window count; the divisor of a
  // window is their product.
  SmallVector<SmallVector<int64_t>> counts;
  for (int64_t d = 0; d < window.rank(); ++d) {
    SmallVector<int64_t> perOutput;
    for (int64_t o = 0; o < window.output[d]; ++o) {
      int64_t count = 0;
      for (int64_t k = 0; k < window.kernel[d]; ++k) {
        int64_t at = o * window.strides[d] + k * window.dilations[d] -
                     window.padBegin[d];
        bool inInput = at >= 0 && at < window.input[d];
        bool inPadding = at >= -window.padBegin[d] &&
                         at < window.input[d] + window.padEnd[d];
        count += countIncludePad ? inPadding : inInput;
      }
      perOutput.push_back(std::max<int64_t>(count, 1));
    }
    counts.push_back(perOutput);
  }
  SmallVector<float> divisors = {1.0f};
  for (const SmallVector<int64_t> &perOutput : counts) {
    SmallVector<float> next;
    for (float outer : divisors)
      for (int64_t count : perOutput)
        next.push_back(outer * count);
    divisors = std::move(next);
  }
  return divisors;
}

/// Checks `[N, C, spatial...]` against the window's attributes.
static FailureOr<WindowGeometry>
windowOf(std::optional<Location> loc, ArrayRef<int64_t> inputShape,
         ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
         ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations, bool ceilMode) {
  if (inputShape.size() < 3)
    return emitOptionalError(loc, "input must be [N, C, spatial...], got ",
                             formatShape(inputShape));
  return computeWindow(loc, inputShape.drop_front(2), kernel, strides, pads,
                       dilations, ceilMode);
}

/// The result shape of a convolution of `inputShape` by `weightShape`.
static FailureOr<SmallVector<int64_t>>
convResultShape(std::optional<Location> loc, ArrayRef<int64_t> inputShape,
                ArrayRef<int64_t> weightShape, ArrayRef<int64_t> strides,
                ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                int64_t groups) {
  if (weightShape.size() != inputShape.size())
    return emitOptionalError(loc, "weight ", formatShape(weightShape),
                             " and input ", formatShape(inputShape),
                             " differ in rank");
  FailureOr<WindowGeometry> window =
      windowOf(loc, inputShape, weightShape.drop_front(2), strides, pads,
               dilations, /*ceilMode=*/false);
  if (failed(window))
    return failure();
  int64_t channels = inputShape[1], filters = weightShape[0];
  if (groups < 1 || channels % groups != 0 || filters % groups != 0)
    return emitOptionalError(loc, "groups ", groups, " must divide the ",
                             channels, " input channels and the ", filters,
                             " filters");
  if (weightShape[1] * groups != channels)
    return emitOptionalError(loc, "weight ", formatShape(weightShape),
                             " expects ", weightShape[1] * groups,
                             " input channels, the input has ", channels);
  SmallVector<int64_t> shape = {inputShape[0], filters};
  llvm::append_range(shape, window->output);
  return shape;
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
  if (inputType.getElementType() != weightType.getElementType())
    return emitOptionalError(loc, "input and weight element types differ");
  FailureOr<SmallVector<int64_t>> shape = convResultShape(
      loc, inputType.getShape(), weightType.getShape(), adaptor.getStrides(),
      adaptor.getPads(), adaptor.getDilations(), adaptor.getGroups());
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, inputType.getElementType()));
  return success();
}

LogicalResult ConvGradInputOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location>,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  auto gradType = cast<RankedTensorType>(adaptor.getGrad().getType());
  types.push_back(RankedTensorType::get(adaptor.getInputShape(),
                                        gradType.getElementType()));
  return success();
}

/// Checks that `grad` has the shape of the convolution's result.
static LogicalResult verifyConvGrad(Operation *op, ArrayRef<int64_t> inputShape,
                                    ArrayRef<int64_t> weightShape,
                                    ArrayRef<int64_t> gradShape,
                                    ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> pads,
                                    ArrayRef<int64_t> dilations,
                                    int64_t groups) {
  FailureOr<SmallVector<int64_t>> shape =
      convResultShape(op->getLoc(), inputShape, weightShape, strides, pads,
                      dilations, groups);
  if (failed(shape))
    return failure();
  if (ArrayRef<int64_t>(*shape) != gradShape)
    return op->emitOpError("gradient of shape ")
           << formatShape(gradShape)
           << " is not that of the convolution's result "
           << formatShape(*shape);
  return success();
}

LogicalResult ConvGradInputOp::verify() {
  return verifyConvGrad(*this, getInputShape(),
                        getWeight().getType().getShape(),
                        getGrad().getType().getShape(), getStrides(),
                        getPads(), getDilations(), getGroups());
}

LogicalResult ConvGradWeightOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto gradType = cast<RankedTensorType>(adaptor.getGrad().getType());
  types.push_back(RankedTensorType::get(adaptor.getWeightShape(),
                                        gradType.getElementType()));
  return success();
}

LogicalResult ConvGradWeightOp::verify() {
  return verifyConvGrad(*this, getInput().getType().getShape(),
                        getWeightShape(), getGrad().getType().getShape(),
                        getStrides(), getPads(), getDilations(), getGroups());
}

LogicalResult PoolOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto inputType = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<WindowGeometry> window =
      windowOf(loc, inputType.getShape(), adaptor.getKernel(),
               adaptor.getStrides(), adaptor.getPads(), adaptor.getDilations(),
               adaptor.getCeilMode());
  if (failed(window))
    return failure();
  for (int64_t d = 0; d < window->rank(); ++d)
    if (window->padBegin[d] >= window->extent(d) ||
        window->padEnd[d] >= window->extent(d))
      return emitOptionalError(loc, "padding must be smaller than the window");
  SmallVector<int64_t> shape(inputType.getShape().take_front(2));
  llvm::append_range(shape, window->output);
  types.push_back(RankedTensorType::get(shape, inputType.getElementType()));
  return success();
}

LogicalResult PoolGradOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult PoolGradOp::verify() {
  FailureOr<WindowGeometry> window =
      windowOf(getLoc(), getInput().getType().getShape(), getKernel(),
               getStrides(), getPads(), getDilations(), getCeilMode());
  if (failed(window))
    return failure();
  SmallVector<int64_t> shape(getInput().getType().getShape().take_front(2));
  llvm::append_range(shape, window->output);
  if (ArrayRef<int64_t>(shape) != getGrad().getType().getShape())
    return emitOpError("gradient of shape ")
           << formatShape(getGrad().getType().getShape())
           << " is not that of the pooling's result " << formatShape(shape);
  return success();
}
