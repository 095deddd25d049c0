// RUN: nncc-opt %s -split-input-file -nn-prepare-bufferization | FileCheck %s

// Arguments are read-only.

// CHECK-LABEL: func.func @readonly
// CHECK-SAME: (%{{.+}}: tensor<4xf32> {bufferization.writable = false, nn.name = "x"},
// CHECK-SAME: %{{.+}}: tensor<i64> {bufferization.writable = false})
func.func @readonly(%x: tensor<4xf32> {nn.name = "x"}, %n: tensor<i64>) -> tensor<4xf32> {
  %y = nn.tanh %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// An argument returned as it is becomes a copy; other results stay.

// CHECK-LABEL: func.func @identity
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32> {bufferization.writable = false})
// CHECK: %[[Y:.+]] = nn.tanh %[[X]]
// CHECK: %[[C:.+]] = bufferization.alloc_tensor() copy(%[[X]]) : tensor<4xf32>
// CHECK: return %[[C]], %[[Y]]
func.func @identity(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = nn.tanh %x : tensor<4xf32>
  return %x, %y : tensor<4xf32>, tensor<4xf32>
}
