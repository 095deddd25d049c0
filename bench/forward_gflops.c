/* Times nncc_forward of a one-input, one-output float library compiled by
 * nncc and prints its GFLOP/s for FLOPS floating-point operations per call:
 * the matmul measurement of bench/train_speed.py.
 *
 *   cc -DMODEL_HEADER='"matmul.h"' -DFLOPS=268435456 forward_gflops.c \
 *      matmul.so -o forward_gflops
 */
#define _POSIX_C_SOURCE 199309L
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  int64_t in = nncc_input_info(0)->numel, out = nncc_output_info(0)->numel;
  float *x = malloc((size_t)in * sizeof(float));
  float *y = malloc((size_t)out * sizeof(float));
  nncc_model *m = nncc_create();
  if (!x || !y || !m)
    return 1;
  for (int64_t i = 0; i < in; ++i)
    x[i] = (float)(i % 17) / 17.0f;
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  double best = 1e30;
  for (int run = 0; run < 5; ++run) {
    const int calls = 10;
    double start = now();
    for (int i = 0; i < calls; ++i)
      if (nncc_forward(m, inputs, outputs) != 0)
        return 1;
    double seconds = (now() - start) / calls;
    best = seconds < best ? seconds : best;
  }
  printf("seconds %.6f\ngflops %.3f\n", best, (double)FLOPS / best / 1e9);
  nncc_destroy(m);
  return 0;
}
