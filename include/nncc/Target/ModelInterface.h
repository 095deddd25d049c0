//===- ModelInterface.h - What a generated library exposes ------*- C++ -*-===//
//
// The one description of a generated library's interface, read from the nn
// module's function signatures and role attributes. Both the C header and the
// library's metadata tables are written from it, so they cannot disagree.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_TARGET_MODELINTERFACE_H
#define NNCC_TARGET_MODELINTERFACE_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include <string>
#include <vector>

namespace nncc {

/// ONNX TensorProto element type codes, as the ABI uses them.
enum class DType : int32_t { Float = 1, Int32 = 6, Int64 = 7 };

struct TensorSpec {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t> shape;

  int64_t numElements() const;
  uint64_t sizeInBytes() const;
};

/// Parameters and optimizer states are stored one after another, each at a
/// multiple of this many bytes; checkpoints keep the layout (docs/abi.md).
constexpr uint64_t kParamAlignment = 64;

/// Lays `specs` out so: appends each one's offset to `offsets` (if given)
/// and returns the bytes of the whole block, itself a multiple of
/// kParamAlignment.
uint64_t layOutTensors(const std::vector<TensorSpec> &specs,
                       std::vector<uint64_t> *offsets);

struct ModelInterface {
  std::vector<TensorSpec> inputs, targets, outputs, params;
  /// Optimizer state tensors (named PARAM.SLOT), in @train_step's order.
  std::vector<TensorSpec> states;
  /// Whether a training step writes each parameter: trained by the
  /// optimizer, or running statistics (false: frozen).
  std::vector<bool> written;
  /// Whether each parameter is running statistics (batch norm's).
  std::vector<bool> running;
  /// The initial value of each parameter.
  std::vector<mlir::DenseElementsAttr> initialValues;
  int64_t batchSize = 1;
  bool trainable = false;
  float learningRate = 0.0f;
  std::string loss, optimizer;
  /// What the library needs to compute each step's hyperparameters.
  double beta1 = 0.9, beta2 = 0.999, lrDecay = 0.0, weightDecay = 0.0;
  /// For checking cross-entropy targets: classes and the ignored index.
  int64_t numClasses = 0, ignoreIndex = -100;
  /// A hash of everything a checkpoint holds: the names, types and shapes
  /// of the parameters and optimizer states, and the optimizer.
  uint64_t fingerprint() const;

  /// --check-finite: a step whose loss or update is not finite is undone.
  bool checkFinite = false;
  /// Compiled with --profile: the header declares the kernel timers.
  bool profiled = false;
  /// Compiled with --distributed=mpi: the header declares the MPI interface.
  bool distributedMPI = false;
  /// --sync-batch-norm: batch statistics are the global batch's.
  bool syncBatchNorm = false;

  /// The arena one call needs: the larger of forward's and train_step's.
  uint64_t workspaceBytes = 0;

  /// Threads the kernels run on (--threads).
  int32_t threads = 1;
};

/// Reads the interface of `module` (the nn-level module with @forward and,
/// unless built for inference, @train_step). Emits a diagnostic and fails on
/// an element type the ABI cannot describe.
mlir::FailureOr<ModelInterface> readModelInterface(mlir::ModuleOp module);

} // namespace nncc

#endif // NNCC_TARGET_MODELINTERFACE_H
