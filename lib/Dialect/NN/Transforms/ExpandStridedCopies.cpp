//===- ExpandStridedCopies.cpp - memref.copy of slices to linalg.copy ----===//
//
// Implements nn-expand-strided-copies (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/IR/Builders.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNEXPANDSTRIDEDCOPIES
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;

/// Whether `a` and `b` are the same memory: one value, or two identical
/// subviews of one value (as bufferization turns the
/// tensor.parallel_insert_slice of a row an scf.forall body wrote in place
/// into a copy of that row onto itself).
static bool sameView(Value a, Value b) {
  if (a == b)
    return true;
  auto viewA = a.getDefiningOp<memref::SubViewOp>();
  auto viewB = b.getDefiningOp<memref::SubViewOp>();
  return viewA && viewB &&
         OperationEquivalence::isEquivalentTo(
             viewA, viewB, OperationEquivalence::IgnoreLocations);
}

namespace {
struct ExpandStridedCopies
    : public nncc::nn::impl::NNExpandStridedCopiesBase<ExpandStridedCopies> {
  void runOnOperation() override {
    getOperation().walk([](memref::CopyOp copy) {
      if (sameView(copy.getSource(), copy.getTarget())) {
        copy.erase();
        return;
      }
      auto source = cast<MemRefType>(copy.getSource().getType());
      auto target = cast<MemRefType>(copy.getTarget().getType());
      if (memref::isStaticShapeAndContiguousRowMajor(source) &&
          memref::isStaticShapeAndContiguousRowMajor(target))
        return;
      OpBuilder b(copy);
      b.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(),
                               copy.getTarget());
      copy.erase();
    });
  }
};
} // namespace
