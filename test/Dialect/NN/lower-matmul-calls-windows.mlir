// RUN: nncc-opt %s -split-input-file -nn-lower-matmul-calls | FileCheck %s

// A convolution's product reads its windows (im2col) where the copy read
// them: in the input, whose strides make B's compound dimensions. Here x is
// 2 x 3 x 10 x 10, and the windows of a 3x3 kernel at 8 x 8 positions are
// B = [n][c, kh, kw][oh, ow]: k's parts (3, 100), (3, 10), (3, 1), the
// first as B's row stride and the rest as the inner parts, after (1, 0);
// n's (8, 10), (8, 1); each sample 300 elements after the last. The copy
// and its buffer go.

#window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2, d5 + d3)>
#all = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
#mk = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
#bkn = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#bmn = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[X:[a-z_0-9]+]]: memref<2x3x10x10xf32>
// CHECK-NOT: memref<2x3x3x3x8x8xf32>
// CHECK: %[[XBASE:[a-z_0-9]+]], %[[XOFF:[a-z_0-9]+]], {{.+}} = memref.extract_strided_metadata %[[X]]
// CHECK: %[[OFF:[a-z_0-9]+]] = arith.addi %[[XOFF]], %{{c0(_[0-9]+)?}}
// CHECK: call @__nncc_sgemm(%{{c4(_[0-9]+)?}}, %{{c64(_[0-9]+)?}}, %{{c27(_[0-9]+)?}}, %{{c2(_[0-9]+)?}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, %[[XBASE]], %[[OFF]], %{{c100(_[0-9]+)?}}, %{{c10(_[0-9]+)?}}, %{{c300(_[0-9]+)?}},
// CHECK-SAME: %{{c1(_[0-9]+)?}}, %{{c0(_[0-9]+)?}}, %{{c3(_[0-9]+)?}}, %{{c10(_[0-9]+)?}}, %{{c3(_[0-9]+)?}}, %{{c1(_[0-9]+)?}}, %{{c1(_[0-9]+)?}}, %{{c0(_[0-9]+)?}}, %{{c1(_[0-9]+)?}}, %{{c0(_[0-9]+)?}}, %{{c8(_[0-9]+)?}}, %{{c1(_[0-9]+)?}})
// CHECK-NOT: linalg.generic
func.func @forward(%x: memref<2x3x10x10xf32>, %w: memref<4x27xf32>, %y: memref<2x4x64xf32>) {
  %cols = memref.alloc() : memref<2x3x3x3x8x8xf32>
  linalg.generic {indexing_maps = [#window, #all], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<2x3x10x10xf32>) outs(%cols : memref<2x3x3x3x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0], [1, 2, 3], [4, 5]] : memref<2x3x3x3x8x8xf32> into memref<2x27x64xf32>
  linalg.generic {indexing_maps = [#mk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w, %b : memref<4x27xf32>, memref<2x27x64xf32>) outs(%y : memref<2x4x64xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A weight gradient's product reads the windows transposed, at stride 2
// with the window one column in (a constant in the copy's map): k is the
// positions, (4, 20) then (4, 2), so that B's row stride is 20; n is the
// channel and kernel entries, (3, 100), (3, 10), (3, 1); the offset 1.

#window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 * 2 + d2, d5 * 2 + d3 + 1)>
#all = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
#mk = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
#bnk = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
#bmn = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @transposed
// CHECK-SAME: (%[[X:[a-z_0-9]+]]: memref<2x3x10x10xf32>
// CHECK: %[[XBASE:[a-z_0-9]+]], %[[XOFF:[a-z_0-9]+]], {{.+}} = memref.extract_strided_metadata %[[X]]
// CHECK: %[[OFF:[a-z_0-9]+]] = arith.addi %[[XOFF]], %{{c1(_[0-9]+)?}}
// CHECK: call @__nncc_sgemm(%{{c4(_[0-9]+)?}}, %{{c27(_[0-9]+)?}}, %{{c16(_[0-9]+)?}}, %{{c2(_[0-9]+)?}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, %[[XBASE]], %[[OFF]], %{{c20(_[0-9]+)?}}, %{{c100(_[0-9]+)?}}, %{{c300(_[0-9]+)?}},
// CHECK-SAME: %{{c1(_[0-9]+)?}}, %{{c0(_[0-9]+)?}}, %{{c1(_[0-9]+)?}}, %{{c0(_[0-9]+)?}}, %{{c4(_[0-9]+)?}}, %{{c2(_[0-9]+)?}}, %{{c1(_[0-9]+)?}}, %{{c0(_[0-9]+)?}}, %{{c3(_[0-9]+)?}}, %{{c10(_[0-9]+)?}}, %{{c3(_[0-9]+)?}}, %{{c1(_[0-9]+)?}})
func.func @transposed(%x: memref<2x3x10x10xf32>, %dy: memref<2x4x16xf32>, %dw: memref<2x4x27xf32>) {
  %cols = memref.alloc() : memref<2x3x3x3x4x4xf32>
  linalg.generic {indexing_maps = [#window, #all], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<2x3x10x10xf32>) outs(%cols : memref<2x3x3x3x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0], [1, 2, 3], [4, 5]] : memref<2x3x3x3x4x4xf32> into memref<2x27x16xf32>
  linalg.generic {indexing_maps = [#mk, #bnk, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%dy, %b : memref<2x4x16xf32>, memref<2x27x16xf32>) outs(%dw : memref<2x4x27xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The windows stay a copy where the GEMM cannot read the input in their
// place: when something writes the input between the copy and the product
// (here a fill), or when something else reads the windows.

#window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2, d5 + d3)>
#all = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
#mk = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
#bkn = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#bmn = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @written_between
// CHECK: %[[COLS:[a-z_0-9]+]] = memref.alloc() : memref<2x3x3x3x8x8xf32>
// CHECK: linalg.generic
// CHECK: linalg.fill
// CHECK: %[[B:[a-z_0-9]+]] = memref.collapse_shape %[[COLS]]
// CHECK: memref.extract_strided_metadata %[[B]]
// CHECK: call @__nncc_sgemm
func.func @written_between(%x: memref<2x3x10x10xf32>, %w: memref<4x27xf32>, %y: memref<2x4x64xf32>) {
  %cols = memref.alloc() : memref<2x3x3x3x8x8xf32>
  linalg.generic {indexing_maps = [#window, #all], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<2x3x10x10xf32>) outs(%cols : memref<2x3x3x3x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%x : memref<2x3x10x10xf32>)
  %b = memref.collapse_shape %cols [[0], [1, 2, 3], [4, 5]] : memref<2x3x3x3x8x8xf32> into memref<2x27x64xf32>
  linalg.generic {indexing_maps = [#mk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w, %b : memref<4x27xf32>, memref<2x27x64xf32>) outs(%y : memref<2x4x64xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// CHECK-LABEL: func.func @read_elsewhere
// CHECK: %[[COLS:[a-z_0-9]+]] = memref.alloc() : memref<2x3x3x3x8x8xf32>
// CHECK: %[[B:[a-z_0-9]+]] = memref.collapse_shape %[[COLS]]
// CHECK: memref.extract_strided_metadata %[[B]]
// CHECK: call @__nncc_sgemm
// CHECK: memref.copy %[[COLS]]
func.func @read_elsewhere(%x: memref<2x3x10x10xf32>, %w: memref<4x27xf32>, %y: memref<2x4x64xf32>, %keep: memref<2x3x3x3x8x8xf32>) {
  %cols = memref.alloc() : memref<2x3x3x3x8x8xf32>
  linalg.generic {indexing_maps = [#window, #all], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<2x3x10x10xf32>) outs(%cols : memref<2x3x3x3x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0], [1, 2, 3], [4, 5]] : memref<2x3x3x3x8x8xf32> into memref<2x27x64xf32>
  linalg.generic {indexing_maps = [#mk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w, %b : memref<4x27xf32>, memref<2x27x64xf32>) outs(%y : memref<2x4x64xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.copy %cols, %keep : memref<2x3x3x3x8x8xf32> to memref<2x3x3x3x8x8xf32>
  return
}

// -----

// Nor where the product's epilogue (a bias add) writes the input: the GEMM
// would read windows that its own epilogue overwrites.

#window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2, d5 + d3)>
#all = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
#mk = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
#bkn = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#bmn = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#bias = affine_map<(d0, d1, d2) -> (d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @epilogue_writes_input
// CHECK: %[[COLS:[a-z_0-9]+]] = memref.alloc() : memref<2x4x3x3x8x8xf32>
// CHECK: %[[B:[a-z_0-9]+]] = memref.collapse_shape %[[COLS]]
// CHECK: memref.extract_strided_metadata %[[B]]
// CHECK: call @__nncc_sgemm
func.func @epilogue_writes_input(%x: memref<2x4x10x10xf32>, %w: memref<4x36xf32>, %bias: memref<4xf32>) {
  %xs = memref.collapse_shape %x [[0], [1], [2, 3]] : memref<2x4x10x10xf32> into memref<2x4x100xf32>
  %dst = memref.subview %xs[0, 0, 0] [2, 4, 64] [1, 1, 1] : memref<2x4x100xf32> to memref<2x4x64xf32, strided<[400, 100, 1]>>
  %cols = memref.alloc() : memref<2x4x3x3x8x8xf32>
  linalg.generic {indexing_maps = [#window, #all], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<2x4x10x10xf32>) outs(%cols : memref<2x4x3x3x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %b = memref.collapse_shape %cols [[0], [1, 2, 3], [4, 5]] : memref<2x4x3x3x8x8xf32> into memref<2x36x64xf32>
  %c = memref.alloc() : memref<2x4x64xf32>
  linalg.generic {indexing_maps = [#mk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w, %b : memref<4x36xf32>, memref<2x36x64xf32>) outs(%c : memref<2x4x64xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id3, #bias, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c, %bias : memref<2x4x64xf32>, memref<4xf32>) outs(%dst : memref<2x4x64xf32, strided<[400, 100, 1]>>) {
  ^bb0(%y: f32, %z: f32, %o: f32):
    %s = arith.addf %y, %z : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A product may read the windows buffer itself, without a view: a 1-D
// convolution's windows of one channel, k (3, 1) and n (8, 1), are B with
// row stride 1 and column stride 1 in x, single parts.

#window = affine_map<(d0, d1, d2) -> (d0, d2 + d1)>
#all = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#mk = affine_map<(d0, d1, d2, d3) -> (d1, d3)>
#bkn = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
#bmn = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @whole_buffer
// CHECK-SAME: (%[[X:[a-z_0-9]+]]: memref<2x10xf32>
// CHECK-NOT: memref<2x3x8xf32>
// CHECK: %[[XBASE:[a-z_0-9]+]], {{.+}} = memref.extract_strided_metadata %[[X]]
// CHECK: call @__nncc_sgemm(%{{c4(_[0-9]+)?}}, %{{c8(_[0-9]+)?}}, %{{c3(_[0-9]+)?}}, %{{c2(_[0-9]+)?}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, {{[^,]+}}, %[[XBASE]], %{{[a-z_0-9]+}}, %{{c1(_[0-9]+)?}}, %{{c1(_[0-9]+)?}}, %{{c10(_[0-9]+)?}},
func.func @whole_buffer(%x: memref<2x10xf32>, %w: memref<4x3xf32>, %y: memref<2x4x8xf32>) {
  %cols = memref.alloc() : memref<2x3x8xf32>
  linalg.generic {indexing_maps = [#window, #all], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : memref<2x10xf32>) outs(%cols : memref<2x3x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [#mk, #bkn, #bmn], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%w, %cols : memref<4x3xf32>, memref<2x3x8xf32>) outs(%y : memref<2x4x8xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}
