// RUN: nncc-opt %s -nn-instrument-kernels | FileCheck %s

// Each kernel of @train_step (and @forward) is bracketed by the profiling
// runtime's calls, with the first kind of ProfileKinds.def that its
// location carries (conv 0, gemm 1, elementwise 5, other 7); views and
// constants are not kernels; other functions are left alone.

// CHECK-DAG: func.func private @__nncc_profile_enter()
// CHECK-DAG: func.func private @__nncc_profile_exit(i32)
func.func private @ext(memref<4x4xf32>)

// CHECK-LABEL: func.func @train_step
func.func @train_step(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  // CHECK: call @__nncc_profile_enter()
  // CHECK-NEXT: linalg.fill
  // CHECK-NEXT: %[[K5:.+]] = arith.constant 5 : i32
  // CHECK-NEXT: call @__nncc_profile_exit(%[[K5]])
  linalg.fill ins(%zero : f32) outs(%a : memref<4x4xf32>) loc(fused<"nn.kernel:elementwise">["fill"])
  // CHECK-NEXT: call @__nncc_profile_enter()
  // CHECK-NEXT: memref.copy
  // CHECK-NEXT: %[[K7:.+]] = arith.constant 7 : i32
  // CHECK-NEXT: call @__nncc_profile_exit(%[[K7]])
  memref.copy %a, %b : memref<4x4xf32> to memref<4x4xf32> loc("untagged")
  // A fused kernel counts as its first kind: gemm before elementwise.
  // CHECK-NEXT: call @__nncc_profile_enter()
  // CHECK-NEXT: scf.for
  // CHECK: }
  // CHECK-NEXT: %[[K1:.+]] = arith.constant 1 : i32
  // CHECK-NEXT: call @__nncc_profile_exit(%[[K1]])
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %zero, %a[%i, %i] : memref<4x4xf32>
  } loc(fused[fused<"nn.kernel:elementwise">["add"], fused<"nn.kernel:gemm">["mm"]])
  // CHECK-NEXT: memref.subview
  %v = memref.subview %a[0, 0] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1]>>
  // CHECK-NEXT: call @__nncc_profile_enter()
  // CHECK-NEXT: call @ext
  // CHECK-NEXT: %[[K0:.+]] = arith.constant 0 : i32
  // CHECK-NEXT: call @__nncc_profile_exit(%[[K0]])
  func.call @ext(%a) : (memref<4x4xf32>) -> () loc(fused<"nn.kernel:conv">["conv"])
  // CHECK-NEXT: return
  return
}

// CHECK-LABEL: func.func @train_step_epilogue
// CHECK-NOT: __nncc_profile
// CHECK: return
func.func @train_step_epilogue(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  memref.copy %a, %b : memref<4x4xf32> to memref<4x4xf32> loc(fused<"nn.kernel:copy">["c"])
  return
}
