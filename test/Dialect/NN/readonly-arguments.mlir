// RUN: nncc-opt %s -nn-readonly-arguments | FileCheck %s

// CHECK-LABEL: func.func @f
// CHECK-SAME: (%{{.+}}: tensor<4xf32> {bufferization.writable = false, nn.name = "x"},
// CHECK-SAME: %{{.+}}: tensor<i64> {bufferization.writable = false})
func.func @f(%x: tensor<4xf32> {nn.name = "x"}, %n: tensor<i64>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
