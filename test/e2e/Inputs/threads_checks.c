/* A library compiled with --threads=2 (prefix "two") against the same model
 * compiled for one thread (prefix "one"): the same steps give bit for bit
 * the same parameters, also when two models train at once on two threads
 * of the program (one of them then finds the pool busy and runs alone), and
 * after the last model is destroyed and the pool starts again. */
#define _POSIX_C_SOURCE 200809L
#include "one.h"
#include "two.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 8

static float *inputs, *targets;

static void fill(float *data, int64_t n, uint64_t seed) {
  for (int64_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    data[i] = (float)(seed >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
  }
}

/* train_one and train_two: train a model of library "one" or "two" for
   STEPS steps and write all its parameters, concatenated, to `result` (a
   pthread start routine). */
#define DEFINE_TRAIN(prefix, ok)                                               \
  static void *train_##prefix(void *result) {                                  \
    const void *in[] = {inputs}, *tg[] = {targets};                            \
    prefix##_model *m = prefix##_create();                                     \
    float loss;                                                                \
    for (int i = 0; i < STEPS; ++i)                                            \
      if (!m || prefix##_train_step(m, in, tg, &loss) != ok)                   \
        exit(1);                                                               \
    float *at = result;                                                        \
    for (int32_t p = 0; p < prefix##_num_params(); ++p) {                      \
      prefix##_get_param(m, p, at, prefix##_param_info(p)->numel);             \
      at += prefix##_param_info(p)->numel;                                     \
    }                                                                          \
    prefix##_destroy(m);                                                       \
    return NULL;                                                               \
  }
DEFINE_TRAIN(one, ONE_OK)
DEFINE_TRAIN(two, TWO_OK)

int main(void) {
  int64_t total = 0;
  for (int32_t p = 0; p < one_num_params(); ++p)
    total += one_param_info(p)->numel;
  size_t bytes = (size_t)total * sizeof(float);
  inputs = malloc((size_t)one_input_info(0)->numel * sizeof(float));
  targets = malloc((size_t)one_target_info(0)->numel * sizeof(float));
  fill(inputs, one_input_info(0)->numel, 1);
  fill(targets, one_target_info(0)->numel, 2);

  float *reference = malloc(bytes), *alone = malloc(bytes),
        *first = malloc(bytes), *second = malloc(bytes);
  train_one(reference);
  train_two(alone);
  printf("params: %lld\n", (long long)total);
  printf("two threads identical to one: %s\n",
         memcmp(reference, alone, bytes) == 0 ? "yes" : "no");

  pthread_t a, b;
  pthread_create(&a, NULL, train_two, first);
  pthread_create(&b, NULL, train_two, second);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  printf("two models at once identical: %s\n",
         memcmp(reference, first, bytes) == 0 &&
                 memcmp(reference, second, bytes) == 0
             ? "yes"
             : "no");

  /* Every model is gone, so the pool stopped; a new model starts it. */
  memset(alone, 0, bytes);
  train_two(alone);
  printf("after a restart identical: %s\n",
         memcmp(reference, alone, bytes) == 0 ? "yes" : "no");
  return 0;
}
