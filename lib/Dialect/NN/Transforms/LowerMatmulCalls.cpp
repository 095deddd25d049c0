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
#include "nncc/Dialect/NN/Transforms/GemmWindows.h"
#include "nncc/Dialect/NN/Transforms/Training.h"
#include "nncc/Runtime/Gemm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallBitVector.h"

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
  // m, n, k, the batch's matrices; then A, B, C, the bias and the residual
  // as (base, offset, row stride, column stride, matrix stride); the
  // epilogue; the packing buffers of A and of B; the inner parts of B's
  // compound dimensions k and n (see GemmWindows.h), three (size, stride)
  // pairs each.
  SmallVector<Type> inputs = {index, index, index, index};
  for (int i = 0; i < 5; ++i)
    inputs.append({pointer, index, index, index, index});
  inputs.append({index, pointer, pointer});
  inputs.append(4 * (kMaxIndexParts - 1), index);
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

/// The one kernel that reads a product's output C, all of whose loops are
/// parallel: it reads C directly, or through one reshaping view (a
/// convolution's `[N, F, H*W]` product read as `[N, F, H, W]`), as groups
/// of dimensions: C's dimension i is the view's group i (`expands`), or the
/// view's dimension i is C's group i.
struct Reader {
  linalg::GenericOp op;
  /// C, or the view of it that the reader reads.
  Value read;
  Operation *view;
  SmallVector<ReassociationIndices> groups;
  bool expands;
};

/// An elementwise reader that the GEMM computes as its fixed epilogue: D =
/// C + bias, or C + bias + residual (in that order), maybe then relu, where
/// nothing else reads C. Bias and residual are alike to the GEMM: addends
/// read through strides, any of them 0.
struct Epilogue {
  Reader reader;
  /// The addends in the order the body adds them, each with its map from
  /// C's dimensions.
  SmallVector<Operand, 2> addends;
  Value output;
  int64_t kind; // flags: NNCC_GEMM_BIAS, _RESIDUAL, _RELU
};

/// Any other elementwise reader (GELU, tanh, a kernel with several outputs
/// such as a forward activation that keeps what its gradient needs), which
/// the GEMM calls, through a generated function, on each block of C once
/// that block is final, while it is in cache. `operands` are the reader's
/// (inputs, then outputs) seen in C's dimensions: C itself, an operand of
/// the view's shape read elementwise (`reshaped`: reshaped as C is), or an
/// operand read through a projection of C's dimensions. Outputs are of C's
/// shape.
struct TileEpilogue {
  Reader reader;
  /// The product's output.
  Value c;
  SmallVector<Operand> operands;
  SmallVector<bool> reshaped;
  /// Values from outside that the reader's body uses: constants, which the
  /// function recreates, and scalars, which it is passed.
  SmallVector<Value> constants, scalars;
  /// Kernels between the product and the reader that compute an operand of
  /// the reader and move before the product (see hoistableWriter).
  SmallVector<Operation *> hoisted;
  /// The output, if any, that is written in place of C (see writeInPlace).
  std::optional<unsigned> inPlace;
};

/// The groups of dimensions of a view that only reshapes a contiguous
/// buffer (expand_shape, collapse_shape, or a static reshape), and whether
/// it expands, or nothing.
static std::optional<std::pair<SmallVector<ReassociationIndices>, bool>>
reshapeGroups(Operation *view) {
  if (auto expand = dyn_cast<memref::ExpandShapeOp>(view))
    return std::make_pair(expand.getReassociationIndices(), true);
  if (auto collapse = dyn_cast<memref::CollapseShapeOp>(view))
    return std::make_pair(collapse.getReassociationIndices(), false);
  auto reshape = dyn_cast<memref::ReshapeOp>(view);
  if (!reshape)
    return std::nullopt;
  auto source = dyn_cast<MemRefType>(reshape.getSource().getType());
  auto result = dyn_cast<MemRefType>(reshape.getResult().getType());
  if (!source || !result || !source.hasStaticShape() ||
      !result.hasStaticShape() || !source.getLayout().isIdentity() ||
      !result.getLayout().isIdentity() || source.getRank() == result.getRank())
    return std::nullopt;
  auto groups = getReassociationIndicesForReshape(source, result);
  if (!groups)
    return std::nullopt;
  return std::make_pair(*groups, result.getRank() > source.getRank());
}

/// Whether `value` is the float constant 0.
static bool isZero(Value value) {
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  auto attr = constant ? dyn_cast<FloatAttr>(constant.getValue()) : nullptr;
  return attr && attr.getValue().isPosZero();
}

/// For each dimension of a view's result, the dimension of its source that
/// it is (a group of one), or -1 (a dimension split from, or merged with,
/// others); `groups` and `expands` as in Epilogue. Without groups, the
/// identity of `rank` dimensions.
static SmallVector<int64_t> sourceDims(ArrayRef<ReassociationIndices> groups,
                                       bool expands, unsigned rank) {
  SmallVector<int64_t> result;
  if (groups.empty()) {
    for (unsigned i = 0; i < rank; ++i)
      result.push_back(i);
  } else if (expands) {
    result.assign(groups.back().back() + 1, -1);
    for (auto [source, group] : llvm::enumerate(groups))
      if (group.size() == 1)
        result[group[0]] = source;
  } else {
    for (const ReassociationIndices &group : groups)
      result.push_back(group.size() == 1 ? group[0] : -1);
  }
  return result;
}

/// An operand's map from the reader's loops, `map`, as a map from C's
/// `cRank` dimensions, `toC` giving the C dimension of each loop (see
/// sourceDims): each loop at most once and one of C's, or a broadcast
/// (constant 0). std::nullopt otherwise.
static std::optional<AffineMap> mapFromC(AffineMap map, ArrayRef<int64_t> toC,
                                         unsigned cRank) {
  MLIRContext *ctx = map.getContext();
  llvm::SmallBitVector seen(map.getNumDims());
  SmallVector<AffineExpr> exprs;
  for (AffineExpr expr : map.getResults()) {
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (constant && constant.getValue() == 0) {
      exprs.push_back(expr);
      continue;
    }
    if (!dim || seen.test(dim.getPosition()) || toC[dim.getPosition()] < 0)
      return std::nullopt;
    seen.set(dim.getPosition());
    exprs.push_back(getAffineDimExpr(toC[dim.getPosition()], ctx));
  }
  return AffineMap::get(cRank, 0, exprs, ctx);
}

/// Whether some op after `from` and before `to` uses `root` or a view of it
/// (other than by making a view).
static bool usedBetween(Value root, Operation *from, Operation *to) {
  return nncc::nn::usedBetween(root, from, to, [](OpOperand &operand) {
    return !isa<ViewLikeOpInterface>(operand.getOwner());
  });
}

/// The reader of `product`'s output buffer (see Reader), if that buffer is
/// an allocation that one all-parallel generic after the product in its
/// block reads, and nothing else but the product and its deallocation.
static std::optional<Reader> findReader(linalg::GenericOp product) {
  Value c = product.getDpsInits()[0];
  if (!c.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  Reader reader{{}, c, nullptr, {}, false};
  // Whether all uses of `value` are by one op (which may read it twice).
  auto oneUser = [](Value value) {
    return !value.use_empty() &&
           llvm::all_equal(llvm::to_vector(value.getUsers()));
  };
  for (Operation *user : c.getUsers()) {
    if (user == product || isa<memref::DeallocOp>(user) || user == reader.op)
      continue;
    if (auto reshape = reshapeGroups(user);
        reshape && !reader.view && !reader.op && oneUser(user->getResult(0))) {
      reader.view = user;
      std::tie(reader.groups, reader.expands) = *reshape;
      reader.read = user->getResult(0);
      user = *reader.read.getUsers().begin();
    }
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (!generic || reader.op)
      return std::nullopt;
    reader.op = generic;
  }
  linalg::GenericOp op = reader.op;
  if (!op || op->getBlock() != product->getBlock() ||
      !product->isBeforeInBlock(op) || !op.hasPureBufferSemantics() ||
      op.getNumParallelLoops() != op.getNumLoops())
    return std::nullopt;
  return reader;
}

/// Whether `value` exists where `product` is.
static bool availableAt(Value value, Operation *product) {
  Operation *def = value.getDefiningOp();
  return !def || (def->getBlock() == product->getBlock() &&
                  def->isBeforeInBlock(product));
}

/// Whether `value`, defined after `product`, can be defined before it: an
/// allocation (as bufferization makes right before the op that writes it),
/// or a view of values that exist there (a convolution's [F] bias as
/// [F, 1, 1]).
static bool movable(Value value, Operation *product) {
  Operation *def = value.getDefiningOp();
  return def && def->getBlock() == product->getBlock() &&
         product->isBeforeInBlock(def) &&
         ((isa<memref::AllocOp>(def) && def->getNumOperands() == 0) ||
          (isa<memref::ReshapeOp, memref::ExpandShapeOp,
               memref::CollapseShapeOp, memref::CastOp>(def) &&
           llvm::all_of(def->getOperands(), [&](Value operand) {
             return availableAt(operand, product);
           })));
}

/// The fixed epilogue of `product` (see Epilogue), if its reader is of the
/// form that convert-nn-to-linalg and nn-fuse-kernels make of a bias add, a
/// residual add and a relu (relu as `select(x > 0 unordered, x, 0)`), whose
/// addends and output exist already at the product (or are an allocation,
/// or a view of such values, that can move there) and are not used between
/// the two.
static std::optional<Epilogue> findEpilogue(linalg::GenericOp product,
                                            const Reader &reader) {
  Value c = product.getDpsInits()[0];
  linalg::GenericOp consumer = reader.op;
  Value read = reader.read;
  unsigned inputs = consumer.getNumDpsInputs();
  if (inputs < 2 || inputs > 3 || consumer.getNumDpsInits() != 1 ||
      !consumer.getIndexingMapsArray().back().isIdentity())
    return std::nullopt;
  Value output = consumer.getDpsInits()[0];
  auto outputType = dyn_cast<MemRefType>(output.getType());
  // Through a view, the output must be contiguous to take C's shape.
  if (!outputType || !isStrided(outputType) ||
      (reader.view && !outputType.getLayout().isIdentity()) ||
      outputType.getShape() != cast<MemRefType>(read.getType()).getShape())
    return std::nullopt;

  // The body: x = c + a, maybe x = x + a', maybe relu(x), where c reads C
  // (by an identity map) and a, a' the addends.
  Block &body = consumer.getRegion().front();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    if (!isa<arith::ConstantOp>(op))
      ops.push_back(&op);
  auto cArg = llvm::find_if(
      body.getArguments().take_front(inputs), [&](BlockArgument arg) {
        return consumer.getDpsInputs()[arg.getArgNumber()] == read;
      });
  if (cArg == body.args_end() ||
      !consumer.getIndexingMapsArray()[(*cArg).getArgNumber()].isIdentity())
    return std::nullopt;
  Value x = *cArg;
  SmallVector<unsigned, 2> addendArgs;
  size_t next = 0;
  for (; next < ops.size() && addendArgs.size() < inputs - 1; ++next) {
    auto sum = dyn_cast<arith::AddFOp>(ops[next]);
    if (!sum || !llvm::is_contained(sum->getOperands(), x))
      break;
    Value other = sum.getLhs() == x ? sum.getRhs() : sum.getLhs();
    auto arg = dyn_cast<BlockArgument>(other);
    if (!arg || arg.getOwner() != &body || arg.getArgNumber() >= inputs ||
        arg == *cArg || llvm::is_contained(addendArgs, arg.getArgNumber()))
      return std::nullopt;
    addendArgs.push_back(arg.getArgNumber());
    x = sum.getResult();
  }
  if (addendArgs.size() != inputs - 1)
    return std::nullopt;
  int64_t kind =
      NNCC_GEMM_BIAS | (addendArgs.size() == 2 ? NNCC_GEMM_RESIDUAL : 0);
  Value yielded = body.getTerminator()->getOperand(0);
  if (next == ops.size() - 2) {
    auto compare = dyn_cast<arith::CmpFOp>(ops[next]);
    auto select = dyn_cast<arith::SelectOp>(ops[next + 1]);
    if (!compare || !select ||
        compare.getPredicate() != arith::CmpFPredicate::UGT ||
        compare.getLhs() != x || !isZero(compare.getRhs()) ||
        select.getCondition() != compare.getResult() ||
        select.getTrueValue() != x || !isZero(select.getFalseValue()))
      return std::nullopt;
    kind |= NNCC_GEMM_RELU;
    x = select.getResult();
  } else if (next != ops.size()) {
    return std::nullopt;
  }
  if (yielded != x)
    return std::nullopt;

  // The GEMM writes the output and reads the addends where the product
  // was: they must exist there, and nothing in between may use them.
  Value outputRoot = viewRoot(output);
  if ((!availableAt(output, product) && !movable(output, product)) ||
      usedBetween(outputRoot, product, consumer))
    return std::nullopt;

  // Each addend: another buffer than C and the output (which the GEMM
  // writes before the epilogue reads the addends), read through a
  // projection: each loop at most once, of C's dimensions (its stride is
  // then the GEMM's), or broadcast (constant 0).
  unsigned cRank = cast<MemRefType>(c.getType()).getRank();
  SmallVector<int64_t> toC = sourceDims(reader.groups, reader.expands, cRank);
  SmallVector<Operand, 2> addends;
  for (unsigned arg : addendArgs) {
    Value addend = consumer.getDpsInputs()[arg];
    auto type = dyn_cast<MemRefType>(addend.getType());
    Value root = viewRoot(addend);
    if (!type || !type.getElementType().isF32() || !isStrided(type) ||
        root == c || root == outputRoot ||
        (!availableAt(addend, product) && !movable(addend, product)) ||
        usedBetween(root, product, consumer))
      return std::nullopt;
    std::optional<AffineMap> map =
        mapFromC(consumer.getIndexingMapsArray()[arg], toC, cRank);
    if (!map)
      return std::nullopt;
    addends.push_back({addend, *map});
  }
  return Epilogue{reader, addends, output, kind};
}

/// The kernel that computes `value` between `product` and its reader, if
/// it can run before the product instead: `value` is an allocation there
/// that this one generic alone uses before the reader, as its one output,
/// and that generic reads only values that exist at the product and that
/// nothing between the two uses (attention's scale, computed after the
/// product that it divides).
static linalg::GenericOp hoistableWriter(Value value, linalg::GenericOp product,
                                         Operation *reader) {
  auto alloc = value.getDefiningOp<memref::AllocOp>();
  if (!alloc || !movable(value, product))
    return {};
  linalg::GenericOp writer;
  for (Operation *user : value.getUsers()) {
    Operation *top = reader->getBlock()->findAncestorOpInBlock(*user);
    if (!top)
      return {};
    if (top == reader || isa<memref::DeallocOp>(top) ||
        reader->isBeforeInBlock(top))
      continue;
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (writer || !generic || generic->getBlock() != product->getBlock() ||
        generic.getNumDpsInits() != 1 || generic.getDpsInits()[0] != value)
      return {};
    writer = generic;
  }
  if (!writer)
    return {};
  llvm::SetVector<Value> read;
  getUsedValuesDefinedAbove(writer.getRegion(), read);
  for (Value input : writer.getDpsInputs())
    read.insert(input);
  for (Value input : read)
    if (!availableAt(input, product) ||
        (isa<BaseMemRefType>(input.getType()) &&
         (viewRoot(input) == product.getDpsInits()[0] ||
          usedBetween(viewRoot(input), product, writer))))
      return {};
  return writer;
}

/// The tile epilogue of `product` (see TileEpilogue), if its reader has no
/// fixed one: its operands other than C must exist at the product (or can
/// move there), be unused between the two, and be passable; each of its
/// outputs must be a buffer that nothing else the GEMM or the reader
/// touches, since it is written while the GEMM still runs.
static std::optional<TileEpilogue> findTileEpilogue(linalg::GenericOp product,
                                                    const Reader &reader) {
  linalg::GenericOp op = reader.op;
  if (op.getNumDpsInits() == 0 || op.hasIndexSemantics())
    return std::nullopt;
  MLIRContext *ctx = product.getContext();
  Value c = product.getDpsInits()[0];
  unsigned cRank = cast<MemRefType>(c.getType()).getRank();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(cRank, ctx);
  ArrayRef<int64_t> readShape =
      cast<MemRefType>(reader.read.getType()).getShape();
  SmallVector<int64_t> toC = sourceDims(reader.groups, reader.expands, cRank);
  TileEpilogue tile{reader, c, {}, {}, {}, {}, {}, std::nullopt};
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op.getRegion(), captured);
  for (Value value : captured) {
    if (matchPattern(value, m_Constant()))
      tile.constants.push_back(value);
    else if (value.getType().isIntOrIndexOrFloat() &&
             availableAt(value, product))
      tile.scalars.push_back(value);
    else
      return std::nullopt;
  }
  SmallVector<Value> inputRoots = {viewRoot(product.getDpsInputs()[0]),
                                   viewRoot(product.getDpsInputs()[1])};
  SmallVector<Value> outputRoots;
  for (OpOperand &operand : op->getOpOperands()) {
    Value value = operand.get();
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool output = op.isDpsInit(&operand);
    if (value == reader.read) {
      if (output || !map.isIdentity())
        return std::nullopt;
      tile.operands.push_back({c, identity});
      tile.reshaped.push_back(false);
      continue;
    }
    Value root = viewRoot(value);
    if (!isPassableMemRef(value.getType()) || root == c)
      return std::nullopt;
    linalg::GenericOp writer;
    if (!output)
      writer = hoistableWriter(value, product, op);
    if (writer)
      tile.hoisted.push_back(writer);
    else if ((!availableAt(value, product) && !movable(value, product)) ||
             usedBetween(root, product, op))
      return std::nullopt;
    (output ? outputRoots : inputRoots).push_back(root);
    if (reader.view && map.isIdentity() &&
        cast<MemRefType>(value.getType()).getShape() == readShape) {
      tile.operands.push_back({value, identity});
      tile.reshaped.push_back(true);
      continue;
    }
    std::optional<AffineMap> cMap = mapFromC(map, toC, cRank);
    if (!cMap || (output && *cMap != identity))
      return std::nullopt;
    tile.operands.push_back({value, *cMap});
    tile.reshaped.push_back(false);
  }
  for (Value root : outputRoots)
    if (llvm::count(outputRoots, root) != 1 ||
        llvm::is_contained(inputRoots, root))
      return std::nullopt;
  // An output allocated after the product, for the reader to write first,
  // can take C's buffer: each element of C is read by the iteration that
  // then writes it, and the GEMM is done with the block by then. The step
  // then needs one buffer less.
  auto cType = cast<MemRefType>(c.getType());
  for (unsigned i = op.getNumDpsInputs(); i < tile.operands.size(); ++i) {
    Value value = tile.operands[i].memref;
    auto type = cast<MemRefType>(value.getType());
    if (value.getDefiningOp<memref::AllocOp>() && movable(value, product) &&
        type.getElementType() == cType.getElementType() &&
        llvm::all_of(value.getUsers(), [&](Operation *user) {
          return user->getBlock() == op->getBlock();
        })) {
      tile.inPlace = i;
      break;
    }
  }
  return tile;
}

/// Makes `tile`'s in-place output C's buffer (seen in the output's shape):
/// the output's allocation goes, and C lives as long as the output did.
static void writeInPlace(TileEpilogue &tile) {
  unsigned i = *tile.inPlace;
  Value output = tile.operands[i].memref;
  auto alloc = tile.c.getDefiningOp<memref::AllocOp>();
  OpBuilder b(alloc);
  b.setInsertionPointAfter(alloc);
  Value view = tile.c;
  const Reader &reader = tile.reader;
  auto outputType = cast<MemRefType>(output.getType());
  if (tile.reshaped[i] && reader.expands)
    view = b.create<memref::ExpandShapeOp>(
        alloc.getLoc(), outputType.getShape(), tile.c, reader.groups);
  else if (tile.reshaped[i])
    view = b.create<memref::CollapseShapeOp>(alloc.getLoc(), tile.c,
                                             reader.groups);
  for (Operation *user : llvm::make_early_inc_range(tile.c.getUsers()))
    if (isa<memref::DeallocOp>(user))
      user->erase();
  for (OpOperand &use : llvm::make_early_inc_range(output.getUses()))
    use.set(isa<memref::DeallocOp>(use.getOwner()) ? tile.c : view);
  output.getDefiningOp()->erase();
  tile.operands[i] = {
      tile.c, AffineMap::getMultiDimIdentityMap(alloc.getType().getRank(),
                                                alloc.getContext())};
  tile.reshaped[i] = false;
}

/// The function that computes `tile`'s reader on one block of C, which the
/// GEMM calls through the dispatcher this returns (see nn.gemm_epilogue):
/// `@<parent>_epilogue<N>(passed..., outer..., matrix, i, j, rows, cols)`
/// runs the reader's body over rows [i, i + rows) and columns [j, j + cols)
/// of matrix `matrix` of the call's batch, at C's outer batch indices
/// `outer`, on views of the passed buffers. The buffers do not overlap
/// where the function writes (findTileEpilogue), so they are `noalias`.
static func::FuncOp buildTileFunction(func::FuncOp parent,
                                      const TileEpilogue &tile,
                                      ArrayRef<Value> passed, unsigned outer,
                                      func::FuncOp gemm) {
  MLIRContext *ctx = parent.getContext();
  linalg::GenericOp reader = tile.reader.op;
  Location loc = reader.getLoc();
  auto module = parent->getParentOfType<ModuleOp>();
  std::string name;
  for (unsigned index = 0;; ++index) {
    name = (parent.getName() + "_epilogue" + Twine(index)).str();
    if (!module.lookupSymbol(name) && !module.lookupSymbol(name + "_gemm"))
      break;
  }
  OpBuilder mb(parent);
  mb.setInsertionPointAfter(parent);
  Type index = mb.getIndexType();
  SmallVector<Type> types;
  for (Value value : passed)
    types.push_back(value.getType());
  types.append(outer, index);
  SmallVector<Type> tileTypes = types;
  tileTypes.append(5, index);
  auto function =
      mb.create<func::FuncOp>(loc, name, FunctionType::get(ctx, tileTypes, {}));
  function.setPrivate();
  function->setAttr(kGemmTileAttr, UnitAttr::get(ctx));
  for (auto [i, value] : llvm::enumerate(passed))
    if (isa<MemRefType>(value.getType()))
      function.setArgAttr(i, "llvm.noalias", UnitAttr::get(ctx));
  SmallVector<Type> dispatchTypes = types;
  llvm::append_range(dispatchTypes, gemm.getFunctionType().getInputs());
  auto dispatch = mb.create<func::FuncOp>(
      loc, name + "_gemm", FunctionType::get(ctx, dispatchTypes, {}));
  dispatch.setPrivate();
  dispatch->setAttr(kGemmEpilogueAttr, FlatSymbolRefAttr::get(function));

  Block *entry = function.addEntryBlock();
  OpBuilder b = OpBuilder::atBlockBegin(entry);
  IRMapping mapping;
  for (auto [value, argument] : llvm::zip(passed, entry->getArguments()))
    mapping.map(value, argument);
  for (Value constant : tile.constants)
    b.clone(*constant.getDefiningOp(), mapping);
  ArrayRef<BlockArgument> rest =
      entry->getArguments().drop_front(passed.size());
  // The block's offset and extent in each of C's dimensions: the outer
  // batch indices, the matrix, then rows and columns.
  auto cType = cast<MemRefType>(tile.c.getType());
  unsigned cRank = cType.getRank();
  SmallVector<OpFoldResult> offsets(cRank), extents(cRank, b.getIndexAttr(1));
  for (unsigned p = 0; p + 2 < cRank; ++p)
    offsets[p] = p < outer ? rest[p] : rest[outer];
  offsets[cRank - 2] = rest[outer + 1];
  offsets[cRank - 1] = rest[outer + 2];
  extents[cRank - 2] = rest[outer + 3];
  extents[cRank - 1] = rest[outer + 4];

  SmallVector<Value> ins, outs;
  SmallVector<AffineMap> maps;
  unsigned inputs = reader.getNumDpsInputs();
  for (auto [i, operand] : llvm::enumerate(tile.operands)) {
    maps.push_back(operand.map);
    // An input read twice alike (C, in a GELU) is one view.
    std::optional<size_t> same;
    for (size_t k = 0; k < i && i < inputs && !same; ++k)
      if (tile.operands[k].memref == operand.memref &&
          tile.operands[k].map == operand.map &&
          tile.reshaped[k] == tile.reshaped[i])
        same = k;
    if (same) {
      ins.push_back(ins[*same]);
      continue;
    }
    Value memref = mapping.lookupOrDefault(operand.memref);
    if (tile.reshaped[i] && tile.reader.expands)
      memref =
          b.create<memref::CollapseShapeOp>(loc, memref, tile.reader.groups);
    else if (tile.reshaped[i])
      memref = b.create<memref::ExpandShapeOp>(loc, cType.getShape(), memref,
                                               tile.reader.groups);
    // The block of the operand: the views of those of C's dimensions that
    // it has; a broadcast dimension's one element.
    if (!operand.map.isConstant()) {
      SmallVector<OpFoldResult> at, sizes, strides;
      for (AffineExpr expr : operand.map.getResults()) {
        auto dim = dyn_cast<AffineDimExpr>(expr);
        at.push_back(dim ? offsets[dim.getPosition()] : b.getIndexAttr(0));
        sizes.push_back(dim ? extents[dim.getPosition()] : b.getIndexAttr(1));
        strides.push_back(b.getIndexAttr(1));
      }
      memref = b.create<memref::SubViewOp>(loc, memref, at, sizes, strides);
    }
    (i < inputs ? ins : outs).push_back(memref);
  }
  Block &body = reader.getRegion().front();
  b.create<linalg::GenericOp>(
      loc, ins, outs, maps,
      SmallVector<utils::IteratorType>(cRank, utils::IteratorType::parallel),
      [&](OpBuilder &nested, Location, ValueRange arguments) {
        IRMapping inner = mapping;
        inner.map(body.getArguments(), arguments);
        for (Operation &op : body)
          nested.clone(op, inner);
      });
  b.create<func::ReturnOp>(loc);
  return dispatch;
}

/// B of `generic` as windows of an image (see GemmWindows.h), if the GEMM
/// can read it so: B's dimensions are the batch, k and n, the batch's one
/// part, and C has no other batch dimensions than the call's.
static std::optional<WindowsOperand>
windowsOf(linalg::GenericOp generic, std::optional<unsigned> batchDim) {
  AffineMap map = generic.getIndexingMapsArray()[1];
  if (generic.getIndexingMapsArray()[2].getNumResults() > 3 ||
      map.getNumResults() != (batchDim ? 3u : 2u) ||
      (batchDim && positionOf(map, *batchDim) < 0))
    return std::nullopt;
  std::optional<WindowsOperand> windows =
      findWindows(generic.getDpsInputs()[1], generic);
  if (!windows ||
      (batchDim && windows->dims[positionOf(map, *batchDim)].size() != 1))
    return std::nullopt;
  return windows;
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
  std::optional<unsigned> batchDim;
  if (rank > 2)
    batchDim = cast<AffineDimExpr>(outMap.getResult(rank - 3)).getPosition();
  std::optional<WindowsOperand> windows = windowsOf(generic, batchDim);
  // With a fixed epilogue, the GEMM writes its output instead of C, which
  // is then never written; else a tile epilogue reads C block by block.
  std::optional<Reader> reader = findReader(generic);
  std::optional<Epilogue> epilogue;
  std::optional<TileEpilogue> tile;
  if (reader)
    epilogue = findEpilogue(generic, *reader);
  if (reader && !epilogue)
    tile = findTileEpilogue(generic, *reader);
  // An epilogue writes while the GEMM still reads B: never the windows'
  // source.
  if (windows) {
    Value source = viewRoot(windows->source);
    SmallVector<Value> written;
    if (epilogue)
      written.push_back(epilogue->output);
    if (tile)
      for (auto [i, operand] : llvm::enumerate(tile->operands))
        if (i >= static_cast<size_t>(tile->reader.op.getNumDpsInputs()))
          written.push_back(operand.memref);
    if (llvm::any_of(written,
                     [&](Value value) { return viewRoot(value) == source; }))
      windows.reset();
  }
  SmallVector<Value> moved;
  if (epilogue) {
    moved.push_back(epilogue->output);
    for (const Operand &addend : epilogue->addends)
      moved.push_back(addend.memref);
  }
  if (tile && tile->inPlace)
    writeInPlace(*tile);
  if (tile)
    for (const Operand &operand : tile->operands)
      moved.push_back(operand.memref);
  for (Value value : moved)
    if (Operation *def = value.getDefiningOp();
        def && generic->isBeforeInBlock(def))
      def->moveBefore(generic);
  if (tile)
    for (Operation *writer : tile->hoisted)
      writer->moveBefore(generic);
  Value product = c.memref;
  if (epilogue) {
    // The output, seen in C's shape: the view's inverse.
    const Reader &r = epilogue->reader;
    c.memref = epilogue->output;
    if (r.view && r.expands)
      c.memref = b.create<memref::CollapseShapeOp>(loc, c.memref, r.groups);
    else if (r.view)
      c.memref = b.create<memref::ExpandShapeOp>(
          loc, cast<MemRefType>(product.getType()).getShape(), c.memref,
          r.groups);
  }

  // Packing buffers, one block of A and one of B per thread (or, with
  // threads, all of A packed once), of the sizes nncc_gemm.c expects.
  int64_t packA = threads * NNCC_GEMM_PACK_A_FLOATS(ranges[m], ranges[k]);
  if (threads > 1)
    packA = std::max<int64_t>(
        packA, NNCC_GEMM_PACK_A_SHARED_FLOATS(ranges[m], ranges[k]));
  int64_t packB = threads * NNCC_GEMM_PACK_B_FLOATS(ranges[k], ranges[n]);
  Type f32 = b.getF32Type();
  Value packABuffer =
      b.create<memref::AllocOp>(loc, MemRefType::get({packA}, f32));
  Value packBBuffer =
      b.create<memref::AllocOp>(loc, MemRefType::get({packB}, f32));

  auto metadata = [&](Value memref) {
    return b.create<memref::ExtractStridedMetadataOp>(loc, memref);
  };
  auto aMeta = metadata(a.memref),
       bMeta = metadata(windows ? windows->source : bOp.memref),
       cMeta = metadata(c.memref);
  SmallVector<memref::ExtractStridedMetadataOp, 2> addendMeta;
  if (epilogue)
    for (const Operand &addend : epilogue->addends)
      addendMeta.push_back(metadata(addend.memref));
  Value packABase = metadata(packABuffer).getBaseBuffer();
  Value packBBase = metadata(packBBuffer).getBaseBuffer();

  // Loops over C's batch dimensions but the last, which the call runs
  // (the runtime splits the matrices of a batch among the threads when
  // they are small).
  SmallVector<Value> ivs(generic.getNumLoops());
  OpBuilder::InsertionGuard guard(b);
  for (unsigned i = 0; i + 3 < rank; ++i) {
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
                      memref::ExtractStridedMetadataOp meta,
                      unsigned dim) -> Value {
    int64_t position = positionOf(operand.map, dim);
    // A dimension the operand does not have: it broadcasts along it.
    if (position < 0)
      return b.create<arith::ConstantIndexOp>(loc, 0);
    return meta.getStrides()[position];
  };
  auto size = [&](unsigned dim) {
    return b.create<arith::ConstantIndexOp>(loc, ranges[dim]).getResult();
  };
  // The stride from one matrix of the batch to the next.
  auto batchStrideOf = [&](const Operand &operand,
                           memref::ExtractStridedMetadataOp meta) -> Value {
    if (!batchDim)
      return b.create<arith::ConstantIndexOp>(loc, 0);
    return strideOf(operand, meta, *batchDim);
  };
  SmallVector<Value> args = {size(m), size(n), size(k),
                             batchDim ? size(*batchDim)
                                      : b.create<arith::ConstantIndexOp>(loc, 1)
                                            .getResult()};
  args.append({aMeta.getBaseBuffer(), offsetOf(a, aMeta), strideOf(a, aMeta, m),
               strideOf(a, aMeta, k), batchStrideOf(a, aMeta)});
  // B's inner parts of k and n (a plain matrix has none), right-aligned
  // in the call's three slots each, (1, 0) where absent.
  llvm::DenseMap<int64_t, Value> constants;
  auto constant = [&](int64_t value) -> Value {
    Value &existing = constants[value];
    if (!existing)
      existing = b.create<arith::ConstantIndexOp>(loc, value);
    return existing;
  };
  SmallVector<Value> bParts;
  auto appendInnerParts = [&](ArrayRef<IndexPart> parts) {
    SmallVector<IndexPart, kMaxIndexParts> inner(
        kMaxIndexParts - std::max<size_t>(parts.size(), 1), IndexPart{1, 0});
    if (!parts.empty())
      inner.append(parts.begin() + 1, parts.end());
    for (IndexPart part : inner)
      bParts.append({constant(part.size), constant(part.stride)});
  };
  if (windows) {
    ArrayRef<IndexPart> kParts = windows->dims[positionOf(bOp.map, k)];
    ArrayRef<IndexPart> nParts = windows->dims[positionOf(bOp.map, n)];
    Value batchStride = constant(0);
    if (batchDim)
      batchStride =
          constant(windows->dims[positionOf(bOp.map, *batchDim)][0].stride);
    args.append({bMeta.getBaseBuffer(),
                 b.create<arith::AddIOp>(loc, bMeta.getOffset(),
                                         constant(windows->offset)),
                 constant(kParts[0].stride), constant(nParts[0].stride),
                 batchStride});
    appendInnerParts(kParts);
    appendInnerParts(nParts);
  } else {
    args.append({bMeta.getBaseBuffer(), offsetOf(bOp, bMeta),
                 strideOf(bOp, bMeta, k), strideOf(bOp, bMeta, n),
                 batchStrideOf(bOp, bMeta)});
    appendInnerParts({});
    appendInnerParts({});
  }
  args.append({cMeta.getBaseBuffer(), offsetOf(c, cMeta), strideOf(c, cMeta, m),
               strideOf(c, cMeta, n), batchStrideOf(c, cMeta)});
  // The addends (bias, residual), or C's base and zeros for each absent.
  for (unsigned i = 0; i < 2; ++i) {
    if (epilogue && i < epilogue->addends.size()) {
      // An addend's map from C's dimensions, composed with C's map, is its
      // map from the product's loops.
      const Operand &addend = epilogue->addends[i];
      Operand fromLoops{addend.memref, addend.map.compose(outMap)};
      auto meta = addendMeta[i];
      args.append({meta.getBaseBuffer(), offsetOf(fromLoops, meta),
                   strideOf(fromLoops, meta, m), strideOf(fromLoops, meta, n),
                   batchStrideOf(fromLoops, meta)});
    } else {
      Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
      args.append({cMeta.getBaseBuffer(), zero, zero, zero, zero});
    }
  }
  args.push_back(b.create<arith::ConstantIndexOp>(
      loc, epilogue ? epilogue->kind : NNCC_GEMM_PLAIN));
  args.append({packABase, packBBase});
  llvm::append_range(args, bParts);
  if (tile) {
    // The dispatcher takes the buffers the epilogue uses and the outer
    // batch indices, then the GEMM's arguments.
    llvm::SetVector<Value> passed;
    for (const Operand &operand : tile->operands)
      passed.insert(operand.memref);
    passed.insert(tile->scalars.begin(), tile->scalars.end());
    SmallVector<Value> outer;
    for (unsigned i = 0; i + 3 < rank; ++i)
      outer.push_back(
          ivs[cast<AffineDimExpr>(outMap.getResult(i)).getPosition()]);
    func::FuncOp dispatch =
        buildTileFunction(generic->getParentOfType<func::FuncOp>(), *tile,
                          passed.getArrayRef(), outer.size(), gemm);
    SmallVector<Value> operands(passed.begin(), passed.end());
    llvm::append_range(operands, outer);
    llvm::append_range(operands, args);
    b.create<func::CallOp>(loc, dispatch, operands);
  } else {
    b.create<func::CallOp>(loc, gemm, args);
  }

  // The packing buffers live until the product is done.
  b.setInsertionPointAfter(generic);
  b.create<memref::DeallocOp>(loc, packABuffer);
  b.create<memref::DeallocOp>(loc, packBBuffer);
  generic.erase();
  if (windows)
    eraseWindows(*windows);
  if (tile) {
    tile->reader.op.erase();
    if (tile->reader.view)
      tile->reader.view->erase();
  }
  if (!epilogue)
    return;
  epilogue->reader.op.erase();
  if (epilogue->reader.view)
    epilogue->reader.view->erase();
  // C is now only allocated and freed.
  Operation *alloc = product.getDefiningOp();
  for (Operation *user : llvm::make_early_inc_range(product.getUsers()))
    user->erase();
  alloc->erase();
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
