/* Times nncc_train_step of a library compiled by nncc on one fixed batch:
 * the C side of bench/train_speed.py.
 *
 *   cc -DMODEL_HEADER='"model.h"' train_step.c model.so -o train_step
 *   ./train_step DATA_DIR WARMUP STEPS
 *
 * DATA_DIR holds input0.bin, input1.bin, ... and target0.bin, ...: each the
 * raw little-endian tensor of one batch, as the header's info describes it.
 * Prints the milliseconds per step (best of three runs of STEPS steps) and
 * the loss of the last step; for a library compiled with --profile, then
 * also, over STEPS more steps, their milliseconds per step and each kernel
 * kind's milliseconds and kernels per step.
 */
#define _POSIX_C_SOURCE 199309L
#include MODEL_HEADER
#include "step_data.h"


int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s DATA_DIR WARMUP STEPS\n", argv[0]);
    return 1;
  }
  const char *dir = argv[1];
  int warmup = atoi(argv[2]), steps = atoi(argv[3]);
  const void *inputs[16], *targets[16];
  if (!load_batch(dir, inputs, targets))
    return 1;
  nncc_model *m = nncc_create();
  if (!m) {
    fprintf(stderr, "nncc_create failed\n");
    return 1;
  }
  float loss = 0;
  int rc = 0;
  for (int i = 0; i < warmup && rc == 0; ++i)
    rc = nncc_train_step(m, inputs, targets, &loss);
  double best = 1e30;
  for (int run = 0; run < 3 && rc == 0; ++run) {
    double start = now();
    for (int i = 0; i < steps && rc == 0; ++i)
      rc = nncc_train_step(m, inputs, targets, &loss);
    double ms = (now() - start) * 1e3 / steps;
    best = ms < best ? ms : best;
  }
  if (rc != 0) {
    fprintf(stderr, "nncc_train_step: %s\n", nncc_strerror(rc));
    return 1;
  }
  printf("ms_per_step %.6f\nloss %.6f\n", best, loss);
#ifdef NNCC_PROFILE
  nncc_profile_reset();
  double start = now();
  for (int i = 0; i < steps && rc == 0; ++i)
    rc = nncc_train_step(m, inputs, targets, &loss);
  printf("profiled_ms_per_step %.6f\n", (now() - start) * 1e3 / steps);
  for (int32_t k = 0; k < nncc_profile_num_kinds(); ++k) {
    double seconds;
    int64_t calls;
    if (nncc_profile_read(k, &seconds, &calls) == NNCC_OK)
      printf("kind %s %.6f %.1f\n", nncc_profile_kind(k), seconds * 1e3 / steps,
             (double)calls / steps);
  }
#endif
  nncc_destroy(m);
  return 0;
}
