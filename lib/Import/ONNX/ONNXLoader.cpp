//===- ONNXLoader.cpp - Reading ONNX ModelProto files --------------------===//
//
// Built with -fexceptions: the ONNX checker and parsers throw, and this file
// is the one place that catches. Nothing here builds IR.
//
//===----------------------------------------------------------------------===//

#include "nncc/Import/ONNX/ONNXLoader.h"

#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/onnx_pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <exception>
#include <fstream>
#include <sstream>

using namespace nncc;

static bool endsWith(const std::string &s, const char *suffix) {
  size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

/// Collects protobuf text-format errors instead of printing them.
namespace {
class TextErrorCollector : public google::protobuf::io::ErrorCollector {
public:
  void AddError(int line, int column, const std::string &message) override {
    if (first.empty())
      first = "line " + std::to_string(line + 1) + ":" +
              std::to_string(column + 1) + ": " + message;
  }
  std::string first;
};
} // namespace

/// The checker's messages span lines and end with a "==> Context:" trailer:
/// keep what is wrong, on one line.
static std::string oneLine(const std::string &message) {
  std::string text = message.substr(0, message.find("==> Context:"));
  std::string result;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !result.empty();
      continue;
    }
    if (space)
      result += ' ';
    space = false;
    result += c;
  }
  return result;
}

static bool readFile(const std::string &path, std::string &contents,
                     std::string &error, uint64_t maxBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open the file";
    return false;
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) {
    error = "cannot read the file";
    return false;
  }
  if (static_cast<uint64_t>(size) > maxBytes) {
    error = "the file has " + std::to_string(size) +
            " bytes, more than the limit of " + std::to_string(maxBytes);
    return false;
  }
  if (size == 0) {
    error = "the file is empty";
    return false;
  }
  in.seekg(0, std::ios::beg);
  contents.resize(static_cast<size_t>(size));
  if (!in.read(&contents[0], size)) {
    error = "cannot read the file";
    return false;
  }
  return true;
}

static bool parseModel(const std::string &path, const std::string &contents,
                       onnx::ModelProto &model, std::string &error) {
  if (endsWith(path, ".onnxtxt")) {
    onnx::Common::Status status =
        onnx::OnnxParser::Parse(model, contents.c_str());
    if (!status.IsOK()) {
      error = "invalid ONNX text syntax: " + status.ErrorMessage();
      return false;
    }
    return true;
  }
  if (endsWith(path, ".pbtxt") || endsWith(path, ".textproto")) {
    google::protobuf::TextFormat::Parser parser;
    TextErrorCollector errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(contents, &model)) {
      error = "invalid protobuf text format: " + errors.first;
      return false;
    }
    return true;
  }
  google::protobuf::io::ArrayInputStream stream(contents.data(),
                                                static_cast<int>(contents.size()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(static_cast<int>(
      std::min<size_t>(contents.size() + 1, INT32_MAX)));
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    error = "not a valid ONNX model (binary protobuf parse failed)";
    return false;
  }
  return true;
}

bool nncc::parseONNXModel(const std::string &path, const std::string &contents,
                          onnx::ModelProto &model, std::string &error) {
  try {
    if (contents.empty()) {
      error = "the file is empty";
      return false;
    }
    if (contents.size() > INT32_MAX) {
      error = "models over 2 GiB are not supported";
      return false;
    }
    if (!parseModel(path, contents, model, error))
      return false;
    if (!model.has_graph()) {
      error = "the model has no graph";
      return false;
    }
    onnx::checker::check_model(model);
    return true;
  } catch (const std::exception &e) {
    error = "invalid model: " + oneLine(e.what());
    return false;
  } catch (...) {
    error = "invalid model";
    return false;
  }
}

bool nncc::loadONNXModel(const std::string &path, onnx::ModelProto &model,
                         std::string &error, uint64_t maxBytes) {
  std::string contents;
  try {
    if (!readFile(path, contents, error, maxBytes))
      return false;
  } catch (const std::exception &e) {
    error = std::string("cannot read the file: ") + e.what();
    return false;
  }
  return parseONNXModel(path, contents, model, error);
}
