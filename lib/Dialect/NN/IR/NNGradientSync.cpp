//===- NNGradientSync.cpp - Gradients handed to the collective engine -----===//
//
// nn.gradient_ready and nn.gradient_wait work on their operand's buffer in
// place: bufferization makes each a call of the runtime with the
// parameter's index and the gradient's address, after which the buffer is
// the op's result.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace nncc::nn;

/// The declaration of the runtime's `name(i32 param, f32 *base, index
/// offset)` in the module of `op` (for nn.all_reduce_sum, the first
/// argument is the number of elements).
static func::FuncOp runtimeDeclaration(Operation *op, StringRef name) {
  auto module = op->getParentOfType<ModuleOp>();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Type types[] = {b.getI32Type(), MemRefType::get({}, b.getF32Type()),
                  b.getIndexType()};
  auto func = b.create<func::FuncOp>(module.getLoc(), name,
                                     b.getFunctionType(types, {}));
  func.setPrivate();
  return func;
}

/// Calls the runtime's `name` on the contiguous buffer of `op`'s operand
/// (a copy when the operand's buffer is strided), which becomes the result.
static LogicalResult bufferizeSync(Operation *op, int64_t param, StringRef name,
                                   RewriterBase &rewriter,
                                   const BufferizationOptions &options) {
  FailureOr<Value> buffer = getBuffer(rewriter, op->getOperand(0), options);
  if (failed(buffer))
    return failure();
  Location loc = op->getLoc();
  Value memref = *buffer;
  auto type = cast<MemRefType>(memref.getType());
  if (!type.getLayout().isIdentity()) {
    auto contiguous = MemRefType::get(type.getShape(), type.getElementType());
    Value copy = rewriter.create<memref::AllocOp>(loc, contiguous);
    rewriter.create<memref::CopyOp>(loc, memref, copy);
    memref = copy;
  }
  auto meta = rewriter.create<memref::ExtractStridedMetadataOp>(loc, memref);
  Value index = rewriter.create<arith::ConstantIntOp>(loc, param, 32);
  rewriter.create<func::CallOp>(
      loc, runtimeDeclaration(op, name),
      ValueRange{index, meta.getBaseBuffer(), meta.getOffset()});
  replaceOpWithBufferizedValues(rewriter, op, memref);
  return success();
}

#define NNCC_GRADIENT_SYNC_INTERFACE(OP, RUNTIME)                              \
  bool OP::bufferizesToMemoryRead(OpOperand &, const AnalysisState &) {        \
    return true;                                                               \
  }                                                                            \
  bool OP::bufferizesToMemoryWrite(OpOperand &, const AnalysisState &) {       \
    return true;                                                               \
  }                                                                            \
  AliasingValueList OP::getAliasingValues(OpOperand &, const AnalysisState &) { \
    return {{getResult(), BufferRelation::Equivalent}};                        \
  }                                                                            \
  LogicalResult OP::bufferize(RewriterBase &rewriter,                          \
                              const BufferizationOptions &options) {           \
    return bufferizeSync(*this, getParam(), RUNTIME, rewriter, options);       \
  }

NNCC_GRADIENT_SYNC_INTERFACE(GradientReadyOp, "__nncc_gradient_ready")
NNCC_GRADIENT_SYNC_INTERFACE(GradientWaitOp, "__nncc_gradient_wait")

bool AllReduceSumOp::bufferizesToMemoryRead(OpOperand &, const AnalysisState &) {
  return true;
}
bool AllReduceSumOp::bufferizesToMemoryWrite(OpOperand &,
                                             const AnalysisState &) {
  return true;
}
AliasingValueList AllReduceSumOp::getAliasingValues(OpOperand &,
                                                    const AnalysisState &) {
  return {{getResult(), BufferRelation::Equivalent}};
}
LogicalResult AllReduceSumOp::bufferize(RewriterBase &rewriter,
                                        const BufferizationOptions &options) {
  return bufferizeSync(*this, getType().getNumElements(),
                       getOfGradient() ? "__nncc_all_reduce_sum_gradient"
                                       : "__nncc_all_reduce_sum",
                       rewriter, options);
}

LogicalResult AllReduceSumOp::buildGradient(OpBuilder &b,
                                            ValueRange resultGrads,
                                            SmallVectorImpl<Value> &grads) {
  grads.push_back(b.create<AllReduceSumOp>(getLoc(), resultGrads[0],
                                           /*of_gradient=*/true));
  return success();
}
