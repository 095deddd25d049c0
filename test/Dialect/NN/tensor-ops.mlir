// RUN: nncc-opt %s | nncc-opt | FileCheck %s
// RUN: nncc-opt %s -canonicalize | FileCheck %s --check-prefix=FOLD

// The ops of CNNs and transformers round-trip through their syntax.
// CHECK-LABEL: func @ops
func.func @ops(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>,
               %t: tensor<5x4xf32>, %ids: tensor<2x3xi64>,
               %s: tensor<2x4x4xf32>) -> tensor<2x4x4xf32> {
  // CHECK: nn.conv %{{.*}}, %{{.*}} strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1
  %c = nn.conv %x, %w strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] groups 1 : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>
  // CHECK: nn.pool max %{{.*}} kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] ceil_mode
  %p = nn.pool max %c kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] ceil_mode : tensor<2x4x8x8xf32>
  // CHECK: nn.pool_grad avg
  %g = nn.pool_grad avg %c, %p kernel [2, 2] strides [2, 2] pads [0, 0, 0, 0] dilations [1, 1] ceil_mode count_include_pad : tensor<2x4x8x8xf32>, tensor<2x4x4x4xf32>
  // CHECK: nn.gather %{{.*}}, %{{.*}} axis 0
  %e = nn.gather %t, %ids axis 0 : tensor<5x4xf32>, tensor<2x3xi64>
  // CHECK: nn.gather_grad %{{.*}}, %{{.*}} to [5, 4] axis 0
  %eg = nn.gather_grad %e, %ids to [5, 4] axis 0 : tensor<2x3x4xf32>, tensor<2x3xi64>
  // CHECK: nn.softmax %{{.*}} axis 2
  %sm = nn.softmax %s axis 2 : tensor<2x4x4xf32>
  // CHECK: nn.matmul
  %b = nn.matmul %sm, %s transposed : tensor<2x4x4xf32>, tensor<2x4x4xf32>
  // CHECK: nn.slice %{{.*}} starts [0, 1, 0] sizes [2, 2, 4] strides [1, 2, 1]
  %sl = nn.slice %b starts [0, 1, 0] sizes [2, 2, 4] strides [1, 2, 1] : tensor<2x4x4xf32>
  // CHECK: nn.slice_add %{{.*}}, %{{.*}} starts [0, 1, 0] strides [1, 2, 1] : tensor<2x4x4xf32>, tensor<2x2x4xf32>
  %sa = nn.slice_add %b, %sl starts [0, 1, 0] strides [1, 2, 1] : tensor<2x4x4xf32>, tensor<2x2x4xf32>
  // CHECK: nn.concat
  %cc = nn.concat %sl, %sl axis 1 : tensor<2x2x4xf32>, tensor<2x2x4xf32>
  return %cc : tensor<2x4x4xf32>
}

// Shape subgraphs and masks of constants fold.
// FOLD-LABEL: func @fold
func.func @fold() -> (tensor<3xi64>, tensor<2x2xi1>, tensor<2xi64>) {
  %shape = nn.constant dense<[4, 5, 6]> : tensor<3xi64>
  %i = nn.constant dense<[2, 0]> : tensor<2xi64>
  // FOLD-DAG: nn.constant dense<[6, 4]> : tensor<2xi64>
  %g = nn.gather %shape, %i axis 0 : tensor<3xi64>, tensor<2xi64>
  %one = nn.constant dense<[7]> : tensor<1xi64>
  // FOLD-DAG: nn.constant dense<[6, 4, 7]> : tensor<3xi64>
  %c = nn.concat %g, %one axis 0 : tensor<2xi64>, tensor<1xi64>
  %ones = nn.constant dense<1.0> : tensor<2x2xf32>
  %zero = nn.constant dense<0.0> : tensor<f32>
  %tri = nn.trilu %ones k 0 : tensor<2x2xf32>
  // FOLD-DAG: nn.constant dense<{{\[\[}}false, true], [false, false]]> : tensor<2x2xi1>
  %m = nn.equal %tri, %zero : tensor<2x2xf32>, tensor<f32>
  return %c, %m, %g : tensor<3xi64>, tensor<2x2xi1>, tensor<2xi64>
}

// Equality folds as the lowering's cmpf oeq computes it: NaN equals
// nothing, not even itself, and -0 equals 0.
// FOLD-LABEL: func @fold_equal_ieee
// FOLD: nn.constant dense<[false, true, true]> : tensor<3xi1>
func.func @fold_equal_ieee() -> tensor<3xi1> {
  %a = nn.constant dense<[0x7FC00000, 0.0, 1.0]> : tensor<3xf32>
  %b = nn.constant dense<[0x7FC00000, -0.0, 1.0]> : tensor<3xf32>
  %m = nn.equal %a, %b : tensor<3xf32>, tensor<3xf32>
  return %m : tensor<3xi1>
}

// Comparisons and boolean ops of constants fold: a NaN is unordered (false
// under every predicate), integers compare as signed, operands broadcast.
// FOLD-LABEL: func @fold_masks
func.func @fold_masks() -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<3xi1>,
                            tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>) {
  %a = nn.constant dense<[1.0, 2.0, 3.0, 0x7FC00000]> : tensor<4xf32>
  %two = nn.constant dense<2.0> : tensor<f32>
  // FOLD-DAG: nn.constant dense<[true, false, false, false]> : tensor<4xi1>
  %lt = nn.compare lt %a, %two : tensor<4xf32>, tensor<f32>
  // FOLD-DAG: nn.constant dense<[true, true, false, false]> : tensor<4xi1>
  %le = nn.compare le %a, %two : tensor<4xf32>, tensor<f32>
  // FOLD-DAG: nn.constant dense<[false, false, true, false]> : tensor<4xi1>
  %gt = nn.compare gt %a, %two : tensor<4xf32>, tensor<f32>
  // FOLD-DAG: nn.constant dense<[false, true, true, false]> : tensor<4xi1>
  %ge = nn.compare ge %a, %two : tensor<4xf32>, tensor<f32>
  %i = nn.constant dense<[-1, 0, 1]> : tensor<3xi64>
  %zero = nn.constant dense<0> : tensor<i64>
  // FOLD-DAG: nn.constant dense<[true, false, false]> : tensor<3xi1>
  %neg = nn.compare lt %i, %zero : tensor<3xi64>, tensor<i64>
  %p = nn.constant dense<[[true, true], [false, false]]> : tensor<2x2xi1>
  %q = nn.constant dense<[true, false]> : tensor<2xi1>
  // FOLD-DAG: nn.constant dense<{{\[\[}}true, false], [false, false]]> : tensor<2x2xi1>
  %and = nn.logic and %p, %q : tensor<2x2xi1>, tensor<2xi1>
  // FOLD-DAG: nn.constant dense<{{\[\[}}true, true], [true, false]]> : tensor<2x2xi1>
  %or = nn.logic or %p, %q : tensor<2x2xi1>, tensor<2xi1>
  // FOLD-DAG: nn.constant dense<{{\[\[}}false, true], [true, false]]> : tensor<2x2xi1>
  %xor = nn.logic xor %p, %q : tensor<2x2xi1>, tensor<2xi1>
  // FOLD-DAG: nn.constant dense<{{\[\[}}false, true], [true, true]]> : tensor<2x2xi1>
  %not = nn.not %and : tensor<2x2xi1>
  return %lt, %le, %gt, %ge, %neg, %and, %or, %xor, %not
      : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<3xi1>,
        tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>, tensor<2x2xi1>
}
