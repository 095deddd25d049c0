//===- PromoteAccumulators.cpp - Reductions in registers ------------------===//
//
// Implements nn-promote-accumulators. A reduction lowered to loops (a bias
// gradient: for each channel, a sum over the batch and the image) loads its
// accumulator from memory, adds, and stores it back, in every iteration of
// its innermost loops. LLVM cannot keep it in a register when the same loop
// stores elsewhere in the arena (a fused ReLU gradient): it cannot tell the
// buffers apart. Here they can be: every buffer of a step is a memref.view
// of the arena at a constant offset, so two of them share no byte when their
// byte ranges are disjoint. Such an accumulator becomes a value the loop
// carries: loaded before it, stored after it, and, the loop nest being
// processed from the inside out, carried by each loop it is invariant in.
// Likewise, an elementwise kernel's broadcast operand (a row's sum) is
// loaded once per row, before the row's loop, rather than in every
// iteration, and the row vectorizes. A sum along a row is split into
// partial sums per vector lane, written out, so that it vectorizes alike
// in every library.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNPROMOTEACCUMULATORS
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

namespace {
struct PromoteAccumulators
    : public nncc::nn::impl::NNPromoteAccumulatorsBase<PromoteAccumulators> {
  void runOnOperation() override;
};

/// Where a memref lies: a byte range of the arena, or all of a buffer the
/// function receives.
struct Extent {
  Value buffer;
  int64_t begin = 0, end = 0;
  bool whole = true;
};
} // namespace

/// The extent of `memref`: through view ops down to a memref.view of the
/// arena at a constant offset (whose bytes contain those of every view of
/// it), or to a function argument; std::nullopt otherwise.
static std::optional<Extent> extentOf(Value memref) {
  while (true) {
    if (auto view = memref.getDefiningOp<memref::ViewOp>()) {
      std::optional<int64_t> shift = getConstantIntValue(view.getByteShift());
      MemRefType type = view.getType();
      if (!shift || !type.hasStaticShape() ||
          !type.getElementType().isIntOrFloat())
        return std::nullopt;
      int64_t bytes = type.getNumElements() *
                      llvm::divideCeil(type.getElementTypeBitWidth(), 8);
      return Extent{view.getSource(), *shift, *shift + bytes, false};
    }
    if (auto arg = dyn_cast<BlockArgument>(memref)) {
      if (!isa<func::FuncOp>(arg.getOwner()->getParentOp()))
        return std::nullopt;
      return Extent{arg};
    }
    // A reinterpret_cast may reach anywhere in its source's allocation.
    auto view = memref.getDefiningOp<ViewLikeOpInterface>();
    if (!view || isa<memref::ReinterpretCastOp>(view))
      return std::nullopt;
    memref = view.getViewSource();
  }
}

/// Whether `a` and `b` share no byte: two byte ranges of one buffer that do
/// not meet, or two distinct buffers the function receives (the arena, the
/// parameters, the optimizer state and the caller's data are separate
/// allocations; the caller's inputs and outputs may overlap each other, so
/// two arguments other than the arena are not known apart).
static bool disjoint(Value a, Value b) {
  std::optional<Extent> x = extentOf(a), y = extentOf(b);
  if (!x || !y)
    return false;
  if (x->buffer == y->buffer)
    return !x->whole && !y->whole && (x->end <= y->begin || y->end <= x->begin);
  auto isArena = [](Value buffer) {
    auto arg = cast<BlockArgument>(buffer);
    auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto role =
        func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), kRoleAttr);
    return role && role.getValue() == kRoleWorkspace;
  };
  return isArena(x->buffer) || isArena(y->buffer);
}

/// Carries one accumulator of `loop` in a register, if it has one: a load
/// and, after it, a store of the same element (indices defined outside the
/// loop), both in the loop's body, while every other access of the loop is
/// to memory disjoint from it and nothing else in it has memory effects.
/// Returns the new loop, or null.
static scf::ForOp promoteOne(scf::ForOp loop, RewriterBase &rewriter) {
  Block *body = loop.getBody();
  for (auto store : body->getOps<memref::StoreOp>()) {
    Value memref = store.getMemRef();
    if (!llvm::all_of(
            store.getIndices(),
            [&](Value index) { return loop.isDefinedOutsideOfLoop(index); }) ||
        !loop.isDefinedOutsideOfLoop(memref))
      continue;
    memref::LoadOp load;
    for (auto candidate : body->getOps<memref::LoadOp>())
      if (candidate.getMemRef() == memref &&
          llvm::equal(candidate.getIndices(), store.getIndices()) &&
          candidate->isBeforeInBlock(store)) {
        load = candidate;
        break;
      }
    if (!load)
      continue;
    bool alone = true;
    loop.getBody()->walk([&](Operation *op) {
      if (op == load || op == store)
        return;
      Value accessed;
      if (auto other = dyn_cast<memref::LoadOp>(op))
        accessed = other.getMemRef();
      else if (auto other = dyn_cast<memref::StoreOp>(op))
        accessed = other.getMemRef();
      if (accessed)
        alone &= disjoint(accessed, memref);
      else if (!isa<scf::ForOp, scf::ParallelOp, scf::YieldOp, scf::ReduceOp>(
                   op))
        alone &= isMemoryEffectFree(op);
    });
    if (!alone)
      continue;

    rewriter.setInsertionPoint(loop);
    Value initial = rewriter.create<memref::LoadOp>(load.getLoc(), memref,
                                                    load.getIndices());
    Value stored = store.getValueToStore();
    FailureOr<LoopLikeOpInterface> replaced = loop.replaceWithAdditionalYields(
        rewriter, initial, /*replaceInitOperandUsesInLoop=*/false,
        [&](OpBuilder &, Location, ArrayRef<BlockArgument> carried) {
          rewriter.replaceAllUsesWith(load.getResult(), carried[0]);
          return SmallVector<Value>{stored};
        });
    if (failed(replaced))
      return {};
    auto promoted = cast<scf::ForOp>(replaced->getOperation());
    rewriter.setInsertionPointAfter(promoted);
    rewriter.create<memref::StoreOp>(store.getLoc(),
                                     promoted.getResults().back(), memref,
                                     store.getIndices());
    rewriter.eraseOp(store);
    rewriter.eraseOp(load);
    return promoted;
  }
  return {};
}

/// Whether the accesses and effects of `body` allow moving loads out of
/// it: its ops are loads, stores, loops and ops without memory effects.
/// Collects the memrefs it stores to into `written`.
static bool onlyLoadsAndStores(Block *body, SmallVectorImpl<Value> &written) {
  bool plain = true;
  body->walk([&](Operation *op) {
    if (auto store = dyn_cast<memref::StoreOp>(op))
      written.push_back(store.getMemRef());
    else if (!isa<memref::LoadOp, scf::ForOp, scf::ParallelOp, scf::YieldOp,
                  scf::ReduceOp>(op))
      plain &= isMemoryEffectFree(op);
  });
  return plain;
}

/// In an scf.parallel whose body loads elements that do not depend on its
/// last dimension (a broadcast operand: a softmax's row sum, a layer norm's
/// statistics) from memory that no store of the body can reach, splits
/// that dimension off into a loop of its own (unless it is the only one)
/// and loads those elements before it, once per row. LLVM would otherwise
/// load them in every iteration of the row, not knowing that the stores
/// (the kernel's output, often over its own input) leave them alone, and
/// would not vectorize the row. Returns whether it did.
static bool hoistRowInvariantLoads(scf::ParallelOp loop,
                                   RewriterBase &rewriter) {
  unsigned dims = loop.getNumLoops();
  if (loop.getNumResults() != 0)
    return false;
  Block *body = loop.getBody();
  SmallVector<Value> written;
  if (!onlyLoadsAndStores(body, written))
    return false;
  SmallVector<Value> ivs = loop.getInductionVars();
  auto beforeRow = [&](Value value) {
    return loop.isDefinedOutsideOfLoop(value) ||
           llvm::is_contained(ArrayRef<Value>(ivs).drop_back(), value);
  };
  SmallVector<memref::LoadOp> invariant;
  for (auto load : body->getOps<memref::LoadOp>())
    if (beforeRow(load.getMemRef()) &&
        llvm::all_of(load.getIndices(), beforeRow) &&
        llvm::all_of(written, [&](Value memref) {
          return disjoint(memref, load.getMemRef());
        }))
      invariant.push_back(load);
  if (invariant.empty())
    return false;

  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  if (dims == 1) {
    for (memref::LoadOp load : invariant)
      rewriter.moveOpBefore(load, loop);
    return true;
  }
  auto outer = rewriter.create<scf::ParallelOp>(
      loc, loop.getLowerBound().drop_back(), loop.getUpperBound().drop_back(),
      loop.getStep().drop_back());
  rewriter.setInsertionPointToStart(outer.getBody());
  SmallVector<Value> outerIvs = outer.getInductionVars();
  IRMapping mapping;
  for (auto [from, to] : llvm::zip(ArrayRef<Value>(ivs).drop_back(), outerIvs))
    mapping.map(from, to);
  SmallVector<Value> hoisted;
  for (memref::LoadOp load : invariant)
    hoisted.push_back(rewriter.clone(*load, mapping)->getResult(0));
  auto row = rewriter.create<scf::ParallelOp>(loc, loop.getLowerBound().back(),
                                              loop.getUpperBound().back(),
                                              loop.getStep().back());
  Block *rowBody = row.getBody();
  rowBody->getOperations().splice(rowBody->getTerminator()->getIterator(),
                                  body->getOperations(), body->begin(),
                                  std::prev(body->end()));
  for (auto [load, value] : llvm::zip(invariant, hoisted))
    rewriter.replaceOp(load, value);
  for (auto [from, to] : llvm::zip(ArrayRef<Value>(ivs).drop_back(), outerIvs))
    rewriter.replaceAllUsesWith(from, to);
  rewriter.replaceAllUsesWith(ivs.back(), row.getInductionVars().front());
  rewriter.eraseOp(loop);
  return true;
}

/// The terms of a conjunction (a tree of arith.andi).
static void conjuncts(Value condition, SmallVectorImpl<Value> &terms) {
  if (auto both = condition.getDefiningOp<arith::AndIOp>()) {
    conjuncts(both.getLhs(), terms);
    conjuncts(both.getRhs(), terms);
    return;
  }
  terms.push_back(condition);
}

/// Rewrites a promoted sum that starts from its first term (convert-nn-to-
/// linalg's firstOr: `select(first, x, acc + x)`, where `first` holds at
/// the first iteration of the whole reduction) into a plain sum that starts
/// from -0.0, which adds to any x exactly as x: -0.0 + x is x. `first` is
/// the conjunction of `iv == lb` for the loops that carry the accumulator
/// (the innermost, `loop`, and those around it) and of terms the loops do
/// not change (an outer loop's index): the chain's initial value becomes
/// `select(those terms, -0.0, initial)`. The sum is the same, bit for bit,
/// and each iteration one select cheaper; splitIntoLanes then vectorizes
/// it. (Not `reassoc`: LLVM would vectorize a loop outlined for the threads
/// differently from the same loop inline, and the results would depend on
/// the thread count.) Returns whether it did.
static bool startSumFromZero(scf::ForOp loop, unsigned position,
                             RewriterBase &rewriter) {
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  auto select = yield.getOperand(position).getDefiningOp<arith::SelectOp>();
  BlockArgument acc = loop.getRegionIterArg(position);
  if (!select || !acc.getType().isF32() || !select->hasOneUse() ||
      !acc.hasOneUse())
    return false;
  auto add = select.getFalseValue().getDefiningOp<arith::AddFOp>();
  if (!add || !add->hasOneUse() ||
      !llvm::is_contained(add->getOperands(), acc) ||
      !llvm::is_contained(add->getOperands(), select.getTrueValue()) ||
      add.getLhs() == add.getRhs())
    return false;
  // The loops that carry the accumulator, innermost first.
  SmallVector<scf::ForOp> chain = {loop};
  Value initial = loop.getInitArgs()[position];
  while (auto arg = dyn_cast<BlockArgument>(initial)) {
    // Each loop of the chain passes its value on to the next, and does
    // nothing else with it: the value it starts with is seen only there.
    auto outer = dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp());
    if (!outer || arg.getArgNumber() == 0 || !arg.hasOneUse() ||
        chain.back()->getParentOp() != outer)
      return false;
    unsigned index = arg.getArgNumber() - 1;
    auto outerYield = cast<scf::YieldOp>(outer.getBody()->getTerminator());
    if (outerYield.getOperand(index) != chain.back()->getResult(position))
      return false;
    chain.push_back(outer);
    position = index;
    initial = outer.getInitArgs()[index];
  }
  scf::ForOp top = chain.back();
  // Each carrying loop at its first index, and terms outside the chain.
  SmallVector<Value> terms, invariant;
  conjuncts(select.getCondition(), terms);
  llvm::SmallPtrSet<Operation *, 4> atFirst;
  for (Value term : terms) {
    auto compare = term.getDefiningOp<arith::CmpIOp>();
    if (compare && compare.getPredicate() == arith::CmpIPredicate::eq) {
      // iv == lb, either way round, with lb a constant.
      auto isFirst = [](scf::ForOp l, Value x, Value y) {
        std::optional<int64_t> lb = getConstantIntValue(l.getLowerBound());
        return x == l.getInductionVar() && lb && getConstantIntValue(y) == lb;
      };
      auto carrying = llvm::find_if(chain, [&](scf::ForOp l) {
        return isFirst(l, compare.getLhs(), compare.getRhs()) ||
               isFirst(l, compare.getRhs(), compare.getLhs());
      });
      if (carrying != chain.end()) {
        atFirst.insert(*carrying);
        continue;
      }
    }
    if (!top.isDefinedOutsideOfLoop(term) &&
        !(compare && top.isDefinedOutsideOfLoop(compare.getLhs()) &&
          top.isDefinedOutsideOfLoop(compare.getRhs())))
      return false;
    invariant.push_back(term);
  }
  if (atFirst.size() != chain.size())
    return false;

  Location loc = select.getLoc();
  rewriter.setInsertionPoint(top);
  Value zero =
      rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(-0.0f));
  Value start = zero;
  if (!invariant.empty()) {
    Value first;
    for (Value term : invariant) {
      if (!top.isDefinedOutsideOfLoop(term))
        term = rewriter.clone(*term.getDefiningOp())->getResult(0);
      first = first ? rewriter.create<arith::AndIOp>(loc, first, term) : term;
    }
    start = rewriter.create<arith::SelectOp>(loc, first, zero, initial);
  }
  rewriter.modifyOpInPlace(
      top, [&] { top.getInitArgsMutable()[position].assign(start); });
  rewriter.replaceOp(select, add.getResult());
  return true;
}

/// The partial sums a row's sum is split into (see splitIntoLanes): a
/// vector of floats on AVX2.
static constexpr int64_t kLanes = 8;

/// Splits the sum that `loop` carries (its one value, `acc + term`) into
/// kLanes partial sums: a loop over kLanes iterations at a time, each of
/// them one lane's, the lanes then added pairwise in a fixed order, then
/// the iterations left over added in order. The arithmetic is written out,
/// so the result does not depend on how LLVM vectorizes it (as it would
/// with reassociation allowed: a loop outlined for the threads vectorizes
/// differently from the same loop inline), and the lanes' isomorphic
/// iterations vectorize. Needs constant bounds, a step of 1 and at least
/// 2 kLanes iterations. Returns whether it did.
static bool splitIntoLanes(scf::ForOp loop, RewriterBase &rewriter) {
  if (loop.getNumRegionIterArgs() != 1)
    return false;
  BlockArgument acc = loop.getRegionIterArg(0);
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound());
  std::optional<int64_t> ub = getConstantIntValue(loop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (!add || !acc.getType().isF32() || !acc.hasOneUse() ||
      !llvm::is_contained(add->getOperands(), acc) || !lb || !ub || step != 1 ||
      *ub - *lb < 2 * kLanes)
    return false;
  int64_t split = *lb + (*ub - *lb) / kLanes * kLanes;
  Location loc = loop.getLoc();
  rewriter.setInsertionPoint(loop);
  Value zero =
      rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(-0.0f));
  SmallVector<Value> inits(kLanes, zero);
  inits.front() = loop.getInitArgs()[0];
  Block *body = loop.getBody();
  auto lanes = rewriter.create<scf::ForOp>(
      loc, loop.getLowerBound(),
      rewriter.create<arith::ConstantIndexOp>(loc, split),
      rewriter.create<arith::ConstantIndexOp>(loc, kLanes), inits,
      [&](OpBuilder &b, Location l, Value iv, ValueRange partial) {
        SmallVector<Value> next;
        for (int64_t lane = 0; lane < kLanes; ++lane) {
          IRMapping mapping;
          mapping.map(loop.getInductionVar(),
                      b.create<arith::AddIOp>(
                          l, iv, b.create<arith::ConstantIndexOp>(l, lane)));
          mapping.map(acc, partial[lane]);
          for (Operation &op : body->without_terminator())
            b.clone(op, mapping);
          next.push_back(mapping.lookup(add.getResult()));
        }
        b.create<scf::YieldOp>(l, next);
      });
  SmallVector<Value> partial(lanes.getResults());
  while (partial.size() > 1) {
    SmallVector<Value> halves;
    for (size_t i = 0; i < partial.size(); i += 2)
      halves.push_back(
          rewriter.create<arith::AddFOp>(loc, partial[i], partial[i + 1]));
    partial = halves;
  }
  if (split == *ub) {
    rewriter.replaceOp(loop, partial.front());
    return true;
  }
  rewriter.modifyOpInPlace(loop, [&] {
    loop.getLowerBoundMutable().assign(
        rewriter.create<arith::ConstantIndexOp>(loc, split));
    loop.getInitArgsMutable()[0].assign(partial.front());
  });
  return true;
}

void PromoteAccumulators::runOnOperation() {
  IRRewriter rewriter(&getContext());
  SmallVector<scf::ParallelOp> parallels;
  getOperation()->walk(
      [&](scf::ParallelOp loop) { parallels.push_back(loop); });
  for (scf::ParallelOp loop : parallels)
    hoistRowInvariantLoads(loop, rewriter);

  // Innermost loops first: the load and store a loop's promotion places
  // around it make the accumulator one of its parent's.
  SmallVector<scf::ForOp> loops;
  getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
  for (scf::ForOp loop : loops)
    while (scf::ForOp promoted = promoteOne(loop, rewriter))
      loop = promoted;

  // Then the sums they carry, from their innermost loops.
  SmallVector<scf::ForOp> inner;
  getOperation()->walk([&](scf::ForOp loop) {
    if (loop.getNumRegionIterArgs() != 0 &&
        loop.getBody()->getOps<scf::ForOp>().empty())
      inner.push_back(loop);
  });
  for (scf::ForOp loop : inner) {
    bool started = false;
    for (unsigned i = 0; i < loop.getNumRegionIterArgs(); ++i)
      started |= startSumFromZero(loop, i, rewriter);
    if (started)
      splitIntoLanes(loop, rewriter);
  }
}
