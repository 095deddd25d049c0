// RUN: nncc-opt %s -convert-nn-to-linalg | FileCheck %s

// nn.slice_add reads the accumulator's slice, adds the gradient into it (the
// slice is the generic's output, so that it bufferizes in place) and
// inserts the sum back: no zero fill, no addition over the whole tensor.

// CHECK-LABEL: func.func @slice_add
// CHECK-SAME: (%[[ACC:.+]]: tensor<4x6xf32>, %[[G:.+]]: tensor<4x2xf32>)
// CHECK-NOT: linalg.fill
// CHECK: %[[PART:.+]] = tensor.extract_slice %[[ACC]][0, 1] [4, 2] [1, 2] : tensor<4x6xf32> to tensor<4x2xf32>
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK-SAME: ins(%[[G]] : tensor<4x2xf32>) outs(%[[PART]] : tensor<4x2xf32>)
// CHECK: ^bb0(%[[IN:.+]]: f32, %[[OUT:.+]]: f32):
// CHECK: arith.addf %[[OUT]], %[[IN]] : f32
// CHECK: %[[R:.+]] = tensor.insert_slice %[[SUM]] into %[[ACC]][0, 1] [4, 2] [1, 2] : tensor<4x2xf32> into tensor<4x6xf32>
// CHECK: return %[[R]]
func.func @slice_add(%acc: tensor<4x6xf32>, %g: tensor<4x2xf32>) -> tensor<4x6xf32> {
  %0 = nn.slice_add %acc, %g starts [0, 1] strides [1, 2] : tensor<4x6xf32>, tensor<4x2xf32>
  return %0 : tensor<4x6xf32>
}
