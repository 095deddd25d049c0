// RUN: nncc-opt %s -split-input-file -allow-unregistered-dialect -nn-lower-matmul-calls | FileCheck %s

// A marked product becomes a call of the runtime's GEMM with each operand's
// base, offset and the strides of its two matrix dimensions: B is read
// transposed through its strides (n then k), not copied. Without an
// epilogue, the bias arguments are unused (C's base, zeros). The packing
// buffers are allocations that live until the call is done, with one block
// per thread (nn.threads = 2) each: A's 2 x 96 x 256 floats, B's
// 2 x 256 x 64 (40 columns rounded up to the widest tile's 32). B's k and n
// are single indices: their inner parts are (1, 0) each.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
module attributes {nn.threads = 2 : i32} {
// CHECK-LABEL: func.func @plain
// CHECK-SAME: (%[[A:[a-z_0-9]+]]: memref<100x300xf32>, %[[B:[a-z_0-9]+]]: memref<40x300xf32>, %[[C:[a-z_0-9]+]]: memref<100x40xf32>)
// CHECK: %[[PA:[a-z_0-9]+]] = memref.alloc() : memref<49152xf32>
// CHECK: %[[PB:[a-z_0-9]+]] = memref.alloc() : memref<32768xf32>
// CHECK: %[[ABASE:[a-z_0-9]+]], %[[AOFF:[a-z_0-9]+]], %{{.+}}:2, %[[AS:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %[[A]]
// CHECK: %[[BBASE:[a-z_0-9]+]], %[[BOFF:[a-z_0-9]+]], %{{.+}}:2, %[[BS:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %[[B]]
// CHECK: %[[CBASE:[a-z_0-9]+]], %[[COFF:[a-z_0-9]+]], %{{.+}}:2, %[[CS:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %[[C]]
// CHECK: %[[PABASE:[a-z_0-9]+]], {{.+}} = memref.extract_strided_metadata %[[PA]]
// CHECK: %[[PBBASE:[a-z_0-9]+]], {{.+}} = memref.extract_strided_metadata %[[PB]]
// CHECK-DAG: %[[M:[a-z_0-9]+]] = arith.constant 100 : index
// CHECK-DAG: %[[N:[a-z_0-9]+]] = arith.constant 40 : index
// CHECK-DAG: %[[K:[a-z_0-9]+]] = arith.constant 300 : index
// CHECK: call @__nncc_sgemm(%[[M]], %[[N]], %[[K]], %{{c1(_[0-9]+)?}}, %[[ABASE]], %[[AOFF]], %[[AS]]#0, %[[AS]]#1, %{{c0(_[0-9]+)?}}, %[[BBASE]], %[[BOFF]], %[[BS]]#1, %[[BS]]#0, %{{c0(_[0-9]+)?}}, %[[CBASE]], %[[COFF]], %[[CS]]#0, %[[CS]]#1, %{{c0(_[0-9]+)?}}, %[[CBASE]], %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[CBASE]], %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[PABASE]], %[[PBBASE]], %[[ONE:[a-z_0-9]+]], %[[ZERO:[a-z_0-9]+]], %[[ONE]], %[[ZERO]], %[[ONE]], %[[ZERO]], %[[ONE]], %[[ZERO]], %[[ONE]], %[[ZERO]], %[[ONE]], %[[ZERO]])
// CHECK-NOT: linalg.generic
// CHECK: memref.dealloc %[[PA]]
// CHECK: memref.dealloc %[[PB]]
// CHECK: func.func private @__nncc_sgemm(index, index, index, index, memref<f32>, index, index, index, index, memref<f32>, index, index, index, index, memref<f32>, index, index, index, index, memref<f32>, index, index, index, index, memref<f32>, index, index, index, index, index, memref<f32>, memref<f32>, index, index, index, index, index, index, index, index, index, index, index, index)
func.func @plain(%a: memref<100x300xf32>, %b: memref<40x300xf32>, %c: memref<100x40xf32>) {
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<100x300xf32>, memref<40x300xf32>) outs(%c : memref<100x40xf32>) attrs = {nn.matmul} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
}

// -----

// With threads, A's buffer also holds all of A packed once (the threads
// share it when they split the columns): 102 rows (100 rounded up to the
// micro-kernel's 6) x 1000 floats, more than 2 x 96 x 256.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
module attributes {nn.threads = 2 : i32} {
// CHECK-LABEL: func.func @shared_a
// CHECK: memref.alloc() : memref<102000xf32>
// CHECK: memref.alloc() : memref<32768xf32>
// CHECK: call @__nncc_sgemm
func.func @shared_a(%a: memref<100x1000xf32>, %b: memref<1000x40xf32>, %c: memref<100x40xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<100x1000xf32>, memref<1000x40xf32>) outs(%c : memref<100x40xf32>) attrs = {nn.matmul} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
}

// -----

// A batched product is one call per matrix of its last batch dimension
// (the call's batch, with each operand's stride along it), in loops over
// the other batch dimensions; each operand's offset moves by its strides of
// those it has. A, broadcast over the last batch dimension (map result 0),
// has a matrix stride of 0 and moves with the first only; it is read
// transposed (m is its last dimension). B has a strided layout with an
// offset of its own.

#lhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d4, d2)>
#rhs = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
#out = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @batched
// CHECK: memref.alloc() : memref<576xf32>
// CHECK: memref.alloc() : memref<512xf32>
// CHECK: %{{.+}}, %[[AOFF:[a-z_0-9]+]], %{{.+}}:4, %[[AS:[a-z_0-9]+]]:4 = memref.extract_strided_metadata %arg0
// CHECK: %{{.+}}, %[[BOFF:[a-z_0-9]+]], %{{.+}}:4, %[[BS:[a-z_0-9]+]]:4 = memref.extract_strided_metadata %arg1
// CHECK: %{{.+}}, %[[COFF:[a-z_0-9]+]], %{{.+}}:4, %[[CS:[a-z_0-9]+]]:4 = memref.extract_strided_metadata %arg2
// CHECK: scf.for %[[I:[a-z_0-9]+]] = %{{.+}} to %{{.+}} step
// CHECK-NOT: scf.for
// CHECK: %[[A0:[a-z_0-9]+]] = arith.muli %[[I]], %[[AS]]#0
// CHECK: %[[A1:[a-z_0-9]+]] = arith.addi %[[AOFF]], %[[A0]]
// CHECK: %[[B0:[a-z_0-9]+]] = arith.muli %[[I]], %[[BS]]#0
// CHECK: %[[B1:[a-z_0-9]+]] = arith.addi %[[BOFF]], %[[B0]]
// CHECK: %[[C0:[a-z_0-9]+]] = arith.muli %[[I]], %[[CS]]#0
// CHECK: %[[C1:[a-z_0-9]+]] = arith.addi %[[COFF]], %[[C0]]
// CHECK: func.call @__nncc_sgemm(%{{.+}}, %{{.+}}, %{{.+}}, %{{c3(_[0-9]+)?}}, %{{.+}}, %[[A1]], %[[AS]]#3, %[[AS]]#2, %{{c0(_[0-9]+)?}}, %{{.+}}, %[[B1]], %[[BS]]#2, %[[BS]]#3, %[[BS]]#1, %{{.+}}, %[[C1]], %[[CS]]#2, %[[CS]]#3, %[[CS]]#1,
func.func @batched(%a: memref<2x1x16x32xf32>, %b: memref<2x3x16x24xf32, strided<[1536, 384, 24, 1], offset: 8>>, %c: memref<2x3x32x24xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%a, %b : memref<2x1x16x32xf32>, memref<2x3x16x24xf32, strided<[1536, 384, 24, 1], offset: 8>>) outs(%c : memref<2x3x32x24xf32>) attrs = {nn.matmul} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A marked product the GEMM cannot compute (here of f64) stays a loop nest,
// without the mark; nothing is declared.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @double
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic
// CHECK-NOT: nn.matmul
// CHECK-SAME: outs(%{{.+}} : memref<32x32xf64>) {
// CHECK-NOT: __nncc_sgemm
func.func @double(%a: memref<32x32xf64>, %b: memref<32x32xf64>, %c: memref<32x32xf64>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<32x32xf64>, memref<32x32xf64>) outs(%c : memref<32x32xf64>) attrs = {nn.matmul} {
  ^bb0(%x: f64, %y: f64, %acc: f64):
    %p = arith.mulf %x, %y : f64
    %s = arith.addf %acc, %p : f64
    linalg.yield %s : f64
  }
  return
}

// -----

// A marked generic whose body computes more than the product (here a
// producer's tanh fused into it) stays a loop nest.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#kn = affine_map<(d0, d1, d2) -> (d2, d1)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @fused
// CHECK-NOT: memref.alloc
// CHECK: linalg.generic
// CHECK-NOT: nn.matmul
// CHECK: math.tanh
// CHECK-NOT: __nncc_sgemm
func.func @fused(%a: memref<32x32xf32>, %b: memref<32x32xf32>, %c: memref<32x32xf32>) {
  linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>) attrs = {nn.matmul} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %t = math.tanh %x : f32
    %p = arith.mulf %t, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A bias add and relu that alone read the product become its epilogue: the
// GEMM writes their output (whose allocation moves up to the call), with the
// bias broadcast over rows (row stride 0) and epilogue 3 (bias and relu);
// the product's own buffer and the elementwise loop are gone.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_relu
// CHECK-SAME: %[[BIAS:[a-z_0-9]+]]: memref<32xf32>
// CHECK: %[[D:[a-z_0-9]+]] = memref.alloc() : memref<16x32xf32>
// CHECK-NOT: memref.alloc() : memref<16x32xf32>
// CHECK: %[[DBASE:[a-z_0-9]+]], %[[DOFF:[a-z_0-9]+]], %{{.+}}:2, %[[DS:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %[[D]]
// CHECK: %[[BBASE:[a-z_0-9]+]], %[[BOFF:[a-z_0-9]+]], %{{.+}}, %[[BS:[a-z_0-9]+]] = memref.extract_strided_metadata %[[BIAS]]
// CHECK-DAG: %[[RELU:[a-z_0-9]+]] = arith.constant 3 : index
// CHECK: call @__nncc_sgemm({{.+}}, %[[DBASE]], %[[DOFF]], %[[DS]]#0, %[[DS]]#1, %{{c0(_[0-9]+)?}}, %[[BBASE]], %[[BOFF]], %{{c0(_[0-9]+)?}}, %[[BS]], %{{c0(_[0-9]+)?}}, %[[DBASE]], %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[RELU]],
// CHECK-NOT: linalg.generic
// CHECK: memref.copy %[[D]]
func.func @bias_relu(%x: memref<16x64xf32>, %w: memref<32x64xf32>, %b: memref<32xf32>, %out: memref<16x32xf32>) {
  %c = memref.alloc() : memref<16x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<16x64xf32>, memref<32x64xf32>) outs(%c : memref<16x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %d = memref.alloc() : memref<16x32xf32>
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %b : memref<16x32xf32>, memref<32xf32>) outs(%d : memref<16x32xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %zero = arith.constant 0.000000e+00 : f32
    %t = arith.addf %v, %bias : f32
    %k = arith.cmpf ugt, %t, %zero : f32
    %r = arith.select %k, %t, %zero : f32
    linalg.yield %r : f32
  }
  memref.dealloc %c : memref<16x32xf32>
  memref.copy %d, %out : memref<16x32xf32> to memref<16x32xf32>
  return
}

// -----

// When another op reads the product too (here a copy of it), the bias add
// stays a loop and the GEMM computes the plain product (epilogue 0).

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @product_read_twice
// (MLIR names index constants by value: %c0... is a 0.)
// CHECK: call @__nncc_sgemm({{.+}}, %{{c0(_[0-9]+)?}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}) :
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @product_read_twice(%x: memref<16x64xf32>, %w: memref<32x64xf32>, %b: memref<32xf32>, %out: memref<16x32xf32>, %raw: memref<16x32xf32>) {
  %c = memref.alloc() : memref<16x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<16x64xf32>, memref<32x64xf32>) outs(%c : memref<16x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %b : memref<16x32xf32>, memref<32xf32>) outs(%out : memref<16x32xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %t = arith.addf %v, %bias : f32
    linalg.yield %t : f32
  }
  memref.copy %c, %raw : memref<16x32xf32> to memref<16x32xf32>
  return
}

// -----

// C + C is no bias add: the product stays the GEMM's plain output (epilogue
// 0), which the generated epilogue reads, as one view, block by block.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @doubled
// CHECK-SAME: %[[OUT:[a-z_0-9]+]]: memref<16x32xf32>)
// CHECK: %[[C:.+]] = memref.alloc() : memref<16x32xf32>
// CHECK: call @doubled_epilogue0_gemm(%[[C]], %[[OUT]], {{.+}}, %{{c0(_[0-9]+)?}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}) :
// CHECK-NOT: linalg.generic
// CHECK: func.func private @doubled_epilogue0(%[[TC:.+]]: memref<16x32xf32> {llvm.noalias}, %[[TO:.+]]: memref<16x32xf32> {llvm.noalias}, %{{.+}}: index, %[[I:.+]]: index, %[[J:.+]]: index, %[[R:.+]]: index, %[[N:.+]]: index) attributes {nn.gemm_tile}
// CHECK: %[[VC:.+]] = memref.subview %[[TC]][%[[I]], %[[J]]] [%[[R]], %[[N]]] [1, 1]
// CHECK: %[[VO:.+]] = memref.subview %[[TO]][%[[I]], %[[J]]] [%[[R]], %[[N]]] [1, 1]
// CHECK: linalg.generic {{.+}} ins(%[[VC]], %[[VC]] : {{.+}}) outs(%[[VO]] :
// CHECK: arith.addf
func.func @doubled(%x: memref<16x64xf32>, %w: memref<32x64xf32>, %out: memref<16x32xf32>) {
  %c = memref.alloc() : memref<16x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<16x64xf32>, memref<32x64xf32>) outs(%c : memref<16x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %c : memref<16x32xf32>, memref<16x32xf32>) outs(%out : memref<16x32xf32>) {
  ^bb0(%v: f32, %u: f32, %o: f32):
    %t = arith.addf %v, %u : f32
    linalg.yield %t : f32
  }
  memref.dealloc %c : memref<16x32xf32>
  return
}

// -----

// A convolution's product [N, F, H*W] read as [N, F, H, W] (expand_shape)
// by its bias add and relu, with the [F] bias reshaped to [F, 1, 1] after
// the product: the reshape moves up, the GEMM writes the output seen as
// [N, F, H*W] (collapse_shape), the bias's row stride is its F stride and
// its column stride 0.

#w = affine_map<(n, f, p, k) -> (f, k)>
#cols = affine_map<(n, f, p, k) -> (n, k, p)>
#out = affine_map<(n, f, p, k) -> (n, f, p)>
#id = affine_map<(n, f, h, w) -> (n, f, h, w)>
#chan = affine_map<(n, f, h, w) -> (f, 0, 0)>
// CHECK-LABEL: func.func @conv_bias_relu
// CHECK-SAME: %[[BIAS:[a-z_0-9]+]]: memref<8xf32>
// CHECK-DAG: %[[B3:.+]] = memref.expand_shape %[[BIAS]] {{\[\[}}0, 1, 2]] output_shape [8, 1, 1]
// CHECK-DAG: %[[D:[a-z_0-9]+]] = memref.alloc() : memref<2x8x4x4xf32>
// CHECK: %[[DC:.+]] = memref.collapse_shape %[[D]] {{\[\[}}0], [1], [2, 3]] : memref<2x8x4x4xf32> into memref<2x8x16xf32>
// CHECK-NOT: memref.alloc() : memref<2x8x16xf32>
// CHECK: %[[DBASE:[a-z_0-9]+]], %{{.+}}, %{{.+}}:3, %[[DS:[a-z_0-9]+]]:3 = memref.extract_strided_metadata %[[DC]]
// CHECK: %[[BBASE:[a-z_0-9]+]], %[[BOFF:[a-z_0-9]+]], %{{.+}}:3, %[[BS:[a-z_0-9]+]]:3 = memref.extract_strided_metadata %[[B3]]
// CHECK-NOT: scf.for
// CHECK-DAG: %[[RELU:[a-z_0-9]+]] = arith.constant 3 : index
// CHECK: call @__nncc_sgemm({{.+}}, %{{c2(_[0-9]+)?}}, %{{.+}}, %[[DBASE]], %{{.+}}, %[[DS]]#1, %[[DS]]#2, %[[DS]]#0, %[[BBASE]], %[[BOFF]], %[[BS]]#0, %{{c0(_[0-9]+)?}}, %{{c0(_[0-9]+)?}}, %[[DBASE]], %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %[[RELU]],
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.expand_shape
// CHECK: memref.copy %[[D]]
func.func @conv_bias_relu(%wt: memref<8x27xf32>, %x: memref<2x27x16xf32>, %b: memref<8xf32>, %out: memref<2x8x4x4xf32>) {
  %c = memref.alloc() : memref<2x8x16xf32>
  linalg.generic {indexing_maps = [#w, #cols, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%wt, %x : memref<8x27xf32>, memref<2x27x16xf32>) outs(%c : memref<2x8x16xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %image = memref.expand_shape %c [[0], [1], [2, 3]] output_shape [2, 8, 4, 4] : memref<2x8x16xf32> into memref<2x8x4x4xf32>
  %b3 = memref.expand_shape %b [[0, 1, 2]] output_shape [8, 1, 1] : memref<8xf32> into memref<8x1x1xf32>
  %d = memref.alloc() : memref<2x8x4x4xf32>
  linalg.generic {indexing_maps = [#id, #chan, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%image, %b3 : memref<2x8x4x4xf32>, memref<8x1x1xf32>) outs(%d : memref<2x8x4x4xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %zero = arith.constant 0.000000e+00 : f32
    %t = arith.addf %v, %bias : f32
    %k = arith.cmpf ugt, %t, %zero : f32
    %r = arith.select %k, %t, %zero : f32
    linalg.yield %r : f32
  }
  memref.dealloc %c : memref<2x8x16xf32>
  memref.copy %d, %out : memref<2x8x4x4xf32> to memref<2x8x4x4xf32>
  return
}

// -----

// Through the view, a bias read along H, one of the dimensions that H*W was
// split into, has no stride in the GEMM's columns: no epilogue.

#w = affine_map<(n, f, p, k) -> (f, k)>
#cols = affine_map<(n, f, p, k) -> (n, k, p)>
#out = affine_map<(n, f, p, k) -> (n, f, p)>
#id = affine_map<(n, f, h, w) -> (n, f, h, w)>
#row = affine_map<(n, f, h, w) -> (h)>
// CHECK-LABEL: func.func @bias_along_split_dimension
// CHECK: memref.alloc() : memref<2x8x16xf32>
// CHECK: call @__nncc_sgemm({{.+}}, %{{c0(_[0-9]+)?}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}) :
// CHECK: memref.expand_shape
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @bias_along_split_dimension(%wt: memref<8x27xf32>, %x: memref<2x27x16xf32>, %b: memref<4xf32>, %out: memref<2x8x4x4xf32>) {
  %c = memref.alloc() : memref<2x8x16xf32>
  linalg.generic {indexing_maps = [#w, #cols, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%wt, %x : memref<8x27xf32>, memref<2x27x16xf32>) outs(%c : memref<2x8x16xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %image = memref.expand_shape %c [[0], [1], [2, 3]] output_shape [2, 8, 4, 4] : memref<2x8x16xf32> into memref<2x8x4x4xf32>
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%image, %b : memref<2x8x4x4xf32>, memref<4xf32>) outs(%out : memref<2x8x4x4xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %t = arith.addf %v, %bias : f32
    linalg.yield %t : f32
  }
  memref.dealloc %c : memref<2x8x16xf32>
  return
}

// -----

// A linear layer on a batch of sequences: the product [32, 24] reshaped
// (memref.reshape) to [2, 16, 24] for the bias add. The GEMM writes the
// add's output seen as [32, 24] (collapse_shape); the bias's column stride
// is its own.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#last = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @reshaped_bias
// CHECK-SAME: %[[BIAS:[a-z_0-9]+]]: memref<24xf32>, %[[OUT:[a-z_0-9]+]]: memref<2x16x24xf32>
// CHECK: %[[DC:.+]] = memref.collapse_shape %[[OUT]] {{\[\[}}0, 1], [2]] : memref<2x16x24xf32> into memref<32x24xf32>
// CHECK: %[[DBASE:[a-z_0-9]+]], %{{.+}}, %{{.+}}:2, %[[DS:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %[[DC]]
// CHECK: %[[BBASE:[a-z_0-9]+]], %[[BOFF:[a-z_0-9]+]], %{{.+}}, %[[BS:[a-z_0-9]+]] = memref.extract_strided_metadata %[[BIAS]]
// CHECK: call @__nncc_sgemm({{.+}}, %[[DBASE]], %{{.+}}, %[[DS]]#0, %[[DS]]#1, %{{c0(_[0-9]+)?}}, %[[BBASE]], %[[BOFF]], %{{c0(_[0-9]+)?}}, %[[BS]], %{{c0(_[0-9]+)?}}, %[[DBASE]], %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}, %{{c1(_[0-9]+)?}},
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.reshape
func.func @reshaped_bias(%x: memref<32x64xf32>, %w: memref<24x64xf32>, %shape: memref<3xi64>, %b: memref<24xf32>, %out: memref<2x16x24xf32>) {
  %c = memref.alloc() : memref<32x24xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<32x64xf32>, memref<24x64xf32>) outs(%c : memref<32x24xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %seq = memref.reshape %c(%shape) : (memref<32x24xf32>, memref<3xi64>) -> memref<2x16x24xf32>
  linalg.generic {indexing_maps = [#last, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b, %seq : memref<24xf32>, memref<2x16x24xf32>) outs(%out : memref<2x16x24xf32>) {
  ^bb0(%bias: f32, %v: f32, %o: f32):
    %t = arith.addf %bias, %v : f32
    linalg.yield %t : f32
  }
  memref.dealloc %c : memref<32x24xf32>
  return
}

// -----

// A residual add after the bias add, then relu: the GEMM adds the residual
// too (epilogue 7: bias, residual and relu), reading it by its strides.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_residual_relu
// CHECK-SAME: %[[BIAS:[a-z_0-9]+]]: memref<32xf32>, %[[RES:[a-z_0-9]+]]: memref<16x32xf32>, %[[OUT:[a-z_0-9]+]]: memref<16x32xf32>
// CHECK: %[[OBASE:[a-z_0-9]+]], %[[OOFF:[a-z_0-9]+]], %{{.+}}:2, %[[OS:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %[[OUT]]
// CHECK: %[[BBASE:[a-z_0-9]+]], %[[BOFF:[a-z_0-9]+]], %{{.+}}, %[[BS:[a-z_0-9]+]] = memref.extract_strided_metadata %[[BIAS]]
// CHECK: %[[RBASE:[a-z_0-9]+]], %[[ROFF:[a-z_0-9]+]], %{{.+}}:2, %[[RS:[a-z_0-9]+]]:2 = memref.extract_strided_metadata %[[RES]]
// CHECK-DAG: %[[ALL:[a-z_0-9]+]] = arith.constant 7 : index
// CHECK: call @__nncc_sgemm({{.+}}, %[[OBASE]], %[[OOFF]], %[[OS]]#0, %[[OS]]#1, %{{c0(_[0-9]+)?}}, %[[BBASE]], %[[BOFF]], %{{c0(_[0-9]+)?}}, %[[BS]], %{{c0(_[0-9]+)?}}, %[[RBASE]], %[[ROFF]], %[[RS]]#0, %[[RS]]#1, %{{c0(_[0-9]+)?}}, %[[ALL]],
// CHECK-NOT: linalg.generic
func.func @bias_residual_relu(%x: memref<16x64xf32>, %w: memref<32x64xf32>, %b: memref<32xf32>, %res: memref<16x32xf32>, %out: memref<16x32xf32>) {
  %c = memref.alloc() : memref<16x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<16x64xf32>, memref<32x64xf32>) outs(%c : memref<16x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #col, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %b, %res : memref<16x32xf32>, memref<32xf32>, memref<16x32xf32>) outs(%out : memref<16x32xf32>) {
  ^bb0(%v: f32, %bias: f32, %r: f32, %o: f32):
    %zero = arith.constant 0.000000e+00 : f32
    %t = arith.addf %v, %bias : f32
    %u = arith.addf %r, %t : f32
    %k = arith.cmpf ugt, %u, %zero : f32
    %y = arith.select %k, %u, %zero : f32
    linalg.yield %y : f32
  }
  memref.dealloc %c : memref<16x32xf32>
  return
}

// -----

// No fixed residual epilogue when the body adds the two addends first (the
// GEMM would round differently: C + bias + residual is not C + (bias +
// residual)): the generated one computes the body as it is. No epilogue at
// all when an op between the product and the add writes the residual (the
// GEMM, where the product was, would read it before).

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @addends_first
// CHECK: call @addends_first_epilogue0_gemm({{.+}}, %{{c0(_[0-9]+)?}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}) :
// CHECK-NOT: linalg.generic
// CHECK-LABEL: func.func private @addends_first_epilogue0
// CHECK: linalg.generic
// CHECK: %[[T:.+]] = arith.addf %{{.+}}, %{{.+}} : f32
// CHECK: arith.addf %{{.+}}, %[[T]] : f32
// CHECK-LABEL: func.func @residual_written_between
// CHECK: call @__nncc_sgemm({{.+}}, %{{c0(_[0-9]+)?}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}) :
// CHECK: memref.copy
// CHECK: linalg.generic
func.func @addends_first(%x: memref<16x64xf32>, %w: memref<32x64xf32>, %b: memref<32xf32>, %res: memref<16x32xf32>, %out: memref<16x32xf32>) {
  %c = memref.alloc() : memref<16x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<16x64xf32>, memref<32x64xf32>) outs(%c : memref<16x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #col, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %b, %res : memref<16x32xf32>, memref<32xf32>, memref<16x32xf32>) outs(%out : memref<16x32xf32>) {
  ^bb0(%v: f32, %bias: f32, %r: f32, %o: f32):
    %t = arith.addf %bias, %r : f32
    %u = arith.addf %v, %t : f32
    linalg.yield %u : f32
  }
  memref.dealloc %c : memref<16x32xf32>
  return
}
func.func @residual_written_between(%x: memref<16x64xf32>, %w: memref<32x64xf32>, %b: memref<32xf32>, %src: memref<16x32xf32>, %out: memref<16x32xf32>) {
  %res = memref.alloc() : memref<16x32xf32>
  %c = memref.alloc() : memref<16x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<16x64xf32>, memref<32x64xf32>) outs(%c : memref<16x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.copy %src, %res : memref<16x32xf32> to memref<16x32xf32>
  linalg.generic {indexing_maps = [#id, #col, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %b, %res : memref<16x32xf32>, memref<32xf32>, memref<16x32xf32>) outs(%out : memref<16x32xf32>) {
  ^bb0(%v: f32, %bias: f32, %r: f32, %o: f32):
    %t = arith.addf %v, %bias : f32
    %u = arith.addf %t, %r : f32
    linalg.yield %u : f32
  }
  memref.dealloc %c : memref<16x32xf32>
  return
}

// -----

// GELU as a transformer's training step has it: the reader reads the product
// twice through a reshaping view, adds a broadcast bias, divides by a
// scalar, and keeps the pre-activation as a second output. The GEMM calls
// @gelu_epilogue0 on each final block of C: rows [i, i + rows) and columns
// [j, j + cols), on views of C, of the bias's columns, and of the outputs
// reshaped as C is; the reader and the view are gone. The output allocated
// after the product (%y) is written in place of C, whose buffer its users
// now read (in its shape); the one it is given (%pre) stays its own.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#last = affine_map<(d0, d1, d2) -> (d2)>
#scalar = affine_map<(d0, d1, d2) -> ()>
// CHECK-LABEL: func.func @gelu
// CHECK-SAME: (%{{.+}}: memref<32x64xf32>, %{{.+}}: memref<24x64xf32>, %{{.+}}: memref<3xi64>, %[[B:.+]]: memref<24xf32>, %[[S:.+]]: memref<f32>, %[[PRE:.+]]: memref<2x16x24xf32>)
// CHECK: %[[C:.+]] = memref.alloc() : memref<32x24xf32>
// CHECK: %[[Y:.+]] = memref.expand_shape %[[C]] {{\[\[}}0, 1], [2]] output_shape [2, 16, 24]
// CHECK-NOT: memref.alloc() : memref<2x16x24xf32>
// CHECK-NOT: memref.reshape
// CHECK: %[[CBASE:[a-z_0-9]+]], %{{.+}} = memref.extract_strided_metadata %[[C]]
// CHECK: call @gelu_epilogue0_gemm(%[[B]], %[[C]], %[[S]], %[[PRE]], {{.+}}, %[[CBASE]], {{.+}}, %{{c0(_[0-9]+)?}}, %{{[a-z_0-9]+}}, %{{[a-z_0-9]+}}) :
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.dealloc %[[C]] :
// CHECK: "test.use"(%[[Y]])
// CHECK-NEXT: memref.dealloc %[[C]] : memref<32x24xf32>
// CHECK: func.func private @gelu_epilogue0(%[[TB:.+]]: memref<24xf32> {llvm.noalias}, %[[TC:.+]]: memref<32x24xf32> {llvm.noalias}, %[[TS:.+]]: memref<f32> {llvm.noalias}, %[[TP:.+]]: memref<2x16x24xf32> {llvm.noalias}, %{{.+}}: index, %[[I:.+]]: index, %[[J:.+]]: index, %[[R:.+]]: index, %[[N:.+]]: index) attributes {nn.gemm_tile}
// CHECK: %[[VB:.+]] = memref.subview %[[TB]][%[[J]]] [%[[N]]] [1]
// CHECK: %[[VC:.+]] = memref.subview %[[TC]][%[[I]], %[[J]]] [%[[R]], %[[N]]] [1, 1]
// CHECK: %[[FP:.+]] = memref.collapse_shape %[[TP]] {{\[\[}}0, 1], [2]] : memref<2x16x24xf32> into memref<32x24xf32>
// CHECK: %[[VP:.+]] = memref.subview %[[FP]][%[[I]], %[[J]]] [%[[R]], %[[N]]] [1, 1]
// CHECK: %[[VY:.+]] = memref.subview %[[TC]][%[[I]], %[[J]]] [%[[R]], %[[N]]] [1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[COL:.+]], #[[ID:.+]], #[[NONE:.+]], #[[ID]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[VB]], %[[VC]], %[[TS]], %[[VC]] : {{.+}}) outs(%[[VP]], %[[VY]] :
// CHECK: math.erf
// CHECK: return
// CHECK: func.func private @gelu_epilogue0_gemm(memref<24xf32>, memref<32x24xf32>, memref<f32>, memref<2x16x24xf32>, index, index, index, index, memref<f32>, {{.+}}) attributes {nn.gemm_epilogue = @gelu_epilogue0}
func.func @gelu(%x: memref<32x64xf32>, %w: memref<24x64xf32>, %shape: memref<3xi64>, %b: memref<24xf32>, %s: memref<f32>, %pre: memref<2x16x24xf32>) {
  %c = memref.alloc() : memref<32x24xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<32x64xf32>, memref<24x64xf32>) outs(%c : memref<32x24xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  }
  %v = memref.reshape %c(%shape) : (memref<32x24xf32>, memref<3xi64>) -> memref<2x16x24xf32>
  %y = memref.alloc() : memref<2x16x24xf32>
  linalg.generic {indexing_maps = [#last, #id3, #scalar, #id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%b, %v, %s, %v : memref<24xf32>, memref<2x16x24xf32>, memref<f32>, memref<2x16x24xf32>) outs(%pre, %y : memref<2x16x24xf32>, memref<2x16x24xf32>) {
  ^bb0(%bias: f32, %in: f32, %scale: f32, %again: f32, %o1: f32, %o2: f32):
    %t = arith.addf %in, %bias : f32
    %u = arith.divf %t, %scale : f32
    %e = math.erf %u : f32
    %g = arith.mulf %t, %e : f32
    %t2 = arith.addf %again, %bias : f32
    linalg.yield %t2, %g : f32, f32
  }
  memref.dealloc %c : memref<32x24xf32>
  "test.use"(%y) : (memref<2x16x24xf32>) -> ()
  memref.dealloc %y : memref<2x16x24xf32>
  return
}

// -----

// Attention's scores, [batch, heads, query, key], masked and scaled: the
// call runs within a loop over the batch, whose index the epilogue takes
// (before the GEMM's matrix of the heads, its rows and its columns), and
// the [query, key] mask is read along the block's rows and columns.

#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#mask = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#none = affine_map<(d0, d1, d2, d3) -> ()>
// CHECK-LABEL: func.func @scores
// CHECK-SAME: (%{{.+}}: memref<2x4x64x32xf32>, %{{.+}}: memref<2x4x64x32xf32>, %[[MASK:.+]]: memref<64x64xi1>, %[[FILL:.+]]: memref<f32>, %[[OUT:.+]]: memref<2x4x64x64xf32>)
// CHECK: %[[C:.+]] = memref.alloc() : memref<2x4x64x64xf32>
// CHECK: scf.for %[[BATCH:.+]] = %{{.+}} to %{{.+}} step
// CHECK: call @scores_epilogue0_gemm(%[[MASK]], %[[FILL]], %[[C]], %[[OUT]], %[[BATCH]], %{{.+}}) :
// CHECK: func.func private @scores_epilogue0(%[[TM:.+]]: memref<64x64xi1> {llvm.noalias}, %{{.+}}: memref<f32> {llvm.noalias}, %[[TC:.+]]: memref<2x4x64x64xf32> {llvm.noalias}, %[[TO:.+]]: memref<2x4x64x64xf32> {llvm.noalias}, %[[B:.+]]: index, %[[H:.+]]: index, %[[I:.+]]: index, %[[J:.+]]: index, %[[R:.+]]: index, %[[N:.+]]: index)
// CHECK: memref.subview %[[TM]][%[[I]], %[[J]]] [%[[R]], %[[N]]] [1, 1] : memref<64x64xi1> to memref<?x?xi1, strided<[64, 1], offset: ?>>
// CHECK: memref.subview %[[TC]][%[[B]], %[[H]], %[[I]], %[[J]]] [1, 1, %[[R]], %[[N]]] [1, 1, 1, 1]
// CHECK: memref.subview %[[TO]][%[[B]], %[[H]], %[[I]], %[[J]]] [1, 1, %[[R]], %[[N]]] [1, 1, 1, 1]
// CHECK: linalg.generic
// CHECK: arith.select
func.func @scores(%qs: memref<2x4x64x32xf32>, %ks: memref<2x4x64x32xf32>, %mask: memref<64x64xi1>, %fill: memref<f32>, %out: memref<2x4x64x64xf32>) {
  %c = memref.alloc() : memref<2x4x64x64xf32>
  linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%qs, %ks : memref<2x4x64x32xf32>, memref<2x4x64x32xf32>) outs(%c : memref<2x4x64x64xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %r: f32, %acc: f32):
    %m = arith.mulf %p, %r : f32
    %sum = arith.addf %acc, %m : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#mask, #none, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%mask, %fill, %c : memref<64x64xi1>, memref<f32>, memref<2x4x64x64xf32>) outs(%out : memref<2x4x64x64xf32>) {
  ^bb0(%keep: i1, %f: f32, %v: f32, %o: f32):
    %r = arith.select %keep, %v, %f : f32
    linalg.yield %r : f32
  }
  memref.dealloc %c : memref<2x4x64x64xf32>
  return
}

// -----

// No generated epilogue when the reader writes a buffer the GEMM still
// reads (here its A: the first blocks' epilogue would overwrite rows that
// later blocks multiply), nor when it reads the loop indices (its body
// would see the block's, not C's).

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @overwrites_a
// CHECK: call @__nncc_sgemm(
// CHECK: linalg.generic
// CHECK: math.tanh
// CHECK-LABEL: func.func @indexed
// CHECK: call @__nncc_sgemm(
// CHECK: linalg.generic
// CHECK: linalg.index
// CHECK-NOT: epilogue
func.func @overwrites_a(%x: memref<32x32xf32>, %w: memref<32x32xf32>) {
  %c = memref.alloc() : memref<32x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%c : memref<32x32xf32>) outs(%x : memref<32x32xf32>) {
  ^bb0(%v: f32, %o: f32):
    %t = math.tanh %v : f32
    linalg.yield %t : f32
  }
  memref.dealloc %c : memref<32x32xf32>
  return
}
func.func @indexed(%x: memref<32x32xf32>, %w: memref<32x32xf32>, %out: memref<32x32xf32>) {
  %c = memref.alloc() : memref<32x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%c : memref<32x32xf32>) outs(%out : memref<32x32xf32>) {
  ^bb0(%v: f32, %o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %lower = arith.cmpi uge, %i, %j : index
    %zero = arith.constant 0.0 : f32
    %t = arith.select %lower, %v, %zero : f32
    linalg.yield %t : f32
  }
  memref.dealloc %c : memref<32x32xf32>
  return
}

// -----

// The scalar the reader divides by is computed after the product (as
// attention's scale is): that kernel moves before the GEMM, which then has
// the reader as its epilogue. Not when what that kernel reads is written in
// between: it would read the old value.

#mk = affine_map<(d0, d1, d2) -> (d0, d2)>
#nk = affine_map<(d0, d1, d2) -> (d1, d2)>
#mn = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#none = affine_map<(d0, d1) -> ()>
#scalar = affine_map<() -> ()>
// CHECK-LABEL: func.func @scale_after_product
// CHECK: %[[SCALE:.+]] = memref.alloc() : memref<f32>
// CHECK: linalg.generic {{.+}} outs(%[[SCALE]] : memref<f32>)
// CHECK: math.sqrt
// CHECK: call @scale_after_product_epilogue0_gemm(%{{.+}}, %[[SCALE]], %{{.+}}, {{.+}}) :
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK-LABEL: func.func @scale_read_after_write
// CHECK: call @__nncc_sgemm(
// CHECK: memref.copy
// CHECK: math.sqrt
// CHECK: arith.divf
func.func @scale_after_product(%x: memref<32x32xf32>, %w: memref<32x32xf32>, %d: memref<f32>, %out: memref<32x32xf32>) {
  %c = memref.alloc() : memref<32x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  %scale = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [#scalar, #scalar], iterator_types = []} ins(%d : memref<f32>) outs(%scale : memref<f32>) {
  ^bb0(%v: f32, %o: f32):
    %r = math.sqrt %v : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #none, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %scale : memref<32x32xf32>, memref<f32>) outs(%out : memref<32x32xf32>) {
  ^bb0(%v: f32, %k: f32, %o: f32):
    %t = arith.divf %v, %k : f32
    linalg.yield %t : f32
  }
  memref.dealloc %scale : memref<f32>
  memref.dealloc %c : memref<32x32xf32>
  return
}
func.func @scale_read_after_write(%x: memref<32x32xf32>, %w: memref<32x32xf32>, %d: memref<f32>, %e: memref<f32>, %out: memref<32x32xf32>) {
  %c = memref.alloc() : memref<32x32xf32>
  linalg.generic {indexing_maps = [#mk, #nk, #mn], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : memref<32x32xf32>, memref<32x32xf32>) outs(%c : memref<32x32xf32>) attrs = {nn.matmul} {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %m = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  memref.copy %e, %d : memref<f32> to memref<f32>
  %scale = memref.alloc() : memref<f32>
  linalg.generic {indexing_maps = [#scalar, #scalar], iterator_types = []} ins(%d : memref<f32>) outs(%scale : memref<f32>) {
  ^bb0(%v: f32, %o: f32):
    %r = math.sqrt %v : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id, #none, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %scale : memref<32x32xf32>, memref<f32>) outs(%out : memref<32x32xf32>) {
  ^bb0(%v: f32, %k: f32, %o: f32):
    %t = arith.divf %v, %k : f32
    linalg.yield %t : f32
  }
  memref.dealloc %scale : memref<f32>
  memref.dealloc %c : memref<32x32xf32>
  return
}
