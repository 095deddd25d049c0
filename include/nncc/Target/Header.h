//===- Header.h - The C header of a generated library -----------*- C++ -*-===//

#ifndef NNCC_TARGET_HEADER_H
#define NNCC_TARGET_HEADER_H

#include "llvm/ADT/StringRef.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace nncc {

struct ModelInterface;

/// Writes the C header of a library with `prefix` (ABI.md, with every
/// identifier prefixed) and the model's shapes and sizes as macros.
void emitHeader(const ModelInterface &iface, llvm::StringRef prefix,
                llvm::StringRef modelName, llvm::raw_ostream &os);

/// True when `prefix` is a valid C identifier to start exported names with.
bool isValidPrefix(llvm::StringRef prefix);

} // namespace nncc

#endif // NNCC_TARGET_HEADER_H
