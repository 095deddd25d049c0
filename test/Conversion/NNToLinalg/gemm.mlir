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
// sample as a [C*K, P] matrix (here 27 x 64), multiplied by the [F, C*K]
// weight, broadcast over the samples.

// CHECK-DAG: #[[WINDOWS:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2, d5 * 2 + d3)>
// CHECK-DAG: #[[W:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
// CHECK-DAG: #[[COLS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-LABEL: func.func @conv
// CHECK: %[[WIN:.+]] = linalg.generic {indexing_maps = [#[[WINDOWS]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
// CHECK-SAME: outs(%{{.+}} : tensor<2x3x3x3x16x4xf32>)
// CHECK: %[[COL:.+]] = tensor.collapse_shape %[[WIN]] {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<2x3x3x3x16x4xf32> into tensor<2x27x64xf32>
// CHECK: %[[WM:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3]] : tensor<8x3x3x3xf32> into tensor<8x27xf32>
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[W]], #[[COLS]], #{{.+}}]
// CHECK-SAME: ins(%[[WM]], %[[COL]] : tensor<8x27xf32>, tensor<2x27x64xf32>)
// CHECK-SAME: attrs = {nn.matmul}
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0], [1], [2, 3]] output_shape [2, 8, 16, 4]
func.func @conv(%x: tensor<2x3x18x10xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x8x16x4xf32> {
  %0 = nn.conv %x, %w strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x3x18x10xf32>, tensor<8x3x3x3xf32>
  return %0 : tensor<2x8x16x4xf32>
}

// -----

// With fewer than 64 positions (here 32), a sample's product would be
// narrower than a few GEMM micro-kernels: the windows of all samples are
// one [N*P, C*K] matrix (samples and positions first), times the weight
// transposed, and the [N, P, F] result has its channels moved back. The
// input gradient likewise: dy with its channels last, times the weight,
// gives the windows' gradients in the same layout for col2im.

// CHECK-DAG: #[[WINDOWS:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d1 + d4, d2 * 2 + d5)>
// CHECK-DAG: #[[TO_NFP:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3, d1)>
// CHECK-DAG: #[[TO_NPF:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// CHECK-LABEL: func.func @conv_few_positions
// CHECK: %[[WIN:.+]] = linalg.generic {indexing_maps = [#[[WINDOWS]], #{{.+}}]
// CHECK-SAME: outs(%{{.+}} : tensor<2x8x4x3x3x3xf32>)
// CHECK: %[[COL:.+]] = tensor.collapse_shape %[[WIN]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<2x8x4x3x3x3xf32> into tensor<64x27xf32>
// CHECK: %[[WM:.+]] = tensor.collapse_shape %{{.+}} : tensor<8x3x3x3xf32> into tensor<8x27xf32>
// CHECK: %[[YT:.+]] = linalg.generic
// CHECK-SAME: ins(%[[COL]], %[[WM]] : tensor<64x27xf32>, tensor<8x27xf32>)
// CHECK-SAME: outs(%{{.+}} : tensor<64x8xf32>) attrs = {nn.matmul}
// CHECK: %[[E:.+]] = tensor.expand_shape %[[YT]] {{\[}}[0, 1, 2], [3]] output_shape [2, 8, 4, 8]
// CHECK: %[[Y:.+]] = linalg.generic {indexing_maps = [#[[TO_NFP]], #{{.+}}]
// CHECK-SAME: ins(%[[E]] : tensor<2x8x4x8xf32>) outs(%{{.+}} : tensor<2x8x8x4xf32>)
// CHECK: %[[G:.+]] = linalg.generic {indexing_maps = [#[[TO_NPF]], #{{.+}}]
// CHECK-SAME: ins(%{{.+}} : tensor<2x8x8x4xf32>) outs(%{{.+}} : tensor<2x8x4x8xf32>)
// CHECK: %[[GM:.+]] = tensor.collapse_shape %[[G]] {{\[}}[0, 1, 2], [3]] : tensor<2x8x4x8xf32> into tensor<64x8xf32>
// CHECK: %[[DC:.+]] = linalg.generic
// CHECK-SAME: ins(%[[GM]], %{{.+}} : tensor<64x8xf32>, tensor<8x27xf32>)
// CHECK-SAME: outs(%{{.+}} : tensor<64x27xf32>) attrs = {nn.matmul}
// CHECK: %[[DCOLS:.+]] = tensor.expand_shape %[[DC]] {{\[}}[0, 1, 2], [3, 4, 5]] output_shape [2, 8, 4, 3, 3, 3]
// CHECK: scf.forall (%[[N:.+]]) in (2)
// CHECK: tensor.extract %[[DCOLS]][%[[N]],
// CHECK: tensor.insert {{.*}} : tensor<3x10x10xf32>
// CHECK: scf.forall.in_parallel
func.func @conv_few_positions(%x: tensor<2x3x10x10xf32>, %w: tensor<8x3x3x3xf32>, %g: tensor<2x8x8x4xf32>) -> (tensor<2x8x8x4xf32>, tensor<2x3x10x10xf32>) {
  %0 = nn.conv %x, %w strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x3x10x10xf32>, tensor<8x3x3x3xf32>
  %1 = nn.conv_grad_input %g, %w to [2, 3, 10, 10] strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x8x8x4xf32>, tensor<8x3x3x3xf32>
  return %0, %1 : tensor<2x8x8x4xf32>, tensor<2x3x10x10xf32>
}

// -----

// The weight gradient is one product over all samples and positions:
// dy moved to [F, N, P] times the windows as one [N*P, C*K] matrix. The
// input gradient is the product w^T dy per sample, whose window entries a
// loop nest adds back where they came from (col2im).

// CHECK-LABEL: func.func @grads
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<2x16x4x3x3x3xf32>)
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<2x16x4x3x3x3xf32> into tensor<128x27xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}} : tensor<2x8x16x4xf32>)
// CHECK-SAME: outs(%{{.+}} : tensor<8x2x16x4xf32>)
// CHECK: tensor.collapse_shape %{{.+}} : tensor<8x2x16x4xf32> into tensor<8x128xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : tensor<8x128xf32>, tensor<128x27xf32>)
// CHECK-SAME: attrs = {nn.matmul}
// CHECK: tensor.expand_shape %{{.+}} : tensor<8x27xf32> into tensor<8x3x3x3xf32>
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : tensor<8x27xf32>, tensor<2x8x64xf32>)
// CHECK-SAME: outs(%{{.+}} : tensor<2x27x64xf32>) attrs = {nn.matmul}
// CHECK: %[[DCOLS:.+]] = tensor.expand_shape %{{.+}} : tensor<2x27x64xf32> into tensor<2x3x3x3x16x4xf32>
// col2im, each sample on its own slice of the gradient (scatter.mlir).
// CHECK: scf.forall (%[[N:.+]]) in (2)
// CHECK: scf.for
// CHECK: tensor.extract %[[DCOLS]][%[[N]],
// CHECK: arith.addf
// CHECK: tensor.insert {{.*}} : tensor<3x18x10xf32>
// CHECK: scf.forall.in_parallel
func.func @grads(%x: tensor<2x3x18x10xf32>, %g: tensor<2x8x16x4xf32>, %w: tensor<8x3x3x3xf32>) -> (tensor<8x3x3x3xf32>, tensor<2x3x18x10xf32>) {
  %0 = nn.conv_grad_weight %x, %g to [8, 3, 3, 3] strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x3x18x10xf32>, tensor<2x8x16x4xf32>
  %1 = nn.conv_grad_input %g, %w to [2, 3, 18, 10] strides [1, 2] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x8x16x4xf32>, tensor<8x3x3x3xf32>
  return %0, %1 : tensor<8x3x3x3xf32>, tensor<2x3x18x10xf32>
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

// With padding, the input is first copied into a zero-filled padded tensor;
// the im2col copy of the windows then reads it at plain strided offsets,
// with no index computed, clamped or tested per window entry.

// CHECK-DAG: #[[WINDOWS:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2, d5 + d3)>
// CHECK-LABEL: func.func @padded
// CHECK: %[[FILLED:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x3x12x12xf32>)
// CHECK: %[[PADDED:.+]] = tensor.insert_slice %{{.+}} into %[[FILLED]][0, 0, 1, 1] [2, 3, 10, 10] [1, 1, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[WINDOWS]], #{{.+}}]
// CHECK-SAME: ins(%[[PADDED]] : tensor<2x3x12x12xf32>) outs(%{{.+}} : tensor<2x3x3x3x10x10xf32>)
// CHECK-NOT: arith.select
// CHECK: attrs = {nn.matmul}
func.func @padded(%x: tensor<2x3x10x10xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x8x10x10xf32> {
  %0 = nn.conv %x, %w strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1 : tensor<2x3x10x10xf32>, tensor<8x3x3x3xf32>
  return %0 : tensor<2x8x10x10xf32>
}

// -----

// With many output positions (P = 256 >= a block of K) and windows of at
// least two column panels (C*K = 72), the weight gradient is a product per
// sample, dy[n] (F x P) times its windows (C*K x P) transposed, summed over
// the samples: the windows are copied with the positions innermost.

// CHECK-LABEL: func.func @grad_weight_by_sample
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<2x8x3x3x16x16xf32>)
// CHECK: %[[COLS:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<2x8x3x3x16x16xf32> into tensor<2x72x256xf32>
// CHECK: %[[DY:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<2x4x16x16xf32> into tensor<2x4x256xf32>
// CHECK: %[[PARTIAL:.+]] = linalg.generic
// CHECK-SAME: ins(%[[DY]], %[[COLS]] : tensor<2x4x256xf32>, tensor<2x72x256xf32>)
// CHECK-SAME: outs(%{{.+}} : tensor<2x4x72xf32>) attrs = {nn.matmul}
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "parallel", "parallel"]
// CHECK-SAME: ins(%[[PARTIAL]] : tensor<2x4x72xf32>) outs(%{{.+}} : tensor<4x72xf32>)
// CHECK: arith.addf
// CHECK: tensor.expand_shape %{{.+}} : tensor<4x72xf32> into tensor<4x8x3x3xf32>
func.func @grad_weight_by_sample(%x: tensor<2x8x16x16xf32>, %g: tensor<2x4x16x16xf32>) -> tensor<4x8x3x3xf32> {
  %0 = nn.conv_grad_weight %x, %g to [4, 8, 3, 3] strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1 : tensor<2x8x16x16xf32>, tensor<2x4x16x16xf32>
  return %0 : tensor<4x8x3x3xf32>
}

// -----

// At stride 1, the input gradient is the convolution of dy, padded by
// K - 1 - pad (here 1 on each side, then 1, 1, 2 and 0), with the weight's
// kernel reversed and its channels swapped: windows and a product, no
// scatter. With many more input positions than output ones (a 5x5 kernel
// from 12x12 to 8x8), the scatter stays.

// CHECK-LABEL: func.func @grad_input_as_conv
// The weight [4, 8, 3, 3], kernel reversed, as [8, 4, 3, 3].
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}} : tensor<4x8x3x3xf32>) outs(%{{.+}} : tensor<4x8x3x3xf32>)
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}} : tensor<4x8x3x3xf32>) outs(%{{.+}} : tensor<8x4x3x3xf32>)
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 1, 1] [2, 4, 16, 16] [1, 1, 1, 1] : tensor<2x4x16x16xf32> into tensor<2x4x18x18xf32>
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<2x4x3x3x16x16xf32>)
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : tensor<8x36xf32>, tensor<2x36x256xf32>)
// CHECK-SAME: attrs = {nn.matmul}
// CHECK-NOT: scf.forall
// CHECK: tensor.insert_slice %{{.+}} into %{{.+}}[0, 0, 1, 2] [2, 4, 16, 16] [1, 1, 1, 1] : tensor<2x4x16x16xf32> into tensor<2x4x18x18xf32>
// CHECK-NOT: scf.forall
// CHECK: attrs = {nn.matmul}
// CHECK: scf.forall
// CHECK: return
func.func @grad_input_as_conv(%g: tensor<2x4x16x16xf32>, %w: tensor<4x8x3x3xf32>, %h: tensor<2x4x16x16xf32>, %k: tensor<2x32x8x8xf32>, %v: tensor<32x16x5x5xf32>) -> (tensor<2x8x16x16xf32>, tensor<2x8x16x16xf32>, tensor<2x16x12x12xf32>) {
  %0 = nn.conv_grad_input %g, %w to [2, 8, 16, 16] strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1 : tensor<2x4x16x16xf32>, tensor<4x8x3x3xf32>
  %1 = nn.conv_grad_input %h, %w to [2, 8, 16, 16] strides [1, 1] pads [1, 0, 1, 2] dilations [1, 1] groups 1 : tensor<2x4x16x16xf32>, tensor<4x8x3x3xf32>
  %2 = nn.conv_grad_input %k, %v to [2, 16, 12, 12] strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] groups 1 : tensor<2x32x8x8xf32>, tensor<32x16x5x5xf32>
  return %0, %1, %2 : tensor<2x8x16x16xf32>, tensor<2x8x16x16xf32>, tensor<2x16x12x12xf32>
}
