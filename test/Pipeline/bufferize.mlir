// RUN: nncc-opt %s -nn-build-training -nncc-optimize -nncc-bufferize | FileCheck %s
// RUN: nncc-opt %s -nn-build-training -nncc-optimize -nncc-bufferize -nncc-lower-to-llvm | FileCheck %s --check-prefix=LLVM

// After bufferization every argument is a memref, results are out-parameters
// in the order the runtime passes them, and every intermediate buffer is a
// view into the arena, the last argument. No allocation is left.

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%{{.+}}: memref<4x2xf32> {nn.name = "x", nn.role = "input"},
// CHECK-SAME: %{{.+}}: memref<3x2xf32> {nn.name = "w", nn.param = {{[^}]+}}, nn.role = "param"},
// CHECK-SAME: %{{.+}}: memref<4x3xf32> {nn.name = "y", nn.role = "output"},
// CHECK-SAME: %{{.+}}: memref<{{[0-9]+}}xi8> {nn.role = "workspace"})
// CHECK-SAME: nn.workspace_bytes

// CHECK-LABEL: func.func @train_step
// CHECK-SAME: memref<4x2xf32> {nn.name = "x", nn.role = "input"}
// CHECK-SAME: memref<4x3xf32> {nn.name = "target", nn.role = "target"}
// CHECK-SAME: memref<i64> {nn.role = "count"}
// CHECK-SAME: memref<10xf32> {nn.role = "hyper"}
// CHECK-SAME: memref<3x2xf32> {nn.name = "w", nn.param = {{[^}]+}}, nn.role = "param"}
// CHECK-SAME: memref<f32> {nn.role = "loss"}
// CHECK-SAME: memref<3x2xf32> {nn.name = "w", nn.role = "param"}
// CHECK-SAME: memref<{{[0-9]+}}xi8> {nn.role = "workspace"}
// CHECK-NOT: memref.alloc
// CHECK: memref.view
// CHECK-NOT: memref.alloc
// CHECK: return

// The kernels take only pointers (bare-pointer calling convention).
// LLVM-LABEL: llvm.func @forward(
// LLVM-SAME: %arg3: !llvm.ptr {nn.role = "workspace"})
// LLVM-LABEL: llvm.func @train_step(
// LLVM-SAME: %arg7: !llvm.ptr {nn.role = "workspace"})
// LLVM-NOT: llvm.call @malloc

func.func @forward(%x: tensor<4x2xf32> {nn.name = "x", nn.role = "input"},
                   %w: tensor<3x2xf32> {nn.name = "w", nn.role = "param", nn.param = dense<0.5> : tensor<3x2xf32>})
    -> (tensor<4x3xf32> {nn.name = "y", nn.role = "output"}) {
  %y = nn.matmul %x, %w transposed : tensor<4x2xf32>, tensor<3x2xf32>
  %z = nn.tanh %y : tensor<4x3xf32>
  return %z : tensor<4x3xf32>
}
