//===- CommandLine.h - nncc's compile options, declared once ----*- C++ -*-===//
//
// The options of ABI.md that shape a compiled library (loss, optimizer,
// batch, limits, code generation), declared once for every tool that
// compiles a model or must know how one was compiled: `nncc`, and
// `nncc-export`, which rebuilds the library's interface to read its
// checkpoints. Each tool declares its own positional arguments, `-o` and
// what only it has, then:
//
//   nncc::registerCompilerCLOptions();
//   // --stats and --threads, whose names LLVM holds:
//   nncc::takeLLVMOwnedOptions(argc, argv, args, "nncc");
//   llvm::cl::ParseCommandLineOptions(args.size(), args.data(), ...);
//   nncc::CompilerOptions options;
//   if (failed(nncc::compilerOptionsFromCL(options, "nncc"))) return 1;
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_PIPELINE_COMMANDLINE_H
#define NNCC_PIPELINE_COMMANDLINE_H

#include "nncc/Pipeline/Compiler.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CommandLine.h"

namespace nncc {

/// The category of the compile options, under which `--help` lists them.
llvm::cl::OptionCategory &compilerOptionCategory();

/// Registers the compile options with LLVM's command-line parser.
void registerCompilerCLOptions();

/// Copies `argv` into `args` without `--stats` and `--threads[=]N`, whose
/// names LLVM's own options hold, and keeps their values for
/// compilerOptionsFromCL. Fails, printing `TOOL: error: ...`, when
/// `--threads` has no value.
mlir::LogicalResult
takeLLVMOwnedOptions(int argc, char **argv,
                     llvm::SmallVectorImpl<const char *> &args,
                     llvm::StringRef tool);

/// Fills every field of `options` but input, output, emit and inference
/// from the parsed command line. Prints `TOOL: error: ...` and fails on a
/// value that is not a number, out of range or unknown.
mlir::LogicalResult compilerOptionsFromCL(CompilerOptions &options,
                                          llvm::StringRef tool);

} // namespace nncc

#endif // NNCC_PIPELINE_COMMANDLINE_H
