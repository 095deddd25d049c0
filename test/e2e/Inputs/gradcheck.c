/* Checks a compiled library's gradients against central finite differences.
 *
 *   gradcheck [H]
 *
 * With the learning rate at 0, nncc_train_step evaluates the loss without
 * changing the parameters; with the learning rate at 1 (plain SGD), a step
 * moves every parameter by minus its gradient. Every step starts from one
 * checkpoint, so each sees the same step number and dropout mask. Each parameter element is
 * then perturbed by +-H (default 1e-2) and the central difference of the loss,
 * accumulated in double, compared with the compiled gradient. Fails when an
 * element's error exceeds 1e-3 + 1e-2 * magnitude, or when every gradient is
 * zero (a check that cannot fail is no check).
 */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x2545F4914F6CDD1Dull;
static float uniform(float lo, float hi) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return lo + (hi - lo) * (float)(state >> 40) / (float)(1 << 24);
}

/* Floats in [-1, 1]; integer targets are class indices of the first
   output's last axis; binary targets (BINARY_TARGETS) are 0 or 1. */
static void *random_tensor(const nncc_tensor_info *info) {
  if (info->dtype == NNCC_INT64) {
    const nncc_tensor_info *out = nncc_output_info(0);
    int64_t classes = out->shape[out->rank - 1];
    int64_t *data = malloc((size_t)info->numel * sizeof(int64_t));
    for (int64_t i = 0; i < info->numel; ++i)
      data[i] = (int64_t)(uniform(0.0f, 1.0f) * (float)classes) % classes;
    return data;
  }
  float *data = malloc((size_t)info->numel * sizeof(float));
  for (int64_t i = 0; i < info->numel; ++i)
#ifdef BINARY_TARGETS
    data[i] = info == nncc_target_info(0) ? (float)(uniform(0, 1) > 0.5f)
                                          : uniform(-1.0f, 1.0f);
#else
    data[i] = uniform(-1.0f, 1.0f);
#endif
  return data;
}

/* Every evaluation starts from the same checkpoint: the initial parameters
   and state, and the same step number, so that a dropout mask (drawn per
   step) is the same in every evaluation. */
static const char *checkpoint;

/* The loss of one step from the checkpoint with parameter p set to theta
   (NULL: unchanged) and the learning rate lr; the model is left after the
   step. */
static double step_from(nncc_model *m, const void **in, const void **tg,
                        int32_t p, const float *theta, float lr) {
  float loss = 0;
  if (nncc_load(m, checkpoint) != 0 ||
      (theta && nncc_set_param(m, p, theta, nncc_param_info(p)->numel) != 0) ||
      nncc_set_learning_rate(m, lr) != 0 ||
      nncc_train_step(m, in, tg, &loss) != 0) {
    printf("step failed\n");
    exit(1);
  }
  return loss;
}

int main(int argc, char **argv) {
  double h = argc > 1 ? atof(argv[1]) : 1e-2;
  char path[4096];
  snprintf(path, sizeof(path), "%s.checkpoint", argv[0]);
  checkpoint = path;
  const void *in[16], *tg[16];
  for (int32_t i = 0; i < nncc_num_inputs(); ++i)
    in[i] = random_tensor(nncc_input_info(i));
  for (int32_t i = 0; i < nncc_num_targets(); ++i)
    tg[i] = random_tensor(nncc_target_info(i));

  nncc_model *m = nncc_create();
  if (nncc_save(m, checkpoint) != 0) {
    printf("cannot write %s\n", checkpoint);
    return 1;
  }
  int failures = 0;
  double total = 0;
  for (int32_t p = 0; p < nncc_num_params(); ++p) {
    const nncc_tensor_info *info = nncc_param_info(p);
    int64_t n = info->numel;
    float *theta = malloc((size_t)n * sizeof(float));
    float *moved = malloc((size_t)n * sizeof(float));
    nncc_load(m, checkpoint);
    nncc_get_param(m, p, theta, n);

    /* State that a step replaces without training (batch norm's running
       statistics) changes even with the learning rate at 0. */
    step_from(m, in, tg, p, NULL, 0.0f);
    nncc_get_param(m, p, moved, n);
    if (memcmp(theta, moved, (size_t)n * sizeof(float)) != 0) {
      printf("param %s: %lld elements, state a step updates (no gradient)\n",
             info->name, (long long)n);
      free(theta);
      free(moved);
      continue;
    }
    /* The compiled gradient: one SGD step with lr 1. */
    step_from(m, in, tg, p, NULL, 1.0f);
    nncc_get_param(m, p, moved, n);

    double worst = 0;
    for (int64_t k = 0; k < n; ++k) {
      double analytic = (double)theta[k] - (double)moved[k];
      float saved = theta[k];
      theta[k] = saved + (float)h;
      double up = step_from(m, in, tg, p, theta, 0.0f);
      theta[k] = saved - (float)h;
      double down = step_from(m, in, tg, p, theta, 0.0f);
      double step = ((double)(saved + (float)h) - (double)(saved - (float)h));
      theta[k] = saved;
      double numeric = (up - down) / step;
      double err = fabs(analytic - numeric);
      double tol = 1e-3 + 1e-2 * fmax(fabs(analytic), fabs(numeric));
      if (err > tol) {
        printf("MISMATCH %s[%lld]: compiled %.6g, finite difference %.6g\n",
               info->name, (long long)k, analytic, numeric);
        ++failures;
      }
      worst = fmax(worst, err);
      total += fabs(analytic);
    }
    printf("param %s: %lld elements, worst error %.3g\n", info->name,
           (long long)n, worst);
    free(theta);
    free(moved);
  }
  nncc_destroy(m);
  remove(checkpoint);
  if (total == 0) {
    printf("FAIL: every gradient is zero\n");
    return 1;
  }
  if (failures) {
    printf("FAIL: %d mismatches\n", failures);
    return 1;
  }
  printf("gradients match finite differences\n");
  return 0;
}
