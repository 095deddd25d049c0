//===- Training.h - Building the training step ------------------*- C++ -*-===//
//
// The interface between the importer, nn-build-training and the code
// generator: function names, argument roles and the training options.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_TRAINING_H
#define NNCC_DIALECT_NN_TRANSFORMS_TRAINING_H

#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"
#include <string>

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace nncc::nn {

constexpr llvm::StringLiteral kForwardFunc = "forward";

/// The module attribute holding the batch size the model was bound to: the
/// size of dimension 0 of every data input, target and output.
constexpr llvm::StringLiteral kBatchSizeAttr = "nn.batch_size";

constexpr llvm::StringLiteral kTrainStepFunc = "train_step";

/// `nn.role` tags every argument and result of @forward and @train_step with
/// what the generated library passes there.
constexpr llvm::StringLiteral kRoleAttr = "nn.role";
constexpr llvm::StringLiteral kRoleInput = "input";
constexpr llvm::StringLiteral kRoleTarget = "target";
constexpr llvm::StringLiteral kRoleCount = "count";
constexpr llvm::StringLiteral kRoleLearningRate = "lr";
constexpr llvm::StringLiteral kRoleParam = "param";
constexpr llvm::StringLiteral kRoleLoss = "loss";
constexpr llvm::StringLiteral kRoleOutput = "output";

/// Attributes of @train_step recording how it was built.
constexpr llvm::StringLiteral kLossAttr = "nn.loss";
constexpr llvm::StringLiteral kOptimizerAttr = "nn.optimizer";
constexpr llvm::StringLiteral kLearningRateAttr = "nn.lr";

/// The arena size, in bytes, that nn-plan-memory chose for a function.
constexpr llvm::StringLiteral kWorkspaceBytesAttr = "nn.workspace_bytes";
constexpr llvm::StringLiteral kRoleWorkspace = "workspace";

struct TrainingOptions {
  std::string loss = "mse";
  std::string optimizer = "sgd";
  double learningRate = 0.01;
  /// The @forward result the loss is computed on: by name when
  /// `lossOutputName` is set, else by index.
  unsigned lossOutput = 0;
  std::string lossOutputName;
};

/// Builds @train_step from @forward in `module` (see nn-build-training).
mlir::LogicalResult buildTrainStep(mlir::ModuleOp module,
                                   const TrainingOptions &options);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_TRANSFORMS_TRAINING_H
