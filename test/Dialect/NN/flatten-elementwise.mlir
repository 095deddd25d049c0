// RUN: nncc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(nn-flatten-elementwise))' | FileCheck %s

// An update that reads and writes every buffer element for element (a
// convolution weight's SGD step with momentum) runs over the elements as
// one dimension, through views, and keeps its attributes.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @update
// CHECK-SAME: (%[[P:[a-z0-9]+]]: memref<8x4x3x3xf32>, %[[G:[a-z0-9]+]]: memref<8x4x3x3xf32>, %[[OUT:[a-z0-9]+]]: memref<8x4x3x3xf32>)
// CHECK-DAG: %[[FP:[a-z_0-9]+]] = memref.collapse_shape %[[P]] {{\[}}[0, 1, 2, 3]] : memref<8x4x3x3xf32> into memref<288xf32>
// CHECK-DAG: %[[FG:[a-z_0-9]+]] = memref.collapse_shape %[[G]] {{\[}}[0, 1, 2, 3]]
// CHECK-DAG: %[[FO:[a-z_0-9]+]] = memref.collapse_shape %[[OUT]] {{\[}}[0, 1, 2, 3]]
// CHECK: linalg.generic {indexing_maps = [#{{[a-z0-9]+}}, #{{[a-z0-9]+}}, #{{[a-z0-9]+}}], iterator_types = ["parallel"]} ins(%[[FP]], %[[FG]] : memref<288xf32>, memref<288xf32>) outs(%[[FO]] : memref<288xf32>) attrs =  {nn.fusion_group = 3 : i64}
// CHECK: arith.mulf
// CHECK: arith.subf
func.func @update(%p: memref<8x4x3x3xf32>, %g: memref<8x4x3x3xf32>, %out: memref<8x4x3x3xf32>) {
  %lr = arith.constant 0.1 : f32
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%p, %g : memref<8x4x3x3xf32>, memref<8x4x3x3xf32>) outs(%out : memref<8x4x3x3xf32>) attrs = {nn.fusion_group = 3 : i64} {
  ^bb0(%x: f32, %dx: f32, %y: f32):
    %step = arith.mulf %lr, %dx : f32
    %new = arith.subf %x, %step : f32
    linalg.yield %new : f32
  }
  return
}

// -----

// Kernels that are not the same loop over their elements stay as they
// are: a broadcast operand, a strided view, a loop that reads its indices,
// a reduction.

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#first = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @kept
// CHECK-NOT: memref.collapse_shape
// CHECK-COUNT-4: linalg.generic {{.*}}iterator_types = ["{{(parallel|reduction)}}", "{{(parallel|reduction)}}"]
func.func @kept(%a: memref<4x8xf32>, %bias: memref<8xf32>, %b: memref<4x8xf32>, %wide: memref<4x16xf32>, %sum: memref<4xf32>) {
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %bias : memref<4x8xf32>, memref<8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  %half = memref.subview %wide[0, 0] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1]>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : memref<4x8xf32>) outs(%half : memref<4x8xf32, strided<[16, 1]>>) {
  ^bb0(%x: f32, %z: f32):
    linalg.yield %x : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%x: f32, %z: f32):
    %i = linalg.index 1 : index
    %c0 = arith.constant 0 : index
    %first = arith.cmpi eq, %i, %c0 : index
    %zero = arith.constant 0.0 : f32
    %v = arith.select %first, %zero, %x : f32
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [#id, #first], iterator_types = ["parallel", "reduction"]} ins(%a : memref<4x8xf32>) outs(%sum : memref<4xf32>) {
  ^bb0(%x: f32, %z: f32):
    %s = arith.addf %x, %z : f32
    linalg.yield %s : f32
  }
  return
}
