//===- ReadOnlyArguments.cpp - Keep bufferization off the arguments ------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNREADONLYARGUMENTS
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;

namespace {
struct ReadOnlyArguments
    : public nncc::nn::impl::NNReadOnlyArgumentsBase<ReadOnlyArguments> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    BoolAttr no = BoolAttr::get(&getContext(), false);
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttr(i, "bufferization.writable", no);
  }
};
} // namespace
