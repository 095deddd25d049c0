/*===- nncc_gemm_kernels.h - GEMM code for one vector width ----*- C -*-===*
 *
 * Included by nncc_gemm.c once per vector width, with VW defined as the
 * floats of one vector: 8 (AVX2's 256-bit registers) or 16 (AVX-512's
 * 512-bit ones). A micro-tile is MR rows by NR = 2 VW columns, held in
 * 2 MR vector accumulators. Defines gemm_run_<VW>(g); everything else is
 * static and suffixed by the width.
 *
 *===------------------------------------------------------------------===*/

#define NNCC_CAT_(a, b) a##b
#define NNCC_CAT(a, b) NNCC_CAT_(a, b)
#define W(name) NNCC_CAT(name, VW)
#define NR (2 * VW)

typedef float W(vf) __attribute__((vector_size(VW * sizeof(float))));

static inline W(vf) W(load)(const float *p) {
  W(vf) v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

static inline void W(store)(float *p, W(vf) v) {
  __builtin_memcpy(p, &v, sizeof v);
}

static inline W(vf) W(splat)(float x) {
  W(vf) v;
  for (int i = 0; i < VW; ++i)
    v[i] = x;
  return v;
}

/* MR x NR tile: C = (accumulate ? C : 0) + a_panel * B over kc, where B's
   row p is b + p * NR (a packed panel) or, with `rows`, two halves of VW
   at b + rows[p] and b + rows[p] + half (read in place). */
static inline __attribute__((always_inline)) void
W(tile_kernel)(int64_t kc, const float *restrict a, const float *restrict b,
               const int64_t *restrict rows, int64_t half, float *restrict c,
               int64_t c_row, int64_t c_col, int64_t mr, int64_t nr,
               int accumulate) {
  W(vf) acc[MR][2];
  for (int r = 0; r < MR; ++r)
    acc[r][0] = acc[r][1] = W(splat)(0.0f);
  for (int64_t p = 0; p < kc; ++p) {
    const float *row = rows ? b + rows[p] : b + p * NR;
    W(vf) b0 = W(load)(row), b1 = W(load)(row + (rows ? half : VW));
    for (int r = 0; r < MR; ++r) {
      W(vf) ar = W(splat)(a[p * MR + r]);
      acc[r][0] = __builtin_elementwise_fma(ar, b0, acc[r][0]);
      acc[r][1] = __builtin_elementwise_fma(ar, b1, acc[r][1]);
    }
  }
  if (mr == MR && nr == NR && c_col == 1) {
    for (int r = 0; r < MR; ++r) {
      float *row = c + r * c_row;
      if (accumulate) {
        W(store)(row, W(load)(row) + acc[r][0]);
        W(store)(row + VW, W(load)(row + VW) + acc[r][1]);
      } else {
        W(store)(row, acc[r][0]);
        W(store)(row + VW, acc[r][1]);
      }
    }
    return;
  }
  float tile[MR][NR];
  for (int r = 0; r < MR; ++r) {
    W(store)(tile[r], acc[r][0]);
    W(store)(tile[r] + VW, acc[r][1]);
  }
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; ++j) {
      float *out = c + r * c_row + j * c_col;
      *out = accumulate ? *out + tile[r][j] : tile[r][j];
    }
}

static void W(micro_kernel)(int64_t kc, const float *restrict a,
                            const float *restrict b, float *restrict c,
                            int64_t c_row, int64_t c_col, int64_t mr,
                            int64_t nr, int accumulate) {
  W(tile_kernel)(kc, a, b, 0, 0, c, c_row, c_col, mr, nr, accumulate);
}

static void W(micro_kernel_in_place)(int64_t kc, const float *restrict a,
                                     const float *restrict b,
                                     const int64_t *restrict rows,
                                     int64_t half, float *restrict c,
                                     int64_t c_row, int64_t c_col, int64_t mr,
                                     int accumulate) {
  W(tile_kernel)(kc, a, b, rows, half, c, c_row, c_col, mr, NR, accumulate);
}

/* Whether panel `panel` of a compound B can be read in place: its NR
   columns are two runs of VW contiguous elements (an output row of a
   stride-1 convolution, or two), at *start and *start + *half from a row's
   offset. */
static int W(panel_in_place)(const gemm_t *g, int64_t panel, int64_t *start,
                             int64_t *half) {
  int64_t j0 = g->jc + panel * NR;
  if (!g->b_compound || j0 + NR > g->jc + g->nc)
    return 0;
  int64_t cols[NR];
  compound_offsets(j0, NR, g->b_col, &g->b_n, cols);
  for (int64_t j = 0; j < NR; ++j)
    if (cols[j] != cols[j < VW ? 0 : VW] + j % VW)
      return 0;
  *start = cols[0];
  *half = cols[VW] - cols[0];
  return 1;
}

/* Packs NR-wide panel `panel` of rows [pc, pc + kc) of the current NC
   columns of B into `dst`, zero padded: dst[p * NR + j] = B(pc + p,
   j0 + j). A compound B's `rows` are the offsets of those rows. */
static void W(pack_b_panel)(const gemm_t *g, int64_t pc, int64_t kc,
                            const int64_t *rows, int64_t panel, float *dst) {
  int64_t j0 = g->jc + panel * NR, nr = min64(NR, g->jc + g->nc - j0);
  if (g->b_compound) {
    pack_b_compound(g->b, rows, g->b_col, &g->b_n, kc, j0, nr, NR, dst);
    return;
  }
  const float *src = g->b + pc * g->b_row + j0 * g->b_col;
  if (g->b_col == 1 && nr == NR) {
    for (int64_t p = 0; p < kc; ++p) {
      W(store)(dst + p * NR, W(load)(src + p * g->b_row));
      W(store)(dst + p * NR + VW, W(load)(src + p * g->b_row + VW));
    }
    return;
  }
  if (g->b_row == 1) {
    /* B transposed: each panel column is contiguous. */
    pack_b_transposed(src, g->b_col, kc, nr, NR, dst);
    return;
  }
  for (int64_t j = 0; j < NR; ++j)
    for (int64_t p = 0; p < kc; ++p)
      dst[p * NR + j] = j < nr ? src[p * g->b_row + j * g->b_col] : 0.0f;
}

/* One task: a range of row blocks of the current NC columns of C against
   a range of column panels, over all of K. Its packing buffers are its
   thread's own; each element of C sums its K blocks in order, as on one
   thread. */
static void W(gemm_task)(void *context, int64_t task, int32_t thread) {
  const gemm_t *g = (const gemm_t *)context;
  int64_t ic_task = task / g->jr_tasks, jr_task = task % g->jr_tasks;
  int64_t first_block = ic_task * g->ic_per_task;
  int64_t last_block = min64(g->ic_blocks, first_block + g->ic_per_task);
  int64_t first_panel = jr_task * g->panels_per_task;
  int64_t last_panel = min64(g->panels, first_panel + g->panels_per_task);
  float *pack_a = g->pack_a + thread * g->pack_a_stride;
  float *pack_b = g->pack_b + thread * g->pack_b_stride;
  /* One block of rows (a convolution's few filters): each panel of B is
     used once, so it is packed right before its micro-kernels run, while
     it is in L1, rather than all panels first and each reread from L2. */
  int single_block = last_block - first_block == 1;
  /* And with a compound B, panels whose columns are two contiguous runs
     are not packed at all: the micro-kernel reads their rows where they
     are (an image's rows, in L2), through the rows' offsets, which a
     compound B computes once per block of K. */
  int64_t rows[KC];
  for (int64_t pc = 0; pc < g->k; pc += KC) {
    int64_t kc = min64(KC, g->k - pc);
    if (g->b_compound)
      compound_offsets(pc, kc, g->b_row, &g->b_k, rows);
    for (int64_t panel = first_panel; panel < last_panel && !single_block;
         ++panel)
      W(pack_b_panel)
      (g, pc, kc, rows, panel, pack_b + (panel - first_panel) * kc * NR);
    for (int64_t block = first_block; block < last_block; ++block) {
      int64_t i0 = block * g->mc, mc = min64(g->mc, g->m - i0);
      const float *a = pack_a;
      if (g->packed_a)
        a = g->packed_a + pc * round_up(g->m, MR) + i0 * kc;
      else
        pack_a_block(g, i0, mc, pc, kc, pack_a);
      for (int64_t panel = first_panel; panel < last_panel; ++panel) {
        int64_t j0 = g->jc + panel * NR, nr = min64(NR, g->jc + g->nc - j0);
        const float *b = pack_b;
        const int64_t *b_rows = 0;
        int64_t start, half = 0;
        if (single_block && W(panel_in_place)(g, panel, &start, &half)) {
          b = g->b + start;
          b_rows = rows;
        } else if (single_block) {
          W(pack_b_panel)(g, pc, kc, rows, panel, pack_b);
        } else {
          b += (panel - first_panel) * kc * NR;
        }
        for (int64_t q = 0; q * MR < mc; ++q) {
          int64_t i = i0 + q * MR;
          int64_t mr = min64(MR, mc - q * MR);
          float *c = g->c + i * g->c_row + j0 * g->c_col;
          if (b_rows)
            W(micro_kernel_in_place)
            (kc, a + q * kc * MR, b, b_rows, half, c, g->c_row, g->c_col, mr,
             pc > 0);
          else
            W(micro_kernel)
            (kc, a + q * kc * MR, b, c, g->c_row, g->c_col, mr, nr, pc > 0);
          if (g->epilogue != NNCC_GEMM_PLAIN && pc + kc == g->k)
            apply_epilogue(g, i, j0, mr, nr);
        }
      }
      if (g->tile && pc + kc == g->k && first_panel < last_panel) {
        int64_t j0 = g->jc + first_panel * NR;
        int64_t j1 = min64(g->jc + last_panel * NR, g->jc + g->nc);
        g->tile(g->tile_context, g->matrix, i0, j0, mc, j1 - j0);
      }
    }
  }
}

/* The product of `g` (k > 0), NC columns at a time. On `threads` threads,
   each block of columns is split into one task per thread: a tall product
   (m >= threads * n) splits its row blocks, each task packing its own
   blocks of A, while they are in its cache, and all of the smaller B (a
   shared packed A crossed between the cores); others split the column
   panels when there are enough of them, sharing A packed once, else the
   row blocks, else both. On one, the calling thread, `thread`, runs it all
   with its own packing buffers. */
static void W(gemm_run)(gemm_t *g, int32_t threads, int32_t thread) {
  int by_rows =
      threads > 1 && g->ic_blocks >= threads && g->m >= threads * g->n;
  g->packed_a = 0;
  if (threads > 1 && g->n > NR && !by_rows)
    pack_a_shared(g);
  for (g->jc = 0; g->jc < g->n; g->jc += NC) {
    g->nc = min64(NC, g->n - g->jc);
    g->panels = (g->nc + NR - 1) / NR;
    int64_t jr_tasks = by_rows ? 1 : min64(threads, g->panels);
    int64_t ic_tasks =
        min64((threads + jr_tasks - 1) / jr_tasks, g->ic_blocks);
    g->panels_per_task = (g->panels + jr_tasks - 1) / jr_tasks;
    g->jr_tasks = (g->panels + g->panels_per_task - 1) / g->panels_per_task;
    g->ic_per_task = (g->ic_blocks + ic_tasks - 1) / ic_tasks;
    g->ic_tasks = (g->ic_blocks + g->ic_per_task - 1) / g->ic_per_task;
    if (threads == 1)
      W(gemm_task)(g, 0, thread);
    else
      __nncc_parallel_for(g->ic_tasks * g->jr_tasks, W(gemm_task), g);
  }
}

#undef NR
#undef W
#undef NNCC_CAT
#undef NNCC_CAT_
