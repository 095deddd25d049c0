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
