/* The two ends of nncc-export's round trip, for any model (MODEL_HEADER,
 * prefix nncc):
 *   export_roundtrip train CKPT OUT   trains 5 steps on generated data, saves
 *                                     CKPT, writes forward's outputs to OUT
 *   export_roundtrip forward OUT      writes forward's outputs to OUT
 * Both run forward on the same generated batch, so a library compiled from
 * the exported model must write the bytes the trained one wrote.
 */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 88172645463325252ull;
static double next_uniform(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return (double)(state >> 11) / 9007199254740992.0;
}

/* A tensor of `info`'s shape: floats in [-1, 1), integers in [0, classes). */
static void *make(const nncc_tensor_info *info, int64_t classes) {
  size_t size = info->dtype == NNCC_INT64 ? 8 : 4;
  unsigned char *data = malloc((size_t)info->numel * size);
  for (int64_t i = 0; i < info->numel; ++i) {
    double u = next_uniform();
    if (info->dtype == NNCC_FLOAT)
      ((float *)data)[i] = (float)(2 * u - 1);
    else if (info->dtype == NNCC_INT64)
      ((int64_t *)data)[i] = (int64_t)(u * (double)classes);
    else
      ((int32_t *)data)[i] = (int32_t)(u * (double)classes);
  }
  return data;
}

static int fail(const char *what, int rc) {
  fprintf(stderr, "%s: %s\n", what, nncc_strerror(rc));
  return 1;
}

static int write_forward(nncc_model *m, const char *path) {
  state = 1234567; /* the same batch in both programs */
  void *inputs[8], *outputs[8];
  for (int32_t i = 0; i < nncc_num_inputs(); ++i)
    inputs[i] = make(nncc_input_info(i), 3);
  for (int32_t i = 0; i < nncc_num_outputs(); ++i)
    outputs[i] = malloc((size_t)nncc_output_info(i)->numel * 4);
  int rc = nncc_forward(m, (const void *const *)inputs, outputs);
  if (rc != 0)
    return fail("forward", rc);
  FILE *f = fopen(path, "wb");
  if (!f)
    return 1;
  for (int32_t i = 0; i < nncc_num_outputs(); ++i)
    fwrite(outputs[i], 4, (size_t)nncc_output_info(i)->numel, f);
  return fclose(f) != 0;
}

int main(int argc, char **argv) {
  nncc_model *m = nncc_create();
  if (!m)
    return 1;
  if (argc == 4 && strcmp(argv[1], "train") == 0) {
    for (int step = 0; step < 5; ++step) {
      void *inputs[8], *targets[8];
      for (int32_t i = 0; i < nncc_num_inputs(); ++i)
        inputs[i] = make(nncc_input_info(i), 3);
      for (int32_t i = 0; i < nncc_num_targets(); ++i)
        targets[i] = make(nncc_target_info(i), 3);
      float loss;
      int rc = nncc_train_step(m, (const void *const *)inputs,
                               (const void *const *)targets, &loss);
      if (rc != 0)
        return fail("train step", rc);
      printf("step %d loss %.6f\n", step, loss);
    }
    int rc = nncc_save(m, argv[2]);
    if (rc != 0)
      return fail("save", rc);
    return write_forward(m, argv[3]);
  }
  if (argc == 3 && strcmp(argv[1], "forward") == 0)
    return write_forward(m, argv[2]);
  fprintf(stderr, "usage: %s train CKPT OUT | forward OUT\n", argv[0]);
  return 1;
}
