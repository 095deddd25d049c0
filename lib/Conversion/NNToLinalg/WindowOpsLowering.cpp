//===- WindowOpsLowering.cpp - Lower convolution and pooling -------------===//
//
// Part of convert-nn-to-linalg. Padding is a fill plus an insertion of the
// input into the middle. Convolution, its weight gradient and pooling are
// linalg.generic reductions whose input maps read `o * stride + k *
// dilation`; groups are a loop of their own, the result being collapsed
// back to `[N, F, ...]`. The scatters (the input gradient of a convolution
// and of pooling) are scf.for nests that accumulate into a padded tensor,
// from which the input's part is then extracted.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "nncc/Runtime/Gemm.h"

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"

using namespace mlir;
using namespace nncc::nn;
using namespace nncc::lowering;

namespace {

Value fillValue(OpBuilder &b, Location loc, RankedTensorType type,
                Value value) {
  return b.create<linalg::FillOp>(loc, value, emptyTensor(b, loc, type))
      .getResult(0);
}

/// The `[N, C, padded...]` shape that holds every window of `window`.
SmallVector<int64_t> paddedShape(RankedTensorType type,
                                 const WindowGeometry &window) {
  SmallVector<int64_t> shape(type.getShape().take_front(2));
  for (int64_t d = 0; d < window.rank(); ++d)
    shape.push_back(window.paddedSize(d));
  return shape;
}

/// `x` in the middle of a tensor filled with `value`, big enough for every
/// window.
Value pad(OpBuilder &b, Location loc, Value x, const WindowGeometry &window,
          Value value) {
  RankedTensorType type = tensorType(x);
  SmallVector<int64_t> shape = paddedShape(type, window);
  if (ArrayRef<int64_t>(shape) == type.getShape())
    return x;
  Value filled = fillValue(
      b, loc, RankedTensorType::get(shape, type.getElementType()), value);
  SmallVector<int64_t> offsets = {0, 0};
  llvm::append_range(offsets, window.padBegin);
  return b.create<tensor::InsertSliceOp>(
      loc, x, filled, ValueRange(), ValueRange(), ValueRange(), offsets,
      type.getShape(), SmallVector<int64_t>(type.getRank(), 1));
}

/// The part of a padded tensor that corresponds to the input of `type`.
Value unpad(OpBuilder &b, Location loc, Value padded, RankedTensorType type,
            const WindowGeometry &window) {
  if (tensorType(padded) == type)
    return padded;
  SmallVector<int64_t> offsets = {0, 0};
  llvm::append_range(offsets, window.padBegin);
  return b.create<tensor::ExtractSliceOp>(
      loc, type, padded, ValueRange(), ValueRange(), ValueRange(), offsets,
      type.getShape(), SmallVector<int64_t>(type.getRank(), 1));
}

FailureOr<WindowGeometry>
windowFor(RankedTensorType inputType, ArrayRef<int64_t> kernel,
          ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
          ArrayRef<int64_t> dilations, bool ceilMode) {
  return computeWindow(std::nullopt, inputType.getShape().drop_front(2), kernel,
                       strides, pads, dilations, ceilMode);
}

/// An scf.for nest over `[0, bounds)` carrying `init`.
scf::LoopNest buildNest(OpBuilder &b, Location loc, ArrayRef<int64_t> bounds,
                        ValueRange init,
                        function_ref<scf::ValueVector(OpBuilder &, Location,
                                                      ValueRange, ValueRange)>
                            body) {
  SmallVector<Value> lbs, ubs, steps;
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  for (int64_t bound : bounds) {
    lbs.push_back(zero);
    ubs.push_back(b.create<arith::ConstantIndexOp>(loc, bound));
    steps.push_back(one);
  }
  return scf::buildLoopNest(b, loc, lbs, ubs, steps, init, body);
}

/// A scatter: an scf.for nest over `bounds`, the batch first, adding into
/// `init`, whose first dimension is the batch too. The iterations of a
/// sample write only that sample's slice of `init`, so the samples run in
/// parallel (an scf.forall over the batch, each sample's nest on its own
/// slice), and every element sums in the order it would serially. `body`
/// gets every induction variable, the sample's first, and that sample's
/// slice of the accumulator, without the batch dimension.
static Value
buildSampleScatter(OpBuilder &b, Location loc, ArrayRef<int64_t> bounds,
                   Value init,
                   function_ref<scf::ValueVector(OpBuilder &, Location,
                                                 ValueRange, ValueRange)>
                       body) {
  RankedTensorType type = tensorType(init);
  auto sliceType = RankedTensorType::get(type.getShape().drop_front(),
                                         type.getElementType());
  auto forall = b.create<scf::ForallOp>(
      loc, ArrayRef<OpFoldResult>{b.getIndexAttr(bounds.front())}, init,
      /*mapping=*/std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());
  Value sample = forall.getInductionVars().front();
  Value accumulator = forall.getRegionIterArgs().front();
  SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
  offsets.front() = sample;
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  for (int64_t size : sliceType.getShape())
    sizes.push_back(b.getIndexAttr(size));
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  Value slice = b.create<tensor::ExtractSliceOp>(loc, sliceType, accumulator,
                                                 offsets, sizes, strides);
  scf::LoopNest nest =
      buildNest(b, loc, bounds.drop_front(), slice,
                [&](OpBuilder &nb, Location l, ValueRange iv, ValueRange acc) {
                  SmallVector<Value> all = {sample};
                  llvm::append_range(all, iv);
                  return body(nb, l, all, acc);
                });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  b.create<tensor::ParallelInsertSliceOp>(loc, nest.results.front(),
                                          accumulator, offsets, sizes, strides);
  return forall.getResult(0);
}

/// Index arithmetic for scf loop bodies.
struct IndexMath {
  OpBuilder &b;
  Location l;
  Value constant(int64_t v) { return b.create<arith::ConstantIndexOp>(l, v); }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(l, x, y); }
  Value mul(Value x, int64_t c) {
    return c == 1 ? x : b.create<arith::MulIOp>(l, x, constant(c)).getResult();
  }
  /// `x * a + y * c`.
  Value affine(Value x, int64_t a, Value y, int64_t c) {
    return add(mul(x, a), mul(y, c));
  }
};

//===----------------------------------------------------------------------===//
// Convolution as matrix products
//===----------------------------------------------------------------------===//

// An ungrouped convolution of C input and F output channels, with a kernel
// of K = prod(kernel) and P = prod(output) positions, is a matrix product
// over the C*K entries of each window (im2col): the windows of the padded
// input are copied into a [.., C*K, ..] matrix, and the runtime's GEMM does
// the rest. The copy costs as much as one pass over the windows; the
// product then runs at the GEMM's speed instead of a 7-deep loop nest's.
// Only a product the GEMM will run (useGemm) is worth the copy; grouped and
// smaller convolutions stay direct loop nests.

/// Where the window loops go in an im2col copy: the copy's loops are its
/// result's dimensions, n and c and the kernel and output positions.
enum class WindowLayout {
  ChannelsFirst, // [N, C, K..., O...]: each sample a C*K x P matrix
  SamplesFirst,  // [N, O..., C, K...]: one N*P x C*K matrix
};

/// Where a window tensor of `layout` (rank 2 + 2s) has its channel, its
/// first kernel and its first output dimension.
struct WindowDims {
  WindowDims(WindowLayout layout, int64_t s)
      : c(layout == WindowLayout::ChannelsFirst ? 1 : 1 + s), k0(c + 1),
        o0(layout == WindowLayout::ChannelsFirst ? 2 + s : 1) {}
  int64_t c, k0, o0;
};

/// The shape of the windows of `layout` of n samples of c channels.
SmallVector<int64_t> windowsShape(int64_t n, int64_t c,
                                  const WindowGeometry &window,
                                  WindowLayout layout) {
  int64_t s = window.rank();
  WindowDims d(layout, s);
  SmallVector<int64_t> shape(2 + 2 * s);
  shape[0] = n;
  shape[d.c] = c;
  for (int64_t i = 0; i < s; ++i) {
    shape[d.k0 + i] = window.kernel[i];
    shape[d.o0 + i] = window.output[i];
  }
  return shape;
}

/// The windows of the input `x` ([N, C, spatial...]) as a tensor of
/// `layout`: the element at (n, c, k..., o...) is x[n, c, o * stride + k *
/// dilation - padBegin], or 0 where that falls in the padding. The padding
/// is materialized first (a fill and a copy of `x`, small beside the
/// windows, which repeat each element prod(kernel) times), so that the
/// windows are a plain strided copy: computing, clamping and testing every
/// window entry's index instead was, in a profile of a padded 3x3
/// convolution's step, its hottest code (vectors of 64-bit indices).
Value im2col(OpBuilder &b, Location loc, Value x, const WindowGeometry &window,
             WindowLayout layout) {
  MLIRContext *ctx = b.getContext();
  RankedTensorType type = tensorType(x);
  int64_t s = window.rank(), loops = 2 + 2 * s;
  WindowDims d(layout, s);
  auto colsType = RankedTensorType::get(
      windowsShape(type.getDimSize(0), type.getDimSize(1), window, layout),
      type.getElementType());
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  Value padded =
      pad(b, loc, x, window, floatConstant(b, loc, type.getElementType(), 0.0));
  SmallVector<AffineExpr> inputExprs = {getAffineDimExpr(0, ctx),
                                        getAffineDimExpr(d.c, ctx)};
  for (int64_t i = 0; i < s; ++i)
    inputExprs.push_back(getAffineDimExpr(d.o0 + i, ctx) * window.strides[i] +
                         getAffineDimExpr(d.k0 + i, ctx) * window.dilations[i]);
  return b
      .create<linalg::GenericOp>(
          loc, colsType, padded, emptyTensor(b, loc, colsType),
          SmallVector<AffineMap>{AffineMap::get(loops, 0, inputExprs, ctx),
                                 b.getMultiDimIdentityMap(loops)},
          iterators,
          [](OpBuilder &nb, Location l, ValueRange args) {
            nb.create<linalg::YieldOp>(l, args[0]);
          })
      .getResult(0);
}

/// im2col's inverse for gradients (col2im): every entry of `dcols`, windows
/// of `layout`, added back where im2col read it from, in a zero-filled
/// padded input of `paddedType`, each sample's nest on its own slice.
Value col2im(OpBuilder &b, Location loc, Value dcols,
             const WindowGeometry &window, WindowLayout layout,
             RankedTensorType paddedType) {
  int64_t s = window.rank();
  WindowDims d(layout, s);
  return buildSampleScatter(
      b, loc, tensorType(dcols).getShape(), zeroFilled(b, loc, paddedType),
      [&](OpBuilder &nb, Location l, ValueRange iv,
          ValueRange acc) -> scf::ValueVector {
        IndexMath m{nb, l};
        SmallVector<Value> at = {iv[d.c]};
        for (int64_t i = 0; i < s; ++i)
          at.push_back(m.affine(iv[d.o0 + i], window.strides[i],
                                iv[d.k0 + i], window.dilations[i]));
        Value sum = nb.create<arith::AddFOp>(
            l, nb.create<tensor::ExtractOp>(l, acc[0], at),
            nb.create<tensor::ExtractOp>(l, dcols, iv));
        return {nb.create<tensor::InsertOp>(l, sum, acc[0], at)};
      });
}

/// `value` with the dimension groups `groups` (consecutive, covering every
/// dimension) each collapsed into one.
Value collapse(OpBuilder &b, Location loc, Value value,
               ArrayRef<ReassociationIndices> groups) {
  RankedTensorType type = tensorType(value);
  SmallVector<int64_t> shape;
  for (const ReassociationIndices &group : groups) {
    int64_t size = 1;
    for (int64_t dim : group)
      size *= type.getDimSize(dim);
    shape.push_back(size);
  }
  auto collapsed = RankedTensorType::get(shape, type.getElementType());
  if (collapsed == type)
    return value;
  return b.create<tensor::CollapseShapeOp>(loc, collapsed, value, groups);
}

/// The groups {0..a-1}, {a..b-1}, ... of `bounds` = {a, b, ..., rank}.
SmallVector<ReassociationIndices> groupsUpTo(ArrayRef<int64_t> bounds) {
  SmallVector<ReassociationIndices> groups;
  int64_t begin = 0;
  for (int64_t end : bounds) {
    ReassociationIndices group;
    for (int64_t i = begin; i < end; ++i)
      group.push_back(i);
    groups.push_back(group);
    begin = end;
  }
  return groups;
}

/// `value` of a collapsed shape, expanded back to `type`.
Value expandTo(OpBuilder &b, Location loc, Value value, RankedTensorType type,
               ArrayRef<ReassociationIndices> groups) {
  if (tensorType(value) == type)
    return value;
  return b.create<tensor::ExpandShapeOp>(loc, type, value, groups);
}

/// The permutation that moves dimension 1 of a rank-`rank` tensor last
/// ([N, C, S...] to [N, S..., C]), and its inverse.
SmallVector<int64_t> channelsLast(int64_t rank) {
  SmallVector<int64_t> perm = {0};
  for (int64_t i = 2; i < rank; ++i)
    perm.push_back(i);
  perm.push_back(1);
  return perm;
}
SmallVector<int64_t> channelsSecond(int64_t rank) {
  SmallVector<int64_t> perm = {0, rank - 1};
  for (int64_t i = 1; i + 1 < rank; ++i)
    perm.push_back(i);
  return perm;
}

/// Whether a convolution's product over the windows runs as one GEMM over
/// all samples' positions (SamplesFirst windows: N*P x C*K times C*K x F)
/// rather than one per sample (F x C*K times C*K x P). A sample's product
/// is P columns wide: at a ResNet's last stage (2x2 or 4x4 positions) that
/// is a fraction of a GEMM micro-kernel's 16 or 32 columns, or too small
/// for the GEMM at all, where the batch's product has N*P rows and F
/// columns.
bool batchedConvProduct(Type elem, int64_t samples, int64_t p, int64_t f,
                        int64_t ck) {
  constexpr int64_t kPerSampleMinPositions = 64;
  return useGemm(elem, samples * p, f, ck) &&
         (p < kPerSampleMinPositions || !useGemm(elem, f, p, ck));
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

struct ConvLowering : public OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    RankedTensorType inputType = tensorType(op.getInput());
    RankedTensorType weightType = tensorType(op.getWeight());
    RankedTensorType type = tensorType(op.getResult());
    FailureOr<WindowGeometry> window =
        windowFor(inputType, weightType.getShape().drop_front(2),
                  op.getStrides(), op.getPads(), op.getDilations(), false);
    if (failed(window))
      return failure();
    Type elem = type.getElementType();
    int64_t s = window->rank(), groups = static_cast<int64_t>(op.getGroups());
    int64_t cg = weightType.getDimSize(1), fg = type.getDimSize(1) / groups;
    int64_t k = computeProduct(window->kernel),
            p = computeProduct(window->output);
    int64_t samples = type.getDimSize(0);
    if (groups == 1 && batchedConvProduct(elem, samples, p, fg, cg * k)) {
      // y^T (NP x F) = cols (NP x CK) w^T (CK x F), then y's channels moved
      // back behind its samples.
      Value cols = collapse(rewriter, loc,
                            im2col(rewriter, loc, op.getInput(), *window,
                                   WindowLayout::SamplesFirst),
                            groupsUpTo({1 + s, 2 + 2 * s}));
      Value w = collapse(rewriter, loc, op.getWeight(), groupsUpTo({1, 2 + s}));
      Value yt = buildMatmul(rewriter, loc, cols, w, false, true,
                             RankedTensorType::get({samples * p, fg}, elem));
      SmallVector<int64_t> lastShape = {samples};
      llvm::append_range(lastShape, window->output);
      lastShape.push_back(fg);
      SmallVector<ReassociationIndices> rows = groupsUpTo({1 + s, 2 + s});
      Value y = permuted(
          rewriter, loc,
          expandTo(rewriter, loc, yt, RankedTensorType::get(lastShape, elem),
                   rows),
          channelsSecond(2 + s));
      rewriter.replaceOp(op, y);
      return success();
    }
    if (groups == 1 && useGemm(elem, fg, p, cg * k)) {
      // y[n] (F x P) = w (F x CK) cols[n] (CK x P).
      Value cols = collapse(rewriter, loc,
                            im2col(rewriter, loc, op.getInput(), *window,
                                   WindowLayout::ChannelsFirst),
                            groupsUpTo({1, 2 + s, 2 + 2 * s}));
      Value w = collapse(rewriter, loc, op.getWeight(), groupsUpTo({1, 2 + s}));
      Value y = buildMatmul(rewriter, loc, w, cols, false, false,
                            RankedTensorType::get({samples, fg, p}, elem));
      rewriter.replaceOp(
          op, expandTo(rewriter, loc, y, type, groupsUpTo({1, 2, 2 + s})));
      return success();
    }
    Value xp = pad(rewriter, loc, op.getInput(), *window,
                   floatConstant(rewriter, loc, elem, 0.0));
    // Loops: n, g, f, o..., c, k...
    int64_t loops = 4 + 2 * s;
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr n = dim(0), g = dim(1), f = dim(2), c = dim(3 + s);
    SmallVector<AffineExpr> inputExprs = {n, g * cg + c};
    SmallVector<AffineExpr> weightExprs = {g * fg + f, c};
    SmallVector<AffineExpr> outExprs = {n, g, f};
    for (int64_t i = 0; i < s; ++i) {
      AffineExpr o = dim(3 + i), k = dim(4 + s + i);
      inputExprs.push_back(o * window->strides[i] + k * window->dilations[i]);
      weightExprs.push_back(k);
      outExprs.push_back(o);
    }
    SmallVector<utils::IteratorType> iterators(3 + s,
                                               utils::IteratorType::parallel);
    iterators.append(1 + s, utils::IteratorType::reduction);
    SmallVector<int64_t> groupedShape = {type.getDimSize(0), groups, fg};
    llvm::append_range(groupedShape, window->output);
    auto groupedType = RankedTensorType::get(groupedShape, elem);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, groupedType, ValueRange{xp, op.getWeight()},
        emptyTensor(rewriter, loc, groupedType),
        SmallVector<AffineMap>{AffineMap::get(loops, 0, inputExprs, ctx),
                               AffineMap::get(loops, 0, weightExprs, ctx),
                               AffineMap::get(loops, 0, outExprs, ctx)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value product = b.create<arith::MulFOp>(l, args[0], args[1]);
          b.create<linalg::YieldOp>(
              l, firstOr(b, l, iterators, product,
                         b.create<arith::AddFOp>(l, args[2], product)));
        });
    SmallVector<ReassociationIndices> collapse = {{0}, {1, 2}};
    for (int64_t i = 0; i < s; ++i)
      collapse.push_back({3 + i});
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, type, generic.getResult(0), collapse);
    return success();
  }
};

struct ConvGradWeightLowering : public OpRewritePattern<ConvGradWeightOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvGradWeightOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    RankedTensorType inputType = tensorType(op.getInput());
    RankedTensorType type = tensorType(op.getResult());
    FailureOr<WindowGeometry> window =
        windowFor(inputType, type.getShape().drop_front(2), op.getStrides(),
                  op.getPads(), op.getDilations(), false);
    if (failed(window))
      return failure();
    Type elem = type.getElementType();
    int64_t s = window->rank(), groups = static_cast<int64_t>(op.getGroups());
    int64_t cg = type.getDimSize(1), fg = type.getDimSize(0) / groups;
    int64_t k = computeProduct(window->kernel),
            p = computeProduct(window->output);
    int64_t samples = inputType.getDimSize(0);
    if (groups == 1 && fg <= p && p >= NNCC_GEMM_KC && cg * k >= 64 &&
        useGemm(elem, fg, cg * k, p)) {
      // dw (F x CK) = sum over n of dy[n] (F x P) cols[n]^T (P x CK), when
      // the per-sample products are no larger than the windows (F <= P)
      // and each is a full block of K and two of the GEMM's column panels
      // or more. The windows are then copied along the output positions,
      // which are contiguous in x at stride 1: the copy with the kernel
      // positions innermost, for the single product below, vectorizes as a
      // gather and a scatter, the hottest code of a padded 3x3
      // convolution's weight gradient in a profile.
      Value cols = collapse(rewriter, loc,
                            im2col(rewriter, loc, op.getInput(), *window,
                                   WindowLayout::ChannelsFirst),
                            groupsUpTo({1, 2 + s, 2 + 2 * s}));
      Value dy =
          collapse(rewriter, loc, op.getGrad(), groupsUpTo({1, 2, 2 + s}));
      Value partial =
          buildMatmul(rewriter, loc, dy, cols, false, true,
                      RankedTensorType::get({samples, fg, cg * k}, elem));
      Value dw = reduce(rewriter, loc, partial, {0}, /*keepDims=*/false,
                        identity, sumOf);
      rewriter.replaceOp(
          op, expandTo(rewriter, loc, dw, type, groupsUpTo({1, 2 + s})));
      return success();
    }
    if (groups == 1 && useGemm(elem, fg, cg * k, samples * p)) {
      // dw (F x CK) = dy (F x NP) cols (NP x CK), with dy's samples moved
      // behind its channels.
      Value cols = collapse(rewriter, loc,
                            im2col(rewriter, loc, op.getInput(), *window,
                                   WindowLayout::SamplesFirst),
                            groupsUpTo({1 + s, 2 + 2 * s}));
      SmallVector<int64_t> swap = {1, 0};
      for (int64_t i = 0; i < s; ++i)
        swap.push_back(2 + i);
      Value gradT = permuted(rewriter, loc, op.getGrad(), swap);
      Value dy = collapse(rewriter, loc, gradT, groupsUpTo({1, 2 + s}));
      Value dw = buildMatmul(rewriter, loc, dy, cols, false, false,
                             RankedTensorType::get({fg, cg * k}, elem));
      rewriter.replaceOp(
          op, expandTo(rewriter, loc, dw, type, groupsUpTo({1, 2 + s})));
      return success();
    }
    Value xp = pad(rewriter, loc, op.getInput(), *window,
                   floatConstant(rewriter, loc, elem, 0.0));
    // Loops: g, f, c, k..., then the reductions n, o...
    int64_t loops = 4 + 2 * s;
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    AffineExpr g = dim(0), f = dim(1), c = dim(2), n = dim(3 + s);
    SmallVector<AffineExpr> inputExprs = {n, g * cg + c};
    SmallVector<AffineExpr> gradExprs = {n, g * fg + f};
    SmallVector<AffineExpr> outExprs = {g, f, c};
    for (int64_t i = 0; i < s; ++i) {
      AffineExpr k = dim(3 + i), o = dim(4 + s + i);
      inputExprs.push_back(o * window->strides[i] + k * window->dilations[i]);
      gradExprs.push_back(o);
      outExprs.push_back(k);
    }
    SmallVector<utils::IteratorType> iterators(3 + s,
                                               utils::IteratorType::parallel);
    iterators.append(1 + s, utils::IteratorType::reduction);
    SmallVector<int64_t> groupedShape = {groups, fg, cg};
    llvm::append_range(groupedShape, window->kernel);
    auto groupedType = RankedTensorType::get(groupedShape, elem);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, groupedType, ValueRange{xp, op.getGrad()},
        emptyTensor(rewriter, loc, groupedType),
        SmallVector<AffineMap>{AffineMap::get(loops, 0, inputExprs, ctx),
                               AffineMap::get(loops, 0, gradExprs, ctx),
                               AffineMap::get(loops, 0, outExprs, ctx)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value product = b.create<arith::MulFOp>(l, args[0], args[1]);
          b.create<linalg::YieldOp>(
              l, firstOr(b, l, iterators, product,
                         b.create<arith::AddFOp>(l, args[2], product)));
        });
    SmallVector<ReassociationIndices> collapse = {{0, 1}, {2}};
    for (int64_t i = 0; i < s; ++i)
      collapse.push_back({3 + i});
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, type, generic.getResult(0), collapse);
    return success();
  }
};

/// At stride 1, the input gradient of a convolution is a convolution:
/// dx[n, c, i] = sum over f, k of dy[n, f, i + padBegin - k * d] w[f, c, k]
/// is the convolution of dy, padded by d * (K - 1) - pad on each side, with
/// the weight's kernel reversed and its two channel dimensions swapped. It
/// then runs as the forward convolution does (its windows and a GEMM)
/// instead of adding every window entry back where it was read from, one
/// scalar at a time. Its windows are those of the input's positions, the
/// forward's of the output's: with as many input positions as output ones
/// (a padded 3x3 kernel) the product is the same, but with many more (a
/// 5x5 kernel on 12x12 inputs: 144 against 64) most of its terms are the
/// padding's zeros, and the scatter is faster. Null then, and when the
/// convolution has groups or strides, or pads more than a kernel's extent.
static Value asConvolution(PatternRewriter &rewriter, ConvGradInputOp op,
                           const WindowGeometry &window) {
  if (op.getGroups() != 1 ||
      llvm::any_of(window.strides, [](int64_t v) { return v != 1; }) ||
      4 * computeProduct(window.input) > 5 * computeProduct(window.output))
    return nullptr;
  Location loc = op.getLoc();
  RankedTensorType type = tensorType(op.getResult());
  RankedTensorType weightType = tensorType(op.getWeight());
  RankedTensorType gradType = tensorType(op.getGrad());
  int64_t s = window.rank();
  SmallVector<int64_t> pads(2 * s);
  for (int64_t i = 0; i < s; ++i) {
    int64_t extent = window.dilations[i] * (window.kernel[i] - 1);
    pads[i] = extent - window.padBegin[i];
    pads[s + i] =
        type.getDimSize(2 + i) - gradType.getDimSize(2 + i) - pads[i] + extent;
    if (pads[i] < 0 || pads[s + i] < 0)
      return nullptr;
  }
  SmallVector<int64_t> spatial, perm = {1, 0};
  for (int64_t i = 0; i < s; ++i) {
    spatial.push_back(2 + i);
    perm.push_back(2 + i);
  }
  Value reversed =
      rewriter.create<ReverseOp>(loc, weightType, op.getWeight(), spatial);
  SmallVector<int64_t> swappedShape(weightType.getShape());
  std::swap(swappedShape[0], swappedShape[1]);
  Value swapped = rewriter.create<TransposeOp>(
      loc, RankedTensorType::get(swappedShape, weightType.getElementType()),
      reversed, perm);
  return rewriter.create<ConvOp>(loc, type, op.getGrad(), swapped,
                                 SmallVector<int64_t>(s, 1), pads,
                                 window.dilations, 1);
}

struct ConvGradInputLowering : public OpRewritePattern<ConvGradInputOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvGradInputOp op,
                                PatternRewriter &rewriter) const override {
    // dx_padded[n, g*Cg + c, o*s + k*d] += dy[n, g*Fg + f, o] * w[g*Fg + f, c,
    // k]
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    RankedTensorType weightType = tensorType(op.getWeight());
    FailureOr<WindowGeometry> window =
        windowFor(type, weightType.getShape().drop_front(2), op.getStrides(),
                  op.getPads(), op.getDilations(), false);
    if (failed(window))
      return failure();
    int64_t s = window->rank(), groups = static_cast<int64_t>(op.getGroups());
    if (Value dx = asConvolution(rewriter, op, *window)) {
      rewriter.replaceOp(op, dx);
      return success();
    }
    int64_t cg = weightType.getDimSize(1),
            fg = weightType.getDimSize(0) / groups;
    auto paddedType = RankedTensorType::get(paddedShape(type, *window),
                                            type.getElementType());
    Type elem = type.getElementType();
    int64_t k = computeProduct(window->kernel),
            p = computeProduct(window->output);
    int64_t n = type.getDimSize(0);
    if (groups == 1 && batchedConvProduct(elem, n, p, cg * k, fg)) {
      // dcols (NP x CK) = dy^T (NP x F) w (F x CK), dy's channels moved
      // last, then every window entry is added back where it was read from.
      Value dyT = collapse(
          rewriter, loc,
          permuted(rewriter, loc, op.getGrad(), channelsLast(2 + s)),
          groupsUpTo({1 + s, 2 + s}));
      Value w = collapse(rewriter, loc, op.getWeight(), groupsUpTo({1, 2 + s}));
      Value dcols = buildMatmul(rewriter, loc, dyT, w, false, false,
                                RankedTensorType::get({n * p, cg * k}, elem));
      auto colsType = RankedTensorType::get(
          windowsShape(n, cg, *window, WindowLayout::SamplesFirst), elem);
      dcols = expandTo(rewriter, loc, dcols, colsType,
                       groupsUpTo({1 + s, 2 + 2 * s}));
      Value dx = col2im(rewriter, loc, dcols, *window,
                        WindowLayout::SamplesFirst, paddedType);
      rewriter.replaceOp(op, unpad(rewriter, loc, dx, type, *window));
      return success();
    }
    if (groups == 1 && useGemm(elem, cg * k, p, fg)) {
      // dcols[n] (CK x P) = w^T (CK x F) dy[n] (F x P), then every window
      // entry is added back where it was read from (col2im).
      Value w = collapse(rewriter, loc, op.getWeight(), groupsUpTo({1, 2 + s}));
      Value dy =
          collapse(rewriter, loc, op.getGrad(), groupsUpTo({1, 2, 2 + s}));
      Value dcols = buildMatmul(rewriter, loc, w, dy, true, false,
                                RankedTensorType::get({n, cg * k, p}, elem));
      auto colsType = RankedTensorType::get(
          windowsShape(n, cg, *window, WindowLayout::ChannelsFirst), elem);
      dcols = expandTo(rewriter, loc, dcols, colsType,
                       groupsUpTo({1, 2 + s, 2 + 2 * s}));
      Value dx = col2im(rewriter, loc, dcols, *window,
                        WindowLayout::ChannelsFirst, paddedType);
      rewriter.replaceOp(op, unpad(rewriter, loc, dx, type, *window));
      return success();
    }
    SmallVector<int64_t> bounds = {type.getDimSize(0), groups, fg};
    llvm::append_range(bounds, window->output);
    bounds.push_back(cg);
    llvm::append_range(bounds, window->kernel);
    Value grad = op.getGrad(), weight = op.getWeight();
    Value dx = buildSampleScatter(
        rewriter, loc, bounds, zeroFilled(rewriter, loc, paddedType),
        [&](OpBuilder &b, Location l, ValueRange iv,
            ValueRange acc) -> scf::ValueVector {
          IndexMath m{b, l};
          Value n = iv[0], g = iv[1], f = iv[2], c = iv[3 + s];
          Value filter = m.affine(g, fg, f, 1);
          SmallVector<Value> gradAt = {n, filter};
          SmallVector<Value> weightAt = {filter, c};
          SmallVector<Value> at = {m.affine(g, cg, c, 1)};
          for (int64_t i = 0; i < s; ++i) {
            Value o = iv[3 + i], k = iv[4 + s + i];
            gradAt.push_back(o);
            weightAt.push_back(k);
            at.push_back(
                m.affine(o, window->strides[i], k, window->dilations[i]));
          }
          Value product = b.create<arith::MulFOp>(
              l, b.create<tensor::ExtractOp>(l, grad, gradAt),
              b.create<tensor::ExtractOp>(l, weight, weightAt));
          Value sum = b.create<arith::AddFOp>(
              l, b.create<tensor::ExtractOp>(l, acc[0], at), product);
          return {b.create<tensor::InsertOp>(l, sum, acc[0], at)};
        });
    rewriter.replaceOp(op, unpad(rewriter, loc, dx, type, *window));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// The divisors of an average pooling as a constant `[out...]` tensor.
Value divisorTensor(OpBuilder &b, Location loc, const WindowGeometry &window,
                    bool countIncludePad, Type elem) {
  SmallVector<float> divisors = averagePoolDivisors(window, countIncludePad);
  auto type = RankedTensorType::get(window.output, elem);
  return b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(type, ArrayRef<float>(divisors)));
}

struct PoolLowering : public OpRewritePattern<PoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PoolOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    RankedTensorType inputType = tensorType(op.getInput());
    RankedTensorType type = tensorType(op.getResult());
    Type elem = type.getElementType();
    if (!elem.isF32())
      return rewriter.notifyMatchFailure(op, "pooling of f32 only");
    FailureOr<WindowGeometry> window =
        windowFor(inputType, op.getKernel(), op.getStrides(), op.getPads(),
                  op.getDilations(), op.getCeilMode());
    if (failed(window))
      return failure();
    bool isMax = op.getKind() == PoolKind::max;
    // Padding never wins a maximum and adds nothing to a sum.
    Value init = isMax ? negativeInfinity(rewriter, loc, elem)
                       : floatConstant(rewriter, loc, elem, 0.0);
    Value xp = pad(rewriter, loc, op.getInput(), *window, init);
    int64_t s = window->rank(), loops = 2 + 2 * s;
    // The loops: batch, channel, the output's spatial dimensions but the
    // last, the window's, then the output's last, innermost: it reads the
    // input at a constant stride and writes a row of the output, so the
    // loop vectorizes (with the window loops innermost, it would not).
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    auto outDim = [&](int64_t i) {
      return dim(i + 1 < s ? 2 + i : 2 + 2 * s - 1);
    };
    auto kernelDim = [&](int64_t i) { return dim(2 + (s - 1) + i); };
    SmallVector<AffineExpr> inputExprs = {dim(0), dim(1)};
    SmallVector<AffineExpr> outExprs = {dim(0), dim(1)};
    SmallVector<AffineExpr> windowExprs;
    for (int64_t i = 0; i < s; ++i) {
      AffineExpr o = outDim(i), k = kernelDim(i);
      inputExprs.push_back(o * window->strides[i] + k * window->dilations[i]);
      outExprs.push_back(o);
      windowExprs.push_back(k);
    }
    // As linalg's pooling ops do: an operand of the window's shape, never
    // read, gives the kernel loops their bounds.
    Value windowShape =
        emptyTensor(rewriter, loc, RankedTensorType::get(window->kernel, elem));
    SmallVector<utils::IteratorType> iterators(1 + s,
                                               utils::IteratorType::parallel);
    iterators.append(s, utils::IteratorType::reduction);
    iterators.push_back(utils::IteratorType::parallel);
    Value pooled =
        rewriter
            .create<linalg::GenericOp>(
                loc, type, ValueRange{xp, windowShape},
                emptyTensor(rewriter, loc, type),
                SmallVector<AffineMap>{
                    AffineMap::get(loops, 0, inputExprs, ctx),
                    AffineMap::get(loops, 0, windowExprs, ctx),
                    AffineMap::get(loops, 0, outExprs, ctx)},
                iterators,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value combined =
                      isMax ? b.create<arith::MaximumFOp>(l, args[2], args[0])
                                  .getResult()
                            : b.create<arith::AddFOp>(l, args[2], args[0])
                                  .getResult();
                  b.create<linalg::YieldOp>(
                      l, firstOr(b, l, iterators, args[0], combined));
                })
            .getResult(0);
    if (!isMax) {
      Value divisors =
          divisorTensor(rewriter, loc, *window, op.getCountIncludePad(), elem);
      pooled =
          buildElementwise(rewriter, loc, type, ValueRange{pooled, divisors},
                           [](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return b.create<arith::DivFOp>(l, a[0], a[1]);
                           });
    }
    rewriter.replaceOp(op, pooled);
    return success();
  }
};

/// Max pooling's gradient when its windows tile the input (strides equal to
/// the kernel, no padding or dilation, no input left over): every input
/// element is in one window, so the gradient is elementwise, with no
/// scatter and no zero fill. The input and the gradient are seen as [N, C,
/// O1, K1, O2, K2, ...] (a reshape: each spatial dimension split into
/// window and offset); an element gets its window's gradient when it is
/// that window's first maximal element (the scatter's choice: the first
/// element greater than all before it, the window's first when none is),
/// else 0. Each element scans its window again: a few compares, against a
/// scatter's scalar search and read-modify-write, and the loop over windows
/// vectorizes. Returns null when the windows do not tile the input.
static Value tiledMaxPoolGrad(OpBuilder &b, Location loc, Value x, Value grad,
                              const WindowGeometry &window) {
  RankedTensorType type = tensorType(x);
  int64_t s = window.rank();
  for (int64_t i = 0; i < s; ++i)
    if (window.strides[i] != window.kernel[i] || window.dilations[i] != 1 ||
        window.padBegin[i] != 0 ||
        window.output[i] * window.kernel[i] != window.input[i])
      return {};
  int64_t positions = 1;
  for (int64_t k : window.kernel)
    positions *= k;
  // [N, C, O1, K1, ...]: dimension 2 + 2i is window i, 3 + 2i the offset.
  SmallVector<int64_t> shape = {type.getDimSize(0), type.getDimSize(1)};
  SmallVector<ReassociationIndices> groups = {{0}, {1}};
  for (int64_t i = 0; i < s; ++i) {
    shape.append({window.output[i], window.kernel[i]});
    groups.push_back({2 + 2 * i, 3 + 2 * i});
  }
  auto splitType = RankedTensorType::get(shape, type.getElementType());
  Value split = b.create<tensor::ExpandShapeOp>(loc, splitType, x, groups);
  MLIRContext *ctx = b.getContext();
  unsigned rank = shape.size();
  auto dim = [&](unsigned d) { return getAffineDimExpr(d, ctx); };
  // The gradient, by window; the input at each offset of the window, in
  // the scatter's order (the last dimension's offset fastest).
  SmallVector<AffineExpr> gradExprs = {dim(0), dim(1)};
  for (int64_t i = 0; i < s; ++i)
    gradExprs.push_back(dim(2 + 2 * i));
  SmallVector<Value> inputs = {grad};
  SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, gradExprs, ctx)};
  for (int64_t position = 0; position < positions; ++position) {
    SmallVector<AffineExpr> exprs = {dim(0), dim(1)};
    int64_t rest = position, stride = positions;
    for (int64_t i = 0; i < s; ++i) {
      stride /= window.kernel[i];
      exprs.append({dim(2 + 2 * i), getAffineConstantExpr(rest / stride, ctx)});
      rest %= stride;
    }
    inputs.push_back(split);
    maps.push_back(AffineMap::get(rank, 0, exprs, ctx));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  Type elem = type.getElementType();
  auto generic = b.create<linalg::GenericOp>(
      loc, splitType, inputs, emptyTensor(b, loc, splitType), maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        IndexMath m{nb, l};
        Value best = negativeInfinity(nb, l, elem);
        Value chosen = m.constant(0);
        for (int64_t position = 0; position < positions; ++position) {
          Value value = args[1 + position];
          Value better = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT,
                                                  value, best);
          best = nb.create<arith::SelectOp>(l, better, value, best);
          chosen = nb.create<arith::SelectOp>(l, better, m.constant(position),
                                              chosen);
        }
        // This element's offset in its window, in the same order.
        Value own = m.constant(0);
        for (int64_t i = 0; i < s; ++i)
          own = m.add(m.mul(own, window.kernel[i]),
                      nb.create<linalg::IndexOp>(l, 3 + 2 * i));
        Value mine =
            nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, own, chosen);
        nb.create<linalg::YieldOp>(
            l, ValueRange{nb.create<arith::SelectOp>(
                   l, mine, args[0], floatConstant(nb, l, elem, 0.0))});
      });
  return b.create<tensor::CollapseShapeOp>(loc, type, generic.getResult(0),
                                           groups);
}

struct PoolGradLowering : public OpRewritePattern<PoolGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PoolGradOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = tensorType(op.getResult());
    RankedTensorType gradType = tensorType(op.getGrad());
    Type elem = type.getElementType();
    if (!elem.isF32())
      return rewriter.notifyMatchFailure(op, "pooling of f32 only");
    FailureOr<WindowGeometry> window =
        windowFor(type, op.getKernel(), op.getStrides(), op.getPads(),
                  op.getDilations(), op.getCeilMode());
    if (failed(window))
      return failure();
    int64_t s = window->rank();
    if (op.getKind() == PoolKind::max)
      if (Value dx = tiledMaxPoolGrad(rewriter, loc, op.getInput(),
                                      op.getGrad(), *window)) {
        rewriter.replaceOp(op, dx);
        return success();
      }
    auto paddedType = RankedTensorType::get(paddedShape(type, *window), elem);
    Value grad = op.getGrad();
    Value zeros = zeroFilled(rewriter, loc, paddedType);
    Value dx;
    if (op.getKind() == PoolKind::max) {
      // Each window's gradient goes to its first maximal element.
      Value xp = pad(rewriter, loc, op.getInput(), *window,
                     negativeInfinity(rewriter, loc, elem));
      dx = buildSampleScatter(
          rewriter, loc, gradType.getShape(), zeros,
          [&](OpBuilder &b, Location l, ValueRange iv,
              ValueRange acc) -> scf::ValueVector {
            IndexMath m{b, l};
            SmallVector<Value> init = {negativeInfinity(b, l, elem)};
            for (int64_t i = 0; i < s; ++i)
              init.push_back(m.mul(iv[2 + i], window->strides[i]));
            scf::LoopNest search = buildNest(
                b, l, window->kernel, init,
                [&](OpBuilder &ib, Location il, ValueRange k,
                    ValueRange best) -> scf::ValueVector {
                  IndexMath im{ib, il};
                  SmallVector<Value> at = {iv[0], iv[1]};
                  for (int64_t i = 0; i < s; ++i)
                    at.push_back(im.affine(iv[2 + i], window->strides[i], k[i],
                                           window->dilations[i]));
                  Value x = ib.create<tensor::ExtractOp>(il, xp, at);
                  Value better = ib.create<arith::CmpFOp>(
                      il, arith::CmpFPredicate::OGT, x, best[0]);
                  scf::ValueVector next = {
                      ib.create<arith::SelectOp>(il, better, x, best[0])};
                  for (int64_t i = 0; i < s; ++i)
                    next.push_back(ib.create<arith::SelectOp>(
                        il, better, at[2 + i], best[1 + i]));
                  return next;
                });
            SmallVector<Value> at = {iv[1]};
            for (int64_t i = 0; i < s; ++i)
              at.push_back(search.results[1 + i]);
            Value sum = b.create<arith::AddFOp>(
                l, b.create<tensor::ExtractOp>(l, acc[0], at),
                b.create<tensor::ExtractOp>(l, grad, iv));
            return {b.create<tensor::InsertOp>(l, sum, acc[0], at)};
          });
    } else {
      // Each window spreads its gradient over its elements.
      Value divisors =
          divisorTensor(rewriter, loc, *window, op.getCountIncludePad(), elem);
      SmallVector<int64_t> bounds(gradType.getShape());
      llvm::append_range(bounds, window->kernel);
      dx = buildSampleScatter(
          rewriter, loc, bounds, zeros,
          [&](OpBuilder &b, Location l, ValueRange iv,
              ValueRange acc) -> scf::ValueVector {
            IndexMath m{b, l};
            ValueRange out = iv.take_front(2 + s);
            SmallVector<Value> at = {iv[1]};
            for (int64_t i = 0; i < s; ++i)
              at.push_back(m.affine(iv[2 + i], window->strides[i],
                                    iv[2 + s + i], window->dilations[i]));
            Value share = b.create<arith::DivFOp>(
                l, b.create<tensor::ExtractOp>(l, grad, out),
                b.create<tensor::ExtractOp>(l, divisors, out.drop_front(2)));
            Value sum = b.create<arith::AddFOp>(
                l, b.create<tensor::ExtractOp>(l, acc[0], at), share);
            return {b.create<tensor::InsertOp>(l, sum, acc[0], at)};
          });
    }
    rewriter.replaceOp(op, unpad(rewriter, loc, dx, type, *window));
    return success();
  }
};

} // namespace

void nncc::populateWindowOpLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvGradWeightLowering, ConvGradInputLowering,
               PoolLowering, PoolGradLowering>(patterns.getContext());
}
