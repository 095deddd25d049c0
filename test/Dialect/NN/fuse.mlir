// RUN: nncc-opt %s -split-input-file -nn-fuse | FileCheck %s
// RUN: nncc-opt %s -split-input-file -nn-fuse -convert-nn-to-linalg -nn-fuse-kernels | FileCheck %s --check-prefix=KERNELS

// A bias add, an activation and a residual add after a matmul are one
// kernel (the matmul, a reduction, stays its own).

// CHECK-LABEL: func.func @epilogue
// CHECK: nn.matmul
// CHECK-NOT: nn.fusion_group
// CHECK: nn.add %{{.+}}, %{{.+}} {nn.fusion_group = [[G:[0-9]+]] : i64}
// CHECK: nn.tanh %{{.+}} {nn.fusion_group = [[G]] : i64}
// CHECK: nn.add %{{.+}}, %{{.+}} {nn.fusion_group = [[G]] : i64}

// KERNELS-LABEL: func.func @epilogue
// KERNELS-NOT: linalg.fill
// KERNELS: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]
// KERNELS: linalg.generic
// KERNELS-SAME: nn.fusion_group = 0
// KERNELS: arith.addf
// KERNELS: math.tanh
// KERNELS: arith.addf
// KERNELS-NOT: linalg.generic
// KERNELS: return
func.func @epilogue(%x: tensor<4x3xf32>, %w: tensor<3x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %m = nn.matmul %x, %w : tensor<4x3xf32>, tensor<3x3xf32>
  %a = nn.add %m, %b : tensor<4x3xf32>, tensor<3xf32>
  %t = nn.tanh %a : tensor<4x3xf32>
  %y = nn.add %t, %x : tensor<4x3xf32>, tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A value read again later (here: by the backward pass's activation
// gradient) is computed in the kernel of its first user, which also stores
// it for the later one: kept, not recomputed. The gradient chain is another
// kernel.

// CHECK-LABEL: func.func @kept
// CHECK: %[[H:.+]] = nn.relu %{{.+}} {nn.fusion_group = [[G:[0-9]+]] : i64} : tensor<4x3xf32>
// CHECK: nn.mul %[[H]], %{{.+}} {nn.fusion_group = [[G]] : i64}
// CHECK: nn.relu_grad %[[H]], %{{.+}} {nn.fusion_group = [[G2:[0-9]+]] : i64}
// CHECK: nn.mul {{.+}} {nn.fusion_group = [[G2]] : i64}

// KERNELS-LABEL: func.func @kept
// KERNELS: %[[K:.+]]:2 = linalg.generic
// KERNELS: arith.select
// KERNELS: arith.mulf
// KERNELS: linalg.yield
// KERNELS: linalg.generic
// KERNELS-SAME: ins(%[[K]]#0, %{{.+}}, %{{.+}} :
// KERNELS-NOT: linalg.generic
// KERNELS: return %[[K]]#1, %{{.+}}
func.func @kept(%a: tensor<4x3xf32>, %g: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %h = nn.relu %a : tensor<4x3xf32>
  %y = nn.mul %h, %g : tensor<4x3xf32>, tensor<4x3xf32>
  %d = nn.relu_grad %h, %g : tensor<4x3xf32>
  %e = nn.mul %d, %a : tensor<4x3xf32>, tensor<4x3xf32>
  return %y, %e : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// A reduction takes its elementwise prologue (a bias gradient of a masked
// gradient; a sum of squares).

// CHECK-LABEL: func.func @prologue
// CHECK: nn.mul {{.+}} {nn.fusion_group = [[G:[0-9]+]] : i64}
// CHECK: nn.reduce_sum {{.+}} {nn.fusion_group = [[G]] : i64}

// KERNELS-LABEL: func.func @prologue
// KERNELS-NOT: linalg.fill
// KERNELS: linalg.generic
// KERNELS-SAME: iterator_types = ["reduction", "parallel"]
// KERNELS: arith.mulf
// KERNELS: arith.addf
// KERNELS-NOT: linalg.generic
// KERNELS: return
func.func @prologue(%x: tensor<4x3xf32>, %y: tensor<4x3xf32>) -> tensor<3xf32> {
  %p = nn.mul %x, %y : tensor<4x3xf32>, tensor<4x3xf32>
  %s = nn.reduce_sum %p axes [0] : tensor<4x3xf32>
  return %s : tensor<3xf32>
}

// -----

// A producer over a broadcast space is recomputed for each element that
// reads it only when that space is at least 8 times smaller and nothing else
// reads it: [3] into [4,3] is not fused (4x), [3] into [8,3] is; so is the
// broadcast itself. An op alone has no group.

// CHECK-LABEL: func.func @broadcast
// CHECK-NOT: nn.fusion_group
// CHECK: return
func.func @broadcast(%x: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %e = nn.exp %b : tensor<3xf32>
  %y = nn.mul %x, %e : tensor<4x3xf32>, tensor<3xf32>
  return %y : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @recompute
// CHECK: nn.exp %{{.+}} {nn.fusion_group = [[G:[0-9]+]] : i64} : tensor<3xf32>
// CHECK: nn.broadcast_to %{{.+}} {nn.fusion_group = [[G]] : i64}
// CHECK: nn.mul %{{.+}}, %{{.+}} {nn.fusion_group = [[G]] : i64}

// KERNELS-LABEL: func.func @recompute
// KERNELS: linalg.generic
// KERNELS: math.exp
// KERNELS: arith.mulf
// KERNELS-NOT: linalg.generic
// KERNELS: return
func.func @recompute(%x: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<8x3xf32> {
  %e = nn.exp %b : tensor<3xf32>
  %f = nn.broadcast_to %e to [8, 3] : tensor<3xf32>
  %y = nn.mul %x, %f : tensor<8x3xf32>, tensor<8x3xf32>
  return %y : tensor<8x3xf32>
}

// -----

// Comparisons, boolean ops and the select they feed are elementwise: a
// masked choice is one kernel, its i1 intermediates never stored.

// CHECK-LABEL: func.func @mask
// CHECK: nn.compare ge {{.+}} {nn.fusion_group = [[G:[0-9]+]] : i64}
// CHECK: nn.compare le {{.+}} {nn.fusion_group = [[G]] : i64}
// CHECK: nn.logic and {{.+}} {nn.fusion_group = [[G]] : i64}
// CHECK: nn.not {{.+}} {nn.fusion_group = [[G]] : i64}
// CHECK: nn.select {{.+}} {nn.fusion_group = [[G]] : i64}

// KERNELS-LABEL: func.func @mask
// KERNELS: linalg.generic
// KERNELS-SAME: outs(%{{.+}} : tensor<4x3xf32>)
// KERNELS-DAG: %[[GE:.+]] = arith.cmpf oge
// KERNELS-DAG: %[[LE:.+]] = arith.cmpf ole
// KERNELS: %[[IN:.+]] = arith.andi %[[GE]], %[[LE]] : i1
// KERNELS: %[[OUT:.+]] = arith.xori %[[IN]], %{{.+}} : i1
// KERNELS: %[[Y:.+]] = arith.select %[[OUT]], %{{.+}}, %{{.+}} : f32
// KERNELS: linalg.yield %[[Y]] : f32
// KERNELS-NOT: linalg.generic
// KERNELS: return
func.func @mask(%x: tensor<4x3xf32>, %lo: tensor<3xf32>, %hi: tensor<3xf32>) -> tensor<4x3xf32> {
  %a = nn.compare ge %x, %lo : tensor<4x3xf32>, tensor<3xf32>
  %b = nn.compare le %x, %hi : tensor<4x3xf32>, tensor<3xf32>
  %in = nn.logic and %a, %b : tensor<4x3xi1>, tensor<4x3xi1>
  %out = nn.not %in : tensor<4x3xi1>
  %y = nn.select %out, %lo, %x : tensor<4x3xi1>, tensor<3xf32>, tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A clamp (ReLU6), softplus and maximum after a matmul are one epilogue
// kernel.

// CHECK-LABEL: func.func @clamps
// CHECK: nn.matmul
// CHECK-NOT: nn.fusion_group
// CHECK: nn.clip {{.+}}nn.fusion_group = [[G:[0-9]+]] : i64}
// CHECK: nn.softplus %{{.+}} {nn.fusion_group = [[G]] : i64}
// CHECK: nn.maximum %{{.+}}, %{{.+}} {nn.fusion_group = [[G]] : i64}

// KERNELS-LABEL: func.func @clamps
// KERNELS: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction"]
// KERNELS: linalg.generic
// KERNELS-SAME: nn.fusion_group = 0
// KERNELS: arith.cmpf olt
// KERNELS: arith.cmpf ogt
// KERNELS: arith.select
// KERNELS: %[[CLIPPED:.+]] = arith.select
// KERNELS: math.exp %[[CLIPPED]]
// KERNELS: %[[SOFT:.+]] = arith.select
// KERNELS: arith.maximumf %[[SOFT]], %{{.+}} : f32
// KERNELS-NOT: linalg.generic
// KERNELS: return
func.func @clamps(%x: tensor<4x3xf32>, %w: tensor<3x3xf32>, %b: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %m = nn.matmul %x, %w : tensor<4x3xf32>, tensor<3x3xf32>
  %c = nn.clip %m {min = 0.0, max = 6.0} : tensor<4x3xf32>
  %s = nn.softplus %c : tensor<4x3xf32>
  %y = nn.maximum %s, %b : tensor<4x3xf32>, tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A value that every later op of a group reads twice is computed once in
// the group's kernel: the kernel reads each input once and its body is the
// graph, not the tree of the graph (that would hold 16 tanh here, and
// grows exponentially with the depth of a backward pass).

// KERNELS-LABEL: func.func @squares
// KERNELS: linalg.generic
// KERNELS-SAME: ins(%{{[a-z0-9]+}} : tensor<4xf32>)
// KERNELS-NEXT: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// KERNELS-NEXT: %[[T:.+]] = math.tanh %[[IN]]
// KERNELS-NEXT: %[[B:.+]] = arith.mulf %[[T]], %[[T]]
// KERNELS-NEXT: %[[C:.+]] = arith.mulf %[[B]], %[[B]]
// KERNELS-NEXT: %[[D:.+]] = arith.mulf %[[C]], %[[C]]
// KERNELS-NEXT: %[[E:.+]] = arith.mulf %[[D]], %[[D]]
// KERNELS-NEXT: linalg.yield %[[E]]
// KERNELS-NOT: linalg.generic
// KERNELS: return
func.func @squares(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = nn.tanh %x : tensor<4xf32>
  %b = nn.mul %a, %a : tensor<4xf32>, tensor<4xf32>
  %c = nn.mul %b, %b : tensor<4xf32>, tensor<4xf32>
  %d = nn.mul %c, %c : tensor<4xf32>, tensor<4xf32>
  %e = nn.mul %d, %d : tensor<4xf32>, tensor<4xf32>
  return %e : tensor<4xf32>
}
