//===- OutlineParallelLoops.cpp - Loop nests on the library's threads -----===//
//
// Implements nn-outline-parallel-loops and nn-lower-parallel-dispatch. With
// --threads=N, the elementwise kernels, the reductions that keep a parallel
// dimension (a bias gradient, a row's statistics) and the optimizer
// updates run on the same pool as the GEMM: each large scf.parallel nest
// becomes a function over a range of its first dimension, called through
// the runtime's __nncc_parallel_range (lib/Runtime/nncc_threads.c). The
// other nests move into functions too, called directly and never inlined:
// LLVM then optimizes many functions of a kernel each rather than one of
// every kernel of a training step, whose dominator trees and loop analyses
// grow faster than its size (a MobileNet's step took minutes to compile).
//
// The first pass works on loops, where the nest and what it reads are plain
// to see; the record that carries those values to the pool's threads is
// built by the second, on the LLVM dialect, where a memref is a pointer.
// The second also defines the dispatchers of the epilogues that
// nn-lower-matmul-calls generates, alike: the GEMM
// (__nncc_sgemm_tiles, lib/Runtime/nncc_gemm.c) calls their trampoline on
// each final block of its product.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/Transforms/Fusion.h"
#include "nncc/Dialect/NN/Transforms/Training.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNOUTLINEPARALLELLOOPS
#define GEN_PASS_DEF_NNLOWERPARALLELDISPATCH
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

/// The attribute of a dispatcher declaration naming its loop's function.
static constexpr llvm::StringLiteral kParallelBodyAttr = "nn.parallel_body";
static constexpr llvm::StringLiteral kParallelRange = "__nncc_parallel_range";
/// The runtime's GEMM that calls a generated epilogue (nncc_gemm.c).
static constexpr llvm::StringLiteral kGemmTiles = "__nncc_sgemm_tiles";

/// Loop nests doing fewer innermost iterations than this stay on the
/// calling thread: waking the pool costs about a microsecond.
static constexpr int64_t kMinParallelWork = 1 << 15;

namespace {
struct OutlineParallelLoops
    : public nncc::nn::impl::NNOutlineParallelLoopsBase<OutlineParallelLoops> {
  void runOnOperation() override;
};
struct LowerParallelDispatch
    : public nncc::nn::impl::NNLowerParallelDispatchBase<
          LowerParallelDispatch> {
  void runOnOperation() override;
};
} // namespace

/// The trip count of a loop dimension with constant bounds.
static std::optional<int64_t> tripCount(Value lb, Value ub, Value step) {
  std::optional<int64_t> l = getConstantIntValue(lb),
                         u = getConstantIntValue(ub),
                         s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return std::max<int64_t>(0, llvm::divideCeil(*u - *l, *s));
}

/// The innermost iterations that `op` runs: 1 for an op without regions,
/// a loop's trip count times its body's (the sum of its ops'); std::nullopt
/// when a loop's trip count is not constant.
static std::optional<int64_t> workOf(Operation &op) {
  int64_t trips = 1;
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    std::optional<int64_t> t =
        tripCount(loop.getLowerBound(), loop.getUpperBound(), loop.getStep());
    if (!t)
      return std::nullopt;
    trips = *t;
  } else if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
    for (auto [lb, ub, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      std::optional<int64_t> t = tripCount(lb, ub, step);
      if (!t)
        return std::nullopt;
      trips *= *t;
    }
  }
  int64_t inner = 1;
  for (Region &region : op.getRegions()) {
    int64_t sum = 0;
    for (Operation &nested : region.getOps()) {
      std::optional<int64_t> w = workOf(nested);
      if (!w)
        return std::nullopt;
      sum += *w;
    }
    inner = std::max(inner, sum);
  }
  return trips * inner;
}

/// Whether `value` can be passed to an outlined function: a scalar, or a
/// passable memref (isPassableMemRef).
static bool passable(Value value) {
  Type type = value.getType();
  return type.isIntOrIndexOrFloat() || isPassableMemRef(type);
}

bool nncc::nn::isPassableMemRef(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.hasStaticShape() && memref.getLayout().isIdentity() &&
         !memref.getMemorySpace();
}

/// Whether `op`, defined outside a loop nest, is recomputed inside the
/// outlined function rather than passed to it: a constant, a view, index
/// arithmetic; anything without memory effects or regions.
static bool recomputable(Operation *op) {
  return op->getNumRegions() == 0 && isMemoryEffectFree(op) &&
         op->getNumResults() == 1;
}

/// The loop whose first dimension a nest is split over: the nest itself,
/// an scf.parallel, or the scf.parallel that a chain of scf.for loops leads
/// to (each without iteration values, its body the next loop alone: a
/// reduction outside a parallel dimension, as a bias gradient's sum over
/// the batch). Each thread then runs every iteration of the outer loops
/// over its own range of the parallel dimension, so every element still
/// sums in the same order.
static scf::ParallelOp splitLoop(Operation *nest) {
  while (auto loop = dyn_cast<scf::ForOp>(nest)) {
    Block *body = loop.getBody();
    if (loop.getNumRegionIterArgs() != 0 ||
        !llvm::hasSingleElement(body->without_terminator()))
      return {};
    nest = &body->front();
  }
  return dyn_cast<scf::ParallelOp>(nest);
}

/// How an outlined nest is called: through a dispatcher, on the library's
/// threads, or directly, over its whole range, on the calling thread.
enum class Outlined { Dispatched, Direct };

/// Moves `nest` into a function of its own over a range of the first
/// dimension of its splitLoop, and calls that function's dispatcher, or the
/// function itself over [0, count), in its place. Returns false, changing
/// nothing, when a value the nest reads cannot be passed.
static bool outline(Operation *nest, int64_t count, func::FuncOp parent,
                    unsigned &index, Outlined how) {
  // The values the nest reads from outside: those computed without memory
  // effects are recomputed inside, from what they read in turn.
  llvm::SetVector<Value> outside;
  getUsedValuesDefinedAbove(nest->getRegions(), outside);
  for (Value operand : nest->getOperands())
    outside.insert(operand);
  llvm::SetVector<Operation *> recomputed;
  llvm::SetVector<Value> passed;
  SmallVector<Value> worklist(outside.begin(), outside.end());
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    Operation *def = value.getDefiningOp();
    if (def && recomputable(def)) {
      if (recomputed.insert(def))
        llvm::append_range(worklist, def->getOperands());
      continue;
    }
    if (!passable(value))
      return false;
    passed.insert(value);
  }

  // Arguments first, in their order, then values in the order they are
  // computed: the outlined function's signature reads like the parent's.
  SmallVector<Value> ordered(passed.begin(), passed.end());
  llvm::sort(ordered, [](Value x, Value y) {
    auto xa = dyn_cast<BlockArgument>(x), ya = dyn_cast<BlockArgument>(y);
    if (xa || ya)
      return xa && (!ya || xa.getArgNumber() < ya.getArgNumber());
    return x.getDefiningOp()->isBeforeInBlock(y.getDefiningOp());
  });
  passed = llvm::SetVector<Value>(ordered.begin(), ordered.end());

  MLIRContext *ctx = nest->getContext();
  OpBuilder b(parent);
  b.setInsertionPointAfter(parent);
  Location loc = nest->getLoc();
  SmallVector<Type> types;
  for (Value value : passed)
    types.push_back(value.getType());
  SmallVector<Type> bodyTypes = types;
  bodyTypes.append({b.getIndexType(), b.getIndexType()});
  // A name no symbol of the module has, with its dispatcher's.
  auto module = parent->getParentOfType<ModuleOp>();
  llvm::StringRef kind = how == Outlined::Direct ? "_nest" : "_par";
  std::string name;
  do {
    name = (parent.getName() + kind + Twine(index++)).str();
  } while (module.lookupSymbol(name) ||
           module.lookupSymbol(name + "_dispatch"));
  auto body =
      b.create<func::FuncOp>(loc, name, FunctionType::get(ctx, bodyTypes, {}));
  body.setPrivate();
  func::FuncOp callee = body;
  if (how == Outlined::Direct) {
    // Becomes llvm.func's no_inline: inlined back, the nest would make the
    // parent as large as before.
    body->setAttr("no_inline", b.getUnitAttr());
  } else {
    SmallVector<Type> dispatchTypes = types;
    dispatchTypes.push_back(b.getIndexType());
    callee = b.create<func::FuncOp>(
        loc, name + "_dispatch", FunctionType::get(ctx, dispatchTypes, {}));
    callee.setPrivate();
    callee->setAttr(kParallelBodyAttr, FlatSymbolRefAttr::get(body));
  }

  // The body: the recomputed values in their original order, then the
  // nest, its first dimension bounded by [begin, end).
  Block *entry = body.addEntryBlock();
  IRMapping mapping;
  for (auto [value, argument] : llvm::zip(passed, entry->getArguments()))
    mapping.map(value, argument);
  OpBuilder inside = OpBuilder::atBlockBegin(entry);
  SmallVector<Operation *> ops(recomputed.begin(), recomputed.end());
  llvm::sort(ops,
             [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
  for (Operation *op : ops)
    inside.clone(*op, mapping);
  scf::ParallelOp split = splitLoop(inside.clone(*nest, mapping));
  unsigned args = entry->getNumArguments();
  split.getLowerBoundMutable()[0].assign(entry->getArgument(args - 2));
  split.getUpperBoundMutable()[0].assign(entry->getArgument(args - 1));
  inside.create<func::ReturnOp>(loc);

  OpBuilder call(nest);
  SmallVector<Value> operands(passed.begin(), passed.end());
  if (how == Outlined::Direct)
    operands.push_back(call.create<arith::ConstantIndexOp>(loc, 0));
  operands.push_back(call.create<arith::ConstantIndexOp>(loc, count));
  call.create<func::CallOp>(loc, callee, operands);
  nest->erase();
  return true;
}

void OutlineParallelLoops::runOnOperation() {
  ModuleOp module = getOperation();
  auto threads = module->getAttrOfType<IntegerAttr>(kThreadsAttr);
  bool pool = threads && threads.getInt() > 1;
  SmallVector<func::FuncOp> functions(module.getOps<func::FuncOp>());
  for (func::FuncOp func : functions) {
    if (func.isExternal())
      continue;
    SmallVector<std::pair<Operation *, scf::ParallelOp>> nests;
    for (Operation &op : func.getBody().front())
      if (scf::ParallelOp split = splitLoop(&op))
        nests.push_back({&op, split});
    unsigned parallelIndex = 0, directIndex = 0;
    for (auto [nest, split] : nests) {
      std::optional<int64_t> lb = getConstantIntValue(split.getLowerBound()[0]);
      std::optional<int64_t> ub = getConstantIntValue(split.getUpperBound()[0]);
      std::optional<int64_t> step = getConstantIntValue(split.getStep()[0]);
      std::optional<int64_t> work = workOf(*nest);
      if (lb != 0 || step != 1 || !ub || *ub < 1)
        continue;
      bool parallel = pool && *ub >= 2 && work && *work >= kMinParallelWork;
      if (parallel)
        outline(nest, *ub, func, parallelIndex, Outlined::Dispatched);
      else
        outline(nest, *ub, func, directIndex, Outlined::Direct);
    }
  }
}

/// A kind of dispatcher declaration: the attribute that names its function,
/// the runtime function it calls, and the arguments the runtime passes the
/// trampoline after the record (a range of a loop; a block of a product).
struct DispatchKind {
  llvm::StringLiteral attr;
  llvm::StringLiteral runtime;
  unsigned extras;
};
static constexpr DispatchKind kDispatchKinds[] = {
    {kParallelBodyAttr, kParallelRange, 2},
    {kGemmEpilogueAttr, kGemmTiles, 5},
};

/// Defines `dispatch`, whose first arguments are `body`'s but its last
/// `kind.extras`, and whose others are the runtime function's before the
/// trampoline and its record:
///   dispatch(fields..., forwarded...) stores the fields in a record on the
///     stack and calls runtime(forwarded..., trampoline, record);
///   trampoline(record, extras...) = body(record's fields..., extras...).
static LogicalResult defineDispatcher(LLVM::LLVMFuncOp dispatch,
                                      const DispatchKind &kind) {
  auto module = dispatch->getParentOfType<ModuleOp>();
  MLIRContext *ctx = module.getContext();
  Location loc = dispatch.getLoc();
  auto bodyName = dispatch->getAttrOfType<FlatSymbolRefAttr>(kind.attr);
  auto body = module.lookupSymbol<LLVM::LLVMFuncOp>(bodyName);
  ArrayRef<Type> params = dispatch.getFunctionType().getParams();
  if (!body || body.getNumArguments() < kind.extras ||
      body.getNumArguments() - kind.extras > params.size())
    return dispatch.emitError("no function '")
           << bodyName.getValue() << "' that takes the dispatcher's arguments";
  dispatch->removeAttr(kind.attr);
  dispatch.setLinkage(LLVM::Linkage::Internal);
  body.setLinkage(LLVM::Linkage::Internal);
  ArrayRef<Type> fields =
      params.take_front(body.getNumArguments() - kind.extras);
  ArrayRef<Type> forwarded = params.drop_front(fields.size());
  ArrayRef<Type> extras =
      body.getFunctionType().getParams().take_back(kind.extras);
  auto record = LLVM::LLVMStructType::getLiteral(ctx, fields);
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto voidType = LLVM::LLVMVoidType::get(ctx);
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto runtime = module.lookupSymbol<LLVM::LLVMFuncOp>(kind.runtime);
  if (!runtime) {
    SmallVector<Type> types(forwarded.begin(), forwarded.end());
    types.append({ptr, ptr});
    runtime = b.create<LLVM::LLVMFuncOp>(
        module.getLoc(), kind.runtime,
        LLVM::LLVMFunctionType::get(voidType, types));
  }

  b.setInsertionPointAfter(dispatch);
  SmallVector<Type> trampolineTypes = {ptr};
  trampolineTypes.append(extras.begin(), extras.end());
  auto trampoline = b.create<LLVM::LLVMFuncOp>(
      loc, (dispatch.getName() + "_trampoline").str(),
      LLVM::LLVMFunctionType::get(voidType, trampolineTypes),
      LLVM::Linkage::Internal);
  {
    Block *entry = trampoline.addEntryBlock(b);
    OpBuilder t = OpBuilder::atBlockBegin(entry);
    SmallVector<Value> operands;
    for (auto [i, field] : llvm::enumerate(fields)) {
      Value address = t.create<LLVM::GEPOp>(
          loc, ptr, record, entry->getArgument(0),
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
      operands.push_back(t.create<LLVM::LoadOp>(loc, field, address));
    }
    llvm::append_range(operands, entry->getArguments().drop_front());
    t.create<LLVM::CallOp>(loc, body, operands);
    t.create<LLVM::ReturnOp>(loc, ValueRange());
  }

  Block *entry = dispatch.addEntryBlock(b);
  OpBuilder d = OpBuilder::atBlockBegin(entry);
  auto i64 = IntegerType::get(ctx, 64);
  Value one = d.create<LLVM::ConstantOp>(loc, i64, d.getI64IntegerAttr(1));
  Value slot = d.create<LLVM::AllocaOp>(loc, ptr, record, one);
  for (auto [i, field] : llvm::enumerate(fields)) {
    Value address = d.create<LLVM::GEPOp>(
        loc, ptr, record, slot,
        ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
    d.create<LLVM::StoreOp>(loc, entry->getArgument(i), address);
  }
  SmallVector<Value> operands(entry->getArguments().drop_front(fields.size()));
  operands.push_back(
      d.create<LLVM::AddressOfOp>(loc, ptr, trampoline.getName()));
  operands.push_back(slot);
  d.create<LLVM::CallOp>(loc, runtime, operands);
  d.create<LLVM::ReturnOp>(loc, ValueRange());
  return success();
}

void LowerParallelDispatch::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<std::pair<LLVM::LLVMFuncOp, const DispatchKind *>> dispatchers;
  for (auto func : module.getOps<LLVM::LLVMFuncOp>())
    for (const DispatchKind &kind : kDispatchKinds)
      if (func->hasAttr(kind.attr))
        dispatchers.push_back({func, &kind});
  for (auto [dispatch, kind] : dispatchers)
    if (failed(defineDispatcher(dispatch, *kind)))
      return signalPassFailure();
}
