// RUN: nncc-opt %s | FileCheck %s
// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -mlir-print-op-generic | nncc-opt | FileCheck %s

// CHECK-LABEL: func @arithmetic
func.func @arithmetic(%a: tensor<4x3xf32>, %b: tensor<3xf32>, %s: tensor<f32>) -> tensor<4x3xf32> {
  // CHECK: nn.add %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<3xf32>
  %0 = nn.add %a, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: nn.sub %{{.*}}, %{{.*}} : tensor<f32>, tensor<4x3xf32>
  %1 = nn.sub %s, %0 : tensor<f32>, tensor<4x3xf32>
  // CHECK: nn.mul
  %2 = nn.mul %1, %s : tensor<4x3xf32>, tensor<f32>
  // CHECK: nn.div
  %3 = nn.div %2, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: nn.neg %{{.*}} : tensor<4x3xf32>
  %4 = nn.neg %3 : tensor<4x3xf32>
  return %4 : tensor<4x3xf32>
}

// CHECK-LABEL: func @broadcast_both_ways
func.func @broadcast_both_ways(%a: tensor<4x1xf32>, %b: tensor<1x3xf32>) -> tensor<4x3xf32> {
  // CHECK: nn.add {{.*}} : tensor<4x1xf32>, tensor<1x3xf32>
  %0 = nn.add %a, %b : tensor<4x1xf32>, tensor<1x3xf32>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func @math
func.func @math(%x: tensor<3xf32>) -> tensor<3xf32> {
  // CHECK: nn.sqrt
  %0 = nn.sqrt %x : tensor<3xf32>
  // CHECK: nn.exp
  %1 = nn.exp %0 : tensor<3xf32>
  // CHECK: nn.log
  %2 = nn.log %1 : tensor<3xf32>
  // CHECK: nn.abs
  %3 = nn.abs %2 : tensor<3xf32>
  // CHECK: nn.reciprocal
  %4 = nn.reciprocal %3 : tensor<3xf32>
  // CHECK: nn.erf
  %5 = nn.erf %4 : tensor<3xf32>
  // CHECK: nn.sign
  %6 = nn.sign %5 : tensor<3xf32>
  return %6 : tensor<3xf32>
}

// CHECK-LABEL: func @activations
func.func @activations(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  // CHECK: nn.tanh
  %0 = nn.tanh %x : tensor<2x5xf32>
  // CHECK: nn.sigmoid
  %1 = nn.sigmoid %0 : tensor<2x5xf32>
  // CHECK: nn.relu
  %2 = nn.relu %1 : tensor<2x5xf32>
  // CHECK: nn.leaky_relu %{{.*}} {alpha = 1.000000e-01 : f64}
  %l = nn.leaky_relu %x {alpha = 0.1} : tensor<2x5xf32>
  // CHECK: nn.elu %{{.*}} {alpha = 1.000000e+00 : f64}
  %e = nn.elu %l {alpha = 1.0} : tensor<2x5xf32>
  // CHECK: nn.activation_grad %{{.*}}, %{{.*}} {alpha = 1.000000e+00 : f64, kind = "elu"}
  %g = nn.activation_grad %x, %e {kind = "elu", alpha = 1.0} : tensor<2x5xf32>
  // CHECK: nn.relu_grad %{{.*}}, %{{.*}} : tensor<2x5xf32>
  %3 = nn.relu_grad %x, %2 : tensor<2x5xf32>
  return %3 : tensor<2x5xf32>
}

// CHECK-LABEL: func @matmul
func.func @matmul(%a: tensor<4x2xf32>, %w: tensor<3x2xf32>, %v: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<2x2xf32>) {
  // CHECK: nn.matmul %{{.*}}, %{{.*}} transposed : tensor<4x2xf32>, tensor<3x2xf32>
  %0 = nn.matmul %a, %w transposed : tensor<4x2xf32>, tensor<3x2xf32>
  // CHECK: nn.matmul %{{.*}} transposed, %{{.*}} : tensor<4x3xf32>, tensor<4x2xf32>
  %1 = nn.matmul %v transposed, %a : tensor<4x3xf32>, tensor<4x2xf32>
  // CHECK: nn.matmul %{{.*}} transposed, %{{.*}} transposed : tensor<3x2xf32>, tensor<2x3xf32>
  %t = nn.reshape %1 to [2, 3] : tensor<3x2xf32>
  %2 = nn.matmul %w transposed, %t transposed : tensor<3x2xf32>, tensor<2x3xf32>
  return %0, %2 : tensor<4x3xf32>, tensor<2x2xf32>
}

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<4x3xf32>) -> (tensor<3xf32>, tensor<1x3xf32>, tensor<12xf32>, tensor<2x4x3xf32>) {
  // CHECK: nn.reduce_sum %{{.*}} axes [0] : tensor<4x3xf32>
  %0 = nn.reduce_sum %x axes [0] : tensor<4x3xf32>
  // CHECK: nn.reduce_sum %{{.*}} axes [0] keep_dims : tensor<4x3xf32>
  %1 = nn.reduce_sum %x axes [0] keep_dims : tensor<4x3xf32>
  // CHECK: nn.reshape %{{.*}} to [12] : tensor<4x3xf32>
  %2 = nn.reshape %x to [12] : tensor<4x3xf32>
  // CHECK: nn.transpose %{{.*}} perm [1, 0] : tensor<4x3xf32>
  %t = nn.transpose %x perm [1, 0] : tensor<4x3xf32>
  // CHECK: nn.broadcast_to %{{.*}} to [2, 4, 3] : tensor<4x3xf32>
  %3 = nn.broadcast_to %x to [2, 4, 3] : tensor<4x3xf32>
  return %0, %1, %2, %3 : tensor<3xf32>, tensor<1x3xf32>, tensor<12xf32>, tensor<2x4x3xf32>
}

// CHECK-LABEL: func @training
func.func @training(%y: tensor<4x1xf32>, %t: tensor<4x1xf32>, %n: tensor<i64>, %h: tensor<10xf32>) -> (tensor<f32>, tensor<4x1xf32>) {
  // CHECK: nn.constant dense<1.000000e+00> : tensor<f32>
  %one = nn.constant dense<1.0> : tensor<f32>
  // CHECK: nn.mse_loss %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x1xf32>, tensor<i64>
  %l = nn.mse_loss %y, %t, %n : tensor<4x1xf32>, tensor<i64>
  // CHECK: nn.mse_loss_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x1xf32>, tensor<i64>, tensor<f32>
  %d = nn.mse_loss_grad %y, %t, %n, %one : tensor<4x1xf32>, tensor<i64>, tensor<f32>
  // CHECK: nn.sgd_update %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x1xf32>, tensor<10xf32>
  %u = nn.sgd_update %y, %d, %h : tensor<4x1xf32>, tensor<10xf32>
  return %l, %u : tensor<f32>, tensor<4x1xf32>
}

// CHECK-LABEL: func @optimizers
func.func @optimizers(%p: tensor<3xf32>, %g: tensor<3xf32>, %s: tensor<3xf32>, %h: tensor<10xf32>) {
  // CHECK: nn.sgd_update %{{.*}}, %{{.*}} state(%{{.*}} : tensor<3xf32>), %{{.*}} {momentum = 9.000000e-01 : f64, nesterov} : tensor<3xf32>, tensor<10xf32>
  %0:2 = nn.sgd_update %p, %g state(%s : tensor<3xf32>), %h {momentum = 0.9, nesterov} : tensor<3xf32>, tensor<10xf32>
  // CHECK: nn.adam_update %{{.*}}, %{{.*}} state(%{{.*}}, %{{.*}}, %{{.*}} : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>), %{{.*}} {amsgrad, decoupled} : tensor<3xf32>, tensor<10xf32>
  %1:4 = nn.adam_update %p, %g state(%s, %s, %s : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>), %h {amsgrad, decoupled} : tensor<3xf32>, tensor<10xf32>
  // CHECK: nn.adagrad_update %{{.*}}, %{{.*}} state(%{{.*}} : tensor<3xf32>), %{{.*}} : tensor<3xf32>, tensor<10xf32>
  %2:2 = nn.adagrad_update %p, %g state(%s : tensor<3xf32>), %h : tensor<3xf32>, tensor<10xf32>
  return
}

// CHECK-LABEL: func @classification
func.func @classification(%x: tensor<4x5x3xf32>, %t: tensor<4x5xi64>, %n: tensor<i64>, %b: tensor<4x2xf32>) -> (tensor<f32>, tensor<4x5x3xf32>, tensor<f32>) {
  %one = nn.constant dense<1.0> : tensor<f32>
  // CHECK: nn.cross_entropy_loss %{{.*}}, %{{.*}}, %{{.*}} {ignore_index = 2 : i64, label_smoothing = 1.000000e-01 : f64} : tensor<4x5x3xf32>, tensor<4x5xi64>, tensor<i64>
  %0 = nn.cross_entropy_loss %x, %t, %n {ignore_index = 2 : i64, label_smoothing = 0.1} : tensor<4x5x3xf32>, tensor<4x5xi64>, tensor<i64>
  // CHECK: nn.cross_entropy_loss_grad
  %1 = nn.cross_entropy_loss_grad %x, %t, %n, %one : tensor<4x5x3xf32>, tensor<4x5xi64>, tensor<i64>, tensor<f32>
  // CHECK: nn.bce_with_logits_loss %{{.*}}, %{{.*}}, %{{.*}} : tensor<4x2xf32>, tensor<i64>
  %2 = nn.bce_with_logits_loss %b, %b, %n : tensor<4x2xf32>, tensor<i64>
  // CHECK: nn.bce_with_logits_loss_grad
  %3 = nn.bce_with_logits_loss_grad %b, %b, %n, %one : tensor<4x2xf32>, tensor<i64>, tensor<f32>
  return %0, %1, %2 : tensor<f32>, tensor<4x5x3xf32>, tensor<f32>
}

// CHECK-LABEL: func @clamps
func.func @clamps(%a: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // CHECK: nn.maximum %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<3xf32>
  %0 = nn.maximum %a, %b : tensor<4x3xf32>, tensor<3xf32>
  // CHECK: nn.minimum %{{.*}}, %{{.*}} : tensor<3xf32>, tensor<4x3xf32>
  %1 = nn.minimum %b, %0 : tensor<3xf32>, tensor<4x3xf32>
  // CHECK: nn.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<4x3xf32>
  %2 = nn.clip %1 {min = 0.0, max = 6.0} : tensor<4x3xf32>
  // Either bound may be infinite; a single point is an interval.
  // CHECK: nn.clip %{{.*}} {max = 0x7FF0000000000000 : f64, min = -1.000000e+00 : f64}
  %3 = nn.clip %2 {min = -1.0, max = 0x7FF0000000000000 : f64} : tensor<4x3xf32>
  // CHECK: nn.clip %{{.*}} {max = 2.000000e+00 : f64, min = 2.000000e+00 : f64}
  %4 = nn.clip %3 {min = 2.0, max = 2.0} : tensor<4x3xf32>
  // CHECK: nn.clip_grad %{{.*}}, %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<4x3xf32>
  %5 = nn.clip_grad %1, %4 {min = 0.0, max = 6.0} : tensor<4x3xf32>
  // CHECK: nn.softplus %{{.*}} : tensor<4x3xf32>
  %6 = nn.softplus %5 : tensor<4x3xf32>
  return %6 : tensor<4x3xf32>
}

// CHECK-LABEL: func @masks
func.func @masks(%a: tensor<4x3xf32>, %s: tensor<f32>, %i: tensor<3xi64>, %m: tensor<2x3xi1>) -> (tensor<4x3xi1>, tensor<4x3xi1>, tensor<4x3xi1>, tensor<3xi1>, tensor<2x3xi1>) {
  // CHECK: nn.compare lt %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<f32>
  %0 = nn.compare lt %a, %s : tensor<4x3xf32>, tensor<f32>
  // CHECK: nn.compare le %{{.*}}, %{{.*}} : tensor<f32>, tensor<4x3xf32>
  %1 = nn.compare le %s, %a : tensor<f32>, tensor<4x3xf32>
  // CHECK: nn.compare gt %{{.*}}, %{{.*}} : tensor<4x3xf32>, tensor<4x3xf32>
  %2 = nn.compare gt %a, %a : tensor<4x3xf32>, tensor<4x3xf32>
  // CHECK: nn.compare ge %{{.*}}, %{{.*}} : tensor<3xi64>, tensor<3xi64>
  %3 = nn.compare ge %i, %i : tensor<3xi64>, tensor<3xi64>
  // CHECK: nn.logic and %{{.*}}, %{{.*}} : tensor<4x3xi1>, tensor<4x3xi1>
  %4 = nn.logic and %0, %1 : tensor<4x3xi1>, tensor<4x3xi1>
  // CHECK: nn.logic or %{{.*}}, %{{.*}} : tensor<4x3xi1>, tensor<4x3xi1>
  %5 = nn.logic or %4, %2 : tensor<4x3xi1>, tensor<4x3xi1>
  // CHECK: nn.logic xor %{{.*}}, %{{.*}} : tensor<2x3xi1>, tensor<3xi1>
  %6 = nn.logic xor %m, %3 : tensor<2x3xi1>, tensor<3xi1>
  // CHECK: nn.not %{{.*}} : tensor<2x3xi1>
  %7 = nn.not %6 : tensor<2x3xi1>
  return %4, %5, %2, %3, %7 : tensor<4x3xi1>, tensor<4x3xi1>, tensor<4x3xi1>, tensor<3xi1>, tensor<2x3xi1>
}
