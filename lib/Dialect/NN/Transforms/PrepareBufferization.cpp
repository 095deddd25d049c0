//===- PrepareBufferization.cpp - The library's calling convention -------===//
//
// Implements nn-prepare-bufferization: arguments are read-only, and every
// result is a buffer of its own, ready to become an out-parameter.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNPREPAREBUFFERIZATION
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;

namespace {
struct PrepareBufferization
    : public nncc::nn::impl::NNPrepareBufferizationBase<PrepareBufferization> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    BoolAttr no = BoolAttr::get(&getContext(), false);
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                      no);

    // An argument returned as it is would come out of bufferization as the
    // argument's buffer, which cannot be an out-parameter: copy it.
    func.walk([](func::ReturnOp ret) {
      OpBuilder b(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        auto type = dyn_cast<RankedTensorType>(value.getType());
        if (!type || !isa<BlockArgument>(value))
          continue;
        Value copy = b.create<bufferization::AllocTensorOp>(
            ret.getLoc(), type, ValueRange(), /*copy=*/value);
        operand.set(copy);
      }
    });
  }
};
} // namespace
