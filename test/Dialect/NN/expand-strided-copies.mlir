// RUN: nncc-opt %s -nn-expand-strided-copies | FileCheck %s

// A copy out of a strided view becomes linalg.copy (lowered to loops); a
// copy between contiguous buffers stays memref.copy (a memcpy).
// CHECK-LABEL: func @copies
func.func @copies(%a: memref<4x6xf32>, %b: memref<4x3xf32>, %c: memref<4x6xf32>) {
  %v = memref.subview %a[0, 1] [4, 3] [1, 2] : memref<4x6xf32> to memref<4x3xf32, strided<[6, 2], offset: 1>>
  // CHECK: linalg.copy ins(%{{.*}} : memref<4x3xf32, strided<[6, 2], offset: 1>>) outs(%{{.*}} : memref<4x3xf32>)
  memref.copy %v, %b : memref<4x3xf32, strided<[6, 2], offset: 1>> to memref<4x3xf32>
  // CHECK: memref.copy %{{.*}}, %{{.*}} : memref<4x6xf32> to memref<4x6xf32>
  memref.copy %a, %c : memref<4x6xf32> to memref<4x6xf32>
  return
}

// A copy of a row onto the same row (how an scf.forall's
// tensor.parallel_insert_slice of a row its body wrote in place bufferizes)
// is erased; a copy between different rows of the same buffer stays (a
// memcpy: both rows are contiguous).
// CHECK-LABEL: func @same_view
func.func @same_view(%a: memref<4x6xf32>, %i: index, %j: index) {
  %v = memref.subview %a[%i, 0] [1, 6] [1, 1] : memref<4x6xf32> to memref<6xf32, strided<[1], offset: ?>>
  %w = memref.subview %a[%i, 0] [1, 6] [1, 1] : memref<4x6xf32> to memref<6xf32, strided<[1], offset: ?>>
  %u = memref.subview %a[%j, 0] [1, 6] [1, 1] : memref<4x6xf32> to memref<6xf32, strided<[1], offset: ?>>
  // CHECK-NOT: memref.copy
  memref.copy %v, %w : memref<6xf32, strided<[1], offset: ?>> to memref<6xf32, strided<[1], offset: ?>>
  memref.copy %v, %v : memref<6xf32, strided<[1], offset: ?>> to memref<6xf32, strided<[1], offset: ?>>
  // CHECK: memref.copy %[[V:.+]], %[[U:.+]] :
  // CHECK-NOT: memref.copy
  memref.copy %v, %u : memref<6xf32, strided<[1], offset: ?>> to memref<6xf32, strided<[1], offset: ?>>
  return
}
