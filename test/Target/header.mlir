// RUN: nncc-translate --emit-header %s | FileCheck %s
// RUN: nncc-translate --emit-header --prefix=mynet %s | FileCheck %s --check-prefix=PREFIX
// RUN: nncc-translate --emit-header --prefix=mynet %s > %t.h && %cc -std=c11 -fsyntax-only -Wall -Werror -x c %t.h
// RUN: not nncc-translate --emit-header --prefix=my-net %s 2>&1 | FileCheck %s --check-prefix=BAD

// The header describes the model and declares ABI.md's interface with the
// prefix on every identifier, from the same interface as the library.

// CHECK: Inputs:
// CHECK-NEXT: *   x: float[4, 2]
// CHECK: Targets:
// CHECK-NEXT: *   target: float[4, 3]
// CHECK: Outputs:
// CHECK-NEXT: *   y: float[4, 3]
// CHECK: Parameters:
// CHECK-NEXT: *   w: float[3, 2]
// CHECK: Training: loss mse, optimizer sgd, learning rate 0.25, batch 4.
// CHECK: #ifndef NNCC_TRAINING_LIBRARY_H
// CHECK: typedef struct nncc_model nncc_model;
// CHECK: enum { NNCC_FLOAT = 1, NNCC_INT32 = 6, NNCC_INT64 = 7 };
// CHECK: int nncc_train_step(nncc_model *m, const void *const *inputs,
// CHECK: #define NNCC_BATCH_SIZE 4
// CHECK: #define NNCC_NUM_PARAMS 1
// CHECK: #define NNCC_WORKSPACE_BYTES {{[1-9][0-9]*}}

// PREFIX: #ifndef MYNET_TRAINING_LIBRARY_H
// PREFIX: typedef struct mynet_model mynet_model;
// PREFIX: MYNET_ERR_NULL = -1
// PREFIX: mynet_model *mynet_create(void);
// PREFIX-NOT: nncc_
// PREFIX: #define MYNET_BATCH_SIZE 4

// BAD: error: invalid prefix 'my-net': it must be a C identifier

module attributes {nn.batch_size = 4 : i64} {
  func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                     %w: tensor<3x2xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<3x2xf32>})
      -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
    %y = nn.matmul %x, %w transposed : tensor<4x2xf32>, tensor<3x2xf32>
    return %y : tensor<4x3xf32>
  }
  func.func @train_step(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                        %t: tensor<4x3xf32> {nn.name = "target", nn.role = "target"},
                        %n: tensor<i64> {nn.role = "count"}, %h: tensor<10xf32> {nn.role = "hyper"},
                        %w: tensor<3x2xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<3x2xf32>})
      -> (tensor<f32> {nn.role = "loss"}, tensor<3x2xf32> {nn.name = "w", nn.role = "param"})
      attributes {nn.loss = "mse", nn.lr = 2.500000e-01 : f32, nn.optimizer = "sgd"} {
    %y = nn.matmul %x, %w transposed : tensor<4x2xf32>, tensor<3x2xf32>
    %l = nn.mse_loss %y, %t, %n : tensor<4x3xf32>, tensor<i64>
    %one = nn.constant dense<1.0> : tensor<f32>
    %dy = nn.mse_loss_grad %y, %t, %n, %one : tensor<4x3xf32>, tensor<i64>, tensor<f32>
    %dw = nn.matmul %dy transposed, %x : tensor<4x3xf32>, tensor<4x2xf32>
    %w2 = nn.sgd_update %w, %dw, %h : tensor<3x2xf32>, tensor<10xf32>
    return %l, %w2 : tensor<f32>, tensor<3x2xf32>
  }
}
