//===- Importer.h - The ONNX importer's internals ---------------*- C++ -*-===//
//
// The Importer class, shared by the files that import groups of ONNX ops:
// ImportONNX.cpp (the model, arithmetic, activations, shapes), ImportTensorOps.cpp
// (indexing, selection, softmax, normalization), ImportWindowOps.cpp
// (convolution, pooling, batch normalization), ImportMathOps.cpp (clamps,
// extrema, masks, tiling, instance normalization) and ImportRecurrentOps.cpp
// (LSTM, GRU, RNN).
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_LIB_IMPORT_ONNX_IMPORTER_H
#define NNCC_LIB_IMPORT_ONNX_IMPORTER_H

#include "nncc/Import/ONNX/ImportONNX.h"
#include "nncc/Import/ONNX/ONNXLoader.h"

#include "nncc/Dialect/NN/IR/NN.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

namespace nncc::onnx_import {

using namespace mlir;

/// Opset versions of the default domain whose semantics nncc implements for
/// every op it imports (older ones are upgraded on loading, ONNXLoader.h).
inline constexpr int64_t kMinOpset = kMinImportedOpset;
/// The domain of ONNX's training operators (Adam, Adagrad, Momentum).
inline constexpr llvm::StringLiteral kTrainingDomain = "ai.onnx.preview.training";
inline constexpr int64_t kMaxOpset = 17;

inline std::string shapeString(ArrayRef<int64_t> shape) {
  return nn::formatShape(shape);
}

inline int64_t product(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Normalizes ONNX axes (negative counts from the end) against `rank`,
/// sorted; fails on an axis out of range or repeated.
FailureOr<SmallVector<int64_t>> normalizeAxes(Location loc, StringRef opName,
                                              ArrayRef<int64_t> axes,
                                              int64_t rank);

/// Reads a node's attributes, rejecting the ones an importer does not know.
class NodeAttributes {
public:
  NodeAttributes(const onnx::NodeProto &node) {
    for (const onnx::AttributeProto &attr : node.attribute())
      byName[attr.name()] = &attr;
  }

  /// Fails on the first attribute not in `known`.
  LogicalResult checkKnown(Location loc, const onnx::NodeProto &node,
                           ArrayRef<StringRef> known) const {
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (!llvm::is_contained(known, StringRef(attr.name())))
        return emitError(loc) << "unsupported attribute '" << attr.name()
                              << "' on " << node.op_type();
    }
    return success();
  }

  FailureOr<int64_t> getInt(Location loc, StringRef name,
                            int64_t defaultValue) const {
    const onnx::AttributeProto *attr = byName.lookup(name);
    if (!attr)
      return defaultValue;
    if (attr->type() != onnx::AttributeProto::INT)
      return emitError(loc) << "attribute '" << name << "' must be an int";
    return attr->i();
  }

  FailureOr<float> getFloat(Location loc, StringRef name,
                            float defaultValue) const {
    const onnx::AttributeProto *attr = byName.lookup(name);
    if (!attr)
      return defaultValue;
    if (attr->type() != onnx::AttributeProto::FLOAT)
      return emitError(loc) << "attribute '" << name << "' must be a float";
    return attr->f();
  }

  FailureOr<bool> getFlag(Location loc, StringRef name) const {
    FailureOr<int64_t> value = getInt(loc, name, 0);
    if (failed(value))
      return failure();
    if (*value != 0 && *value != 1)
      return emitError(loc) << "attribute '" << name << "' must be 0 or 1, got "
                            << *value;
    return *value == 1;
  }

  /// A list of ints, or nothing when the attribute is absent.
  FailureOr<std::optional<SmallVector<int64_t>>>
  getInts(Location loc, StringRef name) const {
    const onnx::AttributeProto *attr = byName.lookup(name);
    if (!attr)
      return std::optional<SmallVector<int64_t>>();
    if (attr->type() != onnx::AttributeProto::INTS)
      return emitError(loc) << "attribute '" << name
                            << "' must be a list of ints";
    return std::optional<SmallVector<int64_t>>(
        SmallVector<int64_t>(attr->ints().begin(), attr->ints().end()));
  }

  FailureOr<std::string> getString(Location loc, StringRef name,
                                   StringRef defaultValue) const {
    const onnx::AttributeProto *attr = byName.lookup(name);
    if (!attr)
      return defaultValue.str();
    if (attr->type() != onnx::AttributeProto::STRING)
      return emitError(loc) << "attribute '" << name << "' must be a string";
    return attr->s();
  }

  const onnx::AttributeProto *lookup(StringRef name) const {
    return byName.lookup(name);
  }

private:
  llvm::StringMap<const onnx::AttributeProto *> byName;
};

class Importer {
public:
  Importer(MLIRContext &context, const onnx::ModelProto &model,
           StringRef fileName, const ImportOptions &options)
      : model(model), graph(model.graph()),
        options(options), builder(&context),
        fileLoc(FileLineColLoc::get(&context, fileName, 0, 0)) {}

  OwningOpRef<ModuleOp> run();

private:
  using NodeImporter = LogicalResult (Importer::*)(const onnx::NodeProto &,
                                                   Location);

  LogicalResult checkModel();
  LogicalResult collectInitializers();
  LogicalResult importInputs(SmallVectorImpl<Type> &argTypes,
                             SmallVectorImpl<DictionaryAttr> &argAttrs);
  LogicalResult importNode(const onnx::NodeProto &node, unsigned index);
  LogicalResult importOutputs(SmallVectorImpl<Value> &results,
                              SmallVectorImpl<DictionaryAttr> &resultAttrs);

  // One importer per ONNX op.
  LogicalResult importGemm(const onnx::NodeProto &node, Location loc);
  LogicalResult importMatMul(const onnx::NodeProto &node, Location loc);
  template <typename OpT>
  LogicalResult importBinary(const onnx::NodeProto &node, Location loc);
  template <typename OpT>
  LogicalResult importUnary(const onnx::NodeProto &node, Location loc);
  LogicalResult importIdentity(const onnx::NodeProto &node, Location loc);
  LogicalResult importTranspose(const onnx::NodeProto &node, Location loc);
  LogicalResult importReshape(const onnx::NodeProto &node, Location loc);
  LogicalResult importFlatten(const onnx::NodeProto &node, Location loc);
  template <typename OpT>
  LogicalResult importAlphaActivation(const onnx::NodeProto &node,
                                      Location loc);
  LogicalResult importConstant(const onnx::NodeProto &node, Location loc);

  // ImportTensorOps.cpp: indexing, selection, softmax, normalization.
  LogicalResult importReduce(const onnx::NodeProto &node, Location loc);
  LogicalResult importSoftmax(const onnx::NodeProto &node, Location loc);
  LogicalResult importLayerNorm(const onnx::NodeProto &node, Location loc);
  LogicalResult importSqueeze(const onnx::NodeProto &node, Location loc);
  LogicalResult importUnsqueeze(const onnx::NodeProto &node, Location loc);
  LogicalResult importExpand(const onnx::NodeProto &node, Location loc);
  LogicalResult importConcat(const onnx::NodeProto &node, Location loc);
  LogicalResult importSplit(const onnx::NodeProto &node, Location loc);
  LogicalResult importSlice(const onnx::NodeProto &node, Location loc);
  LogicalResult importGather(const onnx::NodeProto &node, Location loc);
  LogicalResult importWhere(const onnx::NodeProto &node, Location loc);
  LogicalResult importEqual(const onnx::NodeProto &node, Location loc);
  LogicalResult importCast(const onnx::NodeProto &node, Location loc);
  LogicalResult importShape(const onnx::NodeProto &node, Location loc);
  LogicalResult importConstantOfShape(const onnx::NodeProto &node,
                                      Location loc);
  LogicalResult importTrilu(const onnx::NodeProto &node, Location loc);
  LogicalResult importDropout(const onnx::NodeProto &node, Location loc);
  LogicalResult importPad(const onnx::NodeProto &node, Location loc);
  LogicalResult importRange(const onnx::NodeProto &node, Location loc);

  // ImportWindowOps.cpp: convolution, pooling, batch normalization.
  LogicalResult importConv(const onnx::NodeProto &node, Location loc);
  LogicalResult importPool(const onnx::NodeProto &node, Location loc);
  LogicalResult importGlobalAveragePool(const onnx::NodeProto &node,
                                        Location loc);
  LogicalResult importBatchNorm(const onnx::NodeProto &node, Location loc);

  LogicalResult importInstanceNorm(const onnx::NodeProto &node,
                                   Location loc);
  // ImportMathOps.cpp
  LogicalResult importClip(const onnx::NodeProto &node, Location loc);
  LogicalResult importHardSigmoid(const onnx::NodeProto &node, Location loc);
  LogicalResult importHardSwish(const onnx::NodeProto &node, Location loc);
  LogicalResult importSelu(const onnx::NodeProto &node, Location loc);
  LogicalResult importPRelu(const onnx::NodeProto &node, Location loc);
  /// Max, Min, Sum and Mean of one or more operands.
  LogicalResult importVariadic(const onnx::NodeProto &node, Location loc);
  LogicalResult importCompare(const onnx::NodeProto &node, Location loc);
  /// And, Or, Xor and Not.
  LogicalResult importLogic(const onnx::NodeProto &node, Location loc);
  LogicalResult importTile(const onnx::NodeProto &node, Location loc);
  // ImportRecurrentOps.cpp: LSTM, GRU and RNN, unrolled over time.
  LogicalResult importRecurrent(const onnx::NodeProto &node, Location loc);

  /// Integer arithmetic of shape computations (`opType` Add, Sub, Mul, Div,
  /// Max or Min), folded at import time.
  FailureOr<Value> foldIntegerBinary(const onnx::NodeProto &node, Location loc,
                                     StringRef opType, Value lhs, Value rhs);
  /// `(x - mean) / sqrt(var + epsilon)` over `axes`; the mean and the
  /// inverse deviation, with those axes kept as 1s, when asked for.
  Value normalizeOver(Location loc, Value x, ArrayRef<int64_t> axes,
                      float epsilon, Value *mean = nullptr,
                      Value *inverseStd = nullptr);
  template <typename OpT>
  LogicalResult importTrainingOp(const onnx::NodeProto &node, Location loc);

  // Helpers.
  /// The MLIR element type of ONNX type `onnxType`, or an error that says
  /// `what` has it and what to do instead.
  FailureOr<Type> elementType(int32_t onnxType, Location loc,
                              const Twine &what);
  FailureOr<DenseElementsAttr> tensorAttr(const onnx::TensorProto &tensor,
                                          Location loc);
  FailureOr<Value> lookup(const std::string &name, Location loc);
  FailureOr<SmallVector<int64_t>> constantInts(const onnx::NodeProto &node,
                                               int index, Location loc);
  FailureOr<Value> floatOperand(const onnx::NodeProto &node, int index,
                                Location loc);
  /// The first `count` inputs, each a float tensor.
  FailureOr<SmallVector<Value>> floatOperands(const onnx::NodeProto &node,
                                              int count, Location loc);
  LogicalResult checkArity(const onnx::NodeProto &node, Location loc,
                           int minInputs, int maxInputs);
  LogicalResult define(const onnx::NodeProto &node, Location loc,
                       Value result) {
    return defineOutput(node, 0, loc, result);
  }
  /// Binds output `index` of `node` to `result`.
  LogicalResult defineOutput(const onnx::NodeProto &node, int index,
                             Location loc, Value result);
  /// Binds each output of `node` that has a name to its entry of
  /// `results` (one per output the node may have).
  LogicalResult defineOutputs(const onnx::NodeProto &node, Location loc,
                              ArrayRef<Value> results);
  /// The name diagnostics give `node`: its own, or the one made for it.
  static StringRef nodeLabel(const onnx::NodeProto &node, Location loc) {
    if (auto name = dyn_cast<NameLoc>(loc))
      return name.getName().strref();
    return node.op_type();
  }
  /// Names output `index` of `node` as a value nncc does not make, for
  /// `reason`: using it later is the error.
  LogicalResult defineUnavailable(const onnx::NodeProto &node, int index,
                                  Location loc, const Twine &reason);
  /// Checks the input count and that outputs `[0, minOutputs)` exist and
  /// there are at most `maxOutputs`.
  LogicalResult checkArity(const onnx::NodeProto &node, Location loc,
                           int minInputs, int maxInputs, int minOutputs,
                           int maxOutputs);
  /// Whether optional input `index` is present.
  bool hasInput(const onnx::NodeProto &node, int index) const {
    return node.input_size() > index && !node.input(index).empty();
  }
  /// A list of ints that an opset gives as the constant input `index`
  /// (`asInput`) or as the attribute `name`; empty when absent.
  FailureOr<SmallVector<int64_t>> intsFromInputOrAttr(
      const onnx::NodeProto &node, const NodeAttributes &attrs, Location loc,
      bool asInput, int index, StringRef name);
  /// The value of input `index`, which must be a constant.
  FailureOr<DenseElementsAttr> constantOperand(const onnx::NodeProto &node,
                                               int index, Location loc);
  /// Float operand `index` of the rank an op needs.
  FailureOr<Value> floatOperandOfRank(const onnx::NodeProto &node, int index,
                                      Location loc, int64_t minRank);
  FailureOr<Value> broadcastBinary(StringRef opName, Location loc, Value lhs,
                                   Value rhs,
                                   function_ref<Value(Value, Value)> create);

  const onnx::ModelProto &model;
  const onnx::GraphProto &graph;
  const ImportOptions &options;
  OpBuilder builder;
  Location fileLoc;

  llvm::StringMap<Value> values;
  /// Values a node names but nncc does not make (a zero-size part of a
  /// Split, MaxPool's Indices), each with why: an error only where used.
  llvm::StringMap<std::string> unavailableValues;
  llvm::StringMap<const onnx::TensorProto *> initializers;
  /// Float initializers that are constants rather than parameters (see
  /// collectInitializers).
  llvm::StringSet<> constantInitializers;
  int64_t batchSize = -1;
  /// The version of the default domain, 0 if the model does not import it.
  int64_t opsetVersion = 0;
  /// Dropout nodes imported so far: each without a seed gets its own stream.
  int64_t dropoutNodes = 0;
};

} // namespace nncc::onnx_import

#endif // NNCC_LIB_IMPORT_ONNX_IMPORTER_H
