// RUN: nncc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s

// The gradients that scatter (max and average pooling, a grouped
// convolution's input gradient, col2im) add each window entry where it was
// read from. A sample's entries land only in that sample, so the samples
// run in parallel: an scf.forall over the batch whose body runs the rest of
// the nest, serially as before, on its sample's slice of the zero-filled
// gradient, without the batch dimension. (Max pooling's windows overlap
// here: windows that tile the input make its gradient elementwise, see
// pooling.mlir.)

// CHECK-LABEL: func.func @max_pool_grad
// CHECK: %[[ZERO:.+]] = linalg.fill {{.*}} -> tensor<2x3x4x4xf32>
// CHECK: scf.forall (%[[N:.+]]) in (2) shared_outs(%[[DX:.+]] = %[[ZERO]]) -> (tensor<2x3x4x4xf32>)
// CHECK: %[[SLICE:.+]] = tensor.extract_slice %[[DX]][%[[N]], 0, 0, 0] [1, 3, 4, 4] [1, 1, 1, 1] : tensor<2x3x4x4xf32> to tensor<3x4x4xf32>
// CHECK: %[[ROWS:.+]] = scf.for %{{.+}} = %c0 to %c3 step %c1 iter_args(%{{.+}} = %[[SLICE]]) -> (tensor<3x4x4xf32>)
// The window's first maximum, in the sample's input.
// CHECK: tensor.extract %{{.+}}[%[[N]], %{{.+}}, %{{.+}}, %{{.+}}] : tensor<2x3x4x4xf32>
// CHECK: arith.cmpf ogt
// CHECK: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : tensor<3x4x4xf32>
// CHECK: tensor.extract %{{.+}}[%[[N]], %{{.+}}, %{{.+}}, %{{.+}}] : tensor<2x3x3x3xf32>
// CHECK: arith.addf
// CHECK: tensor.insert %{{.+}} into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}] : tensor<3x4x4xf32>
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[ROWS]] into %[[DX]][%[[N]], 0, 0, 0] [1, 3, 4, 4] [1, 1, 1, 1] : tensor<3x4x4xf32> into tensor<2x3x4x4xf32>
func.func @max_pool_grad(%x: tensor<2x3x4x4xf32>, %g: tensor<2x3x3x3xf32>) -> tensor<2x3x4x4xf32> {
  %0 = nn.pool_grad max %x, %g kernel [2, 2] strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] : tensor<2x3x4x4xf32>, tensor<2x3x3x3xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// With padding the scatter fills a padded gradient, then the unpadded part
// is taken.

// CHECK-LABEL: func.func @avg_pool_grad_padded
// CHECK: %[[DX:.+]] = scf.forall (%[[N:.+]]) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<2x3x6x6xf32>)
// CHECK: tensor.extract_slice {{.*}} to tensor<3x6x6xf32>
// CHECK: arith.divf
// CHECK: scf.forall.in_parallel
// CHECK: tensor.extract_slice %[[DX]][0, 0, 1, 1] [2, 3, 4, 4] [1, 1, 1, 1] : tensor<2x3x6x6xf32> to tensor<2x3x4x4xf32>
func.func @avg_pool_grad_padded(%x: tensor<2x3x4x4xf32>, %g: tensor<2x3x3x3xf32>) -> tensor<2x3x4x4xf32> {
  %0 = nn.pool_grad avg %x, %g kernel [2, 2] strides [2, 2] pads [1, 1, 1, 1] dilations [1, 1] : tensor<2x3x4x4xf32>, tensor<2x3x3x3xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// A grouped convolution's input gradient: the sample's gradient rows times
// the weights, added into the sample's channels of its group.

// CHECK-LABEL: func.func @grouped_grad_input
// CHECK: scf.forall (%[[N:.+]]) in (2) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<2x4x10x10xf32>)
// CHECK: tensor.extract_slice {{.*}} to tensor<4x10x10xf32>
// CHECK: tensor.extract %{{.+}}[%[[N]], %{{.+}}, %{{.+}}, %{{.+}}] : tensor<2x8x8x8xf32>
// CHECK: arith.mulf
// CHECK: tensor.insert {{.*}} : tensor<4x10x10xf32>
// CHECK: scf.forall.in_parallel
func.func @grouped_grad_input(%g: tensor<2x8x8x8xf32>, %w: tensor<8x2x3x3xf32>) -> tensor<2x4x10x10xf32> {
  %0 = nn.conv_grad_input %g, %w to [2, 4, 10, 10] strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] groups 2 : tensor<2x8x8x8xf32>, tensor<8x2x3x3xf32>
  return %0 : tensor<2x4x10x10xf32>
}
