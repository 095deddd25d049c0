/* Trains a library compiled by nncc on random data and prints the process's
 * peak resident memory: the C side of bench/memory.py.
 *
 *   cc -DMODEL_HEADER='"model.h"' train_rss.c model.so -o train_rss
 *   ./train_rss SAMPLES EPOCHS
 *
 * Float inputs are uniform in [-1, 1]; int64 inputs are token ids and int64
 * targets class ids, in [0, C) for the C classes on the first output's last
 * axis.
 */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static void *random_data(const nncc_tensor_info *info, int64_t samples) {
  int64_t n = info->numel / nncc_batch_size() * samples;
  const nncc_tensor_info *out = nncc_output_info(0);
  int64_t classes = out->shape[out->rank - 1];
  if (info->dtype == NNCC_INT64) {
    int64_t *data = malloc((size_t)n * sizeof(int64_t));
    for (int64_t i = 0; data && i < n; ++i)
      data[i] = (int64_t)(next() % (uint64_t)classes);
    return data;
  }
  float *data = malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; data && i < n; ++i)
    data[i] = (float)(next() >> 40) / (float)(1 << 23) - 1.0f;
  return data;
}

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)user;
  (void)step;
  printf("epoch %lld loss %.4f\n", (long long)epoch + 1, loss);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s SAMPLES EPOCHS\n", argv[0]);
    return 1;
  }
  int64_t samples = atoll(argv[1]), epochs = atoll(argv[2]);
  const void *inputs[16], *targets[16];
  for (int32_t i = 0; i < nncc_num_inputs(); ++i)
    inputs[i] = random_data(nncc_input_info(i), samples);
  for (int32_t i = 0; i < nncc_num_targets(); ++i)
    targets[i] = random_data(nncc_target_info(i), samples);
  nncc_model *m = nncc_create();
  nncc_train_options options = {1, 1, 0};
  int rc = nncc_train(m, inputs, targets, samples, epochs, &options, report,
                      NULL);
  if (rc != 0) {
    fprintf(stderr, "nncc_train: %s\n", nncc_strerror(rc));
    return 1;
  }
  nncc_destroy(m);
  /* VmHWM, not getrusage's ru_maxrss, which keeps the peak of the process
     that started this one (a Python interpreter with torch loaded). */
  FILE *status = fopen("/proc/self/status", "r");
  char line[256];
  while (status && fgets(line, sizeof line, status))
    if (strncmp(line, "VmHWM:", 6) == 0)
      printf("peak_rss_kib %ld\n", atol(line + 6));
  if (status)
    fclose(status);
  return 0;
}
