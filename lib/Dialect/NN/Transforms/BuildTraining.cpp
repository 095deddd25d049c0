//===- BuildTraining.cpp - Loss, reverse-mode autodiff, optimizer --------===//
//
// Implements nn-build-training: builds @train_step from @forward. The backward
// pass is reverse-mode automatic differentiation over the straight-line body
// of @forward: ops are visited in reverse order (a reverse topological order,
// since a block lists every def before its uses) and each asks its
// GradientOpInterface for the gradients of its operands.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>
#include <cstdio>

namespace nncc::nn {
#define GEN_PASS_DEF_NNBUILDTRAINING
#define GEN_PASS_DEF_NNSPECIALIZEINFERENCE
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

namespace {

/// Accumulates the gradients of values: several uses of a value each
/// contribute a gradient, and the gradient of the value is their sum. A
/// slice's gradient (nn.slice_grad, zeros but for the slice) is added over
/// the slice alone (nn.slice_add): the gradient of a tensor that T time
/// steps each slice was otherwise T zero-filled full tensors and T full
/// additions.
class GradientMap {
public:
  void accumulate(OpBuilder &b, Location loc, Value value, Value grad) {
    auto [it, inserted] = grads.try_emplace(value, grad);
    if (inserted)
      return;
    Value &sum = it->second;
    if (auto slice = grad.getDefiningOp<SliceGradOp>()) {
      sum = addSlice(b, loc, sum, slice);
      return;
    }
    if (auto slice = sum.getDefiningOp<SliceGradOp>()) {
      sum = addSlice(b, loc, grad, slice);
      return;
    }
    sum = b.create<AddOp>(loc, sum, grad);
  }
  Value lookup(Value value) const { return grads.lookup(value); }

private:
  /// `accumulator` + `slice`, computed on the slice's positions; `slice`
  /// is erased when nothing else reads it.
  static Value addSlice(OpBuilder &b, Location loc, Value accumulator,
                        SliceGradOp slice) {
    Value sum = b.create<SliceAddOp>(loc, accumulator, slice.getGrad(),
                                     slice.getStarts(), slice.getStrides());
    if (slice->use_empty())
      slice->erase();
    return sum;
  }

  llvm::DenseMap<Value, Value> grads;
};

struct BuildTraining
    : public nncc::nn::impl::NNBuildTrainingBase<BuildTraining> {
  using NNBuildTrainingBase::NNBuildTrainingBase;
  void runOnOperation() override;
};

struct SpecializeInference
    : public nncc::nn::impl::NNSpecializeInferenceBase<SpecializeInference> {
  void runOnOperation() override {
    if (auto forward =
            getOperation().lookupSymbol<func::FuncOp>(kForwardFunc))
      specializeForInference(forward);
  }
};

} // namespace

/// Values that depend on a parameter: only those need a gradient. Reaching
/// forward over a block in order finds them in one sweep.
static llvm::DenseSet<Value> findActiveValues(Block &body,
                                              ArrayRef<Value> params) {
  llvm::DenseSet<Value> active(params.begin(), params.end());
  for (Operation &op : body) {
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); }))
      active.insert(op.getResults().begin(), op.getResults().end());
  }
  return active;
}

/// Builds the reverse pass of `body` at the end of `body` (before nothing:
/// the caller adds the terminator afterwards), seeded with d(loss)/d(loss)
/// from `hyper`: 1 on one process, this process's share of the global loss
/// in data-parallel training.
static LogicalResult differentiate(OpBuilder &b, Block &body, Value loss,
                                   Value hyper,
                                   const llvm::DenseSet<Value> &active,
                                   GradientMap &grads) {
  Location loc = loss.getLoc();
  Value seed = b.create<SliceOp>(
      loc, hyper, ArrayRef<int64_t>{kHyperGradScale}, ArrayRef<int64_t>{1},
      ArrayRef<int64_t>{1});
  seed = b.create<ReshapeOp>(loc, seed, ArrayRef<int64_t>{});
  Type lossElement = cast<RankedTensorType>(loss.getType()).getElementType();
  if (lossElement != b.getF32Type())
    seed = b.create<CastOp>(loc, RankedTensorType::get({}, lossElement), seed);
  grads.accumulate(b, loc, loss, seed);
  // Snapshot the forward ops: the reverse pass appends to the same block.
  SmallVector<Operation *> forwardOps;
  for (Operation &op : body)
    forwardOps.push_back(&op);

  for (Operation *op : llvm::reverse(forwardOps)) {
    if (!llvm::any_of(op->getResults(),
                      [&](Value r) { return grads.lookup(r); }))
      continue;
    if (!llvm::any_of(op->getOperands(),
                      [&](Value v) { return active.contains(v); }))
      continue;
    auto gradOp = dyn_cast<GradientOpInterface>(op);
    if (!gradOp)
      return op->emitError("cannot differentiate '")
             << op->getName() << "': it has no gradient";

    SmallVector<Value> resultGrads;
    for (Value r : op->getResults()) {
      Value g = grads.lookup(r);
      resultGrads.push_back(
          g ? g
            : createZeroConstant(b, op->getLoc(),
                                 cast<RankedTensorType>(r.getType())));
    }
    SmallVector<Value> operandGrads;
    if (failed(gradOp.buildGradient(b, resultGrads, operandGrads)))
      return op->emitError("failed to build the gradient of '")
             << op->getName() << "'";
    assert(operandGrads.size() == op->getNumOperands() &&
           "buildGradient must give one gradient per operand");
    for (auto [operand, grad] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!grad || !active.contains(operand))
        continue;
      assert(grad.getType() == operand.getType() &&
             "a gradient must have its operand's type");
      grads.accumulate(b, op->getLoc(), operand, grad);
    }
  }
  return success();
}

/// Erases the ops of `body` whose results are unused and that have no side
/// effects: the gradients that buildGradient made for inactive operands.
static void eraseDeadOps(Block &body) {
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body))) {
    if (isOpTriviallyDead(&op))
      op.erase();
  }
}

/// Makes the cloned forward ops of a training step behave as in training:
/// training_select keeps its training value, dropout masks read the step
/// from `hyper`, sample masks the number of real samples from `count`.
/// Returns the new value of each parameter with running statistics, from
/// the running_update ops, which it erases.
static llvm::DenseMap<Value, Value>
specializeForTraining(Block &body, Value count, Value hyper) {
  llvm::DenseMap<Value, Value> running;
  for (Operation &op : llvm::make_early_inc_range(body)) {
    if (auto select = dyn_cast<TrainingSelectOp>(op)) {
      select.replaceAllUsesWith(select.getTraining());
      select.erase();
    } else if (auto mask = dyn_cast<DropoutMaskOp>(op)) {
      mask.getHyperMutable().assign(hyper);
    } else if (auto mask = dyn_cast<SampleMaskOp>(op)) {
      mask.getCountMutable().assign(count);
    } else if (auto update = dyn_cast<RunningUpdateOp>(op)) {
      running[update.getParam()] = update.getValue();
      update.erase();
    }
  }
  return running;
}

void nncc::nn::specializeForInference(func::FuncOp func) {
  func.walk([](Operation *op) {
    if (auto select = dyn_cast<TrainingSelectOp>(op)) {
      select.replaceAllUsesWith(select.getInference());
      select.erase();
    } else if (isa<RunningUpdateOp>(op)) {
      op->erase();
    }
  });
}

static NamedAttribute roleAttr(Builder &b, StringRef role) {
  return b.getNamedAttr(kRoleAttr, b.getStringAttr(role));
}

SmallVector<StringRef>
nncc::nn::optimizerStateNames(const TrainingOptions &options) {
  if (options.optimizer == "sgd")
    return options.momentum != 0.0 ? SmallVector<StringRef>{"momentum_buffer"}
                                   : SmallVector<StringRef>{};
  if (options.optimizer == "adam" || options.optimizer == "adamw") {
    SmallVector<StringRef> names = {"exp_avg", "exp_avg_sq"};
    if (options.amsgrad)
      names.push_back("max_exp_avg_sq");
    return names;
  }
  return {"sum"}; // adagrad
}

/// A number as a user wrote it (%g), not in MLIR's scientific notation.
static std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// Checks the options as torch.optim and torch.nn check theirs.
static LogicalResult checkOptions(Location loc, const TrainingOptions &o) {
  static const char *const losses[] = {"mse", "cross-entropy", "bce", "none"};
  static const char *const optimizers[] = {"sgd", "adam", "adamw", "adagrad"};
  if (!llvm::is_contained(losses, o.loss))
    return emitError(loc) << "unsupported loss '" << o.loss
                          << "' (supported: mse, cross-entropy, bce, none)";
  if (!llvm::is_contained(optimizers, o.optimizer))
    return emitError(loc) << "unsupported optimizer '" << o.optimizer
                          << "' (supported: sgd, adam, adamw, adagrad)";
  auto nonNegative = [&](double value, StringRef what) -> LogicalResult {
    if (value >= 0.0 && std::isfinite(value))
      return success();
    return emitError(loc) << "invalid " << what << " " << formatNumber(value);
  };
  if (failed(nonNegative(o.learningRateOrDefault(), "learning rate")) ||
      failed(nonNegative(o.momentum, "momentum")) ||
      failed(nonNegative(o.dampening, "dampening")) ||
      failed(nonNegative(o.lrDecay, "learning-rate decay")) ||
      (o.eps && failed(nonNegative(*o.eps, "epsilon"))) ||
      (o.weightDecay && failed(nonNegative(*o.weightDecay, "weight decay"))))
    return failure();
  if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0))
    return emitError(loc)
           << "Nesterov momentum requires a momentum and zero dampening";
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0) || !(o.beta2 >= 0.0 && o.beta2 < 1.0))
    return emitError(loc) << "invalid Adam betas (" << formatNumber(o.beta1)
                          << ", " << formatNumber(o.beta2)
                          << "): each must be in [0, 1)";
  if (!(o.labelSmoothing >= 0.0 && o.labelSmoothing <= 1.0))
    return emitError(loc) << "invalid label smoothing "
                          << formatNumber(o.labelSmoothing)
                          << ": it must be in [0, 1]";
  return success();
}

/// The type of the target the loss compares `output` with, or failure.
static FailureOr<RankedTensorType> targetType(func::FuncOp forward,
                                              const TrainingOptions &options,
                                              RankedTensorType output) {
  if (options.loss == "cross-entropy") {
    if (output.getRank() < 2)
      return forward.emitError()
             << "cross-entropy needs logits with a batch and a class "
                "dimension, got "
             << output;
    return RankedTensorType::get(output.getShape().drop_back(),
                                 IntegerType::get(forward.getContext(), 64));
  }
  return output;
}

static Value buildLoss(OpBuilder &b, const TrainingOptions &options,
                       Value output, Value target, Value count) {
  Location loc = output.getLoc();
  if (options.loss == "cross-entropy")
    return b.create<CrossEntropyLossOp>(
        loc, output, target, count, options.ignoreIndex,
        llvm::APFloat(options.labelSmoothing));
  if (options.loss == "bce")
    return b.create<BCEWithLogitsLossOp>(loc, output, target, count);
  if (options.loss == "none")
    return output;
  return b.create<MSELossOp>(loc, output, target, count);
}

/// The optimizer step of one parameter: its new value, then its new state.
static Operation *buildUpdate(OpBuilder &b, Location loc,
                              const TrainingOptions &o, Value param,
                              Value grad, ValueRange state, Value hyper) {
  double weightDecay = o.weightDecay.value_or(o.optimizer == "adamw" ? 0.01
                                                                      : 0.0);
  if (o.optimizer == "sgd")
    return b.create<SGDUpdateOp>(loc, param, grad, state, hyper,
                                 llvm::APFloat(o.momentum),
                                 llvm::APFloat(o.dampening), o.nesterov,
                                 llvm::APFloat(weightDecay));
  if (o.optimizer == "adagrad")
    return b.create<AdagradUpdateOp>(loc, param, grad, state, hyper,
                                     llvm::APFloat(o.eps.value_or(1e-10)),
                                     llvm::APFloat(weightDecay));
  return b.create<AdamUpdateOp>(
      loc, param, grad, state, hyper, llvm::APFloat(o.beta1),
      llvm::APFloat(o.beta2), llvm::APFloat(o.eps.value_or(1e-8)),
      llvm::APFloat(weightDecay), o.optimizer == "adamw", o.amsgrad);
}

LogicalResult nncc::nn::buildTrainStep(ModuleOp module,
                                       const TrainingOptions &options) {
  Location moduleLoc = module.getLoc();
  auto forward = module.lookupSymbol<func::FuncOp>(kForwardFunc);
  if (!forward)
    return emitError(moduleLoc) << "no @" << kForwardFunc << " function";
  if (module.lookupSymbol(kTrainStepFunc))
    return forward.emitError() << "@" << kTrainStepFunc << " already exists";
  if (!forward.getBody().hasOneBlock())
    return forward.emitError("@forward must have exactly one block");
  if (failed(checkOptions(moduleLoc, options)))
    return failure();
  FunctionType forwardType = forward.getFunctionType();
  unsigned lossOutput = options.lossOutput;
  if (!options.lossOutputName.empty()) {
    lossOutput = forwardType.getNumResults();
    for (unsigned i = 0; i < forwardType.getNumResults(); ++i) {
      auto name = forward.getResultAttrOfType<StringAttr>(i, kNameAttr);
      if (name && name.getValue() == options.lossOutputName)
        lossOutput = i;
    }
    if (lossOutput == forwardType.getNumResults())
      return forward.emitError()
             << "the model has no output named '" << options.lossOutputName
             << "'";
  }
  if (lossOutput >= forwardType.getNumResults())
    return forward.emitError() << "loss output " << lossOutput
                               << " is out of range: @forward has "
                               << forwardType.getNumResults() << " results";
  auto outputType =
      dyn_cast<RankedTensorType>(forwardType.getResult(lossOutput));
  bool ownLoss = options.loss == "none";
  if (ownLoss) {
    if (!outputType || !isa<FloatType>(outputType.getElementType()) ||
        outputType.getRank() != 0)
      return forward.emitError()
             << "--loss=none needs an output that is a float scalar loss, got "
             << forwardType.getResult(lossOutput);
  } else {
    if (!outputType || !isa<FloatType>(outputType.getElementType()) ||
        outputType.getRank() == 0)
      return forward.emitError()
             << "the loss needs a float output with a batch dimension, got "
             << forwardType.getResult(lossOutput);
    // The loss averages over the first `count` samples of dimension 0, which
    // therefore must be the batch the library slices its data by.
    if (auto batch = module->getAttrOfType<IntegerAttr>(kBatchSizeAttr))
      if (outputType.getDimSize(0) != batch.getInt())
        return forward.emitError()
               << "the loss output's dimension 0 has size "
               << outputType.getDimSize(0) << ", but the batch is "
               << batch.getInt();
  }
  // Training slices every data input by the batch along dimension 0.
  if (auto batch = module->getAttrOfType<IntegerAttr>(kBatchSizeAttr)) {
    for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
      if (forward.getArgAttr(i, kParamAttr))
        continue;
      auto type = cast<RankedTensorType>(forwardType.getInput(i));
      if (type.getRank() >= 1 && type.getDimSize(0) == batch.getInt())
        continue;
      auto name = forward.getArgAttrOfType<StringAttr>(i, kNameAttr);
      return forward.emitError()
             << "input '" << (name ? name.getValue() : StringRef("?"))
             << "' of type " << type
             << " does not have the batch (" << batch.getInt()
             << ") as dimension 0; training slices every input by the batch";
    }
  }
  Type elementType = outputType.getElementType();
  SmallVector<StringRef> stateNames = optimizerStateNames(options);

  // The signature: inputs..., [target], count, hyper, params..., states...
  //                -> loss, params..., states...
  OpBuilder b(module.getContext());
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  // Parameters: all of them are arguments; the trainable ones (not frozen)
  // are updated and have optimizer state.
  SmallVector<unsigned> inputArgs, paramArgs, trainedArgs;
  llvm::StringSet<> toFreeze;
  for (const std::string &name : options.frozen)
    toFreeze.insert(name);
  for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
    if (!forward.getArgAttr(i, kParamAttr)) {
      inputArgs.push_back(i);
      continue;
    }
    paramArgs.push_back(i);
    auto name = forward.getArgAttrOfType<StringAttr>(i, kNameAttr);
    // Frozen by --freeze, or by the importer (running statistics).
    bool frozen = name && toFreeze.erase(name.getValue());
    if (frozen || forward.getArgAttr(i, kFrozenAttr))
      continue;
    trainedArgs.push_back(i);
  }
  if (!toFreeze.empty())
    return forward.emitError() << "cannot freeze '"
                               << toFreeze.begin()->getKey()
                               << "': the model has no parameter of that name";
  // Running statistics: parameters that each step replaces without training.
  llvm::DenseSet<unsigned> runningArgs;
  WalkResult walk = forward.walk([&](RunningUpdateOp op) {
    unsigned arg = cast<BlockArgument>(op.getParam()).getArgNumber();
    if (llvm::is_contained(trainedArgs, arg)) {
      op.emitError("running statistics '")
          << forward.getArgAttrOfType<StringAttr>(arg, kNameAttr).getValue()
          << "' are also trained";
      return WalkResult::interrupt();
    }
    if (!runningArgs.insert(arg).second) {
      op.emitError("a second update of the same running statistics");
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  // The parameters a step writes, in parameter order.
  SmallVector<unsigned> writtenArgs;
  for (unsigned i : paramArgs)
    if (llvm::is_contained(trainedArgs, i) || runningArgs.contains(i))
      writtenArgs.push_back(i);
  for (unsigned i : inputArgs) {
    argTypes.push_back(forwardType.getInput(i));
    argAttrs.push_back(forward.getArgAttrDict(i));
  }
  if (!ownLoss) {
    FailureOr<RankedTensorType> target =
        targetType(forward, options, outputType);
    if (failed(target))
      return failure();
    argTypes.push_back(*target);
    argAttrs.push_back(b.getDictionaryAttr(
        {b.getNamedAttr(kNameAttr, b.getStringAttr("target")),
         roleAttr(b, kRoleTarget)}));
  }
  argTypes.push_back(RankedTensorType::get({}, b.getI64Type()));
  argAttrs.push_back(b.getDictionaryAttr({roleAttr(b, kRoleCount)}));
  argTypes.push_back(RankedTensorType::get({kNumHyperSlots}, b.getF32Type()));
  argAttrs.push_back(b.getDictionaryAttr({roleAttr(b, kRoleHyper)}));
  auto stateAttrs = [&](unsigned param, StringRef state) {
    std::string name =
        (forward.getArgAttrOfType<StringAttr>(param, kNameAttr).getValue() +
         "." + state)
            .str();
    return b.getDictionaryAttr(
        {b.getNamedAttr(kNameAttr, b.getStringAttr(name)),
         roleAttr(b, kRoleState)});
  };
  for (unsigned i : paramArgs) {
    argTypes.push_back(forwardType.getInput(i));
    NamedAttrList attrs(forward.getArgAttrDict(i));
    if (!llvm::is_contained(trainedArgs, i))
      attrs.set(kFrozenAttr, b.getUnitAttr());
    if (runningArgs.contains(i))
      attrs.set(kRunningAttr, b.getUnitAttr());
    argAttrs.push_back(attrs.getDictionary(b.getContext()));
  }
  for (unsigned i : trainedArgs)
    for (StringRef state : stateNames) {
      argTypes.push_back(forwardType.getInput(i));
      argAttrs.push_back(stateAttrs(i, state));
    }
  SmallVector<Type> resultTypes = {RankedTensorType::get({}, elementType)};
  SmallVector<DictionaryAttr> resultAttrs = {
      b.getDictionaryAttr({roleAttr(b, kRoleLoss)})};
  for (unsigned i : writtenArgs) {
    resultTypes.push_back(forwardType.getInput(i));
    NamedAttrList attrs;
    attrs.append(roleAttr(b, kRoleParam));
    attrs.append(kNameAttr, forward.getArgAttr(i, kNameAttr));
    resultAttrs.push_back(attrs.getDictionary(b.getContext()));
  }
  for (unsigned i : trainedArgs)
    for (StringRef state : stateNames) {
      resultTypes.push_back(forwardType.getInput(i));
      resultAttrs.push_back(stateAttrs(i, state));
    }

  b.setInsertionPointAfter(forward);
  auto trainStep = b.create<func::FuncOp>(
      forward.getLoc(), kTrainStepFunc, b.getFunctionType(argTypes, resultTypes));
  trainStep.setAllArgAttrs(argAttrs);
  trainStep.setAllResultAttrs(resultAttrs);
  trainStep->setAttr(kLossAttr, b.getStringAttr(options.loss));
  trainStep->setAttr(kOptimizerAttr, b.getStringAttr(options.optimizer));
  trainStep->setAttr(kLearningRateAttr, b.getF32FloatAttr(options.learningRateOrDefault()));
  trainStep->setAttr(kBeta1Attr, b.getF64FloatAttr(options.beta1));
  trainStep->setAttr(kBeta2Attr, b.getF64FloatAttr(options.beta2));
  trainStep->setAttr(kLRDecayAttr, b.getF64FloatAttr(options.lrDecay));
  trainStep->setAttr(
      kWeightDecayAttr,
      b.getF64FloatAttr(options.weightDecay.value_or(
          options.optimizer == "adamw" ? 0.01 : 0.0)));
  Block *body = trainStep.addEntryBlock();

  // 1. The forward computation.
  IRMapping mapping;
  unsigned next = 0;
  for (unsigned i : inputArgs)
    mapping.map(forward.getArgument(i), body->getArgument(next++));
  Value target = ownLoss ? Value() : body->getArgument(next++);
  Value count = body->getArgument(next++);
  Value hyper = body->getArgument(next++);
  SmallVector<Value> params;
  // The index among the library's parameters of each of `params`.
  SmallVector<int32_t> trainedParamIndex;
  for (auto [paramIndex, i] : llvm::enumerate(paramArgs)) {
    if (llvm::is_contained(trainedArgs, i)) {
      params.push_back(body->getArgument(next));
      trainedParamIndex.push_back(paramIndex);
    }
    mapping.map(forward.getArgument(i), body->getArgument(next++));
  }
  ValueRange states = body->getArguments().drop_front(next);
  b.setInsertionPointToEnd(body);
  // The return is cloned too, so that it follows the outputs through the
  // specialization to training, then dropped.
  for (Operation &op : forward.getBody().front())
    b.clone(op, mapping);
  Operation *clonedReturn = body->getTerminator();
  llvm::DenseMap<Value, Value> runningValues =
      specializeForTraining(*body, count, hyper);
  Value output = clonedReturn->getOperand(lossOutput);
  clonedReturn->erase();

  // 2. The loss.
  Value loss = buildLoss(b, options, output, target, count);

  // 3. The gradients.
  GradientMap grads;
  llvm::DenseSet<Value> active = findActiveValues(*body, params);
  if (failed(differentiate(b, *body, loss, hyper, active, grads)))
    return failure();

  // Each gradient goes to the collective engine where it is complete, and
  // comes back summed across processes before its update (both ops are the
  // identity on one process). A gradient the loss does not depend on is
  // zero on every process and stays out.
  SmallVector<Value> readyGrads;
  for (auto [index, param] : llvm::enumerate(params)) {
    Value grad = grads.lookup(param);
    if (grad && cast<ShapedType>(grad.getType()).getElementType().isF32()) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfterValue(grad);
      grad = b.create<GradientReadyOp>(grad.getLoc(), grad,
                                       trainedParamIndex[index]);
    }
    readyGrads.push_back(grad);
  }

  // 4. The updates, after every gradient: nothing reads a parameter or a
  //    state after this point, so each may be updated in place.
  llvm::DenseMap<Value, Value> newValues;
  SmallVector<Value> newStates;
  for (auto [index, param] : llvm::enumerate(params)) {
    Value grad = readyGrads[index];
    if (grad && grad.getDefiningOp<GradientReadyOp>())
      grad = b.create<GradientWaitOp>(grad.getLoc(), grad,
                                      trainedParamIndex[index]);
    else if (!grad) // The loss does not depend on it: its gradient is zero.
      grad = createZeroConstant(b, param.getLoc(),
                                cast<RankedTensorType>(param.getType()));
    ValueRange state = states.slice(index * stateNames.size(),
                                    stateNames.size());
    Operation *update =
        buildUpdate(b, param.getLoc(), options, param, grad, state, hyper);
    newValues[param] = update->getResult(0);
    llvm::append_range(newStates, update->getResults().drop_front());
  }
  newValues.insert(runningValues.begin(), runningValues.end());
  SmallVector<Value> results = {loss};
  for (unsigned i : writtenArgs)
    results.push_back(newValues.lookup(mapping.lookup(forward.getArgument(i))));
  llvm::append_range(results, newStates);
  b.create<func::ReturnOp>(forward.getLoc(), results);
  eraseDeadOps(*body);

  // The library writes a running statistic's new value over the old one
  // where it is computed, during the forward part: every read of the old
  // value must come before, that is, feed the new value.
  for (auto [param, value] : runningValues) {
    SetVector<Operation *> slice;
    BackwardSliceOptions sliceOptions;
    sliceOptions.inclusive = true;
    if (Operation *def = value.getDefiningOp())
      getBackwardSlice(def, &slice, sliceOptions);
    for (Operation *user : param.getUsers())
      if (!slice.contains(user) && !isa<func::ReturnOp>(user))
        return user->emitError("reads running statistics '")
               << trainStep.getArgAttrOfType<StringAttr>(
                      cast<BlockArgument>(param).getArgNumber(), kNameAttr)
                      .getValue()
               << "' that a training step replaces; only their update may "
                  "read them";
  }
  return success();
}

void BuildTraining::runOnOperation() {
  TrainingOptions options;
  options.loss = loss;
  options.ignoreIndex = ignoreIndex;
  options.labelSmoothing = labelSmoothing;
  options.optimizer = optimizer;
  // Set explicitly, or left to the optimizer's default (even when invalid:
  // a negative rate is an error, not "unset").
  if (learningRate.hasValue())
    options.learningRate = learningRate;
  options.momentum = momentum;
  options.dampening = dampening;
  options.nesterov = nesterov;
  options.beta1 = beta1;
  options.beta2 = beta2;
  if (eps >= 0)
    options.eps = eps;
  if (weightDecay >= 0)
    options.weightDecay = weightDecay;
  options.amsgrad = amsgrad;
  options.lrDecay = lrDecay;
  options.lossOutput = lossOutput;
  for (const std::string &name : frozen)
    options.frozen.push_back(name);
  if (failed(buildTrainStep(getOperation(), options)))
    signalPassFailure();
}
