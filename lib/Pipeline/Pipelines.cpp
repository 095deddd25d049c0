//===- Pipelines.cpp - nncc's pass pipelines -----------------------------===//
//
// The order of the compiler's stages, in one place, as textual pipelines so
// that each stage reads exactly as its lit tests run it.
//
//===----------------------------------------------------------------------===//

#include "nncc/Pipeline/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;

static void addPipeline(OpPassManager &pm, llvm::StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("nncc: invalid built-in pass pipeline");
}

void nncc::buildNNOptimizationPipeline(OpPassManager &pm) {
  addPipeline(pm, "nn-specialize-inference,canonicalize,cse,func.func(nn-fuse)");
}

void nncc::buildBufferizationPipeline(OpPassManager &pm) {
  addPipeline(pm,
              // No CSE here: merged tensor.empty ops would make two kernels
              // write one buffer.
              "func.func(convert-nn-to-linalg,nn-fuse-kernels),canonicalize,"
              "func.func(nn-prepare-bufferization),"
              // Parameters and inputs are read-only arguments; results (the
              // loss, outputs, updated parameters) become out-parameters
              // that the final computations write directly.
              "one-shot-bufferize{bufferize-function-boundaries "
              "function-boundary-type-conversion=identity-layout-map},"
              "buffer-results-to-out-params{hoist-static-allocs},"
              // The fused softmax/cross-entropy kernel is an scf.forall
              // on tensors (rows in parallel, each with its own loops).
              "canonicalize,func.func(scf-forall-to-parallel,"
              "nn-expand-strided-copies),"
              // A module pass: it declares the runtime's GEMM.
              "nn-lower-matmul-calls,"
              "func.func(nn-flatten-elementwise,nn-plan-memory)");
}

void nncc::buildLLVMLoweringPipeline(OpPassManager &pm) {
  addPipeline(pm,
              // tanh, exp, log and erf as vectorizable polynomials; sqrt
              // and the rest LLVM has intrinsics for as those; only what
              // remains calls libm.
              "func.func(convert-linalg-to-parallel-loops,"
              "nn-promote-accumulators,nn-approximate-math),"
              // With --threads, large nests move to functions that the
              // pool runs on ranges of their first dimension.
              "nn-outline-parallel-loops,"
              // Views at offsets a loop computes (a row of the fused
              // cross-entropy kernel) expand to affine.apply: before
              // lower-affine.
              "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
              "convert-math-to-llvm,convert-math-to-libm,"
              "finalize-memref-to-llvm,"
              "convert-arith-to-llvm,convert-index-to-llvm,"
              "convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
              "convert-cf-to-llvm,reconcile-unrealized-casts,"
              "nn-lower-parallel-dispatch,nn-widen-bool-memory");
}

void nncc::registerPipelines() {
  PassPipelineRegistration<>("nncc-optimize",
                             "Graph-level clean-up of nn functions",
                             buildNNOptimizationPipeline);
  PassPipelineRegistration<>(
      "nncc-bufferize",
      "nn on tensors to linalg on memrefs in one planned arena",
      buildBufferizationPipeline);
  PassPipelineRegistration<>("nncc-lower-to-llvm",
                             "Planned memrefs to the LLVM dialect",
                             buildLLVMLoweringPipeline);
}
