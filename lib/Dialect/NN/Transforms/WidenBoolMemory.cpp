//===- WidenBoolMemory.cpp - Booleans loaded and stored as bytes ----------===//
//
// Implements nn-widen-bool-memory (see Passes.td).
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNWIDENBOOLMEMORY
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;

static bool isBool(Type type) { return type.isInteger(1); }

/// `load i1` as `trunc (load i8)`: the same byte, read as LLVM reads an
/// i1. The load keeps its attributes (alignment, TBAA, access groups).
static void widen(LLVM::LoadOp load) {
  OpBuilder b(load->getContext());
  b.setInsertionPointAfter(load);
  load.getResult().setType(b.getI8Type());
  auto value = b.create<LLVM::TruncOp>(load.getLoc(), b.getI1Type(), load);
  load.getResult().replaceAllUsesExcept(value, value);
}

/// `store i1 v` as `store i8 (zext v)`: the byte LLVM writes for an i1.
static void widen(LLVM::StoreOp store) {
  OpBuilder b(store);
  auto value =
      b.create<LLVM::ZExtOp>(store.getLoc(), b.getI8Type(), store.getValue());
  store.getValueMutable().assign(value);
}

namespace {
struct WidenBoolMemory
    : public nncc::nn::impl::NNWidenBoolMemoryBase<WidenBoolMemory> {
  void runOnOperation() override {
    SmallVector<Operation *> accesses;
    getOperation().walk([&](Operation *op) {
      if (auto load = dyn_cast<LLVM::LoadOp>(op);
          load && isBool(load.getType()))
        accesses.push_back(op);
      else if (auto store = dyn_cast<LLVM::StoreOp>(op);
               store && isBool(store.getValue().getType()))
        accesses.push_back(op);
    });
    for (Operation *op : accesses) {
      if (auto load = dyn_cast<LLVM::LoadOp>(op))
        widen(load);
      else
        widen(cast<LLVM::StoreOp>(op));
    }
  }
};
} // namespace
