// RUN: nncc-opt %s -convert-nn-to-linalg -verify-diagnostics

// Outside a training step, a dropout mask has no step number: it is not
// lowered.
func.func @no_step() -> tensor<3xf32> {
  // expected-error @+1 {{failed to legalize operation 'nn.dropout_mask'}}
  %m = nn.dropout_mask {ratio = 0.2 : f64, seed = 1 : i64} : tensor<3xf32>
  return %m : tensor<3xf32>
}
