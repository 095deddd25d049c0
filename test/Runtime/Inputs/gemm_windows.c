/* The runtime's GEMM with B given as the windows of an image (compound
   dimensions, as nn-lower-matmul-calls passes a convolution's im2col that
   it does not copy) against the same GEMM on the windows copied out: the
   results must be equal bit for bit (each element of C sums its products
   in the same order), for every way the runtime packs or reads B: columns
   in runs of 16, 8 and 4 and in two runs read in place, strided columns
   gathered, and the transposed windows of a weight gradient in runs of
   rows of 16, 8 and 4 or gathered; one block of rows or several, one
   block of K or several, one thread or two. Built with FLOATS = 8 or 16,
   the width of the micro-kernel. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncc/Runtime/Gemm.h"

typedef void (*nncc_task_fn)(void *context, int64_t task, int32_t thread);
typedef void (*nncc_tile_fn)(void *, int64_t, int64_t, int64_t, int64_t,
                             int64_t);

const int32_t __nncc_gemm_vector_floats = FLOATS;
static int32_t threads = 1;
int32_t __nncc_max_threads(void) { return threads; }
void __nncc_parallel_for(int64_t count, nncc_task_fn fn, void *context) {
  for (int64_t task = 0; task < count; ++task)
    fn(context, task, (int32_t)(task % threads));
}

static float *floats(int64_t count) {
  float *p = calloc((size_t)count, sizeof(float));
  if (!p)
    abort();
  return p;
}

/* Whether `count` floats of the two results differ, said so if they do. */
static int differs(const char *what, const float *plain, const float *windows,
                   int64_t count) {
  if (!memcmp(plain, windows, sizeof(float) * count))
    return 0;
  printf("%s differs\n", what);
  return 1;
}

/* x: n images of c channels, h x w (already padded); the windows of a
   kh x kw kernel at stride s. Returns the number of mismatching cases. */
static int check(int64_t n, int64_t c, int64_t h, int64_t w, int64_t kh,
                 int64_t kw, int64_t s, int64_t f) {
  int64_t oh = (h - kh) / s + 1, ow = (w - kw) / s + 1, p = oh * ow;
  int64_t ck = c * kh * kw, image = c * h * w;
  float *x = floats(n * image), *cols = floats(n * ck * p);
  float *wt = floats(f * ck), *dy = floats(n * f * p);
  for (int64_t i = 0; i < n * image; ++i)
    x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  for (int64_t i = 0; i < f * ck; ++i)
    wt[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  for (int64_t i = 0; i < n * f * p; ++i)
    dy[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  /* cols[b][(ci, i, j)][(y, z)] = x[b][ci][y s + i][z s + j] */
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t i = 0; i < kh; ++i)
        for (int64_t j = 0; j < kw; ++j)
          for (int64_t y = 0; y < oh; ++y)
            for (int64_t z = 0; z < ow; ++z)
              cols[(b * ck + (ci * kh + i) * kw + j) * p + y * ow + z] =
                  x[b * image + (ci * h + y * s + i) * w + z * s + j];
  /* Packing buffers for two threads of the largest blocks, or all of A. */
  int64_t big = f > ck ? f : ck, deep = ck > p ? ck : p;
  float *pack_a = floats(2 * NNCC_GEMM_MC * NNCC_GEMM_KC +
                         NNCC_GEMM_ROUND_UP(big, NNCC_GEMM_MR) * deep);
  float *pack_b = floats(2 * NNCC_GEMM_KC * NNCC_GEMM_NC);
  int failures = 0;

  /* Forward: y[b] (f x p) = wt (f x ck) cols[b] (ck x p). */
  float *plain = floats(n * f * p), *windows = floats(n * f * p);
  __nncc_sgemm(f, p, ck, n, wt, 0, ck, 1, 0, cols, 0, p, 1, ck * p, plain, 0,
               p, 1, f * p, plain, 0, 0, 0, 0, plain, 0, 0, 0, 0,
               NNCC_GEMM_PLAIN, pack_a, pack_b, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0,
               1, 0);
  __nncc_sgemm(f, p, ck, n, wt, 0, ck, 1, 0, x, 0, h * w, w * s, image,
               windows, 0, p, 1, f * p, windows, 0, 0, 0, 0, windows, 0, 0, 0,
               0, NNCC_GEMM_PLAIN, pack_a, pack_b, 1, 0, kh, w, kw, 1, 1, 0, 1,
               0, ow, s);
  failures += differs("forward", plain, windows, n * f * p);

  /* Weight gradient: dw[b] (f x ck) = dy[b] (f x p) cols[b]^T (p x ck). */
  float *dplain = floats(n * f * ck), *dwindows = floats(n * f * ck);
  __nncc_sgemm(f, ck, p, n, dy, 0, p, 1, f * p, cols, 0, 1, p, ck * p, dplain,
               0, ck, 1, f * ck, dplain, 0, 0, 0, 0, dplain, 0, 0, 0, 0,
               NNCC_GEMM_PLAIN, pack_a, pack_b, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0,
               1, 0);
  __nncc_sgemm(f, ck, p, n, dy, 0, p, 1, f * p, x, 0, w * s, h * w, image,
               dwindows, 0, ck, 1, f * ck, dwindows, 0, 0, 0, 0, dwindows, 0, 0,
               0, 0, NNCC_GEMM_PLAIN, pack_a, pack_b, 1, 0, 1, 0, ow, s, 1, 0,
               kh, w, kw, 1);
  failures += differs("weight gradient", dplain, dwindows, n * f * ck);
  if (failures)
    printf("  in: n %lld c %lld %lldx%lld kernel %lldx%lld stride %lld f %lld "
           "threads %d\n",
           (long long)n, (long long)c, (long long)h, (long long)w,
           (long long)kh, (long long)kw, (long long)s, (long long)f, threads);
  free(x), free(cols), free(wt), free(dy), free(pack_a), free(pack_b);
  free(plain), free(windows), free(dplain), free(dwindows);
  return failures;
}

int main(void) {
  int failures = 0, cases = 0;
  for (threads = 1; threads <= 2; ++threads) {
    /* Output rows of 32 and 16 (two runs in place), 24 and 8 (runs of 8),
       12 (runs of 4), 7 (gathered); stride 2 (gathered). */
    static const int64_t shapes[][8] = {
        {2, 16, 34, 34, 3, 3, 1, 16}, {2, 16, 18, 18, 3, 3, 1, 32},
        {2, 1, 28, 28, 5, 5, 1, 16},  {2, 16, 12, 12, 5, 5, 1, 32},
        {2, 3, 14, 14, 3, 3, 1, 8},   {3, 2, 9, 9, 3, 3, 1, 5},
        {2, 16, 34, 34, 3, 3, 2, 32}, {2, 8, 17, 17, 1, 1, 2, 16},
        /* Several blocks of rows (f > 96), of K (ck > 256) and of N. */
        {1, 32, 18, 18, 3, 3, 1, 100}, {1, 3, 70, 70, 3, 3, 1, 8},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i, ++cases) {
      const int64_t *sh = shapes[i];
      failures += check(sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], sh[6], sh[7]);
    }
  }
  printf("%d of %d window products equal to the copied windows' (%d-float "
         "kernel)\n",
         cases - failures, cases, FLOATS);
  return failures != 0;
}
