//===- MemoryPlannerTest.cpp - Invariants of the static memory planner ---===//

#include "nncc/Dialect/NN/Transforms/MemoryPlanner.h"

#include "gtest/gtest.h"

#include <random>

using namespace nncc::nn;

namespace {

bool overlapInTime(const BufferLifetime &a, const BufferLifetime &b) {
  return !(a.end < b.start || b.end < a.start);
}

/// Checks every invariant the planner promises.
void checkPlan(llvm::ArrayRef<BufferLifetime> buffers, const MemoryPlan &plan,
               uint64_t alignment) {
  ASSERT_EQ(plan.offsets.size(), buffers.size());
  uint64_t sum = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % alignment, 0u) << "buffer " << i;
    EXPECT_LE(plan.offsets[i] + buffers[i].size, plan.arenaBytes);
    sum += (buffers[i].size + alignment - 1) / alignment * alignment;
    for (size_t j = 0; j < i; ++j) {
      if (!overlapInTime(buffers[i], buffers[j]))
        continue;
      bool disjoint = plan.offsets[i] + buffers[i].size <= plan.offsets[j] ||
                      plan.offsets[j] + buffers[j].size <= plan.offsets[i];
      EXPECT_TRUE(disjoint) << "buffers " << i << " and " << j
                            << " are live together and overlap";
    }
  }
  EXPECT_LE(plan.arenaBytes, std::max<uint64_t>(sum, 0));
}

TEST(MemoryPlanner, Empty) {
  MemoryPlan plan = planMemory({}, 64);
  EXPECT_TRUE(plan.offsets.empty());
  EXPECT_EQ(plan.arenaBytes, 0u);
}

TEST(MemoryPlanner, DisjointLifetimesShareBytes) {
  std::vector<BufferLifetime> buffers = {{0, 1, 100}, {2, 3, 100}, {4, 5, 100}};
  MemoryPlan plan = planMemory(buffers, 64);
  checkPlan(buffers, plan, 64);
  EXPECT_EQ(plan.arenaBytes, 128u);
}

TEST(MemoryPlanner, OverlappingLifetimesDoNot) {
  std::vector<BufferLifetime> buffers = {{0, 5, 100}, {1, 3, 10}, {2, 4, 64}};
  MemoryPlan plan = planMemory(buffers, 64);
  checkPlan(buffers, plan, 64);
  EXPECT_EQ(plan.arenaBytes, 128u + 64u + 64u);
}

TEST(MemoryPlanner, BestFitFillsAGap) {
  // A (big) and C are live throughout; B dies early. D fits in B's gap.
  std::vector<BufferLifetime> buffers = {
      {0, 10, 1024}, {0, 2, 256}, {0, 10, 512}, {5, 10, 256}};
  MemoryPlan plan = planMemory(buffers, 64);
  checkPlan(buffers, plan, 64);
  EXPECT_EQ(plan.arenaBytes, 1024u + 512u + 256u);
  EXPECT_EQ(plan.offsets[3], plan.offsets[1]);
}

TEST(MemoryPlanner, RandomLifetimes) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 500; ++trial) {
    size_t count = rng() % 40;
    std::vector<BufferLifetime> buffers;
    for (size_t i = 0; i < count; ++i) {
      int64_t start = rng() % 100;
      int64_t end = start + rng() % 30;
      uint64_t size = 1 + rng() % 5000;
      buffers.push_back({start, end, size});
    }
    uint64_t alignment = uint64_t(1) << (rng() % 8);
    MemoryPlan plan = planMemory(buffers, alignment);
    checkPlan(buffers, plan, alignment);
    if (::testing::Test::HasFailure())
      FAIL() << "trial " << trial;
  }
}

} // namespace
