//===- ProfileKernels.cpp - Time the kernels of a library by kind --------===//
//
// Implements nn-tag-kernel-kinds and nn-instrument-kernels (see Passes.td),
// the two halves of `nncc --profile`: the kind of each nn op travels in its
// location through lowering and fusion to the kernels it becomes, which are
// then bracketed by calls of the profiling runtime (lib/Runtime/
// nncc_profile.c).
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Fusion.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNTAGKERNELKINDS
#define GEN_PASS_DEF_NNINSTRUMENTKERNELS
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

namespace {
enum class KernelKind : int32_t {
#define NNCC_PROFILE_KIND(NAME, STRING) NAME,
#include "nncc/Runtime/ProfileKinds.def"
};
} // namespace

static constexpr llvm::StringLiteral kKindNames[] = {
#define NNCC_PROFILE_KIND(NAME, STRING) STRING,
#include "nncc/Runtime/ProfileKinds.def"
};

/// The prefix of the location metadata that carries a kind.
static constexpr llvm::StringLiteral kKindTag = "nn.kernel:";

static KernelKind kindOf(Operation *op) {
  if (isa<MatMulOp>(op))
    return KernelKind::GEMM;
  if (isa<ConvOp, ConvGradInputOp, ConvGradWeightOp>(op))
    return KernelKind::CONV;
  if (isa<PoolOp, PoolGradOp>(op))
    return KernelKind::POOLING;
  if (isa<ReduceSumOp, ReduceMaxOp, SoftmaxOp, LogSoftmaxOp, MSELossOp,
          MSELossGradOp, CrossEntropyLossOp, CrossEntropyLossGradOp,
          BCEWithLogitsLossOp, BCEWithLogitsLossGradOp>(op))
    return KernelKind::REDUCTION;
  if (isa<SGDUpdateOp, AdamUpdateOp, AdagradUpdateOp, ONNXAdagradOp,
          ONNXMomentumOp, ONNXAdamOp>(op))
    return KernelKind::OPTIMIZER;
  if (isa<ReshapeOp, TransposeOp, BroadcastToOp, ConcatOp, SliceOp, SliceGradOp,
          ReverseOp, GatherOp, GatherGradOp, CastOp>(op))
    return KernelKind::COPY;
  return KernelKind::ELEMENTWISE;
}

/// The first kind, in ProfileKinds.def's order, tagged anywhere in `loc`.
static KernelKind kindIn(Location loc) {
  auto kind = KernelKind::OTHER;
  loc->walk([&](Location inner) {
    auto fused = dyn_cast<FusedLoc>(inner);
    auto tag = fused ? dyn_cast_or_null<StringAttr>(fused.getMetadata())
                     : StringAttr();
    if (!tag || !tag.getValue().starts_with(kKindTag))
      return WalkResult::advance();
    const auto *found =
        llvm::find(kKindNames, tag.getValue().drop_front(kKindTag.size()));
    auto index = static_cast<int32_t>(found - std::begin(kKindNames));
    if (found != std::end(kKindNames) && index < static_cast<int32_t>(kind))
      kind = static_cast<KernelKind>(index);
    return WalkResult::advance();
  });
  return kind;
}

bool nncc::nn::isKernel(Operation *op) {
  return isa<linalg::LinalgOp, scf::ForOp, scf::ParallelOp, scf::ForallOp,
             memref::CopyOp, func::CallOp>(op);
}

namespace {
struct TagKernelKinds
    : public nncc::nn::impl::NNTagKernelKindsBase<TagKernelKinds> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    getOperation().walk([&](Operation *op) {
      if (!isa<NNDialect>(op->getDialect()) || isa<ConstantOp>(op))
        return;
      StringRef name = kKindNames[static_cast<int32_t>(kindOf(op))];
      op->setLoc(FusedLoc::get(
          {op->getLoc()}, StringAttr::get(context, kKindTag + name), context));
    });
  }
};

struct InstrumentKernels
    : public nncc::nn::impl::NNInstrumentKernelsBase<InstrumentKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto declare = [&](StringRef name, TypeRange inputs) {
      if (auto existing = module.lookupSymbol<func::FuncOp>(name))
        return existing;
      auto top = OpBuilder::atBlockBegin(module.getBody());
      auto decl = top.create<func::FuncOp>(module.getLoc(), name,
                                           top.getFunctionType(inputs, {}));
      decl.setPrivate();
      return decl;
    };
    for (StringRef name :
         {StringRef(kForwardFunc), StringRef(kTrainStepFunc)}) {
      auto func = module.lookupSymbol<func::FuncOp>(name);
      if (!func || func.isExternal())
        continue;
      OpBuilder b(func.getBody());
      func::FuncOp enter = declare("__nncc_profile_enter", {});
      func::FuncOp exit = declare("__nncc_profile_exit", {b.getI32Type()});
      SmallVector<Operation *> kernels;
      for (Operation &op : func.getBody().front())
        if (isKernel(&op))
          kernels.push_back(&op);
      for (Operation *kernel : kernels) {
        Location loc = kernel->getLoc();
        b.setInsertionPoint(kernel);
        b.create<func::CallOp>(loc, enter, ValueRange());
        b.setInsertionPointAfter(kernel);
        Value kind = b.create<arith::ConstantIntOp>(
            loc, static_cast<int32_t>(kindIn(loc)), 32);
        b.create<func::CallOp>(loc, exit, kind);
      }
    }
  }
};
} // namespace
