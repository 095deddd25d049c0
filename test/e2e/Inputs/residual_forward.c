/* Checks the outputs and the loss of gradcheck/residual_epilogue.onnxtxt
 * (y = relu(x w1^T + b1 + x) w2^T + b2, MSE) against a plain C evaluation
 * in double: the GEMM's bias, residual and ReLU epilogue must compute the
 * forward values, which finite differences of the loss cannot see (the
 * residual is an input, not a parameter). Compile with --lr=0. */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { D = 64, O = 8 };

int main(void) {
  int64_t n = nncc_input_info(0)->shape[0];
  float *x = malloc((size_t)(n * D) * sizeof(float));
  float *t = malloc((size_t)(n * O) * sizeof(float));
  float *y = malloc((size_t)(n * O) * sizeof(float));
  for (int64_t i = 0; i < n * D; ++i)
    x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
  for (int64_t i = 0; i < n * O; ++i)
    t[i] = (float)((i * 13) % 7) / 7.0f;
  float w1[D * D], b1[D], w2[O * D], b2[O];
  nncc_model *m = nncc_create();
  if (nncc_get_param(m, 0, w1, D * D) || nncc_get_param(m, 1, b1, D) ||
      nncc_get_param(m, 2, w2, O * D) || nncc_get_param(m, 3, b2, O)) {
    printf("unexpected parameters\n");
    return 1;
  }
  const void *in[] = {x}, *tg[] = {t};
  void *out[] = {y};
  float loss = -1;
  if (nncc_forward(m, in, out) || nncc_train_step(m, in, tg, &loss)) {
    printf("call failed\n");
    return 1;
  }
  double worst = 0, expected_loss = 0;
  for (int64_t s = 0; s < n; ++s) {
    double r[D];
    for (int j = 0; j < D; ++j) {
      double h = b1[j] + x[s * D + j];
      for (int k = 0; k < D; ++k)
        h += (double)x[s * D + k] * w1[j * D + k];
      r[j] = h > 0 ? h : 0;
    }
    for (int o = 0; o < O; ++o) {
      double v = b2[o];
      for (int j = 0; j < D; ++j)
        v += r[j] * w2[o * D + j];
      worst = fmax(worst, fabs(v - y[s * O + o]) / (1 + fabs(v)));
      expected_loss += (v - t[s * O + o]) * (v - t[s * O + o]);
    }
  }
  expected_loss /= (double)(n * O);
  printf("forward matches: %s\n", worst < 1e-5 ? "yes" : "no");
  printf("loss matches: %s\n",
         fabs(loss - expected_loss) < 1e-5 * (1 + expected_loss) ? "yes"
                                                                 : "no");
  nncc_destroy(m);
  return 0;
}
