// RUN: nncc-opt %s -nn-tag-kernel-kinds -mlir-print-debuginfo -mlir-print-local-scope | FileCheck %s

// Every nn op but a constant gets its kind in its location, around the
// location it had.
// CHECK-LABEL: func.func @kinds
func.func @kinds(%x: tensor<4x1x8x8xf32>, %w: tensor<4x1x3x3xf32>,
                 %fc: tensor<36x3xf32>, %h: tensor<10xf32>)
    -> (tensor<4x3xf32>, tensor<1x3xf32>, tensor<36x3xf32>, tensor<3x36xf32>) {
  // CHECK: nn.constant {{.*}} loc("one")
  %one = nn.constant dense<1.0> : tensor<f32> loc("one")
  // CHECK: nn.conv {{.*}} loc(fused<"nn.kernel:conv">["c"])
  %c = nn.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<4x1x8x8xf32>, tensor<4x1x3x3xf32> loc("c")
  // CHECK: nn.relu {{.*}} loc(fused<"nn.kernel:elementwise">["r"])
  %r = nn.relu %c : tensor<4x4x6x6xf32> loc("r")
  // CHECK: nn.pool max {{.*}} loc(fused<"nn.kernel:pooling">["p"])
  %p = nn.pool max %r kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] : tensor<4x4x6x6xf32> loc("p")
  // CHECK: nn.reshape {{.*}} loc(fused<"nn.kernel:copy">["f"])
  %f = nn.reshape %p to [4, 36] : tensor<4x4x3x3xf32> loc("f")
  // CHECK: nn.matmul {{.*}} loc(fused<"nn.kernel:gemm">["mm"])
  %y = nn.matmul %f, %fc : tensor<4x36xf32>, tensor<36x3xf32> loc("mm")
  // CHECK: nn.reduce_sum {{.*}} loc(fused<"nn.kernel:reduction">["s"])
  %s = nn.reduce_sum %y axes [0] keep_dims : tensor<4x3xf32> loc("s")
  // CHECK: nn.sgd_update {{.*}} loc(fused<"nn.kernel:optimizer">["u"])
  %u = nn.sgd_update %fc, %fc, %h : tensor<36x3xf32>, tensor<10xf32> loc("u")
  // CHECK: nn.transpose {{.*}} loc(fused<"nn.kernel:copy">[fused["t1", "t2"]])
  %t = nn.transpose %fc perm [1, 0] : tensor<36x3xf32> loc(fused["t1", "t2"])
  return %y, %s, %u, %t : tensor<4x3xf32>, tensor<1x3xf32>, tensor<36x3xf32>, tensor<3x36xf32>
}
