/* Trains the digits CNN of examples/digits data-parallel on MPI: every
 * process holds the whole model and trains on its share of each global
 * batch (processes x 16 images), the gradients are summed across the
 * processes before each update, and rank 0 reports the global loss and the
 * accuracy on the held-out fifth of the images. With 2 processes the
 * global batch is the 32 images of examples/digits.
 *
 *   nncc ../digits/digits_cnn.onnx -o libdigits.so --prefix=digits \
 *        --batch=16 --loss=cross-entropy --optimizer=adam --lr=0.003 \
 *        --distributed=mpi
 *   mpicc -std=c11 train_distributed.c -I. -I../digits libdigits.so -lz \
 *        -Wl,-rpath,. -o train_distributed
 *   mpirun -np 2 ./train_distributed ../data/digits.csv.gz
 */
#include "digits_data.h"

#include <mpi.h>

enum { kEpochs = 30 };

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)step;
  if (*(const int *)user == 0 && (epoch + 1) % 5 == 0)
    printf("epoch %2lld  loss %.4f\n", (long long)epoch + 1, loss);
  return 0;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, status = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (argc != 2) {
    if (rank == 0)
      fprintf(stderr, "usage: mpirun -np N %s digits.csv.gz\n", argv[0]);
  } else if (load_digits(argv[1])) {
    split_digits();
    /* Every rank creates the model on MPI_COMM_WORLD and passes the whole
       training set: each reads only its rows of every global batch. */
    digits_model *m = digits_create();
    const void *inputs[] = {train_x}, *targets[] = {train_y};
    digits_train_options options = {.shuffle = 1, .seed = 1, .report_every = 0};
    int rc = m ? digits_train(m, inputs, targets, n_train, kEpochs, &options,
                              report, &rank)
               : DIGITS_ERR_NOMEM;
    if (rc != 0) {
      fprintf(stderr, "rank %d: training failed: %s\n", rank,
              digits_strerror(rc));
    } else if (rank == 0) {
      printf("%d processes, global batch %lld: trained on %d images, "
             "held out %d\n",
             digits_world_size(m),
             (long long)digits_world_size(m) * digits_batch_size(), n_train,
             n_test);
      printf("train accuracy %.3f\n", accuracy(m, train_x, train_y, n_train));
      printf("test accuracy %.3f\n", accuracy(m, test_x, test_y, n_test));
      status = 0;
    } else {
      status = 0;
    }
    digits_destroy(m);
  }
  MPI_Finalize();
  return status;
}
