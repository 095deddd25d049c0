//===- ModelInterface.cpp - What a generated library exposes -------------===//

#include "nncc/Target/ModelInterface.h"

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace nncc;

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

uint64_t TensorSpec::sizeInBytes() const {
  return static_cast<uint64_t>(numElements()) * (dtype == DType::Int64 ? 8 : 4);
}

uint64_t nncc::layOutTensors(const std::vector<TensorSpec> &specs,
                             std::vector<uint64_t> *offsets) {
  uint64_t bytes = 0;
  for (const TensorSpec &spec : specs) {
    bytes = llvm::alignTo(bytes, kParamAlignment);
    if (offsets)
      offsets->push_back(bytes);
    bytes += spec.sizeInBytes();
  }
  return llvm::alignTo(bytes, kParamAlignment);
}

uint64_t ModelInterface::fingerprint() const {
  // FNV-1a over a canonical description: stable across compilers and runs.
  uint64_t hash = 0xCBF29CE484222325ull;
  auto add = [&](llvm::StringRef text) {
    for (unsigned char c : text) {
      hash ^= c;
      hash *= 0x100000001B3ull;
    }
  };
  auto addSpecs = [&](llvm::StringRef what,
                      const std::vector<TensorSpec> &specs) {
    add(what);
    for (const TensorSpec &spec : specs) {
      add(spec.name);
      add(":" + std::to_string(static_cast<int32_t>(spec.dtype)));
      for (int64_t d : spec.shape)
        add("," + std::to_string(d));
      add(";");
    }
  };
  addSpecs("params", params);
  for (bool w : written)
    add(w ? "t" : "f");
  addSpecs("states", states);
  add("optimizer:" + optimizer);
  return hash;
}

static FailureOr<TensorSpec> makeSpec(Location loc, StringRef name, Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return emitError(loc) << "'" << name << "' has type " << type
                          << "; the library needs statically shaped tensors";
  TensorSpec spec;
  spec.name = name.str();
  spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  Type elem = tensor.getElementType();
  if (elem.isF32())
    spec.dtype = DType::Float;
  else if (elem.isInteger(64))
    spec.dtype = DType::Int64;
  else if (elem.isInteger(32))
    spec.dtype = DType::Int32;
  else
    return emitError(loc) << "'" << name << "' has element type " << elem
                          << ", which the library interface does not support";
  return spec;
}

static StringRef stringAttr(DictionaryAttr attrs, StringRef key) {
  if (!attrs)
    return {};
  auto value = dyn_cast_or_null<StringAttr>(attrs.get(key));
  return value ? value.getValue() : StringRef();
}

FailureOr<ModelInterface> nncc::readModelInterface(ModuleOp module) {
  ModelInterface iface;
  auto forward = module.lookupSymbol<func::FuncOp>(nn::kForwardFunc);
  if (!forward)
    return emitError(module.getLoc()) << "no @forward function";
  if (auto threads = module->getAttrOfType<IntegerAttr>(nn::kThreadsAttr))
    iface.threads = static_cast<int32_t>(threads.getInt());
  if (auto batch = module->getAttrOfType<IntegerAttr>(nn::kBatchSizeAttr))
    iface.batchSize = batch.getInt();

  for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
    DictionaryAttr attrs = forward.getArgAttrDict(i);
    StringRef role = stringAttr(attrs, nn::kRoleAttr);
    StringRef name = stringAttr(attrs, nn::kNameAttr);
    FailureOr<TensorSpec> spec =
        makeSpec(forward.getLoc(), name, forward.getArgument(i).getType());
    if (failed(spec))
      return failure();
    if (role == nn::kRoleParam) {
      auto init =
          dyn_cast_or_null<DenseElementsAttr>(attrs.get(nn::kParamAttr));
      if (!init)
        return emitError(forward.getLoc())
               << "parameter '" << name << "' has no dense initial value";
      iface.params.push_back(*spec);
      iface.initialValues.push_back(init);
    } else if (role == nn::kRoleInput) {
      iface.inputs.push_back(*spec);
    } else {
      return emitError(forward.getLoc())
             << "argument " << i << " of @forward has no valid nn.role";
    }
  }
  for (unsigned i = 0; i < forward.getNumResults(); ++i) {
    StringRef name = stringAttr(forward.getResultAttrDict(i), nn::kNameAttr);
    FailureOr<TensorSpec> spec = makeSpec(
        forward.getLoc(), name, forward.getFunctionType().getResult(i));
    if (failed(spec))
      return failure();
    iface.outputs.push_back(*spec);
  }

  auto trainStep = module.lookupSymbol<func::FuncOp>(nn::kTrainStepFunc);
  if (!trainStep)
    return iface;
  iface.trainable = true;
  for (unsigned i = 0; i < trainStep.getNumArguments(); ++i) {
    DictionaryAttr attrs = trainStep.getArgAttrDict(i);
    if (stringAttr(attrs, nn::kRoleAttr) == nn::kRoleParam) {
      iface.written.push_back(!attrs.get(nn::kFrozenAttr) ||
                              attrs.get(nn::kRunningAttr));
      iface.running.push_back(attrs.get(nn::kRunningAttr) != nullptr);
    }
  }
  for (unsigned i = 0; i < trainStep.getNumArguments(); ++i) {
    DictionaryAttr attrs = trainStep.getArgAttrDict(i);
    StringRef role = stringAttr(attrs, nn::kRoleAttr);
    if (role != nn::kRoleTarget && role != nn::kRoleState)
      continue;
    FailureOr<TensorSpec> spec =
        makeSpec(trainStep.getLoc(), stringAttr(attrs, nn::kNameAttr),
                 trainStep.getArgument(i).getType());
    if (failed(spec))
      return failure();
    (role == nn::kRoleTarget ? iface.targets : iface.states).push_back(*spec);
  }
  auto number = [&](StringRef name, double &value) {
    if (auto attr = trainStep->getAttrOfType<FloatAttr>(name))
      value = attr.getValueAsDouble();
  };
  number(nn::kBeta1Attr, iface.beta1);
  number(nn::kBeta2Attr, iface.beta2);
  number(nn::kLRDecayAttr, iface.lrDecay);
  number(nn::kWeightDecayAttr, iface.weightDecay);
  // Cross-entropy: the classes are the last axis of the loss output, and
  // the ignored index is the loss op's.
  trainStep.walk([&](nn::CrossEntropyLossOp op) {
    iface.numClasses = op.getInput().getType().getShape().back();
    iface.ignoreIndex = op.getIgnoreIndex();
  });
  if (auto lr = trainStep->getAttrOfType<FloatAttr>(nn::kLearningRateAttr))
    iface.learningRate = static_cast<float>(lr.getValueAsDouble());
  if (auto loss = trainStep->getAttrOfType<StringAttr>(nn::kLossAttr))
    iface.loss = loss.str();
  if (auto opt = trainStep->getAttrOfType<StringAttr>(nn::kOptimizerAttr))
    iface.optimizer = opt.str();
  return iface;
}
