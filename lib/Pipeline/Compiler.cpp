//===- Compiler.cpp - The nncc driver as a library -----------------------===//
//
// Every output is first written to a temporary file beside its final path
// and renamed into place only once everything has succeeded, so a failed
// compilation leaves no output behind, not even a partial one.
//
//===----------------------------------------------------------------------===//

#include "nncc/Pipeline/Compiler.h"

#include "nncc/Conversion/Passes.h"
#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Passes.h"
#include "nncc/Dialect/NN/Transforms/Training.h"
#include "nncc/Pipeline/Pipelines.h"
#include "nncc/Pipeline/Stats.h"
#include "nncc/Target/Header.h"
#include "nncc/Target/ModelInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace nncc;

void nncc::registerCompilerDialectsAndPasses(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<nn::NNDialect>();
  registerAllPasses();
  nn::registerNNPasses();
  registerNNCCConversionPasses();
}

std::string nncc::headerPathFor(llvm::StringRef libraryPath) {
  llvm::SmallString<256> path(libraryPath);
  llvm::sys::path::replace_extension(path, ".h");
  return std::string(path);
}

namespace {
/// Temporary files that become outputs on commit() and vanish otherwise.
class PendingOutputs {
public:
  ~PendingOutputs() {
    for (auto &[temp, final] : files) {
      llvm::sys::fs::remove(temp);
      llvm::sys::DontRemoveFileOnSignal(temp);
    }
  }

  /// A fresh temporary path in the directory of `finalPath`.
  FailureOr<std::string> create(Location loc, llvm::StringRef finalPath) {
    llvm::SmallString<256> model(finalPath);
    model += ".tmp-%%%%%%";
    llvm::SmallString<256> temp;
    int fd;
    if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, temp))
      return emitError(loc)
             << "cannot create '" << finalPath << "': " << ec.message();
    llvm::sys::Process::SafelyCloseFileDescriptor(fd);
    llvm::sys::RemoveFileOnSignal(temp);
    files.push_back({std::string(temp), finalPath.str()});
    return std::string(temp);
  }

  LogicalResult write(Location loc, llvm::StringRef finalPath,
                      llvm::function_ref<void(llvm::raw_ostream &)> body) {
    FailureOr<std::string> temp = create(loc, finalPath);
    if (failed(temp))
      return failure();
    std::error_code ec;
    llvm::raw_fd_ostream os(*temp, ec);
    if (!ec) {
      body(os);
      os.close();
      if (os.has_error()) {
        ec = os.error();
        os.clear_error();
      }
    }
    if (ec)
      return emitError(loc)
             << "cannot write '" << finalPath << "': " << ec.message();
    return success();
  }

  LogicalResult commit(Location loc) {
    for (auto &[temp, final] : files) {
      if (std::error_code ec = llvm::sys::fs::rename(temp, final))
        return emitError(loc)
               << "cannot write '" << final << "': " << ec.message();
      llvm::sys::DontRemoveFileOnSignal(temp);
      temp.clear();
    }
    files.clear();
    return success();
  }

private:
  std::vector<std::pair<std::string, std::string>> files;
};

/// A temporary file outside the output directory, removed when done.
class ScratchFile {
public:
  LogicalResult create(Location loc, llvm::StringRef suffix) {
    llvm::SmallString<256> temp;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("nncc", suffix, temp))
      return emitError(loc)
             << "cannot create a temporary file: " << ec.message();
    path = std::string(temp);
    llvm::sys::RemoveFileOnSignal(path);
    return success();
  }
  ~ScratchFile() {
    if (path.empty())
      return;
    llvm::sys::fs::remove(path);
    llvm::sys::DontRemoveFileOnSignal(path);
  }
  std::string path;
};
} // namespace

static LogicalResult runPipeline(ModuleOp module,
                                 void (*build)(OpPassManager &)) {
  PassManager pm(module.getContext());
  build(pm);
  return pm.run(module);
}

/// The larger arena of the lowered functions (see nn-plan-memory).
static uint64_t workspaceBytes(ModuleOp module) {
  uint64_t bytes = 0;
  module.walk([&](func::FuncOp func) {
    if (auto attr = func->getAttrOfType<IntegerAttr>(nn::kWorkspaceBytesAttr))
      bytes = std::max<uint64_t>(bytes, attr.getInt());
  });
  return bytes;
}

/// The nn-level module of `options.input`: imported, with its training step
/// unless for inference, cleaned up. Null after a diagnostic.
static OwningOpRef<ModuleOp> buildNNModule(MLIRContext &context,
                                           const CompilerOptions &options) {
  OwningOpRef<ModuleOp> module =
      importONNXFile(context, options.input, options.import);
  if (!module)
    return nullptr;
  if (!options.inference &&
      failed(nn::buildTrainStep(*module, options.training)))
    return nullptr;
  if (failed(runPipeline(*module, buildNNOptimizationPipeline)))
    return nullptr;
  return module;
}

FailureOr<ModelInterface>
nncc::readLibraryInterface(MLIRContext &context,
                           const CompilerOptions &options) {
  OwningOpRef<ModuleOp> module = buildNNModule(context, options);
  if (!module)
    return failure();
  return readModelInterface(*module);
}

LogicalResult
nncc::writeFileAtomically(Location loc, llvm::StringRef path,
                          llvm::function_ref<void(llvm::raw_ostream &)> body) {
  PendingOutputs output;
  if (failed(output.write(loc, path, body)))
    return failure();
  return output.commit(loc);
}

LogicalResult nncc::emitHeaderForModule(ModuleOp module, llvm::StringRef prefix,
                                        llvm::StringRef modelName,
                                        llvm::raw_ostream &os) {
  if (!isValidPrefix(prefix))
    return emitError(module.getLoc())
           << "invalid prefix '" << prefix << "': it must be a C identifier";
  FailureOr<ModelInterface> iface = readModelInterface(module);
  if (failed(iface))
    return failure();
  OwningOpRef<ModuleOp> planned = module.clone();
  if (failed(runPipeline(*planned, buildBufferizationPipeline)))
    return failure();
  iface->workspaceBytes = workspaceBytes(*planned);
  emitHeader(*iface, prefix, modelName, os);
  return success();
}

LogicalResult nncc::compile(MLIRContext &context,
                            const CompilerOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, options.input, 0, 0);
  if (!isValidPrefix(options.codegen.prefix))
    return emitError(fileLoc) << "invalid --prefix '" << options.codegen.prefix
                              << "': it must be a C identifier";

  OwningOpRef<ModuleOp> module = buildNNModule(context, options);
  if (!module)
    return failure();
  (*module)->setAttr(nn::kThreadsAttr,
                     Builder(&context).getI32IntegerAttr(options.threads));
  std::vector<FunctionStats> stats;
  if (options.stats)
    stats = collectGraphStats(*module);

  PendingOutputs outputs;
  Location outLoc = FileLineColLoc::get(&context, options.output, 0, 0);
  if (options.emit == EmitKind::MLIR) {
    if (failed(
            outputs.write(outLoc, options.output,
                          [&](llvm::raw_ostream &os) { module->print(os); })))
      return failure();
    return outputs.commit(outLoc);
  }

  FailureOr<ModelInterface> iface = readModelInterface(*module);
  if (failed(iface))
    return failure();
  iface->checkFinite = options.checkFinite;
  iface->profiled = options.codegen.profile;
  iface->distributedMPI = options.codegen.distributedMPI;
  iface->syncBatchNorm = options.import.syncBatchNorm;
  std::string modelName = llvm::sys::path::filename(options.input).str();

  // The header needs the arena size, so it is written after planning. With
  // --profile, each nn op's kind is tagged before and the kernels it became
  // are timed after.
  PassManager planning(&context);
  if (options.codegen.profile)
    planning.addNestedPass<func::FuncOp>(nn::createNNTagKernelKinds());
  buildBufferizationPipeline(planning);
  if (options.codegen.profile)
    planning.addPass(nn::createNNInstrumentKernels());
  if (failed(planning.run(*module)))
    return failure();
  iface->workspaceBytes = workspaceBytes(*module);
  if (options.stats) {
    collectKernelStats(*module, stats);
    printStats(stats, llvm::outs());
  }
  auto writeHeader = [&](llvm::StringRef path) {
    return outputs.write(outLoc, path, [&](llvm::raw_ostream &os) {
      emitHeader(*iface, options.codegen.prefix, modelName, os);
    });
  };
  if (options.emit == EmitKind::Header) {
    if (failed(writeHeader(options.output)))
      return failure();
    return outputs.commit(outLoc);
  }

  if (failed(runPipeline(*module, buildLLVMLoweringPipeline)))
    return failure();
  std::string error;
  std::unique_ptr<llvm::TargetMachine> target =
      createTargetMachine(options.codegen, error);
  if (!target)
    return emitError(fileLoc) << error;
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> library = buildLibraryModule(
      *module, *iface, options.codegen, *target, llvmContext, error);
  if (!library)
    return emitError(fileLoc) << error;

  switch (options.emit) {
  case EmitKind::LLVM:
    if (failed(
            outputs.write(outLoc, options.output, [&](llvm::raw_ostream &os) {
              library->print(os, nullptr);
            })))
      return failure();
    break;
  case EmitKind::Object: {
    FailureOr<std::string> temp = outputs.create(outLoc, options.output);
    if (failed(temp))
      return failure();
    if (!writeObjectFile(*library, *target, *temp, error))
      return emitError(outLoc) << error;
    break;
  }
  case EmitKind::SharedLibrary: {
    ScratchFile object;
    if (failed(object.create(outLoc, "o")))
      return failure();
    if (!writeObjectFile(*library, *target, object.path, error))
      return emitError(outLoc) << error;
    FailureOr<std::string> temp = outputs.create(outLoc, options.output);
    if (failed(temp))
      return failure();
    if (!linkSharedLibrary({object.path}, *temp,
                           llvm::sys::path::filename(options.output),
                           options.codegen.distributedMPI, error))
      return emitError(outLoc) << error;
    if (failed(writeHeader(headerPathFor(options.output))))
      return failure();
    break;
  }
  case EmitKind::Header:
  case EmitKind::MLIR:
    llvm_unreachable("handled above");
  }
  return outputs.commit(outLoc);
}
