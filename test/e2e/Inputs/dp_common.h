/* What the data-parallel tests share: the data, the reference run of one
 * process on the global batch (library prefix "ref"), and the comparison.
 * The data-parallel library has the prefix "dp" and the batch
 * ref_batch_size() / world. DP_MSE: the model trains with MSE on float
 * targets, otherwise with cross-entropy on class indices. */
#ifndef DP_COMMON_H
#define DP_COMMON_H

#include "dp.h"
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kFeatures = 4, kClasses = 3, kMaxSamples = 64, kMaxSteps = 256 };

static float x[kMaxSamples * kFeatures];
#ifdef DP_MSE
static float t[kMaxSamples * kClasses];
#else
static int64_t t[kMaxSamples];
#endif

static void make_data(void) {
  for (int i = 0; i < kMaxSamples * kFeatures; ++i)
    x[i] = (float)((i * 37) % 23) / 23.0f - 0.5f;
#ifdef DP_MSE
  for (int i = 0; i < kMaxSamples * kClasses; ++i)
    t[i] = (float)((i * 11) % 7) / 7.0f - 0.5f;
#else
  for (int i = 0; i < kMaxSamples; ++i)
    t[i] = (i * 5 + i / 3) % kClasses;
#endif
}

/* The losses nncc_train reports (one per step) and the final parameters. */
typedef struct {
  int steps;
  float losses[kMaxSteps];
  float params[1024];
  int num_params;
  int rc;
} run_t;

static int record(void *user, int64_t epoch, int64_t step, float loss) {
  (void)epoch;
  (void)step;
  run_t *run = (run_t *)user;
  if (run->steps < kMaxSteps)
    run->losses[run->steps++] = loss;
  return 0;
}



/* Copies every parameter of a model, through GET and INFO, into run. */
#define DP_READ_PARAMS(run, prefix, m)                                        \
  do {                                                                        \
    (run)->num_params = 0;                                                    \
    for (int32_t i_ = 0; i_ < prefix##_num_params(); ++i_) {                   \
      int64_t n_ = prefix##_param_info(i_)->numel;                            \
      prefix##_get_param((m), i_, (run)->params + (run)->num_params, n_);     \
      (run)->num_params += (int)n_;                                           \
    }                                                                         \
  } while (0)

/* How every data-parallel rank of the tests starts: optionally small
   buckets, and on ranks other than 0 a perturbed first parameter, which
   the broadcast before the first step must undo. */
static void prepare_rank(dp_model *m, int rank) {
#ifdef BUCKET_BYTES
  /* Small buckets: several per step, and buckets of one gradient, which
     are summed in place. */
  dp_set_bucket_bytes(m, BUCKET_BYTES, BUCKET_BYTES);
#endif
  if (rank != 0) {
    float w[1024];
    int64_t n = dp_param_info(0)->numel;
    dp_get_param(m, 0, w, n);
    w[0] += 1.0f;
    dp_set_param(m, 0, w, n);
  }
}

/* One process on the global batch. */
static run_t reference_run(int samples, int epochs) {
  run_t run;
  memset(&run, 0, sizeof run);
  ref_model *m = ref_create();
  const void *in[] = {x}, *tg[] = {t};
  ref_train_options opts = {1, 7, 1};
  run.rc = ref_train(m, in, tg, samples, epochs, &opts, record, &run);
  DP_READ_PARAMS(&run, ref, m);
  ref_destroy(m);
  return run;
}

static double max_relative_difference(const float *a, const float *b, int n) {
  double worst = 0.0;
  for (int i = 0; i < n; ++i) {
    double d = fabs((double)a[i] - (double)b[i]) /
               fmax(1e-3, fmax(fabs((double)a[i]), fabs((double)b[i])));
    if (d > worst || isnan(d))
      worst = isnan(d) ? INFINITY : d;
  }
  return worst;
}

/* Prints how a data-parallel run compares with the reference. */
static int compare_runs(const char *what, const run_t *ref, const run_t *dp) {
  double loss_diff = ref->steps == dp->steps
                         ? max_relative_difference(ref->losses, dp->losses,
                                                   ref->steps)
                         : INFINITY;
  double param_diff =
      max_relative_difference(ref->params, dp->params, ref->num_params);
  int ok = ref->rc == 0 && dp->rc == 0 && loss_diff <= 1e-5 &&
           param_diff <= 1e-5;
  printf("%s: %d steps (reference %d), losses within %.1e, parameters "
         "within %.1e: %s\n",
         what, dp->steps, ref->steps, loss_diff, param_diff,
         ok ? "match" : "DIFFER");
  return ok;
}

#endif /* DP_COMMON_H */
