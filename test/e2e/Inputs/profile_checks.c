/* A library compiled with --profile (prefix "prof") against the same model
 * compiled without (prefix "plain"): the same steps give bit for bit the
 * same loss and parameters; the timers name every kind, count the kernels
 * of the kinds the model has, sum to no more than the steps' wall time,
 * reject bad arguments and reset to zero. */
#define _POSIX_C_SOURCE 200809L
#include "plain.h"
#include "prof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STEPS 5

static void fill(float *data, int64_t n, uint64_t seed) {
  for (int64_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = (float)(seed >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float x[PROF_BATCH_SIZE * 64], y[PROF_BATCH_SIZE * 3];
static float plain_params[1024], prof_params[1024];

int main(void) {
  fill(x, PROF_BATCH_SIZE * 64, 1);
  fill(y, PROF_BATCH_SIZE * 3, 2);
  const void *in[] = {x}, *tg[] = {y};
  plain_model *a = plain_create();
  prof_model *b = prof_create();
  if (!a || !b)
    return 1;
  float loss_a = 0, loss_b = 0;
  int same = 1;
  double start = now();
  for (int i = 0; i < STEPS; ++i) {
    if (plain_train_step(a, in, tg, &loss_a) != PLAIN_OK ||
        prof_train_step(b, in, tg, &loss_b) != PROF_OK)
      return 1;
    same &= memcmp(&loss_a, &loss_b, sizeof loss_a) == 0;
  }
  double wall = now() - start;
  float *at_a = plain_params, *at_b = prof_params;
  for (int32_t p = 0; p < prof_num_params(); ++p) {
    int64_t n = prof_param_info(p)->numel;
    plain_get_param(a, p, at_a, n);
    prof_get_param(b, p, at_b, n);
    at_a += n;
    at_b += n;
  }
  same &= memcmp(plain_params, prof_params,
                 (size_t)(at_a - plain_params) * sizeof(float)) == 0;
  printf("same as without --profile: %s\n", same ? "yes" : "no");

  double total = 0;
  printf("kinds %d:", (int)prof_profile_num_kinds());
  for (int32_t k = 0; k < prof_profile_num_kinds(); ++k)
    printf(" %s", prof_profile_kind(k));
  printf("\n");
  for (int32_t k = 0; k < prof_profile_num_kinds(); ++k) {
    double seconds;
    int64_t calls;
    if (prof_profile_read(k, &seconds, &calls) != PROF_OK || seconds < 0)
      return 1;
    total += seconds;
    /* Kernels per step: those of a kind are fixed by the model. */
    printf("%s: %s\n", prof_profile_kind(k),
           calls == 0      ? "none"
           : calls % STEPS ? "uneven"
                           : "timed");
  }
  printf("within the wall time: %s\n",
         total > 0 && total <= wall ? "yes" : "no");

  double seconds;
  int64_t calls;
  printf("kind -1: %s\n", prof_profile_kind(-1) ? "named" : "NULL");
  printf("read -1: %s\n",
         prof_strerror(prof_profile_read(-1, &seconds, &calls)));
  printf("read past the end: %s\n",
         prof_strerror(
             prof_profile_read(prof_profile_num_kinds(), &seconds, &calls)));
  printf("read to NULL: %s\n",
         prof_strerror(prof_profile_read(0, NULL, &calls)));
  prof_profile_reset();
  int zero = 1;
  for (int32_t k = 0; k < prof_profile_num_kinds(); ++k)
    zero &= prof_profile_read(k, &seconds, &calls) == PROF_OK && seconds == 0 &&
            calls == 0;
  printf("reset: %s\n", zero ? "zero" : "not zero");
  /* The forward pass is timed too. */
  float out[PROF_BATCH_SIZE * 3];
  void *outs[] = {out};
  if (prof_forward(b, in, outs) != PROF_OK)
    return 1;
  prof_profile_read(1, &seconds, &calls);
  printf("forward's gemm kernels: %lld\n", (long long)calls);
  plain_destroy(a);
  prof_destroy(b);
  return 0;
}
