// RUN: nncc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s
// RUN: nncc-opt %s -split-input-file -nn-fuse -convert-nn-to-linalg -nn-fuse-kernels | FileCheck %s --check-prefix=FUSED

// A reduction over a last axis of 32 (a multiple of 16, at least 32) is
// split: element i of the axis into lane i mod 16, the lanes reduced with
// the other axes (the lane a parallel loop, innermost), then the 16 lanes.
// The loop over blocks of 16 takes its size from an unread tensor<2xf32>.

// CHECK-DAG: #[[X:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3 * 16 + d4)>
// CHECK-DAG: #[[BLOCKS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d3)>
// CHECK-DAG: #[[LANES:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4)>
// CHECK-DAG: #[[KEPT:.+]] = affine_map<(d0, d1) -> (0, d0, 0, 0)>
// CHECK-LABEL: func.func @split
// CHECK: %[[BOUND:.+]] = tensor.empty() : tensor<2xf32>
// CHECK: %[[L:.+]] = linalg.generic {indexing_maps = [#[[X]], #[[BLOCKS]], #[[LANES]]], iterator_types = ["reduction", "parallel", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%{{.+}}, %[[BOUND]] : tensor<4x3x8x32xf32>, tensor<2xf32>) outs(%{{.+}} : tensor<3x16xf32>)
// CHECK: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32, %[[ACC:.+]]: f32):
// CHECK: arith.addf %[[ACC]], %[[IN]]
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[KEPT]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: ins(%[[L]] : tensor<3x16xf32>) outs(%{{.+}} : tensor<1x3x1x1xf32>)
// FUSED-LABEL: func.func @split
func.func @split(%x: tensor<4x3x8x32xf32>) -> tensor<1x3x1x1xf32> {
  %0 = nn.reduce_sum %x axes [0, 2, 3] keep_dims : tensor<4x3x8x32xf32>
  return %0 : tensor<1x3x1x1xf32>
}

// -----

// A last axis of 24 (not a multiple of 16), or one that is not reduced
// (its loop is parallel already), stays one nest.

// CHECK-LABEL: func.func @unsplit
// CHECK-NOT: tensor<2xf32>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%{{.+}} : tensor<4xf32>)
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "parallel"]
// CHECK-SAME: outs(%{{.+}} : tensor<64xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @unsplit(%x: tensor<4x24xf32>, %y: tensor<4x64xf32>) -> (tensor<4xf32>, tensor<64xf32>) {
  %0 = nn.reduce_sum %x axes [1] : tensor<4x24xf32>
  %1 = nn.reduce_sum %y axes [0] : tensor<4x64xf32>
  return %0, %1 : tensor<4xf32>, tensor<64xf32>
}

// -----

// The maximum is split alike (max is exact in any order).

// CHECK-LABEL: func.func @max
// CHECK: iterator_types = ["parallel", "reduction", "parallel"]
// CHECK-SAME: outs(%{{.+}} : tensor<4x16xf32>)
// CHECK: arith.maximumf
// CHECK: iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%{{.+}} : tensor<4xf32>)
func.func @max(%x: tensor<4x64xf32>) -> tensor<4xf32> {
  %0 = nn.reduce_max %x axes [1] : tensor<4x64xf32>
  return %0 : tensor<4xf32>
}

// -----

// An elementwise producer of the reduced tensor in the reduction's fusion
// group (nn-fuse) merges into the lanes' nest: no reshape stands between.

// FUSED-LABEL: func.func @fused
// FUSED: linalg.generic
// FUSED-SAME: iterator_types = ["parallel", "reduction", "parallel"]
// FUSED-SAME: ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<4x64xf32>, tensor<4x64xf32>, tensor<4xf32>) outs(%{{.+}} : tensor<4x16xf32>)
// FUSED: arith.mulf
// FUSED: arith.addf
// FUSED: linalg.generic
// FUSED-SAME: ins(%{{.+}} : tensor<4x16xf32>) outs(%{{.+}} : tensor<4xf32>)
// FUSED-NOT: linalg.generic
func.func @fused(%x: tensor<4x64xf32>, %y: tensor<4x64xf32>) -> tensor<4xf32> {
  %p = nn.mul %x, %y : tensor<4x64xf32>, tensor<4x64xf32>
  %0 = nn.reduce_sum %p axes [1] : tensor<4x64xf32>
  return %0 : tensor<4xf32>
}
