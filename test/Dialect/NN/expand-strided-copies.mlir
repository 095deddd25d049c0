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
