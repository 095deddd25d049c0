/* --check-finite: a step with a non-finite loss or gradient is skipped, the
 * parameters and the optimizer state stay untouched, and an error code is
 * returned; the next finite step trains as if nothing happened. */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  float x[6] = {0.1f, -0.4f, 0.9f, 0.3f, 0.2f, -0.7f};
  float huge[6] = {INFINITY, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  float nan_target[4] = {NAN, 0.0f, 0.0f, 0.0f};
  float t[4] = {0.5f, -0.25f, -0.5f, 0.75f};
  const void *in[] = {x}, *bad_in[] = {huge}, *tg[] = {t}, *bad_tg[] = {nan_target};
  nncc_model *m = nncc_create(), *reference = nncc_create();
  float loss = 0, w0[6], w1[6], wr[6];
  nncc_get_param(m, 0, w0, 6);
  int rc1 = nncc_train_step(m, bad_in, tg, &loss);
  int rc2 = nncc_train_step(m, in, bad_tg, &loss);
  nncc_get_param(m, 0, w1, 6);
  printf("infinite input: %s\n", nncc_strerror(rc1));
  printf("NaN target: %s\n", nncc_strerror(rc2));
  printf("parameters untouched: %s\n", memcmp(w0, w1, sizeof w0) == 0 ? "yes" : "no");
  /* Then the same as a model that never saw the bad batches. */
  float la, lb;
  nncc_train_step(m, in, tg, &la);
  nncc_train_step(reference, in, tg, &lb);
  nncc_get_param(m, 0, w1, 6);
  nncc_get_param(reference, 0, wr, 6);
  printf("continues as untouched: %s\n",
         la == lb && memcmp(w1, wr, sizeof w1) == 0 ? "yes" : "no");
  const void *train_in[] = {bad_in[0]};
  printf("nncc_train stops: %s\n",
         nncc_strerror(nncc_train(m, train_in, tg, 2, 3, NULL, NULL, NULL)));
  nncc_destroy(m);
  nncc_destroy(reference);
  return 0;
}
