/*===- nncc_gemm.c - The generated library's matrix multiply ----------===*
 *
 * C = A B for float matrices of any strides (so every transposition the
 * backward pass uses), as in BLIS and Goto's GEMM: B is packed in KC x NC
 * blocks of NR-wide column panels, A in MC x KC blocks of MR-high row
 * panels, and a register-blocked micro-kernel computes each MR x NR tile
 * of C with vector FMAs. The vector code uses clang's generic vectors, in
 * two widths (nncc_gemm_kernels.h): 8 floats, for AVX2's registers, and 16,
 * for AVX-512's, whose tiles are twice as wide. The library's compiler
 * picks one (__nncc_gemm_vector_floats, from the target CPU's features);
 * the other is removed as dead code.
 *
 * nn-lower-matmul-calls lowers large nn.matmul kernels to calls of
 * __nncc_sgemm and places its packing buffers in the step's arena; the
 * blocking constants it sizes them with are in nncc/Runtime/Gemm.h.
 * B may also be the windows of a convolution's input, read where the input
 * is (compound_t): its panels are then packed from the input directly, and
 * the windows are never copied out (nncc/Dialect/NN/Transforms/
 * GemmWindows.h).
 *
 * Each element of C is a sum over k in order 0..K-1, in blocks of KC whose
 * partial sums are added to C in order: the result does not depend on the
 * number of threads, which split M and N, never K.
 *
 *===------------------------------------------------------------------===*/

#include "nncc/Runtime/Gemm.h"

#include <stdint.h>

#define MR NNCC_GEMM_MR
#define KC NNCC_GEMM_KC
#define MC NNCC_GEMM_MC
#define NC NNCC_GEMM_NC

typedef void (*nncc_task_fn)(void *context, int64_t task, int32_t thread);
/* A generated epilogue (nn-lower-matmul-calls): computes its kernel on
   rows [i, i + rows) and columns [j, j + cols) of matrix `matrix` of the
   batch, once that block of C is final. */
typedef void (*nncc_tile_fn)(void *context, int64_t matrix, int64_t i,
                             int64_t j, int64_t rows, int64_t cols);
void __nncc_parallel_for(int64_t count, nncc_task_fn fn, void *context);
int32_t __nncc_max_threads(void);

/* Provided by the compiler: 16 when the target CPU has AVX-512, else 8. */
extern const int32_t __nncc_gemm_vector_floats;

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static inline int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

/* An index x of a matrix dimension as four components, the last three of
   sizes size[0..2] (1 where absent), x = ((x0 size[0] + x1) size[1] + x2)
   size[2] + x3: the element is stride[i] * x(i+1) after x0's, whose stride
   is the dimension's own. An im2col matrix's rows are (c, kh, kw) and its
   columns (oh, ow), each a linear combination of the image's strides. */
typedef struct {
  int64_t size[3], stride[3];
} compound_t;

/* out[q] = the offset of index first + q, for q < count: the first by
   division, the rest by counting its parts up (divisions per element were
   most of a packing's time). */
static void compound_offsets(int64_t first, int64_t count,
                             int64_t outer_stride, const compound_t *d,
                             int64_t *restrict out) {
  int64_t part[3], x = first, offset = 0;
  for (int i = 2; i >= 0; --i) {
    part[i] = x % d->size[i];
    offset += part[i] * d->stride[i];
    x /= d->size[i];
  }
  offset += x * outer_stride;
  for (int64_t q = 0; q < count; ++q) {
    out[q] = offset;
    int i = 2;
    for (; i >= 0 && part[i] + 1 == d->size[i]; --i) {
      offset -= part[i] * d->stride[i];
      part[i] = 0;
    }
    if (i < 0) {
      offset += outer_stride;
    } else {
      ++part[i];
      offset += d->stride[i];
    }
  }
}

typedef struct {
  int64_t m, n, k;
  const float *a; /* A(i, p) = a[i * a_row + p * a_col] */
  int64_t a_row, a_col;
  /* B(p, j) = b[offset(p, b_row, b_k) + offset(j, b_col, b_n)]: each
     index is up to four components (see compound_offset), so that B can be
     the windows of an image (im2col) read where the image is. */
  const float *b;
  int64_t b_row, b_col;
  compound_t b_k, b_n;
  int b_compound; /* whether b_k or b_n has more than one component */
  float *c; /* C(i, j) = c[i * c_row + j * c_col] */
  int64_t c_row, c_col;
  /* The epilogue, applied to each tile after its last block of K. */
  int64_t epilogue;  /* NNCC_GEMM_PLAIN or flags: _BIAS, _RESIDUAL, _RELU */
  const float *bias; /* bias(i, j) = bias[i * bias_row + j * bias_col] */
  int64_t bias_row, bias_col;
  const float *residual; /* likewise */
  int64_t residual_row, residual_col;
  /* Then the generated epilogue, if any, on each block of C: MC rows by
     the columns of one task, still in L2. `matrix` is C's in the batch. */
  nncc_tile_fn tile;
  void *tile_context;
  int64_t matrix;
  float *pack_a; /* per thread: one MC x KC block of A */
  int64_t pack_a_stride;
  /* Or all of A, packed once by all threads (pack_a_shared), or null: the
     panels of columns [pc, pc + kc) and rows [i, i + MR) at
     packed_a + pc * round_up(m, MR) + i * kc. */
  const float *packed_a;
  float *pack_b; /* per thread: one KC x NC block of B */
  int64_t pack_b_stride;
  /* The current NC columns of C, and how they are split into tasks: ranges
     of MC row blocks times ranges of NR column panels. */
  int64_t jc, nc, mc, ic_blocks, panels;
  int64_t ic_per_task, ic_tasks, panels_per_task, jr_tasks;
} gemm_t;

/* row[q * stride] += addend[q * addend_stride] for q < n: a contiguous row
   plus a contiguous or a broadcast (stride 0) addend vectorizes. */
static inline void add_row(float *restrict row, int64_t stride,
                           const float *restrict addend, int64_t addend_stride,
                           int64_t n) {
  if (stride == 1 && addend_stride == 1) {
    for (int64_t q = 0; q < n; ++q)
      row[q] = row[q] + addend[q];
  } else if (stride == 1 && addend_stride == 0) {
    float x = addend[0];
    for (int64_t q = 0; q < n; ++q)
      row[q] = row[q] + x;
  } else {
    for (int64_t q = 0; q < n; ++q)
      row[q * stride] = row[q * stride] + addend[q * addend_stride];
  }
}

/* C = C + bias, + residual, then relu (NaN stays NaN, as the nn.relu it
   replaces), each step as its flag asks, on the mr x nr tile of C at
   (i, j), while it is still in L1. Each element goes through the steps in
   that order, one row at a time. */
static void apply_epilogue(const gemm_t *g, int64_t i, int64_t j, int64_t mr,
                           int64_t nr) {
  for (int64_t r = 0; r < mr; ++r) {
    float *restrict c = g->c + (i + r) * g->c_row + j * g->c_col;
    if (g->epilogue & NNCC_GEMM_BIAS)
      add_row(c, g->c_col, g->bias + (i + r) * g->bias_row + j * g->bias_col,
              g->bias_col, nr);
    if (g->epilogue & NNCC_GEMM_RESIDUAL)
      add_row(c, g->c_col,
              g->residual + (i + r) * g->residual_row + j * g->residual_col,
              g->residual_col, nr);
    if (g->epilogue & NNCC_GEMM_RELU)
      for (int64_t q = 0; q < nr; ++q) {
        float x = c[q * g->c_col];
        c[q * g->c_col] = x > 0.0f || x != x ? x : 0.0f;
      }
  }
}

/* Packs rows [i0, i0 + mc) and columns [pc, pc + kc) of A into MR-high
   panels, zero padded: dst[q * kc * MR + p * MR + r] = A(i0 + q MR + r,
   pc + p). */
static void pack_a_block(const gemm_t *g, int64_t i0, int64_t mc, int64_t pc,
                         int64_t kc, float *dst) {
  int64_t a_row = g->a_row, a_col = g->a_col;
  for (int64_t q = 0; q * MR < mc; ++q) {
    float *restrict panel = dst + q * kc * MR;
    int64_t rows = min64(MR, mc - q * MR);
    const float *restrict src = g->a + (i0 + q * MR) * a_row + pc * a_col;
    if (rows < MR) {
      for (int64_t r = 0; r < MR; ++r)
        for (int64_t p = 0; p < kc; ++p)
          panel[p * MR + r] = r < rows ? src[r * a_row + p * a_col] : 0.0f;
    } else if (a_row == 1) {
      /* A transposed (a weight gradient's X^T): a column's MR elements
         are contiguous, as in the panel. */
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t r = 0; r < MR; ++r)
          panel[p * MR + r] = src[p * a_col + r];
    } else {
      /* A panel column by column: MR loads from MR rows, MR contiguous
         stores. */
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t r = 0; r < MR; ++r)
          panel[p * MR + r] = src[r * a_row + p * a_col];
    }
  }
}

/* One block of A packed into the shared buffer: block `task % ic_blocks`
   of rows and block `task / ic_blocks` of KC columns. */
static void pack_a_shared_task(void *context, int64_t task, int32_t thread) {
  (void)thread;
  const gemm_t *g = (const gemm_t *)context;
  int64_t pc = task / g->ic_blocks * KC, kc = min64(KC, g->k - pc);
  int64_t i0 = task % g->ic_blocks * g->mc, mc = min64(g->mc, g->m - i0);
  pack_a_block(g, i0, mc, pc, kc,
               g->pack_a + pc * round_up(g->m, MR) + i0 * kc);
}

/* Packs all of A once, on the threads, for tasks that share it: each task
   of a split of the columns would otherwise pack all of it again. */
static void pack_a_shared(gemm_t *g) {
  int64_t blocks = g->ic_blocks * ((g->k + KC - 1) / KC);
  __nncc_parallel_for(blocks, pack_a_shared_task, g);
  g->packed_a = g->pack_a;
}

typedef float v16f __attribute__((vector_size(16 * sizeof(float))));

/* rows[q][i] becomes rows[i][q]: four rounds of perfect shuffles, each row
   2i and 2i + 1 the interleaved halves of rows i and i + 8. */
static inline void transpose16(v16f rows[16]) {
  for (int round = 0; round < 4; ++round) {
    v16f next[16];
    for (int i = 0; i < 8; ++i) {
      next[2 * i] =
          __builtin_shufflevector(rows[i], rows[i + 8], 0, 16, 1, 17, 2, 18, 3,
                                  19, 4, 20, 5, 21, 6, 22, 7, 23);
      next[2 * i + 1] =
          __builtin_shufflevector(rows[i], rows[i + 8], 8, 24, 9, 25, 10, 26,
                                  11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    }
    for (int i = 0; i < 16; ++i)
      rows[i] = next[i];
  }
}

/* The longest run, 16, 8 or 4 elements (else 0), such that `count`
   offsets are groups of that many contiguous elements. */
static int64_t longest_run(const int64_t *offsets, int64_t count) {
  for (int64_t run = 16; run >= 4; run /= 2) {
    int contiguous = count % run == 0;
    for (int64_t i = 0; i < count && contiguous; ++i)
      contiguous = offsets[i] == offsets[i - i % run] + i % run;
    if (contiguous)
      return run;
  }
  return 0;
}

/* A panel whose rows are at b + rows[p] and columns at cols[j] from
   there, packed as dst[p * width + j] for p < kc and j < nr, 0 for j in
   [nr, width), width a multiple of 16, where the panel is contiguous along
   its rows (a compound B transposed: a weight gradient's
   windows): each block of 16 rows that is runs of 16, 8 or 4 contiguous
   elements (an output row of 8 positions is two runs) is loaded a run at
   a time, column by column, and transposed in registers (one scalar copy
   per element was the slowest part of the weight gradients' products);
   other rows are copied element by element. */
static void pack_b_transposed_runs(const float *b, const int64_t *rows,
                                   const int64_t *cols, int64_t kc,
                                   int64_t nr, int64_t width,
                                   float *restrict dst) {
  for (int64_t p = 0; p < kc; p += 16) {
    int64_t rows_run = p + 16 <= kc ? longest_run(rows + p, 16) : 0;
    if (rows_run < 4) {
      for (int64_t q = p; q < min64(p + 16, kc); ++q)
        for (int64_t j = 0; j < width; ++j)
          dst[q * width + j] = j < nr ? b[rows[q] + cols[j]] : 0.0f;
      continue;
    }
    for (int64_t jb = 0; jb < width; jb += 16) {
      v16f block[16];
      for (int64_t i = 0; i < 16; ++i) {
        float column[16] = {0};
        const float *src = jb + i < nr ? b + cols[jb + i] : 0;
        /* Copies of a constant size, which compile to vector moves. */
        if (src && rows_run == 16)
          __builtin_memcpy(column, src + rows[p], 16 * sizeof(float));
        else if (src && rows_run == 8)
          for (int64_t q = 0; q < 16; q += 8)
            __builtin_memcpy(column + q, src + rows[p + q], 8 * sizeof(float));
        else if (src)
          for (int64_t q = 0; q < 16; q += 4)
            __builtin_memcpy(column + q, src + rows[p + q], 4 * sizeof(float));
        __builtin_memcpy(&block[i], column, sizeof column);
      }
      transpose16(block);
      for (int64_t q = 0; q < 16; ++q)
        __builtin_memcpy(dst + (p + q) * width + jb, &block[q],
                         sizeof block[q]);
    }
  }
}

/* A panel of a transposed B (B(p, j) = src[p + j * ld]: a linear layer's
   weight), as pack_b_transposed_runs packs it but with each block's
   columns loaded whole: with no offsets to look up, a linear layer's
   backward step was 3% faster than through the general routine. */
static void pack_b_transposed(const float *src, int64_t ld, int64_t kc,
                              int64_t nr, int64_t width, float *dst) {
  int64_t p = 0;
  for (; p + 16 <= kc; p += 16)
    for (int64_t j0 = 0; j0 < width; j0 += 16) {
      v16f rows[16];
      for (int64_t i = 0; i < 16; ++i) {
        v16f row = {0};
        if (j0 + i < nr)
          __builtin_memcpy(&row, src + (j0 + i) * ld + p, sizeof row);
        rows[i] = row;
      }
      transpose16(rows);
      for (int64_t q = 0; q < 16; ++q)
        __builtin_memcpy(dst + (p + q) * width + j0, &rows[q], sizeof rows[q]);
    }
  for (; p < kc; ++p)
    for (int64_t j = 0; j < width; ++j)
      dst[p * width + j] = j < nr ? src[p + j * ld] : 0.0f;
}

/* A panel of a compound B (see compound_t): dst[p * width + j] = B(pc + p,
   j0 + j) for p < kc and j < nr, 0 for j in [nr, width), given its rows'
   offsets (compound_offsets of pc, kc and b_k, computed once per block of
   K). Where the columns are runs of
   contiguous elements (an output row of a stride-1 convolution), each row
   of the panel is copied a run at a time; else it is packed as B
   transposed (pack_b_transposed_runs). */
static void pack_b_compound(const float *b, const int64_t *rows,
                            int64_t b_col, const compound_t *b_n, int64_t kc,
                            int64_t j0, int64_t nr, int64_t width,
                            float *restrict dst) {
  int64_t cols[NNCC_GEMM_NR_MAX];
  compound_offsets(j0, nr, b_col, b_n, cols);
  int64_t run = longest_run(cols, nr);
  if (run >= 4) {
    for (int64_t p = 0; p < kc; ++p) {
      float *restrict row = dst + p * width;
      const float *src = b + rows[p];
      int64_t j = 0;
      if (run == 16)
        for (; j < nr; j += 16)
          __builtin_memcpy(row + j, src + cols[j], 16 * sizeof(float));
      else if (run == 8)
        for (; j < nr; j += 8)
          __builtin_memcpy(row + j, src + cols[j], 8 * sizeof(float));
      else
        for (; j < nr; j += 4)
          __builtin_memcpy(row + j, src + cols[j], 4 * sizeof(float));
      for (; j < width; ++j)
        row[j] = 0.0f;
    }
    return;
  }
  pack_b_transposed_runs(b, rows, cols, kc, nr, width, dst);
}

#define VW 8
#include "nncc_gemm_kernels.h"
#undef VW
#define VW 16
#include "nncc_gemm_kernels.h"
#undef VW

/* A batch of products: matrix i of each operand starts `i * *_batch`
   elements after matrix 0's, described by g. */
typedef struct {
  gemm_t g;
  int64_t a_batch, b_batch, c_batch, bias_batch, residual_batch;
  int64_t count, tasks;
} batch_t;

/* Matrix `index` of the batch, on `threads` threads (1: on `thread`). */
static void run_matrix(const batch_t *batch, int64_t index, int32_t threads,
                       int32_t thread) {
  gemm_t g = batch->g;
  g.a += index * batch->a_batch;
  g.b += index * batch->b_batch;
  g.c += index * batch->c_batch;
  g.bias += index * batch->bias_batch;
  g.residual += index * batch->residual_batch;
  g.matrix = index;
  if (g.k <= 0) {
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j)
        g.c[i * g.c_row + j * g.c_col] = 0.0f;
    if (g.epilogue != NNCC_GEMM_PLAIN)
      apply_epilogue(&g, 0, 0, g.m, g.n);
    if (g.tile)
      g.tile(g.tile_context, index, 0, 0, g.m, g.n);
    return;
  }
  if (__nncc_gemm_vector_floats == 16)
    gemm_run16(&g, threads, thread);
  else
    gemm_run8(&g, threads, thread);
}

/* One thread's range of the batch's matrices, each on that thread alone. */
static void batch_task(void *context, int64_t task, int32_t thread) {
  const batch_t *batch = (const batch_t *)context;
  int64_t begin = batch->count * task / batch->tasks;
  int64_t end = batch->count * (task + 1) / batch->tasks;
  for (int64_t i = begin; i < end; ++i)
    run_matrix(batch, i, 1, thread);
}

/* Below this many multiply-adds per matrix, a batch is split by matrices
   among the threads rather than each matrix among them: a convolution's
   samples and attention's heads are too small to share. */
#define SMALL_PRODUCT (1 << 20)

/* Whether the threads take whole matrices of the batch: when the matrices
   are small, or when they split evenly among the threads or are many
   enough (four per thread) that the last one's imbalance is small. Larger
   products are shared too, but each task then synchronizes per matrix: a
   ResNet stage's 32 per-sample products of 16 x 144 x 1024 ran barely
   faster on two threads than on one. */
static int split_by_matrix(int64_t m, int64_t n, int64_t k, int64_t batch,
                           int32_t threads) {
  if (threads <= 1 || batch < threads)
    return 0;
  return m * n * k < SMALL_PRODUCT || batch % threads == 0 ||
         batch >= 4 * (int64_t)threads;
}

/* For each of `batch` matrices: C = A B with A m x k, B k x n, C m x n, of
   the given element offsets and strides (matrix i `i * *_batch` elements
   after the first), then, as `epilogue` asks, the bias and the residual
   (each of its offset and strides, a stride 0 where it broadcasts) added
   and relu applied; then, if `tile` is not null, tile(tile_context, ...)
   on blocks of C that together cover each matrix once, each when it is
   final (on whichever thread computed it). pack_a and pack_b hold
   __nncc_max_threads() blocks of NNCC_GEMM_PACK_A_FLOATS(m, k) and
   NNCC_GEMM_PACK_B_FLOATS(k, n) floats (Gemm.h), and pack_a, with more than one
   thread, at least NNCC_GEMM_PACK_A_SHARED_FLOATS(m, k). B's k and n may
   be compound (compound_t): b_row and b_col are then the strides of their
   outermost parts, and b_k1..3 and b_n1..3 with their strides the sizes of
   the inner ones (all 1 for a plain matrix). A matrix is computed
   alike on any thread and on any number of them, so results do not depend on
   how the work is split. */
void __nncc_sgemm_tiles(int64_t m, int64_t n, int64_t k, int64_t batch,
                        const float *a, int64_t a_offset, int64_t a_row,
                        int64_t a_col, int64_t a_batch, const float *b,
                        int64_t b_offset, int64_t b_row, int64_t b_col,
                        int64_t b_batch, float *c, int64_t c_offset,
                        int64_t c_row, int64_t c_col, int64_t c_batch,
                        const float *bias, int64_t bias_offset,
                        int64_t bias_row, int64_t bias_col, int64_t bias_batch,
                        const float *residual, int64_t residual_offset,
                        int64_t residual_row, int64_t residual_col,
                        int64_t residual_batch, int64_t epilogue, float *pack_a,
                        float *pack_b, int64_t b_k1, int64_t b_k1_stride,
                        int64_t b_k2, int64_t b_k2_stride, int64_t b_k3,
                        int64_t b_k3_stride, int64_t b_n1, int64_t b_n1_stride,
                        int64_t b_n2, int64_t b_n2_stride, int64_t b_n3,
                        int64_t b_n3_stride, nncc_tile_fn tile,
                        void *tile_context) {
  if (m <= 0 || n <= 0 || batch <= 0)
    return;
  compound_t b_k = {{b_k1, b_k2, b_k3}, {b_k1_stride, b_k2_stride, b_k3_stride}};
  compound_t b_n = {{b_n1, b_n2, b_n3}, {b_n1_stride, b_n2_stride, b_n3_stride}};
  int32_t threads = __nncc_max_threads();
  batch_t work = {.g = {.m = m,
                        .n = n,
                        .k = k,
                        .a = a + a_offset,
                        .a_row = a_row,
                        .a_col = a_col,
                        .b = b + b_offset,
                        .b_row = b_row,
                        .b_col = b_col,
                        .b_k = b_k,
                        .b_n = b_n,
                        .b_compound = b_k1 * b_k2 * b_k3 * b_n1 * b_n2 * b_n3 > 1,
                        .c = c + c_offset,
                        .c_row = c_row,
                        .c_col = c_col,
                        .epilogue = epilogue,
                        .bias = bias + bias_offset,
                        .bias_row = bias_row,
                        .bias_col = bias_col,
                        .residual = residual + residual_offset,
                        .residual_row = residual_row,
                        .residual_col = residual_col,
                        .pack_a = pack_a,
                        .pack_a_stride = NNCC_GEMM_PACK_A_FLOATS(m, k),
                        .pack_b = pack_b,
                        .pack_b_stride = NNCC_GEMM_PACK_B_FLOATS(k, n),
                        .tile = tile,
                        .tile_context = tile_context},
                  .a_batch = a_batch,
                  .b_batch = b_batch,
                  .c_batch = c_batch,
                  .bias_batch = bias_batch,
                  .residual_batch = residual_batch,
                  .count = batch};
  /* Blocks of M as even as MR allows: 128 rows are 2 x 66, not 96 + 32. */
  work.g.ic_blocks = (m + MC - 1) / MC;
  work.g.mc = round_up((m + work.g.ic_blocks - 1) / work.g.ic_blocks, MR);
  if (split_by_matrix(m, n, k, batch, threads)) {
    work.tasks = threads;
    __nncc_parallel_for(threads, batch_task, &work);
    return;
  }
  for (int64_t i = 0; i < batch; ++i)
    run_matrix(&work, i, threads, 0);
}

/* __nncc_sgemm_tiles without a generated epilogue. */
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
                  int64_t epilogue, float *pack_a, float *pack_b,
                  int64_t b_k1, int64_t b_k1_stride, int64_t b_k2,
                  int64_t b_k2_stride, int64_t b_k3, int64_t b_k3_stride,
                  int64_t b_n1, int64_t b_n1_stride, int64_t b_n2,
                  int64_t b_n2_stride, int64_t b_n3, int64_t b_n3_stride) {
  __nncc_sgemm_tiles(m, n, k, batch, a, a_offset, a_row, a_col, a_batch, b,
                     b_offset, b_row, b_col, b_batch, c, c_offset, c_row, c_col,
                     c_batch, bias, bias_offset, bias_row, bias_col, bias_batch,
                     residual, residual_offset, residual_row, residual_col,
                     residual_batch, epilogue, pack_a, pack_b, b_k1, b_k1_stride,
                     b_k2, b_k2_stride, b_k3, b_k3_stride, b_n1, b_n1_stride,
                     b_n2, b_n2_stride, b_n3, b_n3_stride, 0, 0);
}
