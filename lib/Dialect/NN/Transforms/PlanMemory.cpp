//===- PlanMemory.cpp - One arena for every intermediate buffer ----------===//
//
// Implements nn-plan-memory: after bufferization, every statically shaped
// memref.alloc in a function's entry block becomes a memref.view into one
// arena argument, at an offset chosen by planMemory from the buffers' live
// ranges. No allocation is left to run inside the step.
//
// An elementwise kernel whose input dies in it writes its output in place of
// that input: the two buffers become one slot of the plan, live from the
// input's allocation to the output's last use.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/Transforms/Fusion.h"
#include "nncc/Dialect/NN/Transforms/MemoryPlanner.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/EquivalenceClasses.h"

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

/// Whether `user` is a view op: it makes a memref that aliases its operand.
static bool isView(Operation *user) {
  return llvm::any_of(user->getResultTypes(), llvm::IsaPred<BaseMemRefType>);
}

/// `buffer` and every memref made from it by view ops.
static llvm::SmallPtrSet<Value, 4> aliases(Value buffer) {
  llvm::SmallPtrSet<Value, 4> result;
  SmallVector<Value> worklist = {buffer};
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (!result.insert(value).second)
      continue;
    for (Operation *user : value.getUsers())
      if (isView(user))
        llvm::append_range(worklist, user->getResults());
  }
  return result;
}

/// The position, in `block`, of the last op that uses `buffer` or a memref
/// derived from it (a view, a cast, a reshape), or -1 when the buffer escapes
/// through the terminator and cannot be planned.
static int64_t lastUse(Value buffer, Block &block,
                       const llvm::DenseMap<Operation *, int64_t> &position) {
  int64_t last = 0;
  for (Value alias : aliases(buffer))
    for (Operation *user : alias.getUsers()) {
      Operation *top = block.findAncestorOpInBlock(*user);
      if (!top || top->hasTrait<OpTrait::IsTerminator>())
        return -1;
      last = std::max(last, position.lookup(top));
    }
  return last;
}

/// The allocation `value` is, or is a reshaping of (a collapse, expand,
/// reshape or cast that keeps every element at its linear position), or null.
static memref::AllocOp contiguousRoot(Value value) {
  while (true) {
    auto type = dyn_cast<MemRefType>(value.getType());
    if (!type || !type.getLayout().isIdentity())
      return {};
    Operation *def = value.getDefiningOp();
    if (auto alloc = dyn_cast_or_null<memref::AllocOp>(def))
      return alloc;
    if (!isa_and_nonnull<memref::CollapseShapeOp, memref::ExpandShapeOp,
                         memref::ReshapeOp, memref::CastOp>(def))
      return {};
    value = def->getOperand(0);
  }
}

/// Whether `kernel` reaches `buffer` only as `operand`: no other operand and
/// no op of its body uses the buffer or a view of it.
static bool onlyThrough(Operation *kernel, OpOperand &operand, Value buffer) {
  for (Value alias : aliases(buffer))
    for (OpOperand &use : alias.getUses())
      if (&use != &operand && kernel->isAncestor(use.getOwner()))
        return false;
  return true;
}

/// The planned buffer that `kernel`'s output `out` may share with one of its
/// inputs, or null. The kernel must be elementwise over that pair (the same
/// shape, identity indexing maps, every loop parallel) and not read the
/// output's old value; the input must die in the kernel and reach it through
/// that one operand only; the output must be first written by the kernel.
/// Then each element is read before it is overwritten, by the same iteration.
static memref::AllocOp inPlaceInput(
    linalg::GenericOp kernel, OpOperand &out,
    const llvm::DenseMap<Operation *, int64_t> &position,
    const llvm::DenseMap<Operation *, int64_t> &end) {
  if (kernel.getNumLoops() != kernel.getNumParallelLoops() ||
      !kernel.getMatchingIndexingMap(&out).isIdentity() ||
      kernel.payloadUsesValueFromOperand(&out))
    return {};
  memref::AllocOp outRoot = contiguousRoot(out.get());
  if (!outRoot || !end.count(outRoot))
    return {};
  // Nothing touches the output before the kernel.
  Block *block = outRoot->getBlock();
  for (Value alias : aliases(outRoot))
    for (Operation *user : alias.getUsers())
      if (!isView(user) && !kernel->isAncestor(user) &&
          position.lookup(block->findAncestorOpInBlock(*user)) <=
              position.lookup(kernel))
        return {};
  if (!onlyThrough(kernel, out, outRoot))
    return {};
  auto outType = cast<MemRefType>(out.get().getType());
  for (OpOperand *in : kernel.getDpsInputOperands()) {
    if (in->get().getType() != outType ||
        !kernel.getMatchingIndexingMap(in).isIdentity())
      continue;
    memref::AllocOp root = contiguousRoot(in->get());
    auto last = root ? end.find(root) : end.end();
    if (root == outRoot || last == end.end() ||
        last->second != position.lookup(kernel))
      continue;
    if (onlyThrough(kernel, *in, root))
      return root;
  }
  return {};
}

void PlanMemory::runOnOperation() {
  func::FuncOp func = getOperation();
  // A GEMM's epilogue function allocates nothing and takes no arena.
  if (func.isExternal() || func->hasAttr(kGemmTileAttr))
    return;
  Block &block = func.getBody().front();
  llvm::DenseMap<Operation *, int64_t> position;
  int64_t next = 0;
  for (Operation &op : block)
    position[&op] = next++;

  SmallVector<memref::AllocOp> allocs;
  SmallVector<BufferLifetime> lifetimes;
  llvm::DenseMap<Operation *, int64_t> end;
  for (Operation &op : block) {
    auto alloc = dyn_cast<memref::AllocOp>(op);
    if (!alloc)
      continue;
    MemRefType type = alloc.getType();
    if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
        !type.getElementType().isIntOrFloat() ||
        type.getMemorySpace())
      continue;
    int64_t last = lastUse(alloc, block, position);
    if (last < 0)
      continue;
    uint64_t bytes = type.getNumElements() *
                     llvm::divideCeil(type.getElementTypeBitWidth(), 8);
    allocs.push_back(alloc);
    lifetimes.push_back({position[alloc], last, bytes});
    end[alloc] = last;
  }

  // Buffers written in place of one another form one slot, live from the
  // first's allocation to the last's last use. An input is given once.
  llvm::EquivalenceClasses<Operation *> slots;
  for (memref::AllocOp alloc : allocs)
    slots.insert(alloc);
  llvm::SmallPtrSet<Operation *, 16> given;
  for (auto kernel : block.getOps<linalg::GenericOp>())
    for (OpOperand &out : kernel.getDpsInitsMutable())
      if (memref::AllocOp input = inPlaceInput(kernel, out, position, end))
        if (given.insert(input).second)
          slots.unionSets(input, contiguousRoot(out.get()));

  llvm::DenseMap<Operation *, size_t> slotOf;
  SmallVector<BufferLifetime> slotLifetimes;
  for (auto [alloc, lifetime] : llvm::zip(allocs, lifetimes)) {
    auto [it, inserted] = slotOf.try_emplace(slots.getLeaderValue(alloc),
                                             slotLifetimes.size());
    if (inserted) {
      slotLifetimes.push_back(lifetime);
      continue;
    }
    BufferLifetime &slot = slotLifetimes[it->second];
    slot.start = std::min(slot.start, lifetime.start);
    slot.end = std::max(slot.end, lifetime.end);
    slot.size = std::max(slot.size, lifetime.size);
  }
  MemoryPlan plan = planMemory(slotLifetimes, kArenaAlignment);
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

  for (memref::AllocOp alloc : allocs) {
    b.setInsertionPoint(alloc);
    uint64_t offset = plan.offsets[slotOf[slots.getLeaderValue(alloc)]];
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
