// RUN: nncc-opt %s -split-input-file -nn-plan-memory | FileCheck %s

// Buffers whose lifetimes do not overlap share bytes; live ones do not: %a
// (through its subview) is live when %b is allocated, so %b goes after it,
// and %c reuses %a's bytes. The largest buffer is placed first, at 0.

// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[IN:.+]]: memref<16xf32>, %[[OUT:.+]]: memref<16xf32>, %[[ARENA:.+]]: memref<192xi8> {nn.role = "workspace"})
// CHECK-SAME: nn.workspace_bytes = 192 : i64
// CHECK: %[[A0:.+]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[A0]]][] : memref<192xi8> to memref<32xf32>
// CHECK: %[[B0:.+]] = arith.constant 128 : index
// CHECK: memref.view %[[ARENA]][%[[B0]]][] : memref<192xi8> to memref<16xf32>
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<192xi8> to memref<16xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
func.func @chain(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<32xf32>
  %sub = memref.subview %a[0] [16] [1] : memref<32xf32> to memref<16xf32, strided<[1]>>
  memref.copy %in, %sub : memref<16xf32> to memref<16xf32, strided<[1]>>
  %b = memref.alloc() : memref<16xf32>
  memref.copy %sub, %b : memref<16xf32, strided<[1]>> to memref<16xf32>
  memref.dealloc %a : memref<32xf32>
  %c = memref.alloc() : memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer returned from the function is left alone; a function without
// buffers still gets a (minimal) arena.

// CHECK-LABEL: func.func @escapes
// CHECK-SAME: memref<64xi8>
// CHECK-SAME: nn.workspace_bytes = 64 : i64
// CHECK: %[[R:.+]] = memref.alloc() : memref<4xf32>
// CHECK: return %[[R]]
func.func @escapes() -> memref<4xf32> {
  %r = memref.alloc() : memref<4xf32>
  return %r : memref<4xf32>
}

// -----

// In place: an elementwise kernel whose input dies in it writes its output
// over that input (here reached through a collapse_shape); a chain of such
// kernels takes one slot.

#id = affine_map<(i) -> (i)>
// CHECK-LABEL: func.func @in_place_chain
// CHECK-SAME: nn.workspace_bytes = 64 : i64
// CHECK-COUNT-3: memref.view %{{.+}}[%c0{{.*}}][] : memref<64xi8>
// CHECK-NOT: memref.view
func.func @in_place_chain(%in: memref<4x4xf32>, %bias: memref<16xf32>,
                          %out: memref<16xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  %flat = memref.collapse_shape %a [[0, 1]] : memref<4x4xf32> into memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%flat : memref<16xf32>) outs(%b : memref<16xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  %c = memref.alloc() : memref<16xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%bias, %b : memref<16xf32>, memref<16xf32>) outs(%c : memref<16xf32>) {
  ^bb0(%z: f32, %x: f32, %y: f32):
    %s = arith.addf %x, %z : f32
    linalg.yield %s : f32
  }
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Not in place, each output after its input: the input is used after the
// kernel (@live_after), read at another index (@transposed), read again in
// the kernel's body (@captured), or the output is read by the body
// (@accumulates) or written before the kernel (@written_before).

#id = affine_map<(i, j) -> (i, j)>
#t = affine_map<(i, j) -> (j, i)>
// CHECK-LABEL: func.func @live_after
// CHECK-SAME: nn.workspace_bytes = 128 : i64
func.func @live_after(%in: memref<4x4xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  memref.copy %a, %out : memref<4x4xf32> to memref<4x4xf32>
  memref.copy %b, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// CHECK-LABEL: func.func @transposed
// CHECK-SAME: nn.workspace_bytes = 128 : i64
func.func @transposed(%in: memref<4x4xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  memref.copy %b, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// CHECK-LABEL: func.func @captured
// CHECK-SAME: nn.workspace_bytes = 128 : i64
func.func @captured(%in: memref<4x4xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %i = linalg.index 0 : index
    %first = memref.load %a[%i, %i] : memref<4x4xf32>
    %s = arith.addf %x, %first : f32
    linalg.yield %s : f32
  }
  memref.copy %b, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// CHECK-LABEL: func.func @accumulates
// CHECK-SAME: nn.workspace_bytes = 128 : i64
func.func @accumulates(%in: memref<4x4xf32>, %out: memref<4x4xf32>) {
  %a = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  %b = memref.alloc() : memref<4x4xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  memref.copy %b, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// CHECK-LABEL: func.func @written_before
// CHECK-SAME: nn.workspace_bytes = 128 : i64
func.func @written_before(%in: memref<4x4xf32>, %out: memref<4x4xf32>) {
  %b = memref.alloc() : memref<4x4xf32>
  %a = memref.alloc() : memref<4x4xf32>
  memref.copy %in, %b : memref<4x4xf32> to memref<4x4xf32>
  memref.copy %in, %a : memref<4x4xf32> to memref<4x4xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x4xf32>) outs(%b : memref<4x4xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  memref.copy %b, %out : memref<4x4xf32> to memref<4x4xf32>
  return
}

// -----

// An input that dies in a kernel with two outputs is given to one of them:
// %b takes %a's place, %c its own.

#id = affine_map<(i) -> (i)>
// CHECK-LABEL: func.func @given_once
// CHECK-SAME: nn.workspace_bytes = 128 : i64
// CHECK: %[[A:.+]] = arith.constant 0 : index
// CHECK: memref.view %{{.+}}[%[[A]]]
// CHECK: %[[B:.+]] = arith.constant 0 : index
// CHECK: memref.view %{{.+}}[%[[B]]]
// CHECK: %[[C:.+]] = arith.constant 64 : index
// CHECK: memref.view %{{.+}}[%[[C]]]
func.func @given_once(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  %c = memref.alloc() : memref<16xf32>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%a : memref<16xf32>) outs(%b, %c : memref<16xf32>, memref<16xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %n = arith.negf %x : f32
    linalg.yield %x, %n : f32, f32
  }
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A GEMM's generated epilogue (nn.gemm_tile) works on its arguments and
// takes no arena: its signature is the one its dispatcher calls.
// CHECK-LABEL: func.func private @f_epilogue0(%{{.+}}: memref<16xf32>, %{{.+}}: index) attributes {nn.gemm_tile}
// CHECK-NOT: nn.workspace_bytes
func.func private @f_epilogue0(%x: memref<16xf32>, %i: index) attributes {nn.gemm_tile} {
  return
}
