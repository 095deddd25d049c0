// RUN: nncc-opt %s -nn-widen-bool-memory | FileCheck %s

// A mask loaded from a buffer of i1 is the byte loaded and truncated; the
// load keeps its alignment and attributes. Other loads are left alone.

// CHECK-LABEL: llvm.func @masked
// CHECK-SAME: (%[[MASK:[a-z0-9]+]]: !llvm.ptr, %[[X:[a-z0-9]+]]: !llvm.ptr)
// CHECK: %[[BYTE:[0-9]+]] = llvm.load %[[MASK]] {alignment = 1 : i64, nontemporal} : !llvm.ptr -> i8
// CHECK: %[[BIT:[0-9]+]] = llvm.trunc %[[BYTE]] : i8 to i1
// CHECK: %[[V:[0-9]+]] = llvm.load %[[X]] : !llvm.ptr -> f32
// CHECK: llvm.select %[[BIT]], %{{.*}}, %[[V]] : i1, f32
llvm.func @masked(%mask: !llvm.ptr, %x: !llvm.ptr) -> f32 {
  %zero = llvm.mlir.constant(0.0 : f32) : f32
  %m = llvm.load %mask {alignment = 1 : i64, nontemporal} : !llvm.ptr -> i1
  %v = llvm.load %x : !llvm.ptr -> f32
  %r = llvm.select %m, %zero, %v : i1, f32
  llvm.return %r : f32
}

// A comparison stored for backward is the byte stored, zero extended.

// CHECK-LABEL: llvm.func @keep
// CHECK-SAME: (%[[A:[a-z0-9]+]]: f32, %[[OUT:[a-z0-9]+]]: !llvm.ptr)
// CHECK: %[[C:[0-9]+]] = llvm.fcmp "ogt" %[[A]], %{{.*}} : f32
// CHECK: %[[W:[0-9]+]] = llvm.zext %[[C]] : i1 to i8
// CHECK: llvm.store %[[W]], %[[OUT]] {alignment = 1 : i64} : i8, !llvm.ptr
// CHECK-NOT: llvm.store {{.*}} : i1
llvm.func @keep(%a: f32, %out: !llvm.ptr) {
  %zero = llvm.mlir.constant(0.0 : f32) : f32
  %c = llvm.fcmp "ogt" %a, %zero : f32
  llvm.store %c, %out {alignment = 1 : i64} : i1, !llvm.ptr
  llvm.return
}
