// RUN: nncc-opt %s -split-input-file -nn-outline-parallel-loops | FileCheck %s

// A large parallel nest moves into @f_par0(values..., begin, end), which
// runs its first dimension over [begin, end); it reads the arena and a
// scalar loaded before it, passed as arguments, while the constants and the
// arena's view are recomputed inside. In its place, the dispatcher is called
// with the first dimension's trip count. A small nest stays on the calling
// thread but moves out too, into @f_nest0, called directly over its whole
// range and never inlined (LLVM optimizes a kernel per function).

// CHECK-LABEL: func.func @f
// CHECK-SAME: (%[[IN:.+]]: memref<256x256xf32>, %[[S:.+]]: memref<f32>, %[[ARENA:.+]]: memref<262144xi8>)
// CHECK: %[[SCALE:.+]] = memref.load %[[S]][]
// CHECK: memref.view
// CHECK-NEXT: %[[N:.+]] = arith.constant 256 : index
// CHECK-NEXT: call @f_par0_dispatch(%[[IN]], %[[ARENA]], %[[SCALE]], %[[N]])
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK-NEXT: %[[FOUR:.+]] = arith.constant 4 : index
// CHECK-NEXT: call @f_nest0(%[[IN]], %[[ARENA]], %[[ZERO]], %[[FOUR]])
// CHECK-NEXT: return

// CHECK: func.func private @f_nest0(%{{.+}}: memref<256x256xf32>, %{{.+}}: memref<262144xi8>, %[[B0:.+]]: index, %[[E0:.+]]: index) attributes {no_inline}
// CHECK: scf.parallel (%{{.+}}) = (%[[B0]]) to (%[[E0]])

// CHECK: func.func private @f_par0(%[[A0:.+]]: memref<256x256xf32>, %[[A1:.+]]: memref<262144xi8>, %[[A2:.+]]: f32, %[[BEGIN:.+]]: index, %[[END:.+]]: index)
// CHECK: %[[VIEW:.+]] = memref.view %[[A1]]
// CHECK: scf.parallel (%[[I:.+]], %[[J:.+]]) = (%[[BEGIN]], %{{.+}}) to (%[[END]], %{{.+}})
// CHECK: memref.load %[[A0]][%[[I]], %[[J]]]
// CHECK: arith.mulf %{{.+}}, %[[A2]]
// CHECK: memref.store %{{.+}}, %[[VIEW]][%[[I]], %[[J]]]
// CHECK: func.func private @f_par0_dispatch(memref<256x256xf32>, memref<262144xi8>, f32, index) attributes {nn.parallel_body = @f_par0}
module attributes {nn.threads = 2 : i32} {
  func.func @f(%in: memref<256x256xf32>, %s: memref<f32>, %arena: memref<262144xi8>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %scale = memref.load %s[] : memref<f32>
    %n = arith.constant 256 : index
    %out = memref.view %arena[%c0][] : memref<262144xi8> to memref<256x256xf32>
    scf.parallel (%i, %j) = (%c0, %c0) to (%n, %n) step (%c1, %c1) {
      %v = memref.load %in[%i, %j] : memref<256x256xf32>
      %w = arith.mulf %v, %scale : f32
      memref.store %w, %out[%i, %j] : memref<256x256xf32>
      scf.reduce
    }
    scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
      %v = memref.load %in[%i, %i] : memref<256x256xf32>
      memref.store %v, %out[%i, %i] : memref<256x256xf32>
      scf.reduce
    }
    return
  }
}

// -----

// The reductions inside a parallel dimension count toward its work: rows
// of 1024 summed into 64 outputs move out. So does a reduction outside a
// parallel dimension (columns summed), split over that dimension: each
// thread runs every row over its own columns. A nest whose parallel
// dimension does not start at 0, a reduction loop carrying a value, and
// any nest of a module without nn.threads above 1 (the next case), stay.

// CHECK-LABEL: func.func @rows
// CHECK: call @rows_par0_dispatch
// CHECK: %[[C1024:.+]] = arith.constant 1024 : index
// CHECK-NEXT: call @rows_par1_dispatch(%{{.+}}, %{{.+}}, %[[C1024]])
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK-NOT: call
// CHECK: return
// CHECK: func.func private @rows_par1(%{{.+}}: memref<64x1024xf32>, %{{.+}}: memref<1024xf32>, %[[BEGIN:.+]]: index, %[[END:.+]]: index)
// CHECK: scf.for %[[I:.+]] =
// CHECK-NEXT: scf.parallel (%[[J:.+]]) = (%[[BEGIN]]) to (%[[END]])
module attributes {nn.threads = 4 : i32} {
  func.func @rows(%in: memref<64x1024xf32>, %out: memref<64xf32>, %cols: memref<1024xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c64 = arith.constant 64 : index
    %c1024 = arith.constant 1024 : index
    %zero = arith.constant 0.0 : f32
    scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
      %sum = scf.for %k = %c0 to %c1024 step %c1 iter_args(%acc = %zero) -> f32 {
        %v = memref.load %in[%i, %k] : memref<64x1024xf32>
        %a = arith.addf %acc, %v : f32
        scf.yield %a : f32
      }
      memref.store %sum, %out[%i] : memref<64xf32>
      scf.reduce
    }
    scf.for %i = %c0 to %c64 step %c1 {
      scf.parallel (%j) = (%c0) to (%c1024) step (%c1) {
        %v = memref.load %in[%i, %j] : memref<64x1024xf32>
        %a = memref.load %cols[%j] : memref<1024xf32>
        %s = arith.addf %a, %v : f32
        memref.store %s, %cols[%j] : memref<1024xf32>
        scf.reduce
      }
    }
    %total = scf.for %i = %c0 to %c64 step %c1 iter_args(%t = %zero) -> f32 {
      scf.parallel (%j) = (%c0) to (%c1024) step (%c1) {
        %v = memref.load %in[%i, %j] : memref<64x1024xf32>
        memref.store %v, %cols[%j] : memref<1024xf32>
        scf.reduce
      }
      scf.yield %t : f32
    }
    scf.parallel (%i) = (%c2) to (%c64) step (%c1) {
      %sum = scf.for %k = %c0 to %c1024 step %c1 iter_args(%acc = %zero) -> f32 {
        %v = memref.load %in[%i, %k] : memref<64x1024xf32>
        %a = arith.addf %acc, %v : f32
        scf.yield %a : f32
      }
      memref.store %sum, %out[%i] : memref<64xf32>
      scf.reduce
    }
    return
  }
}

// -----

// On one thread, every nest moves into a function called directly: no
// dispatcher.

// CHECK-LABEL: func.func @one_thread
// CHECK-SAME: (%[[IN:.+]]: memref<256x256xf32>, %[[OUT:.+]]: memref<256x256xf32>)
// CHECK-NOT: scf.parallel
// CHECK: call @one_thread_nest0(%[[IN]], %[[OUT]], %{{.+}}, %{{.+}})
// CHECK-NOT: scf.parallel
// CHECK: return
// CHECK: func.func private @one_thread_nest0({{.*}}) attributes {no_inline}
// CHECK-NEXT: arith.constant
// CHECK: scf.parallel
// CHECK-NOT: _dispatch
module attributes {nn.threads = 1 : i32} {
  func.func @one_thread(%in: memref<256x256xf32>, %out: memref<256x256xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = arith.constant 256 : index
    scf.parallel (%i, %j) = (%c0, %c0) to (%n, %n) step (%c1, %c1) {
      %v = memref.load %in[%i, %j] : memref<256x256xf32>
      memref.store %v, %out[%i, %j] : memref<256x256xf32>
      scf.reduce
    }
    return
  }
}

// -----

// A value that cannot be passed (a memref of strided layout) keeps the nest
// on the calling thread.

// CHECK-LABEL: func.func @strided
// CHECK-NOT: call
// CHECK: scf.parallel
module attributes {nn.threads = 2 : i32} {
  func.func @strided(%in: memref<256x256xf32, strided<[512, 1]>>, %out: memref<256x256xf32>) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %n = arith.constant 256 : index
    scf.parallel (%i, %j) = (%c0, %c0) to (%n, %n) step (%c1, %c1) {
      %v = memref.load %in[%i, %j] : memref<256x256xf32, strided<[512, 1]>>
      memref.store %v, %out[%i, %j] : memref<256x256xf32>
      scf.reduce
    }
    return
  }
}
