//===- CommandLine.cpp - nncc's compile options, declared once -----------===//

#include "nncc/Pipeline/CommandLine.h"

#include "nncc/Runtime/Gemm.h"

#include "llvm/Support/ManagedStatic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <type_traits>

using namespace llvm;
using namespace mlir;

namespace {
/// Every compile option, constructed (and so registered) on first use.
struct CompilerCLOptions {
  cl::OptionCategory &category = nncc::compilerOptionCategory();
  cl::opt<std::string> loss{
      "loss",
      cl::desc("Loss on the model's output: mse|cross-entropy|bce|none"),
      cl::init("mse"), cl::cat(category)};
  cl::opt<std::string> lossOutput{
      "loss-output",
      cl::desc("Name of the output the loss applies to (default: "
               "the first)"),
      cl::value_desc("NAME"), cl::cat(category)};
  cl::opt<std::string> ignoreIndex{
      "ignore-index",
      cl::desc("cross-entropy: target class left out of the mean "
               "(default -100)"),
      cl::value_desc("N"), cl::cat(category)};
  cl::opt<std::string> labelSmoothing{
      "label-smoothing", cl::desc("cross-entropy: label smoothing in [0, 1]"),
      cl::value_desc("F"), cl::cat(category)};
  cl::opt<std::string> optimizer{"optimizer",
                                 cl::desc("Optimizer: sgd|adam|adamw|adagrad"),
                                 cl::init("sgd"), cl::cat(category)};
  cl::opt<std::string> learningRate{
      "lr", cl::desc("Learning rate (default 0.01, 0.001 for adam/adamw)"),
      cl::value_desc("F"), cl::cat(category)};
  cl::opt<std::string> momentum{"momentum", cl::desc("SGD momentum"),
                                cl::value_desc("F"), cl::cat(category)};
  cl::opt<std::string> dampening{"dampening", cl::desc("SGD dampening"),
                                 cl::value_desc("F"), cl::cat(category)};
  cl::opt<bool> nesterov{"nesterov", cl::desc("SGD Nesterov momentum"),
                         cl::cat(category)};
  cl::opt<std::string> beta1{"beta1", cl::desc("Adam/AdamW beta1 (0.9)"),
                             cl::value_desc("F"), cl::cat(category)};
  cl::opt<std::string> beta2{"beta2", cl::desc("Adam/AdamW beta2 (0.999)"),
                             cl::value_desc("F"), cl::cat(category)};
  cl::opt<std::string> eps{
      "eps", cl::desc("Adam/AdamW epsilon (1e-8), Adagrad's (1e-10)"),
      cl::value_desc("F"), cl::cat(category)};
  cl::opt<std::string> weightDecay{
      "weight-decay",
      cl::desc("L2 for sgd/adam/adagrad, decoupled for adamw "
               "(default 0, 0.01 for adamw)"),
      cl::value_desc("F"), cl::cat(category)};
  cl::opt<bool> amsgrad{"amsgrad", cl::desc("Adam/AdamW AMSGrad"),
                        cl::cat(category)};
  cl::list<std::string> freeze{
      "freeze", cl::desc("Initializers that stay fixed"),
      cl::value_desc("NAME[,NAME...]"), cl::CommaSeparated, cl::cat(category)};
  cl::opt<std::string> lrDecay{"lr-decay",
                               cl::desc("Adagrad learning-rate decay"),
                               cl::value_desc("F"), cl::cat(category)};
  cl::opt<std::string> batch{
      "batch",
      cl::desc("Binds the symbolic batch dimension of the data inputs"),
      cl::value_desc("N"), cl::cat(category)};
  cl::opt<std::string> prefix{"prefix",
                              cl::desc("Prefix of every exported symbol"),
                              cl::init("nncc"), cl::cat(category)};
  cl::opt<std::string> optLevel{"O",
                                cl::desc("Optimization level 0-3 (default 3)"),
                                cl::Prefix, cl::init("3"), cl::cat(category)};
  cl::opt<std::string> targetCPU{"target-cpu",
                                 cl::desc("native or an LLVM CPU name"),
                                 cl::init("native"), cl::cat(category)};
  cl::opt<int> gemmVectorFloats{
      "gemm-vector-floats",
      cl::desc("Floats per vector of the GEMM micro-kernel: 8, 16, or 0 for "
               "the target's (tests)"),
      cl::init(0), cl::Hidden, cl::cat(category)};
  cl::opt<uint64_t> maxModelBytes{
      "max-model-bytes", cl::desc("Largest model file read (default 2 GiB)"),
      cl::init(uint64_t(2) << 30), cl::cat(category)};
  cl::opt<int64_t> maxRank{"max-rank",
                           cl::desc("Largest tensor rank (default 8)"),
                           cl::init(8), cl::cat(category)};
  cl::opt<int64_t> maxElements{
      "max-elements", cl::desc("Most elements in one tensor (default 2^32)"),
      cl::init(int64_t(1) << 32), cl::cat(category)};
  cl::opt<bool> checkFinite{
      "check-finite",
      cl::desc(
          "Skip, and report, a step whose loss or gradients are not finite"),
      cl::cat(category)};
  cl::opt<std::string> distributed{
      "distributed",
      cl::desc("Data-parallel training on an engine: none (the default; a "
               "program may still plug in its own with <prefix>_set_allreduce) "
               "or mpi (the library links libmpi)"),
      cl::value_desc("none|mpi"), cl::init("none"), cl::cat(category)};
  cl::opt<bool> syncBatchNorm{
      "sync-batch-norm",
      cl::desc("In data-parallel training, batch normalization in training "
               "mode normalizes by the global batch's statistics (summed "
               "across the processes), as torch.nn.SyncBatchNorm"),
      cl::cat(category)};
  cl::opt<bool> profile{
      "profile",
      cl::desc("Time the library's kernels by kind (conv, gemm, pooling, ...); "
               "the library exports <prefix>_profile_* to read the times"),
      cl::cat(category)};
  // LLVM owns the option names "stats" (its pass statistics) and
  // "threads": takeLLVMOwnedOptions takes them out of the arguments.
  bool stats = false;
  std::string threads = "1";
  cl::extrahelp threadsHelp{
      "  --threads=<N>            - Threads the library's kernels run on "
      "(default 1)\n"};
  cl::extrahelp statsHelp{
      "  --stats                  - Print one line of ops, kernels, memory and "
      "flops per generated function\n"};
};
} // namespace

static ManagedStatic<CompilerCLOptions> clOptions;

cl::OptionCategory &nncc::compilerOptionCategory() {
  static cl::OptionCategory category("nncc options");
  return category;
}

void nncc::registerCompilerCLOptions() { *clOptions; }

static void error(StringRef tool, const Twine &message) {
  errs() << tool << ": error: " << message << "\n";
}

/// Parses all of `text` as a number, or fails.
template <typename T> static bool parseNumber(StringRef text, T &value) {
  if constexpr (std::is_floating_point_v<T>) {
    return !text.getAsDouble(value) && std::isfinite(value);
  } else {
    return !text.getAsInteger(10, value);
  }
}

LogicalResult nncc::takeLLVMOwnedOptions(int argc, char **argv,
                                         SmallVectorImpl<const char *> &args,
                                         StringRef tool) {
  CompilerCLOptions &o = *clOptions;
  for (int i = 0; i < argc; ++i) {
    StringRef arg = argv[i];
    if (i > 0 && (arg == "--stats" || arg == "-stats")) {
      o.stats = true;
    } else if (i > 0 &&
               (arg.consume_front("--threads") ||
                arg.consume_front("-threads")) &&
               (arg.empty() || arg.starts_with("="))) {
      if (arg.consume_front("=")) {
        o.threads = arg.str();
      } else if (i + 1 < argc) {
        o.threads = argv[++i];
      } else {
        error(tool, "--threads needs a value");
        return failure();
      }
    } else {
      args.push_back(argv[i]);
    }
  }
  return success();
}

LogicalResult nncc::compilerOptionsFromCL(CompilerOptions &options,
                                          StringRef tool) {
  CompilerCLOptions &o = *clOptions;
  nn::TrainingOptions &training = options.training;
  training.loss = o.loss;
  training.optimizer = o.optimizer;
  // Every number parses completely and is finite; ranges are checked with
  // the training options (nn-build-training), as torch.optim checks them.
  auto number = [&](const cl::opt<std::string> &opt, double &value) {
    if (opt.empty())
      return true;
    if (parseNumber(StringRef(opt), value))
      return true;
    error(tool,
          "invalid --" + opt.ArgStr + " '" + opt + "' (expected a number)");
    return false;
  };
  double learningRate = -1, eps = -1, weightDecay = -1;
  if (!number(o.learningRate, learningRate) ||
      !number(o.momentum, training.momentum) ||
      !number(o.dampening, training.dampening) ||
      !number(o.beta1, training.beta1) || !number(o.beta2, training.beta2) ||
      !number(o.eps, eps) || !number(o.weightDecay, weightDecay) ||
      !number(o.lrDecay, training.lrDecay) ||
      !number(o.labelSmoothing, training.labelSmoothing))
    return failure();
  if (!o.learningRate.empty())
    training.learningRate = learningRate;
  if (!o.eps.empty())
    training.eps = eps;
  if (!o.weightDecay.empty())
    training.weightDecay = weightDecay;
  if (!o.ignoreIndex.empty()) {
    int64_t index = 0;
    if (!parseNumber(StringRef(o.ignoreIndex), index)) {
      error(tool, "invalid --ignore-index '" + o.ignoreIndex +
                      "' (expected an integer)");
      return failure();
    }
    training.ignoreIndex = index;
  }
  training.frozen.assign(o.freeze.begin(), o.freeze.end());
  training.nesterov = o.nesterov;
  training.amsgrad = o.amsgrad;
  if (!o.batch.empty()) {
    int64_t n = 0;
    if (!parseNumber(StringRef(o.batch), n) || n <= 0) {
      error(tool,
            "invalid --batch '" + o.batch + "' (expected an integer > 0)");
      return failure();
    }
    options.import.batchSize = n;
  }
  unsigned level = 0;
  if (!parseNumber(StringRef(o.optLevel), level) || level > 3) {
    error(tool,
          "invalid optimization level -O" + o.optLevel + " (expected 0 to 3)");
    return failure();
  }
  options.codegen.optLevel = level;
  int threadCount = 0;
  if (!parseNumber(StringRef(o.threads), threadCount) || threadCount < 1 ||
      threadCount > NNCC_MAX_THREADS) {
    error(tool, "invalid --threads '" + o.threads + "' (expected 1 to " +
                    Twine(NNCC_MAX_THREADS) + ")");
    return failure();
  }
  options.threads = threadCount;
  options.codegen.prefix = o.prefix;
  options.codegen.targetCPU = o.targetCPU;
  if (o.gemmVectorFloats != 0 && o.gemmVectorFloats != 8 &&
      o.gemmVectorFloats != 16) {
    error(tool, "invalid --gemm-vector-floats '" + Twine(o.gemmVectorFloats) +
                    "' (expected 8 or 16)");
    return failure();
  }
  options.codegen.gemmVectorFloats = o.gemmVectorFloats;
  if (o.maxRank <= 0 || o.maxElements <= 0 || o.maxModelBytes == 0) {
    error(tool,
          "the limits --max-rank, --max-elements and --max-model-bytes must "
          "be positive");
    return failure();
  }
  options.import.maxModelBytes = o.maxModelBytes;
  options.import.maxRank = o.maxRank;
  options.import.maxElements = o.maxElements;
  options.checkFinite = o.checkFinite;
  options.import.syncBatchNorm = o.syncBatchNorm;
  options.codegen.profile = o.profile;
  if (o.distributed != "none" && o.distributed != "mpi") {
    error(tool, "invalid --distributed '" + o.distributed +
                    "' (expected none or mpi)");
    return failure();
  }
  options.codegen.distributedMPI = o.distributed == "mpi";
  options.stats = o.stats;
  if (!o.lossOutput.empty())
    training.lossOutputName = o.lossOutput;
  return success();
}
