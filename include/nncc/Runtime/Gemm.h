/*===- Gemm.h - Blocking of the runtime's matrix multiply ---------*- C -*-===*
 *
 * Shared by the runtime's GEMM (lib/Runtime/nncc_gemm.c) and the pass that
 * calls it (nn-lower-matmul-calls), which sizes the packing buffers it
 * passes from these constants. Plain C, so both can include it.
 *
 *===------------------------------------------------------------------===*/

#ifndef NNCC_RUNTIME_GEMM_H
#define NNCC_RUNTIME_GEMM_H

/* The micro-kernel computes an MR x NR tile of C in registers: NR is 16
   with 8-float vectors (AVX2), 32 with 16-float ones (AVX-512). */
#define NNCC_GEMM_MR 6
#define NNCC_GEMM_NR_MAX 32
/* Cache blocks: a KC x NR panel of B stays in L1, an MC x KC block of A in
   L2, a KC x NC block of B in L3. MC is a multiple of MR, NC of NR. */
#define NNCC_GEMM_KC 256
#define NNCC_GEMM_MC 96
#define NNCC_GEMM_NC 1024

/* The floats of the packing buffers of one thread, for an m x k by k x n
   product: a block of A (MC rows rounded up to MR, KC columns) and a block
   of B (KC rows, NC columns rounded up to the widest NR). */
#define NNCC_GEMM_ROUND_UP(x, to) (((x) + (to)-1) / (to) * (to))
#define NNCC_GEMM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NNCC_GEMM_PACK_A_FLOATS(m, k)                                          \
  (NNCC_GEMM_ROUND_UP(NNCC_GEMM_MIN(m, NNCC_GEMM_MC), NNCC_GEMM_MR) *          \
   NNCC_GEMM_MIN(k, NNCC_GEMM_KC))
#define NNCC_GEMM_PACK_B_FLOATS(k, n)                                          \
  (NNCC_GEMM_MIN(k, NNCC_GEMM_KC) *                                            \
   NNCC_GEMM_ROUND_UP(NNCC_GEMM_MIN(n, NNCC_GEMM_NC), NNCC_GEMM_NR_MAX))

/* With more than one thread, the threads share the columns of a matrix,
   and each would pack all of A: instead they first pack it together, once,
   all of its K, into MR-high panels. The A buffer then holds the larger of
   this and one block per thread (which the other splits use). */
#define NNCC_GEMM_PACK_A_SHARED_FLOATS(m, k)                                   \
  (NNCC_GEMM_ROUND_UP(m, NNCC_GEMM_MR) * (k))

/* What the GEMM applies to C after the product (its `epilogue` argument,
   a combination of flags), in this order: C + bias, + residual, relu. */
#define NNCC_GEMM_PLAIN 0
#define NNCC_GEMM_BIAS 1
#define NNCC_GEMM_RELU 2
#define NNCC_GEMM_RESIDUAL 4

/* Threads never split K, so a product is bit-identical on any number of
   threads. */
#define NNCC_MAX_THREADS 64

#ifndef __cplusplus
#include <stdint.h>

/* The runtime's GEMM as nn-lower-matmul-calls calls it (nncc_gemm.c says
   what each argument is). Declared here for C that calls it directly, the
   runtime's tests. */
void __nncc_sgemm(int64_t m, int64_t n, int64_t k, int64_t batch,
                  const float *a, int64_t a_offset, int64_t a_row,
                  int64_t a_col, int64_t a_batch, const float *b,
                  int64_t b_offset, int64_t b_row, int64_t b_col,
                  int64_t b_batch, float *c, int64_t c_offset, int64_t c_row,
                  int64_t c_col, int64_t c_batch, const float *bias,
                  int64_t bias_offset, int64_t bias_row, int64_t bias_col,
                  int64_t bias_batch, const float *residual,
                  int64_t residual_offset, int64_t residual_row,
                  int64_t residual_col, int64_t residual_batch,
                  int64_t epilogue, float *pack_a, float *pack_b, int64_t b_k1,
                  int64_t b_k1_stride, int64_t b_k2, int64_t b_k2_stride,
                  int64_t b_k3, int64_t b_k3_stride, int64_t b_n1,
                  int64_t b_n1_stride, int64_t b_n2, int64_t b_n2_stride,
                  int64_t b_n3, int64_t b_n3_stride);
#endif

#endif /* NNCC_RUNTIME_GEMM_H */
