//===- LibraryEmitter.h - LLVM IR, objects and shared libraries -*- C++ -*-===//
//
// The back end of nncc: from the LLVM-dialect module of the kernels to one
// LLVM module with the runtime support and the model's metadata, then to an
// object file and, with LLD in-process, to a shared library.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_TARGET_LIBRARYEMITTER_H
#define NNCC_TARGET_LIBRARYEMITTER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace nncc {

struct ModelInterface;

struct CodegenOptions {
  /// Every exported symbol starts with `prefix` + "_".
  std::string prefix = "nncc";
  /// 0 to 3, for both the LLVM IR pipeline and the code generator.
  unsigned optLevel = 3;
  /// "native" for the host CPU, or an LLVM CPU name.
  std::string targetCPU = "native";
  /// The floats per vector of the runtime's GEMM micro-kernel: 8 or 16, or
  /// 0 to choose from the target (16 with AVX-512). Tests force 16 to run
  /// the AVX-512 kernel's code, split into 8-float halves, on AVX2 CPUs.
  int gemmVectorFloats = 0;
  /// Time every kernel by kind (--profile): the library links the profiling
  /// runtime and exports its `<prefix>_profile_*` functions.
  bool profile = false;
  /// --distributed=mpi: the library links MPI's collective engine and libmpi.
  bool distributedMPI = false;
};

/// The target machine for the host's triple and `options.targetCPU`, or null
/// with `error` set.
std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const CodegenOptions &options, std::string &error);

/// Translates `kernels` (the LLVM-dialect module with `forward` and, unless
/// for inference, `train_step`), adds the metadata of `iface` and the runtime
/// support, gives the API functions their prefix, internalizes everything
/// else and optimizes. Returns null with `error` set on failure.
std::unique_ptr<llvm::Module>
buildLibraryModule(mlir::ModuleOp kernels, const ModelInterface &iface,
                   const CodegenOptions &options, llvm::TargetMachine &target,
                   llvm::LLVMContext &context, std::string &error);

/// Writes `module` as an ELF object file to `path`.
bool writeObjectFile(llvm::Module &module, llvm::TargetMachine &target,
                     llvm::StringRef path, std::string &error);

/// Links `objects` into the shared library `output` named `soname` with LLD,
/// in process, against the C and math libraries only, and with `mpi` the
/// libmpi that nncc was built with.
bool linkSharedLibrary(llvm::ArrayRef<std::string> objects,
                       llvm::StringRef output, llvm::StringRef soname,
                       bool mpi, std::string &error);

} // namespace nncc

#endif // NNCC_TARGET_LIBRARYEMITTER_H
