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
#include "libdigits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum { kRows = 1797, kPixels = 64, kClasses = 10, kEpochs = 30 };

static float images[kRows][kPixels];
static int64_t labels[kRows];

/* Reads 1797 lines of 64 grey levels (0-16) and a class; scales the grey
   levels to [0, 1]. */
static int load_digits(const char *path) {
  gzFile f = gzopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 0;
  }
  char line[1024];
  int row = 0;
  while (row < kRows && gzgets(f, line, sizeof line)) {
    char *p = line;
    for (int k = 0; k <= kPixels; ++k) {
      char *end;
      long value = strtol(p, &end, 10);
      if (end == p || value < 0 || value > 16 || (k == kPixels && value > 9)) {
        fprintf(stderr, "%s: bad value on line %d\n", path, row + 1);
        gzclose(f);
        return 0;
      }
      if (k < kPixels)
        images[row][k] = (float)value / 16.0f;
      else
        labels[row] = value;
      p = end + (*end == ',');
    }
    ++row;
  }
  gzclose(f);
  if (row != kRows) {
    fprintf(stderr, "%s: %d rows, expected %d\n", path, row, kRows);
    return 0;
  }
  return 1;
}

static int report(void *user, int64_t epoch, int64_t step, float loss) {
  (void)user;
  (void)step;
  if ((epoch + 1) % 5 == 0)
    printf("epoch %2lld  loss %.4f\n", (long long)epoch + 1, loss);
  return 0;
}

/* The share of `n` images whose largest logit is their label, predicted
   by nncc_forward one batch at a time (the last batch padded). */
static double accuracy(digits_model *m, const float (*x)[kPixels],
                       const int64_t *y, int n) {
  int64_t batch = digits_batch_size();
  float *in = calloc((size_t)batch * kPixels, sizeof(float));
  float *logits = malloc((size_t)batch * kClasses * sizeof(float));
  int correct = 0;
  for (int first = 0; first < n; first += (int)batch) {
    int count = n - first < batch ? n - first : (int)batch;
    memset(in, 0, (size_t)batch * kPixels * sizeof(float));
    memcpy(in, x[first], (size_t)count * kPixels * sizeof(float));
    const void *inputs[] = {in};
    void *outputs[] = {logits};
    if (digits_forward(m, inputs, outputs) != 0)
      break;
    for (int i = 0; i < count; ++i) {
      int best = 0;
      for (int c = 1; c < kClasses; ++c)
        if (logits[i * kClasses + c] > logits[i * kClasses + best])
          best = c;
      correct += best == y[first + i];
    }
  }
  free(in);
  free(logits);
  return (double)correct / n;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s digits.csv.gz\n", argv[0]);
    return 1;
  }
  if (!load_digits(argv[1]))
    return 1;
  static float train_x[kRows][kPixels], test_x[kRows][kPixels];
  static int64_t train_y[kRows], test_y[kRows];
  int n_train = 0, n_test = 0;
  for (int i = 0; i < kRows; ++i) {
    if (i % 5 == 4) {
      memcpy(test_x[n_test], images[i], sizeof images[i]);
      test_y[n_test++] = labels[i];
    } else {
      memcpy(train_x[n_train], images[i], sizeof images[i]);
      train_y[n_train++] = labels[i];
    }
  }

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
