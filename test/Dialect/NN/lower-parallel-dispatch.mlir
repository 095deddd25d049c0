// RUN: nncc-opt %s -split-input-file -nn-lower-parallel-dispatch -verify-diagnostics | FileCheck %s

// A dispatcher stores its arguments in a record on the stack and calls
// __nncc_parallel_range(count, trampoline, record); the trampoline loads
// them back and calls the loop's function with its range.

// CHECK-LABEL: llvm.func internal @f_par0(
// CHECK-LABEL: llvm.func internal @f_par0_dispatch
// CHECK-SAME: (%[[P:.+]]: !llvm.ptr, %[[X:.+]]: f32, %[[N:.+]]: i64)
// CHECK-NOT: nn.parallel_body
// CHECK: %[[REC:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, f32)>
// CHECK: %[[A0:.+]] = llvm.getelementptr %[[REC]][0, 0]
// CHECK: llvm.store %[[P]], %[[A0]]
// CHECK: %[[A1:.+]] = llvm.getelementptr %[[REC]][0, 1]
// CHECK: llvm.store %[[X]], %[[A1]]
// CHECK: %[[FN:.+]] = llvm.mlir.addressof @f_par0_dispatch_trampoline
// CHECK: llvm.call @__nncc_parallel_range(%[[N]], %[[FN]], %[[REC]])
// CHECK-LABEL: llvm.func internal @f_par0_dispatch_trampoline
// CHECK-SAME: (%[[R:.+]]: !llvm.ptr, %[[B:.+]]: i64, %[[E:.+]]: i64)
// CHECK: %[[G0:.+]] = llvm.getelementptr %[[R]][0, 0]
// CHECK: %[[L0:.+]] = llvm.load %[[G0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[G1:.+]] = llvm.getelementptr %[[R]][0, 1]
// CHECK: %[[L1:.+]] = llvm.load %[[G1]] : !llvm.ptr -> f32
// CHECK: llvm.call @f_par0(%[[L0]], %[[L1]], %[[B]], %[[E]])
// CHECK: llvm.func @__nncc_parallel_range(i64, !llvm.ptr, !llvm.ptr)
module {
  llvm.func @f_par0(%p: !llvm.ptr, %x: f32, %begin: i64, %end: i64) {
    llvm.return
  }
  llvm.func @f_par0_dispatch(!llvm.ptr, f32, i64) attributes {nn.parallel_body = @f_par0}
}

// -----

module {
  // expected-error @below {{no loop function 'missing'}}
  llvm.func @g_dispatch(i64) attributes {nn.parallel_body = @missing}
}
