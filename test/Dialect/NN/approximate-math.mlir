// RUN: nncc-opt %s -nn-approximate-math | FileCheck %s
// RUN: nncc-opt %s -nn-approximate-math | FileCheck %s --check-prefix=GONE

// Float32 tanh, exp, log and erf become arithmetic (range reduction, then
// polynomials and quotients of them: multiply-adds that vectorize); sqrt,
// which LLVM lowers to one instruction, and float64, which has no
// approximation, stay as they are.

// GONE-NOT: {{math\.(tanh|exp|log|erf) .*: f32}}

// CHECK-LABEL: func.func @f32
// CHECK: math.fma
// CHECK: math.sqrt
func.func @f32(%x: f32) -> (f32, f32, f32, f32, f32) {
  %0 = math.tanh %x : f32
  %1 = math.exp %x : f32
  %2 = math.log %x : f32
  %3 = math.erf %x : f32
  %4 = math.sqrt %x : f32
  return %0, %1, %2, %3, %4 : f32, f32, f32, f32, f32
}

// CHECK-LABEL: func.func @f64
// CHECK: math.tanh %{{.+}} : f64
// CHECK: math.exp %{{.+}} : f64
func.func @f64(%x: f64) -> (f64, f64) {
  %0 = math.tanh %x : f64
  %1 = math.exp %x : f64
  return %0, %1 : f64, f64
}
