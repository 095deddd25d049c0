/* Data-parallel training on a program's own engine: WORLD threads, one
 * model each, whose allreduce sums through shared memory in rank order.
 * Losses and parameters equal one model's on the global batch, every rank
 * ends bit for bit equal, and every failure ends the same call on every
 * rank with an error instead of waiting forever. CHECK_FINITE: the
 * libraries were compiled with --check-finite. */
#define _POSIX_C_SOURCE 200809L

#include "dp_common.h"

#include <pthread.h>

enum { kMaxRanks = 4 };

typedef struct {
  pthread_barrier_t barrier;
  float *buffers[kMaxRanks];
  int world;
} group_t;

/* What each run of the group does. */
typedef enum {
  TRAIN,          /* nncc_train, compared with the reference */
  NULL_INPUT,     /* dp_train_step with a NULL input on rank 1 */
  OTHER_SAMPLES,  /* dp_train with one sample fewer on rank 1 */
  OTHER_RATE,     /* dp_train with twice the learning rate on rank 1 */
  NO_RANK_TRAIN,  /* dp_train without dp_set_rank */
  NO_RANK_STEP,   /* dp_train_step without dp_set_rank */
  FAILING_SUM,    /* rank 1's allreduce fails on the second step's buckets */
  SAVE_FAILS,     /* dp_save to a directory that does not exist */
  INFINITE_INPUT, /* rank 1's batch holds an infinity (--check-finite) */
} case_t;

typedef struct {
  group_t *group;
  int rank;
  int samples, epochs;
  case_t what;
  int fail_buckets; /* this rank's allreduce fails on buckets */
  run_t run;
  int rc;
  int late_buckets_rc;   /* dp_set_bucket_bytes after training */
  int unchanged;         /* parameters as before the failed step */
} member_t;

static int shared_sum(float *buf, size_t n, void *user) {
  member_t *me = (member_t *)user;
  group_t *g = me->group;
  float *sum = (float *)malloc(n * sizeof(float) + 1);
  if (!sum)
    return 1;
  g->buffers[me->rank] = buf;
  pthread_barrier_wait(&g->barrier);
  for (size_t i = 0; i < n; ++i) {
    float s = 0.0f;
    for (int r = 0; r < g->world; ++r)
      s += g->buffers[r][i];
    sum[i] = s;
  }
  pthread_barrier_wait(&g->barrier); /* everyone has read every buffer */
  memcpy(buf, sum, n * sizeof(float));
  free(sum);
  /* The small sums of a step have 1 to 3 floats; buckets more. */
  return me->fail_buckets && n > 3;
}

static void *train_rank(void *arg) {
  member_t *me = (member_t *)arg;
  dp_model *m = dp_create();
  dp_set_allreduce(m, shared_sum, me);
  if (me->what != NO_RANK_TRAIN && me->what != NO_RANK_STEP)
    dp_set_rank(m, me->rank, me->group->world);
  if (me->what == OTHER_RATE && me->rank == 1)
    dp_set_learning_rate(m, dp_get_learning_rate(m) * 2.0f);
  prepare_rank(m, me->rank);
  const void *in[] = {x}, *tg[] = {t};
  dp_train_options opts = {1, 7, 1};
  switch (me->what) {
  case TRAIN:
    me->run.rc = dp_train(m, in, tg, me->samples, me->epochs, &opts, record,
                          &me->run);
    me->late_buckets_rc = dp_set_bucket_bytes(m, 64, 64);
    break;
  case NULL_INPUT: {
    const void *none[] = {NULL};
    me->rc = dp_train_step(m, me->rank == 1 ? none : in, tg, NULL);
    break;
  }
  case NO_RANK_STEP:
    me->rc = dp_train_step(m, in, tg, NULL);
    break;
  case OTHER_SAMPLES:
  case OTHER_RATE:
  case NO_RANK_TRAIN:
    me->rc = dp_train(m, in, tg,
                      me->samples - (me->what == OTHER_SAMPLES && me->rank == 1),
                      1, &opts, NULL, NULL);
    break;
  case FAILING_SUM: {
    dp_train_step(m, in, tg, NULL);
    run_t before;
    DP_READ_PARAMS(&before, dp, m);
    me->fail_buckets = me->rank == 1;
    me->rc = dp_train_step(m, in, tg, NULL);
    DP_READ_PARAMS(&me->run, dp, m);
    me->unchanged = memcmp(before.params, me->run.params,
                           sizeof(float) * (size_t)before.num_params) == 0;
    break;
  }
  case SAVE_FAILS:
    me->rc = dp_save(m, "/nonexistent-directory/dp.ckpt");
    break;
  case INFINITE_INPUT: {
    static float bad_x[kMaxSamples * kFeatures];
    memcpy(bad_x, x, sizeof bad_x);
    bad_x[0] = INFINITY;
    const void *bad_in[] = {bad_x};
    me->rc = dp_train_step(m, me->rank == 1 ? bad_in : in, tg, NULL);
    break;
  }
  }
  if (me->what != FAILING_SUM)
    DP_READ_PARAMS(&me->run, dp, m);
  dp_destroy(m);
  return NULL;
}

static void run_group(member_t *members, int world, int samples, int epochs,
                      case_t what) {
  group_t group;
  memset(&group, 0, sizeof group);
  group.world = world;
  pthread_barrier_init(&group.barrier, NULL, (unsigned)world);
  pthread_t threads[kMaxRanks];
  for (int r = 0; r < world; ++r) {
    memset(&members[r], 0, sizeof members[r]);
    members[r].group = &group;
    members[r].rank = r;
    members[r].samples = samples;
    members[r].epochs = epochs;
    members[r].what = what;
    pthread_create(&threads[r], NULL, train_rank, &members[r]);
  }
  for (int r = 0; r < world; ++r)
    pthread_join(threads[r], NULL);
  pthread_barrier_destroy(&group.barrier);
}

/* The new functions' own argument checks, without a group. */
static void check_arguments(void) {
  dp_model *m = dp_create();
  printf("NULL model: %d %d %d %d %d %d %d\n",
         dp_set_allreduce(NULL, shared_sum, NULL),
         dp_set_broadcast(NULL, NULL, NULL), dp_set_rank(NULL, 0, 1),
         dp_rank(NULL), dp_world_size(NULL), dp_broadcast_parameters(NULL),
         dp_set_bucket_bytes(NULL, 64, 64));
  printf("bad ranks and sizes: %d %d %d %d\n", dp_set_rank(m, 2, 2),
         dp_set_rank(m, -1, 2), dp_set_rank(m, 0, 0),
         dp_set_bucket_bytes(m, 0, 64));
  printf("without an engine: rank %d of %d, broadcast %d\n", dp_rank(m),
         dp_world_size(m), dp_broadcast_parameters(m));
  dp_destroy(m);
}

int main(void) {
  make_data();
  int world = WORLD;
  if (dp_batch_size() * world != ref_batch_size()) {
    printf("build error: batch %lld x %d ranks != %lld\n",
           (long long)dp_batch_size(), world, (long long)ref_batch_size());
    return 1;
  }
  check_arguments();
  member_t members[kMaxRanks];
  /* SAMPLES leaves a partial last global batch, shared unevenly. */
  run_t ref = reference_run(SAMPLES, 3);
  run_group(members, world, SAMPLES, 3, TRAIN);
  int ok = compare_runs("threads", &ref, &members[0].run);
  int same = 1;
  for (int r = 1; r < world; ++r)
    same &= memcmp(members[r].run.params, members[0].run.params,
                   sizeof(float) * (size_t)members[0].run.num_params) == 0 &&
            members[r].run.steps == members[0].run.steps &&
            memcmp(members[r].run.losses, members[0].run.losses,
                   sizeof(float) * (size_t)members[0].run.steps) == 0;
  printf("every rank bit for bit equal: %s\n", same ? "yes" : "no");
  printf("bucket sizes after the first step: %d\n",
         members[0].late_buckets_rc);

  static const struct {
    case_t what;
    const char *name;
  } failures[] = {
      {NULL_INPUT, "NULL input on rank 1"},
      {OTHER_SAMPLES, "other sample count on rank 1"},
      {OTHER_RATE, "other learning rate on rank 1"},
      {NO_RANK_TRAIN, "dp_train without dp_set_rank"},
      {NO_RANK_STEP, "dp_train_step without dp_set_rank"},
      {FAILING_SUM, "rank 1's allreduce fails"},
      {SAVE_FAILS, "dp_save into a missing directory"},
#ifdef CHECK_FINITE
      {INFINITE_INPUT, "an infinite input on rank 1"},
#endif
  };
  for (size_t i = 0; i < sizeof failures / sizeof failures[0]; ++i) {
    run_group(members, world, SAMPLES, 1, failures[i].what);
    printf("%s: rank 1 %d, rank 0 %d", failures[i].name, members[1].rc,
           members[0].rc);
    if (failures[i].what == FAILING_SUM)
      printf(", parameters unchanged: %s",
             members[0].unchanged && members[1].unchanged ? "yes" : "no");
    printf("\n");
  }
  return ok && same ? 0 : 1;
}
