/* Dropout in training mode (Inputs/dropout.onnxtxt: y = Dropout(x * w, 0.3),
 * MSE against 0, one sample). With x = 1 and w = 1, the gradient of w[j] is
 * 2 / D * mask[j]^2: zero where the step dropped j and 2 / (D (1-p)^2) where
 * it kept it, so one SGD step with lr 1 shows each step's mask in w.
 */
#include "m.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { D = 2000 };
static const double ratio = 0.3;

/* One step from the model's current state; kept[j] = whether w[j] moved. */
static void step_mask(nncc_model *m, const void **in, const void **tg,
                      int *kept, int *scaled) {
  static float before[D], after[D];
  float loss;
  nncc_get_param(m, 0, before, D);
  if (nncc_train_step(m, in, tg, &loss) != 0) {
    printf("train_step failed\n");
    exit(1);
  }
  nncc_get_param(m, 0, after, D);
  *scaled = 1;
  for (int j = 0; j < D; ++j) {
    kept[j] = after[j] != before[j];
    /* The gradient of a kept element: 2 / D * (w / (1 - p))^2 / w. */
    double expected = 2.0 / D * before[j] / ((1 - ratio) * (1 - ratio));
    if (kept[j] && fabs((before[j] - after[j]) - expected) > 1e-4 * expected)
      *scaled = 0;
  }
}

static double fraction(const int *a, const int *b, int want_a, int want_b) {
  int n = 0;
  for (int j = 0; j < D; ++j)
    n += a[j] == want_a && (!b || b[j] == want_b);
  return (double)n / D;
}

int main(int argc, char **argv) {
  (void)argc;
  static float x[D], zero[D], y[D];
  for (int j = 0; j < D; ++j)
    x[j] = 1.0f;
  const void *in[] = {x}, *tg[] = {zero};
  void *out[] = {y};
  nncc_model *m = nncc_create();
  nncc_set_learning_rate(m, 1.0f);
  char path[4096];
  snprintf(path, sizeof(path), "%s.checkpoint", argv[0]);
  nncc_save(m, path);

  int identity = nncc_forward(m, in, out) == 0;
  for (int j = 0; j < D; ++j)
    identity = identity && y[j] == 1.0f;
  printf("forward is the identity: %s\n", identity ? "yes" : "no");

  static int first[D], again[D], second[D];
  int scaled1, scaled2, scaled3;
  step_mask(m, in, tg, first, &scaled1);
  double dropped = fraction(first, NULL, 0, 0);
  printf("step 1 drops %.0f%% (%.3f): %s\n", 100 * ratio, dropped,
         fabs(dropped - ratio) < 0.05 ? "yes" : "no");
  printf("kept elements scaled by 1/(1-p): %s\n", scaled1 ? "yes" : "no");

  step_mask(m, in, tg, second, &scaled2);
  double both = fraction(first, second, 0, 0);
  printf("step 2 draws a new mask (both dropped %.3f): %s\n", both,
         memcmp(first, second, sizeof(first)) != 0 &&
                 fabs(both - ratio * ratio) < 0.04
             ? "yes"
             : "no");

  nncc_load(m, path);
  nncc_set_learning_rate(m, 1.0f);
  step_mask(m, in, tg, again, &scaled3);
  printf("step 1 again after loading the checkpoint, same mask: %s\n",
         memcmp(first, again, sizeof(first)) == 0 ? "yes" : "no");
  nncc_destroy(m);
  remove(path);
  return 0;
}
