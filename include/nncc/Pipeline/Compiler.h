//===- Compiler.h - The nncc driver as a library ----------------*- C++ -*-===//
//
// What `nncc MODEL -o OUTPUT` does, callable from any tool: import, build the
// training step, lower, and write the requested outputs atomically.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_PIPELINE_COMPILER_H
#define NNCC_PIPELINE_COMPILER_H

#include "nncc/Dialect/NN/Transforms/Training.h"
#include "nncc/Import/ONNX/ImportONNX.h"
#include "nncc/Target/LibraryEmitter.h"
#include "nncc/Target/ModelInterface.h"

#include "mlir/IR/Location.h"
#include "mlir/Support/LogicalResult.h"
#include <string>

namespace mlir {
class DialectRegistry;
class MLIRContext;
class ModuleOp;
} // namespace mlir

namespace nncc {

enum class EmitKind { SharedLibrary, Object, Header, MLIR, LLVM };

struct CompilerOptions {
  std::string input;
  std::string output;
  EmitKind emit = EmitKind::SharedLibrary;
  ImportOptions import;
  /// No loss and no optimizer: only the forward function.
  bool inference = false;
  nn::TrainingOptions training;
  /// Steps whose loss or update is not finite are undone (--check-finite).
  bool checkFinite = false;
  /// Print each generated function's costs to stdout (--stats).
  bool stats = false;
  /// Threads the library's kernels run on (--threads).
  int threads = 1;
  CodegenOptions codegen;
};

/// Registers in `registry` the dialects a compile loads, and registers the
/// passes its pipelines name (MLIR's, nn's, the conversions).
void registerCompilerDialectsAndPasses(mlir::DialectRegistry &registry);

/// Compiles `options.input` into `options.output` (and, for a shared library,
/// the header beside it). On failure, diagnostics are on the context and no
/// output file exists.
mlir::LogicalResult compile(mlir::MLIRContext &context,
                            const CompilerOptions &options);

/// The interface of the library that `options` compile `options.input` to
/// (its parameters, optimizer states and fingerprint), without generating
/// code: what reading the library's checkpoints needs.
mlir::FailureOr<ModelInterface>
readLibraryInterface(mlir::MLIRContext &context,
                     const CompilerOptions &options);

/// Writes `path` through a temporary file beside it, renamed into place once
/// `body` wrote everything: on failure the old file, if any, is intact.
mlir::LogicalResult
writeFileAtomically(mlir::Location loc, llvm::StringRef path,
                    llvm::function_ref<void(llvm::raw_ostream &)> body);

/// Writes the C header of the library that `module` (nn-level, with @forward
/// and possibly @train_step) compiles to. Plans memory on a copy to know the
/// arena size.
mlir::LogicalResult emitHeaderForModule(mlir::ModuleOp module,
                                        llvm::StringRef prefix,
                                        llvm::StringRef modelName,
                                        llvm::raw_ostream &os);

/// The header written beside a shared library: OUT.so gives OUT.h.
std::string headerPathFor(llvm::StringRef libraryPath);

} // namespace nncc

#endif // NNCC_PIPELINE_COMPILER_H
