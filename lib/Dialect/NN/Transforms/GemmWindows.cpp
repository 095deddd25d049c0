//===- GemmWindows.cpp - A GEMM operand read where im2col read it ---------===//
//
// Finds the windows copies that a product's operand can skip (see
// GemmWindows.h).
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/Transforms/GemmWindows.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;
using namespace nncc::nn;

Value nncc::nn::viewRoot(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    value = view.getViewSource();
  }
  return value;
}

/// Adds `expr` times `scale` to `coefficients` (one per loop) and
/// `constant`, if it is a sum of loops and constants times constants.
static bool linearize(AffineExpr expr, int64_t scale,
                      MutableArrayRef<int64_t> coefficients,
                      int64_t &constant) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    coefficients[dim.getPosition()] += scale;
    return true;
  }
  if (auto value = dyn_cast<AffineConstantExpr>(expr)) {
    constant += scale * value.getValue();
    return true;
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return false;
  AffineExpr lhs = binary.getLHS(), rhs = binary.getRHS();
  if (expr.getKind() == AffineExprKind::Add)
    return linearize(lhs, scale, coefficients, constant) &&
           linearize(rhs, scale, coefficients, constant);
  if (expr.getKind() != AffineExprKind::Mul)
    return false;
  if (auto factor = dyn_cast<AffineConstantExpr>(rhs))
    return linearize(lhs, scale * factor.getValue(), coefficients, constant);
  if (auto factor = dyn_cast<AffineConstantExpr>(lhs))
    return linearize(rhs, scale * factor.getValue(), coefficients, constant);
  return false;
}

/// The copy that writes all of `buffer`, an allocation: a generic with
/// one input and `buffer` as its one output, written in order (an
/// identity map) with the input's element, and nothing else but `product`,
/// views of the buffer and its deallocation among the buffer's users.
static linalg::GenericOp windowsCopy(memref::AllocOp buffer,
                                     Operation *product) {
  linalg::GenericOp copy;
  for (Operation *user : buffer->getUsers()) {
    if (user == product || isa<ViewLikeOpInterface, memref::DeallocOp>(user))
      continue;
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (copy || !generic || generic.getNumDpsInputs() != 1 ||
        generic.getNumDpsInits() != 1 ||
        generic.getDpsInits()[0] != buffer.getResult())
      return {};
    copy = generic;
  }
  if (!copy || !copy.hasPureBufferSemantics() ||
      copy.getNumParallelLoops() != copy.getNumLoops() ||
      !copy.getIndexingMapsArray()[1].isIdentity())
    return {};
  Block &body = copy.getRegion().front();
  if (body.getOperations().size() != 1 ||
      body.getTerminator()->getOperand(0) != body.getArgument(0))
    return {};
  return copy;
}

bool nncc::nn::usedBetween(Value root, Operation *from, Operation *to,
                          function_ref<bool(OpOperand &)> counts) {
  for (Operation *op = from->getNextNode(); op && op != to;
       op = op->getNextNode()) {
    WalkResult result = op->walk([&](Operation *nested) {
      for (OpOperand &operand : nested->getOpOperands())
        if (isa<BaseMemRefType>(operand.get().getType()) &&
            viewRoot(operand.get()) == root && counts(operand))
          return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return true;
  }
  return false;
}

/// Whether an op after `from` and before `to` may write `root` or a view of
/// it: any use but a view, a load, or a linalg op reading it.
static bool writtenBetween(Value root, Operation *from, Operation *to) {
  return usedBetween(root, from, to, [](OpOperand &operand) {
    Operation *user = operand.getOwner();
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    return !isa<ViewLikeOpInterface, memref::LoadOp>(user) &&
           !(linalgOp && !linalgOp.isDpsInit(&operand));
  });
}

/// `parts` without parts of size 1, and each part merged into the one
/// before it where the two are one strided range.
static SmallVector<IndexPart, kMaxIndexParts>
simplified(ArrayRef<IndexPart> parts) {
  SmallVector<IndexPart, kMaxIndexParts> result;
  for (IndexPart part : parts) {
    if (part.size == 1)
      continue;
    if (!result.empty() && result.back().stride == part.size * part.stride) {
      result.back() = {result.back().size * part.size, part.stride};
      continue;
    }
    result.push_back(part);
  }
  if (result.empty())
    result.push_back({1, 0});
  return result;
}

std::optional<WindowsOperand> nncc::nn::findWindows(Value operand,
                                                    Operation *product) {
  // The buffer, read whole or through one collapse of its dimensions into
  // groups, which only this product reads.
  Operation *view = nullptr;
  SmallVector<ReassociationIndices> groups;
  Value buffer = operand;
  if (auto collapse = operand.getDefiningOp<memref::CollapseShapeOp>()) {
    if (!collapse->hasOneUse())
      return std::nullopt;
    view = collapse;
    groups = collapse.getReassociationIndices();
    buffer = collapse.getSrc();
  }
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  if (!alloc || (!view && llvm::count(product->getOperands(), buffer) != 1))
    return std::nullopt;
  for (Operation *user : alloc->getUsers())
    if (isa<ViewLikeOpInterface>(user) && user != view)
      return std::nullopt;
  linalg::GenericOp copy = windowsCopy(alloc, product);
  if (!copy || copy->getBlock() != product->getBlock() ||
      !copy->isBeforeInBlock(product))
    return std::nullopt;
  auto bufferType = cast<MemRefType>(alloc.getType());
  if (groups.empty())
    for (int64_t i = 0; i < bufferType.getRank(); ++i)
      groups.push_back({i});

  // Each of the copy's loops as a stride in the source.
  Value source = copy.getDpsInputs()[0];
  auto sourceType = dyn_cast<MemRefType>(source.getType());
  SmallVector<int64_t> sourceStrides;
  int64_t sourceOffset;
  if (!sourceType || sourceType.getElementType() != bufferType.getElementType() ||
      failed(getStridesAndOffset(sourceType, sourceStrides, sourceOffset)) ||
      llvm::any_of(sourceStrides, ShapedType::isDynamic) ||
      writtenBetween(viewRoot(source), copy, product))
    return std::nullopt;
  unsigned loops = copy.getNumLoops();
  SmallVector<int64_t> loopStrides(loops, 0);
  int64_t offset = 0;
  for (auto [expr, stride] :
       llvm::zip(copy.getIndexingMapsArray()[0].getResults(), sourceStrides)) {
    SmallVector<int64_t> coefficients(loops, 0);
    int64_t constant = 0;
    if (!linearize(expr, 1, coefficients, constant))
      return std::nullopt;
    for (unsigned i = 0; i < loops; ++i)
      loopStrides[i] += coefficients[i] * stride;
    offset += constant * stride;
  }

  WindowsOperand windows{source, offset, {}, copy, alloc, view};
  for (const ReassociationIndices &group : groups) {
    SmallVector<IndexPart, kMaxIndexParts> parts;
    for (int64_t dim : group)
      parts.push_back({bufferType.getDimSize(dim), loopStrides[dim]});
    windows.dims.push_back(simplified(parts));
    if (windows.dims.back().size() > kMaxIndexParts)
      return std::nullopt;
  }
  return windows;
}

void nncc::nn::eraseWindows(const WindowsOperand &windows) {
  if (windows.view)
    windows.view->erase();
  windows.copy->erase();
  for (Operation *user : llvm::make_early_inc_range(windows.buffer->getUsers()))
    user->erase();
  windows.buffer->erase();
}
