//===- PlanMemory.cpp - One arena for every intermediate buffer ----------===//
//
// Implements nn-plan-memory: after bufferization, every statically shaped
// memref.alloc in a function's entry block becomes a memref.view into one
// arena argument, at an offset chosen by planMemory from the buffers' live
// ranges. No allocation is left to run inside the step.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/Transforms/MemoryPlanner.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNPLANMEMORY
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

/// Vector loads of up to 512 bits stay aligned at any offset in the arena.
static constexpr uint64_t kArenaAlignment = 64;

namespace {
struct PlanMemory : public nncc::nn::impl::NNPlanMemoryBase<PlanMemory> {
  void runOnOperation() override;
};
} // namespace

/// The position, in `block`, of the last op that uses `buffer` or a memref
/// derived from it (a view, a cast, a reshape), or -1 when the buffer escapes
/// through the terminator and cannot be planned.
static int64_t lastUse(Value buffer, Block &block,
                       const llvm::DenseMap<Operation *, int64_t> &position) {
  int64_t last = 0;
  SmallVector<Value> worklist = {buffer};
  llvm::SmallPtrSet<Value, 8> seen;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!seen.insert(value).second)
      continue;
    for (Operation *user : value.getUsers()) {
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top || top->hasTrait<OpTrait::IsTerminator>())
        return -1;
      last = std::max(last, position.lookup(top));
      // A memref produced from the buffer may alias it.
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()))
          worklist.push_back(result);
    }
  }
  return last;
}

void PlanMemory::runOnOperation() {
  func::FuncOp func = getOperation();
  if (func.isExternal())
    return;
  Block &block = func.getBody().front();
  llvm::DenseMap<Operation *, int64_t> position;
  int64_t next = 0;
  for (Operation &op : block)
    position[&op] = next++;

  SmallVector<memref::AllocOp> allocs;
  SmallVector<BufferLifetime> lifetimes;
  for (Operation &op : block) {
    auto alloc = dyn_cast<memref::AllocOp>(op);
    if (!alloc)
      continue;
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !type.getElementType().isIntOrFloat() ||
        type.getMemorySpace())
      continue;
    int64_t end = lastUse(alloc, block, position);
    if (end < 0)
      continue;
    uint64_t bytes = type.getNumElements() *
                     llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    allocs.push_back(alloc);
    lifetimes.push_back({position[alloc], end, bytes});
  }

  MemoryPlan plan = planMemory(lifetimes, kArenaAlignment);
  OpBuilder b(func.getContext());
  uint64_t arenaBytes = std::max<uint64_t>(plan.arenaBytes, kArenaAlignment);
  auto arenaType = MemRefType::get({static_cast<int64_t>(arenaBytes)},
                                   b.getI8Type());
  unsigned arenaIndex = func.getNumArguments();
  func.insertArgument(
      arenaIndex, arenaType,
      b.getDictionaryAttr(
          {b.getNamedAttr(kRoleAttr, b.getStringAttr(kRoleWorkspace))}),
      func.getLoc());
  Value arena = func.getArgument(arenaIndex);

  for (auto [alloc, offset] : llvm::zip(allocs, plan.offsets)) {
    b.setInsertionPoint(alloc);
    Value byteShift =
        b.create<arith::ConstantIndexOp>(alloc.getLoc(), offset);
    Value view = b.create<memref::ViewOp>(alloc.getLoc(), alloc.getType(),
                                          arena, byteShift, ValueRange());
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      if (isa<memref::DeallocOp>(user))
        user->erase();
    alloc.replaceAllUsesWith(view);
    alloc.erase();
  }
  func->setAttr(kWorkspaceBytesAttr,
                b.getI64IntegerAttr(static_cast<int64_t>(arenaBytes)));
  // Without planning, each buffer would be its own allocation, aligned alike.
  uint64_t naiveBytes = 0;
  for (const BufferLifetime &buffer : lifetimes)
    naiveBytes += llvm::alignTo(buffer.size, kArenaAlignment);
  func->setAttr(kNaiveBytesAttr,
                b.getI64IntegerAttr(static_cast<int64_t>(naiveBytes)));
}
