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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNBUILDTRAINING
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

namespace {

/// Accumulates the gradients of values: several uses of a value each
/// contribute a gradient, and the gradient of the value is their sum.
class GradientMap {
public:
  void accumulate(OpBuilder &b, Location loc, Value value, Value grad) {
    auto [it, inserted] = grads.try_emplace(value, grad);
    if (!inserted)
      it->second = b.create<AddOp>(loc, it->second, grad);
  }
  Value lookup(Value value) const { return grads.lookup(value); }

private:
  llvm::DenseMap<Value, Value> grads;
};

struct BuildTraining
    : public nncc::nn::impl::NNBuildTrainingBase<BuildTraining> {
  using NNBuildTrainingBase::NNBuildTrainingBase;
  void runOnOperation() override;
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
/// the caller adds the terminator afterwards), seeded with d(loss)/d(loss) = 1.
static LogicalResult differentiate(OpBuilder &b, Block &body, Value loss,
                                   const llvm::DenseSet<Value> &active,
                                   GradientMap &grads) {
  grads.accumulate(b, loss.getLoc(), loss,
                   createScalarConstant(
                       b, loss.getLoc(),
                       cast<RankedTensorType>(loss.getType()).getElementType(),
                       1.0));
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

static NamedAttribute roleAttr(Builder &b, StringRef role) {
  return b.getNamedAttr(kRoleAttr, b.getStringAttr(role));
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
  if (options.loss != "mse")
    return emitError(moduleLoc)
           << "unsupported loss '" << options.loss << "' (supported: mse)";
  if (options.optimizer != "sgd")
    return emitError(moduleLoc) << "unsupported optimizer '"
                                << options.optimizer << "' (supported: sgd)";
  if (!(options.learningRate >= 0.0))
    return emitError(moduleLoc)
           << "invalid learning rate " << options.learningRate;
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
  Type elementType = outputType.getElementType();

  // The signature: inputs..., target, count, lr, params... -> loss, params...
  OpBuilder b(module.getContext());
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  SmallVector<unsigned> inputArgs, paramArgs;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
    if (forward.getArgAttr(i, kParamAttr))
      paramArgs.push_back(i);
    else
      inputArgs.push_back(i);
  }
  for (unsigned i : inputArgs) {
    argTypes.push_back(forwardType.getInput(i));
    argAttrs.push_back(forward.getArgAttrDict(i));
  }
  argTypes.push_back(outputType);
  argAttrs.push_back(b.getDictionaryAttr(
      {b.getNamedAttr(kNameAttr, b.getStringAttr("target")),
       roleAttr(b, kRoleTarget)}));
  argTypes.push_back(RankedTensorType::get({}, b.getI64Type()));
  argAttrs.push_back(b.getDictionaryAttr({roleAttr(b, kRoleCount)}));
  argTypes.push_back(RankedTensorType::get({}, elementType));
  argAttrs.push_back(b.getDictionaryAttr({roleAttr(b, kRoleLearningRate)}));
  for (unsigned i : paramArgs) {
    argTypes.push_back(forwardType.getInput(i));
    argAttrs.push_back(forward.getArgAttrDict(i));
  }
  SmallVector<Type> resultTypes = {RankedTensorType::get({}, elementType)};
  SmallVector<DictionaryAttr> resultAttrs = {
      b.getDictionaryAttr({roleAttr(b, kRoleLoss)})};
  for (unsigned i : paramArgs) {
    resultTypes.push_back(forwardType.getInput(i));
    NamedAttrList attrs;
    attrs.append(roleAttr(b, kRoleParam));
    attrs.append(kNameAttr, forward.getArgAttr(i, kNameAttr));
    resultAttrs.push_back(attrs.getDictionary(b.getContext()));
  }

  b.setInsertionPointAfter(forward);
  auto trainStep = b.create<func::FuncOp>(
      forward.getLoc(), kTrainStepFunc, b.getFunctionType(argTypes, resultTypes));
  trainStep.setAllArgAttrs(argAttrs);
  trainStep.setAllResultAttrs(resultAttrs);
  trainStep->setAttr(kLossAttr, b.getStringAttr(options.loss));
  trainStep->setAttr(kOptimizerAttr, b.getStringAttr(options.optimizer));
  trainStep->setAttr(kLearningRateAttr, b.getF32FloatAttr(options.learningRate));
  Block *body = trainStep.addEntryBlock();

  // 1. The forward computation.
  IRMapping mapping;
  unsigned next = 0;
  for (unsigned i : inputArgs)
    mapping.map(forward.getArgument(i), body->getArgument(next++));
  Value target = body->getArgument(next++);
  Value count = body->getArgument(next++);
  Value lr = body->getArgument(next++);
  SmallVector<Value> params;
  for (unsigned i : paramArgs) {
    params.push_back(body->getArgument(next));
    mapping.map(forward.getArgument(i), body->getArgument(next++));
  }
  b.setInsertionPointToEnd(body);
  Operation *forwardReturn = forward.getBody().front().getTerminator();
  for (Operation &op : forward.getBody().front().without_terminator())
    b.clone(op, mapping);
  Value output = mapping.lookup(forwardReturn->getOperand(lossOutput));

  // 2. The loss.
  Value loss = b.create<MSELossOp>(output.getLoc(), output, target, count);

  // 3. The gradients.
  GradientMap grads;
  llvm::DenseSet<Value> active = findActiveValues(*body, params);
  if (failed(differentiate(b, *body, loss, active, grads)))
    return failure();

  // 4. The updates, after every gradient: nothing reads a parameter after
  //    this point, so bufferization may update each one in place.
  SmallVector<Value> results = {loss};
  for (Value param : params) {
    Value grad = grads.lookup(param);
    if (!grad) // The loss does not depend on it: its gradient is zero.
      grad = createZeroConstant(b, param.getLoc(),
                                cast<RankedTensorType>(param.getType()));
    results.push_back(b.create<SGDUpdateOp>(param.getLoc(), param, grad, lr));
  }
  b.create<func::ReturnOp>(forward.getLoc(), results);
  eraseDeadOps(*body);
  return success();
}

void BuildTraining::runOnOperation() {
  TrainingOptions options;
  options.loss = loss;
  options.optimizer = optimizer;
  options.learningRate = learningRate;
  options.lossOutput = lossOutput;
  if (failed(buildTrainStep(getOperation(), options)))
    signalPassFailure();
}
