//===- Stats.cpp - Ops, kernels, memory and flops of generated functions --===//

#include "nncc/Pipeline/Stats.h"

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Fusion.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace nncc;
using namespace nncc::nn;

static int64_t numElements(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  return shaped && shaped.hasStaticShape() ? shaped.getNumElements() : 0;
}

static int64_t sizeInBytes(Type type) {
  auto shaped = cast<ShapedType>(type);
  return numElements(type) * static_cast<int64_t>(llvm::divideCeil(
                                 shaped.getElementTypeBitWidth(), 8));
}

/// Multiply-adds count two operations; data movement (reshapes, slices,
/// gathers, transposes) counts none; other ops one per element they produce
/// or, for reductions, read.
static int64_t flopsOf(Operation *op) {
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    ArrayRef<int64_t> lhs = matmul.getLhs().getType().getShape();
    int64_t k = lhs.size() < 2 || !matmul.getTransposeLhs()
                    ? lhs.back()
                    : lhs[lhs.size() - 2];
    return 2 * k * numElements(matmul.getType());
  }
  // A convolution and its two gradients: a multiply-add per weight element
  // (of a group) and output element.
  auto convolution = [](Value output, Value weight) {
    auto w = cast<RankedTensorType>(weight.getType());
    return 2 * numElements(output.getType()) * numElements(w) / w.getDimSize(0);
  };
  if (auto conv = dyn_cast<ConvOp>(op))
    return convolution(conv.getResult(), conv.getWeight());
  if (auto grad = dyn_cast<ConvGradInputOp>(op))
    return convolution(grad.getGrad(), grad.getWeight());
  if (auto grad = dyn_cast<ConvGradWeightOp>(op))
    return convolution(grad.getGrad(), grad.getResult());
  auto window = [](ArrayRef<int64_t> kernel) {
    int64_t n = 1;
    for (int64_t k : kernel)
      n *= k;
    return n;
  };
  if (auto pool = dyn_cast<PoolOp>(op))
    return numElements(pool.getType()) * window(pool.getKernel());
  if (auto pool = dyn_cast<PoolGradOp>(op))
    return numElements(pool.getGrad().getType()) * window(pool.getKernel());
  if (isa<ReduceSumOp, ReduceMaxOp>(op))
    return numElements(op->getOperand(0).getType());
  if (isa<SoftmaxOp, LogSoftmaxOp>(op))
    return 4 * numElements(op->getResult(0).getType());
  if (isa<CrossEntropyLossOp, CrossEntropyLossGradOp, MSELossOp, MSELossGradOp,
          BCEWithLogitsLossOp, BCEWithLogitsLossGradOp>(op))
    return 4 * numElements(op->getOperand(0).getType());
  if (isa<ConstantOp, ReshapeOp, TransposeOp, BroadcastToOp, ConcatOp, SliceOp,
          SliceGradOp, ReverseOp, GatherOp, CastOp, TrainingSelectOp,
          RunningUpdateOp>(op))
    return 0;
  if (isa<GatherGradOp>(op))
    return numElements(op->getOperand(0).getType());
  if (op->getNumResults() == 0)
    return 0;
  // Elementwise ops, masks and optimizer updates (a few per element).
  int64_t n = 0;
  for (Value result : op->getResults())
    n += numElements(result.getType());
  return n;
}

std::vector<FunctionStats> nncc::collectGraphStats(ModuleOp module) {
  std::vector<FunctionStats> stats;
  for (StringRef name : {StringRef(kForwardFunc), StringRef(kTrainStepFunc)}) {
    auto func = module.lookupSymbol<func::FuncOp>(name);
    if (!func)
      continue;
    FunctionStats s;
    s.name = name.str();
    func.walk([&](Operation *op) {
      if (!isa<NNDialect>(op->getDialect()) || isa<ConstantOp>(op))
        return;
      ++s.ops;
      s.flops += flopsOf(op);
    });
    for (unsigned i = 0; i < func.getNumArguments(); ++i) {
      auto role = func.getArgAttrOfType<StringAttr>(i, kRoleAttr);
      if (!role)
        continue;
      int64_t bytes = sizeInBytes(func.getArgument(i).getType());
      if (role.getValue() == kRoleParam)
        s.paramBytes += bytes;
      else if (role.getValue() == kRoleState)
        s.stateBytes += bytes;
    }
    stats.push_back(s);
  }
  return stats;
}

void nncc::collectKernelStats(ModuleOp module,
                              std::vector<FunctionStats> &stats) {
  for (FunctionStats &s : stats) {
    auto func = module.lookupSymbol<func::FuncOp>(s.name);
    if (!func || func.isExternal())
      continue;
    s.kernels = 0;
    for (Operation &op : func.getBody().front())
      if (isKernel(&op))
        ++s.kernels;
    if (auto arena = func->getAttrOfType<IntegerAttr>(kWorkspaceBytesAttr))
      s.arenaBytes = arena.getInt();
    if (auto naive = func->getAttrOfType<IntegerAttr>(kNaiveBytesAttr))
      s.naiveBytes = naive.getInt();
  }
}

void nncc::printStats(const std::vector<FunctionStats> &stats,
                      llvm::raw_ostream &os) {
  for (const FunctionStats &s : stats)
    os << s.name << ": ops=" << s.ops << " kernels=" << s.kernels
       << " arena_bytes=" << s.arenaBytes << " naive_bytes=" << s.naiveBytes
       << " param_bytes=" << s.paramBytes << " state_bytes=" << s.stateBytes
       << " flops=" << s.flops << "\n";
}
