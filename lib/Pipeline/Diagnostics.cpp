//===- Diagnostics.cpp - One-line diagnostics for model files ------------===//

#include "nncc/Pipeline/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace nncc;

ModelDiagnosticHandler::ModelDiagnosticHandler(MLIRContext &context,
                                               llvm::raw_ostream &os)
    : context(context) {
  id = context.getDiagEngine().registerHandler([&os](Diagnostic &diag) {
    print(diag, os);
    return success();
  });
}

ModelDiagnosticHandler::~ModelDiagnosticHandler() {
  context.getDiagEngine().eraseHandler(id);
}

void ModelDiagnosticHandler::print(Diagnostic &diag, llvm::raw_ostream &os) {
  // The innermost name is the node; the file comes from a FileLineColLoc.
  std::string node;
  std::string file = "nncc";
  unsigned line = 0, column = 0;
  diag.getLocation()->walk([&](Location loc) {
    if (auto name = dyn_cast<NameLoc>(loc)) {
      if (node.empty())
        node = name.getName().str();
    } else if (auto fileLoc = dyn_cast<FileLineColLoc>(loc)) {
      file = fileLoc.getFilename().str();
      line = fileLoc.getLine();
      column = fileLoc.getColumn();
    }
    return WalkResult::advance();
  });
  os << file;
  if (line)
    os << ":" << line << ":" << column;
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << ": error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << ": warning: ";
    break;
  case DiagnosticSeverity::Note:
    os << ": note: ";
    break;
  case DiagnosticSeverity::Remark:
    os << ": remark: ";
    break;
  }
  if (!node.empty())
    os << "node '" << node << "': ";
  std::string message = diag.str();
  // One line per diagnostic, whatever the message holds.
  for (char &c : message)
    if (c == '\n')
      c = ' ';
  os << message << "\n";
  os.flush();
}
