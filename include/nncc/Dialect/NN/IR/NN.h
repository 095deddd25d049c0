//===- NN.h - The nn dialect ------------------------------------*- C++ -*-===//
//
// Declares the nn dialect, its ops and GradientOpInterface, and the helpers
// that gradient implementations share.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_IR_NN_H
#define NNCC_DIALECT_NN_IR_NN_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "nncc/Dialect/NN/IR/NNOpsDialect.h.inc"

#include "nncc/Dialect/NN/IR/NNEnums.h.inc"

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
  kHyperStepLow = 6,       ///< t mod 2^24, exact in float (dropout masks)
  kHyperStepHigh = 7,      ///< floor(t / 2^24)
  /// d(loss)/d(loss), the seed of the backward pass: 1 on one process; in
  /// data-parallel training this process's share of the global batch's
  /// loss denominator, so that the gradients sum to the global mean's.
  kHyperGradScale = 8,
  /// The global batch's index of this process's first sample, exact in
  /// float (dropout masks are keyed by the sample's global index).
  kHyperSampleBase = 9,
  kNumHyperSlots = 10,
};

/// The numpy broadcast of two shapes, or failure when a pair of dimensions is
/// neither equal nor 1.
mlir::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> lhs, llvm::ArrayRef<int64_t> rhs);

/// The type of a reduction of `inputType` over `axes` (distinct, in range),
/// keeping them as size-1 dimensions with `keepDims`.
mlir::FailureOr<mlir::RankedTensorType>
inferReducedType(std::optional<mlir::Location> loc,
                 mlir::RankedTensorType inputType,
                 llvm::ArrayRef<int64_t> axes, bool keepDims);

/// A shape as `[2,3]`, for diagnostics.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

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

/// Whether nn.trilu keeps the element at `row`, `column`.
bool keepsTriangleElement(int64_t row, int64_t column, int64_t k, bool upper);

/// The geometry of a convolution or pooling window over the spatial
/// dimensions of an `[N, C, spatial...]` tensor.
struct WindowGeometry {
  llvm::SmallVector<int64_t> input, kernel, strides, dilations;
  llvm::SmallVector<int64_t> padBegin, padEnd, output;

  int64_t rank() const { return input.size(); }
  /// The extent of a dilated kernel: `(kernel - 1) * dilation + 1`.
  int64_t extent(int64_t i) const { return (kernel[i] - 1) * dilations[i] + 1; }
  /// The size of the padded input that holds every window entirely: in ceil
  /// mode the last window may reach past `padEnd`.
  int64_t paddedSize(int64_t i) const {
    return std::max(input[i] + padBegin[i] + padEnd[i],
                    (output[i] - 1) * strides[i] + extent(i));
  }
};

/// Checks the attributes of a window op and computes its output size, as
/// ONNX and PyTorch do (in ceil mode, a window that would start in the end
/// padding is dropped). `pads` holds the beginnings, then the ends.
mlir::FailureOr<WindowGeometry>
computeWindow(std::optional<mlir::Location> loc,
              llvm::ArrayRef<int64_t> inputSpatial,
              llvm::ArrayRef<int64_t> kernel, llvm::ArrayRef<int64_t> strides,
              llvm::ArrayRef<int64_t> pads, llvm::ArrayRef<int64_t> dilations,
              bool ceilMode);

/// The divisor of each window of an average pooling (the window's size, or
/// the number of input elements in it without `count_include_pad`), in
/// row-major order of the output's spatial positions.
llvm::SmallVector<float> averagePoolDivisors(const WindowGeometry &window,
                                             bool countIncludePad);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_IR_NN_H
