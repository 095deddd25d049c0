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
