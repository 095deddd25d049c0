//===- Export.cpp - A trained checkpoint back into the ONNX model --------===//
//
// The checkpoint is read as nncc_load reads it (docs/abi.md, "Checkpoints"):
// the same checks, in the same order, against the interface the library
// was compiled with, rebuilt from the model and the options.
//
//===----------------------------------------------------------------------===//

#include "nncc/Pipeline/Export.h"

#include "nncc/Import/ONNX/ONNXLoader.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace nncc;

namespace {
/// The layout of a checkpoint (docs/abi.md): six little-endian words, the
/// parameters, the optimizer state, a checksum.
constexpr uint64_t kHeaderWords = 6, kHeaderBytes = kHeaderWords * 8;
constexpr uint64_t kVersion = 1;
constexpr char kMagic[8] = {'N', 'N', 'C', 'C', 'C', 'K', 'P', 'T'};

uint64_t fnv1a(llvm::StringRef bytes) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001B3ull;
  }
  return hash;
}

int32_t onnxType(DType type) { return static_cast<int32_t>(type); }
} // namespace

/// The parameter bytes of `checkpoint`, checked as nncc_load checks them.
static FailureOr<llvm::StringRef>
checkCheckpoint(Location loc, llvm::StringRef data, const ModelInterface &iface,
                uint64_t paramBytes, uint64_t stateBytes) {
  auto word = [&](int i) {
    return llvm::support::endian::read64le(data.data() + 8 * i);
  };
  if (data.size() < kHeaderBytes || !data.starts_with({kMagic, 8}))
    return emitError(loc) << "not an nncc checkpoint (no NNCCCKPT header)";
  if (word(1) != kVersion)
    return emitError(loc) << "checkpoint format version " << word(1)
                          << ", this nncc reads version " << kVersion;
  // Parameters of another size are another model's; the same size with
  // another fingerprint is most likely other options (the optimizer's
  // states, which parameters are frozen).
  if (word(4) != paramBytes)
    return emitError(loc) << "a checkpoint of another model: its parameters "
                             "take "
                          << word(4) << " bytes, this model's " << paramBytes;
  if (word(2) != iface.fingerprint() || word(5) != stateBytes)
    return emitError(loc)
           << "not a checkpoint of this model compiled with these options "
              "(its parameters, optimizer states or optimizer differ): give "
              "nncc-export the options nncc was given (--optimizer, "
              "--momentum, --amsgrad, --freeze)";
  uint64_t expected = kHeaderBytes + paramBytes + stateBytes + 8;
  if (data.size() != expected)
    return emitError(loc) << "the checkpoint is " << data.size()
                          << " bytes, expected " << expected << " ("
                          << (data.size() < expected ? "truncated" : "extended")
                          << ")";
  if (fnv1a(data.drop_back(8)) !=
          llvm::support::endian::read64le(data.data() + expected - 8) ||
      static_cast<int64_t>(word(3)) < 0)
    return emitError(loc) << "the checkpoint is corrupted (checksum mismatch)";
  return data.substr(kHeaderBytes, paramBytes);
}

/// Sets `tensor` to `bytes`, a little-endian array of its type, as raw data.
static void replaceData(onnx::TensorProto &tensor, llvm::StringRef bytes) {
  tensor.clear_float_data();
  tensor.clear_int32_data();
  tensor.clear_int64_data();
  tensor.clear_double_data();
  tensor.clear_uint64_data();
  tensor.clear_external_data();
  tensor.set_data_location(onnx::TensorProto::DEFAULT);
  tensor.set_raw_data(bytes.str());
}

LogicalResult nncc::exportTrainedModel(MLIRContext &context,
                                       const CompilerOptions &compile,
                                       llvm::StringRef checkpoint,
                                       llvm::StringRef output) {
  Location modelLoc = FileLineColLoc::get(&context, compile.input, 0, 0);
  Location checkpointLoc = FileLineColLoc::get(&context, checkpoint, 0, 0);
  Location outputLoc = FileLineColLoc::get(&context, output, 0, 0);

  FailureOr<ModelInterface> iface = readLibraryInterface(context, compile);
  if (failed(iface))
    return failure();
  std::vector<uint64_t> offsets;
  uint64_t paramBytes = layOutTensors(iface->params, &offsets);
  uint64_t stateBytes = layOutTensors(iface->states, nullptr);

  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(checkpoint, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return emitError(checkpointLoc)
           << "cannot read the checkpoint: " << file.getError().message();
  FailureOr<llvm::StringRef> params = checkCheckpoint(
      checkpointLoc, (*file)->getBuffer(), *iface, paramBytes, stateBytes);
  if (failed(params))
    return failure();

  // The model as its file has it: not upgraded, names and order kept.
  onnx::ModelProto model;
  std::string error;
  if (!readONNXModel(compile.input, model, error, compile.import.maxModelBytes))
    return emitError(modelLoc) << error;
  llvm::StringMap<onnx::TensorProto *> initializers;
  for (onnx::TensorProto &tensor :
       *model.mutable_graph()->mutable_initializer())
    initializers[tensor.name()] = &tensor;
  for (auto [spec, offset] : llvm::zip(iface->params, offsets)) {
    onnx::TensorProto *tensor = initializers.lookup(spec.name);
    if (!tensor)
      return emitError(modelLoc) << "the library's parameter '" << spec.name
                                 << "' is not an initializer of the model";
    bool sameShape =
        tensor->dims_size() == static_cast<int>(spec.shape.size()) &&
        llvm::equal(tensor->dims(), spec.shape);
    if (tensor->data_type() != onnxType(spec.dtype) || !sameShape)
      return emitError(modelLoc)
             << "initializer '" << spec.name
             << "' differs in type or shape from the library's parameter";
    replaceData(*tensor, params->substr(offset, spec.sizeInBytes()));
  }
  if (!checkONNXModel(model, error))
    return emitError(outputLoc)
           << "the exported model fails the ONNX checker: " << error;
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return emitError(outputLoc) << "cannot serialize the exported model";
  return writeFileAtomically(outputLoc, output,
                             [&](llvm::raw_ostream &os) { os << bytes; });
}
