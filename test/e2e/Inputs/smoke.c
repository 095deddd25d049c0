/* Runs any nncc library once: inputs filled with 0.1, 0.2, ..., targets with
 * 0; one training step, then forward. Prints the loss and every output. */
#include MODEL_HEADER

#include <stdio.h>
#include <stdlib.h>

static void *filled(const nncc_tensor_info *info, float scale) {
  float *data = calloc((size_t)info->numel, sizeof(float));
  for (int64_t i = 0; i < info->numel; ++i)
    data[i] = scale * (float)(i + 1) / 10.0f;
  return data;
}

int main(void) {
  const void *in[16], *tg[16];
  void *out[16];
  for (int32_t i = 0; i < nncc_num_inputs(); ++i)
    in[i] = filled(nncc_input_info(i), 1.0f);
  for (int32_t i = 0; i < nncc_num_targets(); ++i)
    tg[i] = filled(nncc_target_info(i), 0.0f);
  for (int32_t i = 0; i < nncc_num_outputs(); ++i)
    out[i] = filled(nncc_output_info(i), 0.0f);
  nncc_model *m = nncc_create();
  float loss = -1;
  int rc = nncc_train_step(m, in, tg, &loss);
  printf("train_step: %s, loss %.6g\n", nncc_strerror(rc), loss);
  rc = nncc_forward(m, in, out);
  printf("forward: %s\n", nncc_strerror(rc));
  for (int32_t i = 0; i < nncc_num_outputs(); ++i) {
    const nncc_tensor_info *info = nncc_output_info(i);
    printf("%s:", info->name);
    for (int64_t k = 0; k < info->numel; ++k)
      printf(" %.6g", ((float *)out[i])[k]);
    printf("\n");
  }
  nncc_destroy(m);
  return 0;
}
