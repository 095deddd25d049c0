/* nncc_train's loop: shuffling reproducible from the seed, reports after
 * every report_every steps or per epoch, early stop from the callback. */
#include MODEL_HEADER

#include <stdio.h>
#include <string.h>

enum { kSamples = 7 }; /* batches of 2: 2, 2, 2, 1 */
static float x[kSamples * 3], t[kSamples * 2];

typedef struct { int calls, stop_after; int64_t last_step, last_epoch; float losses[64]; } log_t;

static int record(void *user, int64_t epoch, int64_t step, float loss) {
  log_t *log = (log_t *)user;
  log->losses[log->calls++] = loss;
  log->last_step = step;
  log->last_epoch = epoch;
  return log->stop_after && log->calls >= log->stop_after;
}

static log_t run(int shuffle, uint64_t seed, int64_t report_every, int stop_after,
                 int64_t epochs) {
  log_t log;
  memset(&log, 0, sizeof log);
  log.stop_after = stop_after;
  nncc_model *m = nncc_create();
  const void *in[] = {x}, *tg[] = {t};
  nncc_train_options opts = {shuffle, seed, report_every};
  if (nncc_train(m, in, tg, kSamples, epochs, &opts, record, &log) != 0)
    log.calls = -1;
  nncc_destroy(m);
  return log;
}

static int same(const log_t *a, const log_t *b) {
  return a->calls == b->calls &&
         memcmp(a->losses, b->losses, sizeof(float) * (size_t)a->calls) == 0;
}

int main(void) {
  for (int i = 0; i < kSamples * 3; ++i)
    x[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
  for (int i = 0; i < kSamples * 2; ++i)
    t[i] = (float)((i * 5) % 7) / 7.0f - 0.5f;

  log_t per_step = run(0, 0, 1, 0, 2);
  printf("per step: %d reports, last step %lld\n", per_step.calls,
         (long long)per_step.last_step);
  log_t per_epoch = run(0, 0, 0, 0, 3);
  printf("per epoch: %d reports, last step %lld, last epoch %lld\n",
         per_epoch.calls, (long long)per_epoch.last_step,
         (long long)per_epoch.last_epoch);
  log_t every3 = run(0, 0, 3, 0, 3);
  printf("every 3 steps: %d reports\n", every3.calls);
  log_t stopped = run(0, 0, 1, 5, 10);
  printf("stopped: %d reports, last step %lld\n", stopped.calls,
         (long long)stopped.last_step);

  log_t s1 = run(1, 42, 1, 0, 2), s2 = run(1, 42, 1, 0, 2), s3 = run(1, 43, 1, 0, 2);
  printf("same seed, same losses: %s\n", same(&s1, &s2) ? "yes" : "no");
  printf("other seed, other losses: %s\n", same(&s1, &s3) ? "no" : "yes");
  printf("shuffled differs from in order: %s\n", same(&s1, &per_step) ? "no" : "yes");
  return 0;
}
