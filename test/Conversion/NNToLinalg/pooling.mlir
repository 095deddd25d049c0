// RUN: nncc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s

// Pooling is one generic whose loops are the batch, the channels, the
// output's spatial dimensions but the last, the window's, and last the
// output's last: the innermost loop then reads the input at a constant
// stride (the pooling's) and writes a row of the output, and vectorizes.
// The window-shaped operand, never read, bounds the window loops. The
// maximum starts from the window's first element, not a filled output.

// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d3, d5 * 2 + d4)>
// CHECK-DAG: #[[WIN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d4)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d5)>
// CHECK-LABEL: func.func @max_pool
// CHECK-NOT: linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[WIN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : tensor<2x3x8x8xf32>, tensor<2x2xf32>) outs(%{{.+}} : tensor<2x3x4x4xf32>)
// CHECK: arith.maximumf
// CHECK: linalg.index 3
// CHECK: linalg.index 4
func.func @max_pool(%x: tensor<2x3x8x8xf32>) -> tensor<2x3x4x4xf32> {
  %0 = nn.pool max %x kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] : tensor<2x3x8x8xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// One spatial dimension: the window loop, then the output's; an average
// divides the sums by a constant tensor of divisors (here without the
// padding: 2 at the edges, 3 inside).

// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3 * 2 + d2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @avg_pool_1d
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[IN]], #{{.+}}, #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK: arith.addf
// CHECK: arith.constant dense<[2.000000e+00, 3.000000e+00, 3.000000e+00, 2.000000e+00]> : tensor<4xf32>
// CHECK: linalg.generic {{.*}} ins(%[[SUM]], %{{.+}} : tensor<1x2x4xf32>, tensor<4xf32>)
// CHECK: arith.divf
func.func @avg_pool_1d(%x: tensor<1x2x7xf32>) -> tensor<1x2x4xf32> {
  %0 = nn.pool avg %x kernel [3] strides [2] pads [1, 1] dilations [1] : tensor<1x2x7xf32>
  return %0 : tensor<1x2x4xf32>
}

// -----

// Max pooling's gradient when the windows tile the input (strides equal to
// the kernel, no padding, nothing left over): one elementwise kernel over
// the input seen as [N, C, O1, K1, O2, K2], no zero fill and no scatter.
// Each element scans its window in the scatter's order (strictly greater
// replaces, from -inf, the window's first element when none is) and takes
// the window's gradient if it is the one chosen, else 0.

// CHECK-DAG: #[[GRAD:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[W00:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 0, d4, 0)>
// CHECK-DAG: #[[W01:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 0, d4, 1)>
// CHECK-DAG: #[[W10:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 1, d4, 0)>
// CHECK-DAG: #[[W11:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, 1, d4, 1)>
// CHECK-LABEL: func.func @max_pool_grad_tiled
// CHECK-NOT: linalg.fill
// CHECK-NOT: scf.forall
// CHECK: %[[SPLIT:.+]] = tensor.expand_shape %{{.+}} {{\[\[}}0], [1], [2, 3], [4, 5]] output_shape [2, 3, 2, 2, 2, 2]
// CHECK: %[[DX:.+]] = linalg.generic {indexing_maps = [#[[GRAD]], #[[W00]], #[[W01]], #[[W10]], #[[W11]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%{{.+}}, %[[SPLIT]], %[[SPLIT]], %[[SPLIT]], %[[SPLIT]] :
// CHECK: ^bb0(%[[G:.+]]: f32, %[[X0:.+]]: f32, %[[X1:.+]]: f32, %[[X2:.+]]: f32, %[[X3:.+]]: f32, %{{.+}}: f32):
// CHECK: %[[B0:.+]] = arith.cmpf ogt, %[[X0]], %{{.+}} : f32
// CHECK: arith.cmpf ogt, %[[X1]]
// CHECK: arith.cmpf ogt, %[[X2]]
// CHECK: arith.cmpf ogt, %[[X3]]
// CHECK: %[[CHOSEN:.+]] = arith.select %{{.+}}, %c3, %{{.+}} : index
// CHECK: linalg.index 3
// CHECK: linalg.index 5
// CHECK: %[[MINE:.+]] = arith.cmpi eq, %{{.+}}, %[[CHOSEN]] : index
// CHECK: arith.select %[[MINE]], %[[G]], %{{.+}} : f32
// CHECK: tensor.collapse_shape %[[DX]] {{\[\[}}0], [1], [2, 3], [4, 5]] : tensor<2x3x2x2x2x2xf32> into tensor<2x3x4x4xf32>
func.func @max_pool_grad_tiled(%x: tensor<2x3x4x4xf32>, %g: tensor<2x3x2x2xf32>) -> tensor<2x3x4x4xf32> {
  %0 = nn.pool_grad max %x, %g kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] : tensor<2x3x4x4xf32>, tensor<2x3x2x2xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// A row left over (5 rows, windows of 2: the last row is in no window) or
// windows that overlap: the scatter.

// CHECK-LABEL: func.func @max_pool_grad_left_over
// CHECK: linalg.fill
// CHECK: scf.forall
func.func @max_pool_grad_left_over(%x: tensor<1x1x5x4xf32>, %g: tensor<1x1x2x2xf32>) -> tensor<1x1x5x4xf32> {
  %0 = nn.pool_grad max %x, %g kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] : tensor<1x1x5x4xf32>, tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x5x4xf32>
}
