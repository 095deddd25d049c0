// RUN: nncc-opt %s -split-input-file -convert-nn-to-linalg | FileCheck %s

// Broadcast operands are read through maps that send stretched dimensions to
// 0 and drop missing leading ones.

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @broadcast
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COL]], #[[ID]]]
// CHECK: arith.subf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]]
// CHECK: arith.mulf
// CHECK: linalg.generic {indexing_maps = [#[[SCALAR]], #[[ID]], #[[ID]]]
// CHECK: arith.divf
func.func @broadcast(%a: tensor<4x3xf32>, %r: tensor<3xf32>, %c: tensor<4x1xf32>, %s: tensor<f32>) -> tensor<4x3xf32> {
  %0 = nn.add %a, %r : tensor<4x3xf32>, tensor<3xf32>
  %1 = nn.sub %0, %c : tensor<4x3xf32>, tensor<4x1xf32>
  %2 = nn.mul %1, %s : tensor<4x3xf32>, tensor<f32>
  %3 = nn.div %s, %2 : tensor<f32>, tensor<4x3xf32>
  return %3 : tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func.func @activations
// CHECK: math.tanh
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
// relu keeps NaN (an unordered compare), relu_grad passes only where x > 0.
// CHECK: arith.cmpf ugt
// CHECK: arith.select
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: arith.negf
func.func @activations(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = nn.tanh %x : tensor<4xf32>
  %1 = nn.sigmoid %0 : tensor<4xf32>
  %2 = nn.relu %1 : tensor<4xf32>
  %3 = nn.relu_grad %x, %2 : tensor<4xf32>
  %4 = nn.neg %3 : tensor<4xf32>
  return %4 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @constant
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
func.func @constant() -> tensor<2xf32> {
  %0 = nn.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @math
// CHECK: math.sqrt
// CHECK: math.exp
// CHECK: math.log
// CHECK: math.absf
// CHECK: arith.divf %{{.+}}, %{{.+}} : f32
// CHECK: math.erf
// sign: -1, 0 or 1, NaN kept.
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf olt
// CHECK: arith.cmpf uno
func.func @math(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = nn.sqrt %x : tensor<3xf32>
  %1 = nn.exp %0 : tensor<3xf32>
  %2 = nn.log %1 : tensor<3xf32>
  %3 = nn.abs %2 : tensor<3xf32>
  %4 = nn.reciprocal %3 : tensor<3xf32>
  %5 = nn.erf %4 : tensor<3xf32>
  %6 = nn.sign %5 : tensor<3xf32>
  return %6 : tensor<3xf32>
}

// -----

// maximum and minimum propagate NaN (arith.maximumf, not maxnumf).

// CHECK-LABEL: func.func @extrema
// CHECK: linalg.generic
// CHECK: ^bb0(%[[A:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// CHECK: %[[MAX:.+]] = arith.maximumf %[[A]], %[[B]] : f32
// CHECK: linalg.yield %[[MAX]] : f32
// CHECK: linalg.generic
// CHECK: ^bb0(%[[C:[a-z0-9_]+]]: f32, %[[D:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// CHECK: %[[MIN:.+]] = arith.minimumf %[[C]], %[[D]] : f32
// CHECK: linalg.yield %[[MIN]] : f32
func.func @extrema(%a: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %0 = nn.maximum %a, %b : tensor<4x3xf32>, tensor<3xf32>
  %1 = nn.minimum %a, %b : tensor<4x3xf32>, tensor<3xf32>
  return %0, %1 : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// clip selects a bound only on an ordered compare, so NaN passes through.

// CHECK-LABEL: func.func @clip
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// CHECK-DAG: %[[LO:.+]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG: %[[HI:.+]] = arith.constant 6.000000e+00 : f32
// CHECK: %[[BELOW:.+]] = arith.cmpf olt, %[[X]], %[[LO]] : f32
// CHECK: %[[ABOVE:.+]] = arith.cmpf ogt, %[[X]], %[[HI]] : f32
// CHECK: %[[UPPER:.+]] = arith.select %[[ABOVE]], %[[HI]], %[[X]] : f32
// CHECK: %[[Y:.+]] = arith.select %[[BELOW]], %[[LO]], %[[UPPER]] : f32
// CHECK: linalg.yield %[[Y]] : f32
func.func @clip(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = nn.clip %x {min = -1.0, max = 6.0} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// clip_grad passes the gradient strictly inside (min, max).

// CHECK-LABEL: func.func @clip_grad
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:[a-z0-9_]+]]: f32, %[[G:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// CHECK-DAG: %[[LO:.+]] = arith.constant -1.000000e+00 : f32
// CHECK-DAG: %[[HI:.+]] = arith.constant 6.000000e+00 : f32
// CHECK: %[[ABOVE:.+]] = arith.cmpf ogt, %[[X]], %[[LO]] : f32
// CHECK: %[[BELOW:.+]] = arith.cmpf olt, %[[X]], %[[HI]] : f32
// CHECK: %[[INSIDE:.+]] = arith.andi %[[ABOVE]], %[[BELOW]] : i1
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[DX:.+]] = arith.select %[[INSIDE]], %[[G]], %[[ZERO]] : f32
// CHECK: linalg.yield %[[DX]] : f32
func.func @clip_grad(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %0 = nn.clip_grad %x, %g {min = -1.0, max = 6.0} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// softplus is x itself above PyTorch's threshold of 20.

// CHECK-LABEL: func.func @softplus
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:[a-z0-9_]+]]: f32, %{{.+}}: f32):
// CHECK: %[[T:.+]] = arith.constant 2.000000e+01 : f32
// CHECK: %[[LINEAR:.+]] = arith.cmpf ogt, %[[X]], %[[T]] : f32
// CHECK: %[[E:.+]] = math.exp %[[X]] : f32
// CHECK: %[[SOFT:.+]] = math.log1p %[[E]] : f32
// CHECK: %[[Y:.+]] = arith.select %[[LINEAR]], %[[X]], %[[SOFT]] : f32
// CHECK: linalg.yield %[[Y]] : f32
func.func @softplus(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = nn.softplus %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Float predicates are ordered (false for NaN), integer ones signed; the
// result is i1.

// CHECK-LABEL: func.func @compare
// CHECK: linalg.generic
// CHECK-SAME: outs(%{{.+}} : tensor<4xi1>)
// CHECK: ^bb0(%[[A:[a-z0-9_]+]]: f32, %[[B:[a-z0-9_]+]]: f32, %{{.+}}: i1):
// CHECK: %[[R:.+]] = arith.cmpf olt, %[[A]], %[[B]] : f32
// CHECK: linalg.yield %[[R]] : i1
// CHECK: arith.cmpf ole, %{{.+}}, %{{.+}} : f32
// CHECK: arith.cmpf ogt, %{{.+}}, %{{.+}} : f32
// CHECK: arith.cmpf oge, %{{.+}}, %{{.+}} : f32
// CHECK: arith.cmpi slt, %{{.+}}, %{{.+}} : i64
// CHECK: arith.cmpi sle, %{{.+}}, %{{.+}} : i64
// CHECK: arith.cmpi sgt, %{{.+}}, %{{.+}} : i64
// CHECK: arith.cmpi sge, %{{.+}}, %{{.+}} : i64
func.func @compare(%a: tensor<4xf32>, %s: tensor<f32>, %i: tensor<4xi64>, %j: tensor<i64>)
    -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %0 = nn.compare lt %a, %s : tensor<4xf32>, tensor<f32>
  %1 = nn.compare le %a, %s : tensor<4xf32>, tensor<f32>
  %2 = nn.compare gt %a, %s : tensor<4xf32>, tensor<f32>
  %3 = nn.compare ge %a, %s : tensor<4xf32>, tensor<f32>
  %4 = nn.compare lt %i, %j : tensor<4xi64>, tensor<i64>
  %5 = nn.compare le %i, %j : tensor<4xi64>, tensor<i64>
  %6 = nn.compare gt %i, %j : tensor<4xi64>, tensor<i64>
  %7 = nn.compare ge %i, %j : tensor<4xi64>, tensor<i64>
  return %0, %1, %2, %3, %4, %5, %6, %7
      : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @logic
// CHECK: linalg.generic
// CHECK: ^bb0(%[[A:[a-z0-9_]+]]: i1, %[[B:[a-z0-9_]+]]: i1, %{{.+}}: i1):
// CHECK: %[[AND:.+]] = arith.andi %[[A]], %[[B]] : i1
// CHECK: linalg.yield %[[AND]] : i1
// CHECK: arith.ori %{{.+}}, %{{.+}} : i1
// CHECK: arith.xori %{{.+}}, %{{.+}} : i1
// not is xor with true.
// CHECK: linalg.generic
// CHECK: ^bb0(%[[C:[a-z0-9_]+]]: i1, %{{.+}}: i1):
// CHECK: %[[TRUE:.+]] = arith.constant true
// CHECK: %[[NOT:.+]] = arith.xori %[[C]], %[[TRUE]] : i1
// CHECK: linalg.yield %[[NOT]] : i1
func.func @logic(%a: tensor<4x4xi1>, %b: tensor<4xi1>) -> (tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>) {
  %0 = nn.logic and %a, %b : tensor<4x4xi1>, tensor<4xi1>
  %1 = nn.logic or %a, %b : tensor<4x4xi1>, tensor<4xi1>
  %2 = nn.logic xor %a, %b : tensor<4x4xi1>, tensor<4xi1>
  %3 = nn.not %a : tensor<4x4xi1>
  return %0, %1, %2, %3 : tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>, tensor<4x4xi1>
}
