//===- MemoryPlanner.h - Static placement of buffers in an arena -*- C++ -*-===//
//
// The algorithm behind nn-plan-memory, separate from the IR so that unit
// tests can run it on many random sets of live ranges.
//
//===----------------------------------------------------------------------===//

#ifndef NNCC_DIALECT_NN_TRANSFORMS_MEMORYPLANNER_H
#define NNCC_DIALECT_NN_TRANSFORMS_MEMORYPLANNER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>

namespace nncc::nn {

/// A buffer that is live from `start` to `end` (inclusive positions in
/// program order) and needs `size` bytes.
struct BufferLifetime {
  int64_t start;
  int64_t end;
  uint64_t size;
};

struct MemoryPlan {
  /// The offset of each buffer in the arena, in the order given.
  llvm::SmallVector<uint64_t> offsets;
  /// The arena's size: the end of the highest placed buffer, aligned.
  uint64_t arenaBytes = 0;
};

/// Places the buffers greedily by decreasing size, each in the smallest gap
/// (best fit) between buffers already placed whose lifetimes overlap its own.
/// Every offset is a multiple of `alignment` (a power of two); buffers whose
/// lifetimes overlap never share a byte.
MemoryPlan planMemory(llvm::ArrayRef<BufferLifetime> buffers,
                      uint64_t alignment);

} // namespace nncc::nn

#endif // NNCC_DIALECT_NN_TRANSFORMS_MEMORYPLANNER_H
