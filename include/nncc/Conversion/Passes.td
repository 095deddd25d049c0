//===- Passes.td - Conversions out of the nn dialect -------*- tablegen -*-===//

#ifndef NNCC_CONVERSION_PASSES_TD
#define NNCC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertNNToLinalg : Pass<"convert-nn-to-linalg"> {
  let summary = "Lower nn ops to linalg, tensor and arith ops on tensors";
  let description = [{
    Every nn op becomes a `linalg.generic` (or a tensor reshape) in
    destination-passing style on tensors, ready for one-shot bufferization.
    Elementwise ops with broadcasting read their operands through projected
    indexing maps, so no broadcast is materialized. Scatters (the
    gradients of gather, of a convolution's input and of pooling) become
    `scf.for` nests that update a tensor in place.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // NNCC_CONVERSION_PASSES_TD
