//===- ImportWindowOps.cpp - ONNX convolution, pooling, batch norm -------===//
//
// Importers of Conv, MaxPool, AveragePool, GlobalAveragePool and
// BatchNormalization. Window attributes are checked here, with the same
// geometry the nn ops verify with, so that a bad model gets a diagnostic
// that names the node.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <numeric>

using namespace mlir;
using namespace nncc;
using namespace nncc::nn;
using namespace nncc::onnx_import;

namespace {

/// The window attributes shared by Conv and the pools.
struct WindowAttrs {
  SmallVector<int64_t> kernel, strides, pads, dilations;
};

} // namespace

/// Reads kernel_shape (or takes `kernel`), strides, dilations, pads and
/// auto_pad for `spatial` dimensions of `input` (the spatial sizes).
static FailureOr<WindowAttrs>
readWindow(const NodeAttributes &attrs, Location loc, StringRef opName,
           ArrayRef<int64_t> input, std::optional<ArrayRef<int64_t>> kernel,
           bool hasDilations) {
  size_t spatial = input.size();
  WindowAttrs w;
  FailureOr<std::optional<SmallVector<int64_t>>> kernelShape =
      attrs.getInts(loc, "kernel_shape");
  FailureOr<std::optional<SmallVector<int64_t>>> strides =
      attrs.getInts(loc, "strides");
  FailureOr<std::optional<SmallVector<int64_t>>> pads =
      attrs.getInts(loc, "pads");
  FailureOr<std::optional<SmallVector<int64_t>>> dilations =
      hasDilations ? attrs.getInts(loc, "dilations")
                   : FailureOr<std::optional<SmallVector<int64_t>>>(
                         std::optional<SmallVector<int64_t>>());
  FailureOr<std::string> autoPad = attrs.getString(loc, "auto_pad", "NOTSET");
  if (failed(kernelShape) || failed(strides) || failed(pads) ||
      failed(dilations) || failed(autoPad))
    return failure();
  if (*kernelShape) {
    w.kernel = **kernelShape;
    if (kernel && ArrayRef<int64_t>(w.kernel) != *kernel)
      return emitError(loc) << opName << " kernel_shape "
                            << shapeString(w.kernel)
                            << " differs from the weight's "
                            << shapeString(*kernel);
  } else if (kernel) {
    w.kernel.assign(kernel->begin(), kernel->end());
  } else {
    return emitError(loc) << opName << " needs a kernel_shape";
  }
  w.strides = *strides ? **strides : SmallVector<int64_t>(spatial, 1);
  w.dilations = *dilations ? **dilations : SmallVector<int64_t>(spatial, 1);
  w.pads = *pads ? **pads : SmallVector<int64_t>(2 * spatial, 0);
  if (w.kernel.size() != spatial || w.strides.size() != spatial ||
      w.dilations.size() != spatial || w.pads.size() != 2 * spatial)
    return emitError(loc) << opName << " kernel_shape, strides and dilations "
                          << "need " << spatial << " values and pads "
                          << 2 * spatial << ", for an input with " << spatial
                          << " spatial dimensions";
  for (size_t i = 0; i < spatial; ++i)
    if (w.kernel[i] < 1 || w.strides[i] < 1 || w.dilations[i] < 1)
      return emitError(loc) << opName << " kernel_shape, strides and "
                            << "dilations must be positive";
  if (*autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER") {
    // The output has ceil(input / stride) elements; the padding that takes
    // goes at the end first (SAME_UPPER) or at the beginning first.
    for (size_t i = 0; i < spatial; ++i) {
      int64_t out = (input[i] + w.strides[i] - 1) / w.strides[i];
      int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
      int64_t total =
          std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - input[i]);
      int64_t small = total / 2, large = total - small;
      bool upper = *autoPad == "SAME_UPPER";
      w.pads[i] = upper ? small : large;
      w.pads[i + spatial] = upper ? large : small;
    }
  } else if (*autoPad == "VALID") {
    w.pads.assign(2 * spatial, 0);
  } else if (*autoPad != "NOTSET") {
    return emitError(loc) << opName << " auto_pad '" << *autoPad
                          << "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, "
                             "VALID";
  }
  return w;
}

/// Emits the geometry's diagnostic at `loc` when the window does not fit.
static LogicalResult checkWindow(Location loc, ArrayRef<int64_t> input,
                                 const WindowAttrs &w, bool ceilMode) {
  return computeWindow(loc, input, w.kernel, w.strides, w.pads, w.dilations,
                       ceilMode);
}

LogicalResult Importer::importConv(const onnx::NodeProto &node,
                                   Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 3)) ||
      failed(attrs.checkKnown(loc, node,
                              {"auto_pad", "dilations", "group",
                               "kernel_shape", "pads", "strides"})))
    return failure();
  FailureOr<Value> x = floatOperandOfRank(node, 0, loc, 3);
  FailureOr<Value> w =
      failed(x) ? FailureOr<Value>(failure()) : floatOperand(node, 1, loc);
  FailureOr<int64_t> groups =
      failed(w) ? FailureOr<int64_t>(failure()) : attrs.getInt(loc, "group", 1);
  if (failed(groups))
    return failure();
  RankedTensorType xType = tensorType(*x), wType = tensorType(*w);
  if (wType.getRank() != xType.getRank())
    return emitError(loc) << "Conv weight " << shapeString(wType.getShape())
                          << " and input " << shapeString(xType.getShape())
                          << " differ in rank";
  int64_t channels = xType.getDimSize(1), filters = wType.getDimSize(0);
  if (*groups < 1 || channels % *groups != 0 || filters % *groups != 0 ||
      wType.getDimSize(1) * *groups != channels)
    return emitError(loc) << "Conv with group " << *groups << ": input "
                          << shapeString(xType.getShape()) << " and weight "
                          << shapeString(wType.getShape())
                          << " do not agree on channels";
  ArrayRef<int64_t> spatial = xType.getShape().drop_front(2);
  FailureOr<WindowAttrs> window =
      readWindow(attrs, loc, "Conv", spatial, wType.getShape().drop_front(2),
                 /*hasDilations=*/true);
  if (failed(window) ||
      failed(checkWindow(loc, spatial, *window, /*ceilMode=*/false)))
    return failure();
  Value y = builder.create<ConvOp>(loc, *x, *w, window->strides, window->pads,
                                   window->dilations, *groups);
  if (hasInput(node, 2)) {
    FailureOr<Value> bias = floatOperand(node, 2, loc);
    if (failed(bias))
      return failure();
    if (tensorType(*bias).getShape() != ArrayRef<int64_t>{filters})
      return emitError(loc) << "Conv bias of shape "
                            << shapeString(tensorType(*bias).getShape())
                            << " is not [" << filters << "]";
    // [F] broadcast over [N, F, spatial...] as [F, 1, ...].
    SmallVector<int64_t> shape(1 + spatial.size(), 1);
    shape[0] = filters;
    y = builder.create<AddOp>(loc, y,
                              builder.create<ReshapeOp>(loc, *bias, shape));
  }
  return define(node, loc, y);
}

LogicalResult Importer::importPool(const onnx::NodeProto &node,
                                   Location loc) {
  NodeAttributes attrs(node);
  bool isMax = node.op_type() == "MaxPool";
  if (failed(checkArity(node, loc, 1, 1, 1, isMax ? 2 : 1)) ||
      failed(attrs.checkKnown(
          loc, node,
          isMax ? ArrayRef<StringRef>{"auto_pad", "ceil_mode", "dilations",
                                      "kernel_shape", "pads",
                                      "storage_order", "strides"}
                : ArrayRef<StringRef>{"auto_pad", "ceil_mode",
                                      "count_include_pad", "kernel_shape",
                                      "pads", "strides"})))
    return failure();
  if (node.output_size() == 2 && !node.output(1).empty() &&
      failed(defineUnavailable(
          node, 1, loc,
          "it is MaxPool's Indices output, which nncc does not compute (it "
          "serves MaxUnpool, which nncc does not import; MaxPool trains "
          "without it: export with return_indices=False)")))
    return failure();
  FailureOr<bool> ceilMode = attrs.getFlag(loc, "ceil_mode");
  FailureOr<bool> includePad = attrs.getFlag(loc, "count_include_pad");
  FailureOr<Value> x = failed(ceilMode) || failed(includePad)
                           ? FailureOr<Value>(failure())
                           : floatOperandOfRank(node, 0, loc, 3);
  if (failed(x))
    return failure();
  ArrayRef<int64_t> spatial = tensorType(*x).getShape().drop_front(2);
  FailureOr<WindowAttrs> window = readWindow(attrs, loc, node.op_type(),
                                             spatial, std::nullopt, isMax);
  if (failed(window) || failed(checkWindow(loc, spatial, *window, *ceilMode)))
    return failure();
  for (size_t i = 0; i < spatial.size(); ++i) {
    int64_t extent = (window->kernel[i] - 1) * window->dilations[i] + 1;
    if (window->pads[i] >= extent || window->pads[i + spatial.size()] >= extent)
      return emitError(loc) << node.op_type() << " pads "
                            << shapeString(window->pads)
                            << " must be smaller than the window";
  }
  return define(node, loc,
                builder.create<PoolOp>(
                    loc, isMax ? PoolKind::max : PoolKind::avg, *x,
                    window->kernel, window->strides, window->pads,
                    window->dilations, *ceilMode, *includePad));
}

LogicalResult Importer::importGlobalAveragePool(const onnx::NodeProto &node,
                                                Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> x = floatOperandOfRank(node, 0, loc, 3);
  if (failed(x))
    return failure();
  RankedTensorType type = tensorType(*x);
  SmallVector<int64_t> axes;
  int64_t count = 1;
  for (int64_t i = 2; i < type.getRank(); ++i) {
    axes.push_back(i);
    count *= type.getDimSize(i);
  }
  Value sum = builder.create<ReduceSumOp>(loc, *x, axes, /*keep_dims=*/true);
  return define(node, loc,
                builder.create<MulOp>(
                    loc, sum,
                    createScalarConstant(builder, loc, type.getElementType(),
                                         1.0 / static_cast<double>(count))));
}

LogicalResult Importer::importBatchNorm(const onnx::NodeProto &node,
                                        Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 5, 5, 1, 3)) ||
      failed(attrs.checkKnown(
          loc, node, {"epsilon", "momentum", "training_mode", "spatial"})))
    return failure();
  FailureOr<float> epsilon = attrs.getFloat(loc, "epsilon", 1e-5f);
  FailureOr<float> momentum = attrs.getFloat(loc, "momentum", 0.9f);
  FailureOr<bool> training = attrs.getFlag(loc, "training_mode");
  FailureOr<int64_t> spatialAttr = attrs.getInt(loc, "spatial", 1);
  if (failed(epsilon) || failed(momentum) || failed(training) ||
      failed(spatialAttr))
    return failure();
  if (*spatialAttr != 1)
    return emitError(loc) << "BatchNormalization with spatial=0 is not "
                             "supported";
  FailureOr<Value> x = floatOperandOfRank(node, 0, loc, 2);
  if (failed(x))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t channels = type.getDimSize(1);
  SmallVector<Value> stats; // scale, bias, mean, variance
  for (int i = 1; i < 5; ++i) {
    FailureOr<Value> v = floatOperand(node, i, loc);
    if (failed(v))
      return failure();
    if (tensorType(*v).getShape() != ArrayRef<int64_t>{channels})
      return emitError(loc) << "BatchNormalization input " << i << " ('"
                            << node.input(i) << "') has shape "
                            << shapeString(tensorType(*v).getShape())
                            << ", not [" << channels << "]";
    stats.push_back(*v);
  }
  bool wantsRunning = node.output_size() > 1;
  if (wantsRunning && !*training)
    return emitError(loc) << "BatchNormalization has running-statistics "
                             "outputs only in training mode";
  // The running statistics are model state, not trainable parameters.
  for (Value v : {stats[2], stats[3]})
    if (auto arg = dyn_cast<BlockArgument>(v))
      if (auto func = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
        func.setArgAttr(arg.getArgNumber(), kFrozenAttr,
                        builder.getUnitAttr());
  // [C] broadcast over [N, C, spatial...] as [C, 1, ...].
  SmallVector<int64_t> channelShape(type.getRank() - 1, 1);
  channelShape[0] = channels;
  auto perChannel = [&](Value v) -> Value {
    return builder.create<ReshapeOp>(loc, v, channelShape);
  };
  Type elem = type.getElementType();
  auto scalar = [&](double value) {
    return createScalarConstant(builder, loc, elem, value);
  };
  auto normalize = [&](Value centered, Value variance) -> Value {
    Value inverseStd = builder.create<ReciprocalOp>(
        loc, builder.create<SqrtOp>(
                 loc, builder.create<AddOp>(loc, variance, scalar(*epsilon))));
    return builder.create<AddOp>(
        loc,
        builder.create<MulOp>(
            loc, builder.create<MulOp>(loc, centered, inverseStd),
            perChannel(stats[0])),
        perChannel(stats[1]));
  };
  Value inference =
      normalize(builder.create<SubOp>(loc, *x, perChannel(stats[2])),
                perChannel(stats[3]));
  if (!*training)
    return define(node, loc, inference);

  // Batch statistics over the real samples of the batch: a training step's
  // partial batch has padding after them.
  SmallVector<int64_t> axes = {0}, maskShape(type.getRank(), 1);
  maskShape[0] = type.getDimSize(0);
  int64_t spatial = 1;
  for (int64_t i = 2; i < type.getRank(); ++i) {
    axes.push_back(i);
    spatial *= type.getDimSize(i);
  }
  Value samples = builder.create<SampleMaskOp>(
      loc, RankedTensorType::get(maskShape, elem), /*count=*/Value());
  SmallVector<int64_t> allAxes(type.getRank());
  std::iota(allAxes.begin(), allAxes.end(), 0);
  // With --sync-batch-norm, the sums and the count are the global batch's:
  // summed across the processes of a data-parallel step.
  auto global = [&](Value partial) -> Value {
    if (!options.syncBatchNorm || !elem.isF32())
      return partial;
    return builder.create<AllReduceSumOp>(loc, partial);
  };
  Value count = global(builder.create<MulOp>(
      loc, builder.create<ReduceSumOp>(loc, samples, allAxes, true),
      scalar(static_cast<double>(spatial))));
  auto batchMean = [&](Value v) -> Value {
    return builder.create<DivOp>(
        loc,
        global(builder.create<ReduceSumOp>(
            loc, builder.create<MulOp>(loc, v, samples), axes, true)),
        count);
  };
  Value mean = batchMean(*x);
  Value centered = builder.create<SubOp>(loc, *x, mean);
  // The population variance normalizes, as ONNX and PyTorch specify.
  Value variance = batchMean(builder.create<MulOp>(loc, centered, centered));
  Value y = builder.create<TrainingSelectOp>(
      loc, normalize(centered, variance), inference);
  if (failed(define(node, loc, y)))
    return failure();

  // running = running * momentum + current * (1 - momentum).
  auto blend = [&](Value running, Value current) -> Value {
    return builder.create<AddOp>(
        loc, builder.create<MulOp>(loc, running, scalar(*momentum)),
        builder.create<MulOp>(
            loc,
            builder.create<ReshapeOp>(loc, current,
                                      ArrayRef<int64_t>{channels}),
            scalar(1.0 - *momentum)));
  };
  // A training step updates running statistics kept in the model as
  // torch.nn.BatchNorm does, with the unbiased variance.
  Value unbiased = builder.create<MulOp>(
      loc, variance,
      builder.create<DivOp>(
          loc, count, builder.create<SubOp>(loc, count, scalar(1.0))));
  for (auto [stat, current] : {std::pair(stats[2], mean),
                               std::pair(stats[3], unbiased)}) {
    auto arg = dyn_cast<BlockArgument>(stat);
    auto func = arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp())
                    : func::FuncOp();
    if (func && func.getArgAttr(arg.getArgNumber(), kParamAttr))
      builder.create<RunningUpdateOp>(loc, stat, blend(stat, current));
  }
  // The node's own running-statistics outputs, as ONNX defines them (with
  // the population variance); inference leaves the statistics as they are.
  for (int i = 1; i < node.output_size(); ++i) {
    if (node.output(i).empty())
      continue;
    Value running = stats[1 + i];
    Value updated = blend(running, i == 1 ? mean : variance);
    if (failed(defineOutput(
            node, i, loc,
            builder.create<TrainingSelectOp>(loc, updated, running))))
      return failure();
  }
  return success();
}
