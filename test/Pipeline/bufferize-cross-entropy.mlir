// RUN: nncc-opt %s -nncc-bufferize | FileCheck %s

// The fused softmax/cross-entropy kernel after bufferization: one
// scf.parallel over the positions whose body reads its row of logits and
// writes its row of the gradient and its loss in place, through views of
// the output and of the arena; no allocation and no copy is left.

// CHECK-LABEL: func.func @cross_entropy_and_gradient
// CHECK-SAME: %[[X:[^:]+]]: memref<8x10xf32>
// CHECK-SAME: %[[GRAD:[^:]+]]: memref<8x10xf32>
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK: %[[LOSSES:.+]] = memref.view {{.*}} to memref<8xf32>
// CHECK: scf.parallel (%[[I:.+]]) =
// CHECK: scf.for
// CHECK: memref.load %[[X]][%[[I]], %{{.+}}]
// CHECK: %[[XROW:.+]] = memref.subview %[[X]][%[[I]], 0] [1, 10] [1, 1]
// CHECK: %[[GROW:.+]] = memref.subview %[[GRAD]][%[[I]], 0] [1, 10] [1, 1]
// CHECK: linalg.generic {{.*}} ins(%[[XROW]] : {{.*}}) outs(%[[GROW]] : {{.*}})
// CHECK: %[[LOSS:.+]] = memref.subview %[[LOSSES]][%[[I]]] [1] [1]
// CHECK: memref.store %{{.+}}, %[[LOSS]][]
// CHECK-NOT: memref.copy
// CHECK: scf.reduce
// CHECK: linalg.generic {{.*}} ins(%[[LOSSES]] : memref<8xf32>)
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: return
func.func @cross_entropy_and_gradient(%x: tensor<8x10xf32>, %t: tensor<8xi64>, %n: tensor<i64>, %dl: tensor<f32>) -> (tensor<f32>, tensor<8x10xf32>) {
  %0 = nn.cross_entropy_loss %x, %t, %n : tensor<8x10xf32>, tensor<8xi64>, tensor<i64>
  %1 = nn.cross_entropy_loss_grad %x, %t, %n, %dl : tensor<8x10xf32>, tensor<8xi64>, tensor<i64>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<8x10xf32>
}
