// RUN: nncc-opt %s -split-input-file -nn-build-training="lr=0.5" -canonicalize | FileCheck %s

// The signature, the loss and the SGD update of every parameter; the data
// input gets no gradient.

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[X:.+]]: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
// CHECK-SAME: %[[T:.+]]: tensor<4x3xf32> {nn.name = "target", nn.role = "target"},
// CHECK-SAME: %[[N:.+]]: tensor<i64> {nn.role = "count"},
// CHECK-SAME: %[[H:.+]]: tensor<10xf32> {nn.role = "hyper"},
// CHECK-SAME: %[[W:[^:]+]]: tensor<3x2xf32> {nn.name = "w", nn.param = dense<5.000000e-01> : tensor<3x2xf32>, nn.role = "param"}
// CHECK-SAME: -> (tensor<f32> {nn.role = "loss"}, tensor<3x2xf32> {nn.name = "w", nn.role = "param"})
// CHECK-SAME: nn.loss = "mse", nn.lr = 5.000000e-01 : f32
// CHECK-SAME: nn.optimizer = "sgd"
// CHECK: %[[Y:.+]] = nn.matmul %[[X]], %[[W]] transposed
// CHECK: %[[L:.+]] = nn.mse_loss %[[Y]], %[[T]], %[[N]]
// CHECK: %[[DY:.+]] = nn.mse_loss_grad %[[Y]], %[[T]], %[[N]]
// CHECK: %[[DW:.+]] = nn.matmul %[[DY]] transposed, %[[X]]
// CHECK-NEXT: %[[RW:.+]] = nn.gradient_ready %[[DW]] {param = 0 : i32}
// CHECK-NOT: nn.matmul
// CHECK: %[[SW:.+]] = nn.gradient_wait %[[RW]] {param = 0 : i32}
// CHECK-NEXT: %[[W2:.+]] = nn.sgd_update %[[W]], %[[SW]], %[[H]]
// CHECK: return %[[L]], %[[W2]]
func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %w: tensor<3x2xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<3x2xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %y = nn.matmul %x, %w transposed : tensor<4x2xf32>, tensor<3x2xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A value with two uses gets the sum of their gradients; the gradient of a
// broadcast bias is reduced back to its shape.

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[B:[^:]+]]: tensor<3xf32> {nn.name = "b"
// CHECK: %[[H:.+]] = nn.add %{{.+}}, %[[B]] : tensor<4x3xf32>, tensor<3xf32>
// CHECK: %[[Y:.+]] = nn.mul %[[H]], %[[H]]
// CHECK: %[[DY:.+]] = nn.mse_loss_grad %[[Y]]
// CHECK: %[[D1:.+]] = nn.mul %[[DY]], %[[H]]
// CHECK: %[[D2:.+]] = nn.mul %[[DY]], %[[H]]
// CHECK: %[[DH:.+]] = nn.add %[[D1]], %[[D2]]
// CHECK: %[[S:.+]] = nn.reduce_sum %[[DH]] axes [0] keep_dims : tensor<4x3xf32>
// CHECK: %[[DB:.+]] = nn.reshape %[[S]] to [3] : tensor<1x3xf32>
// CHECK: %[[RB:.+]] = nn.gradient_ready %[[DB]]
// CHECK: %[[SB:.+]] = nn.gradient_wait %[[RB]]
// CHECK: nn.sgd_update %[[B]], %[[SB]]
func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.5> : tensor<3xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %h = nn.add %x, %b : tensor<4x3xf32>, tensor<3xf32>
  %y = nn.mul %h, %h : tensor<4x3xf32>, tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A parameter the loss does not depend on gets a zero gradient, the same on
// every process: it is not summed across them.

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[U:[^:]+]]: tensor<2xf32> {nn.name = "unused"
// CHECK: %[[ZERO:.+]] = nn.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK-NOT: gradient_ready {{.*}} : tensor<2xf32>
// CHECK: nn.sgd_update %[[U]], %[[ZERO]]
func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.5> : tensor<3xf32>},
                   %u: tensor<2xf32> {nn.name = "unused", nn.role = "param", nn.param = dense<0.5> : tensor<2xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %h = nn.sub %x, %b : tensor<4x3xf32>, tensor<3xf32>
  return %h : tensor<4x3xf32>
}

// -----

// The loss is on the output chosen by loss-output (by default the first);
// gradients of the activations follow PyTorch's formulas.

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %{{.+}}: tensor<4x3xf32> {nn.name = "target", nn.role = "target"}
// CHECK: %[[ONE:.+]] = nn.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[A:.+]] = nn.add
// CHECK: %[[Y:.+]] = nn.tanh %[[A]]
// CHECK: %[[DY:.+]] = nn.mse_loss_grad %[[Y]]
// CHECK: %[[Y2:.+]] = nn.mul %[[Y]], %[[Y]]
// CHECK: %[[SLOPE:.+]] = nn.sub %[[ONE]], %[[Y2]] : tensor<f32>, tensor<4x3xf32>
// CHECK: nn.mul %[[DY]], %[[SLOPE]]
func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.5> : tensor<3xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}, tensor<4x3xf32> {nn.name = "z", nn.role = "output"}) {
  %a = nn.add %x, %b : tensor<4x3xf32>, tensor<3xf32>
  %y = nn.tanh %a : tensor<4x3xf32>
  %z = nn.relu %a : tensor<4x3xf32>
  return %y, %z : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// clip's gradient is clip_grad of its input, with its bounds.

// CHECK-LABEL: func.func @train_step
// CHECK: %[[A:.+]] = nn.add
// CHECK: %[[Y:.+]] = nn.clip %[[A]] {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
// CHECK: %[[DY:.+]] = nn.mse_loss_grad %[[Y]]
// CHECK: %[[DA:.+]] = nn.clip_grad %[[A]], %[[DY]] {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<4x3xf32>
// CHECK: nn.reduce_sum %[[DA]] axes [0] keep_dims
func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.5> : tensor<3xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %a = nn.add %x, %b : tensor<4x3xf32>, tensor<3xf32>
  %y = nn.clip %a {min = 0.0, max = 6.0} : tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// maximum's gradient goes to the larger operand, half of it to each where
// they tie (PyTorch's), reduced to the broadcast operand's shape.

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x3xf32> {nn.name = "x"
// CHECK-SAME: %[[B:[^:]+]]: tensor<3xf32> {nn.name = "b"
// CHECK-DAG: %[[HALF:.+]] = nn.constant dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: %[[ZERO:.+]] = nn.constant dense<0.000000e+00> : tensor<f32>
// CHECK: %[[Y:.+]] = nn.maximum %[[X]], %[[B]]
// CHECK: %[[DY:.+]] = nn.mse_loss_grad %[[Y]]
// CHECK: %[[TIE:.+]] = nn.equal %[[B]], %[[X]] : tensor<3xf32>, tensor<4x3xf32>
// CHECK: %[[HALFDY:.+]] = nn.mul %[[DY]], %[[HALF]]
// CHECK: %[[SHARE:.+]] = nn.select %[[TIE]], %[[HALFDY]], %[[ZERO]]
// CHECK: %[[WINS:.+]] = nn.compare gt %[[B]], %[[X]] : tensor<3xf32>, tensor<4x3xf32>
// CHECK: %[[DB:.+]] = nn.select %[[WINS]], %[[DY]], %[[SHARE]]
// CHECK: nn.reduce_sum %[[DB]] axes [0] keep_dims
func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.5> : tensor<3xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %y = nn.maximum %x, %b : tensor<4x3xf32>, tensor<3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A parameter read by three slices (an unrolled network's time steps) and
// a product: the first slice's gradient (in reverse order) is placed in
// zeros, the others are added over their slices alone (nn.slice_add), and
// the product's gradient is added last: one zero fill and one full
// addition, not one of each per slice.

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: %[[W:[^:]+]]: tensor<3x4xf32> {nn.name = "w"
// CHECK: %[[S0:.+]] = nn.slice_grad %{{.+}} to [3, 4] starts [2, 0] strides [1, 1]
// CHECK-NOT: nn.slice_grad
// CHECK: %[[S1:.+]] = nn.slice_add %[[S0]], %{{.+}} starts [1, 0] strides [1, 1] : tensor<3x4xf32>, tensor<1x4xf32>
// CHECK: %[[S2:.+]] = nn.slice_add %[[S1]], %{{.+}} starts [0, 0] strides [1, 1] : tensor<3x4xf32>, tensor<1x4xf32>
// CHECK: %[[DP:.+]] = nn.matmul %{{.+}} transposed, %{{.+}} : tensor<2x3xf32>, tensor<2x4xf32>
// CHECK: %[[DW:.+]] = nn.add %[[S2]], %[[DP]] : tensor<3x4xf32>, tensor<3x4xf32>
// CHECK: %[[RW:.+]] = nn.gradient_ready %[[DW]]
// CHECK: %[[SW:.+]] = nn.gradient_wait %[[RW]]
// CHECK: nn.sgd_update %[[W]], %[[SW]]
func.func @forward(%x: tensor<2x3xf32> {nn.name = "x", nn.role = "input"},
                   %w: tensor<3x4xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<3x4xf32>})
    -> (tensor<2x4xf32> {nn.name = "y", nn.role = "output"}) {
  %p = nn.matmul %x, %w : tensor<2x3xf32>, tensor<3x4xf32>
  %r0 = nn.slice %w starts [0, 0] sizes [1, 4] strides [1, 1] : tensor<3x4xf32>
  %r1 = nn.slice %w starts [1, 0] sizes [1, 4] strides [1, 1] : tensor<3x4xf32>
  %r2 = nn.slice %w starts [2, 0] sizes [1, 4] strides [1, 1] : tensor<3x4xf32>
  %a = nn.add %p, %r0 : tensor<2x4xf32>, tensor<1x4xf32>
  %b = nn.mul %a, %r1 : tensor<2x4xf32>, tensor<1x4xf32>
  %y = nn.add %b, %r2 : tensor<2x4xf32>, tensor<1x4xf32>
  return %y : tensor<2x4xf32>
}
