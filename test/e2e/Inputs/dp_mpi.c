/* Data-parallel training on MPI (--distributed=mpi), run with mpirun -np N:
 * losses and parameters equal one process's on the global batch, every
 * rank ends bit for bit equal, a checkpoint that the N ranks save loads
 * into one process with the same forward, and a rank with a bad argument
 * gets its error while the others get DP_ERR_PEER. Rank 0 prints. */
#include "dp_common.h"

#include <mpi.h>

int main(int argc, char **argv) {
  /* Before MPI_Init, the engine cannot work: an error, not a crash. */
  make_data();
  dp_model *early = dp_create();
  const void *early_in[] = {x}, *early_tg[] = {t};
  int early_rc = dp_train_step(early, early_in, early_tg, NULL);
  int early_world = dp_world_size(early);
  dp_destroy(early);
  MPI_Init(&argc, &argv);
  int rank, world;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (dp_batch_size() * world != ref_batch_size()) {
    if (rank == 0)
      printf("build error: batch %lld x %d ranks != %lld\n",
             (long long)dp_batch_size(), world, (long long)ref_batch_size());
    MPI_Finalize();
    return 1;
  }
  int ok = early_rc == DP_ERR_COMM && early_world == DP_ERR_COMM;
  if (rank == 0)
    printf("before MPI_Init: %s\n", dp_strerror(early_rc));

  /* A communicator of the program's, which it may free once given. */
  dp_model *m = dp_create();
  MPI_Comm own;
  MPI_Comm_dup(MPI_COMM_WORLD, &own);
  ok &= dp_set_communicator(m, own) == DP_OK;
  MPI_Comm_free(&own);
  int null_comm = dp_set_communicator(m, MPI_COMM_NULL);
  int own_rank = dp_set_rank(m, 0, 1); /* MPI's communicator tells its own */
  if (rank == 0)
    printf("world size %d, rank %d; MPI_COMM_NULL %d, dp_set_rank %d\n",
           dp_world_size(m), dp_rank(m), null_comm, own_rank);
  ok &= dp_world_size(m) == world && dp_rank(m) == rank;
  prepare_rank(m, rank);
  const void *in[] = {x}, *tg[] = {t};
  dp_train_options opts = {1, 7, 1};
  run_t run;
  memset(&run, 0, sizeof run);
  run.rc = dp_train(m, in, tg, SAMPLES, 3, &opts, record, &run);
  DP_READ_PARAMS(&run, dp, m);
  if (rank == 0) {
    run_t ref = reference_run(SAMPLES, 3);
    ok &= compare_runs("mpi", &ref, &run);
  }

  /* Every rank's parameters, bit for bit. */
  float root[1024];
  memcpy(root, run.params, sizeof(float) * (size_t)run.num_params);
  MPI_Bcast(root, run.num_params, MPI_FLOAT, 0, MPI_COMM_WORLD);
  int same = memcmp(root, run.params, sizeof(float) * (size_t)run.num_params) == 0;
  int all_same = 0;
  MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rank == 0)
    printf("every rank bit for bit equal: %s\n", all_same ? "yes" : "no");
  ok &= all_same;

  /* A checkpoint of the group, loaded by one process. */
  const char *path = argc > 1 ? argv[1] : "dp.ckpt";
  int saved = dp_save(m, path);
  if (rank == 0) {
    ref_model *one = ref_create();
    int loaded = ref_load(one, path);
    float y_dp[kMaxSamples * kClasses], y_one[kMaxSamples * kClasses];
    const void *fin[] = {x};
    void *dp_out[] = {y_dp}, *one_out[] = {y_one};
    dp_forward(m, fin, dp_out);
    ref_forward(one, fin, one_out);
    int equal = memcmp(y_dp, y_one,
                       sizeof(float) * (size_t)(dp_batch_size() * kClasses)) == 0;
    printf("checkpoint: saved %d, loaded by one process %d, same forward: %s\n",
           saved, loaded, equal ? "yes" : "no");
    ok &= saved == 0 && loaded == 0 && equal;
    ref_destroy(one);
  }

  /* A bad argument on rank 1 only. */
  const void *none[] = {NULL};
  int rc = dp_train_step(m, rank == 1 ? none : in, tg, NULL);
  int codes[64] = {0};
  MPI_Gather(&rc, 1, MPI_INT, codes, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0)
    printf("NULL input on rank 1: rank 1 %s, rank 0 %s\n",
           dp_strerror(codes[1]), dp_strerror(codes[0]));
  dp_destroy(m);
  int all_ok = 0;
  MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  MPI_Finalize();
  return all_ok ? 0 : 1;
}
