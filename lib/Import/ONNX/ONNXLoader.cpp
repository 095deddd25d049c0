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
#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
  google::protobuf::io::ArrayInputStream stream(
      contents.data(), static_cast<int>(contents.size()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(
      static_cast<int>(std::min<size_t>(contents.size() + 1, INT32_MAX)));
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    error = "not a valid ONNX model (binary protobuf parse failed)";
    return false;
  }
  return true;
}

/// The directory of `path`, "." for a bare file name.
static std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

static bool elementSize(int32_t type, uint64_t &size) {
  switch (type) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::INT32:
    size = 4;
    return true;
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::DOUBLE:
    size = 8;
    return true;
  default:
    return false;
  }
}

/// Reads one initializer's external data into raw_data, after checking that
/// the file is a regular file inside the model's folder (a relative path, no
/// "..", no symlink, resolving inside the folder) and that offset and length
/// lie within it and match the tensor's size.
static bool inlineExternalData(onnx::TensorProto &tensor,
                               const std::string &modelDir,
                               std::string &error) {
  std::string what = "tensor '" + tensor.name() + "': external data";
  std::string location;
  long long offset = 0, length = -1;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    const std::string &key = entry.key(), &value = entry.value();
    if (key == "location") {
      location = value;
    } else if (key == "offset" || key == "length") {
      char *end = nullptr;
      errno = 0;
      long long number = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end || errno || number < 0) {
        error = what + " has an invalid " + key + " '" + value + "'";
        return false;
      }
      (key == "offset" ? offset : length) = number;
    } else if (key != "checksum") {
      error = what + " has an unknown key '" + key + "'";
      return false;
    }
  }
  if (location.empty()) {
    error = what + " has no location";
    return false;
  }
  if (location[0] == '/') {
    error = what + " location '" + location +
            "' is absolute; it must be relative to the model's folder";
    return false;
  }
  std::stringstream parts(location);
  for (std::string part; std::getline(parts, part, '/');)
    if (part == "..") {
      error = what + " location '" + location + "' leaves the model's folder";
      return false;
    }
  std::string path = modelDir + "/" + location;
  struct stat info;
  if (lstat(path.c_str(), &info) != 0) {
    error = what + " file '" + location + "' does not exist";
    return false;
  }
  if (S_ISLNK(info.st_mode) || !S_ISREG(info.st_mode)) {
    error =
        what + " file '" + location + "' is a symlink or not a regular file";
    return false;
  }
  // A symlinked folder on the way could still lead outside.
  char resolvedDir[PATH_MAX], resolvedFile[PATH_MAX];
  if (!realpath(modelDir.c_str(), resolvedDir) ||
      !realpath(path.c_str(), resolvedFile) ||
      std::string(resolvedFile).rfind(std::string(resolvedDir) + "/", 0) != 0) {
    error = what + " file '" + location + "' is outside the model's folder";
    return false;
  }
  uint64_t elementBytes = 0;
  if (!elementSize(tensor.data_type(), elementBytes)) {
    error = what + " of this element type is not supported";
    return false;
  }
  uint64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d && count > UINT64_MAX / static_cast<uint64_t>(d))) {
      error = what + ": the tensor's dimensions are invalid";
      return false;
    }
    count *= static_cast<uint64_t>(d);
  }
  uint64_t fileSize = static_cast<uint64_t>(info.st_size);
  if (static_cast<uint64_t>(offset) > fileSize) {
    error = what + " offset " + std::to_string(offset) +
            " is beyond the end of '" + location + "'";
    return false;
  }
  uint64_t available = fileSize - static_cast<uint64_t>(offset);
  uint64_t bytes = length < 0 ? available : static_cast<uint64_t>(length);
  if (bytes > available) {
    error = what + " offset and length run past the end of '" + location + "'";
    return false;
  }
  if (count > UINT64_MAX / elementBytes || bytes != count * elementBytes) {
    error = what + " has " + std::to_string(bytes) +
            " bytes, but the tensor needs " +
            std::to_string(count * elementBytes);
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::string data(bytes, '\0');
  if (!in.seekg(offset) || (bytes && !in.read(&data[0], bytes))) {
    error = what + " cannot be read from '" + location + "'";
    return false;
  }
  tensor.set_raw_data(std::move(data));
  tensor.clear_external_data();
  tensor.set_data_location(onnx::TensorProto::DEFAULT);
  return true;
}

/// Whether every output of the main graph is a graph input, an initializer
/// (from IR version 4, where initializers need not be inputs) or a node's
/// output.
static bool definesEveryOutput(const onnx::ModelProto &model,
                               std::string &error) {
  const onnx::GraphProto &graph = model.graph();
  std::unordered_set<std::string> defined;
  for (const onnx::ValueInfoProto &input : graph.input())
    defined.insert(input.name());
  if (model.ir_version() >= 4)
    for (const onnx::TensorProto &tensor : graph.initializer())
      defined.insert(tensor.name());
  for (const onnx::NodeProto &node : graph.node())
    defined.insert(node.output().begin(), node.output().end());
  for (const onnx::ValueInfoProto &output : graph.output())
    if (!defined.count(output.name())) {
      error = "graph output '" + output.name() +
              "' is not produced by any node, input or initializer";
      return false;
    }
  return true;
}

/// Upgrades `model` with ONNX's shape inference and version converter, in
/// this process. Throws as they do.
static onnx::ModelProto convertOpset(const onnx::ModelProto &model) {
  // The converter's adapters read their inputs' shapes (Softsign's
  // broadcasting Div and Add, for one).
  onnx::ModelProto shaped = model;
  onnx::shape_inference::InferShapes(shaped);
  onnx::ModelProto upgraded = onnx::version_conversion::ConvertVersion(
      shaped, static_cast<int>(kMinImportedOpset));
  onnx::checker::check_model(upgraded);
  return upgraded;
}

/// Writes all of `data` to `fd`; false on an error.
static bool writeAll(int fd, const char *data, size_t size) {
  while (size) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

/// Runs convertOpset in a child process and returns what it printed: 'M'
/// and the upgraded model, or 'E' and the error message. The old opsets'
/// shape inference functions index shapes without checking ranks (opset 6's
/// Gemm reads dimension 1 of a rank-1 B), so a malformed model can crash
/// them; isolated, such a crash is an error of this model, not of nncc.
static bool convertOpsetIsolated(const onnx::ModelProto &model,
                                 onnx::ModelProto &upgraded,
                                 std::string &error) {
  int fds[2];
  if (::pipe(fds) != 0) {
    error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return false;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("cannot fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    ::close(fds[0]);
    // A crash is reported by the parent, in one line: no crash handler's
    // stack dump (LLVM's, a sanitizer's) and no library warnings here.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
      ::signal(sig, SIG_DFL);
    int devNull = ::open("/dev/null", O_WRONLY);
    if (devNull >= 0)
      ::dup2(devNull, STDERR_FILENO);
    std::string reply;
    try {
      reply = "M" + convertOpset(model).SerializeAsString();
    } catch (const std::exception &e) {
      reply = "E" + oneLine(e.what());
    } catch (...) {
      reply = "E" "the converter failed";
    }
    // _exit: the child must not run the parent's atexit handlers or flush
    // its stdio buffers a second time.
    ::_exit(writeAll(fds[1], reply.data(), reply.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string reply;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || reply.empty()) {
    error = WIFSIGNALED(status)
                ? "ONNX's shape inference or version converter crashed on "
                  "the model (signal " +
                      std::to_string(WTERMSIG(status)) +
                      "), as they do on shapes a node's opset does not "
                      "allow"
                : "ONNX's shape inference or version converter failed on "
                  "the model";
    return false;
  }
  if (reply[0] == 'E') {
    error = reply.substr(1);
    return false;
  }
  if (!upgraded.ParseFromArray(reply.data() + 1,
                               static_cast<int>(reply.size() - 1))) {
    error = "the upgraded model cannot be read back";
    return false;
  }
  return true;
}

/// Upgrades a model older than kMinImportedOpset (the ONNX data's
/// pytorch-converted models are at opset 6) with ONNX's version converter,
/// which rewrites each node for the newer semantics.
static bool upgradeOldOpset(onnx::ModelProto &model, std::string &error) {
  // The first default-domain entry, as the converter reads it.
  int64_t version = -1;
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    if (opset.domain().empty() || opset.domain() == "ai.onnx") {
      version = opset.version();
      break;
    }
  if (version < 1 || version >= kMinImportedOpset)
    return true;
  std::string prefix = "cannot upgrade the model from opset " +
                       std::to_string(version) + " to " +
                       std::to_string(kMinImportedOpset) +
                       " (ONNX's version converter): ";
  // The converter's graph import dereferences whatever a graph output names
  // without looking it up (a null pointer for a name nothing defines); the
  // checker does not check it.
  onnx::ModelProto upgraded;
  if (!definesEveryOutput(model, error) ||
      !convertOpsetIsolated(model, upgraded, error)) {
    error = prefix + error;
    return false;
  }
  model = std::move(upgraded);
  return true;
}

/// Parses `contents` (the file `path`) into `model` and reads its
/// initializers' external data in. Throws what the parsers throw.
static bool parseWithExternalData(const std::string &path,
                                  const std::string &contents,
                                  onnx::ModelProto &model, std::string &error) {
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
  std::string modelDir = directoryOf(path);
  for (onnx::TensorProto &tensor :
       *model.mutable_graph()->mutable_initializer())
    if (tensor.data_location() == onnx::TensorProto::EXTERNAL &&
        !inlineExternalData(tensor, modelDir, error))
      return false;
  return true;
}

bool nncc::parseONNXModel(const std::string &path, const std::string &contents,
                          onnx::ModelProto &model, std::string &error) {
  try {
    if (!parseWithExternalData(path, contents, model, error))
      return false;
    onnx::checker::check_model(model);
    return upgradeOldOpset(model, error);
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

bool nncc::readONNXModel(const std::string &path, onnx::ModelProto &model,
                         std::string &error, uint64_t maxBytes) {
  try {
    std::string contents;
    return readFile(path, contents, error, maxBytes) &&
           parseWithExternalData(path, contents, model, error);
  } catch (const std::exception &e) {
    error = "invalid model: " + oneLine(e.what());
    return false;
  } catch (...) {
    error = "invalid model";
    return false;
  }
}

bool nncc::checkONNXModel(const onnx::ModelProto &model, std::string &error) {
  try {
    onnx::checker::check_model(model);
    return true;
  } catch (const std::exception &e) {
    error = oneLine(e.what());
    return false;
  } catch (...) {
    error = "the ONNX checker failed";
    return false;
  }
}
