//===- ImportONNX.cpp - ONNX models to the nn dialect --------------------===//
//
// Walks a checked ModelProto and builds @forward in the nn dialect. The ONNX
// checker accepts many bad models, so everything the IR relies on is checked
// here again: opsets, element types, dimensions and data sizes (with checked
// arithmetic), that every name is defined before use, attribute kinds and
// ranges, and every shape an op needs. Each failure is a diagnostic at the
// node's NameLoc; nothing here asserts on user input.
//
//===----------------------------------------------------------------------===//

#include "Importer.h"

#include "nncc/Dialect/NN/IR/NN.h"
#include "nncc/Dialect/NN/Transforms/Training.h"
#include "nncc/Import/ONNX/ONNXLoader.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/MathExtras.h"

#include "onnx/onnx_pb.h"

using namespace mlir;
using namespace nncc;
using namespace nncc::nn;

using namespace nncc::onnx_import;


//===----------------------------------------------------------------------===//
// Model, initializers, inputs and outputs
//===----------------------------------------------------------------------===//

LogicalResult Importer::checkModel() {
  if (model.ir_version() < 3)
    return emitError(fileLoc) << "unsupported IR version " << model.ir_version()
                              << " (supported: 3 and later)";
  for (const onnx::OperatorSetIdProto &opset : model.opset_import()) {
    if (opset.domain() == kTrainingDomain) {
      if (opset.version() != 1)
        return emitError(fileLoc)
               << "unsupported opset version " << opset.version()
               << " of domain '" << kTrainingDomain << "' (supported: 1)";
      continue;
    }
    if (!opset.domain().empty() && opset.domain() != "ai.onnx")
      continue; // Other domains are an error where a node uses them.
    opsetVersion = opset.version();
    if (opset.version() < kMinOpset || opset.version() > kMaxOpset)
      return emitError(fileLoc)
             << "unsupported opset version " << opset.version()
             << " of the default domain (supported: " << kMinOpset << " to "
             << kMaxOpset << ")";
  }
  if (graph.output_size() == 0)
    return emitError(fileLoc) << "the graph has no outputs";
  return success();
}

FailureOr<Type> Importer::elementType(int32_t onnxType, Location loc,
                                      const Twine &what) {
  switch (onnxType) {
  case onnx::TensorProto::FLOAT:
    return builder.getF32Type();
  case onnx::TensorProto::INT64:
    return builder.getI64Type();
  case onnx::TensorProto::INT32:
    return builder.getI32Type();
  case onnx::TensorProto::BOOL:
    return builder.getI1Type();
  default:
    break;
  }
  std::string name = onnx::TensorProto::DataType_IsValid(onnxType)
                         ? onnx::TensorProto::DataType_Name(
                               static_cast<onnx::TensorProto::DataType>(onnxType))
                         : std::to_string(onnxType);
  // What a user can do about it depends on the type: floating-point models
  // export in float32; small integers (uint8 images above all) are cast.
  StringRef advice;
  switch (onnxType) {
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    advice = "; export the model in float32 (module.float() and float "
             "inputs in PyTorch)";
    break;
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    advice = "; use FLOAT instead (for uint8 images: export the model with "
             "a float input and feed it floats)";
    break;
  default:
    break;
  }
  return emitError(loc) << what << " has element type " << name
                        << ", which nncc does not compute with (it has FLOAT, "
                           "INT64, INT32 and BOOL)"
                        << advice;
}

/// The shape of `dims` when every dimension is in range and the rank and the
/// element count stay within the limits.
static FailureOr<SmallVector<int64_t>>
checkedShape(Location loc, StringRef what,
             const google::protobuf::RepeatedField<int64_t> &dims,
             const ImportOptions &limits) {
  if (dims.size() > limits.maxRank)
    return emitError(loc) << what << " has rank " << dims.size()
                          << ", more than the limit of " << limits.maxRank;
  SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return emitError(loc) << what << " has a negative dimension " << d;
    if (llvm::MulOverflow(count, d, count) || count > limits.maxElements)
      return emitError(loc) << what << " has too many elements (limit "
                            << limits.maxElements << ")";
    shape.push_back(d);
  }
  return shape;
}

FailureOr<DenseElementsAttr>
Importer::tensorAttr(const onnx::TensorProto &tensor, Location loc) {
  std::string what = "tensor '" + tensor.name() + "'";
  // The loader has inlined external data of initializers; anything else
  // with external data (a Constant's value) is not read.
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    return emitError(loc) << what << " uses external data outside the "
                                     "graph's initializers";
  if (tensor.has_segment())
    return emitError(loc) << what << " is segmented, which is not supported";
  FailureOr<SmallVector<int64_t>> shape = checkedShape(loc, what, tensor.dims(), options);
  if (failed(shape))
    return failure();
  FailureOr<Type> type = elementType(tensor.data_type(), loc, what);
  if (failed(type))
    return failure();
  auto tensorType = RankedTensorType::get(*shape, *type);
  int64_t count = tensorType.getNumElements();
  // Empty integer tensors are legitimate (an empty list of axes); an empty
  // float tensor cannot be a parameter or an operand of any op nncc supports.
  if (count == 0 && isa<FloatType>(*type))
    return emitError(loc) << what << " has no elements (shape "
                          << shapeString(*shape) << ")";
  // Booleans take a byte each in raw_data and an int32 each in int32_data.
  bool isBool = type->isInteger(1);
  unsigned width = isBool ? 1 : type->getIntOrFloatBitWidth() / 8;

  // raw_data holds little-endian values; otherwise a typed field does.
  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    if (raw.size() != static_cast<uint64_t>(count) * width)
      return emitError(loc) << what << " has " << raw.size()
                            << " bytes of raw_data, but its shape "
                            << shapeString(*shape) << " needs "
                            << static_cast<uint64_t>(count) * width;
    if (isBool) {
      SmallVector<bool> bits;
      for (char c : raw)
        bits.push_back(c != 0);
      return DenseElementsAttr::get(tensorType, ArrayRef<bool>(bits));
    }
    bool isSplat = false;
    if (!DenseElementsAttr::isValidRawBuffer(
            tensorType, ArrayRef<char>(raw.data(), raw.size()), isSplat))
      return emitError(loc) << what << " has an invalid raw buffer";
    return DenseElementsAttr::getFromRawBuffer(
        tensorType, ArrayRef<char>(raw.data(), raw.size()));
  }
  auto checkCount = [&](int64_t n) -> LogicalResult {
    if (n != count)
      return emitError(loc) << what << " has " << n << " values, but its shape "
                            << shapeString(*shape) << " needs " << count;
    return success();
  };
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
    if (failed(checkCount(tensor.float_data_size())))
      return failure();
    return DenseElementsAttr::get(
        tensorType, ArrayRef<float>(tensor.float_data().data(), count));
  case onnx::TensorProto::INT64:
    if (failed(checkCount(tensor.int64_data_size())))
      return failure();
    return DenseElementsAttr::get(
        tensorType, ArrayRef<int64_t>(tensor.int64_data().data(), count));
  case onnx::TensorProto::BOOL: {
    if (failed(checkCount(tensor.int32_data_size())))
      return failure();
    SmallVector<bool> bits;
    for (int32_t v : tensor.int32_data())
      bits.push_back(v != 0);
    return DenseElementsAttr::get(tensorType, ArrayRef<bool>(bits));
  }
  case onnx::TensorProto::INT32:
    if (failed(checkCount(tensor.int32_data_size())))
      return failure();
    return DenseElementsAttr::get(
        tensorType, ArrayRef<int32_t>(tensor.int32_data().data(), count));
  default:
    return emitError(loc) << what << " has an unsupported element type";
  }
}

LogicalResult Importer::collectInitializers() {
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    if (tensor.name().empty())
      return emitError(fileLoc) << "an initializer has no name";
    if (!initializers.try_emplace(tensor.name(), &tensor).second)
      return emitError(fileLoc)
             << "initializer '" << tensor.name() << "' is defined twice";
  }
  if (graph.sparse_initializer_size() > 0)
    return emitError(fileLoc) << "sparse initializers are not supported";
  // A float initializer that only ever gives an op a compile-time value
  // (Clip's bounds, Dropout's ratio, Pad's fill) is a constant, not a
  // parameter: PyTorch exports ReLU6's bounds so when it folds constants.
  auto compileTime = [](const onnx::NodeProto &node, int index) {
    StringRef op = node.op_type();
    return (op == "Clip" && index >= 1) || (op == "Dropout" && index == 1) ||
           (op == "Pad" && index == 2);
  };
  llvm::StringSet<> usedAtRunTime;
  for (const onnx::NodeProto &node : graph.node())
    for (int i = 0; i < node.input_size(); ++i)
      if (initializers.count(node.input(i)))
        (compileTime(node, i) ? constantInitializers : usedAtRunTime)
            .insert(node.input(i));
  for (const onnx::ValueInfoProto &output : graph.output())
    usedAtRunTime.insert(output.name());
  for (const auto &entry : usedAtRunTime)
    constantInitializers.erase(entry.getKey());
  return success();
}

LogicalResult
Importer::importInputs(SmallVectorImpl<Type> &argTypes,
                       SmallVectorImpl<DictionaryAttr> &argAttrs) {
  auto role = [&](StringRef r) {
    return builder.getNamedAttr(kRoleAttr, builder.getStringAttr(r));
  };
  auto name = [&](StringRef n) {
    return builder.getNamedAttr(kNameAttr, builder.getStringAttr(n));
  };
  llvm::StringSet<> seen;
  // Data inputs: graph inputs that are not initializers.
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (!seen.insert(input.name()).second)
      return emitError(fileLoc)
             << "graph input '" << input.name() << "' is listed twice";
    if (initializers.count(input.name()))
      continue;
    Location loc = fileLoc;
    if (!input.type().has_tensor_type())
      return emitError(loc) << "input '" << input.name()
                            << "' is not a tensor";
    const onnx::TypeProto::Tensor &type = input.type().tensor_type();
    FailureOr<Type> elem =
        elementType(type.elem_type(), loc, "input '" + input.name() + "'");
    if (failed(elem))
      return failure();
    if (elem->isInteger(1))
      return emitError(loc) << "input '" << input.name()
                            << "' is boolean; the generated library's inputs "
                               "are FLOAT, INT64 or INT32";
    if (!type.has_shape())
      return emitError(loc) << "input '" << input.name()
                            << "' has no shape; nncc needs static shapes";
    SmallVector<int64_t> shape;
    for (int i = 0; i < type.shape().dim_size(); ++i) {
      const onnx::TensorShapeProto::Dimension &dim = type.shape().dim(i);
      int64_t size = -1;
      if (dim.has_dim_value() && dim.dim_value() > 0)
        size = dim.dim_value();
      else if (dim.has_dim_value() && dim.dim_value() < 0)
        return emitError(loc) << "input '" << input.name()
                              << "' has a negative dimension "
                              << dim.dim_value();
      if (i == 0) {
        // The batch: bound by --batch when symbolic, checked against it
        // otherwise, and the same for every input.
        if (size < 0 && !options.batchSize)
          return emitError(loc)
                 << "input '" << input.name() << "' has a symbolic batch "
                 << "dimension"
                 << (dim.has_dim_param() ? " '" + dim.dim_param() + "'" : "")
                 << ": bind it with --batch=N";
        if (size > 0 && options.batchSize && size != *options.batchSize)
          return emitError(loc) << "input '" << input.name()
                                << "' has batch dimension " << size
                                << ", but --batch=" << *options.batchSize;
        if (size < 0)
          size = *options.batchSize;
        // The first input's dimension 0 is the batch. Inputs that disagree
        // are fine for inference; training checks them (nn-build-training).
        if (batchSize < 0)
          batchSize = size;
      } else if (size < 0) {
        return emitError(loc) << "input '" << input.name() << "' dimension "
                              << i << " is not a positive constant; only "
                              << "the batch dimension may be symbolic";
      }
      shape.push_back(size);
    }
    if (shape.size() > static_cast<size_t>(options.maxRank))
      return emitError(loc) << "input '" << input.name() << "' has rank "
                            << shape.size() << ", more than the limit of "
                            << options.maxRank;
    int64_t count = 1;
    for (int64_t d : shape)
      if (llvm::MulOverflow(count, d, count) || count > options.maxElements)
        return emitError(loc) << "input '" << input.name()
                              << "' has too many elements";
    argTypes.push_back(RankedTensorType::get(shape, *elem));
    argAttrs.push_back(builder.getDictionaryAttr(
        {name(input.name()), role(kRoleInput)}));
  }

  // Parameters: float initializers, in the order of the graph.
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    if (tensor.data_type() != onnx::TensorProto::FLOAT ||
        constantInitializers.contains(tensor.name()))
      continue;
    Location loc = fileLoc;
    FailureOr<DenseElementsAttr> value = tensorAttr(tensor, loc);
    if (failed(value))
      return failure();
    argTypes.push_back(value->getType());
    argAttrs.push_back(builder.getDictionaryAttr(
        {name(tensor.name()), role(kRoleParam),
         builder.getNamedAttr(kParamAttr, *value)}));
  }
  return success();
}

LogicalResult
Importer::importOutputs(SmallVectorImpl<Value> &results,
                        SmallVectorImpl<DictionaryAttr> &resultAttrs) {
  llvm::StringSet<> seen;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    Location loc = fileLoc;
    if (!seen.insert(output.name()).second)
      return emitError(loc) << "graph output '" << output.name()
                            << "' is listed twice";
    FailureOr<Value> value = lookup(output.name(), loc);
    if (failed(value))
      return failure();
    if (tensorType(*value).getElementType().isInteger(1))
      return emitError(loc) << "output '" << output.name()
                            << "' is boolean; the generated library's outputs "
                               "are FLOAT, INT64 or INT32";
    // A declared type must agree with what nncc computed.
    if (output.type().has_tensor_type()) {
      const onnx::TypeProto::Tensor &declared = output.type().tensor_type();
      RankedTensorType actual = tensorType(*value);
      FailureOr<Type> elem = elementType(declared.elem_type(), loc,
                                         "output '" + output.name() + "'");
      if (failed(elem))
        return failure();
      if (*elem != actual.getElementType())
        return emitError(loc) << "output '" << output.name()
                              << "' is declared as " << *elem
                              << " but computed as " << actual.getElementType();
      if (declared.has_shape()) {
        const onnx::TensorShapeProto &shape = declared.shape();
        bool same = shape.dim_size() == actual.getRank();
        for (int i = 0; same && i < shape.dim_size(); ++i)
          if (shape.dim(i).has_dim_value() &&
              shape.dim(i).dim_value() != actual.getDimSize(i))
            same = false;
        if (!same)
          return emitError(loc)
                 << "output '" << output.name() << "' is declared with a shape "
                 << "other than the computed " << shapeString(actual.getShape());
      }
    }
    results.push_back(*value);
    resultAttrs.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr(kNameAttr, builder.getStringAttr(output.name())),
         builder.getNamedAttr(kRoleAttr, builder.getStringAttr(kRoleOutput))}));
  }
  return success();
}

OwningOpRef<ModuleOp> Importer::run() {
  if (failed(checkModel()) || failed(collectInitializers()))
    return nullptr;

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  SmallVector<Type> argTypes;
  SmallVector<DictionaryAttr> argAttrs;
  if (failed(importInputs(argTypes, argAttrs)))
    return nullptr;

  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(
      fileLoc, kForwardFunc, builder.getFunctionType(argTypes, {}));
  func.setAllArgAttrs(argAttrs);
  Block *body = func.addEntryBlock();
  for (auto [arg, attrs] : llvm::zip(body->getArguments(), argAttrs))
    values[cast<StringAttr>(attrs.get(kNameAttr)).getValue()] = arg;

  builder.setInsertionPointToEnd(body);
  for (int i = 0; i < graph.node_size(); ++i)
    if (failed(importNode(graph.node(i), i)))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  if (failed(importOutputs(results, resultAttrs)))
    return nullptr;
  builder.create<func::ReturnOp>(fileLoc, results);
  func.setFunctionType(
      builder.getFunctionType(argTypes, ValueRange(results).getTypes()));
  func.setAllResultAttrs(resultAttrs);
  (*module)->setAttr(kBatchSizeAttr,
                     builder.getI64IntegerAttr(batchSize < 0 ? 1 : batchSize));
  if (failed(verify(*module)))
    return nullptr;
  return module;
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

FailureOr<Value> Importer::lookup(const std::string &name, Location loc) {
  if (Value v = values.lookup(name))
    return v;
  // Non-float initializers, and those only used for compile-time values,
  // are constants, made on first use.
  if (const onnx::TensorProto *tensor = initializers.lookup(name)) {
    FailureOr<DenseElementsAttr> value = tensorAttr(*tensor, loc);
    if (failed(value))
      return failure();
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(builder.getInsertionBlock());
    Value constant = builder.create<ConstantOp>(loc, *value);
    values[name] = constant;
    return constant;
  }
  auto unavailable = unavailableValues.find(name);
  if (unavailable != unavailableValues.end())
    return emitError(loc) << "'" << name
                          << "' cannot be used: " << unavailable->second;
  return emitError(loc) << "'" << name
                        << "' is used before it is defined, or never defined";
}

LogicalResult Importer::checkArity(const onnx::NodeProto &node, Location loc,
                                   int minInputs, int maxInputs) {
  if (node.input_size() < minInputs || node.input_size() > maxInputs) {
    auto diag = emitError(loc) << node.op_type() << " takes ";
    if (minInputs == maxInputs)
      diag << minInputs;
    else
      diag << minInputs << " to " << maxInputs;
    return diag << " inputs, got " << node.input_size();
  }
  if (node.output_size() != 1)
    return emitError(loc) << node.op_type() << " has 1 output, got "
                          << node.output_size();
  return success();
}

FailureOr<Value> Importer::floatOperand(const onnx::NodeProto &node, int index,
                                        Location loc) {
  FailureOr<Value> value = lookup(node.input(index), loc);
  if (failed(value))
    return failure();
  Type elem = tensorType(*value).getElementType();
  if (!isa<FloatType>(elem))
    return emitError(loc) << node.op_type() << " input " << index << " ('"
                          << node.input(index) << "') has element type " << elem
                          << "; only float tensors are supported";
  return *value;
}

FailureOr<SmallVector<Value>>
Importer::floatOperands(const onnx::NodeProto &node, int count, Location loc) {
  SmallVector<Value> operands;
  for (int i = 0; i < count; ++i) {
    FailureOr<Value> operand = floatOperand(node, i, loc);
    if (failed(operand))
      return failure();
    operands.push_back(*operand);
  }
  return operands;
}

LogicalResult Importer::defineOutput(const onnx::NodeProto &node, int index,
                                     Location loc, Value result) {
  const std::string &name = node.output(index);
  if (name.empty())
    return emitError(loc) << node.op_type() << " has an empty output name";
  if (values.count(name) || initializers.count(name) ||
      unavailableValues.count(name))
    return emitError(loc) << "'" << name << "' is defined more than once";
  values[name] = result;
  return success();
}

LogicalResult Importer::defineUnavailable(const onnx::NodeProto &node,
                                          int index, Location loc,
                                          const Twine &reason) {
  const std::string &name = node.output(index);
  if (values.count(name) || initializers.count(name) ||
      unavailableValues.count(name))
    return emitError(loc) << "'" << name << "' is defined more than once";
  unavailableValues[name] = reason.str();
  return success();
}

LogicalResult Importer::defineOutputs(const onnx::NodeProto &node,
                                      Location loc, ArrayRef<Value> results) {
  for (int i = 0; i < node.output_size(); ++i)
    if (!node.output(i).empty() &&
        failed(defineOutput(node, i, loc, results[i])))
      return failure();
  return success();
}

LogicalResult Importer::checkArity(const onnx::NodeProto &node, Location loc,
                                   int minInputs, int maxInputs,
                                   int minOutputs, int maxOutputs) {
  if (node.input_size() < minInputs || node.input_size() > maxInputs) {
    auto diag = emitError(loc) << node.op_type() << " takes ";
    if (minInputs == maxInputs)
      diag << minInputs;
    else
      diag << minInputs << " to " << maxInputs;
    return diag << " inputs, got " << node.input_size();
  }
  if (node.output_size() < minOutputs || node.output_size() > maxOutputs) {
    auto diag = emitError(loc) << node.op_type() << " has ";
    if (minOutputs == maxOutputs)
      diag << minOutputs;
    else
      diag << minOutputs << " to " << maxOutputs;
    return diag << " outputs, got " << node.output_size();
  }
  return success();
}

FailureOr<DenseElementsAttr>
Importer::constantOperand(const onnx::NodeProto &node, int index,
                          Location loc) {
  FailureOr<Value> value = lookup(node.input(index), loc);
  if (failed(value))
    return failure();
  auto constant = value->getDefiningOp<ConstantOp>();
  auto elements =
      constant ? dyn_cast<DenseElementsAttr>(constant.getValue()) : nullptr;
  if (!elements)
    return emitError(loc) << node.op_type() << " input " << index << " ('"
                          << node.input(index)
                          << "') must be a constant (known at compile time)";
  return elements;
}

FailureOr<SmallVector<int64_t>>
Importer::intsFromInputOrAttr(const onnx::NodeProto &node,
                              const NodeAttributes &attrs, Location loc,
                              bool asInput, int index, StringRef name) {
  if (asInput) {
    if (!hasInput(node, index))
      return SmallVector<int64_t>();
    return constantInts(node, index, loc);
  }
  FailureOr<std::optional<SmallVector<int64_t>>> ints =
      attrs.getInts(loc, name);
  if (failed(ints))
    return failure();
  return *ints ? **ints : SmallVector<int64_t>();
}

FailureOr<Value> Importer::floatOperandOfRank(const onnx::NodeProto &node,
                                              int index, Location loc,
                                              int64_t minRank) {
  FailureOr<Value> value = floatOperand(node, index, loc);
  if (failed(value))
    return failure();
  if (tensorType(*value).getRank() < minRank)
    return emitError(loc) << node.op_type() << " input " << index << " ('"
                          << node.input(index) << "') has shape "
                          << shapeString(tensorType(*value).getShape())
                          << "; it needs rank " << minRank << " or more";
  return *value;
}

FailureOr<Value>
Importer::broadcastBinary(StringRef opName, Location loc, Value lhs, Value rhs,
                          function_ref<Value(Value, Value)> create) {
  if (failed(broadcastShapes(tensorType(lhs).getShape(),
                             tensorType(rhs).getShape())))
    return emitError(loc) << opName << " operands of shapes "
                          << shapeString(tensorType(lhs).getShape()) << " and "
                          << shapeString(tensorType(rhs).getShape())
                          << " are not broadcast-compatible";
  return create(lhs, rhs);
}

LogicalResult Importer::importNode(const onnx::NodeProto &node,
                                   unsigned index) {
  std::string nodeName = node.name().empty()
                             ? node.op_type() + "_" + std::to_string(index)
                             : node.name();
  Location loc = NameLoc::get(builder.getStringAttr(nodeName), fileLoc);
  // onnx::checker has made sure that the model imports every node's domain.
  if (node.domain() == kTrainingDomain) {
    static const llvm::StringMap<NodeImporter> trainingImporters = {
        {"Adam", &Importer::importTrainingOp<ONNXAdamOp>},
        {"Adagrad", &Importer::importTrainingOp<ONNXAdagradOp>},
        {"Momentum", &Importer::importTrainingOp<ONNXMomentumOp>},
    };
    auto it = trainingImporters.find(node.op_type());
    if (it == trainingImporters.end())
      return emitError(loc) << "unsupported op '" << node.op_type()
                            << "' of domain '" << node.domain() << "'";
    return (this->*(it->second))(node, loc);
  }
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return emitError(loc) << "unsupported op '" << node.op_type()
                          << "' of domain '" << node.domain() << "'";

  static const llvm::StringMap<NodeImporter> importers = {
      {"Gemm", &Importer::importGemm},
      {"LSTM", &Importer::importRecurrent},
      {"GRU", &Importer::importRecurrent},
      {"RNN", &Importer::importRecurrent},
      {"MatMul", &Importer::importMatMul},
      {"Add", &Importer::importBinary<AddOp>},
      {"Sub", &Importer::importBinary<SubOp>},
      {"Mul", &Importer::importBinary<MulOp>},
      {"Div", &Importer::importBinary<DivOp>},
      {"Tanh", &Importer::importUnary<TanhOp>},
      {"Sigmoid", &Importer::importUnary<SigmoidOp>},
      {"Relu", &Importer::importUnary<ReluOp>},
      {"Neg", &Importer::importUnary<NegOp>},
      {"Sqrt", &Importer::importUnary<SqrtOp>},
      {"Exp", &Importer::importUnary<ExpOp>},
      {"Log", &Importer::importUnary<LogOp>},
      {"Abs", &Importer::importUnary<AbsOp>},
      {"Reciprocal", &Importer::importUnary<ReciprocalOp>},
      {"Erf", &Importer::importUnary<ErfOp>},
      {"Identity", &Importer::importIdentity},
      {"Transpose", &Importer::importTranspose},
      {"ReduceSum", &Importer::importReduce},
      {"Reshape", &Importer::importReshape},
      {"Flatten", &Importer::importFlatten},
      {"LeakyRelu", &Importer::importAlphaActivation<LeakyReluOp>},
      {"Elu", &Importer::importAlphaActivation<EluOp>},
      {"Constant", &Importer::importConstant},
      {"Pow", &Importer::importBinary<PowOp>},
      {"ReduceMean", &Importer::importReduce},
      {"ReduceMax", &Importer::importReduce},
      {"Softmax", &Importer::importSoftmax},
      {"LogSoftmax", &Importer::importSoftmax},
      {"LayerNormalization", &Importer::importLayerNorm},
      {"Squeeze", &Importer::importSqueeze},
      {"Unsqueeze", &Importer::importUnsqueeze},
      {"Expand", &Importer::importExpand},
      {"Concat", &Importer::importConcat},
      {"Split", &Importer::importSplit},
      {"Slice", &Importer::importSlice},
      {"Gather", &Importer::importGather},
      {"Where", &Importer::importWhere},
      {"Equal", &Importer::importEqual},
      {"Cast", &Importer::importCast},
      {"Shape", &Importer::importShape},
      {"ConstantOfShape", &Importer::importConstantOfShape},
      {"Trilu", &Importer::importTrilu},
      {"Pad", &Importer::importPad},
      {"Dropout", &Importer::importDropout},
      {"Range", &Importer::importRange},
      {"Conv", &Importer::importConv},
      {"MaxPool", &Importer::importPool},
      {"AveragePool", &Importer::importPool},
      {"GlobalAveragePool", &Importer::importGlobalAveragePool},
      {"BatchNormalization", &Importer::importBatchNorm},
      {"InstanceNormalization", &Importer::importInstanceNorm},
      {"Clip", &Importer::importClip},
      {"HardSigmoid", &Importer::importHardSigmoid},
      {"HardSwish", &Importer::importHardSwish},
      {"Selu", &Importer::importSelu},
      {"PRelu", &Importer::importPRelu},
      {"Softplus", &Importer::importUnary<SoftplusOp>},
      {"Max", &Importer::importVariadic},
      {"Min", &Importer::importVariadic},
      {"Sum", &Importer::importVariadic},
      {"Mean", &Importer::importVariadic},
      {"Less", &Importer::importCompare},
      {"LessOrEqual", &Importer::importCompare},
      {"Greater", &Importer::importCompare},
      {"GreaterOrEqual", &Importer::importCompare},
      {"And", &Importer::importLogic},
      {"Or", &Importer::importLogic},
      {"Xor", &Importer::importLogic},
      {"Not", &Importer::importLogic},
      {"Tile", &Importer::importTile},
  };
  auto it = importers.find(node.op_type());
  if (it == importers.end())
    return emitError(loc) << "unsupported op '" << node.op_type() << "'";
  return (this->*(it->second))(node, loc);
}

LogicalResult Importer::importGemm(const onnx::NodeProto &node, Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 3)) ||
      failed(attrs.checkKnown(loc, node, {"alpha", "beta", "transA", "transB"})))
    return failure();
  FailureOr<float> alpha = attrs.getFloat(loc, "alpha", 1.0f);
  FailureOr<float> beta = attrs.getFloat(loc, "beta", 1.0f);
  FailureOr<bool> transA = attrs.getFlag(loc, "transA");
  FailureOr<bool> transB = attrs.getFlag(loc, "transB");
  if (failed(alpha) || failed(beta) || failed(transA) || failed(transB))
    return failure();
  FailureOr<SmallVector<Value>> operands = floatOperands(node, 2, loc);
  if (failed(operands))
    return failure();
  Value a = (*operands)[0], b = (*operands)[1];
  RankedTensorType aType = tensorType(a), bType = tensorType(b);
  if (aType.getRank() != 2 || bType.getRank() != 2)
    return emitError(loc) << "Gemm operands must be 2-D, got "
                          << shapeString(aType.getShape()) << " and "
                          << shapeString(bType.getShape());
  int64_t m = aType.getDimSize(*transA ? 1 : 0);
  int64_t ka = aType.getDimSize(*transA ? 0 : 1);
  int64_t kb = bType.getDimSize(*transB ? 1 : 0);
  int64_t n = bType.getDimSize(*transB ? 0 : 1);
  if (ka != kb)
    return emitError(loc) << "Gemm inner dimensions differ: A is "
                          << shapeString(aType.getShape())
                          << (*transA ? " (transposed)" : "") << ", B is "
                          << shapeString(bType.getShape())
                          << (*transB ? " (transposed)" : "");

  Type elem = aType.getElementType();
  Value y = builder.create<MatMulOp>(loc, a, b, *transA, *transB);
  if (*alpha != 1.0f)
    y = builder.create<MulOp>(loc, y,
                              createScalarConstant(builder, loc, elem, *alpha));
  if (node.input_size() == 3 && !node.input(2).empty()) {
    FailureOr<Value> c = floatOperand(node, 2, loc);
    if (failed(c))
      return failure();
    // C broadcasts one way only, to [M, N].
    FailureOr<SmallVector<int64_t>> shape =
        broadcastShapes(tensorType(*c).getShape(), {m, n});
    if (failed(shape) || ArrayRef<int64_t>(*shape) != ArrayRef<int64_t>{m, n})
      return emitError(loc) << "Gemm C of shape "
                            << shapeString(tensorType(*c).getShape())
                            << " does not broadcast to [" << m << "," << n
                            << "]";
    Value bias = *c;
    if (*beta != 1.0f)
      bias = builder.create<MulOp>(
          loc, bias, createScalarConstant(builder, loc, elem, *beta));
    y = builder.create<AddOp>(loc, y, bias);
  }
  return define(node, loc, y);
}

LogicalResult Importer::importMatMul(const onnx::NodeProto &node,
                                     Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<SmallVector<Value>> operands = floatOperands(node, 2, loc);
  if (failed(operands))
    return failure();
  Value a = (*operands)[0], b = (*operands)[1];
  RankedTensorType aType = tensorType(a), bType = tensorType(b);
  if (aType.getRank() == 0 || bType.getRank() == 0)
    return emitError(loc) << "MatMul operands must not be scalars";
  // numpy.matmul: a 1-D left operand is a row, a 1-D right one a column,
  // and that dimension is dropped from the result.
  SmallVector<int64_t> aShape(aType.getShape()), bShape(bType.getShape());
  if (aShape.size() == 1)
    aShape.insert(aShape.begin(), 1);
  if (bShape.size() == 1)
    bShape.push_back(1);
  int64_t k = aShape.back();
  if (k != bShape[bShape.size() - 2])
    return emitError(loc) << "MatMul inner dimensions differ: "
                          << shapeString(aType.getShape()) << " times "
                          << shapeString(bType.getShape());
  ArrayRef<int64_t> aBatch = ArrayRef<int64_t>(aShape).drop_back(2);
  ArrayRef<int64_t> bBatch = ArrayRef<int64_t>(bShape).drop_back(2);
  FailureOr<SmallVector<int64_t>> batch = broadcastShapes(aBatch, bBatch);
  if (failed(batch))
    return emitError(loc) << "MatMul batch dimensions of "
                          << shapeString(aType.getShape()) << " and "
                          << shapeString(bType.getShape())
                          << " are not broadcast-compatible";
  SmallVector<int64_t> resultShape(*batch);
  if (aType.getRank() > 1)
    resultShape.push_back(aShape[aShape.size() - 2]);
  if (bType.getRank() > 1)
    resultShape.push_back(bShape.back());
  Value y;
  if (bShape.size() == 2 && bType.getRank() == 2) {
    // [..., M, K] x [K, N]: one 2-D product over the flattened rows.
    int64_t rows = product(aShape) / k;
    Value lhs = builder.createOrFold<ReshapeOp>(loc, a,
                                                ArrayRef<int64_t>{rows, k});
    y = builder.create<MatMulOp>(loc, lhs, b, false, false);
  } else {
    Value lhs = builder.createOrFold<ReshapeOp>(loc, a, aShape);
    Value rhs = builder.createOrFold<ReshapeOp>(loc, b, bShape);
    y = builder.create<MatMulOp>(loc, lhs, rhs, false, false);
  }
  return define(node, loc, builder.createOrFold<ReshapeOp>(loc, y, resultShape));
}

template <typename OpT>
LogicalResult Importer::importBinary(const onnx::NodeProto &node,
                                     Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> lhs = lookup(node.input(0), loc);
  FailureOr<Value> rhs =
      failed(lhs) ? FailureOr<Value>(failure()) : lookup(node.input(1), loc);
  if (failed(rhs))
    return failure();
  Type lhsElem = tensorType(*lhs).getElementType();
  Type rhsElem = tensorType(*rhs).getElementType();
  // Shape computations: integer arithmetic on constants.
  if (isa<IntegerType>(lhsElem) && isa<IntegerType>(rhsElem) &&
      !std::is_same_v<OpT, PowOp>) {
    FailureOr<Value> folded = foldIntegerBinary(node, loc, node.op_type(), *lhs, *rhs);
    if (failed(folded))
      return failure();
    return define(node, loc, *folded);
  }
  // Pow may raise a float to an integer power.
  if (std::is_same_v<OpT, PowOp> && isa<FloatType>(lhsElem) &&
      isa<IntegerType>(rhsElem) && !rhsElem.isInteger(1))
    rhs = builder.createOrFold<CastOp>(
        loc, RankedTensorType::get(tensorType(*rhs).getShape(), lhsElem), *rhs);
  FailureOr<Value> floatLhs = floatOperand(node, 0, loc);
  if (failed(floatLhs))
    return failure();
  if (tensorType(*rhs).getElementType() != lhsElem)
    return emitError(loc) << node.op_type() << " operands have different "
                          << "element types " << lhsElem << " and "
                          << tensorType(*rhs).getElementType();
  FailureOr<Value> y = broadcastBinary(
      node.op_type(), loc, *lhs, *rhs,
      [&](Value l, Value r) -> Value { return builder.create<OpT>(loc, l, r); });
  if (failed(y))
    return failure();
  return define(node, loc, *y);
}

template <typename OpT>
LogicalResult Importer::importUnary(const onnx::NodeProto &node,
                                    Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> x = floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  return define(node, loc, builder.create<OpT>(loc, *x));
}

LogicalResult Importer::importIdentity(const onnx::NodeProto &node,
                                       Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  return define(node, loc, *x);
}

FailureOr<SmallVector<int64_t>>
Importer::constantInts(const onnx::NodeProto &node, int index, Location loc) {
  FailureOr<Value> value = lookup(node.input(index), loc);
  if (failed(value))
    return failure();
  auto constant = value->getDefiningOp<ConstantOp>();
  auto elements =
      constant ? dyn_cast<DenseIntElementsAttr>(constant.getValue()) : nullptr;
  if (!elements || tensorType(*value).getRank() > 1)
    return emitError(loc) << node.op_type() << " input " << index << " ('"
                          << node.input(index)
                          << "') must be a constant integer vector";
  SmallVector<int64_t> ints;
  for (const APInt &v : elements.getValues<APInt>())
    ints.push_back(v.getSExtValue());
  return ints;
}

FailureOr<SmallVector<int64_t>>
nncc::onnx_import::normalizeAxes(Location loc, StringRef opName,
                                 ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    if (axis < -rank || axis >= rank)
      return emitError(loc) << opName << " axis " << axis
                            << " is out of range for rank " << rank;
    int64_t normalized = axis < 0 ? axis + rank : axis;
    if (llvm::is_contained(result, normalized))
      return emitError(loc) << opName << " axis " << axis << " is repeated";
    result.push_back(normalized);
  }
  llvm::sort(result);
  return result;
}

LogicalResult Importer::importTranspose(const onnx::NodeProto &node,
                                        Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"perm"})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  int64_t rank = tensorType(*x).getRank();
  SmallVector<int64_t> perm;
  if (const onnx::AttributeProto *attr = attrs.lookup("perm")) {
    if (attr->type() != onnx::AttributeProto::INTS)
      return emitError(loc) << "attribute 'perm' must be a list of ints";
    perm.assign(attr->ints().begin(), attr->ints().end());
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i); // ONNX's default reverses the dimensions.
  }
  SmallVector<int64_t> sorted(perm);
  llvm::sort(sorted);
  for (int64_t i = 0; i < static_cast<int64_t>(sorted.size()); ++i)
    if (sorted[i] != i || static_cast<int64_t>(perm.size()) != rank)
      return emitError(loc) << "Transpose perm " << shapeString(perm)
                            << " is not a permutation of " << rank
                            << " dimensions";
  return define(node, loc, builder.create<TransposeOp>(loc, *x, perm));
}

LogicalResult Importer::importReshape(const onnx::NodeProto &node,
                                      Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 2, 2)) ||
      failed(attrs.checkKnown(loc, node, {"allowzero"})))
    return failure();
  FailureOr<bool> allowZero = attrs.getFlag(loc, "allowzero");
  FailureOr<Value> x = failed(allowZero) ? FailureOr<Value>(failure())
                                         : lookup(node.input(0), loc);
  if (failed(x))
    return failure();
  FailureOr<SmallVector<int64_t>> requested = constantInts(node, 1, loc);
  if (failed(requested))
    return failure();
  // ONNX: 0 copies the input's dimension (unless allowzero), -1 is inferred.
  RankedTensorType type = tensorType(*x);
  SmallVector<int64_t> shape;
  int64_t known = 1, inferred = -1;
  for (auto [i, d] : llvm::enumerate(*requested)) {
    if (d == 0 && !*allowZero) {
      if (static_cast<int64_t>(i) >= type.getRank())
        return emitError(loc) << "Reshape dimension " << i
                              << " copies an input dimension that does not "
                                 "exist (input rank "
                              << type.getRank() << ")";
      d = type.getDimSize(i);
    }
    if (d == -1) {
      if (inferred >= 0)
        return emitError(loc) << "Reshape shape "
                              << shapeString(*requested)
                              << " has more than one -1";
      inferred = i;
    } else if (d <= 0) {
      return emitError(loc) << "Reshape shape " << shapeString(*requested)
                            << " has an invalid dimension " << d;
    } else if (llvm::MulOverflow(known, d, known)) {
      return emitError(loc) << "Reshape shape " << shapeString(*requested)
                            << " is too large";
    }
    shape.push_back(d);
  }
  int64_t total = type.getNumElements();
  if (inferred >= 0) {
    if (total % known != 0)
      return emitError(loc) << "cannot reshape " << shapeString(type.getShape())
                            << " to " << shapeString(*requested)
                            << ": no size for -1 fits";
    shape[inferred] = total / known;
    known = total;
  }
  if (known != total)
    return emitError(loc) << "cannot reshape " << shapeString(type.getShape())
                          << " to " << shapeString(*requested)
                          << ": the element counts differ";
  if (static_cast<int64_t>(shape.size()) > options.maxRank)
    return emitError(loc) << "Reshape to rank " << shape.size()
                          << ", more than the limit of " << options.maxRank;
  return define(node, loc, builder.createOrFold<ReshapeOp>(loc, *x, shape));
}

LogicalResult Importer::importFlatten(const onnx::NodeProto &node,
                                      Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"axis"})))
    return failure();
  FailureOr<Value> x = lookup(node.input(0), loc);
  FailureOr<int64_t> axis =
      failed(x) ? FailureOr<int64_t>(failure()) : attrs.getInt(loc, "axis", 1);
  if (failed(axis))
    return failure();
  RankedTensorType type = tensorType(*x);
  int64_t rank = type.getRank();
  if (*axis < -rank || *axis > rank)
    return emitError(loc) << "Flatten axis " << *axis
                          << " is out of range for rank " << rank;
  int64_t split = *axis < 0 ? *axis + rank : *axis;
  // [d0 * ... * d(axis-1), d(axis) * ... * d(rank-1)]
  int64_t outer = 1;
  for (int64_t i = 0; i < split; ++i)
    outer *= type.getDimSize(i);
  int64_t inner = type.getNumElements() / std::max<int64_t>(outer, 1);
  return define(node, loc,
                builder.createOrFold<ReshapeOp>(loc, *x,
                                          ArrayRef<int64_t>{outer, inner}));
}

template <typename OpT>
LogicalResult Importer::importAlphaActivation(const onnx::NodeProto &node,
                                              Location loc) {
  NodeAttributes attrs(node);
  if (failed(checkArity(node, loc, 1, 1)) ||
      failed(attrs.checkKnown(loc, node, {"alpha"})))
    return failure();
  // ONNX's defaults: 0.01 for LeakyRelu, 1 for Elu.
  float defaultAlpha = std::is_same_v<OpT, LeakyReluOp> ? 0.01f : 1.0f;
  FailureOr<float> alpha = attrs.getFloat(loc, "alpha", defaultAlpha);
  FailureOr<Value> x =
      failed(alpha) ? FailureOr<Value>(failure()) : floatOperand(node, 0, loc);
  if (failed(x))
    return failure();
  return define(node, loc,
                builder.create<OpT>(loc, *x, llvm::APFloat(double(*alpha))));
}

LogicalResult Importer::importConstant(const onnx::NodeProto &node,
                                       Location loc) {
  if (failed(checkArity(node, loc, 0, 0)))
    return failure();
  if (node.attribute_size() != 1)
    return emitError(loc) << "Constant must have exactly one value attribute";
  const onnx::AttributeProto &attr = node.attribute(0);
  DenseElementsAttr value;
  if (attr.name() == "value" && attr.type() == onnx::AttributeProto::TENSOR) {
    FailureOr<DenseElementsAttr> tensor = tensorAttr(attr.t(), loc);
    if (failed(tensor))
      return failure();
    value = *tensor;
  } else if (attr.name() == "value_float" &&
             attr.type() == onnx::AttributeProto::FLOAT) {
    value = DenseElementsAttr::get(
        RankedTensorType::get({}, builder.getF32Type()), attr.f());
  } else if (attr.name() == "value_floats" &&
             attr.type() == onnx::AttributeProto::FLOATS) {
    SmallVector<float> data(attr.floats().begin(), attr.floats().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(data.size())},
                              builder.getF32Type()),
        ArrayRef<float>(data));
  } else if (attr.name() == "value_int" &&
             attr.type() == onnx::AttributeProto::INT) {
    value = DenseElementsAttr::get(
        RankedTensorType::get({}, builder.getI64Type()), attr.i());
  } else if (attr.name() == "value_ints" &&
             attr.type() == onnx::AttributeProto::INTS) {
    SmallVector<int64_t> data(attr.ints().begin(), attr.ints().end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(data.size())},
                              builder.getI64Type()),
        ArrayRef<int64_t>(data));
  } else {
    return emitError(loc) << "unsupported Constant attribute '" << attr.name()
                          << "'";
  }
  return define(node, loc, builder.create<ConstantOp>(loc, value));
}

/// Adam, Adagrad and Momentum of ai.onnx.preview.training update several
/// tensors in one node: inputs R, T, then X1..Xn, G1..Gn and each state
/// S1..Sn; outputs X1'..Xn' then each new state. One nn op per tensor.
template <typename OpT>
LogicalResult Importer::importTrainingOp(const onnx::NodeProto &node,
                                         Location loc) {
  NodeAttributes attrs(node);
  unsigned numState = std::is_same_v<OpT, ONNXAdamOp> ? 2 : 1;
  unsigned groups = 2 + numState;
  if (node.input_size() < 2 + static_cast<int>(groups) ||
      (node.input_size() - 2) % groups != 0)
    return emitError(loc) << node.op_type() << " takes R, T and " << groups
                          << " inputs per tensor, got " << node.input_size()
                          << " inputs";
  int n = (node.input_size() - 2) / groups;
  if (node.output_size() != n * static_cast<int>(1 + numState))
    return emitError(loc) << node.op_type() << " of " << n << " tensors has "
                          << n * (1 + numState) << " outputs, got "
                          << node.output_size();
  auto getFloat = [&](StringRef name, double defaultValue) {
    return attrs.getFloat(loc, name, static_cast<float>(defaultValue));
  };
  FailureOr<Value> r = floatOperand(node, 0, loc);
  FailureOr<Value> t = failed(r) ? FailureOr<Value>(failure())
                                 : lookup(node.input(1), loc);
  if (failed(t))
    return failure();
  auto rType = tensorType(*r), tType = tensorType(*t);
  if (rType.getRank() != 0 || tType.getRank() != 0 ||
      !tType.getElementType().isInteger(64))
    return emitError(loc) << node.op_type()
                          << " needs a float scalar R and an int64 scalar T";

  SmallVector<Value> newX, newStates(n * numState);
  for (int i = 0; i < n; ++i) {
    FailureOr<Value> x = floatOperand(node, 2 + i, loc);
    FailureOr<Value> g = failed(x) ? FailureOr<Value>(failure())
                                   : floatOperand(node, 2 + n + i, loc);
    if (failed(g))
      return failure();
    SmallVector<Value> state;
    for (unsigned k = 0; k < numState; ++k) {
      FailureOr<Value> s = floatOperand(node, 2 + (2 + k) * n + i, loc);
      if (failed(s))
        return failure();
      state.push_back(*s);
    }
    SmallVector<Value> sameType = {*g};
    llvm::append_range(sameType, state);
    for (Value v : sameType)
      if (v.getType() != x->getType())
        return emitError(loc) << node.op_type() << " tensor " << i
                              << ": the gradient and state must have X's type "
                              << x->getType();
    Operation *op = nullptr;
    if constexpr (std::is_same_v<OpT, ONNXAdamOp>) {
      if (failed(attrs.checkKnown(loc, node,
                                  {"alpha", "beta", "epsilon",
                                   "norm_coefficient",
                                   "norm_coefficient_post"})))
        return failure();
      FailureOr<float> alpha = getFloat("alpha", 0.9),
                       beta = getFloat("beta", 0.999),
                       eps = getFloat("epsilon", 1e-6),
                       nc = getFloat("norm_coefficient", 0.0),
                       post = getFloat("norm_coefficient_post", 0.0);
      if (failed(alpha) || failed(beta) || failed(eps) || failed(nc) ||
          failed(post))
        return failure();
      op = builder.create<ONNXAdamOp>(
          loc, *r, *t, *x, *g, state, llvm::APFloat(double(*alpha)),
          llvm::APFloat(double(*beta)), llvm::APFloat(double(*eps)),
          llvm::APFloat(double(*nc)), llvm::APFloat(double(*post)));
    } else if constexpr (std::is_same_v<OpT, ONNXAdagradOp>) {
      if (failed(attrs.checkKnown(
              loc, node, {"decay_factor", "epsilon", "norm_coefficient"})))
        return failure();
      FailureOr<float> decay = getFloat("decay_factor", 0.0),
                       eps = getFloat("epsilon", 1e-6),
                       nc = getFloat("norm_coefficient", 0.0);
      if (failed(decay) || failed(eps) || failed(nc))
        return failure();
      op = builder.create<ONNXAdagradOp>(
          loc, *r, *t, *x, *g, state, llvm::APFloat(double(*decay)),
          llvm::APFloat(double(*eps)), llvm::APFloat(double(*nc)));
    } else {
      if (failed(attrs.checkKnown(
              loc, node, {"alpha", "beta", "mode", "norm_coefficient"})))
        return failure();
      const onnx::AttributeProto *mode = attrs.lookup("mode");
      const onnx::AttributeProto *alpha = attrs.lookup("alpha");
      const onnx::AttributeProto *beta = attrs.lookup("beta");
      const onnx::AttributeProto *nc = attrs.lookup("norm_coefficient");
      if (!mode || !alpha || !beta || !nc)
        return emitError(loc) << "Momentum needs the attributes alpha, beta, "
                                 "mode and norm_coefficient";
      if (mode->type() != onnx::AttributeProto::STRING ||
          (mode->s() != "standard" && mode->s() != "nesterov"))
        return emitError(loc) << "Momentum mode must be 'standard' or "
                                 "'nesterov'";
      FailureOr<float> a = getFloat("alpha", 0), b = getFloat("beta", 0),
                       c = getFloat("norm_coefficient", 0);
      if (failed(a) || failed(b) || failed(c))
        return failure();
      op = builder.create<ONNXMomentumOp>(
          loc, *r, *t, *x, *g, state, llvm::APFloat(double(*a)),
          llvm::APFloat(double(*b)), llvm::APFloat(double(*c)),
          mode->s() == "nesterov");
    }
    newX.push_back(op->getResult(0));
    for (unsigned k = 0; k < numState; ++k)
      newStates[k * n + i] = op->getResult(1 + k);
  }
  // Outputs: every new X, then every new state, in the inputs' order.
  SmallVector<Value> results(newX);
  llvm::append_range(results, newStates);
  for (auto [index, value] : llvm::enumerate(results)) {
    const std::string &name = node.output(index);
    if (name.empty())
      continue; // An output the model does not use.
    if (values.count(name) || initializers.count(name))
      return emitError(loc) << "'" << name << "' is defined more than once";
    values[name] = value;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> nncc::importONNXModel(MLIRContext &context,
                                            const onnx::ModelProto &model,
                                            StringRef fileName,
                                            const ImportOptions &options) {
  context.loadDialect<NNDialect, func::FuncDialect>();
  if (options.batchSize && *options.batchSize <= 0) {
    emitError(FileLineColLoc::get(&context, fileName, 0, 0))
        << "the batch size must be positive, got " << *options.batchSize;
    return nullptr;
  }
  return Importer(context, model, fileName, options).run();
}

OwningOpRef<ModuleOp> nncc::importONNXFile(MLIRContext &context,
                                           StringRef path,
                                           const ImportOptions &options) {
  onnx::ModelProto model;
  std::string error;
  if (!loadONNXModel(path.str(), model, error, options.maxModelBytes)) {
    emitError(FileLineColLoc::get(&context, path, 0, 0)) << error;
    return nullptr;
  }
  return importONNXModel(context, model, path, options);
}

OwningOpRef<ModuleOp> nncc::importONNXBuffer(MLIRContext &context,
                                             StringRef path,
                                             StringRef contents,
                                             const ImportOptions &options) {
  onnx::ModelProto model;
  std::string error;
  if (!parseONNXModel(path.str(), contents.str(), model, error)) {
    emitError(FileLineColLoc::get(&context, path, 0, 0)) << error;
    return nullptr;
  }
  return importONNXModel(context, model, path, options);
}
