// RUN: nncc-opt %s -split-input-file -nn-build-training -verify-diagnostics
// RUN: not nncc-opt %s -split-input-file -nn-build-training="loss=hinge" 2>&1 | FileCheck %s --check-prefix=LOSS
// RUN: not nncc-opt %s -split-input-file -nn-build-training="optimizer=lbfgs" 2>&1 | FileCheck %s --check-prefix=OPT
// RUN: not nncc-opt %s -split-input-file -nn-build-training="lr=-1" 2>&1 | FileCheck %s --check-prefix=LR
// RUN: not nncc-opt %s -split-input-file -nn-build-training="loss-output=3" 2>&1 | FileCheck %s --check-prefix=INDEX

// LOSS: unsupported loss 'hinge' (supported: mse, cross-entropy, bce, none)
// OPT: unsupported optimizer 'lbfgs' (supported: sgd, adam, adamw, adagrad)
// LR: invalid learning rate -1
// INDEX: loss output 3 is out of range: @forward has 1 results

// expected-error @+1 {{no @forward function}}
module {
  func.func @other() {
    return
  }
}

// -----

// expected-error @+1 {{the loss needs a float output with a batch dimension, got 'tensor<f32>'}}
func.func @forward(%x: tensor<f32> {nn.name = "x", nn.role = "input"}) -> (tensor<f32> {nn.name = "y", nn.role = "output"}) {
  return %x : tensor<f32>
}

// -----

func.func @forward(%x: tensor<4xf32> {nn.name = "x", nn.role = "input"},
                   %p: tensor<4xf32> {nn.name = "p", nn.role = "param", nn.param = dense<1.0> : tensor<4xf32>})
    -> (tensor<4xf32> {nn.name = "y", nn.role = "output"}) {
  // expected-error @+1 {{cannot differentiate 'nn.relu_grad': it has no gradient}}
  %y = nn.relu_grad %x, %p : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// expected-error @+1 {{@train_step already exists}}
func.func @forward(%x: tensor<4xf32> {nn.name = "x", nn.role = "input"}) -> (tensor<4xf32> {nn.name = "y", nn.role = "output"}) {
  return %x : tensor<4xf32>
}
func.func @train_step() {
  return
}

// -----

module attributes {nn.batch_size = 4 : i64} {
  // expected-error @+1 {{the loss output's dimension 0 has size 3, but the batch is 4}}
  func.func @forward(%x: tensor<4x3xf32> {nn.name = "x", nn.role = "input"}) -> (tensor<3x4xf32> {nn.name = "y", nn.role = "output"}) {
    %y = nn.transpose %x perm [1, 0] : tensor<4x3xf32>
    return %y : tensor<3x4xf32>
  }
}

// -----

func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %r: tensor<2xf32> {nn.name = "r", nn.role = "param", nn.param = dense<0.0> : tensor<2xf32>})
    -> (tensor<4x2xf32> {nn.name = "y", nn.role = "output"}) {
  // expected-error @+1 {{running statistics 'r' are also trained}}
  nn.running_update %r, %r : tensor<2xf32>
  %y = nn.mul %x, %r : tensor<4x2xf32>, tensor<2xf32>
  return %y : tensor<4x2xf32>
}

// -----

func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %r: tensor<2xf32> {nn.name = "r", nn.role = "param", nn.frozen, nn.param = dense<0.0> : tensor<2xf32>})
    -> (tensor<4x2xf32> {nn.name = "y", nn.role = "output"}) {
  nn.running_update %r, %r : tensor<2xf32>
  // expected-error @+1 {{a second update of the same running statistics}}
  nn.running_update %r, %r : tensor<2xf32>
  %y = nn.mul %x, %r : tensor<4x2xf32>, tensor<2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// A step writes running statistics where their new value is computed; no
// other op may read the old value.
func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %r: tensor<2xf32> {nn.name = "r", nn.role = "param", nn.frozen, nn.param = dense<0.0> : tensor<2xf32>})
    -> (tensor<4x2xf32> {nn.name = "y", nn.role = "output"}) {
  %new = nn.add %r, %r : tensor<2xf32>, tensor<2xf32>
  nn.running_update %r, %new : tensor<2xf32>
  // expected-error @+1 {{reads running statistics 'r' that a training step replaces; only their update may read them}}
  %y = nn.mul %x, %r : tensor<4x2xf32>, tensor<2xf32>
  return %y : tensor<4x2xf32>
}
