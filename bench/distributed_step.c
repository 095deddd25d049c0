/* Times data-parallel nncc_train_step of a library compiled with
 * --distributed=mpi: the C side of bench/distributed.py. Every rank steps
 * on the same batch (input0.bin, ..., target0.bin in DATA_DIR, as
 * train_step.c reads them).
 *
 *   mpicc -DMODEL_HEADER='"model.h"' distributed_step.c model.so -o step
 *   mpirun -np N ./step DATA_DIR WARMUP STEPS
 *
 * Rank 0 prints, best of three runs of STEPS steps each:
 *   ms_per_step        the gradients summed across the N processes;
 *   ms_per_step_alone  the engine removed (nncc_set_allreduce(m, NULL,
 *                      NULL)), every process stepping at the same time on
 *                      the same cores, so the difference is what
 *                      communication costs;
 *   loss               the last data-parallel step's global loss.
 */
#define _POSIX_C_SOURCE 199309L
#include MODEL_HEADER
#include "step_data.h"

#include <mpi.h>

/* The best milliseconds per step of three runs, the slowest rank's. */
static double time_steps(nncc_model *m, const void **inputs,
                         const void **targets, int steps, float *loss) {
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    MPI_Barrier(MPI_COMM_WORLD);
    double start = now();
    for (int i = 0; i < steps; ++i) {
      int rc = nncc_train_step(m, inputs, targets, loss);
      if (rc != 0) {
        fprintf(stderr, "nncc_train_step: %s\n", nncc_strerror(rc));
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
    }
    double ms = (now() - start) * 1e3 / steps, slowest;
    MPI_Allreduce(&ms, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    best = slowest < best ? slowest : best;
  }
  return best;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (argc != 4) {
    fprintf(stderr, "usage: %s DATA_DIR WARMUP STEPS\n", argv[0]);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char *dir = argv[1];
  int warmup = atoi(argv[2]), steps = atoi(argv[3]);
  const void *inputs[16], *targets[16];
  if (!load_batch(dir, inputs, targets))
    MPI_Abort(MPI_COMM_WORLD, 1);
  nncc_model *m = nncc_create();
  float loss = 0.0f, alone_loss = 0.0f;
  time_steps(m, inputs, targets, warmup, &loss);
  double together = time_steps(m, inputs, targets, steps, &loss);
  nncc_set_allreduce(m, NULL, NULL);
  time_steps(m, inputs, targets, warmup, &alone_loss);
  double alone = time_steps(m, inputs, targets, steps, &alone_loss);
  if (rank == 0)
    printf("ms_per_step %.6f\nms_per_step_alone %.6f\nloss %.6f\n", together,
           alone, loss);
  nncc_destroy(m);
  MPI_Finalize();
  return 0;
}
