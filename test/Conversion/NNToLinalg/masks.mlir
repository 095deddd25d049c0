// RUN: nncc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s

// A dropout mask reads the step from hyperparameter slots 6 (low 24 bits)
// and 7 (high bits), mixes it with the seed once, then each element's index;
// an element is kept, scaled by 1/(1-p) = 1.25, when the top 24 bits of its
// hash are at least ceil(0.2 * 2^24) = 3355444 (rounded up). The index is
// the element's in the global batch: slot 9 holds this process's first
// sample, and the module's batch of 3 gives 5 elements per sample.

// CHECK-LABEL: func.func @dropout
// CHECK-DAG: %[[C6:.+]] = arith.constant 6 : index
// CHECK-DAG: %[[C7:.+]] = arith.constant 7 : index
// CHECK-DAG: %[[C9:.+]] = arith.constant 9 : index
// CHECK-DAG: %[[C5:.+]] = arith.constant 5 : i64
// CHECK-DAG: tensor.extract %{{.+}}[%[[C7]]]
// CHECK-DAG: tensor.extract %{{.+}}[%[[C6]]]
// CHECK-DAG: %[[BASE:.+]] = tensor.extract %{{.+}}[%[[C9]]]
// CHECK-DAG: %[[BASEI:.+]] = arith.fptoui %[[BASE]] : f32 to i64
// CHECK-DAG: %[[FIRST:.+]] = arith.muli %[[BASEI]], %[[C5]] : i64
// CHECK: linalg.generic
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.addi %[[FIRST]], %{{.+}} : i64
// CHECK: arith.cmpi uge, %{{.+}}, %{{.+}} : i64
// CHECK: arith.select %{{.+}}, %{{.+}}, %{{.+}} : f32
module attributes {nn.batch_size = 3 : i64} {
func.func @dropout(%hyper: tensor<10xf32>) -> tensor<3x5xf32> {
  %m = nn.dropout_mask step(%hyper : tensor<10xf32>) {ratio = 0.2 : f64, seed = 1 : i64} : tensor<3x5xf32>
  return %m : tensor<3x5xf32>
}
}

// -----

// A sample mask compares dimension 0's index with the count.

// CHECK-LABEL: func.func @samples
// CHECK: %[[N:.+]] = tensor.extract %{{.+}}[] : tensor<i64>
// CHECK: linalg.generic
// CHECK: %[[I:.+]] = linalg.index 0
// CHECK: %[[I64:.+]] = arith.index_cast %[[I]] : index to i64
// CHECK: arith.cmpi slt, %[[I64]], %[[N]] : i64
func.func @samples(%count: tensor<i64>) -> tensor<4x1x1xf32> {
  %m = nn.sample_mask count(%count : tensor<i64>) : tensor<4x1x1xf32>
  return %m : tensor<4x1x1xf32>
}

