//===- nncc-export.cpp - A trained model back to ONNX --------------------===//
//
// `nncc-export MODEL CHECKPOINT -o TRAINED.onnx [nncc's options]`: writes
// MODEL with the parameters that CHECKPOINT (written by nncc_save of the
// library nncc compiled from MODEL with those options) holds. Exit status 0
// on success, 1 with a one-line diagnostic and no output file otherwise.
//
//===----------------------------------------------------------------------===//

#include "nncc/Pipeline/CommandLine.h"
#include "nncc/Pipeline/Diagnostics.h"
#include "nncc/Pipeline/Export.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory &category = nncc::compilerOptionCategory();

static cl::opt<std::string> modelFile(cl::Positional, cl::desc("MODEL"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> checkpointFile(cl::Positional,
                                           cl::desc("CHECKPOINT"), cl::Required,
                                           cl::cat(category));
static cl::opt<std::string> outputFile("o",
                                       cl::desc("The trained model (ONNX)"),
                                       cl::value_desc("OUTPUT"), cl::Required,
                                       cl::cat(category));

static cl::opt<bool>
    evalForm("inference",
             cl::desc("Also put the model in inference form: Dropout "
                      "removed, batch norm on its running statistics"),
             cl::cat(category));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "nncc-export " << NNCC_VERSION << " (LLVM " << LLVM_VERSION_STRING
       << ")\n";
  });
  nncc::registerCompilerCLOptions();
  SmallVector<const char *> args;
  if (failed(nncc::takeLLVMOwnedOptions(argc, argv, args, "nncc-export")))
    return 1;
  cl::ParseCommandLineOptions(
      static_cast<int>(args.size()), args.data(),
      "nncc-export: writes the ONNX model with a checkpoint's trained "
      "parameters\n\n"
      "  nncc-export MODEL CHECKPOINT -o OUTPUT [the options nncc was given]\n"
      "\n"
      "Give it the options nncc was given, but for -o, --emit and nncc's\n"
      "--inference (here --inference asks for the eval form; checkpoints\n"
      "of libraries compiled for inference are not read). Those that shape\n"
      "the checkpoint (--batch for a symbolic batch, --optimizer,\n"
      "--momentum, --amsgrad, --freeze) must be the same; the others have\n"
      "no effect.\n");

  nncc::CompilerOptions options;
  if (failed(nncc::compilerOptionsFromCL(options, "nncc-export")))
    return 1;
  options.input = modelFile;

  mlir::DialectRegistry registry;
  nncc::registerCompilerDialectsAndPasses(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  nncc::ModelDiagnosticHandler handler(context, errs());
  return failed(nncc::exportTrainedModel(context, options, checkpointFile,
                                         outputFile, evalForm))
             ? 1
             : 0;
}
