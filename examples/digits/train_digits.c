/* Trains a CNN (digits_cnn.onnx: two conv + batch norm + ReLU + max-pool
 * stages, dropout, two linear layers) on the 8x8 handwritten digits with a
 * library compiled by nncc, and reports its accuracy on a held-out fifth of
 * the data (every fifth image; the model never trains on those).
 *
 *   nncc digits_cnn.onnx -o libdigits.so --prefix=digits --batch=32 \
 *        --loss=cross-entropy --optimizer=adam --lr=0.003
 *   cc train_digits.c -I. libdigits.so -lz -o train_digits
 *   ./train_digits ../data/digits.csv.gz
 */
#include "digits_data.h"

enum { kEpochs = 30 };

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)user;
  (void)step;
  if ((epoch + 1) % 5 == 0)
    printf("epoch %2lld  loss %.4f\n", (long long)epoch + 1, loss);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s digits.csv.gz\n", argv[0]);
    return 1;
  }
  if (!load_digits(argv[1]))
    return 1;
  split_digits();

  digits_model *m = digits_create();
  if (!m)
    return 1;
  const void *inputs[] = {train_x}, *targets[] = {train_y};
  digits_train_options options = {.shuffle = 1, .seed = 1, .report_every = 0};
  int rc = digits_train(m, inputs, targets, n_train, kEpochs, &options,
                        report, NULL);
  if (rc != 0) {
    fprintf(stderr, "training failed: %s\n", digits_strerror(rc));
    return 1;
  }
  printf("trained on %d images, held out %d\n", n_train, n_test);
  printf("train accuracy %.3f\n", accuracy(m, train_x, train_y, n_train));
  printf("test accuracy %.3f\n", accuracy(m, test_x, test_y, n_test));
  digits_destroy(m);
  return 0;
}
