//===- FlattenElementwise.cpp - Elementwise kernels over one dimension ----===//
//
// Implements nn-flatten-elementwise (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNFLATTENELEMENTWISE
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;

/// One group of all `rank` dimensions.
static SmallVector<ReassociationIndices> allDims(unsigned rank) {
  SmallVector<ReassociationIndices> all(1);
  for (unsigned i = 0; i < rank; ++i)
    all[0].push_back(i);
  return all;
}

/// Whether `generic` reads and writes its operands element for element,
/// all of them contiguous buffers of one shape of more than one
/// dimension, so that it is the same loop over their elements in order.
static bool flattenable(linalg::GenericOp generic) {
  if (!generic.hasPureBufferSemantics() || generic.hasIndexSemantics() ||
      generic.getNumLoops() < 2 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return false;
  SmallVector<ReassociationIndices> all = allDims(generic.getNumLoops());
  return llvm::all_of(generic->getOperands(), [&](Value operand) {
    auto type = dyn_cast<MemRefType>(operand.getType());
    return type && memref::isStaticShapeAndContiguousRowMajor(type) &&
           memref::CollapseShapeOp::isGuaranteedCollapsible(type, all);
  });
}

static void flatten(linalg::GenericOp generic) {
  OpBuilder b(generic);
  Location loc = generic.getLoc();
  SmallVector<ReassociationIndices> all = allDims(generic.getNumLoops());
  auto flat = [&](ValueRange values) {
    SmallVector<Value> result;
    for (Value value : values)
      result.push_back(b.create<memref::CollapseShapeOp>(loc, value, all));
    return result;
  };
  SmallVector<Value> inputs = flat(generic.getDpsInputs());
  SmallVector<Value> outputs = flat(generic.getDpsInits());
  SmallVector<AffineMap> maps(inputs.size() + outputs.size(),
                              b.getMultiDimIdentityMap(1));
  auto flattened = b.create<linalg::GenericOp>(
      loc, TypeRange(), inputs, outputs, maps,
      SmallVector<utils::IteratorType>{utils::IteratorType::parallel});
  flattened->setDiscardableAttrs(generic->getDiscardableAttrDictionary());
  IRMapping mapping;
  generic.getRegion().cloneInto(&flattened.getRegion(), mapping);
  generic.erase();
}

namespace {
struct FlattenElementwise
    : public nncc::nn::impl::NNFlattenElementwiseBase<FlattenElementwise> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp generic) {
      if (flattenable(generic))
        generics.push_back(generic);
    });
    for (linalg::GenericOp generic : generics)
      flatten(generic);
  }
};
} // namespace
