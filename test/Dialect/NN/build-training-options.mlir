// RUN: nncc-opt %s -nn-build-training="freeze=b optimizer=adam amsgrad=true" | FileCheck %s --check-prefix=ADAM
// RUN: nncc-opt %s -nn-build-training="loss=cross-entropy ignore-index=3 label-smoothing=0.25 momentum=0.9" | FileCheck %s --check-prefix=CE

// A frozen parameter is an argument, marked, with no gradient, no update and
// no optimizer state; the others get Adam's moments (and AMSGrad's maximum),
// named as torch.optim names its state.

// ADAM-LABEL: func.func @train_step
// ADAM-SAME: %[[W:[^:]+]]: tensor<3x2xf32> {nn.name = "w", nn.param = {{[^}]+}}, nn.role = "param"}
// ADAM-SAME: %[[B:[^:]+]]: tensor<3xf32> {nn.frozen, nn.name = "b", nn.param = {{[^}]+}}, nn.role = "param"}
// ADAM-SAME: %[[M:[^:]+]]: tensor<3x2xf32> {nn.name = "w.exp_avg", nn.role = "state"}
// ADAM-SAME: %[[V:[^:]+]]: tensor<3x2xf32> {nn.name = "w.exp_avg_sq", nn.role = "state"}
// ADAM-SAME: %[[VMAX:[^:]+]]: tensor<3x2xf32> {nn.name = "w.max_exp_avg_sq", nn.role = "state"}
// ADAM-SAME: -> (tensor<f32> {nn.role = "loss"}, tensor<3x2xf32> {nn.name = "w", nn.role = "param"}, tensor<3x2xf32> {nn.name = "w.exp_avg", nn.role = "state"}
// ADAM: nn.adam_update %[[W]], %{{.+}} state(%[[M]], %[[V]], %[[VMAX]] :
// ADAM-SAME: {amsgrad}
// ADAM-NOT: nn.adam_update
// ADAM: return

// Cross-entropy takes class indices of the output's shape without its last
// axis; SGD with momentum keeps one buffer per parameter.

// CE-LABEL: func.func @train_step
// CE-SAME: %{{.+}}: tensor<4xi64> {nn.name = "target", nn.role = "target"}
// CE-SAME: {nn.name = "w.momentum_buffer", nn.role = "state"}
// CE-SAME: {nn.name = "b.momentum_buffer", nn.role = "state"}
// CE: nn.cross_entropy_loss %{{.+}}, %{{.+}}, %{{.+}} {ignore_index = 3 : i64, label_smoothing = 2.500000e-01 : f64}
// CE: nn.cross_entropy_loss_grad
// CE: nn.sgd_update {{.*}}momentum = 9.000000e-01

func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %w: tensor<3x2xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<3x2xf32>},
                   %b: tensor<3xf32> {nn.name = "b", nn.role = "param", nn.param = dense<0.1> : tensor<3xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %y = nn.matmul %x, %w transposed : tensor<4x2xf32>, tensor<3x2xf32>
  %z = nn.add %y, %b : tensor<4x3xf32>, tensor<3xf32>
  return %z : tensor<4x3xf32>
}
