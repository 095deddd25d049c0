// RUN: nncc-opt %s -split-input-file -nn-promote-accumulators | FileCheck %s

// A per-channel sum (a bias gradient fused with a ReLU gradient): the
// accumulator, at a byte range of the arena disjoint from the gradient the
// loop also stores, is carried by both loops it does not depend on, loaded
// once before them and stored once after.

// CHECK-LABEL: func.func @channel_sums
// CHECK: scf.parallel (%[[C:.+]]) =
// CHECK: %[[INIT:.+]] = memref.load %[[ACC:.+]][%[[C]]]
// CHECK: %[[OUTER:.+]] = scf.for %{{.+}} iter_args(%[[A:.+]] = %[[INIT]]) -> (f32)
// CHECK: %[[INNER:.+]] = scf.for %{{.+}} iter_args(%[[B:.+]] = %[[A]]) -> (f32)
// CHECK-NOT: memref.load %[[ACC]]
// CHECK: %[[SUM:.+]] = arith.addf %[[B]], %{{.+}}
// CHECK-NOT: memref.store %{{.+}}, %[[ACC]]
// CHECK: scf.yield %[[SUM]]
// CHECK: scf.yield %[[INNER]]
// CHECK: memref.store %[[OUTER]], %[[ACC]][%[[C]]]
func.func @channel_sums(%in: memref<8x16x16xf32>, %arena: memref<16448xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c8192 = arith.constant 8192 : index
  %c16384 = arith.constant 16384 : index
  %zero = arith.constant 0.0 : f32
  %grad = memref.view %arena[%c0][] : memref<16448xi8> to memref<8x16x16xf32>
  %acc = memref.view %arena[%c16384][] : memref<16448xi8> to memref<16xf32>
  scf.parallel (%c) = (%c0) to (%c16) step (%c1) {
    scf.for %n = %c0 to %c8 step %c1 {
      scf.for %w = %c0 to %c16 step %c1 {
        %v = memref.load %in[%n, %c, %w] : memref<8x16x16xf32>
        %positive = arith.cmpf ogt, %v, %zero : f32
        %g = arith.select %positive, %v, %zero : f32
        memref.store %g, %grad[%n, %c, %w] : memref<8x16x16xf32>
        %a = memref.load %acc[%c] : memref<16xf32>
        %s = arith.addf %a, %g : f32
        memref.store %s, %acc[%c] : memref<16xf32>
      }
    }
    scf.reduce
  }
  return
}

// -----

// Not promoted: the loop stores into an arena range that overlaps the
// accumulator's (@overlapping), into a function argument other than the
// arena, which the accumulator might be (@argument), or calls a function
// (@call).

// CHECK-LABEL: func.func @overlapping
// CHECK: scf.for
// CHECK-NOT: iter_args
// CHECK: memref.load %{{.+}}[%{{.+}}] : memref<16xf32>
// CHECK-LABEL: func.func @argument
// CHECK-NOT: iter_args
// CHECK-LABEL: func.func @call
// CHECK-NOT: iter_args
func.func @overlapping(%in: memref<16xf32>, %arena: memref<128xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c16 = arith.constant 16 : index
  %c60 = arith.constant 60 : index
  %copy = memref.view %arena[%c0][] : memref<128xi8> to memref<16xf32>
  %acc = memref.view %arena[%c60][] : memref<128xi8> to memref<1xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %in[%i] : memref<16xf32>
    memref.store %v, %copy[%i] : memref<16xf32>
    %a = memref.load %acc[%c0] : memref<1xf32>
    %s = arith.addf %a, %v : f32
    memref.store %s, %acc[%c0] : memref<1xf32>
  }
  return
}
func.func @argument(%in: memref<16xf32>, %out: memref<16xf32>, %acc: memref<1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %in[%i] : memref<16xf32>
    memref.store %v, %out[%i] : memref<16xf32>
    %a = memref.load %acc[%c0] : memref<1xf32>
    %s = arith.addf %a, %v : f32
    memref.store %s, %acc[%c0] : memref<1xf32>
  }
  return
}
func.func private @opaque()
func.func @call(%in: memref<16xf32>, %arena: memref<128xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %acc = memref.view %arena[%c64][] : memref<128xi8> to memref<1xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %in[%i] : memref<16xf32>
    func.call @opaque() : () -> ()
    %a = memref.load %acc[%c0] : memref<1xf32>
    %s = arith.addf %a, %v : f32
    memref.store %s, %acc[%c0] : memref<1xf32>
  }
  return
}

// -----

// A kernel that divides each row by its sum, over its own input (in place):
// the sum does not depend on the row's loop, and the row's stores, at a
// byte range of the arena disjoint from the sums', cannot change it. The
// row becomes a loop of its own, the sum loaded once before it, so that
// LLVM can vectorize the row. The value read at the row's own position
// stays in the row.

// CHECK-LABEL: func.func @row_quotient
// CHECK: %[[X:.+]] = memref.view %{{.+}}[%c0][] : memref<4096xi8> to memref<4x8xf32>
// CHECK: %[[SUM:.+]] = memref.view %{{.+}}[%c1024][] : memref<4096xi8> to memref<4x1xf32>
// CHECK: scf.parallel (%[[I:.+]]) = (%c0) to (%c4) step (%c1) {
// CHECK-NEXT: %[[S:.+]] = memref.load %[[SUM]][%[[I]], %c0]
// CHECK-NEXT: scf.parallel (%[[J:.+]]) = (%c0) to (%c8) step (%c1) {
// CHECK-NEXT: %[[V:.+]] = memref.load %[[X]][%[[I]], %[[J]]]
// CHECK-NEXT: %[[Q:.+]] = arith.divf %[[V]], %[[S]]
// CHECK-NEXT: memref.store %[[Q]], %[[X]][%[[I]], %[[J]]]
func.func @row_quotient(%arena: memref<4096xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c1024 = arith.constant 1024 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x8xf32>
  %sum = memref.view %arena[%c1024][] : memref<4096xi8> to memref<4x1xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<4x8xf32>
    %s = memref.load %sum[%i, %c0] : memref<4x1xf32>
    %q = arith.divf %v, %s : f32
    memref.store %q, %x[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}

// -----

// Left as they are: the row's stores may reach the sums (overlapping byte
// ranges, @overlapping; an argument other than the arena, @argument); the
// load depends on the last loop (@per_element); a call might write anything
// (@call). With one dimension (@one_dimension), there is no row to split
// off: the load goes before the loop.

// CHECK-LABEL: func.func @overlapping
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) =
// CHECK-LABEL: func.func @argument
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) =
// CHECK-LABEL: func.func @per_element
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) =
// CHECK-LABEL: func.func @call
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) =
// CHECK-LABEL: func.func @one_dimension
// CHECK: %[[S:.+]] = memref.load %{{.+}}[%c0] : memref<1xf32>
// CHECK-NEXT: scf.parallel (%[[J:.+]]) =
// CHECK-NEXT: %[[V:.+]] = memref.load %{{.+}}[%[[J]]]
// CHECK-NEXT: arith.divf %[[V]], %[[S]]
func.func @overlapping(%arena: memref<4096xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c96 = arith.constant 96 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x8xf32>
  %sum = memref.view %arena[%c96][] : memref<4096xi8> to memref<4x1xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<4x8xf32>
    %s = memref.load %sum[%i, %c0] : memref<4x1xf32>
    %q = arith.divf %v, %s : f32
    memref.store %q, %x[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}
func.func @argument(%x: memref<4x8xf32>, %sum: memref<4x1xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<4x8xf32>
    %s = memref.load %sum[%i, %c0] : memref<4x1xf32>
    %q = arith.divf %v, %s : f32
    memref.store %q, %x[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}
func.func @per_element(%arena: memref<4096xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c1024 = arith.constant 1024 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x8xf32>
  %y = memref.view %arena[%c1024][] : memref<4096xi8> to memref<4x8xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<4x8xf32>
    %s = memref.load %y[%i, %j] : memref<4x8xf32>
    %q = arith.divf %v, %s : f32
    memref.store %q, %x[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}
func.func private @opaque()
func.func @call(%arena: memref<4096xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c1024 = arith.constant 1024 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<4x8xf32>
  %sum = memref.view %arena[%c1024][] : memref<4096xi8> to memref<4x1xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    %v = memref.load %x[%i, %j] : memref<4x8xf32>
    %s = memref.load %sum[%i, %c0] : memref<4x1xf32>
    func.call @opaque() : () -> ()
    %q = arith.divf %v, %s : f32
    memref.store %q, %x[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}
func.func @one_dimension(%arena: memref<4096xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c1024 = arith.constant 1024 : index
  %x = memref.view %arena[%c0][] : memref<4096xi8> to memref<8xf32>
  %sum = memref.view %arena[%c1024][] : memref<4096xi8> to memref<1xf32>
  scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
    %v = memref.load %x[%j] : memref<8xf32>
    %s = memref.load %sum[%c0] : memref<1xf32>
    %q = arith.divf %v, %s : f32
    memref.store %q, %x[%j] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// A promoted sum that starts from its first term (select(first, x, acc + x),
// `first` at the first index of every loop that carries it and of the
// outer sample loop) becomes a plain sum from -0.0, which adds to x as x:
// the initial value is -0.0 at the first sample, the partial sum after it.
// The same sum, bit for bit, and not reassociated.

// CHECK-LABEL: func.func @first_term
// CHECK: scf.for %[[N:.+]] = %{{.+}} to
// CHECK: scf.parallel (%[[C:.+]]) =
// CHECK: %[[LOADED:.+]] = memref.load %[[ACC:.+]][%[[C]]]
// CHECK: %[[ZERO:.+]] = arith.constant -0.000000e+00 : f32
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %[[N]], %{{.+}} : index
// CHECK: %[[INIT:.+]] = arith.select %[[FIRST]], %[[ZERO]], %[[LOADED]] : f32
// CHECK: scf.for %{{.+}} iter_args(%[[A:.+]] = %[[INIT]]) -> (f32)
// CHECK: scf.for %{{.+}} iter_args(%[[B:.+]] = %[[A]]) -> (f32)
// CHECK: %[[SUM:.+]] = arith.addf %[[B]], %{{.+}} : f32
// CHECK-NOT: arith.select
// CHECK: scf.yield %[[SUM]]
func.func @first_term(%in: memref<8x16x4x4xf32>, %arena: memref<16448xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c16384 = arith.constant 16384 : index
  %acc = memref.view %arena[%c16384][] : memref<16448xi8> to memref<16xf32>
  scf.for %n = %c0 to %c8 step %c1 {
    scf.parallel (%c) = (%c0) to (%c16) step (%c1) {
      scf.for %h = %c0 to %c4 step %c1 {
        scf.for %w = %c0 to %c4 step %c1 {
          %v = memref.load %in[%n, %c, %h, %w] : memref<8x16x4x4xf32>
          %a = memref.load %acc[%c] : memref<16xf32>
          %s = arith.addf %a, %v : f32
          %f0 = arith.cmpi eq, %n, %c0 : index
          %f1 = arith.cmpi eq, %h, %c0 : index
          %f01 = arith.andi %f0, %f1 : i1
          %f2 = arith.cmpi eq, %w, %c0 : index
          %first = arith.andi %f01, %f2 : i1
          %r = arith.select %first, %v, %s : f32
          memref.store %r, %acc[%c] : memref<16xf32>
        }
      }
      scf.reduce
    }
  }
  return
}

// -----

// Stays a sum in order: the condition leaves out a loop that carries the
// sum (it would restart at each %h), or tests another loop's index, or a
// loop of the chain uses the value it carries for something else (here a
// store), which would see -0.0 instead of the initial value.

// CHECK-LABEL: func.func @restarts
// CHECK: arith.select
// CHECK-NOT: -0.0
// CHECK-LABEL: func.func @other_index
// CHECK: arith.select
// CHECK-NOT: -0.0
// CHECK-LABEL: func.func @chain_value_used
// CHECK: arith.select
// CHECK-NOT: -0.0
func.func @restarts(%in: memref<4x16xf32>, %arena: memref<64xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %acc = memref.view %arena[%c0][] : memref<64xi8> to memref<f32>
  scf.for %h = %c0 to %c4 step %c1 {
    scf.for %w = %c0 to %c16 step %c1 {
      %v = memref.load %in[%h, %w] : memref<4x16xf32>
      %a = memref.load %acc[] : memref<f32>
      %s = arith.addf %a, %v : f32
      %first = arith.cmpi eq, %w, %c0 : index
      %r = arith.select %first, %v, %s : f32
      memref.store %r, %acc[] : memref<f32>
    }
  }
  return
}
func.func @other_index(%in: memref<4x16xf32>, %arena: memref<64xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %acc = memref.view %arena[%c0][] : memref<64xi8> to memref<f32>
  scf.for %w = %c0 to %c16 step %c1 {
    scf.for %h = %c0 to %c4 step %c1 {
      %v = memref.load %in[%h, %w] : memref<4x16xf32>
      %a = memref.load %acc[] : memref<f32>
      %s = arith.addf %a, %v : f32
      %fw = arith.cmpi eq, %w, %c0 : index
      %fh = arith.cmpi eq, %h, %c1 : index
      %first = arith.andi %fw, %fh : i1
      %r = arith.select %first, %v, %s : f32
      memref.store %r, %acc[] : memref<f32>
    }
  }
  return
}

func.func @chain_value_used(%in: memref<4x16xf32>, %seen: memref<4xf32>, %arena: memref<64xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %acc = memref.view %arena[%c0][] : memref<64xi8> to memref<f32>
  %init = memref.load %acc[] : memref<f32>
  %sum = scf.for %h = %c0 to %c4 step %c1 iter_args(%a = %init) -> (f32) {
    memref.store %a, %seen[%h] : memref<4xf32>
    %row = scf.for %w = %c0 to %c16 step %c1 iter_args(%b = %a) -> (f32) {
      %v = memref.load %in[%h, %w] : memref<4x16xf32>
      %s = arith.addf %b, %v : f32
      %fh = arith.cmpi eq, %h, %c0 : index
      %fw = arith.cmpi eq, %w, %c0 : index
      %first = arith.andi %fh, %fw : i1
      %r = arith.select %first, %v, %s : f32
      scf.yield %r : f32
    }
    scf.yield %row : f32
  }
  memref.store %sum, %acc[] : memref<f32>
  return
}

// -----

// A row's sum of at least 16 terms is split into 8 partial sums (one per
// lane of a vector, the first from the sum's start), each carried by a loop
// over 8 terms at a time whose body is the row's, once per lane; the lanes
// are then added pairwise in a fixed order, and the 4 terms left over added
// in order after them. The arithmetic is written out, so it does not depend
// on how LLVM vectorizes.

// CHECK-LABEL: func.func @lanes
// CHECK: %[[START:.+]] = arith.constant -0.000000e+00 : f32
// CHECK: %[[ZERO:.+]] = arith.constant -0.000000e+00 : f32
// CHECK: %[[LANES:.+]]:8 = scf.for %[[I:.+]] = %{{.+}} to %c16 step %c8 iter_args(%[[A0:.+]] = %[[START]], %[[A1:.+]] = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]]) -> (f32, f32, f32, f32, f32, f32, f32, f32)
// CHECK: %[[I0:.+]] = arith.addi %[[I]], %c0
// CHECK: %[[X0:.+]] = memref.load %{{.+}}[%[[I0]]]
// CHECK: %[[S0:.+]] = arith.addf %[[A0]], %[[X0]] : f32
// CHECK: %[[I1:.+]] = arith.addi %[[I]], %c1
// CHECK: %[[X1:.+]] = memref.load %{{.+}}[%[[I1]]]
// CHECK: %[[S1:.+]] = arith.addf %[[A1]], %[[X1]] : f32
// CHECK: arith.addi %[[I]], %c7
// CHECK: scf.yield %[[S0]], %[[S1]],
// CHECK: %[[P01:.+]] = arith.addf %[[LANES]]#0, %[[LANES]]#1 : f32
// CHECK: %[[P23:.+]] = arith.addf %[[LANES]]#2, %[[LANES]]#3 : f32
// CHECK: %[[P45:.+]] = arith.addf %[[LANES]]#4, %[[LANES]]#5 : f32
// CHECK: %[[P67:.+]] = arith.addf %[[LANES]]#6, %[[LANES]]#7 : f32
// CHECK: %[[P03:.+]] = arith.addf %[[P01]], %[[P23]] : f32
// CHECK: %[[P47:.+]] = arith.addf %[[P45]], %[[P67]] : f32
// CHECK: %[[ALL:.+]] = arith.addf %[[P03]], %[[P47]] : f32
// CHECK: %[[REST:.+]] = scf.for %{{.+}} = %c16{{.*}} to %c20 step %c1 iter_args(%{{.+}} = %[[ALL]]) -> (f32)
// CHECK: memref.store %[[REST]]
func.func @lanes(%in: memref<20xf32>, %arena: memref<64xi8> {nn.role = "workspace"}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c20 = arith.constant 20 : index
  %acc = memref.view %arena[%c0][] : memref<64xi8> to memref<f32>
  scf.for %w = %c0 to %c20 step %c1 {
    %v = memref.load %in[%w] : memref<20xf32>
    %a = memref.load %acc[] : memref<f32>
    %s = arith.addf %a, %v : f32
    %first = arith.cmpi eq, %w, %c0 : index
    %r = arith.select %first, %v, %s : f32
    memref.store %r, %acc[] : memref<f32>
  }
  return
}
