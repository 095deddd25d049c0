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
  // Each access changes in place and only gains a cast beside it, so the
  // walk may widen as it goes.
  void runOnOperation() override {
    getOperation().walk([](LLVM::LoadOp load) {
      if (isBool(load.getType()))
        widen(load);
    });
    getOperation().walk([](LLVM::StoreOp store) {
      if (isBool(store.getValue().getType()))
        widen(store);
    });
  }
};
} // namespace
