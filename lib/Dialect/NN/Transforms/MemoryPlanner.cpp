//===- MemoryPlanner.cpp - Static placement of buffers in an arena -------===//

#include "nncc/Dialect/NN/Transforms/MemoryPlanner.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"
#include <algorithm>
#include <numeric>

using namespace nncc::nn;

MemoryPlan nncc::nn::planMemory(llvm::ArrayRef<BufferLifetime> buffers,
                                uint64_t alignment) {
  MemoryPlan plan;
  plan.offsets.assign(buffers.size(), 0);

  // Largest first, ties by earlier start, then by position: a total order,
  // so the result is deterministic.
  llvm::SmallVector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](size_t a, size_t b) {
    if (buffers[a].size != buffers[b].size)
      return buffers[a].size > buffers[b].size;
    if (buffers[a].start != buffers[b].start)
      return buffers[a].start < buffers[b].start;
    return a < b;
  });

  llvm::SmallVector<size_t> placed;
  for (size_t i : order) {
    const BufferLifetime &buffer = buffers[i];
    uint64_t size = llvm::alignTo(std::max<uint64_t>(buffer.size, 1), alignment);

    // The byte ranges taken, during this buffer's lifetime, by placed buffers.
    llvm::SmallVector<std::pair<uint64_t, uint64_t>> taken;
    for (size_t j : placed) {
      const BufferLifetime &other = buffers[j];
      if (other.end < buffer.start || buffer.end < other.start)
        continue;
      taken.push_back({plan.offsets[j],
                       plan.offsets[j] + llvm::alignTo(
                                             std::max<uint64_t>(other.size, 1),
                                             alignment)});
    }
    llvm::sort(taken);

    // Best fit: the smallest gap that holds the buffer; else after them all.
    uint64_t best = UINT64_MAX, bestGap = UINT64_MAX, cursor = 0;
    for (auto [begin, end] : taken) {
      if (begin > cursor && begin - cursor >= size && begin - cursor < bestGap) {
        best = cursor;
        bestGap = begin - cursor;
      }
      cursor = std::max(cursor, end);
    }
    if (best == UINT64_MAX)
      best = cursor;
    plan.offsets[i] = best;
    plan.arenaBytes = std::max(plan.arenaBytes, best + size);
    placed.push_back(i);
  }
  return plan;
}
