//===- NN.h - The nn dialect ------------------------------------*- C++ -*-===//
//
// Declares the nn dialect, its ops and GradientOpInterface, and the helpers
// that gradient implementations share.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_IR_NN_H
#define NNCC_DIALECT_NN_IR_NN_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "nncc/Dialect/NN/IR/NNOpsDialect.h.inc"

#include "nncc/Dialect/NN/IR/NNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "nncc/Dialect/NN/IR/NNOps.h.inc"

namespace nncc::nn {

/// Argument and result attributes by which nn functions describe their
/// interface (see the dialect description).
constexpr llvm::StringLiteral kNameAttr = "nn.name";
constexpr llvm::StringLiteral kParamAttr = "nn.param";

/// The slots of the hyperparameter vector that the generated library fills
/// before each step (lib/Runtime/nncc_runtime.c computes them in double).
enum HyperSlot : int64_t {
  kHyperLearningRate = 0,  ///< lr
  kHyperStep = 1,          ///< t, the 1-based number of this step
  kHyperAdamStepSize = 2,  ///< lr / (1 - beta1^t)
  kHyperAdamBias2Sqrt = 3, ///< sqrt(1 - beta2^t)
  kHyperAdagradLR = 4,     ///< lr / (1 + (t - 1) * lr_decay)
  kHyperDecayFactor = 5,   ///< 1 - lr * weight_decay (AdamW)
  kNumHyperSlots = 8,
};

/// The numpy broadcast of two shapes, or failure when a pair of dimensions is
/// neither equal nor 1.
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// A rank-0 constant of `elementType` holding `value`.
mlir::Value createScalarConstant(mlir::OpBuilder &builder, mlir::Location loc,
                                 mlir::Type elementType, double value);

/// A constant of `type` whose elements are all zero.
mlir::Value createZeroConstant(mlir::OpBuilder &builder, mlir::Location loc,
                               mlir::RankedTensorType type);

/// Reduces `grad`, the gradient of a value broadcast from `type`, back to
/// `type` by summing over the broadcast dimensions.
mlir::Value reduceGradientToType(mlir::OpBuilder &builder, mlir::Location loc,
                                 mlir::Value grad,
                                 mlir::RankedTensorType type);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_IR_NN_H
