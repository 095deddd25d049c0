//===- LibraryEmitter.cpp - LLVM IR, objects and shared libraries --------===//
//
// The generated library is one LLVM module: the kernels lowered from MLIR
// (called through `__nncc_<kernel>_packed(void **args)` wrappers), the
// model's metadata tables (`__nncc_*` globals), and the runtime support from
// lib/Runtime, linked from embedded bitcode. Only the runtime's `nncc_*`
// functions stay visible, renamed to the library's prefix.
//
//===----------------------------------------------------------------------===//

#include "nncc/Target/LibraryEmitter.h"

#include "nncc/Target/ModelInterface.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "lld/Common/Driver.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <link.h>

LLD_HAS_DRIVER(elf)

#include "nncc/Runtime/MPIBitcode.inc"
#include "nncc/Runtime/ProfileBitcode.inc"
#include "nncc/Runtime/RuntimeBitcode.inc"

using namespace nncc;

//===----------------------------------------------------------------------===//
// Target machine
//===----------------------------------------------------------------------===//

std::unique_ptr<llvm::TargetMachine>
nncc::createTargetMachine(const CodegenOptions &options, std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = options.targetCPU;
  std::string features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> hostFeatures = llvm::sys::getHostCPUFeatures();
    for (const auto &feature : hostFeatures)
      features += (features.empty() ? "" : ",") +
                  std::string(feature.second ? "+" : "-") +
                  feature.first().str();
  } else {
    // An unknown CPU would silently fall back to a generic one.
    std::unique_ptr<llvm::MCSubtargetInfo> probe(
        target->createMCSubtargetInfo(triple, "", ""));
    if (!probe || !probe->isCPUStringValid(cpu)) {
      error = "unknown target CPU '" + cpu + "'";
      return nullptr;
    }
  }
  llvm::CodeGenOptLevel level;
  switch (options.optLevel) {
  case 0:
    level = llvm::CodeGenOptLevel::None;
    break;
  case 1:
    level = llvm::CodeGenOptLevel::Less;
    break;
  case 2:
    level = llvm::CodeGenOptLevel::Default;
    break;
  default:
    level = llvm::CodeGenOptLevel::Aggressive;
    break;
  }
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      level));
  if (!machine)
    error = "cannot create a target machine for " + triple;
  return machine;
}

//===----------------------------------------------------------------------===//
// Module assembly
//===----------------------------------------------------------------------===//

namespace {
/// Builds the `__nncc_*` globals that the runtime support declares.
class MetadataBuilder {
public:
  MetadataBuilder(llvm::Module &module)
      : module(module), ctx(module.getContext()),
        ptrType(llvm::PointerType::get(ctx, 0)),
        i32(llvm::Type::getInt32Ty(ctx)), i64(llvm::Type::getInt64Ty(ctx)),
        infoType(llvm::StructType::get(ctx, {ptrType, i32, i32, ptrType, i64})) {
  }

  void addConstant(llvm::StringRef name, llvm::Constant *value,
                   unsigned align = 0) {
    auto *global = new llvm::GlobalVariable(
        module, value->getType(), /*isConstant=*/true,
        llvm::GlobalValue::ExternalLinkage, value, name);
    if (align)
      global->setAlignment(llvm::Align(align));
  }

  void addInt32(llvm::StringRef name, int64_t value) {
    addConstant(name, llvm::ConstantInt::get(i32, value));
  }
  void addInt64(llvm::StringRef name, uint64_t value) {
    addConstant(name, llvm::ConstantInt::get(i64, value));
  }
  void addDouble(llvm::StringRef name, double value) {
    addConstant(name,
                llvm::ConstantFP::get(llvm::Type::getDoubleTy(ctx), value));
  }

  /// `name`: an array of nncc_tensor_info, one per spec.
  void addInfos(llvm::StringRef name, const std::vector<TensorSpec> &specs) {
    std::vector<llvm::Constant *> infos;
    for (const TensorSpec &spec : specs) {
      llvm::Constant *str = privateGlobal(
          llvm::ConstantDataArray::getString(ctx, spec.name), "name");
      std::vector<uint64_t> dims(spec.shape.begin(), spec.shape.end());
      llvm::Constant *shape = privateGlobal(
          llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<uint64_t>(dims)),
          "shape");
      infos.push_back(llvm::ConstantStruct::get(
          infoType, {str, llvm::ConstantInt::get(i32, int32_t(spec.dtype)),
                     llvm::ConstantInt::get(i32, spec.shape.size()), shape,
                     llvm::ConstantInt::get(i64, spec.numElements())}));
    }
    addConstant(name, llvm::ConstantArray::get(
                          llvm::ArrayType::get(infoType, infos.size()), infos));
  }

private:
  llvm::Constant *privateGlobal(llvm::Constant *value, llvm::StringRef name) {
    auto *global = new llvm::GlobalVariable(
        module, value->getType(), /*isConstant=*/true,
        llvm::GlobalValue::PrivateLinkage, value, "__nncc_" + name);
    global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return global;
  }

  llvm::Module &module;
  llvm::LLVMContext &ctx;
  llvm::PointerType *ptrType;
  llvm::IntegerType *i32, *i64;
  llvm::StructType *infoType;
};
} // namespace

/// The runtime's `__nncc_*` globals: the model's interface, and the floats
/// per vector of the GEMM micro-kernel for the target.
static void addMetadata(llvm::Module &module, const ModelInterface &iface,
                        int32_t gemmVectorFloats) {
  MetadataBuilder meta(module);
  meta.addInt32("__nncc_num_inputs", iface.inputs.size());
  meta.addInt32("__nncc_num_targets", iface.targets.size());
  meta.addInt32("__nncc_num_outputs", iface.outputs.size());
  meta.addInt32("__nncc_num_params", iface.params.size());
  meta.addInt32("__nncc_num_states", iface.states.size());
  meta.addInfos("__nncc_inputs", iface.inputs);
  meta.addInfos("__nncc_targets", iface.targets);
  meta.addInfos("__nncc_outputs", iface.outputs);
  meta.addInfos("__nncc_params", iface.params);
  meta.addInfos("__nncc_states", iface.states);
  meta.addInt64("__nncc_batch", iface.batchSize);
  meta.addInt64("__nncc_workspace_bytes", iface.workspaceBytes);
  meta.addInt32("__nncc_trainable", iface.trainable ? 1 : 0);
  // The codes of NNCC_LOSS_* and NNCC_OPT_* in the runtime.
  meta.addInt32("__nncc_loss", llvm::StringSwitch<int>(iface.loss)
                                   .Case("cross-entropy", 1)
                                   .Case("bce", 2)
                                   .Case("none", 3)
                                   .Default(0));
  meta.addInt32("__nncc_optimizer", llvm::StringSwitch<int>(iface.optimizer)
                                        .Case("adam", 1)
                                        .Case("adamw", 2)
                                        .Case("adagrad", 3)
                                        .Default(0));
  meta.addDouble("__nncc_beta1", iface.beta1);
  meta.addDouble("__nncc_beta2", iface.beta2);
  meta.addDouble("__nncc_lr_decay", iface.lrDecay);
  meta.addDouble("__nncc_weight_decay", iface.weightDecay);
  meta.addInt64("__nncc_ignore_index", iface.ignoreIndex);
  meta.addInt64("__nncc_num_classes", iface.numClasses);
  meta.addInt64("__nncc_fingerprint", iface.fingerprint());
  meta.addInt32("__nncc_check_finite", iface.checkFinite ? 1 : 0);
  meta.addInt32("__nncc_sync_batch_norm", iface.syncBatchNorm ? 1 : 0);
  meta.addInt32("__nncc_num_threads", iface.threads);
  meta.addInt32("__nncc_gemm_vector_floats", gemmVectorFloats);
  // One int32 flag per parameter (false past the end of `flags`).
  auto addParamFlags = [&](llvm::StringRef name,
                           const std::vector<bool> &flags) {
    std::vector<int32_t> values;
    for (size_t i = 0; i < iface.params.size(); ++i)
      values.push_back(i < flags.size() && flags[i]);
    meta.addConstant(name, llvm::ConstantDataArray::get(
                               module.getContext(),
                               llvm::ArrayRef<int32_t>(values)));
  };
  addParamFlags("__nncc_param_written", iface.written);
  addParamFlags("__nncc_param_running", iface.running);
  meta.addConstant("__nncc_default_lr",
                   llvm::ConstantFP::get(llvm::Type::getFloatTy(
                                             module.getContext()),
                                         iface.learningRate));

  // The initial parameter values, laid out as the model stores them.
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> init;
  for (auto [spec, value] : llvm::zip(iface.params, iface.initialValues)) {
    init.resize(llvm::alignTo(init.size(), kParamAlignment));
    offsets.push_back(init.size());
    llvm::ArrayRef<char> raw = value.getRawData();
    uint64_t bytes = spec.sizeInBytes();
    if (value.isSplat()) {
      for (uint64_t i = 0; i < bytes; i += raw.size())
        init.insert(init.end(), raw.begin(), raw.end());
    } else {
      init.insert(init.end(), raw.begin(), raw.end());
    }
  }
  init.resize(llvm::alignTo(init.size(), kParamAlignment));
  assert(init.size() == layOutTensors(iface.params, nullptr) &&
         "parameters laid out as checkpoints read them");
  llvm::LLVMContext &ctx = module.getContext();

  // Optimizer states start at zero; they only need their layout.
  std::vector<uint64_t> stateOffsets;
  uint64_t stateBytes = layOutTensors(iface.states, &stateOffsets);
  meta.addConstant("__nncc_state_offsets",
                   llvm::ConstantDataArray::get(
                       ctx, llvm::ArrayRef<uint64_t>(stateOffsets)));
  meta.addInt64("__nncc_state_storage_bytes", stateBytes);
  meta.addConstant("__nncc_param_offsets",
                   llvm::ConstantDataArray::get(
                       ctx, llvm::ArrayRef<uint64_t>(offsets)));
  meta.addInt64("__nncc_param_storage_bytes", init.size());
  meta.addConstant("__nncc_param_init",
                   llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<uint8_t>(init)),
                   kParamAlignment);
}

/// Renames kernel `name` and adds `__nncc_<name>_packed(void **args)`, which
/// calls it with args[0..n). Without a kernel (an inference-only library's
/// train_step), the wrapper does nothing: the runtime never calls it then.
/// With `distinctArgs`, the runtime passes buffers that do not overlap (the
/// step writes parameters and state to buffers other than those it reads,
/// see nncc_runtime.c): the kernel's arguments are `noalias`, so that LLVM
/// vectorizes loops that read one and write another.
static bool addPackedWrapper(llvm::Module &module, llvm::StringRef name,
                             size_t expectedArgs, bool distinctArgs,
                             std::string &error) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::PointerType *ptrType = llvm::PointerType::get(ctx, 0);
  auto *wrapperType = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx),
                                              {ptrType}, false);
  llvm::Function *wrapper =
      llvm::Function::Create(wrapperType, llvm::GlobalValue::ExternalLinkage,
                             "__nncc_" + name + "_packed", module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
  llvm::Function *kernel = module.getFunction(name);
  if (!kernel) {
    b.CreateRetVoid();
    return true;
  }
  kernel->setName("__nncc_" + name + "_kernel");
  if (kernel->arg_size() != expectedArgs) {
    error = "internal error: kernel '" + name.str() + "' takes " +
            std::to_string(kernel->arg_size()) + " arguments, the runtime " +
            "passes " + std::to_string(expectedArgs);
    return false;
  }
  if (distinctArgs)
    for (unsigned i = 0; i < kernel->arg_size(); ++i)
      kernel->addParamAttr(i, llvm::Attribute::NoAlias);
  llvm::SmallVector<llvm::Value *> args;
  for (unsigned i = 0; i < kernel->arg_size(); ++i) {
    if (!kernel->getArg(i)->getType()->isPointerTy()) {
      error = "internal error: kernel '" + name.str() + "' argument " +
              std::to_string(i) + " is not a pointer";
      return false;
    }
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptrType, wrapper->getArg(0), i);
    args.push_back(b.CreateLoad(ptrType, slot));
  }
  b.CreateCall(kernel, args);
  b.CreateRetVoid();
  return true;
}

/// Links the embedded bitcode `bitcode` (of `size` bytes, named `name`)
/// into `module`.
static bool linkBitcode(llvm::Module &module, const unsigned char *bitcode,
                        unsigned long size, llvm::StringRef name,
                        std::string &error) {
  llvm::MemoryBufferRef buffer(
      llvm::StringRef(reinterpret_cast<const char *>(bitcode), size), name);
  llvm::Expected<std::unique_ptr<llvm::Module>> runtime =
      llvm::parseBitcodeFile(buffer, module.getContext());
  if (!runtime) {
    error = "internal error: cannot read " + name.str() + ": " +
            llvm::toString(runtime.takeError());
    return false;
  }
  (*runtime)->setTargetTriple(module.getTargetTriple());
  (*runtime)->setDataLayout(module.getDataLayout());
  if (llvm::Linker::linkModules(module, std::move(*runtime))) {
    error = "internal error: cannot link " + name.str();
    return false;
  }
  return true;
}

/// The runtime's `nncc_*` definitions become the library's API under
/// `prefix`; every other definition becomes internal.
static void setSymbolVisibility(llvm::Module &module, llvm::StringRef prefix) {
  auto visit = [&](llvm::GlobalValue &value) {
    if (value.isDeclaration())
      return;
    llvm::StringRef name = value.getName();
    if (name.starts_with("nncc_")) {
      value.setName(prefix + name.drop_front(4));
      value.setLinkage(llvm::GlobalValue::ExternalLinkage);
      value.setVisibility(llvm::GlobalValue::DefaultVisibility);
      return;
    }
    value.setLinkage(llvm::GlobalValue::InternalLinkage);
  };
  for (llvm::Function &f : module.functions())
    visit(f);
  for (llvm::GlobalVariable &g : module.globals())
    visit(g);
}

static void optimize(llvm::Module &module, llvm::TargetMachine &target,
                     unsigned optLevel) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = optLevel >= 2;
  tuning.SLPVectorization = optLevel >= 2;
  llvm::PassBuilder pb(&target, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // -O3 differs from -O2 in the code generator only. LLVM's O3 IR pipeline
  // unrolls the kernels' loops twice as far, which doubled the IR and the
  // compile time of the benchmark's transformer (16 s against 7 s) for no
  // measurable speed: the hot loops are the runtime's GEMM, optimized when
  // nncc was built, and vectorized kernels that O2 unrolls enough.
  llvm::OptimizationLevel level = optLevel == 0   ? llvm::OptimizationLevel::O0
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                                  : llvm::OptimizationLevel::O2;
  llvm::ModulePassManager mpm =
      optLevel == 0 ? pb.buildO0DefaultPipeline(level)
                    : pb.buildPerModuleDefaultPipeline(level);
  mpm.run(module, mam);
}

std::unique_ptr<llvm::Module>
nncc::buildLibraryModule(mlir::ModuleOp kernels, const ModelInterface &iface,
                         const CodegenOptions &options,
                         llvm::TargetMachine &target,
                         llvm::LLVMContext &context, std::string &error) {
  mlir::DialectRegistry registry;
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  kernels->getContext()->appendDialectRegistry(registry);
  // The nn.* argument attributes were read into the ModelInterface; LLVM IR
  // has no use for them.
  kernels.walk([](mlir::LLVM::LLVMFuncOp func) {
    func.removeArgAttrsAttr();
    func.removeResAttrsAttr();
  });
  std::unique_ptr<llvm::Module> module =
      mlir::translateModuleToLLVMIR(kernels, context, "nncc_model");
  if (!module) {
    error = "internal error: cannot translate the kernels to LLVM IR";
    return nullptr;
  }
  module->setTargetTriple(target.getTargetTriple().str());
  module->setDataLayout(target.createDataLayout());

  size_t inputs = iface.inputs.size(), targets = iface.targets.size(),
         outputs = iface.outputs.size(), params = iface.params.size(),
         states = iface.states.size(),
         written = llvm::count(iface.written, true);
  // See the kernel argument order in lib/Runtime/nncc_runtime.c.
  // The caller's inputs and outputs of nncc_forward may overlap.
  if (!addPackedWrapper(*module, "forward", inputs + params + outputs + 1,
                        /*distinctArgs=*/false, error) ||
      !addPackedWrapper(*module, "train_step",
                        inputs + targets + 2 + params + states + 1 + written +
                            states + 1,
                        /*distinctArgs=*/true, error))
    return nullptr;
  int vectorFloats = options.gemmVectorFloats;
  if (vectorFloats == 0)
    vectorFloats =
        target.getMCSubtargetInfo()->checkFeatures("+avx512f") ? 16 : 8;
  addMetadata(*module, iface, vectorFloats);
  if (!linkBitcode(*module, kRuntimeBitcode, kRuntimeBitcodeSize,
                   "nncc_runtime.bc", error) ||
      (options.profile &&
       !linkBitcode(*module, kProfileBitcode, kProfileBitcodeSize,
                    "nncc_profile.bc", error)) ||
      (options.distributedMPI &&
       !linkBitcode(*module, kMPIBitcode, kMPIBitcodeSize, "nncc_mpi.bc",
                    error)))
    return nullptr;
  setSymbolVisibility(*module, options.prefix);

  // Kernels carry no CPU attributes of their own: give every function the
  // target's, so inlining across kernels and runtime is allowed.
  for (llvm::Function &f : module->functions()) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", target.getTargetCPU());
    f.addFnAttr("target-features", target.getTargetFeatureString());
  }
  std::string message;
  llvm::raw_string_ostream os(message);
  if (llvm::verifyModule(*module, &os)) {
    error = "internal error: invalid LLVM module: " + message;
    return nullptr;
  }
  optimize(*module, target, options.optLevel);
  return module;
}

//===----------------------------------------------------------------------===//
// Objects and linking
//===----------------------------------------------------------------------===//

bool nncc::writeObjectFile(llvm::Module &module, llvm::TargetMachine &target,
                           llvm::StringRef path, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  llvm::legacy::PassManager pm;
  if (target.addPassesToEmitFile(pm, os, nullptr,
                                 llvm::CodeGenFileType::ObjectFile)) {
    error = "internal error: the target cannot emit object files";
    return false;
  }
  pm.run(module);
  os.close();
  if (os.has_error()) {
    error = "cannot write '" + path.str() + "': " + os.error().message();
    os.clear_error();
    return false;
  }
  return true;
}

/// The paths of the C and math libraries this process itself was loaded
/// with: the ones the generated library will find at run time too.
static int findSystemLibrary(dl_phdr_info *info, size_t, void *data) {
  auto *libs = static_cast<std::pair<std::string, std::string> *>(data);
  llvm::StringRef path = info->dlpi_name ? info->dlpi_name : "";
  llvm::StringRef base = llvm::sys::path::filename(path);
  if (base == "libc.so.6")
    libs->first = path.str();
  else if (base == "libm.so.6")
    libs->second = path.str();
  return 0;
}

bool nncc::linkSharedLibrary(llvm::ArrayRef<std::string> objects,
                             llvm::StringRef output, llvm::StringRef soname,
                             bool mpi, std::string &error) {
  if (mpi && !llvm::sys::fs::exists(NNCC_MPI_LIBRARY)) {
    error = "--distributed=mpi links " NNCC_MPI_LIBRARY
            ", which is missing: install libopenmpi-dev";
    return false;
  }
  std::pair<std::string, std::string> libs;
  dl_iterate_phdr(findSystemLibrary, &libs);
  if (libs.first.empty() || libs.second.empty()) {
    error = "cannot find libc.so.6 and libm.so.6 to link against";
    return false;
  }
  std::string sonameStr = soname.str();
  std::string outputPath = output.str();
  std::vector<const char *> args = {
      "ld.lld",      "-shared",      "--no-undefined", "--as-needed",
      "-z",          "now",          "-z",             "relro",
      "--hash-style=gnu", "--build-id", "-soname",     sonameStr.c_str(),
      "-o",          outputPath.c_str()};
  for (const std::string &object : objects)
    args.push_back(object.c_str());
  args.push_back(libs.first.c_str());
  args.push_back(libs.second.c_str());
  if (mpi)
    args.push_back(NNCC_MPI_LIBRARY);

  std::string messages;
  llvm::raw_string_ostream os(messages);
  lld::Result result =
      lld::lldMain(args, os, os, {{lld::Gnu, &lld::elf::link}});
  if (result.retCode != 0) {
    error = "linking failed: " + messages;
    return false;
  }
  return true;
}
