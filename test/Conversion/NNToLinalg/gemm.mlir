// RUN: nncc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s

// Products of at least 4096 multiply-adds with at least 8 columns are marked
// nn.matmul, for nn-lower-matmul-calls to call the runtime's GEMM; smaller
// or narrower ones stay loop nests.

// CHECK-LABEL: func.func @threshold
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<16x16xf32>) attrs = {nn.matmul}
// CHECK: linalg.generic
// CHECK-NOT: nn.matmul
// CHECK-SAME: outs(%{{.+}} : tensor<15x16xf32>) {
// CHECK: linalg.generic
// CHECK-NOT: nn.matmul
// CHECK-SAME: outs(%{{.+}} : tensor<64x7xf32>) {
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<3x16x16xf32>) attrs = {nn.matmul}
func.func @threshold(%a: tensor<16x16xf32>, %b: tensor<15x16xf32>, %c: tensor<64x64xf32>, %d: tensor<64x7xf32>, %e: tensor<3x16x16xf32>) -> (tensor<16x16xf32>, tensor<15x16xf32>, tensor<64x7xf32>, tensor<3x16x16xf32>) {
  %0 = nn.matmul %a, %a : tensor<16x16xf32>, tensor<16x16xf32>
  %1 = nn.matmul %b, %a : tensor<15x16xf32>, tensor<16x16xf32>
  %2 = nn.matmul %c, %d : tensor<64x64xf32>, tensor<64x7xf32>
  %3 = nn.matmul %e, %a transposed : tensor<3x16x16xf32>, tensor<16x16xf32>
  return %0, %1, %2, %3 : tensor<16x16xf32>, tensor<15x16xf32>, tensor<64x7xf32>, tensor<3x16x16xf32>
}

// -----

// An ungrouped convolution is im2col and a product: the windows of each
// sample as a [C*K, P] matrix (here 27 x 32), multiplied by the [F, C*K]
// weight, broadcast over the samples.

// CHECK-DAG: #[[WINDOWS:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2, d5 * 2 + d3)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[COLS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-LABEL: func.func @conv
// CHECK: %[[WIN:.+]] = linalg.generic {indexing_maps = [#[[WINDOWS]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: outs(%{{.+}} : tensor<2x3x3x3x8x4xf32>)
// CHECK: %[[COL:.+]] = tensor.collapse_shape %[[WIN]] {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<2x3x3x3x8x4xf32> into tensor<2x27x32xf32>
// CHECK: %[[WM:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<8x3x3x3xf32> into tensor<8x27xf32>
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[W]], #[[COLS]], #{{.+}}]
// CHECK-SAME: ins(%[[WM]], %[[COL]] : tensor<8x27xf32>, tensor<2x27x32xf32>)
// CHECK-SAME: attrs = {nn.matmul}
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0], [1], [2, 3]] output_shape [2, 8, 8, 4]
func.func @conv(%x: tensor<2x3x10x10xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x8x8x4xf32> {
  %0 = nn.conv %x, %w strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x3x10x10xf32>, tensor<8x3x3x3xf32>
  return %0 : tensor<2x8x8x4xf32>
}

// -----

// The weight gradient is one product over all samples and positions:
// dy moved to [F, N, P] times the windows as one [N*P, C*K] matrix. The
// input gradient is the product w^T dy per sample, whose window entries a
// loop nest adds back where they came from (col2im).

// CHECK-LABEL: func.func @grads
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<2x8x4x3x3x3xf32>)
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<2x8x4x3x3x3xf32> into tensor<64x27xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}} : tensor<2x8x8x4xf32>)
// CHECK-SAME: outs(%{{.+}} : tensor<8x2x8x4xf32>)
// CHECK: tensor.collapse_shape %{{.+}} : tensor<8x2x8x4xf32> into tensor<8x64xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : tensor<8x64xf32>, tensor<64x27xf32>)
// CHECK-SAME: attrs = {nn.matmul}
// CHECK: tensor.expand_shape %{{.+}} : tensor<8x27xf32> into tensor<8x3x3x3xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : tensor<8x27xf32>, tensor<2x8x32xf32>)
// CHECK-SAME: outs(%{{.+}} : tensor<2x27x32xf32>) attrs = {nn.matmul}
// CHECK: %[[DCOLS:.+]] = tensor.expand_shape %{{.+}} : tensor<2x27x32xf32> into tensor<2x3x3x3x8x4xf32>
// col2im, each sample on its own slice of the gradient (scatter.mlir).
// CHECK: scf.forall (%[[N:.+]]) in (2)
// CHECK: scf.for
// CHECK: tensor.extract %[[DCOLS]][%[[N]],
// CHECK: arith.addf
// CHECK: tensor.insert {{.*}} : tensor<3x10x10xf32>
// CHECK: scf.forall.in_parallel
func.func @grads(%x: tensor<2x3x10x10xf32>, %g: tensor<2x8x8x4xf32>, %w: tensor<8x3x3x3xf32>) -> (tensor<8x3x3x3xf32>, tensor<2x3x10x10xf32>) {
  %0 = nn.conv_grad_weight %x, %g to [8, 3, 3, 3] strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x3x10x10xf32>, tensor<2x8x8x4xf32>
  %1 = nn.conv_grad_input %g, %w to [2, 3, 10, 10] strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x8x8x4xf32>, tensor<8x3x3x3xf32>
  return %0, %1 : tensor<8x3x3x3xf32>, tensor<2x3x10x10xf32>
}

// -----

// A grouped convolution stays one direct loop nest: no im2col, no product.

// CHECK-LABEL: func.func @grouped
// CHECK-NOT: nn.matmul
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK-NOT: nn.matmul
func.func @grouped(%x: tensor<2x4x10x10xf32>, %w: tensor<8x2x3x3xf32>) -> tensor<2x8x8x8xf32> {
  %0 = nn.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] groups 2 : tensor<2x4x10x10xf32>, tensor<8x2x3x3xf32>
  return %0 : tensor<2x8x8x8xf32>
}

// -----

// With padding, the im2col copy reads the unpadded input: a window entry in
// the padding loads a clamped index and selects 0, so no padded copy of the
// input is made.

// CHECK-LABEL: func.func @padded
// CHECK-NOT: linalg.fill
// CHECK-NOT: tensor.insert_slice
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<2x3x3x3x10x10xf32>)
// CHECK: %[[ROW:.+]] = arith.subi %{{.+}}, %c1
// CHECK: arith.cmpi sge, %[[ROW]], %c0
// CHECK: arith.cmpi sle, %[[ROW]], %c9
// CHECK: arith.minsi %[[ROW]], %c9
// CHECK: arith.maxsi
// CHECK: %[[X:.+]] = tensor.extract %{{.+}}[
// CHECK: arith.select %{{.+}}, %[[X]], %{{.+}} : f32
// CHECK: attrs = {nn.matmul}
func.func @padded(%x: tensor<2x3x10x10xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x8x10x10xf32> {
  %0 = nn.conv %x, %w strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1 : tensor<2x3x10x10xf32>, tensor<8x3x3x3xf32>
  return %0 : tensor<2x8x10x10xf32>
}
