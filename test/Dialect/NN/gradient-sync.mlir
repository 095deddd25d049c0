// RUN: nncc-opt %s -split-input-file -nn-build-training -canonicalize | FileCheck %s
// RUN: nncc-opt %s -split-input-file -nn-build-training -canonicalize -nncc-bufferize | FileCheck %s --check-prefix=BUF

// Each gradient goes to the collective engine right where backward
// completes it: the last layer's before the first layer's is computed, so
// that its sum can run meanwhile. Every update waits for its own gradient.

// CHECK-LABEL: func.func @train_step
// CHECK: %[[DW2:.+]] = nn.matmul %{{.+}} transposed, %{{.+}} : tensor<4x3xf32>, tensor<4x5xf32>
// CHECK-NEXT: %[[R2:.+]] = nn.gradient_ready %[[DW2]] {param = 1 : i32} : tensor<3x5xf32>
// CHECK: %[[DW1:.+]] = nn.matmul %{{.+}} transposed, %{{.+}} : tensor<4x5xf32>, tensor<4x2xf32>
// CHECK-NEXT: %[[R1:.+]] = nn.gradient_ready %[[DW1]] {param = 0 : i32} : tensor<5x2xf32>
// CHECK: %[[S1:.+]] = nn.gradient_wait %[[R1]] {param = 0 : i32}
// CHECK-NEXT: nn.sgd_update %{{.+}}, %[[S1]]
// CHECK: %[[S2:.+]] = nn.gradient_wait %[[R2]] {param = 1 : i32}
// CHECK-NEXT: nn.sgd_update %{{.+}}, %[[S2]]

// Bufferized, each is a call of the runtime on the gradient's own buffer,
// in place: the update reads the buffer the wait wrote.
// BUF-LABEL: func.func @train_step
// BUF: call @__nncc_gradient_ready(%c1_i32, %[[BASE2:.+]], %{{.+}}) : (i32, memref<f32>, index) -> ()
// BUF: call @__nncc_gradient_ready(%c0_i32, %{{.+}}, %{{.+}}) : (i32, memref<f32>, index) -> ()
// BUF: call @__nncc_gradient_wait(%c0_i32,
// BUF: call @__nncc_gradient_wait(%c1_i32,
// BUF-NOT: memref.copy
// BUF: func.func private @__nncc_gradient_ready(i32, memref<f32>, index)
// BUF: func.func private @__nncc_gradient_wait(i32, memref<f32>, index)
func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %w1: tensor<5x2xf32> {nn.name = "w1", nn.role = "param", nn.param = dense<0.5> : tensor<5x2xf32>},
                   %w2: tensor<3x5xf32> {nn.name = "w2", nn.role = "param", nn.param = dense<0.25> : tensor<3x5xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %h = nn.matmul %x, %w1 transposed : tensor<4x2xf32>, tensor<5x2xf32>
  %a = nn.tanh %h : tensor<4x5xf32>
  %y = nn.matmul %a, %w2 transposed : tensor<4x5xf32>, tensor<3x5xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Frozen parameters have no gradient to sum; the index is the parameter's
// among all of the library's parameters.

// CHECK-LABEL: func.func @train_step
// CHECK: nn.gradient_ready %{{.+}} {param = 1 : i32} : tensor<3xf32>
// CHECK-NOT: nn.gradient_ready
// CHECK: nn.gradient_wait %{{.+}} {param = 1 : i32} : tensor<3xf32>
// CHECK-NOT: nn.gradient_wait
func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"},
                   %s: tensor<3xf32> {nn.name = "s", nn.role = "param", nn.frozen, nn.param = dense<2.0> : tensor<3xf32>},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.5> : tensor<3xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %m = nn.mul %x, %s : tensor<4x3xf32>, tensor<3xf32>
  %y = nn.add %m, %b : tensor<4x3xf32>, tensor<3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// nn.all_reduce_sum (synchronized batch norm's sums): its gradient is the
// sum of the gradients across the processes; bufferized, a call of the
// runtime with the element count. The backward pass starts from
// d(loss)/d(loss) in hyperparameter slot 8, this process's share of the
// global loss (1 on one process).

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[H:[^:]+]]: tensor<10xf32> {nn.role = "hyper"}
// CHECK: %[[S:.+]] = nn.all_reduce_sum %{{.+}} : tensor<1x3xf32>
// CHECK: %[[SEED:.+]] = nn.slice %[[H]] starts [8] sizes [1] strides [1]
// CHECK: nn.reshape %[[SEED]] to []
// The gradient's sum is marked: a process without loss positions adds
// zeros to it.
// CHECK: nn.all_reduce_sum %{{.+}} {of_gradient} : tensor<1x3xf32>
// BUF-LABEL: func.func @train_step
// BUF: call @__nncc_all_reduce_sum(%c3_i32, %{{.+}}, %{{.+}}) : (i32, memref<f32>, index) -> ()
// BUF: call @__nncc_all_reduce_sum_gradient(%c3_i32,
func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.5> : tensor<3xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %h = nn.add %x, %b : tensor<4x3xf32>, tensor<3xf32>
  %s = nn.reduce_sum %h axes [0] keep_dims : tensor<4x3xf32>
  %g = nn.all_reduce_sum %s : tensor<1x3xf32>
  %y = nn.mul %h, %g : tensor<4x3xf32>, tensor<1x3xf32>
  return %y : tensor<4x3xf32>
}
