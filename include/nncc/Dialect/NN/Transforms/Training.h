//===- Training.h - Building the training step ------------------*- C++ -*-===//
//
// The interface between the importer, nn-build-training and the code
// generator: function names, argument roles and the training options.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_TRAINING_H
#define NNCC_DIALECT_NN_TRANSFORMS_TRAINING_H

#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace nncc::nn {

constexpr llvm::StringLiteral kForwardFunc = "forward";

/// The module attribute holding the batch size the model was bound to: the
/// size of dimension 0 of every data input, target and output.
constexpr llvm::StringLiteral kBatchSizeAttr = "nn.batch_size";
/// The number of threads the library's kernels use (--threads), on the
/// module; 1 when absent.
constexpr llvm::StringLiteral kThreadsAttr = "nn.threads";

constexpr llvm::StringLiteral kTrainStepFunc = "train_step";

/// `nn.role` tags every argument and result of @forward and @train_step with
/// what the generated library passes there.
constexpr llvm::StringLiteral kRoleAttr = "nn.role";
constexpr llvm::StringLiteral kRoleInput = "input";
constexpr llvm::StringLiteral kRoleTarget = "target";
constexpr llvm::StringLiteral kRoleCount = "count";
constexpr llvm::StringLiteral kRoleHyper = "hyper";
constexpr llvm::StringLiteral kRoleParam = "param";
constexpr llvm::StringLiteral kRoleState = "state";
/// Marks a parameter argument of @train_step that --freeze keeps fixed.
constexpr llvm::StringLiteral kFrozenAttr = "nn.frozen";
/// Marks a frozen parameter argument of @train_step that each step still
/// replaces (batch normalization's running statistics, nn.running_update).
constexpr llvm::StringLiteral kRunningAttr = "nn.running";
constexpr llvm::StringLiteral kRoleLoss = "loss";
constexpr llvm::StringLiteral kRoleOutput = "output";

/// Attributes of @train_step recording how it was built.
constexpr llvm::StringLiteral kLossAttr = "nn.loss";
constexpr llvm::StringLiteral kOptimizerAttr = "nn.optimizer";
constexpr llvm::StringLiteral kLearningRateAttr = "nn.lr";
/// What the library needs to compute the per-step hyperparameters.
constexpr llvm::StringLiteral kBeta1Attr = "nn.beta1";
constexpr llvm::StringLiteral kBeta2Attr = "nn.beta2";
constexpr llvm::StringLiteral kLRDecayAttr = "nn.lr_decay";
constexpr llvm::StringLiteral kWeightDecayAttr = "nn.weight_decay";

/// The arena size, in bytes, that nn-plan-memory chose for a function.
constexpr llvm::StringLiteral kWorkspaceBytesAttr = "nn.workspace_bytes";
/// The sum of the sizes of the buffers placed in the arena, each rounded up
/// to the arena's alignment: the memory that one aligned allocation per
/// buffer would take.
constexpr llvm::StringLiteral kNaiveBytesAttr = "nn.naive_bytes";
constexpr llvm::StringLiteral kRoleWorkspace = "workspace";

struct TrainingOptions {
  /// mse, cross-entropy, bce or none.
  std::string loss = "mse";
  /// cross-entropy: targets equal to this class are left out of the mean.
  int64_t ignoreIndex = -100;
  /// cross-entropy: PyTorch's label_smoothing.
  double labelSmoothing = 0.0;

  /// sgd, adam, adamw or adagrad, with torch.optim's options and defaults.
  std::string optimizer = "sgd";
  /// Unset: 0.001 for adam/adamw, 0.01 otherwise (see learningRateOrDefault).
  std::optional<double> learningRate;
  double momentum = 0.0;
  double dampening = 0.0;
  bool nesterov = false;
  double beta1 = 0.9;
  double beta2 = 0.999;
  /// Unset: 1e-8 for adam/adamw, 1e-10 for adagrad.
  std::optional<double> eps;
  /// Unset: 0.01 for adamw, 0 otherwise.
  std::optional<double> weightDecay;
  bool amsgrad = false;
  double lrDecay = 0.0;

  /// The learning rate: the one set, or the optimizer's default (torch.optim's
  /// for Adam, AdamW and Adagrad; SGD has none in PyTorch, nncc takes 0.01).
  /// nncc's command line and the nn-build-training pass both default here.
  double learningRateOrDefault() const {
    return learningRate.value_or(
        optimizer == "adam" || optimizer == "adamw" ? 0.001 : 0.01);
  }

  /// The @forward result the loss is computed on: by name when
  /// `lossOutputName` is set, else by index.
  unsigned lossOutput = 0;
  std::string lossOutputName;
  /// Parameters (by name) that stay fixed: no gradient, no update.
  std::vector<std::string> frozen;
};

/// The names of the optimizer state tensors kept per parameter, as
/// torch.optim names them (momentum_buffer, exp_avg, ...).
llvm::SmallVector<llvm::StringRef> optimizerStateNames(
    const TrainingOptions &options);

/// Makes `func` behave as inference: each nn.training_select becomes its
/// inference value and nn.running_update ops go (nn-specialize-inference).
void specializeForInference(mlir::func::FuncOp func);

/// Builds @train_step from @forward in `module` (see nn-build-training).
mlir::LogicalResult buildTrainStep(mlir::ModuleOp module,
                                   const TrainingOptions &options);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_TRANSFORMS_TRAINING_H
