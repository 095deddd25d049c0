//===- Stats.h - What nncc --stats reports ----------------------*- C++ -*-===//

#ifndef NNCC_PIPELINE_STATS_H
#define NNCC_PIPELINE_STATS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
class ModuleOp;
} // namespace mlir

namespace nncc {

/// The cost of one generated function (@forward, @train_step).
struct FunctionStats {
  std::string name;
  int64_t ops = 0;        ///< nn ops, constants aside, before fusion
  int64_t kernels = 0;    ///< loop nests after fusion and bufferization
  int64_t arenaBytes = 0; ///< the planned workspace
  int64_t naiveBytes = 0; ///< the sum of all intermediate buffers
  int64_t paramBytes = 0; ///< parameters the function reads
  int64_t stateBytes = 0; ///< optimizer state it reads and writes
  int64_t flops = 0;      ///< floating-point operations of one call
};

/// Fills name, ops, paramBytes, stateBytes and flops from an nn-level module.
std::vector<FunctionStats> collectGraphStats(mlir::ModuleOp module);

/// Fills kernels, arenaBytes and naiveBytes from the same module after
/// nncc-bufferize.
void collectKernelStats(mlir::ModuleOp module,
                        std::vector<FunctionStats> &stats);

/// `NAME: ops=N kernels=N arena_bytes=N naive_bytes=N param_bytes=N
/// state_bytes=N flops=N`, one line per function.
void printStats(const std::vector<FunctionStats> &stats, llvm::raw_ostream &os);

} // namespace nncc

#endif // NNCC_PIPELINE_STATS_H
