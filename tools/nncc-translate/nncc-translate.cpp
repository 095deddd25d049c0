//===- nncc-translate.cpp - ONNX to nn MLIR, nn MLIR to C headers --------===//

#include "nncc/Conversion/Passes.h"
#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Passes.h"
#include "nncc/Import/ONNX/ImportONNX.h"
#include "nncc/Pipeline/Compiler.h"
#include "nncc/Pipeline/Diagnostics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

static llvm::cl::opt<int64_t>
    batchSize("batch", llvm::cl::desc("Binds the symbolic batch dimension "
                                      "(--import-onnx)"),
              llvm::cl::init(0));
static llvm::cl::opt<std::string>
    prefix("prefix", llvm::cl::desc("Symbol prefix (--emit-header)"),
           llvm::cl::init("nncc"));

int main(int argc, char **argv) {
  registerAllPasses();
  nncc::nn::registerNNPasses();
  nncc::registerNNCCConversionPasses();

  TranslateToMLIRRegistration importONNX(
      "import-onnx", "ONNX model (binary, text syntax or pbtxt) to nn MLIR",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *context) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        nncc::ImportOptions options;
        if (batchSize.getNumOccurrences())
          options.batchSize = batchSize;
        // One-line diagnostics naming the file and the node, as nncc prints.
        nncc::ModelDiagnosticHandler handler(*context, llvm::errs());
        OwningOpRef<ModuleOp> module = nncc::importONNXBuffer(
            *context, buffer->getBufferIdentifier(), buffer->getBuffer(),
            options);
        return OwningOpRef<Operation *>(module.release());
      });

  TranslateFromMLIRRegistration emitHeader(
      "emit-header", "nn MLIR to the generated library's C header",
      [](Operation *op, llvm::raw_ostream &os) -> LogicalResult {
        auto module = dyn_cast<ModuleOp>(op);
        if (!module)
          return op->emitError("expected a module");
        return nncc::emitHeaderForModule(module, prefix, "the input", os);
      },
      [](DialectRegistry &registry) {
        registerAllDialects(registry);
        registerAllExtensions(registry);
        registry.insert<nncc::nn::NNDialect>();
      });

  return failed(mlirTranslateMain(argc, argv, "nncc translation tool"));
}
