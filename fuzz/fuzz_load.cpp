//===- fuzz_load.cpp - Fuzz the parsing and checking of ONNX models ------===//
//
// Feeds arbitrary bytes to the model loader as each of the three formats it
// reads. Anything but a clean accept or reject (a crash, a leak, a hang, an
// uncaught exception) is a bug.
//
//===----------------------------------------------------------------------===//

#include "nncc/Import/ONNX/ONNXLoader.h"

#include "onnx/onnx_pb.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string contents(reinterpret_cast<const char *>(data), size);
  // Every input as each format: binary, ONNX text syntax, protobuf text.
  for (const char *name : {"fuzz.onnx", "fuzz.onnxtxt", "fuzz.pbtxt"}) {
    onnx::ModelProto model;
    std::string error;
    (void)nncc::parseONNXModel(name, contents, model, error);
  }
  return 0;
}
