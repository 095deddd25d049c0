//===- ONNXLoader.h - Reading ONNX ModelProto files -------------*- C++ -*-===//
//
// The only code that calls into the ONNX and protobuf libraries' parsers and
// checker, which report errors with C++ exceptions: ONNXLoader.cpp is built
// with -fexceptions and turns every exception into an error message.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_IMPORT_ONNX_ONNXLOADER_H
#define NNCC_IMPORT_ONNX_ONNXLOADER_H

#include <cstdint>
#include <string>

namespace onnx {
class ModelProto;
} // namespace onnx

namespace nncc {

/// The largest model file nncc reads, in bytes, unless told otherwise.
constexpr uint64_t kDefaultMaxModelBytes = uint64_t(2) << 30;

/// The oldest default-domain opset whose semantics the importer implements;
/// older models are upgraded to it on loading.
constexpr int64_t kMinImportedOpset = 7;

/// Reads `path` into `model`. The format follows the extension: `.onnxtxt` is
/// the ONNX text syntax, `.pbtxt`/`.textproto` protobuf text format, anything
/// else the binary protobuf encoding. Then runs onnx::checker on it, and
/// upgrades a model whose default-domain opset is older than
/// kMinImportedOpset with ONNX's version converter. On failure returns false
/// and sets `error` to a one-line message.
bool loadONNXModel(const std::string &path, onnx::ModelProto &model,
                   std::string &error,
                   uint64_t maxBytes = kDefaultMaxModelBytes);

/// As loadONNXModel, for a file already in memory; `path` gives the format.
bool parseONNXModel(const std::string &path, const std::string &contents,
                    onnx::ModelProto &model, std::string &error);

/// Reads `path` into `model` as the file has it, with only its initializers'
/// external data read in (so that the model is one file): no checker, no
/// upgrade. For tools that write a model back (nncc-export).
bool readONNXModel(const std::string &path, onnx::ModelProto &model,
                   std::string &error,
                   uint64_t maxBytes = kDefaultMaxModelBytes);

/// Runs onnx::checker on `model`; on failure returns false and sets `error`
/// to a one-line message.
bool checkONNXModel(const onnx::ModelProto &model, std::string &error);

} // namespace nncc

#endif // NNCC_IMPORT_ONNX_ONNXLOADER_H
