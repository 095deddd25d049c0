/*===- nncc_gemm.c - The generated library's matrix multiply ----------===*
 *
 * C = A B for float matrices of any strides (so every transposition the
 * backward pass uses), as in BLIS and Goto's GEMM: B is packed in KC x NC
 * blocks of NR-wide column panels, A in MC x KC blocks of MR-high row
 * panels, and a register-blocked micro-kernel computes each MR x NR tile
 * of C with vector FMAs. The vector code uses clang's generic vectors; the
 * runtime bitcode is compiled for the model's target CPU when linked into a
 * library (AVX2 registers hold a vector of 8 floats, AVX-512 ones 16).
 *
 * nn-lower-matmul-calls lowers large nn.matmul kernels to calls of
 * __nncc_sgemm and places its packing buffers in the step's arena; the
 * blocking constants it sizes them with are in nncc/Runtime/Gemm.h.
 *
 * Each element of C is a sum over k in order 0..K-1, in blocks of KC whose
 * partial sums are added to C in order: the result does not depend on the
 * number of threads, which split M and N, never K.
 *
 *===------------------------------------------------------------------===*/

#include "nncc/Runtime/Gemm.h"

#include <stdint.h>

#define MR NNCC_GEMM_MR
#define NR NNCC_GEMM_NR
#define KC NNCC_GEMM_KC
#define MC NNCC_GEMM_MC
#define NC NNCC_GEMM_NC

typedef float v8f __attribute__((vector_size(32)));

typedef void (*nncc_task_fn)(void *context, int64_t task, int32_t thread);
void __nncc_parallel_for(int64_t count, nncc_task_fn fn, void *context);
int32_t __nncc_max_threads(void);

static inline v8f load8(const float *p) {
  v8f v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

static inline void store8(float *p, v8f v) {
  __builtin_memcpy(p, &v, sizeof v);
}

static inline v8f splat8(float x) { return (v8f){x, x, x, x, x, x, x, x}; }

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static inline int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

typedef struct {
  int64_t m, n, k;
  const float *a; /* A(i, p) = a[i * a_row + p * a_col] */
  int64_t a_row, a_col;
  const float *b; /* B(p, j) = b[p * b_row + j * b_col] */
  int64_t b_row, b_col;
  float *c; /* C(i, j) = c[i * c_row + j * c_col] */
  int64_t c_row, c_col;
  /* The epilogue, applied to each tile after its last block of K. */
  int64_t epilogue;  /* NNCC_GEMM_PLAIN, _BIAS or _BIAS_RELU */
  const float *bias; /* bias(i, j) = bias[i * bias_row + j * bias_col] */
  int64_t bias_row, bias_col;
  float *pack_a; /* per thread: one MC x KC block of A */
  int64_t pack_a_stride;
  float *pack_b; /* per thread: one KC x NC block of B */
  int64_t pack_b_stride;
  /* The current NC columns of C, and how they are split into tasks: ranges
     of MC row blocks times ranges of NR column panels. */
  int64_t jc, nc, mc, ic_blocks, panels;
  int64_t ic_per_task, ic_tasks, panels_per_task, jr_tasks;
} gemm_t;

/* MR x NR tile: C = (accumulate ? C : 0) + a_panel * b_panel over kc. */
static void micro_kernel(int64_t kc, const float *restrict a,
                         const float *restrict b, float *restrict c,
                         int64_t c_row, int64_t c_col, int64_t mr, int64_t nr,
                         int accumulate) {
  v8f acc[MR][2];
  for (int r = 0; r < MR; ++r)
    acc[r][0] = acc[r][1] = splat8(0.0f);
  for (int64_t p = 0; p < kc; ++p) {
    v8f b0 = load8(b + p * NR), b1 = load8(b + p * NR + 8);
    for (int r = 0; r < MR; ++r) {
      v8f ar = splat8(a[p * MR + r]);
      acc[r][0] = __builtin_elementwise_fma(ar, b0, acc[r][0]);
      acc[r][1] = __builtin_elementwise_fma(ar, b1, acc[r][1]);
    }
  }
  if (mr == MR && nr == NR && c_col == 1) {
    for (int r = 0; r < MR; ++r) {
      float *row = c + r * c_row;
      if (accumulate) {
        store8(row, load8(row) + acc[r][0]);
        store8(row + 8, load8(row + 8) + acc[r][1]);
      } else {
        store8(row, acc[r][0]);
        store8(row + 8, acc[r][1]);
      }
    }
    return;
  }
  float tile[MR][NR];
  for (int r = 0; r < MR; ++r) {
    store8(tile[r], acc[r][0]);
    store8(tile[r] + 8, acc[r][1]);
  }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; ++j) {
      float *out = c + r * c_row + j * c_col;
      *out = accumulate ? *out + tile[r][j] : tile[r][j];
    }
}

/* C = C + bias, then relu (NaN stays NaN, as the nn.relu it replaces), on
   the mr x nr tile of C at (i, j), while it is still in L1. */
static void apply_epilogue(const gemm_t *g, int64_t i, int64_t j, int64_t mr,
                           int64_t nr) {
  for (int64_t r = 0; r < mr; ++r) {
    float *restrict c = g->c + (i + r) * g->c_row + j * g->c_col;
    const float *restrict bias =
        g->bias + (i + r) * g->bias_row + j * g->bias_col;
    for (int64_t q = 0; q < nr; ++q) {
      float x = c[q * g->c_col] + bias[q * g->bias_col];
      if (g->epilogue == NNCC_GEMM_BIAS_RELU)
        x = x > 0.0f || x != x ? x : 0.0f;
      c[q * g->c_col] = x;
    }
  }
}

/* Packs NR-wide panel `panel` of rows [pc, pc + kc) of the current NC
   columns of B into `dst`, zero padded: dst[p * NR + j] = B(pc + p,
   j0 + j). */
static void pack_b_panel(const gemm_t *g, int64_t pc, int64_t kc, int64_t panel,
                         float *dst) {
  int64_t j0 = g->jc + panel * NR, nr = min64(NR, g->jc + g->nc - j0);
  const float *src = g->b + pc * g->b_row + j0 * g->b_col;
  if (g->b_col == 1 && nr == NR) {
    for (int64_t p = 0; p < kc; ++p) {
      store8(dst + p * NR, load8(src + p * g->b_row));
      store8(dst + p * NR + 8, load8(src + p * g->b_row + 8));
    }
    return;
  }
  for (int64_t j = 0; j < NR; ++j)
    for (int64_t p = 0; p < kc; ++p)
      dst[p * NR + j] = j < nr ? src[p * g->b_row + j * g->b_col] : 0.0f;
}

/* Packs rows [i0, i0 + mc) and columns [pc, pc + kc) of A into MR-high
   panels, zero padded: dst[q * kc * MR + p * MR + r] = A(i0 + q MR + r,
   pc + p). */
static void pack_a_block(const gemm_t *g, int64_t i0, int64_t mc, int64_t pc,
                         int64_t kc, float *dst) {
  for (int64_t q = 0; q * MR < mc; ++q) {
    float *panel = dst + q * kc * MR;
    int64_t rows = min64(MR, mc - q * MR);
    const float *src = g->a + (i0 + q * MR) * g->a_row + pc * g->a_col;
    for (int64_t r = 0; r < MR; ++r)
      for (int64_t p = 0; p < kc; ++p)
        panel[p * MR + r] = r < rows ? src[r * g->a_row + p * g->a_col] : 0.0f;
  }
}

/* One task: a range of row blocks of the current NC columns of C against
   a range of column panels, over all of K. Its packing buffers are its
   thread's own; each element of C sums its K blocks in order, as on one
   thread. */
static void gemm_task(void *context, int64_t task, int32_t thread) {
  const gemm_t *g = (const gemm_t *)context;
  int64_t ic_task = task / g->jr_tasks, jr_task = task % g->jr_tasks;
  int64_t first_block = ic_task * g->ic_per_task;
  int64_t last_block = min64(g->ic_blocks, first_block + g->ic_per_task);
  int64_t first_panel = jr_task * g->panels_per_task;
  int64_t last_panel = min64(g->panels, first_panel + g->panels_per_task);
  float *pack_a = g->pack_a + thread * g->pack_a_stride;
  float *pack_b = g->pack_b + thread * g->pack_b_stride;
  for (int64_t pc = 0; pc < g->k; pc += KC) {
    int64_t kc = min64(KC, g->k - pc);
    for (int64_t panel = first_panel; panel < last_panel; ++panel)
      pack_b_panel(g, pc, kc, panel, pack_b + (panel - first_panel) * kc * NR);
    for (int64_t block = first_block; block < last_block; ++block) {
      int64_t i0 = block * g->mc, mc = min64(g->mc, g->m - i0);
      pack_a_block(g, i0, mc, pc, kc, pack_a);
      for (int64_t panel = first_panel; panel < last_panel; ++panel) {
        int64_t j0 = g->jc + panel * NR, nr = min64(NR, g->jc + g->nc - j0);
        const float *b = pack_b + (panel - first_panel) * kc * NR;
        for (int64_t q = 0; q * MR < mc; ++q) {
          int64_t i = i0 + q * MR;
          int64_t mr = min64(MR, mc - q * MR);
          micro_kernel(kc, pack_a + q * kc * MR, b,
                       g->c + i * g->c_row + j0 * g->c_col, g->c_row, g->c_col,
                       mr, nr, pc > 0);
          if (g->epilogue != NNCC_GEMM_PLAIN && pc + kc == g->k)
            apply_epilogue(g, i, j0, mr, nr);
        }
      }
    }
  }
}

/* C = A B with A m x k, B k x n, C m x n, of the given element offsets and
   strides, then with `epilogue` the bias (of its offset and strides, a
   stride 0 where it broadcasts) added and relu applied. pack_a and pack_b hold
   __nncc_max_threads() blocks of NNCC_GEMM_PACK_A_FLOATS(m, k) and
   NNCC_GEMM_PACK_B_FLOATS(k, n) floats (Gemm.h).
 */
void __nncc_sgemm(int64_t m, int64_t n, int64_t k, const float *a,
                  int64_t a_offset, int64_t a_row, int64_t a_col,
                  const float *b, int64_t b_offset, int64_t b_row,
                  int64_t b_col, float *c, int64_t c_offset, int64_t c_row,
                  int64_t c_col, const float *bias, int64_t bias_offset,
                  int64_t bias_row, int64_t bias_col, int64_t epilogue,
                  float *pack_a, float *pack_b) {
  if (m <= 0 || n <= 0)
    return;
  int32_t threads = __nncc_max_threads();
  gemm_t g = {.m = m,
              .n = n,
              .k = k,
              .a = a + a_offset,
              .a_row = a_row,
              .a_col = a_col,
              .b = b + b_offset,
              .b_row = b_row,
              .b_col = b_col,
              .c = c + c_offset,
              .c_row = c_row,
              .c_col = c_col,
              .epilogue = epilogue,
              .bias = bias + bias_offset,
              .bias_row = bias_row,
              .bias_col = bias_col,
              .pack_a = pack_a,
              .pack_a_stride = NNCC_GEMM_PACK_A_FLOATS(m, k),
              .pack_b = pack_b,
              .pack_b_stride = NNCC_GEMM_PACK_B_FLOATS(k, n)};
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        c[c_offset + i * c_row + j * c_col] = 0.0f;
    if (epilogue != NNCC_GEMM_PLAIN)
      apply_epilogue(&g, 0, 0, m, n);
    return;
  }
  /* Blocks of M as even as MR allows: 128 rows are 2 x 66, not 96 + 32. */
  g.ic_blocks = (m + MC - 1) / MC;
  g.mc = round_up((m + g.ic_blocks - 1) / g.ic_blocks, MR);
  for (g.jc = 0; g.jc < n; g.jc += NC) {
    g.nc = min64(NC, n - g.jc);
    g.panels = (g.nc + NR - 1) / NR;
    /* One task per thread: the column panels split when there are enough
       of them (no A block is then packed twice per task), else the row
       blocks, else both. */
    int64_t jr_tasks = min64(threads, g.panels);
    int64_t ic_tasks = min64((threads + jr_tasks - 1) / jr_tasks, g.ic_blocks);
    g.panels_per_task = (g.panels + jr_tasks - 1) / jr_tasks;
    g.jr_tasks = (g.panels + g.panels_per_task - 1) / g.panels_per_task;
    g.ic_per_task = (g.ic_blocks + ic_tasks - 1) / ic_tasks;
    g.ic_tasks = (g.ic_blocks + g.ic_per_task - 1) / g.ic_per_task;
    __nncc_parallel_for(g.ic_tasks * g.jr_tasks, gemm_task, &g);
  }
}
