//===- Fuse.cpp - Fusion groups of the nn graph ---------------------------===//
//
// Implements nn-fuse (see Passes.td): decides which ops of a function run as
// one kernel, and marks each group of two or more ops with the same
// `nn.fusion_group` number. convert-nn-to-linalg carries the mark to the
// linalg.generic ops it creates and nn-fuse-kernels merges them.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Fusion.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/EquivalenceClasses.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNFUSE
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

bool nncc::nn::isElementwise(Operation *op) {
  return isa<AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, MinimumOp, NegOp,
             SqrtOp, ExpOp, LogOp, AbsOp, ReciprocalOp, ErfOp, SignOp, TanhOp,
             SigmoidOp, ReluOp, LeakyReluOp, EluOp, ClipOp, SoftplusOp,
             ActivationGradOp, ReluGradOp, ClipGradOp, EqualOp, CompareOp,
             LogicOp, NotOp, SelectOp, BroadcastToOp, MSELossGradOp,
             BCEWithLogitsLossGradOp>(op);
}

/// The iteration space of the kernel that `op` lowers to, if `op` can take
/// an elementwise producer into its loop: its result for elementwise ops,
/// its input for reductions by sum (a bias gradient, a mean).
static std::optional<ArrayRef<int64_t>> fusibleSpace(Operation *op) {
  if (isElementwise(op))
    return cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  if (auto sum = dyn_cast<ReduceSumOp>(op))
    return sum.getInput().getType().getShape();
  return std::nullopt;
}

/// A producer over a space this many times smaller than its consumer's (a
/// per-channel statistic read by every element of a batch) is cheaper to
/// recompute for each element than to run and store as a kernel of its own.
static constexpr int64_t kRecomputeRatio = 8;

static int64_t numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Whether `producer` can compute inside the loop of `consumer`, an
/// elementwise op over the consumer's iteration space:
///  - over the same space, when `consumer` is its first user. A result that
///    later ops read again (a forward value the backward pass needs) is
///    still stored by the fused kernel: kept, not recomputed;
///  - over a broadcast space at least kRecomputeRatio times smaller, when
///    `consumer` is its only user: recomputed for each element it is read.
static bool canFuse(Operation *producer, Operation *consumer,
                    ArrayRef<int64_t> space) {
  if (!producer || !isElementwise(producer) ||
      producer->getBlock() != consumer->getBlock())
    return false;
  Value result = producer->getResult(0);
  ArrayRef<int64_t> shape = cast<RankedTensorType>(result.getType()).getShape();
  if (shape != space)
    return numElements(shape) * kRecomputeRatio <= numElements(space) &&
           llvm::all_of(result.getUsers(),
                        [&](Operation *user) { return user == consumer; });
  return llvm::all_of(result.getUsers(), [&](Operation *user) {
    return user == consumer || (user->getBlock() == consumer->getBlock() &&
                                consumer->isBeforeInBlock(user));
  });
}

namespace {
struct Fuse : public nncc::nn::impl::NNFuseBase<Fuse> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    llvm::EquivalenceClasses<Operation *> groups;
    func.walk([&](Operation *consumer) {
      std::optional<ArrayRef<int64_t>> space = fusibleSpace(consumer);
      if (!space)
        return;
      groups.insert(consumer);
      for (Value operand : consumer->getOperands()) {
        Operation *producer = operand.getDefiningOp();
        if (canFuse(producer, consumer, *space))
          groups.unionSets(producer, consumer);
      }
    });
    // Number the groups of two or more ops in the order of their first op.
    OpBuilder b(func.getContext());
    llvm::DenseMap<Operation *, int64_t> numbers;
    int64_t next = 0;
    func.walk([&](Operation *op) {
      if (groups.findValue(op) == groups.end())
        return;
      Operation *leader = groups.getLeaderValue(op);
      if (std::next(groups.member_begin(groups.findValue(leader))) ==
          groups.member_end())
        return; // Alone: nothing to fuse with.
      auto [it, inserted] = numbers.try_emplace(leader, next);
      if (inserted)
        ++next;
      op->setAttr(kFusionGroupAttr, b.getI64IntegerAttr(it->second));
    });
  }
};
} // namespace
