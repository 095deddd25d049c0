//===- FuseKernels.cpp - One linalg.generic per nn fusion group ----------===//
//
// Implements nn-fuse-kernels (see Passes.td) with linalg's producer-consumer
// fusion of elementwise generics, restricted to the groups nn-fuse chose.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/Transforms/Fusion.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNFUSEKERNELS
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

/// The operand of `consumer` whose producer belongs to the consumer's group
/// and can be merged into it, or null.
static OpOperand *fusibleOperand(linalg::GenericOp consumer) {
  auto group = consumer->getAttrOfType<IntegerAttr>(kFusionGroupAttr);
  if (!group)
    return nullptr;
  for (OpOperand *operand : consumer.getDpsInputOperands()) {
    auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
    if (!producer || producer->getAttr(kFusionGroupAttr) != group)
      continue;
    // Other users of any of its results must follow the consumer: they read
    // them from the fused kernel, which takes the consumer's place.
    if (!llvm::all_of(producer->getUsers(), [&](Operation *user) {
          return user == consumer ||
                 (user->getBlock() == consumer->getBlock() &&
                  consumer->isBeforeInBlock(user));
        }))
      continue;
    if (linalg::areElementwiseOpsFusable(operand))
      return operand;
  }
  return nullptr;
}

namespace {
struct FuseKernels : public nncc::nn::impl::NNFuseKernelsBase<FuseKernels> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    bool changed = true;
    while (changed) {
      changed = false;
      SmallVector<linalg::GenericOp> generics;
      getOperation().walk(
          [&](linalg::GenericOp op) { generics.push_back(op); });
      for (linalg::GenericOp consumer : generics) {
        OpOperand *operand = fusibleOperand(consumer);
        if (!operand)
          continue;
        Attribute group = consumer->getAttr(kFusionGroupAttr);
        Operation *producer = operand->get().getDefiningOp();
        rewriter.setInsertionPoint(consumer);
        FailureOr<linalg::ElementwiseOpFusionResult> fused =
            linalg::fuseElementwiseOps(rewriter, operand);
        if (failed(fused))
          continue;
        fused->fusedOp->setAttr(kFusionGroupAttr, group);
        for (auto [original, replacement] : fused->replacements)
          rewriter.replaceAllUsesExcept(original, replacement, fused->fusedOp);
        rewriter.eraseOp(consumer);
        if (producer->use_empty())
          rewriter.eraseOp(producer);
        changed = true;
        break; // The list holds erased ops now.
      }
    }
  }
};
} // namespace
