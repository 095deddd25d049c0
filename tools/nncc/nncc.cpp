//===- nncc.cpp - The nncc compiler driver -------------------------------===//
//
// `nncc MODEL -o OUTPUT [options]`: parses and checks the options of ABI.md,
// then calls the compiler library. Exit status 0 on success, 1 on anything
// the user can fix, with a one-line diagnostic.
//
//===----------------------------------------------------------------------===//

#include "nncc/Pipeline/CommandLine.h"
#include "nncc/Pipeline/Compiler.h"
#include "nncc/Pipeline/Diagnostics.h"
#include "nncc/Pipeline/Pipelines.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory &category = nncc::compilerOptionCategory();

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("MODEL"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    outputFile("o",
               cl::desc("Output: .so (and .h beside it), .o, .h, .mlir "
                        "or .ll"),
               cl::value_desc("OUTPUT"), cl::Required, cl::cat(category));
static cl::opt<std::string>
    emit("emit",
         cl::desc("Output kind: so|obj|header|mlir|llvm (default: "
                  "from the output's extension)"),
         cl::value_desc("kind"), cl::cat(category));
static cl::opt<bool>
    inference("inference",
              cl::desc("No loss and no optimizer: only nncc_forward works"),
              cl::cat(category));

static void error(const Twine &message) {
  errs() << "nncc: error: " << message << "\n";
}

static bool parseEmitKind(nncc::EmitKind &kind) {
  StringRef value = emit;
  if (value.empty()) {
    StringRef ext = sys::path::extension(outputFile);
    value = StringSwitch<StringRef>(ext)
                .Case(".so", "so")
                .Case(".o", "obj")
                .Case(".h", "header")
                .Case(".mlir", "mlir")
                .Case(".ll", "llvm")
                .Default("");
    if (value.empty()) {
      error("cannot tell the output kind of '" + outputFile +
            "' from its extension: use --emit=so|obj|header|mlir|llvm");
      return false;
    }
  }
  std::optional<nncc::EmitKind> parsed =
      StringSwitch<std::optional<nncc::EmitKind>>(value)
          .Case("so", nncc::EmitKind::SharedLibrary)
          .Case("obj", nncc::EmitKind::Object)
          .Case("header", nncc::EmitKind::Header)
          .Case("mlir", nncc::EmitKind::MLIR)
          .Case("llvm", nncc::EmitKind::LLVM)
          .Default(std::nullopt);
  if (!parsed) {
    error("invalid --emit '" + value +
          "' (expected so, obj, header, mlir "
          "or llvm)");
    return false;
  }
  kind = *parsed;
  return true;
}

static bool parseOptions(nncc::CompilerOptions &options) {
  options.input = inputFile;
  options.output = outputFile;
  if (!parseEmitKind(options.emit))
    return false;

  options.inference = inference;
  return succeeded(nncc::compilerOptionsFromCL(options, "nncc"));
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "nncc " << NNCC_VERSION << " (LLVM " << LLVM_VERSION_STRING << ")\n";
  });
  nncc::registerCompilerCLOptions();
  SmallVector<const char *> args;
  if (failed(nncc::takeLLVMOwnedOptions(argc, argv, args, "nncc")))
    return 1;
  cl::ParseCommandLineOptions(
      static_cast<int>(args.size()), args.data(),
      "nncc: compiles an ONNX model into a native library that trains it\n\n"
      "  nncc MODEL -o OUTPUT [options]\n");

  nncc::CompilerOptions options;
  if (!parseOptions(options))
    return 1;

  mlir::DialectRegistry registry;
  nncc::registerCompilerDialectsAndPasses(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  nncc::ModelDiagnosticHandler handler(context, errs());
  return failed(nncc::compile(context, options)) ? 1 : 0;
}
