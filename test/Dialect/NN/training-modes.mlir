// RUN: nncc-opt %s -split-input-file | nncc-opt -split-input-file | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: nncc-opt %s -split-input-file -nn-build-training="lr=0.5" | FileCheck %s --check-prefix=TRAIN
// RUN: nncc-opt %s -split-input-file -nn-build-training="lr=0.5" -nn-specialize-inference -canonicalize | FileCheck %s --check-prefix=INFER

// Dropout: a training step multiplies by the step's mask, which reads the
// step number from the hyperparameters; @forward is the identity.

// ROUNDTRIP-LABEL: func.func @forward
// ROUNDTRIP: %[[M:.+]] = nn.dropout_mask {ratio = 2.500000e-01 : f64, seed = 3 : i64} : tensor<4x2xf32>
// ROUNDTRIP: %[[D:.+]] = nn.mul %{{.+}}, %[[M]]
// ROUNDTRIP: nn.training_select %[[D]], %{{.+}} : tensor<4x2xf32>

// TRAIN-LABEL: func.func @train_step
// TRAIN-SAME: %[[H:[^:]+]]: tensor<10xf32> {nn.role = "hyper"}
// TRAIN: %[[M:.+]] = nn.dropout_mask step(%[[H]] : tensor<10xf32>) {ratio = 2.500000e-01 : f64, seed = 3 : i64} : tensor<4x2xf32>
// TRAIN: %[[D:.+]] = nn.mul %{{.+}}, %[[M]]
// TRAIN-NOT: nn.training_select
// TRAIN: nn.mse_loss %[[D]]
// The gradient goes through the same mask.
// TRAIN: nn.mul %{{.+}}, %[[M]]

// INFER-LABEL: func.func @forward
// INFER-SAME: (%[[X:[^:]+]]: tensor<4x2xf32>
// INFER-NOT: nn.dropout_mask
// INFER-NOT: nn.training_select
// INFER: %[[Y:.+]] = nn.mul %[[X]], %{{.+}} : tensor<4x2xf32>, tensor<2xf32>
// INFER-NEXT: return %[[Y]]
func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %w: tensor<2xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<2xf32>})
    -> (tensor<4x2xf32> {nn.name = "y", nn.role = "output"}) {
  %h = nn.mul %x, %w : tensor<4x2xf32>, tensor<2xf32>
  %m = nn.dropout_mask {ratio = 0.25 : f64, seed = 3 : i64} : tensor<4x2xf32>
  %d = nn.mul %h, %m : tensor<4x2xf32>, tensor<4x2xf32>
  %y = nn.training_select %d, %h : tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// Running statistics: a frozen parameter that a training step replaces
// (marked nn.running, returned after the trained parameters' order); a sample
// mask of the batch's real samples reads the count. Inference drops the
// update, and the sample mask folds to ones.

// ROUNDTRIP-LABEL: func.func @forward
// ROUNDTRIP: nn.sample_mask : tensor<4x1xf32>
// ROUNDTRIP: nn.running_update %{{.+}}, %{{.+}} : tensor<2xf32>

// TRAIN-LABEL: func.func @train_step
// TRAIN-SAME: %[[N:[^:]+]]: tensor<i64> {nn.role = "count"}
// TRAIN-SAME: %[[W:[^:]+]]: tensor<2xf32> {nn.name = "w", nn.param = {{[^,]+}}, nn.role = "param"}
// TRAIN-SAME: %[[R:[^:]+]]: tensor<2xf32> {nn.frozen, nn.name = "running", nn.param = {{[^,]+}}, nn.role = "param", nn.running}
// TRAIN-SAME: -> (tensor<f32> {nn.role = "loss"}, tensor<2xf32> {nn.name = "w", nn.role = "param"}, tensor<2xf32> {nn.name = "running", nn.role = "param"})
// TRAIN: %[[S:.+]] = nn.sample_mask count(%[[N]] : tensor<i64>) : tensor<4x1xf32>
// TRAIN-NOT: nn.running_update
// TRAIN: %[[NEW:.+]] = nn.add %[[R]], %{{.+}} : tensor<2xf32>, tensor<2xf32>
// TRAIN: %[[W2:.+]] = nn.sgd_update %[[W]]
// TRAIN: return %{{.+}}, %[[W2]], %[[NEW]]

// INFER-LABEL: func.func @forward
// INFER-NOT: nn.sample_mask
// INFER-NOT: nn.running_update
// INFER: return
func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %w: tensor<2xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<2xf32>},
                   %r: tensor<2xf32> {nn.name = "running", nn.role = "param", nn.frozen, nn.param = dense<0.0> : tensor<2xf32>})
    -> (tensor<4x2xf32> {nn.name = "y", nn.role = "output"}) {
  %s = nn.sample_mask : tensor<4x1xf32>
  %xs = nn.mul %x, %s : tensor<4x2xf32>, tensor<4x1xf32>
  %sum = nn.reduce_sum %xs axes [0] : tensor<4x2xf32>
  %new = nn.add %r, %sum : tensor<2xf32>, tensor<2xf32>
  nn.running_update %r, %new : tensor<2xf32>
  %y = nn.mul %x, %w : tensor<4x2xf32>, tensor<2xf32>
  return %y : tensor<4x2xf32>
}
