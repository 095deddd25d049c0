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
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"
#include "llvm/ADT/BitVector.h"

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

/// Reads each (value, indexing map) pair once: merges the inputs of `op`
/// that repeat one, and returns the op that replaces it (`op` itself when
/// none repeats). Fusing a producer whose result a consumer reads twice
/// leaves the second read as an input, and every producer input the fusion
/// adds may repeat one the consumer has: without merging, the next fusion
/// clones the same producer again, and a group's body grows as the tree
/// of its graph rather than the graph (exponentially in the depth of a
/// backward pass where one value feeds many gradients).
static linalg::GenericOp deduplicateInputs(RewriterBase &rewriter,
                                           linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  llvm::DenseMap<std::pair<Value, AffineMap>, unsigned> first;
  llvm::BitVector repeated(body.getNumArguments());
  SmallVector<Value> inputs;
  SmallVector<Attribute> maps;
  for (OpOperand *operand : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    unsigned index = operand->getOperandNumber();
    auto [it, inserted] = first.try_emplace({operand->get(), map}, index);
    if (!inserted) {
      rewriter.replaceAllUsesWith(body.getArgument(index),
                                  body.getArgument(it->second));
      repeated.set(index);
      continue;
    }
    inputs.push_back(operand->get());
    maps.push_back(AffineMapAttr::get(map));
  }
  if (repeated.none())
    return op;
  for (OpOperand &init : op.getDpsInitsMutable())
    maps.push_back(AffineMapAttr::get(op.getMatchingIndexingMap(&init)));
  rewriter.setInsertionPoint(op);
  auto merged = rewriter.create<linalg::GenericOp>(
      op.getLoc(), op.getResultTypes(), inputs, op.getOutputs(),
      rewriter.getArrayAttr(maps), op.getIteratorTypes(), op.getDocAttr(),
      op.getLibraryCallAttr(), /*bodyBuild=*/nullptr);
  merged->setDiscardableAttrs(op->getDiscardableAttrDictionary());
  rewriter.inlineRegionBefore(op.getRegion(), merged.getRegion(),
                              merged.getRegion().end());
  merged.getRegion().front().eraseArguments(repeated);
  rewriter.replaceOp(op, merged->getResults());
  return merged;
}

namespace {
struct FuseKernels : public nncc::nn::impl::NNFuseKernelsBase<FuseKernels> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::GenericOp> grouped;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kFusionGroupAttr))
        grouped.push_back(op);
    });
    for (linalg::GenericOp op : grouped)
      deduplicateInputs(rewriter, op);
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
        // With the inputs merged, a value the body computes twice from the
        // same arguments is computed once.
        linalg::GenericOp merged = deduplicateInputs(
            rewriter, cast<linalg::GenericOp>(fused->fusedOp));
        DominanceInfo dominance;
        eliminateCommonSubExpressions(rewriter, dominance, merged);
        changed = true;
        break; // The list holds erased ops now.
      }
    }
  }
};
} // namespace
