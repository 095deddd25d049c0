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
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"

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
  if (data.size() < expected)
    return emitError(loc) << "the checkpoint is " << data.size()
                          << " bytes, expected " << expected << " (truncated)";
  if (data.size() > expected)
    return emitError(loc) << "the checkpoint is longer than the " << expected
                          << " bytes expected (extended)";
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

/// Rewrites `graph` for inference (see exportTrainedModel): Dropout to
/// Identity, BatchNormalization to its inference form. Fails, naming the
/// node, when something reads an output that the inference form drops.
static LogicalResult toEvalForm(Location loc, onnx::GraphProto &graph,
                                int64_t opset) {
  llvm::StringMap<std::string> dropped; // output name -> its node
  llvm::StringSet<> dropoutOperands;    // ratio and training_mode inputs
  auto nodeName = [](const onnx::NodeProto &node) {
    return node.name().empty() ? node.op_type() : node.name();
  };
  for (onnx::NodeProto &node : *graph.mutable_node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    if (node.op_type() == "Dropout") {
      node.set_op_type("Identity");
      node.clear_attribute();
      for (int i = 1; i < node.input_size(); ++i)
        dropoutOperands.insert(node.input(i));
      node.mutable_input()->DeleteSubrange(1, node.input_size() - 1);
    } else if (node.op_type() == "BatchNormalization") {
      // Opset 14 added training_mode (default 0); before opset 7, is_test
      // (default 0, training) said the same the other way round.
      auto *attrs = node.mutable_attribute();
      for (int i = attrs->size() - 1; i >= 0; --i)
        if (attrs->Get(i).name() == "training_mode" ||
            attrs->Get(i).name() == "is_test")
          attrs->DeleteSubrange(i, 1);
      if (opset < 7) {
        onnx::AttributeProto *isTest = node.add_attribute();
        isTest->set_name("is_test");
        isTest->set_type(onnx::AttributeProto::INT);
        isTest->set_i(1);
      }
    } else {
      continue;
    }
    for (int i = 1; i < node.output_size(); ++i)
      if (!node.output(i).empty())
        dropped[node.output(i)] = nodeName(node);
    node.mutable_output()->DeleteSubrange(1, node.output_size() - 1);
  }
  auto refuse = [&](llvm::StringRef name, llvm::StringRef user) {
    return emitError(loc) << "--inference: '" << name << "', an output of "
                          << dropped.lookup(name) << " in training, is read by "
                          << user << ", and inference does not compute it";
  };
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &input : node.input())
      if (dropped.count(input))
        return refuse(input, "node '" + nodeName(node) + "'");
  for (const onnx::ValueInfoProto &out : graph.output())
    if (dropped.count(out.name()))
      return refuse(out.name(), "the graph's outputs");
  // The Constants that fed only Dropout's ratio and training_mode now feed
  // nothing.
  llvm::StringSet<> used;
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &input : node.input())
      used.insert(input);
  for (const onnx::ValueInfoProto &out : graph.output())
    used.insert(out.name());
  auto *nodes = graph.mutable_node();
  for (int i = nodes->size() - 1; i >= 0; --i) {
    const onnx::NodeProto &node = nodes->Get(i);
    if (node.op_type() == "Constant" && node.output_size() == 1 &&
        dropoutOperands.count(node.output(0)) && !used.count(node.output(0))) {
      dropped[node.output(0)] = nodeName(node);
      nodes->DeleteSubrange(i, 1);
    }
  }
  // Shapes recorded for the dropped values would describe nothing.
  auto *infos = graph.mutable_value_info();
  for (int i = infos->size() - 1; i >= 0; --i)
    if (dropped.count(infos->Get(i).name()))
      infos->DeleteSubrange(i, 1);
  return success();
}

LogicalResult nncc::exportTrainedModel(MLIRContext &context,
                                       const CompilerOptions &compile,
                                       llvm::StringRef checkpoint,
                                       llvm::StringRef output, bool evalForm) {
  Location modelLoc = FileLineColLoc::get(&context, compile.input, 0, 0);
  Location checkpointLoc = FileLineColLoc::get(&context, checkpoint, 0, 0);
  Location outputLoc = FileLineColLoc::get(&context, output, 0, 0);

  FailureOr<ModelInterface> iface = readLibraryInterface(context, compile);
  if (failed(iface))
    return failure();
  std::vector<uint64_t> offsets;
  uint64_t paramBytes = layOutTensors(iface->params, &offsets);
  uint64_t stateBytes = layOutTensors(iface->states, nullptr);

  // As nncc_load: at most one byte more than a checkpoint of this library
  // has, so a huge file (or /dev/zero) is refused, not read.
  std::string data(kHeaderBytes + paramBytes + stateBytes + 8 + 1, '\0');
  llvm::Expected<llvm::sys::fs::file_t> file =
      llvm::sys::fs::openNativeFileForRead(checkpoint);
  if (!file)
    return emitError(checkpointLoc) << "cannot read the checkpoint: "
                                    << llvm::toString(file.takeError());
  size_t got = 0;
  while (got < data.size()) {
    llvm::Expected<size_t> n = llvm::sys::fs::readNativeFile(
        *file,
        llvm::MutableArrayRef<char>(data.data(), data.size()).drop_front(got));
    if (!n) {
      llvm::sys::fs::closeFile(*file);
      return emitError(checkpointLoc)
             << "cannot read the checkpoint: " << llvm::toString(n.takeError());
    }
    if (*n == 0)
      break;
    got += *n;
  }
  llvm::sys::fs::closeFile(*file);
  data.resize(got);
  FailureOr<llvm::StringRef> params =
      checkCheckpoint(checkpointLoc, data, *iface, paramBytes, stateBytes);
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
  int64_t opset = 0;
  for (const onnx::OperatorSetIdProto &id : model.opset_import())
    if (id.domain().empty() || id.domain() == "ai.onnx")
      opset = id.version();
  if (evalForm && failed(toEvalForm(modelLoc, *model.mutable_graph(), opset)))
    return failure();
  if (!checkONNXModel(model, error))
    return emitError(outputLoc)
           << "the exported model fails the ONNX checker: " << error;
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return emitError(outputLoc) << "cannot serialize the exported model";
  return writeFileAtomically(outputLoc, output,
                             [&](llvm::raw_ostream &os) { os << bytes; });
}
