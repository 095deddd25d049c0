/* Trains any nncc library on samples from a file and prints what the
 * PyTorch goldens record: the loss of every step (nncc_train reporting after
 * each step), then every parameter.
 *
 *   train_golden DATA NUM_SAMPLES EPOCHS [SAMPLED]
 *
 * DATA holds each input, then each target, with NUM_SAMPLES samples stacked
 * along dim 0, in the tensors' element types (little-endian). Before
 * training it prints the first output of nncc_forward on the first batch. With SAMPLED,
 * each parameter is printed as 'sample NAME NUMEL SUM_OF_MAGNITUDES' and
 * SAMPLED evenly spaced elements (index, value), as the goldens of models
 * too large to print whole record them. Built against the model's header:
 * cc -DMODEL_HEADER='"model.h"' ...
 */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static size_t element_size(int32_t dtype) { return dtype == 7 ? 8 : 4; }

static void *read_tensor(FILE *f, const nncc_tensor_info *info, int64_t n) {
  size_t bytes = (size_t)(info->numel / nncc_batch_size()) * (size_t)n *
                 element_size(info->dtype);
  void *data = malloc(bytes);
  if (!data || fread(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "cannot read %zu bytes of '%s'\n", bytes, info->name);
    exit(1);
  }
  return data;
}

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)user;
  (void)epoch;
  (void)step;
  printf("%.9g\n", loss);
  return 0;
}

static void print_sample(const char *name, const float *values, int64_t n,
                         int64_t sampled) {
  double magnitudes = 0;
  for (int64_t k = 0; k < n; ++k)
    magnitudes += fabs((double)values[k]);
  printf("sample %s %lld %.9g", name, (long long)n, magnitudes);
  int64_t count = n <= sampled ? n : sampled;
  for (int64_t k = 0; k < count; ++k) {
    int64_t index = n <= sampled ? k : k * (n - 1) / (sampled - 1);
    printf(" %lld %.9g", (long long)index, values[index]);
  }
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s DATA NUM_SAMPLES EPOCHS [SAMPLED]\n", argv[0]);
    return 1;
  }
  int64_t samples = atoll(argv[2]), epochs = atoll(argv[3]);
  int64_t sampled = argc == 5 ? atoll(argv[4]) : 0;
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  const void *inputs[16], *targets[16];
  for (int32_t i = 0; i < nncc_num_inputs(); ++i)
    inputs[i] = read_tensor(f, nncc_input_info(i), samples);
  for (int32_t i = 0; i < nncc_num_targets(); ++i)
    targets[i] = read_tensor(f, nncc_target_info(i), samples);
  fclose(f);

  nncc_model *m = nncc_create();
  /* Inference on the first batch before training: the golden's
     "predictions" (PyTorch in eval mode). */
  const nncc_tensor_info *out = nncc_output_info(0);
  float *predictions = malloc((size_t)out->numel * sizeof(float));
  void *outputs[16] = {predictions};
  for (int32_t i = 1; i < nncc_num_outputs(); ++i)
    outputs[i] = malloc((size_t)nncc_output_info(i)->numel * 8);
  if (samples >= nncc_batch_size() && out->dtype == NNCC_FLOAT &&
      nncc_forward(m, inputs, outputs) == 0) {
    printf("predictions");
    for (int64_t k = 0; k < out->numel; ++k)
      printf(" %.9g", predictions[k]);
    printf("\n");
  }
  for (int32_t i = 0; i < nncc_num_outputs(); ++i)
    free(outputs[i]);
  nncc_train_options options = {0, 0, 1};
  int rc = nncc_train(m, inputs, targets, samples, epochs, &options, report, NULL);
  if (rc != 0) {
    fprintf(stderr, "nncc_train: %s\n", nncc_strerror(rc));
    return 1;
  }
  for (int32_t i = 0; i < nncc_num_params(); ++i) {
    const nncc_tensor_info *info = nncc_param_info(i);
    float *values = malloc((size_t)info->numel * sizeof(float));
    nncc_get_param(m, i, values, info->numel);
    if (sampled > 1) {
      print_sample(info->name, values, info->numel, sampled);
    } else {
      printf("param %s", info->name);
      for (int64_t k = 0; k < info->numel; ++k)
        printf(" %.9g", values[k]);
      printf("\n");
    }
    free(values);
  }
  nncc_destroy(m);
  return 0;
}
