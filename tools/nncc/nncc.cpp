//===- nncc.cpp - The nncc compiler driver -------------------------------===//
//
// `nncc MODEL -o OUTPUT [options]`: parses and checks the options of ABI.md,
// then calls the compiler library. Exit status 0 on success, 1 on anything
// the user can fix, with a one-line diagnostic.
//
//===----------------------------------------------------------------------===//

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Pipeline/Compiler.h"
#include "nncc/Pipeline/Diagnostics.h"
#include "nncc/Pipeline/Pipelines.h"
#include "nncc/Runtime/Gemm.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "nncc/Conversion/Passes.h"
#include "nncc/Dialect/NN/Transforms/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

static cl::OptionCategory category("nncc options");

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
static cl::opt<std::string>
    loss("loss",
         cl::desc("Loss on the model's output: mse|cross-entropy|bce|none"),
         cl::init("mse"), cl::cat(category));
static cl::opt<std::string>
    lossOutput("loss-output",
               cl::desc("Name of the output the loss applies to (default: "
                        "the first)"),
               cl::value_desc("NAME"), cl::cat(category));
static cl::opt<std::string>
    ignoreIndex("ignore-index",
                cl::desc("cross-entropy: target class left out of the mean "
                         "(default -100)"),
                cl::value_desc("N"), cl::cat(category));
static cl::opt<std::string>
    labelSmoothing("label-smoothing",
                   cl::desc("cross-entropy: label smoothing in [0, 1]"),
                   cl::value_desc("F"), cl::cat(category));
static cl::opt<std::string>
    optimizer("optimizer", cl::desc("Optimizer: sgd|adam|adamw|adagrad"),
              cl::init("sgd"), cl::cat(category));
static cl::opt<std::string>
    learningRate("lr",
                 cl::desc("Learning rate (default 0.01, 0.001 for adam/adamw)"),
                 cl::value_desc("F"), cl::cat(category));
static cl::opt<std::string> momentum("momentum", cl::desc("SGD momentum"),
                                     cl::value_desc("F"), cl::cat(category));
static cl::opt<std::string> dampening("dampening", cl::desc("SGD dampening"),
                                      cl::value_desc("F"), cl::cat(category));
static cl::opt<bool> nesterov("nesterov", cl::desc("SGD Nesterov momentum"),
                              cl::cat(category));
static cl::opt<std::string> beta1("beta1", cl::desc("Adam/AdamW beta1 (0.9)"),
                                  cl::value_desc("F"), cl::cat(category));
static cl::opt<std::string> beta2("beta2", cl::desc("Adam/AdamW beta2 (0.999)"),
                                  cl::value_desc("F"), cl::cat(category));
static cl::opt<std::string>
    eps("eps", cl::desc("Adam/AdamW epsilon (1e-8), Adagrad's (1e-10)"),
        cl::value_desc("F"), cl::cat(category));
static cl::opt<std::string>
    weightDecay("weight-decay",
                cl::desc("L2 for sgd/adam/adagrad, decoupled for adamw "
                         "(default 0, 0.01 for adamw)"),
                cl::value_desc("F"), cl::cat(category));
static cl::opt<bool> amsgrad("amsgrad", cl::desc("Adam/AdamW AMSGrad"),
                             cl::cat(category));
static cl::list<std::string> freeze("freeze",
                                    cl::desc("Initializers that stay fixed"),
                                    cl::value_desc("NAME[,NAME...]"),
                                    cl::CommaSeparated, cl::cat(category));
static cl::opt<std::string> lrDecay("lr-decay",
                                    cl::desc("Adagrad learning-rate decay"),
                                    cl::value_desc("F"), cl::cat(category));
static cl::opt<std::string>
    batch("batch",
          cl::desc("Binds the symbolic batch dimension of the data inputs"),
          cl::value_desc("N"), cl::cat(category));
static cl::opt<std::string> prefix("prefix",
                                   cl::desc("Prefix of every exported symbol"),
                                   cl::init("nncc"), cl::cat(category));
static cl::opt<std::string>
    optLevel("O", cl::desc("Optimization level 0-3 (default 3)"), cl::Prefix,
             cl::init("3"), cl::cat(category));
static cl::opt<std::string> targetCPU("target-cpu",
                                      cl::desc("native or an LLVM CPU name"),
                                      cl::init("native"), cl::cat(category));
static cl::opt<int> gemmVectorFloats(
    "gemm-vector-floats",
    cl::desc("Floats per vector of the GEMM micro-kernel: 8, 16, or 0 for "
             "the target's (tests)"),
    cl::init(0), cl::Hidden, cl::cat(category));
static cl::opt<uint64_t>
    maxModelBytes("max-model-bytes",
                  cl::desc("Largest model file read (default 2 GiB)"),
                  cl::init(uint64_t(2) << 30), cl::cat(category));
static cl::opt<int64_t> maxRank("max-rank",
                                cl::desc("Largest tensor rank (default 8)"),
                                cl::init(8), cl::cat(category));
static cl::opt<int64_t>
    maxElements("max-elements",
                cl::desc("Most elements in one tensor (default 2^32)"),
                cl::init(int64_t(1) << 32), cl::cat(category));
static cl::opt<bool> checkFinite(
    "check-finite",
    cl::desc("Skip, and report, a step whose loss or gradients are not finite"),
    cl::cat(category));
static cl::opt<bool> profile(
    "profile",
    cl::desc("Time the library's kernels by kind (conv, gemm, pooling, ...); "
             "the library exports <prefix>_profile_* to read the times"),
    cl::cat(category));
// LLVM owns the option name "stats" (its pass statistics), so main takes
// --stats out of the arguments before the command line is parsed.
static bool stats = false;
// The same for "threads" (LLVM's own thread count option).
static std::string threads = "1";
static cl::extrahelp threadsHelp(
    "  --threads=<N>            - Threads the library's kernels run on "
    "(default 1)\n");
static cl::extrahelp statsHelp(
    "  --stats                  - Print one line of ops, kernels, memory and "
    "flops per generated function\n");
static cl::opt<bool>
    inference("inference",
              cl::desc("No loss and no optimizer: only nncc_forward works"),
              cl::cat(category));

static void error(const Twine &message) {
  errs() << "nncc: error: " << message << "\n";
}

/// Parses all of `text` as a number, or fails.
template <typename T> static bool parseNumber(StringRef text, T &value) {
  if constexpr (std::is_floating_point_v<T>) {
    return !text.getAsDouble(value) && std::isfinite(value);
  } else {
    return !text.getAsInteger(10, value);
  }
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

  nncc::nn::TrainingOptions &training = options.training;
  training.loss = loss;
  training.optimizer = optimizer;
  bool adam = optimizer == "adam" || optimizer == "adamw";
  training.learningRate = adam ? 0.001 : 0.01;
  // Every number parses completely and is finite; ranges are checked with
  // the training options (nn-build-training), as torch.optim checks them.
  auto number = [](const cl::opt<std::string> &opt, double &value) {
    if (opt.empty())
      return true;
    if (parseNumber(StringRef(opt), value))
      return true;
    error("invalid --" + opt.ArgStr + " '" + opt + "' (expected a number)");
    return false;
  };
  double eps = -1, weightDecay = -1;
  if (!number(learningRate, training.learningRate) ||
      !number(momentum, training.momentum) ||
      !number(dampening, training.dampening) ||
      !number(beta1, training.beta1) || !number(beta2, training.beta2) ||
      !number(::eps, eps) || !number(::weightDecay, weightDecay) ||
      !number(lrDecay, training.lrDecay) ||
      !number(labelSmoothing, training.labelSmoothing))
    return false;
  if (!::eps.empty())
    training.eps = eps;
  if (!::weightDecay.empty())
    training.weightDecay = weightDecay;
  if (!ignoreIndex.empty()) {
    int64_t index = 0;
    if (!parseNumber(StringRef(ignoreIndex), index)) {
      error("invalid --ignore-index '" + ignoreIndex +
            "' (expected an integer)");
      return false;
    }
    training.ignoreIndex = index;
  }
  training.frozen.assign(freeze.begin(), freeze.end());
  training.nesterov = nesterov;
  training.amsgrad = amsgrad;
  if (!batch.empty()) {
    int64_t n = 0;
    if (!parseNumber(StringRef(batch), n) || n <= 0) {
      error("invalid --batch '" + batch + "' (expected an integer > 0)");
      return false;
    }
    options.import.batchSize = n;
  }
  unsigned level = 0;
  if (!parseNumber(StringRef(optLevel), level) || level > 3) {
    error("invalid optimization level -O" + optLevel + " (expected 0 to 3)");
    return false;
  }
  options.codegen.optLevel = level;
  int threadCount = 0;
  if (!parseNumber(StringRef(threads), threadCount) || threadCount < 1 ||
      threadCount > NNCC_MAX_THREADS) {
    error("invalid --threads '" + threads + "' (expected 1 to " +
          Twine(NNCC_MAX_THREADS) + ")");
    return false;
  }
  options.threads = threadCount;
  options.codegen.prefix = prefix;
  options.codegen.targetCPU = targetCPU;
  if (gemmVectorFloats != 0 && gemmVectorFloats != 8 &&
      gemmVectorFloats != 16) {
    error("invalid --gemm-vector-floats '" + Twine(gemmVectorFloats) +
          "' (expected 8 or 16)");
    return false;
  }
  options.codegen.gemmVectorFloats = gemmVectorFloats;
  if (maxRank <= 0 || maxElements <= 0 || maxModelBytes == 0) {
    error("the limits --max-rank, --max-elements and --max-model-bytes must "
          "be positive");
    return false;
  }
  options.import.maxModelBytes = maxModelBytes;
  options.import.maxRank = maxRank;
  options.import.maxElements = maxElements;
  options.inference = inference;
  options.checkFinite = checkFinite;
  options.codegen.profile = profile;
  options.stats = stats;
  if (!lossOutput.empty())
    training.lossOutputName = lossOutput;
  return true;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "nncc " << NNCC_VERSION << " (LLVM " << LLVM_VERSION_STRING << ")\n";
  });
  SmallVector<const char *> args;
  for (int i = 0; i < argc; ++i) {
    StringRef arg = argv[i];
    if (i > 0 && (arg == "--stats" || arg == "-stats")) {
      stats = true;
    } else if (i > 0 &&
               (arg.consume_front("--threads") ||
                arg.consume_front("-threads")) &&
               (arg.empty() || arg.starts_with("="))) {
      if (arg.consume_front("=")) {
        threads = arg.str();
      } else if (i + 1 < argc) {
        threads = argv[++i];
      } else {
        error("--threads needs a value");
        return 1;
      }
    } else {
      args.push_back(argv[i]);
    }
  }
  cl::ParseCommandLineOptions(
      static_cast<int>(args.size()), args.data(),
      "nncc: compiles an ONNX model into a native library that trains it\n\n"
      "  nncc MODEL -o OUTPUT [options]\n");

  nncc::CompilerOptions options;
  if (!parseOptions(options))
    return 1;

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<nncc::nn::NNDialect>();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::registerAllPasses();
  nncc::nn::registerNNPasses();
  nncc::registerNNCCConversionPasses();

  nncc::ModelDiagnosticHandler handler(context, errs());
  return failed(nncc::compile(context, options)) ? 1 : 0;
}
