/* The accuracy of a library's tanh, exp, log and erf (nncc_forward of
 * Inputs/math.onnxtxt) against libm's double-precision functions rounded to
 * float: the largest error in units in the last place over a sweep of each
 * function's range, and the special values (infinities, NaN, zero,
 * underflow and overflow). */
#include MODEL_HEADER

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define COLUMNS 4096

/* The spacing of floats at the magnitude of `reference`. */
static double ulp(float reference) {
  float magnitude = fabsf(reference);
  if (magnitude < 1.17549435e-38f) /* subnormal: the spacing of the smallest */
    return 1.40129846e-45;
  return (double)(nextafterf(magnitude, INFINITY) - magnitude);
}

typedef double (*reference_fn)(double);

/* The elements of one batch: every input and output has this many. */
static int64_t elements(void) { return nncc_batch_size() * COLUMNS; }

/* nncc_forward with input `column` set to `values` and every other input
   0.5 (valid for every function); returns that column's output (to free). */
static float *forward(int column, const float *values) {
  int64_t n = elements();
  float *in[4], *out[4];
  for (int i = 0; i < 4; ++i) {
    in[i] = malloc((size_t)n * sizeof(float));
    out[i] = malloc((size_t)n * sizeof(float));
    for (int64_t k = 0; k < n; ++k)
      in[i][k] = i == column ? values[k] : 0.5f;
  }
  nncc_model *m = nncc_create();
  const void *inputs[4] = {in[0], in[1], in[2], in[3]};
  void *outputs[4] = {out[0], out[1], out[2], out[3]};
  if (!m || nncc_forward(m, inputs, outputs) != 0) {
    printf("forward failed\n");
    exit(1);
  }
  nncc_destroy(m);
  for (int i = 0; i < 4; ++i) {
    free(in[i]);
    if (i != column)
      free(out[i]);
  }
  return out[column];
}

/* Sweeps the batch's points from lo to hi (geometrically when `geometric`)
   and returns the largest error in ulps; infinities must match exactly. */
static double worst_ulps(int column, reference_fn reference, float lo, float hi,
                         int geometric, float *worst_at) {
  int64_t n = elements();
  float *x = malloc((size_t)n * sizeof(float));
  for (int64_t k = 0; k < n; ++k) {
    double t = (double)k / (double)(n - 1);
    x[k] =
        geometric ? (float)(lo * pow(hi / lo, t)) : (float)(lo + (hi - lo) * t);
  }
  float *y = forward(column, x);
  double worst = 0;
  for (int64_t k = 0; k < n; ++k) {
    float expected = (float)reference((double)x[k]);
    double error =
        isinf(expected) || isinf(y[k])
            ? (expected == y[k] ? 0 : INFINITY)
            : fabs((double)y[k] - reference((double)x[k])) / ulp(expected);
    if (error > worst) {
      worst = error;
      *worst_at = x[k];
    }
  }
  free(x);
  free(y);
  return worst;
}

/* f(x) of one special input, given to every element: every element, vector
   lanes and scalar tail alike, must give the same (else -12345). */
static float at(int column, float value) {
  int64_t n = elements();
  float *x = malloc((size_t)n * sizeof(float));
  for (int64_t k = 0; k < n; ++k)
    x[k] = value;
  float *y = forward(column, x);
  float first = y[0];
  for (int64_t k = 1; k < n; ++k)
    if (!(y[k] == first || (isnan(first) && isnan(y[k]))))
      first = -12345.0f;
  free(x);
  free(y);
  return first;
}

static void report(const char *name, int column, reference_fn reference,
                   float lo, float hi, int geometric, double bound) {
  float where = 0;
  double worst = worst_ulps(column, reference, lo, hi, geometric, &where);
  printf("%s on [%g, %g]: worst %.2f ulp at %g: %s\n", name, lo, hi, worst,
         where, worst <= bound ? "ok" : "TOO LARGE");
}

int main(void) {
  /* Bounds a little above what was measured (tanh 4.46, erf 4.27, exp
     0.98, log 0.83 ulp), so that a less accurate approximation fails. */
  report("tanh", 0, tanh, -12.0f, 12.0f, 0, 5);
  report("tanh", 0, tanh, 1e-6f, 1.0f, 1, 5);
  report("exp", 1, exp, -87.0f, 88.0f, 0, 1.5);
  report("exp", 1, exp, -1e-3f, 1e-3f, 0, 1.5);
  report("log", 2, log, 1e-37f, 3e38f, 1, 1.5);
  report("log", 2, log, 0.5f, 2.0f, 0, 1.5);
  report("erf", 3, erf, -5.0f, 5.0f, 0, 5);
  report("erf", 3, erf, 1e-6f, 1.0f, 1, 5);
  printf("tanh(inf) %g tanh(-inf) %g tanh(0) %g tanh(nan) %g\n",
         at(0, INFINITY), at(0, -INFINITY), at(0, 0.0f), at(0, NAN));
  printf("exp(inf) %g exp(-inf) %g exp(100) %g exp(-104) %g exp(nan) %g\n",
         at(1, INFINITY), at(1, -INFINITY), at(1, 100.0f), at(1, -104.0f),
         at(1, NAN));
  printf("log(inf) %g log(0) %g log(-1) %g log(1) %g log(nan) %g\n",
         at(2, INFINITY), at(2, 0.0f), at(2, -1.0f), at(2, 1.0f), at(2, NAN));
  printf("erf(inf) %g erf(-inf) %g erf(0) %g erf(nan) %g\n", at(3, INFINITY),
         at(3, -INFINITY), at(3, 0.0f), at(3, NAN));
  return 0;
}
