/* Data-parallel training on a program's own engine: WORLD threads, one
 * model each, whose allreduce sums through shared memory in rank order.
 * Losses and parameters equal one model's on the global batch, every rank
 * ends bit for bit equal, and a rank with a bad argument gets its error
 * while the others get DP_ERR_PEER instead of waiting forever. */
#define _POSIX_C_SOURCE 200809L

#include "dp_common.h"

#include <pthread.h>

enum { kMaxRanks = 4 };

typedef struct {
  pthread_barrier_t barrier;
  float *buffers[kMaxRanks];
  int world;
} group_t;

typedef struct {
  group_t *group;
  int rank;
  int samples, epochs;
  /* 1: a NULL input to dp_train_step on rank 1; 2: another sample count on
     rank 1; 3: another learning rate on rank 1; 4: dp_train without
     dp_set_rank; 5: dp_train_step without it. */
  int bad;
  run_t run;
  int step_rc;
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
  return 0;
}

static void *train_rank(void *arg) {
  member_t *me = (member_t *)arg;
  dp_model *m = dp_create();
  dp_set_allreduce(m, shared_sum, me);
  if (me->bad != 4 && me->bad != 5)
    dp_set_rank(m, me->rank, me->group->world);
  if (me->bad == 3 && me->rank == 1)
    dp_set_learning_rate(m, dp_get_learning_rate(m) * 2.0f);
#ifdef BUCKET_BYTES
  /* Small buckets: several per step, and buckets of one gradient, which
     are summed in place. */
  dp_set_bucket_bytes(m, BUCKET_BYTES, BUCKET_BYTES);
#endif
  if (me->rank != 0) { /* rank 0's parameters win: broadcast first */
    float w[1024];
    int64_t n = dp_param_info(0)->numel;
    dp_get_param(m, 0, w, n);
    w[0] += 1.0f;
    dp_set_param(m, 0, w, n);
  }
  const void *in[] = {x}, *tg[] = {t};
  dp_train_options opts = {1, 7, 1};
  if (me->bad == 1 || me->bad == 5) {
    const void *none[] = {NULL};
    me->step_rc =
        dp_train_step(m, me->rank == 1 && me->bad == 1 ? none : in, tg, NULL);
  } else if (me->bad >= 2) {
    me->step_rc = dp_train(m, in, tg, me->samples - (me->bad == 2 && me->rank == 1),
                           1, &opts, NULL, NULL);
  } else {
    me->run.rc = dp_train(m, in, tg, me->samples, me->epochs, &opts, record,
                          &me->run);
  }
  DP_READ_PARAMS(&me->run, dp, m);
  dp_destroy(m);
  return NULL;
}

static void run_group(member_t *members, int world, int samples, int epochs,
                      int bad) {
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
    members[r].bad = bad;
    pthread_create(&threads[r], NULL, train_rank, &members[r]);
  }
  for (int r = 0; r < world; ++r)
    pthread_join(threads[r], NULL);
  pthread_barrier_destroy(&group.barrier);
}

int main(void) {
  make_data();
  int world = WORLD;
  if (dp_batch_size() * world != ref_batch_size()) {
    printf("build error: batch %lld x %d ranks != %lld\n",
           (long long)dp_batch_size(), world, (long long)ref_batch_size());
    return 1;
  }
  member_t members[kMaxRanks];
  /* SAMPLES leaves a partial last global batch, shared unevenly. */
  run_t ref = reference_run(SAMPLES, 3);
  run_group(members, world, SAMPLES, 3, 0);
  int ok = compare_runs("threads", &ref, &members[0].run);
  int same = 1;
  for (int r = 1; r < world; ++r)
    same &= memcmp(members[r].run.params, members[0].run.params,
                   sizeof(float) * (size_t)members[0].run.num_params) == 0 &&
            members[r].run.steps == members[0].run.steps &&
            memcmp(members[r].run.losses, members[0].run.losses,
                   sizeof(float) * (size_t)members[0].run.steps) == 0;
  printf("every rank bit for bit equal: %s\n", same ? "yes" : "no");

  run_group(members, world, SAMPLES, 1, 1);
  printf("NULL input on rank 1: rank 1 %s, rank 0 %s\n",
         dp_strerror(members[1].step_rc), dp_strerror(members[0].step_rc));
  run_group(members, world, SAMPLES, 1, 2);
  printf("other sample count on rank 1: rank 1 %d, rank 0 %d\n",
         members[1].step_rc, members[0].step_rc);
  run_group(members, world, SAMPLES, 1, 3);
  printf("other learning rate on rank 1: rank 1 %d, rank 0 %d\n",
         members[1].step_rc, members[0].step_rc);
  run_group(members, world, SAMPLES, 1, 4);
  printf("dp_train without dp_set_rank: rank 1 %d, rank 0 %d\n",
         members[1].step_rc, members[0].step_rc);
  run_group(members, world, SAMPLES, 1, 5);
  printf("dp_train_step without dp_set_rank: rank 1 %d, rank 0 %d\n",
         members[1].step_rc, members[0].step_rc);
  return ok && same ? 0 : 1;
}
