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
  // expected-error @below {{no function 'missing' that takes the dispatcher's arguments}}
  llvm.func @g_dispatch(i64) attributes {nn.parallel_body = @missing}
}

// -----

// A GEMM's dispatcher: its first arguments (the epilogue's buffers and outer
// indices) go in the record, the others to __nncc_sgemm_tiles, followed by
// the trampoline and the record; the trampoline passes the epilogue its
// block (matrix, row, column, rows, columns).

// CHECK-LABEL: llvm.func internal @f_epilogue0(
// CHECK-LABEL: llvm.func internal @f_epilogue0_gemm
// CHECK-SAME: (%[[P:.+]]: !llvm.ptr, %[[O:.+]]: i64, %[[M:.+]]: i64, %[[A:.+]]: !llvm.ptr, %[[K:.+]]: i64)
// CHECK-NOT: nn.gemm_epilogue
// CHECK: %[[REC:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, i64)>
// CHECK: llvm.store %[[P]]
// CHECK: llvm.store %[[O]]
// CHECK: %[[FN:.+]] = llvm.mlir.addressof @f_epilogue0_gemm_trampoline
// CHECK: llvm.call @__nncc_sgemm_tiles(%[[M]], %[[A]], %[[K]], %[[FN]], %[[REC]])
// CHECK-LABEL: llvm.func internal @f_epilogue0_gemm_trampoline
// CHECK-SAME: (%[[R:.+]]: !llvm.ptr, %[[X:.+]]: i64, %[[I:.+]]: i64, %[[J:.+]]: i64, %[[RS:.+]]: i64, %[[CS:.+]]: i64)
// CHECK: %[[L0:.+]] = llvm.load %{{.+}} : !llvm.ptr -> !llvm.ptr
// CHECK: %[[L1:.+]] = llvm.load %{{.+}} : !llvm.ptr -> i64
// CHECK: llvm.call @f_epilogue0(%[[L0]], %[[L1]], %[[X]], %[[I]], %[[J]], %[[RS]], %[[CS]])
// CHECK: llvm.func @__nncc_sgemm_tiles(i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr)
module {
  llvm.func @f_epilogue0(%p: !llvm.ptr, %outer: i64, %matrix: i64, %i: i64, %j: i64, %rows: i64, %cols: i64) {
    llvm.return
  }
  llvm.func @f_epilogue0_gemm(!llvm.ptr, i64, i64, !llvm.ptr, i64) attributes {nn.gemm_epilogue = @f_epilogue0}
}
