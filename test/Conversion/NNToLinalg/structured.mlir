// RUN: nncc-opt %s -split-input-file -allow-unregistered-dialect -convert-nn-to-linalg | FileCheck %s

// Each transposition of matmul is one contraction with permuted maps. The
// output starts uninitialized: the first step of the reduction (k = 0)
// stores the product, later steps add to it, so no loop fills it first.

// CHECK-DAG: #[[MK:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[KM:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[KN:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[NK:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.fill
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<4x5xf32>
// CHECK: linalg.generic {indexing_maps = [#[[MK]], #[[KN]], #[[MN]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[EMPTY]] : tensor<4x5xf32>)
// CHECK: %[[P:.+]] = arith.mulf
// CHECK: %[[S:.+]] = arith.addf %{{.+}}, %[[P]]
// CHECK: %[[K:.+]] = linalg.index 2
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[K]], %{{.+}} : index
// CHECK: arith.select %[[FIRST]], %[[P]], %[[S]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[KM]], #[[NK]], #[[MN]]]
func.func @matmul(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>, %c: tensor<3x4xf32>, %d: tensor<5x3xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
  %0 = nn.matmul %a, %b : tensor<4x3xf32>, tensor<3x5xf32>
  %1 = nn.matmul %c transposed, %d transposed : tensor<3x4xf32>, tensor<5x3xf32>
  return %0, %1 : tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[KEEP:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-DAG: #[[DROP:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[T:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @shapes
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[KEEP]]], iterator_types = ["reduction", "parallel"]}
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[DROP]]], iterator_types = ["reduction", "parallel"]}
// CHECK: %[[SHAPE:.+]] = arith.constant dense<[3, 4]> : tensor<2xi64>
// CHECK: tensor.reshape %{{.+}}(%[[SHAPE]])
// CHECK: linalg.generic {indexing_maps = [#[[T]], #[[IN]]]
// CHECK: linalg.generic {indexing_maps = [#[[DROP]], #[[IN]]]
func.func @shapes(%x: tensor<4x3xf32>, %r: tensor<3xf32>) -> (tensor<1x3xf32>, tensor<3xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<4x3xf32>) {
  %0 = nn.reduce_sum %x axes [0] keep_dims : tensor<4x3xf32>
  %1 = nn.reduce_sum %x axes [0] : tensor<4x3xf32>
  %2 = nn.reshape %x to [3, 4] : tensor<4x3xf32>
  %3 = nn.transpose %x perm [1, 0] : tensor<4x3xf32>
  %4 = nn.broadcast_to %r to [4, 3] : tensor<3xf32>
  return %0, %1, %2, %3, %4 : tensor<1x3xf32>, tensor<3xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<4x3xf32>
}

// -----

// The loss masks out the padding samples of a partial batch and divides by
// the number of real elements; the SGD update is param + (-lr) * grad.

// CHECK-LABEL: func.func @training
// CHECK: %[[N:.+]] = tensor.extract %{{.+}}[] : tensor<i64>
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction"]
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: %[[I:.+]] = linalg.index 0 : index
// CHECK: %[[I64:.+]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[REAL:.+]] = arith.cmpi slt, %[[I64]], %[[N]] : i64
// CHECK: arith.select %[[REAL]]
// CHECK: arith.sitofp
// CHECK: arith.constant 3.000000e+00 : f32
// CHECK: arith.divf
// CHECK: %[[LR:.+]] = tensor.extract %{{.+}}[%c0{{.*}}] : tensor<10xf32>
// CHECK: %[[NEG:.+]] = arith.negf %[[LR]]
// CHECK: linalg.generic
// CHECK: %[[STEP:.+]] = arith.mulf %[[NEG]], %{{.+}}
// CHECK: arith.addf %{{.+}}, %[[STEP]]
func.func @training(%y: tensor<4x3xf32>, %t: tensor<4x3xf32>, %n: tensor<i64>, %h: tensor<10xf32>) -> (tensor<f32>, tensor<4x3xf32>) {
  %l = nn.mse_loss %y, %t, %n : tensor<4x3xf32>, tensor<i64>
  %u = nn.sgd_update %y, %t, %h : tensor<4x3xf32>, tensor<10xf32>
  return %l, %u : tensor<f32>, tensor<4x3xf32>
}

// -----

// Each update of a parameter and its state is one loop with one output per
// updated tensor. SGD's momentum buffer starts as the first gradient.

// CHECK-LABEL: func.func @momentum
// CHECK: %[[STEP:.+]] = tensor.extract %{{.+}}[%c1{{.*}}] : tensor<10xf32>
// CHECK: %[[P:.+]]:2 = linalg.generic {{.*}} ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%{{.+}}, %{{.+}} : tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[FIRST:.+]] = arith.cmpf oeq, %[[STEP]]
// CHECK: arith.select %[[FIRST]]
// CHECK: return %[[P]]#0, %[[P]]#1
func.func @momentum(%p: tensor<4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %h: tensor<10xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0:2 = nn.sgd_update %p, %g state(%b : tensor<4xf32>), %h {momentum = 0.9} : tensor<4xf32>, tensor<10xf32>
  return %0#0, %0#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @adam
// CHECK: linalg.generic {{.*}} outs(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.maximumf
// CHECK: math.sqrt
func.func @adam(%p: tensor<4xf32>, %g: tensor<4xf32>, %s: tensor<4xf32>, %h: tensor<10xf32>) -> tensor<4xf32> {
  %0:4 = nn.adam_update %p, %g state(%s, %s, %s : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>), %h {amsgrad} : tensor<4xf32>, tensor<10xf32>
  return %0#0 : tensor<4xf32>
}

// -----

// Cross-entropy: the per-position maximum and sum of exponentials in one
// online pass (one exponential per element, of -|x - max|), then the loss of
// each counted position, reading the target's logit, and their count.

// CHECK-LABEL: func.func @cross_entropy
// CHECK: %[[STATS:.+]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK-SAME: outs(%{{.+}}, %{{.+}} : tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.subf
// CHECK: math.absf
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.cmpf ogt
// CHECK: %[[SUMS:.+]]:2 = linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK-SAME: ins(%{{.+}}, %[[STATS]]#0, %[[STATS]]#1 : tensor<4xi64>, tensor<4xf32>, tensor<4xf32>)
// CHECK: tensor.extract %{{.+}}[%{{.+}}, %{{.+}}] : tensor<4x3xf32>
// CHECK: math.log
// CHECK: arith.divf
// CHECK-NOT: linalg.generic
func.func @cross_entropy(%x: tensor<4x3xf32>, %t: tensor<4xi64>, %n: tensor<i64>) -> tensor<f32> {
  %0 = nn.cross_entropy_loss %x, %t, %n : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>
  return %0 : tensor<f32>
}

// -----

// A loss and, later, its gradient: the positions that count are counted
// from the targets first (the gradient is scaled by their number); then one
// kernel over the positions reads each row of logits for its online maximum
// and sum of exponentials (plus, with label smoothing, the sum of the
// logits), writes the row's loss and, in a second loop over the same row,
// its gradient; then the losses are summed and divided by the count.

// CHECK-LABEL: func.func @cross_entropy_and_gradient
// CHECK: %[[COUNTED:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK-SAME: ins(%{{.+}} : tensor<4xi64>)
// CHECK: %[[N:.+]] = tensor.extract %[[COUNTED]][]
// CHECK: %[[DL:.+]] = tensor.extract
// CHECK: %[[SCALE:.+]] = arith.divf %[[DL]], %[[N]]
// CHECK: %[[FUSED:.+]]:2 = scf.forall (%[[I:.+]]) in (4) shared_outs(%[[G:.+]] = %{{.+}}, %[[L:.+]] = %{{.+}}) -> (tensor<4x3xf32>, tensor<4xf32>)
// CHECK: %[[STATS:.+]]:3 = scf.for %{{.+}} = %c1 to %c3 step %c1
// CHECK: math.exp
// CHECK: arith.cmpf ogt
// CHECK: scf.yield
// CHECK: %[[T:.+]] = tensor.extract %{{.+}}[%[[I]]] : tensor<4xi64>
// CHECK: %[[XROW:.+]] = tensor.extract_slice %{{.+}}[%[[I]], 0] [1, 3] [1, 1] : tensor<4x3xf32> to tensor<3xf32>
// CHECK: %[[GROW:.+]] = tensor.extract_slice %[[G]][%[[I]], 0] [1, 3] [1, 1]
// CHECK: %[[ROW:.+]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[XROW]] : tensor<3xf32>) outs(%[[GROW]] : tensor<3xf32>)
// CHECK: arith.subf %{{.+}}, %[[STATS]]#0
// CHECK: math.exp
// CHECK: arith.divf %{{.+}}, %[[STATS]]#1
// CHECK: arith.mulf %{{.+}}, %[[SCALE]]
// CHECK: math.log %[[STATS]]#1
// CHECK: %[[LOSS:.+]] = tensor.insert
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[ROW]] into %[[G]][%[[I]], 0] [1, 3] [1, 1]
// CHECK-NEXT: tensor.parallel_insert_slice %[[LOSS]] into %[[L]][%[[I]]] [1] [1]
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK-SAME: ins(%[[FUSED]]#1 : tensor<4xf32>)
// CHECK: %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUM]], %[[COUNTED]] :
// CHECK-NOT: linalg.generic
// CHECK: return %[[MEAN]], %[[FUSED]]#0
func.func @cross_entropy_and_gradient(%x: tensor<4x3xf32>, %t: tensor<4xi64>, %n: tensor<i64>, %dl: tensor<f32>) -> (tensor<f32>, tensor<4x3xf32>) {
  %0 = nn.cross_entropy_loss %x, %t, %n {label_smoothing = 0.1 : f64} : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>
  %1 = nn.cross_entropy_loss_grad %x, %t, %n, %dl {label_smoothing = 0.1 : f64} : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<4x3xf32>
}

// -----

// Positions on more than one axis (a language model's [batch, sequence])
// are all parallel dimensions of the fused kernel. The loss is used before
// its gradient, whose dL/dloss is defined before the loss: the kernel goes
// where the loss was.

// CHECK-LABEL: func.func @cross_entropy_used_before_gradient
// CHECK: scf.forall (%[[B:.+]], %[[S:.+]]) in (2, 5) shared_outs({{.*}}) -> (tensor<2x5x7xf32>, tensor<2x5xf32>)
// CHECK: scf.for
// CHECK: tensor.extract_slice %{{.+}}[%[[B]], %[[S]], 0] [1, 1, 7] [1, 1, 1] : tensor<2x5x7xf32> to tensor<7xf32>
// CHECK: %[[MEAN:.+]] = linalg.generic {{.*}} iterator_types = []
// CHECK: "test.use"(%[[MEAN]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: scf.forall
// CHECK: return
func.func @cross_entropy_used_before_gradient(%x: tensor<2x5x7xf32>, %t: tensor<2x5xi64>, %n: tensor<i64>, %dl: tensor<f32>) -> (tensor<f32>, tensor<2x5x7xf32>) {
  %0 = nn.cross_entropy_loss %x, %t, %n : tensor<2x5x7xf32>, tensor<2x5xi64>, tensor<i64>
  "test.use"(%0) : (tensor<f32>) -> ()
  %1 = nn.cross_entropy_loss_grad %x, %t, %n, %dl : tensor<2x5x7xf32>, tensor<2x5xi64>, tensor<i64>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<2x5x7xf32>
}

// -----

// A gradient alone, of a loss with other attributes, or whose dL/dloss is
// computed after a use of the loss: the loss is its statistics, its sums and
// their quotient; the gradient counts the positions, then runs the fused
// kernel without per-position losses.

// CHECK-LABEL: func.func @cross_entropy_gradient_alone
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = []
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK-SAME: ins(%{{.+}} : tensor<4xi64>)
// CHECK: scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<4x3xf32>)
// CHECK-NOT: tensor.insert
// CHECK: scf.forall.in_parallel
// CHECK-NOT: linalg.generic
// CHECK-LABEL: func.func @cross_entropy_gradient_after_use
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK: linalg.generic {{.*}} iterator_types = []
// CHECK: "test.use"
// CHECK: "test.make"
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]
// CHECK: scf.forall (%{{.+}}) in (4) shared_outs(%{{.+}} = %{{.+}}) -> (tensor<4x3xf32>)
func.func @cross_entropy_gradient_alone(%x: tensor<4x3xf32>, %t: tensor<4xi64>, %n: tensor<i64>, %dl: tensor<f32>) -> (tensor<f32>, tensor<4x3xf32>) {
  %0 = nn.cross_entropy_loss %x, %t, %n {ignore_index = 1 : i64} : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>
  %1 = nn.cross_entropy_loss_grad %x, %t, %n, %dl : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<4x3xf32>
}
func.func @cross_entropy_gradient_after_use(%x: tensor<4x3xf32>, %t: tensor<4xi64>, %n: tensor<i64>) -> (tensor<f32>, tensor<4x3xf32>) {
  %0 = nn.cross_entropy_loss %x, %t, %n : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>
  "test.use"(%0) : (tensor<f32>) -> ()
  %dl = "test.make"() : () -> tensor<f32>
  %1 = nn.cross_entropy_loss_grad %x, %t, %n, %dl : tensor<4x3xf32>, tensor<4xi64>, tensor<i64>, tensor<f32>
  return %0, %1 : tensor<f32>, tensor<4x3xf32>
}
