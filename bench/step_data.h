/* What the C drivers of the benchmarks share: one batch of a library's
 * inputs and targets read from DATA_DIR (input0.bin, ..., target0.bin,
 * ...: each the raw little-endian tensor the header's info describes), and
 * a monotonic clock. Include after the library's header (MODEL_HEADER). */
#ifndef NNCC_BENCH_STEP_DATA_H
#define NNCC_BENCH_STEP_DATA_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *load_tensor(const char *dir, const char *kind, int32_t i,
                         const nncc_tensor_info *info) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s%d.bin", dir, kind, (int)i);
  size_t bytes = (size_t)info->numel * (info->dtype == NNCC_INT64 ? 8 : 4);
  void *data = malloc(bytes);
  FILE *f = fopen(path, "rb");
  if (!data || !f || fread(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "cannot read %zu bytes from %s\n", bytes, path);
    free(data);
    if (f)
      fclose(f);
    return NULL;
  }
  fclose(f);
  return data;
}

/* Fills inputs[] and targets[] (16 entries each); 0 when a file is
   missing or short. */
static int load_batch(const char *dir, const void **inputs,
                      const void **targets) {
  if (nncc_num_inputs() > 16 || nncc_num_targets() > 16)
    return 0;
  for (int32_t i = 0; i < nncc_num_inputs(); ++i)
    if (!(inputs[i] = load_tensor(dir, "input", i, nncc_input_info(i))))
      return 0;
  for (int32_t i = 0; i < nncc_num_targets(); ++i)
    if (!(targets[i] = load_tensor(dir, "target", i, nncc_target_info(i))))
      return 0;
  return 1;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif /* NNCC_BENCH_STEP_DATA_H */
