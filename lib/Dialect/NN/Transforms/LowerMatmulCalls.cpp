//===- LowerMatmulCalls.cpp - Large matrix products as GEMM calls ---------===//
//
// Implements nn-lower-matmul-calls: after bufferization, each linalg.generic
// that convert-nn-to-linalg marked as a matrix product (`nn.matmul`) becomes
// a call of the runtime's packed, register-blocked GEMM (lib/Runtime/
// nncc_gemm.c), one per matrix of a batched product, with the operands'
// strides, so that transposed and broadcast operands need no copy. The
// packing buffers it needs are allocations of their own, which nn-plan-memory
// then places in the arena.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/Passes.h"

#include "nncc/Dialect/NN/Transforms/Fusion.h"
#include "nncc/Runtime/Gemm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace nncc::nn {
#define GEN_PASS_DEF_NNLOWERMATMULCALLS
#include "nncc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nncc::nn

using namespace mlir;
using namespace nncc::nn;

static constexpr llvm::StringLiteral kGemmFunction = "__nncc_sgemm";

namespace {

struct LowerMatmulCalls
    : public nncc::nn::impl::NNLowerMatmulCallsBase<LowerMatmulCalls> {
  void runOnOperation() override;
};

/// One operand of the product: where each of its memref dimensions comes
/// from in the generic's iteration space.
struct Operand {
  Value memref;
  AffineMap map;
};

} // namespace

/// The result position of `map` that is loop `dim`, or -1.
static int64_t positionOf(AffineMap map, unsigned dim) {
  for (auto [i, expr] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(expr); d && d.getPosition() == dim)
      return i;
  return -1;
}

/// The declaration of the runtime's GEMM in `module`.
static func::FuncOp gemmDeclaration(ModuleOp module) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(kGemmFunction))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Type index = b.getIndexType();
  Type pointer = MemRefType::get({}, b.getF32Type());
  // m, n, k; then A, B and C as (base, offset, row stride, column stride);
  // then the packing buffers of A and of B.
  SmallVector<Type> inputs = {index, index, index};
  for (int i = 0; i < 3; ++i)
    inputs.append({pointer, index, index, index});
  inputs.append({pointer, pointer});
  auto func = b.create<func::FuncOp>(module.getLoc(), kGemmFunction,
                                     b.getFunctionType(inputs, {}));
  func.setPrivate();
  return func;
}

/// The loops m, n and k of a product C[batch.., m, n] = sum_k A B.
struct ProductLoops {
  unsigned m, n, k;
};

/// The loops of `generic` if it is the product that convert-nn-to-linalg
/// builds: C[batch.., m, n] = sum_k A * B, of float32 memrefs with strided
/// layouts, A and B read through projections of the loops (batch
/// dimensions broadcast by a constant 0), m and k in A, k and n in B.
static std::optional<ProductLoops> productLoops(linalg::GenericOp generic) {
  if (!generic.hasPureBufferSemantics() || generic.getNumDpsInputs() != 2 ||
      generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 1)
    return std::nullopt;
  // The body multiplies the two inputs and adds the product to the
  // accumulator (buildMatmul's firstOr form, or a plain sum): nothing else,
  // such as a producer fused into it, may hide in it.
  Block &body = generic.getRegion().front();
  auto product = dyn_cast<arith::MulFOp>(body.front());
  if (!product ||
      !llvm::is_contained(product->getOperands(), body.getArgument(0)) ||
      !llvm::is_contained(product->getOperands(), body.getArgument(1)))
    return std::nullopt;
  for (Operation &op : body.without_terminator())
    if (!isa<arith::MulFOp, arith::AddFOp, arith::SelectOp, arith::CmpIOp,
             arith::AndIOp, arith::ConstantOp, linalg::IndexOp>(op) ||
        (isa<arith::MulFOp>(op) && &op != product))
      return std::nullopt;
  for (OpOperand &operand : generic->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.getElementType().isF32() || !type.hasStaticShape() ||
        !isStrided(type))
      return std::nullopt;
    for (AffineExpr expr :
         generic.getMatchingIndexingMap(&operand).getResults()) {
      auto constant = dyn_cast<AffineConstantExpr>(expr);
      if (!isa<AffineDimExpr>(expr) && !(constant && constant.getValue() == 0))
        return std::nullopt;
    }
  }
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  unsigned rank = maps[2].getNumResults();
  if (rank < 2)
    return std::nullopt;
  ProductLoops loops;
  loops.m = cast<AffineDimExpr>(maps[2].getResult(rank - 2)).getPosition();
  loops.n = cast<AffineDimExpr>(maps[2].getResult(rank - 1)).getPosition();
  for (auto [dim, iterator] : llvm::enumerate(generic.getIteratorTypesArray()))
    if (iterator == utils::IteratorType::reduction)
      loops.k = dim;
  if (positionOf(maps[0], loops.m) < 0 || positionOf(maps[0], loops.k) < 0 ||
      positionOf(maps[1], loops.k) < 0 || positionOf(maps[1], loops.n) < 0)
    return std::nullopt;
  return loops;
}

static void lowerToCall(linalg::GenericOp generic, ProductLoops loops,
                        int64_t threads, func::FuncOp gemm) {
  Location loc = generic.getLoc();
  OpBuilder b(generic);
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  AffineMap outMap = generic.getIndexingMapsArray()[2];
  unsigned rank = outMap.getNumResults();
  unsigned m = loops.m, n = loops.n, k = loops.k;
  Operand a{generic.getDpsInputs()[0], generic.getIndexingMapsArray()[0]};
  Operand bOp{generic.getDpsInputs()[1], generic.getIndexingMapsArray()[1]};
  Operand c{generic.getDpsInits()[0], outMap};

  // Packing buffers, one block of A and one of B per thread, sized as
  // nncc_gemm.c expects (nncc/Runtime/Gemm.h).
  auto roundUp = [](int64_t x, int64_t to) { return (x + to - 1) / to * to; };
  int64_t packA =
      threads *
      roundUp(std::min<int64_t>(ranges[m], NNCC_GEMM_MC), NNCC_GEMM_MR) *
      std::min<int64_t>(ranges[k], NNCC_GEMM_KC);
  int64_t packB =
      threads * std::min<int64_t>(ranges[k], NNCC_GEMM_KC) *
      roundUp(std::min<int64_t>(ranges[n], NNCC_GEMM_NC), NNCC_GEMM_NR);
  Type f32 = b.getF32Type();
  Value packABuffer =
      b.create<memref::AllocOp>(loc, MemRefType::get({packA}, f32));
  Value packBBuffer =
      b.create<memref::AllocOp>(loc, MemRefType::get({packB}, f32));

  auto metadata = [&](Value memref) {
    return b.create<memref::ExtractStridedMetadataOp>(loc, memref);
  };
  auto aMeta = metadata(a.memref), bMeta = metadata(bOp.memref),
       cMeta = metadata(c.memref);
  Value packABase = metadata(packABuffer).getBaseBuffer();
  Value packBBase = metadata(packBBuffer).getBaseBuffer();

  // One call per matrix: loops over C's batch dimensions.
  SmallVector<Value> ivs(generic.getNumLoops());
  OpBuilder::InsertionGuard guard(b);
  for (unsigned i = 0; i + 2 < rank; ++i) {
    unsigned dim = cast<AffineDimExpr>(outMap.getResult(i)).getPosition();
    auto loop =
        b.create<scf::ForOp>(loc, b.create<arith::ConstantIndexOp>(loc, 0),
                             b.create<arith::ConstantIndexOp>(loc, ranges[dim]),
                             b.create<arith::ConstantIndexOp>(loc, 1));
    ivs[dim] = loop.getInductionVar();
    b.setInsertionPointToStart(loop.getBody());
  }
  // The element offset of this matrix in each operand.
  auto offsetOf = [&](const Operand &operand,
                      memref::ExtractStridedMetadataOp meta) {
    Value offset = meta.getOffset();
    for (auto [i, expr] : llvm::enumerate(operand.map.getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(expr);
      if (!dim || !ivs[dim.getPosition()])
        continue;
      Value step = b.create<arith::MulIOp>(loc, ivs[dim.getPosition()],
                                           meta.getStrides()[i]);
      offset = b.create<arith::AddIOp>(loc, offset, step);
    }
    return offset;
  };
  auto strideOf = [&](const Operand &operand,
                      memref::ExtractStridedMetadataOp meta, unsigned dim) {
    return meta.getStrides()[positionOf(operand.map, dim)];
  };
  auto size = [&](unsigned dim) {
    return b.create<arith::ConstantIndexOp>(loc, ranges[dim]).getResult();
  };
  SmallVector<Value> args = {size(m), size(n), size(k)};
  args.append({aMeta.getBaseBuffer(), offsetOf(a, aMeta), strideOf(a, aMeta, m),
               strideOf(a, aMeta, k)});
  args.append({bMeta.getBaseBuffer(), offsetOf(bOp, bMeta),
               strideOf(bOp, bMeta, k), strideOf(bOp, bMeta, n)});
  args.append({cMeta.getBaseBuffer(), offsetOf(c, cMeta), strideOf(c, cMeta, m),
               strideOf(c, cMeta, n)});
  args.append({packABase, packBBase});
  b.create<func::CallOp>(loc, gemm, args);

  // The packing buffers live until the product is done.
  b.setInsertionPointAfter(generic);
  b.create<memref::DeallocOp>(loc, packABuffer);
  b.create<memref::DeallocOp>(loc, packBBuffer);
  generic.erase();
}

void LowerMatmulCalls::runOnOperation() {
  ModuleOp module = getOperation();
  int64_t threads = 1;
  if (auto attr = module->getAttrOfType<IntegerAttr>(kThreadsAttr))
    threads = std::clamp<int64_t>(attr.getInt(), 1, NNCC_MAX_THREADS);
  SmallVector<linalg::GenericOp> products;
  module.walk([&](linalg::GenericOp generic) {
    if (generic->hasAttr(kMatmulKernelAttr))
      products.push_back(generic);
  });
  func::FuncOp gemm;
  for (linalg::GenericOp generic : products) {
    std::optional<ProductLoops> loops = productLoops(generic);
    // A product the GEMM cannot compute stays a loop nest.
    if (!loops) {
      generic->removeAttr(kMatmulKernelAttr);
      continue;
    }
    if (!gemm)
      gemm = gemmDeclaration(module);
    lowerToCall(generic, *loops, threads, gemm);
  }
}
